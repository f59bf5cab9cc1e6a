//! The JavaScript API: thin handles over the core, driven from a Web Worker. No maths here.
//!
//! One file per handle: `data.rs` (a data set), `gpu.rs` (the WebGPU device), `training.rs` (a
//! training run), `search.rs` (a hyper-parameter search); the free functions are here.

mod data;
mod gpu;
mod search;
mod training;

pub use data::DataSet;
pub use gpu::GpuDevice;

use crate::backend::cpu::Cpu;
use crate::error::plain;
use crate::features::Fitted;
use crate::model_file::ModelFile;
use crate::nn::{preset, ModelSpec};
use crate::optim::schedule;
use crate::train::{TrainConfig, Trainer};
use crate::Error;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}

pub(super) fn js_error(e: Error) -> JsError {
    JsError::new(&e.to_string())
}

pub(super) fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsError> {
    serde_wasm_bindgen::to_value(value).map_err(|e| JsError::new(&e.to_string()))
}

/// Compares ensemble members and their ensembles (`ensemble::Comparison`) on the held-out split
/// with these `labels` and `classes`: `members_json` lists each member's `{name, classes}`, and
/// `probs` holds every member's probabilities, member after member.
#[wasm_bindgen(js_name = compareEnsemble)]
pub fn compare_ensemble(
    members_json: &str,
    probs: Vec<f32>,
    labels: Vec<u32>,
    classes: Vec<String>,
) -> Result<JsValue, JsError> {
    #[derive(serde::Deserialize)]
    struct Described {
        name: String,
        classes: Vec<String>,
    }
    let described: Vec<Described> = serde_json::from_str(members_json)
        .map_err(|e| JsError::new(&format!("the ensemble members are not valid: {}", plain(&e))))?;
    let mut at = 0;
    let mut members = Vec::with_capacity(described.len());
    for d in described {
        let len = (labels.len() * d.classes.len()).min(probs.len() - at);
        members.push(crate::ensemble::Member {
            name: d.name,
            classes: d.classes,
            probs: probs[at..at + len].to_vec(),
        });
        at += len;
    }
    if at != probs.len() {
        return Err(JsError::new(&format!(
            "{} probabilities do not split into the members' rows",
            probs.len()
        )));
    }
    to_js(&crate::ensemble::compare(&members, &labels, &classes).map_err(js_error)?)
}

/// The JSON spec of a built-in preset (`mlp`, `cnn`, `toy`, `gru`, `lstm`) for the given input shape and classes.
#[wasm_bindgen(js_name = presetSpec)]
pub fn preset_spec(name: &str, input: Vec<u32>, classes: usize) -> Result<String, JsError> {
    let input: Vec<usize> = input.into_iter().map(|d| d as usize).collect();
    let spec = preset(name, &input, classes).map_err(js_error)?;
    serde_json::to_string_pretty(&spec).map_err(|e| JsError::new(&e.to_string()))
}

/// The JSON spec of a built-in text preset (`transformer`, `gru`, `bag`) for texts of `steps`
/// token ids from a vocabulary of `vocab`.
#[wasm_bindgen(js_name = textPresetSpec)]
pub fn text_preset_spec(name: &str, steps: usize, vocab: usize, classes: usize) -> Result<String, JsError> {
    let spec = crate::nn::text_preset(name, steps, vocab, classes).map_err(js_error)?;
    serde_json::to_string_pretty(&spec).map_err(|e| JsError::new(&e.to_string()))
}

/// What the core offers (layer kinds, optimisers, schedules, augmentations, with their settings), as
/// JSON: the page renders its editors and menus from it.
#[wasm_bindgen(js_name = catalogueJson)]
pub fn catalogue_json() -> Result<String, JsError> {
    serde_json::to_string(&crate::catalogue::catalogue()).map_err(|e| JsError::new(&e.to_string()))
}

/// Output shapes, parameters and FLOPs of a model spec, or an error that names the bad layer.
#[wasm_bindgen]
pub fn summarize(spec_json: &str) -> Result<JsValue, JsError> {
    to_js(
        &ModelSpec::from_json(spec_json)
            .and_then(|s| s.summary())
            .map_err(js_error)?,
    )
}

/// The learning rate that each step of a run with these training settings would get, for
/// `steps_per_epoch` steps per epoch: the curve the page plots before training. Reduce-on-plateau
/// cuts depend on the run, so its planned curve is flat.
#[wasm_bindgen(js_name = plannedRates)]
pub fn planned_rates(config_json: &str, steps_per_epoch: usize) -> Result<Vec<f32>, JsError> {
    let config = TrainConfig::from_json(config_json).map_err(js_error)?;
    let lr = config.optimizer.lr();
    config
        .optimizer
        .validate()
        .and_then(|_| config.schedule.validate(lr))
        .map_err(js_error)?;
    Ok(schedule::planned_rates(
        &config.schedule,
        config.warmup_steps,
        lr,
        steps_per_epoch.max(1),
        config.epochs,
    ))
}

/// The loss and accuracy of a model file on every sample of `data` (on the CPU).
#[wasm_bindgen(js_name = scoreModel)]
pub fn score_model(bytes: &[u8], data: &DataSet) -> Result<JsValue, JsError> {
    let file = ModelFile::from_bytes(bytes).map_err(js_error)?;
    data.check_model(&file)?;
    let features = file
        .features
        .clone()
        .unwrap_or_else(|| Fitted::none(&data.inner.sample_shape));
    let config = TrainConfig::new(1, 1, crate::optim::OptimizerSpec::Sgd { lr: 0.01 }, 0);
    let mut trainer =
        Trainer::with_features(Cpu, file.spec.clone(), config, &data.inner, &data.inner, features).map_err(js_error)?;
    trainer.load_file_weights(&file).map_err(js_error)?;
    to_js(&crate::backend::ready(trainer.evaluate_validation()).expect("the CPU is never lost"))
}

/// What a model file holds besides its weights.
#[derive(serde::Serialize)]
struct ModelInfo {
    spec: String,
    classes: Vec<String>,
    history: Option<String>,
}

/// The spec (as JSON), class names and training history of a model file, or why it cannot be read.
#[wasm_bindgen(js_name = inspectModel)]
pub fn inspect_model(bytes: &[u8]) -> Result<JsValue, JsError> {
    let file = ModelFile::from_bytes(bytes).map_err(js_error)?;
    let spec = serde_json::to_string_pretty(&file.spec).map_err(|e| JsError::new(&e.to_string()))?;
    to_js(&ModelInfo {
        spec,
        classes: file.classes,
        history: file.history,
    })
}

/// `value` as plain JavaScript objects (maps as objects, as JSON has them).
pub(super) fn to_plain_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&e.to_string()))
}
