//! The metrics the core reports: the validation scores each epoch ends with (a search or a lesson
//! judges a run by one of them), and the summary of an evaluation (`crate::metrics::Report`), each
//! with where it sits in the report, so the page lists them without knowing them.

use serde::Serialize;

/// A score every epoch of a run reports (`train::Event::Epoch`'s field `name`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Score {
    pub name: &'static str,
    pub label: &'static str,
    pub doc: &'static str,
    /// Higher is better.
    pub maximize: bool,
    pub format: Format,
}

/// How a value is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// A share, written as a percentage.
    Percent,
    /// A number with this many decimals.
    Digits(u8),
}

/// One line of an evaluation's summary: the report's values at `paths` (dot-separated), written
/// one after another.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    pub label: &'static str,
    pub doc: &'static str,
    pub paths: Vec<&'static str>,
    pub format: Format,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Metrics {
    pub scores: Vec<Score>,
    pub summary: Vec<Summary>,
}

fn line(label: &'static str, doc: &'static str, paths: &[&'static str], format: Format) -> Summary {
    Summary {
        label,
        doc,
        paths: paths.to_vec(),
        format,
    }
}

pub fn metrics() -> Metrics {
    use Format::*;
    Metrics {
        scores: vec![
            Score {
                name: "val_accuracy",
                label: "validation accuracy",
                doc: "the share of held-out samples classified right",
                maximize: true,
                format: Percent,
            },
            Score {
                name: "val_loss",
                label: "validation loss",
                doc: "the mean cross-entropy on the held-out samples",
                maximize: false,
                format: Digits(4),
            },
        ],
        summary: vec![
            line("Accuracy", "the share of samples classified right", &["accuracy"], Percent),
            line(
                "Balanced accuracy",
                "the mean recall over the classes: each class counts the same, however many samples it has",
                &["balanced_accuracy"],
                Percent,
            ),
            line(
                "F1, macro / weighted / micro",
                "the harmonic mean of precision and recall, averaged over the classes alike, by their support, and over all samples",
                &["macro_avg.f1", "weighted_avg.f1", "micro_avg.f1"],
                Digits(3),
            ),
            line(
                "Cohen's κ",
                "agreement with the labels beyond what chance gives: 1 is perfect, 0 is chance",
                &["kappa"],
                Digits(3),
            ),
            line(
                "Log-loss",
                "the mean cross-entropy of the predicted probabilities: lower is better",
                &["log_loss"],
                Digits(4),
            ),
            line(
                "ROC AUC, macro / micro",
                "the chance that a sample of a class is ranked above one of another (0.5 is chance)",
                &["ranking.roc_auc_macro", "ranking.roc_auc_micro"],
                Digits(3),
            ),
            line(
                "Average precision, macro / micro",
                "the area under the precision-recall curve",
                &["ranking.average_precision_macro", "ranking.average_precision_micro"],
                Digits(3),
            ),
            line(
                "Calibration error (ECE)",
                "how far the confidence is from the accuracy, averaged over confidence bins",
                &["calibration.ece"],
                Digits(3),
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::Event;

    #[test]
    fn every_score_is_reported_by_each_epoch() {
        let epoch = serde_json::to_value(Event::Epoch {
            epoch: 1,
            train_loss: 0.5,
            train_accuracy: 0.5,
            val_loss: 0.25,
            val_accuracy: 0.75,
            seconds: 1.0,
        })
        .unwrap();
        for score in metrics().scores {
            assert!(epoch[score.name].is_number(), "{} in {epoch}", score.name);
        }
    }

    #[test]
    fn every_summary_line_is_a_number_of_the_report() {
        let probs = [0.9, 0.1, 0.2, 0.8, 0.6, 0.4, 0.3, 0.7];
        let report = serde_json::to_value(crate::metrics::report(&probs, &[0, 1, 1, 0], 2, None).unwrap()).unwrap();
        for line in metrics().summary {
            for path in line.paths {
                let value = path.split('.').fold(&report, |v, key| &v[key]);
                assert!(value.is_number(), "{path} of the report is {value}");
            }
        }
    }
}
