//! Layers with explicit forward and backward passes, and models built from a [`ModelSpec`].
//!
//! A layer's `forward` caches what its `backward` needs; `backward` takes `dL/dy`, accumulates
//! the gradients of the layer's parameters and returns `dL/dx`.

mod activation;
mod attention;
mod class_token;
mod conv;
mod dense;
mod dropout;
mod embedding;
mod first_step;
mod init;
mod layer_norm;
mod mean_pool;
mod model;
mod norm;
mod pool;
mod positional;
mod recurrent;
mod reshape;
mod residual;
mod spec;
mod transformer;

#[cfg(test)]
mod gradcheck;

pub use model::Model;
pub use spec::{
    grouped, preset, text_preset, Init, LayerSpec, LayerSummary, ModelSpec, ModelSummary, MAX_PARAMS, MAX_SIZE,
};

use crate::backend::Backend;

/// A trainable tensor with its gradient (present after a backward pass). Weights are `penalised`
/// by L1/L2 regularisation; biases are not.
pub struct Param<B: Backend> {
    pub value: B::Tensor,
    pub grad: Option<B::Tensor>,
    pub penalised: bool,
}

impl<B: Backend> Param<B> {
    pub fn weight(value: B::Tensor) -> Self {
        Self {
            value,
            grad: None,
            penalised: true,
        }
    }

    pub fn bias(value: B::Tensor) -> Self {
        Self {
            value,
            grad: None,
            penalised: false,
        }
    }
}

/// Whether a forward pass is for training (dropout active, with this step's seed) or evaluation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    Train { seed: u64 },
    Eval,
}

pub trait Layer<B: Backend> {
    fn forward(&mut self, b: &B, x: B::Tensor, mode: Mode) -> B::Tensor;
    /// Stores parameter gradients and returns `dL/dx`; a layer may skip that (and return `None`)
    /// when `input_grad` is false, as the first layer of a model in training is told.
    fn backward(&mut self, b: &B, dy: B::Tensor, input_grad: bool) -> Option<B::Tensor>;
    fn params(&mut self) -> Vec<&mut Param<B>> {
        Vec::new()
    }
    /// The padding mask `[n, steps]` (1 for a token, 0 for padding) this layer found in the
    /// batch it last read: an embedding's, from the token ids.
    fn padding_mask(&self, _b: &B) -> Option<B::Tensor> {
        None
    }
    /// Told the batch's padding mask before the forward pass, by the model, when it has one: the
    /// layers that pool or attend over steps leave the padding out.
    fn use_padding_mask(&mut self, _mask: &B::Tensor) {}
    /// The attention weights `[n, heads, steps, steps]` this layer (and the layers inside it) gave
    /// the batch it last read, in order: what the page draws as heat maps.
    fn attention_weights(&self) -> Vec<B::Tensor> {
        Vec::new()
    }
}
