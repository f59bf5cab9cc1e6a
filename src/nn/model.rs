//! A sequential model built from a [`ModelSpec`].

use super::activation::ActivationLayer;
use super::conv::Conv2d;
use super::dense::Dense;
use super::dropout::Dropout;
use super::layer_norm::LayerNorm;
use super::norm::BatchNorm;
use super::pool::{Pool2d, PoolKind};
use super::recurrent::Recurrent;
use super::reshape::Reshape;
use super::residual::Residual;
use super::spec::layer_rows;
use super::{Layer, LayerSpec, Mode, ModelSpec, ModelSummary, Param};
use crate::backend::{Activation, Backend, Conv2dGeometry, PoolGeometry};
use crate::error::Error;
use crate::rng::Rng;

pub struct Model<B: Backend> {
    spec: ModelSpec,
    summary: ModelSummary,
    layers: Vec<Box<dyn Layer<B>>>,
}

impl<B: Backend> Model<B> {
    /// Validates the spec and initialises every layer from `seed`.
    pub fn new(b: &B, spec: ModelSpec, seed: u64) -> Result<Self, Error> {
        let summary = spec.summary()?;
        let mut rng = Rng::new(seed);
        let layers = build(b, &spec, &mut rng, 0);
        Ok(Self { spec, summary, layers })
    }

    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    pub fn summary(&self) -> &ModelSummary {
        &self.summary
    }

    /// Number of classes: the size of the logits.
    pub fn outputs(&self) -> usize {
        self.summary.output[0]
    }

    /// `[n, ...input]` → logits `[n, outputs]`.
    pub fn forward(&mut self, b: &B, x: B::Tensor, mode: Mode) -> B::Tensor {
        self.layers.iter_mut().fold(x, |h, layer| layer.forward(b, h, mode))
    }

    /// Back-propagates `dL/dlogits`, leaving every parameter's gradient in place. Returns `dL/dx`
    /// when `input_grad` is set. Training leaves it unset: then the first layer with parameters
    /// computes no input gradient and the layers below it (a flatten, an activation) are not run
    /// backward at all — for an MLP behind a flatten that spares a product as big as its first
    /// layer's.
    pub fn backward(&mut self, b: &B, dlogits: B::Tensor, input_grad: bool) -> Option<B::Tensor> {
        let first = if input_grad {
            0
        } else {
            self.layers
                .iter_mut()
                .position(|l| !l.params().is_empty())
                .unwrap_or(self.layers.len())
        };
        let mut g = Some(dlogits);
        for (i, layer) in self.layers.iter_mut().enumerate().skip(first).rev() {
            // Only the lowest layer run (i == first) is ever allowed to skip, so `g` is set here.
            g = layer.backward(b, g.expect("gradient from the layer above"), input_grad || i > first);
        }
        g.filter(|_| input_grad)
    }

    pub fn params(&mut self) -> Vec<&mut Param<B>> {
        self.layers.iter_mut().flat_map(|l| l.params()).collect()
    }

    /// Each layer's parameters, by the layer's position in the spec (from 0).
    pub fn layer_params(&mut self) -> Vec<Vec<&mut Param<B>>> {
        self.layers.iter_mut().map(|l| l.params()).collect()
    }
}

/// The layers of `spec` (a model, or a residual block's inner layers from the block's input),
/// initialised from `rng`; `block` tells the dropout layers of different blocks apart.
fn build<B: Backend>(b: &B, spec: &ModelSpec, rng: &mut Rng, block: u64) -> Vec<Box<dyn Layer<B>>> {
    let (rows, _) = layer_rows(&spec.input, &spec.layers).expect("the spec was checked by its summary");
    let mut shape = spec.input.clone();
    let mut layers: Vec<Box<dyn Layer<B>>> = Vec::with_capacity(spec.layers.len());
    for (i, layer) in spec.layers.iter().enumerate() {
        let mut layer_rng = rng.fork();
        let salt = (block << 16) + i as u64 + 1;
        let built: Box<dyn Layer<B>> = match *layer {
            LayerSpec::Dense { units, .. } => {
                Box::new(Dense::new(b, shape[0], units, spec.init_for(i), &mut layer_rng))
            }
            LayerSpec::Conv2d {
                filters,
                kernel,
                stride,
                padding,
                ..
            } => {
                let g = Conv2dGeometry { stride, padding };
                Box::new(Conv2d::new(
                    b,
                    shape[0],
                    filters,
                    kernel,
                    g,
                    spec.init_for(i),
                    &mut layer_rng,
                ))
            }
            LayerSpec::MaxPool2d { size, stride } => Box::new(Pool2d::new(
                PoolKind::Max,
                PoolGeometry {
                    size,
                    stride: stride.unwrap_or(size),
                },
            )),
            LayerSpec::AvgPool2d { size, stride } => Box::new(Pool2d::new(
                PoolKind::Average,
                PoolGeometry {
                    size,
                    stride: stride.unwrap_or(size),
                },
            )),
            LayerSpec::Flatten => Box::new(Reshape::default()),
            LayerSpec::Reshape { ref shape } => Box::new(Reshape::to(shape.clone())),
            LayerSpec::Lstm {
                units,
                return_sequences,
            }
            | LayerSpec::Gru {
                units,
                return_sequences,
            } => {
                let cell = layer.cell().expect("a recurrent layer");
                Box::new(Recurrent::new(
                    b,
                    cell,
                    shape[1],
                    units,
                    return_sequences,
                    &mut layer_rng,
                ))
            }
            LayerSpec::Relu => Box::new(ActivationLayer::new(Activation::Relu)),
            LayerSpec::LeakyRelu { alpha } => Box::new(ActivationLayer::new(Activation::LeakyRelu(alpha))),
            LayerSpec::Tanh => Box::new(ActivationLayer::new(Activation::Tanh)),
            LayerSpec::Sigmoid => Box::new(ActivationLayer::new(Activation::Sigmoid)),
            LayerSpec::Gelu => Box::new(ActivationLayer::new(Activation::Gelu)),
            LayerSpec::Dropout { rate } => Box::new(Dropout::new(rate, salt)),
            LayerSpec::BatchNorm { momentum, eps } => Box::new(BatchNorm::new(b, shape[0], momentum, eps)),
            LayerSpec::LayerNorm { eps } => Box::new(LayerNorm::new(b, shape[shape.len() - 1], eps)),
            LayerSpec::Residual { ref layers } => {
                let inner = ModelSpec {
                    input: shape.clone(),
                    layers: layers.clone(),
                };
                Box::new(Residual::new(build(b, &inner, &mut layer_rng, salt)))
            }
        };
        layers.push(built);
        shape = rows[i].output.clone();
    }
    layers
}
