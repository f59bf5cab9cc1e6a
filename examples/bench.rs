//! Native throughput of the presets on the built-in digits, on the CPU and on the GPU adapter wgpu
//! finds (`cpu` or `gpu` as the argument runs one). Run by `scripts/bench.sh`, which also measures
//! the same in headless Chromium; prints one JSON object per measurement.

use whetstone::backend::cpu::Cpu;
use whetstone::backend::gpu::test_device;
use whetstone::backend::{ready, Backend};
use whetstone::clock::now_ms;
use whetstone::data::mnist;
use whetstone::nn::preset;
use whetstone::optim::OptimizerSpec;
use whetstone::train::{TrainConfig, Trainer};

fn main() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/mnist-10k.bin");
    let digits = mnist::decode(&std::fs::read(path).expect("run scripts/setup.sh first")).unwrap();
    let (train, held_out) = digits.split(2_000, 1).unwrap();
    let only = std::env::args().nth(1);
    for name in ["mlp", "cnn"] {
        for batch in [32, 256] {
            if only.as_deref().is_none_or(|o| o == "cpu") {
                measure("native-cpu", Cpu, name, batch, &train, &held_out);
            }
            if only.as_deref().is_none_or(|o| o == "gpu") {
                if let Some(gpu) = test_device() {
                    measure("native-gpu", gpu, name, batch, &train, &held_out);
                }
            }
        }
    }
}

fn measure<B: Backend>(place: &str, backend: B, name: &str, batch: usize, train: &whetstone::data::Dataset, held_out: &whetstone::data::Dataset) {
    let spec = preset(name, &[1, 28, 28], 10).unwrap();
    let flops = spec.summary().unwrap().flops as f64;
    let config = TrainConfig::new(100, batch, OptimizerSpec::Adam { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 }, 1);
    let backend_name = if place.ends_with("gpu") { backend.name() } else { String::new() };
    let mut t = Trainer::new(backend, spec, config, train, held_out).unwrap();
    ready(t.run(2)).unwrap();
    let (start, mut samples) = (now_ms(), 0);
    while now_ms() - start < 2_000.0 {
        ready(t.run(4)).unwrap();
        samples += 4 * batch;
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
    let adapter = backend_name.strip_prefix("GPU (").and_then(|n| n.strip_suffix(')')).unwrap_or("");
    println!(
        "{{\"where\":\"{place}\",\"adapter\":{adapter:?},\"model\":\"{name}\",\"batch\":{batch},\"train_samples_per_s\":{train_rate:.0},\"infer_samples_per_s\":{infer_rate:.0},\"train_gflops\":{:.2}}}",
        train_rate * 3.0 * flops / 1e9
    );
}
