//! The training loop: shuffled mini-batches cut on the device, one optimiser step per batch, loss
//! and accuracy accumulated on the device and read back once per [`Trainer::run`] call; epochs,
//! divergence and early stopping. Around it: `config.rs` (a run's settings, read and checked),
//! `events.rs` (what a run reports), `device.rs` (the data and running sums on the device),
//! `weights.rs` (snapshots, checkpoints, model files, transfer), `checkpoint.rs` (a run between two
//! epochs as bytes) and `evaluate.rs` (held-out evaluation and predictions).

use crate::augment::{self, AUGMENT_PARAMS};
use crate::backend::{Backend, DeviceLost, LossOutput};
use crate::clock::now_ms;
use crate::data::Dataset;
use crate::error::Error;
use crate::features::Fitted;
use crate::model_file::{ModelFile, NamedTensor};
use crate::nn::{grouped, Mode, Model, ModelSpec};
use crate::optim::schedule::{warmup_factor, Plateau, Progress, Schedule};
use crate::optim::Optimizer;
use crate::rng::{fold_seed, Rng};

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
    /// With text augmentation: the training texts' token ids on the host, and the vocabulary's size.
    texts: Option<(Vec<f32>, usize)>,
    /// When this trainer is one of several that train the run on shares of each batch.
    shard: Option<Shard>,
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
            .map(|r| crate::data::sampling::rebalanced(train, r == Rebalance::Oversample, config.seed));
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
                Some(l) if l.weighted() => Ok(()),
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
        if augment::mixup(&config.augment).is_some() && spec.vocabulary().is_some() {
            return Err(Error::InvalidConfig(
                "mixup blends inputs, and a text's token ids cannot be blended: choose the token augmentations instead"
                    .into(),
            ));
        }
        let texts = match (augment::per_text(&config.augment), spec.vocabulary()) {
            (false, _) => None,
            (true, Some(vocab)) if train.sample_shape.len() == 1 => Some((train.features.clone(), vocab)),
            (true, _) => {
                return Err(Error::InvalidConfig(
                    "token deletion, swap, insertion and masking work on texts, read by a model whose first layer is an embedding".into(),
                ))
            }
        };
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
            texts,
            shard: None,
        })
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

    /// One optimiser step on the next mini-batch; nothing is read back (but a shard's gradients,
    /// which it exchanges).
    fn step(&mut self) -> Result<(), Error> {
        self.lr = self.next_lr();
        let b = &self.backend;
        let end = (self.cursor + self.config.batch_size).min(self.train.len);
        let indices = &self.order[self.cursor..end];
        let mut x = match &self.texts {
            Some((ids, vocab)) => {
                let len = ids.len() / self.train.len;
                let mut rows: Vec<f32> = indices
                    .iter()
                    .flat_map(|&i| &ids[i as usize * len..(i as usize + 1) * len])
                    .copied()
                    .collect();
                augment::text(&self.config.augment, &mut rows, len, *vocab, &mut self.rng);
                b.upload(&rows, &[indices.len(), len])
            }
            None => b.gather_rows(&self.train.x, indices),
        };
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
        let mut mixed_y = None;
        if let Some((lambda, partners)) = &mix {
            x = b.lerp(&b.gather_rows(&x, partners), &x, *lambda);
            mixed_y = Some((*lambda, b.gather_rows(&y, partners)));
        }
        let x = self.model_input(x);
        let seed = self.rng.next_u64();
        // A shard reads its rows of the batch built above.
        let share = self.shard.as_ref().map(|s| s.share(indices.len()));
        let b = &self.backend;
        let (x, y, rows) = match share {
            None => (x, y, indices),
            Some(Share { rows, len }) => {
                let cut = rows.indices(len);
                if let Some((_, other)) = &mut mixed_y {
                    *other = b.gather_rows(other, &cut);
                }
                (
                    b.gather_rows(&x, &cut),
                    b.gather_rows(&y, &cut),
                    &indices[rows.first..rows.first + len],
                )
            }
        };
        // A shard's share may be empty (a last batch of fewer rows than shards): it reads nothing.
        let mut tally = None;
        if !rows.is_empty() {
            let logits = self.model.forward(
                b,
                x,
                Mode::Train {
                    seed,
                    rows: share.map(|s| s.rows),
                },
            );
            let out = match &mixed_y {
                None => b.softmax_cross_entropy(&logits, &y),
                Some((lambda, other)) => {
                    let (own, other) = (
                        b.softmax_cross_entropy(&logits, &y),
                        b.softmax_cross_entropy(&logits, other),
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
                    let weighted: Vec<f32> = rows
                        .iter()
                        .flat_map(|&i| std::iter::repeat_n(weights[labels[i as usize] as usize], k))
                        .collect();
                    b.mul(&out.grad, &b.upload(&weighted, &[rows.len(), k]))
                }
                None => out.grad,
            };
            self.model.backward(b, grad, false);
            tally = Some([out.loss_sum, out.correct]);
        }
        let [loss_sum, correct] = match share {
            Some(share) => self.exchange(share, indices.len(), tally)?,
            None => tally.expect("a whole batch has rows"),
        };
        let b = &self.backend;
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
        self.chunk.add(loss_sum, correct, end - self.cursor);
        self.cursor = end;
        Ok(())
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
            self.step()?;
            steps += 1;
        }
        let Totals {
            loss,
            correct,
            samples,
            batch_losses,
            grad_norms,
            rates,
        } = self.chunk.take(&self.backend).await?;
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
            let val = self.evaluate_validation().await?;
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
            let snapshot = self.take_snapshot().await?;
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
}

mod checkpoint;
mod config;
mod device;
mod evaluate;
mod events;
mod session;
mod shard;
#[cfg(test)]
mod tests;
mod weights;

pub use crate::metrics::{Evaluation, Monitor};
pub use checkpoint::Checkpoint;
pub use config::{EarlyStopping, LayerPenalty, Rebalance, TrainConfig, MAX_EPOCHS};
use device::{DeviceData, Tally, Totals};
pub use events::{Event, Snapshot};
pub use session::Session;
use shard::Share;
pub use shard::{Exchange, Shard};
