//! The feature transforms a person can choose, for tables and for images: each a field of
//! [`crate::features::FeatureSpec`], in the order the page's editor shows them.

use super::{boolean, choice, number, Field, FieldKind};
use serde::Serialize;
use serde_json::json;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FeatureTransforms {
    pub table: Vec<Field>,
    pub image: Vec<Field>,
}

pub fn features() -> FeatureTransforms {
    FeatureTransforms {
        table: vec![
            choice(
                "impute",
                "Fill missing values with",
                &[
                    ("mean", "the mean"),
                    ("median", "the median"),
                    ("mode", "the most frequent value"),
                    ("constant", "a constant"),
                ],
                "what takes the place of an empty cell (a category column takes its most frequent category)",
            ),
            number(
                "fill",
                "Constant",
                0.0,
                "the value a missing cell takes when filling with a constant",
            ),
            choice(
                "scale",
                "Scale numbers",
                &[
                    ("none", "as they are"),
                    ("standardize", "standardise (mean 0, deviation 1)"),
                    ("min_max", "min-max to [0, 1]"),
                ],
                "how each numeric column is scaled, from the training split",
            ),
            boolean(
                "one_hot",
                "one-hot codes for categories",
                "one 0/1 feature per category instead of the category's number",
            ),
            boolean(
                "polynomial",
                "squares and products",
                "adds x², y², x·y, … of the numeric columns",
            ),
            Field::new(
                "log",
                "Log transform",
                FieldKind::Columns,
                json!([]),
                "sign(x)·ln(1 + |x|) of the chosen numeric columns, before scaling",
            ),
        ],
        image: vec![
            boolean(
                "grayscale",
                "grayscale",
                "one channel of luminance instead of the colours",
            ),
            boolean(
                "edges",
                "edge channel",
                "adds the Sobel edge strength as one more channel",
            ),
            boolean(
                "normalize",
                "normalise each channel",
                "subtracts the training split's mean and divides by its deviation, per channel",
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::with_defaults;
    use super::*;
    use crate::features::{FeatureSpec, Impute, Scale};
    use serde_json::Value;
    use std::collections::BTreeSet;

    #[test]
    fn every_transform_is_a_setting_of_the_core_and_every_setting_is_offered() {
        let FeatureTransforms { table, image } = features();
        let all: Vec<Field> = table.into_iter().chain(image).collect();
        let mut defaults = with_defaults("", &all);
        defaults.as_object_mut().unwrap().remove("type");
        let spec: FeatureSpec = serde_json::from_value(defaults).unwrap();
        assert_eq!(spec, FeatureSpec::default());
        let offered: BTreeSet<&str> = all.iter().map(|f| f.name).collect();
        let with_every_field = FeatureSpec {
            log: vec!["x".into()],
            ..Default::default()
        };
        let Value::Object(core) = serde_json::to_value(with_every_field).unwrap() else {
            panic!("a feature spec is an object")
        };
        assert_eq!(offered, core.keys().map(String::as_str).collect());
        for field in all.iter().filter(|f| f.kind == FieldKind::Choice) {
            for c in &field.choices {
                let value = json!(c.value);
                match field.name {
                    "impute" => drop(serde_json::from_value::<Impute>(value).unwrap()),
                    "scale" => drop(serde_json::from_value::<Scale>(value).unwrap()),
                    other => panic!("a menu {other} the test does not know"),
                }
            }
        }
    }
}
