//! Mean pooling over steps: a sequence `[steps, dim]` becomes one vector `[dim]`, the mean of its
//! steps — over its tokens only when the batch has padding (the model tells the layer the padding
//! mask its embedding found). What a text classifier reads its class from.

use super::spec::{product, Inferred, Kind, Place};
use super::{Layer, Mode};
use crate::backend::Backend;
use crate::catalogue::{self, LayerKind};
use crate::onnx::{Attr, Graph};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeanPoolSpec {}

/// `model.py`'s mean over steps, told the padding mask as Whetstone's layer is.
const TORCH: &str = r#"class MeanPool(nn.Module):
    """x [batch, steps, dim] → the mean over the steps [batch, dim]; over the tokens only when
    the model tells it the padding mask [batch, steps]."""

    def __init__(self):
        super().__init__()
        self.mask = None

    def use_padding_mask(self, mask):
        self.mask = mask

    def forward(self, x):
        if self.mask is None:
            return x.mean(1)
        return (x * self.mask.unsqueeze(-1)).sum(1) / self.mask.sum(1, keepdim=True).clamp(min=1)


BUILDERS["mean_pool"] = lambda layer, shape, init: (MeanPool(), [shape[1]])
"#;

impl Kind for MeanPoolSpec {
    fn entry() -> LayerKind {
        catalogue::layer(
            "mean_pool",
            "averages a sequence's steps into one vector (leaving padding out): what a text classifier reads",
            false,
            vec![],
        )
    }

    fn infer(&self, input: &[usize]) -> Result<Inferred, String> {
        let &[_, dim] = input else {
            return Err(format!("averages a sequence [steps, dim], not {input:?}"));
        };
        Ok(Inferred {
            output: vec![dim],
            params: 0,
            flops: product(input),
        })
    }

    const TORCH: &'static str = TORCH;

    fn build<B: Backend>(&self, _: &B, at: Place, _: &mut Rng) -> Box<dyn Layer<B>> {
        Box::new(MeanPool::<B> {
            steps: at.input[0],
            mask: None,
        })
    }

    /// `ReduceMean` over the steps; with the padding mask the embedding left in the graph, the
    /// masked sum over the count of tokens (at least 1).
    fn onnx(&self, graph: &mut Graph, name: &str, x: &str, _: &[usize]) -> String {
        let Some((mask, _)) = graph.padding_mask.clone() else {
            let axes = vec![("axes", Attr::Ints(vec![1])), ("keepdims", Attr::Int(0))];
            return graph.op("ReduceMean", name, &[x], axes);
        };
        let last = graph.constant(&format!("{name}.last"), &[-1]);
        let rows = graph.op("Unsqueeze", &format!("{name}.mask_rows"), &[&mask, &last], vec![]);
        let kept = graph.op("Mul", &format!("{name}.kept"), &[x, &rows], vec![]);
        let steps = graph.constant(&format!("{name}.steps"), &[1]);
        let sum = graph.op(
            "ReduceSum",
            &format!("{name}.sum"),
            &[&kept, &steps],
            vec![("keepdims", Attr::Int(0))],
        );
        let count = graph.op(
            "ReduceSum",
            &format!("{name}.count"),
            &[&mask, &steps],
            vec![("keepdims", Attr::Int(1))],
        );
        let one = graph.floats(&format!("{name}.one"), &[], vec![1.0]);
        let count = graph.op("Max", &format!("{name}.at_least_one"), &[&count, &one], vec![]);
        graph.op("Div", name, &[&sum, &count], vec![])
    }
}

pub struct MeanPool<B: Backend> {
    steps: usize,
    mask: Option<B::Tensor>,
}

impl<B: Backend> Layer<B> for MeanPool<B> {
    fn forward(&mut self, b: &B, x: B::Tensor, _mode: Mode) -> B::Tensor {
        b.mean_steps(&x, self.mask.as_ref())
    }

    fn backward(&mut self, b: &B, dy: B::Tensor, _input_grad: bool) -> Option<B::Tensor> {
        Some(b.mean_steps_backward(&dy, self.mask.as_ref(), self.steps))
    }

    fn use_padding_mask(&mut self, mask: &B::Tensor) {
        self.mask = Some(mask.clone());
    }
}

#[cfg(test)]
mod tests {
    use crate::backend::cpu::Cpu;
    use crate::backend::{ready, Backend};
    use crate::nn::{Mode, Model, ModelSpec};

    #[test]
    fn padding_is_left_out_of_the_mean_and_a_text_of_padding_alone_gives_zeros() {
        let spec = r#"{"input":[3],"layers":[{"type":"embedding","vocab":4,"dim":2},{"type":"mean_pool"}]}"#;
        let mut m = Model::new(&Cpu, ModelSpec::from_json(spec).unwrap(), 1).unwrap();
        let table = ready(Cpu.read(&m.params()[0].value)).unwrap();
        let ids = Cpu.upload(&[1.0, 3.0, 0.0, 0.0, 0.0, 0.0, 2.0, 2.0, 2.0], &[3, 3]);
        let y = ready(Cpu.read(&m.forward(&Cpu, ids, Mode::Eval))).unwrap();
        let mean = |a: usize, b: usize, d: usize| (table[2 * a + d] + table[2 * b + d]) / 2.0;
        let want = [mean(1, 3, 0), mean(1, 3, 1), 0.0, 0.0, table[4], table[5]];
        assert!(
            y.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-6),
            "{y:?} vs {want:?}"
        );
    }

    #[test]
    fn after_a_layer_that_changes_the_steps_the_mean_is_over_every_step() {
        let spec = r#"{"input":[4],"layers":[{"type":"embedding","vocab":4,"dim":2},{"type":"reshape","shape":[2,4]},{"type":"mean_pool"}]}"#;
        let mut m = Model::new(&Cpu, ModelSpec::from_json(spec).unwrap(), 1).unwrap();
        let table = ready(Cpu.read(&m.params()[0].value)).unwrap();
        // Tokens 1, 2 then padding: the rows [t1, t2] and [0, 0], averaged as they are.
        let y = ready(Cpu.read(&m.forward(&Cpu, Cpu.upload(&[1.0, 2.0, 0.0, 0.0], &[1, 4]), Mode::Eval))).unwrap();
        let want: Vec<f32> = (0..4).map(|d| table[2 + d] / 2.0).collect();
        assert!(
            y.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-6),
            "{y:?} vs {want:?}"
        );
    }
}
