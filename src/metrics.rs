//! Classification metrics of a model's probabilities against the true labels, with scikit-learn's
//! definitions (checked against it in `tests/metrics/`): the confusion matrix, accuracy, balanced
//! accuracy, per-class precision / recall / F1 with their macro, micro and weighted averages,
//! Cohen's kappa and log-loss. The predicted class is the first of highest probability.

use crate::error::Error;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Averages {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// `confusion[t][p]`: samples of true class `t` predicted as `p`.
    pub confusion: Vec<Vec<u64>>,
    pub accuracy: f64,
    /// The mean recall over the classes that occur in the labels.
    pub balanced_accuracy: f64,
    pub precision: Vec<f64>,
    pub recall: Vec<f64>,
    pub f1: Vec<f64>,
    pub support: Vec<u64>,
    pub macro_avg: Averages,
    pub micro_avg: Averages,
    pub weighted_avg: Averages,
    pub kappa: f64,
    pub log_loss: f64,
}

/// `a / b`, or 0 when `b` is 0 (scikit-learn's `zero_division=0`).
fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        a / b
    }
}

fn f1(p: f64, r: f64) -> f64 {
    ratio(2.0 * p * r, p + r)
}

/// The predicted class of each row of `[n, classes]` probabilities.
pub fn predicted(probs: &[f32], classes: usize) -> Vec<usize> {
    probs.chunks_exact(classes).map(|row| row.iter().enumerate().fold(0, |best, (k, &v)| if v > row[best] { k } else { best })).collect()
}

/// The report for `probs` (`[n, classes]`, row after row) against `labels` (`n` class indices).
pub fn report(probs: &[f32], labels: &[u32], classes: usize) -> Result<Report, Error> {
    let n = labels.len();
    if classes < 2 || n == 0 || probs.len() != n * classes {
        return Err(Error::InvalidData(format!("{} probabilities do not make {n} rows of {classes} classes (at least 2, and at least one row)", probs.len())));
    }
    if let Some(&bad) = labels.iter().find(|&&l| l as usize >= classes) {
        return Err(Error::InvalidData(format!("label {bad} is not one of the {classes} classes")));
    }
    let predicted = predicted(probs, classes);
    let mut confusion = vec![vec![0u64; classes]; classes];
    for (&t, &p) in labels.iter().zip(&predicted) {
        confusion[t as usize][p] += 1;
    }
    let diagonal: Vec<f64> = (0..classes).map(|k| confusion[k][k] as f64).collect();
    let support: Vec<u64> = confusion.iter().map(|row| row.iter().sum()).collect();
    let predicted_count: Vec<f64> = (0..classes).map(|k| confusion.iter().map(|row| row[k] as f64).sum()).collect();
    let precision: Vec<f64> = (0..classes).map(|k| ratio(diagonal[k], predicted_count[k])).collect();
    let recall: Vec<f64> = (0..classes).map(|k| ratio(diagonal[k], support[k] as f64)).collect();
    let f1s: Vec<f64> = precision.iter().zip(&recall).map(|(&p, &r)| f1(p, r)).collect();
    let total = n as f64;
    let accuracy = diagonal.iter().sum::<f64>() / total;
    let present: Vec<usize> = (0..classes).filter(|&k| support[k] > 0).collect();
    let balanced_accuracy = present.iter().map(|&k| recall[k]).sum::<f64>() / present.len() as f64;
    let mean = |v: &[f64]| v.iter().sum::<f64>() / classes as f64;
    let weighted = |v: &[f64]| v.iter().zip(&support).map(|(x, &s)| x * s as f64).sum::<f64>() / total;
    // Chance agreement from the label and prediction marginals.
    let expected = (0..classes).map(|k| support[k] as f64 * predicted_count[k]).sum::<f64>() / (total * total);
    let kappa = ratio(accuracy - expected, 1.0 - expected);
    let eps = f64::EPSILON;
    let log_loss = labels.iter().enumerate().map(|(i, &t)| -(probs[i * classes + t as usize] as f64).clamp(eps, 1.0 - eps).ln()).sum::<f64>() / total;
    Ok(Report {
        confusion,
        accuracy,
        balanced_accuracy,
        macro_avg: Averages { precision: mean(&precision), recall: mean(&recall), f1: mean(&f1s) },
        micro_avg: Averages { precision: accuracy, recall: accuracy, f1: accuracy },
        weighted_avg: Averages { precision: weighted(&precision), recall: weighted(&recall), f1: weighted(&f1s) },
        precision,
        recall,
        f1: f1s,
        support,
        kappa,
        log_loss,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_case_by_hand() {
        // True 0,0,1,1; predicted 0,1,1,1.
        let probs = [0.9, 0.1, 0.4, 0.6, 0.2, 0.8, 0.3, 0.7];
        let r = report(&probs, &[0, 0, 1, 1], 2).unwrap();
        assert_eq!(r.confusion, [[1, 1], [0, 2]]);
        assert_eq!(r.accuracy, 0.75);
        assert_eq!(r.precision, [1.0, 2.0 / 3.0]);
        assert_eq!(r.recall, [0.5, 1.0]);
        assert_eq!(r.balanced_accuracy, 0.75);
        // Observed agreement 0.75, chance (2·1 + 2·3) / 16 = 0.5: κ = 0.5.
        assert!((r.kappa - 0.5).abs() < 1e-12);
        let want = -(0.9f64.ln() + 0.4f32.ln() as f64 + 0.8f32.ln() as f64 + 0.7f32.ln() as f64) / 4.0;
        assert!((r.log_loss - want).abs() < 1e-6);
    }

    #[test]
    fn ties_go_to_the_first_class() {
        assert_eq!(predicted(&[0.5, 0.5, 0.2, 0.2, 0.4, 0.4], 3), [0, 1]);
    }

    #[test]
    fn bad_shapes_and_labels_are_refused() {
        assert!(report(&[0.5, 0.5, 1.0], &[0, 1], 2).is_err());
        assert!(report(&[0.5, 0.5], &[2], 2).unwrap_err().to_string().contains("label 2"));
        assert!(report(&[], &[], 2).is_err());
    }
}
