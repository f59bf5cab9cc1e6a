//! Max and average pooling on the CPU over `[n, c, h, w]` tensors.

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
                let top = &plane[2 * oy * d.w..];
                let bottom = &plane[(2 * oy + 1) * d.w..];
                for (ox, v) in out_row.iter_mut().enumerate() {
                    *v = top[2 * ox]
                        .max(top[2 * ox + 1])
                        .max(bottom[2 * ox].max(bottom[2 * ox + 1]));
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
    d.for_each_window(|o, corner| dx[d.argmax(x, corner)] += dy[o]);
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
