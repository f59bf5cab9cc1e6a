//! Flatten: `[n, ...]` → `[n, product of the rest]`.

use super::{Layer, Mode};
use crate::backend::Backend;

#[derive(Default)]
pub struct Flatten {
    input_shape: Option<Vec<usize>>,
}

impl<B: Backend> Layer<B> for Flatten {
    fn forward(&mut self, b: &B, x: B::Tensor, _mode: Mode) -> B::Tensor {
        let shape = B::shape(&x);
        let flat = b.reshape(&x, &[shape[0], shape[1..].iter().product()]);
        self.input_shape = Some(shape);
        flat
    }

    fn backward(&mut self, b: &B, dy: B::Tensor, _input_grad: bool) -> Option<B::Tensor> {
        Some(b.reshape(&dy, &self.input_shape.take().expect("flatten backward before forward")))
    }
}
