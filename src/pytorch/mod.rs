//! Export as a PyTorch project: the experiment leaves the browser for the engine people scale
//! with. The project is one `.zip`:
//! - `model.py`: the model spec as a `torch.nn.Module`, its parameters named and shaped as in
//!   Whetstone's model file, each layer kind's module and builder written by the kind's own file
//!   (`nn::spec::Kind::TORCH`);
//! - `model.safetensors`: the trained weights as Whetstone writes them;
//! - `data.safetensors` and `data.py`: the run's training and held-out samples (the split itself,
//!   not a seed to draw it again), the fitted feature transform and the resampling in torch;
//! - `train.py`: the run's training settings in PyTorch, on one device or under `torchrun`;
//! - `search.py` and `search.json` (when the page has a valid search set): the search as an
//!   Optuna study, its trials put into runs as `tune::apply` does and trained by `train.py`'s `fit`;
//! - `experiment.json`: the settings `data.py` and `train.py` read (the spec, the training
//!   settings, the class names, the fitted transform, a text model's vocabulary);
//! - `requirements.txt` (pinned, as the tests check them) and a `README.md` that says how to run it.

use crate::data::Dataset;
use crate::error::Error;
use crate::model_file::ModelFile;
use crate::nn::{LayerSpec, ModelSpec};
use crate::train::TrainConfig;
use crate::tune::{apply, SearchSpec, Strategy};
use safetensors::tensor::{Dtype, TensorView};
use std::collections::HashMap;

/// The packages the exported code imports, pinned: also what `scripts/test.sh` installs to test
/// the export with.
pub const REQUIREMENTS: &str = include_str!("requirements.txt");

const MODEL_HEAD: &str = include_str!("model_head.py");
const MODEL_TAIL: &str = include_str!("model_tail.py");
const DATA_PY: &str = include_str!("data.py");
const TRAIN_PY: &str = include_str!("train.py");
const SEARCH_PY: &str = include_str!("search.py");

/// A run to export: its data set's name, its trained model, its settings and its splits, and the
/// search the page is set to run on it, if any.
pub struct Experiment<'a> {
    pub dataset: &'a str,
    pub file: &'a ModelFile,
    pub config: &'a TrainConfig,
    pub train: &'a Dataset,
    pub val: &'a Dataset,
    pub search: Option<&'a Search>,
}

/// A hyper-parameter search to export: its settings and the validation score (the catalogue's
/// `metrics.scores`) it ranks trials by.
pub struct Search {
    pub spec: SearchSpec,
    pub score: String,
}

/// `search.json`: the search's settings (its direction the score's), the score, each searched
/// setting's grid values (for a grid) and the core's tables `search.py`'s `apply` reads.
pub fn search_json(search: &Search) -> Result<String, Error> {
    let score = crate::catalogue::metrics()
        .scores
        .into_iter()
        .find(|s| s.name == search.score)
        .ok_or_else(|| Error::InvalidConfig(format!("a search cannot be scored by '{}'", search.score)))?;
    let spec = SearchSpec {
        maximize: score.maximize,
        ..search.spec.clone()
    };
    crate::tune::Search::new(spec.clone())?;
    let mut json = serde_json::to_value(&spec).expect("a search serialises");
    let extra = json.as_object_mut().expect("a search is an object");
    extra.insert("score".into(), score.name.into());
    if let Strategy::Grid { points } = spec.strategy {
        let grid = spec
            .params
            .iter()
            .map(|p| (p.name().to_string(), p.grid(points).into()));
        extra.insert("grid".into(), serde_json::Value::Object(grid.collect()));
    }
    extra.insert("optimizers".into(), apply::optimizer_configs().into());
    extra.insert("strengths".into(), apply::strengths().into());
    Ok(serde_json::to_string_pretty(&json).expect("JSON serialises") + "\n")
}

/// `data.safetensors`: each split's samples (`train.x`, `val.x`: bytes when every value is a
/// multiple of 1/255 in [0, 1], as images are, else 32-bit floats) and class indices (`train.y`,
/// `val.y`, 64-bit); the header says the divisor of byte samples and the class names.
fn data_safetensors(train: &Dataset, val: &Dataset) -> Result<Vec<u8>, Error> {
    let bytes = [train, val].iter().all(|d| {
        d.features
            .iter()
            .all(|&v| (0.0..=1.0).contains(&v) && (v * 255.0).round() / 255.0 == v)
    });
    let mut buffers: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    for (name, d) in [("train", train), ("val", val)] {
        let shape: Vec<usize> = std::iter::once(d.len()).chain(d.sample_shape.iter().copied()).collect();
        let x = if bytes {
            (
                Dtype::U8,
                d.features.iter().map(|&v| (v * 255.0).round() as u8).collect(),
            )
        } else {
            (Dtype::F32, d.features.iter().flat_map(|v| v.to_le_bytes()).collect())
        };
        buffers.push((format!("{name}.x"), x.0, shape, x.1));
        let y: Vec<u8> = d.labels.iter().flat_map(|&l| i64::from(l).to_le_bytes()).collect();
        buffers.push((format!("{name}.y"), Dtype::I64, vec![d.len()], y));
    }
    let views = buffers
        .iter()
        .map(|(name, dtype, shape, data)| TensorView::new(*dtype, shape.clone(), data).map(|v| (name.clone(), v)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::InvalidData(format!("the data could not be written: {e}")))?;
    let metadata = HashMap::from([
        ("format".to_string(), "whetstone-data/1".to_string()),
        ("divisor".to_string(), if bytes { "255" } else { "1" }.to_string()),
        (
            "classes".to_string(),
            serde_json::to_string(&train.classes).expect("strings serialise"),
        ),
    ]);
    safetensors::serialize(views, Some(metadata))
        .map_err(|e| Error::InvalidData(format!("the data could not be written: {e}")))
}

/// `model.py` for `spec`: every layer kind's module and builder (each written by the kind's own
/// file, `nn::spec::Kind::TORCH`), `build`, which turns a spec's layers into modules, and
/// `Model`, built from `SPEC` (or another spec: a search's); `load` and `save` read and write
/// Whetstone model files.
pub fn model_py(spec: &ModelSpec) -> Result<String, Error> {
    spec.summary()?;
    let spec_json = serde_json::to_string(spec).expect("a spec serialises");
    let rectifiers: Vec<String> = LayerSpec::rectifiers().iter().map(|n| format!("{n:?}")).collect();
    let weighted: Vec<String> = crate::catalogue::layers()
        .iter()
        .filter(|k| k.weighted)
        .map(|k| format!("{:?}", k.entry.name))
        .collect();
    let mut out = String::from(MODEL_HEAD);
    out += &format!(
        "\n# The model file format `save` writes.\nFORMAT = {:?}\n# Each layer kind's builder: (its settings, its input shape, the initialisation it gets) →\n# (its module, its output shape).\nBUILDERS = {{}}\n# The kinds after which a layer's weights are initialised for a rectifier (He).\nRECTIFIERS = {{{}}}\n# The kinds with weights (`weight`, and a recurrent layer's `recurrent_weight`; not biases) that\n# L1/L2 penalties apply to.\nWEIGHTED = {{{}}}\n",
        crate::model_file::FORMAT,
        rectifiers.join(", "),
        weighted.join(", ")
    );
    for source in LayerSpec::torch_sources() {
        out += "\n\n";
        out += source;
    }
    out += &format!(
        r#"

def build(layers, shape):
    """The modules of `layers` (a spec's, as JSON writes them) from input `shape` on, and the last
    output shape. A weighted layer is initialised for a rectifier (He) when one follows it, else
    Xavier, unless its settings say."""
    modules = []
    for i, layer in enumerate(layers):
        following = layers[i + 1]["type"] if i + 1 < len(layers) else None
        module, shape = BUILDERS[layer["type"]](layer, shape, "he" if following in RECTIFIERS else "xavier")
        modules.append(module)
    return modules, shape


# The model spec as Whetstone wrote it, and the shape of one sample it takes.
SPEC = json.loads(r"""{spec_json}""")
INPUT = SPEC["input"]


class Model(nn.Module):
    """The model of `spec` (the experiment's by default): its layers in order; `forward` gives the
    logits [batch, classes] of a batch [batch, *INPUT]."""

    def __init__(self, spec=SPEC):
        super().__init__()
        self.spec = spec
        self.layers = nn.ModuleList(build(spec["layers"], spec["input"])[0])

    def forward(self, x):
        # A layer that reads token ids finds the batch's padding mask; the layers after it that
        # pool or attend over steps are told it while the steps are its own, as in Whetstone (a
        # class token hands it on grown by its own place).
        mask = None
        for layer in self.layers:
            if mask is not None and hasattr(layer, "use_padding_mask"):
                layer.use_padding_mask(mask)
            x = layer(x)
            own = getattr(layer, "padding_mask", None)
            if own is not None:
                mask = own
            if mask is not None and (x.dim() != 3 or x.shape[1] != mask.shape[1]):
                mask = None
        return x
"#
    );
    out += MODEL_TAIL;
    Ok(out)
}

/// `README.md` of the project exported from a run on `dataset`.
fn readme(e: &Experiment) -> String {
    let (file, dataset, config) = (e.file, e.dataset, e.config);
    let summary = file.spec.summary().expect("the model file's spec was checked");
    let header = match (&file.features, &file.history) {
        (Some(_), Some(_)) => "the model spec, the class names, the fitted feature transform and the training history",
        (Some(_), None) => "the model spec, the class names and the fitted feature transform",
        (None, Some(_)) => "the model spec, the class names and the training history",
        (None, None) => "the model spec and the class names",
    };
    let features = if file.features.as_ref().is_some_and(|f| f.is_needed()) {
        "\nThe run put its samples through a feature transform fitted on the training split: `model.py`\ntakes samples after it, as the layers saw them, and `data.transform` applies it to raw ones.\n"
    } else if file.vocabulary.is_some() {
        "\nThe model reads texts as token ids by the vocabulary in `experiment.json` (fitted on the\ntraining texts): `data.encode(texts)` gives the ids of new texts, as Whetstone reads them.\n"
    } else {
        ""
    };
    format!(
        r#"# {dataset}: a Whetstone experiment as a PyTorch project

Exported from Whetstone. The model takes samples of shape {input:?} and gives scores for
{classes} classes ({names}); it has {params} parameters. The run trained it for {epochs} epochs
in batches of {batch} on {train} samples, and held {val} out.

- `model.py`: the model as a `torch.nn.Module` (`Model`), its parameters named and shaped as in
  `model.safetensors`; `load` reads a Whetstone model file and `save` writes one.
- `model.safetensors`: the trained weights, with {header} in its header.
- `data.py` and `data.safetensors`: the run's training and held-out samples (the split itself),
  its fitted feature transform and resampling.
- `train.py`: trains the model with the run's settings (`experiment.json`), on the CPU, a GPU,
  or many under `torchrun`.
{search_files}- `requirements.txt`: the packages the code needs, at the versions it was checked with:
{requirements}
{features}
## Run it

```sh
python -m venv .venv && . .venv/bin/activate
pip install -r requirements.txt
python model.py                          # loads model.safetensors and prints the model
python train.py                          # trains a fresh model with the run's settings
python train.py --init model.safetensors # goes on from the run's weights
```

On several GPUs or machines, `torchrun` starts one process per device; each takes its share of
every batch (DistributedDataParallel; nccl on GPUs, gloo on CPUs):

```sh
torchrun --nproc_per_node=4 train.py
# two machines, four GPUs each: the same command on both, node_rank 0 and 1
torchrun --nnodes=2 --node_rank=0 --master_addr=HOST --master_port=29500 --nproc_per_node=4 train.py
```

`train.py` writes `trained.safetensors` (`--out` to change it) with the training history.
{search_section}
In Python:

```python
import torch
import data
from model import load

model, header = load("model.safetensors")
(train_x, train_y), (val_x, val_y) = data.load()
probabilities = model(data.transform(val_x, header.get("features"))).softmax(1)
print((probabilities.argmax(1) == val_y).float().mean())
```

## Back to Whetstone

`trained.safetensors` (or `save(model, "mine.safetensors", header)` from `model.py`) carries the
header Whetstone reads: the page's "Load file…" (under Share → Saved models) opens it on the same
data set, and the evaluation, ensembles, deploy and monitoring views take it like a model trained
in the browser.
"#,
        input = file.spec.input,
        classes = file.classes.len(),
        names = file.classes.join(", "),
        params = crate::nn::grouped(summary.params),
        epochs = config.epochs,
        batch = config.batch_size,
        train = e.train.len(),
        val = e.val.len(),
        requirements = REQUIREMENTS
            .lines()
            .map(|l| format!("  `{l}`"))
            .collect::<Vec<_>>()
            .join("\n"),
        search_files = if e.search.is_some() { SEARCH_FILES } else { "" },
        search_section = e.search.map(search_section).unwrap_or_default(),
    )
}

const SEARCH_FILES: &str = "- `search.py` and `search.json`: the run's hyper-parameter search as an Optuna study.\n";

/// The README's part on the search.
fn search_section(search: &Search) -> String {
    let strategy = match &search.spec.strategy {
        Strategy::Grid { points } => format!("a grid of {points} values per range (Optuna's `GridSampler`)"),
        Strategy::Random => "random draws (`RandomSampler`)".into(),
        Strategy::Bayesian { .. } => "Bayesian optimisation with a Gaussian process (`GPSampler`)".into(),
        Strategy::Halving { eta, min_epochs, max_epochs } => format!(
            "successive halving (`SuccessiveHalvingPruner`): each trial goes on past {min_epochs}·{eta}^k epochs, up to {max_epochs}, only while it is in the best 1/{eta} of the trials that got there"
        ),
    };
    let names: Vec<&str> = search.spec.params.iter().map(|p| p.name()).collect();
    format!(
        r#"
## Search

`search.py` runs the page's search as an Optuna study: {names} by {strategy}; {budget} trials,
each trained by `train.py`'s `fit` on the same data and split and scored by its last epoch's
`{score}`. The best trial's values, model spec and training settings go to `best.json`.

```sh
python search.py                                   # one process
# several processes, on this machine or many: each runs the same command on one storage
python search.py --storage sqlite:///search.db --threads 1
python search.py --storage postgresql://user:password@host/whetstone
python train.py --settings best.json               # train the best (torchrun too)
```

The processes of one study share its budget; each draws its own trials (`--seed` fixes a
process's draws; without `--storage` the search's own seed is used).
"#,
        names = names.join(", "),
        budget = search.spec.budget,
        score = search.score,
    )
}

/// The project of a run, as a `.zip`.
pub fn project(e: &Experiment) -> Result<Vec<u8>, Error> {
    let model = model_py(&e.file.spec)?;
    let weights = e.file.to_bytes()?;
    let samples = data_safetensors(e.train, e.val)?;
    let experiment = serde_json::json!({
        "dataset": e.dataset,
        "spec": e.file.spec,
        "config": e.config,
        "classes": e.file.classes,
        "fitted": e.file.features.as_ref().filter(|f| f.is_needed()),
        "vocabulary": e.file.vocabulary,
    });
    let experiment = serde_json::to_string_pretty(&experiment).expect("the settings serialise") + "\n";
    let readme = readme(e);
    let search = e.search.map(search_json).transpose()?;
    let mut files: Vec<(&str, &[u8])> = vec![
        ("README.md", readme.as_bytes()),
        ("requirements.txt", REQUIREMENTS.as_bytes()),
        ("experiment.json", experiment.as_bytes()),
        ("model.py", model.as_bytes()),
        ("data.py", DATA_PY.as_bytes()),
        ("train.py", TRAIN_PY.as_bytes()),
        ("model.safetensors", &weights),
        ("data.safetensors", &samples),
    ];
    if let Some(search) = &search {
        files.push(("search.py", SEARCH_PY.as_bytes()));
        files.push(("search.json", search.as_bytes()));
    }
    Ok(crate::zip::stored(&files))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::preset;

    #[test]
    fn model_py_has_a_builder_for_every_layer_kind_and_the_spec() {
        let spec = preset("mlp", &[1, 28, 28], 10).unwrap();
        let py = model_py(&spec).unwrap();
        for kind in crate::catalogue::layers() {
            assert!(
                py.contains(&format!("BUILDERS[\"{}\"] = ", kind.entry.name)),
                "{}",
                kind.entry.name
            );
        }
        assert!(py.contains("RECTIFIERS = {\"leaky_relu\", \"relu\"}"), "{py}");
        assert!(
            py.contains("WEIGHTED = {\"dense\", \"conv2d\", \"lstm\", \"gru\", \"embedding\", \"positional\", \"class_token\", \"multi_head_attention\"}"),
            "{py}"
        );
        assert!(py.contains(&format!("FORMAT = {:?}", crate::model_file::FORMAT)));
        assert!(py.contains(&format!(
            "SPEC = json.loads(r\"\"\"{}\"\"\")",
            serde_json::to_string(&spec).unwrap()
        )));
        assert_eq!(py.matches("class Dense(").count(), 1);
        assert!(
            model_py(&ModelSpec::from_json(r#"{"input":[4],"layers":[{"type":"dense","units":0}]}"#).unwrap()).is_err()
        );
    }

    #[test]
    fn search_json_has_the_grid_the_score_and_the_cores_tables_and_refuses_a_bad_search() {
        let spec: SearchSpec = serde_json::from_str(
            r#"{"params": [{"type": "float", "name": "lr", "low": 0.001, "high": 0.1, "log": true},
                           {"type": "choice", "name": "optimizer", "values": ["adam", "sgd"]}],
                "strategy": {"type": "grid", "points": 3}, "budget": 4, "seed": 2}"#,
        )
        .unwrap();
        let search = |spec: &SearchSpec, score: &str| {
            search_json(&Search {
                spec: spec.clone(),
                score: score.into(),
            })
        };
        let json: serde_json::Value = serde_json::from_str(&search(&spec, "val_loss").unwrap()).unwrap();
        assert_eq!(json["grid"]["lr"], serde_json::json!([0.001, 0.01, 0.1]));
        assert_eq!(json["grid"]["optimizer"], serde_json::json!(["adam", "sgd"]));
        assert_eq!(
            (json["score"].as_str(), json["maximize"].as_bool()),
            (Some("val_loss"), Some(false))
        );
        let accuracy: serde_json::Value = serde_json::from_str(&search(&spec, "val_accuracy").unwrap()).unwrap();
        assert_eq!(accuracy["maximize"], true);
        assert_eq!(json["optimizers"]["nesterov"]["nesterov"], true);
        assert_eq!(json["strengths"]["rotate"], "degrees");
        assert!(json["strengths"].get("mixup").is_none() && json["strengths"].get("flip_horizontal").is_none());
        let err = search(&spec, "speed").unwrap_err().to_string();
        assert!(err.contains("'speed'"), "{err}");
        let empty = SearchSpec { budget: 0, ..spec };
        let err = search(&empty, "val_loss").unwrap_err().to_string();
        assert!(err.contains("budget is 0"), "{err}");
    }

    #[test]
    fn requirements_pin_every_package() {
        for line in REQUIREMENTS.lines() {
            assert!(line.split_once("==").is_some_and(|(_, v)| !v.is_empty()), "{line}");
        }
    }
}
