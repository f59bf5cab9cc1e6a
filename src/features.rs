//! Feature engineering: transforms fitted on a run's training split and applied, with the same
//! fitted numbers, to its held-out split and to every later prediction. The fitted transform is
//! saved in the model file.
//!
//! Tables (on the host, before the data goes to the device): missing values filled in (mean,
//! median, most frequent value or a constant), a log transform of chosen columns, standardising or
//! min-max scaling of the numeric columns, one-hot codes for the categorical ones, and the squares
//! and pairwise products of the numeric columns.
//!
//! Images (on the device, on every batch after augmentation, by the backend's `image_features`):
//! grayscale, an edge channel (the Sobel gradient's magnitude) and per-channel normalisation by
//! the training split's mean and standard deviation.

use crate::data::{Column, Dataset};
use crate::error::Error;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// What to do with the features; the default does nothing (but fill in missing values).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeatureSpec {
    pub impute: Impute,
    /// The value `Impute::Constant` fills in.
    pub fill: f32,
    pub scale: Scale,
    pub one_hot: bool,
    /// Numeric columns (by name) replaced by `sign(x)·ln(1 + |x|)`, before scaling.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub log: Vec<String>,
    /// Append the squares and pairwise products of the numeric columns (after scaling).
    pub polynomial: bool,
    pub grayscale: bool,
    pub edges: bool,
    pub normalize: bool,
}

/// How missing values of a table are filled in (a categorical column takes its most frequent
/// category for any choice but `Constant`, where it takes category `fill` when that exists).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Impute {
    #[default]
    Mean,
    Median,
    Mode,
    Constant,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    #[default]
    None,
    Standardize,
    MinMax,
}

/// One table column's fitted transform: fill in, then (numeric) log, then `(v − shift) / scale`,
/// or (categorical, one-hot) one value per category.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnFit {
    pub name: String,
    /// A categorical column: its value is a category's index (or one-hot codes).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub categorical: bool,
    pub fill: f32,
    pub log: bool,
    pub shift: f32,
    pub scale: f32,
    /// Categories for one-hot codes (empty: one value).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub one_hot: Vec<String>,
}

/// An image transform's fitted numbers: the output channels' mean and standard deviation (0 and 1
/// without normalisation).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageFit {
    pub grayscale: bool,
    pub edges: bool,
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fitted {
    pub input_shape: Vec<usize>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<ColumnFit>,
    /// The products appended by the polynomial features: pairs of output indices.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<(usize, usize)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageFit>,
}

fn signed_log(v: f32) -> f32 {
    v.signum() * v.abs().ln_1p()
}

fn median(sorted: &[f32]) -> f32 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
    }
}

/// The most frequent value (the smallest among ties).
fn mode(sorted: &[f32]) -> f32 {
    let mut best = (sorted[0], 0);
    let mut i = 0;
    while i < sorted.len() {
        let run = sorted[i..].iter().take_while(|&&v| v == sorted[i]).count();
        if run > best.1 {
            best = (sorted[i], run);
        }
        i += run;
    }
    best.0
}

/// Output channels of an image transform on `c` input channels.
pub fn image_channels(c: usize, grayscale: bool, edges: bool) -> usize {
    if grayscale { 1 } else { c }.max(1) + edges as usize
}

/// The CPU reference of the image transform on one image `[c, h, w]`: grayscale (luminance for three
/// channels, else the channel mean), then an edge channel (the magnitude of the Sobel gradient of
/// the grey image, edges clamped, divided by 4), then `(v − mean[k]) / std[k]` per output channel.
pub fn image_transform(image: &[f32], c: usize, h: usize, w: usize, fit: &ImageFit) -> Vec<f32> {
    let plane = h * w;
    let grey: Vec<f32> = (0..plane)
        .map(|p| {
            if c == 3 {
                0.299 * image[p] + 0.587 * image[plane + p] + 0.114 * image[2 * plane + p]
            } else {
                (0..c).map(|k| image[k * plane + p]).sum::<f32>() / c as f32
            }
        })
        .collect();
    let mut out = if fit.grayscale { grey.clone() } else { image.to_vec() };
    if fit.edges {
        let at =
            |y: isize, x: isize| grey[y.clamp(0, h as isize - 1) as usize * w + x.clamp(0, w as isize - 1) as usize];
        for y in 0..h as isize {
            for x in 0..w as isize {
                let gx = at(y - 1, x + 1) + 2.0 * at(y, x + 1) + at(y + 1, x + 1)
                    - at(y - 1, x - 1)
                    - 2.0 * at(y, x - 1)
                    - at(y + 1, x - 1);
                let gy = at(y + 1, x - 1) + 2.0 * at(y + 1, x) + at(y + 1, x + 1)
                    - at(y - 1, x - 1)
                    - 2.0 * at(y - 1, x)
                    - at(y - 1, x + 1);
                out.push((gx * gx + gy * gy).sqrt() / 4.0);
            }
        }
    }
    for (k, channel) in out.chunks_mut(plane).enumerate() {
        channel.iter_mut().for_each(|v| *v = (*v - fit.mean[k]) / fit.std[k]);
    }
    out
}

impl FeatureSpec {
    fn touches_images(&self) -> bool {
        self.grayscale || self.edges || self.normalize
    }

    fn touches_tables(&self) -> bool {
        self.scale != Scale::None || self.one_hot || !self.log.is_empty() || self.polynomial
    }

    /// Checks the spec against the data it will be fitted on.
    fn check(&self, d: &Dataset) -> Result<(), Error> {
        let bad = |why: String| Err(Error::InvalidConfig(why));
        if self.touches_images() && d.sample_shape.len() != 3 {
            return bad(format!(
                "grayscale, edges and normalisation work on images [channels, height, width], not samples of {:?}",
                d.sample_shape
            ));
        }
        if self.touches_tables() && d.columns.is_empty() {
            return bad("scaling, one-hot codes, log and polynomial features work on tables read from CSV".into());
        }
        if !self.fill.is_finite() {
            return bad(format!("the fill value must be a number, got {}", self.fill));
        }
        for name in &self.log {
            match d.columns.iter().find(|c| c.name == *name) {
                None => return bad(format!("there is no column '{name}' to log-transform")),
                Some(c) if c.is_categorical() => {
                    return bad(format!(
                        "column '{name}' is categorical: only numbers can be log-transformed"
                    ))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

impl Fitted {
    /// Fits `spec` on a training split: every statistic comes from these samples only.
    pub fn fit(spec: &FeatureSpec, train: &Dataset) -> Result<Fitted, Error> {
        spec.check(train)?;
        let input_shape = train.sample_shape.clone();
        let w = train.sample_width();
        let columns: Vec<ColumnFit> = train
            .columns
            .iter()
            .enumerate()
            .map(|(f, c)| fit_column(spec, train, f, w, c))
            .collect::<Result<_, _>>()?;
        let mut fitted = Fitted {
            input_shape,
            columns,
            products: Vec::new(),
            image: None,
        };
        if spec.polynomial {
            let numeric: Vec<usize> = fitted
                .numeric_outputs()
                .iter()
                .enumerate()
                .filter(|(_, &n)| n)
                .map(|(o, _)| o)
                .collect();
            fitted.products = numeric
                .iter()
                .enumerate()
                .flat_map(|(i, &a)| numeric[i..].iter().map(move |&b| (a, b)))
                .collect();
        }
        if spec.touches_images() {
            let (c, h, wd) = (train.sample_shape[0], train.sample_shape[1], train.sample_shape[2]);
            let out = image_channels(c, spec.grayscale, spec.edges);
            let mut image = ImageFit {
                grayscale: spec.grayscale,
                edges: spec.edges,
                mean: vec![0.0; out],
                std: vec![1.0; out],
            };
            if spec.normalize {
                let (mut sum, mut square) = (vec![0.0f64; out], vec![0.0f64; out]);
                for sample in train.features.chunks(w) {
                    for (k, channel) in image_transform(sample, c, h, wd, &image).chunks(h * wd).enumerate() {
                        sum[k] += channel.iter().map(|&v| v as f64).sum::<f64>();
                        square[k] += channel.iter().map(|&v| (v as f64).powi(2)).sum::<f64>();
                    }
                }
                let count = (train.len() * h * wd) as f64;
                image.mean = sum.iter().map(|s| (s / count) as f32).collect();
                image.std = square
                    .iter()
                    .zip(&sum)
                    .map(|(q, s)| ((q / count - (s / count).powi(2)).max(0.0).sqrt() as f32).max(1e-6))
                    .collect();
            }
            fitted.image = Some(image);
        }
        Ok(fitted)
    }

    /// No transform, for samples of this shape.
    pub fn none(input_shape: &[usize]) -> Fitted {
        Fitted {
            input_shape: input_shape.to_vec(),
            columns: Vec::new(),
            products: Vec::new(),
            image: None,
        }
    }

    /// True when the transform does something: every table needs one (its missing values are
    /// filled in), images only when a transform is chosen.
    pub fn is_needed(&self) -> bool {
        self.image.is_some() || !self.columns.is_empty()
    }

    fn table_width(&self) -> usize {
        self.columns.iter().map(|c| c.one_hot.len().max(1)).sum()
    }

    /// Which outputs of the per-column part are numbers (not one-hot codes or category indices).
    fn numeric_outputs(&self) -> Vec<bool> {
        self.columns
            .iter()
            .flat_map(|c| vec![!c.categorical; c.one_hot.len().max(1)])
            .collect()
    }

    /// The name of every output feature of a table (`size`, `colour=red`, `size²`, `size×weight`).
    pub fn output_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .columns
            .iter()
            .flat_map(|c| {
                if c.one_hot.is_empty() {
                    vec![c.name.clone()]
                } else {
                    c.one_hot.iter().map(|k| format!("{}={k}", c.name)).collect()
                }
            })
            .collect();
        let products: Vec<String> = self
            .products
            .iter()
            .map(|&(a, b)| {
                if a == b {
                    format!("{}²", names[a])
                } else {
                    format!("{}×{}", names[a], names[b])
                }
            })
            .collect();
        names.extend(products);
        names
    }

    /// The shape of a sample after the transform.
    pub fn output_shape(&self) -> Vec<usize> {
        match &self.image {
            Some(i) => vec![i.mean.len(), self.input_shape[1], self.input_shape[2]],
            None if !self.columns.is_empty() => vec![self.table_width() + self.products.len()],
            None => self.input_shape.clone(),
        }
    }

    /// A table's rows (raw values, NaN where missing) transformed on the host; images pass through
    /// (the device transforms them batch by batch).
    pub fn apply_values(&self, values: &[f32]) -> Vec<f32> {
        if self.columns.is_empty() {
            return values.to_vec();
        }
        let mut out = Vec::with_capacity(values.len() / self.columns.len() * self.output_shape()[0]);
        for row in values.chunks(self.columns.len()) {
            let start = out.len();
            for (c, &v) in self.columns.iter().zip(row) {
                let v = if v.is_nan() { c.fill } else { v };
                if c.one_hot.is_empty() {
                    out.push((if c.log { signed_log(v) } else { v } - c.shift) / c.scale);
                } else {
                    out.extend((0..c.one_hot.len()).map(|k| (k as f32 == v) as u8 as f32));
                }
            }
            for &(a, b) in &self.products {
                out.push(out[start + a] * out[start + b]);
            }
        }
        out
    }

    /// The data set as the model sees it on the host: a table transformed, images as they are.
    pub fn apply<'a>(&self, d: &'a Dataset) -> Result<Cow<'a, Dataset>, Error> {
        if d.sample_shape != self.input_shape {
            return Err(Error::InvalidData(format!(
                "the feature transform was fitted on samples of shape {:?}, not {:?}",
                self.input_shape, d.sample_shape
            )));
        }
        if self.columns.is_empty() {
            return Ok(Cow::Borrowed(d));
        }
        let shape = vec![self.output_shape()[0]];
        Dataset::new(
            shape,
            self.apply_values(&d.features),
            d.labels.clone(),
            d.classes.clone(),
        )
        .map(Cow::Owned)
    }
}

fn fit_column(spec: &FeatureSpec, d: &Dataset, f: usize, w: usize, column: &Column) -> Result<ColumnFit, Error> {
    let mut present: Vec<f32> = d
        .features
        .iter()
        .skip(f)
        .step_by(w)
        .copied()
        .filter(|v| !v.is_nan())
        .collect();
    present.sort_by(f32::total_cmp);
    if present.is_empty() {
        return Err(Error::InvalidData(format!(
            "column '{}' has no values in the training split to fill its missing ones from",
            column.name
        )));
    }
    let fill = if column.is_categorical() {
        match spec.impute {
            Impute::Constant
                if (spec.fill as usize) < column.categories.len() && spec.fill.fract() == 0.0 && spec.fill >= 0.0 =>
            {
                spec.fill
            }
            _ => mode(&present),
        }
    } else {
        match spec.impute {
            Impute::Mean => (present.iter().map(|&v| v as f64).sum::<f64>() / present.len() as f64) as f32,
            Impute::Median => median(&present),
            Impute::Mode => mode(&present),
            Impute::Constant => spec.fill,
        }
    };
    if column.is_categorical() {
        let one_hot = if spec.one_hot {
            column.categories.clone()
        } else {
            Vec::new()
        };
        return Ok(ColumnFit {
            name: column.name.clone(),
            categorical: true,
            fill,
            log: false,
            shift: 0.0,
            scale: 1.0,
            one_hot,
        });
    }
    let log = spec.log.contains(&column.name);
    // Statistics of the column as filled in and logged, as the transform will see it.
    let missing = d.len() - present.len();
    let values: Vec<f64> = present
        .iter()
        .copied()
        .chain(std::iter::repeat_n(fill, missing))
        .map(|v| if log { signed_log(v) } else { v } as f64)
        .collect();
    let n = values.len() as f64;
    let (shift, scale) = match spec.scale {
        Scale::None => (0.0, 1.0),
        Scale::Standardize => {
            let mean = values.iter().sum::<f64>() / n;
            let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
            (mean as f32, if std > 1e-12 { std as f32 } else { 1.0 })
        }
        Scale::MinMax => {
            let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
            (lo as f32, if hi - lo > 1e-12 { (hi - lo) as f32 } else { 1.0 })
        }
    };
    Ok(ColumnFit {
        name: column.name.clone(),
        categorical: false,
        fill,
        log,
        shift,
        scale,
        one_hot: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::tabular;

    fn table() -> Dataset {
        // size: 1, 2, missing, 5; colour: red, blue, red, missing; label last.
        tabular::from_csv("size,colour,label\n1,red,a\n2,blue,b\n,red,a\n5,,b\n", None)
            .unwrap()
            .data
    }

    fn fitted(spec: FeatureSpec) -> (Fitted, Vec<f32>) {
        let d = table();
        let f = Fitted::fit(&spec, &d).unwrap();
        let out = f.apply(&d).unwrap().features.clone();
        (f, out)
    }

    #[test]
    fn missing_values_are_filled_by_each_rule() {
        let first_column = |spec| fitted(spec).1.iter().step_by(2).copied().collect::<Vec<_>>();
        assert_eq!(first_column(FeatureSpec::default()), [1.0, 2.0, 8.0 / 3.0, 5.0]);
        assert_eq!(
            first_column(FeatureSpec {
                impute: Impute::Median,
                ..Default::default()
            }),
            [1.0, 2.0, 2.0, 5.0]
        );
        assert_eq!(
            first_column(FeatureSpec {
                impute: Impute::Mode,
                ..Default::default()
            }),
            [1.0, 2.0, 1.0, 5.0]
        );
        assert_eq!(
            first_column(FeatureSpec {
                impute: Impute::Constant,
                fill: -1.0,
                ..Default::default()
            }),
            [1.0, 2.0, -1.0, 5.0]
        );
        // The colour column (blue = 0, red = 1) takes its most frequent category.
        assert_eq!(
            fitted(FeatureSpec::default())
                .1
                .iter()
                .skip(1)
                .step_by(2)
                .copied()
                .collect::<Vec<_>>(),
            [1.0, 0.0, 1.0, 1.0]
        );
    }

    #[test]
    fn scaling_one_hot_log_and_products() {
        let spec = FeatureSpec {
            impute: Impute::Median,
            scale: Scale::MinMax,
            one_hot: true,
            polynomial: true,
            ..Default::default()
        };
        let (f, out) = fitted(spec);
        assert_eq!(f.output_names(), ["size", "colour=blue", "colour=red", "size²"]);
        assert_eq!(f.output_shape(), [4]);
        let q = |v: f32| v * v;
        assert_eq!(
            out,
            [
                0.0,
                0.0,
                1.0,
                0.0,
                0.25,
                1.0,
                0.0,
                q(0.25),
                0.25,
                0.0,
                1.0,
                q(0.25),
                1.0,
                0.0,
                1.0,
                1.0
            ]
        );
        let (_, standard) = fitted(FeatureSpec {
            impute: Impute::Median,
            scale: Scale::Standardize,
            ..Default::default()
        });
        let size: Vec<f32> = standard.iter().step_by(2).copied().collect();
        let mean = size.iter().sum::<f32>() / 4.0;
        let var = size.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / 4.0;
        assert!(mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-5, "{mean} {var}");
        let (_, logged) = fitted(FeatureSpec {
            impute: Impute::Median,
            log: vec!["size".into()],
            ..Default::default()
        });
        assert_eq!(logged[6], 5.0f32.ln_1p());
    }

    #[test]
    fn statistics_come_from_the_split_it_is_fitted_on() {
        let d = table();
        let f = Fitted::fit(
            &FeatureSpec {
                scale: Scale::MinMax,
                ..Default::default()
            },
            &d.subset(&[0, 1]),
        )
        .unwrap();
        // Fitted on sizes 1 and 2: size 5 maps beyond 1, and a missing size takes their mean.
        assert_eq!(
            f.apply(&d.subset(&[3, 2]))
                .unwrap()
                .features
                .iter()
                .step_by(2)
                .copied()
                .collect::<Vec<_>>(),
            [4.0, 0.5]
        );
    }

    #[test]
    fn a_spec_that_does_not_fit_the_data_is_refused() {
        let d = table();
        let e = |spec: FeatureSpec| Fitted::fit(&spec, &d).unwrap_err().to_string();
        assert!(e(FeatureSpec {
            log: vec!["colour".into()],
            ..Default::default()
        })
        .contains("'colour' is categorical"));
        assert!(e(FeatureSpec {
            log: vec!["age".into()],
            ..Default::default()
        })
        .contains("no column 'age'"));
        assert!(e(FeatureSpec {
            grayscale: true,
            ..Default::default()
        })
        .contains("images"));
        let image = Dataset::new(vec![1, 2, 2], vec![0.0; 8], vec![0, 1], vec!["a".into(), "b".into()]).unwrap();
        assert!(Fitted::fit(
            &FeatureSpec {
                one_hot: true,
                ..Default::default()
            },
            &image
        )
        .unwrap_err()
        .to_string()
        .contains("tables"));
    }

    #[test]
    fn image_transforms_on_crafted_images() {
        // A 3 × 4 RGB image: pure red on the left half, black on the right.
        let (h, w) = (3, 4);
        let mut image = vec![0.0; 3 * h * w];
        for y in 0..h {
            image[y * w] = 1.0;
            image[y * w + 1] = 1.0;
        }
        let plain = ImageFit {
            grayscale: true,
            edges: true,
            mean: vec![0.0, 0.0],
            std: vec![1.0, 1.0],
        };
        let out = image_transform(&image, 3, h, w, &plain);
        assert_eq!(out.len(), 2 * h * w);
        assert_eq!(out[..4], [0.299, 0.299, 0.0, 0.0]);
        // The edge is vertical, between columns 1 and 2: |gx| = 4 · 0.299 there, 0 in the corners.
        let edge = &out[h * w..];
        assert!(
            (edge[w + 1] - 0.299).abs() < 1e-6
                && (edge[w + 2] - 0.299).abs() < 1e-6
                && edge[w] < 1e-6
                && edge[w + 3] == 0.0,
            "{edge:?}"
        );
        let d = Dataset::new(
            vec![3, h, w],
            [image.clone(), vec![1.0; 3 * h * w]].concat(),
            vec![0, 1],
            vec!["a".into(), "b".into()],
        )
        .unwrap();
        let f = Fitted::fit(
            &FeatureSpec {
                normalize: true,
                ..Default::default()
            },
            &d,
        )
        .unwrap();
        assert_eq!(f.output_shape(), [3, h, w]);
        let fit = f.image.clone().unwrap();
        assert_eq!(fit.mean, [0.75, 0.5, 0.5]);
        // After normalisation every channel has mean 0 and deviation 1 over the training split.
        let both: Vec<f32> = d
            .features
            .chunks(3 * h * w)
            .flat_map(|s| image_transform(s, 3, h, w, &fit))
            .collect();
        let green: Vec<f32> = both.chunks(h * w).skip(1).step_by(3).flatten().copied().collect();
        let mean = green.iter().sum::<f32>() / green.len() as f32;
        let var = green.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / green.len() as f32;
        assert!(mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-5);
        assert_eq!(
            Fitted::fit(
                &FeatureSpec {
                    grayscale: true,
                    edges: true,
                    ..Default::default()
                },
                &d
            )
            .unwrap()
            .output_shape(),
            [2, h, w]
        );
    }
}
