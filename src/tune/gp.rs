//! A Gaussian process on the unit cube for Bayesian optimisation: a Matérn 5/2 kernel with one
//! length scale per dimension (ARD), a signal and a noise variance, all fitted by maximising the log
//! marginal likelihood; the posterior mean and variance; and expected improvement.

use crate::rng::Rng;

/// Kernel hyper-parameters, as logarithms so that the search over them is unconstrained.
#[derive(Clone, Debug, PartialEq)]
pub struct Hyper {
    pub log_lengths: Vec<f64>,
    pub log_signal: f64,
    pub log_noise: f64,
}

impl Hyper {
    fn kernel(&self, a: &[f64], b: &[f64]) -> f64 {
        let r2: f64 = a
            .iter()
            .zip(b)
            .zip(&self.log_lengths)
            .map(|((x, y), l)| ((x - y) / l.exp()).powi(2))
            .sum();
        let r = (5.0 * r2).sqrt();
        self.log_signal.exp() * (1.0 + r + r * r / 3.0) * (-r).exp()
    }
}

/// A fitted process: the training points, the Cholesky factor of their kernel matrix and
/// `K⁻¹·y`, for targets standardised to mean 0 and variance 1.
pub struct Gp {
    pub hyper: Hyper,
    x: Vec<Vec<f64>>,
    chol: Vec<f64>,
    alpha: Vec<f64>,
    mean: f64,
    scale: f64,
}

/// Lower-triangular `L` with `L·Lᵀ = a` (n × n, row-major), or `None` if `a` is not positive definite.
fn cholesky(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum();
            if i == j {
                let d = a[i * n + i] - s;
                if d <= 0.0 || !d.is_finite() {
                    return None;
                }
                l[i * n + i] = d.sqrt();
            } else {
                l[i * n + j] = (a[i * n + j] - s) / l[j * n + j];
            }
        }
    }
    Some(l)
}

/// Solves `L·z = b` for lower-triangular `L`.
fn forward(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut z = vec![0.0; n];
    for i in 0..n {
        z[i] = (b[i] - (0..i).map(|k| l[i * n + k] * z[k]).sum::<f64>()) / l[i * n + i];
    }
    z
}

/// Solves `Lᵀ·z = b`.
fn backward(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut z = vec![0.0; n];
    for i in (0..n).rev() {
        z[i] = (b[i] - (i + 1..n).map(|k| l[k * n + i] * z[k]).sum::<f64>()) / l[i * n + i];
    }
    z
}

/// `(L, K⁻¹y, log marginal likelihood)` of standardised targets `y` under `h`.
fn factor(h: &Hyper, x: &[Vec<f64>], y: &[f64]) -> Option<(Vec<f64>, Vec<f64>, f64)> {
    let n = x.len();
    let noise = h.log_noise.exp() + 1e-9;
    let mut k = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let v = h.kernel(&x[i], &x[j]);
            k[i * n + j] = v;
            k[j * n + i] = v;
        }
        k[i * n + i] += noise;
    }
    let l = cholesky(&k, n)?;
    let alpha = backward(&l, n, &forward(&l, n, y));
    let fit: f64 = y.iter().zip(&alpha).map(|(a, b)| a * b).sum();
    let log_det: f64 = (0..n).map(|i| l[i * n + i].ln()).sum();
    let lml = -0.5 * fit - log_det - 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln();
    Some((l, alpha, lml))
}

/// Where each hyper-parameter is searched: length scales 0.01–10 of the unit cube, signal variance
/// 0.05–20 and noise variance 1e-6–1 of the standardised targets (as logarithms).
const LENGTH: (f64, f64) = (-4.6, 2.3);
const SIGNAL: (f64, f64) = (-3.0, 3.0);
const NOISE: (f64, f64) = (-13.8, 0.0);

impl Gp {
    /// Fits a process to `x` (points in the unit cube) and `y`: the hyper-parameters maximise the
    /// log marginal likelihood, found by a seeded random search over the ranges above followed by
    /// a pattern search (each coordinate stepped up and down, the step halved when nothing improves).
    pub fn fit(x: Vec<Vec<f64>>, y: &[f64], rng: &mut Rng) -> Gp {
        assert!(
            !x.is_empty() && x.len() == y.len(),
            "a process needs as many targets as points"
        );
        let d = x[0].len();
        let mean = y.iter().sum::<f64>() / y.len() as f64;
        let scale = (y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / y.len() as f64)
            .sqrt()
            .max(1e-12);
        let ys: Vec<f64> = y.iter().map(|v| (v - mean) / scale).collect();
        let draw = |rng: &mut Rng, (lo, hi): (f64, f64)| lo + (hi - lo) * rng.uniform_f64();
        let score = |h: &Hyper| factor(h, &x, &ys).map_or(f64::NEG_INFINITY, |f| f.2);
        let mut best = Hyper {
            log_lengths: vec![(0.3f64).ln(); d],
            log_signal: 0.0,
            log_noise: -4.0,
        };
        let mut best_score = score(&best);
        for _ in 0..64 {
            let h = Hyper {
                log_lengths: (0..d).map(|_| draw(rng, LENGTH)).collect(),
                log_signal: draw(rng, SIGNAL),
                log_noise: draw(rng, NOISE),
            };
            let s = score(&h);
            if s > best_score {
                (best, best_score) = (h, s);
            }
        }
        let bounds: Vec<(f64, f64)> = std::iter::repeat_n(LENGTH, d).chain([SIGNAL, NOISE]).collect();
        let get = |h: &Hyper, i: usize| {
            if i < d {
                h.log_lengths[i]
            } else if i == d {
                h.log_signal
            } else {
                h.log_noise
            }
        };
        let set = |h: &mut Hyper, i: usize, v: f64| match i {
            i if i < d => h.log_lengths[i] = v,
            i if i == d => h.log_signal = v,
            _ => h.log_noise = v,
        };
        let mut step = 1.0;
        while step > 0.02 {
            let mut improved = false;
            for (i, &(lo, hi)) in bounds.iter().enumerate() {
                for sign in [1.0, -1.0] {
                    let mut h = best.clone();
                    set(&mut h, i, (get(&best, i) + sign * step).clamp(lo, hi));
                    let s = score(&h);
                    if s > best_score + 1e-9 {
                        (best, best_score, improved) = (h, s, true);
                    }
                }
            }
            if !improved {
                step /= 2.0;
            }
        }
        let (chol, alpha, _) = factor(&best, &x, &ys).unwrap_or_else(|| {
            // Only reachable if every candidate failed to factor; a large noise always factors.
            let h = Hyper {
                log_noise: 0.0,
                ..best.clone()
            };
            factor(&h, &x, &ys).expect("a kernel matrix with unit noise is positive definite")
        });
        Gp {
            hyper: best,
            x,
            chol,
            alpha,
            mean,
            scale,
        }
    }

    /// Posterior mean and standard deviation at `p`, in the units of the targets.
    pub fn predict(&self, p: &[f64]) -> (f64, f64) {
        let n = self.x.len();
        let k: Vec<f64> = self.x.iter().map(|xi| self.hyper.kernel(xi, p)).collect();
        let mu: f64 = k.iter().zip(&self.alpha).map(|(a, b)| a * b).sum();
        let v = forward(&self.chol, n, &k);
        let var = (self.hyper.log_signal.exp() - v.iter().map(|x| x * x).sum::<f64>()).max(1e-12);
        (self.mean + self.scale * mu, self.scale * var.sqrt())
    }

    /// Expected improvement below `best` (minimisation) at `p`, with a small margin `xi`.
    pub fn expected_improvement(&self, p: &[f64], best: f64, xi: f64) -> f64 {
        let (mu, sigma) = self.predict(p);
        let gain = best - mu - xi;
        let z = gain / sigma;
        gain * normal_cdf(z) + sigma * normal_pdf(z)
    }
}

fn normal_pdf(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Φ(z) from the complementary error function (Numerical Recipes' erfc, relative error < 1.2e-7).
fn normal_cdf(z: f64) -> f64 {
    let x = -z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * x.abs());
    let poly = -x * x - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * poly.exp();
    0.5 * if x >= 0.0 { erfc } else { 2.0 - erfc }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_normal_cdf_matches_known_values() {
        for (z, want) in [
            (0.0, 0.5),
            (1.0, 0.841_344_746),
            (-1.959_963_985, 0.025),
            (3.0, 0.998_650_102),
        ] {
            assert!(
                (normal_cdf(z) - want).abs() < 1e-6,
                "Φ({z}) = {} not {want}",
                normal_cdf(z)
            );
        }
    }

    #[test]
    fn a_fitted_process_interpolates_a_smooth_function_and_is_unsure_away_from_data() {
        let f = |x: f64| (6.0 * x).sin();
        let x: Vec<Vec<f64>> = (0..12).map(|i| vec![i as f64 / 11.0 * 0.6]).collect();
        let y: Vec<f64> = x.iter().map(|p| f(p[0])).collect();
        let gp = Gp::fit(x, &y, &mut Rng::new(1));
        for p in [0.05, 0.27, 0.51] {
            let (mu, sd) = gp.predict(&[p]);
            assert!(
                (mu - f(p)).abs() < 0.02 && sd < 0.05,
                "at {p}: {mu} ± {sd} against {}",
                f(p)
            );
        }
        // Far from every point (x = 1, the data stop at 0.6) the process is much less sure.
        assert!(gp.predict(&[1.0]).1 > 5.0 * gp.predict(&[0.3]).1);
        // Improvement is expected where the process is unsure, not at a known point above the best.
        let best = y.iter().copied().fold(f64::INFINITY, f64::min);
        assert!(gp.expected_improvement(&[1.0], best, 0.0) > gp.expected_improvement(&[0.27], best, 0.0));
    }

    #[test]
    fn fitting_prefers_the_length_scale_that_explains_the_data() {
        // y varies along dimension 0 only: its length scale is far shorter than dimension 1's.
        let mut rng = Rng::new(4);
        let x: Vec<Vec<f64>> = (0..30).map(|_| vec![rng.uniform_f64(), rng.uniform_f64()]).collect();
        let y: Vec<f64> = x.iter().map(|p| (5.0 * p[0]).cos()).collect();
        let gp = Gp::fit(x, &y, &mut Rng::new(2));
        assert!(
            gp.hyper.log_lengths[0] + 1.0 < gp.hyper.log_lengths[1],
            "{:?}",
            gp.hyper
        );
    }
}
