//! Recurrent layers, LSTM and GRU, trained by backpropagation through time.
//!
//! The input `[n, steps, features]` is turned time-major once, and every step's input projection
//! `x_t·W + b` comes from one product over all steps. Each step then adds `h_{t−1}·W_h` and runs the
//! cell's element-wise maths (a backend op). The backward pass walks the steps in reverse, carrying
//! `dL/dh` (and the LSTM's `dL/dc`) back one step at a time, and collects every step's gate
//! gradients so that the weight gradients are again one product each over all steps.
//!
//! Weights are `weight` `[features, G·H]`, `recurrent_weight` `[H, G·H]`, `bias` `[G·H]` and, for
//! the GRU, `recurrent_bias` `[G·H]` (G = 4 gates for the LSTM, 3 for the GRU), gates in ONNX's order.

use super::{Layer, Mode, Param};
use crate::backend::Backend;
use crate::rng::Rng;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cell {
    Lstm,
    Gru,
}

impl Cell {
    pub fn gates(self) -> usize {
        match self {
            Cell::Lstm => 4,
            Cell::Gru => 3,
        }
    }
}

/// What a training-mode forward pass keeps for the backward pass, per step in time order.
struct Cache<B: Backend> {
    /// The input, time-major, as `[steps·n, features]`.
    input: B::Tensor,
    /// `h_0` (zeros) to `h_{steps−1}`: each step's previous hidden state.
    previous: Vec<B::Tensor>,
    /// The LSTM's `c_0` (zeros) to `c_{steps−1}`; empty for the GRU.
    cells: Vec<B::Tensor>,
    gates: Vec<B::Tensor>,
    /// The GRU's `h_{t−1}·W_h + b_h`; empty for the LSTM.
    projections: Vec<B::Tensor>,
}

pub struct Recurrent<B: Backend> {
    cell: Cell,
    units: usize,
    return_sequences: bool,
    weight: Param<B>,
    recurrent_weight: Param<B>,
    bias: Param<B>,
    recurrent_bias: Option<Param<B>>,
    cache: Option<Cache<B>>,
}

impl<B: Backend> Recurrent<B> {
    /// Weights uniform in ±1/√H (as PyTorch and cuDNN initialise them), biases zero except the
    /// LSTM's forget gate, which starts at 1 so that the cell remembers by default.
    pub fn new(b: &B, cell: Cell, features: usize, units: usize, return_sequences: bool, rng: &mut Rng) -> Self {
        let width = cell.gates() * units;
        let limit = 1.0 / (units as f32).sqrt();
        let mut uniform = |n: usize| {
            (0..n)
                .map(|_| (2.0 * rng.uniform() - 1.0) * limit)
                .collect::<Vec<f32>>()
        };
        let weight = Param::weight(b.upload(&uniform(features * width), &[features, width]));
        let recurrent_weight = Param::weight(b.upload(&uniform(units * width), &[units, width]));
        let mut bias = vec![0.0; width];
        if cell == Cell::Lstm {
            bias[2 * units..3 * units].fill(1.0);
        }
        let recurrent_bias = (cell == Cell::Gru).then(|| Param::bias(b.zeros(&[width])));
        Self {
            cell,
            units,
            return_sequences,
            weight,
            recurrent_weight,
            bias: Param::bias(b.upload(&bias, &[width])),
            recurrent_bias,
            cache: None,
        }
    }
}

impl<B: Backend> Layer<B> for Recurrent<B> {
    fn forward(&mut self, b: &B, x: B::Tensor, mode: Mode) -> B::Tensor {
        let shape = B::shape(&x);
        let (n, steps, features) = (shape[0], shape[1], shape[2]);
        let width = self.cell.gates() * self.units;
        let input = b.reshape(&b.swap_leading(&x), &[steps * n, features]);
        let xw = b.reshape(
            &b.dense(&input, &self.weight.value, &self.bias.value),
            &[steps, n, width],
        );
        let mut h = b.zeros(&[n, self.units]);
        let mut c = b.zeros(&[n, self.units]);
        let mut cache = Cache {
            input,
            previous: Vec::new(),
            cells: Vec::new(),
            gates: Vec::new(),
            projections: Vec::new(),
        };
        let mut outputs = Vec::new();
        for t in 0..steps {
            let next = match self.cell {
                Cell::Lstm => {
                    let hw = b.matmul(&h, &self.recurrent_weight.value, false, false);
                    let (next, c_next, gates) = b.lstm_step(&xw, t, &hw, &c);
                    cache.cells.push(std::mem::replace(&mut c, c_next));
                    cache.gates.push(gates);
                    next
                }
                Cell::Gru => {
                    let hw = b.dense(
                        &h,
                        &self.recurrent_weight.value,
                        &self.recurrent_bias.as_ref().expect("a GRU has a recurrent bias").value,
                    );
                    let (next, gates) = b.gru_step(&xw, t, &hw, &h);
                    cache.gates.push(gates);
                    cache.projections.push(hw);
                    next
                }
            };
            if self.return_sequences {
                outputs.push(next.clone());
            }
            cache.previous.push(std::mem::replace(&mut h, next));
        }
        self.cache = matches!(mode, Mode::Train { .. }).then_some(cache);
        if self.return_sequences {
            let sequence = b.concat(&outputs.iter().collect::<Vec<_>>());
            b.swap_leading(&b.reshape(&sequence, &[steps, n, self.units]))
        } else {
            h
        }
    }

    fn backward(&mut self, b: &B, dy: B::Tensor, input_grad: bool) -> Option<B::Tensor> {
        let cache = self
            .cache
            .take()
            .expect("a recurrent layer's backward pass follows a training-mode forward pass");
        let steps = cache.previous.len();
        let n = B::shape(&cache.previous[0])[0];
        let width = self.cell.gates() * self.units;
        // dL/dh_t from the layer's output: every step's with `return_sequences`, else the last one's.
        let from_output = self
            .return_sequences
            .then(|| b.reshape(&b.swap_leading(&dy), &[steps, n * self.units]));
        let output_grad = |t: usize| match &from_output {
            Some(all) => Some(b.reshape(&b.gather_rows(all, &[t as u32]), &[n, self.units])),
            None => (t + 1 == steps).then(|| dy.clone()),
        };
        let mut dh_next: Option<B::Tensor> = None;
        let mut dc = b.zeros(&[n, self.units]);
        let (mut input_grads, mut recurrent_grads) = (Vec::with_capacity(steps), Vec::with_capacity(steps));
        for t in (0..steps).rev() {
            let dh = match (output_grad(t), dh_next.take()) {
                (Some(mut g), Some(next)) => {
                    b.add_assign(&mut g, &next);
                    g
                }
                (Some(g), None) | (None, Some(g)) => g,
                (None, None) => b.zeros(&[n, self.units]),
            };
            let recurrent = match self.cell {
                Cell::Lstm => {
                    let (dz, dc_prev) = b.lstm_step_backward(&dh, &dc, &cache.gates[t], &cache.cells[t]);
                    dc = dc_prev;
                    input_grads.push(dz.clone());
                    (t > 0).then(|| b.matmul(&dz, &self.recurrent_weight.value, false, true))
                }
                Cell::Gru => {
                    let (dxw, dhw, direct) =
                        b.gru_step_backward(&dh, &cache.gates[t], &cache.projections[t], &cache.previous[t]);
                    input_grads.push(dxw);
                    let through = (t > 0).then(|| {
                        let mut g = b.matmul(&dhw, &self.recurrent_weight.value, false, true);
                        b.add_assign(&mut g, &direct);
                        g
                    });
                    recurrent_grads.push(dhw);
                    through
                }
            };
            dh_next = recurrent;
        }
        // Back to time order, then one product per weight over every step.
        let time_major = |mut grads: Vec<B::Tensor>| {
            grads.reverse();
            b.reshape(&b.concat(&grads.iter().collect::<Vec<_>>()), &[steps * n, width])
        };
        let dxw = time_major(input_grads);
        let previous = b.reshape(
            &b.concat(&cache.previous.iter().collect::<Vec<_>>()),
            &[steps * n, self.units],
        );
        let dhw = if recurrent_grads.is_empty() {
            dxw.clone()
        } else {
            time_major(recurrent_grads)
        };
        self.weight.grad = Some(b.matmul(&cache.input, &dxw, true, false));
        self.bias.grad = Some(b.bias_grad(&dxw));
        self.recurrent_weight.grad = Some(b.matmul(&previous, &dhw, true, false));
        if let Some(recurrent_bias) = &mut self.recurrent_bias {
            recurrent_bias.grad = Some(b.bias_grad(&dhw));
        }
        input_grad.then(|| {
            let features = B::shape(&self.weight.value)[0];
            let dx = b.matmul(&dxw, &self.weight.value, false, true);
            b.swap_leading(&b.reshape(&dx, &[steps, n, features]))
        })
    }

    fn params(&mut self) -> Vec<&mut Param<B>> {
        let mut params = vec![&mut self.weight, &mut self.recurrent_weight, &mut self.bias];
        params.extend(self.recurrent_bias.as_mut());
        params
    }
}
