//! Multi-head attention's CPU reference: the weights (a masked softmax of scaled scores), their
//! application to the values, and both backward. Queries, keys and values are `[n · steps, heads ·
//! key]`; weights `[n, heads, steps, steps]`.

use crate::backend::AttentionGeometry;

/// Where head `h`'s part of step `t` of sample `s` starts in a `[n · steps, heads · key]` tensor.
fn at(g: &AttentionGeometry, s: usize, t: usize, h: usize) -> usize {
    ((s * g.steps + t) * g.heads + h) * g.key
}

/// Where row `t` of head `h`'s weights of sample `s` starts.
fn row(g: &AttentionGeometry, s: usize, h: usize, t: usize) -> usize {
    ((s * g.heads + h) * g.steps + t) * g.steps
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub fn weights(q: &[f32], k: &[f32], mask: Option<&[f32]>, g: AttentionGeometry) -> Vec<f32> {
    let mut out = vec![0.0; g.n * g.heads * g.steps * g.steps];
    let scale = g.scale();
    for s in 0..g.n {
        for h in 0..g.heads {
            for t in 0..g.steps {
                let query = &q[at(&g, s, t, h)..][..g.key];
                let keep = |j: usize| g.allowed(t, j) && mask.is_none_or(|m| m[s * g.steps + j] != 0.0);
                // The scores in place, −∞ where a step is masked; then their softmax.
                let weights = &mut out[row(&g, s, h, t)..][..g.steps];
                let mut max = f32::NEG_INFINITY;
                for (j, w) in weights.iter_mut().enumerate() {
                    *w = if keep(j) {
                        let score = dot(query, &k[at(&g, s, j, h)..][..g.key]) * scale;
                        max = super::larger(max, score);
                        score
                    } else {
                        f32::NEG_INFINITY
                    };
                }
                if max == f32::NEG_INFINITY {
                    weights.fill(0.0);
                    continue;
                }
                for w in weights.iter_mut() {
                    *w = if *w == f32::NEG_INFINITY {
                        0.0
                    } else {
                        super::math::exp(*w - max)
                    };
                }
                let sum: f32 = weights.iter().sum();
                weights.iter_mut().for_each(|w| *w /= sum);
            }
        }
    }
    out
}

pub fn apply(weights: &[f32], v: &[f32], g: AttentionGeometry) -> Vec<f32> {
    let mut out = vec![0.0; g.n * g.steps * g.heads * g.key];
    for s in 0..g.n {
        for h in 0..g.heads {
            for t in 0..g.steps {
                let o = at(&g, s, t, h);
                for (j, &w) in weights[row(&g, s, h, t)..][..g.steps].iter().enumerate() {
                    let value = &v[at(&g, s, j, h)..][..g.key];
                    out[o..o + g.key].iter_mut().zip(value).for_each(|(x, y)| *x += w * y);
                }
            }
        }
    }
    out
}

pub fn apply_backward(weights: &[f32], v: &[f32], dout: &[f32], g: AttentionGeometry) -> (Vec<f32>, Vec<f32>) {
    let mut dweights = vec![0.0; weights.len()];
    let mut dv = vec![0.0; v.len()];
    for s in 0..g.n {
        for h in 0..g.heads {
            for t in 0..g.steps {
                let d = &dout[at(&g, s, t, h)..][..g.key];
                let r = row(&g, s, h, t);
                for j in 0..g.steps {
                    let o = at(&g, s, j, h);
                    dweights[r + j] = dot(d, &v[o..o + g.key]);
                    let w = weights[r + j];
                    dv[o..o + g.key].iter_mut().zip(d).for_each(|(x, y)| *x += w * y);
                }
            }
        }
    }
    (dweights, dv)
}

pub fn weights_backward(
    weights: &[f32],
    dweights: &[f32],
    q: &[f32],
    k: &[f32],
    g: AttentionGeometry,
) -> (Vec<f32>, Vec<f32>) {
    let (mut dq, mut dk) = (vec![0.0; q.len()], vec![0.0; k.len()]);
    let scale = g.scale();
    for s in 0..g.n {
        for h in 0..g.heads {
            for t in 0..g.steps {
                let r = row(&g, s, h, t);
                let (p, dp) = (&weights[r..r + g.steps], &dweights[r..r + g.steps]);
                // Through the softmax: dscore = p ⊙ (dp − Σ p·dp), then the scale.
                let centre = dot(p, dp);
                let qt = at(&g, s, t, h);
                for j in 0..g.steps {
                    let ds = p[j] * (dp[j] - centre) * scale;
                    if ds == 0.0 {
                        continue;
                    }
                    let kj = at(&g, s, j, h);
                    for e in 0..g.key {
                        dq[qt + e] += ds * k[kj + e];
                        dk[kj + e] += ds * q[qt + e];
                    }
                }
            }
        }
    }
    (dq, dk)
}
