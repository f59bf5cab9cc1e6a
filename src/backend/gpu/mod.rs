//! The GPU backend on `wgpu`: WebGPU in the browser, Vulkan / Metal / DX12 natively. Kernels are
//! WGSL files in `shaders/`; every op has its CPU reference in `backend::cpu` and a parity case in
//! `tests/parity/`, run natively and in the browser.

mod context;

use super::{Activation, AdamStep, Backend, Conv2dGeometry, DeviceLost, LossOutput, PoolGeometry};
use crate::error::Error;
use crate::rng::fold_seed;
pub use context::Allocations;
use context::{
    vec4_entry, Context, Launch, CONV_FORWARD_BLOCK, CONV_WEIGHT_BLOCK, MATMUL_BLOCK, MATMUL_REGISTERS_ENTRIES,
    MATMUL_TILES, REGISTER_GROUP,
};

use std::rc::Rc;

/// A product launches at least this many threads when splitting k can get it there (a large GPU
/// keeps over 100,000 resident; a thin product with a long k, like a conv's weight gradient, would
/// otherwise run on a handful of its cores)…
const TARGET_THREADS: usize = 1 << 16;
/// …but no split gets fewer than this many terms of k.
const MIN_SPLIT_K: usize = 128;
/// Threads that `sum_splits` gives each output (`LANES` in `splits.wgsl`).
const SUM_LANES: usize = 32;
/// The barrier-free kernels split their sums (k of a product, a convolution's positions) until
/// about this many threads (register blocks of the output) run for each CPU core behind the
/// software adapter: more splits only add partial sums to store and add up.
const REGISTER_THREADS_PER_CORE: usize = 32;

/// A barrier-free square sum of at most this many values runs on one thread; a longer one is
/// shared among threads first. So does a softmax cross-entropy of at most this many logits.
const SERIAL_SUM_LIMIT: usize = 4096;
/// Inputs one dispatch of `add_sum_serial` adds up.
const SERIAL_SUM_INPUTS: usize = 6;

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

/// Sizes of a matrix product `op(a)·op(b)`: `[m, k]·[k, n]`, with which operands are transposed.
#[derive(Clone, Copy)]
struct Product {
    m: usize,
    k: usize,
    n: usize,
    ta: bool,
    tb: bool,
}

fn count(shape: &[usize]) -> u32 {
    u32::try_from(shape.iter().product::<usize>()).expect("tensor too large for the GPU backend")
}

fn u(v: usize) -> u32 {
    u32::try_from(v).expect("size fits in u32")
}

/// Terms of k each workgroup layer sums when a product wants `splits` layers: never fewer than
/// [`MIN_SPLIT_K`] per layer, and a multiple of the kernel's k step.
fn split_k(k: usize, splits: usize, step: usize) -> usize {
    let splits = splits.clamp(1, (k / MIN_SPLIT_K).max(1));
    k.div_ceil(splits).next_multiple_of(step)
}

/// The launch of a register-block kernel over `across × down` blocks and `splits` workgroup
/// layers: one block per thread in row-major order, [`REGISTER_GROUP`] threads a workgroup, spread
/// over y past the 65,535-workgroup limit of x.
fn register_launch(across: usize, down: usize, splits: usize) -> Launch {
    let (x, y) = context::spread(u((across * down).div_ceil(REGISTER_GROUP)));
    Launch::Groups(x, y, u(splits))
}

fn activation_code(f: Activation) -> (u32, f32) {
    match f {
        Activation::Relu => (0, 0.0),
        Activation::LeakyRelu(alpha) => (1, alpha),
        Activation::Tanh => (2, 0.0),
        Activation::Sigmoid => (3, 0.0),
        Activation::Gelu => (4, 0.0),
    }
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

    fn map(&self, entry: &str, params: &[u32], inputs: &[&GpuTensor], shape: &[usize], threads: u32) -> GpuTensor {
        let out = self.empty(shape);
        let mut buffers: Vec<&wgpu::Buffer> = inputs.iter().map(|t| t.buffer()).collect();
        buffers.push(out.buffer());
        self.ctx.dispatch(entry, params, &buffers, Launch::Threads(threads));
        out
    }

    /// Threads a barrier-free kernel splits its sum to reach: [`REGISTER_THREADS_PER_CORE`] for
    /// each core.
    fn register_threads(&self) -> usize {
        REGISTER_THREADS_PER_CORE * self.ctx.cores
    }

    /// `c = op(a)·op(b)` into a fresh `[m, n]` tensor, with an optional bias row, by the kernel
    /// this handle records ([`Kernels`]). A tiled product's tile shape follows the operands (a
    /// thin `c` gets thin tiles); a `c` too small to fill the device splits `k` across workgroups
    /// whose partial products are then summed.
    fn matmul_raw(&self, a: &GpuTensor, b: &GpuTensor, p: Product, bias: Option<&GpuTensor>) -> GpuTensor {
        let Product { m, k, n, ta, tb } = p;
        let c = self.empty(&[m, n]);
        let splits_of = |k_per_split: usize| k.div_ceil(k_per_split).max(1);
        let (name, groups, k_per_split) = match self.kernels {
            Kernels::Tiled => {
                let variant = match (m, n) {
                    (..=16, ..=64) => 3,
                    (..=16, _) => 1,
                    (_, ..=16) => 2,
                    _ => 0,
                };
                let (name, wx, wy, kt) = MATMUL_TILES[variant];
                let tiles = (n.div_ceil(4 * wx as usize), m.div_ceil(4 * wy as usize));
                let k_per_split = split_k(
                    k,
                    TARGET_THREADS / (tiles.0 * tiles.1 * (wx * wy) as usize),
                    kt as usize,
                );
                (
                    name,
                    Launch::Groups(u(tiles.0), u(tiles.1), u(splits_of(k_per_split))),
                    k_per_split,
                )
            }
            Kernels::BarrierFree => {
                let vec4 = [m, k, n].iter().all(|d| d.is_multiple_of(4));
                let (name, ..) = MATMUL_REGISTERS_ENTRIES[ta as usize + 2 * tb as usize + 4 * vec4 as usize];
                let blocks = (n.div_ceil(MATMUL_BLOCK.cols()), m.div_ceil(MATMUL_BLOCK.rows));
                let k_per_split = split_k(k, self.register_threads() / (blocks.0 * blocks.1), 4);
                (
                    name,
                    register_launch(blocks.0, blocks.1, splits_of(k_per_split)),
                    k_per_split,
                )
            }
        };
        let splits = splits_of(k_per_split);
        // An unused bias binding still needs a buffer; `a` is read-only there, so it may alias.
        let bias_buffer = bias.map_or(a.buffer(), |t| t.buffer());
        let flags = ta as u32 | (tb as u32) << 1 | (bias.is_some() as u32) << 2;
        if splits == 1 {
            self.ctx.dispatch(
                name,
                &[u(m), u(k), u(n), flags, u(k_per_split)],
                &[a.buffer(), b.buffer(), bias_buffer, c.buffer()],
                groups,
            );
        } else {
            let partials = self.empty(&[splits, m, n]);
            self.ctx.dispatch(
                name,
                &[u(m), u(k), u(n), flags | 8, u(k_per_split)],
                &[a.buffer(), b.buffer(), bias_buffer, partials.buffer()],
                groups,
            );
            self.sum_splits(&partials, bias_buffer, flags & 4, &c);
        }
        c
    }

    /// `c` `[m, n]` = the sum of `partials` `[splits, m, n]` (+ the bias row when `flags` has 4).
    fn sum_splits(&self, partials: &GpuTensor, bias: &wgpu::Buffer, flags: u32, c: &GpuTensor) {
        let (splits, m, n) = (partials.shape[0], partials.shape[1], partials.shape[2]);
        let (entry, lanes) = match self.kernels {
            Kernels::Tiled => ("sum_splits", SUM_LANES),
            Kernels::BarrierFree => ("sum_splits_serial", 1),
        };
        self.ctx.dispatch(
            entry,
            &[u(m), u(n), u(splits), flags],
            &[partials.buffer(), bias, c.buffer()],
            Launch::Threads(u(m * n * lanes)),
        );
    }

    /// The barrier-free convolution: `conv_registers.wgsl` reads each receptive field from `x`.
    fn conv_forward_registers(&self, x: &GpuTensor, w: &GpuTensor, b: &GpuTensor, p: &[u32; 10]) -> GpuTensor {
        let o = w.shape[0];
        let y = self.empty(&[x.shape[0], o, p[6] as usize, p[7] as usize]);
        let positions = (p[0] * p[6] * p[7]) as usize;
        let mut params = p.to_vec();
        params.extend([u(o), 4]);
        let groups = register_launch(
            positions.div_ceil(CONV_FORWARD_BLOCK.cols()),
            o.div_ceil(CONV_FORWARD_BLOCK.rows),
            1,
        );
        self.ctx.dispatch(
            "conv_forward_registers",
            &params,
            &[x.buffer(), w.buffer(), b.buffer(), y.buffer()],
            groups,
        );
        y
    }

    /// dw of the barrier-free convolution, straight from `dy` and `x`, its output positions split
    /// across workgroup layers until about [`Gpu::register_threads`] threads run.
    fn conv_weight_grad_registers(
        &self,
        dy: &GpuTensor,
        x: &GpuTensor,
        p: &[u32; 10],
        kernel_shape: &[usize],
    ) -> GpuTensor {
        let (o, patch) = (kernel_shape[0], kernel_shape[1..].iter().product::<usize>());
        let positions = (p[0] * p[6] * p[7]) as usize;
        let blocks = (
            patch.div_ceil(CONV_WEIGHT_BLOCK.cols()),
            o.div_ceil(CONV_WEIGHT_BLOCK.rows),
        );
        let per_split = split_k(positions, self.register_threads() / (blocks.0 * blocks.1), 1);
        let splits = positions.div_ceil(per_split).max(1);
        let dw = self.empty(&[o, patch]);
        let target = if splits == 1 {
            dw.clone()
        } else {
            self.empty(&[splits, o, patch])
        };
        let mut params = p.to_vec();
        params.extend([u(o), if splits == 1 { 0 } else { 8 }, u(per_split)]);
        let groups = register_launch(blocks.0, blocks.1, splits);
        self.ctx.dispatch(
            "conv_weight_grad_registers",
            &params,
            &[x.buffer(), dy.buffer(), target.buffer()],
            groups,
        );
        if splits > 1 {
            self.sum_splits(&target, target.buffer(), 0, &dw);
        }
        self.reshape(&dw, kernel_shape)
    }

    fn conv_params(x: &[usize], w: &[usize], g: Conv2dGeometry) -> [u32; 10] {
        let oh = g.output_extent(x[2], w[2]).expect("kernel taller than padded input");
        let ow = g.output_extent(x[3], w[3]).expect("kernel wider than padded input");
        [x[0], x[1], x[2], x[3], w[2], w[3], oh, ow, g.stride, g.padding].map(u)
    }

    /// `[c·kh·kw, n·oh·ow]` receptive fields of `x`.
    fn im2col(&self, x: &GpuTensor, p: &[u32; 10]) -> GpuTensor {
        let rows = (p[1] * p[4] * p[5]) as usize;
        let cols = (p[0] * p[6] * p[7]) as usize;
        self.map("im2col", p, &[x], &[rows, cols], u(rows * cols))
    }

    /// `dy` `[n, o, oh, ow]` as `[o, n·oh·ow]`, the layout both conv gradients multiply.
    fn channels_first(&self, dy: &GpuTensor, p: &[u32; 10]) -> GpuTensor {
        let (o, columns) = (dy.shape[1], (p[0] * p[6] * p[7]) as usize);
        self.map(
            "channels_first",
            &[p[0], u(o), p[6] * p[7]],
            &[dy],
            &[o, columns],
            u(o * columns),
        )
    }

    /// dcols = wᵀ · dy (as `[o, n·oh·ow]`), then col2im.
    fn conv_input_grad(&self, dy_cf: &GpuTensor, w: &GpuTensor, p: &[u32; 10], input_shape: &[usize]) -> GpuTensor {
        let (o, patch, columns) = (w.shape[0], w.shape[1] * w.shape[2] * w.shape[3], dy_cf.shape[1]);
        let dcols = self.matmul_raw(
            w,
            dy_cf,
            Product {
                m: patch,
                k: o,
                n: columns,
                ta: true,
                tb: false,
            },
            None,
        );
        self.map("col2im", p, &[&dcols], input_shape, count(input_shape))
    }

    /// dw = dy (as `[o, n·oh·ow]`) · colsᵀ.
    fn conv_weight_grad(&self, dy_cf: &GpuTensor, x: &GpuTensor, p: &[u32; 10], kernel_shape: &[usize]) -> GpuTensor {
        let cols = self.im2col(x, p);
        let (o, patch, columns) = (kernel_shape[0], cols.shape[0], cols.shape[1]);
        let dw = self.matmul_raw(
            dy_cf,
            &cols,
            Product {
                m: o,
                k: columns,
                n: patch,
                ta: false,
                tb: true,
            },
            None,
        );
        self.reshape(&dw, kernel_shape)
    }

    fn pool_params(x: &[usize], g: PoolGeometry) -> [u32; 7] {
        let oh = g.output_extent(x[2]).expect("pool window taller than input");
        let ow = g.output_extent(x[3]).expect("pool window wider than input");
        [x[0] * x[1], x[2], x[3], oh, ow, g.size, g.stride].map(u)
    }

    /// `[n, c, inner, ε]` of a `[n, c, ...]` per-channel op.
    fn norm_params(shape: &[usize], eps: f32) -> [u32; 4] {
        assert!(shape.len() >= 2, "a per-channel op needs [n, c, ...], got {shape:?}");
        [u(shape[0]), u(shape[1]), u(shape[2..].iter().product()), eps.to_bits()]
    }

    /// `[n, H, offset of step t]` of a recurrent step, after checking its shapes as the CPU does.
    fn step_params(xw: &GpuTensor, t: usize, hw: &GpuTensor, state: &GpuTensor, gates: usize) -> [u32; 3] {
        let (n, units) = (state.shape[0], state.shape[1]);
        assert_eq!(hw.shape, [n, gates * units], "recurrent projection shape");
        assert!(
            xw.shape.len() == 3 && xw.shape[1..] == [n, gates * units] && t < xw.shape[0],
            "input projections {:?} at step {t}",
            xw.shape
        );
        [u(n), u(units), u(t * n * gates * units)]
    }

    fn sum_all(&self, x: &GpuTensor) -> GpuTensor {
        let out = self.empty(&[1]);
        self.ctx.dispatch(
            "sum_all",
            &[count(&x.shape)],
            &[x.buffer(), out.buffer()],
            Launch::Groups(1, 1, 1),
        );
        out
    }

    /// An element-wise kernel over `len` values (`params[0]`), four values a thread when `len` is
    /// a multiple of 4.
    fn element_wise(&self, entry: &str, params: &[u32], buffers: &[&wgpu::Buffer], len: usize) {
        if len.is_multiple_of(4) {
            let params: Vec<u32> = std::iter::once(u(len / 4)).chain(params[1..].iter().copied()).collect();
            self.ctx
                .dispatch(vec4_entry(entry), &params, buffers, Launch::Threads(u(len / 4)));
        } else {
            self.ctx.dispatch(entry, params, buffers, Launch::Threads(u(len)));
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
        let width: usize = source.shape[1..].iter().product();
        let mut shape = source.shape.clone();
        shape[0] = indices.len();
        let mut params = vec![u(indices.len() * width), u(width)];
        params.extend_from_slice(indices);
        self.map("gather_rows", &params, &[source], &shape, count(&shape))
    }

    fn matmul(&self, a: &GpuTensor, b: &GpuTensor, transpose_a: bool, transpose_b: bool) -> GpuTensor {
        let (sa, sb) = (&a.shape, &b.shape);
        assert!(
            sa.len() == 2 && sb.len() == 2,
            "matmul takes 2-D operands, got {sa:?} and {sb:?}"
        );
        let (m, k) = if transpose_a { (sa[1], sa[0]) } else { (sa[0], sa[1]) };
        let (k2, n) = if transpose_b { (sb[1], sb[0]) } else { (sb[0], sb[1]) };
        assert_eq!(k, k2, "matmul inner sizes differ: {sa:?} and {sb:?}");
        self.matmul_raw(
            a,
            b,
            Product {
                m,
                k,
                n,
                ta: transpose_a,
                tb: transpose_b,
            },
            None,
        )
    }

    fn dense(&self, x: &GpuTensor, w: &GpuTensor, b: &GpuTensor) -> GpuTensor {
        assert!(
            x.shape.len() == 2 && w.shape.len() == 2 && x.shape[1] == w.shape[0],
            "dense shapes {:?} · {:?}",
            x.shape,
            w.shape
        );
        self.matmul_raw(
            x,
            w,
            Product {
                m: x.shape[0],
                k: x.shape[1],
                n: w.shape[1],
                ta: false,
                tb: false,
            },
            Some(b),
        )
    }

    fn add_bias(&self, x: &GpuTensor, bias: &GpuTensor) -> GpuTensor {
        let channels = x.shape[1];
        assert_eq!(bias.len(), channels, "bias length");
        let inner: usize = x.shape[2..].iter().product();
        self.map(
            "add_bias",
            &[count(&x.shape), u(channels), u(inner)],
            &[x, bias],
            &x.shape,
            count(&x.shape),
        )
    }

    fn bias_grad(&self, dy: &GpuTensor) -> GpuTensor {
        let (n, c) = (dy.shape[0], dy.shape[1]);
        let inner: usize = dy.shape[2..].iter().product();
        let out = self.empty(&[c]);
        let params = [u(n), u(c), u(inner)];
        match self.kernels {
            Kernels::Tiled => self.ctx.dispatch(
                "channel_sum",
                &params,
                &[dy.buffer(), out.buffer()],
                Launch::Groups(u(c), 1, 1),
            ),
            Kernels::BarrierFree => self.ctx.dispatch(
                "channel_sum_serial",
                &params,
                &[dy.buffer(), out.buffer()],
                Launch::Threads(u(c)),
            ),
        }
        out
    }

    /// im2col, one product with the kernel as `[o, c·kh·kw]`, then back to NCHW.
    fn conv2d(&self, x: &GpuTensor, w: &GpuTensor, g: Conv2dGeometry) -> GpuTensor {
        let zero = self.zeros(&[w.shape[0]]);
        self.conv2d_bias(x, w, &zero, g)
    }

    fn conv2d_bias(&self, x: &GpuTensor, w: &GpuTensor, b: &GpuTensor, g: Conv2dGeometry) -> GpuTensor {
        assert_eq!(
            x.shape[1], w.shape[1],
            "conv2d channels: input {:?}, kernel {:?}",
            x.shape, w.shape
        );
        let p = Self::conv_params(&x.shape, &w.shape, g);
        if self.kernels == Kernels::BarrierFree {
            return self.conv_forward_registers(x, w, b, &p);
        }
        let cols = self.im2col(x, &p);
        let (o, patch, columns) = (w.shape[0], cols.shape[0], cols.shape[1]);
        let y = self.matmul_raw(
            w,
            &cols,
            Product {
                m: o,
                k: patch,
                n: columns,
                ta: false,
                tb: false,
            },
            None,
        );
        let shape = [x.shape[0], o, p[6] as usize, p[7] as usize];
        self.map(
            "batch_first_bias",
            &[p[0], u(o), p[6] * p[7]],
            &[&y, b],
            &shape,
            count(&shape),
        )
    }

    fn conv2d_backward_input(
        &self,
        dy: &GpuTensor,
        w: &GpuTensor,
        g: Conv2dGeometry,
        input_shape: &[usize],
    ) -> GpuTensor {
        let p = Self::conv_params(input_shape, &w.shape, g);
        self.conv_input_grad(&self.channels_first(dy, &p), w, &p, input_shape)
    }

    fn conv2d_backward_weight(
        &self,
        dy: &GpuTensor,
        x: &GpuTensor,
        g: Conv2dGeometry,
        kernel_shape: &[usize],
    ) -> GpuTensor {
        let p = Self::conv_params(&x.shape, kernel_shape, g);
        if self.kernels == Kernels::BarrierFree {
            return self.conv_weight_grad_registers(dy, x, &p, kernel_shape);
        }
        self.conv_weight_grad(&self.channels_first(dy, &p), x, &p, kernel_shape)
    }

    /// Both gradients from one channels-first copy of `dy`.
    fn conv2d_backward(
        &self,
        dy: &GpuTensor,
        x: &GpuTensor,
        w: &GpuTensor,
        g: Conv2dGeometry,
        input_grad: bool,
    ) -> (GpuTensor, Option<GpuTensor>) {
        let p = Self::conv_params(&x.shape, &w.shape, g);
        if self.kernels == Kernels::BarrierFree {
            let dw = self.conv_weight_grad_registers(dy, x, &p, &w.shape);
            return (
                dw,
                input_grad.then(|| self.conv_input_grad(&self.channels_first(dy, &p), w, &p, &x.shape)),
            );
        }
        let dy_cf = self.channels_first(dy, &p);
        let dw = self.conv_weight_grad(&dy_cf, x, &p, &w.shape);
        (dw, input_grad.then(|| self.conv_input_grad(&dy_cf, w, &p, &x.shape)))
    }

    fn max_pool2d(&self, x: &GpuTensor, g: PoolGeometry) -> GpuTensor {
        let p = Self::pool_params(&x.shape, g);
        let shape = [x.shape[0], x.shape[1], p[3] as usize, p[4] as usize];
        self.map("max_pool", &p, &[x], &shape, count(&shape))
    }

    fn max_pool2d_backward(&self, x: &GpuTensor, dy: &GpuTensor, g: PoolGeometry) -> GpuTensor {
        let p = Self::pool_params(&x.shape, g);
        if self.kernels == Kernels::BarrierFree && g.size == g.stride {
            let out = self.zeros(&x.shape);
            self.ctx.dispatch(
                "max_pool_backward_scatter",
                &p,
                &[x.buffer(), dy.buffer(), out.buffer()],
                Launch::Threads(count(&dy.shape)),
            );
            return out;
        }
        self.map("max_pool_backward", &p, &[x, dy], &x.shape, count(&x.shape))
    }

    fn avg_pool2d(&self, x: &GpuTensor, g: PoolGeometry) -> GpuTensor {
        let p = Self::pool_params(&x.shape, g);
        let shape = [x.shape[0], x.shape[1], p[3] as usize, p[4] as usize];
        self.map("avg_pool", &p, &[x], &shape, count(&shape))
    }

    fn avg_pool2d_backward(&self, dy: &GpuTensor, g: PoolGeometry, input_shape: &[usize]) -> GpuTensor {
        let p = Self::pool_params(input_shape, g);
        self.map("avg_pool_backward", &p, &[dy], input_shape, count(input_shape))
    }

    fn activation(&self, x: &GpuTensor, f: Activation) -> GpuTensor {
        let (kind, alpha) = activation_code(f);
        let out = self.empty(&x.shape);
        self.element_wise(
            "activation",
            &[count(&x.shape), kind, alpha.to_bits()],
            &[x.buffer(), out.buffer()],
            x.len(),
        );
        out
    }

    fn activation_backward(&self, x: &GpuTensor, y: &GpuTensor, dy: &GpuTensor, f: Activation) -> GpuTensor {
        let (kind, alpha) = activation_code(f);
        let out = self.empty(&x.shape);
        self.element_wise(
            "activation_backward",
            &[count(&x.shape), kind, alpha.to_bits()],
            &[x.buffer(), y.buffer(), dy.buffer(), out.buffer()],
            x.len(),
        );
        out
    }

    fn mul(&self, a: &GpuTensor, b: &GpuTensor) -> GpuTensor {
        assert_eq!(a.shape, b.shape, "mul shapes");
        self.map("mul", &[count(&a.shape)], &[a, b], &a.shape, count(&a.shape))
    }

    fn add_assign(&self, acc: &mut GpuTensor, x: &GpuTensor) {
        assert_eq!(acc.shape, x.shape, "add_assign shapes");
        self.make_unique(acc);
        self.element_wise("add_assign", &[count(&x.shape)], &[acc.buffer(), x.buffer()], x.len());
    }

    fn dropout_mask(&self, shape: &[usize], keep: f32, seed: u64) -> GpuTensor {
        self.map(
            "dropout_mask",
            &[count(shape), fold_seed(seed), keep.to_bits()],
            &[],
            shape,
            count(shape),
        )
    }

    fn softmax(&self, logits: &GpuTensor) -> GpuTensor {
        let (n, k) = (logits.shape[0], logits.shape[1]);
        self.map("softmax", &[u(n), u(k)], &[logits], &logits.shape, u(n))
    }

    fn softmax_cross_entropy(&self, logits: &GpuTensor, labels: &GpuTensor) -> LossOutput<GpuTensor> {
        let (n, k) = (logits.shape[0], logits.shape[1]);
        assert_eq!(labels.shape, [n], "one label per row");
        let grad = self.empty(&logits.shape);
        if self.kernels == Kernels::BarrierFree && n * k <= SERIAL_SUM_LIMIT {
            let (loss_sum, correct) = (self.empty(&[1]), self.empty(&[1]));
            let slots = [
                logits.buffer(),
                labels.buffer(),
                grad.buffer(),
                loss_sum.buffer(),
                correct.buffer(),
            ];
            self.ctx.dispatch(
                "softmax_cross_entropy_serial",
                &[u(n), u(k)],
                &slots,
                Launch::Groups(1, 1, 1),
            );
            return LossOutput {
                loss_sum,
                correct,
                grad,
            };
        }
        let (row_loss, row_correct) = (self.empty(&[n]), self.empty(&[n]));
        self.ctx.dispatch(
            "softmax_cross_entropy",
            &[u(n), u(k)],
            &[
                logits.buffer(),
                labels.buffer(),
                grad.buffer(),
                row_loss.buffer(),
                row_correct.buffer(),
            ],
            Launch::Threads(u(n)),
        );
        if self.kernels == Kernels::BarrierFree {
            let (loss_sum, correct, unused) = (self.empty(&[1]), self.empty(&[1]), self.empty(&[1]));
            let slots = [
                row_loss.buffer(),
                row_correct.buffer(),
                unused.buffer(),
                loss_sum.buffer(),
                correct.buffer(),
            ];
            self.ctx
                .dispatch("loss_totals_serial", &[u(n)], &slots, Launch::Groups(1, 1, 1));
            return LossOutput {
                loss_sum,
                correct,
                grad,
            };
        }
        LossOutput {
            loss_sum: self.sum_all(&row_loss),
            correct: self.sum_all(&row_correct),
            grad,
        }
    }

    fn add_penalty(&self, g: &GpuTensor, p: &GpuTensor, l1: f32, l2: f32) -> GpuTensor {
        assert_eq!(g.shape, p.shape, "penalty shapes");
        self.map(
            "add_penalty",
            &[count(&g.shape), l1.to_bits(), l2.to_bits()],
            &[g, p],
            &g.shape,
            count(&g.shape),
        )
    }

    fn channel_moments(&self, x: &GpuTensor) -> (GpuTensor, GpuTensor) {
        let p = Self::norm_params(&x.shape, 0.0);
        let (mean, var) = (self.empty(&[x.shape[1]]), self.empty(&[x.shape[1]]));
        let slots = [
            x.buffer(),
            x.buffer(),
            x.buffer(),
            x.buffer(),
            mean.buffer(),
            var.buffer(),
        ];
        self.ctx
            .dispatch("channel_moments", &p, &slots, Launch::Groups(p[1], 1, 1));
        (mean, var)
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
        let p = Self::norm_params(&x.shape, eps);
        let affine = self.concat(&[gamma, beta]);
        let (out, scratch) = (self.empty(&x.shape), self.empty(&[1]));
        let slots = [
            x.buffer(),
            mean.buffer(),
            var.buffer(),
            affine.buffer(),
            out.buffer(),
            scratch.buffer(),
        ];
        self.ctx
            .dispatch("batch_norm", &p, &slots, Launch::Threads(count(&x.shape)));
        out
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
        let p = Self::norm_params(&x.shape, eps);
        let moments = self.concat(&[mean, var]);
        let (dgamma, dbeta) = (self.empty(&[x.shape[1]]), self.empty(&[x.shape[1]]));
        let slots = [
            dy.buffer(),
            x.buffer(),
            moments.buffer(),
            moments.buffer(),
            dgamma.buffer(),
            dbeta.buffer(),
        ];
        self.ctx
            .dispatch("batch_norm_param_grads", &p, &slots, Launch::Groups(p[1], 1, 1));
        let coefficients = self.concat(&[gamma, &dgamma, &dbeta]);
        let (dx, scratch) = (self.empty(&x.shape), self.empty(&[1]));
        let slots = [
            dy.buffer(),
            x.buffer(),
            moments.buffer(),
            coefficients.buffer(),
            dx.buffer(),
            scratch.buffer(),
        ];
        self.ctx
            .dispatch("batch_norm_input_grad", &p, &slots, Launch::Threads(count(&x.shape)));
        (dx, dgamma, dbeta)
    }

    fn layer_norm(&self, x: &GpuTensor, gamma: &GpuTensor, beta: &GpuTensor, eps: f32) -> (GpuTensor, GpuTensor) {
        let d = *x.shape.last().expect("layer norm of a scalar");
        assert!(gamma.shape == [d] && beta.shape == [d], "layer norm scale and shift");
        let rows = x.shape.iter().product::<usize>() / d;
        let p = Self::norm_params(&[rows, d], eps);
        let affine = self.concat(&[gamma, beta]);
        let (out, stats) = (self.empty(&x.shape), self.empty(&[rows, 2]));
        let slots = [
            x.buffer(),
            affine.buffer(),
            x.buffer(),
            x.buffer(),
            out.buffer(),
            stats.buffer(),
        ];
        let (gx, gy) = context::spread(p[0]);
        self.ctx.dispatch("layer_norm", &p, &slots, Launch::Groups(gx, gy, 1));
        (out, stats)
    }

    fn layer_norm_backward(
        &self,
        dy: &GpuTensor,
        x: &GpuTensor,
        stats: &GpuTensor,
        gamma: &GpuTensor,
    ) -> (GpuTensor, GpuTensor, GpuTensor) {
        let d = *x.shape.last().expect("layer norm of a scalar");
        let rows = x.shape.iter().product::<usize>() / d;
        assert!(
            dy.shape == x.shape && stats.shape == [rows, 2],
            "layer norm gradient shapes"
        );
        let p = Self::norm_params(&[rows, d], 0.0);
        let (dgamma, dbeta) = (self.empty(&[d]), self.empty(&[d]));
        let slots = [
            dy.buffer(),
            x.buffer(),
            stats.buffer(),
            stats.buffer(),
            dgamma.buffer(),
            dbeta.buffer(),
        ];
        let (gx, gy) = context::spread(p[1]);
        self.ctx
            .dispatch("layer_norm_param_grads", &p, &slots, Launch::Groups(gx, gy, 1));
        let (dx, scratch) = (self.empty(&x.shape), self.empty(&[1]));
        let slots = [
            dy.buffer(),
            x.buffer(),
            stats.buffer(),
            gamma.buffer(),
            dx.buffer(),
            scratch.buffer(),
        ];
        let (gx, gy) = context::spread(p[0]);
        self.ctx
            .dispatch("layer_norm_input_grad", &p, &slots, Launch::Groups(gx, gy, 1));
        (dx, dgamma, dbeta)
    }

    fn lerp(&self, a: &GpuTensor, b: &GpuTensor, t: f32) -> GpuTensor {
        assert_eq!(a.shape, b.shape, "lerp shapes");
        self.map(
            "lerp",
            &[count(&a.shape), t.to_bits()],
            &[a, b],
            &a.shape,
            count(&a.shape),
        )
    }

    fn add_square_sums(&self, acc: &mut GpuTensor, xs: &[&GpuTensor]) {
        assert_eq!(acc.shape, [1], "square-sum accumulator");
        self.make_unique(acc);
        if self.kernels == Kernels::Tiled {
            for x in xs {
                self.ctx.dispatch(
                    "add_square_sum",
                    &[u(x.len())],
                    &[acc.buffer(), x.buffer()],
                    Launch::Groups(1, 1, 1),
                );
            }
            return;
        }
        // Short tensors are squared and summed by the adding thread itself; a long one is first
        // cut into shares of squares summed by many threads.
        let shares: Vec<GpuTensor> = xs
            .iter()
            .filter(|x| x.len() > SERIAL_SUM_LIMIT)
            .map(|x| {
                let per = x.len().div_ceil(self.register_threads()).max(SERIAL_SUM_LIMIT / 4);
                let parts = self.empty(&[x.len().div_ceil(per)]);
                self.ctx.dispatch(
                    "square_sum_parts",
                    &[u(x.len()), u(parts.len())],
                    &[parts.buffer(), x.buffer()],
                    Launch::Groups(u(parts.len().div_ceil(REGISTER_GROUP)), 1, 1),
                );
                parts
            })
            .collect();
        let inputs: Vec<(&GpuTensor, u32)> = xs
            .iter()
            .filter(|x| x.len() <= SERIAL_SUM_LIMIT)
            .map(|&x| (x, 1))
            .chain(shares.iter().map(|parts| (parts, 0)))
            .collect();
        for group in inputs.chunks(SERIAL_SUM_INPUTS) {
            let mut params = [0u32; 2 * SERIAL_SUM_INPUTS];
            for (slot, (x, square)) in params.chunks_mut(2).zip(group) {
                slot.copy_from_slice(&[u(x.len()), *square]);
            }
            let buffers: Vec<&wgpu::Buffer> = std::iter::once(acc.buffer())
                .chain(group.iter().map(|(x, _)| x.buffer()))
                .collect();
            self.ctx
                .dispatch("add_sum_serial", &params, &buffers, Launch::Groups(1, 1, 1));
        }
    }

    fn scale_to_norm(&self, g: &GpuTensor, square_sum: &GpuTensor, max_norm: f32) -> GpuTensor {
        self.map(
            "scale_to_norm",
            &[count(&g.shape), max_norm.to_bits()],
            &[g, square_sum],
            &g.shape,
            count(&g.shape),
        )
    }

    fn clamp(&self, x: &GpuTensor, limit: f32) -> GpuTensor {
        self.map(
            "clamp_values",
            &[count(&x.shape), limit.to_bits()],
            &[x],
            &x.shape,
            count(&x.shape),
        )
    }

    fn concat(&self, parts: &[&GpuTensor]) -> GpuTensor {
        let out = self.empty(&[parts.iter().map(|t| t.len()).sum()]);
        let mut offset = 0;
        for t in parts {
            self.ctx
                .copy(t.buffer(), out.buffer(), offset as u64 * 4, t.len() as u64 * 4);
            offset += t.len();
        }
        out
    }

    fn swap_leading(&self, x: &GpuTensor) -> GpuTensor {
        assert!(
            x.shape.len() >= 2,
            "swap_leading needs two leading axes, got {:?}",
            x.shape
        );
        let mut shape = x.shape.clone();
        shape.swap(0, 1);
        let inner: usize = x.shape[2..].iter().product();
        self.map(
            "swap_leading",
            &[u(x.shape[0]), u(x.shape[1]), u(inner)],
            &[x],
            &shape,
            count(&shape),
        )
    }

    fn lstm_step(
        &self,
        xw: &GpuTensor,
        t: usize,
        hw: &GpuTensor,
        c_prev: &GpuTensor,
    ) -> (GpuTensor, GpuTensor, GpuTensor) {
        let p = Self::step_params(xw, t, hw, c_prev, 4);
        let (h, c, gates) = (
            self.empty(&c_prev.shape),
            self.empty(&c_prev.shape),
            self.empty(&hw.shape),
        );
        let slots = [
            xw.buffer(),
            hw.buffer(),
            c_prev.buffer(),
            hw.buffer(),
            h.buffer(),
            c.buffer(),
            gates.buffer(),
        ];
        self.ctx
            .dispatch("lstm_step", &p, &slots, Launch::Threads(count(&c_prev.shape)));
        (h, c, gates)
    }

    fn lstm_step_backward(
        &self,
        dh: &GpuTensor,
        dc: &GpuTensor,
        gates: &GpuTensor,
        c_prev: &GpuTensor,
    ) -> (GpuTensor, GpuTensor) {
        let (dz, dc_prev, scratch) = (self.empty(&gates.shape), self.empty(&c_prev.shape), self.empty(&[1]));
        let slots = [
            dh.buffer(),
            dc.buffer(),
            gates.buffer(),
            c_prev.buffer(),
            dz.buffer(),
            dc_prev.buffer(),
            scratch.buffer(),
        ];
        self.ctx.dispatch(
            "lstm_step_backward",
            &[u(c_prev.shape[0]), u(c_prev.shape[1])],
            &slots,
            Launch::Threads(count(&c_prev.shape)),
        );
        (dz, dc_prev)
    }

    fn gru_step(&self, xw: &GpuTensor, t: usize, hw: &GpuTensor, h_prev: &GpuTensor) -> (GpuTensor, GpuTensor) {
        let p = Self::step_params(xw, t, hw, h_prev, 3);
        let (h, gates, scratch) = (self.empty(&h_prev.shape), self.empty(&hw.shape), self.empty(&[1]));
        let slots = [
            xw.buffer(),
            hw.buffer(),
            h_prev.buffer(),
            hw.buffer(),
            h.buffer(),
            gates.buffer(),
            scratch.buffer(),
        ];
        self.ctx
            .dispatch("gru_step", &p, &slots, Launch::Threads(count(&h_prev.shape)));
        (h, gates)
    }

    fn gru_step_backward(
        &self,
        dh: &GpuTensor,
        gates: &GpuTensor,
        hw: &GpuTensor,
        h_prev: &GpuTensor,
    ) -> (GpuTensor, GpuTensor, GpuTensor) {
        let (dxw, dhw, dh_prev) = (
            self.empty(&gates.shape),
            self.empty(&gates.shape),
            self.empty(&h_prev.shape),
        );
        let slots = [
            dh.buffer(),
            gates.buffer(),
            hw.buffer(),
            h_prev.buffer(),
            dxw.buffer(),
            dhw.buffer(),
            dh_prev.buffer(),
        ];
        self.ctx.dispatch(
            "gru_step_backward",
            &[u(h_prev.shape[0]), u(h_prev.shape[1])],
            &slots,
            Launch::Threads(count(&h_prev.shape)),
        );
        (dxw, dhw, dh_prev)
    }

    fn augment(&self, x: &GpuTensor, params: &GpuTensor, seed: u32) -> GpuTensor {
        let s = &x.shape;
        assert!(
            s.len() == 4 && params.shape == [s[0], crate::augment::AUGMENT_PARAMS],
            "augment shapes {s:?} and {:?}",
            params.shape
        );
        self.map(
            "augment",
            &[u(s[0]), u(s[1]), u(s[2]), u(s[3]), seed],
            &[x, params],
            s,
            u(s[0] * s[2] * s[3]),
        )
    }

    fn image_features(&self, x: &GpuTensor, stats: &GpuTensor, grayscale: bool, edges: bool) -> GpuTensor {
        let s = &x.shape;
        let out = crate::features::image_channels(s[1], grayscale, edges);
        assert!(
            s.len() == 4 && stats.shape == [2, out],
            "image_features shapes {s:?} and {:?}",
            stats.shape
        );
        let flags = grayscale as u32 | (edges as u32) << 1;
        self.map(
            "image_features",
            &[u(s[0]), u(s[1]), u(s[2]), u(s[3]), flags, u(out)],
            &[x, stats],
            &[s[0], out, s[2], s[3]],
            u(s[0] * out * s[2] * s[3]),
        )
    }

    fn sgd_update(&self, p: &mut GpuTensor, g: &GpuTensor, lr: f32) {
        self.make_unique(p);
        self.element_wise(
            "sgd",
            &[count(&p.shape), lr.to_bits()],
            &[p.buffer(), g.buffer()],
            p.len(),
        );
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
        self.make_unique(p);
        self.make_unique(v);
        let params = [count(&p.shape), lr.to_bits(), momentum.to_bits(), nesterov as u32];
        self.element_wise("momentum", &params, &[p.buffer(), g.buffer(), v.buffer()], p.len());
    }

    fn adam_update(&self, p: &mut GpuTensor, g: &GpuTensor, m: &mut GpuTensor, v: &mut GpuTensor, s: AdamStep) {
        self.make_unique(p);
        self.make_unique(m);
        self.make_unique(v);
        let (alpha, eps) = s.corrected();
        let params = [
            count(&p.shape),
            alpha.to_bits(),
            s.beta1.to_bits(),
            s.beta2.to_bits(),
            eps.to_bits(),
            (s.lr * s.weight_decay).to_bits(),
        ];
        self.element_wise(
            "adam",
            &params,
            &[p.buffer(), g.buffer(), m.buffer(), v.buffer()],
            p.len(),
        );
    }

    fn rmsprop_update(&self, p: &mut GpuTensor, g: &GpuTensor, v: &mut GpuTensor, lr: f32, rho: f32, eps: f32) {
        self.make_unique(p);
        self.make_unique(v);
        self.element_wise(
            "rmsprop",
            &[count(&p.shape), lr.to_bits(), rho.to_bits(), eps.to_bits()],
            &[p.buffer(), g.buffer(), v.buffer()],
            p.len(),
        );
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
