//! Every metric against scikit-learn's value on the same predictions (`tests/metrics/fixtures.json`,
//! made by `tests/metrics/make_fixtures.py`), degenerate cases included.

use serde_json::Value;
use whetstone::metrics::{calibration, ranking, report};

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn close(what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: Whetstone {got}, scikit-learn {want}"
    );
}

fn all_close(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(
        got.len(),
        want.len(),
        "{what}: {} points against scikit-learn's {}",
        got.len(),
        want.len()
    );
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        close(&format!("{what}[{i}]"), *g, *w, 1e-12);
    }
}

#[test]
fn ranking_and_calibration_match_scikit_learn() {
    let fixtures: Value = serde_json::from_str(include_str!("metrics/fixtures.json")).unwrap();
    let (mut ranked, mut calibrated) = (0, 0);
    for c in fixtures["cases"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let classes = c["classes"].as_u64().unwrap() as usize;
        let labels: Vec<u32> = numbers(&c["labels"]).iter().map(|&l| l as u32).collect();
        let probs: Vec<f32> = numbers(&c["probs"]).iter().map(|&p| p as f32).collect();
        if let Some(cal) = c.get("calibration") {
            let got = calibration(&probs, &labels, classes, 10);
            // Confidences pass through f32 here: compare to that precision.
            for (key, values) in [("accuracy", &got.accuracy), ("confidence", &got.confidence)] {
                let want = numbers(&cal[key]);
                assert_eq!(values.len(), want.len(), "{name}: calibration bins");
                values
                    .iter()
                    .zip(&want)
                    .for_each(|(g, w)| close(&format!("{name}: calibration {key}"), *g, *w, 1e-6));
            }
            close(&format!("{name}: ECE"), got.ece, cal["ece"].as_f64().unwrap(), 1e-6);
            calibrated += 1;
        }
        let Some(macro_auc) = c.get("roc_auc_macro") else {
            continue;
        };
        let r = ranking(&probs, &labels, classes);
        close(
            &format!("{name}: ROC AUC (macro)"),
            r.roc_auc_macro,
            macro_auc.as_f64().unwrap(),
            1e-9,
        );
        close(
            &format!("{name}: average precision (macro)"),
            r.average_precision_macro,
            c["average_precision_macro"].as_f64().unwrap(),
            1e-9,
        );
        if let Some(micro) = c.get("roc_auc_micro") {
            close(
                &format!("{name}: ROC AUC (micro)"),
                r.roc_auc_micro,
                micro.as_f64().unwrap(),
                1e-9,
            );
            close(
                &format!("{name}: average precision (micro)"),
                r.average_precision_micro,
                c["average_precision_micro"].as_f64().unwrap(),
                1e-9,
            );
        }
        let k = c["curve_class"].as_u64().unwrap() as usize;
        let roc = r.roc[k].as_ref().unwrap();
        all_close(
            &format!("{name}: ROC false-positive rates"),
            &roc.x,
            &numbers(&c["roc"]["fpr"]),
        );
        all_close(
            &format!("{name}: ROC true-positive rates"),
            &roc.y,
            &numbers(&c["roc"]["tpr"]),
        );
        let pr = r.pr[k].as_ref().unwrap();
        all_close(&format!("{name}: PR recall"), &pr.x, &numbers(&c["pr"]["recall"]));
        all_close(&format!("{name}: PR precision"), &pr.y, &numbers(&c["pr"]["precision"]));
        ranked += 1;
    }
    assert!(
        ranked >= 4 && calibrated >= 4,
        "{ranked} ranked and {calibrated} calibrated cases"
    );
}

#[test]
fn every_metric_matches_scikit_learn() {
    let fixtures: Value = serde_json::from_str(include_str!("metrics/fixtures.json")).unwrap();
    let cases = fixtures["cases"].as_array().unwrap();
    assert!(cases.len() >= 6);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let classes = c["classes"].as_u64().unwrap() as usize;
        let labels: Vec<u32> = numbers(&c["labels"]).iter().map(|&l| l as u32).collect();
        let probs: Vec<f32> = numbers(&c["probs"]).iter().map(|&p| p as f32).collect();
        let r = report(&probs, &labels, classes, None).unwrap();
        let confusion: Vec<Vec<u64>> = c["confusion"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| numbers(row).iter().map(|&v| v as u64).collect())
            .collect();
        assert_eq!(r.confusion, confusion, "{name}: confusion matrix");
        assert_eq!(
            r.support.iter().map(|&s| s as f64).collect::<Vec<_>>(),
            numbers(&c["support"]),
            "{name}: support"
        );
        let exact = 1e-12;
        close(
            &format!("{name}: accuracy"),
            r.accuracy,
            c["accuracy"].as_f64().unwrap(),
            exact,
        );
        close(
            &format!("{name}: balanced accuracy"),
            r.balanced_accuracy,
            c["balanced_accuracy"].as_f64().unwrap(),
            exact,
        );
        close(&format!("{name}: kappa"), r.kappa, c["kappa"].as_f64().unwrap(), exact);
        // The probabilities pass through f32 here, as they do in Whetstone.
        close(
            &format!("{name}: log-loss"),
            r.log_loss,
            c["log_loss"].as_f64().unwrap(),
            1e-6,
        );
        for (key, got) in [("precision", &r.precision), ("recall", &r.recall), ("f1", &r.f1)] {
            for (k, (g, w)) in got.iter().zip(numbers(&c[key])).enumerate() {
                close(&format!("{name}: {key} of class {k}"), *g, w, exact);
            }
        }
        for (key, avg) in [
            ("macro", &r.macro_avg),
            ("micro", &r.micro_avg),
            ("weighted", &r.weighted_avg),
        ] {
            let want = numbers(&c[key]);
            close(&format!("{name}: {key} precision"), avg.precision, want[0], exact);
            close(&format!("{name}: {key} recall"), avg.recall, want[1], exact);
            close(&format!("{name}: {key} F1"), avg.f1, want[2], exact);
        }
    }
}
