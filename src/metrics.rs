//! Classification metrics of a model's probabilities against the true labels, with scikit-learn's
//! definitions (checked against it in `tests/metrics/`): the confusion matrix, accuracy, balanced
//! accuracy, per-class precision / recall / F1 with their macro, micro and weighted averages,
//! Cohen's kappa and log-loss. The predicted class is the first of highest probability.

use crate::error::Error;
use serde::{Deserialize, Serialize};

/// Loss and accuracy of a model on a data set (what each epoch of a run is judged by).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub loss: f32,
    pub accuracy: f32,
}

/// Which validation number decides whether an epoch improved (by default the loss), for early
/// stopping and reduce-on-plateau.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Monitor {
    #[default]
    ValLoss,
    ValAccuracy,
}

impl Monitor {
    /// The monitored number of an evaluation, signed so that lower is better.
    pub fn score(self, val: Evaluation) -> f32 {
        match self {
            Monitor::ValLoss => val.loss,
            Monitor::ValAccuracy => -val.accuracy,
        }
    }
}

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
    pub ranking: Ranking,
    pub calibration: Calibration,
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
    probs
        .chunks_exact(classes)
        .map(|row| {
            row.iter()
                .enumerate()
                .fold(0, |best, (k, &v)| if v > row[best] { k } else { best })
        })
        .collect()
}

/// The predicted classes: the most probable, or for two classes with a `threshold`, class 1 when
/// its probability is at least the threshold.
pub fn decide(probs: &[f32], classes: usize, threshold: Option<f64>) -> Result<Vec<usize>, Error> {
    match threshold {
        None => Ok(predicted(probs, classes)),
        Some(t) if classes == 2 && (0.0..=1.0).contains(&t) => Ok(probs
            .chunks_exact(2)
            .map(|row| usize::from(row[1] as f64 >= t))
            .collect()),
        Some(t) => Err(Error::InvalidConfig(format!(
            "a decision threshold needs two classes and a value in [0, 1], got {t} with {classes} classes"
        ))),
    }
}

/// A held-out sample as the gallery shows it: where it is in the split, its class, the predicted
/// class and the probability the model gave that prediction.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Example {
    pub index: usize,
    pub label: u32,
    pub predicted: u32,
    pub confidence: f32,
}

/// The samples of one confusion-matrix cell (true class, predicted class), or with no cell every
/// mistake, most confident first, at most `limit` of them.
pub fn examples(
    probs: &[f32],
    labels: &[u32],
    classes: usize,
    threshold: Option<f64>,
    cell: Option<(u32, u32)>,
    limit: usize,
) -> Result<Vec<Example>, Error> {
    let predicted = decide(probs, classes, threshold)?;
    let mut found: Vec<Example> = labels
        .iter()
        .zip(&predicted)
        .enumerate()
        .filter(|&(_, (&l, &p))| match cell {
            Some((t, q)) => l == t && p as u32 == q,
            None => l != p as u32,
        })
        .map(|(index, (&label, &p))| Example {
            index,
            label,
            predicted: p as u32,
            confidence: probs[index * classes + p],
        })
        .collect();
    found.sort_by(|a, b| b.confidence.total_cmp(&a.confidence).then(a.index.cmp(&b.index)));
    found.truncate(limit);
    Ok(found)
}

/// The report for `probs` (`[n, classes]`, row after row) against `labels` (`n` class indices),
/// each sample predicted as its most probable class — or, for two classes with a `threshold`, as
/// class 1 when its probability is at least the threshold.
pub fn report(probs: &[f32], labels: &[u32], classes: usize, threshold: Option<f64>) -> Result<Report, Error> {
    let n = labels.len();
    if classes < 2 || n == 0 || probs.len() != n * classes {
        return Err(Error::InvalidData(format!(
            "{} probabilities do not make {n} rows of {classes} classes (at least 2, and at least one row)",
            probs.len()
        )));
    }
    if let Some(&bad) = labels.iter().find(|&&l| l as usize >= classes) {
        return Err(Error::InvalidData(format!(
            "label {bad} is not one of the {classes} classes"
        )));
    }
    // Rounding may take a probability a hair outside [0, 1]; NaN is never inside.
    if let Some(i) = probs.iter().position(|p| !(-1e-5..=1.0 + 1e-5).contains(p)) {
        return Err(Error::InvalidData(format!(
            "sample {} has a probability of {} for class {}: probabilities must be numbers from 0 to 1 (did the model diverge?)",
            i / classes + 1,
            probs[i],
            i % classes
        )));
    }
    let predicted = decide(probs, classes, threshold)?;
    let mut confusion = vec![vec![0u64; classes]; classes];
    for (&t, &p) in labels.iter().zip(&predicted) {
        confusion[t as usize][p] += 1;
    }
    let diagonal: Vec<f64> = (0..classes).map(|k| confusion[k][k] as f64).collect();
    let support: Vec<u64> = confusion.iter().map(|row| row.iter().sum()).collect();
    let predicted_count: Vec<f64> = (0..classes)
        .map(|k| confusion.iter().map(|row| row[k] as f64).sum())
        .collect();
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
    let expected = (0..classes)
        .map(|k| support[k] as f64 * predicted_count[k])
        .sum::<f64>()
        / (total * total);
    let kappa = ratio(accuracy - expected, 1.0 - expected);
    let eps = f64::EPSILON;
    let log_loss = labels
        .iter()
        .enumerate()
        .map(|(i, &t)| -(probs[i * classes + t as usize] as f64).clamp(eps, 1.0 - eps).ln())
        .sum::<f64>()
        / total;
    Ok(Report {
        confusion,
        accuracy,
        balanced_accuracy,
        macro_avg: Averages {
            precision: mean(&precision),
            recall: mean(&recall),
            f1: mean(&f1s),
        },
        micro_avg: Averages {
            precision: accuracy,
            recall: accuracy,
            f1: accuracy,
        },
        weighted_avg: Averages {
            precision: weighted(&precision),
            recall: weighted(&recall),
            f1: weighted(&f1s),
        },
        precision,
        recall,
        f1: f1s,
        support,
        kappa,
        log_loss,
        ranking: ranking(probs, labels, classes),
        calibration: calibration(probs, labels, classes, 10),
    })
}

/// A ranking curve of one class against the rest (ROC: x false-positive rate, y true-positive rate;
/// precision-recall: x recall, y precision) and the area or average precision it gives.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Curve {
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub thresholds: Vec<f64>,
    pub area: f64,
}

/// Scores with their labels sorted by decreasing score, and the true- and false-positive counts
/// at each distinct score (scikit-learn's `_binary_clf_curve`): what both curves are drawn from, so
/// the scores are sorted once for the two.
struct Ranked {
    tps: Vec<f64>,
    fps: Vec<f64>,
    thresholds: Vec<f64>,
}

fn ranked_counts(scores: &[f64], positive: &[bool]) -> Ranked {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let (mut tps, mut fps, mut thresholds) = (Vec::new(), Vec::new(), Vec::new());
    let (mut tp, mut fp) = (0.0, 0.0);
    for (i, &j) in order.iter().enumerate() {
        if positive[j] {
            tp += 1.0
        } else {
            fp += 1.0
        }
        if i + 1 == order.len() || scores[order[i + 1]] != scores[j] {
            tps.push(tp);
            fps.push(fp);
            thresholds.push(scores[j]);
        }
    }
    Ranked { tps, fps, thresholds }
}

/// The ROC curve of `scores` for the `positive` samples (every threshold kept, starting at (0, 0)
/// with an infinite threshold) and the area under it; `None` without both classes.
fn roc(ranked: &Ranked) -> Option<Curve> {
    let Ranked { tps, fps, thresholds } = ranked;
    let (p, n) = (*tps.last()?, *fps.last()?);
    if p == 0.0 || n == 0.0 {
        return None;
    }
    let x: Vec<f64> = std::iter::once(0.0).chain(fps.iter().map(|f| f / n)).collect();
    let y: Vec<f64> = std::iter::once(0.0).chain(tps.iter().map(|t| t / p)).collect();
    let area = x
        .windows(2)
        .zip(y.windows(2))
        .map(|(x, y)| (x[1] - x[0]) * (y[1] + y[0]) / 2.0)
        .sum();
    Some(Curve {
        x,
        y,
        thresholds: std::iter::once(f64::INFINITY)
            .chain(thresholds.iter().copied())
            .collect(),
        area,
    })
}

/// The precision-recall curve (recall falling to 0, where precision is 1, as scikit-learn orders
/// it) and the average precision Σ (Rₙ − Rₙ₋₁)·Pₙ; `None` without positives.
fn precision_recall(ranked: &Ranked) -> Option<Curve> {
    let Ranked { tps, fps, thresholds } = ranked;
    let p = *tps.last()?;
    if p == 0.0 {
        return None;
    }
    let precision: Vec<f64> = tps.iter().zip(fps).map(|(t, f)| ratio(*t, t + f)).collect();
    let recall: Vec<f64> = tps.iter().map(|t| t / p).collect();
    let area = (0..recall.len())
        .map(|i| (recall[i] - if i == 0 { 0.0 } else { recall[i - 1] }) * precision[i])
        .sum();
    let x = recall.iter().rev().copied().chain([0.0]).collect();
    let y = precision.iter().rev().copied().chain([1.0]).collect();
    Some(Curve {
        x,
        y,
        thresholds: thresholds.iter().rev().copied().collect(),
        area,
    })
}

/// Ranking quality: one-vs-rest ROC and precision-recall curves per class (`None` for a class
/// absent from the labels), their macro averages over the classes present, and the micro averages
/// over every (sample, class) pair. A binary task's curves are those of class 1.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ranking {
    pub roc: Vec<Option<Curve>>,
    pub pr: Vec<Option<Curve>>,
    pub roc_auc_macro: f64,
    pub roc_auc_micro: f64,
    pub average_precision_macro: f64,
    pub average_precision_micro: f64,
}

pub fn ranking(probs: &[f32], labels: &[u32], classes: usize) -> Ranking {
    let ranked: Vec<Ranked> = (0..classes)
        .map(|k| {
            let score: Vec<f64> = probs.chunks_exact(classes).map(|row| row[k] as f64).collect();
            let positive: Vec<bool> = labels.iter().map(|&l| l as usize == k).collect();
            ranked_counts(&score, &positive)
        })
        .collect();
    let roc: Vec<Option<Curve>> = ranked.iter().map(roc).collect();
    let pr: Vec<Option<Curve>> = ranked.iter().map(precision_recall).collect();
    let macro_area = |curves: &[Option<Curve>]| {
        let areas: Vec<f64> = curves.iter().flatten().map(|c| c.area).collect();
        areas.iter().sum::<f64>() / areas.len() as f64
    };
    let all_scores: Vec<f64> = probs.iter().map(|&p| p as f64).collect();
    let all_positive: Vec<bool> = labels
        .iter()
        .flat_map(|&l| (0..classes).map(move |k| l as usize == k))
        .collect();
    let all = ranked_counts(&all_scores, &all_positive);
    let area = |c: Option<&Curve>| c.map_or(f64::NAN, |c| c.area);
    let (roc_auc_macro, average_precision_macro) = if classes == 2 {
        (area(roc[1].as_ref()), area(pr[1].as_ref()))
    } else {
        (macro_area(&roc), macro_area(&pr))
    };
    Ranking {
        roc_auc_micro: area(self::roc(&all).as_ref()),
        average_precision_micro: area(precision_recall(&all).as_ref()),
        roc_auc_macro,
        average_precision_macro,
        roc,
        pr,
    }
}

/// A reliability diagram of the top-class confidence in equal-width bins: per non-empty bin the
/// mean confidence, the accuracy and the count, and the expected calibration error (the
/// count-weighted mean gap between the two).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Calibration {
    pub confidence: Vec<f64>,
    pub accuracy: Vec<f64>,
    pub count: Vec<u64>,
    pub ece: f64,
}

pub fn calibration(probs: &[f32], labels: &[u32], classes: usize, bins: usize) -> Calibration {
    let predicted = predicted(probs, classes);
    let (mut conf, mut hits, mut count) = (vec![0.0; bins], vec![0.0; bins], vec![0u64; bins]);
    let width = 1.0 / bins as f64;
    for (i, (&p, &l)) in predicted.iter().zip(labels).enumerate() {
        let c = probs[i * classes + p] as f64;
        // The bin whose upper edge is the first at or above c (edges i·width, as numpy's linspace).
        let b = (1..bins).filter(|&e| (e as f64 * width) < c).count();
        conf[b] += c;
        hits[b] += f64::from(p == l as usize);
        count[b] += 1;
    }
    let n = labels.len() as f64;
    let kept: Vec<usize> = (0..bins).filter(|&b| count[b] > 0).collect();
    let ece = kept.iter().map(|&b| (hits[b] - conf[b]).abs() / n).sum();
    Calibration {
        confidence: kept.iter().map(|&b| conf[b] / count[b] as f64).collect(),
        accuracy: kept.iter().map(|&b| hits[b] / count[b] as f64).collect(),
        count: kept.iter().map(|&b| count[b]).collect(),
        ece,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_case_by_hand() {
        // True 0,0,1,1; predicted 0,1,1,1.
        let probs = [0.9, 0.1, 0.4, 0.6, 0.2, 0.8, 0.3, 0.7];
        let r = report(&probs, &[0, 0, 1, 1], 2, None).unwrap();
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
    fn a_class_absent_from_the_labels_has_no_curve_and_stays_out_of_the_macro_average() {
        let probs = [0.7, 0.2, 0.1, 0.2, 0.6, 0.2, 0.6, 0.3, 0.1, 0.1, 0.8, 0.1];
        let r = ranking(&probs, &[0, 1, 0, 1], 3);
        assert!(r.roc[2].is_none() && r.pr[2].is_none());
        assert_eq!(r.roc_auc_macro, 1.0, "classes 0 and 1 are ranked perfectly");
        let c = calibration(&probs, &[0, 1, 0, 1], 3, 10);
        assert_eq!(c.count.iter().sum::<u64>(), 4);
        assert!(
            (c.ece - (0.3 + 0.4 + 0.4 + 0.2) / 4.0).abs() < 1e-6,
            "every prediction is right, so ECE is the mean shortfall of confidence"
        );
    }

    #[test]
    fn the_gallery_lists_a_cell_or_the_mistakes_most_confident_first() {
        // Predictions: 0 (0.9), 1 (0.6), 1 (0.8), 0 (0.7), 1 (0.95) for labels 0, 0, 1, 1, 0.
        let probs = [0.9, 0.1, 0.4, 0.6, 0.2, 0.8, 0.7, 0.3, 0.05, 0.95];
        let labels = [0, 0, 1, 1, 0];
        let mistakes = examples(&probs, &labels, 2, None, None, 10).unwrap();
        assert_eq!(
            mistakes
                .iter()
                .map(|e| (e.index, e.label, e.predicted))
                .collect::<Vec<_>>(),
            [(4, 0, 1), (3, 1, 0), (1, 0, 1)]
        );
        assert_eq!(mistakes[0].confidence, 0.95);
        let cell = examples(&probs, &labels, 2, None, Some((0, 1)), 1).unwrap();
        assert_eq!(
            cell.iter().map(|e| e.index).collect::<Vec<_>>(),
            [4],
            "the limit keeps the most confident"
        );
        assert_eq!(
            examples(&probs, &labels, 2, Some(0.0), Some((1, 1)), 10).unwrap().len(),
            2
        );
    }

    #[test]
    fn ties_go_to_the_first_class() {
        assert_eq!(predicted(&[0.5, 0.5, 0.2, 0.2, 0.4, 0.4], 3), [0, 1]);
    }

    #[test]
    fn bad_shapes_and_labels_are_refused() {
        assert!(report(&[0.5, 0.5, 1.0], &[0, 1], 2, None).is_err());
        assert!(report(&[0.5, 0.5], &[2], 2, None)
            .unwrap_err()
            .to_string()
            .contains("label 2"));
        assert!(report(&[], &[], 2, None).is_err());
        assert!(report(&[0.2, 0.3, 0.5], &[0], 3, Some(0.5))
            .unwrap_err()
            .to_string()
            .contains("two classes"));
        assert!(report(&[0.5, 0.5], &[0], 2, Some(1.5)).is_err());
        // A NaN row is not a right answer, and cannot make the AUC perfect.
        let e = report(&[0.9, 0.1, f32::NAN, f32::NAN], &[0, 1], 2, None).unwrap_err();
        assert!(
            e.to_string().contains("sample 2 has a probability of NaN for class 0"),
            "{e}"
        );
        assert!(report(&[1.5, -0.5], &[0], 2, None).is_err());
    }

    #[test]
    fn a_threshold_moves_samples_between_the_two_classes() {
        // p(class 1) = 0.1, 0.4, 0.6, 0.9 for true classes 0, 1, 0, 1.
        let probs = [0.9, 0.1, 0.6, 0.4, 0.4, 0.6, 0.1, 0.9];
        let labels = [0, 1, 0, 1];
        assert_eq!(
            report(&probs, &labels, 2, Some(0.5)).unwrap().confusion,
            report(&probs, &labels, 2, None).unwrap().confusion
        );
        assert_eq!(
            report(&probs, &labels, 2, Some(0.3)).unwrap().confusion,
            [[1, 1], [0, 2]]
        );
        let everything = report(&probs, &labels, 2, Some(0.0)).unwrap();
        assert_eq!(
            (
                everything.confusion.clone(),
                everything.recall[1],
                everything.precision[1]
            ),
            (vec![vec![0, 2], vec![0, 2]], 1.0, 0.5)
        );
        assert_eq!(
            report(&probs, &labels, 2, Some(0.95)).unwrap().confusion,
            [[2, 0], [2, 0]]
        );
    }
}
