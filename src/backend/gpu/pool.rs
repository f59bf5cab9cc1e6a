//! Max and average pooling, forward and backward (`pool.wgsl`).

use super::device::Launch;
use super::kernels::{Kernel, PoolParams};
use super::{count, u, Gpu, GpuTensor, Kernels};
use crate::backend::{Backend, PoolGeometry};

fn pool_params(x: &[usize], g: PoolGeometry) -> PoolParams {
    let oh = g.output_extent(x[2]).expect("pool window taller than input");
    let ow = g.output_extent(x[3]).expect("pool window wider than input");
    PoolParams {
        planes: u(x[0] * x[1]),
        h: u(x[2]),
        w: u(x[3]),
        oh: u(oh),
        ow: u(ow),
        size: u(g.size),
        stride: u(g.stride),
    }
}

fn forward(gpu: &Gpu, kernel: Kernel, x: &GpuTensor, g: PoolGeometry) -> GpuTensor {
    let p = pool_params(&x.shape, g);
    let shape = [x.shape[0], x.shape[1], p.oh as usize, p.ow as usize];
    gpu.map(kernel, &p, &[x], &shape, count(&shape))
}

pub(super) fn max_forward(gpu: &Gpu, x: &GpuTensor, g: PoolGeometry) -> GpuTensor {
    forward(gpu, Kernel::MaxPool, x, g)
}

pub(super) fn avg_forward(gpu: &Gpu, x: &GpuTensor, g: PoolGeometry) -> GpuTensor {
    forward(gpu, Kernel::AvgPool, x, g)
}

pub(super) fn max_backward(gpu: &Gpu, x: &GpuTensor, dy: &GpuTensor, g: PoolGeometry) -> GpuTensor {
    let p = pool_params(&x.shape, g);
    if gpu.kernels == Kernels::BarrierFree && g.size == g.stride {
        let out = gpu.zeros(&x.shape);
        gpu.ctx.dispatch(
            Kernel::MaxPoolBackwardScatter,
            &p,
            &[out.buffer(), x.buffer(), dy.buffer()],
            Launch::Threads(count(&dy.shape)),
        );
        return out;
    }
    gpu.map(Kernel::MaxPoolBackward, &p, &[x, dy], &x.shape, count(&x.shape))
}

pub(super) fn avg_backward(gpu: &Gpu, dy: &GpuTensor, g: PoolGeometry, input_shape: &[usize]) -> GpuTensor {
    let p = pool_params(input_shape, g);
    gpu.map(Kernel::AvgPoolBackward, &p, &[dy], input_shape, count(input_shape))
}
