//! Softmax cross-entropy against class-index labels: the gradient of the mean loss, and the batch's
//! loss sum and correct count (`loss.wgsl`).

use super::device::Launch;
use super::kernels::{Kernel, RowsParams};
use super::{tensor, u, Gpu, GpuTensor, Kernels};
use crate::backend::LossOutput;

/// A barrier-free cross-entropy of at most this many logits runs on one thread.
const SERIAL_LIMIT: usize = 4096;

pub(super) fn softmax_cross_entropy(gpu: &Gpu, logits: &GpuTensor, labels: &GpuTensor) -> LossOutput<GpuTensor> {
    let (n, k) = (logits.shape[0], logits.shape[1]);
    assert_eq!(labels.shape, [n], "one label per row");
    let params = RowsParams { rows: u(n), k: u(k) };
    let grad = gpu.empty(&logits.shape);
    if gpu.kernels == Kernels::BarrierFree && n * k <= SERIAL_LIMIT {
        let (loss_sum, correct) = (gpu.empty(&[1]), gpu.empty(&[1]));
        let slots = [
            logits.buffer(),
            labels.buffer(),
            grad.buffer(),
            loss_sum.buffer(),
            correct.buffer(),
        ];
        gpu.ctx.dispatch(
            Kernel::SoftmaxCrossEntropySerial,
            &params,
            &slots,
            Launch::Groups(1, 1, 1),
        );
        return LossOutput {
            loss_sum,
            correct,
            grad,
        };
    }
    let (row_loss, row_correct) = (gpu.empty(&[n]), gpu.empty(&[n]));
    gpu.ctx.dispatch(
        Kernel::SoftmaxCrossEntropy,
        &params,
        &[
            logits.buffer(),
            labels.buffer(),
            grad.buffer(),
            row_loss.buffer(),
            row_correct.buffer(),
        ],
        Launch::Threads(u(n)),
    );
    if gpu.kernels == Kernels::BarrierFree {
        let (loss_sum, correct, unused) = (gpu.empty(&[1]), gpu.empty(&[1]), gpu.empty(&[1]));
        let slots = [
            row_loss.buffer(),
            row_correct.buffer(),
            unused.buffer(),
            loss_sum.buffer(),
            correct.buffer(),
        ];
        gpu.ctx
            .dispatch(Kernel::LossTotalsSerial, &params, &slots, Launch::Groups(1, 1, 1));
        return LossOutput {
            loss_sum,
            correct,
            grad,
        };
    }
    LossOutput {
        loss_sum: tensor::sum_all(gpu, &row_loss),
        correct: tensor::sum_all(gpu, &row_correct),
        grad,
    }
}
