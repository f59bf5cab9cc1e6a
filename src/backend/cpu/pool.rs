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
        Self { planes: input[0] * input[1], h: input[2], w: input[3], oh, ow, g }
    }

    /// Calls `f(output_index, window_input_indices)` for every output element.
    fn for_each_window(&self, mut f: impl FnMut(usize, &mut dyn Iterator<Item = usize>)) {
        let (k, s) = (self.g.size, self.g.stride);
        for plane in 0..self.planes {
            for oy in 0..self.oh {
                for ox in 0..self.ow {
                    let base = plane * self.h * self.w + oy * s * self.w + ox * s;
                    let mut window = (0..k).flat_map(|dy| (0..k).map(move |dx| base + dy * self.w + dx));
                    f((plane * self.oh + oy) * self.ow + ox, &mut window);
                }
            }
        }
    }

    pub fn output_len(&self) -> usize {
        self.planes * self.oh * self.ow
    }
}

pub fn max_forward(x: &[f32], d: &PoolDims) -> Vec<f32> {
    let mut y = vec![0.0; d.output_len()];
    d.for_each_window(|o, window| y[o] = window.map(|i| x[i]).fold(f32::NEG_INFINITY, f32::max));
    y
}

/// The gradient goes to the first maximum of each window (a tie does not split it).
pub fn max_backward(x: &[f32], dy: &[f32], d: &PoolDims) -> Vec<f32> {
    let mut dx = vec![0.0; x.len()];
    d.for_each_window(|o, window| {
        let mut best = window.next().expect("empty pool window");
        for i in window {
            if x[i] > x[best] {
                best = i;
            }
        }
        dx[best] += dy[o];
    });
    dx
}

pub fn avg_forward(x: &[f32], d: &PoolDims) -> Vec<f32> {
    let scale = 1.0 / (d.g.size * d.g.size) as f32;
    let mut y = vec![0.0; d.output_len()];
    d.for_each_window(|o, window| y[o] = window.map(|i| x[i]).sum::<f32>() * scale);
    y
}

pub fn avg_backward(dy: &[f32], d: &PoolDims) -> Vec<f32> {
    let scale = 1.0 / (d.g.size * d.g.size) as f32;
    let mut dx = vec![0.0; d.planes * d.h * d.w];
    d.for_each_window(|o, window| window.for_each(|i| dx[i] += dy[o] * scale));
    dx
}
