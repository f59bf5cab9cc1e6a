//! A run's weights and state in and out: epoch snapshots (what a lost GPU falls back to), whole
//! checkpoints (what a reload resumes), model files, and weights taken from a pretrained model.

use super::*;

impl<B: Backend> Trainer<B> {
    /// The weights as of the last completed epoch (`None` before the first one ends).
    pub fn snapshot(&self) -> Option<&Snapshot> {
        self.snapshot.as_ref()
    }

    /// The run between two epochs, whole (see [`Checkpoint`]); `None` in the middle of an epoch or
    /// before the first one ends.
    pub async fn checkpoint(&self) -> Result<Option<Checkpoint>, DeviceLost> {
        let Some(snapshot) = self
            .snapshot
            .clone()
            .filter(|s| s.epoch == self.epoch && self.cursor == 0)
        else {
            return Ok(None);
        };
        let (optimizer_step, optimizer_state) = self.optimizer.saved_state(&self.backend).await?;
        Ok(Some(Checkpoint {
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
        }))
    }

    /// Goes on from a checkpoint of the same run (the same settings, data and split) exactly as the
    /// run would have gone on; one that does not fit this run is refused.
    pub fn resume(&mut self, c: &Checkpoint) -> Result<(), Error> {
        let order_fits = c.order.iter().all(|&i| (i as usize) < self.train.len);
        if c.order.len() != self.train.len || !order_fits || c.snapshot.epoch > self.config.epochs {
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

    pub(super) fn load_weights(&mut self, snapshot: &Snapshot) -> Result<(), Error> {
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
        let values = self.read_params().await?;
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
            vocabulary: None,
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
    pub(super) async fn read_params(&mut self) -> Result<Vec<Vec<f32>>, DeviceLost> {
        let b = self.backend.clone();
        let params = self.model.params();
        crate::backend::read_each(&b, &params.iter().map(|p| &p.value).collect::<Vec<_>>()).await
    }

    pub(super) async fn take_snapshot(&mut self) -> Result<Snapshot, DeviceLost> {
        Ok(Snapshot {
            epoch: self.epoch,
            weights: self.read_params().await?,
        })
    }
}
