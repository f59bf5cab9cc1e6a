//! The data quality report: exact duplicates (and those among them whose labels disagree), near
//! duplicates of images (the same 8 × 8 average hash), leakage between the training and held-out
//! splits, class imbalance and constant features; and the fixes a click applies.

use super::Dataset;
use crate::rng::Rng;
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
}

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
    let means: Vec<f32> = cells.iter().zip(&counts).map(|(s, &n)| if n > 0 { s / n as f32 } else { 0.0 }).collect();
    let mean = means.iter().sum::<f32>() / 64.0;
    means.iter().enumerate().fold(0u64, |hash, (i, &m)| if m > mean { hash | 1 << i } else { hash })
}

pub fn report(d: &Dataset) -> Report {
    let w = d.sample_width();
    let exact = equal_groups(d);
    let conflicting_labels = exact.iter().filter(|g| g.iter().any(|&i| d.labels[i] != d.labels[g[0]])).cloned().collect();
    let near_duplicates = if d.sample_shape.len() == 3 {
        let mut by_hash: HashMap<u64, Vec<usize>> = HashMap::new();
        for i in 0..d.len() {
            by_hash.entry(average_hash(&d.features[i * w..(i + 1) * w], &d.sample_shape)).or_default().push(i);
        }
        let exact_of: HashMap<usize, usize> = exact.iter().enumerate().flat_map(|(k, g)| g.iter().map(move |&i| (i, k))).collect();
        let mut groups: Vec<Vec<usize>> = by_hash
            .into_values()
            .filter(|g| {
                // Not one exact-duplicate group alone.
                g.len() > 1 && g.iter().map(|i| exact_of.get(i).map_or(usize::MAX - i, |&k| k)).collect::<std::collections::HashSet<_>>().len() > 1
            })
            .collect();
        groups.sort_by_key(|g| g[0]);
        groups
    } else {
        Vec::new()
    };
    let mut class_counts = vec![0; d.classes.len()];
    d.labels.iter().for_each(|&l| class_counts[l as usize] += 1);
    let (smallest, &least) = class_counts.iter().enumerate().min_by_key(|(_, &c)| c).expect("a data set has classes");
    let most = *class_counts.iter().max().expect("a data set has classes");
    let share = least as f64 / d.len().max(1) as f64;
    let imbalance = (share < 0.5 / d.classes.len() as f64).then(|| Imbalance { class: smallest, share, ratio: most as f64 / least.max(1) as f64 });
    let constant_features = if d.sample_shape.len() == 1 && d.len() > 1 {
        (0..w).filter(|&f| (1..d.len()).all(|i| d.features[i * w + f] == d.features[f])).collect()
    } else {
        Vec::new()
    };
    Report { samples: d.len(), class_counts, exact_duplicates: exact, conflicting_labels, near_duplicates, imbalance, constant_features }
}

/// Pairs `(train index, held-out index)` of samples with identical features in both splits: a model
/// scored on samples it trained on.
pub fn leakage(train: &Dataset, held_out: &Dataset) -> Vec<(usize, usize)> {
    let w = train.sample_width();
    let mut seen: HashMap<u64, Vec<usize>> = HashMap::new();
    for i in 0..train.len() {
        seen.entry(bits_key(&train.features[i * w..(i + 1) * w])).or_default().push(i);
    }
    (0..held_out.len())
        .flat_map(|j| {
            let sample = &held_out.features[j * w..(j + 1) * w];
            seen.get(&bits_key(sample)).into_iter().flatten().filter(move |&&i| &train.features[i * w..(i + 1) * w] == sample).map(move |&i| (i, j))
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

/// The fix for imbalance: every class resampled to the size of the largest (`oversample`) or the
/// smallest (else), seeded; classes stay interleaved in the order of their samples.
pub fn rebalanced(d: &Dataset, oversample: bool, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let by_class: Vec<Vec<usize>> = (0..d.classes.len()).map(|k| (0..d.len()).filter(|&i| d.labels[i] as usize == k).collect()).collect();
    let present: Vec<&Vec<usize>> = by_class.iter().filter(|c| !c.is_empty()).collect();
    let target = if oversample { present.iter().map(|c| c.len()).max() } else { present.iter().map(|c| c.len()).min() }.unwrap_or(0);
    let chosen: Vec<Vec<usize>> = present
        .iter()
        .map(|members| {
            let mut picked: Vec<usize> = members.to_vec();
            rng.shuffle(&mut picked);
            picked.truncate(target);
            while picked.len() < target {
                picked.push(members[rng.below(members.len())]);
            }
            picked
        })
        .collect();
    let order: Vec<usize> = (0..target).flat_map(|r| chosen.iter().map(move |c| c[r])).collect();
    d.subset(&order)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two(values: Vec<f32>, labels: Vec<u32>) -> Dataset {
        Dataset::new(vec![2], values, labels, vec!["a".into(), "b".into()]).unwrap()
    }

    #[test]
    fn duplicates_conflicts_imbalance_and_constant_columns() {
        // Rows: 0 (1,5) a, 1 (2,5) b, 2 (1,5) a, 3 (3,5) a, 4 (2,5) a, 5 (1,5) a, 6..9 (4..7, 5) a.
        let rows = [(1.0, 0), (2.0, 1), (1.0, 0), (3.0, 0), (2.0, 0), (1.0, 0), (4.0, 0), (5.0, 0), (6.0, 0), (7.0, 0)];
        let d = two(rows.iter().flat_map(|&(x, _)| [x, 5.0]).collect(), rows.iter().map(|r| r.1).collect());
        let r = report(&d);
        assert_eq!(r.exact_duplicates, [vec![0, 2, 5], vec![1, 4]]);
        assert_eq!(r.conflicting_labels, [vec![1, 4]]);
        assert_eq!(r.constant_features, [1]);
        assert_eq!(r.class_counts, [9, 1]);
        assert_eq!(r.imbalance, Some(Imbalance { class: 1, share: 0.1, ratio: 9.0 }));
        let kept = without_duplicates(&d, false);
        assert_eq!(kept.len(), 7);
        assert!(report(&kept).exact_duplicates.is_empty());
        let strict = without_duplicates(&d, true);
        assert_eq!(strict.features.iter().step_by(2).copied().collect::<Vec<_>>(), [1.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
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
        let held_out = Dataset::new(vec![1, 8, 8], [b, image(&mut rng)].concat(), vec![1, 0], vec!["x".into(), "y".into()]).unwrap();
        assert_eq!(leakage(&d, &held_out), [(1, 0)]);
    }

    #[test]
    fn rebalancing_evens_the_classes_both_ways() {
        let d = two((0..20).map(|v| v as f32).collect(), vec![0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
        let over = rebalanced(&d, true, 1);
        assert_eq!(report(&over).class_counts, [8, 8]);
        assert_eq!(over.labels[..4], [0, 1, 0, 1]);
        let under = rebalanced(&d, false, 1);
        assert_eq!(report(&under).class_counts, [2, 2]);
        assert_eq!(rebalanced(&d, true, 1), over);
    }
}
