//! The element-wise maths of one LSTM or GRU step, forward and backward (`recurrent.wgsl`); the
//! products around it are `matmul`'s. Every kernel of the file binds all seven buffers, so the
//! host passes an input again, or a scratch buffer, where a kernel has no use for a slot.

use super::device::Launch;
use super::kernels::{Kernel, StepParams};
use super::{count, u, Gpu, GpuTensor};

/// The sizes of a recurrent step at time `t`, after checking its shapes as the CPU does.
fn step_params(xw: &GpuTensor, t: usize, hw: &GpuTensor, state: &GpuTensor, gates: usize) -> StepParams {
    let (n, units) = (state.shape[0], state.shape[1]);
    assert_eq!(hw.shape, [n, gates * units], "recurrent projection shape");
    assert!(
        xw.shape.len() == 3 && xw.shape[1..] == [n, gates * units] && t < xw.shape[0],
        "input projections {:?} at step {t}",
        xw.shape
    );
    StepParams {
        n: u(n),
        units: u(units),
        offset: u(t * n * gates * units),
    }
}

/// The sizes of a backward step over `state` `[n, units]`.
fn backward_params(state: &GpuTensor) -> StepParams {
    StepParams {
        n: u(state.shape[0]),
        units: u(state.shape[1]),
        offset: 0,
    }
}

pub(super) fn lstm_step(
    gpu: &Gpu,
    xw: &GpuTensor,
    t: usize,
    hw: &GpuTensor,
    c_prev: &GpuTensor,
) -> (GpuTensor, GpuTensor, GpuTensor) {
    let p = step_params(xw, t, hw, c_prev, 4);
    let (h, c, gates) = (gpu.empty(&c_prev.shape), gpu.empty(&c_prev.shape), gpu.empty(&hw.shape));
    let slots = [
        xw.buffer(),
        hw.buffer(),
        c_prev.buffer(),
        hw.buffer(),
        h.buffer(),
        c.buffer(),
        gates.buffer(),
    ];
    gpu.ctx
        .dispatch(Kernel::LstmStep, &p, &slots, Launch::Threads(count(&c_prev.shape)));
    (h, c, gates)
}

pub(super) fn lstm_step_backward(
    gpu: &Gpu,
    dh: &GpuTensor,
    dc: &GpuTensor,
    gates: &GpuTensor,
    c_prev: &GpuTensor,
) -> (GpuTensor, GpuTensor) {
    let (dz, dc_prev, scratch) = (gpu.empty(&gates.shape), gpu.empty(&c_prev.shape), gpu.empty(&[1]));
    let slots = [
        dh.buffer(),
        dc.buffer(),
        gates.buffer(),
        c_prev.buffer(),
        dz.buffer(),
        dc_prev.buffer(),
        scratch.buffer(),
    ];
    gpu.ctx.dispatch(
        Kernel::LstmStepBackward,
        &backward_params(c_prev),
        &slots,
        Launch::Threads(count(&c_prev.shape)),
    );
    (dz, dc_prev)
}

pub(super) fn gru_step(
    gpu: &Gpu,
    xw: &GpuTensor,
    t: usize,
    hw: &GpuTensor,
    h_prev: &GpuTensor,
) -> (GpuTensor, GpuTensor) {
    let p = step_params(xw, t, hw, h_prev, 3);
    let (h, gates, scratch) = (gpu.empty(&h_prev.shape), gpu.empty(&hw.shape), gpu.empty(&[1]));
    let slots = [
        xw.buffer(),
        hw.buffer(),
        h_prev.buffer(),
        hw.buffer(),
        h.buffer(),
        gates.buffer(),
        scratch.buffer(),
    ];
    gpu.ctx
        .dispatch(Kernel::GruStep, &p, &slots, Launch::Threads(count(&h_prev.shape)));
    (h, gates)
}

pub(super) fn gru_step_backward(
    gpu: &Gpu,
    dh: &GpuTensor,
    gates: &GpuTensor,
    hw: &GpuTensor,
    h_prev: &GpuTensor,
) -> (GpuTensor, GpuTensor, GpuTensor) {
    let (dxw, dhw, dh_prev) = (
        gpu.empty(&gates.shape),
        gpu.empty(&gates.shape),
        gpu.empty(&h_prev.shape),
    );
    let slots = [
        dh.buffer(),
        gates.buffer(),
        hw.buffer(),
        h_prev.buffer(),
        dxw.buffer(),
        dhw.buffer(),
        dh_prev.buffer(),
    ];
    gpu.ctx.dispatch(
        Kernel::GruStepBackward,
        &backward_params(h_prev),
        &slots,
        Launch::Threads(count(&h_prev.shape)),
    );
    (dxw, dhw, dh_prev)
}
