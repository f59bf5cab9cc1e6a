//! Batch and layer normalisation, forward and backward (`norm.wgsl`). Every kernel of the file
//! binds all six buffers, so the host passes an input again, or a scratch buffer, where a kernel
//! has no use for a slot.

use super::device::{spread, Launch};
use super::kernels::{Kernel, NormParams};
use super::{count, u, Gpu, GpuTensor};
use crate::backend::Backend;

/// The sizes of a `[n, c, ...]` per-channel op.
fn norm_params(shape: &[usize], eps: f32) -> NormParams {
    assert!(shape.len() >= 2, "a per-channel op needs [n, c, ...], got {shape:?}");
    NormParams {
        n: u(shape[0]),
        c: u(shape[1]),
        inner: u(shape[2..].iter().product()),
        eps,
    }
}

pub(super) fn channel_moments(gpu: &Gpu, x: &GpuTensor) -> (GpuTensor, GpuTensor) {
    let p = norm_params(&x.shape, 0.0);
    let (mean, var) = (gpu.empty(&[x.shape[1]]), gpu.empty(&[x.shape[1]]));
    let slots = [
        x.buffer(),
        x.buffer(),
        x.buffer(),
        x.buffer(),
        mean.buffer(),
        var.buffer(),
    ];
    gpu.ctx
        .dispatch(Kernel::ChannelMoments, &p, &slots, Launch::Groups(p.c, 1, 1));
    (mean, var)
}

pub(super) fn batch_norm(
    gpu: &Gpu,
    x: &GpuTensor,
    mean: &GpuTensor,
    var: &GpuTensor,
    gamma: &GpuTensor,
    beta: &GpuTensor,
    eps: f32,
) -> GpuTensor {
    let p = norm_params(&x.shape, eps);
    let affine = gpu.concat(&[gamma, beta]);
    let (out, scratch) = (gpu.empty(&x.shape), gpu.empty(&[1]));
    let slots = [
        x.buffer(),
        mean.buffer(),
        var.buffer(),
        affine.buffer(),
        out.buffer(),
        scratch.buffer(),
    ];
    gpu.ctx
        .dispatch(Kernel::BatchNorm, &p, &slots, Launch::Threads(count(&x.shape)));
    out
}

pub(super) fn batch_norm_backward(
    gpu: &Gpu,
    dy: &GpuTensor,
    x: &GpuTensor,
    mean: &GpuTensor,
    var: &GpuTensor,
    gamma: &GpuTensor,
    eps: f32,
) -> (GpuTensor, GpuTensor, GpuTensor) {
    let p = norm_params(&x.shape, eps);
    let moments = gpu.concat(&[mean, var]);
    let (dgamma, dbeta) = (gpu.empty(&[x.shape[1]]), gpu.empty(&[x.shape[1]]));
    let slots = [
        dy.buffer(),
        x.buffer(),
        moments.buffer(),
        moments.buffer(),
        dgamma.buffer(),
        dbeta.buffer(),
    ];
    gpu.ctx
        .dispatch(Kernel::BatchNormParamGrads, &p, &slots, Launch::Groups(p.c, 1, 1));
    let coefficients = gpu.concat(&[gamma, &dgamma, &dbeta]);
    let (dx, scratch) = (gpu.empty(&x.shape), gpu.empty(&[1]));
    let slots = [
        dy.buffer(),
        x.buffer(),
        moments.buffer(),
        coefficients.buffer(),
        dx.buffer(),
        scratch.buffer(),
    ];
    gpu.ctx
        .dispatch(Kernel::BatchNormInputGrad, &p, &slots, Launch::Threads(count(&x.shape)));
    (dx, dgamma, dbeta)
}

pub(super) fn layer_norm(
    gpu: &Gpu,
    x: &GpuTensor,
    gamma: &GpuTensor,
    beta: &GpuTensor,
    eps: f32,
) -> (GpuTensor, GpuTensor) {
    let d = *x.shape.last().expect("layer norm of a scalar");
    assert!(gamma.shape == [d] && beta.shape == [d], "layer norm scale and shift");
    let rows = x.shape.iter().product::<usize>() / d;
    let p = norm_params(&[rows, d], eps);
    let affine = gpu.concat(&[gamma, beta]);
    let (out, stats) = (gpu.empty(&x.shape), gpu.empty(&[rows, 2]));
    let slots = [
        x.buffer(),
        affine.buffer(),
        x.buffer(),
        x.buffer(),
        out.buffer(),
        stats.buffer(),
    ];
    let (gx, gy) = spread(p.n);
    gpu.ctx
        .dispatch(Kernel::LayerNorm, &p, &slots, Launch::Groups(gx, gy, 1));
    (out, stats)
}

pub(super) fn layer_norm_backward(
    gpu: &Gpu,
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
    let p = norm_params(&[rows, d], 0.0);
    let (dgamma, dbeta) = (gpu.empty(&[d]), gpu.empty(&[d]));
    let slots = [
        dy.buffer(),
        x.buffer(),
        stats.buffer(),
        stats.buffer(),
        dgamma.buffer(),
        dbeta.buffer(),
    ];
    let (gx, gy) = spread(p.c);
    gpu.ctx
        .dispatch(Kernel::LayerNormParamGrads, &p, &slots, Launch::Groups(gx, gy, 1));
    let (dx, scratch) = (gpu.empty(&x.shape), gpu.empty(&[1]));
    let slots = [
        dy.buffer(),
        x.buffer(),
        stats.buffer(),
        gamma.buffer(),
        dx.buffer(),
        scratch.buffer(),
    ];
    let (gx, gy) = spread(p.n);
    gpu.ctx
        .dispatch(Kernel::LayerNormInputGrad, &p, &slots, Launch::Groups(gx, gy, 1));
    (dx, dgamma, dbeta)
}
