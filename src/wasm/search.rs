//! A hyper-parameter search.

use super::{js_error, to_plain_js};
use crate::tune;
use wasm_bindgen::prelude::*;

/// A hyper-parameter search (`tune::Search`): it proposes trials and learns from their scores; the
/// page runs the trials in its pool of workers.
#[wasm_bindgen]
pub struct Search {
    inner: tune::Search,
}

#[wasm_bindgen]
impl Search {
    /// A new search from its settings (`tune::SearchSpec` as JSON); a message says what is wrong
    /// with a bad one.
    #[wasm_bindgen(constructor)]
    pub fn new(spec_json: &str) -> Result<Search, JsError> {
        Ok(Search {
            inner: tune::Search::from_json(spec_json).map_err(js_error)?,
        })
    }

    /// A search saved by [`Search::save`]; trials that were running are handed out again first.
    pub fn restore(saved_json: &str) -> Result<Search, JsError> {
        Ok(Search {
            inner: tune::Search::restore(saved_json).map_err(js_error)?,
        })
    }

    /// `{type: "run", trial}`, `{type: "wait"}` or `{type: "finished"}`.
    pub fn ask(&mut self) -> Result<JsValue, JsError> {
        to_plain_js(&self.inner.ask())
    }

    pub fn tell(&mut self, id: usize, score: f64) -> Result<(), JsError> {
        self.inner.tell(id, score).map_err(js_error)
    }

    pub fn fail(&mut self, id: usize, reason: String) -> Result<(), JsError> {
        self.inner.fail(id, reason).map_err(js_error)
    }

    /// The whole search as JSON, to resume after a reload.
    pub fn save(&self) -> Result<String, JsError> {
        serde_json::to_string(&self.inner).map_err(|e| JsError::new(&e.to_string()))
    }

    /// Every trial so far, with its outcome.
    pub fn trials(&self) -> Result<JsValue, JsError> {
        to_plain_js(&self.inner.trials)
    }

    /// The best finished trial, or `undefined`.
    pub fn best(&self) -> Result<JsValue, JsError> {
        self.inner.best().map_or(Ok(JsValue::UNDEFINED), to_plain_js)
    }
}

/// A trial's request (`tune::apply::apply`): the spec, training settings and trial's values as
/// JSON in; `{spec, config}` out, the spec as JSON text written as the model editor shows it.
#[wasm_bindgen(js_name = applyTrial)]
pub fn apply_trial(
    spec_json: &str,
    config_json: &str,
    values_json: &str,
    epochs: Option<usize>,
) -> Result<JsValue, JsError> {
    let read = |json: &str, what: &str| {
        serde_json::from_str::<serde_json::Value>(json)
            .map_err(|e| JsError::new(&format!("the {what} are not valid JSON: {}", crate::error::plain(&e))))
    };
    let mut spec = read(spec_json, "model spec's settings")?;
    let mut config = read(config_json, "training settings")?;
    let serde_json::Value::Object(values) = read(values_json, "trial's values")? else {
        return Err(JsError::new("a trial's values are an object of searched settings"));
    };
    tune::apply::apply(&mut spec, &mut config, &values, epochs).map_err(js_error)?;
    // Written back through the spec's own type, whose settings come in the editor's order.
    let spec = crate::nn::ModelSpec::from_json(&spec.to_string()).map_err(js_error)?;
    let spec = serde_json::to_string_pretty(&spec).expect("a spec serialises");
    to_plain_js(&serde_json::json!({ "spec": spec, "config": config }))
}
