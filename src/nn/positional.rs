//! Positional encoding: adds to each step of a sequence `[steps, dim]` a vector for its position,
//! so that what comes after (attention, which sees its inputs as a set) knows the order. Learned:
//! a trained vector per position. Sinusoidal: fixed sines and cosines of the position at
//! wavelengths from 2π to 10000·2π, as in "Attention is all you need". Positions count from the
//! first step, or from each text's last token: a word's ending then sits at the same positions
//! whatever its length (the batch's padding mask says where each text ends).

use super::spec::{product, Inferred, Kind, Place};
use super::{Layer, Mode, Param};
use crate::backend::Backend;
use crate::catalogue::{self, LayerKind};
use crate::onnx::{Attr, Graph};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    #[default]
    Learned,
    Sinusoidal,
}

/// Where positions count from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountFrom {
    /// Step t is position t.
    #[default]
    Start,
    /// A text's last token is position 0, the one before it 1, …; padding gets no vector.
    End,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PositionalSpec {
    #[serde(default)]
    pub encoding: Encoding,
    #[serde(default)]
    pub from: CountFrom,
}

/// `[steps, steps]`: 1 where the row is at or after the column, so that a padding mask's row
/// times it counts, at each step, the tokens from there to the end.
fn suffix_counter(steps: usize) -> Vec<f32> {
    (0..steps)
        .flat_map(|s| (0..steps).map(move |t| if s >= t { 1.0 } else { 0.0 }))
        .collect()
}

/// The sinusoidal table `[steps, dim]`: position t's value i is sin (i even) or cos (i odd) of
/// t / 10000^(2⌊i/2⌋/dim).
pub fn sinusoidal(steps: usize, dim: usize) -> Vec<f32> {
    (0..steps)
        .flat_map(|t| {
            (0..dim).map(move |i| {
                let angle = t as f64 / 10000f64.powf((2 * (i / 2)) as f64 / dim as f64);
                (if i % 2 == 0 { angle.sin() } else { angle.cos() }) as f32
            })
        })
        .collect()
}

/// `model.py`'s positional encoding: learned positions named `weight` `[steps, dim]` as
/// Whetstone's; the sinusoidal table a buffer outside the model file, as in Whetstone's.
const TORCH: &str = r#"class Positional(nn.Module):
    """x [batch, steps, dim] plus a vector per position: learned, or Whetstone's sinusoidal table."""

    def __init__(self, steps, dim, encoding, start):
        super().__init__()
        self.start = start
        self.mask = None
        if encoding == "learned":
            self.weight = nn.Parameter(torch.randn(steps, dim))
        else:
            position = torch.arange(steps, dtype=torch.float64)[:, None]
            pair = 2 * (torch.arange(dim) // 2)
            angle = position / 10000.0 ** (pair.to(torch.float64) / dim)
            table = torch.where(torch.arange(dim) % 2 == 0, angle.sin(), angle.cos()).float()
            self.register_buffer("table", table, persistent=False)

    def use_padding_mask(self, mask):
        self.mask = mask

    def forward(self, x):
        table = self.weight if hasattr(self, "weight") else self.table
        if self.start:
            return x + table
        # From each text's last token: position = tokens from this step to the end, less one;
        # padding (position -1) gets nothing.
        mask = self.mask if self.mask is not None else x.new_ones(x.shape[:2])
        position = mask.flip(1).cumsum(1).flip(1) - 1
        rows = table[position.clamp(min=0).long()]
        return x + rows * (position >= 0).unsqueeze(-1).to(x.dtype)


def build_positional(layer, shape, init):
    start = layer.get("from", "start") == "start"
    return Positional(shape[0], shape[1], layer.get("encoding", "learned"), start), shape


BUILDERS["positional"] = build_positional
"#;

impl Kind for PositionalSpec {
    fn entry() -> LayerKind {
        catalogue::layer(
            "positional",
            "adds to each step of a sequence a vector for its position, so that attention knows the order",
            true,
            vec![
                catalogue::choice(
                    "encoding",
                    "Encoding",
                    &[
                        ("learned", "learned (a trained vector a position)"),
                        ("sinusoidal", "sinusoidal (fixed sines and cosines)"),
                    ],
                    "learned positions fit the data; sinusoidal ones need no training",
                ),
                catalogue::choice(
                    "from",
                    "Count from",
                    &[
                        ("start", "the start (the first step is position 0)"),
                        ("end", "the end (each text's last token is position 0)"),
                    ],
                    "from the end, a word's ending sits at the same positions whatever its length",
                ),
            ],
        )
    }

    fn infer(&self, input: &[usize]) -> Result<Inferred, String> {
        let &[_, _] = input else {
            return Err(format!(
                "takes a sequence of vectors [steps, dim], not {input:?}: put it after an embedding"
            ));
        };
        Ok(Inferred {
            output: input.to_vec(),
            params: match self.encoding {
                Encoding::Learned => product(input),
                Encoding::Sinusoidal => 0,
            },
            // Counting from the end: the padding mask times the suffix counter (counted whether
            // or not a mask arrives).
            flops: product(input)
                + if self.from == CountFrom::End {
                    2 * (input[0] * input[0]) as u64
                } else {
                    0
                },
        })
    }

    fn params(&self, input: &[usize]) -> Vec<(String, Vec<usize>)> {
        match self.encoding {
            Encoding::Learned => vec![("weight".into(), input.to_vec())],
            Encoding::Sinusoidal => Vec::new(),
        }
    }

    const TORCH: &'static str = TORCH;

    fn build<B: Backend>(&self, b: &B, at: Place, rng: &mut Rng) -> Box<dyn Layer<B>> {
        let (steps, dim) = (at.input[0], at.input[1]);
        Box::new(Positional::new(b, steps, dim, *self, rng))
    }

    /// From the start, the table added. From the end with the padding mask the embedding left in
    /// the graph: positions from `MatMul(mask, suffix counter) − 1`, the table's rows gathered at
    /// them (at 0 for padding) and kept where a position is ≥ 0; without a mask, the table's rows
    /// in reverse order.
    fn onnx(&self, graph: &mut Graph, name: &str, x: &str, input: &[usize]) -> String {
        let steps = input[0];
        let table = match self.encoding {
            Encoding::Learned => format!("{name}.weight"),
            Encoding::Sinusoidal => graph.floats(&format!("{name}.table"), input, sinusoidal(steps, input[1])),
        };
        if self.from == CountFrom::Start {
            return graph.op("Add", name, &[x, &table], vec![]);
        }
        let mask = graph.padding_mask.clone().filter(|&(_, s)| s == steps);
        let Some((mask, _)) = mask else {
            let reversed: Vec<i64> = (0..steps as i64).rev().collect();
            let ids = graph.constant(&format!("{name}.reversed"), &reversed);
            let rows = graph.op(
                "Gather",
                &format!("{name}.rows"),
                &[&table, &ids],
                vec![("axis", Attr::Int(0))],
            );
            return graph.op("Add", name, &[x, &rows], vec![]);
        };
        let counter = graph.floats(
            &format!("{name}.suffix_counter"),
            &[steps, steps],
            suffix_counter(steps),
        );
        let counts = graph.op("MatMul", &format!("{name}.counts"), &[&mask, &counter], vec![]);
        let one = graph.floats(&format!("{name}.one"), &[], vec![1.0]);
        let zero = graph.floats(&format!("{name}.zero"), &[], vec![0.0]);
        let position = graph.op("Sub", &format!("{name}.position"), &[&counts, &one], vec![]);
        let safe = graph.op("Max", &format!("{name}.safe"), &[&position, &zero], vec![]);
        let ids = graph.op("Cast", &format!("{name}.ids"), &[&safe], vec![("to", Attr::Int(7))]);
        let rows = graph.op(
            "Gather",
            &format!("{name}.rows"),
            &[&table, &ids],
            vec![("axis", Attr::Int(0))],
        );
        let kept = graph.op("Min", &format!("{name}.kept"), &[&counts, &one], vec![]);
        let last = graph.constant(&format!("{name}.last"), &[-1]);
        let kept = graph.op("Unsqueeze", &format!("{name}.kept_rows"), &[&kept, &last], vec![]);
        let rows = graph.op("Mul", &format!("{name}.kept_vectors"), &[&rows, &kept], vec![]);
        graph.op("Add", name, &[x, &rows], vec![])
    }
}

pub struct Positional<B: Backend> {
    /// Learned positions, or the fixed sinusoidal table (not learned, not in the model file):
    /// row p for position p.
    table: Param<B>,
    learned: bool,
    steps: usize,
    dim: usize,
    from_end: Option<FromEnd<B>>,
}

/// What counting from the end needs: the positions are the batch's own.
struct FromEnd<B: Backend> {
    /// `[steps, steps]`, see [`suffix_counter`].
    counter: B::Tensor,
    /// `[steps]` of −1: a count of tokens to the end less one is a position.
    minus_one: B::Tensor,
    /// The table's rows from the last to the first: the positions of a sequence without padding
    /// (and, the order being its own inverse, where their gradients go back to).
    reversed: Vec<u32>,
    /// The batch's padding mask `[n, steps]`, when the model has one.
    mask: Option<B::Tensor>,
    /// The positions `[n, steps]` the last forward pass added from the mask.
    positions: Option<B::Tensor>,
}

impl<B: Backend> Positional<B> {
    pub fn new(b: &B, steps: usize, dim: usize, spec: PositionalSpec, rng: &mut Rng) -> Self {
        let values = match spec.encoding {
            Encoding::Learned => (0..steps * dim).map(|_| rng.normal()).collect(),
            Encoding::Sinusoidal => sinusoidal(steps, dim),
        };
        let from_end = (spec.from == CountFrom::End).then(|| FromEnd {
            counter: b.upload(&suffix_counter(steps), &[steps, steps]),
            minus_one: b.upload(&vec![-1.0; steps], &[steps]),
            reversed: (0..steps as u32).rev().collect(),
            mask: None,
            positions: None,
        });
        Self {
            table: Param::weight(b.upload(&values, &[steps * dim])),
            learned: spec.encoding == Encoding::Learned,
            steps,
            dim,
            from_end,
        }
    }
}

impl<B: Backend> Layer<B> for Positional<B> {
    fn forward(&mut self, b: &B, x: B::Tensor, _mode: Mode) -> B::Tensor {
        let shape = B::shape(&x);
        let rows = b.reshape(&x, &[shape[0], shape[1] * shape[2]]);
        let Some(end) = &mut self.from_end else {
            return b.reshape(&b.add_bias(&rows, &self.table.value), &shape);
        };
        let table = b.reshape(&self.table.value, &[self.steps, self.dim]);
        let Some(mask) = &end.mask else {
            let vectors = b.gather_rows(&table, &end.reversed);
            return b.reshape(
                &b.add_bias(&rows, &b.reshape(&vectors, &[self.steps * self.dim])),
                &shape,
            );
        };
        let positions = b.add_bias(&b.matmul(mask, &end.counter, false, false), &end.minus_one);
        // A position of −1 (padding) is outside the table: a zero vector.
        let mut y = b.embedding(&positions, &table, false);
        b.add_assign(&mut y, &x);
        end.positions = Some(positions);
        y
    }

    fn backward(&mut self, b: &B, dy: B::Tensor, _input_grad: bool) -> Option<B::Tensor> {
        if self.learned {
            let shape = B::shape(&dy);
            let summed = || b.bias_grad(&b.reshape(&dy, &[shape[0], shape[1] * shape[2]]));
            let grad = match &mut self.from_end {
                None => summed(),
                Some(end) if end.mask.is_some() => {
                    let positions = end.positions.take().expect("positional backward before forward");
                    b.embedding_backward(&positions, &dy, self.steps, false)
                }
                // The same rows for every sample, backwards: the batch's sum goes back in reverse.
                Some(end) => b.gather_rows(&b.reshape(&summed(), &shape[1..]), &end.reversed),
            };
            self.table.grad = Some(b.reshape(&grad, &shape[1..]));
        }
        Some(dy)
    }

    fn use_padding_mask(&mut self, mask: &B::Tensor) {
        if let Some(end) = &mut self.from_end {
            end.mask = Some(mask.clone());
        }
    }

    fn params(&mut self) -> Vec<&mut Param<B>> {
        if self.learned {
            vec![&mut self.table]
        } else {
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::cpu::Cpu;
    use crate::backend::ready;

    fn layer(from: CountFrom, steps: usize) -> Positional<Cpu> {
        let spec = PositionalSpec {
            encoding: Encoding::Sinusoidal,
            from,
        };
        Positional::new(&Cpu, steps, 2, spec, &mut Rng::new(1))
    }

    /// What the layer adds to zeros `[samples, steps, 2]`, told `mask` when there is one.
    fn added(from: CountFrom, steps: usize, samples: usize, mask: Option<&[f32]>) -> Vec<f32> {
        let mut positional = layer(from, steps);
        if let Some(mask) = mask {
            positional.use_padding_mask(&Cpu.upload(mask, &[samples, steps]));
        }
        ready(Cpu.read(&positional.forward(&Cpu, Cpu.zeros(&[samples, steps, 2]), Mode::Eval))).unwrap()
    }

    #[test]
    fn from_the_end_a_texts_last_token_is_position_zero_and_padding_gets_nothing() {
        let table = sinusoidal(6, 2);
        let row = |p: usize| table[p * 2..p * 2 + 2].to_vec();
        let y = added(CountFrom::End, 4, 2, Some(&[1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0]));
        let padding = vec![0.0; 2];
        let want = [
            row(2),
            row(1),
            row(0),
            padding.clone(),
            row(0),
            padding.clone(),
            padding.clone(),
            padding,
        ]
        .concat();
        assert_eq!(y, want);
        // The same texts padded further read the same.
        let longer = added(CountFrom::End, 6, 1, Some(&[1.0, 1.0, 1.0, 0.0, 0.0, 0.0]));
        assert_eq!(&longer[..8], &y[..8]);
        // From the start, padding has a position too.
        let y = added(CountFrom::Start, 4, 1, Some(&[1.0, 1.0, 1.0, 0.0]));
        assert_eq!(y, &table[..8]);
    }

    #[test]
    fn from_the_end_without_padding_the_positions_run_backwards() {
        let table = sinusoidal(3, 2);
        let reversed = [&table[4..6], &table[2..4], &table[0..2]].concat();
        assert_eq!(added(CountFrom::End, 3, 2, None), [reversed.clone(), reversed].concat());
    }

    #[test]
    fn the_sinusoidal_table_has_sines_and_cosines_at_falling_frequencies() {
        let table = sinusoidal(3, 4);
        // Position 0: sin 0, cos 0, …; position 2, pair 1: angle 2 / 10000^(2/4) = 0.02.
        assert_eq!(&table[..4], &[0.0, 1.0, 0.0, 1.0]);
        let close = |a: f32, b: f64| (a as f64 - b).abs() < 1e-6;
        assert!(close(table[8], 2f64.sin()) && close(table[9], 2f64.cos()));
        assert!(close(table[10], 0.02f64.sin()) && close(table[11], 0.02f64.cos()));
    }
}
