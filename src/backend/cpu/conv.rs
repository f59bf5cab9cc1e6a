//! 2-D convolution on the CPU as matrix products over each image's receptive fields, the
//! `[c·kh·kw, oh·ow]` matrix im2col would build. The forward pass and the weight gradient read the
//! fields straight from a zero-padded copy of the image as the packed product packs its panels
//! (implicit GEMM: building the matrix cost a fifth of a LeNet step); the input gradient builds the
//! fields' gradient as a matrix and folds it back onto the image (col2im).

use super::matmul::gemm_into;
use super::packed::{product, Rhs, NR};
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

    /// Height and width of an image with its padding.
    fn padded_extent(&self) -> (usize, usize) {
        (self.h + 2 * self.g.padding, self.w + 2 * self.g.padding)
    }

    /// Calls `f(i, fields)` with the receptive fields of each image `i` of the batch `x` (one
    /// padded copy at a time, its buffer reused).
    fn each_padded(&self, x: &[f32], transposed: bool, mut f: impl FnMut(usize, &Fields)) {
        let (ph, pw) = self.padded_extent();
        let (tap_base, pixel_offset) = field_places(self);
        let mut padded = vec![0.0; self.c * ph * pw];
        for (i, image) in x.chunks_exact(self.c * self.h * self.w).enumerate() {
            self.pad(image, &mut padded);
            let fields = Fields {
                padded: &padded,
                tap_base: &tap_base,
                pixel_offset: &pixel_offset,
                transposed,
            };
            f(i, &fields);
        }
    }

    /// Copies `image` into the middle of `padded` (`[c, h + 2p, w + 2p]`, its border left zero).
    fn pad(&self, image: &[f32], padded: &mut [f32]) {
        let (ph, pw) = self.padded_extent();
        let p = self.g.padding;
        for (plane, out) in image
            .chunks_exact(self.h * self.w)
            .zip(padded.chunks_exact_mut(ph * pw))
        {
            for (row, out_row) in plane.chunks_exact(self.w).zip(out.chunks_exact_mut(pw).skip(p)) {
                out_row[p..p + self.w].copy_from_slice(row);
            }
        }
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

/// The receptive fields of one image, read from its zero-padded copy: element `(tap, pixel)` lies
/// at `padded[tap_base[tap] + pixel_offset[pixel]]`. As a product's right operand it is the
/// `[taps, pixels]` matrix, or its transpose `[pixels, taps]` when `transposed`.
struct Fields<'a> {
    padded: &'a [f32],
    tap_base: &'a [usize],
    pixel_offset: &'a [usize],
    transposed: bool,
}

impl Rhs for Fields<'_> {
    fn pack(&self, panel: &mut [f32], p0: usize, kc: usize, col: usize, n: usize) {
        let (rows, cols) = if self.transposed {
            (self.pixel_offset, self.tap_base)
        } else {
            (self.tap_base, self.pixel_offset)
        };
        // Columns at or past `n` repeat the last one: the product never stores what they give.
        let last = cols[n - 1];
        let mut across = [last; NR];
        for (a, &place) in across.iter_mut().zip(&cols[col..n.min(col + NR)]) {
            *a = place;
        }
        // Eight neighbouring pixels of one output row at stride 1 are eight neighbouring inputs.
        let run = !self.transposed && across.iter().enumerate().all(|(j, &a)| a == across[0] + j);
        for (step, &row) in panel.chunks_exact_mut(NR).zip(&rows[p0..p0 + kc]) {
            if run {
                step.copy_from_slice(&self.padded[row + across[0]..row + across[0] + NR]);
            } else {
                for (v, &a) in step.iter_mut().zip(&across) {
                    *v = self.padded[row + a];
                }
            }
        }
    }
}

/// The places of the receptive fields in a padded image: `(tap_base, pixel_offset)` of [`Fields`].
fn field_places(d: &ConvDims) -> (Vec<usize>, Vec<usize>) {
    let (ph, pw) = d.padded_extent();
    let mut taps = Vec::with_capacity(d.patch());
    for ci in 0..d.c {
        for ky in 0..d.kh {
            for kx in 0..d.kw {
                taps.push((ci * ph + ky) * pw + kx);
            }
        }
    }
    let s = d.g.stride;
    let pixels = (0..d.oh)
        .flat_map(|oy| (0..d.ow).map(move |ox| oy * s * pw + ox * s))
        .collect();
    (taps, pixels)
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
    d.each_padded(x, false, |i, fields| {
        let yi = &mut y[i * d.o * pixels..(i + 1) * d.o * pixels];
        product(yi, w, false, fields, d.o, patch, pixels, bias.is_some());
    });
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

/// `dw[o, c, kh, kw]` = Σ over images of dy · fieldsᵀ.
pub fn backward_weight(dy: &[f32], x: &[f32], d: &ConvDims) -> Vec<f32> {
    let (patch, pixels) = (d.patch(), d.pixels());
    let mut dw = vec![0.0; d.o * patch];
    d.each_padded(x, true, |i, fields| {
        let dyi = &dy[i * d.o * pixels..(i + 1) * d.o * pixels];
        product(&mut dw, dyi, false, fields, d.o, pixels, patch, i > 0);
    });
    dw
}
