//! 2-D convolution: im2col around one matrix product with the tiled kernels (`conv.wgsl` holds the
//! moves), or the barrier-free kernels that read each receptive field straight from the image
//! (`conv_registers.wgsl` forward, `conv_weight_registers.wgsl` for the weight gradient, both
//! through `conv_pixel.wgsl`'s reader).

use super::kernels::{ConvParams, Kernel, PlanesParams, CONV_FORWARD_BLOCK, CONV_WEIGHT_BLOCK};
use super::matmul::{product, split_k, sum_splits, Product};
use super::{count, register_launch, u, Gpu, GpuTensor, Kernels};
use crate::backend::{Backend, Conv2dGeometry};

/// The geometry of `x` convolved by kernels of shape `w`.
fn conv_params(x: &[usize], w: &[usize], g: Conv2dGeometry) -> ConvParams {
    let oh = g.output_extent(x[2], w[2]).expect("kernel taller than padded input");
    let ow = g.output_extent(x[3], w[3]).expect("kernel wider than padded input");
    ConvParams {
        n: u(x[0]),
        c: u(x[1]),
        h: u(x[2]),
        w: u(x[3]),
        kh: u(w[2]),
        kw: u(w[3]),
        oh: u(oh),
        ow: u(ow),
        stride: u(g.stride),
        padding: u(g.padding),
        filters: u(w[0]),
        flags: 0,
        per_split: 0,
    }
}

/// Output positions of a convolution: images × rows × columns.
fn positions(p: &ConvParams) -> usize {
    (p.n * p.oh * p.ow) as usize
}

pub(super) fn forward(gpu: &Gpu, x: &GpuTensor, w: &GpuTensor, b: &GpuTensor, g: Conv2dGeometry) -> GpuTensor {
    assert_eq!(
        x.shape[1], w.shape[1],
        "conv2d channels: input {:?}, kernel {:?}",
        x.shape, w.shape
    );
    let p = conv_params(&x.shape, &w.shape, g);
    if gpu.kernels == Kernels::BarrierFree {
        return forward_registers(gpu, x, w, b, p);
    }
    let cols = im2col(gpu, x, &p);
    let (o, patch, columns) = (w.shape[0], cols.shape[0], cols.shape[1]);
    let y = product(
        gpu,
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
    let shape = [x.shape[0], o, p.oh as usize, p.ow as usize];
    let planes = PlanesParams {
        n: p.n,
        o: u(o),
        q: p.oh * p.ow,
    };
    gpu.map(Kernel::BatchFirstBias, &planes, &[&y, b], &shape, count(&shape))
}

pub(super) fn backward_input(
    gpu: &Gpu,
    dy: &GpuTensor,
    w: &GpuTensor,
    g: Conv2dGeometry,
    input_shape: &[usize],
) -> GpuTensor {
    let p = conv_params(input_shape, &w.shape, g);
    input_grad(gpu, &channels_first(gpu, dy, &p), w, &p, input_shape)
}

pub(super) fn backward_weight(
    gpu: &Gpu,
    dy: &GpuTensor,
    x: &GpuTensor,
    g: Conv2dGeometry,
    kernel_shape: &[usize],
) -> GpuTensor {
    let p = conv_params(&x.shape, kernel_shape, g);
    if gpu.kernels == Kernels::BarrierFree {
        return weight_grad_registers(gpu, dy, x, p, kernel_shape);
    }
    weight_grad(gpu, &channels_first(gpu, dy, &p), x, &p, kernel_shape)
}

/// Both gradients from one channels-first copy of `dy`.
pub(super) fn backward(
    gpu: &Gpu,
    dy: &GpuTensor,
    x: &GpuTensor,
    w: &GpuTensor,
    g: Conv2dGeometry,
    want_input_grad: bool,
) -> (GpuTensor, Option<GpuTensor>) {
    let p = conv_params(&x.shape, &w.shape, g);
    if gpu.kernels == Kernels::BarrierFree {
        let dw = weight_grad_registers(gpu, dy, x, p, &w.shape);
        let dx = want_input_grad.then(|| input_grad(gpu, &channels_first(gpu, dy, &p), w, &p, &x.shape));
        return (dw, dx);
    }
    let dy_cf = channels_first(gpu, dy, &p);
    let dw = weight_grad(gpu, &dy_cf, x, &p, &w.shape);
    (dw, want_input_grad.then(|| input_grad(gpu, &dy_cf, w, &p, &x.shape)))
}

/// The barrier-free convolution: `conv_registers.wgsl` reads each receptive field from `x`.
fn forward_registers(gpu: &Gpu, x: &GpuTensor, w: &GpuTensor, b: &GpuTensor, p: ConvParams) -> GpuTensor {
    let o = w.shape[0];
    let y = gpu.empty(&[x.shape[0], o, p.oh as usize, p.ow as usize]);
    let groups = register_launch(
        positions(&p).div_ceil(CONV_FORWARD_BLOCK.cols()),
        o.div_ceil(CONV_FORWARD_BLOCK.rows),
        1,
    );
    gpu.ctx.dispatch(
        Kernel::ConvForwardRegisters,
        &ConvParams { flags: 4, ..p },
        &[x.buffer(), w.buffer(), b.buffer(), y.buffer()],
        groups,
    );
    y
}

/// dw of the barrier-free convolution, straight from `dy` and `x`, its output positions split
/// across workgroup layers until about [`Gpu::register_threads`] threads run.
fn weight_grad_registers(gpu: &Gpu, dy: &GpuTensor, x: &GpuTensor, p: ConvParams, kernel_shape: &[usize]) -> GpuTensor {
    let (o, patch) = (kernel_shape[0], kernel_shape[1..].iter().product::<usize>());
    let positions = positions(&p);
    let blocks = (
        patch.div_ceil(CONV_WEIGHT_BLOCK.cols()),
        o.div_ceil(CONV_WEIGHT_BLOCK.rows),
    );
    let per_split = split_k(positions, gpu.register_threads() / (blocks.0 * blocks.1), 1);
    let splits = positions.div_ceil(per_split).max(1);
    let dw = gpu.empty(&[o, patch]);
    let target = if splits == 1 {
        dw.clone()
    } else {
        gpu.empty(&[splits, o, patch])
    };
    let params = ConvParams {
        flags: if splits == 1 { 0 } else { 8 },
        per_split: u(per_split),
        ..p
    };
    gpu.ctx.dispatch(
        Kernel::ConvWeightGradRegisters,
        &params,
        &[x.buffer(), dy.buffer(), target.buffer()],
        register_launch(blocks.0, blocks.1, splits),
    );
    if splits > 1 {
        sum_splits(gpu, &target, target.buffer(), 0, &dw);
    }
    gpu.reshape(&dw, kernel_shape)
}

/// `[c·kh·kw, n·oh·ow]` receptive fields of `x`.
fn im2col(gpu: &Gpu, x: &GpuTensor, p: &ConvParams) -> GpuTensor {
    let rows = (p.c * p.kh * p.kw) as usize;
    let cols = positions(p);
    gpu.map(Kernel::Im2col, p, &[x], &[rows, cols], u(rows * cols))
}

/// `dy` `[n, o, oh, ow]` as `[o, n·oh·ow]`, the layout both conv gradients multiply.
fn channels_first(gpu: &Gpu, dy: &GpuTensor, p: &ConvParams) -> GpuTensor {
    let (o, columns) = (dy.shape[1], positions(p));
    let planes = PlanesParams {
        n: p.n,
        o: u(o),
        q: p.oh * p.ow,
    };
    gpu.map(Kernel::ChannelsFirst, &planes, &[dy], &[o, columns], u(o * columns))
}

/// dcols = wᵀ · dy (as `[o, n·oh·ow]`), then col2im.
fn input_grad(gpu: &Gpu, dy_cf: &GpuTensor, w: &GpuTensor, p: &ConvParams, input_shape: &[usize]) -> GpuTensor {
    let (o, patch, columns) = (w.shape[0], w.shape[1] * w.shape[2] * w.shape[3], dy_cf.shape[1]);
    let dcols = product(
        gpu,
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
    gpu.map(Kernel::Col2im, p, &[&dcols], input_shape, count(input_shape))
}

/// dw = dy (as `[o, n·oh·ow]`) · colsᵀ.
fn weight_grad(gpu: &Gpu, dy_cf: &GpuTensor, x: &GpuTensor, p: &ConvParams, kernel_shape: &[usize]) -> GpuTensor {
    let cols = im2col(gpu, x, p);
    let (o, patch, columns) = (kernel_shape[0], cols.shape[0], cols.shape[1]);
    let dw = product(
        gpu,
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
    gpu.reshape(&dw, kernel_shape)
}
