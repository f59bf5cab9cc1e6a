//! The GPU backend on `wgpu`: WebGPU in the browser, Vulkan / Metal / DX12 natively.
//!
//! Laid out by operation, as `backend::cpu` is: each op's file (`matmul.rs`, `conv.rs`, `pool.rs`,
//! `norm.rs`, `loss.rs`, `recurrent.rs`, `update.rs`, `activation.rs`, `tensor.rs`, `data.rs`)
//! records its kernels, whose WGSL files sit beside it. `kernels.rs` names every kernel and
//! declares the parameters each reads; `device.rs` owns the device, its pipelines and how work
//! reaches it. Every op has its CPU reference in `backend::cpu` and a parity case in
//! `tests/parity/`, run natively and in the browser.

mod activation;
mod attention;
mod conv;
mod data;
mod device;
mod embedding;
mod kernels;
mod loss;
mod matmul;
mod norm;
mod pool;
mod recurrent;
mod sequence;
mod tensor;
mod update;

use super::{Activation, AdamStep, AttentionGeometry, Backend, Conv2dGeometry, DeviceLost, LossOutput, PoolGeometry};
use crate::error::Error;
pub use device::Allocations;
use device::{Context, Launch};
use kernels::{Kernel, Params, REGISTER_GROUP};

use std::rc::Rc;

/// The barrier-free kernels split their sums (k of a product, a convolution's positions) until
/// about this many threads (register blocks of the output) run for each CPU core behind the
/// software adapter: more splits only add partial sums to store and add up.
const REGISTER_THREADS_PER_CORE: usize = 32;

/// Which family of kernels a [`Gpu`] records for its products and sums.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernels {
    /// Products tiled through workgroup memory (`matmul.wgsl`), sums as tree reductions in a
    /// workgroup: the fast ones on a hardware GPU.
    Tiled,
    /// No workgroup barrier anywhere: products in 8×8 register blocks read straight from storage
    /// (`matmul_registers.wgsl`), convolutions that read the image without an im2col copy,
    /// sums by one thread per output. A software adapter (SwiftShader,
    /// lavapipe) suspends every invocation group of a workgroup at a barrier, which costs more
    /// there than the loads it saves: these are several times faster on one.
    BarrierFree,
}

/// A handle on the GPU. Cloning shares the device.
#[derive(Clone)]
pub struct Gpu {
    ctx: Rc<Context>,
    kernels: Kernels,
}

/// A buffer that goes back to the pool when its last tensor handle drops.
struct Storage {
    buffer: Option<wgpu::Buffer>,
    ctx: Rc<Context>,
}

impl Drop for Storage {
    fn drop(&mut self) {
        if let Some(buffer) = self.buffer.take() {
            self.ctx.release(buffer);
        }
    }
}

/// A tensor on the GPU: shared storage and a shape. Reshaping shares the storage.
#[derive(Clone)]
pub struct GpuTensor {
    storage: Rc<Storage>,
    shape: Vec<usize>,
}

impl GpuTensor {
    fn buffer(&self) -> &wgpu::Buffer {
        self.storage.buffer.as_ref().expect("live tensor has a buffer")
    }

    fn len(&self) -> usize {
        self.shape.iter().product()
    }
}

fn count(shape: &[usize]) -> u32 {
    u32::try_from(shape.iter().product::<usize>()).expect("tensor too large for the GPU backend")
}

fn u(v: usize) -> u32 {
    u32::try_from(v).expect("size fits in u32")
}

/// The launch of a register-block kernel over `across × down` blocks and `splits` workgroup
/// layers: one block per thread in row-major order, [`REGISTER_GROUP`] threads a workgroup, spread
/// over y past the 65,535-workgroup limit of x.
fn register_launch(across: usize, down: usize, splits: usize) -> Launch {
    let (x, y) = device::spread(u((across * down).div_ceil(REGISTER_GROUP)));
    Launch::Groups(x, y, u(splits))
}

impl Gpu {
    /// Opens the default adapter, or says why there is none.
    pub async fn new() -> Result<Self, Error> {
        let ctx = Context::new().await?;
        let kernels = if ctx.software {
            Kernels::BarrierFree
        } else {
            Kernels::Tiled
        };
        Ok(Self { ctx, kernels })
    }

    /// The same device recording `kernels` instead of the family chosen for its adapter.
    pub fn with_kernels(&self, kernels: Kernels) -> Self {
        Self {
            ctx: self.ctx.clone(),
            kernels,
        }
    }

    /// Fills every buffer an op takes for its output with NaN first, on this device from now on: the
    /// parity tests' way to see that each op writes all of its output (a recycled buffer could
    /// otherwise still hold the right answer from the case before). Costs an upload per buffer.
    pub fn poison_new_buffers(&self) {
        self.ctx.poison();
    }

    pub fn kernels(&self) -> Kernels {
        self.kernels
    }

    /// Buffers and bind groups created on this device so far.
    pub fn allocations(&self) -> Allocations {
        self.ctx.allocations()
    }

    pub fn adapter(&self) -> &str {
        &self.ctx.adapter
    }

    pub fn is_lost(&self) -> bool {
        self.ctx.is_lost()
    }

    /// Whether the adapter is the CPU emulating a GPU (lavapipe, SwiftShader).
    pub fn is_software(&self) -> bool {
        self.ctx.software
    }

    /// Releases the device now; every later read fails and [`Gpu::is_lost`] turns true.
    pub fn destroy(&self) {
        self.ctx.destroy();
    }

    /// A tensor with uninitialised contents; every op writes all of its output.
    fn empty(&self, shape: &[usize]) -> GpuTensor {
        let buffer = self.ctx.acquire(count(shape) as u64 * 4);
        GpuTensor {
            storage: Rc::new(Storage {
                buffer: Some(buffer),
                ctx: self.ctx.clone(),
            }),
            shape: shape.to_vec(),
        }
    }

    /// Gives `t` storage of its own before an in-place update, as copy-on-write does on the CPU.
    fn make_unique(&self, t: &mut GpuTensor) {
        if Rc::strong_count(&t.storage) > 1 {
            let copy = self.empty(&t.shape);
            self.ctx.copy(t.buffer(), copy.buffer(), 0, t.len() as u64 * 4);
            *t = copy;
        }
    }

    /// A fresh tensor of `shape` written by `kernel` from `inputs`, over `threads` threads: the
    /// output at binding 1, the inputs after it (the convention of every kernel run this way).
    fn map<P: Params>(
        &self,
        kernel: Kernel,
        params: &P,
        inputs: &[&GpuTensor],
        shape: &[usize],
        threads: u32,
    ) -> GpuTensor {
        let out = self.empty(shape);
        let buffers: Vec<&wgpu::Buffer> = std::iter::once(out.buffer())
            .chain(inputs.iter().map(|t| t.buffer()))
            .collect();
        self.ctx.dispatch(kernel, params, &buffers, Launch::Threads(threads));
        out
    }

    /// Threads a barrier-free kernel splits its sum to reach: [`REGISTER_THREADS_PER_CORE`] for
    /// each core.
    fn register_threads(&self) -> usize {
        REGISTER_THREADS_PER_CORE * self.ctx.cores
    }

    /// An element-wise kernel over `len` values, four values a thread (its vec4 twin) when `len`
    /// is a multiple of 4; `params` gets the length the kernel counts in.
    fn element_wise<P: Params>(
        &self,
        kernel: Kernel,
        params: impl Fn(u32) -> P,
        buffers: &[&wgpu::Buffer],
        len: usize,
    ) {
        if len.is_multiple_of(4) {
            let n = u(len / 4);
            self.ctx
                .dispatch(kernel.vec4(), &params(n), buffers, Launch::Threads(n));
        } else {
            self.ctx
                .dispatch(kernel, &params(u(len)), buffers, Launch::Threads(u(len)));
        }
    }
}

impl Backend for Gpu {
    type Tensor = GpuTensor;

    fn name(&self) -> String {
        format!("GPU ({})", self.ctx.adapter)
    }

    fn shape(t: &GpuTensor) -> Vec<usize> {
        t.shape.clone()
    }

    fn upload(&self, data: &[f32], shape: &[usize]) -> GpuTensor {
        assert_eq!(data.len(), count(shape) as usize, "data length matches shape");
        let t = self.empty(shape);
        self.ctx.upload(t.buffer(), data);
        t
    }

    fn zeros(&self, shape: &[usize]) -> GpuTensor {
        let t = self.empty(shape);
        self.ctx.clear(t.buffer());
        t
    }

    fn read(&self, t: &GpuTensor) -> impl std::future::Future<Output = Result<Vec<f32>, DeviceLost>> {
        let (ctx, t) = (self.ctx.clone(), t.clone());
        async move {
            ctx.read(t.buffer(), t.len() as u64 * 4)
                .await
                .map_err(|e| DeviceLost(e.to_string()))
        }
    }

    fn reshape(&self, t: &GpuTensor, shape: &[usize]) -> GpuTensor {
        assert_eq!(count(shape) as usize, t.len(), "reshape keeps the element count");
        GpuTensor {
            storage: t.storage.clone(),
            shape: shape.to_vec(),
        }
    }

    fn gather_rows(&self, source: &GpuTensor, indices: &[u32]) -> GpuTensor {
        tensor::gather_rows(self, source, indices)
    }

    fn matmul(&self, a: &GpuTensor, b: &GpuTensor, transpose_a: bool, transpose_b: bool) -> GpuTensor {
        matmul::matmul(self, a, b, transpose_a, transpose_b)
    }

    fn dense(&self, x: &GpuTensor, w: &GpuTensor, b: &GpuTensor) -> GpuTensor {
        matmul::dense(self, x, w, b)
    }

    fn add_bias(&self, x: &GpuTensor, bias: &GpuTensor) -> GpuTensor {
        tensor::add_bias(self, x, bias)
    }

    fn bias_grad(&self, dy: &GpuTensor) -> GpuTensor {
        tensor::bias_grad(self, dy)
    }

    fn conv2d(&self, x: &GpuTensor, w: &GpuTensor, g: Conv2dGeometry) -> GpuTensor {
        let zero = self.zeros(&[w.shape[0]]);
        conv::forward(self, x, w, &zero, g)
    }

    fn conv2d_bias(&self, x: &GpuTensor, w: &GpuTensor, b: &GpuTensor, g: Conv2dGeometry) -> GpuTensor {
        conv::forward(self, x, w, b, g)
    }

    fn conv2d_backward_input(
        &self,
        dy: &GpuTensor,
        w: &GpuTensor,
        g: Conv2dGeometry,
        input_shape: &[usize],
    ) -> GpuTensor {
        conv::backward_input(self, dy, w, g, input_shape)
    }

    fn conv2d_backward_weight(
        &self,
        dy: &GpuTensor,
        x: &GpuTensor,
        g: Conv2dGeometry,
        kernel_shape: &[usize],
    ) -> GpuTensor {
        conv::backward_weight(self, dy, x, g, kernel_shape)
    }

    fn conv2d_backward(
        &self,
        dy: &GpuTensor,
        x: &GpuTensor,
        w: &GpuTensor,
        g: Conv2dGeometry,
        input_grad: bool,
    ) -> (GpuTensor, Option<GpuTensor>) {
        conv::backward(self, dy, x, w, g, input_grad)
    }

    fn max_pool2d(&self, x: &GpuTensor, g: PoolGeometry) -> GpuTensor {
        pool::max_forward(self, x, g)
    }

    fn max_pool2d_backward(&self, x: &GpuTensor, dy: &GpuTensor, g: PoolGeometry) -> GpuTensor {
        pool::max_backward(self, x, dy, g)
    }

    fn avg_pool2d(&self, x: &GpuTensor, g: PoolGeometry) -> GpuTensor {
        pool::avg_forward(self, x, g)
    }

    fn avg_pool2d_backward(&self, dy: &GpuTensor, g: PoolGeometry, input_shape: &[usize]) -> GpuTensor {
        pool::avg_backward(self, dy, g, input_shape)
    }

    fn activation(&self, x: &GpuTensor, f: Activation) -> GpuTensor {
        activation::forward(self, x, f)
    }

    fn activation_backward(&self, x: &GpuTensor, y: &GpuTensor, dy: &GpuTensor, f: Activation) -> GpuTensor {
        activation::backward(self, x, y, dy, f)
    }

    fn mul(&self, a: &GpuTensor, b: &GpuTensor) -> GpuTensor {
        tensor::mul(self, a, b)
    }

    fn add_assign(&self, acc: &mut GpuTensor, x: &GpuTensor) {
        update::add_assign(self, acc, x)
    }

    fn dropout_mask(&self, shape: &[usize], keep: f32, seed: u64) -> GpuTensor {
        tensor::dropout_mask(self, shape, keep, seed)
    }

    fn softmax(&self, logits: &GpuTensor) -> GpuTensor {
        tensor::softmax(self, logits)
    }

    fn softmax_cross_entropy(&self, logits: &GpuTensor, labels: &GpuTensor) -> LossOutput<GpuTensor> {
        loss::softmax_cross_entropy(self, logits, labels)
    }

    fn add_penalty(&self, g: &GpuTensor, p: &GpuTensor, l1: f32, l2: f32) -> GpuTensor {
        update::add_penalty(self, g, p, l1, l2)
    }

    fn channel_moments(&self, x: &GpuTensor) -> (GpuTensor, GpuTensor) {
        norm::channel_moments(self, x)
    }

    fn batch_norm(
        &self,
        x: &GpuTensor,
        mean: &GpuTensor,
        var: &GpuTensor,
        gamma: &GpuTensor,
        beta: &GpuTensor,
        eps: f32,
    ) -> GpuTensor {
        norm::batch_norm(self, x, mean, var, gamma, beta, eps)
    }

    fn batch_norm_backward(
        &self,
        dy: &GpuTensor,
        x: &GpuTensor,
        mean: &GpuTensor,
        var: &GpuTensor,
        gamma: &GpuTensor,
        eps: f32,
    ) -> (GpuTensor, GpuTensor, GpuTensor) {
        norm::batch_norm_backward(self, dy, x, mean, var, gamma, eps)
    }

    fn layer_norm(&self, x: &GpuTensor, gamma: &GpuTensor, beta: &GpuTensor, eps: f32) -> (GpuTensor, GpuTensor) {
        norm::layer_norm(self, x, gamma, beta, eps)
    }

    fn layer_norm_backward(
        &self,
        dy: &GpuTensor,
        x: &GpuTensor,
        stats: &GpuTensor,
        gamma: &GpuTensor,
    ) -> (GpuTensor, GpuTensor, GpuTensor) {
        norm::layer_norm_backward(self, dy, x, stats, gamma)
    }

    fn embedding(&self, ids: &GpuTensor, table: &GpuTensor, padding: bool) -> GpuTensor {
        embedding::embedding(self, ids, table, padding)
    }

    fn embedding_backward(&self, ids: &GpuTensor, dy: &GpuTensor, vocab: usize, padding: bool) -> GpuTensor {
        embedding::embedding_backward(self, ids, dy, vocab, padding)
    }

    fn attention_weights(
        &self,
        q: &GpuTensor,
        k: &GpuTensor,
        mask: Option<&GpuTensor>,
        g: AttentionGeometry,
    ) -> GpuTensor {
        attention::weights(self, q, k, mask, g)
    }

    fn attention_apply(&self, weights: &GpuTensor, v: &GpuTensor, g: AttentionGeometry) -> GpuTensor {
        attention::apply(self, weights, v, g)
    }

    fn attention_apply_backward(
        &self,
        weights: &GpuTensor,
        v: &GpuTensor,
        dout: &GpuTensor,
        g: AttentionGeometry,
    ) -> (GpuTensor, GpuTensor) {
        attention::apply_backward(self, weights, v, dout, g)
    }

    fn attention_weights_backward(
        &self,
        weights: &GpuTensor,
        dweights: &GpuTensor,
        q: &GpuTensor,
        k: &GpuTensor,
        g: AttentionGeometry,
    ) -> (GpuTensor, GpuTensor) {
        attention::weights_backward(self, weights, dweights, q, k, g)
    }

    fn mean_steps(&self, x: &GpuTensor, mask: Option<&GpuTensor>) -> GpuTensor {
        sequence::mean_steps(self, x, mask)
    }

    fn mean_steps_backward(&self, dy: &GpuTensor, mask: Option<&GpuTensor>, steps: usize) -> GpuTensor {
        sequence::mean_steps_backward(self, dy, mask, steps)
    }

    fn lerp(&self, a: &GpuTensor, b: &GpuTensor, t: f32) -> GpuTensor {
        update::lerp(self, a, b, t)
    }

    fn add_square_sums(&self, acc: &mut GpuTensor, xs: &[&GpuTensor]) {
        update::add_square_sums(self, acc, xs)
    }

    fn scale_to_norm(&self, g: &GpuTensor, square_sum: &GpuTensor, max_norm: f32) -> GpuTensor {
        update::scale_to_norm(self, g, square_sum, max_norm)
    }

    fn clamp(&self, x: &GpuTensor, limit: f32) -> GpuTensor {
        update::clamp(self, x, limit)
    }

    fn concat(&self, parts: &[&GpuTensor]) -> GpuTensor {
        tensor::concat(self, parts)
    }

    fn swap_leading(&self, x: &GpuTensor) -> GpuTensor {
        tensor::swap_leading(self, x)
    }

    fn lstm_step(
        &self,
        xw: &GpuTensor,
        t: usize,
        hw: &GpuTensor,
        c_prev: &GpuTensor,
    ) -> (GpuTensor, GpuTensor, GpuTensor) {
        recurrent::lstm_step(self, xw, t, hw, c_prev)
    }

    fn lstm_step_backward(
        &self,
        dh: &GpuTensor,
        dc: &GpuTensor,
        gates: &GpuTensor,
        c_prev: &GpuTensor,
    ) -> (GpuTensor, GpuTensor) {
        recurrent::lstm_step_backward(self, dh, dc, gates, c_prev)
    }

    fn gru_step(&self, xw: &GpuTensor, t: usize, hw: &GpuTensor, h_prev: &GpuTensor) -> (GpuTensor, GpuTensor) {
        recurrent::gru_step(self, xw, t, hw, h_prev)
    }

    fn gru_step_backward(
        &self,
        dh: &GpuTensor,
        gates: &GpuTensor,
        hw: &GpuTensor,
        h_prev: &GpuTensor,
    ) -> (GpuTensor, GpuTensor, GpuTensor) {
        recurrent::gru_step_backward(self, dh, gates, hw, h_prev)
    }

    fn augment(&self, x: &GpuTensor, params: &GpuTensor, seed: u32) -> GpuTensor {
        data::augment(self, x, params, seed)
    }

    fn image_features(&self, x: &GpuTensor, stats: &GpuTensor, grayscale: bool, edges: bool) -> GpuTensor {
        data::image_features(self, x, stats, grayscale, edges)
    }

    fn sgd_update(&self, p: &mut GpuTensor, g: &GpuTensor, lr: f32) {
        update::sgd(self, p, g, lr)
    }

    fn momentum_update(
        &self,
        p: &mut GpuTensor,
        g: &GpuTensor,
        v: &mut GpuTensor,
        lr: f32,
        momentum: f32,
        nesterov: bool,
    ) {
        update::momentum(self, p, g, v, lr, momentum, nesterov)
    }

    fn adam_update(&self, p: &mut GpuTensor, g: &GpuTensor, m: &mut GpuTensor, v: &mut GpuTensor, s: AdamStep) {
        update::adam(self, p, g, m, v, s)
    }

    fn rmsprop_update(&self, p: &mut GpuTensor, g: &GpuTensor, v: &mut GpuTensor, lr: f32, rho: f32, eps: f32) {
        update::rmsprop(self, p, g, v, lr, rho, eps)
    }
}

/// The thread's shared device for native tests and benchmarks, or `None` when there is no adapter
/// (the reason is printed). With `WHETSTONE_REQUIRE_GPU` set, a missing adapter is a panic instead:
/// CI sets it so that GPU tests can never pass by being skipped.
#[cfg(not(target_arch = "wasm32"))]
pub fn test_device() -> Option<Gpu> {
    use std::cell::RefCell;
    thread_local! {
        // Leaked so that it is never dropped during thread teardown, when wgpu can no longer run.
        static DEVICE: RefCell<Option<Result<&'static Gpu, String>>> = const { RefCell::new(None) };
    }
    DEVICE.with(|slot| {
        let mut slot = slot.borrow_mut();
        let result = slot.get_or_insert_with(|| {
            super::ready(Gpu::new())
                .map(|g| &*Box::leak(Box::new(g)))
                .map_err(|e| e.to_string())
        });
        match result {
            Ok(g) => Some((*g).clone()),
            Err(why) if std::env::var_os("WHETSTONE_REQUIRE_GPU").is_some() => {
                panic!("WHETSTONE_REQUIRE_GPU is set but {why}")
            }
            Err(why) => {
                eprintln!("SKIPPED: no GPU for this test: {why}");
                None
            }
        }
    })
}
