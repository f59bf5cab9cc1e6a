//! What a run is asked to do: its settings, read from JSON and checked, and the early-stopping and
//! rebalancing rules.

use crate::augment::Augmentation;
use crate::error::{plain, Error};
use crate::features::FeatureSpec;
use crate::metrics::Monitor;
use crate::optim::schedule::Schedule;
use crate::optim::OptimizerSpec;
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
