//! The JavaScript API: thin handles over the core, driven from a Web Worker. No maths here.

use crate::backend::cpu::Cpu;
use crate::backend::Backend;
use crate::data::{mnist, toy, Dataset};
use crate::nn::{preset, ModelSpec};
use crate::train::{TrainConfig, Trainer};
use crate::Error;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}

fn js_error(e: Error) -> JsError {
    JsError::new(&e.to_string())
}

fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsError> {
    serde_wasm_bindgen::to_value(value).map_err(|e| JsError::new(&e.to_string()))
}

/// A labelled data set held by the worker.
#[wasm_bindgen]
pub struct DataSet {
    inner: Dataset,
}

#[wasm_bindgen]
impl DataSet {
    /// The built-in digits, from the bytes of `assets/mnist-10k.bin`.
    #[wasm_bindgen(js_name = fromDigitsAsset)]
    pub fn from_digits_asset(bytes: &[u8]) -> Result<DataSet, JsError> {
        Ok(DataSet { inner: mnist::decode(bytes).map_err(js_error)? })
    }

    /// One of the 2-D toy sets: circle, xor, gaussians, spiral.
    pub fn toy(kind: &str, n: usize, noise: f32, seed: u32) -> Result<DataSet, JsError> {
        Ok(DataSet { inner: toy::generate(kind, n, noise, seed as u64).map_err(js_error)? })
    }

    #[wasm_bindgen(getter)]
    pub fn length(&self) -> usize {
        self.inner.len()
    }

    #[wasm_bindgen(getter, js_name = sampleShape)]
    pub fn sample_shape(&self) -> Vec<u32> {
        self.inner.sample_shape.iter().map(|&d| d as u32).collect()
    }

    #[wasm_bindgen(getter)]
    pub fn classes(&self) -> Vec<String> {
        self.inner.classes.clone()
    }

    /// Features of samples `start..start + count`, sample after sample.
    pub fn features(&self, start: usize, count: usize) -> Vec<f32> {
        let w = self.inner.sample_width();
        let end = (start + count).min(self.inner.len());
        self.inner.features[start.min(end) * w..end * w].to_vec()
    }

    pub fn labels(&self, start: usize, count: usize) -> Vec<u32> {
        let end = (start + count).min(self.inner.len());
        self.inner.labels[start.min(end)..end].to_vec()
    }
}

/// The JSON spec of a built-in preset (`mlp`, `cnn`, `toy`) for the given input shape and classes.
#[wasm_bindgen(js_name = presetSpec)]
pub fn preset_spec(name: &str, input: Vec<u32>, classes: usize) -> Result<String, JsError> {
    let input: Vec<usize> = input.into_iter().map(|d| d as usize).collect();
    let spec = preset(name, &input, classes).map_err(js_error)?;
    serde_json::to_string_pretty(&spec).map_err(|e| JsError::new(&e.to_string()))
}

/// Output shapes, parameters and FLOPs of a model spec, or an error that names the bad layer.
#[wasm_bindgen]
pub fn summarize(spec_json: &str) -> Result<JsValue, JsError> {
    to_js(&ModelSpec::from_json(spec_json).and_then(|s| s.summary()).map_err(js_error)?)
}

/// A training run on a held-out split of a data set. `run` and `predict` return promises: on a GPU
/// backend they wait for the device.
#[wasm_bindgen]
pub struct Training {
    inner: Rc<RefCell<Trainer<Cpu>>>,
    backend: String,
}

#[wasm_bindgen]
impl Training {
    #[wasm_bindgen(constructor)]
    pub fn new(spec_json: &str, config_json: &str, data: &DataSet, held_out: usize) -> Result<Training, JsError> {
        let spec = ModelSpec::from_json(spec_json).map_err(js_error)?;
        let config = TrainConfig::from_json(config_json).map_err(js_error)?;
        let (train, val) = data.inner.split(held_out, config.seed).map_err(js_error)?;
        let trainer = Trainer::new(Cpu, spec, config, &train, &val).map_err(js_error)?;
        Ok(Training { inner: Rc::new(RefCell::new(trainer)), backend: Cpu.name() })
    }

    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.backend.clone()
    }

    #[wasm_bindgen(getter, js_name = stepsPerEpoch)]
    pub fn steps_per_epoch(&self) -> usize {
        self.inner.borrow().steps_per_epoch()
    }

    pub fn summary(&self) -> Result<JsValue, JsError> {
        to_js(self.inner.borrow().model().summary())
    }

    /// Runs up to `max_steps` steps and resolves to the events they produced.
    pub fn run(&self, max_steps: usize) -> js_sys::Promise {
        let inner = self.inner.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let mut trainer = inner.try_borrow_mut().map_err(|_| JsError::new("training is busy"))?;
            let events = trainer.run(max_steps).await.map_err(js_error)?;
            Ok(to_js(&events)?)
        })
    }

    /// Resolves to the class probabilities of the given samples, row after row.
    pub fn predict(&self, features: Vec<f32>) -> js_sys::Promise {
        let inner = self.inner.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let mut trainer = inner.try_borrow_mut().map_err(|_| JsError::new("training is busy"))?;
            let probs = trainer.predict(&features).await.map_err(js_error)?;
            Ok(js_sys::Float32Array::from(probs.as_slice()).into())
        })
    }
}
