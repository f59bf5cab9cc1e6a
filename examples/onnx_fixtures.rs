//! Writes ONNX check fixtures into the folder given as the argument: for several trained models
//! (the presets, one that uses every other layer kind, and recurrent ones), `NAME.onnx`, `NAME.inputs.f32` (raw
//! little-endian samples) and `NAME.expected.f32` (Whetstone's probabilities for them), plus
//! `cases.json` listing each case's input shape. `tests/onnx/check.py` runs the files in
//! onnxruntime and compares; `scripts/test.sh` runs both.

use whetstone::backend::cpu::Cpu;
use whetstone::backend::ready;
use whetstone::data::{mnist, sequence, toy, Dataset};
use whetstone::nn::{preset, ModelSpec};
use whetstone::onnx;
use whetstone::optim::OptimizerSpec;
use whetstone::train::{TrainConfig, Trainer};

const EVERY_OTHER_LAYER: &str = r#"{"input": [1, 28, 28], "layers": [
    {"type": "conv2d", "filters": 4, "kernel": 3, "stride": 2, "padding": 1},
    {"type": "batch_norm"},
    {"type": "leaky_relu", "alpha": 0.1},
    {"type": "residual", "layers": [{"type": "conv2d", "filters": 4, "kernel": 3, "padding": 1}, {"type": "relu"}]},
    {"type": "avg_pool2d", "size": 2},
    {"type": "flatten"},
    {"type": "dropout", "rate": 0.2},
    {"type": "dense", "units": 32},
    {"type": "batch_norm", "momentum": 0.2},
    {"type": "sigmoid"},
    {"type": "dense", "units": 16},
    {"type": "tanh"},
    {"type": "dense", "units": 10}]}"#;

/// Recurrent layers over a sequence, one returning every step into the next.
const RECURRENT: &str = r#"{"input": [48, 1], "layers": [
    {"type": "lstm", "units": 8, "return_sequences": true},
    {"type": "gru", "units": 8},
    {"type": "dense", "units": 4}]}"#;

/// A GRU reading each image row as one step, after a reshape, into every step's output.
const DIGIT_ROWS: &str = r#"{"input": [1, 28, 28], "layers": [
    {"type": "reshape", "shape": [28, 28]},
    {"type": "gru", "units": 12, "return_sequences": true},
    {"type": "flatten"},
    {"type": "dense", "units": 10}]}"#;

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("usage: onnx_fixtures OUTPUT_DIR"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/mnist-10k.bin");
    let digits = mnist::decode(&std::fs::read(path).expect("run scripts/setup.sh first")).unwrap().head(1200).unwrap();
    let circle = toy::generate("circle", 600, 0.05, 1).unwrap();
    let waves = sequence::waves(600, 48, 0.2, 1).unwrap();
    let cases = [
        ("mlp", preset("mlp", &[1, 28, 28], 10).unwrap(), &digits),
        ("cnn", preset("cnn", &[1, 28, 28], 10).unwrap(), &digits),
        ("every_other_layer", ModelSpec::from_json(EVERY_OTHER_LAYER).unwrap(), &digits),
        ("toy", preset("toy", &[2], 2).unwrap(), &circle),
        ("recurrent", ModelSpec::from_json(RECURRENT).unwrap(), &waves),
        ("digit_rows", ModelSpec::from_json(DIGIT_ROWS).unwrap(), &digits),
    ];
    let mut listing = Vec::new();
    for (name, spec, data) in cases {
        let (train, val) = data.split(200, 1).unwrap();
        let config = TrainConfig::new(1, 32, OptimizerSpec::Adam { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 }, 1);
        let mut t = Trainer::new(Cpu, spec.clone(), config, &train, &val).unwrap();
        while !t.is_finished() {
            ready(t.run(100)).unwrap();
        }
        let inputs = samples(&val, 16);
        let expected = ready(t.predict(&inputs)).unwrap();
        let weights = ready(t.named_weights()).unwrap();
        std::fs::write(dir.join(format!("{name}.onnx")), onnx::export(&spec, &weights).unwrap()).unwrap();
        std::fs::write(dir.join(format!("{name}.inputs.f32")), bytemuck::cast_slice(&inputs)).unwrap();
        std::fs::write(dir.join(format!("{name}.expected.f32")), bytemuck::cast_slice(&expected)).unwrap();
        listing.push(serde_json::json!({"name": name, "input": spec.input, "classes": val.classes.len()}));
    }
    std::fs::write(dir.join("cases.json"), serde_json::to_string_pretty(&listing).unwrap()).unwrap();
    println!("wrote {} ONNX cases to {}", listing.len(), dir.display());
}

fn samples(d: &Dataset, n: usize) -> Vec<f32> {
    let width: usize = d.sample_shape.iter().product();
    d.features[..n * width].to_vec()
}
