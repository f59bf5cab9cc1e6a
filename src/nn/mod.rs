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
/// In training, `rows` says which rows of the step's whole batch the pass reads when it reads a
/// share of them (see [`crate::train::Shard`]): random masks are drawn for the whole batch and
/// cut, so that the shares together draw what one pass over the batch would.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    Train { seed: u64, rows: Option<Rows> },
    Eval,
}

impl Mode {
    /// Training on the whole batch.
    pub fn train(seed: u64) -> Self {
        Mode::Train { seed, rows: None }
    }
}

/// Rows `first..first + n` of a batch of `total` rows, where `n` is the number a pass reads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rows {
    pub first: usize,
    pub total: usize,
}

impl Rows {
    /// The indices of the `n` rows from `first`, for `gather_rows`.
    pub fn indices(self, n: usize) -> Vec<u32> {
        (self.first as u32..(self.first + n) as u32).collect()
    }
}

/// The dropout mask of `shape`, which holds `samples` samples one after another, for a pass over
/// `rows` of a batch: those rows' part of the whole batch's mask.
pub(crate) fn dropout_mask<B: Backend>(
    b: &B,
    shape: &[usize],
    samples: usize,
    keep: f32,
    seed: u64,
    rows: Option<Rows>,
) -> B::Tensor {
    let Some(rows) = rows.filter(|r| r.total != samples) else {
        return b.dropout_mask(shape, keep, seed);
    };
    let per_sample = shape.iter().product::<usize>() / samples;
    let whole = b.dropout_mask(&[rows.total, per_sample], keep, seed);
    b.reshape(&b.gather_rows(&whole, &rows.indices(samples)), shape)
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
