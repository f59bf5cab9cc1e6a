//! Writes the export check fixtures into the folder given as the argument: for several trained
//! models (the presets, one that uses every other layer kind, recurrent ones, and models behind a
//! fitted feature transform of images and of a table with missing values), `NAME.onnx`,
//! `NAME.pytorch.zip` (the exported PyTorch project), `NAME.inputs.f32` (raw little-endian
//! samples), `NAME.model_inputs.f32` (the same after the feature transform, as the layers see them)
//! and `NAME.expected.f32` (Whetstone's probabilities for them), plus `cases.json` listing each
//! case's input shape. `tests/onnx/check.py` runs the ONNX files in onnxruntime and
//! `tests/pytorch/check.py` the projects in PyTorch, which writes each model back as
//! `NAME.resaved.safetensors`; `export_fixtures verify FOLDER` then checks that Whetstone reads
//! those as the models it exported. `scripts/test.sh` runs all three.

use whetstone::backend::cpu::Cpu;
use whetstone::backend::ready;
use whetstone::data::{sequence, shapes, tabular, toy, Dataset};
use whetstone::features::{FeatureSpec, Fitted, Impute, Scale};
use whetstone::model_file::ModelFile;
use whetstone::nn::{preset, ModelSpec};
use whetstone::onnx;
use whetstone::optim::OptimizerSpec;
use whetstone::pytorch;
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
    {"type": "dense", "units": 12},
    {"type": "gelu"},
    {"type": "layer_norm"},
    {"type": "dense", "units": 10}]}"#;

/// Recurrent layers over a sequence, one returning every step into the next.
const RECURRENT: &str = r#"{"input": [48, 1], "layers": [
    {"type": "lstm", "units": 8, "return_sequences": true},
    {"type": "layer_norm", "eps": 0.001},
    {"type": "gru", "units": 8},
    {"type": "dense", "units": 4}]}"#;

/// A GRU reading each image row as one step, after a reshape, into every step's output.
const DIGIT_ROWS: &str = r#"{"input": [1, 28, 28], "layers": [
    {"type": "reshape", "shape": [28, 28]},
    {"type": "gru", "units": 12, "return_sequences": true},
    {"type": "flatten"},
    {"type": "dense", "units": 10}]}"#;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("verify") {
        return verify(std::path::Path::new(
            args.get(1).expect("usage: export_fixtures verify FOLDER"),
        ));
    }
    let dir = std::path::PathBuf::from(args.first().expect("usage: export_fixtures OUTPUT_DIR"));
    std::fs::create_dir_all(&dir).unwrap();
    let digits = whetstone::testing::digits().head(1200).unwrap();
    let circle = toy::generate("circle", 600, 0.05, 1).unwrap();
    let waves = sequence::waves(600, 48, 0.2, 1).unwrap();
    let (coloured, _) = shapes::generate(600, 10, 1.0, 1).unwrap();
    let table = tabular::from_csv(&table_csv(600), None).unwrap().data;
    let none = FeatureSpec::default;
    let image_features = FeatureSpec {
        grayscale: true,
        edges: true,
        normalize: true,
        ..Default::default()
    };
    let table_features = FeatureSpec {
        impute: Impute::Median,
        scale: Scale::Standardize,
        one_hot: true,
        log: vec!["size".into()],
        polynomial: true,
        ..Default::default()
    };
    let cases = [
        ("mlp", "mlp", &digits, none()),
        ("cnn", "cnn", &digits, none()),
        ("every_other_layer", EVERY_OTHER_LAYER, &digits, none()),
        ("toy", "toy", &circle, none()),
        ("recurrent", RECURRENT, &waves, none()),
        ("digit_rows", DIGIT_ROWS, &digits, none()),
        (
            "digit_edges",
            "cnn",
            &digits,
            FeatureSpec {
                edges: true,
                normalize: true,
                ..Default::default()
            },
        ),
        ("grey_shapes_with_edges", "cnn", &coloured, image_features),
        ("table", "toy", &table, table_features),
    ];
    let mut listing = Vec::new();
    for (name, model, data, features) in cases {
        let (train, val) = data.split(200, 1).unwrap();
        let mut config = TrainConfig::new(
            1,
            32,
            OptimizerSpec::Adam {
                lr: 0.01,
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
            },
            1,
        );
        config.features = features;
        let input = Fitted::fit(&config.features, &train).unwrap().output_shape();
        let spec = if model.starts_with('{') {
            ModelSpec::from_json(model).unwrap()
        } else {
            preset(model, &input, train.classes.len()).unwrap()
        };
        let mut t = Trainer::new(Cpu, spec, config, &train, &val).unwrap();
        while !t.is_finished() {
            ready(t.run(100)).unwrap();
        }
        // Raw samples, as the model file's user has them (NaN where a table's value is missing).
        let inputs = samples(&val, 16);
        let expected = ready(t.predict(&inputs)).unwrap();
        let file = ready(t.model_file(val.classes.clone(), None)).unwrap();
        std::fs::write(
            dir.join(format!("{name}.onnx")),
            onnx::export(&file.spec, &file.tensors, file.features.as_ref()).unwrap(),
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("{name}.pytorch.zip")),
            pytorch::project(&file, name).unwrap(),
        )
        .unwrap();
        std::fs::write(dir.join(format!("{name}.model.safetensors")), file.to_bytes().unwrap()).unwrap();
        let model_inputs = file
            .features
            .as_ref()
            .map_or(inputs.clone(), |f| as_the_layers_see(f, &inputs));
        std::fs::write(dir.join(format!("{name}.inputs.f32")), bytemuck::cast_slice(&inputs)).unwrap();
        std::fs::write(
            dir.join(format!("{name}.model_inputs.f32")),
            bytemuck::cast_slice(&model_inputs),
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("{name}.expected.f32")),
            bytemuck::cast_slice(&expected),
        )
        .unwrap();
        listing.push(serde_json::json!({"name": name, "input": val.sample_shape, "classes": val.classes.len()}));
    }
    std::fs::write(dir.join("cases.json"), serde_json::to_string_pretty(&listing).unwrap()).unwrap();
    println!("wrote {} export cases to {}", listing.len(), dir.display());
}

/// Checks that every model PyTorch wrote back (`NAME.resaved.safetensors`) reads in Whetstone as
/// the model it exported: the same spec, classes, feature transform and weights.
fn verify(dir: &std::path::Path) {
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).unwrap()).unwrap();
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let read = |file: &str| ModelFile::from_bytes(&std::fs::read(dir.join(file)).unwrap()).unwrap();
        let (exported, resaved) = (
            read(&format!("{name}.model.safetensors")),
            read(&format!("{name}.resaved.safetensors")),
        );
        assert_eq!(resaved.spec, exported.spec, "{name}: spec");
        assert_eq!(resaved.classes, exported.classes, "{name}: classes");
        assert_eq!(resaved.features, exported.features, "{name}: feature transform");
        assert_eq!(resaved.tensors, exported.tensors, "{name}: weights");
        println!("ok {name}: PyTorch's model file reads back as the exported model");
    }
    assert!(!cases.is_empty(), "no cases were exported");
}

/// A table with a numeric column over a wide range (`size`), one with missing values (`weight`),
/// a categorical one (`colour`) and a label that depends on all three.
fn table_csv(rows: usize) -> String {
    let mut rng = whetstone::rng::Rng::new(2);
    let mut text = String::from("size,weight,colour,label\n");
    for i in 0..rows {
        let (size, weight, colour) = (
            1000.0 * rng.uniform() * rng.uniform(),
            rng.normal(),
            ["red", "green", "blue"][rng.below(3)],
        );
        let label = if (size > 200.0) ^ (colour == "red") ^ (weight > 0.5) {
            "yes"
        } else {
            "no"
        };
        let weight = if i % 7 == 0 {
            "NA".to_string()
        } else {
            format!("{weight:.3}")
        };
        text += &format!("{size:.2},{weight},{colour},{label}\n");
    }
    text
}

/// Raw samples after the feature transform `f`: a table's rows transformed, each image through the
/// CPU reference of the image transform.
fn as_the_layers_see(f: &Fitted, inputs: &[f32]) -> Vec<f32> {
    let Some(fit) = &f.image else {
        return f.apply_values(inputs);
    };
    let (c, h, w) = (f.input_shape[0], f.input_shape[1], f.input_shape[2]);
    inputs
        .chunks(c * h * w)
        .flat_map(|image| whetstone::features::image_transform(image, c, h, w, fit))
        .collect()
}

fn samples(d: &Dataset, n: usize) -> Vec<f32> {
    let width: usize = d.sample_shape.iter().product();
    d.features[..n * width].to_vec()
}
