//! 2-D convolution on the CPU by im2col: each image's receptive fields are unrolled into a
//! `[c·kh·kw, oh·ow]` matrix so that the forward pass and both backward passes are matrix products.

use super::matmul::gemm_into;
use crate::backend::Conv2dGeometry;

/// Sizes of one convolution, derived once from the input and kernel shapes.
#[derive(Clone, Copy, Debug)]
pub struct ConvDims {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub o: usize,
    pub kh: usize,
    pub kw: usize,
    pub oh: usize,
    pub ow: usize,
    pub g: Conv2dGeometry,
}

impl ConvDims {
    pub fn new(input: &[usize], kernel: &[usize], g: Conv2dGeometry) -> Self {
        assert_eq!(input.len(), 4, "conv2d input must be [n, c, h, w], got {input:?}");
        assert_eq!(kernel.len(), 4, "conv2d kernel must be [o, c, kh, kw], got {kernel:?}");
        assert_eq!(
            input[1], kernel[1],
            "conv2d channels: input {input:?}, kernel {kernel:?}"
        );
        let oh = g
            .output_extent(input[2], kernel[2])
            .expect("kernel taller than padded input");
        let ow = g
            .output_extent(input[3], kernel[3])
            .expect("kernel wider than padded input");
        Self {
            n: input[0],
            c: input[1],
            h: input[2],
            w: input[3],
            o: kernel[0],
            kh: kernel[2],
            kw: kernel[3],
            oh,
            ow,
            g,
        }
    }

    fn patch(&self) -> usize {
        self.c * self.kh * self.kw
    }

    fn pixels(&self) -> usize {
        self.oh * self.ow
    }

    /// For kernel tap `(ky, kx)` of channel `ci`, calls `f(col_start, input_start, count)` for each
    /// output row `oy`: the `count` outputs from `col_start` read inputs `input_start`,
    /// `input_start + stride`, … (the taps that fall inside the image; the rest read padding).
    fn for_each_tap_row(&self, mut f: impl FnMut(usize, usize, usize)) {
        let (s, p) = (self.g.stride, self.g.padding);
        for ci in 0..self.c {
            for ky in 0..self.kh {
                for kx in 0..self.kw {
                    let row = (ci * self.kh + ky) * self.kw + kx;
                    // ix = ox·s + kx − p must lie in [0, w): ox in [first, last].
                    let first = p.saturating_sub(kx).div_ceil(s);
                    let Some(last) = (self.w + p).checked_sub(kx + 1).map(|v| (v / s).min(self.ow - 1)) else {
                        continue;
                    };
                    if first > last {
                        continue;
                    }
                    for oy in 0..self.oh {
                        let iy = (oy * s + ky) as isize - p as isize;
                        if iy < 0 || iy >= self.h as isize {
                            continue;
                        }
                        let input = (ci * self.h + iy as usize) * self.w + first * s + kx - p;
                        f(row * self.pixels() + oy * self.ow + first, input, last - first + 1);
                    }
                }
            }
        }
    }

    fn im2col(&self, image: &[f32], cols: &mut [f32]) {
        cols.fill(0.0);
        let s = self.g.stride;
        self.for_each_tap_row(|col, input, count| {
            let dst = &mut cols[col..col + count];
            if s == 1 {
                dst.copy_from_slice(&image[input..input + count]);
            } else {
                dst.iter_mut()
                    .zip(image[input..].iter().step_by(s))
                    .for_each(|(d, v)| *d = *v);
            }
        });
    }

    fn col2im(&self, cols: &[f32], image: &mut [f32]) {
        image.fill(0.0);
        let s = self.g.stride;
        self.for_each_tap_row(|col, input, count| {
            let src = &cols[col..col + count];
            if s == 1 {
                image[input..input + count]
                    .iter_mut()
                    .zip(src)
                    .for_each(|(d, v)| *d += v);
            } else {
                image[input..].iter_mut().step_by(s).zip(src).for_each(|(d, v)| *d += v);
            }
        });
    }
}

/// `y[n, o, oh, ow]`, plus `bias[o]` on channel `o` when given (the product accumulates onto it).
pub fn forward(x: &[f32], w: &[f32], bias: Option<&[f32]>, d: &ConvDims) -> Vec<f32> {
    let (patch, pixels) = (d.patch(), d.pixels());
    let mut y = vec![0.0; d.n * d.o * pixels];
    if let Some(bias) = bias {
        for (i, plane) in y.chunks_exact_mut(pixels).enumerate() {
            plane.fill(bias[i % d.o]);
        }
    }
    let mut cols = vec![0.0; patch * pixels];
    let image = d.c * d.h * d.w;
    for (xi, yi) in x.chunks_exact(image).zip(y.chunks_exact_mut(d.o * pixels)) {
        d.im2col(xi, &mut cols);
        gemm_into(yi, w, &cols, d.o, patch, pixels, false, false, bias.is_some());
    }
    y
}

/// `dx[n, c, h, w]` = col2im(wᵀ · dy) per image.
pub fn backward_input(dy: &[f32], w: &[f32], d: &ConvDims) -> Vec<f32> {
    let (patch, pixels) = (d.patch(), d.pixels());
    let image = d.c * d.h * d.w;
    let mut dx = vec![0.0; d.n * image];
    let mut cols = vec![0.0; patch * pixels];
    for (dyi, dxi) in dy.chunks_exact(d.o * pixels).zip(dx.chunks_exact_mut(image)) {
        gemm_into(&mut cols, w, dyi, patch, d.o, pixels, true, false, false);
        d.col2im(&cols, dxi);
    }
    dx
}

/// `dw[o, c, kh, kw]` = Σ over images of dy · colsᵀ.
pub fn backward_weight(dy: &[f32], x: &[f32], d: &ConvDims) -> Vec<f32> {
    let (patch, pixels) = (d.patch(), d.pixels());
    let image = d.c * d.h * d.w;
    let mut dw = vec![0.0; d.o * patch];
    let mut cols = vec![0.0; patch * pixels];
    for (i, (dyi, xi)) in dy.chunks_exact(d.o * pixels).zip(x.chunks_exact(image)).enumerate() {
        d.im2col(xi, &mut cols);
        gemm_into(&mut dw, dyi, &cols, d.o, pixels, patch, false, true, i > 0);
    }
    dw
}
