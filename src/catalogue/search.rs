//! What a hyper-parameter search can vary, each with the range (or choices) a new search starts
//! from. `tune::apply` puts a trial's values into a training run (its tests check that it takes
//! every setting listed here).

use crate::tune::ParamSpec;
use serde::Serialize;
use serde_json::json;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Searchable {
    pub label: &'static str,
    pub doc: &'static str,
    /// Searched unless the person turns it off.
    pub on: bool,
    /// The name, kind and starting range.
    #[serde(flatten)]
    pub param: ParamSpec,
}

fn float(name: &str, low: f64, high: f64, log: bool) -> ParamSpec {
    ParamSpec::Float {
        name: name.into(),
        low,
        high,
        log,
    }
}

fn int(name: &str, low: i64, high: i64, log: bool) -> ParamSpec {
    ParamSpec::Int {
        name: name.into(),
        low,
        high,
        log,
    }
}

fn searchable(label: &'static str, doc: &'static str, on: bool, param: ParamSpec) -> Searchable {
    Searchable { label, doc, on, param }
}

/// The searchable settings, in the order the search-space editor lists them.
pub fn search_space() -> Vec<Searchable> {
    vec![
        searchable(
            "learning rate",
            "the optimiser's step size",
            true,
            float("lr", 0.0003, 0.03, true),
        ),
        searchable("batch size", "samples per step", false, int("batch", 16, 256, true)),
        searchable(
            "hidden width",
            "units of every dense layer but the output, and of recurrent layers",
            true,
            int("units", 8, 128, true),
        ),
        searchable(
            "dropout",
            "rate of every dropout layer (one is added before the output layer if there is none)",
            false,
            float("dropout", 0.0, 0.5, false),
        ),
        searchable(
            "weight decay (L2)",
            "the L2 penalty on the weights",
            false,
            float("weight_decay", 0.00001, 0.01, true),
        ),
        searchable(
            "optimiser",
            "the update rule",
            false,
            ParamSpec::Choice {
                name: "optimizer".into(),
                values: vec![json!("adam"), json!("rmsprop"), json!("momentum")],
            },
        ),
        searchable(
            "epochs",
            "passes over the training split",
            false,
            int("epochs", 1, 6, false),
        ),
        searchable(
            "augmentation strength",
            "a factor on the strength of every augmentation chosen under Training (images and texts; mixup's α stays)",
            false,
            float("augmentation", 0.0, 1.0, false),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::optimizers;

    #[test]
    fn every_starting_range_is_a_valid_search_parameter_with_a_unique_name() {
        let space = search_space();
        for s in &space {
            s.param.validate().unwrap();
            let written = serde_json::to_value(s).unwrap();
            assert_eq!(written["name"], json!(s.param.name()), "{written}");
        }
        let mut names: Vec<&str> = space.iter().map(|s| s.param.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), space.len());
    }

    #[test]
    fn the_optimisers_searched_are_the_catalogues() {
        let known: Vec<&str> = optimizers().iter().map(|o| o.name).collect();
        let choices = search_space().into_iter().filter_map(|s| match s.param {
            ParamSpec::Choice { values, .. } => Some(values),
            _ => None,
        });
        for value in choices.flatten() {
            assert!(known.contains(&value.as_str().unwrap()), "{value}");
        }
    }
}
