//! What the optimiser does to the weights (`update.wgsl`: in place, element-wise, four values a
//! thread where the length allows) and what happens to a gradient before (`gradient.wgsl`: the
//! penalties, the global norm and clipping), with the blend of running statistics.

use super::device::Launch;
use super::kernels::{
    AdamParams, Kernel, LenParams, MomentumParams, PenaltyParams, RmspropParams, ScaleParams, SharesParams, SumsParams,
    REGISTER_GROUP,
};
use super::{count, u, Gpu, GpuTensor, Kernels};
use crate::backend::AdamStep;

/// A barrier-free square sum of at most this many values runs on one thread; a longer one is
/// shared among threads first.
const SERIAL_SUM_LIMIT: usize = 4096;
/// Inputs one dispatch of `add_sum_serial` adds up.
const SERIAL_SUM_INPUTS: usize = 6;

pub(super) fn add_assign(gpu: &Gpu, acc: &mut GpuTensor, x: &GpuTensor) {
    assert_eq!(acc.shape, x.shape, "add_assign shapes");
    gpu.make_unique(acc);
    gpu.element_wise(
        Kernel::AddAssign,
        |len| LenParams { len },
        &[acc.buffer(), x.buffer()],
        x.len(),
    );
}

pub(super) fn sgd(gpu: &Gpu, p: &mut GpuTensor, g: &GpuTensor, lr: f32) {
    gpu.make_unique(p);
    gpu.element_wise(
        Kernel::Sgd,
        |len| ScaleParams { len, value: lr },
        &[p.buffer(), g.buffer()],
        p.len(),
    );
}

pub(super) fn momentum(
    gpu: &Gpu,
    p: &mut GpuTensor,
    g: &GpuTensor,
    v: &mut GpuTensor,
    lr: f32,
    momentum: f32,
    nesterov: bool,
) {
    gpu.make_unique(p);
    gpu.make_unique(v);
    let params = |len| MomentumParams {
        len,
        lr,
        momentum,
        nesterov: nesterov as u32,
    };
    gpu.element_wise(Kernel::Momentum, params, &[p.buffer(), g.buffer(), v.buffer()], p.len());
}

pub(super) fn adam(gpu: &Gpu, p: &mut GpuTensor, g: &GpuTensor, m: &mut GpuTensor, v: &mut GpuTensor, s: AdamStep) {
    gpu.make_unique(p);
    gpu.make_unique(m);
    gpu.make_unique(v);
    let (alpha, eps) = s.corrected();
    let params = |len| AdamParams {
        len,
        alpha,
        beta1: s.beta1,
        beta2: s.beta2,
        eps,
        decay: s.lr * s.weight_decay,
    };
    gpu.element_wise(
        Kernel::Adam,
        params,
        &[p.buffer(), g.buffer(), m.buffer(), v.buffer()],
        p.len(),
    );
}

pub(super) fn rmsprop(gpu: &Gpu, p: &mut GpuTensor, g: &GpuTensor, v: &mut GpuTensor, lr: f32, rho: f32, eps: f32) {
    gpu.make_unique(p);
    gpu.make_unique(v);
    gpu.element_wise(
        Kernel::Rmsprop,
        |len| RmspropParams { len, lr, rho, eps },
        &[p.buffer(), g.buffer(), v.buffer()],
        p.len(),
    );
}

pub(super) fn add_penalty(gpu: &Gpu, g: &GpuTensor, w: &GpuTensor, l1: f32, l2: f32) -> GpuTensor {
    assert_eq!(g.shape, w.shape, "penalty shapes");
    let params = PenaltyParams {
        len: count(&g.shape),
        l1,
        l2,
    };
    gpu.map(Kernel::AddPenalty, &params, &[g, w], &g.shape, count(&g.shape))
}

/// An element-wise kernel of `gradient.wgsl` with one number over `inputs`, into a fresh tensor
/// shaped as the first.
fn scaled(gpu: &Gpu, kernel: Kernel, value: f32, inputs: &[&GpuTensor]) -> GpuTensor {
    let shape = &inputs[0].shape;
    let params = ScaleParams {
        len: count(shape),
        value,
    };
    gpu.map(kernel, &params, inputs, shape, count(shape))
}

pub(super) fn scale_to_norm(gpu: &Gpu, g: &GpuTensor, square_sum: &GpuTensor, max_norm: f32) -> GpuTensor {
    scaled(gpu, Kernel::ScaleToNorm, max_norm, &[g, square_sum])
}

pub(super) fn clamp(gpu: &Gpu, x: &GpuTensor, limit: f32) -> GpuTensor {
    scaled(gpu, Kernel::ClampValues, limit, &[x])
}

pub(super) fn lerp(gpu: &Gpu, a: &GpuTensor, b: &GpuTensor, t: f32) -> GpuTensor {
    assert_eq!(a.shape, b.shape, "lerp shapes");
    scaled(gpu, Kernel::Lerp, t, &[a, b])
}

pub(super) fn add_square_sums(gpu: &Gpu, acc: &mut GpuTensor, xs: &[&GpuTensor]) {
    assert_eq!(acc.shape, [1], "square-sum accumulator");
    gpu.make_unique(acc);
    if gpu.kernels == Kernels::Tiled {
        for x in xs {
            gpu.ctx.dispatch(
                Kernel::AddSquareSum,
                &LenParams { len: u(x.len()) },
                &[acc.buffer(), x.buffer()],
                Launch::Groups(1, 1, 1),
            );
        }
        return;
    }
    // Short tensors are squared and summed by the adding thread itself; a long one is first cut
    // into shares of squares summed by many threads.
    let shares: Vec<GpuTensor> = xs
        .iter()
        .filter(|x| x.len() > SERIAL_SUM_LIMIT)
        .map(|x| {
            let per = x.len().div_ceil(gpu.register_threads()).max(SERIAL_SUM_LIMIT / 4);
            let parts = gpu.empty(&[x.len().div_ceil(per)]);
            let params = SharesParams {
                len: u(x.len()),
                threads: u(parts.len()),
            };
            gpu.ctx.dispatch(
                Kernel::SquareSumParts,
                &params,
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
        let input = |i: usize| group.get(i).map_or((0, 0), |&(x, square)| (u(x.len()), square));
        let ((len0, square0), (len1, square1), (len2, square2)) = (input(0), input(1), input(2));
        let ((len3, square3), (len4, square4), (len5, square5)) = (input(3), input(4), input(5));
        let params = SumsParams {
            len0,
            square0,
            len1,
            square1,
            len2,
            square2,
            len3,
            square3,
            len4,
            square4,
            len5,
            square5,
        };
        let buffers: Vec<&wgpu::Buffer> = std::iter::once(acc.buffer())
            .chain(group.iter().map(|(x, _)| x.buffer()))
            .collect();
        gpu.ctx
            .dispatch(Kernel::AddSumSerial, &params, &buffers, Launch::Groups(1, 1, 1));
    }
}
