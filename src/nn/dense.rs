//! Fully connected layer: y = x·W + b.

use super::{init, Init, Layer, Mode, Param};
use crate::backend::Backend;
use crate::rng::Rng;

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
