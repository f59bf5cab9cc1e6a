//! The presets must learn the built-in digits: 8,000 training and 2,000 held-out samples.

mod common;

use whetstone::backend::cpu::Cpu;
use whetstone::backend::ready;
use whetstone::nn::preset;
use whetstone::optim::OptimizerSpec;
use whetstone::train::{Event, TrainConfig, Trainer};

fn held_out_accuracy(preset_name: &str, lr: f32, epochs: usize) -> Vec<f32> {
    let digits = common::digits();
    assert_eq!(digits.len(), 10_000);
    let (train, held_out) = digits.split(2_000, 7).unwrap();
    let spec = preset(preset_name, &[1, 28, 28], 10).unwrap();
    let config = TrainConfig::new(epochs, 32, OptimizerSpec::Adam { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8 }, 1);
    let mut trainer = Trainer::new(Cpu, spec, config, &train, &held_out).unwrap();
    let mut accuracies = Vec::new();
    while !trainer.is_finished() {
        for event in ready(trainer.run(50)).unwrap() {
            if let Event::Epoch { epoch, val_accuracy, train_loss, .. } = event {
                println!("{preset_name} epoch {epoch}: train loss {train_loss:.4}, held-out accuracy {val_accuracy:.4}");
                accuracies.push(val_accuracy);
            }
        }
    }
    accuracies
}

#[test]
fn mlp_preset_reaches_92_percent_in_3_epochs() {
    let acc = held_out_accuracy("mlp", 1e-3, 3);
    assert!(acc.iter().any(|&a| a >= 0.92), "held-out accuracy per epoch: {acc:?}");
}

#[test]
fn cnn_preset_reaches_96_percent_in_3_epochs() {
    let acc = held_out_accuracy("cnn", 2e-3, 3);
    assert!(acc.iter().any(|&a| a >= 0.96), "held-out accuracy per epoch: {acc:?}");
}
