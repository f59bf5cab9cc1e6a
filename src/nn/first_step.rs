//! The first step of a sequence: `[steps, dim]` → `[dim]`. After a class token and attention, the
//! token's output, which has gathered from every step: what a classifier reads instead of the mean.

use super::spec::{Inferred, Kind, Place};
use super::{Layer, Mode};
use crate::backend::Backend;
use crate::catalogue::{self, LayerKind};
use crate::onnx::{Attr, Graph};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirstStepSpec {}

const TORCH: &str = r#"class FirstStep(nn.Module):
    """x [batch, steps, dim] → its first step [batch, dim]: a class token's output."""

    def forward(self, x):
        return x[:, 0]


BUILDERS["first_step"] = lambda layer, shape, init: (FirstStep(), [shape[1]])
"#;

impl Kind for FirstStepSpec {
    fn entry() -> LayerKind {
        catalogue::layer(
            "first_step",
            "keeps a sequence's first step: after a class token and attention, what the token gathered",
            false,
            vec![],
        )
    }

    fn infer(&self, input: &[usize]) -> Result<Inferred, String> {
        let &[_, dim] = input else {
            return Err(format!("takes a sequence [steps, dim], not {input:?}"));
        };
        Ok(Inferred {
            output: vec![dim],
            params: 0,
            flops: 0,
        })
    }

    const TORCH: &'static str = TORCH;

    fn build<B: Backend>(&self, _: &B, at: Place, _: &mut Rng) -> Box<dyn Layer<B>> {
        Box::new(FirstStep { steps: at.input[0] })
    }

    /// `Gather` of step 0 (`[n, 1, dim]`), the step axis squeezed out.
    fn onnx(&self, graph: &mut Graph, name: &str, x: &str, _: &[usize]) -> String {
        let first = graph.constant(&format!("{name}.first"), &[0]);
        let kept = graph.op(
            "Gather",
            &format!("{name}.gather"),
            &[x, &first],
            vec![("axis", Attr::Int(1))],
        );
        let axis = graph.constant(&format!("{name}.axis"), &[1]);
        graph.op("Squeeze", name, &[&kept, &axis], vec![])
    }
}

pub struct FirstStep {
    steps: usize,
}

impl<B: Backend> Layer<B> for FirstStep {
    /// Time-major, the first step is the first row: `[steps, n·dim]`, row 0.
    fn forward(&mut self, b: &B, x: B::Tensor, _mode: Mode) -> B::Tensor {
        let [n, steps, dim] = B::shape(&x)[..] else {
            unreachable!("the spec checked a sequence")
        };
        let rows = b.reshape(&b.swap_leading(&x), &[steps, n * dim]);
        b.reshape(&b.gather_rows(&rows, &[0]), &[n, dim])
    }

    /// The gradient is the output's at step 0, zero at the others.
    fn backward(&mut self, b: &B, dy: B::Tensor, _input_grad: bool) -> Option<B::Tensor> {
        let [n, dim] = B::shape(&dy)[..] else {
            unreachable!("the forward pass gave vectors")
        };
        let rest = b.zeros(&[(self.steps - 1) * n * dim]);
        let joined = b.concat(&[&dy, &rest]);
        Some(b.swap_leading(&b.reshape(&joined, &[self.steps, n, dim])))
    }
}
