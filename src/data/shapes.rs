//! The built-in coloured shapes: circles, squares, triangles and crosses at varied size, position
//! and rotation, as 3 × 32 × 32 images. Its "bias" knob ties colour to class in the training split
//! only (red circles, green squares, blue triangles, yellow crosses); the test split always has
//! random colours. A model that learns colour instead of shape fails on it: the lesson on bias and
//! augmentation (colour jitter removes the shortcut).

use super::Dataset;
use crate::error::Error;
use crate::rng::Rng;
use std::f32::consts::TAU;

pub const CLASSES: [&str; 4] = ["circle", "square", "triangle", "cross"];
pub const SIZE: usize = 32;
/// Each class's own colour, which a biased training split gives it.
const PALETTE: [[f32; 3]; 4] = [[0.9, 0.2, 0.2], [0.2, 0.8, 0.3], [0.25, 0.4, 0.95], [0.95, 0.85, 0.2]];
const BACKGROUND: f32 = 0.08;

/// Whether `(u, v)`, in the shape's own frame scaled to its radius, is inside a shape of `class`.
fn inside(class: usize, u: f32, v: f32) -> bool {
    let root3 = 3f32.sqrt();
    match class {
        0 => u * u + v * v <= 1.0,
        1 => u.abs() <= 0.8 && v.abs() <= 0.8,
        2 => v >= -0.5 && root3 * u + v <= 1.0 && -root3 * u + v <= 1.0,
        _ => (u.abs() <= 0.28 && v.abs() <= 0.9) || (v.abs() <= 0.28 && u.abs() <= 0.9),
    }
}

/// A colour of random hue, strong saturation and brightness.
fn random_colour(rng: &mut Rng) -> [f32; 3] {
    let (h, s, v) = (
        rng.uniform() * 6.0,
        0.6 + 0.4 * rng.uniform(),
        0.7 + 0.3 * rng.uniform(),
    );
    let f = h.fract();
    let (p, q, t) = (v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f)));
    match h as usize {
        0 => [v, t, p],
        1 => [q, v, p],
        2 => [p, v, t],
        3 => [p, q, v],
        4 => [t, p, v],
        _ => [v, p, q],
    }
}

/// One image of `class` in `colour`, channel after channel, each pixel the share of its 2 × 2
/// sub-samples inside the shape (smooth edges).
fn draw(class: usize, colour: [f32; 3], rng: &mut Rng) -> Vec<f32> {
    let s = SIZE as f32;
    let radius = (0.18 + 0.14 * rng.uniform()) * s;
    let (cx, cy) = ((0.3 + 0.4 * rng.uniform()) * s, (0.3 + 0.4 * rng.uniform()) * s);
    let angle = TAU * rng.uniform();
    let (sin, cos) = angle.sin_cos();
    let mut image = vec![BACKGROUND; 3 * SIZE * SIZE];
    for y in 0..SIZE {
        for x in 0..SIZE {
            let mut cover = 0.0;
            for (dx, dy) in [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)] {
                let (px, py) = (x as f32 + dx - cx, y as f32 + dy - cy);
                let (u, v) = ((cos * px + sin * py) / radius, (-sin * px + cos * py) / radius);
                if inside(class, u, v) {
                    cover += 0.25;
                }
            }
            for (c, &value) in colour.iter().enumerate() {
                image[(c * SIZE + y) * SIZE + x] = BACKGROUND + cover * (value - BACKGROUND);
            }
        }
    }
    image
}

/// `(train, test)` with `train` and `test` images, classes interleaved. A training image takes its
/// class's colour with probability `bias` (else a random colour); a test image always a random one.
pub fn generate(train: usize, test: usize, bias: f32, seed: u64) -> Result<(Dataset, Dataset), Error> {
    if train < 2 || test < 1 {
        return Err(Error::InvalidConfig(format!(
            "the shapes need at least 2 training and 1 test images, got {train} and {test}"
        )));
    }
    if !(0.0..=1.0).contains(&bias) {
        return Err(Error::InvalidConfig(format!(
            "the bias must be between 0 and 1, got {bias}"
        )));
    }
    let mut rng = Rng::new(seed);
    let classes: Vec<String> = CLASSES.map(String::from).to_vec();
    let mut make = |n: usize, biased: bool| {
        let labels: Vec<u32> = (0..n as u32).map(|i| i % CLASSES.len() as u32).collect();
        let mut features = Vec::with_capacity(n * 3 * SIZE * SIZE);
        for &label in &labels {
            let own = biased && rng.uniform() < bias;
            let colour = if own {
                PALETTE[label as usize].map(|v| (v + 0.1 * (rng.uniform() - 0.5)).clamp(0.0, 1.0))
            } else {
                random_colour(&mut rng)
            };
            features.extend(draw(label as usize, colour, &mut rng));
        }
        Dataset::new(vec![3, SIZE, SIZE], features, labels, classes.clone())
    };
    Ok((make(train, true)?, make(test, false)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The mean colour of the pixels brighter than the background.
    fn shape_colour(d: &Dataset, i: usize) -> [f32; 3] {
        let image = &d.features[i * 3 * SIZE * SIZE..(i + 1) * 3 * SIZE * SIZE];
        let plane = SIZE * SIZE;
        let lit: Vec<usize> = (0..plane)
            .filter(|&p| (0..3).any(|c| image[c * plane + p] > 0.5))
            .collect();
        [0, 1, 2].map(|c| lit.iter().map(|&p| image[c * plane + p]).sum::<f32>() / lit.len() as f32)
    }

    #[test]
    fn bias_colours_the_training_split_only() {
        let (train, test) = generate(40, 40, 1.0, 3).unwrap();
        assert_eq!(
            (train.sample_shape.clone(), train.labels[..5].to_vec()),
            (vec![3, SIZE, SIZE], vec![0, 1, 2, 3, 0])
        );
        // Biased circles are red: red well above green and blue.
        for i in (0..40).step_by(4) {
            let [r, g, b] = shape_colour(&train, i);
            assert!(r > g + 0.3 && r > b + 0.3, "training circle {i}: {r} {g} {b}");
        }
        // Test circles take random colours: not all red.
        let red = (0..40).step_by(4).filter(|&i| {
            let [r, g, b] = shape_colour(&test, i);
            r > g + 0.3 && r > b + 0.3
        });
        assert!(red.count() < 6);
        let (unbiased, _) = generate(40, 4, 0.0, 3).unwrap();
        assert!((0..40).step_by(4).any(|i| shape_colour(&unbiased, i)[1] > 0.6));
        assert!(generate(40, 4, 1.5, 3).is_err() && generate(1, 4, 0.5, 3).is_err());
    }

    #[test]
    fn each_shape_covers_what_its_geometry_says() {
        // Areas in the unit frame: a circle π, a square 1.6², a triangle (3√3/4), a cross 2·(0.56·1.8) − 0.56².
        let count = |class| {
            let n = 400;
            (0..n * n)
                .filter(|&k| {
                    inside(
                        class,
                        2.0 * (k % n) as f32 / n as f32 - 1.0,
                        2.0 * (k / n) as f32 / n as f32 - 1.0,
                    )
                })
                .count() as f32
                * 4.0
                / (n * n) as f32
        };
        for (class, area) in [
            (0, std::f32::consts::PI),
            (1, 2.56),
            (2, 3.0 * 3f32.sqrt() / 4.0),
            (3, 2.0 * 0.56 * 1.8 - 0.56 * 0.56),
        ] {
            assert!(
                (count(class) - area).abs() < 0.02,
                "class {class}: {} against {area}",
                count(class)
            );
        }
    }
}
