//! Inverted dropout: in training each unit is kept with probability 1 − rate and scaled by
//! 1 / (1 − rate), so evaluation is the identity and needs no rescaling.

use super::spec::{elementwise, Inferred, Kind, Place};
use super::{dropout_mask, Layer, Mode};
use crate::backend::Backend;
use crate::catalogue::{self, number, LayerKind};
use crate::onnx::Graph;
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DropoutSpec {
    pub rate: f32,
}

impl Kind for DropoutSpec {
    /// Inverted dropout, as Whetstone's.
    const TORCH: &'static str =
        "BUILDERS[\"dropout\"] = lambda layer, shape, init: (nn.Dropout(layer[\"rate\"]), shape)\n";

    fn entry() -> LayerKind {
        catalogue::layer(
            "dropout",
            "zeroes a share of the values in training",
            false,
            vec![number("rate", "rate", 0.2, "share of values dropped").range(0.0, Some(1.0))],
        )
    }

    fn infer(&self, input: &[usize]) -> Result<Inferred, String> {
        if !(0.0..1.0).contains(&self.rate) {
            return Err(format!("rate must be in [0, 1), got {}", self.rate));
        }
        Ok(elementwise(input))
    }

    fn build<B: Backend>(&self, _: &B, at: Place, _: &mut Rng) -> Box<dyn Layer<B>> {
        Box::new(Dropout::new(self.rate, at.salt))
    }

    /// The identity at inference: no node.
    fn onnx(&self, _: &mut Graph, _: &str, x: &str, _: &[usize]) -> String {
        x.to_string()
    }
}

pub struct Dropout<B: Backend> {
    rate: f32,
    /// Mixed into the step seed so that two dropout layers draw different masks.
    salt: u64,
    mask: Option<B::Tensor>,
}

impl<B: Backend> Dropout<B> {
    pub fn new(rate: f32, salt: u64) -> Self {
        Self { rate, salt, mask: None }
    }
}

impl<B: Backend> Layer<B> for Dropout<B> {
    fn forward(&mut self, b: &B, x: B::Tensor, mode: Mode) -> B::Tensor {
        match mode {
            Mode::Train { seed, rows } if self.rate > 0.0 => {
                let shape = B::shape(&x);
                let mask = dropout_mask(
                    b,
                    &shape,
                    shape[0],
                    1.0 - self.rate,
                    seed ^ self.salt.wrapping_mul(0x9E37_79B9_7F4A_7C15),
                    rows,
                );
                let y = b.mul(&x, &mask);
                self.mask = Some(mask);
                y
            }
            _ => {
                self.mask = None;
                x
            }
        }
    }

    fn backward(&mut self, b: &B, dy: B::Tensor, _input_grad: bool) -> Option<B::Tensor> {
        Some(match self.mask.take() {
            Some(mask) => b.mul(&dy, &mask),
            None => dy,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::Rows;
    use super::*;
    use crate::backend::cpu::Cpu;
    use crate::backend::ready;

    #[test]
    fn a_share_of_a_batch_draws_its_rows_of_the_whole_batch_mask() {
        // Attention's weights hold each sample's heads × steps × steps values one after another.
        let read = |t| ready(Cpu.read(&t)).unwrap();
        let whole = read(dropout_mask(&Cpu, &[7, 2, 3, 3], 7, 0.6, 5, None));
        let per_sample = 2 * 3 * 3;
        for (first, n) in [(0, 3), (3, 2), (5, 2)] {
            let rows = Some(Rows { first, total: 7 });
            let share = read(dropout_mask(&Cpu, &[n, 2, 3, 3], n, 0.6, 5, rows));
            assert_eq!(share, whole[first * per_sample..(first + n) * per_sample]);
        }
        // The whole batch read by one pass draws the plain mask.
        let all = Some(Rows { first: 0, total: 7 });
        assert_eq!(read(dropout_mask(&Cpu, &[7, 2, 3, 3], 7, 0.6, 5, all)), whole);
        assert_eq!(whole, read(Cpu.dropout_mask(&[7, 2, 3, 3], 0.6, 5)));
    }
}
