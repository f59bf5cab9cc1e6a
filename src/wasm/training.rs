//! A training run.

use super::{js_error, to_js, DataSet, GpuDevice};
use crate::backend::gpu::Gpu;
use crate::data::text::Vocabulary;
use crate::features::Fitted;
use crate::model_file::ModelFile;
use crate::nn::ModelSpec;
use crate::train::{Checkpoint, Session, TrainConfig};
use crate::Error;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// A training session and the held-out probabilities of its current weights, shared by the report
/// and the gallery (cleared whenever the weights change).
struct Run {
    session: Session,
    probabilities: Option<Vec<f32>>,
    /// The vocabulary of the text data the run reads, saved with the model.
    vocabulary: Option<Vocabulary>,
}

impl Run {
    /// The model as a file, with the data's vocabulary when the model reads it (its embedding
    /// holds the vocabulary's ids and its input is the vocabulary's length).
    async fn model_file(&mut self, history: Option<String>) -> Result<ModelFile, Error> {
        let mut file = self.session.model_file(history).await?;
        file.vocabulary = self
            .vocabulary
            .clone()
            .filter(|v| file.spec.vocabulary() == Some(v.size()) && file.spec.input == [v.max_len]);
        Ok(file)
    }

    async fn validation_probabilities(&mut self) -> Result<Vec<f32>, Error> {
        if self.probabilities.is_none() {
            self.probabilities = Some(self.session.validation_probabilities().await?);
        }
        Ok(self.probabilities.clone().expect("just computed"))
    }
}

/// A training run on a held-out split of a data set, on the GPU when a device is given. `run` and
/// `predict` return promises: on the GPU they wait for the device. When the device is lost, the
/// run carries on on the CPU from the last completed epoch and `run` says so with a
/// `backend_changed` event.
#[wasm_bindgen]
pub struct Training {
    inner: Rc<RefCell<Run>>,
}

#[wasm_bindgen]
impl Training {
    /// A run on the CPU over the first `samples` samples of `data`, `held_out` of them for validation.
    #[wasm_bindgen(constructor)]
    pub fn new(
        spec_json: &str,
        config_json: &str,
        data: &DataSet,
        samples: usize,
        held_out: usize,
    ) -> Result<Training, JsError> {
        Self::start(spec_json, config_json, data, samples, held_out, None)
    }

    /// The same on the GPU device.
    #[wasm_bindgen(js_name = onGpu)]
    pub fn on_gpu(
        spec_json: &str,
        config_json: &str,
        data: &DataSet,
        samples: usize,
        held_out: usize,
        gpu: &GpuDevice,
    ) -> Result<Training, JsError> {
        Self::start(spec_json, config_json, data, samples, held_out, Some(gpu.inner.clone()))
    }

    fn start(
        spec_json: &str,
        config_json: &str,
        data: &DataSet,
        samples: usize,
        held_out: usize,
        gpu: Option<Gpu>,
    ) -> Result<Training, JsError> {
        let spec = ModelSpec::from_json(spec_json).map_err(js_error)?;
        Self::build(spec, config_json, data, samples, held_out, gpu, None)
    }

    /// A run that starts from a model file: its spec, its fitted feature transform and its weights,
    /// on the CPU. A file for other classes, or a damaged one, is refused with the reason.
    #[wasm_bindgen(js_name = fromFile)]
    pub fn from_file(
        bytes: &[u8],
        config_json: &str,
        data: &DataSet,
        samples: usize,
        held_out: usize,
    ) -> Result<Training, JsError> {
        Self::open(bytes, config_json, data, samples, held_out, None)
    }

    /// The same on the GPU device.
    #[wasm_bindgen(js_name = fromFileOnGpu)]
    pub fn from_file_on_gpu(
        bytes: &[u8],
        config_json: &str,
        data: &DataSet,
        samples: usize,
        held_out: usize,
        gpu: &GpuDevice,
    ) -> Result<Training, JsError> {
        Self::open(bytes, config_json, data, samples, held_out, Some(gpu.inner.clone()))
    }

    fn open(
        bytes: &[u8],
        config_json: &str,
        data: &DataSet,
        samples: usize,
        held_out: usize,
        gpu: Option<Gpu>,
    ) -> Result<Training, JsError> {
        let file = ModelFile::from_bytes(bytes).map_err(js_error)?;
        // The vocabulary first: another one explains any difference of shape that follows.
        data.check_vocabulary(&file)?;
        let features = file
            .features
            .clone()
            .unwrap_or_else(|| Fitted::none(&data.inner.sample_shape));
        let training = Self::build(
            file.spec.clone(),
            config_json,
            data,
            samples,
            held_out,
            gpu,
            Some(features),
        )?;
        data.check_classes(&file)?;
        {
            let mut run = training.inner.borrow_mut();
            run.session.load_file_weights(&file).map_err(js_error)?;
        }
        Ok(training)
    }

    /// A run of `spec` with the feature transform `features` (fitted before), or one fitted on
    /// this run's training split.
    fn build(
        spec: ModelSpec,
        config_json: &str,
        data: &DataSet,
        samples: usize,
        held_out: usize,
        gpu: Option<Gpu>,
        features: Option<Fitted>,
    ) -> Result<Training, JsError> {
        let config = TrainConfig::from_json(config_json).map_err(js_error)?;
        let (train, val) = data.splits(samples, held_out, config.seed).map_err(js_error)?;
        let features = match features {
            Some(f) => f,
            None => Fitted::fit(&config.features, &train).map_err(js_error)?,
        };
        let session = Session::new(spec, config, train, val, features, gpu).map_err(js_error)?;
        Ok(Training {
            inner: Rc::new(RefCell::new(Run {
                session,
                probabilities: None,
                vocabulary: data.text_vocabulary().cloned(),
            })),
        })
    }

    /// "CPU", or "GPU (adapter name)".
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.inner.borrow().session.backend()
    }

    #[wasm_bindgen(getter, js_name = stepsPerEpoch)]
    pub fn steps_per_epoch(&self) -> usize {
        self.inner.borrow().session.steps_per_epoch()
    }

    pub fn summary(&self) -> Result<JsValue, JsError> {
        to_js(&self.inner.borrow().session.spec().summary().map_err(js_error)?)
    }

    /// Runs up to `max_steps` steps and resolves to the events they produced.
    #[expect(
        clippy::await_holding_refcell_ref,
        reason = "the borrow is what marks the run busy: a second call while it is held fails"
    )]
    pub fn run(&self, max_steps: usize) -> js_sys::Promise {
        let inner = self.inner.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let mut run = inner.try_borrow_mut().map_err(|_| JsError::new("training is busy"))?;
            run.probabilities = None;
            Ok(to_js(&run.session.run(max_steps).await.map_err(js_error)?)?)
        })
    }

    /// The epoch [`Training::checkpoint`] holds (0 before the first one ends).
    #[wasm_bindgen(getter, js_name = checkpointEpoch)]
    pub fn checkpoint_epoch(&self) -> usize {
        self.inner
            .try_borrow()
            .ok()
            .and_then(|run| run.session.checkpoint().map(|c| c.snapshot.epoch))
            .unwrap_or(0)
    }

    /// The run as of its last completed epoch (a [`Checkpoint`]'s bytes), or undefined before the
    /// first one ends.
    pub fn checkpoint(&self) -> Result<Option<js_sys::Uint8Array>, JsError> {
        let run = self.inner.try_borrow().map_err(|_| JsError::new("training is busy"))?;
        Ok(run
            .session
            .checkpoint()
            .map(|c| js_sys::Uint8Array::from(c.to_bytes().as_slice())))
    }

    /// Goes on from a checkpoint of this same run (settings, data and split), as if it had never
    /// stopped; one that does not fit is refused with the reason.
    pub fn resume(&self, bytes: &[u8]) -> Result<(), JsError> {
        let checkpoint = Checkpoint::from_bytes(bytes).map_err(js_error)?;
        let mut run = self
            .inner
            .try_borrow_mut()
            .map_err(|_| JsError::new("training is busy"))?;
        run.probabilities = None;
        run.session.resume(checkpoint).map_err(js_error)
    }

    /// Makes this run shard `index` of `count` copies of it, in as many workers, that train it
    /// together, each on a share of every batch (CPU runs, no batch norm; see `train::Shard`). In
    /// each step `exchange` is called with a `Float32Array` of this shard's gradients, loss sum and
    /// correct count, and must leave there the sums over all shards, added in shard order; when it
    /// throws, the step fails with its message. Returns the array's length.
    pub fn shard(&self, index: usize, count: usize, exchange: js_sys::Function) -> Result<usize, JsError> {
        let call = move |flat: &mut [f32]| {
            // SAFETY: the view lives for this call only, while `flat` is borrowed; nothing in it
            // allocates in this module's memory, so the memory cannot grow and detach the view.
            let view = unsafe { js_sys::Float32Array::view_mut_raw(flat.as_mut_ptr(), flat.len()) };
            exchange.call1(&JsValue::NULL, &view).map(|_| ()).map_err(|e| {
                js_sys::Error::from(e)
                    .message()
                    .as_string()
                    .unwrap_or_else(|| "another thread of the run failed".into())
            })
        };
        let mut run = self
            .inner
            .try_borrow_mut()
            .map_err(|_| JsError::new("training is busy"))?;
        run.session.shard(index, count, Box::new(call)).map_err(js_error)
    }

    /// Resolves to the model as a `.safetensors` file: its weights now, its spec and the data's class
    /// names, and `history_csv` when given.
    #[expect(
        clippy::await_holding_refcell_ref,
        reason = "as in run: the borrow marks the run busy"
    )]
    pub fn save(&self, history_csv: Option<String>) -> js_sys::Promise {
        let inner = self.inner.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let mut run = inner.try_borrow_mut().map_err(|_| JsError::new("training is busy"))?;
            let file = run.model_file(history_csv).await.map_err(js_error)?;
            Ok(js_sys::Uint8Array::from(file.to_bytes().map_err(js_error)?.as_slice()).into())
        })
    }

    /// Resolves to the model as an ONNX file (input `input`, the raw data with its feature
    /// transform inside the graph; output `probabilities`).
    #[wasm_bindgen(js_name = exportOnnx)]
    #[expect(
        clippy::await_holding_refcell_ref,
        reason = "as in run: the borrow marks the run busy"
    )]
    pub fn export_onnx(&self) -> js_sys::Promise {
        let inner = self.inner.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let mut run = inner.try_borrow_mut().map_err(|_| JsError::new("training is busy"))?;
            let file = run.model_file(None).await.map_err(js_error)?;
            let bytes = crate::onnx::export(&file.spec, &file.tensors, file.features.as_ref()).map_err(js_error)?;
            Ok(js_sys::Uint8Array::from(bytes.as_slice()).into())
        })
    }

    /// Resolves to the run as a PyTorch project (`.zip`, see `crate::pytorch`) for a run on
    /// `dataset`, its history (CSV) in the model file when given, with the search
    /// (`tune::SearchSpec` as JSON) and the score it ranks trials by when given.
    #[wasm_bindgen(js_name = exportPytorch)]
    #[expect(
        clippy::await_holding_refcell_ref,
        reason = "as in run: the borrow marks the run busy"
    )]
    pub fn export_pytorch(
        &self,
        dataset: String,
        history_csv: Option<String>,
        search_json: Option<String>,
        score: Option<String>,
    ) -> js_sys::Promise {
        let inner = self.inner.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let search = match (search_json, score) {
                (Some(json), Some(score)) => Some(crate::pytorch::Search {
                    spec: serde_json::from_str(&json).map_err(|e| {
                        JsError::new(&format!(
                            "the search settings are not valid: {}",
                            crate::error::plain(&e)
                        ))
                    })?,
                    score,
                }),
                _ => None,
            };
            let mut run = inner.try_borrow_mut().map_err(|_| JsError::new("training is busy"))?;
            let file = run.model_file(history_csv).await.map_err(js_error)?;
            let session = &run.session;
            let bytes = crate::pytorch::project(&crate::pytorch::Experiment {
                dataset: &dataset,
                file: &file,
                config: session.config(),
                train: session.train(),
                val: session.val(),
                search: search.as_ref(),
            })
            .map_err(js_error)?;
            Ok(js_sys::Uint8Array::from(bytes.as_slice()).into())
        })
    }

    /// Starts from a pretrained model file: takes its trunk (every layer but the output one) where
    /// the shapes fit, and returns the layers taken, numbered from 1.
    #[wasm_bindgen(js_name = transferFrom)]
    pub fn transfer_from(&self, bytes: &[u8]) -> Result<Vec<u32>, JsError> {
        let file = ModelFile::from_bytes(bytes).map_err(js_error)?;
        let mut run = self
            .inner
            .try_borrow_mut()
            .map_err(|_| JsError::new("training is busy"))?;
        let taken = run.session.transfer_from(file).map_err(js_error)?;
        run.probabilities = None;
        Ok(taken.into_iter().map(|l| l as u32).collect())
    }

    /// Resolves to `{probs, labels, classes}`: the model's probabilities for the held-out samples
    /// (one row per sample), their labels and the class names: what an ensemble is built from.
    #[wasm_bindgen(js_name = heldOut)]
    #[expect(
        clippy::await_holding_refcell_ref,
        reason = "as in run: the borrow marks the run busy"
    )]
    pub fn held_out(&self) -> js_sys::Promise {
        let inner = self.inner.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let mut run = inner.try_borrow_mut().map_err(|_| JsError::new("training is busy"))?;
            let probs = run.validation_probabilities().await.map_err(js_error)?;
            let result = js_sys::Object::new();
            let set = |key: &str, value: &JsValue| {
                js_sys::Reflect::set(&result, &key.into(), value)
                    .map_err(|_| JsError::new("could not build the result"))
            };
            set("probs", &js_sys::Float32Array::from(probs.as_slice()).into())?;
            set(
                "labels",
                &js_sys::Uint32Array::from(run.session.val().labels.as_slice()).into(),
            )?;
            set("classes", &to_js(&run.session.val().classes)?)?;
            Ok(result.into())
        })
    }

    /// The epochs at which this run's cosine-with-restarts cycles end (empty for other schedules):
    /// where a snapshot ensemble takes its members.
    #[wasm_bindgen(js_name = snapshotEpochs)]
    pub fn snapshot_epochs(&self) -> Vec<u32> {
        let run = self.inner.borrow();
        run.session
            .config()
            .schedule
            .cycle_ends(run.session.config().epochs)
            .into_iter()
            .map(|e| e as u32)
            .collect()
    }

    /// Resolves to the evaluation report (`metrics::Report`) of the model on the held-out split;
    /// a two-class task may give the decision threshold on class 1's probability.
    #[expect(
        clippy::await_holding_refcell_ref,
        reason = "as in run: the borrow marks the run busy"
    )]
    pub fn report(&self, threshold: Option<f64>) -> js_sys::Promise {
        let inner = self.inner.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let mut run = inner.try_borrow_mut().map_err(|_| JsError::new("training is busy"))?;
            let probs = run.validation_probabilities().await.map_err(js_error)?;
            let report = crate::metrics::report(
                &probs,
                &run.session.val().labels,
                run.session.val().classes.len(),
                threshold,
            )
            .map_err(js_error)?;
            Ok(to_js(&report)?)
        })
    }

    /// Resolves to `{examples, features}`: held-out samples of one confusion-matrix cell (true class,
    /// predicted class; both absent: every mistake), most confident first, at most `limit`, and
    /// their features one after another (for the gallery).
    #[expect(
        clippy::await_holding_refcell_ref,
        reason = "as in run: the borrow marks the run busy"
    )]
    pub fn examples(
        &self,
        threshold: Option<f64>,
        true_class: Option<u32>,
        predicted: Option<u32>,
        limit: usize,
    ) -> js_sys::Promise {
        let inner = self.inner.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let mut run = inner.try_borrow_mut().map_err(|_| JsError::new("training is busy"))?;
            let probs = run.validation_probabilities().await.map_err(js_error)?;
            let cell = true_class.zip(predicted);
            let found = crate::metrics::examples(
                &probs,
                &run.session.val().labels,
                run.session.val().classes.len(),
                threshold,
                cell,
                limit,
            )
            .map_err(js_error)?;
            let width = run.session.val().sample_width();
            let features: Vec<f32> = found
                .iter()
                .flat_map(|e| {
                    run.session.val().features[e.index * width..(e.index + 1) * width]
                        .iter()
                        .copied()
                })
                .collect();
            let result = js_sys::Object::new();
            js_sys::Reflect::set(&result, &"examples".into(), &to_js(&found)?)
                .map_err(|_| JsError::new("could not build the result"))?;
            js_sys::Reflect::set(
                &result,
                &"features".into(),
                &js_sys::Float32Array::from(features.as_slice()),
            )
            .map_err(|_| JsError::new("could not build the result"))?;
            Ok(result.into())
        })
    }

    /// Resolves to the loss and accuracy on the held-out split.
    #[expect(
        clippy::await_holding_refcell_ref,
        reason = "as in run: the borrow marks the run busy"
    )]
    pub fn evaluate(&self) -> js_sys::Promise {
        let inner = self.inner.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let mut run = inner.try_borrow_mut().map_err(|_| JsError::new("training is busy"))?;
            Ok(to_js(&run.session.evaluate().await.map_err(js_error)?)?)
        })
    }

    /// Resolves to the class probabilities of the given samples, row after row.
    #[expect(
        clippy::await_holding_refcell_ref,
        reason = "as in run: the borrow marks the run busy"
    )]
    pub fn predict(&self, features: Vec<f32>) -> js_sys::Promise {
        let inner = self.inner.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let mut run = inner.try_borrow_mut().map_err(|_| JsError::new("training is busy"))?;
            let probs = run.session.predict(&features).await.map_err(js_error)?;
            Ok(js_sys::Float32Array::from(probs.as_slice()).into())
        })
    }

    /// Resolves to the attention layers' weights for the samples `predict` last read:
    /// `[{shape: [n, heads, steps, steps], weights}]`, in layer order.
    #[wasm_bindgen(js_name = attentionMaps)]
    #[expect(
        clippy::await_holding_refcell_ref,
        reason = "as in run: the borrow marks the run busy"
    )]
    pub fn attention_maps(&self) -> js_sys::Promise {
        let inner = self.inner.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let mut run = inner.try_borrow_mut().map_err(|_| JsError::new("training is busy"))?;
            let maps = run.session.attention_maps().await.map_err(js_error)?;
            let out = js_sys::Array::new();
            for (shape, weights) in maps {
                let map = js_sys::Object::new();
                let shape: Vec<u32> = shape.into_iter().map(|d| d as u32).collect();
                js_sys::Reflect::set(&map, &"shape".into(), &js_sys::Uint32Array::from(shape.as_slice()))
                    .map_err(|_| JsError::new("could not build the result"))?;
                js_sys::Reflect::set(&map, &"weights".into(), &js_sys::Float32Array::from(weights.as_slice()))
                    .map_err(|_| JsError::new("could not build the result"))?;
                out.push(&map);
            }
            Ok(out.into())
        })
    }
}
