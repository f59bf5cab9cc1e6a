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

use super::spec::{product, Inferred, Kind, Place};
use super::{Layer, Mode, Param};
use crate::backend::Backend;
use crate::catalogue::{self, boolean, Field, LayerKind};
use crate::onnx::{Attr, Graph};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

/// Long short-term memory over a `[steps, features]` sequence: outputs the last hidden state
/// `[units]`, or every step's `[steps, units]` with `return_sequences`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LstmSpec {
    pub units: usize,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub return_sequences: bool,
}

/// Gated recurrent unit, shaped as [`LstmSpec`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GruSpec {
    pub units: usize,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub return_sequences: bool,
}

fn every_step() -> Field {
    boolean(
        "return_sequences",
        "every step",
        "output every step's state, not only the last",
    )
}

fn infer(cell: Cell, units: usize, return_sequences: bool, input: &[usize]) -> Result<Inferred, String> {
    let &[steps, features] = input else {
        let hint = match *input {
            [c, h, w] => format!(
                "; to read an image row by row, put {{\"type\":\"reshape\",\"shape\":[{h}, {}]}} before it",
                c * w
            ),
            [k] => {
                format!("; to read it one value per step, put {{\"type\":\"reshape\",\"shape\":[{k}, 1]}} before it")
            }
            _ => String::new(),
        };
        return Err(format!("needs a [steps, features] sequence but gets {input:?}{hint}"));
    };
    if units == 0 {
        return Err("units must be at least 1".into());
    }
    let width = cell.gates() * units;
    let biases = match cell {
        Cell::Gru => 2 * width,
        Cell::Lstm => width,
    } as u64;
    // Both products per step, plus one operation per gate element.
    let weights = product(&[features + units, width]);
    Ok(Inferred {
        output: if return_sequences {
            vec![steps, units]
        } else {
            vec![units]
        },
        params: weights + biases,
        flops: product(&[steps]).saturating_mul(2 * weights + width as u64),
    })
}

fn params(cell: Cell, units: usize, input: &[usize]) -> Vec<(String, Vec<usize>)> {
    let width = cell.gates() * units;
    let mut shapes = vec![
        ("weight".into(), vec![input[1], width]),
        ("recurrent_weight".into(), vec![units, width]),
        ("bias".into(), vec![width]),
    ];
    if cell == Cell::Gru {
        shapes.push(("recurrent_bias".into(), vec![width]));
    }
    shapes
}

/// ONNX reads `[steps, batch, features]` and gives Y `[steps, 1, batch, H]` and Y_h `[1, batch, H]`.
fn onnx(cell: Cell, units: usize, return_sequences: bool, graph: &mut Graph, name: &str, x: &str) -> String {
    let time_major = format!("{name}.time_major");
    graph.node(
        "Transpose",
        &format!("{name}.to_time_major"),
        &[x],
        &[&time_major],
        vec![("perm", Attr::Ints(vec![1, 0, 2]))],
    );
    let [w, r, b] = graph.recurrent_initializers(name);
    let (op, mut attrs) = match cell {
        Cell::Lstm => ("LSTM", vec![]),
        Cell::Gru => ("GRU", vec![("linear_before_reset", Attr::Int(1))]),
    };
    attrs.push(("hidden_size", Attr::Int(units as i64)));
    let (sequence, last) = (format!("{name}.sequence"), format!("{name}.last"));
    let outputs = if return_sequences {
        [sequence.as_str(), ""]
    } else {
        ["", last.as_str()]
    };
    graph.node(op, &format!("{name}.cell"), &[&time_major, &w, &r, &b], &outputs, attrs);
    if return_sequences {
        let axes = graph.constant(&format!("{name}.direction_axis"), &[1]);
        let squeezed = graph.op("Squeeze", &format!("{name}.squeeze"), &[&sequence, &axes], vec![]);
        graph.op(
            "Transpose",
            name,
            &[&squeezed],
            vec![("perm", Attr::Ints(vec![1, 0, 2]))],
        )
    } else {
        let axes = graph.constant(&format!("{name}.direction_axis"), &[0]);
        graph.op("Squeeze", name, &[&last, &axes], vec![])
    }
}

/// `model.py`'s LSTM, with Whetstone's weight layout and gate order (input, output, forget, cell).
const LSTM_PY: &str = r#"class Lstm(nn.Module):
    """Long short-term memory over [n, steps, features]: the last hidden state [n, units], or every
    step's [n, steps, units]. Weights as Whetstone's: weight [features, 4·units], recurrent_weight
    [units, 4·units], bias [4·units]; gates in the order input, output, forget, cell."""

    def __init__(self, features, units, return_sequences):
        super().__init__()
        self.return_sequences = return_sequences
        limit = 1 / math.sqrt(units)
        self.weight = nn.Parameter(torch.empty(features, 4 * units).uniform_(-limit, limit))
        self.recurrent_weight = nn.Parameter(torch.empty(units, 4 * units).uniform_(-limit, limit))
        bias = torch.zeros(4 * units)
        bias[2 * units : 3 * units] = 1.0
        self.bias = nn.Parameter(bias)

    def forward(self, x):
        n, steps, _ = x.shape
        units = self.recurrent_weight.shape[0]
        xw = x @ self.weight + self.bias
        h = x.new_zeros(n, units)
        c = x.new_zeros(n, units)
        outputs = []
        for t in range(steps):
            i, o, f, g = (xw[:, t] + h @ self.recurrent_weight).chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            outputs.append(h)
        return torch.stack(outputs, 1) if self.return_sequences else h


def recurrent_output(layer, shape):
    sequences = layer.get("return_sequences", False)
    return sequences, [shape[0], layer["units"]] if sequences else [layer["units"]]


def build_lstm(layer, shape, init):
    sequences, out = recurrent_output(layer, shape)
    return Lstm(shape[1], layer["units"], sequences), out


BUILDERS["lstm"] = build_lstm
"#;

/// `model.py`'s GRU, with Whetstone's weight layout and gate order (update, reset, new), the reset
/// gate applied after the recurrent product.
const GRU_PY: &str = r#"class Gru(nn.Module):
    """Gated recurrent unit over [n, steps, features], shaped as Lstm. Weights as Whetstone's:
    weight [features, 3·units], recurrent_weight [units, 3·units], bias and recurrent_bias
    [3·units]; gates in the order update, reset, new."""

    def __init__(self, features, units, return_sequences):
        super().__init__()
        self.return_sequences = return_sequences
        limit = 1 / math.sqrt(units)
        self.weight = nn.Parameter(torch.empty(features, 3 * units).uniform_(-limit, limit))
        self.recurrent_weight = nn.Parameter(torch.empty(units, 3 * units).uniform_(-limit, limit))
        self.bias = nn.Parameter(torch.zeros(3 * units))
        self.recurrent_bias = nn.Parameter(torch.zeros(3 * units))

    def forward(self, x):
        n, steps, _ = x.shape
        units = self.recurrent_weight.shape[0]
        xw = x @ self.weight + self.bias
        h = x.new_zeros(n, units)
        outputs = []
        for t in range(steps):
            xz, xr, xn = xw[:, t].chunk(3, dim=1)
            hz, hr, hn = (h @ self.recurrent_weight + self.recurrent_bias).chunk(3, dim=1)
            z = torch.sigmoid(xz + hz)
            r = torch.sigmoid(xr + hr)
            h = (1 - z) * torch.tanh(xn + r * hn) + z * h
            outputs.append(h)
        return torch.stack(outputs, 1) if self.return_sequences else h


def build_gru(layer, shape, init):
    sequences, out = recurrent_output(layer, shape)
    return Gru(shape[1], layer["units"], sequences), out


BUILDERS["gru"] = build_gru
"#;

impl Kind for LstmSpec {
    const TORCH: &'static str = LSTM_PY;

    fn entry() -> LayerKind {
        catalogue::layer(
            "lstm",
            "long short-term memory over [steps, features]",
            true,
            vec![catalogue::units(32), every_step()],
        )
    }

    fn sizes(&self) -> Vec<(&'static str, usize)> {
        vec![("units", self.units)]
    }

    fn infer(&self, input: &[usize]) -> Result<Inferred, String> {
        infer(Cell::Lstm, self.units, self.return_sequences, input)
    }

    fn params(&self, input: &[usize]) -> Vec<(String, Vec<usize>)> {
        params(Cell::Lstm, self.units, input)
    }

    fn build<B: Backend>(&self, b: &B, at: Place, rng: &mut Rng) -> Box<dyn Layer<B>> {
        Box::new(Recurrent::new(
            b,
            Cell::Lstm,
            at.input[1],
            self.units,
            self.return_sequences,
            rng,
        ))
    }

    fn onnx(&self, graph: &mut Graph, name: &str, x: &str, _: &[usize]) -> String {
        onnx(Cell::Lstm, self.units, self.return_sequences, graph, name, x)
    }
}

impl Kind for GruSpec {
    /// After the LSTM's, whose `recurrent_output` it uses.
    const TORCH: &'static str = GRU_PY;

    fn entry() -> LayerKind {
        catalogue::layer(
            "gru",
            "gated recurrent unit over [steps, features]",
            true,
            vec![catalogue::units(32), every_step()],
        )
    }

    fn sizes(&self) -> Vec<(&'static str, usize)> {
        vec![("units", self.units)]
    }

    fn infer(&self, input: &[usize]) -> Result<Inferred, String> {
        infer(Cell::Gru, self.units, self.return_sequences, input)
    }

    fn params(&self, input: &[usize]) -> Vec<(String, Vec<usize>)> {
        params(Cell::Gru, self.units, input)
    }

    fn build<B: Backend>(&self, b: &B, at: Place, rng: &mut Rng) -> Box<dyn Layer<B>> {
        Box::new(Recurrent::new(
            b,
            Cell::Gru,
            at.input[1],
            self.units,
            self.return_sequences,
            rng,
        ))
    }

    fn onnx(&self, graph: &mut Graph, name: &str, x: &str, _: &[usize]) -> String {
        onnx(Cell::Gru, self.units, self.return_sequences, graph, name, x)
    }
}

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
