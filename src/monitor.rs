//! Monitoring a deployed model: input drift against the training data (the population stability
//! index and the two-sample Kolmogorov–Smirnov test, feature by feature on a short summary of each
//! sample), a built-in stream whose distribution shifts over time, and the data a retrained model
//! learns from (the feedback plus a replay of the old training data, so that it does not forget).

use crate::data::quality::summary;
use crate::data::Dataset;
use crate::error::Error;
use crate::rng::Rng;
use serde::Serialize;

/// A population stability index above this is a significant shift (the usual rule of thumb).
pub const PSI_ALERT: f64 = 0.2;
/// A Kolmogorov–Smirnov p-value (Bonferroni-corrected over the features) below this is drift.
pub const P_ALERT: f64 = 0.01;
/// Bins of the population stability index: the reference's deciles.
pub const PSI_BINS: usize = 10;

/// Σ (c − r) · ln(c / r) over bins cut at the reference's quantiles, with `r` and `c` the reference's
/// and the current sample's shares per bin (an empty bin counts as 0.0001). NaN values are skipped.
pub fn psi(reference: &[f32], current: &[f32], bins: usize) -> f64 {
    let mut sorted: Vec<f32> = reference.iter().copied().filter(|v| !v.is_nan()).collect();
    sorted.sort_by(f32::total_cmp);
    let current: Vec<f32> = current.iter().copied().filter(|v| !v.is_nan()).collect();
    if sorted.is_empty() || current.is_empty() {
        return 0.0;
    }
    let mut edges: Vec<f32> = (1..bins).map(|k| sorted[k * sorted.len() / bins]).collect();
    edges.dedup();
    let shares = |values: &[f32]| {
        let mut counts = vec![0usize; edges.len() + 1];
        values
            .iter()
            .for_each(|v| counts[edges.partition_point(|e| e <= v)] += 1);
        counts
            .into_iter()
            .map(|c| (c as f64 / values.len() as f64).max(1e-4))
            .collect::<Vec<_>>()
    };
    shares(&sorted)
        .iter()
        .zip(shares(&current))
        .map(|(r, c)| (c - r) * (c / r).ln())
        .sum()
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Ks {
    /// The largest distance between the two empirical distribution functions.
    pub statistic: f64,
    /// The asymptotic p-value of the statistic under "same distribution".
    pub p_value: f64,
}

/// Q(λ) = 2 Σ (−1)^(k−1) e^(−2k²λ²): the probability that the Kolmogorov distribution exceeds λ.
pub fn kolmogorov_q(lambda: f64) -> f64 {
    if lambda < 0.2 {
        return 1.0;
    }
    let sum: f64 = (1..=100)
        .map(|k| if k % 2 == 1 { 1.0 } else { -1.0 } * (-2.0 * (k * k) as f64 * lambda * lambda).exp())
        .sum();
    (2.0 * sum).clamp(0.0, 1.0)
}

/// The two-sample Kolmogorov–Smirnov test of `a` against `b` (NaN values skipped), with the
/// asymptotic p-value and Stephens' small-sample correction: Q((√n + 0.12 + 0.11/√n) · D) for
/// n = |a||b| / (|a| + |b|).
pub fn ks_two_sample(a: &[f32], b: &[f32]) -> Ks {
    let sorted = |v: &[f32]| {
        let mut s: Vec<f32> = v.iter().copied().filter(|x| !x.is_nan()).collect();
        s.sort_by(f32::total_cmp);
        s
    };
    let (a, b) = (sorted(a), sorted(b));
    if a.is_empty() || b.is_empty() {
        return Ks {
            statistic: 0.0,
            p_value: 1.0,
        };
    }
    let (mut i, mut j, mut d) = (0, 0, 0.0f64);
    while i < a.len() && j < b.len() {
        let v = a[i].min(b[j]);
        while i < a.len() && a[i] <= v {
            i += 1;
        }
        while j < b.len() && b[j] <= v {
            j += 1;
        }
        d = d.max((i as f64 / a.len() as f64 - j as f64 / b.len() as f64).abs());
    }
    let n = (a.len() * b.len()) as f64 / (a.len() + b.len()) as f64;
    let root = n.sqrt();
    Ks {
        statistic: d,
        p_value: kolmogorov_q((root + 0.12 + 0.11 / root) * d),
    }
}

/// Drift of a window of inputs against the training data.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Drift {
    /// The mean population stability index over the summary's features.
    pub psi: f64,
    /// The largest Kolmogorov–Smirnov statistic over the features, and the smallest p-value times
    /// the number of features (Bonferroni), at most 1.
    pub ks_statistic: f64,
    pub p_value: f64,
    /// The feature (of the summary) that moved most, by its KS statistic.
    pub feature: usize,
    pub drifted: bool,
}

/// How far `current` has moved from `reference` (samples of the same shape), feature by feature on
/// their summaries (an image box-averaged to 8 × 8 per channel; a table's columns).
pub fn drift(reference: &Dataset, current: &Dataset) -> Result<Drift, Error> {
    if reference.sample_shape != current.sample_shape {
        return Err(Error::InvalidData(format!(
            "the inputs are shaped {:?}, the training data {:?}",
            current.sample_shape, reference.sample_shape
        )));
    }
    if current.is_empty() || reference.is_empty() {
        return Err(Error::InvalidData(
            "drift needs inputs and training data to compare".into(),
        ));
    }
    let (r, width) = summary(reference);
    let (c, _) = summary(current);
    let column = |x: &[f32], f: usize| x.iter().skip(f).step_by(width).copied().collect::<Vec<_>>();
    let mut total_psi = 0.0;
    let (mut ks_statistic, mut p_min, mut feature) = (0.0, 1.0f64, 0);
    for f in 0..width {
        let (a, b) = (column(&r, f), column(&c, f));
        total_psi += psi(&a, &b, PSI_BINS);
        let ks = ks_two_sample(&a, &b);
        if ks.statistic > ks_statistic {
            (ks_statistic, feature) = (ks.statistic, f);
        }
        p_min = p_min.min(ks.p_value);
    }
    let psi = total_psi / width as f64;
    let p_value = (p_min * width as f64).min(1.0);
    Ok(Drift {
        psi,
        ks_statistic,
        p_value,
        feature,
        drifted: psi > PSI_ALERT || p_value < P_ALERT,
    })
}

/// The built-in drift scenario: `n` images of `d` in a seeded order; the first third as they are,
/// then each turned further, linearly up to `max_degrees` for the last: a stream that starts like
/// the training data and drifts away.
pub fn rotating_stream(d: &Dataset, n: usize, max_degrees: f32, seed: u64) -> Result<Dataset, Error> {
    if d.sample_shape.len() != 3 {
        return Err(Error::InvalidConfig(format!(
            "the rotating stream turns images, not samples of {:?}",
            d.sample_shape
        )));
    }
    if n < 2 || d.is_empty() {
        return Err(Error::InvalidConfig(format!(
            "a stream needs at least 2 samples from a data set that has some, got {n} of {}",
            d.len()
        )));
    }
    let (c, h, w) = (d.sample_shape[0], d.sample_shape[1], d.sample_shape[2]);
    let mut rng = Rng::new(seed);
    let picks: Vec<usize> = (0..n).map(|_| rng.below(d.len())).collect();
    let mut stream = d.subset(&picks);
    let width = d.sample_width();
    for (k, image) in stream.features.chunks_mut(width).enumerate() {
        let calm = n / 3;
        let turn = max_degrees * k.saturating_sub(calm) as f32 / (n - 1 - calm).max(1) as f32;
        let (s, cos) = turn.to_radians().sin_cos();
        let mut q = [0.0f32; crate::augment::AUGMENT_PARAMS];
        q[..4].copy_from_slice(&[cos, -s, s, cos]);
        (q[7], q[8]) = (1.0, 1.0);
        let turned = crate::augment::apply(image, c, h, w, &q, |_| 0.0);
        image.copy_from_slice(&turned);
    }
    Ok(stream)
}

/// What a retrained model learns from: every feedback sample and `replay` samples of the old
/// training data drawn without replacement (seeded), shuffled together.
pub fn with_replay(feedback: &Dataset, old: &Dataset, replay: usize, seed: u64) -> Result<Dataset, Error> {
    if feedback.sample_shape != old.sample_shape || feedback.classes != old.classes {
        return Err(Error::InvalidData(
            "the feedback must have the training data's sample shape and classes".into(),
        ));
    }
    let mut rng = Rng::new(seed);
    let mut order: Vec<usize> = (0..old.len()).collect();
    rng.shuffle(&mut order);
    order.truncate(replay.min(old.len()));
    let kept = old.subset(&order);
    let all = Dataset {
        features: [feedback.features.as_slice(), &kept.features].concat(),
        labels: [feedback.labels.as_slice(), &kept.labels].concat(),
        sample_shape: feedback.sample_shape.clone(),
        classes: feedback.classes.clone(),
        columns: feedback.columns.clone(),
    };
    let mut mix: Vec<usize> = (0..all.len()).collect();
    rng.shuffle(&mut mix);
    Ok(all.subset(&mix))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normal(n: usize, mean: f32, seed: u64) -> Vec<f32> {
        let mut rng = Rng::new(seed);
        (0..n).map(|_| mean + rng.normal()).collect()
    }

    #[test]
    fn the_kolmogorov_distribution_matches_its_tables() {
        // The classic critical values: Q(1.358) = 0.05, Q(1.628) = 0.01, Q(1.224) = 0.10.
        assert!((kolmogorov_q(1.358) - 0.05).abs() < 5e-4, "{}", kolmogorov_q(1.358));
        assert!((kolmogorov_q(1.628) - 0.01).abs() < 2e-4, "{}", kolmogorov_q(1.628));
        assert!((kolmogorov_q(1.224) - 0.10).abs() < 5e-4, "{}", kolmogorov_q(1.224));
        assert_eq!(kolmogorov_q(0.0), 1.0);
    }

    #[test]
    fn ks_finds_a_shift_and_not_a_resample() {
        let ks = ks_two_sample(&[1.0, 2.0, 3.0, 4.0], &[3.5, 4.5, 5.5]);
        // F_a − F_b at 3: 3/4 − 0.
        assert!((ks.statistic - 0.75).abs() < 1e-12, "{ks:?}");
        let same = ks_two_sample(&normal(500, 0.0, 1), &normal(500, 0.0, 2));
        assert!(same.p_value > 0.05, "{same:?}");
        let moved = ks_two_sample(&normal(500, 0.0, 1), &normal(500, 0.5, 2));
        assert!(moved.p_value < 1e-6 && moved.statistic > 0.15, "{moved:?}");
    }

    #[test]
    fn psi_is_small_for_the_same_distribution_and_large_for_a_shift() {
        let reference = normal(5000, 0.0, 3);
        assert!(psi(&reference, &normal(2000, 0.0, 4), PSI_BINS) < 0.02);
        let shifted = psi(&reference, &normal(2000, 1.0, 4), PSI_BINS);
        assert!(shifted > PSI_ALERT, "{shifted}");
        // Identical samples: exactly 0.
        assert_eq!(psi(&reference, &reference, PSI_BINS), 0.0);
    }

    #[test]
    fn a_rotating_stream_drifts_away_from_the_digits() {
        let digits = crate::testing::digits();
        let (train, rest) = digits.split(2000, 1).unwrap();
        let stream = rotating_stream(&rest, 600, 90.0, 2).unwrap();
        // The first third is as it was; later images are turned.
        assert_eq!(stream.labels.len(), 600);
        let early = drift(&train, &stream.subset(&(0..150).collect::<Vec<_>>())).unwrap();
        let late = drift(&train, &stream.subset(&(500..600).collect::<Vec<_>>())).unwrap();
        assert!(!early.drifted, "{early:?}");
        println!("early {early:?}\nlate {late:?}");
        assert!(
            late.drifted && late.psi > 2.0 * early.psi,
            "early {early:?}, late {late:?}"
        );
        assert!(rotating_stream(&crate::data::toy::generate("circle", 10, 0.1, 1).unwrap(), 5, 10.0, 1).is_err());
    }

    #[test]
    fn replay_mixes_old_samples_into_the_feedback() {
        let old = Dataset::new(
            vec![1],
            (0..100).map(|v| v as f32).collect(),
            vec![0; 100],
            vec!["a".into(), "b".into()],
        )
        .unwrap();
        let feedback = Dataset::new(vec![1], vec![-1.0, -2.0], vec![1, 1], vec!["a".into(), "b".into()]).unwrap();
        let all = with_replay(&feedback, &old, 10, 3).unwrap();
        assert_eq!(all.len(), 12);
        assert_eq!(all.labels.iter().filter(|&&l| l == 1).count(), 2);
        assert!(all.features.contains(&-1.0) && all.features.contains(&-2.0));
        let other = Dataset::new(vec![2], vec![0.0; 2], vec![0], vec!["a".into(), "b".into()]).unwrap();
        assert!(with_replay(&other, &old, 1, 1).is_err());
    }
}
