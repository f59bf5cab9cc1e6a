//! Every metric against scikit-learn's value on the same predictions (`tests/metrics/fixtures.json`,
//! made by `tests/metrics/make_fixtures.py`), degenerate cases included.

use serde_json::Value;
use whetstone::metrics::report;

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn close(what: &str, got: f64, want: f64, tol: f64) {
    assert!((got - want).abs() <= tol, "{what}: Whetstone {got}, scikit-learn {want}");
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
        let r = report(&probs, &labels, classes).unwrap();
        let confusion: Vec<Vec<u64>> = c["confusion"].as_array().unwrap().iter().map(|row| numbers(row).iter().map(|&v| v as u64).collect()).collect();
        assert_eq!(r.confusion, confusion, "{name}: confusion matrix");
        assert_eq!(r.support.iter().map(|&s| s as f64).collect::<Vec<_>>(), numbers(&c["support"]), "{name}: support");
        let exact = 1e-12;
        close(&format!("{name}: accuracy"), r.accuracy, c["accuracy"].as_f64().unwrap(), exact);
        close(&format!("{name}: balanced accuracy"), r.balanced_accuracy, c["balanced_accuracy"].as_f64().unwrap(), exact);
        close(&format!("{name}: kappa"), r.kappa, c["kappa"].as_f64().unwrap(), exact);
        // The probabilities pass through f32 here, as they do in Whetstone.
        close(&format!("{name}: log-loss"), r.log_loss, c["log_loss"].as_f64().unwrap(), 1e-6);
        for (key, got) in [("precision", &r.precision), ("recall", &r.recall), ("f1", &r.f1)] {
            for (k, (g, w)) in got.iter().zip(numbers(&c[key])).enumerate() {
                close(&format!("{name}: {key} of class {k}"), *g, w, exact);
            }
        }
        for (key, avg) in [("macro", &r.macro_avg), ("micro", &r.micro_avg), ("weighted", &r.weighted_avg)] {
            let want = numbers(&c[key]);
            close(&format!("{name}: {key} precision"), avg.precision, want[0], exact);
            close(&format!("{name}: {key} recall"), avg.recall, want[1], exact);
            close(&format!("{name}: {key} F1"), avg.f1, want[2], exact);
        }
    }
}
