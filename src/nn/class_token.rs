//! The class token: a learned vector put before a sequence's steps (`[steps, dim]` →
//! `[steps + 1, dim]`), which attention lets gather from every token; the classifier then reads
//! its output alone (`first_step`) instead of a mean over the steps, as in BERT and ViT. The
//! token is never padding: the batch's padding mask grows by a 1 before each text's.

use super::spec::{Inferred, Kind, Place};
use super::{Layer, Mode, Param};
use crate::backend::Backend;
use crate::catalogue::{self, LayerKind};
use crate::onnx::{Attr, Graph};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassTokenSpec {}

/// `model.py`'s class token, `weight` `[dim]` as Whetstone's; it hands the later layers the padding
/// mask with the token's place in front.
const TORCH: &str = r#"class ClassToken(nn.Module):
    """x [batch, steps, dim] → [batch, 1 + steps, dim]: a learned vector before the steps."""

    def __init__(self, dim):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(dim))
        self.mask = None

    def use_padding_mask(self, mask):
        self.mask = mask

    def forward(self, x):
        token = self.weight.expand(x.shape[0], 1, -1)
        self.padding_mask = None
        if self.mask is not None:
            self.padding_mask = torch.cat([torch.ones_like(self.mask[:, :1]), self.mask], 1)
            self.mask = None
        return torch.cat([token, x], 1)


BUILDERS["class_token"] = lambda layer, shape, init: (ClassToken(shape[1]), [shape[0] + 1, shape[1]])
"#;

impl Kind for ClassTokenSpec {
    fn entry() -> LayerKind {
        catalogue::layer(
            "class_token",
            "puts a learned token before a sequence's steps; attention gathers into it, and “first step” reads it out",
            true,
            vec![],
        )
    }

    fn infer(&self, input: &[usize]) -> Result<Inferred, String> {
        let &[steps, dim] = input else {
            return Err(format!(
                "takes a sequence of vectors [steps, dim], not {input:?}: put it after an embedding"
            ));
        };
        Ok(Inferred {
            output: vec![steps + 1, dim],
            params: dim as u64,
            flops: 0,
        })
    }

    fn params(&self, input: &[usize]) -> Vec<(String, Vec<usize>)> {
        vec![("weight".into(), vec![input[1]])]
    }

    const TORCH: &'static str = TORCH;

    fn build<B: Backend>(&self, b: &B, at: Place, rng: &mut Rng) -> Box<dyn Layer<B>> {
        let dim = at.input[1];
        let values: Vec<f32> = (0..dim).map(|_| rng.normal()).collect();
        Box::new(ClassToken {
            token: Param::weight(b.upload(&values, &[dim])),
            mask: None,
            grown: None,
        })
    }

    /// The token broadcast to the batch (`Expand` to `[n, 1, dim]`) and concatenated before the
    /// steps; the padding mask, when the graph has one, grows by a column of ones likewise.
    fn onnx(&self, graph: &mut Graph, name: &str, x: &str, input: &[usize]) -> String {
        let (steps, dim) = (input[0] as i64, input[1] as i64);
        let shape = graph.op("Shape", &format!("{name}.shape"), &[x], vec![]);
        let (from, to) = (
            graph.constant(&format!("{name}.from"), &[0]),
            graph.constant(&format!("{name}.to"), &[1]),
        );
        let batch = graph.op("Slice", &format!("{name}.batch"), &[&shape, &from, &to], vec![]);
        let rows = |graph: &mut Graph, what: &str, tail: &[i64]| {
            let tail = graph.constant(&format!("{name}.{what}_tail"), tail);
            graph.op(
                "Concat",
                &format!("{name}.{what}_shape"),
                &[&batch, &tail],
                vec![("axis", Attr::Int(0))],
            )
        };
        let token_shape = rows(graph, "token", &[1, dim]);
        let token = graph.op(
            "Expand",
            &format!("{name}.token"),
            &[&format!("{name}.weight"), &token_shape],
            vec![],
        );
        if let Some((mask, mask_steps)) = graph.padding_mask.clone().filter(|&(_, s)| s as i64 == steps) {
            let one_shape = rows(graph, "one", &[1]);
            let one = graph.floats(&format!("{name}.one"), &[], vec![1.0]);
            let ones = graph.op("Expand", &format!("{name}.ones"), &[&one, &one_shape], vec![]);
            let grown = graph.op(
                "Concat",
                &format!("{name}.mask"),
                &[&ones, &mask],
                vec![("axis", Attr::Int(1))],
            );
            graph.padding_mask = Some((grown, mask_steps + 1));
        }
        graph.op("Concat", name, &[&token, x], vec![("axis", Attr::Int(1))])
    }
}

pub struct ClassToken<B: Backend> {
    token: Param<B>,
    /// The batch's padding mask `[n, steps]` the model told, and the same with the token's place
    /// in front `[n, 1 + steps]`, which the later layers are told.
    mask: Option<B::Tensor>,
    grown: Option<B::Tensor>,
}

impl<B: Backend> Layer<B> for ClassToken<B> {
    /// Time-major, putting the token first is a concatenation: `[steps, n, dim]` after `[n, dim]`.
    fn forward(&mut self, b: &B, x: B::Tensor, _mode: Mode) -> B::Tensor {
        let [n, steps, dim] = B::shape(&x)[..] else {
            unreachable!("the spec checked a sequence")
        };
        let ones = b.upload(&vec![1.0; n], &[n, 1]);
        let tokens = b.matmul(&ones, &b.reshape(&self.token.value, &[1, dim]), false, false);
        let joined = b.concat(&[&tokens, &b.swap_leading(&x)]);
        self.grown = self.mask.take().map(|m| {
            let joined = b.concat(&[&ones, &b.swap_leading(&b.reshape(&m, &[n, steps, 1]))]);
            b.reshape(
                &b.swap_leading(&b.reshape(&joined, &[steps + 1, n, 1])),
                &[n, steps + 1],
            )
        });
        b.swap_leading(&b.reshape(&joined, &[steps + 1, n, dim]))
    }

    fn backward(&mut self, b: &B, dy: B::Tensor, _input_grad: bool) -> Option<B::Tensor> {
        let [n, steps, dim] = B::shape(&dy)[..] else {
            unreachable!("the forward pass gave a sequence")
        };
        let rows = b.reshape(&b.swap_leading(&dy), &[steps, n * dim]);
        let first = b.reshape(&b.gather_rows(&rows, &[0]), &[n, dim]);
        self.token.grad = Some(b.bias_grad(&first));
        let rest: Vec<u32> = (1..steps as u32).collect();
        let dx = b.reshape(&b.gather_rows(&rows, &rest), &[steps - 1, n, dim]);
        Some(b.swap_leading(&dx))
    }

    fn params(&mut self) -> Vec<&mut Param<B>> {
        vec![&mut self.token]
    }

    fn use_padding_mask(&mut self, mask: &B::Tensor) {
        self.mask = Some(mask.clone());
    }

    fn padding_mask(&self, _b: &B) -> Option<B::Tensor> {
        self.grown.clone()
    }
}

#[cfg(test)]
mod tests {
    use crate::backend::cpu::Cpu;
    use crate::backend::{ready, Backend};
    use crate::nn::{Mode, Model, ModelSpec};

    /// A text padded to 4 or to 6 steps reads the same: the attention after the class token is
    /// told the mask grown by the token's place, so the padding stays out.
    #[test]
    fn the_padding_mask_reaches_past_the_class_token() {
        let read = |steps: usize, ids: &[f32]| {
            let spec = format!(
                r#"{{"input":[{steps}],"layers":[{{"type":"embedding","vocab":5,"dim":4}},{{"type":"class_token"}},{{"type":"multi_head_attention","heads":2}},{{"type":"first_step"}},{{"type":"dense","units":2}}]}}"#
            );
            let mut m = Model::new(&Cpu, ModelSpec::from_json(&spec).unwrap(), 3).unwrap();
            ready(Cpu.read(&m.forward(&Cpu, Cpu.upload(ids, &[1, steps]), Mode::Eval))).unwrap()
        };
        let short = read(4, &[1.0, 3.0, 0.0, 0.0]);
        let long = read(6, &[1.0, 3.0, 0.0, 0.0, 0.0, 0.0]);
        assert!(
            short.iter().zip(&long).all(|(a, b)| (a - b).abs() < 1e-6),
            "{short:?} vs {long:?}"
        );
        let other = read(4, &[1.0, 3.0, 4.0, 0.0]);
        assert!(
            short.iter().zip(&other).any(|(a, b)| (a - b).abs() > 1e-4),
            "a token more changes the output"
        );
    }
}
