//! The JavaScript API: thin handles over the core, driven from a Web Worker. No maths here.

use crate::backend::cpu::Cpu;
use crate::backend::gpu::Gpu;
use crate::backend::Backend;
use crate::data::sampling::Split;
use crate::data::{mnist, sequence, toy, Dataset};
use crate::error::plain;
use crate::features::Fitted;
use crate::model_file::ModelFile;
use crate::nn::{preset, ModelSpec};
use crate::optim::schedule;
use crate::train::{Checkpoint, Session, TrainConfig, Trainer};
use crate::tune;
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

/// A labelled data set held by the worker, with the test split it ships with, if any (the shapes:
/// their test split has colours the training split does not).
#[wasm_bindgen]
pub struct DataSet {
    inner: Dataset,
    test: Option<Dataset>,
    /// What loading left out, and why (a table's empty columns).
    notes: Vec<String>,
}

impl DataSet {
    fn of(inner: Dataset) -> DataSet {
        DataSet {
            inner,
            test: None,
            notes: Vec::new(),
        }
    }

    /// Another data set with the same test split.
    fn with(&self, inner: Dataset) -> DataSet {
        DataSet {
            inner,
            test: self.test.clone(),
            notes: Vec::new(),
        }
    }

    /// The training and held-out samples of a run's split (see [`Split`]).
    fn splits(&self, samples: usize, held_out: usize, seed: u64) -> Result<(Dataset, Dataset), Error> {
        Split::new(samples, held_out, seed).of(&self.inner, self.test.as_ref())
    }
}

#[wasm_bindgen]
impl DataSet {
    /// The built-in digits, from the bytes of `assets/mnist-10k.bin`.
    #[wasm_bindgen(js_name = fromDigitsAsset)]
    pub fn from_digits_asset(bytes: &[u8]) -> Result<DataSet, JsError> {
        Ok(DataSet::of(mnist::decode(bytes).map_err(js_error)?))
    }

    /// A data set from arrays: `features` holds one sample of `sample_shape` after another, `labels`
    /// one class index per sample into `classes`. Inconsistent arrays are refused with a message.
    #[wasm_bindgen(js_name = fromArrays)]
    pub fn from_arrays(
        features: Vec<f32>,
        labels: Vec<u32>,
        sample_shape: Vec<u32>,
        classes: Vec<String>,
    ) -> Result<DataSet, JsError> {
        let shape = sample_shape.into_iter().map(|d| d as usize).collect();
        Ok(DataSet::of(
            Dataset::new(shape, features, labels, classes).map_err(js_error)?,
        ))
    }

    /// The features of held-out samples `indices` of the split a run with these settings makes
    /// (the first `samples` samples, `held_out` of them held out by `seed`), one after another.
    #[wasm_bindgen(js_name = heldOutFeatures)]
    pub fn held_out_features(
        &self,
        samples: usize,
        held_out: usize,
        seed: u32,
        indices: Vec<u32>,
    ) -> Result<Vec<f32>, JsError> {
        let (_, val) = self.splits(samples, held_out, seed as u64).map_err(js_error)?;
        let width = val.sample_width();
        indices
            .iter()
            .map(|&i| {
                val.features
                    .get(i as usize * width..(i as usize + 1) * width)
                    .ok_or_else(|| JsError::new(&format!("there is no held-out sample {i}")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|rows| rows.concat())
    }

    /// The samples of the classes `keep` (indices), relabelled in that order.
    #[wasm_bindgen(js_name = onlyClasses)]
    pub fn only_classes(&self, keep: Vec<u32>) -> Result<DataSet, JsError> {
        let keep: Vec<usize> = keep.into_iter().map(|k| k as usize).collect();
        Ok(DataSet::of(self.inner.only_classes(&keep).map_err(js_error)?))
    }

    /// The built-in coloured shapes: `train` training images, a class's own colour with probability
    /// `bias`, and `test` test images in random colours, which every run is evaluated on.
    pub fn shapes(train: usize, test: usize, bias: f32, seed: u32) -> Result<DataSet, JsError> {
        let (train, test) = crate::data::shapes::generate(train, test, bias, seed as u64).map_err(js_error)?;
        Ok(DataSet {
            inner: train,
            test: Some(test),
            notes: Vec::new(),
        })
    }

    /// Samples in the set's own test split (0 when a run's held-out split is cut from the data).
    #[wasm_bindgen(getter, js_name = testLength)]
    pub fn test_length(&self) -> usize {
        self.test.as_ref().map_or(0, Dataset::len)
    }

    /// `count` draws of the augmentation `pipeline_json` on sample `index`, one image after another:
    /// the live preview of a pipeline.
    #[wasm_bindgen(js_name = augmentPreview)]
    pub fn augment_preview(
        &self,
        index: usize,
        pipeline_json: &str,
        count: usize,
        seed: u32,
    ) -> Result<Vec<f32>, JsError> {
        let pipeline: Vec<crate::augment::Augmentation> = serde_json::from_str(pipeline_json)
            .map_err(|e| JsError::new(&format!("the augmentation settings are not valid: {}", plain(&e))))?;
        crate::augment::validate(&pipeline).map_err(js_error)?;
        let shape = &self.inner.sample_shape;
        if shape.len() != 3 {
            return Err(JsError::new(&format!(
                "augmentation works on images [channels, height, width], not samples of {shape:?}"
            )));
        }
        let width = self.inner.sample_width();
        let image = self
            .inner
            .features
            .get(index * width..(index + 1) * width)
            .ok_or_else(|| JsError::new(&format!("there is no sample {index}")))?;
        let batch: Vec<f32> = (0..count).flat_map(|_| image.iter().copied()).collect();
        let mut dims = vec![count];
        dims.extend(shape);
        let params = crate::augment::draw(
            &pipeline,
            count,
            shape[1],
            shape[2],
            &mut crate::rng::Rng::new(seed as u64),
        );
        let out = Cpu.augment(
            &Cpu.upload(&batch, &dims),
            &Cpu.upload(&params, &[count, crate::augment::AUGMENT_PARAMS]),
            seed,
        );
        Ok(crate::backend::ready(Cpu.read(&out)).expect("the CPU is never lost"))
    }

    /// The quality report (`data::quality::Report`) of the first `samples` samples, plus `leakage`:
    /// the pairs of identical samples across the training and held-out splits a run with these
    /// settings makes.
    #[wasm_bindgen(js_name = qualityReport)]
    pub fn quality_report(&self, samples: usize, held_out: usize, seed: u32) -> Result<JsValue, JsError> {
        use crate::data::quality;
        let samples = samples.min(self.inner.len());
        let report = quality::report(&self.inner.head(samples).map_err(js_error)?);
        let (train, val) = self.splits(samples, held_out, seed as u64).map_err(js_error)?;
        #[derive(serde::Serialize)]
        struct WithLeakage {
            #[serde(flatten)]
            report: quality::Report,
            leakage: Vec<(usize, usize)>,
        }
        // Flattening serialises as a map: as a plain object, not a JavaScript Map.
        to_plain_js(&WithLeakage {
            report,
            leakage: quality::leakage(&train, &val),
        })
    }

    /// The data with exact duplicates dropped (the first of each kept), and with `conflicts` every
    /// duplicate whose labels disagree too. A set's own test split is kept as it is.
    #[wasm_bindgen(js_name = withoutDuplicates)]
    pub fn without_duplicates(&self, conflicts: bool) -> DataSet {
        self.with(crate::data::quality::without_duplicates(&self.inner, conflicts))
    }

    /// The data without the samples `indices` (rows with missing values, outliers, suspects).
    #[wasm_bindgen(js_name = withoutSamples)]
    pub fn without_samples(&self, indices: Vec<u32>) -> DataSet {
        self.with(
            self.inner
                .without(&indices.into_iter().map(|i| i as usize).collect::<Vec<_>>()),
        )
    }

    /// A table without the columns `indices` (constant or nearly constant ones).
    #[wasm_bindgen(js_name = withoutColumns)]
    pub fn without_columns(&self, indices: Vec<u32>) -> Result<DataSet, JsError> {
        let drop: Vec<usize> = indices.into_iter().map(|i| i as usize).collect();
        Ok(self.with(self.inner.without_columns(&drop).map_err(js_error)?))
    }

    /// The data with the samples `indices` given the labels `labels` (suspected label noise fixed).
    pub fn relabeled(&self, indices: Vec<u32>, labels: Vec<u32>) -> Result<DataSet, JsError> {
        let indices: Vec<usize> = indices.into_iter().map(|i| i as usize).collect();
        Ok(self.with(crate::data::quality::relabeled(&self.inner, &indices, &labels).map_err(js_error)?))
    }

    /// A table from CSV text: one sample per row, the label in the column `label` (by default
    /// the one headed label/class/target/y, else the last). Columns with no value at all are left
    /// out, and `notes` says so.
    #[wasm_bindgen(js_name = fromTableCsv)]
    pub fn from_table_csv(text: &str, label: Option<String>) -> Result<DataSet, JsError> {
        let loaded = crate::data::tabular::from_csv(text, label.as_deref()).map_err(js_error)?;
        Ok(DataSet {
            inner: loaded.data,
            test: None,
            notes: loaded.notes,
        })
    }

    /// Images from 8-bit pixels `[n, c, h, w]` (values 0–255), one label per image.
    #[wasm_bindgen(js_name = fromPixels)]
    pub fn from_pixels(
        pixels: &[u8],
        labels: Vec<u32>,
        sample_shape: Vec<u32>,
        classes: Vec<String>,
    ) -> Result<DataSet, JsError> {
        let shape: Vec<usize> = sample_shape.into_iter().map(|d| d as usize).collect();
        let features = pixels.iter().map(|&p| p as f32 / 255.0).collect();
        Ok(DataSet::of(
            Dataset::new(shape, features, labels, classes).map_err(js_error)?,
        ))
    }

    /// The built-in drift scenario over the held-out split a run with these settings makes: `n`
    /// of its images, the first third as they are, then turned further and further, up to
    /// `max_degrees` (`monitor::rotating_stream`).
    #[wasm_bindgen(js_name = rotatingStream)]
    pub fn rotating_stream(
        &self,
        samples: usize,
        held_out: usize,
        seed: u32,
        n: usize,
        max_degrees: f32,
    ) -> Result<DataSet, JsError> {
        let (_, val) = self.splits(samples, held_out, seed as u64).map_err(js_error)?;
        Ok(DataSet::of(
            crate::monitor::rotating_stream(&val, n, max_degrees, seed as u64).map_err(js_error)?,
        ))
    }

    /// The drift (`monitor::Drift`) of `features` (samples one after another) against the training
    /// split a run with these settings makes.
    pub fn drift(&self, samples: usize, held_out: usize, seed: u32, features: Vec<f32>) -> Result<JsValue, JsError> {
        let (train, _) = self.splits(samples, held_out, seed as u64).map_err(js_error)?;
        let current = self.unlabelled(features)?;
        to_js(&crate::monitor::drift(&train, &current).map_err(js_error)?)
    }

    /// The data a retrained model learns from: the feedback (`features`, `labels`) and `replay`
    /// samples of the training split a run with these settings makes.
    #[wasm_bindgen(js_name = withReplay)]
    pub fn with_replay(
        &self,
        features: Vec<f32>,
        labels: Vec<u32>,
        replay: usize,
        samples: usize,
        held_out: usize,
        seed: u32,
    ) -> Result<DataSet, JsError> {
        let (train, _) = self.splits(samples, held_out, seed as u64).map_err(js_error)?;
        let mut feedback = self.unlabelled(features)?;
        if labels.len() != feedback.len() {
            return Err(JsError::new(&format!(
                "{} labels for {} feedback samples",
                labels.len(),
                feedback.len()
            )));
        }
        if let Some(bad) = labels.iter().find(|&&l| l as usize >= train.classes.len()) {
            return Err(JsError::new(&format!(
                "feedback label {bad} is not one of the model's {} classes",
                train.classes.len()
            )));
        }
        feedback.labels = labels;
        Ok(DataSet::of(
            crate::monitor::with_replay(&feedback, &train, replay, seed as u64).map_err(js_error)?,
        ))
    }

    /// The held-out split a run with these settings makes, as a data set of its own.
    #[wasm_bindgen(js_name = heldOutSet)]
    pub fn held_out_set(&self, samples: usize, held_out: usize, seed: u32) -> Result<DataSet, JsError> {
        Ok(DataSet::of(
            self.splits(samples, held_out, seed as u64).map_err(js_error)?.1,
        ))
    }

    /// Samples `start..start + count` (as many as there are) as a data set of their own.
    pub fn slice(&self, start: usize, count: usize) -> Result<DataSet, JsError> {
        let end = (start + count).min(self.inner.len());
        if start >= end {
            return Err(JsError::new(&format!(
                "there are no samples {start} to {} in {}",
                start + count,
                self.inner.len()
            )));
        }
        Ok(self.with(self.inner.subset(&(start..end).collect::<Vec<_>>())))
    }

    /// Samples shaped like this data's, labelled 0 (for what only needs their values).
    fn unlabelled(&self, features: Vec<f32>) -> Result<Dataset, JsError> {
        let width = self.inner.sample_width();
        if features.is_empty() || !features.len().is_multiple_of(width) {
            return Err(JsError::new(&format!(
                "{} values are not a whole number of samples of shape {:?}",
                features.len(),
                self.inner.sample_shape
            )));
        }
        let n = features.len() / width;
        Ok(Dataset {
            sample_shape: self.inner.sample_shape.clone(),
            features,
            labels: vec![0; n],
            classes: self.inner.classes.clone(),
            columns: self.inner.columns.clone(),
        })
    }

    #[wasm_bindgen(getter)]
    pub fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }

    /// A table's columns, `[{name, categories}]` (no categories: numeric); empty for other data.
    #[wasm_bindgen(getter)]
    pub fn columns(&self) -> Result<JsValue, JsError> {
        to_js(&self.inner.columns)
    }

    /// `{shape, names}`: the sample shape the feature settings `features_json` give this data, and
    /// a table's feature names after them; or why the settings do not fit the data.
    #[wasm_bindgen(js_name = transformed)]
    pub fn transformed(&self, features_json: &str) -> Result<JsValue, JsError> {
        let mut spec: crate::features::FeatureSpec = serde_json::from_str(features_json)
            .map_err(|e| JsError::new(&format!("the feature settings are not valid: {}", plain(&e))))?;
        // The shape does not depend on the statistics: skip the pass over the images.
        spec.normalize = false;
        let fitted = Fitted::fit(&spec, &self.inner).map_err(js_error)?;
        #[derive(serde::Serialize)]
        struct Transformed {
            shape: Vec<usize>,
            names: Vec<String>,
        }
        let names = if self.inner.columns.is_empty() {
            Vec::new()
        } else {
            fitted.output_names()
        };
        to_js(&Transformed {
            shape: fitted.output_shape(),
            names,
        })
    }

    /// One of the 2-D toy sets: circle, xor, gaussians, spiral.
    pub fn toy(kind: &str, n: usize, noise: f32, seed: u32) -> Result<DataSet, JsError> {
        Ok(DataSet::of(
            toy::generate(kind, n, noise, seed as u64).map_err(js_error)?,
        ))
    }

    /// The built-in noisy waveforms (sine, square, triangle, sawtooth) of `steps` values each.
    pub fn waves(n: usize, steps: usize, noise: f32, seed: u32) -> Result<DataSet, JsError> {
        Ok(DataSet::of(
            sequence::waves(n, steps, noise, seed as u64).map_err(js_error)?,
        ))
    }

    /// Sequences from CSV text, one per row, `features` values per step; a message names the line
    /// of a ragged row or a value that is not a number.
    #[wasm_bindgen(js_name = fromSequenceCsv)]
    pub fn from_sequence_csv(text: &str, features: usize) -> Result<DataSet, JsError> {
        Ok(DataSet::of(sequence::from_csv(text, features).map_err(js_error)?))
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

/// The browser's WebGPU device, opened once by the worker.
#[wasm_bindgen]
pub struct GpuDevice {
    inner: Gpu,
}

#[wasm_bindgen]
impl GpuDevice {
    /// Resolves to the device, or rejects with why there is none (no WebGPU, no adapter).
    pub async fn open() -> Result<GpuDevice, JsError> {
        Ok(GpuDevice {
            inner: Gpu::new().await.map_err(js_error)?,
        })
    }

    #[wasm_bindgen(getter)]
    pub fn adapter(&self) -> String {
        self.inner.adapter().to_string()
    }

    /// True for a software adapter (SwiftShader, lavapipe): usually slower than the CPU backend.
    #[wasm_bindgen(getter)]
    pub fn software(&self) -> bool {
        self.inner.is_software()
    }

    #[wasm_bindgen(getter)]
    pub fn lost(&self) -> bool {
        self.inner.is_lost()
    }

    /// Releases the device at once; a run on it then continues on the CPU.
    pub fn destroy(&self) {
        self.inner.destroy();
    }
}

/// A training session and the held-out probabilities of its current weights, shared by the report
/// and the gallery (cleared whenever the weights change).
struct Run {
    session: Session,
    probabilities: Option<Vec<f32>>,
}

impl Run {
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
        {
            let mut run = training.inner.borrow_mut();
            if file.classes != run.session.train().classes {
                return Err(JsError::new(&format!(
                    "the model was trained for the classes {:?}, but this data has {:?}",
                    file.classes,
                    run.session.train().classes
                )));
            }
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
            let file = run.session.model_file(history_csv).await.map_err(js_error)?;
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
            let file = run.session.model_file(None).await.map_err(js_error)?;
            let bytes = crate::onnx::export(&file.spec, &file.tensors, file.features.as_ref()).map_err(js_error)?;
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
}

/// The loss and accuracy of a model file on every sample of `data` (on the CPU).
#[wasm_bindgen(js_name = scoreModel)]
pub fn score_model(bytes: &[u8], data: &DataSet) -> Result<JsValue, JsError> {
    let file = ModelFile::from_bytes(bytes).map_err(js_error)?;
    if file.classes != data.inner.classes {
        return Err(JsError::new(&format!(
            "the model was trained for the classes {:?}, but this data has {:?}",
            file.classes, data.inner.classes
        )));
    }
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
fn to_plain_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&e.to_string()))
}

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
