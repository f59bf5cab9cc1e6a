//! The data and the running sums of a run, kept on the device.

use super::*;

/// A data set uploaded to the device once: features `[n, ...sample]` and labels `[n]`.
pub(super) struct DeviceData<B: Backend> {
    pub(super) x: B::Tensor,
    pub(super) y: B::Tensor,
    pub(super) len: usize,
}

impl<B: Backend> DeviceData<B> {
    pub(super) fn upload(b: &B, d: &Dataset) -> Self {
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
pub(super) struct Tally<B: Backend> {
    pub(super) losses: Vec<B::Tensor>,
    pub(super) batch_sizes: Vec<usize>,
    pub(super) correct: Vec<B::Tensor>,
    pub(super) square_norms: Vec<B::Tensor>,
    pub(super) rates: Vec<f32>,
}

/// What a [`Tally`] read back.
pub(super) struct Totals {
    pub(super) loss: f64,
    pub(super) correct: f64,
    pub(super) samples: usize,
    /// Each batch's mean loss.
    pub(super) batch_losses: Vec<f64>,
    pub(super) grad_norms: Vec<f32>,
    pub(super) rates: Vec<f32>,
}

impl<B: Backend> Tally<B> {
    pub(super) fn new() -> Self {
        Self {
            losses: Vec::new(),
            batch_sizes: Vec::new(),
            correct: Vec::new(),
            square_norms: Vec::new(),
            rates: Vec::new(),
        }
    }

    /// Keeps a batch's results on the device; they are only gathered when the tally is taken.
    pub(super) fn add(&mut self, loss_sum: B::Tensor, correct: B::Tensor, samples: usize) {
        self.losses.push(loss_sum);
        self.correct.push(correct);
        self.batch_sizes.push(samples);
    }

    pub(super) async fn take(&mut self, b: &B) -> Result<Totals, DeviceLost> {
        let parts: Vec<&B::Tensor> = self
            .correct
            .iter()
            .chain(&self.losses)
            .chain(&self.square_norms)
            .collect();
        let values = b.read(&b.concat(&parts)).await?;
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
        Ok(totals)
    }
}
