//! Ensembles of classifiers, built from each member's probabilities on one held-out split: hard
//! voting, soft voting (probability averaging) and weighted averaging with weights fitted on part
//! of the split. The split is cut in two in order: the first half fits the weights, and every
//! member and ensemble is scored on the second half, the test half, which nothing was fitted on.

use crate::error::Error;
use crate::metrics;
use serde::Serialize;

/// One member: a name to show, its class names, and its probabilities `[n, classes]` for the
/// held-out samples in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub name: String,
    pub classes: Vec<String>,
    pub probs: Vec<f32>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scores {
    pub name: String,
    pub accuracy: f64,
    pub log_loss: f64,
    /// Expected calibration error (10 bins).
    pub ece: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    /// Held-out samples that fitted the weights, and that every score is measured on.
    pub fit_samples: usize,
    pub test_samples: usize,
    pub members: Vec<Scores>,
    /// The mean of the members' scores.
    pub mean_member: Scores,
    /// Hard voting, soft voting and weighted averaging, in that order.
    pub ensembles: Vec<Scores>,
    /// The weighted average's weights, one per member, summing to 1.
    pub weights: Vec<f64>,
    /// `pairwise[i][j]`: the share of test samples on which members i and j predict different classes.
    pub pairwise: Vec<Vec<f64>>,
    /// The share of test samples on which not every member predicts the same class.
    pub disagreement: f64,
    /// Test samples (indices into the held-out split) on which the members disagree, the most split
    /// first, with each member's prediction.
    pub disagreements: Vec<Disagreement>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Disagreement {
    pub index: usize,
    pub label: u32,
    pub predictions: Vec<usize>,
}

/// Votes per class as probabilities (votes / members), ties between classes broken by the soft
/// average (it adds a thousandth of a vote).
pub fn hard_vote(members: &[&[f32]], classes: usize) -> Vec<f32> {
    let soft = soft_vote(members);
    let mut out = vec![0.0f32; soft.len()];
    for m in members {
        for (row, p) in metrics::predicted(m, classes).into_iter().enumerate() {
            out[row * classes + p] += 1.0;
        }
    }
    let total = members.len() as f32 + 1e-3;
    out.iter().zip(&soft).map(|(v, s)| (v + 1e-3 * s) / total).collect()
}

/// The mean of the members' probabilities.
pub fn soft_vote(members: &[&[f32]]) -> Vec<f32> {
    weighted(members, &vec![1.0 / members.len() as f64; members.len()])
}

pub fn weighted(members: &[&[f32]], weights: &[f64]) -> Vec<f32> {
    (0..members[0].len())
        .map(|i| members.iter().zip(weights).map(|(m, &w)| w * m[i] as f64).sum::<f64>() as f32)
        .collect()
}

/// Pull towards equal weights: the fit minimises the mean log-loss minus `PRIOR / members` times the
/// sum of the log-weights (a Dirichlet prior). Members of similar skill otherwise get weights that
/// fit the noise of a small fitting set.
const PRIOR: f64 = 0.05;

/// Weights on the simplex that minimise the log-loss of the weighted average on `labels` (with the
/// prior above), by exponentiated gradient descent (the problem is convex).
pub fn fit_weights(members: &[&[f32]], labels: &[u32], classes: usize) -> Vec<f64> {
    let m = members.len();
    let mut w = vec![1.0 / m as f64; m];
    // Each sample's probability of its true class under each member.
    let truth: Vec<Vec<f64>> = labels
        .iter()
        .enumerate()
        .map(|(i, &l)| members.iter().map(|p| p[i * classes + l as usize] as f64).collect())
        .collect();
    for _ in 0..500 {
        let mut grad: Vec<f64> = w.iter().map(|w| -PRIOR / m as f64 / w).collect();
        for sample in &truth {
            let mix: f64 = sample.iter().zip(&w).map(|(p, w)| p * w).sum::<f64>().max(1e-12);
            for (g, p) in grad.iter_mut().zip(sample) {
                *g -= p / mix / labels.len() as f64;
            }
        }
        w.iter_mut().zip(&grad).for_each(|(w, g)| *w *= (-0.5 * g).exp());
        let total: f64 = w.iter().sum();
        w.iter_mut().for_each(|w| *w /= total);
    }
    w
}

fn scores(name: &str, probs: &[f32], labels: &[u32], classes: usize) -> Result<Scores, Error> {
    let r = metrics::report(probs, labels, classes, None)?;
    Ok(Scores {
        name: name.to_string(),
        accuracy: r.accuracy,
        log_loss: r.log_loss,
        ece: r.calibration.ece,
    })
}

/// Compares the members and their ensembles on the test half of the held-out split whose labels
/// (and class names) are given.
pub fn compare(members: &[Member], labels: &[u32], classes: &[String]) -> Result<Comparison, Error> {
    let bad = |why: String| Err(Error::InvalidData(why));
    let (n, k) = (labels.len(), classes.len());
    if members.len() < 2 {
        return bad(format!("an ensemble needs at least two members, got {}", members.len()));
    }
    for m in members {
        if m.classes != classes {
            return bad(format!(
                "the member '{}' predicts the classes [{}], but the data has [{}]; every member must know the same classes",
                m.name,
                m.classes.join(", "),
                classes.join(", ")
            ));
        }
        if m.probs.len() != n * k {
            return bad(format!(
                "the member '{}' gives {} probabilities, not one per class for each of the {n} held-out samples",
                m.name,
                m.probs.len()
            ));
        }
    }
    if n < 4 {
        return bad(format!(
            "{n} held-out samples are too few to fit weights on half and test on the other half"
        ));
    }
    let fit = n / 2;
    let (fit_labels, test_labels) = labels.split_at(fit);
    let fitting: Vec<&[f32]> = members.iter().map(|m| &m.probs[..fit * k]).collect();
    let testing: Vec<&[f32]> = members.iter().map(|m| &m.probs[fit * k..]).collect();
    let weights = fit_weights(&fitting, fit_labels, k);
    let member_scores = members
        .iter()
        .zip(&testing)
        .map(|(m, p)| scores(&m.name, p, test_labels, k))
        .collect::<Result<Vec<_>, _>>()?;
    let count = member_scores.len() as f64;
    let mean = |f: fn(&Scores) -> f64| member_scores.iter().map(f).sum::<f64>() / count;
    let mean_member = Scores {
        name: "mean member".into(),
        accuracy: mean(|s| s.accuracy),
        log_loss: mean(|s| s.log_loss),
        ece: mean(|s| s.ece),
    };
    let ensembles = vec![
        scores("hard voting", &hard_vote(&testing, k), test_labels, k)?,
        scores("soft voting", &soft_vote(&testing), test_labels, k)?,
        scores("weighted average", &weighted(&testing, &weights), test_labels, k)?,
    ];
    let predictions: Vec<Vec<usize>> = testing.iter().map(|p| metrics::predicted(p, k)).collect();
    let differ =
        |a: &[usize], b: &[usize]| a.iter().zip(b).filter(|(x, y)| x != y).count() as f64 / test_labels.len() as f64;
    let pairwise = predictions
        .iter()
        .map(|a| predictions.iter().map(|b| differ(a, b)).collect())
        .collect();
    let mut disagreements: Vec<(usize, Disagreement)> = (0..test_labels.len())
        .filter_map(|s| {
            let votes: Vec<usize> = predictions.iter().map(|p| p[s]).collect();
            let mut distinct = votes.clone();
            distinct.sort_unstable();
            distinct.dedup();
            (distinct.len() > 1).then(|| {
                (
                    distinct.len(),
                    Disagreement {
                        index: fit + s,
                        label: test_labels[s],
                        predictions: votes,
                    },
                )
            })
        })
        .collect();
    let disagreement = disagreements.len() as f64 / test_labels.len() as f64;
    disagreements.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.index.cmp(&b.1.index)));
    Ok(Comparison {
        fit_samples: fit,
        test_samples: n - fit,
        members: member_scores,
        mean_member,
        ensembles,
        weights,
        pairwise,
        disagreement,
        disagreements: disagreements.into_iter().map(|(_, d)| d).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, probs: Vec<f32>) -> Member {
        Member {
            name: name.into(),
            classes: vec!["a".into(), "b".into()],
            probs,
        }
    }

    #[test]
    fn votes_and_averages_by_hand() {
        let a = [0.9, 0.1, 0.4, 0.6];
        let b = [0.6, 0.4, 0.3, 0.7];
        let c = [0.2, 0.8, 0.45, 0.55];
        let members: Vec<&[f32]> = vec![&a, &b, &c];
        let soft = soft_vote(&members);
        assert!((soft[0] - 1.7 / 3.0).abs() < 1e-6 && (soft[3] - 1.85 / 3.0).abs() < 1e-6);
        let hard = hard_vote(&members, 2);
        // Two votes for class 0 in row 0, three for class 1 in row 1.
        assert_eq!(metrics::predicted(&hard, 2), [0, 1]);
        assert!((hard[0] - 2.0 / 3.0).abs() < 1e-3 && (hard[3] - 1.0).abs() < 1e-3);
        assert!((hard[0] + hard[1] - 1.0).abs() < 1e-6);
        // A tie between two members goes to the class the soft average prefers.
        let tie = hard_vote(&[&[0.9, 0.1][..], &[0.45, 0.55][..]], 2);
        assert_eq!(metrics::predicted(&tie, 2), [0]);
    }

    #[test]
    fn fitted_weights_favour_the_member_that_is_right() {
        // Member 0 is right with confidence 0.8; member 1 is a coin toss.
        let labels: Vec<u32> = (0..40).map(|i| i % 2).collect();
        let good: Vec<f32> = labels
            .iter()
            .flat_map(|&l| if l == 0 { [0.8, 0.2] } else { [0.2, 0.8] })
            .collect();
        let coin = vec![0.5; 80];
        let w = fit_weights(&[&good, &coin], &labels, 2);
        assert!(w[0] > 0.9 && (w[0] + w[1] - 1.0).abs() < 1e-9, "{w:?}");
    }

    #[test]
    fn members_with_other_classes_or_sizes_are_refused() {
        let classes = vec!["a".to_string(), "b".to_string()];
        let labels = [0, 1, 0, 1];
        let ok = member("one", vec![0.5; 8]);
        let mut other = member("two", vec![0.5; 8]);
        other.classes = vec!["a".into(), "c".into()];
        let err = compare(&[ok.clone(), other], &labels, &classes)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("the member 'two' predicts the classes [a, c], but the data has [a, b]"),
            "{err}"
        );
        assert!(compare(&[ok.clone(), member("short", vec![0.5; 6])], &labels, &classes)
            .unwrap_err()
            .to_string()
            .contains("gives 6 probabilities"));
        assert!(compare(std::slice::from_ref(&ok), &labels, &classes)
            .unwrap_err()
            .to_string()
            .contains("at least two members"));
    }

    #[test]
    fn the_comparison_scores_the_test_half_and_finds_disagreements() {
        let classes = vec!["a".to_string(), "b".to_string()];
        let labels = [0, 1, 0, 1, 0, 1];
        // Members that agree on the first half and split on samples 3 and 5 of the second.
        let x = member("x", vec![0.9, 0.1, 0.1, 0.9, 0.9, 0.1, 0.2, 0.8, 0.9, 0.1, 0.3, 0.7]);
        let y = member("y", vec![0.9, 0.1, 0.1, 0.9, 0.9, 0.1, 0.7, 0.3, 0.9, 0.1, 0.6, 0.4]);
        let c = compare(&[x, y], &labels, &classes).unwrap();
        assert_eq!((c.fit_samples, c.test_samples), (3, 3));
        assert_eq!((c.members[0].accuracy, c.members[1].accuracy), (1.0, 1.0 / 3.0));
        assert!((c.mean_member.accuracy - 2.0 / 3.0).abs() < 1e-12);
        assert!((c.disagreement - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(c.disagreements.iter().map(|d| d.index).collect::<Vec<_>>(), [3, 5]);
        assert_eq!(c.disagreements[0].predictions, [1, 0]);
        assert!((c.pairwise[0][1] - 2.0 / 3.0).abs() < 1e-12 && c.pairwise[0][0] == 0.0);
        assert_eq!(
            c.ensembles.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
            ["hard voting", "soft voting", "weighted average"]
        );
    }
}
