//! Two-dimensional toy sets for small MLPs: circle, xor, gaussians, spiral, and rare (a class that is
//! one sample in twenty), in [-1, 1]².

use super::Dataset;
use crate::error::Error;
use crate::rng::Rng;
use std::f32::consts::{PI, TAU};

pub const KINDS: [&str; 5] = ["circle", "xor", "gaussians", "spiral", "rare"];

/// `n` points of the named set with Gaussian noise of standard deviation `noise`.
pub fn generate(kind: &str, n: usize, noise: f32, seed: u64) -> Result<Dataset, Error> {
    if n < 2 {
        return Err(Error::InvalidConfig(format!(
            "a toy set needs at least 2 points, got {n}"
        )));
    }
    if !(noise.is_finite() && noise >= 0.0) {
        return Err(Error::InvalidConfig(format!(
            "noise must be a non-negative number, got {noise}"
        )));
    }
    let mut rng = Rng::new(seed);
    let (mut xs, mut labels) = (Vec::with_capacity(2 * n), Vec::with_capacity(n));
    let classes: u32 = if kind == "spiral" || kind == "gaussians" { 3 } else { 2 };
    for i in 0..n {
        let label = if kind == "rare" {
            (i % 20 == 0) as u32
        } else {
            i as u32 % classes
        };
        let (x, y) = match kind {
            // Inner disk (r < 0.5) against an outer ring (0.7 < r < 1).
            "circle" => {
                let r = if label == 0 {
                    0.5 * rng.uniform()
                } else {
                    0.7 + 0.3 * rng.uniform()
                };
                let a = TAU * rng.uniform();
                (r * a.cos(), r * a.sin())
            }
            // Class 1 where the coordinates share a sign; a margin keeps the quadrants apart.
            "xor" => {
                let (mut x, mut y) = (2.0 * rng.uniform() - 1.0, 2.0 * rng.uniform() - 1.0);
                x += 0.05 * x.signum();
                y += 0.05 * y.signum();
                if (x * y > 0.0) != (label == 1) {
                    y = -y;
                }
                (x, y)
            }
            // Three blobs on a circle of radius 0.6.
            "gaussians" => {
                let a = TAU * label as f32 / 3.0 + PI / 2.0;
                (0.6 * a.cos() + 0.2 * rng.normal(), 0.6 * a.sin() + 0.2 * rng.normal())
            }
            // Three arms winding out from the centre.
            "spiral" => {
                let t = rng.uniform();
                let a = TAU * label as f32 / 3.0 + 1.75 * PI * t;
                (t * a.cos(), t * a.sin())
            }
            // Two overlapping blobs; class 1 is one sample in twenty.
            "rare" => (
                0.2 * (2.0 * label as f32 - 1.0) + 0.25 * rng.normal(),
                0.25 * rng.normal(),
            ),
            _ => {
                return Err(Error::InvalidConfig(format!(
                    "unknown toy set '{kind}' (known: {})",
                    KINDS.join(", ")
                )))
            }
        };
        xs.push(x + noise * rng.normal());
        xs.push(y + noise * rng.normal());
        labels.push(label);
    }
    Dataset::new(
        vec![2],
        xs,
        labels,
        (0..classes).map(|c| format!("class {c}")).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_have_their_geometry() {
        let c = generate("circle", 400, 0.0, 1).unwrap();
        for (p, &l) in c.features.chunks(2).zip(&c.labels) {
            let r = (p[0] * p[0] + p[1] * p[1]).sqrt();
            assert!(if l == 0 { r <= 0.5 } else { r >= 0.7 }, "circle point r={r} label {l}");
        }
        let x = generate("xor", 400, 0.0, 1).unwrap();
        for (p, &l) in x.features.chunks(2).zip(&x.labels) {
            assert_eq!(p[0] * p[1] > 0.0, l == 1);
        }
        assert_eq!(generate("spiral", 300, 0.1, 2).unwrap().classes.len(), 3);
        assert_eq!(generate("gaussians", 30, 0.1, 2).unwrap().len(), 30);
        let rare = generate("rare", 400, 0.0, 1).unwrap();
        assert_eq!(rare.labels.iter().filter(|&&l| l == 1).count(), 20);
        assert!(generate("moons", 30, 0.1, 2).is_err());
        assert!(generate("xor", 30, -1.0, 2).is_err());
    }
}
