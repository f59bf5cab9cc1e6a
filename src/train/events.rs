//! What a run reports (its events), and the epoch snapshots it hands out.

use serde::Serialize;

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
    /// The device was lost; the run goes on on `backend` from its last completed epoch.
    BackendChanged {
        backend: String,
        reason: String,
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
