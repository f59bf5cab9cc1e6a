//! Token embedding: each token id of a sequence `[steps]` becomes a learned vector, `[steps,
//! dim]`. Token 0 is padding unless the settings say not: its vector is zero and learns nothing, so
//! the padding that evens out short texts adds nothing. It takes the model's input (ids are not
//! differentiable), so it is the first layer.

use super::spec::{product, Inferred, Kind, Place};
use super::{Layer, Mode, Param};
use crate::backend::Backend;
use crate::catalogue::{self, Field, FieldKind, LayerKind};
use crate::onnx::{Attr, Graph};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingSpec {
    /// Token ids run from 0 to `vocab − 1`.
    pub vocab: usize,
    /// The length of each token's vector.
    pub dim: usize,
    /// Token 0 is padding: a zero vector that learns nothing.
    #[serde(default = "padding_by_default")]
    pub padding: bool,
}

fn padding_by_default() -> bool {
    true
}

/// `model.py`'s embedding: the table `[vocab, dim]` named `weight`, as Whetstone's; ids come as
/// floats, as Whetstone's samples hold them. An id outside the table gives zeros.
const TORCH: &str = r#"class Embedding(nn.Module):
    """Rows of a [vocab, dim] table picked by token ids (floats holding whole numbers); token 0 is
    padding (a zero row that learns nothing) when `padding`."""

    def __init__(self, vocab, dim, padding):
        super().__init__()
        self.padding = padding
        self.weight = nn.Parameter(torch.randn(vocab, dim))
        if padding:
            with torch.no_grad():
                self.weight[0].zero_()

    def forward(self, x):
        vocab = self.weight.shape[0]
        valid = (x >= 0) & (x < vocab) & (x == x.floor())
        if self.padding:
            valid &= x != 0
        ids = torch.where(valid, x, torch.zeros_like(x)).long()
        # The layers after it that pool or attend over steps leave padding out (Model.forward).
        self.padding_mask = valid.to(self.weight.dtype) if self.padding else None
        return nn.functional.embedding(ids, self.weight) * valid.unsqueeze(-1).to(self.weight.dtype)


def build_embedding(layer, shape, init):
    return Embedding(layer["vocab"], layer["dim"], layer.get("padding", True)), [shape[0], layer["dim"]]


BUILDERS["embedding"] = build_embedding
"#;

impl Kind for EmbeddingSpec {
    fn entry() -> LayerKind {
        catalogue::layer(
            "embedding",
            "turns each token id of a text into a learned vector (the first layer of a text model)",
            true,
            vec![
                catalogue::integer("vocab", "Vocabulary", 64, 1.0, "how many token ids there are"),
                catalogue::integer("dim", "Vector size", 32, 1.0, "the length of each token's vector"),
                Field::new(
                    "padding",
                    "Token 0 is padding",
                    FieldKind::Boolean,
                    json!(true),
                    "token 0 evens out short texts: its vector is zero and learns nothing",
                ),
            ],
        )
    }

    fn sizes(&self) -> Vec<(&'static str, usize)> {
        vec![("vocab", self.vocab), ("dim", self.dim)]
    }

    const TAKES_TOKENS: bool = true;

    fn infer(&self, input: &[usize]) -> Result<Inferred, String> {
        let &[steps] = input else {
            return Err(format!(
                "takes a sequence of token ids [steps], not {input:?}: a text's tokens, as a text data set gives them"
            ));
        };
        if self.vocab == 0 || self.dim == 0 {
            return Err("the vocabulary and the vector size must be at least 1".into());
        }
        Ok(Inferred {
            output: vec![steps, self.dim],
            params: product(&[self.vocab, self.dim]),
            // A row copied per token: no arithmetic.
            flops: 0,
        })
    }

    fn params(&self, _input: &[usize]) -> Vec<(String, Vec<usize>)> {
        vec![("weight".into(), vec![self.vocab, self.dim])]
    }

    const TORCH: &'static str = TORCH;

    fn build<B: Backend>(&self, b: &B, _at: Place, rng: &mut Rng) -> Box<dyn Layer<B>> {
        Box::new(Embedding::new(b, self.vocab, self.dim, self.padding, rng))
    }

    /// The ids cast to integers pick the table's rows (`Gather`); an id outside the table, or the
    /// padding id, gives zeros as it does here (a mask on the rows).
    fn onnx(&self, graph: &mut Graph, name: &str, x: &str, input: &[usize]) -> String {
        let scalar = |graph: &mut Graph, part: &str, v: f32| graph.floats(&format!("{name}.{part}"), &[], vec![v]);
        let zero = scalar(graph, "zero", 0.0);
        let top = scalar(graph, "vocab", self.vocab as f32);
        let floor = graph.op("Floor", &format!("{name}.floor"), &[x], vec![]);
        let whole = graph.op("Equal", &format!("{name}.whole"), &[x, &floor], vec![]);
        let below = graph.op("Less", &format!("{name}.below"), &[x, &top], vec![]);
        let negative = graph.op("Less", &format!("{name}.negative"), &[x, &zero], vec![]);
        let from_zero = graph.op("Not", &format!("{name}.from_zero"), &[&negative], vec![]);
        let in_table = graph.op("And", &format!("{name}.in_table"), &[&whole, &below], vec![]);
        let mut valid = graph.op("And", &format!("{name}.valid"), &[&in_table, &from_zero], vec![]);
        if self.padding {
            let is_padding = graph.op("Equal", &format!("{name}.is_padding"), &[x, &zero], vec![]);
            let not_padding = graph.op("Not", &format!("{name}.not_padding"), &[&is_padding], vec![]);
            valid = graph.op("And", &format!("{name}.kept"), &[&valid, &not_padding], vec![]);
        }
        let safe = graph.op("Where", &format!("{name}.safe"), &[&valid, x, &zero], vec![]);
        let ids = graph.op("Cast", &format!("{name}.ids"), &[&safe], vec![("to", Attr::Int(7))]);
        let rows = graph.op(
            "Gather",
            &format!("{name}.rows"),
            &[&format!("{name}.weight"), &ids],
            vec![("axis", Attr::Int(0))],
        );
        let mask = graph.op("Cast", &format!("{name}.mask"), &[&valid], vec![("to", Attr::Int(1))]);
        if self.padding {
            graph.padding_mask = Some((mask.clone(), input[0]));
        }
        let axes = graph.constant(&format!("{name}.last"), &[-1]);
        let mask = graph.op("Unsqueeze", &format!("{name}.mask_rows"), &[&mask, &axes], vec![]);
        graph.op("Mul", name, &[&rows, &mask], vec![])
    }
}

pub struct Embedding<B: Backend> {
    pub table: Param<B>,
    vocab: usize,
    padding: bool,
    /// A `[vocab, 1]` table of ones: embedding the ids by it gives the padding mask.
    ones: Option<B::Tensor>,
    ids: Option<B::Tensor>,
}

impl<B: Backend> Embedding<B> {
    /// The table `[vocab, dim]` drawn from N(0, 1), the padding row zero.
    pub fn new(b: &B, vocab: usize, dim: usize, padding: bool, rng: &mut Rng) -> Self {
        let mut table: Vec<f32> = (0..vocab * dim).map(|_| rng.normal()).collect();
        if padding {
            table[..dim].fill(0.0);
        }
        Self {
            table: Param::weight(b.upload(&table, &[vocab, dim])),
            vocab,
            padding,
            ones: padding.then(|| b.upload(&vec![1.0; vocab], &[vocab, 1])),
            ids: None,
        }
    }
}

impl<B: Backend> Layer<B> for Embedding<B> {
    fn forward(&mut self, b: &B, ids: B::Tensor, _mode: Mode) -> B::Tensor {
        let y = b.embedding(&ids, &self.table.value, self.padding);
        self.ids = Some(ids);
        y
    }

    /// The table's gradient only: token ids have none.
    fn backward(&mut self, b: &B, dy: B::Tensor, _input_grad: bool) -> Option<B::Tensor> {
        let ids = self.ids.take().expect("embedding backward before forward");
        self.table.grad = Some(b.embedding_backward(&ids, &dy, self.vocab, self.padding));
        None
    }

    fn params(&mut self) -> Vec<&mut Param<B>> {
        vec![&mut self.table]
    }

    /// 1 where the batch's id is a token of the table, 0 for padding (and ids outside it).
    fn padding_mask(&self, b: &B) -> Option<B::Tensor> {
        let (ones, ids) = (self.ones.as_ref()?, self.ids.as_ref()?);
        Some(b.reshape(&b.embedding(ids, ones, true), &B::shape(ids)))
    }
}

#[cfg(test)]
mod tests {
    use crate::backend::cpu::Cpu;
    use crate::backend::{ready, Backend};
    use crate::nn::{Mode, Model, ModelSpec};

    fn model(padding: bool) -> Model<Cpu> {
        let spec = format!(
            r#"{{"input":[4],"layers":[{{"type":"embedding","vocab":5,"dim":2,"padding":{padding}}},{{"type":"flatten"}}]}}"#
        );
        Model::new(&Cpu, ModelSpec::from_json(&spec).unwrap(), 3).unwrap()
    }

    #[test]
    fn each_id_picks_its_row_and_padding_or_a_bad_id_gives_zeros() {
        let mut m = model(true);
        let table = ready(Cpu.read(&m.params()[0].value)).unwrap();
        assert_eq!(&table[..2], &[0.0, 0.0], "the padding row starts at zero");
        let ids = Cpu.upload(&[3.0, 0.0, 7.0, 1.5, 1.0, 4.0, -1.0, 3.0], &[2, 4]);
        let y = ready(Cpu.read(&m.forward(&Cpu, ids.clone(), Mode::Eval))).unwrap();
        let row = |t: usize| table[2 * t..2 * t + 2].to_vec();
        let want = [
            row(3),
            vec![0.0; 2],
            vec![0.0; 2],
            vec![0.0; 2],
            row(1),
            row(4),
            vec![0.0; 2],
            row(3),
        ]
        .concat();
        assert_eq!(y, want);
        // Every gradient row is the sum of its tokens' rows; padding and bad ids add nowhere.
        let dy = Cpu.upload(&(1..=16).map(|v| v as f32).collect::<Vec<_>>(), &[2, 8]);
        assert!(m.backward(&Cpu, dy, true).is_none(), "ids have no gradient");
        let grad = ready(Cpu.read(m.params()[0].grad.as_ref().unwrap())).unwrap();
        assert_eq!(
            grad,
            [0.0, 0.0, 9.0, 10.0, 0.0, 0.0, 1.0 + 15.0, 2.0 + 16.0, 11.0, 12.0]
        );
    }

    #[test]
    fn without_padding_token_0_is_a_word_like_any_other() {
        let mut m = model(false);
        let table = ready(Cpu.read(&m.params()[0].value)).unwrap();
        assert_ne!(&table[..2], &[0.0, 0.0]);
        let y = ready(Cpu.read(&m.forward(&Cpu, Cpu.upload(&[0.0; 4], &[1, 4]), Mode::Eval))).unwrap();
        assert_eq!(&y[..2], &table[..2]);
    }

    #[test]
    fn it_must_be_the_first_layer_and_take_a_sequence() {
        for (spec, named) in [
            (
                r#"{"input":[4],"layers":[{"type":"relu"},{"type":"embedding","vocab":5,"dim":2},{"type":"flatten"}]}"#,
                "first layer",
            ),
            (
                r#"{"input":[2,4],"layers":[{"type":"embedding","vocab":5,"dim":2},{"type":"flatten"}]}"#,
                "[steps]",
            ),
        ] {
            let err = ModelSpec::from_json(spec).unwrap().summary().unwrap_err().to_string();
            assert!(err.contains(named), "{err}");
        }
    }
}
