//! Activations and their gradients, element-wise, four values a thread where the length allows
//! (`activation.wgsl`).

use super::kernels::{ActivationParams, Kernel};
use super::{Gpu, GpuTensor};
use crate::backend::Activation;

/// The kernel's code for `f` and its slope below zero.
fn code(f: Activation) -> (u32, f32) {
    match f {
        Activation::Relu => (0, 0.0),
        Activation::LeakyRelu(alpha) => (1, alpha),
        Activation::Tanh => (2, 0.0),
        Activation::Sigmoid => (3, 0.0),
        Activation::Gelu => (4, 0.0),
    }
}

fn params(f: Activation) -> impl Fn(u32) -> ActivationParams {
    let (kind, alpha) = code(f);
    move |len| ActivationParams { len, kind, alpha }
}

pub(super) fn forward(gpu: &Gpu, x: &GpuTensor, f: Activation) -> GpuTensor {
    let out = gpu.empty(&x.shape);
    gpu.element_wise(Kernel::Activation, params(f), &[out.buffer(), x.buffer()], x.len());
    out
}

pub(super) fn backward(gpu: &Gpu, x: &GpuTensor, y: &GpuTensor, dy: &GpuTensor, f: Activation) -> GpuTensor {
    let out = gpu.empty(&x.shape);
    gpu.element_wise(
        Kernel::ActivationBackward,
        params(f),
        &[out.buffer(), x.buffer(), y.buffer(), dy.buffer()],
        x.len(),
    );
    out
}
