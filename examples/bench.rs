//! Native throughput of the presets on the built-in digits, on the CPU and on the GPU adapter wgpu
//! finds. Arguments: `cpu`, `gpu` or `all`, then batch sizes (default 32 and 256). Run by
//! `scripts/bench.sh`, which also measures the same in headless Chromium; prints one JSON object per
//! measurement. The digits are read from `assets/` in the working directory, else in the source tree.

use whetstone::backend::cpu::Cpu;
use whetstone::backend::gpu::test_device;
use whetstone::backend::{ready, Backend};
use whetstone::clock::now_ms;
use whetstone::data::mnist;
use whetstone::nn::preset;
use whetstone::optim::OptimizerSpec;
use whetstone::train::{Event, TrainConfig, Trainer};

fn main() {
    let asset = "assets/mnist-10k.bin";
    let bytes = std::fs::read(asset)
        .or_else(|_| std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/mnist-10k.bin")))
        .expect("run scripts/setup.sh first");
    let digits = mnist::decode(&bytes).unwrap();
    let (train, held_out) = digits.split(2_000, 1).unwrap();
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
    for name in ["mlp", "cnn"] {
        for &batch in &batches {
            if only.is_none_or(|o| o == "cpu") {
                measure("native-cpu", Cpu, name, batch, &train, &held_out);
            }
            if only.is_none_or(|o| o == "gpu") {
                if let Some(gpu) = test_device() {
                    measure("native-gpu", gpu, name, batch, &train, &held_out);
                }
            }
        }
    }
}

fn measure<B: Backend>(
    place: &str,
    backend: B,
    name: &str,
    batch: usize,
    train: &whetstone::data::Dataset,
    held_out: &whetstone::data::Dataset,
) {
    let spec = preset(name, &[1, 28, 28], 10).unwrap();
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
    let (start, mut samples, mut cursor) = (now_ms(), 0, 2 * batch);
    while now_ms() - start < 2_000.0 {
        // Count the samples each call really trained on: a call stops early at the end of an epoch.
        for event in ready(t.run(4)).unwrap() {
            match event {
                Event::Step { step, .. } => {
                    let now = (step * batch).min(train.len());
                    samples += if now > cursor { now - cursor } else { now };
                    cursor = now;
                }
                Event::Finished { .. } => panic!("the run finished inside the timed window"),
                _ => {}
            }
        }
    }
    let train_rate = samples as f64 / ((now_ms() - start) / 1e3);
    let x = &held_out.features[..batch * 784];
    let (start, mut inferred) = (now_ms(), 0);
    while now_ms() - start < 1_000.0 {
        ready(t.predict(x)).unwrap();
        inferred += batch;
    }
    let infer_rate = inferred as f64 / ((now_ms() - start) / 1e3);
    // Training costs about three forward passes (forward, input gradient, weight gradient).
    let adapter = backend_name
        .strip_prefix("GPU (")
        .and_then(|n| n.strip_suffix(')'))
        .unwrap_or("");
    println!(
        "{{\"where\":\"{place}\",\"adapter\":{adapter:?},\"model\":\"{name}\",\"batch\":{batch},\"train_samples_per_s\":{train_rate:.0},\"infer_samples_per_s\":{infer_rate:.0},\"train_gflops\":{:.2}}}",
        train_rate * 3.0 * flops / 1e9
    );
}
