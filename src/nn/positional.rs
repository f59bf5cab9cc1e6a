//! Positional encoding: adds to each step of a sequence `[steps, dim]` a vector for its position,
//! so that what comes after (attention, which sees its inputs as a set) knows the order. Learned:
//! a trained vector per position. Sinusoidal: fixed sines and cosines of the position at
//! wavelengths from 2π to 10000·2π, as in "Attention is all you need".

use super::spec::{product, Inferred, Kind, Place};
use super::{Layer, Mode, Param};
use crate::backend::Backend;
use crate::catalogue::{self, LayerKind};
use crate::onnx::Graph;
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    #[default]
    Learned,
    Sinusoidal,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PositionalSpec {
    #[serde(default)]
    pub encoding: Encoding,
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

    def __init__(self, steps, dim, encoding):
        super().__init__()
        if encoding == "learned":
            self.weight = nn.Parameter(torch.randn(steps, dim))
        else:
            position = torch.arange(steps, dtype=torch.float64)[:, None]
            pair = 2 * (torch.arange(dim) // 2)
            angle = position / 10000.0 ** (pair.to(torch.float64) / dim)
            table = torch.where(torch.arange(dim) % 2 == 0, angle.sin(), angle.cos()).float()
            self.register_buffer("table", table, persistent=False)

    def forward(self, x):
        return x + (self.weight if hasattr(self, "weight") else self.table)


BUILDERS["positional"] = lambda layer, shape, init: (Positional(shape[0], shape[1], layer.get("encoding", "learned")), shape)
"#;

impl Kind for PositionalSpec {
    fn entry() -> LayerKind {
        catalogue::layer(
            "positional",
            "adds to each step of a sequence a vector for its position, so that attention knows the order",
            true,
            vec![catalogue::choice(
                "encoding",
                "Encoding",
                &[
                    ("learned", "learned (a trained vector a position)"),
                    ("sinusoidal", "sinusoidal (fixed sines and cosines)"),
                ],
                "learned positions fit the data; sinusoidal ones need no training",
            )],
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
            flops: product(input),
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
        Box::new(Positional::new(b, steps, dim, self.encoding, rng))
    }

    fn onnx(&self, graph: &mut Graph, name: &str, x: &str, input: &[usize]) -> String {
        let table = match self.encoding {
            Encoding::Learned => format!("{name}.weight"),
            Encoding::Sinusoidal => graph.floats(&format!("{name}.table"), input, sinusoidal(input[0], input[1])),
        };
        graph.op("Add", name, &[x, &table], vec![])
    }
}

pub struct Positional<B: Backend> {
    /// Learned positions, or the fixed sinusoidal table (not learned, not in the model file).
    table: Param<B>,
    learned: bool,
}

impl<B: Backend> Positional<B> {
    pub fn new(b: &B, steps: usize, dim: usize, encoding: Encoding, rng: &mut Rng) -> Self {
        let values = match encoding {
            Encoding::Learned => (0..steps * dim).map(|_| rng.normal()).collect(),
            Encoding::Sinusoidal => sinusoidal(steps, dim),
        };
        Self {
            table: Param::weight(b.upload(&values, &[steps * dim])),
            learned: encoding == Encoding::Learned,
        }
    }
}

impl<B: Backend> Layer<B> for Positional<B> {
    fn forward(&mut self, b: &B, x: B::Tensor, _mode: Mode) -> B::Tensor {
        let shape = B::shape(&x);
        let rows = b.reshape(&x, &[shape[0], shape[1] * shape[2]]);
        b.reshape(&b.add_bias(&rows, &self.table.value), &shape)
    }

    fn backward(&mut self, b: &B, dy: B::Tensor, _input_grad: bool) -> Option<B::Tensor> {
        if self.learned {
            let shape = B::shape(&dy);
            let grad = b.bias_grad(&b.reshape(&dy, &[shape[0], shape[1] * shape[2]]));
            self.table.grad = Some(b.reshape(&grad, &shape[1..]));
        }
        Some(dy)
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
