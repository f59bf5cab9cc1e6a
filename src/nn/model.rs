//! A sequential model built from a [`ModelSpec`].

use super::spec::{layer_rows, Place};
use super::{Layer, Mode, ModelSpec, ModelSummary, Param};
use crate::backend::Backend;
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
    /// A layer that reads token ids finds the batch's padding mask `[n, steps]`, which every layer
    /// after it is told while their input is still those steps (`[n, steps, …]`: not after a
    /// reshape, flatten or pooling that changes them); a class token hands on the mask grown by
    /// its own place.
    pub fn forward(&mut self, b: &B, x: B::Tensor, mode: Mode) -> B::Tensor {
        let mut mask: Option<B::Tensor> = None;
        self.layers.iter_mut().fold(x, |h, layer| {
            if let Some(m) = &mask {
                layer.use_padding_mask(m);
            }
            let y = layer.forward(b, h, mode);
            mask = layer.padding_mask(b).or(mask.take()).filter(|m| {
                let (steps, out) = (B::shape(m)[1], B::shape(&y));
                out.len() == 3 && out[1] == steps
            });
            y
        })
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

    /// Every attention layer's weights for the batch the model last read, in layer order.
    pub fn attention_weights(&self) -> Vec<B::Tensor> {
        self.layers.iter().flat_map(|l| l.attention_weights()).collect()
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
pub(super) fn build<B: Backend>(b: &B, spec: &ModelSpec, rng: &mut Rng, block: u64) -> Vec<Box<dyn Layer<B>>> {
    let (rows, _) = layer_rows(&spec.input, &spec.layers).expect("the spec was checked by its summary");
    let mut input = spec.input.as_slice();
    let mut layers: Vec<Box<dyn Layer<B>>> = Vec::with_capacity(spec.layers.len());
    for (i, layer) in spec.layers.iter().enumerate() {
        let mut layer_rng = rng.fork();
        let at = Place {
            input,
            init: spec.init_for(i),
            salt: (block << 16) + i as u64 + 1,
        };
        layers.push(layer.build(b, at, &mut layer_rng));
        input = &rows[i].output;
    }
    layers
}
