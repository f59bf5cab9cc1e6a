//! Matrix products: the tiled kernels (`matmul.wgsl`, in four tile shapes) and the barrier-free
//! register-block ones (`matmul_registers.wgsl` with its operand readers), with the sum of split-K
//! partial products (`matmul_splits.wgsl`).

use super::device::Launch;
use super::kernels::{Kernel, MatmulParams, SplitsParams, MATMUL_BLOCK, MATMUL_REGISTERS, MATMUL_TILES};
use super::{register_launch, u, Gpu, GpuTensor, Kernels};

/// A product launches at least this many threads when splitting k can get it there (a large GPU
/// keeps over 100,000 resident; a thin product with a long k, like a conv's weight gradient, would
/// otherwise run on a handful of its cores)…
const TARGET_THREADS: usize = 1 << 16;
/// …but no split gets fewer than this many terms of k.
const MIN_SPLIT_K: usize = 128;
/// Threads that `sum_splits` gives each output (`LANES` in `matmul_splits.wgsl`).
const SUM_LANES: usize = 32;

/// Sizes of a matrix product `op(a)·op(b)`: `[m, k]·[k, n]`, with which operands are transposed.
#[derive(Clone, Copy)]
pub(super) struct Product {
    pub m: usize,
    pub k: usize,
    pub n: usize,
    pub ta: bool,
    pub tb: bool,
}

/// Terms of k each workgroup layer sums when a product wants `splits` layers: never fewer than
/// [`MIN_SPLIT_K`] per layer, and a multiple of the kernel's k step.
pub(super) fn split_k(k: usize, splits: usize, step: usize) -> usize {
    let splits = splits.clamp(1, (k / MIN_SPLIT_K).max(1));
    k.div_ceil(splits).next_multiple_of(step)
}

pub(super) fn matmul(gpu: &Gpu, a: &GpuTensor, b: &GpuTensor, ta: bool, tb: bool) -> GpuTensor {
    let (sa, sb) = (&a.shape, &b.shape);
    assert!(
        sa.len() == 2 && sb.len() == 2,
        "matmul takes 2-D operands, got {sa:?} and {sb:?}"
    );
    let (m, k) = if ta { (sa[1], sa[0]) } else { (sa[0], sa[1]) };
    let (k2, n) = if tb { (sb[1], sb[0]) } else { (sb[0], sb[1]) };
    assert_eq!(k, k2, "matmul inner sizes differ: {sa:?} and {sb:?}");
    product(gpu, a, b, Product { m, k, n, ta, tb }, None)
}

pub(super) fn dense(gpu: &Gpu, x: &GpuTensor, w: &GpuTensor, b: &GpuTensor) -> GpuTensor {
    assert!(
        x.shape.len() == 2 && w.shape.len() == 2 && x.shape[1] == w.shape[0],
        "dense shapes {:?} · {:?}",
        x.shape,
        w.shape
    );
    let p = Product {
        m: x.shape[0],
        k: x.shape[1],
        n: w.shape[1],
        ta: false,
        tb: false,
    };
    product(gpu, x, w, p, Some(b))
}

/// `c = op(a)·op(b)` into a fresh `[m, n]` tensor, with an optional bias row, by the kernel the
/// handle records ([`Kernels`]). A tiled product's tile shape follows the operands (a thin `c`
/// gets thin tiles); a `c` too small to fill the device splits `k` across workgroups whose partial
/// products are then summed.
pub(super) fn product(gpu: &Gpu, a: &GpuTensor, b: &GpuTensor, p: Product, bias: Option<&GpuTensor>) -> GpuTensor {
    let Product { m, k, n, ta, tb } = p;
    let c = gpu.empty(&[m, n]);
    let splits_of = |k_per_split: usize| k.div_ceil(k_per_split).max(1);
    let (kernel, groups, k_per_split) = match gpu.kernels {
        Kernels::Tiled => {
            let variant = match (m, n) {
                (..=16, ..=64) => 3,
                (..=16, _) => 1,
                (_, ..=16) => 2,
                _ => 0,
            };
            let (kernel, wx, wy, kt) = MATMUL_TILES[variant];
            let tiles = (n.div_ceil(4 * wx as usize), m.div_ceil(4 * wy as usize));
            let k_per_split = split_k(
                k,
                TARGET_THREADS / (tiles.0 * tiles.1 * (wx * wy) as usize),
                kt as usize,
            );
            (
                kernel,
                Launch::Groups(u(tiles.0), u(tiles.1), u(splits_of(k_per_split))),
                k_per_split,
            )
        }
        Kernels::BarrierFree => {
            let vec4 = [m, k, n].iter().all(|d| d.is_multiple_of(4));
            let kernel = MATMUL_REGISTERS[ta as usize + 2 * tb as usize + 4 * vec4 as usize];
            let blocks = (n.div_ceil(MATMUL_BLOCK.cols()), m.div_ceil(MATMUL_BLOCK.rows));
            let k_per_split = split_k(k, gpu.register_threads() / (blocks.0 * blocks.1), 4);
            (
                kernel,
                register_launch(blocks.0, blocks.1, splits_of(k_per_split)),
                k_per_split,
            )
        }
    };
    let splits = splits_of(k_per_split);
    // An unused bias binding still needs a buffer; `a` is read-only there, so it may alias.
    let bias_buffer = bias.map_or(a.buffer(), |t| t.buffer());
    let flags = ta as u32 | (tb as u32) << 1 | (bias.is_some() as u32) << 2;
    let params = |flags| MatmulParams {
        m: u(m),
        k: u(k),
        n: u(n),
        flags,
        k_per_split: u(k_per_split),
    };
    if splits == 1 {
        gpu.ctx.dispatch(
            kernel,
            &params(flags),
            &[a.buffer(), b.buffer(), bias_buffer, c.buffer()],
            groups,
        );
    } else {
        let partials = gpu.empty(&[splits, m, n]);
        gpu.ctx.dispatch(
            kernel,
            &params(flags | 8),
            &[a.buffer(), b.buffer(), bias_buffer, partials.buffer()],
            groups,
        );
        sum_splits(gpu, &partials, bias_buffer, flags & 4, &c);
    }
    c
}

/// `c` `[m, n]` = the sum of `partials` `[splits, m, n]` (+ the bias row when `flags` has 4).
pub(super) fn sum_splits(gpu: &Gpu, partials: &GpuTensor, bias: &wgpu::Buffer, flags: u32, c: &GpuTensor) {
    let (splits, m, n) = (partials.shape[0], partials.shape[1], partials.shape[2]);
    let (kernel, lanes) = match gpu.kernels {
        Kernels::Tiled => (Kernel::SumSplits, SUM_LANES),
        Kernels::BarrierFree => (Kernel::SumSplitsSerial, 1),
    };
    let params = SplitsParams {
        m: u(m),
        n: u(n),
        splits: u(splits),
        flags,
    };
    gpu.ctx.dispatch(
        kernel,
        &params,
        &[partials.buffer(), bias, c.buffer()],
        Launch::Threads(u(m * n * lanes)),
    );
}
