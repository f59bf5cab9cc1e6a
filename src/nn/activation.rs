//! Element-wise activation layers (ReLU, leaky ReLU, tanh, sigmoid).

use super::{Layer, Mode};
use crate::backend::{Activation, Backend};

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
