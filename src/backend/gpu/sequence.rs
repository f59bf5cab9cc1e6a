//! Ops over the steps of sequences (`sequence.wgsl`): the (masked) mean over steps.

use super::kernels::{Kernel, StepsParams};
use super::{count, u, Gpu, GpuTensor};

fn params(n: usize, steps: usize, dim: usize, mask: Option<&GpuTensor>) -> StepsParams {
    if let Some(m) = mask {
        assert_eq!(m.shape, [n, steps], "a mask per step of each sample");
    }
    StepsParams {
        n: u(n),
        steps: u(steps),
        dim: u(dim),
        masked: u32::from(mask.is_some()),
    }
}

pub(super) fn mean_steps(gpu: &Gpu, x: &GpuTensor, mask: Option<&GpuTensor>) -> GpuTensor {
    let (n, steps, dim) = (x.shape[0], x.shape[1], x.shape[2]);
    let p = params(n, steps, dim, mask);
    // Without a mask the kernel reads none; x fills its binding.
    gpu.map(
        Kernel::MeanSteps,
        &p,
        &[x, mask.unwrap_or(x)],
        &[n, dim],
        count(&[n, dim]),
    )
}

pub(super) fn mean_steps_backward(gpu: &Gpu, dy: &GpuTensor, mask: Option<&GpuTensor>, steps: usize) -> GpuTensor {
    let (n, dim) = (dy.shape[0], dy.shape[1]);
    let p = params(n, steps, dim, mask);
    let shape = [n, steps, dim];
    gpu.map(
        Kernel::MeanStepsBackward,
        &p,
        &[dy, mask.unwrap_or(dy)],
        &shape,
        count(&shape),
    )
}
