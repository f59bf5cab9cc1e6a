//! A residual (skip) block: `y = x + f(x)` for the block's inner layers `f`, whose output has the
//! shape of `x`. The gradient reaches `x` both through `f` and directly.

use super::spec::{layer_rows, param_shapes_of, product, Inferred, Kind, Place};
use super::{Layer, LayerSpec, Mode, ModelSpec, Param};
use crate::backend::Backend;
use crate::catalogue::{self, LayerKind};
use crate::onnx::Graph;
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

/// A skip connection around `layers`: the block gives `x + layers(x)`, so its layers must keep
/// the shape of `x`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResidualSpec {
    pub layers: Vec<LayerSpec>,
}

/// `model.py`'s residual block, its inner layers under `layers` as in the model file.
const TORCH: &str = r#"class Stack(nn.Module):
    """Layers one after another as one module (a transformer block's residual blocks); `specs`
    are their settings."""

    def __init__(self, layers, specs):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.specs = specs

    def use_padding_mask(self, mask):
        for layer in self.layers:
            if hasattr(layer, "use_padding_mask"):
                layer.use_padding_mask(mask)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class Residual(Stack):
    """x + f(x) for the block's inner layers f, which keep the shape of x."""

    def forward(self, x):
        return x + super().forward(x)


BUILDERS["residual"] = lambda layer, shape, init: (Residual(build(layer["layers"], shape)[0], layer["layers"]), shape)
"#;

impl Kind for ResidualSpec {
    const TORCH: &'static str = TORCH;

    fn entry() -> LayerKind {
        catalogue::layer(
            "residual",
            "x + f(x) around inner layers that keep the shape",
            false,
            vec![],
        )
    }

    fn infer(&self, input: &[usize]) -> Result<Inferred, String> {
        if self.layers.is_empty() {
            return Err("a residual block needs at least one layer".into());
        }
        let (inner, out) = layer_rows(input, &self.layers).map_err(|e| format!("inside the block, {e}"))?;
        if out != input {
            return Err(format!(
                "its layers turn {input:?} into {out:?}, but a residual block must keep the shape to add its input"
            ));
        }
        Ok(Inferred {
            output: input.to_vec(),
            params: inner.iter().fold(0u64, |sum, r| sum.saturating_add(r.params)),
            flops: inner.iter().fold(product(input), |sum, r| sum.saturating_add(r.flops)),
        })
    }

    fn params(&self, input: &[usize]) -> Vec<(String, Vec<usize>)> {
        let mut shapes = Vec::new();
        param_shapes_of("layers.", input, &self.layers, &mut shapes).expect("the block was checked by its summary");
        shapes
    }

    fn build<B: Backend>(&self, b: &B, at: Place, rng: &mut Rng) -> Box<dyn Layer<B>> {
        let inner = ModelSpec {
            input: at.input.to_vec(),
            layers: self.layers.clone(),
        };
        Box::new(Residual::new(super::model::build(b, &inner, rng, at.salt)))
    }

    fn onnx(&self, graph: &mut Graph, name: &str, x: &str, input: &[usize]) -> String {
        let inner = crate::onnx::emit(graph, &format!("{name}.layers."), x.to_string(), input, &self.layers);
        graph.op("Add", name, &[x, &inner], vec![])
    }
}

/// Layers run one after another as one layer: a residual block's inside, a Transformer block.
pub struct Stack<B: Backend> {
    layers: Vec<Box<dyn Layer<B>>>,
}

impl<B: Backend> Stack<B> {
    pub fn new(layers: Vec<Box<dyn Layer<B>>>) -> Self {
        Self { layers }
    }
}

impl<B: Backend> Layer<B> for Stack<B> {
    fn forward(&mut self, b: &B, x: B::Tensor, mode: Mode) -> B::Tensor {
        self.layers.iter_mut().fold(x, |h, layer| layer.forward(b, h, mode))
    }

    fn backward(&mut self, b: &B, dy: B::Tensor, _input_grad: bool) -> Option<B::Tensor> {
        Some(self.layers.iter_mut().rev().fold(dy, |g, layer| {
            layer.backward(b, g, true).expect("inner layers always return dL/dx")
        }))
    }

    fn params(&mut self) -> Vec<&mut Param<B>> {
        self.layers.iter_mut().flat_map(|l| l.params()).collect()
    }

    fn use_padding_mask(&mut self, mask: &B::Tensor) {
        for layer in &mut self.layers {
            layer.use_padding_mask(mask);
        }
    }

    fn attention_weights(&self) -> Vec<B::Tensor> {
        self.layers.iter().flat_map(|l| l.attention_weights()).collect()
    }
}

pub struct Residual<B: Backend> {
    inner: Stack<B>,
}

impl<B: Backend> Residual<B> {
    pub fn new(layers: Vec<Box<dyn Layer<B>>>) -> Self {
        Self {
            inner: Stack::new(layers),
        }
    }
}

impl<B: Backend> Layer<B> for Residual<B> {
    fn forward(&mut self, b: &B, x: B::Tensor, mode: Mode) -> B::Tensor {
        let mut y = self.inner.forward(b, x.clone(), mode);
        b.add_assign(&mut y, &x);
        y
    }

    fn backward(&mut self, b: &B, dy: B::Tensor, _input_grad: bool) -> Option<B::Tensor> {
        let mut dx = self.inner.backward(b, dy.clone(), true).expect("a stack returns dL/dx");
        b.add_assign(&mut dx, &dy);
        Some(dx)
    }

    fn params(&mut self) -> Vec<&mut Param<B>> {
        self.inner.params()
    }

    fn use_padding_mask(&mut self, mask: &B::Tensor) {
        self.inner.use_padding_mask(mask);
    }

    fn attention_weights(&self) -> Vec<B::Tensor> {
        self.inner.attention_weights()
    }
}
