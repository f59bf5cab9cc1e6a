//! A training session: one run on whichever backend trains it — the GPU when a device is given,
//! the CPU otherwise — and the policy when the GPU is lost: the run goes on on the CPU from its last
//! completed epoch's checkpoint, exactly as a CPU run resumed from there would (before the first
//! epoch ends, from the weights it started with). The wasm layer only converts to and from
//! JavaScript.

use super::{Checkpoint, Evaluation, Event, Exchange, TrainConfig, Trainer};
use crate::backend::cpu::Cpu;
use crate::backend::gpu::Gpu;
use crate::backend::{Backend, DeviceLost};
use crate::data::Dataset;
use crate::error::Error;
use crate::features::Fitted;
use crate::model_file::ModelFile;
use crate::nn::ModelSpec;

/// One trainer on whichever backend runs it.
enum Engine {
    Cpu(Box<Trainer<Cpu>>),
    Gpu(Box<Trainer<Gpu>>),
}

/// Calls `$f` on the trainer, whichever backend it is on.
macro_rules! on_trainer {
    ($engine:expr, $t:ident => $f:expr) => {
        match $engine {
            Engine::Cpu($t) => $f,
            Engine::Gpu($t) => $f,
        }
    };
}

/// A fresh trainer of a run on `backend`.
fn trainer<B: Backend>(
    backend: B,
    spec: &ModelSpec,
    config: &TrainConfig,
    train: &Dataset,
    val: &Dataset,
    features: Fitted,
) -> Result<Box<Trainer<B>>, Error> {
    Ok(Box::new(Trainer::with_features(
        backend,
        spec.clone(),
        config.clone(),
        train,
        val,
        features,
    )?))
}

pub struct Session {
    engine: Engine,
    spec: ModelSpec,
    config: TrainConfig,
    train: Dataset,
    val: Dataset,
    /// The pretrained model a transfer run started from, taken again if the run moves to the CPU
    /// before its first epoch ends.
    start_from: Option<ModelFile>,
    /// The run as of its last completed epoch.
    last: Option<Checkpoint>,
}

impl Session {
    /// A run of `spec` on `train`, evaluated on `val`, with the fitted transform `features`; on `gpu`
    /// when given.
    pub fn new(
        spec: ModelSpec,
        config: TrainConfig,
        train: Dataset,
        val: Dataset,
        features: Fitted,
        gpu: Option<Gpu>,
    ) -> Result<Self, Error> {
        let engine = match gpu {
            Some(g) => Engine::Gpu(trainer(g, &spec, &config, &train, &val, features)?),
            None => Engine::Cpu(trainer(Cpu, &spec, &config, &train, &val, features)?),
        };
        Ok(Self {
            engine,
            spec,
            config,
            train,
            val,
            start_from: None,
            last: None,
        })
    }

    /// "CPU", or "GPU (adapter name)".
    pub fn backend(&self) -> String {
        on_trainer!(&self.engine, t => t.backend().name())
    }

    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    pub fn train(&self) -> &Dataset {
        &self.train
    }

    pub fn val(&self) -> &Dataset {
        &self.val
    }

    pub fn steps_per_epoch(&self) -> usize {
        on_trainer!(&self.engine, t => t.steps_per_epoch())
    }

    /// Runs up to `max_steps` steps. After an epoch ends the run is kept (see [`Session::checkpoint`]).
    /// When the GPU is lost the run moves to the CPU and says so with [`Event::BackendChanged`].
    pub async fn run(&mut self, max_steps: usize) -> Result<Vec<Event>, Error> {
        let result = on_trainer!(&mut self.engine, t => t.run(max_steps).await);
        let lost = |s: &Self, e: &Error| {
            matches!(e, Error::NoGpu(_)) || matches!(&s.engine, Engine::Gpu(t) if t.backend().is_lost())
        };
        let events = match result {
            Ok(events) => events,
            Err(e) if lost(self, &e) => return self.fall_back(&e.to_string()),
            Err(e) => return Err(e),
        };
        if events.iter().any(|e| matches!(e, Event::Epoch { .. })) {
            match on_trainer!(&self.engine, t => t.checkpoint().await) {
                Ok(Some(c)) => self.last = Some(c),
                Ok(None) => {}
                Err(DeviceLost(why)) => {
                    let mut events = events;
                    events.extend(self.fall_back(&why)?);
                    return Ok(events);
                }
            }
        }
        Ok(events)
    }

    /// The same run on the CPU from its last checkpoint (or, before the first epoch ends, from the
    /// weights it started with); the event that says so.
    fn fall_back(&mut self, why: &str) -> Result<Vec<Event>, Error> {
        let (snapshot, features) = match &self.engine {
            Engine::Gpu(t) => (t.snapshot().cloned(), t.features().clone()),
            Engine::Cpu(_) => return Err(Error::NoGpu(why.to_string())),
        };
        let mut trainer = trainer(Cpu, &self.spec, &self.config, &self.train, &self.val, features)?;
        // The checkpoint when it is of the last epoch the run reported; the weights of that epoch
        // (with a fresh optimiser) when the device went before its checkpoint could be read, so
        // that no epoch is reported twice.
        let newer = |s: &super::Snapshot| self.last.as_ref().is_none_or(|c| s.epoch > c.snapshot.epoch);
        match (&self.last, &snapshot, &self.start_from) {
            (_, Some(s), _) if newer(s) => trainer.restore(s)?,
            (Some(c), _, _) => trainer.resume(c)?,
            (None, _, Some(file)) => drop(trainer.transfer_from(file)?),
            (None, _, None) => {}
        }
        self.engine = Engine::Cpu(trainer);
        Ok(vec![Event::BackendChanged {
            backend: "CPU".into(),
            reason: format!("The GPU was lost ({why}); training continues on the CPU from the last completed epoch."),
        }])
    }

    /// The run as of its last completed epoch, whole (`None` before the first one ends).
    pub fn checkpoint(&self) -> Option<&Checkpoint> {
        self.last.as_ref()
    }

    /// Goes on from a checkpoint of this same run, as if it had never stopped.
    pub fn resume(&mut self, c: Checkpoint) -> Result<(), Error> {
        on_trainer!(&mut self.engine, t => t.resume(&c))?;
        self.last = Some(c);
        Ok(())
    }

    /// Makes this run shard `index` of `count` (see [`Trainer::shard`]): CPU runs only.
    pub fn shard(&mut self, index: usize, count: usize, exchange: Exchange) -> Result<usize, Error> {
        match &mut self.engine {
            Engine::Cpu(t) => t.shard(index, count, exchange),
            Engine::Gpu(_) => Err(Error::InvalidConfig(
                "a run on the GPU trains on the device, not on CPU threads".into(),
            )),
        }
    }

    pub fn load_file_weights(&mut self, file: &ModelFile) -> Result<(), Error> {
        on_trainer!(&mut self.engine, t => t.load_file_weights(file))
    }

    /// Starts from a pretrained model's trunk (see [`Trainer::transfer_from`]); returns the layers taken.
    pub fn transfer_from(&mut self, file: ModelFile) -> Result<Vec<usize>, Error> {
        let taken = on_trainer!(&mut self.engine, t => t.transfer_from(&file))?;
        self.start_from = Some(file);
        Ok(taken)
    }

    pub async fn evaluate(&mut self) -> Result<Evaluation, Error> {
        Ok(on_trainer!(&mut self.engine, t => t.evaluate_validation().await)?)
    }

    pub async fn validation_probabilities(&mut self) -> Result<Vec<f32>, Error> {
        Ok(on_trainer!(&mut self.engine, t => t.validation_probabilities().await)?)
    }

    pub async fn predict(&mut self, features: &[f32]) -> Result<Vec<f32>, Error> {
        on_trainer!(&mut self.engine, t => t.predict(features).await)
    }

    /// The attention layers' weights for the samples [`Session::predict`] last read.
    pub async fn attention_maps(&mut self) -> Result<Vec<(Vec<usize>, Vec<f32>)>, Error> {
        on_trainer!(&mut self.engine, t => t.attention_maps().await)
    }

    pub async fn model_file(&mut self, history: Option<String>) -> Result<ModelFile, Error> {
        let classes = self.train.classes.clone();
        on_trainer!(&mut self.engine, t => t.model_file(classes, history).await)
    }

    /// Loses the GPU device at once (a run on it then moves to the CPU); the CPU is never lost.
    pub fn lose_gpu(&self) {
        if let Engine::Gpu(t) = &self.engine {
            t.backend().destroy();
        }
    }
}
