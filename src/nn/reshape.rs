//! Flatten (`[n, ...]` → `[n, product of the rest]`) and reshape (`[n, ...]` → `[n, ...target]`):
//! the same data under a new per-sample shape.

use super::{Layer, Mode};
use crate::backend::Backend;

/// Flattens when `target` is `None`.
#[derive(Default)]
pub struct Reshape {
    target: Option<Vec<usize>>,
    input_shape: Option<Vec<usize>>,
}

impl Reshape {
    pub fn to(target: Vec<usize>) -> Self {
        Self {
            target: Some(target),
            input_shape: None,
        }
    }
}

impl<B: Backend> Layer<B> for Reshape {
    fn forward(&mut self, b: &B, x: B::Tensor, _mode: Mode) -> B::Tensor {
        let shape = B::shape(&x);
        let mut out = vec![shape[0]];
        match &self.target {
            Some(target) => out.extend(target),
            None => out.push(shape[1..].iter().product()),
        }
        let y = b.reshape(&x, &out);
        self.input_shape = Some(shape);
        y
    }

    fn backward(&mut self, b: &B, dy: B::Tensor, _input_grad: bool) -> Option<B::Tensor> {
        Some(b.reshape(&dy, &self.input_shape.take().expect("reshape backward before forward")))
    }
}
