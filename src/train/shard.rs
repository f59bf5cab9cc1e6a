//! Data-parallel training: `count` trainers of one run, each with its own copy of the model, that
//! take a share of every batch and keep in step. Each builds the whole batch as a single trainer
//! would (the same order, augmentation and mixup, drawn from the same seeds), reads its own rows
//! through the model (dropout masks cut from the whole batch's), and hands its gradients to an
//! exchange that leaves the sums over all shards, added in shard order, in every one. Each then
//! takes the same optimiser step from the same sums, so the weights stay equal in every shard, and
//! equal to a single trainer's up to the order of summation.

use super::Trainer;
use crate::backend::{ready, Backend};
use crate::error::Error;
use crate::nn::Rows;

/// Called with a shard's gradients (every parameter's, in the model's order, then the loss sum and
/// the count of correct answers), it leaves there the sums over all shards, added in shard order;
/// an `Err` (another shard failed, or the run was stopped) ends the step with that message.
pub type Exchange = Box<dyn FnMut(&mut [f32]) -> Result<(), String>>;

/// This trainer's place among the shards of a run, and how they share gradients.
pub struct Shard {
    index: usize,
    count: usize,
    exchange: Exchange,
    /// The vector handed to the exchange, kept between steps.
    flat: Vec<f32>,
}

impl Shard {
    /// This shard's share of a batch of `total` rows: as many as another shard's, to one row.
    pub(super) fn share(&self, total: usize) -> Share {
        let first = total * self.index / self.count;
        let end = total * (self.index + 1) / self.count;
        Share {
            rows: Rows { first, total },
            len: end - first,
        }
    }
}

/// A shard's rows of a batch, and how many they are.
#[derive(Clone, Copy, Debug)]
pub(super) struct Share {
    pub rows: Rows,
    pub len: usize,
}

impl<B: Backend> Trainer<B> {
    /// Makes this trainer shard `index` of `count` that train one run together (see the module);
    /// every shard must be built alike (same spec, settings, seed and data) and run to the same
    /// step. The trainer keeps its tensors on the host: the CPU backend. Returns the length of the
    /// vector the exchange is handed.
    pub fn shard(&mut self, index: usize, count: usize, exchange: Exchange) -> Result<usize, Error> {
        if count < 2 || index >= count {
            return Err(Error::InvalidConfig(format!(
                "shard {index} of {count}: a run is split into at least 2 shards, numbered from 0"
            )));
        }
        if count > self.config.batch_size {
            return Err(Error::InvalidConfig(format!(
                "a batch of {} cannot be split over {count} threads",
                self.config.batch_size
            )));
        }
        if self.model.spec().uses_batch_statistics() {
            return Err(Error::InvalidConfig(
                "batch norm needs the statistics of the whole batch, so this model trains on one thread".into(),
            ));
        }
        let len = self.exchange_len();
        self.shard = Some(Shard {
            index,
            count,
            exchange,
            flat: Vec::with_capacity(len),
        });
        Ok(len)
    }

    /// The length of the vector a shard's exchange is handed: every parameter's values, the loss
    /// sum and the count of correct answers.
    fn exchange_len(&mut self) -> usize {
        self.model
            .params()
            .iter()
            .map(|p| B::shape(&p.value).iter().product::<usize>())
            .sum::<usize>()
            + 2
    }

    /// Replaces this shard's gradients (of its `share` of a batch of `total` rows, each scaled as
    /// for its rows alone), loss sum and correct count (`tally`; none for an empty share) by the
    /// sums over all shards.
    pub(super) fn exchange(
        &mut self,
        share: Share,
        total: usize,
        tally: Option<[B::Tensor; 2]>,
    ) -> Result<[B::Tensor; 2], Error> {
        let shard = self.shard.as_mut().expect("only a shard exchanges");
        let flat = &mut shard.flat;
        flat.clear();
        let b = &self.backend;
        // A loss is a mean over the rows read: rescaled here to the whole batch's.
        let scale = share.len as f32 / total as f32;
        for p in self.model.params() {
            let size = B::shape(&p.value).iter().product::<usize>();
            match (&p.grad, share.len) {
                (Some(g), 1..) => flat.extend(ready(b.read(g))?.into_iter().map(|v| v * scale)),
                _ => flat.extend(std::iter::repeat_n(0.0, size)),
            }
        }
        match &tally {
            Some(tally) => {
                for t in tally {
                    flat.push(ready(b.read(t))?[0]);
                }
            }
            None => flat.extend([0.0, 0.0]),
        }
        (shard.exchange)(flat).map_err(Error::Interrupted)?;
        let mut at = 0;
        for p in self.model.params() {
            let shape = B::shape(&p.value);
            let size = shape.iter().product::<usize>();
            p.grad = Some(b.upload(&flat[at..at + size], &shape));
            at += size;
        }
        Ok([b.upload(&flat[at..at + 1], &[1]), b.upload(&flat[at + 1..at + 2], &[1])])
    }
}
