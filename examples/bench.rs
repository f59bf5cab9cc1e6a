//! Native throughput of the presets on the built-in digits (MLP, CNN) and of the Transformer on
//! the built-in words (characters, 12 tokens a word), on the CPU and on the GPU adapter wgpu finds.
//! Arguments: `cpu`, `gpu` or `all`, then batch sizes (default 32 and 256). Run by
//! `scripts/bench.sh`, which also measures the same in headless Chromium; prints one JSON object per
//! measurement: each rate the median of five timed windows, with their spread. The data are read
//! from `assets/` in the working directory, else in the source tree.

use whetstone::backend::cpu::Cpu;
use whetstone::backend::gpu::test_device;
use whetstone::backend::{ready, Backend};
use whetstone::clock::now_ms;
use whetstone::data::text;
use whetstone::data::{mnist, Dataset};
use whetstone::nn::{preset, text_preset, ModelSpec};
use whetstone::optim::OptimizerSpec;
use whetstone::train::{Event, TrainConfig, Trainer};

/// A built-in asset, from the working directory or the source tree.
fn asset(name: &str) -> Vec<u8> {
    std::fs::read(format!("assets/{name}"))
        .or_else(|_| std::fs::read(format!("{}/assets/{name}", env!("CARGO_MANIFEST_DIR"))))
        .expect("run scripts/setup.sh first")
}

fn main() {
    let digits = mnist::decode(&asset("mnist-10k.bin")).unwrap();
    let words = text::words(std::str::from_utf8(&asset("words.tsv")).unwrap()).unwrap();
    let vocabulary = text::words_vocabulary(&words);
    let words_data = text::encoded(&words.texts, &words.labels, &words.classes, &vocabulary).unwrap();
    let transformer = text_preset("transformer", 12, vocabulary.size(), words.classes.len()).unwrap();
    let models = [
        (
            "mlp",
            preset("mlp", &[1, 28, 28], 10).unwrap(),
            digits.split(2_000, 1).unwrap(),
            0,
        ),
        (
            "cnn",
            preset("cnn", &[1, 28, 28], 10).unwrap(),
            digits.split(2_000, 1).unwrap(),
            0,
        ),
        ("transformer", transformer, words_data.split(3_000, 1).unwrap(), 12),
    ];
    let args: Vec<String> = std::env::args().skip(1).collect();
    let only = args.first().map(String::as_str).filter(|o| *o != "all");
    let batches: Vec<usize> = if args.len() > 1 {
        args[1..]
            .iter()
            .map(|b| b.parse().expect("batch sizes are whole numbers"))
            .collect()
    } else {
        vec![32, 256]
    };
    for (name, spec, (train, held_out), tokens) in &models {
        for &batch in &batches {
            let model = Model {
                name,
                spec,
                tokens: *tokens,
            };
            if only.is_none_or(|o| o == "cpu") {
                measure("native-cpu", Cpu, &model, batch, train, held_out);
            }
            if only.is_none_or(|o| o == "gpu") {
                if let Some(gpu) = test_device() {
                    measure("native-gpu", gpu, &model, batch, train, held_out);
                }
            }
        }
    }
}

/// A model measured: its name, spec, and tokens a sample (0: its samples are not texts).
struct Model<'a> {
    name: &'a str,
    spec: &'a ModelSpec,
    tokens: usize,
}

fn measure<B: Backend>(place: &str, backend: B, model: &Model, batch: usize, train: &Dataset, held_out: &Dataset) {
    let (name, spec) = (model.name, model.spec.clone());
    let flops = spec.summary().unwrap().flops as f64;
    // Far more epochs than a fast device gets through in the timed window, so that every call trains.
    let config = TrainConfig::new(
        whetstone::train::MAX_EPOCHS,
        batch,
        OptimizerSpec::Adam {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        },
        1,
    );
    let backend_name = if place.ends_with("gpu") {
        backend.name()
    } else {
        String::new()
    };
    let mut t = Trainer::new(backend, spec, config, train, held_out).unwrap();
    ready(t.run(2)).unwrap();
    let mut cursor = 2 * batch;
    let train_rates = windows(1.0, || {
        // Four steps a call, read back once (as the page reads them); count the samples each step
        // really trained on: an epoch's last batch may be short.
        let mut samples = 0;
        for event in ready(t.run(4)).unwrap() {
            match event {
                Event::Step { step, .. } => {
                    let now = (step * batch).min(train.len());
                    samples += if now > cursor { now - cursor } else { now };
                    cursor = now;
                }
                Event::Finished { .. } => panic!("the run finished inside the timed windows"),
                _ => {}
            }
        }
        samples
    });
    let x = &held_out.features[..batch * held_out.sample_width()];
    let infer_rates = windows(0.5, || {
        ready(t.predict(x)).unwrap();
        batch
    });
    let (train_rate, infer_rate) = (median(&train_rates), median(&infer_rates));
    // Training costs about three forward passes (forward, input gradient, weight gradient).
    let adapter = backend_name
        .strip_prefix("GPU (")
        .and_then(|n| n.strip_suffix(')'))
        .unwrap_or("");
    println!(
        "{{\"where\":\"{place}\",\"adapter\":{adapter:?},\"model\":\"{name}\",\"batch\":{batch},\"tokens\":{},\"train_samples_per_s\":{train_rate:.0},\"train_spread\":{:.3},\"infer_spread\":{:.3},\"infer_samples_per_s\":{infer_rate:.0},\"train_gflops\":{:.2}}}",
        model.tokens,
        spread(&train_rates),
        spread(&infer_rates),
        train_rate * 3.0 * flops / 1e9
    );
}

/// How many timed windows each rate is the median of.
const WINDOWS: usize = 5;

/// The rates of `WINDOWS` windows of at least `seconds` each (and one call of `work`, which
/// returns the samples it did).
fn windows(seconds: f64, mut work: impl FnMut() -> usize) -> Vec<f64> {
    (0..WINDOWS)
        .map(|_| {
            let (start, mut done) = (now_ms(), 0);
            while done == 0 || now_ms() - start < seconds * 1e3 {
                done += work();
            }
            done as f64 / ((now_ms() - start) / 1e3)
        })
        .collect()
}

fn median(rates: &[f64]) -> f64 {
    let mut sorted = rates.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// Half the range of the rates, as a fraction of their median.
fn spread(rates: &[f64]) -> f64 {
    let (low, high) = rates
        .iter()
        .fold((f64::MAX, f64::MIN), |(l, h), &r| (l.min(r), h.max(r)));
    (high - low) / 2.0 / median(rates)
}
