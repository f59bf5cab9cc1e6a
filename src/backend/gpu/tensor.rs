//! Whole-tensor moves, products and sums (`tensor.wgsl`): gathering rows, the bias and its
//! gradient, element-wise products, dropout masks, softmax, sums, transposes and concatenation.

use super::device::Launch;
use super::kernels::{GatherParams, Kernel, LenParams, MaskParams, PlanesParams, RowsParams, SwapParams};
use super::{count, u, Gpu, GpuTensor, Kernels};
use crate::rng::fold_seed;

pub(super) fn gather_rows(gpu: &Gpu, source: &GpuTensor, indices: &[u32]) -> GpuTensor {
    let width: usize = source.shape[1..].iter().product();
    let mut shape = source.shape.clone();
    shape[0] = indices.len();
    let out = gpu.empty(&shape);
    let params = GatherParams {
        len: count(&shape),
        width: u(width),
    };
    gpu.ctx.dispatch_with(
        Kernel::GatherRows,
        &params,
        indices,
        &[out.buffer(), source.buffer()],
        Launch::Threads(count(&shape)),
    );
    out
}

/// `[n, c, inner]` as the planes of a per-channel op.
fn planes(shape: &[usize]) -> PlanesParams {
    PlanesParams {
        n: u(shape[0]),
        o: u(shape[1]),
        q: u(shape[2..].iter().product()),
    }
}

pub(super) fn add_bias(gpu: &Gpu, x: &GpuTensor, bias: &GpuTensor) -> GpuTensor {
    assert_eq!(bias.len(), x.shape[1], "bias length");
    gpu.map(
        Kernel::AddBias,
        &planes(&x.shape),
        &[x, bias],
        &x.shape,
        count(&x.shape),
    )
}

pub(super) fn bias_grad(gpu: &Gpu, dy: &GpuTensor) -> GpuTensor {
    let c = dy.shape[1];
    let out = gpu.empty(&[c]);
    let (kernel, launch) = match gpu.kernels {
        Kernels::Tiled => (Kernel::ChannelSum, Launch::Groups(u(c), 1, 1)),
        Kernels::BarrierFree => (Kernel::ChannelSumSerial, Launch::Threads(u(c))),
    };
    gpu.ctx
        .dispatch(kernel, &planes(&dy.shape), &[out.buffer(), dy.buffer()], launch);
    out
}

pub(super) fn mul(gpu: &Gpu, a: &GpuTensor, b: &GpuTensor) -> GpuTensor {
    assert_eq!(a.shape, b.shape, "mul shapes");
    let params = LenParams { len: count(&a.shape) };
    gpu.map(Kernel::Mul, &params, &[a, b], &a.shape, count(&a.shape))
}

pub(super) fn dropout_mask(gpu: &Gpu, shape: &[usize], keep: f32, seed: u64) -> GpuTensor {
    let params = MaskParams {
        len: count(shape),
        seed: fold_seed(seed),
        keep,
    };
    gpu.map(Kernel::DropoutMask, &params, &[], shape, count(shape))
}

pub(super) fn softmax(gpu: &Gpu, logits: &GpuTensor) -> GpuTensor {
    let (n, k) = (logits.shape[0], logits.shape[1]);
    let params = RowsParams { rows: u(n), k: u(k) };
    gpu.map(Kernel::Softmax, &params, &[logits], &logits.shape, u(n))
}

/// The sum of every value of `x`, as `[1]`, by one workgroup.
pub(super) fn sum_all(gpu: &Gpu, x: &GpuTensor) -> GpuTensor {
    let out = gpu.empty(&[1]);
    gpu.ctx.dispatch(
        Kernel::SumAll,
        &LenParams { len: count(&x.shape) },
        &[out.buffer(), x.buffer()],
        Launch::Groups(1, 1, 1),
    );
    out
}

pub(super) fn swap_leading(gpu: &Gpu, x: &GpuTensor) -> GpuTensor {
    assert!(
        x.shape.len() >= 2,
        "swap_leading needs two leading axes, got {:?}",
        x.shape
    );
    let mut shape = x.shape.clone();
    shape.swap(0, 1);
    let params = SwapParams {
        a: u(x.shape[0]),
        b: u(x.shape[1]),
        inner: u(x.shape[2..].iter().product()),
    };
    gpu.map(Kernel::SwapLeading, &params, &[x], &shape, count(&shape))
}

/// The values of `parts` one after another, by copies on the queue.
pub(super) fn concat(gpu: &Gpu, parts: &[&GpuTensor]) -> GpuTensor {
    let out = gpu.empty(&[parts.iter().map(|t| t.len()).sum()]);
    let mut offset = 0;
    for t in parts {
        gpu.ctx
            .copy(t.buffer(), out.buffer(), offset as u64 * 4, t.len() as u64 * 4);
        offset += t.len();
    }
    out
}
