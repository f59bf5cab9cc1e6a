//! 2-D convolution layer over NCHW tensors.

use super::{init, Init, Layer, Mode, Param};
use crate::backend::{Backend, Conv2dGeometry};
use crate::rng::Rng;

pub struct Conv2d<B: Backend> {
    pub weight: Param<B>,
    pub bias: Param<B>,
    geometry: Conv2dGeometry,
    input: Option<B::Tensor>,
}

impl<B: Backend> Conv2d<B> {
    /// # Shapes
    /// weight `[filters, channels, kernel, kernel]`, bias `[filters]`;
    /// forward `[n, channels, h, w]` → `[n, filters, oh, ow]`.
    pub fn new(
        b: &B,
        channels: usize,
        filters: usize,
        kernel: usize,
        geometry: Conv2dGeometry,
        init: Init,
        rng: &mut Rng,
    ) -> Self {
        let fan_in = channels * kernel * kernel;
        let w = init::weights(init, filters * fan_in, fan_in, filters * kernel * kernel, rng);
        Self {
            weight: Param::weight(b.upload(&w, &[filters, channels, kernel, kernel])),
            bias: Param::bias(b.zeros(&[filters])),
            geometry,
            input: None,
        }
    }
}

impl<B: Backend> Layer<B> for Conv2d<B> {
    fn forward(&mut self, b: &B, x: B::Tensor, _mode: Mode) -> B::Tensor {
        let y = b.conv2d_bias(&x, &self.weight.value, &self.bias.value, self.geometry);
        self.input = Some(x);
        y
    }

    fn backward(&mut self, b: &B, dy: B::Tensor, input_grad: bool) -> Option<B::Tensor> {
        let x = self.input.take().expect("conv2d backward before forward");
        let (dw, dx) = b.conv2d_backward(&dy, &x, &self.weight.value, self.geometry, input_grad);
        self.weight.grad = Some(dw);
        self.bias.grad = Some(b.bias_grad(&dy));
        dx
    }

    fn params(&mut self) -> Vec<&mut Param<B>> {
        vec![&mut self.weight, &mut self.bias]
    }
}
