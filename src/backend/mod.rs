//! The op set every compute device implements.
//!
//! The trait is shaped for a device that enqueues work and hands results back later: every op takes
//! and returns opaque tensor handles that live on the device, and the only way to see numbers on the
//! host is [`Backend::read`], which is asynchronous. The CPU backend computes eagerly and its reads
//! are ready at once; a GPU backend records the same calls into command buffers. Composite ops have
//! default bodies written in terms of primitives, so a backend overrides only what it can fuse.
//!
//! Layout conventions: dense activations are `[batch, features]`, images are `[batch, channels,
//! height, width]` (NCHW), conv kernels are `[out_channels, in_channels, kh, kw]`, dense weights are
//! `[in, out]`, labels are class indices stored as `f32` in a `[batch]` tensor.

pub mod cpu;
pub mod gpu;

use serde::{Deserialize, Serialize};
use std::future::Future;

/// Element-wise nonlinearities.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Activation {
    Relu,
    LeakyRelu(f32),
    Tanh,
    Sigmoid,
    /// The Gaussian error linear unit in its tanh form (as GPT-2 and BERT use it):
    /// `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
    Gelu,
}

/// √(2/π) and the cubic's weight in the tanh form of GELU.
pub const GELU_SCALE: f32 = 0.797_884_6;
pub const GELU_CUBIC: f32 = 0.044_715;

/// The device stopped answering: a GPU lost, reset or removed. What was on it is gone; a run goes
/// on elsewhere from what was read back before (see `train::Session`).
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceLost(pub String);

impl std::fmt::Display for DeviceLost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<DeviceLost> for crate::error::Error {
    fn from(lost: DeviceLost) -> Self {
        crate::error::Error::NoGpu(lost.0)
    }
}

/// Stride and zero padding of a 2-D convolution (the same on both axes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Conv2dGeometry {
    pub stride: usize,
    pub padding: usize,
}

impl Conv2dGeometry {
    /// Output extent along one axis: `(n + 2p - k) / s + 1`, or `None` if the kernel does not fit.
    pub fn output_extent(&self, n: usize, k: usize) -> Option<usize> {
        let padded = n + 2 * self.padding;
        (padded >= k && self.stride > 0).then(|| (padded - k) / self.stride + 1)
    }
}

/// The shape of a multi-head attention over `n` sequences of `steps` steps: `heads` heads of
/// `key` values each (queries, keys and values are `[n · steps, heads · key]`, each step's heads
/// side by side); `causal` lets each step attend only to itself and the steps before it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AttentionGeometry {
    pub n: usize,
    pub steps: usize,
    pub heads: usize,
    pub key: usize,
    pub causal: bool,
}

impl AttentionGeometry {
    /// The scale of the scores, 1/√key.
    pub fn scale(&self) -> f32 {
        1.0 / (self.key as f32).sqrt()
    }

    /// Whether step `t` may attend to step `j`.
    pub fn allowed(&self, t: usize, j: usize) -> bool {
        !self.causal || j <= t
    }
}

/// Window size and stride of a 2-D pooling (the same on both axes, no padding).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PoolGeometry {
    pub size: usize,
    pub stride: usize,
}

impl PoolGeometry {
    pub fn output_extent(&self, n: usize) -> Option<usize> {
        (n >= self.size && self.stride > 0).then(|| (n - self.size) / self.stride + 1)
    }
}

/// Hyper-parameters of one Adam step; `step` counts from 1 and drives bias correction.
/// `weight_decay` is AdamW's decoupled decay (0 for plain Adam).
#[derive(Clone, Copy, Debug)]
pub struct AdamStep {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub weight_decay: f32,
    pub step: u32,
}

impl AdamStep {
    /// The bias-corrected step `lr·(m/c₁)/(√(v/c₂) + ε)` rewritten as `α·m/(√v + ε̂)` with
    /// `α = lr·√c₂/c₁` and `ε̂ = ε·√c₂` (c = 1 − βᵗ): the same number with one division and one
    /// square root per weight instead of three divisions. Returns `(α, ε̂)`.
    pub fn corrected(&self) -> (f32, f32) {
        let c1 = 1.0 - self.beta1.powi(self.step as i32);
        let root_c2 = (1.0 - self.beta2.powi(self.step as i32)).sqrt();
        (self.lr * root_c2 / c1, self.eps * root_c2)
    }
}

/// What the loss op leaves on the device: the summed loss and the number of correct argmax
/// predictions (both `[1]`, so they can be accumulated over many steps and read back rarely), and
/// the gradient of the *mean* loss with respect to the logits.
pub struct LossOutput<T> {
    pub loss_sum: T,
    pub correct: T,
    pub grad: T,
}

pub trait Backend: Clone + 'static {
    type Tensor: Clone;

    /// A human-readable name: the backend and, for a GPU, the adapter.
    fn name(&self) -> String;

    fn shape(t: &Self::Tensor) -> Vec<usize>;
    /// Copies host data to the device.
    fn upload(&self, data: &[f32], shape: &[usize]) -> Self::Tensor;
    fn zeros(&self, shape: &[usize]) -> Self::Tensor;
    /// Copies a tensor back to the host. On a GPU this waits for the queue; call it rarely. A device
    /// that was lost (reset, removed, or its browser tab's GPU process gone) says so.
    fn read(&self, t: &Self::Tensor) -> impl Future<Output = Result<Vec<f32>, DeviceLost>>;
    /// The same data under a new shape with the same element count.
    fn reshape(&self, t: &Self::Tensor, shape: &[usize]) -> Self::Tensor;

    /// Rows `indices` of `source` (`[N, ...]` → `[indices.len(), ...]`): how batches are cut from a
    /// data set that lives on the device.
    fn gather_rows(&self, source: &Self::Tensor, indices: &[u32]) -> Self::Tensor;

    /// `op(a) · op(b)` where `op` transposes a 2-D operand when its flag is set.
    /// # Shapes
    /// `op(a)`: `[m, k]`, `op(b)`: `[k, n]` → `[m, n]`
    fn matmul(&self, a: &Self::Tensor, b: &Self::Tensor, transpose_a: bool, transpose_b: bool) -> Self::Tensor;

    /// Adds `bias[c]` to every element of channel `c` (axis 1) of `x` (`[n, c, ...]`).
    fn add_bias(&self, x: &Self::Tensor, bias: &Self::Tensor) -> Self::Tensor;
    /// Sum of `dy` over every axis but axis 1: the gradient of [`Backend::add_bias`] for the bias.
    fn bias_grad(&self, dy: &Self::Tensor) -> Self::Tensor;

    /// Cross-correlation of `x` `[n, c, h, w]` with `w` `[o, c, kh, kw]` → `[n, o, oh, ow]`.
    fn conv2d(&self, x: &Self::Tensor, w: &Self::Tensor, g: Conv2dGeometry) -> Self::Tensor;
    /// `dL/dx` of [`Backend::conv2d`] given `dy`; `input_shape` is the shape of `x`.
    fn conv2d_backward_input(
        &self,
        dy: &Self::Tensor,
        w: &Self::Tensor,
        g: Conv2dGeometry,
        input_shape: &[usize],
    ) -> Self::Tensor;
    /// `dL/dw` of [`Backend::conv2d`] given `dy` and the forward input `x`; `kernel_shape` is that of `w`.
    fn conv2d_backward_weight(
        &self,
        dy: &Self::Tensor,
        x: &Self::Tensor,
        g: Conv2dGeometry,
        kernel_shape: &[usize],
    ) -> Self::Tensor;

    /// `[n, c, h, w]` → `[n, c, oh, ow]`, maximum of each window.
    fn max_pool2d(&self, x: &Self::Tensor, g: PoolGeometry) -> Self::Tensor;
    /// Routes each `dy` to the first maximum of its window in `x` (the forward input).
    fn max_pool2d_backward(&self, x: &Self::Tensor, dy: &Self::Tensor, g: PoolGeometry) -> Self::Tensor;
    fn avg_pool2d(&self, x: &Self::Tensor, g: PoolGeometry) -> Self::Tensor;
    fn avg_pool2d_backward(&self, dy: &Self::Tensor, g: PoolGeometry, input_shape: &[usize]) -> Self::Tensor;

    fn activation(&self, x: &Self::Tensor, f: Activation) -> Self::Tensor;
    /// `dL/dx` given the forward input `x`, output `y` and `dL/dy`.
    fn activation_backward(&self, x: &Self::Tensor, y: &Self::Tensor, dy: &Self::Tensor, f: Activation)
        -> Self::Tensor;

    fn mul(&self, a: &Self::Tensor, b: &Self::Tensor) -> Self::Tensor;
    /// `acc += x`, element-wise.
    fn add_assign(&self, acc: &mut Self::Tensor, x: &Self::Tensor);
    /// A tensor whose elements are `1 / keep` with probability `keep` and 0 otherwise (inverted dropout).
    fn dropout_mask(&self, shape: &[usize], keep: f32, seed: u64) -> Self::Tensor;

    /// Softmax over axis 1 of `[n, k]` logits.
    fn softmax(&self, logits: &Self::Tensor) -> Self::Tensor;
    /// Mean softmax cross-entropy of `[n, k]` logits against `[n]` class indices.
    fn softmax_cross_entropy(&self, logits: &Self::Tensor, labels: &Self::Tensor) -> LossOutput<Self::Tensor>;

    /// `g + l1 · sign(p) + l2 · p`: the gradient of `l1‖p‖₁ + (l2/2)‖p‖²` added to `g`.
    fn add_penalty(&self, g: &Self::Tensor, p: &Self::Tensor, l1: f32, l2: f32) -> Self::Tensor;

    /// Per-channel mean and biased variance of `x` `[n, c, ...]` over every axis but 1 (`[c]` each).
    fn channel_moments(&self, x: &Self::Tensor) -> (Self::Tensor, Self::Tensor);
    /// `γ·(x − mean)/√(var + ε) + β` per channel `c` of `x` `[n, c, ...]`.
    fn batch_norm(
        &self,
        x: &Self::Tensor,
        mean: &Self::Tensor,
        var: &Self::Tensor,
        gamma: &Self::Tensor,
        beta: &Self::Tensor,
        eps: f32,
    ) -> Self::Tensor;
    /// `(dx, dγ, dβ)` of [`Backend::batch_norm`] when `mean` and `var` are the moments of this `x`.
    fn batch_norm_backward(
        &self,
        dy: &Self::Tensor,
        x: &Self::Tensor,
        mean: &Self::Tensor,
        var: &Self::Tensor,
        gamma: &Self::Tensor,
        eps: f32,
    ) -> (Self::Tensor, Self::Tensor, Self::Tensor);
    /// Each row of `x` (its last axis, of length `d`) normalised by its own mean and variance,
    /// then `γ·x̂ + β` with `γ` and `β` of length `d`; also the rows' statistics, `[rows, 2]`:
    /// each row's mean and `1/√(var + ε)` (variance biased).
    fn layer_norm(
        &self,
        x: &Self::Tensor,
        gamma: &Self::Tensor,
        beta: &Self::Tensor,
        eps: f32,
    ) -> (Self::Tensor, Self::Tensor);
    /// `(dx, dγ, dβ)` of [`Backend::layer_norm`], from the row statistics it returned.
    fn layer_norm_backward(
        &self,
        dy: &Self::Tensor,
        x: &Self::Tensor,
        stats: &Self::Tensor,
        gamma: &Self::Tensor,
    ) -> (Self::Tensor, Self::Tensor, Self::Tensor);
    /// The rows of `table` `[vocab, dim]` that the token ids of `ids` (whole numbers held as `f32`,
    /// any shape) pick: `[...ids.shape, dim]`. An id outside `[0, vocab)`, and id 0 when `padding`,
    /// gives a row of zeros.
    fn embedding(&self, ids: &Self::Tensor, table: &Self::Tensor, padding: bool) -> Self::Tensor;
    /// The gradient of [`Backend::embedding`]'s `[vocab, dim]` table from `dy` `[...ids.shape,
    /// dim]`: each row the sum of the rows of `dy` whose token is that row's (none for the padding
    /// row or an id outside the table).
    fn embedding_backward(&self, ids: &Self::Tensor, dy: &Self::Tensor, vocab: usize, padding: bool) -> Self::Tensor;
    /// The attention weights `[n, heads, steps, steps]`: for each head, the softmax over the
    /// keys of `q·kᵀ/√key`, leaving out the keys `mask` `[n, steps]` marks 0 (padding) and, when
    /// causal, the later steps; a query with no key to attend to gets zeros.
    fn attention_weights(
        &self,
        q: &Self::Tensor,
        k: &Self::Tensor,
        mask: Option<&Self::Tensor>,
        g: AttentionGeometry,
    ) -> Self::Tensor;
    /// Each query's weighted sum of the values `v` by `weights`: `[n · steps, heads · key]`.
    fn attention_apply(&self, weights: &Self::Tensor, v: &Self::Tensor, g: AttentionGeometry) -> Self::Tensor;
    /// `(dweights, dv)` of [`Backend::attention_apply`] from `dout`.
    fn attention_apply_backward(
        &self,
        weights: &Self::Tensor,
        v: &Self::Tensor,
        dout: &Self::Tensor,
        g: AttentionGeometry,
    ) -> (Self::Tensor, Self::Tensor);
    /// `(dq, dk)` of [`Backend::attention_weights`] from the weights it gave and their gradient.
    fn attention_weights_backward(
        &self,
        weights: &Self::Tensor,
        dweights: &Self::Tensor,
        q: &Self::Tensor,
        k: &Self::Tensor,
        g: AttentionGeometry,
    ) -> (Self::Tensor, Self::Tensor);
    /// The mean over the steps of `x` `[n, steps, dim]`: `[n, dim]`. With `mask` `[n, steps]`
    /// (1 for a token, 0 for padding) only over the marked steps; a sample with none gives zeros.
    fn mean_steps(&self, x: &Self::Tensor, mask: Option<&Self::Tensor>) -> Self::Tensor;
    /// `dL/dx` `[n, steps, dim]` of [`Backend::mean_steps`] from `dy` `[n, dim]`.
    fn mean_steps_backward(&self, dy: &Self::Tensor, mask: Option<&Self::Tensor>, steps: usize) -> Self::Tensor;
    /// `a + t·(b − a)`, element-wise: running statistics.
    fn lerp(&self, a: &Self::Tensor, b: &Self::Tensor, t: f32) -> Self::Tensor;

    /// `acc[0] += Σ x²` over every element of every tensor of `xs`, for a `[1]` accumulator: a
    /// gradient's squared global norm.
    fn add_square_sums(&self, acc: &mut Self::Tensor, xs: &[&Self::Tensor]);
    /// `g · min(1, max_norm / √square_sum[0])`: one tensor of a gradient whose global squared norm
    /// is `square_sum`, rescaled so that the whole gradient's norm is at most `max_norm`.
    fn scale_to_norm(&self, g: &Self::Tensor, square_sum: &Self::Tensor, max_norm: f32) -> Self::Tensor;
    /// Every value clamped to `[-limit, limit]`.
    fn clamp(&self, x: &Self::Tensor, limit: f32) -> Self::Tensor;
    /// The values of `parts`, each flattened, one after another in one `[total]` tensor: several
    /// device scalars read back in one transfer.
    fn concat(&self, parts: &[&Self::Tensor]) -> Self::Tensor;

    /// `[a, b, ...]` → `[b, a, ...]`: the first two axes swapped, as a batch of sequences
    /// `[n, steps, features]` turns time-major and back.
    fn swap_leading(&self, x: &Self::Tensor) -> Self::Tensor;

    /// One LSTM step, gates in ONNX's order (input, output, forget, cell): with `z = xw[t] + hw`,
    /// `i, o, f = σ(z)`, `g = tanh(z_c)`, `c = f·c_prev + i·g` and `h = o·tanh(c)`.
    /// # Shapes
    /// `xw` `[steps, n, 4H]` (every step's input projection with its bias), `hw` `[n, 4H]`
    /// (`h_prev · W_h`), `c_prev` `[n, H]` → `(h, c, gates)`: `[n, H]`, `[n, H]` and the activated
    /// gates `[n, 4H]` that [`Backend::lstm_step_backward`] needs.
    fn lstm_step(
        &self,
        xw: &Self::Tensor,
        t: usize,
        hw: &Self::Tensor,
        c_prev: &Self::Tensor,
    ) -> (Self::Tensor, Self::Tensor, Self::Tensor);
    /// `(dz, dc_prev)` of [`Backend::lstm_step`], given the gradients `dh` and `dc` that reach this
    /// step's `h` and `c`: `dz` `[n, 4H]` is the gradient of the gates' pre-activations.
    fn lstm_step_backward(
        &self,
        dh: &Self::Tensor,
        dc: &Self::Tensor,
        gates: &Self::Tensor,
        c_prev: &Self::Tensor,
    ) -> (Self::Tensor, Self::Tensor);
    /// One GRU step, gates in ONNX's order (update, reset, hidden) with the reset applied after the
    /// recurrent product (ONNX `linear_before_reset`, as PyTorch and cuDNN do): `z, r = σ(xw[t] + hw)`,
    /// `n = tanh(xw[t]_h + r·hw_h)`, `h = (1 − z)·n + z·h_prev`.
    /// # Shapes
    /// `xw` `[steps, n, 3H]`, `hw` `[n, 3H]` (`h_prev · W_h + b_h`), `h_prev` `[n, H]` → `(h, gates)`:
    /// `[n, H]` and the activated `z, r, n` `[n, 3H]`.
    fn gru_step(
        &self,
        xw: &Self::Tensor,
        t: usize,
        hw: &Self::Tensor,
        h_prev: &Self::Tensor,
    ) -> (Self::Tensor, Self::Tensor);
    /// `(dxw, dhw, dh_prev)` of [`Backend::gru_step`] given `dh`: the gradients of this step's input
    /// projection and of `hw` (`[n, 3H]` each), and the part of `dL/dh_prev` that flows through
    /// `z·h_prev` (the rest flows through `hw`).
    fn gru_step_backward(
        &self,
        dh: &Self::Tensor,
        gates: &Self::Tensor,
        hw: &Self::Tensor,
        h_prev: &Self::Tensor,
    ) -> (Self::Tensor, Self::Tensor, Self::Tensor);

    /// Each image of `x` `[n, c, h, w]` (values in [0, 1]) augmented by its row of `params`
    /// `[n, AUGMENT_PARAMS]` (see [`crate::augment`]); the Gaussian noise of element `i` of the batch
    /// comes from the counter-based uniforms `(seed, 2i)` and `(seed, 2i + 1)`.
    fn augment(&self, x: &Self::Tensor, params: &Self::Tensor, seed: u32) -> Self::Tensor;

    /// The image feature transform of [`crate::features::image_transform`] on each image of `x`
    /// `[n, c, h, w]`: grayscale and an edge channel when asked, then `(v − stats[0, k]) / stats[1, k]`
    /// per output channel `k` (`stats` `[2, channels out]`).
    fn image_features(&self, x: &Self::Tensor, stats: &Self::Tensor, grayscale: bool, edges: bool) -> Self::Tensor;

    /// `p -= lr · g`
    fn sgd_update(&self, p: &mut Self::Tensor, g: &Self::Tensor, lr: f32);
    /// `v = μv + g`; `p -= lr · v`, or `p -= lr · (g + μv)` with Nesterov.
    fn momentum_update(
        &self,
        p: &mut Self::Tensor,
        g: &Self::Tensor,
        v: &mut Self::Tensor,
        lr: f32,
        momentum: f32,
        nesterov: bool,
    );
    /// Adam with bias correction, and AdamW's decoupled weight decay.
    fn adam_update(
        &self,
        p: &mut Self::Tensor,
        g: &Self::Tensor,
        m: &mut Self::Tensor,
        v: &mut Self::Tensor,
        s: AdamStep,
    );
    /// `v = ρv + (1−ρ)g²`; `p -= lr · g / (√v + ε)`.
    fn rmsprop_update(&self, p: &mut Self::Tensor, g: &Self::Tensor, v: &mut Self::Tensor, lr: f32, rho: f32, eps: f32);

    /// `x · w + b` for `x` `[n, in]`, `w` `[in, out]`, `b` `[out]`.
    fn dense(&self, x: &Self::Tensor, w: &Self::Tensor, b: &Self::Tensor) -> Self::Tensor {
        self.add_bias(&self.matmul(x, w, false, false), b)
    }

    /// `dL/dw` and, when `input_grad`, `dL/dx` of [`Backend::conv2d`]: what a conv layer's backward
    /// pass needs, in one call so a backend can share work between the two.
    fn conv2d_backward(
        &self,
        dy: &Self::Tensor,
        x: &Self::Tensor,
        w: &Self::Tensor,
        g: Conv2dGeometry,
        input_grad: bool,
    ) -> (Self::Tensor, Option<Self::Tensor>) {
        let dw = self.conv2d_backward_weight(dy, x, g, &Self::shape(w));
        (
            dw,
            input_grad.then(|| self.conv2d_backward_input(dy, w, g, &Self::shape(x))),
        )
    }

    /// [`Backend::conv2d`] plus `b[o]` on every element of output channel `o`.
    fn conv2d_bias(&self, x: &Self::Tensor, w: &Self::Tensor, b: &Self::Tensor, g: Conv2dGeometry) -> Self::Tensor {
        self.add_bias(&self.conv2d(x, w, g), b)
    }
}

/// Each of `tensors`' values, read back in one transfer (one concatenation, one read).
pub async fn read_each<B: Backend>(b: &B, tensors: &[&B::Tensor]) -> Result<Vec<Vec<f32>>, DeviceLost> {
    if tensors.is_empty() {
        return Ok(Vec::new());
    }
    let all = b.read(&b.concat(tensors)).await?;
    let mut rest = all.as_slice();
    Ok(tensors
        .iter()
        .map(|t| {
            let (head, tail) = rest.split_at(B::shape(t).iter().product());
            rest = tail;
            head.to_vec()
        })
        .collect())
}

/// Waits for a future that is already complete, as every CPU read is. Panics if it is pending: only
/// synchronous backends may be driven this way.
pub fn ready<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("ready() on a pending future: this backend reads asynchronously"),
    }
}
