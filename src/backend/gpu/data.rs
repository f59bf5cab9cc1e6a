//! The data's own ops on the device: image augmentation (`augment.wgsl`) and the image feature
//! transform (`features.wgsl`), each checked against its CPU reference.

use super::kernels::{FeatureParams, ImageParams, Kernel};
use super::{u, Gpu, GpuTensor};

pub(super) fn augment(gpu: &Gpu, x: &GpuTensor, params: &GpuTensor, seed: u32) -> GpuTensor {
    let s = &x.shape;
    assert!(
        s.len() == 4 && params.shape == [s[0], crate::augment::AUGMENT_PARAMS],
        "augment shapes {s:?} and {:?}",
        params.shape
    );
    let p = ImageParams {
        n: u(s[0]),
        c: u(s[1]),
        h: u(s[2]),
        w: u(s[3]),
        seed,
    };
    gpu.map(Kernel::Augment, &p, &[x, params], s, u(s[0] * s[2] * s[3]))
}

pub(super) fn image_features(gpu: &Gpu, x: &GpuTensor, stats: &GpuTensor, grayscale: bool, edges: bool) -> GpuTensor {
    let s = &x.shape;
    let channels = crate::features::image_channels(s[1], grayscale, edges);
    assert!(
        s.len() == 4 && stats.shape == [2, channels],
        "image_features shapes {s:?} and {:?}",
        stats.shape
    );
    let p = FeatureParams {
        n: u(s[0]),
        c: u(s[1]),
        h: u(s[2]),
        w: u(s[3]),
        flags: grayscale as u32 | (edges as u32) << 1,
        channels: u(channels),
    };
    gpu.map(
        Kernel::ImageFeatures,
        &p,
        &[x, stats],
        &[s[0], channels, s[2], s[3]],
        u(s[0] * channels * s[2] * s[3]),
    )
}
