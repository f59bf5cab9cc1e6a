//! How a trial's values go into a training run: each searchable setting (the catalogue's
//! `search`) changes the model spec or the training settings, both as JSON. The page's tuner and
//! lessons put every trial in through here, and the exported `search.py` does the same in Python
//! (checked against this on the same cases).

use crate::catalogue::{augmentations, optimizers};
use crate::error::Error;
use serde_json::{json, Map, Value};

/// The strength setting of each augmentation that has one, by type (flips have none; mixup's α is
/// not a strength).
pub fn strengths() -> Map<String, Value> {
    augmentations()
        .into_iter()
        .map(|a| a.entry)
        .filter(|a| a.name != "mixup")
        .filter_map(|a| a.fields.first().map(|f| (a.name.to_string(), json!(f.name))))
        .collect()
}

/// Each optimiser's settings by its menu name, but the rate.
pub fn optimizer_configs() -> Map<String, Value> {
    optimizers()
        .into_iter()
        .map(|o| (o.name.to_string(), o.config))
        .collect()
}

fn bad(why: String) -> Error {
    Error::InvalidConfig(why)
}

fn number(name: &str, value: &Value) -> Result<f64, Error> {
    value
        .as_f64()
        .filter(|v| v.is_finite())
        .ok_or_else(|| bad(format!("the searched {name} must be a number, got {value}")))
}

fn count(name: &str, value: &Value) -> Result<Value, Error> {
    match value.as_u64() {
        Some(n) if n > 0 => Ok(json!(n)),
        _ => Err(bad(format!(
            "the searched {name} must be a whole number above 0, got {value}"
        ))),
    }
}

fn object<'a>(value: &'a mut Value, what: &str) -> Result<&'a mut Map<String, Value>, Error> {
    value
        .as_object_mut()
        .ok_or_else(|| bad(format!("the {what} must be an object")))
}

fn layers(spec: &mut Value) -> Result<&mut Vec<Value>, Error> {
    spec.get_mut("layers")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| bad("the model spec has no list of layers".into()))
}

fn kind(layer: &Value) -> &str {
    layer["type"].as_str().unwrap_or_default()
}

/// Puts `values` (a trial's, by searchable name) into `spec` and `config` (a `ModelSpec` and a
/// `TrainConfig` as JSON); `epochs`, when given, overrides the run's (successive halving's rungs).
/// A setting this cannot put in, or a value of the wrong kind, is named.
pub fn apply(
    spec: &mut Value,
    config: &mut Value,
    values: &Map<String, Value>,
    epochs: Option<usize>,
) -> Result<(), Error> {
    // The optimiser first: a searched rate goes into the searched optimiser.
    if let Some(name) = values.get("optimizer") {
        let known = optimizer_configs();
        let chosen = name.as_str().and_then(|n| known.get(n)).ok_or_else(|| {
            let names: Vec<&String> = known.keys().collect();
            bad(format!(
                "the searched optimiser {name} is not one of {}",
                names.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", ")
            ))
        })?;
        let lr = config["optimizer"]["lr"].clone();
        let mut optimizer = chosen.clone();
        object(&mut optimizer, "optimiser")?.insert("lr".into(), lr);
        object(config, "training settings")?.insert("optimizer".into(), optimizer);
    }
    for (name, value) in values {
        match name.as_str() {
            "optimizer" => {}
            "lr" => {
                let lr = number("learning rate", value)?;
                if lr <= 0.0 {
                    return Err(bad(format!("the searched learning rate must be above 0, got {lr}")));
                }
                object(&mut config["optimizer"], "optimiser")?.insert("lr".into(), json!(lr));
            }
            "batch" => {
                object(config, "training settings")?.insert("batch_size".into(), count("batch size", value)?);
            }
            "epochs" => {
                object(config, "training settings")?.insert("epochs".into(), count("epochs", value)?);
            }
            "weight_decay" => {
                let l2 = number("weight decay", value)?;
                object(config, "training settings")?.insert("l2".into(), json!(l2));
            }
            "units" => {
                let units = count("hidden width", value)?;
                let layers = layers(spec)?;
                let last = layers.iter().rposition(|l| kind(l) == "dense");
                for (i, layer) in layers.iter_mut().enumerate() {
                    if (kind(layer) == "dense" && Some(i) != last) || matches!(kind(layer), "lstm" | "gru") {
                        object(layer, "layer")?.insert("units".into(), units.clone());
                    }
                }
            }
            "dropout" => {
                let rate = number("dropout", value)?;
                let layers = layers(spec)?;
                let mut found = false;
                for layer in layers.iter_mut().filter(|l| kind(l) == "dropout") {
                    object(layer, "layer")?.insert("rate".into(), json!(rate));
                    found = true;
                }
                if !found {
                    // A dropout before the output layer; the settings of the layers after it
                    // (numbered from 1) move with them.
                    let at = layers.len().saturating_sub(1);
                    layers.insert(at, json!({"type": "dropout", "rate": rate}));
                    renumber(config, at + 1);
                }
            }
            "augmentation" => {
                let factor = number("augmentation strength", value)?;
                let strengths = strengths();
                let ops = config
                    .get_mut("augment")
                    .and_then(Value::as_array_mut)
                    .filter(|ops| !ops.is_empty())
                    .ok_or_else(|| {
                        bad(
                            "searching the augmentation strength needs at least one augmentation chosen under Training"
                                .into(),
                        )
                    })?;
                for op in ops.iter_mut() {
                    let Some(key) = strengths.get(kind(op)).and_then(Value::as_str) else {
                        continue;
                    };
                    let strength = number("augmentation's strength", &op[key])?;
                    object(op, "augmentation")?.insert(key.into(), json!(strength * factor));
                }
            }
            other => return Err(bad(format!("a search of '{other}' cannot be put into a training run"))),
        }
    }
    if let Some(epochs) = epochs {
        object(config, "training settings")?.insert("epochs".into(), json!(epochs));
    }
    Ok(())
}

/// Moves the per-layer settings (frozen layers, penalties) of layer `from` (numbered from 1) and
/// those after it one on, after a layer was inserted before it.
fn renumber(config: &mut Value, from: usize) {
    let shift = |n: &mut Value| {
        if let Some(k) = n.as_u64().filter(|&k| k as usize >= from) {
            *n = json!(k + 1);
        }
    };
    if let Some(frozen) = config.get_mut("frozen").and_then(Value::as_array_mut) {
        frozen.iter_mut().for_each(shift);
    }
    if let Some(penalties) = config.get_mut("layer_penalties").and_then(Value::as_array_mut) {
        for layer in penalties.iter_mut().filter_map(|p| p.get_mut("layer")) {
            shift(layer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::search_space;
    use crate::nn::{preset, ModelSpec};
    use crate::train::TrainConfig;

    fn mlp() -> Value {
        serde_json::to_value(preset("mlp", &[1, 28, 28], 10).unwrap()).unwrap()
    }

    fn config() -> Value {
        json!({
            "epochs": 3, "batch_size": 32, "optimizer": {"type": "adam", "lr": 0.001}, "l2": 0.0,
            "augment": [{"type": "rotate", "p": 0.5, "degrees": 10.0}, {"type": "flip_horizontal", "p": 0.5},
                        {"type": "mixup", "p": 0.5, "alpha": 0.2}],
            "frozen": [2, 4], "layer_penalties": [{"layer": 4, "l1": 0.0, "l2": 0.1}]
        })
    }

    fn values(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn every_searchable_setting_goes_into_a_run_that_the_core_reads() {
        for s in search_space() {
            let value = match &s.param {
                crate::tune::ParamSpec::Choice { values, .. } => values[1].clone(),
                crate::tune::ParamSpec::Int { low, .. } => json!(low),
                crate::tune::ParamSpec::Float { low, .. } => json!(low),
            };
            let (mut spec, mut config) = (mlp(), config());
            apply(&mut spec, &mut config, &values(json!({ s.param.name(): value })), None).unwrap();
            assert_ne!(
                (&spec, &config),
                (&mlp(), &self::config()),
                "{} changed nothing",
                s.param.name()
            );
            ModelSpec::from_json(&spec.to_string()).unwrap().summary().unwrap();
            serde_json::from_value::<TrainConfig>(config).unwrap();
        }
    }

    #[test]
    fn each_setting_lands_where_the_run_reads_it() {
        let (mut spec, mut config) = (mlp(), config());
        let trial = json!({"lr": 0.01, "optimizer": "momentum", "batch": 64, "epochs": 5, "weight_decay": 0.001,
                           "units": 48, "augmentation": 0.5});
        apply(&mut spec, &mut config, &values(trial), None).unwrap();
        assert_eq!(
            config["optimizer"],
            json!({"type": "momentum", "momentum": 0.9, "lr": 0.01})
        );
        assert_eq!(
            (config["batch_size"].clone(), config["epochs"].clone()),
            (json!(64), json!(5))
        );
        assert_eq!(config["l2"], json!(0.001));
        assert_eq!(config["augment"][0]["degrees"], json!(5.0));
        assert_eq!(config["augment"][1], json!({"type": "flip_horizontal", "p": 0.5}));
        assert_eq!(config["augment"][2]["alpha"], json!(0.2));
        let layers = spec["layers"].as_array().unwrap();
        let dense: Vec<&Value> = layers.iter().filter(|l| l["type"] == "dense").collect();
        assert!(dense[..dense.len() - 1].iter().all(|l| l["units"] == 48));
        assert_eq!(dense.last().unwrap()["units"], 10);
        // Halving's epochs win over a searched number.
        apply(&mut spec, &mut config, &Map::new(), Some(9)).unwrap();
        assert_eq!(config["epochs"], 9);
    }

    #[test]
    fn a_dropout_is_added_before_the_output_and_the_layer_settings_follow_their_layers() {
        let (mut spec, mut config) = (mlp(), config());
        let before = spec["layers"].as_array().unwrap().len();
        apply(&mut spec, &mut config, &values(json!({"dropout": 0.3})), None).unwrap();
        let layers = spec["layers"].as_array().unwrap();
        assert_eq!(layers.len(), before + 1);
        assert_eq!(layers[before - 1], json!({"type": "dropout", "rate": 0.3}));
        // The preset has four layers: 4 was the output and is now 5.
        assert_eq!(before, 4);
        assert_eq!(config["frozen"], json!([2, 5]));
        assert_eq!(config["layer_penalties"][0]["layer"], 5);
        // With a dropout already there, its rate is set and nothing moves.
        apply(&mut spec, &mut config, &values(json!({"dropout": 0.1})), None).unwrap();
        assert_eq!(spec["layers"].as_array().unwrap().len(), before + 1);
        assert_eq!(spec["layers"][before - 1]["rate"], 0.1);
        assert_eq!(config["frozen"], json!([2, 5]));
    }

    #[test]
    fn what_cannot_go_in_is_named() {
        let cases = [
            (json!({"colour": 1}), "'colour'"),
            (json!({"optimizer": "lion"}), "lion"),
            (json!({"batch": 0}), "batch size"),
            (json!({"units": 2.5}), "hidden width"),
            (json!({"lr": "fast"}), "learning rate"),
        ];
        for (trial, named) in cases {
            let err = apply(&mut mlp(), &mut config(), &values(trial.clone()), None).unwrap_err();
            assert!(err.to_string().contains(named), "{trial}: {err}");
        }
        let mut plain = config();
        plain.as_object_mut().unwrap().remove("augment");
        let err = apply(&mut mlp(), &mut plain, &values(json!({"augmentation": 0.5})), None).unwrap_err();
        assert!(err.to_string().contains("at least one augmentation"), "{err}");
    }
}
