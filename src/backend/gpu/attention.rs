//! Multi-head attention, forward and backward (`attention.wgsl`): the weights (a masked softmax of
//! scaled scores, a row a thread), and the gradients, one thread an output value; the weighted sum
//! over steps (and its transpose) serves the output and three of the gradients.

use super::kernels::{AttentionParams, Kernel};
use super::{u, Gpu, GpuTensor};
use crate::backend::AttentionGeometry;

fn params(g: AttentionGeometry, masked: bool) -> AttentionParams {
    AttentionParams {
        n: u(g.n),
        steps: u(g.steps),
        heads: u(g.heads),
        key: u(g.key),
        masked: u32::from(masked),
        causal: u32::from(g.causal),
        scale: g.scale(),
    }
}

fn weights_shape(g: AttentionGeometry) -> [usize; 4] {
    [g.n, g.heads, g.steps, g.steps]
}

fn rows(g: AttentionGeometry) -> u32 {
    u(g.n * g.heads * g.steps)
}

pub(super) fn weights(
    gpu: &Gpu,
    q: &GpuTensor,
    k: &GpuTensor,
    mask: Option<&GpuTensor>,
    g: AttentionGeometry,
) -> GpuTensor {
    if let Some(m) = mask {
        assert_eq!(m.shape, [g.n, g.steps], "a mask per step of each sample");
    }
    // Without a mask the kernel reads none; q fills its binding.
    let inputs = [q, k, mask.unwrap_or(q)];
    gpu.map(
        Kernel::AttentionWeights,
        &params(g, mask.is_some()),
        &inputs,
        &weights_shape(g),
        rows(g),
    )
}

pub(super) fn apply(gpu: &Gpu, weights: &GpuTensor, v: &GpuTensor, g: AttentionGeometry) -> GpuTensor {
    let threads = u(v.len());
    gpu.map(
        Kernel::AttentionMix,
        &params(g, false),
        &[weights, v],
        &v.shape,
        threads,
    )
}

pub(super) fn apply_backward(
    gpu: &Gpu,
    weights: &GpuTensor,
    v: &GpuTensor,
    dout: &GpuTensor,
    g: AttentionGeometry,
) -> (GpuTensor, GpuTensor) {
    let p = params(g, false);
    let dweights = gpu.map(
        Kernel::AttentionDweights,
        &p,
        &[dout, v],
        &weights_shape(g),
        u(weights.len()),
    );
    let dv = gpu.map(
        Kernel::AttentionMixTransposed,
        &p,
        &[weights, dout],
        &v.shape,
        u(v.len()),
    );
    (dweights, dv)
}

pub(super) fn weights_backward(
    gpu: &Gpu,
    weights: &GpuTensor,
    dweights: &GpuTensor,
    q: &GpuTensor,
    k: &GpuTensor,
    g: AttentionGeometry,
) -> (GpuTensor, GpuTensor) {
    let p = params(g, false);
    let dscores = gpu.map(
        Kernel::AttentionDscores,
        &p,
        &[weights, dweights],
        &weights_shape(g),
        rows(g),
    );
    let dq = gpu.map(Kernel::AttentionMix, &p, &[&dscores, k], &q.shape, u(q.len()));
    let dk = gpu.map(Kernel::AttentionMixTransposed, &p, &[&dscores, q], &k.shape, u(k.len()));
    (dq, dk)
}
