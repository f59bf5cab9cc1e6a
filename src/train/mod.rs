//! The training loop: shuffled mini-batches cut on the device, one optimiser step per batch, loss
//! and accuracy accumulated on the device and read back once per [`Trainer::run`] call.

use crate::augment::{self, Augmentation, AUGMENT_PARAMS};
use crate::backend::{Backend, LossOutput};
use crate::clock::now_ms;
use crate::data::Dataset;
use crate::error::{plain, Error};
use crate::features::{FeatureSpec, Fitted};
use crate::model_file::{ModelFile, NamedTensor};
use crate::nn::{grouped, LayerSpec, Mode, Model, ModelSpec};
use crate::optim::schedule::{warmup_factor, Plateau, Progress, Schedule};
use crate::optim::{Optimizer, OptimizerSpec};
use crate::rng::{fold_seed, Rng};
use serde::{Deserialize, Serialize};

/// The most epochs one run may have.
pub const MAX_EPOCHS: usize = 10_000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub optimizer: OptimizerSpec,
    #[serde(default)]
    pub seed: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_stopping: Option<EarlyStopping>,
    /// L1 and L2 penalties on every weight (not on biases): the loss gains `l1‖w‖₁ + (l2/2)‖w‖²`.
    #[serde(default)]
    pub l1: f32,
    #[serde(default)]
    pub l2: f32,
    /// How the learning rate moves during the run, after `warmup_steps` steps of linear warm-up.
    #[serde(default)]
    pub schedule: Schedule,
    #[serde(default)]
    pub warmup_steps: usize,
    /// Rescale each step's whole gradient so that its global norm is at most this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip_norm: Option<f32>,
    /// Clamp each gradient value to ± this (after any norm clipping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip_value: Option<f32>,
    /// Per-layer L1/L2 penalties, in place of the global ones for those layers' weights.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layer_penalties: Vec<LayerPenalty>,
    /// Layers (numbered from 1, as the model summary numbers them) whose weights do not change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frozen: Vec<usize>,
    /// Image augmentations applied to every training batch (none at evaluation).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub augment: Vec<Augmentation>,
    /// Even out the classes of the training split (never the held-out one) before training.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rebalance: Option<Rebalance>,
    /// Train on a bootstrap resample of the training split (as many samples, drawn with
    /// replacement) made with this seed: a bagging ensemble's member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<u64>,
    /// Feature transforms fitted on the training split (see [`crate::features`]).
    #[serde(default, skip_serializing_if = "is_default")]
    pub features: FeatureSpec,
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// How the training split's classes are evened out: every class resampled to the largest class's
/// size, or to the smallest's; or each sample's gradient weighted by `n / (classes · count)` of its
/// class, so that every class weighs the same in the loss (the loss reported stays unweighted).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rebalance {
    Oversample,
    Undersample,
    ClassWeights,
}

/// L1 and L2 penalties on one layer's weights (the layer numbered from 1, as in the summary).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerPenalty {
    pub layer: usize,
    #[serde(default)]
    pub l1: f32,
    #[serde(default)]
    pub l2: f32,
}

/// Which validation number decides whether an epoch improved (by default the loss).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Monitor {
    #[default]
    ValLoss,
    ValAccuracy,
}

/// Stop when the monitored validation number has not improved by more than `min_delta` for
/// `patience` epochs in a row, and (with `restore_best`) go back to the best epoch's weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyStopping {
    pub patience: usize,
    #[serde(default)]
    pub min_delta: f32,
    #[serde(default)]
    pub monitor: Monitor,
    #[serde(default = "default_restore_best")]
    pub restore_best: bool,
}

impl Monitor {
    /// The monitored number of an evaluation, signed so that lower is better.
    pub fn score(self, val: Evaluation) -> f32 {
        match self {
            Monitor::ValLoss => val.loss,
            Monitor::ValAccuracy => -val.accuracy,
        }
    }
}

fn default_restore_best() -> bool {
    true
}

impl TrainConfig {
    pub fn new(epochs: usize, batch_size: usize, optimizer: OptimizerSpec, seed: u64) -> Self {
        Self {
            epochs,
            batch_size,
            optimizer,
            seed,
            early_stopping: None,
            l1: 0.0,
            l2: 0.0,
            schedule: Schedule::Constant,
            warmup_steps: 0,
            clip_norm: None,
            clip_value: None,
            layer_penalties: Vec::new(),
            frozen: Vec::new(),
            augment: Vec::new(),
            rebalance: None,
            bootstrap: None,
            features: FeatureSpec::default(),
        }
    }

    pub fn from_json(json: &str) -> Result<Self, Error> {
        serde_json::from_str(json)
            .map_err(|e| Error::InvalidConfig(format!("the training settings are not valid: {}", plain(&e))))
    }
}

/// What a training run reports. Step events summarise the steps of one [`Trainer::run`] call.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Step {
        epoch: usize,
        /// Steps done in the current epoch, and how many it has.
        step: usize,
        steps_per_epoch: usize,
        loss: f32,
        accuracy: f32,
        samples_per_sec: f64,
        /// The learning rate of each of these steps.
        lrs: Vec<f32>,
        /// The global norm of each step's gradient, before any clipping.
        grad_norms: Vec<f32>,
    },
    Epoch {
        epoch: usize,
        train_loss: f32,
        train_accuracy: f32,
        val_loss: f32,
        val_accuracy: f32,
        seconds: f64,
    },
    /// Early stopping ended the run after `epoch`; `best_epoch` was the best, and its weights are
    /// the model's now when `restored`.
    EarlyStop {
        epoch: usize,
        best_epoch: usize,
        restored: bool,
        best_val_loss: f32,
        best_val_accuracy: f32,
    },
    Finished {
        epochs: usize,
    },
}

/// The weights of a run at the end of an epoch, on the host: what a run resumes from on another
/// backend when its device is lost.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// Completed epochs.
    pub epoch: usize,
    /// Every parameter tensor, in the model's order.
    pub weights: Vec<Vec<f32>>,
}

/// Loss and accuracy of a model on a data set.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub loss: f32,
    pub accuracy: f32,
}

/// A data set uploaded to the device once: features `[n, ...sample]` and labels `[n]`.
struct DeviceData<B: Backend> {
    x: B::Tensor,
    y: B::Tensor,
    len: usize,
}

impl<B: Backend> DeviceData<B> {
    fn upload(b: &B, d: &Dataset) -> Self {
        let mut shape = vec![d.len()];
        shape.extend(&d.sample_shape);
        let labels: Vec<f32> = d.labels.iter().map(|&l| l as f32).collect();
        Self {
            x: b.upload(&d.features, &shape),
            y: b.upload(&labels, &[d.len()]),
            len: d.len(),
        }
    }
}

/// Device-side results of a chunk of steps (or evaluation batches): each batch's summed loss, the
/// correct predictions, and each step's squared gradient norm, read back together in one transfer.
struct Tally<B: Backend> {
    losses: Vec<B::Tensor>,
    batch_sizes: Vec<usize>,
    correct: Vec<B::Tensor>,
    square_norms: Vec<B::Tensor>,
    rates: Vec<f32>,
}

/// What a [`Tally`] read back.
struct Totals {
    loss: f64,
    correct: f64,
    samples: usize,
    /// Each batch's mean loss.
    batch_losses: Vec<f64>,
    grad_norms: Vec<f32>,
    rates: Vec<f32>,
}

impl<B: Backend> Tally<B> {
    fn new() -> Self {
        Self {
            losses: Vec::new(),
            batch_sizes: Vec::new(),
            correct: Vec::new(),
            square_norms: Vec::new(),
            rates: Vec::new(),
        }
    }

    /// Keeps a batch's results on the device; they are only gathered when the tally is taken.
    fn add(&mut self, loss_sum: B::Tensor, correct: B::Tensor, samples: usize) {
        self.losses.push(loss_sum);
        self.correct.push(correct);
        self.batch_sizes.push(samples);
    }

    async fn take(&mut self, b: &B) -> Totals {
        let parts: Vec<&B::Tensor> = self
            .correct
            .iter()
            .chain(&self.losses)
            .chain(&self.square_norms)
            .collect();
        let values = b.read(&b.concat(&parts)).await;
        let n = self.losses.len();
        let (correct, rest) = values.split_at(n);
        let (losses, square_norms) = rest.split_at(n);
        let totals = Totals {
            loss: losses.iter().map(|&l| l as f64).sum(),
            correct: correct.iter().map(|&c| c as f64).sum(),
            samples: self.batch_sizes.iter().sum(),
            batch_losses: losses
                .iter()
                .zip(&self.batch_sizes)
                .map(|(&l, &s)| l as f64 / s as f64)
                .collect(),
            grad_norms: square_norms.iter().map(|s| s.sqrt()).collect(),
            rates: std::mem::take(&mut self.rates),
        };
        *self = Self::new();
        totals
    }
}

pub struct Trainer<B: Backend> {
    backend: B,
    model: Model<B>,
    optimizer: Optimizer<B>,
    config: TrainConfig,
    train: DeviceData<B>,
    val: DeviceData<B>,
    rng: Rng,
    order: Vec<u32>,
    cursor: usize,
    epoch: usize,
    chunk: Tally<B>,
    /// Samples per evaluation batch.
    eval_batch: usize,
    epoch_loss: f64,
    epoch_correct: f64,
    epoch_started_ms: f64,
    snapshot: Option<Snapshot>,
    /// The best epoch so far by the early-stopping monitor (lower is better), and epochs since.
    best: Option<(f32, Snapshot, Evaluation)>,
    since_best: usize,
    stopped_early: bool,
    /// Reduce-on-plateau's cuts so far; the rate of the last step.
    plateau: Plateau,
    lr: f32,
    /// The fitted feature transform, and its image part's statistics on the device.
    features: Fitted,
    image_stats: Option<B::Tensor>,
    /// With class weights: each class's weight, and the training labels on the host.
    class_weights: Option<(Vec<f32>, Vec<u32>)>,
}

impl<B: Backend> Trainer<B> {
    /// A run on `train`, evaluated on `val`; the feature transform of `config.features` is fitted on
    /// `train`.
    pub fn new(
        backend: B,
        spec: ModelSpec,
        config: TrainConfig,
        train: &Dataset,
        val: &Dataset,
    ) -> Result<Self, Error> {
        let features = Fitted::fit(&config.features, train)?;
        Self::with_features(backend, spec, config, train, val, features)
    }

    /// The same with a feature transform fitted before (the one a model file was saved with).
    pub fn with_features(
        backend: B,
        spec: ModelSpec,
        config: TrainConfig,
        train: &Dataset,
        val: &Dataset,
        features: Fitted,
    ) -> Result<Self, Error> {
        if val.is_empty() || val.sample_shape != train.sample_shape {
            return Err(Error::InvalidData(
                "the validation split must be non-empty and shaped like the training data".into(),
            ));
        }
        let (train, val) = (&features.apply(train)?, &features.apply(val)?);
        let resampled = config.bootstrap.map(|seed| train.bootstrap(seed));
        let train = resampled.as_ref().unwrap_or(train);
        let balanced = config
            .rebalance
            .filter(|&r| r != Rebalance::ClassWeights)
            .map(|r| crate::data::quality::rebalanced(train, r == Rebalance::Oversample, config.seed));
        let train = balanced.as_ref().unwrap_or(train);
        if config.epochs == 0 || config.epochs > MAX_EPOCHS {
            return Err(Error::InvalidConfig(format!(
                "epochs must be between 1 and {}, got {}",
                grouped(MAX_EPOCHS as u64),
                grouped(config.epochs as u64)
            )));
        }
        for (l1, l2) in
            std::iter::once((config.l1, config.l2)).chain(config.layer_penalties.iter().map(|p| (p.l1, p.l2)))
        {
            if !(l1.is_finite() && l1 >= 0.0 && l2.is_finite() && l2 >= 0.0) {
                return Err(Error::InvalidConfig(format!(
                    "the L1 and L2 penalties must be numbers ≥ 0, got {l1} and {l2}"
                )));
            }
        }
        let weighted = |layer: usize, what: &str| -> Result<(), Error> {
            match spec.layers.get(layer.wrapping_sub(1)) {
                Some(
                    LayerSpec::Dense { .. } | LayerSpec::Conv2d { .. } | LayerSpec::Lstm { .. } | LayerSpec::Gru { .. },
                ) => Ok(()),
                Some(other) => Err(Error::InvalidConfig(format!(
                    "layer {layer} ({}) has no weights to {what}",
                    other.kind()
                ))),
                None => Err(Error::InvalidConfig(format!(
                    "there is no layer {layer} to {what}: the model has layers 1 to {}",
                    spec.layers.len()
                ))),
            }
        };
        for p in &config.layer_penalties {
            weighted(p.layer, "penalise")?;
        }
        for &layer in &config.frozen {
            weighted(layer, "freeze")?;
        }
        for (name, clip) in [("norm", config.clip_norm), ("value", config.clip_value)] {
            if clip.is_some_and(|c| !(c.is_finite() && c > 0.0)) {
                return Err(Error::InvalidConfig(format!(
                    "gradient clipping by {name} needs a positive limit, got {}",
                    clip.unwrap_or_default()
                )));
            }
        }
        config.schedule.validate(config.optimizer.lr())?;
        augment::validate(&config.augment)?;
        if augment::per_image(&config.augment) && train.sample_shape.len() != 3 {
            return Err(Error::InvalidConfig(format!(
                "augmentation other than mixup works on images [channels, height, width], but this data's samples are {:?}",
                train.sample_shape
            )));
        }
        if let Some(es) = &config.early_stopping {
            if es.patience == 0 || !(es.min_delta.is_finite() && es.min_delta >= 0.0) {
                return Err(Error::InvalidConfig(format!(
                    "early stopping needs a patience of at least 1 epoch and a min_delta ≥ 0, got {} and {}",
                    es.patience, es.min_delta
                )));
            }
        }
        if config.batch_size == 0 || config.batch_size > train.len() {
            return Err(Error::InvalidConfig(format!(
                "the batch size must be between 1 and the number of training samples ({}), got {}",
                train.len(),
                config.batch_size
            )));
        }
        if spec.input != features.output_shape() {
            let transformed = if features.output_shape() != features.input_shape {
                " after the feature transform"
            } else {
                ""
            };
            return Err(Error::InvalidSpec(format!(
                "the model takes inputs of shape {:?} but the data has samples of shape {:?}{transformed}",
                spec.input,
                features.output_shape()
            )));
        }
        let summary = spec.summary()?;
        summary.check_batch(config.batch_size)?;
        // Evaluation takes batches of up to 500 samples, fewer where activations are large.
        let eval_batch = summary.largest_batch().clamp(1, 500) as usize;
        let optimizer = Optimizer::new(config.optimizer.clone())?;
        // A bagging member starts from weights of its own too.
        let model = Model::new(
            &backend,
            spec,
            config
                .bootstrap
                .map_or(config.seed, |b| config.seed ^ b.rotate_left(29)),
        )?;
        if model.outputs() != train.classes.len() {
            return Err(Error::InvalidSpec(format!(
                "the last layer outputs {} values but the data has {} classes",
                model.outputs(),
                train.classes.len()
            )));
        }
        let class_weights = (config.rebalance == Some(Rebalance::ClassWeights)).then(|| {
            let mut counts = vec![0usize; train.classes.len()];
            train.labels.iter().for_each(|&l| counts[l as usize] += 1);
            let weights = counts
                .iter()
                .map(|&c| {
                    if c == 0 {
                        0.0
                    } else {
                        train.len() as f32 / (train.classes.len() * c) as f32
                    }
                })
                .collect();
            (weights, train.labels.clone())
        });
        let image_stats = features
            .image
            .as_ref()
            .map(|i| backend.upload(&[i.mean.clone(), i.std.clone()].concat(), &[2, i.mean.len()]));
        let mut rng = Rng::new(config.seed ^ 0xD1B5_4A32_D192_ED03);
        let mut order: Vec<u32> = (0..train.len() as u32).collect();
        rng.shuffle(&mut order);
        Ok(Self {
            eval_batch,
            chunk: Tally::new(),
            train: DeviceData::upload(&backend, train),
            val: DeviceData::upload(&backend, val),
            backend,
            model,
            optimizer,
            rng,
            order,
            cursor: 0,
            epoch: 0,
            epoch_loss: 0.0,
            epoch_correct: 0.0,
            epoch_started_ms: now_ms(),
            snapshot: None,
            best: None,
            since_best: 0,
            stopped_early: false,
            plateau: Plateau::default(),
            lr: config.optimizer.lr(),
            config,
            image_stats,
            features,
            class_weights,
        })
    }

    /// The weights as of the last completed epoch (`None` before the first one ends).
    pub fn snapshot(&self) -> Option<&Snapshot> {
        self.snapshot.as_ref()
    }

    /// The run between two epochs, whole (see [`Checkpoint`]); `None` in the middle of an epoch or
    /// before the first one ends.
    pub async fn checkpoint(&self) -> Option<Checkpoint> {
        let snapshot = self
            .snapshot
            .clone()
            .filter(|s| s.epoch == self.epoch && self.cursor == 0)?;
        let (optimizer_step, optimizer_state) = self.optimizer.saved_state(&self.backend).await;
        Some(Checkpoint {
            snapshot,
            optimizer_step,
            optimizer_state,
            rng: self.rng.clone(),
            order: self.order.clone(),
            lr: self.lr,
            plateau: self.plateau.clone(),
            best: self.best.clone(),
            since_best: self.since_best,
            stopped_early: self.stopped_early,
        })
    }

    /// Goes on from a checkpoint of the same run (the same settings, data and split) exactly as the
    /// run would have gone on; one that does not fit this run is refused.
    pub fn resume(&mut self, c: &Checkpoint) -> Result<(), Error> {
        if c.order.len() != self.train.len || c.snapshot.epoch > self.config.epochs {
            return Err(Error::InvalidData(format!(
                "the saved run does not fit these settings: it had {} training samples and {} epochs done, this run has {} samples and {} epochs",
                c.order.len(),
                c.snapshot.epoch,
                self.train.len,
                self.config.epochs
            )));
        }
        self.load_weights(&c.snapshot)?;
        let shapes: Vec<Vec<usize>> = self.model.params().iter().map(|p| B::shape(&p.value)).collect();
        self.optimizer
            .restore_state(&self.backend, c.optimizer_step, &c.optimizer_state, &shapes)?;
        self.epoch = c.snapshot.epoch;
        self.snapshot = Some(c.snapshot.clone());
        self.rng = c.rng.clone();
        self.order = c.order.clone();
        self.lr = c.lr;
        self.plateau = c.plateau.clone();
        self.best = c.best.clone();
        self.since_best = c.since_best;
        self.stopped_early = c.stopped_early;
        self.chunk = Tally::new();
        self.cursor = 0;
        self.epoch_loss = 0.0;
        self.epoch_correct = 0.0;
        self.epoch_started_ms = now_ms();
        Ok(())
    }

    /// Continues from a snapshot: its weights, at the epoch after it, with fresh optimiser state.
    pub fn restore(&mut self, snapshot: &Snapshot) -> Result<(), Error> {
        self.load_weights(snapshot)?;
        self.optimizer = Optimizer::new(self.config.optimizer.clone())?;
        self.epoch = snapshot.epoch;
        self.chunk = Tally::new();
        self.snapshot = Some(snapshot.clone());
        self.start_epoch();
        Ok(())
    }

    fn load_weights(&mut self, snapshot: &Snapshot) -> Result<(), Error> {
        let b = self.backend.clone();
        let mut params = self.model.params();
        if params.len() != snapshot.weights.len() {
            return Err(Error::InvalidData(format!(
                "the snapshot has {} tensors but the model has {}",
                snapshot.weights.len(),
                params.len()
            )));
        }
        for (p, w) in params.iter_mut().zip(&snapshot.weights) {
            let shape = B::shape(&p.value);
            if shape.iter().product::<usize>() != w.len() {
                return Err(Error::InvalidData(format!(
                    "a snapshot tensor has {} values where the model has shape {shape:?}",
                    w.len()
                )));
            }
            p.value = b.upload(w, &shape);
            p.grad = None;
        }
        Ok(())
    }

    /// The current weights, named and shaped as in a model file.
    pub async fn named_weights(&mut self) -> Result<Vec<NamedTensor>, Error> {
        let shapes = self.model.spec().param_shapes()?;
        let values = self.read_params().await;
        Ok(shapes
            .into_iter()
            .zip(values)
            .map(|((name, shape), values)| NamedTensor { name, shape, values })
            .collect())
    }

    /// The model as a file: its spec, weights and fitted feature transform, for these classes.
    pub async fn model_file(&mut self, classes: Vec<String>, history: Option<String>) -> Result<ModelFile, Error> {
        let tensors = self.named_weights().await?;
        let features = self.features.is_needed().then(|| self.features.clone());
        Ok(ModelFile {
            spec: self.model.spec().clone(),
            classes,
            tensors,
            features,
            history,
        })
    }

    /// Takes the weights of a model file saved from the same model spec; training continues from
    /// them, and they are the snapshot a lost GPU falls back to.
    pub fn load_file_weights(&mut self, file: &ModelFile) -> Result<(), Error> {
        if file.spec != *self.model.spec() {
            return Err(Error::InvalidSpec(
                "the model file holds a different model (its layers or input differ) from this run's".into(),
            ));
        }
        if file
            .features
            .as_ref()
            .unwrap_or(&Fitted::none(&self.features.input_shape))
            != &self.features
        {
            return Err(Error::InvalidSpec(
                "the model file was saved with another feature transform: start the run with its transform".into(),
            ));
        }
        let snapshot = Snapshot {
            epoch: self.epoch,
            weights: file.tensors.iter().map(|t| t.values.clone()).collect(),
        };
        self.load_weights(&snapshot)?;
        self.snapshot = Some(snapshot);
        Ok(())
    }

    /// Starts from another model's weights where they fit: every parameter tensor of this model's
    /// trunk (all but the output layer) whose name and shape match one in `file` is taken; the
    /// output layer, the head for this data's classes, keeps its fresh initialisation. Returns the
    /// layers taken, numbered from 1; fails if none fit.
    pub fn transfer_from(&mut self, file: &ModelFile) -> Result<Vec<usize>, Error> {
        let mut names = self.model.spec().param_shapes()?;
        names.truncate(names.len().saturating_sub(2));
        let b = self.backend.clone();
        let mut taken = Vec::new();
        for ((name, shape), p) in names.iter().zip(self.model.params()) {
            if let Some(t) = file.tensors.iter().find(|t| t.name == *name && t.shape == *shape) {
                p.value = b.upload(&t.values, shape);
                p.grad = None;
                let layer = name
                    .split('.')
                    .nth(1)
                    .and_then(|i| i.parse::<usize>().ok())
                    .expect("names are layers.{i}.*")
                    + 1;
                if !taken.contains(&layer) {
                    taken.push(layer);
                }
            }
        }
        if taken.is_empty() {
            return Err(Error::InvalidSpec(
                "none of the pretrained model's layers fit this model: keep its layers and change only the last one"
                    .into(),
            ));
        }
        Ok(taken)
    }

    /// Every parameter tensor's values, read back in one transfer.
    async fn read_params(&mut self) -> Vec<Vec<f32>> {
        let b = self.backend.clone();
        let params = self.model.params();
        let lengths: Vec<usize> = params.iter().map(|p| B::shape(&p.value).iter().product()).collect();
        let all = b
            .read(&b.concat(&params.iter().map(|p| &p.value).collect::<Vec<_>>()))
            .await;
        let mut rest = all.as_slice();
        lengths
            .into_iter()
            .map(|n| {
                let (head, tail) = rest.split_at(n);
                rest = tail;
                head.to_vec()
            })
            .collect()
    }

    async fn take_snapshot(&mut self) -> Snapshot {
        Snapshot {
            epoch: self.epoch,
            weights: self.read_params().await,
        }
    }

    pub fn backend(&self) -> &B {
        &self.backend
    }

    pub fn model(&self) -> &Model<B> {
        &self.model
    }

    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    pub fn features(&self) -> &Fitted {
        &self.features
    }

    /// A batch of data as the model takes it: images through the fitted image transform.
    fn model_input(&self, x: B::Tensor) -> B::Tensor {
        match (&self.features.image, &self.image_stats) {
            (Some(i), Some(stats)) => self.backend.image_features(&x, stats, i.grayscale, i.edges),
            _ => x,
        }
    }

    pub fn steps_per_epoch(&self) -> usize {
        self.train.len.div_ceil(self.config.batch_size)
    }

    pub fn is_finished(&self) -> bool {
        self.stopped_early || self.epoch >= self.config.epochs
    }

    /// The learning rate of the next step: the schedule's, after warm-up, with any plateau cuts.
    fn next_lr(&self) -> f32 {
        let steps_per_epoch = self.steps_per_epoch();
        let step = self.epoch * steps_per_epoch + self.cursor.div_ceil(self.config.batch_size);
        let at = Progress {
            step,
            steps_per_epoch,
            epochs: self.config.epochs,
        };
        self.config.schedule.rate(self.config.optimizer.lr(), at)
            * warmup_factor(step, self.config.warmup_steps)
            * self.plateau.factor
    }

    /// One optimiser step on the next mini-batch; nothing is read back.
    fn step(&mut self) {
        self.lr = self.next_lr();
        let b = &self.backend;
        let end = (self.cursor + self.config.batch_size).min(self.train.len);
        let indices = &self.order[self.cursor..end];
        let mut x = b.gather_rows(&self.train.x, indices);
        if augment::per_image(&self.config.augment) {
            let shape = B::shape(&x);
            let params = augment::draw(&self.config.augment, indices.len(), shape[2], shape[3], &mut self.rng);
            x = b.augment(
                &x,
                &b.upload(&params, &[indices.len(), AUGMENT_PARAMS]),
                fold_seed(self.rng.next_u64()),
            );
        }
        let y = b.gather_rows(&self.train.y, indices);
        // Mixup: each sample mixed with another of the batch by one λ, and the loss mixed likewise.
        let mix = augment::mixup(&self.config.augment)
            .filter(|&(p, _)| self.rng.uniform() < p)
            .map(|(_, alpha)| {
                let mut partners: Vec<u32> = (0..indices.len() as u32).collect();
                self.rng.shuffle(&mut partners);
                (self.rng.beta(alpha, alpha), partners)
            });
        if let Some((lambda, partners)) = &mix {
            x = b.lerp(&b.gather_rows(&x, partners), &x, *lambda);
        }
        let x = self.model_input(x);
        let b = &self.backend;
        let logits = self.model.forward(
            b,
            x,
            Mode::Train {
                seed: self.rng.next_u64(),
            },
        );
        let out = match &mix {
            None => b.softmax_cross_entropy(&logits, &y),
            Some((lambda, partners)) => {
                let (own, other) = (
                    b.softmax_cross_entropy(&logits, &y),
                    b.softmax_cross_entropy(&logits, &b.gather_rows(&y, partners)),
                );
                LossOutput {
                    loss_sum: b.lerp(&other.loss_sum, &own.loss_sum, *lambda),
                    correct: b.lerp(&other.correct, &own.correct, *lambda),
                    grad: b.lerp(&other.grad, &own.grad, *lambda),
                }
            }
        };
        let grad = match &self.class_weights {
            Some((weights, labels)) => {
                let k = weights.len();
                let rows: Vec<f32> = indices
                    .iter()
                    .flat_map(|&i| std::iter::repeat_n(weights[labels[i as usize] as usize], k))
                    .collect();
                b.mul(&out.grad, &b.upload(&rows, &[indices.len(), k]))
            }
            None => out.grad,
        };
        self.model.backward(b, grad, false);
        let config = &self.config;
        for (i, params) in self.model.layer_params().into_iter().enumerate() {
            let layer = i + 1;
            if config.frozen.contains(&layer) {
                params.into_iter().for_each(|p| p.grad = None);
                continue;
            }
            let (l1, l2) = config
                .layer_penalties
                .iter()
                .find(|p| p.layer == layer)
                .map_or((config.l1, config.l2), |p| (p.l1, p.l2));
            if l1 > 0.0 || l2 > 0.0 {
                for p in params.into_iter().filter(|p| p.penalised) {
                    if let Some(g) = p.grad.take() {
                        p.grad = Some(b.add_penalty(&g, &p.value, l1, l2));
                    }
                }
            }
        }
        let mut square_norm = b.zeros(&[1]);
        let grads: Vec<&B::Tensor> = self
            .model
            .params()
            .into_iter()
            .filter_map(|p| p.grad.as_ref())
            .collect();
        b.add_square_sums(&mut square_norm, &grads);
        let (clip_norm, clip_value) = (self.config.clip_norm, self.config.clip_value);
        if clip_norm.is_some() || clip_value.is_some() {
            for p in self.model.params() {
                let Some(mut g) = p.grad.take() else { continue };
                if let Some(max_norm) = clip_norm {
                    g = b.scale_to_norm(&g, &square_norm, max_norm);
                }
                if let Some(limit) = clip_value {
                    g = b.clamp(&g, limit);
                }
                p.grad = Some(g);
            }
        }
        self.chunk.square_norms.push(square_norm);
        self.chunk.rates.push(self.lr);
        self.optimizer.update(b, self.model.params(), self.lr);
        self.chunk.add(out.loss_sum, out.correct, indices.len());
        self.cursor = end;
    }

    /// Runs up to `max_steps` steps, never past the end of an epoch, reads the loss back once and
    /// reports it; at the end of an epoch also evaluates on the validation split.
    pub async fn run(&mut self, max_steps: usize) -> Result<Vec<Event>, Error> {
        if self.is_finished() {
            return Ok(vec![Event::Finished { epochs: self.epoch }]);
        }
        let started = now_ms();
        let first_step = self.cursor.div_ceil(self.config.batch_size) + 1;
        let mut steps = 0;
        while steps < max_steps.max(1) && self.cursor < self.train.len {
            self.step();
            steps += 1;
        }
        let Totals {
            loss,
            correct,
            samples,
            batch_losses,
            grad_norms,
            rates,
        } = self.chunk.take(&self.backend).await;
        // Each step on its own: one exploding step must not hide in a long chunk's mean.
        if let Some(i) = batch_losses.iter().position(|&l| self.diverged(l)) {
            return Err(self.divergence(first_step + i));
        }
        let elapsed_s = ((now_ms() - started) / 1e3).max(1e-6);
        self.epoch_loss += loss;
        self.epoch_correct += correct;
        let mut events = vec![Event::Step {
            epoch: self.epoch + 1,
            step: self.cursor.div_ceil(self.config.batch_size),
            steps_per_epoch: self.steps_per_epoch(),
            loss: (loss / samples as f64) as f32,
            accuracy: (correct / samples as f64) as f32,
            samples_per_sec: samples as f64 / elapsed_s,
            lrs: rates,
            grad_norms,
        }];
        if self.cursor >= self.train.len {
            let val = self.evaluate_validation().await;
            if self.diverged(val.loss as f64) {
                return Err(self.divergence(self.steps_per_epoch()));
            }
            let n = self.train.len as f64;
            self.epoch += 1;
            events.push(Event::Epoch {
                epoch: self.epoch,
                train_loss: (self.epoch_loss / n) as f32,
                train_accuracy: (self.epoch_correct / n) as f32,
                val_loss: val.loss,
                val_accuracy: val.accuracy,
                seconds: (now_ms() - self.epoch_started_ms) / 1e3,
            });
            let snapshot = self.take_snapshot().await;
            if snapshot.weights.iter().flatten().any(|w| !w.is_finite()) {
                return Err(self.divergence(self.steps_per_epoch()));
            }
            self.snapshot = Some(snapshot);
            if let Schedule::ReduceOnPlateau { monitor, .. } = self.config.schedule {
                self.plateau
                    .observe(&self.config.schedule, self.config.optimizer.lr(), monitor.score(val));
            }
            if let Some(stop) = self.early_stop(val)? {
                events.push(stop);
            }
            self.start_epoch();
            if self.is_finished() {
                events.push(Event::Finished { epochs: self.epoch });
            }
        }
        Ok(events)
    }

    /// A mean loss that is not finite, or above 100·ln(classes) (a hundred times what guessing
    /// uniformly costs: the right class gets probability below e⁻¹⁰⁰ on average), means the run has
    /// blown up; with saturated or dead units the loss can stay finite while it does.
    fn diverged(&self, mean_loss: f64) -> bool {
        !mean_loss.is_finite() || mean_loss > 100.0 * (self.model.outputs() as f64).ln()
    }

    /// Records the epoch that just ended with the early-stopping rule, if any; when patience has run
    /// out, stops the run (restoring the best weights if asked) and says so.
    fn early_stop(&mut self, val: Evaluation) -> Result<Option<Event>, Error> {
        let Some(rule) = self.config.early_stopping.clone() else {
            return Ok(None);
        };
        let score = rule.monitor.score(val);
        let snapshot = self
            .snapshot
            .clone()
            .expect("the epoch's snapshot is taken before this");
        if self
            .best
            .as_ref()
            .is_none_or(|(best, _, _)| score < best - rule.min_delta)
        {
            self.best = Some((score, snapshot, val));
            self.since_best = 0;
            return Ok(None);
        }
        self.since_best += 1;
        if self.since_best < rule.patience {
            return Ok(None);
        }
        let (_, best, best_val) = self.best.clone().expect("a best epoch exists once one has been scored");
        if rule.restore_best {
            self.load_weights(&best)?;
            self.snapshot = Some(best.clone());
        }
        self.stopped_early = true;
        Ok(Some(Event::EarlyStop {
            epoch: self.epoch,
            best_epoch: best.epoch,
            restored: rule.restore_best,
            best_val_loss: best_val.loss,
            best_val_accuracy: best_val.accuracy,
        }))
    }

    /// The error of a run whose `step` (of the current epoch, from 1) blew up.
    fn divergence(&self, step: usize) -> Error {
        Error::Diverged {
            epoch: self.epoch + 1,
            step,
            lr: self.lr,
        }
    }

    fn start_epoch(&mut self) {
        self.rng.shuffle(&mut self.order);
        self.cursor = 0;
        self.epoch_loss = 0.0;
        self.epoch_correct = 0.0;
        self.epoch_started_ms = now_ms();
    }

    pub async fn evaluate_validation(&mut self) -> Evaluation {
        let (x, y, len) = (self.val.x.clone(), self.val.y.clone(), self.val.len);
        self.evaluate(&x, &y, len).await
    }

    async fn evaluate(&mut self, x: &B::Tensor, y: &B::Tensor, len: usize) -> Evaluation {
        let batch = self.eval_batch;
        let b = self.backend.clone();
        let mut tally = Tally::new();
        for start in (0..len).step_by(batch) {
            let indices: Vec<u32> = (start as u32..(start + batch).min(len) as u32).collect();
            let logits = self
                .model
                .forward(&b, self.model_input(b.gather_rows(x, &indices)), Mode::Eval);
            let out = b.softmax_cross_entropy(&logits, &b.gather_rows(y, &indices));
            tally.add(out.loss_sum, out.correct, indices.len());
        }
        let Totals { loss, correct, .. } = tally.take(&b).await;
        Evaluation {
            loss: (loss / len as f64) as f32,
            accuracy: (correct / len as f64) as f32,
        }
    }

    /// Class probabilities of every held-out sample, `[n, classes]` row after row, in the split's
    /// order, read back in one transfer.
    pub async fn validation_probabilities(&mut self) -> Vec<f32> {
        let batch = self.eval_batch;
        let b = self.backend.clone();
        let (x, len) = (self.val.x.clone(), self.val.len);
        let mut parts = Vec::new();
        for start in (0..len).step_by(batch) {
            let indices: Vec<u32> = (start as u32..(start + batch).min(len) as u32).collect();
            let logits = self
                .model
                .forward(&b, self.model_input(b.gather_rows(&x, &indices)), Mode::Eval);
            parts.push(b.softmax(&logits));
        }
        b.read(&b.concat(&parts.iter().collect::<Vec<_>>())).await
    }

    /// Class probabilities `[n, classes]`, row after row, for `n` samples laid out like the data
    /// (before the feature transform, which is applied here; a table's missing values are NaN).
    pub async fn predict(&mut self, features: &[f32]) -> Result<Vec<f32>, Error> {
        let input = &self.features.input_shape;
        let width: usize = input.iter().product();
        if features.is_empty() || !features.len().is_multiple_of(width) {
            return Err(Error::InvalidData(format!(
                "{} values are not a whole number of samples of shape {input:?}",
                features.len()
            )));
        }
        let n = features.len() / width;
        let values = self.features.apply_values(features);
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidData(format!(
                "sample {} has a value that is not a finite number",
                i / (values.len() / n)
            )));
        }
        let mut shape = vec![n];
        shape.extend(if self.features.columns.is_empty() {
            input.clone()
        } else {
            vec![values.len() / n]
        });
        let b = self.backend.clone();
        let logits = self
            .model
            .forward(&b, self.model_input(b.upload(&values, &shape)), Mode::Eval);
        Ok(b.read(&b.softmax(&logits)).await)
    }
}

mod checkpoint;
#[cfg(test)]
mod tests;

pub use checkpoint::Checkpoint;
