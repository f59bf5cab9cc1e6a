//! Runs in headless Chromium through `wasm-bindgen-test`: the core trains inside a real browser on
//! the wasm SIMD128 build, and every GPU op matches the CPU through WebGPU (SwiftShader here).
#![cfg(target_arch = "wasm32")]

#[macro_use]
mod parity;

use wasm_bindgen_test::*;
use whetstone::backend::cpu::Cpu;
use whetstone::backend::gpu::Gpu;
use whetstone::data::mnist;
use whetstone::nn::preset;
use whetstone::optim::OptimizerSpec;
use whetstone::train::{Event, TrainConfig, Trainer};

wasm_bindgen_test_configure!(run_in_browser);

static DIGITS: &[u8] = include_bytes!("../assets/mnist-10k.bin");

fn mean_step_loss(events: &[Event]) -> f32 {
    let losses: Vec<f32> = events
        .iter()
        .filter_map(|e| {
            if let Event::Step { loss, .. } = e {
                Some(*loss)
            } else {
                None
            }
        })
        .collect();
    losses.iter().sum::<f32>() / losses.len() as f32
}

#[wasm_bindgen_test]
async fn cnn_trains_in_the_browser_and_its_loss_falls() {
    let digits = mnist::decode(DIGITS).expect("digits decode in wasm");
    let (train, val) = digits.split(500, 3).unwrap();
    let config = TrainConfig::new(
        1,
        32,
        OptimizerSpec::Adam {
            lr: 2e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        },
        1,
    );
    let mut trainer = Trainer::new(Cpu, preset("cnn", &[1, 28, 28], 10).unwrap(), config, &train, &val).unwrap();
    let first = trainer.run(5).await.unwrap();
    for _ in 0..8 {
        trainer.run(5).await.unwrap();
    }
    let last = trainer.run(5).await.unwrap();
    let (before, after) = (mean_step_loss(&first), mean_step_loss(&last));
    assert!(before > 1.5, "an untrained 10-class model starts near ln 10: {before}");
    assert!(after < 0.7 * before, "loss fell only from {before} to {after}");
    let probs = trainer.predict(&digits.features[..784]).await.unwrap();
    assert_eq!(probs.len(), 10);
    assert!((probs.iter().sum::<f32>() - 1.0).abs() < 1e-4);
}

/// The browser's WebGPU adapter; a missing one fails the test, it is never skipped.
async fn webgpu() -> Gpu {
    Gpu::new()
        .await
        .expect("WebGPU adapter in headless Chromium (started with --enable-unsafe-webgpu)")
}

macro_rules! in_browser {
    ($($case:ident),* $(,)?) => {$(
        #[wasm_bindgen_test]
        async fn $case() {
            let gpu = webgpu().await;
            gpu.poison_new_buffers();
            parity::$case(&gpu).await;
        }
    )*};
}

parity_cases!(in_browser);

#[wasm_bindgen_test]
async fn cnn_trains_on_webgpu_like_on_the_cpu() {
    let gpu = webgpu().await;
    let digits = mnist::decode(DIGITS).unwrap();
    let (train, val) = digits.split(500, 3).unwrap();
    let config = TrainConfig::new(
        1,
        32,
        OptimizerSpec::Adam {
            lr: 2e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        },
        5,
    );
    let mut on_gpu = Trainer::new(
        gpu,
        preset("cnn", &[1, 28, 28], 10).unwrap(),
        config.clone(),
        &train,
        &val,
    )
    .unwrap();
    let mut on_cpu = Trainer::new(Cpu, preset("cnn", &[1, 28, 28], 10).unwrap(), config, &train, &val).unwrap();
    for step in 1..=10 {
        let (g, c) = (
            mean_step_loss(&on_gpu.run(1).await.unwrap()),
            mean_step_loss(&on_cpu.run(1).await.unwrap()),
        );
        assert!(
            (g - c).abs() < 2e-3 * (1.0 + c.abs()),
            "step {step}: GPU loss {g}, CPU loss {c}"
        );
    }
}

#[wasm_bindgen_test]
fn packed_matrix_product_matches_the_definition() {
    whetstone::testing::check_matrix_product(whetstone::backend::cpu::gemm_into);
}
