//! Builds the pretrained network that ships with the page: the CNN preset trained on the built-in
//! digits 0–4, saved as a model file (default `assets/pretrained-digits-0-4.safetensors`). Seeded,
//! so the same command gives the same file. Run by `scripts/setup.sh`; the page offers it as a
//! starting point for the digits 5–9 (transfer learning).

use whetstone::backend::cpu::Cpu;
use whetstone::backend::ready;
use whetstone::data::mnist;
use whetstone::model_file::ModelFile;
use whetstone::nn::preset;
use whetstone::optim::OptimizerSpec;
use whetstone::train::{TrainConfig, Trainer};

fn main() {
    let out = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/assets/pretrained-digits-0-4.safetensors").to_string()
    });
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/mnist-10k.bin");
    let digits =
        mnist::decode(&std::fs::read(path).expect("build the digits first (scripts/build-mnist.mjs)")).unwrap();
    let low = digits.only_classes(&[0, 1, 2, 3, 4]).unwrap();
    let (train, val) = low.split(500, 1).unwrap();
    let spec = preset("cnn", &[1, 28, 28], 5).unwrap();
    let config = TrainConfig::new(
        3,
        32,
        OptimizerSpec::Adam {
            lr: 0.002,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        },
        1,
    );
    let mut t = Trainer::new(Cpu, spec.clone(), config, &train, &val).unwrap();
    while !t.is_finished() {
        ready(t.run(1000)).unwrap();
    }
    let accuracy = ready(t.evaluate_validation()).unwrap().accuracy;
    let file = ModelFile {
        spec,
        classes: train.classes.clone(),
        tensors: ready(t.named_weights()).unwrap(),
        features: None,
        vocabulary: None,
        history: None,
    };
    std::fs::write(&out, file.to_bytes().unwrap()).unwrap();
    println!(
        "pretrained the CNN on {} digits 0–4: {:.1} % on {} held out; wrote {out}",
        train.len(),
        accuracy * 100.0,
        val.len()
    );
}
