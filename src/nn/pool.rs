//! Max and average pooling layers.

use super::{Layer, Mode};
use crate::backend::{Backend, PoolGeometry};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PoolKind {
    Max,
    Average,
}

pub struct Pool2d<B: Backend> {
    kind: PoolKind,
    geometry: PoolGeometry,
    input: Option<B::Tensor>,
}

impl<B: Backend> Pool2d<B> {
    pub fn new(kind: PoolKind, geometry: PoolGeometry) -> Self {
        Self {
            kind,
            geometry,
            input: None,
        }
    }
}

impl<B: Backend> Layer<B> for Pool2d<B> {
    fn forward(&mut self, b: &B, x: B::Tensor, _mode: Mode) -> B::Tensor {
        let y = match self.kind {
            PoolKind::Max => b.max_pool2d(&x, self.geometry),
            PoolKind::Average => b.avg_pool2d(&x, self.geometry),
        };
        self.input = Some(x);
        y
    }

    fn backward(&mut self, b: &B, dy: B::Tensor, _input_grad: bool) -> Option<B::Tensor> {
        let x = self.input.take().expect("pool backward before forward");
        Some(match self.kind {
            PoolKind::Max => b.max_pool2d_backward(&x, &dy, self.geometry),
            PoolKind::Average => b.avg_pool2d_backward(&dy, self.geometry, &B::shape(&x)),
        })
    }
}
