//! Training parity: the CNN preset (and a CNN with batch norm and a residual block, and a stacked
//! LSTM and GRU, and the CNN on normalised digits with an edge channel) trained for 20 steps on the GPU and on the CPU from the same seed and data gives
//! the same losses within float tolerance.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use whetstone::backend::cpu::Cpu;
use whetstone::backend::gpu::test_device;
use whetstone::backend::{ready, Backend};
use whetstone::features::FeatureSpec;
use whetstone::nn::{preset, ModelSpec};
use whetstone::optim::OptimizerSpec;
use whetstone::train::{Evaluation, Event, TrainConfig, Trainer};

fn step_losses<B: Backend>(backend: B, spec: ModelSpec, features: &FeatureSpec) -> (Vec<f32>, Evaluation) {
    let digits = common::digits();
    let (train, val) = digits.split(500, 3).unwrap();
    let mut config = TrainConfig::new(
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
    config.features = features.clone();
    let mut trainer = Trainer::new(backend, spec, config, &train, &val).unwrap();
    let losses = (0..20)
        .map(|_| match ready(trainer.run(1)).unwrap()[0] {
            Event::Step { loss, .. } => loss,
            ref other => panic!("expected a step event, got {other:?}"),
        })
        .collect();
    (losses, ready(trainer.evaluate_validation()))
}

fn same_on_gpu_and_cpu(spec: ModelSpec) {
    same_on_gpu_and_cpu_with(spec, &FeatureSpec::default());
}

fn same_on_gpu_and_cpu_with(spec: ModelSpec, features: &FeatureSpec) {
    let Some(gpu) = test_device() else { return };
    let (cpu_losses, cpu_val) = step_losses(Cpu, spec.clone(), features);
    let (gpu_losses, gpu_val) = step_losses(gpu, spec, features);
    for (step, (c, g)) in cpu_losses.iter().zip(&gpu_losses).enumerate() {
        assert!(
            (c - g).abs() < 2e-3 * (1.0 + c.abs()),
            "step {}: CPU loss {c}, GPU loss {g}",
            step + 1
        );
    }
    assert!(cpu_losses[19] < cpu_losses[0], "the loss falls: {cpu_losses:?}");
    // After 20 steps many held-out digits sit near a decision boundary, and batch norm turns the
    // products' different summation orders into a few flipped answers (0.4 % apart in loss on
    // either GPU kernel family): the loss within 1 %, the accuracy within 15 of 500 digits.
    let (cpu, gpu) = (cpu_val, gpu_val);
    assert!(
        (cpu.loss - gpu.loss).abs() < 1e-2 * cpu.loss,
        "validation loss CPU {cpu:?}, GPU {gpu:?}"
    );
    assert!(
        (cpu.accuracy - gpu.accuracy).abs() <= 0.03,
        "validation accuracy CPU {cpu:?}, GPU {gpu:?}"
    );
}

#[test]
fn cnn_preset_trains_the_same_on_gpu_and_cpu() {
    same_on_gpu_and_cpu(preset("cnn", &[1, 28, 28], 10).unwrap());
}

#[test]
fn a_cnn_with_batch_norm_and_a_residual_block_trains_the_same_on_gpu_and_cpu() {
    same_on_gpu_and_cpu(
        ModelSpec::from_json(
            r#"{"input":[1,28,28],"layers":[{"type":"conv2d","filters":8,"kernel":5,"padding":2},{"type":"batch_norm"},{"type":"relu"},{"type":"max_pool2d","size":2},
                {"type":"residual","layers":[{"type":"conv2d","filters":8,"kernel":3,"padding":1},{"type":"relu"}]},{"type":"flatten"},{"type":"dense","units":32},{"type":"batch_norm"},{"type":"relu"},{"type":"dense","units":10}]}"#,
        )
        .unwrap(),
    );
}

#[test]
fn recurrent_layers_reading_digits_row_by_row_train_the_same_on_gpu_and_cpu() {
    same_on_gpu_and_cpu(
        ModelSpec::from_json(
            r#"{"input":[1,28,28],"layers":[{"type":"reshape","shape":[28,28]},{"type":"lstm","units":16,"return_sequences":true},{"type":"gru","units":16},{"type":"dense","units":10}]}"#,
        )
        .unwrap(),
    );
}

#[test]
fn a_cnn_on_normalised_digits_with_an_edge_channel_trains_the_same_on_gpu_and_cpu() {
    same_on_gpu_and_cpu_with(
        preset("cnn", &[2, 28, 28], 10).unwrap(),
        &FeatureSpec {
            edges: true,
            normalize: true,
            ..Default::default()
        },
    );
}

/// Everything a step needs is created by the first few: later steps reuse pooled buffers and the
/// bind groups kept for them, so the device sees no allocation per step.
#[test]
fn training_steps_past_the_first_few_create_no_buffers_or_bind_groups() {
    let Some(gpu) = test_device() else { return };
    let digits = common::digits();
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
    let mut trainer = Trainer::new(
        gpu.clone(),
        preset("cnn", &[1, 28, 28], 10).unwrap(),
        config,
        &train,
        &val,
    )
    .unwrap();
    // The pool settles into the order its buffers come back in within four steps.
    for _ in 0..5 {
        ready(trainer.run(1)).unwrap();
    }
    let warm = gpu.allocations();
    assert!(
        warm.buffers > 0 && warm.bind_groups > 0,
        "the first steps allocate: {warm:?}"
    );
    for _ in 0..10 {
        ready(trainer.run(1)).unwrap();
    }
    assert_eq!(gpu.allocations(), warm, "steps 6 to 15 allocated");
}
