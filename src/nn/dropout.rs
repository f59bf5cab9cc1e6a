//! Inverted dropout: in training each unit is kept with probability 1 − rate and scaled by
//! 1 / (1 − rate), so evaluation is the identity and needs no rescaling.

use super::spec::{elementwise, Inferred, Kind, Place};
use super::{Layer, Mode};
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
            Mode::Train { seed } if self.rate > 0.0 => {
                let mask = b.dropout_mask(
                    &B::shape(&x),
                    1.0 - self.rate,
                    seed ^ self.salt.wrapping_mul(0x9E37_79B9_7F4A_7C15),
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
