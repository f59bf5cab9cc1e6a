//! Element-wise activation layers (ReLU, leaky ReLU, tanh, sigmoid, GELU).

use super::spec::{elementwise, Inferred, Kind, Place};
use super::{Layer, Mode};
use crate::backend::{Activation, Backend, GELU_CUBIC, GELU_SCALE};
use crate::catalogue::{self, number, LayerKind};
use crate::onnx::{Attr, Graph};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

/// An activation without settings: its struct, named `$name` in the catalogue with `$doc`; `$f`
/// on a backend, `$onnx` (the graph, the layer's name, its input) as its ONNX nodes and `$torch`
/// as its PyTorch module.
macro_rules! activation {
    ($spec:ident, $name:literal, $doc:literal, rectifier: $rectifier:literal, $f:expr, $onnx:expr, torch: $torch:literal) => {
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $spec {}

        impl Kind for $spec {
            fn entry() -> LayerKind {
                catalogue::layer($name, $doc, false, vec![])
            }

            fn infer(&self, input: &[usize]) -> Result<Inferred, String> {
                Ok(elementwise(input))
            }

            const RECTIFIER: bool = $rectifier;
            const TORCH: &'static str = concat!(
                "BUILDERS[\"",
                $name,
                "\"] = lambda layer, shape, init: (",
                $torch,
                ", shape)\n"
            );

            fn build<B: Backend>(&self, _: &B, _: Place, _: &mut Rng) -> Box<dyn Layer<B>> {
                Box::new(ActivationLayer::new($f))
            }

            fn onnx(&self, graph: &mut Graph, name: &str, x: &str, _: &[usize]) -> String {
                let emit: fn(&mut Graph, &str, &str) -> String = $onnx;
                emit(graph, name, x)
            }
        }
    };
}

activation!(ReluSpec, "relu", "max(x, 0)", rectifier: true, Activation::Relu, |g, name, x| g.op(
    "Relu",
    name,
    &[x],
    vec![]
), torch: "nn.ReLU()");
activation!(TanhSpec, "tanh", "the hyperbolic tangent", rectifier: false, Activation::Tanh, |g, name, x| g.op(
    "Tanh",
    name,
    &[x],
    vec![]
), torch: "nn.Tanh()");
activation!(SigmoidSpec, "sigmoid", "1 / (1 + e^−x)", rectifier: false, Activation::Sigmoid, |g, name, x| g.op(
    "Sigmoid",
    name,
    &[x],
    vec![]
), torch: "nn.Sigmoid()");
activation!(
    GeluSpec,
    "gelu",
    "x·Φ(x), the Gaussian error linear unit (tanh form)",
    rectifier: false,
    Activation::Gelu,
    gelu_onnx,
    torch: "nn.GELU(approximate=\"tanh\")"
);

/// Opset 13 has no Gelu: ½·x·(1 + tanh(s·(x + c·x³))), node by node.
fn gelu_onnx(graph: &mut Graph, name: &str, x: &str) -> String {
    let scalar = |graph: &mut Graph, part: &str, v: f32| graph.floats(&format!("{name}.{part}"), &[], vec![v]);
    let (cubic, scale) = (scalar(graph, "cubic", GELU_CUBIC), scalar(graph, "scale", GELU_SCALE));
    let (one, half) = (scalar(graph, "one", 1.0), scalar(graph, "half", 0.5));
    let x2 = graph.op("Mul", &format!("{name}.x2"), &[x, x], vec![]);
    let x3 = graph.op("Mul", &format!("{name}.x3"), &[&x2, x], vec![]);
    let cx3 = graph.op("Mul", &format!("{name}.cx3"), &[&cubic, &x3], vec![]);
    let inner = graph.op("Add", &format!("{name}.inner"), &[x, &cx3], vec![]);
    let scaled = graph.op("Mul", &format!("{name}.scaled"), &[&scale, &inner], vec![]);
    let t = graph.op("Tanh", &format!("{name}.tanh"), &[&scaled], vec![]);
    let gate = graph.op("Add", &format!("{name}.gate"), &[&one, &t], vec![]);
    let half_x = graph.op("Mul", &format!("{name}.half_x"), &[&half, x], vec![]);
    graph.op("Mul", name, &[&half_x, &gate], vec![])
}

/// Leaky ReLU: `max(x, α·x)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeakyReluSpec {
    #[serde(default = "leaky_default")]
    pub alpha: f32,
}

fn leaky_default() -> f32 {
    0.01
}

impl Kind for LeakyReluSpec {
    fn entry() -> LayerKind {
        catalogue::layer(
            "leaky_relu",
            "max(x, α·x)",
            false,
            vec![number("alpha", "α", 0.01, "slope below zero").range(0.0, None)],
        )
    }

    fn infer(&self, input: &[usize]) -> Result<Inferred, String> {
        Ok(elementwise(input))
    }

    const RECTIFIER: bool = true;
    const TORCH: &'static str =
        "BUILDERS[\"leaky_relu\"] = lambda layer, shape, init: (nn.LeakyReLU(layer[\"alpha\"]), shape)\n";

    fn build<B: Backend>(&self, _: &B, _: Place, _: &mut Rng) -> Box<dyn Layer<B>> {
        Box::new(ActivationLayer::new(Activation::LeakyRelu(self.alpha)))
    }

    fn onnx(&self, graph: &mut Graph, name: &str, x: &str, _: &[usize]) -> String {
        graph.op("LeakyRelu", name, &[x], vec![("alpha", Attr::Float(self.alpha))])
    }
}

pub struct ActivationLayer<B: Backend> {
    f: Activation,
    cache: Option<(B::Tensor, B::Tensor)>,
}

impl<B: Backend> ActivationLayer<B> {
    pub fn new(f: Activation) -> Self {
        Self { f, cache: None }
    }
}

impl<B: Backend> Layer<B> for ActivationLayer<B> {
    fn forward(&mut self, b: &B, x: B::Tensor, _mode: Mode) -> B::Tensor {
        let y = b.activation(&x, self.f);
        self.cache = Some((x, y.clone()));
        y
    }

    fn backward(&mut self, b: &B, dy: B::Tensor, _input_grad: bool) -> Option<B::Tensor> {
        let (x, y) = self.cache.take().expect("activation backward before forward");
        Some(b.activation_backward(&x, &y, &dy, self.f))
    }
}
