//! A residual (skip) block: `y = x + f(x)` for the block's inner layers `f`, whose output has the
//! shape of `x`. The gradient reaches `x` both through `f` and directly.

use super::{Layer, Mode, Param};
use crate::backend::Backend;

pub struct Residual<B: Backend> {
    layers: Vec<Box<dyn Layer<B>>>,
}

impl<B: Backend> Residual<B> {
    pub fn new(layers: Vec<Box<dyn Layer<B>>>) -> Self {
        Self { layers }
    }
}

impl<B: Backend> Layer<B> for Residual<B> {
    fn forward(&mut self, b: &B, x: B::Tensor, mode: Mode) -> B::Tensor {
        let mut y = self
            .layers
            .iter_mut()
            .fold(x.clone(), |h, layer| layer.forward(b, h, mode));
        b.add_assign(&mut y, &x);
        y
    }

    fn backward(&mut self, b: &B, dy: B::Tensor, _input_grad: bool) -> Option<B::Tensor> {
        let mut dx = self.layers.iter_mut().rev().fold(dy.clone(), |g, layer| {
            layer.backward(b, g, true).expect("inner layers always return dL/dx")
        });
        b.add_assign(&mut dx, &dy);
        Some(dx)
    }

    fn params(&mut self) -> Vec<&mut Param<B>> {
        self.layers.iter_mut().flat_map(|l| l.params()).collect()
    }
}
