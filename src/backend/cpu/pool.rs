//! Max and average pooling on the CPU over `[n, c, h, w]` tensors.

use super::larger;
use crate::backend::PoolGeometry;

#[derive(Clone, Copy, Debug)]
pub struct PoolDims {
    pub planes: usize,
    pub h: usize,
    pub w: usize,
    pub oh: usize,
    pub ow: usize,
    pub g: PoolGeometry,
}

impl PoolDims {
    pub fn new(input: &[usize], g: PoolGeometry) -> Self {
        assert_eq!(input.len(), 4, "pooling input must be [n, c, h, w], got {input:?}");
        let oh = g.output_extent(input[2]).expect("pool window taller than input");
        let ow = g.output_extent(input[3]).expect("pool window wider than input");
        Self {
            planes: input[0] * input[1],
            h: input[2],
            w: input[3],
            oh,
            ow,
            g,
        }
    }

    pub fn output_len(&self) -> usize {
        self.planes * self.oh * self.ow
    }

    /// Calls `f(output_index, window_top_left_input_index)` for every output element.
    fn for_each_window(&self, mut f: impl FnMut(usize, usize)) {
        let s = self.g.stride;
        for plane in 0..self.planes {
            for oy in 0..self.oh {
                for ox in 0..self.ow {
                    f(
                        (plane * self.oh + oy) * self.ow + ox,
                        plane * self.h * self.w + oy * s * self.w + ox * s,
                    );
                }
            }
        }
    }

    /// Input index of the first maximum in the window whose top-left input index is `corner`.
    fn argmax(&self, x: &[f32], corner: usize) -> usize {
        let mut best = corner;
        for dy in 0..self.g.size {
            for dx in 0..self.g.size {
                let i = corner + dy * self.w + dx;
                if x[i] > x[best] {
                    best = i;
                }
            }
        }
        best
    }

    /// The two input rows under output row `oy` of a 2×2, stride-2 pooling of `plane`, each cut
    /// to the `2·ow` columns its windows read.
    fn window_rows<'a>(&self, plane: &'a [f32], oy: usize) -> (&'a [f32], &'a [f32]) {
        let top = 2 * oy * self.w;
        (
            &plane[top..top + 2 * self.ow],
            &plane[top + self.w..top + self.w + 2 * self.ow],
        )
    }

    fn window_sum(&self, x: &[f32], corner: usize) -> f32 {
        (0..self.g.size)
            .map(|dy| {
                x[corner + dy * self.w..corner + dy * self.w + self.g.size]
                    .iter()
                    .sum::<f32>()
            })
            .sum()
    }
}

pub fn max_forward(x: &[f32], d: &PoolDims) -> Vec<f32> {
    let mut y = vec![0.0; d.output_len()];
    if d.g.size == 2 && d.g.stride == 2 {
        // The common case, two input rows at a time.
        for (plane, out) in x.chunks_exact(d.h * d.w).zip(y.chunks_exact_mut(d.oh * d.ow)) {
            for (oy, out_row) in out.chunks_exact_mut(d.ow).enumerate() {
                let (top, bottom) = d.window_rows(plane, oy);
                for ((v, t), b) in out_row.iter_mut().zip(top.chunks_exact(2)).zip(bottom.chunks_exact(2)) {
                    *v = larger(larger(t[0], t[1]), larger(b[0], b[1]));
                }
            }
        }
    } else {
        d.for_each_window(|o, corner| y[o] = x[d.argmax(x, corner)]);
    }
    y
}

/// The gradient goes to the first maximum of each window (a tie does not split it).
pub fn max_backward(x: &[f32], dy: &[f32], d: &PoolDims) -> Vec<f32> {
    let mut dx = vec![0.0; x.len()];
    if d.g.size == 2 && d.g.stride == 2 {
        // The common case: windows do not overlap, so each takes its own four places.
        let plane_len = d.h * d.w;
        for (p, (plane, grads)) in x.chunks_exact(plane_len).zip(dy.chunks_exact(d.oh * d.ow)).enumerate() {
            for (oy, grad_row) in grads.chunks_exact(d.ow).enumerate() {
                let (top, bottom) = d.window_rows(plane, oy);
                let row = p * plane_len + 2 * oy * d.w;
                for (ox, ((&g, t), b)) in grad_row
                    .iter()
                    .zip(top.chunks_exact(2))
                    .zip(bottom.chunks_exact(2))
                    .enumerate()
                {
                    // The first maximum in reading order, as `argmax` finds it.
                    let mut best = (t[0], row + 2 * ox);
                    for (v, i) in [
                        (t[1], row + 2 * ox + 1),
                        (b[0], row + d.w + 2 * ox),
                        (b[1], row + d.w + 2 * ox + 1),
                    ] {
                        if v > best.0 {
                            best = (v, i);
                        }
                    }
                    dx[best.1] += g;
                }
            }
        }
    } else {
        d.for_each_window(|o, corner| dx[d.argmax(x, corner)] += dy[o]);
    }
    dx
}

pub fn avg_forward(x: &[f32], d: &PoolDims) -> Vec<f32> {
    let scale = 1.0 / (d.g.size * d.g.size) as f32;
    let mut y = vec![0.0; d.output_len()];
    d.for_each_window(|o, corner| y[o] = d.window_sum(x, corner) * scale);
    y
}

pub fn avg_backward(dy: &[f32], d: &PoolDims) -> Vec<f32> {
    let scale = 1.0 / (d.g.size * d.g.size) as f32;
    let mut dx = vec![0.0; d.planes * d.h * d.w];
    d.for_each_window(|o, corner| {
        for row in 0..d.g.size {
            let start = corner + row * d.w;
            dx[start..start + d.g.size].iter_mut().for_each(|v| *v += dy[o] * scale);
        }
    });
    dx
}
