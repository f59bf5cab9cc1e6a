//! A run between two epochs, whole: the weights, the optimiser's state, the random stream and the
//! order of the next epoch's samples, the learning-rate and early-stopping state. A run resumed
//! from it goes on exactly as the uninterrupted one would (same seed, same data and split), which
//! is what lets the page carry a run across a reload.
//!
//! As bytes: `WSCK`, a little-endian u64 header length, the header (JSON: the scalars and every
//! array's length), then the f32 arrays (weights, optimiser state, best weights) and the u32
//! sample order, little-endian.

use super::{Evaluation, Snapshot};
use crate::error::{plain, Error};
use crate::optim::schedule::Plateau;
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

const MAGIC: &[u8; 4] = b"WSCK";

#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    /// Completed epochs, and the weights after the last of them.
    pub snapshot: Snapshot,
    pub optimizer_step: u32,
    /// Per parameter, each optimiser state tensor (none before the first step, or for SGD).
    pub optimizer_state: Vec<Vec<Vec<f32>>>,
    pub rng: Rng,
    /// The training samples' order for the next epoch.
    pub order: Vec<u32>,
    pub lr: f32,
    pub plateau: Plateau,
    /// Early stopping: the best epoch's score, weights and evaluation, and epochs since.
    pub best: Option<(f32, Snapshot, Evaluation)>,
    pub since_best: usize,
    pub stopped_early: bool,
}

/// The scalars of a checkpoint and the lengths of its arrays.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    epoch: usize,
    weights: Vec<usize>,
    optimizer_step: u32,
    optimizer_state: Vec<Vec<usize>>,
    rng: Rng,
    order: usize,
    lr: f32,
    plateau: Plateau,
    best: Option<(f32, usize, Evaluation)>,
    since_best: usize,
    stopped_early: bool,
}

fn damaged(why: &str) -> Error {
    Error::InvalidData(format!("the saved run cannot be read: {why}"))
}

impl Checkpoint {
    pub fn to_bytes(&self) -> Vec<u8> {
        let lengths = |ts: &[Vec<f32>]| ts.iter().map(Vec::len).collect::<Vec<_>>();
        let header = Header {
            epoch: self.snapshot.epoch,
            weights: lengths(&self.snapshot.weights),
            optimizer_step: self.optimizer_step,
            optimizer_state: self.optimizer_state.iter().map(|slots| lengths(slots)).collect(),
            rng: self.rng.clone(),
            order: self.order.len(),
            lr: self.lr,
            plateau: self.plateau.clone(),
            best: self.best.as_ref().map(|(score, s, e)| (*score, s.epoch, *e)),
            since_best: self.since_best,
            stopped_early: self.stopped_early,
        };
        let header = serde_json::to_vec(&header).expect("a header serialises");
        let mut out = MAGIC.to_vec();
        out.extend((header.len() as u64).to_le_bytes());
        out.extend(header);
        let best = self.best.iter().flat_map(|(_, s, _)| &s.weights);
        let floats = self
            .snapshot
            .weights
            .iter()
            .chain(self.optimizer_state.iter().flatten())
            .chain(best);
        for v in floats.flatten() {
            out.extend(v.to_le_bytes());
        }
        for i in &self.order {
            out.extend(i.to_le_bytes());
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let rest = bytes
            .strip_prefix(MAGIC)
            .ok_or_else(|| damaged("it is not a Whetstone run"))?;
        let (len, rest) = rest.split_at_checked(8).ok_or_else(|| damaged("it is cut short"))?;
        let len = u64::from_le_bytes(len.try_into().expect("8 bytes"));
        let (header, mut rest) = rest
            .split_at_checked(usize::try_from(len).map_err(|_| damaged("its header is too long"))?)
            .ok_or_else(|| damaged("it is cut short"))?;
        let h: Header = serde_json::from_slice(header).map_err(|e| damaged(&plain(&e)))?;
        let mut take = |n: usize| -> Result<Vec<f32>, Error> {
            let bytes = n.checked_mul(4).ok_or_else(|| damaged("an array is too long"))?;
            let (head, tail) = rest.split_at_checked(bytes).ok_or_else(|| damaged("it is cut short"))?;
            rest = tail;
            Ok(head
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
                .collect())
        };
        let weights = h.weights.iter().map(|&n| take(n)).collect::<Result<Vec<_>, _>>()?;
        let optimizer_state = h
            .optimizer_state
            .iter()
            .map(|slots| slots.iter().map(|&n| take(n)).collect::<Result<Vec<_>, _>>())
            .collect::<Result<Vec<_>, _>>()?;
        let best = match h.best {
            Some((score, epoch, evaluation)) => Some((
                score,
                Snapshot {
                    epoch,
                    weights: h.weights.iter().map(|&n| take(n)).collect::<Result<Vec<_>, _>>()?,
                },
                evaluation,
            )),
            None => None,
        };
        if rest.len() != h.order.checked_mul(4).ok_or_else(|| damaged("the order is too long"))? {
            return Err(damaged("its sample order does not fill the rest of it"));
        }
        let order = rest
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        Ok(Self {
            snapshot: Snapshot {
                epoch: h.epoch,
                weights,
            },
            optimizer_step: h.optimizer_step,
            optimizer_state,
            rng: h.rng,
            order,
            lr: h.lr,
            plateau: h.plateau,
            best,
            since_best: h.since_best,
            stopped_early: h.stopped_early,
        })
    }
}
