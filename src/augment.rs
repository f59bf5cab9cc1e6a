//! Augmentation, applied to each training batch (never at evaluation). Images: geometry (flips,
//! rotation, scale, translation, random crop), colour (brightness, contrast, saturation, hue),
//! Gaussian noise and cutout. Texts (token ids): deletion, swap, insertion and masking of tokens.
//! Any data of values: mixup. Each with a probability and a strength. The host draws every sample's
//! parameters from a seeded stream (`AUGMENT_PARAMS` numbers per sample); the backend's `augment` op
//! applies them where the batch lives, in one pass, so a GPU batch never leaves the device. A
//! text batch (a few hundred ids) is changed on the host by [`text`] before it is uploaded.
//!
//! Parameters of one sample: the inverse affine map from output to input pixel coordinates
//! (`a, b, c, d` and the offset `tx, ty`, about the image centre), brightness (added), contrast and
//! saturation (factors), hue (a rotation in radians), noise standard deviation, and the cutout
//! rectangle `x0, y0, x1, y1` in pixels (empty when `x1 ≤ x0`).

use crate::error::Error;
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

pub const AUGMENT_PARAMS: usize = 16;

/// The kinds of augmentation, each with the setting that gives its strength (if any) and that
/// setting's largest value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    FlipHorizontal,
    FlipVertical,
    /// A rotation by up to ± `degrees`.
    Rotate,
    /// A zoom by a factor in 1 ± `amount`.
    Scale,
    /// A shift by up to ± `fraction` of the width and height.
    Translate,
    /// A crop of up to `fraction` of each side, resized back to the full image.
    Crop,
    /// Up to ± `amount` added to every value.
    Brightness,
    /// Contrast about mid-grey scaled by a factor in 1 ± `amount`.
    Contrast,
    /// Colour saturation scaled by a factor in 1 ± `amount` (three-channel images).
    Saturation,
    /// Hue turned by up to ± `degrees` (three-channel images).
    Hue,
    /// Gaussian noise of standard deviation `std`.
    Noise,
    /// A square of side `size` (a fraction of the width) set to 0 at a random place.
    Cutout,
    /// With probability `p` per batch, every sample mixed with another of the batch, inputs and
    /// labels alike, by a weight λ ~ Beta(`alpha`, `alpha`) (Zhang et al., "mixup"). Works on any
    /// data, not only images.
    Mixup,
    /// Each token of a text left out with probability `rate` (the rest close up; a text keeps at
    /// least one).
    DeleteTokens,
    /// Each token swapped with the next with probability `rate`.
    SwapTokens,
    /// A token drawn from the vocabulary put before each token with probability `rate` (the text is
    /// cut back to its length).
    InsertTokens,
    /// Each token replaced by the unknown token with probability `rate`.
    MaskTokens,
}

/// What data an augmentation works on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Works {
    Images,
    /// Token ids (a model that starts with an embedding).
    Text,
    /// Any data of values: everything but token ids, which cannot be blended.
    Values,
}

impl Kind {
    /// The name the core reads (`"flip_horizontal"`, …), as serde writes it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::FlipHorizontal => "flip_horizontal",
            Kind::FlipVertical => "flip_vertical",
            Kind::Rotate => "rotate",
            Kind::Scale => "scale",
            Kind::Translate => "translate",
            Kind::Crop => "crop",
            Kind::Brightness => "brightness",
            Kind::Contrast => "contrast",
            Kind::Saturation => "saturation",
            Kind::Hue => "hue",
            Kind::Noise => "noise",
            Kind::Cutout => "cutout",
            Kind::Mixup => "mixup",
            Kind::DeleteTokens => "delete_tokens",
            Kind::SwapTokens => "swap_tokens",
            Kind::InsertTokens => "insert_tokens",
            Kind::MaskTokens => "mask_tokens",
        }
    }

    /// The data it works on.
    pub fn works(self) -> Works {
        match self {
            Kind::Mixup => Works::Values,
            Kind::DeleteTokens | Kind::SwapTokens | Kind::InsertTokens | Kind::MaskTokens => Works::Text,
            _ => Works::Images,
        }
    }

    /// The setting that gives the strength, and its largest value (none for the flips).
    pub fn strength(self) -> Option<(&'static str, f32)> {
        match self {
            Kind::FlipHorizontal | Kind::FlipVertical => None,
            Kind::Rotate | Kind::Hue => Some(("degrees", 180.0)),
            Kind::Scale | Kind::Contrast | Kind::Saturation | Kind::Brightness => Some(("amount", 1.0)),
            Kind::Translate | Kind::Crop => Some(("fraction", 0.5)),
            Kind::Noise => Some(("std", 1.0)),
            Kind::Cutout => Some(("size", 1.0)),
            Kind::Mixup => Some(("alpha", 10.0)),
            Kind::DeleteTokens | Kind::SwapTokens | Kind::InsertTokens | Kind::MaskTokens => Some(("rate", 0.5)),
        }
    }
}

/// One augmentation: its kind, its probability `p` of being applied to a sample (to a batch, for
/// mixup), and its strength under the name its kind gives it (`{"type": "rotate", "p": 0.5,
/// "degrees": 15}`). A flat struct rather than a tagged enum: it deserialises with a fraction of the
/// code.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Augmentation {
    #[serde(rename = "type")]
    pub kind: Kind,
    pub p: f32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub degrees: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fraction: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub std: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f32>,
}

impl Augmentation {
    /// The strength settings given, by name.
    fn given(&self) -> [(&'static str, Option<f32>); 7] {
        [
            ("degrees", self.degrees),
            ("amount", self.amount),
            ("fraction", self.fraction),
            ("std", self.std),
            ("size", self.size),
            ("alpha", self.alpha),
            ("rate", self.rate),
        ]
    }

    /// The strength (0 for the flips, and for a pipeline that was not validated).
    fn strength(&self) -> f32 {
        self.kind
            .strength()
            .and_then(|(name, _)| self.given().into_iter().find(|(n, _)| *n == name).and_then(|(_, v)| v))
            .unwrap_or(0.0)
    }

    fn name(&self) -> &'static str {
        self.kind.name()
    }
}

/// Checks every probability and strength; a message names the augmentation.
pub fn validate(pipeline: &[Augmentation]) -> Result<(), Error> {
    for a in pipeline {
        let bad = |why: String| Err(Error::InvalidConfig(format!("augmentation '{}': {why}", a.name())));
        if !(0.0..=1.0).contains(&a.p) {
            return bad(format!("the probability must be between 0 and 1, got {}", a.p));
        }
        let wanted = a.kind.strength();
        if let Some((other, _)) = a
            .given()
            .into_iter()
            .find(|(n, v)| v.is_some() && wanted.is_none_or(|(w, _)| w != *n))
        {
            return bad(match wanted {
                Some((w, _)) => format!("takes {w}, not {other}"),
                None => format!("has no strength setting, but {other} was given"),
            });
        }
        let Some((what, max)) = wanted else { continue };
        let Some(v) = a.given().into_iter().find(|(n, _)| *n == what).and_then(|(_, v)| v) else {
            return bad(format!("needs {what}"));
        };
        if a.kind == Kind::Mixup && !(v > 0.0 && v <= max) {
            return bad(format!("{what} must be above 0 and at most {max}, got {v}"));
        }
        if !(0.0..=max).contains(&v) {
            return bad(format!("{what} must be between 0 and {max}, got {v}"));
        }
    }
    Ok(())
}

/// Mixup's probability and α, when the pipeline has it.
pub fn mixup(pipeline: &[Augmentation]) -> Option<(f32, f32)> {
    pipeline
        .iter()
        .find(|a| a.kind == Kind::Mixup)
        .map(|a| (a.p, a.strength()))
}

/// Whether the pipeline changes images one by one.
pub fn per_image(pipeline: &[Augmentation]) -> bool {
    pipeline.iter().any(|a| a.kind.works() == Works::Images)
}

/// Whether the pipeline changes texts' tokens.
pub fn per_text(pipeline: &[Augmentation]) -> bool {
    pipeline.iter().any(|a| a.kind.works() == Works::Text)
}

/// The text augmentations of `pipeline` applied to `ids`: texts of `len` token ids one after
/// another, padding (0) after each text's tokens; `vocab` ids in all, an inserted token drawn from
/// the real ones (2 and up). Each augmentation that applies draws a number per token, so switching
/// one off changes the draws of those after it (the run stays seeded).
pub fn text(pipeline: &[Augmentation], ids: &mut [f32], len: usize, vocab: usize, rng: &mut Rng) {
    let padding = crate::data::text::PADDING as f32;
    for row in ids.chunks_mut(len) {
        let mut tokens: Vec<f32> = row.iter().copied().filter(|&t| t != padding).collect();
        for a in pipeline.iter().filter(|a| a.kind.works() == Works::Text) {
            if rng.uniform() >= a.p {
                continue;
            }
            let rate = a.strength();
            match a.kind {
                Kind::DeleteTokens => {
                    let kept: Vec<f32> = tokens.iter().copied().filter(|_| rng.uniform() >= rate).collect();
                    if !kept.is_empty() {
                        tokens = kept;
                    } else {
                        tokens.truncate(1);
                    }
                }
                Kind::SwapTokens => {
                    let mut i = 0;
                    while i + 1 < tokens.len() {
                        if rng.uniform() < rate {
                            tokens.swap(i, i + 1);
                            i += 1;
                        }
                        i += 1;
                    }
                }
                Kind::InsertTokens if vocab > 2 => {
                    let mut out = Vec::with_capacity(len);
                    for &t in &tokens {
                        if rng.uniform() < rate {
                            out.push((2 + rng.below(vocab - 2)) as f32);
                        }
                        out.push(t);
                    }
                    out.truncate(len);
                    tokens = out;
                }
                Kind::MaskTokens => tokens
                    .iter_mut()
                    .filter(|_| rng.uniform() < rate)
                    .for_each(|t| *t = crate::data::text::UNKNOWN as f32),
                _ => {}
            }
        }
        row.fill(padding);
        row[..tokens.len()].copy_from_slice(&tokens);
    }
}

/// The parameters of `n` samples of `height × width` images, `AUGMENT_PARAMS` per sample (mixup,
/// which mixes samples, is left to the training step).
pub fn draw(pipeline: &[Augmentation], n: usize, height: usize, width: usize, rng: &mut Rng) -> Vec<f32> {
    let (w, h) = (width as f32, height as f32);
    let mut out = Vec::with_capacity(n * AUGMENT_PARAMS);
    for _ in 0..n {
        // Inverse map [a b; c d] and offset, colour, noise, cutout.
        let (mut m, mut t) = ([1.0f32, 0.0, 0.0, 1.0], [0.0f32, 0.0]);
        let (mut brightness, mut contrast, mut saturation, mut hue, mut noise) = (0.0, 1.0, 1.0, 0.0, 0.0);
        let mut cutout = [0.0f32; 4];
        let compose = |m: &mut [f32; 4], n: [f32; 4]| {
            *m = [
                m[0] * n[0] + m[1] * n[2],
                m[0] * n[1] + m[1] * n[3],
                m[2] * n[0] + m[3] * n[2],
                m[2] * n[1] + m[3] * n[3],
            ]
        };
        for a in pipeline {
            // Every augmentation draws the same numbers whether or not it applies, so that one
            // switched off does not change the others' draws.
            let (apply, u1, u2, u3) = (rng.uniform() < a.p, rng.uniform(), rng.uniform(), rng.uniform());
            if !apply {
                continue;
            }
            let sym = |u: f32, r: f32| (2.0 * u - 1.0) * r;
            let strength = a.strength();
            match a.kind {
                Kind::FlipHorizontal => compose(&mut m, [-1.0, 0.0, 0.0, 1.0]),
                Kind::FlipVertical => compose(&mut m, [1.0, 0.0, 0.0, -1.0]),
                Kind::Rotate => {
                    let (s, c) = sym(u1, strength).to_radians().sin_cos();
                    compose(&mut m, [c, -s, s, c]);
                }
                Kind::Scale => {
                    let zoom = 1.0 + sym(u1, strength);
                    compose(&mut m, [1.0 / zoom, 0.0, 0.0, 1.0 / zoom]);
                }
                Kind::Translate => {
                    t[0] -= sym(u1, strength) * w;
                    t[1] -= sym(u2, strength) * h;
                }
                Kind::Crop => {
                    let cut = strength * u1;
                    compose(&mut m, [1.0 - cut, 0.0, 0.0, 1.0 - cut]);
                    t[0] += sym(u2, cut / 2.0) * w;
                    t[1] += sym(u3, cut / 2.0) * h;
                }
                Kind::Brightness => brightness += sym(u1, strength),
                Kind::Contrast => contrast *= 1.0 + sym(u1, strength),
                Kind::Saturation => saturation *= (1.0 + sym(u1, strength)).max(0.0),
                Kind::Hue => hue += sym(u1, strength).to_radians(),
                Kind::Noise => noise = strength,
                Kind::Cutout => {
                    let (side_x, side_y) = (strength * w, strength * h);
                    let (cx, cy) = (u1 * w, u2 * h);
                    cutout = [
                        cx - side_x / 2.0,
                        cy - side_y / 2.0,
                        cx + side_x / 2.0,
                        cy + side_y / 2.0,
                    ];
                }
                Kind::Mixup | Kind::DeleteTokens | Kind::SwapTokens | Kind::InsertTokens | Kind::MaskTokens => {}
            }
        }
        out.extend_from_slice(&[
            m[0], m[1], m[2], m[3], t[0], t[1], brightness, contrast, saturation, hue, noise,
        ]);
        out.extend_from_slice(&cutout);
        out.push(0.0);
    }
    out
}

/// The augmentation of one `[c, h, w]` image by its parameters `q`; `noise(i)` gives the standard
/// normal number of element `i` of the image. The CPU reference of the GPU kernel.
pub fn apply(
    image: &[f32],
    channels: usize,
    height: usize,
    width: usize,
    q: &[f32],
    noise: impl Fn(usize) -> f32,
) -> Vec<f32> {
    let plane = height * width;
    let mut out = vec![0.0; image.len()];
    let (hw, hh) = (width as f32 / 2.0, height as f32 / 2.0);
    // Most draws leave some stages out: an identity map reads pixels as they are, no noise skips
    // the normal numbers.
    let moved = q[..6] != [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
    let noisy = q[10] != 0.0;
    let sample = |c: usize, k: usize, ix: f32, iy: f32| {
        if moved {
            bilinear(&image[c * plane..(c + 1) * plane], height, width, ix, iy)
        } else {
            image[c * plane + k]
        }
    };
    let hue = Hue::new(q[9]);
    let finish = |k: usize, v: f32, cut: bool| {
        if cut {
            0.0
        } else if noisy {
            (v + q[10] * noise(k)).clamp(0.0, 1.0)
        } else {
            v.clamp(0.0, 1.0)
        }
    };
    for y in 0..height {
        for x in 0..width {
            let (ox, oy) = (x as f32 + 0.5 - hw, y as f32 + 0.5 - hh);
            let ix = q[0] * ox + q[1] * oy + q[4] + hw - 0.5;
            let iy = q[2] * ox + q[3] * oy + q[5] + hh - 0.5;
            let cut =
                x as f32 + 0.5 >= q[11] && x as f32 + 0.5 < q[13] && y as f32 + 0.5 >= q[12] && y as f32 + 0.5 < q[14];
            let k = y * width + x;
            if channels == 3 {
                let rgb = hue.turn(saturate([0, 1, 2].map(|c| tone(sample(c, k, ix, iy), q)), q[8]));
                for (c, v) in rgb.into_iter().enumerate() {
                    out[c * plane + k] = finish(c * plane + k, v, cut);
                }
            } else {
                for c in 0..channels {
                    out[c * plane + k] = finish(c * plane + k, tone(sample(c, k, ix, iy), q), cut);
                }
            }
        }
    }
    out
}

/// Bilinear sample of a `h × w` plane at `(x, y)` in pixel coordinates (0 outside the image).
fn bilinear(plane: &[f32], h: usize, w: usize, x: f32, y: f32) -> f32 {
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let at = |xi: f32, yi: f32| {
        if xi >= 0.0 && yi >= 0.0 && (xi as usize) < w && (yi as usize) < h {
            plane[yi as usize * w + xi as usize]
        } else {
            0.0
        }
    };
    let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1.0, y0) * fx;
    let bottom = at(x0, y0 + 1.0) * (1.0 - fx) + at(x0 + 1.0, y0 + 1.0) * fx;
    top * (1.0 - fy) + bottom * fy
}

/// Brightness, then contrast about mid-grey.
fn tone(v: f32, q: &[f32]) -> f32 {
    ((v + q[6] - 0.5) * q[7] + 0.5).clamp(0.0, 1.0)
}

/// Saturation about the pixel's grey.
fn saturate([r, g, b]: [f32; 3], factor: f32) -> [f32; 3] {
    let grey = 0.299 * r + 0.587 * g + 0.114 * b;
    [
        grey + (r - grey) * factor,
        grey + (g - grey) * factor,
        grey + (b - grey) * factor,
    ]
}

/// A hue turn: a rotation of the colour about the grey axis (1, 1, 1), exactly the identity at
/// angle 0; its matrix is computed once per image.
struct Hue {
    same: f32,
    plus: f32,
    minus: f32,
}

impl Hue {
    fn new(angle: f32) -> Self {
        let (s, c) = angle.sin_cos();
        let third = (1.0 - c) / 3.0;
        Self {
            same: c + third,
            plus: third + s / 3f32.sqrt(),
            minus: third - s / 3f32.sqrt(),
        }
    }

    fn turn(&self, [r, g, b]: [f32; 3]) -> [f32; 3] {
        let Hue { same, plus, minus } = *self;
        [
            (same * r + minus * g + plus * b).clamp(0.0, 1.0),
            (plus * r + same * g + minus * b).clamp(0.0, 1.0),
            (minus * r + plus * g + same * b).clamp(0.0, 1.0),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDENTITY: [f32; AUGMENT_PARAMS] = [
        1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    ];

    fn with(changes: &[(usize, f32)]) -> Vec<f32> {
        let mut q = IDENTITY.to_vec();
        for &(i, v) in changes {
            q[i] = v;
        }
        q
    }

    /// A 1 × 4 × 5 image whose values are distinct.
    fn ramp() -> Vec<f32> {
        (0..20).map(|i| i as f32 / 20.0).collect()
    }

    fn no_noise(_: usize) -> f32 {
        0.0
    }

    #[test]
    fn geometry_moves_pixels_where_it_should() {
        let img = ramp();
        let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6);
        assert!(close(&apply(&img, 1, 4, 5, &IDENTITY, no_noise), &img));
        // Mirror left to right: column x takes column 4 − x.
        let flipped = apply(&img, 1, 4, 5, &with(&[(0, -1.0)]), no_noise);
        for y in 0..4 {
            for x in 0..5 {
                assert!((flipped[y * 5 + x] - img[y * 5 + 4 - x]).abs() < 1e-6);
            }
        }
        // Shift right by 2: the input offset is −2; the two left columns come from outside (0).
        let shifted = apply(&img, 1, 4, 5, &with(&[(4, -2.0)]), no_noise);
        for y in 0..4 {
            assert_eq!(shifted[y * 5..y * 5 + 2], [0.0, 0.0]);
            for x in 2..5 {
                assert!((shifted[y * 5 + x] - img[y * 5 + x - 2]).abs() < 1e-6);
            }
        }
        // A quarter turn of a square image: out(x, y) = in(y, w − 1 − x).
        let square: Vec<f32> = (0..16).map(|i| i as f32 / 16.0).collect();
        let turned = apply(
            &square,
            1,
            4,
            4,
            &with(&[(0, 0.0), (1, 1.0), (2, -1.0), (3, 0.0)]),
            no_noise,
        );
        for y in 0..4 {
            for x in 0..4 {
                assert!((turned[y * 4 + x] - square[(3 - x) * 4 + y]).abs() < 1e-6, "({x}, {y})");
            }
        }
        // Zooming in by 2 about the centre: the centre value stays, corners come from nearer the middle.
        let zoomed = apply(&square, 1, 4, 4, &with(&[(0, 0.5), (3, 0.5)]), no_noise);
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        assert!((mean(&zoomed) - mean(&square)).abs() < 0.05 && zoomed[0] > square[0]);
    }

    #[test]
    fn colour_noise_and_cutout() {
        // An orange pixel: full saturation 0 makes it grey, hue 0 and saturation 1 leave it.
        let orange = vec![0.9, 0.5, 0.1];
        let same = apply(&orange, 3, 1, 1, &IDENTITY, no_noise);
        assert!(same.iter().zip(&orange).all(|(a, b)| (a - b).abs() < 1e-6), "{same:?}");
        let grey = apply(&orange, 3, 1, 1, &with(&[(8, 0.0)]), no_noise);
        assert!((grey[0] - grey[1]).abs() < 1e-3 && (grey[1] - grey[2]).abs() < 1e-3);
        // A half turn of hue makes orange bluish.
        let turned = apply(&orange, 3, 1, 1, &with(&[(9, std::f32::consts::PI)]), no_noise);
        assert!(turned[2] > turned[0], "{turned:?}");
        // Brightness adds; contrast doubles the distance from mid-grey; both clamp to [0, 1].
        let near = |a: Vec<f32>, b: [f32; 2]| {
            assert!(
                (a[0] - b[0]).abs() < 1e-6 && (a[1] - b[1]).abs() < 1e-6,
                "{a:?} against {b:?}"
            )
        };
        near(apply(&[0.3, 0.95], 1, 1, 2, &with(&[(6, 0.1)]), no_noise), [0.4, 1.0]);
        near(apply(&[0.3, 0.6], 1, 1, 2, &with(&[(7, 2.0)]), no_noise), [0.1, 0.7]);
        // Noise is added at its standard deviation; the cutout is zero.
        near(
            apply(&[0.5, 0.5], 1, 1, 2, &with(&[(10, 0.1)]), |k| k as f32),
            [0.5, 0.6],
        );
        let cut = apply(
            &ramp(),
            1,
            4,
            5,
            &with(&[(11, 1.0), (12, 0.0), (13, 3.0), (14, 2.0)]),
            no_noise,
        );
        assert_eq!([cut[1], cut[2], cut[6], cut[7]], [0.0; 4]);
        assert!(
            cut[0] == 0.0 && cut[3] > 0.0 && cut[11] > 0.0,
            "column 0 is 0 in the ramp; column 3 and row 2 are outside the cutout"
        );
    }

    #[test]
    fn drawing_is_seeded_and_probability_zero_changes_nothing() {
        let pipeline: Vec<Augmentation> = serde_json::from_str(
            r#"[{"type":"flip_horizontal","p":0.5},{"type":"rotate","p":1,"degrees":30},{"type":"hue","p":1,"degrees":180},{"type":"cutout","p":0.5,"size":0.3}]"#,
        )
        .unwrap();
        let a = draw(&pipeline, 8, 28, 28, &mut Rng::new(4));
        assert_eq!(a, draw(&pipeline, 8, 28, 28, &mut Rng::new(4)));
        assert_ne!(a, draw(&pipeline, 8, 28, 28, &mut Rng::new(5)));
        assert_eq!(a.len(), 8 * AUGMENT_PARAMS);
        // Every rotation is within ±30°: the map stays a rotation (a = d, b = −c, a² + c² = 1, |angle| ≤ 30°).
        for q in a.chunks(AUGMENT_PARAMS) {
            let angle = q[2].atan2(q[3].abs()).to_degrees().abs();
            assert!(angle <= 30.0 + 1e-3 && (q[0].abs() - q[3]).abs() < 1e-5, "{q:?}");
            assert!(q[9].abs() <= std::f32::consts::PI + 1e-6);
        }
        let off: Vec<Augmentation> = pipeline
            .iter()
            .map(|a| {
                let mut v = serde_json::to_value(a).unwrap();
                v["p"] = serde_json::json!(0.0);
                serde_json::from_value(v).unwrap()
            })
            .collect();
        for q in draw(&off, 4, 28, 28, &mut Rng::new(4)).chunks(AUGMENT_PARAMS) {
            assert_eq!(q, IDENTITY);
        }
    }

    #[test]
    fn bad_settings_are_named() {
        let bad: Vec<Augmentation> = serde_json::from_str(r#"[{"type":"rotate","p":1.5,"degrees":10}]"#).unwrap();
        assert!(validate(&bad)
            .unwrap_err()
            .to_string()
            .contains("augmentation 'rotate': the probability must be between 0 and 1, got 1.5"));
        let bad: Vec<Augmentation> = serde_json::from_str(r#"[{"type":"translate","p":0.5,"fraction":0.9}]"#).unwrap();
        assert!(validate(&bad)
            .unwrap_err()
            .to_string()
            .contains("fraction must be between 0 and 0.5"));
        let bad: Vec<Augmentation> = serde_json::from_str(r#"[{"type":"rotate","p":0.5,"amount":0.2}]"#).unwrap();
        assert!(validate(&bad)
            .unwrap_err()
            .to_string()
            .contains("augmentation 'rotate': takes degrees, not amount"));
        let bad: Vec<Augmentation> = serde_json::from_str(r#"[{"type":"hue","p":0.5}]"#).unwrap();
        assert!(validate(&bad)
            .unwrap_err()
            .to_string()
            .contains("augmentation 'hue': needs degrees"));
        let bad: Vec<Augmentation> = serde_json::from_str(r#"[{"type":"flip_vertical","p":0.5,"size":0.2}]"#).unwrap();
        assert!(validate(&bad)
            .unwrap_err()
            .to_string()
            .contains("has no strength setting, but size was given"));
        assert!(serde_json::from_str::<Vec<Augmentation>>(r#"[{"type":"warp","p":0.5}]"#).is_err());
    }

    #[test]
    fn token_deletion_swap_insertion_and_masking() {
        let one = |json: &str, ids: &[f32], seed: u64| {
            let pipeline: Vec<Augmentation> = serde_json::from_str(json).unwrap();
            validate(&pipeline).unwrap();
            let mut out = ids.to_vec();
            text(&pipeline, &mut out, ids.len(), 20, &mut Rng::new(seed));
            out
        };
        let word = [2.0, 3.0, 4.0, 5.0, 6.0, 0.0, 0.0, 0.0];
        // At rate 0 nothing changes; at p 0 neither.
        for kind in ["delete_tokens", "swap_tokens", "insert_tokens", "mask_tokens"] {
            assert_eq!(one(&format!(r#"[{{"type":"{kind}","p":1,"rate":0}}]"#), &word, 1), word);
            assert_eq!(
                one(&format!(r#"[{{"type":"{kind}","p":0,"rate":0.5}}]"#), &word, 1),
                word
            );
        }
        for seed in 0..50 {
            // Deletion keeps the order of what is left, closes up, and keeps one token at least.
            let d = one(r#"[{"type":"delete_tokens","p":1,"rate":0.5}]"#, &word, seed);
            let kept: Vec<f32> = d.iter().copied().take_while(|&t| t != 0.0).collect();
            assert!(!kept.is_empty() && kept.windows(2).all(|w| w[0] < w[1]), "{d:?}");
            assert!(d[kept.len()..].iter().all(|&t| t == 0.0));
            // A swap exchanges neighbours: the same tokens, each at most one place away.
            let s = one(r#"[{"type":"swap_tokens","p":1,"rate":0.5}]"#, &word, seed);
            let mut sorted = s.clone();
            sorted[..5].sort_by(f32::total_cmp);
            assert_eq!(sorted, word);
            assert!(
                s[..5]
                    .iter()
                    .enumerate()
                    .all(|(i, &t)| (t - 2.0 - i as f32).abs() <= 1.0),
                "{s:?}"
            );
            // Insertion adds real tokens of the vocabulary, never takes one away, and is cut to the
            // length.
            let i = one(r#"[{"type":"insert_tokens","p":1,"rate":0.5}]"#, &word, seed);
            assert!(i.iter().all(|&t| t == 0.0 || (2.0..20.0).contains(&t)), "{i:?}");
            assert!(i.iter().filter(|&&t| t != 0.0).count() >= 5, "{i:?}");
            // Masking replaces tokens by the unknown one (1), never the padding.
            let m = one(r#"[{"type":"mask_tokens","p":1,"rate":0.5}]"#, &word, seed);
            assert!(
                m.iter().zip(&word).all(|(&a, &b)| a == b || (a == 1.0 && b != 0.0)),
                "{m:?}"
            );
        }
        let longer = |seed| one(r#"[{"type":"insert_tokens","p":1,"rate":0.5}]"#, &word, seed)[5] != 0.0;
        assert!((0..10).any(longer));
        // Each changes some texts at rate 0.5, and the same seed gives the same texts.
        let pipeline = r#"[{"type":"delete_tokens","p":1,"rate":0.5},{"type":"mask_tokens","p":1,"rate":0.5}]"#;
        assert_eq!(one(pipeline, &word, 3), one(pipeline, &word, 3));
        assert!((0..10).any(|seed| one(pipeline, &word, seed) != one(pipeline, &word, 3)));
        let bad: Vec<Augmentation> = serde_json::from_str(r#"[{"type":"mask_tokens","p":1,"rate":0.8}]"#).unwrap();
        assert!(validate(&bad)
            .unwrap_err()
            .to_string()
            .contains("augmentation 'mask_tokens': rate must be between 0 and 0.5, got 0.8"));
    }
}
