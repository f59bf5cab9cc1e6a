//! Training parity: the CNN preset (and a CNN with batch norm and a residual block, a stacked
//! LSTM and GRU, a Transformer with a class token, and the CNN on normalised digits with an edge
//! channel) trained for 20 steps on the GPU and on the CPU from the same seed and data gives
//! the same losses within float tolerance.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use whetstone::backend::cpu::Cpu;
use whetstone::backend::gpu::test_device;
use whetstone::backend::{ready, Backend};
use whetstone::features::{FeatureSpec, Fitted};
use whetstone::nn::{preset, ModelSpec};
use whetstone::optim::OptimizerSpec;
use whetstone::train::{Evaluation, Event, Session, TrainConfig, Trainer};

fn step_losses<B: Backend>(backend: B, spec: ModelSpec, features: &FeatureSpec) -> (Vec<f32>, Evaluation) {
    let digits = common::digits();
    step_losses_on(backend, spec, features, &digits)
}

fn step_losses_on<B: Backend>(
    backend: B,
    spec: ModelSpec,
    features: &FeatureSpec,
    data: &whetstone::data::Dataset,
) -> (Vec<f32>, Evaluation) {
    let (train, val) = data.split(500, 3).unwrap();
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
    (losses, ready(trainer.evaluate_validation()).unwrap())
}

fn same_on_gpu_and_cpu(spec: ModelSpec) {
    same_on_gpu_and_cpu_with(spec, &FeatureSpec::default());
}

fn same_on_gpu_and_cpu_with(spec: ModelSpec, features: &FeatureSpec) {
    let Some(gpu) = test_device() else { return };
    let (cpu_losses, cpu_val) = step_losses(Cpu, spec.clone(), features);
    let (gpu_losses, gpu_val) = step_losses(gpu, spec, features);
    assert_same(&cpu_losses, &gpu_losses, cpu_val, gpu_val);
}

fn assert_same(cpu_losses: &[f32], gpu_losses: &[f32], cpu_val: Evaluation, gpu_val: Evaluation) {
    for (step, (c, g)) in cpu_losses.iter().zip(gpu_losses).enumerate() {
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
fn a_transformer_with_a_class_token_reading_digits_row_by_row_trains_the_same_on_gpu_and_cpu() {
    same_on_gpu_and_cpu(
        ModelSpec::from_json(
            r#"{"input":[1,28,28],"layers":[{"type":"reshape","shape":[28,28]},{"type":"dense","units":16},{"type":"class_token"},{"type":"positional"},
                {"type":"transformer_block","heads":2,"ff_units":32},{"type":"first_step"},{"type":"dense","units":10}]}"#,
        )
        .unwrap(),
    );
}

/// Words of the built-in set as character ids, padded to 12: the Transformer preset, positions
/// counted from each word's end.
#[test]
fn the_text_transformer_preset_reading_words_trains_the_same_on_gpu_and_cpu() {
    use whetstone::data::text::{self, Level, Vocabulary};
    let Some(gpu) = test_device() else { return };
    let text::Texts { texts, labels, classes } = text::words(&common::words_tsv()).unwrap();
    let (texts, labels) = (&texts[..1_500], &labels[..1_500]);
    let vocabulary = Vocabulary::fit(texts.iter().map(String::as_str), Level::Characters, 200, 12);
    let words = text::encoded(texts, labels, &classes, &vocabulary).unwrap();
    let spec = whetstone::nn::text_preset("transformer", 12, vocabulary.size(), classes.len()).unwrap();
    let none = FeatureSpec::default();
    let (cpu_losses, cpu_val) = step_losses_on(Cpu, spec.clone(), &none, &words);
    let (gpu_losses, gpu_val) = step_losses_on(gpu, spec, &none, &words);
    assert_same(&cpu_losses, &gpu_losses, cpu_val, gpu_val);
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

#[test]
fn a_session_whose_gpu_is_lost_goes_on_on_the_cpu_as_a_cpu_run_from_its_last_epoch_would() {
    let Some(gpu) = test_device() else { return };
    let data = whetstone::data::toy::generate("circle", 600, 0.05, 1).unwrap();
    let (train, val) = data.split(200, 2).unwrap();
    let spec = preset("toy", &[2], 2).unwrap();
    let mut config = TrainConfig::new(
        4,
        32,
        OptimizerSpec::Adam {
            lr: 1e-2,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        },
        3,
    );
    config.features = FeatureSpec::default();
    let features = Fitted::fit(&config.features, &train).unwrap();
    let mut session = Session::new(
        spec.clone(),
        config.clone(),
        train.clone(),
        val.clone(),
        features.clone(),
        Some(gpu.clone()),
    )
    .unwrap();
    // Two epochs on the GPU (a run call stops at the end of an epoch), then the device is gone.
    for _ in 0..2 {
        ready(session.run(10_000)).unwrap();
    }
    let kept = session.checkpoint().cloned().expect("kept after each epoch");
    assert_eq!(kept.snapshot.epoch, 2);
    gpu.destroy();
    let mut rest = Vec::new();
    while !rest.iter().any(|e| matches!(e, Event::Finished { .. })) {
        rest.extend(ready(session.run(10_000)).unwrap());
    }
    assert!(
        matches!(&rest[0], Event::BackendChanged { backend, .. } if backend == "CPU"),
        "{:?}",
        rest[0]
    );
    assert_eq!(session.backend(), "CPU");
    // Exactly what a CPU run resumed from the last epoch's checkpoint gives.
    let mut cpu = Trainer::with_features(Cpu, spec, config, &train, &val, features).unwrap();
    cpu.resume(&kept).unwrap();
    let mut expected = Vec::new();
    while !cpu.is_finished() {
        expected.extend(ready(cpu.run(10_000)).unwrap());
    }
    let epochs = |events: &[Event]| -> Vec<(usize, f32, f32)> {
        events
            .iter()
            .filter_map(|e| match *e {
                Event::Epoch {
                    epoch,
                    val_loss,
                    val_accuracy,
                    ..
                } => Some((epoch, val_loss, val_accuracy)),
                _ => None,
            })
            .collect()
    };
    assert_eq!(epochs(&rest), epochs(&expected));
    assert_eq!(epochs(&rest).iter().map(|e| e.0).collect::<Vec<_>>(), [3, 4]);
    let weights =
        |file: whetstone::model_file::ModelFile| file.tensors.into_iter().map(|t| t.values).collect::<Vec<_>>();
    let classes = train.classes.clone();
    assert_eq!(
        weights(ready(session.model_file(None)).unwrap()),
        weights(ready(cpu.model_file(classes, None)).unwrap())
    );
}
