//! Flatten (`[n, ...]` → `[n, product of the rest]`) and reshape (`[n, ...]` → `[n, ...target]`):
//! the same data under a new per-sample shape.

use super::spec::{product, Inferred, Kind, Place};
use super::{Layer, Mode};
use crate::backend::Backend;
use crate::catalogue::{self, Field, FieldKind, LayerKind};
use crate::onnx::{Attr, Graph};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlattenSpec {}

/// The same values under a new per-sample shape with as many elements, e.g. an image
/// `[1, 28, 28]` as a sequence `[28, 28]` of 28 rows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReshapeSpec {
    pub shape: Vec<usize>,
}

/// `model.py`'s reshape: each sample to a new shape.
const RESHAPE_PY: &str = r#"class Reshape(nn.Module):
    """The same values under a new per-sample shape."""

    def __init__(self, shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.reshape(x.shape[0], *self.shape)


BUILDERS["reshape"] = lambda layer, shape, init: (Reshape(layer["shape"]), list(layer["shape"]))
"#;

impl Kind for FlattenSpec {
    const TORCH: &'static str =
        "BUILDERS[\"flatten\"] = lambda layer, shape, init: (nn.Flatten(), [math.prod(shape)])\n";

    fn entry() -> LayerKind {
        catalogue::layer("flatten", "one flat vector per sample", false, vec![])
    }

    fn infer(&self, input: &[usize]) -> Result<Inferred, String> {
        Ok(Inferred {
            output: vec![product(input) as usize],
            params: 0,
            flops: 0,
        })
    }

    fn build<B: Backend>(&self, _: &B, _: Place, _: &mut Rng) -> Box<dyn Layer<B>> {
        Box::new(Reshape::default())
    }

    fn onnx(&self, graph: &mut Graph, name: &str, x: &str, _: &[usize]) -> String {
        graph.op("Flatten", name, &[x], vec![("axis", Attr::Int(1))])
    }
}

impl Kind for ReshapeSpec {
    const TORCH: &'static str = RESHAPE_PY;

    fn entry() -> LayerKind {
        catalogue::layer(
            "reshape",
            "the same values under a new shape",
            false,
            vec![Field::new(
                "shape",
                "shape",
                FieldKind::List,
                json!([1]),
                "the new per-sample shape",
            )],
        )
    }

    fn sizes(&self) -> Vec<(&'static str, usize)> {
        self.shape.iter().map(|&d| ("each axis of the shape", d)).collect()
    }

    fn infer(&self, input: &[usize]) -> Result<Inferred, String> {
        let (elements, target) = (product(input), &self.shape);
        if target.is_empty() || target.contains(&0) || product(target) != elements {
            return Err(format!(
                "cannot reshape {input:?} ({elements} values) into {target:?}; the sizes must multiply to {elements}"
            ));
        }
        Ok(Inferred {
            output: target.clone(),
            params: 0,
            flops: 0,
        })
    }

    fn build<B: Backend>(&self, _: &B, _: Place, _: &mut Rng) -> Box<dyn Layer<B>> {
        Box::new(Reshape::to(self.shape.clone()))
    }

    fn onnx(&self, graph: &mut Graph, name: &str, x: &str, _: &[usize]) -> String {
        // 0 keeps the batch size.
        let target: Vec<i64> = std::iter::once(0).chain(self.shape.iter().map(|&d| d as i64)).collect();
        let target = graph.constant(&format!("{name}.shape"), &target);
        graph.op("Reshape", name, &[x, &target], vec![])
    }
}

/// Flattens when `target` is `None`.
#[derive(Default)]
pub struct Reshape {
    target: Option<Vec<usize>>,
    input_shape: Option<Vec<usize>>,
}

impl Reshape {
    pub fn to(target: Vec<usize>) -> Self {
        Self {
            target: Some(target),
            input_shape: None,
        }
    }
}

impl<B: Backend> Layer<B> for Reshape {
    fn forward(&mut self, b: &B, x: B::Tensor, _mode: Mode) -> B::Tensor {
        let shape = B::shape(&x);
        let mut out = vec![shape[0]];
        match &self.target {
            Some(target) => out.extend(target),
            None => out.push(shape[1..].iter().product()),
        }
        let y = b.reshape(&x, &out);
        self.input_shape = Some(shape);
        y
    }

    fn backward(&mut self, b: &B, dy: B::Tensor, _input_grad: bool) -> Option<B::Tensor> {
        Some(b.reshape(&dy, &self.input_shape.take().expect("reshape backward before forward")))
    }
}
