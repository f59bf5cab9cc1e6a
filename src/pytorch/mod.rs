//! Export as a PyTorch project: the experiment leaves the browser for the engine people scale
//! with. The project is one `.zip`: `model.py` (the model spec as a `torch.nn.Module`, its
//! parameters named and shaped as in Whetstone's model file, each layer's module written by the
//! layer's own file through `nn::spec::Kind::torch`), `model.safetensors` (the weights as
//! Whetstone writes them), `requirements.txt` (the packages it imports, at the versions the tests
//! check it with) and a `README.md` that says how to run it.

use crate::error::Error;
use crate::model_file::ModelFile;
use crate::nn::ModelSpec;

/// The packages the exported code imports, pinned: also what `scripts/setup.sh` installs to test
/// the export with.
pub const REQUIREMENTS: &str = include_str!("requirements.txt");

const MODEL_HEAD: &str = include_str!("model_head.py");
const MODEL_TAIL: &str = include_str!("model_tail.py");

/// `model.py` for `spec`: the classes its layers need, each once, and `Model`, whose `layers`
/// hold them in order; `load` and `save` read and write Whetstone model files.
pub fn model_py(spec: &ModelSpec) -> Result<String, Error> {
    spec.summary()?;
    let layers = crate::nn::torch_layers(spec);
    let mut classes: Vec<&str> = Vec::new();
    for need in layers.iter().flat_map(|l| l.needs.iter().copied()) {
        if !classes.contains(&need) {
            classes.push(need);
        }
    }
    let spec_json = serde_json::to_string(spec).expect("a spec serialises");
    let modules: String = layers
        .iter()
        .map(|l| format!("                {},\n", l.module))
        .collect();
    let mut out = String::from(MODEL_HEAD);
    out += &format!("\n# The model spec as Whetstone wrote it, and the shape of one sample it takes.\nSPEC = json.loads(r\"\"\"{spec_json}\"\"\")\nINPUT = {:?}\n", spec.input);
    for class in classes {
        out += "\n\n";
        out += class;
    }
    out += &format!(
        r#"

class Model(nn.Module):
    """The model: its layers in order; `forward` gives the logits [batch, classes] of a batch
    [batch, *INPUT]."""

    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList(
            [
{modules}            ]
        )

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x
"#
    );
    out += MODEL_TAIL;
    Ok(out)
}

/// `README.md` of the project exported from a run on `dataset`.
fn readme(file: &ModelFile, dataset: &str) -> String {
    let summary = file.spec.summary().expect("the model file's spec was checked");
    let header = match (&file.features, &file.history) {
        (Some(_), Some(_)) => "the model spec, the class names, the fitted feature transform and the training history",
        (Some(_), None) => "the model spec, the class names and the fitted feature transform",
        (None, Some(_)) => "the model spec, the class names and the training history",
        (None, None) => "the model spec and the class names",
    };
    let features = if file.features.as_ref().is_some_and(|f| f.is_needed()) {
        "\nThe run put its samples through a fitted feature transform first: `model.py` takes them\nafter it, as the layers saw them (the transform is in the file's header, under \"features\").\n"
    } else {
        ""
    };
    format!(
        r#"# {dataset}: a Whetstone model as a PyTorch project

Exported from Whetstone. The model takes samples of shape {input:?} and gives scores for
{classes} classes ({names}); it has {params} parameters.

- `model.py`: the model as a `torch.nn.Module` (`Model`), its parameters named and shaped as in
  `model.safetensors`; `load` reads a Whetstone model file and `save` writes one.
- `model.safetensors`: the trained weights, with {header} in its header.
- `requirements.txt`: the packages the code imports, at the versions it was checked with.
{features}
## Run it

```sh
python -m venv .venv && . .venv/bin/activate
pip install -r requirements.txt
python model.py   # loads model.safetensors and prints the model
```

In Python:

```python
import torch
from model import load, save

model, header = load("model.safetensors")
probabilities = model(torch.zeros(1, *{input:?})).softmax(1)   # one row per sample
print(dict(zip(header["classes"], probabilities[0].tolist())))
```

## Back to Whetstone

`save(model, "trained.safetensors", header)` writes the weights with the header Whetstone
reads: the page's "Load file…" (under Share → Saved models) opens it on the same data set, and
the evaluation, ensembles, deploy and monitoring views take it like a model trained in the
browser.
"#,
        input = file.spec.input,
        classes = file.classes.len(),
        names = file.classes.join(", "),
        params = crate::nn::grouped(summary.params),
    )
}

/// The project of a trained model, as a `.zip`, for a run on `dataset`.
pub fn project(file: &ModelFile, dataset: &str) -> Result<Vec<u8>, Error> {
    let model = model_py(&file.spec)?;
    let weights = file.to_bytes()?;
    let readme = readme(file, dataset);
    Ok(crate::zip::stored(&[
        ("README.md", readme.as_bytes()),
        ("requirements.txt", REQUIREMENTS.as_bytes()),
        ("model.py", model.as_bytes()),
        ("model.safetensors", &weights),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::preset;

    #[test]
    fn model_py_builds_every_layer_once_with_its_class_defined_once() {
        let spec = ModelSpec::from_json(
            r#"{"input":[1,8,8],"layers":[{"type":"conv2d","filters":2,"kernel":3,"padding":1},{"type":"residual","layers":[{"type":"conv2d","filters":2,"kernel":3,"padding":1},{"type":"batch_norm"}]},{"type":"flatten"},{"type":"dense","units":4,"init":"xavier"},{"type":"relu"},{"type":"dense","units":3}]}"#,
        )
        .unwrap();
        let py = model_py(&spec).unwrap();
        assert!(
            py.contains("                Conv2d(1, 2, 3, 1, 1, \"xavier\"),\n"),
            "{py}"
        );
        assert!(py.contains("Residual([Conv2d(2, 2, 3, 1, 1, \"xavier\"), BatchNorm(2, 0.1, 1e-5)]),"));
        assert!(py.contains("Dense(128, 4, \"xavier\"),") && py.contains("Dense(4, 3, \"xavier\"),"));
        assert_eq!(py.matches("class Conv2d(").count(), 1);
        assert_eq!(py.matches("class Dense(").count(), 1);
        assert!(py.contains("INPUT = [1, 8, 8]"));
        let mlp = model_py(&preset("mlp", &[1, 28, 28], 10).unwrap()).unwrap();
        assert!(mlp.contains("nn.Flatten(),\n                Dense(784, 128, \"he\"),\n                nn.ReLU(),"));
        assert!(!mlp.contains("class Conv2d("));
    }

    #[test]
    fn requirements_pin_every_package() {
        for line in REQUIREMENTS.lines() {
            assert!(line.split_once("==").is_some_and(|(_, v)| !v.is_empty()), "{line}");
        }
    }
}
