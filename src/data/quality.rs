//! The data quality report: exact duplicates (and those among them whose labels disagree), near
//! duplicates (images with the same 8 × 8 average hash; table rows equal after normalisation;
//! texts equal but for case, spaces and punctuation), leakage between the training and held-out
//! splits, samples whose label disagrees with their nearest neighbours' (texts compared by their
//! character n-grams), class imbalance, a table's missing values, constant and near-constant
//! columns and extreme outliers, texts of outlying length; and the fixes a click applies.

use super::text::{ngram_counts, Vocabulary, PADDING};
use super::Dataset;
use serde::Serialize;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub samples: usize,
    pub class_counts: Vec<usize>,
    /// Groups of samples (indices, two or more) with identical features, first occurrence first.
    pub exact_duplicates: Vec<Vec<usize>>,
    /// The exact-duplicate groups whose labels are not all the same: suspected label noise.
    pub conflicting_labels: Vec<Vec<usize>>,
    /// Images with the same average hash that are not exact duplicates of each other.
    pub near_duplicates: Vec<Vec<usize>>,
    /// The smallest class's share of the samples, when it is under half of an even share.
    pub imbalance: Option<Imbalance>,
    /// Features (flat indices) with one value across every sample (tabular data only: an image's
    /// always-black border is not a finding).
    pub constant_features: Vec<usize>,
    /// Table columns where one value covers at least [`NEAR_CONSTANT`] of the rows, but not all.
    pub near_constant_features: Vec<usize>,
    /// Table columns with missing values, and the rows that have any.
    pub missing: Vec<ColumnCount>,
    pub rows_with_missing: Vec<usize>,
    /// Extreme values of numeric table columns: a modified z-score (from the median and the median
    /// absolute deviation) above [`OUTLIER_Z`].
    pub outliers: Vec<ColumnRows>,
    /// Samples most of whose nearest neighbours share another label: suspected label noise.
    pub label_noise: Vec<Suspect>,
    /// How many samples (the first ones) the neighbour check covered.
    pub label_noise_checked: usize,
    /// Texts: the median length in tokens, and the texts whose length is an outlier (a modified
    /// z-score above [`OUTLIER_Z`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_lengths: Option<TextLengths>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TextLengths {
    pub median: usize,
    /// `(index, length)` of each outlier.
    pub outliers: Vec<(usize, usize)>,
    /// The text of every sample a finding names (`(index, text)`, by index), to show them.
    pub named: Vec<(usize, String)>,
}

/// Character n-grams the text neighbour check compares (1 to this long), and the bins they are
/// hashed into.
pub const TEXT_NGRAMS: usize = 3;
pub const TEXT_BUCKETS: usize = 128;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ColumnCount {
    pub column: usize,
    pub count: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ColumnRows {
    pub column: usize,
    pub rows: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Suspect {
    pub index: usize,
    pub label: u32,
    /// The label most neighbours have, and how many of the [`NEIGHBOURS`] have it.
    pub suggested: u32,
    pub votes: usize,
}

pub const NEAR_CONSTANT: f64 = 0.95;
pub const OUTLIER_Z: f32 = 3.5;
pub const NEIGHBOURS: usize = 10;
/// Votes among the neighbours for another label that make a sample suspect.
pub const NOISE_VOTES: usize = 8;
/// The neighbour check compares every pair, so it covers at most this many samples.
pub const NOISE_CHECK_LIMIT: usize = 3000;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Imbalance {
    pub class: usize,
    pub share: f64,
    /// The largest class's count over the smallest's.
    pub ratio: f64,
}

/// A key for a sample's exact values (their bits).
fn bits_key(values: &[f32]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for v in values {
        v.to_bits().hash(&mut h);
    }
    h.finish()
}

/// Groups of two or more indices whose values are equal, first occurrence first, groups in the order
/// of their first member.
fn equal_groups(d: &Dataset) -> Vec<Vec<usize>> {
    let w = d.sample_width();
    let sample = |i: usize| &d.features[i * w..(i + 1) * w];
    let mut buckets: HashMap<u64, Vec<Vec<usize>>> = HashMap::new();
    for i in 0..d.len() {
        let groups = buckets.entry(bits_key(sample(i))).or_default();
        match groups.iter_mut().find(|g| sample(g[0]) == sample(i)) {
            Some(g) => g.push(i),
            None => groups.push(vec![i]),
        }
    }
    let mut groups: Vec<Vec<usize>> = buckets.into_values().flatten().filter(|g| g.len() > 1).collect();
    groups.sort_by_key(|g| g[0]);
    groups
}

/// The 64-bit average hash of an image `[c, h, w]`: the channel mean, box-averaged to 8 × 8, each
/// cell above the mean a 1 bit.
pub fn average_hash(image: &[f32], shape: &[usize]) -> u64 {
    let (c, h, w) = (shape[0], shape[1], shape[2]);
    let mut cells = [0.0f32; 64];
    let mut counts = [0u32; 64];
    for y in 0..h {
        for x in 0..w {
            let cell = (y * 8 / h) * 8 + x * 8 / w;
            cells[cell] += (0..c).map(|ch| image[(ch * h + y) * w + x]).sum::<f32>() / c as f32;
            counts[cell] += 1;
        }
    }
    let means: Vec<f32> = cells
        .iter()
        .zip(&counts)
        .map(|(s, &n)| if n > 0 { s / n as f32 } else { 0.0 })
        .collect();
    let mean = means.iter().sum::<f32>() / 64.0;
    means
        .iter()
        .enumerate()
        .fold(0u64, |hash, (i, &m)| if m > mean { hash | 1 << i } else { hash })
}

pub fn report(d: &Dataset) -> Report {
    let mut r = report_but_noise(d);
    r.label_noise = label_noise(&d.subset(&(0..r.label_noise_checked).collect::<Vec<_>>()));
    r
}

/// Indices of `values` whose modified z-score, 0.6745·|v − median| / MAD against `sorted` (the
/// same values in order, NaN left out), exceeds [`OUTLIER_Z`]; none when the MAD is 0.
fn outlying(sorted: &[f32], values: impl Iterator<Item = f32>) -> Vec<usize> {
    let median = sorted[sorted.len() / 2];
    let mut deviations: Vec<f32> = sorted.iter().map(|v| (v - median).abs()).collect();
    deviations.sort_by(f32::total_cmp);
    let mad = deviations[deviations.len() / 2];
    if mad > 0.0 {
        values
            .enumerate()
            .filter(|(_, v)| 0.6745 * (v - median).abs() / mad > OUTLIER_Z)
            .map(|(i, _)| i)
            .collect()
    } else {
        Vec::new()
    }
}

/// Every finding of [`report`] but label noise (left empty; the samples it would check counted).
fn report_but_noise(d: &Dataset) -> Report {
    let w = d.sample_width();
    let exact = equal_groups(d);
    let conflicting_labels = exact
        .iter()
        .filter(|g| g.iter().any(|&i| d.labels[i] != d.labels[g[0]]))
        .cloned()
        .collect();
    let near_duplicates = if d.sample_shape.len() == 3 {
        near_groups(
            (0..d.len()).map(|i| average_hash(&d.features[i * w..(i + 1) * w], &d.sample_shape)),
            &exact,
        )
    } else if !d.columns.is_empty() {
        near_duplicate_rows(d, &exact)
    } else {
        Vec::new()
    };
    let mut class_counts = vec![0; d.classes.len()];
    d.labels.iter().for_each(|&l| class_counts[l as usize] += 1);
    let (smallest, &least) = class_counts
        .iter()
        .enumerate()
        .min_by_key(|(_, &c)| c)
        .expect("a data set has classes");
    let most = *class_counts.iter().max().expect("a data set has classes");
    let share = least as f64 / d.len().max(1) as f64;
    let imbalance = (share < 0.5 / d.classes.len() as f64).then(|| Imbalance {
        class: smallest,
        share,
        ratio: most as f64 / least.max(1) as f64,
    });
    let constant_features = if d.sample_shape.len() == 1 && d.len() > 1 {
        (0..w)
            .filter(|&f| (1..d.len()).all(|i| d.features[i * w + f] == d.features[f]))
            .collect()
    } else {
        Vec::new()
    };
    let column = |f: usize| d.features.iter().skip(f).step_by(w).copied();
    let mut near_constant_features = Vec::new();
    let mut missing = Vec::new();
    let mut outliers = Vec::new();
    if !d.columns.is_empty() {
        for (f, c) in d.columns.iter().enumerate() {
            let count = column(f).filter(|v| v.is_nan()).count();
            if count > 0 {
                missing.push(ColumnCount { column: f, count });
            }
            let mut present: Vec<f32> = column(f).filter(|v| !v.is_nan()).collect();
            present.sort_by(f32::total_cmp);
            let top = present.chunk_by(|a, b| a == b).map(<[f32]>::len).max().unwrap_or(0);
            if top < present.len() && top as f64 >= NEAR_CONSTANT * present.len() as f64 {
                near_constant_features.push(f);
            }
            if !c.is_categorical() && !present.is_empty() {
                let rows = outlying(&present, column(f));
                if !rows.is_empty() {
                    outliers.push(ColumnRows { column: f, rows });
                }
            }
        }
    }
    let rows_with_missing = (0..d.len())
        .filter(|&i| d.features[i * w..(i + 1) * w].iter().any(|v| v.is_nan()))
        .collect();
    let checked = d.len().min(NOISE_CHECK_LIMIT);
    Report {
        samples: d.len(),
        class_counts,
        exact_duplicates: exact,
        conflicting_labels,
        near_duplicates,
        imbalance,
        constant_features,
        near_constant_features,
        missing,
        rows_with_missing,
        outliers,
        label_noise: Vec::new(),
        label_noise_checked: checked,
        text_lengths: None,
    }
}

/// The report of texts (`d`'s samples are token ids by `vocabulary`): exact duplicates as the
/// model reads them, near duplicates equal but for case, spaces and punctuation, texts of outlying
/// length, and label noise by the nearest neighbours on character n-gram counts.
pub fn text_report(d: &Dataset, vocabulary: &Vocabulary) -> Report {
    let w = d.sample_width();
    let texts: Vec<String> = d.features.chunks(w).map(|ids| vocabulary.decode(ids)).collect();
    let mut r = report_but_noise(d);
    // A text with no letter or digit the vocabulary knows is no one's near duplicate: its own key.
    let normalised = texts.iter().enumerate().map(|(i, t)| {
        let key: String = t.to_lowercase().chars().filter(|c| c.is_alphanumeric()).collect();
        if key.is_empty() {
            format!("\u{0}{i}")
        } else {
            key
        }
    });
    r.near_duplicates = near_groups(normalised, &r.exact_duplicates);
    r.constant_features.clear();
    let lengths: Vec<usize> = d
        .features
        .chunks(w)
        .map(|ids| ids.iter().filter(|&&t| t != PADDING as f32).count())
        .collect();
    let mut sorted: Vec<f32> = lengths.iter().map(|&n| n as f32).collect();
    sorted.sort_by(f32::total_cmp);
    let median = sorted[sorted.len() / 2] as usize;
    let outliers: Vec<(usize, usize)> = outlying(&sorted, lengths.iter().map(|&n| n as f32))
        .into_iter()
        .map(|i| (i, lengths[i]))
        .collect();
    let checked = r.label_noise_checked;
    let grams: Vec<f32> = texts[..checked]
        .iter()
        .flat_map(|t| ngram_counts(t, TEXT_NGRAMS, TEXT_BUCKETS))
        .collect();
    r.label_noise = neighbour_votes(&grams, TEXT_BUCKETS, &d.labels[..checked], d.classes.len());
    let mut named: Vec<usize> = r
        .exact_duplicates
        .iter()
        .chain(&r.near_duplicates)
        .flatten()
        .copied()
        .chain(outliers.iter().map(|&(i, _)| i))
        .chain(r.label_noise.iter().map(|s| s.index))
        .collect();
    named.sort_unstable();
    named.dedup();
    r.text_lengths = Some(TextLengths {
        median,
        outliers,
        named: named.into_iter().map(|i| (i, texts[i].clone())).collect(),
    });
    r
}

/// Groups of table rows, not all exact duplicates of each other, that are equal once numbers are
/// rounded to three significant digits (categories compare case- and space-blind).
fn near_duplicate_rows(d: &Dataset, exact: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let w = d.sample_width();
    let key = |i: usize| -> Vec<String> {
        d.features[i * w..(i + 1) * w]
            .iter()
            .zip(&d.columns)
            .map(|(&v, c)| match (v.is_nan(), c.is_categorical()) {
                (true, _) => "?".into(),
                (false, true) => c.categories[v as usize].trim().to_lowercase(),
                (false, false) => format!("{v:.2e}"),
            })
            .collect()
    };
    near_groups((0..d.len()).map(key), exact)
}

/// Groups of two or more samples (indices, in order) that share a key (`keys` gives sample after
/// sample), leaving out a group that is one exact-duplicate group alone; groups in the order of
/// their first member.
fn near_groups<K: Hash + Eq>(keys: impl Iterator<Item = K>, exact: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut by_key: HashMap<K, Vec<usize>> = HashMap::new();
    for (i, key) in keys.enumerate() {
        by_key.entry(key).or_default().push(i);
    }
    let exact_of: HashMap<usize, usize> = exact
        .iter()
        .enumerate()
        .flat_map(|(k, g)| g.iter().map(move |&i| (i, k)))
        .collect();
    let mut groups: Vec<Vec<usize>> = by_key
        .into_values()
        .filter(|g| {
            g.len() > 1
                && g.iter()
                    .map(|i| exact_of.get(i).map_or(usize::MAX - i, |&k| k))
                    .collect::<std::collections::HashSet<_>>()
                    .len()
                    > 1
        })
        .collect();
    groups.sort_by_key(|g| g[0]);
    groups
}

/// Each sample as a short vector: an image box-averaged to 8 × 8 per channel, anything else as it
/// is. Returns the vectors one after another and their length.
pub fn summary(d: &Dataset) -> (Vec<f32>, usize) {
    let w = d.sample_width();
    if d.sample_shape.len() != 3 {
        return (d.features.clone(), w);
    }
    let (c, h, wd) = (d.sample_shape[0], d.sample_shape[1], d.sample_shape[2]);
    let (gh, gw) = (h.min(8), wd.min(8));
    let dim = c * gh * gw;
    let mut out = vec![0.0; d.len() * dim];
    for (i, image) in d.features.chunks(w).enumerate() {
        for ch in 0..c {
            for y in 0..h {
                for x in 0..wd {
                    out[i * dim + (ch * gh + y * gh / h) * gw + x * gw / wd] +=
                        image[(ch * h + y) * wd + x] * (gh * gw) as f32 / (h * wd) as f32;
                }
            }
        }
    }
    (out, dim)
}

/// Each sample as a short vector for the neighbour check: its [`summary`], a table's columns
/// standardised (missing values at the mean).
fn neighbour_features(d: &Dataset) -> (Vec<f32>, usize) {
    let (mut out, w) = summary(d);
    if d.sample_shape.len() == 3 {
        return (out, w);
    }
    for f in 0..w {
        let present: Vec<f64> = out
            .iter()
            .skip(f)
            .step_by(w)
            .filter(|v| !v.is_nan())
            .map(|&v| v as f64)
            .collect();
        let mean = present.iter().sum::<f64>() / present.len().max(1) as f64;
        let std = (present.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / present.len().max(1) as f64).sqrt();
        out.iter_mut().skip(f).step_by(w).for_each(|v| {
            *v = if v.is_nan() {
                0.0
            } else {
                ((*v as f64 - mean) / std.max(1e-12)) as f32
            }
        });
    }
    (out, w)
}

/// Samples of which at least [`NOISE_VOTES`] of the [`NEIGHBOURS`] nearest (Euclidean, on
/// [`neighbour_features`]) share one label other than the sample's own.
pub fn label_noise(d: &Dataset) -> Vec<Suspect> {
    let (x, dim) = neighbour_features(d);
    neighbour_votes(&x, dim, &d.labels, d.classes.len())
}

/// The samples (rows of `x`, `dim` values each, labelled `labels`) of which at least
/// [`NOISE_VOTES`] of the [`NEIGHBOURS`] nearest by Euclidean distance share one label other than
/// the sample's own.
fn neighbour_votes(x: &[f32], dim: usize, labels: &[u32], classes: usize) -> Vec<Suspect> {
    let n = labels.len();
    if n <= NEIGHBOURS {
        return Vec::new();
    }
    let row = |i: usize| &x[i * dim..(i + 1) * dim];
    let mut suspects = Vec::new();
    let mut nearest: Vec<(f32, usize)> = Vec::with_capacity(n);
    for i in 0..n {
        nearest.clear();
        nearest.extend((0..n).filter(|&j| j != i).map(|j| {
            (
                row(i).iter().zip(row(j)).map(|(a, b)| (a - b) * (a - b)).sum::<f32>(),
                j,
            )
        }));
        nearest.select_nth_unstable_by(NEIGHBOURS - 1, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut votes = vec![0usize; classes];
        nearest[..NEIGHBOURS]
            .iter()
            .for_each(|&(_, j)| votes[labels[j] as usize] += 1);
        let (suggested, &most) = votes
            .iter()
            .enumerate()
            .max_by_key(|&(k, &v)| (v, std::cmp::Reverse(k)))
            .expect("classes");
        if suggested as u32 != labels[i] && most >= NOISE_VOTES {
            suspects.push(Suspect {
                index: i,
                label: labels[i],
                suggested: suggested as u32,
                votes: most,
            });
        }
    }
    suspects
}

/// The fix for suspected label noise: the samples `indices` take the labels `labels`.
pub fn relabeled(d: &Dataset, indices: &[usize], labels: &[u32]) -> Result<Dataset, crate::error::Error> {
    let mut out = d.clone();
    for (&i, &l) in indices.iter().zip(labels) {
        if i >= d.len() || l as usize >= d.classes.len() {
            return Err(crate::error::Error::InvalidData(format!(
                "cannot give sample {i} the label {l}: there are {} samples and {} classes",
                d.len(),
                d.classes.len()
            )));
        }
        out.labels[i] = l;
    }
    Ok(out)
}

/// Pairs `(train index, held-out index)` of samples with identical features in both splits: a model
/// scored on samples it trained on.
pub fn leakage(train: &Dataset, held_out: &Dataset) -> Vec<(usize, usize)> {
    let w = train.sample_width();
    let mut seen: HashMap<u64, Vec<usize>> = HashMap::new();
    for i in 0..train.len() {
        seen.entry(bits_key(&train.features[i * w..(i + 1) * w]))
            .or_default()
            .push(i);
    }
    (0..held_out.len())
        .flat_map(|j| {
            let sample = &held_out.features[j * w..(j + 1) * w];
            seen.get(&bits_key(sample))
                .into_iter()
                .flatten()
                .filter(move |&&i| &train.features[i * w..(i + 1) * w] == sample)
                .map(move |&i| (i, j))
        })
        .collect()
}

/// The fix for exact duplicates: the first of each group kept; and for conflicting labels, every
/// member of a conflicting group dropped (which label is right is unknown).
pub fn without_duplicates(d: &Dataset, drop_conflicts: bool) -> Dataset {
    let r = report(d);
    let mut drop = vec![false; d.len()];
    for g in &r.exact_duplicates {
        g.iter().skip(1).for_each(|&i| drop[i] = true);
    }
    if drop_conflicts {
        r.conflicting_labels.iter().flatten().for_each(|&i| drop[i] = true);
    }
    d.subset(&(0..d.len()).filter(|&i| !drop[i]).collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn two(values: Vec<f32>, labels: Vec<u32>) -> Dataset {
        Dataset::new(vec![2], values, labels, vec!["a".into(), "b".into()]).unwrap()
    }

    #[test]
    fn duplicates_conflicts_imbalance_and_constant_columns() {
        // Rows: 0 (1,5) a, 1 (2,5) b, 2 (1,5) a, 3 (3,5) a, 4 (2,5) a, 5 (1,5) a, 6..9 (4..7, 5) a.
        let rows = [
            (1.0, 0),
            (2.0, 1),
            (1.0, 0),
            (3.0, 0),
            (2.0, 0),
            (1.0, 0),
            (4.0, 0),
            (5.0, 0),
            (6.0, 0),
            (7.0, 0),
        ];
        let d = two(
            rows.iter().flat_map(|&(x, _)| [x, 5.0]).collect(),
            rows.iter().map(|r| r.1).collect(),
        );
        let r = report(&d);
        assert_eq!(r.exact_duplicates, [vec![0, 2, 5], vec![1, 4]]);
        assert_eq!(r.conflicting_labels, [vec![1, 4]]);
        assert_eq!(r.constant_features, [1]);
        assert_eq!(r.class_counts, [9, 1]);
        assert_eq!(
            r.imbalance,
            Some(Imbalance {
                class: 1,
                share: 0.1,
                ratio: 9.0
            })
        );
        let kept = without_duplicates(&d, false);
        assert_eq!(kept.len(), 7);
        assert!(report(&kept).exact_duplicates.is_empty());
        let strict = without_duplicates(&d, true);
        assert_eq!(
            strict.features.iter().step_by(2).copied().collect::<Vec<_>>(),
            [1.0, 3.0, 4.0, 5.0, 6.0, 7.0]
        );
        // An even split is no finding.
        assert_eq!(report(&two(vec![0.0, 1.0, 2.0, 3.0], vec![0, 1])).imbalance, None);
    }

    #[test]
    fn near_duplicate_images_share_an_average_hash_and_leakage_is_found_across_splits() {
        let mut rng = Rng::new(3);
        let image = |rng: &mut Rng| (0..64).map(|_| rng.uniform()).collect::<Vec<f32>>();
        let (a, b) = (image(&mut rng), image(&mut rng));
        // A faint copy of `a`: every value scaled, so not an exact duplicate, but the same hash.
        let faint: Vec<f32> = a.iter().map(|v| v * 0.9).collect();
        let features = [a.clone(), b.clone(), faint, a.clone()].concat();
        let d = Dataset::new(vec![1, 8, 8], features, vec![0, 1, 0, 1], vec!["x".into(), "y".into()]).unwrap();
        let r = report(&d);
        assert_eq!(r.exact_duplicates, [vec![0, 3]]);
        assert_eq!(r.conflicting_labels, [vec![0, 3]]);
        assert_eq!(r.near_duplicates, [vec![0, 2, 3]]);
        assert!(r.constant_features.is_empty());
        let held_out = Dataset::new(
            vec![1, 8, 8],
            [b, image(&mut rng)].concat(),
            vec![1, 0],
            vec!["x".into(), "y".into()],
        )
        .unwrap();
        assert_eq!(leakage(&d, &held_out), [(1, 0)]);
    }

    #[test]
    fn a_tables_missing_values_outliers_near_constant_columns_and_near_duplicates() {
        let mut text = String::from("x,colour,flag,label\n");
        for i in 0..40 {
            let x = if i == 7 {
                "250".to_string()
            } else if i == 3 {
                "NA".to_string()
            } else {
                format!("{}", 10 + i % 5)
            };
            let colour = ["red", "Red ", "blue"][i % 3];
            let flag = if i == 0 { 1 } else { 0 };
            text += &format!("{x},{colour},{flag},{}\n", i % 2);
        }
        let d = crate::data::tabular::from_csv(&text, None).unwrap().data;
        let r = report(&d);
        assert_eq!(r.missing, [ColumnCount { column: 0, count: 1 }]);
        assert_eq!(r.rows_with_missing, [3]);
        assert_eq!(
            r.outliers,
            [ColumnRows {
                column: 0,
                rows: vec![7]
            }]
        );
        assert_eq!(r.near_constant_features, [2]);
        // Rows 1 ("Red ", x 11) and 6 ("red", x 11) differ only in the colour's case and space.
        assert!(
            r.near_duplicates.iter().any(|g| g.contains(&1) && g.contains(&6)),
            "{:?}",
            r.near_duplicates
        );
        let clean = d.without(&r.rows_with_missing);
        assert!(!clean.has_missing() && clean.len() == 39);
    }

    #[test]
    fn labels_that_disagree_with_their_neighbours_are_found_and_fixed() {
        // Three well separated clusters of 2-D points, classes interleaved.
        let mut rng = Rng::new(3);
        let centres = [(0.0, 0.0), (10.0, 0.0), (0.0, 10.0)];
        let points: Vec<f32> = (0..400)
            .flat_map(|i| [centres[i % 3].0 + rng.normal(), centres[i % 3].1 + rng.normal()])
            .collect();
        let mut d = Dataset::new(
            vec![2],
            points,
            (0..400).map(|i| i % 3).collect(),
            vec!["a".into(), "b".into(), "c".into()],
        )
        .unwrap();
        let flipped = [5, 50, 123, 200, 333];
        let truth = d.labels.clone();
        for &i in &flipped {
            d.labels[i] = (d.labels[i] + 1) % d.classes.len() as u32;
        }
        let r = report(&d);
        assert_eq!(r.label_noise_checked, 400);
        let found: Vec<usize> = r.label_noise.iter().map(|s| s.index).collect();
        assert_eq!(found, flipped, "{:?}", r.label_noise);
        assert!(r
            .label_noise
            .iter()
            .all(|s| s.votes >= NOISE_VOTES && s.suggested == truth[s.index]));
        let fixed = relabeled(
            &d,
            &found,
            &r.label_noise.iter().map(|s| s.suggested).collect::<Vec<_>>(),
        )
        .unwrap();
        assert!(report(&fixed).label_noise.is_empty());
        assert!(relabeled(&d, &[400], &[0]).is_err());
    }

    #[test]
    fn texts_get_near_duplicates_length_outliers_and_label_noise_by_ngrams() {
        use crate::data::text::{encoded, Level, Vocabulary};
        // English-like and German-like words; one German word labelled English; "Hello!" and
        // "hello" differ in case and punctuation; a run-on text.
        let english = [
            "the", "house", "water", "there", "where", "other", "mother", "weather", "father", "thing",
        ];
        let german = [
            "schule", "schnell", "schwer", "sprechen", "zeichen", "gleich", "nicht", "schlecht", "ich", "bach",
        ];
        let mut texts: Vec<String> = Vec::new();
        let mut labels = Vec::new();
        for round in 0..3 {
            for (k, words) in [english, german].iter().enumerate() {
                for w in words.iter() {
                    texts.push(format!("{w}{}", ["", "s", "e"][round]));
                    labels.push(k as u32);
                }
            }
        }
        texts.push("schlechtich".into());
        labels.push(0);
        texts.push("Hello!".into());
        labels.push(0);
        texts.push("hello".into());
        labels.push(0);
        texts.push("the weather there is a long text about the weather".into());
        labels.push(0);
        let classes = vec!["english".to_string(), "german".into()];
        let v = Vocabulary::fit(texts.iter().map(String::as_str), Level::Characters, 100, 64);
        let d = encoded(&texts, &labels, &classes, &v).unwrap();
        let r = text_report(&d, &v);
        assert_eq!(r.near_duplicates, [vec![61, 62]]);
        assert!(r.constant_features.is_empty());
        let lengths = r.text_lengths.unwrap();
        assert!(lengths.named.contains(&(61, "Hello!".into())) && lengths.named.contains(&(60, "schlechtich".into())));
        assert_eq!(lengths.median, 6);
        assert_eq!(lengths.outliers, [(63, 50)]);
        let noisy: Vec<usize> = r.label_noise.iter().map(|s| s.index).collect();
        assert!(noisy.contains(&60), "{:?}", r.label_noise);
        assert!(noisy.len() <= 3, "{:?}", r.label_noise);
    }
}
