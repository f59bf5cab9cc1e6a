//! Fully connected layer: y = x·W + b, on a flat input `[inputs]` or on each step of a sequence
//! `[steps, inputs]` (a Transformer's feed-forward part).

use super::spec::{product, Inferred, Kind, Place};
use super::{init, Init, Layer, Mode, Param};
use crate::backend::Backend;
use crate::catalogue::{self, LayerKind};
use crate::onnx::Graph;
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenseSpec {
    pub units: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<Init>,
}

/// `model.py`'s dense layer: the weight stored `[inputs, units]`, as Whetstone stores it.
const TORCH: &str = r#"class Dense(nn.Module):
    """y = x·W + b, with W stored [inputs, units]."""

    def __init__(self, inputs, units, init):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(inputs, units))
        self.bias = nn.Parameter(torch.zeros(units))
        initialise(self.weight, init, inputs, units)

    def forward(self, x):
        if x.dim() == 2:
            return torch.addmm(self.bias, x, self.weight)
        return x @ self.weight + self.bias


def build_dense(layer, shape, init):
    return Dense(shape[-1], layer["units"], layer.get("init", init)), [*shape[:-1], layer["units"]]


BUILDERS["dense"] = build_dense
"#;

impl Kind for DenseSpec {
    fn entry() -> LayerKind {
        catalogue::layer(
            "dense",
            "a fully connected layer: y = x·W + b",
            true,
            vec![catalogue::units(16)],
        )
    }

    fn sizes(&self) -> Vec<(&'static str, usize)> {
        vec![("units", self.units)]
    }

    fn infer(&self, input: &[usize]) -> Result<Inferred, String> {
        let (&[inputs] | &[_, inputs]) = input else {
            return Err(format!(
                "needs a flat input [inputs] or a sequence [steps, inputs], but gets {input:?}; add a flatten layer before it"
            ));
        };
        if self.units == 0 {
            return Err("units must be at least 1".into());
        }
        let mut output = input.to_vec();
        *output.last_mut().expect("the input has an axis") = self.units;
        Ok(Inferred {
            output,
            params: product(&[inputs, self.units]) + self.units as u64,
            flops: 2 * product(input) * self.units as u64,
        })
    }

    fn params(&self, input: &[usize]) -> Vec<(String, Vec<usize>)> {
        vec![
            ("weight".into(), vec![input[input.len() - 1], self.units]),
            ("bias".into(), vec![self.units]),
        ]
    }

    fn init(&self) -> Option<Init> {
        self.init
    }

    const TORCH: &'static str = TORCH;

    fn build<B: Backend>(&self, b: &B, at: Place, rng: &mut Rng) -> Box<dyn Layer<B>> {
        Box::new(Dense::new(b, at.input[at.input.len() - 1], self.units, at.init, rng))
    }

    /// `Gemm` on a flat input; on a sequence, `MatMul` then `Add` (`Gemm` takes matrices only).
    fn onnx(&self, graph: &mut Graph, name: &str, x: &str, input: &[usize]) -> String {
        let (w, b) = (format!("{name}.weight"), format!("{name}.bias"));
        if input.len() == 1 {
            return graph.op("Gemm", name, &[x, &w, &b], vec![]);
        }
        let product = graph.op("MatMul", &format!("{name}.product"), &[x, &w], vec![]);
        graph.op("Add", name, &[&product, &b], vec![])
    }
}

pub struct Dense<B: Backend> {
    pub weight: Param<B>,
    pub bias: Param<B>,
    /// The input as rows, and its shape.
    input: Option<(B::Tensor, Vec<usize>)>,
}

impl<B: Backend> Dense<B> {
    /// # Shapes
    /// weight `[inputs, units]`, bias `[units]`; forward `[n, inputs]` → `[n, units]`, or
    /// `[n, steps, inputs]` → `[n, steps, units]`.
    pub fn new(b: &B, inputs: usize, units: usize, init: Init, rng: &mut Rng) -> Self {
        let w = init::weights(init, inputs * units, inputs, units, rng);
        Self {
            weight: Param::weight(b.upload(&w, &[inputs, units])),
            bias: Param::bias(b.zeros(&[units])),
            input: None,
        }
    }
}

/// `x` as rows of its last axis: `[n, steps, f]` → `[n · steps, f]`.
fn rows<B: Backend>(b: &B, x: &B::Tensor) -> B::Tensor {
    let shape = B::shape(x);
    if shape.len() == 2 {
        return x.clone();
    }
    let width = shape[shape.len() - 1];
    b.reshape(x, &[shape.iter().product::<usize>() / width, width])
}

/// `rows` back to `shape` with its last axis `width` wide.
fn unrows<B: Backend>(b: &B, rows: B::Tensor, shape: &[usize], width: usize) -> B::Tensor {
    if shape.len() == 2 {
        return rows;
    }
    let mut out = shape.to_vec();
    *out.last_mut().expect("a shape has axes") = width;
    b.reshape(&rows, &out)
}

impl<B: Backend> Layer<B> for Dense<B> {
    fn forward(&mut self, b: &B, x: B::Tensor, _mode: Mode) -> B::Tensor {
        let shape = B::shape(&x);
        let x = rows(b, &x);
        let y = b.dense(&x, &self.weight.value, &self.bias.value);
        let units = B::shape(&self.bias.value)[0];
        self.input = Some((x, shape.clone()));
        unrows(b, y, &shape, units)
    }

    /// dW = xᵀ·dy, db = Σₙ dy, dx = dy·Wᵀ (over every step of a sequence).
    fn backward(&mut self, b: &B, dy: B::Tensor, input_grad: bool) -> Option<B::Tensor> {
        let (x, shape) = self.input.take().expect("dense backward before forward");
        let dy = rows(b, &dy);
        self.weight.grad = Some(b.matmul(&x, &dy, true, false));
        self.bias.grad = Some(b.bias_grad(&dy));
        input_grad.then(|| {
            unrows(
                b,
                b.matmul(&dy, &self.weight.value, false, true),
                &shape,
                shape[shape.len() - 1],
            )
        })
    }

    fn params(&mut self) -> Vec<&mut Param<B>> {
        vec![&mut self.weight, &mut self.bias]
    }
}
