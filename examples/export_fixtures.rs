//! Writes the export check fixtures into the folder given as the argument: for several trained
//! models (the presets, one that uses every other layer kind, recurrent ones, and models behind a
//! fitted feature transform of images and of a table with missing values), `NAME.onnx`,
//! `NAME.pytorch.zip` (the exported PyTorch project), `NAME.inputs.f32` (raw little-endian
//! samples), `NAME.model_inputs.f32` (the same after the feature transform, as the layers see them)
//! and `NAME.expected.f32` (Whetstone's probabilities for them), plus `cases.json` listing each
//! case's input shape. `tests/onnx/check.py` runs the ONNX files in onnxruntime and
//! `tests/pytorch/check.py` the projects in PyTorch, which writes each model back as
//! `NAME.resaved.safetensors`; `export_fixtures verify FOLDER` then checks that Whetstone reads
//! those as the models it exported. The training runs (`training.json`) are for
//! `tests/pytorch/train_check.py`, the search project and trial cases (`search.pytorch.zip`,
//! `search.STRATEGY.json`, `apply.json`) for `tests/pytorch/search_check.py`. `scripts/test.sh`
//! runs them all.

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

/// Token ids into vectors with both kinds of positions, from the start and from each text's end,
/// read by a GRU.
const TOKENS: &str = r#"{"input": [10], "layers": [
    {"type": "embedding", "vocab": 12, "dim": 6},
    {"type": "positional"},
    {"type": "positional", "encoding": "sinusoidal", "from": "end"},
    {"type": "positional", "from": "end"},
    {"type": "layer_norm"},
    {"type": "gru", "units": 8},
    {"type": "dense", "units": 2}]}"#;

/// Token ids into vectors, their mean over the tokens (padding left out) into the classes.
const TOKENS_POOLED: &str = r#"{"input": [10], "layers": [
    {"type": "embedding", "vocab": 12, "dim": 6},
    {"type": "positional", "encoding": "sinusoidal"},
    {"type": "mean_pool"},
    {"type": "dense", "units": 2}]}"#;

/// A small Transformer's parts on token ids: causal attention with padding keys left out.
const TOKENS_ATTENTION: &str = r#"{"input": [10], "layers": [
    {"type": "embedding", "vocab": 12, "dim": 8},
    {"type": "positional"},
    {"type": "multi_head_attention", "heads": 2, "causal": true},
    {"type": "layer_norm"},
    {"type": "mean_pool"},
    {"type": "dense", "units": 2}]}"#;

/// Attention over a recurrent layer's every step, without padding (positions from the last step).
const WAVES_ATTENTION: &str = r#"{"input": [48, 1], "layers": [
    {"type": "gru", "units": 6, "return_sequences": true},
    {"type": "positional", "from": "end"},
    {"type": "multi_head_attention", "heads": 3, "key_size": 4, "dropout": 0.1},
    {"type": "mean_pool"},
    {"type": "dense", "units": 4}]}"#;

/// A class token before the tokens, read out after a block (the padding mask grown by its place,
/// positions from each text's end).
const TOKENS_CLASS_TOKEN: &str = r#"{"input": [10], "layers": [
    {"type": "embedding", "vocab": 12, "dim": 8},
    {"type": "class_token"},
    {"type": "positional", "from": "end"},
    {"type": "transformer_block", "heads": 2, "ff_units": 16},
    {"type": "first_step"},
    {"type": "dense", "units": 2}
]}"#;

/// Two Transformer blocks on token ids, the second causal.
const TOKENS_TRANSFORMER: &str = r#"{"input": [10], "layers": [
    {"type": "embedding", "vocab": 12, "dim": 8},
    {"type": "positional", "encoding": "sinusoidal"},
    {"type": "transformer_block", "heads": 2, "ff_units": 16, "dropout": 0.1},
    {"type": "transformer_block", "heads": 4, "causal": true},
    {"type": "layer_norm"},
    {"type": "mean_pool"},
    {"type": "dense", "units": 2}]}"#;

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
    let tokens = token_sequences(600, 10, 12);
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
        ("tokens", TOKENS, &tokens, none()),
        ("tokens_pooled", TOKENS_POOLED, &tokens, none()),
        ("tokens_attention", TOKENS_ATTENTION, &tokens, none()),
        ("waves_attention", WAVES_ATTENTION, &waves, none()),
        ("tokens_transformer", TOKENS_TRANSFORMER, &tokens, none()),
        ("tokens_class_token", TOKENS_CLASS_TOKEN, &tokens, none()),
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
        let settings = config.clone();
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
        let mut file = ready(t.model_file(val.classes.clone(), None)).unwrap();
        // The token sequences read as texts of the letters a to j.
        if name.starts_with("tokens") {
            file.vocabulary = Some(whetstone::data::text::Vocabulary {
                level: whetstone::data::text::Level::Characters,
                tokens: "abcdefghij".chars().map(String::from).collect(),
                max_len: 10,
                lowercase: true,
            });
        }
        std::fs::write(
            dir.join(format!("{name}.onnx")),
            onnx::export(&file.spec, &file.tensors, file.features.as_ref()).unwrap(),
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("{name}.pytorch.zip")),
            pytorch::project(&pytorch::Experiment {
                dataset: name,
                file: &file,
                config: &settings,
                train: &train,
                val: &val,
                search: None,
            })
            .unwrap(),
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
    schedules(&dir);
    augmentations(&dir, &digits, &coloured);
    encodings(&dir);
    let all_digits = whetstone::testing::digits();
    let runs = training_runs(&dir, &all_digits, &table);
    println!("wrote {runs} training runs for train.py to repeat");
    searches(&dir, &all_digits.head(3000).unwrap());
}

/// Texts and the token ids Whetstone reads them as, by character and by word vocabularies
/// (`encoding.json`), for `data.encode` to read alike.
fn encodings(dir: &std::path::Path) {
    use whetstone::data::text::{Level, Vocabulary};
    let training = [
        "The cat sat on the mat.",
        "Ünïcode wörds: Straße, café, naïve!",
        "numbers 42 and 3.14, snake_case and CamelCase",
        "tabs\tand\nnew lines",
    ];
    let texts = [
        "the CAT sat",
        "Straße café",
        "unknown ✓ tokens 42",
        "",
        "a very long text that runs on for more words than the vocabulary reads at all",
    ];
    let cases: Vec<serde_json::Value> = [
        (Level::Characters, false),
        (Level::Characters, true),
        (Level::Words, true),
    ]
    .into_iter()
    .map(|(level, lowercase)| {
        let vocabulary = Vocabulary {
            lowercase,
            ..Vocabulary::fit(training, level, 40, 12)
        };
        let ids: Vec<Vec<f32>> = texts.iter().map(|t| vocabulary.encode(t).0).collect();
        serde_json::json!({"vocabulary": vocabulary, "texts": texts, "ids": ids})
    })
    .collect();
    std::fs::write(dir.join("encoding.json"), serde_json::to_string_pretty(&cases).unwrap()).unwrap();
}

/// A project with a search (`search.pytorch.zip`, random, six trials), the same search with each
/// other strategy (`search.STRATEGY.json`), and trials' values put into runs by the core
/// (`apply.json`: spec, settings, values, epochs and what `tune::apply` made of them) for
/// `search.py` to put in alike.
fn searches(dir: &std::path::Path, digits: &Dataset) {
    use serde_json::json;
    use whetstone::tune::{apply::apply, SearchSpec};
    let (train, val) = digits.split(600, 1).unwrap();
    let config = TrainConfig::from_json(
        r#"{"epochs": 20, "batch_size": 32, "optimizer": {"type": "adam", "lr": 0.003}, "seed": 2}"#,
    )
    .unwrap();
    let spec = preset("mlp", &train.sample_shape, train.classes.len()).unwrap();
    let mut t = Trainer::new(Cpu, spec, config.clone(), &train, &val).unwrap();
    let file = ready(t.model_file(val.classes.clone(), None)).unwrap();
    let params = json!([
        {"type": "float", "name": "lr", "low": 0.001, "high": 0.03, "log": true},
        {"type": "int", "name": "units", "low": 8, "high": 64, "log": true},
        {"type": "choice", "name": "optimizer", "values": ["adam", "rmsprop"]}
    ]);
    let search = |strategy: serde_json::Value, budget: usize| pytorch::Search {
        spec: serde_json::from_value::<SearchSpec>(
            json!({"params": params, "strategy": strategy, "budget": budget, "seed": 4}),
        )
        .unwrap(),
        score: "val_accuracy".into(),
    };
    let random = search(json!({"type": "random"}), 6);
    let export = pytorch::project(&pytorch::Experiment {
        dataset: "search",
        file: &file,
        config: &config,
        train: &train,
        val: &val,
        search: Some(&random),
    })
    .unwrap();
    std::fs::write(dir.join("search.pytorch.zip"), export).unwrap();
    let strategies = [
        ("grid", json!({"type": "grid", "points": 2}), 6),
        ("bayesian", json!({"type": "bayesian", "initial": 3}), 5),
        (
            "halving",
            json!({"type": "halving", "eta": 3, "min_epochs": 1, "max_epochs": 3}),
            6,
        ),
    ];
    for (name, strategy, budget) in strategies.clone() {
        let settings = pytorch::search_json(&search(strategy, budget)).unwrap();
        std::fs::write(dir.join(format!("search.{name}.json")), settings).unwrap();
    }

    let base = |model: &str, input: &[usize], classes: usize| {
        serde_json::to_value(preset(model, input, classes).unwrap()).unwrap()
    };
    let settings = json!({"epochs": 3, "batch_size": 32, "optimizer": {"type": "adam", "lr": 0.001}, "l2": 0.0,
        "frozen": [1, 4], "layer_penalties": [{"layer": 4, "l1": 0.0, "l2": 0.01}],
        "augment": [{"type": "rotate", "p": 0.5, "degrees": 10.0}, {"type": "hue", "p": 0.3, "degrees": 30.0},
                    {"type": "flip_horizontal", "p": 0.5}, {"type": "mixup", "p": 0.5, "alpha": 0.2}]});
    let cases = [
        (
            base("mlp", &[1, 28, 28], 10),
            json!({"lr": 0.0123, "units": 48, "optimizer": "nesterov"}),
            None,
        ),
        (
            base("mlp", &[1, 28, 28], 10),
            json!({"dropout": 0.25, "batch": 64, "weight_decay": 0.0003}),
            None,
        ),
        (
            base("cnn", &[1, 28, 28], 10),
            json!({"augmentation": 0.37, "units": 20, "dropout": 0.1}),
            Some(4),
        ),
        (
            base("gru", &[48, 1], 4),
            json!({"units": 9, "epochs": 5, "optimizer": "sgd"}),
            None,
        ),
        (
            base("toy", &[2], 2),
            json!({"lr": 0.3, "optimizer": "adamw", "dropout": 0.5}),
            Some(2),
        ),
    ];
    let listing: Vec<serde_json::Value> = cases
        .into_iter()
        .map(|(spec, values, epochs)| {
            let (mut made_spec, mut made_config) = (spec.clone(), settings.clone());
            apply(&mut made_spec, &mut made_config, values.as_object().unwrap(), epochs).unwrap();
            json!({"spec": spec, "config": settings, "values": values, "epochs": epochs,
                   "expected": {"spec": made_spec, "config": made_config}})
        })
        .collect();
    std::fs::write(dir.join("apply.json"), serde_json::to_string_pretty(&listing).unwrap()).unwrap();
    println!(
        "wrote a search project, {} strategies and {} trial cases",
        strategies.len() + 1,
        listing.len()
    );
}

/// A few steps of `config` on one whole batch (so the batches' order cannot matter), from
/// `initial`, without augmentation (its draws are random): `NAME.steps.pytorch.zip` and the weights
/// Whetstone ends with, `NAME.steps.expected.safetensors`, which `train.py` must reach too.
fn steps(
    dir: &std::path::Path,
    name: &str,
    spec: &ModelSpec,
    config: &TrainConfig,
    initial: &ModelFile,
    train: &Dataset,
    val: &Dataset,
) {
    let train = train.head(64).unwrap();
    let mut config = config.clone();
    config.batch_size = train.len();
    config.epochs = 3;
    config.augment.clear();
    config.early_stopping = None;
    // Penalties a hundred times the run's, so that three steps show a missing or wrong one.
    config.l1 *= 100.0;
    config.l2 *= 100.0;
    let features = initial
        .features
        .clone()
        .unwrap_or_else(|| Fitted::none(&train.sample_shape));
    let mut t = Trainer::with_features(Cpu, spec.clone(), config.clone(), &train, val, features).unwrap();
    t.load_file_weights(initial).unwrap();
    while !t.is_finished() {
        ready(t.run(1000)).unwrap();
    }
    let file = ready(t.model_file(val.classes.clone(), None)).unwrap();
    std::fs::write(
        dir.join(format!("{name}.steps.expected.safetensors")),
        file.to_bytes().unwrap(),
    )
    .unwrap();
    let export = pytorch::project(&pytorch::Experiment {
        dataset: name,
        file: &file,
        config: &config,
        train: &train,
        val,
        search: None,
    })
    .unwrap();
    std::fs::write(dir.join(format!("{name}.steps.pytorch.zip")), export).unwrap();
}

/// Images with every augmentation's parameters drawn by Whetstone and the images Whetstone's CPU
/// reference makes of them (`augment.json`, `augment.NAME.{x,params,expected}.f32`), for
/// `data.augment` to make the same.
fn augmentations(dir: &std::path::Path, digits: &Dataset, coloured: &Dataset) {
    use whetstone::augment::{self, Augmentation, AUGMENT_PARAMS};
    use whetstone::backend::Backend;
    let every = |p: f32| -> Vec<Augmentation> {
        serde_json::from_value(serde_json::json!([
            {"type": "flip_horizontal", "p": p}, {"type": "flip_vertical", "p": p},
            {"type": "rotate", "p": p, "degrees": 20}, {"type": "scale", "p": p, "amount": 0.2},
            {"type": "translate", "p": p, "fraction": 0.1}, {"type": "crop", "p": p, "fraction": 0.2},
            {"type": "brightness", "p": p, "amount": 0.2}, {"type": "contrast", "p": p, "amount": 0.3},
            {"type": "saturation", "p": p, "amount": 0.5}, {"type": "hue", "p": p, "degrees": 30},
            {"type": "noise", "p": p, "std": 0.05}, {"type": "cutout", "p": p, "size": 0.3}
        ]))
        .unwrap()
    };
    let mut listing = Vec::new();
    let mut rng = whetstone::rng::Rng::new(11);
    for (name, data, pipeline) in [
        ("grey_all", digits, every(1.0)),
        ("grey_some", digits, every(0.5)),
        ("colour_all", coloured, every(1.0)),
        ("colour_some", coloured, every(0.5)),
    ] {
        let n = 8;
        let shape = [n, data.sample_shape[0], data.sample_shape[1], data.sample_shape[2]];
        let x = samples(data, n);
        let params = augment::draw(&pipeline, n, shape[2], shape[3], &mut rng);
        let seed = 0xC0FF_EE00 + listing.len() as u32;
        let expected = ready(Cpu.read(&Cpu.augment(
            &Cpu.upload(&x, &shape),
            &Cpu.upload(&params, &[n, AUGMENT_PARAMS]),
            seed,
        )))
        .unwrap();
        for (part, values) in [("x", &x), ("params", &params), ("expected", &expected)] {
            std::fs::write(
                dir.join(format!("augment.{name}.{part}.f32")),
                bytemuck::cast_slice(values),
            )
            .unwrap();
        }
        listing.push(serde_json::json!({"name": name, "shape": shape, "seed": seed, "pipeline": pipeline}));
    }
    std::fs::write(
        dir.join("augment.json"),
        serde_json::to_string_pretty(&listing).unwrap(),
    )
    .unwrap();
}

/// Every kind of learning-rate schedule with Whetstone's planned rate of each step after a warm-up
/// (`schedules.json`), for `train.py`'s `rate` to match.
fn schedules(dir: &std::path::Path) {
    use whetstone::optim::schedule::{planned_rates, Schedule};
    let kinds = [
        r#"{"type": "constant"}"#,
        r#"{"type": "step", "every": 2, "gamma": 0.5}"#,
        r#"{"type": "exponential", "gamma": 0.7}"#,
        r#"{"type": "cosine", "min_lr": 0.001}"#,
        r#"{"type": "cosine_restarts", "period": 1, "mult": 2, "min_lr": 0.01}"#,
        r#"{"type": "one_cycle"}"#,
        r#"{"type": "one_cycle", "pct_start": 0.5, "div": 10, "final_div": 100}"#,
    ];
    let (lr, warmup) = (0.1, 3);
    // 35 steps, and 33, where one-cycle's peak at half of them falls on a half step.
    let listing: Vec<serde_json::Value> = [(7, 5), (11, 3)]
        .into_iter()
        .flat_map(|(steps_per_epoch, epochs)| {
            kinds.iter().map(move |json| {
                let schedule: Schedule = serde_json::from_str(json).unwrap();
                let rates = planned_rates(&schedule, warmup, lr, steps_per_epoch, epochs);
                serde_json::json!({"schedule": schedule, "lr": lr, "steps_per_epoch": steps_per_epoch,
                    "epochs": epochs, "warmup_steps": warmup, "rates": rates})
            })
        })
        .collect();
    std::fs::write(
        dir.join("schedules.json"),
        serde_json::to_string_pretty(&listing).unwrap(),
    )
    .unwrap();
}

/// Runs that `train.py` repeats from the same initial weights, each with settings that exercise
/// its levers: `NAME.pytorch.zip` (trained), `NAME.initial.safetensors` (the weights it started
/// from), and in `training.json` the held-out accuracy Whetstone reached from them with three
/// seeds of the batches' order and draws.
fn training_runs(dir: &std::path::Path, digits: &Dataset, table: &Dataset) -> usize {
    let runs = [
        (
            "mlp_trained",
            "mlp",
            digits.head(3000).unwrap(),
            500,
            r#"{"epochs": 8, "batch_size": 32, "optimizer": {"type": "adamw", "lr": 0.001, "weight_decay": 0.05}, "seed": 3,
                "schedule": {"type": "cosine"}, "warmup_steps": 20, "clip_norm": 5.0, "l2": 0.0001}"#,
        ),
        (
            "cnn_trained",
            "cnn",
            digits.head(2500).unwrap(),
            500,
            r#"{"epochs": 8, "batch_size": 32, "optimizer": {"type": "momentum", "lr": 0.02, "nesterov": true},
                "seed": 4, "schedule": {"type": "step", "every": 3, "gamma": 0.5},
                "early_stopping": {"patience": 2}, "clip_value": 1.0,
                "augment": [{"type": "rotate", "p": 0.5, "degrees": 10}, {"type": "translate", "p": 0.5, "fraction": 0.05},
                            {"type": "mixup", "p": 0.5, "alpha": 0.2}]}"#,
        ),
        (
            "gru_trained",
            "gru",
            // A thousand waveforms train: on 300 the held-out accuracy moved between 82 and 92 %
            // with the batches' order alone, too far for two points to mean anything.
            sequence::waves(1500, 48, 0.05, 2).unwrap(),
            1000,
            r#"{"epochs": 40, "batch_size": 32, "optimizer": {"type": "adam", "lr": 0.005}, "seed": 5,
                "schedule": {"type": "reduce_on_plateau", "patience": 3}, "clip_norm": 1.0}"#,
        ),
        (
            "table_trained",
            "toy",
            table.clone(),
            150,
            r#"{"epochs": 30, "batch_size": 16, "optimizer": {"type": "rmsprop", "lr": 0.005}, "seed": 6,
                "rebalance": "class_weights", "l1": 0.0001,
                "features": {"impute": "median", "scale": "standardize", "one_hot": true, "log": ["size"], "polynomial": true}}"#,
        ),
    ];
    let mut listing = Vec::new();
    for (name, model, data, trained_on, settings) in runs {
        let config = TrainConfig::from_json(settings).unwrap();
        // `trained_on` samples train; the rest are held out.
        let (train, val) = data.split(data.len() - trained_on, 1).unwrap();
        let input = Fitted::fit(&config.features, &train).unwrap().output_shape();
        let spec = preset(model, &input, train.classes.len()).unwrap();
        // Three runs from the same initial weights, their batches and draws seeded apart.
        let mut initial = None;
        let mut accuracies = Vec::new();
        let mut exported = None;
        for offset in 0..3 {
            let mut run = config.clone();
            run.seed += offset;
            let mut t = Trainer::new(Cpu, spec.clone(), run, &train, &val).unwrap();
            match &initial {
                None => initial = Some(ready(t.model_file(val.classes.clone(), None)).unwrap()),
                Some(file) => t.load_file_weights(file).unwrap(),
            }
            while !t.is_finished() {
                ready(t.run(1000)).unwrap();
            }
            accuracies.push(ready(t.evaluate_validation()).unwrap().accuracy);
            exported.get_or_insert_with(|| ready(t.model_file(val.classes.clone(), None)).unwrap());
        }
        let initial = initial.expect("the first run's weights");
        std::fs::write(
            dir.join(format!("{name}.initial.safetensors")),
            initial.to_bytes().unwrap(),
        )
        .unwrap();
        let export = pytorch::project(&pytorch::Experiment {
            dataset: name,
            file: &exported.expect("the first run's model"),
            config: &config,
            train: &train,
            val: &val,
            search: None,
        })
        .unwrap();
        std::fs::write(dir.join(format!("{name}.pytorch.zip")), export).unwrap();
        listing.push(serde_json::json!({"name": name, "accuracies": accuracies, "epochs": config.epochs}));
        steps(dir, name, &spec, &config, &initial, &train, &val);
    }
    std::fs::write(
        dir.join("training.json"),
        serde_json::to_string_pretty(&listing).unwrap(),
    )
    .unwrap();
    listing.len()
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
        assert_eq!(resaved.vocabulary, exported.vocabulary, "{name}: vocabulary");
        assert_eq!(resaved.tensors, exported.tensors, "{name}: weights");
        println!("ok {name}: PyTorch's model file reads back as the exported model");
    }
    assert!(!cases.is_empty(), "no cases were exported");
}

/// `n` sequences of `steps` token ids from 1 to `vocab − 1`, each 3 or more long and padded with
/// 0 after; the class says whether token 1 comes more often than token 2.
fn token_sequences(n: usize, steps: usize, vocab: usize) -> Dataset {
    let mut rng = whetstone::rng::Rng::new(7);
    let (mut features, mut labels) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let len = 3 + rng.below(steps - 2);
        let ids: Vec<f32> = (0..steps)
            .map(|t| if t < len { 1 + rng.below(vocab - 1) } else { 0 } as f32)
            .collect();
        let count = |id: f32| ids.iter().filter(|&&v| v == id).count();
        labels.push(u32::from(count(1.0) > count(2.0)));
        features.extend(ids);
    }
    Dataset::new(
        vec![steps],
        features,
        labels,
        vec!["fewer ones".into(), "more ones".into()],
    )
    .unwrap()
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
