//! Which samples a run sees: the split into training and held-out samples (a [`Split`]), bootstrap
//! resamples (bagging) and rebalanced classes. All seeded: the same settings give the same samples
//! natively, in the browser, and in every worker of a search or an ensemble.

use super::Dataset;
use crate::error::Error;
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

/// A run's split of a data set: its first `samples` samples, `held_out` of them drawn with `seed`
/// to judge the run — or, for a set that brings its own test split, all of that.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    pub samples: usize,
    pub held_out: usize,
    pub seed: u64,
}

impl Split {
    pub fn new(samples: usize, held_out: usize, seed: u64) -> Self {
        Self {
            samples,
            held_out,
            seed,
        }
    }

    /// The training and held-out samples of `data` (whose own test split is `test`, if it has one).
    pub fn of(&self, data: &Dataset, test: Option<&Dataset>) -> Result<(Dataset, Dataset), Error> {
        let head = data.head(self.samples)?;
        match test {
            Some(test) => Ok((head, test.clone())),
            None => head.split(self.held_out, self.seed),
        }
    }
}

impl Dataset {
    /// As many samples drawn with replacement (seeded): a bootstrap resample, as bagging trains on.
    pub fn bootstrap(&self, seed: u64) -> Dataset {
        let mut rng = Rng::new(seed ^ 0xB007_5742_A11E_D5E7);
        self.subset(&(0..self.len()).map(|_| rng.below(self.len())).collect::<Vec<_>>())
    }

    /// A seeded random split into `(train, held_out)` with `held_out` samples in the second part.
    pub fn split(&self, held_out: usize, seed: u64) -> Result<(Dataset, Dataset), Error> {
        if held_out == 0 || held_out >= self.len() {
            return Err(Error::InvalidConfig(format!(
                "the validation split must leave samples on both sides: asked for {held_out} of {}",
                self.len()
            )));
        }
        let mut order: Vec<usize> = (0..self.len()).collect();
        Rng::new(seed).shuffle(&mut order);
        let (val, train) = order.split_at(held_out);
        Ok((self.subset(train), self.subset(val)))
    }
}

/// The fix for imbalance: every class resampled to the size of the largest (`oversample`) or the
/// smallest (else), seeded; classes stay interleaved in the order of their samples.
pub fn rebalanced(d: &Dataset, oversample: bool, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed);
    let by_class: Vec<Vec<usize>> = (0..d.classes.len())
        .map(|k| (0..d.len()).filter(|&i| d.labels[i] as usize == k).collect())
        .collect();
    let present: Vec<&Vec<usize>> = by_class.iter().filter(|c| !c.is_empty()).collect();
    let target = if oversample {
        present.iter().map(|c| c.len()).max()
    } else {
        present.iter().map(|c| c.len()).min()
    }
    .unwrap_or(0);
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
    use crate::data::quality::report;

    fn tiny() -> Dataset {
        Dataset::new(
            vec![2],
            (0..20).map(|v| v as f32).collect(),
            vec![0, 1, 0, 1, 0, 1, 0, 1, 0, 1],
            vec!["a".into(), "b".into()],
        )
        .unwrap()
    }

    fn two(values: Vec<f32>, labels: Vec<u32>) -> Dataset {
        Dataset::new(vec![2], values, labels, vec!["a".into(), "b".into()]).unwrap()
    }

    #[test]
    fn a_split_takes_the_head_then_holds_out_or_uses_the_sets_own_test_split() {
        let d = tiny();
        let (train, val) = Split::new(8, 3, 5).of(&d, None).unwrap();
        assert_eq!((train.len(), val.len()), (5, 3));
        assert!(train.features.iter().chain(&val.features).all(|&v| v < 16.0));
        let test = d.head(2).unwrap();
        let (train, val) = Split::new(8, 3, 5).of(&d, Some(&test)).unwrap();
        assert_eq!((train.len(), val), (8, test));
    }

    #[test]
    fn split_is_a_seeded_partition() {
        let d = tiny();
        let (train, val) = d.split(3, 5).unwrap();
        assert_eq!((train.len(), val.len()), (7, 3));
        let mut firsts: Vec<f32> = train.features.iter().chain(&val.features).step_by(2).copied().collect();
        firsts.sort_by(f32::total_cmp);
        assert_eq!(firsts, (0..10).map(|v| (2 * v) as f32).collect::<Vec<_>>());
        assert_eq!(d.split(3, 5).unwrap().1, val);
        assert!(d.split(0, 1).is_err() && d.split(10, 1).is_err());
    }

    #[test]
    fn a_bootstrap_resample_draws_with_replacement() {
        let d = Dataset::new(
            vec![1],
            (0..1000).map(|v| v as f32).collect(),
            vec![0; 1000],
            vec!["a".into()],
        )
        .unwrap();
        let b = d.bootstrap(3);
        assert_eq!(b.len(), 1000);
        let mut distinct = b.features.clone();
        distinct.sort_by(f32::total_cmp);
        distinct.dedup();
        // About 1 − 1/e ≈ 63 % of the samples appear at least once.
        assert!((580..690).contains(&distinct.len()), "{} distinct", distinct.len());
        assert_eq!(d.bootstrap(3), b);
        assert_ne!(d.bootstrap(4), b);
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
