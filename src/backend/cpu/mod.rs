//! The reference backend: eager computation on `ndarray` arrays, matrix products through
//! `gemm_into` (the `gemm` crate natively, a packed SIMD128 product on wasm).

mod attention;
mod conv;
mod math;
mod matmul;
mod packed;
mod pool;
mod recurrent;

pub use matmul::gemm_into;

use super::{
    Activation, AdamStep, AttentionGeometry, Backend, Conv2dGeometry, DeviceLost, LossOutput, PoolGeometry, GELU_CUBIC,
    GELU_SCALE,
};
use crate::rng::{counter_uniform, fold_seed};
use ndarray::{ArcArray, IxDyn};

/// A CPU tensor: a shared, copy-on-write n-dimensional array, so cloning a handle is cheap.
pub type CpuTensor = ArcArray<f32, IxDyn>;

#[derive(Clone, Copy, Debug, Default)]
pub struct Cpu;

fn tensor(shape: &[usize], data: Vec<f32>) -> CpuTensor {
    ArcArray::from_shape_vec(IxDyn(shape), data).expect("tensor data length matches its shape")
}

/// `(n, c, inner)` of a `[n, c, ...]` shape: batch, channels, and the elements per channel per sample.
fn channel_layout(shape: &[usize]) -> (usize, usize, usize) {
    assert!(shape.len() >= 2, "a per-channel op needs [n, c, ...], got {shape:?}");
    (shape[0], shape[1], shape[2..].iter().product())
}

fn data(t: &CpuTensor) -> &[f32] {
    t.as_slice().expect("CPU tensors are contiguous and row-major")
}

fn data_mut(t: &mut CpuTensor) -> &mut [f32] {
    t.as_slice_mut().expect("CPU tensors are contiguous and row-major")
}

fn map(t: &CpuTensor, f: impl Fn(f32) -> f32) -> CpuTensor {
    tensor(t.shape(), data(t).iter().map(|&x| f(x)).collect())
}

fn zip3(a: &CpuTensor, b: &CpuTensor, c: &CpuTensor, f: impl Fn(f32, f32, f32) -> f32) -> CpuTensor {
    assert_eq!(a.shape(), c.shape());
    assert_eq!(b.shape(), c.shape());
    let out = data(a)
        .iter()
        .zip(data(b))
        .zip(data(c))
        .map(|((&x, &y), &z)| f(x, y, z))
        .collect();
    tensor(a.shape(), out)
}

/// `body` with `k` bound to `f` as a constant of its kind, one copy per kind: the per-element
/// `match` of `activate` then folds away and the loop compiles to SIMD (it ran scalar before).
macro_rules! per_kind {
    ($f:expr, $k:ident => $body:expr) => {
        match $f {
            Activation::Relu => {
                let $k = Activation::Relu;
                $body
            }
            Activation::LeakyRelu(alpha) => {
                let $k = Activation::LeakyRelu(alpha);
                $body
            }
            Activation::Tanh => {
                let $k = Activation::Tanh;
                $body
            }
            Activation::Sigmoid => {
                let $k = Activation::Sigmoid;
                $body
            }
            Activation::Gelu => {
                let $k = Activation::Gelu;
                $body
            }
        }
    };
}

#[inline(always)]
fn activate(x: f32, f: Activation) -> f32 {
    match f {
        Activation::Relu => {
            if x > 0.0 {
                x
            } else {
                0.0
            }
        }
        Activation::LeakyRelu(alpha) => {
            if x > 0.0 {
                x
            } else {
                alpha * x
            }
        }
        Activation::Tanh => x.tanh(),
        Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        Activation::Gelu => 0.5 * x * (1.0 + math::tanh(GELU_SCALE * (x + GELU_CUBIC * x * x * x))),
    }
}

/// dy/dx of each activation, from the input `x` or the output `y`, whichever is cheaper:
/// relu' = [x > 0], tanh' = 1 − y², σ' = y(1 − y); with u = s(x + c·x³) and t = tanh u,
/// gelu' = ½(1 + t) + ½·x·(1 − t²)·s(1 + 3c·x²).
#[inline(always)]
fn activate_grad(x: f32, y: f32, f: Activation) -> f32 {
    match f {
        Activation::Relu => {
            if x > 0.0 {
                1.0
            } else {
                0.0
            }
        }
        Activation::LeakyRelu(alpha) => {
            if x > 0.0 {
                1.0
            } else {
                alpha
            }
        }
        Activation::Tanh => 1.0 - y * y,
        Activation::Sigmoid => y * (1.0 - y),
        Activation::Gelu => {
            let t = math::tanh(GELU_SCALE * (x + GELU_CUBIC * x * x * x));
            0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * GELU_SCALE * (1.0 + 3.0 * GELU_CUBIC * x * x)
        }
    }
}

/// The larger of `a` and `b` by one comparison. `f32::max` compiles to a call of libm's `fmaxf` on
/// wasm (its rule for NaN has no instruction there), which took a fifth of a CNN step.
pub(super) fn larger(a: f32, b: f32) -> f32 {
    if b > a {
        b
    } else {
        a
    }
}

/// `(outer, channels, inner)` for a tensor whose axis 1 is the channel axis.
fn channel_split(shape: &[usize]) -> (usize, usize, usize) {
    assert!(shape.len() >= 2, "bias needs a channel axis, got shape {shape:?}");
    (shape[0], shape[1], shape[2..].iter().product())
}

impl Backend for Cpu {
    type Tensor = CpuTensor;

    fn name(&self) -> String {
        "CPU".into()
    }

    fn shape(t: &CpuTensor) -> Vec<usize> {
        t.shape().to_vec()
    }

    fn upload(&self, values: &[f32], shape: &[usize]) -> CpuTensor {
        tensor(shape, values.to_vec())
    }

    fn zeros(&self, shape: &[usize]) -> CpuTensor {
        ArcArray::zeros(IxDyn(shape))
    }

    fn read(&self, t: &CpuTensor) -> impl std::future::Future<Output = Result<Vec<f32>, DeviceLost>> {
        std::future::ready(Ok(data(t).to_vec()))
    }

    fn reshape(&self, t: &CpuTensor, shape: &[usize]) -> CpuTensor {
        t.clone()
            .into_shape_with_order(IxDyn(shape))
            .expect("reshape keeps the element count")
    }

    fn gather_rows(&self, source: &CpuTensor, indices: &[u32]) -> CpuTensor {
        let row: usize = source.shape()[1..].iter().product();
        let src = data(source);
        let mut out = Vec::with_capacity(indices.len() * row);
        for &i in indices {
            out.extend_from_slice(&src[i as usize * row..(i as usize + 1) * row]);
        }
        let mut shape = source.shape().to_vec();
        shape[0] = indices.len();
        tensor(&shape, out)
    }

    fn matmul(&self, a: &CpuTensor, b: &CpuTensor, transpose_a: bool, transpose_b: bool) -> CpuTensor {
        let (sa, sb) = (a.shape(), b.shape());
        assert!(
            sa.len() == 2 && sb.len() == 2,
            "matmul takes 2-D operands, got {sa:?} and {sb:?}"
        );
        let (m, k) = if transpose_a { (sa[1], sa[0]) } else { (sa[0], sa[1]) };
        let (k2, n) = if transpose_b { (sb[1], sb[0]) } else { (sb[0], sb[1]) };
        assert_eq!(k, k2, "matmul inner sizes differ: {sa:?} and {sb:?}");
        let mut c = vec![0.0; m * n];
        gemm_into(&mut c, data(a), data(b), m, k, n, transpose_a, transpose_b, false);
        tensor(&[m, n], c)
    }

    fn add_bias(&self, x: &CpuTensor, bias: &CpuTensor) -> CpuTensor {
        let (_, channels, inner) = channel_split(x.shape());
        assert_eq!(bias.len(), channels, "bias length");
        let b = data(bias);
        let mut out = data(x).to_vec();
        for (i, plane) in out.chunks_exact_mut(inner).enumerate() {
            let bc = b[i % channels];
            plane.iter_mut().for_each(|v| *v += bc);
        }
        tensor(x.shape(), out)
    }

    fn bias_grad(&self, dy: &CpuTensor) -> CpuTensor {
        let (_, channels, inner) = channel_split(dy.shape());
        let mut g = vec![0.0; channels];
        if inner == 1 {
            // Rows of a dense layer's output: added whole, so the loop runs on SIMD lanes.
            for row in data(dy).chunks_exact(channels) {
                g.iter_mut().zip(row).for_each(|(g, v)| *g += v);
            }
        } else {
            for (i, plane) in data(dy).chunks_exact(inner).enumerate() {
                g[i % channels] += plane.iter().sum::<f32>();
            }
        }
        tensor(&[channels], g)
    }

    fn conv2d(&self, x: &CpuTensor, w: &CpuTensor, g: Conv2dGeometry) -> CpuTensor {
        let d = conv::ConvDims::new(x.shape(), w.shape(), g);
        tensor(&[d.n, d.o, d.oh, d.ow], conv::forward(data(x), data(w), None, &d))
    }

    fn conv2d_bias(&self, x: &CpuTensor, w: &CpuTensor, b: &CpuTensor, g: Conv2dGeometry) -> CpuTensor {
        let d = conv::ConvDims::new(x.shape(), w.shape(), g);
        assert_eq!(b.len(), d.o, "conv2d bias length");
        tensor(
            &[d.n, d.o, d.oh, d.ow],
            conv::forward(data(x), data(w), Some(data(b)), &d),
        )
    }

    /// Rows start as the bias and the product accumulates onto them: one pass over the output.
    fn dense(&self, x: &CpuTensor, w: &CpuTensor, b: &CpuTensor) -> CpuTensor {
        let (xs, ws) = (x.shape(), w.shape());
        assert!(
            xs.len() == 2 && ws.len() == 2 && xs[1] == ws[0],
            "dense shapes {xs:?} · {ws:?}"
        );
        assert_eq!(b.shape(), &[ws[1]], "dense bias length");
        let (n, k, m) = (xs[0], xs[1], ws[1]);
        let mut y: Vec<f32> = data(b).repeat(n);
        gemm_into(&mut y, data(x), data(w), n, k, m, false, false, true);
        tensor(&[n, m], y)
    }

    fn conv2d_backward_input(
        &self,
        dy: &CpuTensor,
        w: &CpuTensor,
        g: Conv2dGeometry,
        input_shape: &[usize],
    ) -> CpuTensor {
        let d = conv::ConvDims::new(input_shape, w.shape(), g);
        tensor(input_shape, conv::backward_input(data(dy), data(w), &d))
    }

    fn conv2d_backward_weight(
        &self,
        dy: &CpuTensor,
        x: &CpuTensor,
        g: Conv2dGeometry,
        kernel_shape: &[usize],
    ) -> CpuTensor {
        let d = conv::ConvDims::new(x.shape(), kernel_shape, g);
        tensor(kernel_shape, conv::backward_weight(data(dy), data(x), &d))
    }

    fn max_pool2d(&self, x: &CpuTensor, g: PoolGeometry) -> CpuTensor {
        let d = pool::PoolDims::new(x.shape(), g);
        let s = x.shape();
        tensor(&[s[0], s[1], d.oh, d.ow], pool::max_forward(data(x), &d))
    }

    fn max_pool2d_backward(&self, x: &CpuTensor, dy: &CpuTensor, g: PoolGeometry) -> CpuTensor {
        let d = pool::PoolDims::new(x.shape(), g);
        tensor(x.shape(), pool::max_backward(data(x), data(dy), &d))
    }

    fn avg_pool2d(&self, x: &CpuTensor, g: PoolGeometry) -> CpuTensor {
        let d = pool::PoolDims::new(x.shape(), g);
        let s = x.shape();
        tensor(&[s[0], s[1], d.oh, d.ow], pool::avg_forward(data(x), &d))
    }

    fn avg_pool2d_backward(&self, dy: &CpuTensor, g: PoolGeometry, input_shape: &[usize]) -> CpuTensor {
        let d = pool::PoolDims::new(input_shape, g);
        tensor(input_shape, pool::avg_backward(data(dy), &d))
    }

    fn activation(&self, x: &CpuTensor, f: Activation) -> CpuTensor {
        per_kind!(f, k => map(x, |v| activate(v, k)))
    }

    fn activation_backward(&self, x: &CpuTensor, y: &CpuTensor, dy: &CpuTensor, f: Activation) -> CpuTensor {
        per_kind!(f, k => zip3(x, y, dy, |xv, yv, g| g * activate_grad(xv, yv, k)))
    }

    fn mul(&self, a: &CpuTensor, b: &CpuTensor) -> CpuTensor {
        assert_eq!(a.shape(), b.shape(), "mul shapes");
        tensor(a.shape(), data(a).iter().zip(data(b)).map(|(x, y)| x * y).collect())
    }

    fn add_assign(&self, acc: &mut CpuTensor, x: &CpuTensor) {
        assert_eq!(acc.shape(), x.shape(), "add_assign shapes");
        data_mut(acc).iter_mut().zip(data(x)).for_each(|(a, b)| *a += b);
    }

    fn dropout_mask(&self, shape: &[usize], keep: f32, seed: u64) -> CpuTensor {
        let seed = fold_seed(seed);
        let n: usize = shape.iter().product();
        tensor(
            shape,
            (0..n as u32)
                .map(|i| {
                    if counter_uniform(seed, i) < keep {
                        1.0 / keep
                    } else {
                        0.0
                    }
                })
                .collect(),
        )
    }

    fn softmax(&self, logits: &CpuTensor) -> CpuTensor {
        let k = logits.shape()[1];
        let mut out = data(logits).to_vec();
        out.chunks_exact_mut(k).for_each(|row| {
            softmax_in_place(row);
        });
        tensor(logits.shape(), out)
    }

    /// L = −(1/n) Σᵢ log softmax(zᵢ)[yᵢ];  dL/dzᵢ = (softmax(zᵢ) − onehot(yᵢ)) / n.
    fn softmax_cross_entropy(&self, logits: &CpuTensor, labels: &CpuTensor) -> LossOutput<CpuTensor> {
        let (n, k) = (logits.shape()[0], logits.shape()[1]);
        assert_eq!(labels.shape(), &[n], "one label per row");
        let mut grad = data(logits).to_vec();
        let (mut loss, mut correct) = (0.0f32, 0.0f32);
        for (row, &label) in grad.chunks_exact_mut(k).zip(data(labels)) {
            let y = label as usize;
            let argmax = row
                .iter()
                .enumerate()
                .fold(0, |best, (j, &v)| if v > row[best] { j } else { best });
            correct += (argmax == y) as u8 as f32;
            // −log softmax(z)[y] = log Σ exp(z − max) − (z[y] − max), exact even for far-apart logits.
            let z_y = row[y];
            let (max, sum) = softmax_in_place(row);
            loss += sum.ln() - (z_y - max);
            row[y] -= 1.0;
            row.iter_mut().for_each(|g| *g /= n as f32);
        }
        LossOutput {
            loss_sum: tensor(&[1], vec![loss]),
            correct: tensor(&[1], vec![correct]),
            grad: tensor(&[n, k], grad),
        }
    }

    fn add_penalty(&self, g: &CpuTensor, p: &CpuTensor, l1: f32, l2: f32) -> CpuTensor {
        assert_eq!(g.shape(), p.shape(), "penalty shapes");
        // sign(0) = 0: a weight at exactly zero gets no L1 push.
        let sign = |v: f32| {
            if v > 0.0 {
                1.0
            } else if v < 0.0 {
                -1.0
            } else {
                0.0
            }
        };
        tensor(
            g.shape(),
            data(g)
                .iter()
                .zip(data(p))
                .map(|(&g, &p)| g + l1 * sign(p) + l2 * p)
                .collect(),
        )
    }

    fn channel_moments(&self, x: &CpuTensor) -> (CpuTensor, CpuTensor) {
        let (n, c, inner) = channel_layout(x.shape());
        let v = data(x);
        let m = (n * inner) as f32;
        let values = |ch: usize| (0..n).flat_map(move |i| (0..inner).map(move |j| (i * c + ch) * inner + j));
        let mean: Vec<f32> = (0..c).map(|ch| values(ch).map(|k| v[k]).sum::<f32>() / m).collect();
        let var: Vec<f32> = (0..c)
            .map(|ch| values(ch).map(|k| (v[k] - mean[ch]).powi(2)).sum::<f32>() / m)
            .collect();
        (tensor(&[c], mean), tensor(&[c], var))
    }

    fn batch_norm(
        &self,
        x: &CpuTensor,
        mean: &CpuTensor,
        var: &CpuTensor,
        gamma: &CpuTensor,
        beta: &CpuTensor,
        eps: f32,
    ) -> CpuTensor {
        let (_, c, inner) = channel_layout(x.shape());
        let (mean, var, gamma, beta) = (data(mean), data(var), data(gamma), data(beta));
        let out = data(x).iter().enumerate().map(|(k, &v)| {
            let ch = (k / inner) % c;
            gamma[ch] * (v - mean[ch]) / (var[ch] + eps).sqrt() + beta[ch]
        });
        tensor(x.shape(), out.collect())
    }

    fn batch_norm_backward(
        &self,
        dy: &CpuTensor,
        x: &CpuTensor,
        mean: &CpuTensor,
        var: &CpuTensor,
        gamma: &CpuTensor,
        eps: f32,
    ) -> (CpuTensor, CpuTensor, CpuTensor) {
        let (n, c, inner) = channel_layout(x.shape());
        let (dy_v, x_v, mean, var, gamma) = (data(dy), data(x), data(mean), data(var), data(gamma));
        let m = (n * inner) as f32;
        let inv_std: Vec<f32> = var.iter().map(|v| 1.0 / (v + eps).sqrt()).collect();
        let (mut dgamma, mut dbeta) = (vec![0.0; c], vec![0.0; c]);
        for (k, (&g, &v)) in dy_v.iter().zip(x_v).enumerate() {
            let ch = (k / inner) % c;
            dbeta[ch] += g;
            dgamma[ch] += g * (v - mean[ch]) * inv_std[ch];
        }
        let dx = dy_v.iter().zip(x_v).enumerate().map(|(k, (&g, &v))| {
            let ch = (k / inner) % c;
            let x_hat = (v - mean[ch]) * inv_std[ch];
            gamma[ch] * inv_std[ch] * (g - dbeta[ch] / m - x_hat * dgamma[ch] / m)
        });
        (
            tensor(x.shape(), dx.collect()),
            tensor(&[c], dgamma),
            tensor(&[c], dbeta),
        )
    }

    fn embedding(&self, ids: &CpuTensor, table: &CpuTensor, padding: bool) -> CpuTensor {
        let (vocab, dim) = (table.shape()[0], table.shape()[1]);
        let rows = data(table);
        let mut out = Vec::with_capacity(ids.len() * dim);
        for &id in data(ids) {
            match token(id, vocab, padding) {
                Some(t) => out.extend_from_slice(&rows[t * dim..(t + 1) * dim]),
                None => out.resize(out.len() + dim, 0.0),
            }
        }
        let shape: Vec<usize> = ids.shape().iter().copied().chain([dim]).collect();
        tensor(&shape, out)
    }

    fn embedding_backward(&self, ids: &CpuTensor, dy: &CpuTensor, vocab: usize, padding: bool) -> CpuTensor {
        let dim = *dy.shape().last().expect("an embedding's gradient has rows");
        assert_eq!(dy.len(), ids.len() * dim, "one gradient row per token");
        let mut grad = vec![0.0; vocab * dim];
        for (&id, row) in data(ids).iter().zip(data(dy).chunks_exact(dim)) {
            if let Some(t) = token(id, vocab, padding) {
                grad[t * dim..(t + 1) * dim]
                    .iter_mut()
                    .zip(row)
                    .for_each(|(g, d)| *g += d);
            }
        }
        tensor(&[vocab, dim], grad)
    }

    fn attention_weights(
        &self,
        q: &CpuTensor,
        k: &CpuTensor,
        mask: Option<&CpuTensor>,
        g: AttentionGeometry,
    ) -> CpuTensor {
        let w = attention::weights(data(q), data(k), mask.map(data), g);
        tensor(&[g.n, g.heads, g.steps, g.steps], w)
    }

    fn attention_apply(&self, weights: &CpuTensor, v: &CpuTensor, g: AttentionGeometry) -> CpuTensor {
        tensor(v.shape(), attention::apply(data(weights), data(v), g))
    }

    fn attention_apply_backward(
        &self,
        weights: &CpuTensor,
        v: &CpuTensor,
        dout: &CpuTensor,
        g: AttentionGeometry,
    ) -> (CpuTensor, CpuTensor) {
        let (dw, dv) = attention::apply_backward(data(weights), data(v), data(dout), g);
        (tensor(weights.shape(), dw), tensor(v.shape(), dv))
    }

    fn attention_weights_backward(
        &self,
        weights: &CpuTensor,
        dweights: &CpuTensor,
        q: &CpuTensor,
        k: &CpuTensor,
        g: AttentionGeometry,
    ) -> (CpuTensor, CpuTensor) {
        let (dq, dk) = attention::weights_backward(data(weights), data(dweights), data(q), data(k), g);
        (tensor(q.shape(), dq), tensor(k.shape(), dk))
    }

    fn mean_steps(&self, x: &CpuTensor, mask: Option<&CpuTensor>) -> CpuTensor {
        let (n, steps, dim) = (x.shape()[0], x.shape()[1], x.shape()[2]);
        let weights = step_weights(mask, n, steps);
        let mut out = vec![0.0; n * dim];
        for (s, (row, sample)) in out
            .chunks_exact_mut(dim)
            .zip(data(x).chunks_exact(steps * dim))
            .enumerate()
        {
            for (t, step) in sample.chunks_exact(dim).enumerate() {
                let w = weights[s * steps + t];
                if w != 0.0 {
                    row.iter_mut().zip(step).for_each(|(o, v)| *o += w * v);
                }
            }
        }
        tensor(&[n, dim], out)
    }

    fn mean_steps_backward(&self, dy: &CpuTensor, mask: Option<&CpuTensor>, steps: usize) -> CpuTensor {
        let (n, dim) = (dy.shape()[0], dy.shape()[1]);
        let weights = step_weights(mask, n, steps);
        let mut dx = Vec::with_capacity(n * steps * dim);
        for (s, row) in data(dy).chunks_exact(dim).enumerate() {
            for t in 0..steps {
                let w = weights[s * steps + t];
                dx.extend(row.iter().map(|d| w * d));
            }
        }
        tensor(&[n, steps, dim], dx)
    }

    fn layer_norm(&self, x: &CpuTensor, gamma: &CpuTensor, beta: &CpuTensor, eps: f32) -> (CpuTensor, CpuTensor) {
        let d = *x.shape().last().expect("layer norm of a scalar");
        let (gamma, beta) = (data(gamma), data(beta));
        assert!(gamma.len() == d && beta.len() == d, "layer norm scale and shift");
        let mut out = Vec::with_capacity(data(x).len());
        let mut stats = Vec::with_capacity(2 * data(x).len() / d);
        for row in data(x).chunks(d) {
            let mean = row.iter().sum::<f32>() / d as f32;
            let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / d as f32;
            let inv_std = 1.0 / (var + eps).sqrt();
            out.extend(
                row.iter()
                    .enumerate()
                    .map(|(j, v)| gamma[j] * (v - mean) * inv_std + beta[j]),
            );
            stats.extend([mean, inv_std]);
        }
        let rows = stats.len() / 2;
        (tensor(x.shape(), out), tensor(&[rows, 2], stats))
    }

    /// With g = dy·γ per row: dx = (g − mean(g) − x̂·mean(g·x̂))/σ; dγ = Σ dy·x̂, dβ = Σ dy over rows.
    fn layer_norm_backward(
        &self,
        dy: &CpuTensor,
        x: &CpuTensor,
        stats: &CpuTensor,
        gamma: &CpuTensor,
    ) -> (CpuTensor, CpuTensor, CpuTensor) {
        let d = *x.shape().last().expect("layer norm of a scalar");
        let gamma = data(gamma);
        let (mut dx, mut dgamma, mut dbeta) = (Vec::with_capacity(data(x).len()), vec![0.0; d], vec![0.0; d]);
        for ((dy, x), s) in data(dy).chunks(d).zip(data(x).chunks(d)).zip(data(stats).chunks(2)) {
            let x_hat: Vec<f32> = x.iter().map(|v| (v - s[0]) * s[1]).collect();
            let g: Vec<f32> = dy.iter().zip(gamma).map(|(dy, gamma)| dy * gamma).collect();
            let mean_g = g.iter().sum::<f32>() / d as f32;
            let mean_gx = g.iter().zip(&x_hat).map(|(g, x)| g * x).sum::<f32>() / d as f32;
            dx.extend(g.iter().zip(&x_hat).map(|(g, x)| (g - mean_g - x * mean_gx) * s[1]));
            for j in 0..d {
                dgamma[j] += dy[j] * x_hat[j];
                dbeta[j] += dy[j];
            }
        }
        (tensor(x.shape(), dx), tensor(&[d], dgamma), tensor(&[d], dbeta))
    }

    fn lerp(&self, a: &CpuTensor, b: &CpuTensor, t: f32) -> CpuTensor {
        assert_eq!(a.shape(), b.shape(), "lerp shapes");
        tensor(
            a.shape(),
            data(a).iter().zip(data(b)).map(|(x, y)| x + t * (y - x)).collect(),
        )
    }

    fn add_square_sums(&self, acc: &mut CpuTensor, xs: &[&CpuTensor]) {
        assert_eq!(acc.shape(), [1], "square-sum accumulator");
        data_mut(acc)[0] += xs.iter().map(|x| square_sum(data(x))).sum::<f32>();
    }

    fn scale_to_norm(&self, g: &CpuTensor, square_sum: &CpuTensor, max_norm: f32) -> CpuTensor {
        let scale = (max_norm / data(square_sum)[0].sqrt()).min(1.0);
        tensor(g.shape(), data(g).iter().map(|v| v * scale).collect())
    }

    fn clamp(&self, x: &CpuTensor, limit: f32) -> CpuTensor {
        tensor(x.shape(), data(x).iter().map(|v| v.clamp(-limit, limit)).collect())
    }

    fn concat(&self, parts: &[&CpuTensor]) -> CpuTensor {
        let values: Vec<f32> = parts.iter().flat_map(|t| data(t).iter().copied()).collect();
        tensor(&[values.len()], values)
    }

    fn swap_leading(&self, x: &CpuTensor) -> CpuTensor {
        let shape = x.shape();
        assert!(shape.len() >= 2, "swap_leading needs two leading axes, got {shape:?}");
        let (a, b, inner) = (shape[0], shape[1], shape[2..].iter().product::<usize>());
        let v = data(x);
        let mut out = Vec::with_capacity(v.len());
        for j in 0..b {
            for i in 0..a {
                out.extend_from_slice(&v[(i * b + j) * inner..(i * b + j + 1) * inner]);
            }
        }
        let mut swapped = shape.to_vec();
        swapped.swap(0, 1);
        tensor(&swapped, out)
    }

    fn lstm_step(
        &self,
        xw: &CpuTensor,
        t: usize,
        hw: &CpuTensor,
        c_prev: &CpuTensor,
    ) -> (CpuTensor, CpuTensor, CpuTensor) {
        let (step, units) = recurrent_step(xw, t, hw, c_prev, 4);
        let (h, c, gates) = recurrent::lstm_step(step, data(hw), data(c_prev), units);
        (
            tensor(c_prev.shape(), h),
            tensor(c_prev.shape(), c),
            tensor(hw.shape(), gates),
        )
    }

    fn lstm_step_backward(
        &self,
        dh: &CpuTensor,
        dc: &CpuTensor,
        gates: &CpuTensor,
        c_prev: &CpuTensor,
    ) -> (CpuTensor, CpuTensor) {
        let units = c_prev.shape()[1];
        let (dz, dc_prev) = recurrent::lstm_step_backward(data(dh), data(dc), data(gates), data(c_prev), units);
        (tensor(gates.shape(), dz), tensor(c_prev.shape(), dc_prev))
    }

    fn gru_step(&self, xw: &CpuTensor, t: usize, hw: &CpuTensor, h_prev: &CpuTensor) -> (CpuTensor, CpuTensor) {
        let (step, units) = recurrent_step(xw, t, hw, h_prev, 3);
        let (h, gates) = recurrent::gru_step(step, data(hw), data(h_prev), units);
        (tensor(h_prev.shape(), h), tensor(hw.shape(), gates))
    }

    fn gru_step_backward(
        &self,
        dh: &CpuTensor,
        gates: &CpuTensor,
        hw: &CpuTensor,
        h_prev: &CpuTensor,
    ) -> (CpuTensor, CpuTensor, CpuTensor) {
        let units = h_prev.shape()[1];
        let (dxw, dhw, dh_prev) = recurrent::gru_step_backward(data(dh), data(gates), data(hw), data(h_prev), units);
        (
            tensor(gates.shape(), dxw),
            tensor(gates.shape(), dhw),
            tensor(h_prev.shape(), dh_prev),
        )
    }

    fn augment(&self, x: &CpuTensor, params: &CpuTensor, seed: u32) -> CpuTensor {
        let shape = x.shape();
        assert!(
            shape.len() == 4 && params.shape() == [shape[0], crate::augment::AUGMENT_PARAMS],
            "augment shapes {shape:?} and {:?}",
            params.shape()
        );
        let (c, h, w) = (shape[1], shape[2], shape[3]);
        let len = c * h * w;
        let noise = |i: usize| {
            let (u1, u2) = (
                counter_uniform(seed, 2 * i as u32),
                counter_uniform(seed, 2 * i as u32 + 1),
            );
            (-2.0 * (1.0 - u1).ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
        };
        let out = data(x)
            .chunks(len)
            .zip(data(params).chunks(crate::augment::AUGMENT_PARAMS))
            .enumerate()
            .flat_map(|(n, (image, q))| crate::augment::apply(image, c, h, w, q, |k| noise(n * len + k)))
            .collect();
        tensor(shape, out)
    }

    fn image_features(&self, x: &CpuTensor, stats: &CpuTensor, grayscale: bool, edges: bool) -> CpuTensor {
        let shape = x.shape();
        let out = crate::features::image_channels(shape[1], grayscale, edges);
        assert!(
            shape.len() == 4 && stats.shape() == [2, out],
            "image_features shapes {shape:?} and {:?}",
            stats.shape()
        );
        let (mean, std) = data(stats).split_at(out);
        let fit = crate::features::ImageFit {
            grayscale,
            edges,
            mean: mean.to_vec(),
            std: std.to_vec(),
        };
        let (c, h, w) = (shape[1], shape[2], shape[3]);
        tensor(
            &[shape[0], out, h, w],
            data(x)
                .chunks(c * h * w)
                .flat_map(|image| crate::features::image_transform(image, c, h, w, &fit))
                .collect(),
        )
    }

    fn sgd_update(&self, p: &mut CpuTensor, g: &CpuTensor, lr: f32) {
        data_mut(p).iter_mut().zip(data(g)).for_each(|(p, g)| *p -= lr * g);
    }

    fn momentum_update(
        &self,
        p: &mut CpuTensor,
        g: &CpuTensor,
        v: &mut CpuTensor,
        lr: f32,
        momentum: f32,
        nesterov: bool,
    ) {
        for ((p, &g), v) in data_mut(p).iter_mut().zip(data(g)).zip(data_mut(v)) {
            *v = momentum * *v + g;
            *p -= lr * if nesterov { g + momentum * *v } else { *v };
        }
    }

    /// m = β₁m + (1−β₁)g;  v = β₂v + (1−β₂)g²;  p -= lr · (m̂ / (√v̂ + ε) + λp) with m̂ = m/(1−β₁ᵗ),
    /// v̂ = v/(1−β₂ᵗ) and λ the decoupled weight decay (Loshchilov & Hutter, AdamW).
    fn adam_update(&self, p: &mut CpuTensor, g: &CpuTensor, m: &mut CpuTensor, v: &mut CpuTensor, s: AdamStep) {
        let (alpha, eps) = s.corrected();
        let decay = s.lr * s.weight_decay;
        // Slices of one length indexed together: the loop compiles to SIMD (sqrt and division
        // included), which a zip of four iterators did not.
        let p = data_mut(p);
        let n = p.len();
        let (g, m, v) = (&data(g)[..n], &mut data_mut(m)[..n], &mut data_mut(v)[..n]);
        for i in 0..n {
            m[i] = s.beta1 * m[i] + (1.0 - s.beta1) * g[i];
            v[i] = s.beta2 * v[i] + (1.0 - s.beta2) * g[i] * g[i];
            p[i] -= alpha * (m[i] / (v[i].sqrt() + eps)) + decay * p[i];
        }
    }

    fn rmsprop_update(&self, p: &mut CpuTensor, g: &CpuTensor, v: &mut CpuTensor, lr: f32, rho: f32, eps: f32) {
        for ((p, &g), v) in data_mut(p).iter_mut().zip(data(g)).zip(data_mut(v)) {
            *v = rho * *v + (1.0 - rho) * g * g;
            *p -= lr * g / (v.sqrt() + eps);
        }
    }
}

/// Step `t` of `xw` `[steps, n, gates·H]` and `H`, after checking the shapes of a recurrent step
/// whose state is `state` `[n, H]` and recurrent projection `hw` `[n, gates·H]`.
fn recurrent_step<'a>(
    xw: &'a CpuTensor,
    t: usize,
    hw: &CpuTensor,
    state: &CpuTensor,
    gates: usize,
) -> (&'a [f32], usize) {
    let (n, units) = (state.shape()[0], state.shape()[1]);
    assert_eq!(hw.shape(), [n, gates * units], "recurrent projection shape");
    assert!(
        xw.shape().len() == 3 && xw.shape()[1..] == [n, gates * units] && t < xw.shape()[0],
        "input projections {:?} at step {t}",
        xw.shape()
    );
    let width = n * gates * units;
    (&data(xw)[t * width..(t + 1) * width], units)
}

/// `Σ x²` over sixteen running sums, so that the loop runs in SIMD lanes (one running sum would
/// fix the order of every addition and keep it scalar).
fn square_sum(x: &[f32]) -> f32 {
    const LANES: usize = 16;
    let mut lanes = [0.0f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().map(|v| v * v).sum();
    for chunk in chunks {
        for (lane, v) in lanes.iter_mut().zip(chunk) {
            *lane += v * v;
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// Replaces `row` by its softmax; returns the row's maximum and `Σ exp(z − max)`.
fn softmax_in_place(row: &mut [f32]) -> (f32, f32) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, larger);
    let mut sum = 0.0;
    for v in row.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    row.iter_mut().for_each(|v| *v /= sum);
    (max, sum)
}

/// Each step's share of its sample's mean `[n · steps]`: 1/steps, or with a mask its value over
/// the sample's marked steps (none marked: zeros).
fn step_weights(mask: Option<&CpuTensor>, n: usize, steps: usize) -> Vec<f32> {
    let Some(mask) = mask else {
        return vec![1.0 / steps as f32; n * steps];
    };
    assert_eq!(mask.shape(), &[n, steps], "a mask per step of each sample");
    data(mask)
        .chunks_exact(steps)
        .flat_map(|m| {
            let count: f32 = m.iter().sum();
            m.iter().map(move |v| v / count.max(1.0))
        })
        .collect()
}

/// The table row of a token id held as `f32`: none for an id outside `[0, vocab)` or not whole, or
/// for id 0 when it is padding.
fn token(id: f32, vocab: usize, padding: bool) -> Option<usize> {
    (id >= 0.0 && id < vocab as f32 && id.fract() == 0.0 && !(padding && id == 0.0)).then_some(id as usize)
}

#[cfg(test)]
mod tests;
