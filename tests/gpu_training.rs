//! Training parity: the CNN preset trained for 20 steps on the GPU and on the CPU from the same seed
//! and data gives the same losses within float tolerance.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use whetstone::backend::cpu::Cpu;
use whetstone::backend::gpu::test_device;
use whetstone::backend::{ready, Backend};
use whetstone::nn::preset;
use whetstone::optim::OptimizerSpec;
use whetstone::train::{Event, TrainConfig, Trainer};

fn step_losses<B: Backend>(backend: B) -> (Vec<f32>, f32) {
    let digits = common::digits();
    let (train, val) = digits.split(500, 3).unwrap();
    let config = TrainConfig::new(1, 32, OptimizerSpec::Adam { lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 }, 5);
    let mut trainer = Trainer::new(backend, preset("cnn", &[1, 28, 28], 10).unwrap(), config, &train, &val).unwrap();
    let losses = (0..20)
        .map(|_| match ready(trainer.run(1)).unwrap()[0] {
            Event::Step { loss, .. } => loss,
            ref other => panic!("expected a step event, got {other:?}"),
        })
        .collect();
    (losses, ready(trainer.evaluate_validation()).accuracy)
}

#[test]
fn cnn_preset_trains_the_same_on_gpu_and_cpu() {
    let Some(gpu) = test_device() else { return };
    let (cpu_losses, cpu_acc) = step_losses(Cpu);
    let (gpu_losses, gpu_acc) = step_losses(gpu);
    for (step, (c, g)) in cpu_losses.iter().zip(&gpu_losses).enumerate() {
        assert!((c - g).abs() < 2e-3 * (1.0 + c.abs()), "step {}: CPU loss {c}, GPU loss {g}", step + 1);
    }
    assert!(cpu_losses[19] < cpu_losses[0], "the loss falls: {cpu_losses:?}");
    assert!((cpu_acc - gpu_acc).abs() < 0.01, "validation accuracy CPU {cpu_acc}, GPU {gpu_acc}");
}
