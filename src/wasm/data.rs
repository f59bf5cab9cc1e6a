//! A data set held by the worker.

use super::{js_error, to_js, to_plain_js};
use crate::backend::cpu::Cpu;
use crate::backend::Backend;
use crate::data::sampling::Split;
use crate::data::text::{self, Vocabulary};
use crate::data::{mnist, sequence, toy, Dataset};
use crate::error::plain;
use crate::features::Fitted;
use crate::Error;
use wasm_bindgen::prelude::*;

/// A labelled data set held by the worker, with the test split it ships with, if any (the shapes:
/// their test split has colours the training split does not).
#[wasm_bindgen]
pub struct DataSet {
    pub(super) inner: Dataset,
    test: Option<Dataset>,
    /// What loading left out, and why (a table's empty columns).
    notes: Vec<String>,
    /// A text data set's vocabulary: its samples are token ids.
    vocabulary: Option<Vocabulary>,
    /// How many of a text data set's training texts are longer than the vocabulary's length
    /// (unknown once a fix has dropped some).
    cut: Option<usize>,
}

impl DataSet {
    fn of(inner: Dataset) -> DataSet {
        DataSet {
            inner,
            test: None,
            notes: Vec::new(),
            vocabulary: None,
            cut: Some(0),
        }
    }

    /// Another data set with the same test split (the count of cut texts kept while the samples
    /// are the same ones, relabelled).
    fn with(&self, inner: Dataset) -> DataSet {
        DataSet {
            cut: self.cut.filter(|_| inner.len() == self.inner.len()),
            inner,
            test: self.test.clone(),
            notes: Vec::new(),
            vocabulary: self.vocabulary.clone(),
        }
    }

    /// A text data set's vocabulary.
    pub(super) fn text_vocabulary(&self) -> Option<&Vocabulary> {
        self.vocabulary.as_ref()
    }

    /// Whether the model of `file` reads this data: its classes, and for text its vocabulary.
    pub(super) fn check_model(&self, file: &crate::model_file::ModelFile) -> Result<(), JsError> {
        self.check_vocabulary(file)?;
        self.check_classes(file)
    }

    /// Whether the model of `file` was trained for this data's classes.
    pub(super) fn check_classes(&self, file: &crate::model_file::ModelFile) -> Result<(), JsError> {
        if file.classes != self.inner.classes {
            return Err(JsError::new(&format!(
                "the model was trained for the classes {:?}, but this data has {:?}",
                file.classes, self.inner.classes
            )));
        }
        Ok(())
    }

    /// Whether a text model of `file` reads this data's token ids. A file without a vocabulary (a
    /// model of other data, or one saved before files held them) is judged by its input shape when
    /// it is used.
    pub(super) fn check_vocabulary(&self, file: &crate::model_file::ModelFile) -> Result<(), JsError> {
        match (&file.vocabulary, &self.vocabulary) {
            (Some(_), None) => Err(JsError::new("the model reads texts, and this data is not text")),
            (Some(theirs), Some(ours)) if theirs != ours => Err(JsError::new(
                "the model reads texts by another vocabulary than this data's: its token ids would mean other tokens",
            )),
            _ => Ok(()),
        }
    }

    /// The values of sample `index`.
    fn sample(&self, index: usize) -> Result<&[f32], JsError> {
        let width = self.inner.sample_width();
        self.inner
            .features
            .get(index * width..(index + 1) * width)
            .ok_or_else(|| JsError::new(&format!("there is no sample {index}")))
    }

    /// The training and held-out samples of a run's split (see [`Split`]).
    pub(super) fn splits(&self, samples: usize, held_out: usize, seed: u64) -> Result<(Dataset, Dataset), Error> {
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

    /// The built-in word-language set, from the text of `assets/words.tsv`: each word as its
    /// characters' ids (12 at most, padded with 0), the vocabulary every character of the list;
    /// the list is lower-case, and so is a typed word before it is read.
    #[wasm_bindgen(js_name = fromWordsAsset)]
    pub fn from_words_asset(tsv: &str) -> Result<DataSet, JsError> {
        let words = text::words(tsv).map_err(js_error)?;
        let vocabulary = text::words_vocabulary(&words);
        let inner = text::encoded(&words.texts, &words.labels, &words.classes, &vocabulary).map_err(js_error)?;
        Ok(DataSet {
            vocabulary: Some(vocabulary),
            ..DataSet::of(inner)
        })
    }

    /// The user's texts from a CSV, read by `options_json` (`data::text::CsvOptions`): the
    /// training texts as token ids by a vocabulary fitted on them alone, each label's fifth held
    /// out as the set's own test split.
    #[wasm_bindgen(js_name = fromTextCsv)]
    pub fn from_text_csv(csv: &str, options_json: &str) -> Result<DataSet, JsError> {
        let options: text::CsvOptions = serde_json::from_str(options_json)
            .map_err(|e| JsError::new(&format!("the text settings are not valid: {}", plain(&e))))?;
        let up = text::from_csv(csv, &options).map_err(js_error)?;
        let encode = |t: &text::Texts| text::encoded(&t.texts, &t.labels, &t.classes, &up.vocabulary);
        Ok(DataSet {
            inner: encode(&up.train).map_err(js_error)?,
            test: Some(encode(&up.test).map_err(js_error)?),
            notes: up.notes,
            cut: Some(up.cut),
            vocabulary: Some(up.vocabulary),
        })
    }

    /// A text data set's vocabulary, `{level, size, maxLen, tokens, cut}` (`cut`: how many training
    /// texts are longer than `maxLen`, `null` once a fix has dropped texts), or `undefined`.
    #[wasm_bindgen(getter)]
    pub fn vocabulary(&self) -> Result<JsValue, JsError> {
        let Some(v) = &self.vocabulary else {
            return Ok(JsValue::UNDEFINED);
        };
        to_plain_js(&serde_json::json!({
            "level": v.level, "size": v.size(), "maxLen": v.max_len, "tokens": v.tokens, "cut": self.cut
        }))
    }

    /// `text` as the token ids a model of this text data set reads (`ids`), the tokens read
    /// (`tokens`), and whether it was cut (`cut`).
    #[wasm_bindgen(js_name = encodeText)]
    pub fn encode_text(&self, text: &str) -> Result<JsValue, JsError> {
        let v = self
            .vocabulary
            .as_ref()
            .ok_or_else(|| JsError::new("this data set is not text"))?;
        let (ids, cut) = v.encode(text);
        let mut tokens = v.tokens_of(text);
        tokens.truncate(v.max_len);
        to_plain_js(&serde_json::json!({"ids": ids, "cut": cut, "tokens": tokens}))
    }

    /// Token ids (one sample's) as text.
    #[wasm_bindgen(js_name = decodeText)]
    pub fn decode_text(&self, ids: &[f32]) -> Result<String, JsError> {
        let v = self
            .vocabulary
            .as_ref()
            .ok_or_else(|| JsError::new("this data set is not text"))?;
        Ok(v.decode(ids))
    }

    /// Samples `start` to `start + count` as text.
    #[wasm_bindgen(js_name = texts)]
    pub fn texts(&self, start: usize, count: usize) -> Result<Vec<String>, JsError> {
        let v = self
            .vocabulary
            .as_ref()
            .ok_or_else(|| JsError::new("this data set is not text"))?;
        let width = v.max_len;
        let end = (start + count).min(self.inner.len());
        Ok((start..end)
            .map(|i| v.decode(&self.inner.features[i * width..(i + 1) * width]))
            .collect())
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
            test: Some(test),
            ..DataSet::of(train)
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
        let pipeline = pipeline(pipeline_json)?;
        let shape = &self.inner.sample_shape;
        if shape.len() != 3 {
            return Err(JsError::new(&format!(
                "augmentation works on images [channels, height, width], not samples of {shape:?}"
            )));
        }
        let image = self.sample(index)?;
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

    /// `count` draws of the augmentation `pipeline_json` on text sample `index`, as texts: the live
    /// preview of a pipeline for text.
    #[wasm_bindgen(js_name = textAugmentPreview)]
    pub fn text_augment_preview(
        &self,
        index: usize,
        pipeline_json: &str,
        count: usize,
        seed: u32,
    ) -> Result<Vec<String>, JsError> {
        let pipeline = pipeline(pipeline_json)?;
        let v = self
            .vocabulary
            .as_ref()
            .ok_or_else(|| JsError::new("token augmentation works on texts, and this data set is not text"))?;
        let width = v.max_len;
        let ids = self.sample(index)?;
        let mut batch: Vec<f32> = (0..count).flat_map(|_| ids.iter().copied()).collect();
        crate::augment::text(
            &pipeline,
            &mut batch,
            width,
            v.size(),
            &mut crate::rng::Rng::new(seed as u64),
        );
        Ok(batch.chunks(width).map(|t| v.decode(t)).collect())
    }

    /// The quality report (`data::quality::Report`) of the first `samples` samples, plus `leakage`:
    /// the pairs of identical samples across the training and held-out splits a run with these
    /// settings makes.
    #[wasm_bindgen(js_name = qualityReport)]
    pub fn quality_report(&self, samples: usize, held_out: usize, seed: u32) -> Result<JsValue, JsError> {
        use crate::data::quality;
        let samples = samples.min(self.inner.len());
        let head = self.inner.head(samples).map_err(js_error)?;
        let report = match &self.vocabulary {
            Some(v) => quality::text_report(&head, v),
            None => quality::report(&head),
        };
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
            notes: loaded.notes,
            ..DataSet::of(loaded.data)
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

/// An augmentation pipeline from the page's JSON, checked.
fn pipeline(json: &str) -> Result<Vec<crate::augment::Augmentation>, JsError> {
    let pipeline: Vec<crate::augment::Augmentation> = serde_json::from_str(json)
        .map_err(|e| JsError::new(&format!("the augmentation settings are not valid: {}", plain(&e))))?;
    crate::augment::validate(&pipeline).map_err(js_error)?;
    Ok(pipeline)
}
