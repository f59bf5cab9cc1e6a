//! Fully connected layer: y = x·W + b.

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
        return torch.addmm(self.bias, x, self.weight)


def build_dense(layer, shape, init):
    return Dense(shape[0], layer["units"], layer.get("init", init)), [layer["units"]]


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
        let &[inputs] = input else {
            return Err(format!(
                "needs a flat input but gets {input:?}; add a flatten layer before it"
            ));
        };
        if self.units == 0 {
            return Err("units must be at least 1".into());
        }
        Ok(Inferred {
            output: vec![self.units],
            params: product(&[inputs, self.units]) + self.units as u64,
            flops: product(&[2, inputs, self.units]),
        })
    }

    fn params(&self, input: &[usize]) -> Vec<(String, Vec<usize>)> {
        vec![
            ("weight".into(), vec![input[0], self.units]),
            ("bias".into(), vec![self.units]),
        ]
    }

    fn init(&self) -> Option<Init> {
        self.init
    }

    const TORCH: &'static str = TORCH;

    fn build<B: Backend>(&self, b: &B, at: Place, rng: &mut Rng) -> Box<dyn Layer<B>> {
        Box::new(Dense::new(b, at.input[0], self.units, at.init, rng))
    }

    fn onnx(&self, graph: &mut Graph, name: &str, x: &str, _: &[usize]) -> String {
        let (w, b) = (format!("{name}.weight"), format!("{name}.bias"));
        graph.op("Gemm", name, &[x, &w, &b], vec![])
    }
}

pub struct Dense<B: Backend> {
    pub weight: Param<B>,
    pub bias: Param<B>,
    input: Option<B::Tensor>,
}

impl<B: Backend> Dense<B> {
    /// # Shapes
    /// weight `[inputs, units]`, bias `[units]`; forward `[n, inputs]` → `[n, units]`.
    pub fn new(b: &B, inputs: usize, units: usize, init: Init, rng: &mut Rng) -> Self {
        let w = init::weights(init, inputs * units, inputs, units, rng);
        Self {
            weight: Param::weight(b.upload(&w, &[inputs, units])),
            bias: Param::bias(b.zeros(&[units])),
            input: None,
        }
    }
}

impl<B: Backend> Layer<B> for Dense<B> {
    fn forward(&mut self, b: &B, x: B::Tensor, _mode: Mode) -> B::Tensor {
        let y = b.dense(&x, &self.weight.value, &self.bias.value);
        self.input = Some(x);
        y
    }

    /// dW = xᵀ·dy, db = Σₙ dy, dx = dy·Wᵀ
    fn backward(&mut self, b: &B, dy: B::Tensor, input_grad: bool) -> Option<B::Tensor> {
        let x = self.input.take().expect("dense backward before forward");
        self.weight.grad = Some(b.matmul(&x, &dy, true, false));
        self.bias.grad = Some(b.bias_grad(&dy));
        input_grad.then(|| b.matmul(&dy, &self.weight.value, false, true))
    }

    fn params(&mut self) -> Vec<&mut Param<B>> {
        vec![&mut self.weight, &mut self.bias]
    }
}
