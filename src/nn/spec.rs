//! The serialisable description of a model, its validation and its summary (shapes, parameters,
//! FLOPs), computed without building anything.

use super::recurrent::Cell;
use crate::error::{plain, Error};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// He (Kaiming) normal, std = √(2 / fan_in): keeps ReLU activations' variance constant.
    He,
    /// Xavier (Glorot) uniform, limit = √(6 / (fan_in + fan_out)): for tanh, sigmoid and linear outputs.
    Xavier,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum LayerSpec {
    Dense {
        units: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        init: Option<Init>,
    },
    Conv2d {
        filters: usize,
        kernel: usize,
        #[serde(default = "one")]
        stride: usize,
        #[serde(default)]
        padding: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        init: Option<Init>,
    },
    MaxPool2d {
        size: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stride: Option<usize>,
    },
    AvgPool2d {
        size: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stride: Option<usize>,
    },
    Flatten,
    /// The same values under a new per-sample shape with as many elements, e.g. an image
    /// `[1, 28, 28]` as a sequence `[28, 28]` of 28 rows.
    Reshape {
        shape: Vec<usize>,
    },
    /// Long short-term memory over a `[steps, features]` sequence: outputs the last hidden state
    /// `[units]`, or every step's `[steps, units]` with `return_sequences`.
    Lstm {
        units: usize,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        return_sequences: bool,
    },
    /// Gated recurrent unit, shaped as [`LayerSpec::Lstm`].
    Gru {
        units: usize,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        return_sequences: bool,
    },
    Relu,
    LeakyRelu {
        #[serde(default = "leaky_default")]
        alpha: f32,
    },
    Tanh,
    Sigmoid,
    /// The Gaussian error linear unit (tanh form), as Transformers use it.
    Gelu,
    Dropout {
        rate: f32,
    },
    /// A skip connection around `layers`: the block gives `x + layers(x)`, so its layers must keep
    /// the shape of `x`.
    Residual {
        layers: Vec<LayerSpec>,
    },
    /// Per-channel normalisation of `[c]` or `[c, h, w]` activations (see `nn::norm`).
    BatchNorm {
        #[serde(default = "default_bn_momentum")]
        momentum: f32,
        #[serde(default = "default_norm_eps")]
        eps: f32,
    },
    /// Normalisation of each sample's features (each step's, for a sequence): see `nn::layer_norm`.
    LayerNorm {
        #[serde(default = "default_norm_eps")]
        eps: f32,
    },
}

fn default_bn_momentum() -> f32 {
    0.1
}

fn default_norm_eps() -> f32 {
    1e-5
}

fn one() -> usize {
    1
}

fn leaky_default() -> f32 {
    0.01
}

impl LayerSpec {
    pub fn kind(&self) -> &'static str {
        match self {
            LayerSpec::Dense { .. } => "dense",
            LayerSpec::Conv2d { .. } => "conv2d",
            LayerSpec::MaxPool2d { .. } => "max_pool2d",
            LayerSpec::AvgPool2d { .. } => "avg_pool2d",
            LayerSpec::Flatten => "flatten",
            LayerSpec::Reshape { .. } => "reshape",
            LayerSpec::Lstm { .. } => "lstm",
            LayerSpec::Gru { .. } => "gru",
            LayerSpec::Relu => "relu",
            LayerSpec::LeakyRelu { .. } => "leaky_relu",
            LayerSpec::Tanh => "tanh",
            LayerSpec::Sigmoid => "sigmoid",
            LayerSpec::Gelu => "gelu",
            LayerSpec::Dropout { .. } => "dropout",
            LayerSpec::BatchNorm { .. } => "batch_norm",
            LayerSpec::LayerNorm { .. } => "layer_norm",
            LayerSpec::Residual { .. } => "residual",
        }
    }

    /// The cell of a recurrent layer.
    pub(super) fn cell(&self) -> Option<Cell> {
        match self {
            LayerSpec::Lstm { .. } => Some(Cell::Lstm),
            LayerSpec::Gru { .. } => Some(Cell::Gru),
            _ => None,
        }
    }

    /// The settings that size a layer, by name, for the size limit.
    fn sizes(&self) -> Vec<(&'static str, usize)> {
        match *self {
            LayerSpec::Dense { units, .. } | LayerSpec::Lstm { units, .. } | LayerSpec::Gru { units, .. } => {
                vec![("units", units)]
            }
            LayerSpec::Conv2d {
                filters,
                kernel,
                stride,
                padding,
                ..
            } => vec![
                ("filters", filters),
                ("kernel", kernel),
                ("stride", stride),
                ("padding", padding),
            ],
            LayerSpec::MaxPool2d { size, stride } | LayerSpec::AvgPool2d { size, stride } => {
                vec![("size", size), ("stride", stride.unwrap_or(size))]
            }
            LayerSpec::Reshape { ref shape } => shape.iter().map(|&d| ("each axis of the shape", d)).collect(),
            _ => Vec::new(),
        }
    }

    fn is_rectifier(&self) -> bool {
        matches!(self, LayerSpec::Relu | LayerSpec::LeakyRelu { .. })
    }
}

/// A model: the shape of one input sample and the layers in order. The last layer's output is the
/// logits; the loss (softmax cross-entropy) is not a layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    pub input: Vec<usize>,
    pub layers: Vec<LayerSpec>,
}

/// The largest size a layer setting or an axis may have (units, filters, a kernel, a padding, a
/// dimension of a shape), so that no size arithmetic can overflow, on wasm32 either.
pub const MAX_SIZE: usize = 1 << 20;
/// The most parameters a model may have: their values, gradients, optimiser moments and
/// snapshots must fit in one browser tab's memory (about 24 bytes a parameter).
pub const MAX_PARAMS: u64 = 50_000_000;
/// The most values one layer may output for one sample.
pub const MAX_OUTPUT: u64 = 1 << 27;
/// Bytes a training run may hold for its activations (each layer's output and its gradient, for
/// a whole batch).
pub const ACTIVATION_BUDGET: u64 = 1 << 30;

/// The first setting of `layer` (a JSON object) that does not hold what the core's catalogue says
/// it takes, named with what it takes.
fn field_problem(layer: &serde_json::Value) -> Option<String> {
    use crate::catalogue::FieldKind;
    let kind = layer.get("type")?.as_str()?;
    let entry = crate::catalogue::layers()
        .into_iter()
        .find(|l| l.entry.name == kind)?
        .entry;
    entry.fields.into_iter().find_map(|f| {
        let v = layer.get(f.name)?;
        let at_least = f.min.map(|m| format!(" of at least {m}")).unwrap_or_default();
        let (fits, takes) = match f.kind {
            FieldKind::Integer => (
                v.as_u64().is_some_and(|n| f.min.is_none_or(|m| n as f64 >= m)),
                format!("a whole number{at_least}"),
            ),
            FieldKind::Number => (v.as_f64().is_some(), "a number".into()),
            FieldKind::Boolean => (v.is_boolean(), "true or false".into()),
            FieldKind::List => (
                v.as_array()
                    .is_some_and(|a| !a.is_empty() && a.iter().all(|x| x.as_u64().is_some_and(|n| n > 0))),
                "whole numbers of at least 1, separated by commas".into(),
            ),
            FieldKind::Choice | FieldKind::Columns => (true, String::new()),
        };
        (!fits).then(|| format!("{} must be {takes}, got {v}", f.name))
    })
}

/// The product of `factors` in 64 bits, saturating instead of overflowing.
fn product(factors: &[usize]) -> u64 {
    factors.iter().fold(1u64, |p, &f| p.saturating_mul(f as u64))
}

/// `n` with thousands separated by commas, as messages write sizes.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One row of a model summary, for one sample.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerSummary {
    pub index: usize,
    pub kind: &'static str,
    pub output: Vec<usize>,
    pub params: u64,
    /// Forward floating-point operations (a multiply-add counts two).
    pub flops: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelSummary {
    pub input: Vec<usize>,
    pub layers: Vec<LayerSummary>,
    pub params: u64,
    pub flops: u64,
    pub output: Vec<usize>,
}

impl ModelSummary {
    /// Values one sample's pass holds: every layer's output (a residual block's inner layers
    /// counted in its own row's output only).
    pub fn activations(&self) -> u64 {
        self.layers
            .iter()
            .fold(product(&self.input), |sum, l| sum.saturating_add(product(&l.output)))
    }

    /// The largest batch whose activations and their gradients (4 bytes a value) fit in the budget.
    pub fn largest_batch(&self) -> u64 {
        ACTIVATION_BUDGET / self.activations().saturating_mul(2 * 4).max(1)
    }

    /// Refuses a batch whose activations (and their gradients) would not fit in the budget,
    /// naming the largest batch that does.
    pub fn check_batch(&self, batch: usize) -> Result<(), Error> {
        let per_sample = self.activations().saturating_mul(2 * 4);
        if batch as u64 <= self.largest_batch() {
            return Ok(());
        }
        if self.largest_batch() == 0 {
            return Err(Error::InvalidSpec(format!(
                "one sample needs {} MB for this model's activations, over the {} MB a run may use; make its layers smaller",
                grouped(per_sample >> 20),
                ACTIVATION_BUDGET >> 20
            )));
        }
        Err(Error::InvalidConfig(format!(
            "a batch of {} samples needs {} MB for this model's activations, over the {} MB a run may use; a batch of at most {} fits",
            grouped(batch as u64),
            grouped(per_sample.saturating_mul(batch as u64) >> 20),
            ACTIVATION_BUDGET >> 20,
            grouped(self.largest_batch()),
        )))
    }
}

impl ModelSpec {
    pub fn from_json(json: &str) -> Result<Self, Error> {
        let value: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| Error::InvalidSpec(format!("the model spec is not valid JSON: {}", plain(&e))))?;
        // Each layer read alone, so that a bad one is named by its place.
        if let Some(layers) = value.get("layers").and_then(serde_json::Value::as_array) {
            for (i, layer) in layers.iter().enumerate() {
                if let Err(e) = LayerSpec::deserialize(layer) {
                    let kind = layer
                        .get("type")
                        .and_then(serde_json::Value::as_str)
                        .unwrap_or("no type");
                    let why = field_problem(layer).unwrap_or_else(|| plain(&e));
                    return Err(Error::InvalidSpec(format!("layer {} ({kind}): {why}", i + 1)));
                }
            }
        }
        serde_json::from_value(value).map_err(|e| Error::InvalidSpec(format!("the model spec: {}", plain(&e))))
    }

    /// The initialisation each weighted layer gets: its own choice, else He when a rectifier
    /// follows it and Xavier otherwise.
    pub fn init_for(&self, index: usize) -> Init {
        let own = match &self.layers[index] {
            LayerSpec::Dense { init, .. } | LayerSpec::Conv2d { init, .. } => *init,
            _ => None,
        };
        own.unwrap_or_else(|| match self.layers.get(index + 1) {
            Some(next) if next.is_rectifier() => Init::He,
            _ => Init::Xavier,
        })
    }

    /// Infers every layer's output shape and counts parameters and FLOPs; the first layer whose
    /// input does not fit is named in the error.
    pub fn summary(&self) -> Result<ModelSummary, Error> {
        if self.input.is_empty() || self.input.contains(&0) {
            return Err(Error::InvalidSpec(format!(
                "input shape {:?} must be non-empty with no zero sizes",
                self.input
            )));
        }
        if let Some(&big) = self.input.iter().find(|&&d| d > MAX_SIZE) {
            return Err(Error::InvalidSpec(format!(
                "an input axis of {} is over the limit of {}",
                grouped(big as u64),
                grouped(MAX_SIZE as u64)
            )));
        }
        if product(&self.input) > MAX_OUTPUT {
            return Err(Error::InvalidSpec(format!(
                "an input of {:?} is {} values a sample, over the limit of {}",
                self.input,
                grouped(product(&self.input)),
                grouped(MAX_OUTPUT)
            )));
        }
        if self.layers.is_empty() {
            return Err(Error::InvalidSpec("the model has no layers".into()));
        }
        let (rows, shape) = layer_rows(&self.input, &self.layers)?;
        // The first layer that takes the model over the parameter budget is named.
        let mut params = 0u64;
        for row in &rows {
            params = params.saturating_add(row.params);
            if params > MAX_PARAMS {
                return Err(Error::InvalidSpec(format!(
                    "layer {} ({}) brings the model to {} parameters; a model trained in the browser may have up to {}",
                    row.index,
                    row.kind,
                    grouped(params),
                    grouped(MAX_PARAMS)
                )));
            }
        }
        if shape.len() != 1 {
            return Err(Error::InvalidSpec(format!("the last layer must output class scores [classes], but it outputs {shape:?}; end with flatten and dense")));
        }
        Ok(ModelSummary {
            input: self.input.clone(),
            params,
            flops: rows.iter().fold(0u64, |sum, r| sum.saturating_add(r.flops)),
            layers: rows,
            output: shape,
        })
    }
}

/// Each layer's output shape, parameters and FLOPs from `input` on, and the last output shape; the
/// first layer whose input does not fit is named in the error.
pub(super) fn layer_rows(input: &[usize], layers: &[LayerSpec]) -> Result<(Vec<LayerSummary>, Vec<usize>), Error> {
    let mut shape = input.to_vec();
    let mut rows = Vec::with_capacity(layers.len());
    for (index, layer) in layers.iter().enumerate() {
        let fail = |why: String| Error::InvalidSpec(format!("layer {} ({}): {why}", index + 1, layer.kind()));
        if let Some((name, size)) = layer.sizes().into_iter().find(|&(_, size)| size > MAX_SIZE) {
            return Err(fail(format!(
                "{name} must be at most {}, got {}",
                grouped(MAX_SIZE as u64),
                grouped(size as u64)
            )));
        }
        let elements = product(&shape);
        let (output, params, flops) = match *layer {
            LayerSpec::Dense { units, .. } => {
                if shape.len() != 1 {
                    return Err(fail(format!(
                        "needs a flat input but gets {shape:?}; add a flatten layer before it"
                    )));
                }
                if units == 0 {
                    return Err(fail("units must be at least 1".into()));
                }
                (
                    vec![units],
                    product(&[shape[0], units]) + units as u64,
                    product(&[2, shape[0], units]),
                )
            }
            LayerSpec::Conv2d {
                filters,
                kernel,
                stride,
                padding,
                ..
            } => {
                if shape.len() != 3 {
                    return Err(fail(format!(
                        "needs a [channels, height, width] input but gets {shape:?}"
                    )));
                }
                if filters == 0 || kernel == 0 || stride == 0 {
                    return Err(fail("filters, kernel and stride must be at least 1".into()));
                }
                let g = crate::backend::Conv2dGeometry { stride, padding };
                let (Some(oh), Some(ow)) = (g.output_extent(shape[1], kernel), g.output_extent(shape[2], kernel))
                else {
                    return Err(fail(format!(
                        "a {kernel}x{kernel} kernel does not fit a {}x{} input with padding {padding}",
                        shape[1], shape[2]
                    )));
                };
                (
                    vec![filters, oh, ow],
                    product(&[filters, shape[0], kernel, kernel]) + filters as u64,
                    product(&[2, shape[0], kernel, kernel, filters, oh, ow]),
                )
            }
            LayerSpec::MaxPool2d { size, stride } | LayerSpec::AvgPool2d { size, stride } => {
                if shape.len() != 3 {
                    return Err(fail(format!(
                        "needs a [channels, height, width] input but gets {shape:?}"
                    )));
                }
                let g = crate::backend::PoolGeometry {
                    size,
                    stride: stride.unwrap_or(size),
                };
                if size == 0 || g.stride == 0 {
                    return Err(fail("size and stride must be at least 1".into()));
                }
                let (Some(oh), Some(ow)) = (g.output_extent(shape[1]), g.output_extent(shape[2])) else {
                    return Err(fail(format!(
                        "a {size}x{size} window does not fit a {}x{} input",
                        shape[1], shape[2]
                    )));
                };
                (vec![shape[0], oh, ow], 0, product(&[shape[0], oh, ow, size, size]))
            }
            LayerSpec::Flatten => (vec![elements as usize], 0, 0),
            LayerSpec::Reshape { shape: ref target } => {
                if target.is_empty() || target.contains(&0) || product(target) != elements {
                    return Err(fail(format!("cannot reshape {shape:?} ({elements} values) into {target:?}; the sizes must multiply to {elements}")));
                }
                (target.clone(), 0, 0)
            }
            LayerSpec::Lstm {
                units,
                return_sequences,
            }
            | LayerSpec::Gru {
                units,
                return_sequences,
            } => {
                if shape.len() != 2 {
                    let hint = match shape[..] {
                        [c, h, w] => format!("; to read an image row by row, put {{\"type\":\"reshape\",\"shape\":[{h}, {}]}} before it", c * w),
                        [k] => format!("; to read it one value per step, put {{\"type\":\"reshape\",\"shape\":[{k}, 1]}} before it"),
                        _ => String::new(),
                    };
                    return Err(fail(format!(
                        "needs a [steps, features] sequence but gets {shape:?}{hint}"
                    )));
                }
                if units == 0 {
                    return Err(fail("units must be at least 1".into()));
                }
                let (steps, features, gates) = (shape[0], shape[1], layer.cell().expect("a recurrent layer").gates());
                let width = gates * units;
                let output = if return_sequences {
                    vec![steps, units]
                } else {
                    vec![units]
                };
                let biases = if layer.cell() == Some(Cell::Gru) {
                    2 * width
                } else {
                    width
                } as u64;
                // Both products per step, plus one operation per gate element.
                let weights = product(&[features + units, width]);
                (
                    output,
                    weights + biases,
                    product(&[steps]).saturating_mul(2 * weights + width as u64),
                )
            }
            LayerSpec::Relu | LayerSpec::LeakyRelu { .. } | LayerSpec::Tanh | LayerSpec::Sigmoid | LayerSpec::Gelu => {
                (shape.clone(), 0, elements)
            }
            LayerSpec::Dropout { rate } => {
                if !(0.0..1.0).contains(&rate) {
                    return Err(fail(format!("rate must be in [0, 1), got {rate}")));
                }
                (shape.clone(), 0, elements)
            }
            LayerSpec::BatchNorm { momentum, eps } => {
                if shape.len() != 1 && shape.len() != 3 {
                    return Err(fail(format!(
                        "normalises [channels] or [channels, height, width] inputs, not {shape:?}"
                    )));
                }
                if !(momentum > 0.0 && momentum <= 1.0 && eps > 0.0) {
                    return Err(fail(format!(
                        "momentum must be in (0, 1] and eps positive, got {momentum} and {eps}"
                    )));
                }
                // γ and β are learned; the running mean and variance are not counted.
                (shape.clone(), 2 * shape[0] as u64, 4 * elements)
            }
            LayerSpec::LayerNorm { eps } => {
                let (Some(&features), 1..=2) = (shape.last(), shape.len()) else {
                    return Err(fail(format!(
                        "normalises [features] or [steps, features] inputs, not {shape:?}; put a flatten before it"
                    )));
                };
                if eps.is_nan() || eps <= 0.0 {
                    return Err(fail(format!("eps must be positive, got {eps}")));
                }
                // Two passes for the moments, one to normalise, scale and shift.
                (shape.clone(), 2 * features as u64, 5 * elements)
            }
            LayerSpec::Residual { ref layers } => {
                if layers.is_empty() {
                    return Err(fail("a residual block needs at least one layer".into()));
                }
                let (inner, out) = layer_rows(&shape, layers).map_err(|e| fail(format!("inside the block, {e}")))?;
                if out != shape {
                    return Err(fail(format!("its layers turn {shape:?} into {out:?}, but a residual block must keep the shape to add its input")));
                }
                (
                    shape.clone(),
                    inner.iter().fold(0u64, |sum, r| sum.saturating_add(r.params)),
                    inner.iter().fold(elements, |sum, r| sum.saturating_add(r.flops)),
                )
            }
        };
        let values = product(&output);
        if values > MAX_OUTPUT {
            return Err(fail(format!(
                "it outputs {} values per sample ({output:?}), over the limit of {}",
                grouped(values),
                grouped(MAX_OUTPUT)
            )));
        }
        rows.push(LayerSummary {
            index: index + 1,
            kind: layer.kind(),
            output: output.clone(),
            params,
            flops,
        });
        shape = output;
    }
    Ok((rows, shape))
}

impl ModelSpec {
    /// The name and shape of every parameter tensor, in the order the model holds them:
    /// `layers.{i}.weight` then `layers.{i}.bias` for each layer `i` (from 0) that has weights.
    pub fn param_shapes(&self) -> Result<Vec<(String, Vec<usize>)>, Error> {
        self.summary()?;
        let mut shapes = Vec::new();
        param_shapes_of("layers.", &self.input, &self.layers, &mut shapes)?;
        Ok(shapes)
    }
}

/// The parameter tensors of `layers` from `input` on, named under `prefix` (a residual block's
/// inner layers as `layers.{i}.layers.{j}.*`).
fn param_shapes_of(
    prefix: &str,
    input: &[usize],
    layers: &[LayerSpec],
    shapes: &mut Vec<(String, Vec<usize>)>,
) -> Result<(), Error> {
    let (rows, _) = layer_rows(input, layers)?;
    for (i, layer) in layers.iter().enumerate() {
        let input = if i == 0 { input } else { &rows[i - 1].output };
        if let LayerSpec::Residual { layers: inner } = layer {
            param_shapes_of(&format!("{prefix}{i}.layers."), input, inner, shapes)?;
            continue;
        }
        if let LayerSpec::Lstm { units, .. } | LayerSpec::Gru { units, .. } = *layer {
            let width = layer.cell().expect("a recurrent layer").gates() * units;
            shapes.push((format!("{prefix}{i}.weight"), vec![input[1], width]));
            shapes.push((format!("{prefix}{i}.recurrent_weight"), vec![units, width]));
            shapes.push((format!("{prefix}{i}.bias"), vec![width]));
            if layer.cell() == Some(Cell::Gru) {
                shapes.push((format!("{prefix}{i}.recurrent_bias"), vec![width]));
            }
            continue;
        }
        let (weight, units) = match *layer {
            LayerSpec::Dense { units, .. } => (vec![input[0], units], units),
            LayerSpec::Conv2d { filters, kernel, .. } => (vec![filters, input[0], kernel, kernel], filters),
            LayerSpec::BatchNorm { .. } => (vec![input[0]], input[0]),
            LayerSpec::LayerNorm { .. } => (vec![input[input.len() - 1]], input[input.len() - 1]),
            _ => continue,
        };
        shapes.push((format!("{prefix}{i}.weight"), weight));
        shapes.push((format!("{prefix}{i}.bias"), vec![units]));
        if matches!(layer, LayerSpec::BatchNorm { .. }) {
            shapes.push((format!("{prefix}{i}.running_mean"), vec![units]));
            shapes.push((format!("{prefix}{i}.running_var"), vec![units]));
        }
    }
    Ok(())
}

/// The built-in model presets: for 28×28 grey digits (mlp, cnn), 2-D points (toy) and sequences
/// `[steps, features]` (gru, lstm; mlp too).
pub fn preset(name: &str, input: &[usize], classes: usize) -> Result<ModelSpec, Error> {
    use LayerSpec::*;
    let layers = match name {
        "mlp" => vec![
            Flatten,
            Dense { units: 128, init: None },
            Relu,
            Dense {
                units: classes,
                init: None,
            },
        ],
        "cnn" => vec![
            Conv2d {
                filters: 8,
                kernel: 5,
                stride: 1,
                padding: 2,
                init: None,
            },
            Relu,
            MaxPool2d { size: 2, stride: None },
            Conv2d {
                filters: 16,
                kernel: 5,
                stride: 1,
                padding: 0,
                init: None,
            },
            Relu,
            MaxPool2d { size: 2, stride: None },
            Flatten,
            Dense { units: 64, init: None },
            Relu,
            Dense {
                units: classes,
                init: None,
            },
        ],
        "toy" => vec![
            Dense { units: 16, init: None },
            Tanh,
            Dense { units: 16, init: None },
            Tanh,
            Dense {
                units: classes,
                init: None,
            },
        ],
        "gru" => vec![
            Gru {
                units: 32,
                return_sequences: false,
            },
            Dense {
                units: classes,
                init: None,
            },
        ],
        "lstm" => vec![
            Lstm {
                units: 32,
                return_sequences: false,
            },
            Dense {
                units: classes,
                init: None,
            },
        ],
        _ => {
            return Err(Error::InvalidSpec(format!(
                "unknown preset '{name}' (known: mlp, cnn, toy, gru, lstm)"
            )))
        }
    };
    Ok(ModelSpec {
        input: input.to_vec(),
        layers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn param_shapes_name_and_shape_what_the_model_holds() {
        use crate::backend::cpu::Cpu;
        use crate::backend::Backend;
        for name in ["mlp", "cnn"] {
            let spec = preset(name, &[1, 28, 28], 10).unwrap();
            let named = spec.param_shapes().unwrap();
            let mut model = crate::nn::Model::new(&Cpu, spec.clone(), 1).unwrap();
            let held: Vec<Vec<usize>> = model.params().iter().map(|p| Cpu::shape(&p.value)).collect();
            assert_eq!(named.iter().map(|(_, s)| s.clone()).collect::<Vec<_>>(), held, "{name}");
            assert_eq!(
                named.iter().map(|(_, s)| s.iter().product::<usize>()).sum::<usize>() as u64,
                spec.summary().unwrap().params
            );
        }
        let cnn = preset("cnn", &[1, 28, 28], 10).unwrap().param_shapes().unwrap();
        assert_eq!(cnn[0], ("layers.0.weight".to_string(), vec![8, 1, 5, 5]));
        assert_eq!(cnn[7], ("layers.9.bias".to_string(), vec![10]));
    }

    #[test]
    fn a_residual_block_keeps_its_shape_and_names_its_inner_weights() {
        let spec = ModelSpec::from_json(
            r#"{"input":[3,8,8],"layers":[{"type":"residual","layers":[{"type":"conv2d","filters":3,"kernel":3,"padding":1},{"type":"batch_norm"},{"type":"relu"}]},{"type":"flatten"},{"type":"dense","units":2}]}"#,
        )
        .unwrap();
        let s = spec.summary().unwrap();
        assert_eq!(s.layers[0].output, [3, 8, 8]);
        assert_eq!(s.layers[0].params, 3 * 3 * 9 + 3 + 2 * 3);
        let names: Vec<String> = spec.param_shapes().unwrap().into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names[..3],
            [
                "layers.0.layers.0.weight",
                "layers.0.layers.0.bias",
                "layers.0.layers.1.weight"
            ]
        );
        assert_eq!(names.last().unwrap(), "layers.2.bias");
        let mut model = crate::nn::Model::new(&crate::backend::cpu::Cpu, spec.clone(), 1).unwrap();
        assert_eq!(model.params().len(), names.len());
        let shrinking = ModelSpec::from_json(r#"{"input":[3,8,8],"layers":[{"type":"residual","layers":[{"type":"conv2d","filters":3,"kernel":3}]},{"type":"flatten"},{"type":"dense","units":2}]}"#).unwrap();
        let err = shrinking.summary().unwrap_err().to_string();
        assert!(
            err.contains("layer 1 (residual): its layers turn [3, 8, 8] into [3, 6, 6]"),
            "{err}"
        );
        let inner = ModelSpec::from_json(r#"{"input":[4],"layers":[{"type":"residual","layers":[{"type":"relu"},{"type":"flatten"},{"type":"dense","units":0}]},{"type":"dense","units":2}]}"#).unwrap();
        let err = inner.summary().unwrap_err().to_string();
        assert!(
            err.contains("layer 1 (residual): inside the block, layer 3 (dense): units must be at least 1"),
            "{err}"
        );
    }

    #[test]
    fn cnn_summary_shapes_params_and_flops() {
        let s = preset("cnn", &[1, 28, 28], 10).unwrap().summary().unwrap();
        let shapes: Vec<_> = s.layers.iter().map(|l| l.output.clone()).collect();
        assert_eq!(shapes[0], vec![8, 28, 28]);
        assert_eq!(shapes[2], vec![8, 14, 14]);
        assert_eq!(shapes[3], vec![16, 10, 10]);
        assert_eq!(shapes[5], vec![16, 5, 5]);
        assert_eq!(shapes[6], vec![400]);
        // conv1: 8·25 + 8; conv2: 16·8·25 + 16; dense: 400·64 + 64; head: 64·10 + 10
        assert_eq!(s.params, 208 + 3216 + 25_664 + 650);
        assert_eq!(s.layers[0].flops, 2 * 25 * 8 * 28 * 28);
        assert_eq!(s.output, vec![10]);
    }

    #[test]
    fn recurrent_layers_count_their_gates_and_name_their_weights() {
        let spec = ModelSpec::from_json(
            r#"{"input":[12,3],"layers":[{"type":"lstm","units":5,"return_sequences":true},{"type":"gru","units":4},{"type":"dense","units":2}]}"#,
        )
        .unwrap();
        let s = spec.summary().unwrap();
        assert_eq!(
            (s.layers[0].output.clone(), s.layers[1].output.clone()),
            (vec![12, 5], vec![4])
        );
        // LSTM: 4 gates × 5 units over 3 inputs and 5 recurrent inputs, one bias; GRU: 3 × 4 over 5 + 4, two biases.
        assert_eq!((s.layers[0].params, s.layers[1].params), (20 * 8 + 20, 12 * 9 + 24));
        assert_eq!(s.layers[0].flops, 12 * (2 * 8 * 20 + 20));
        let named = spec.param_shapes().unwrap();
        let names: Vec<&str> = named.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names[..4],
            [
                "layers.0.weight",
                "layers.0.recurrent_weight",
                "layers.0.bias",
                "layers.1.weight"
            ]
        );
        assert_eq!(names[6], "layers.1.recurrent_bias");
        let mut model = crate::nn::Model::new(&crate::backend::cpu::Cpu, spec, 1).unwrap();
        let held: Vec<Vec<usize>> = model
            .params()
            .iter()
            .map(|p| <crate::backend::cpu::Cpu as crate::backend::Backend>::shape(&p.value))
            .collect();
        assert_eq!(named.into_iter().map(|(_, s)| s).collect::<Vec<_>>(), held);
    }

    #[test]
    fn a_recurrent_layer_on_an_image_says_how_to_reshape() {
        let spec = ModelSpec::from_json(
            r#"{"input":[1,28,28],"layers":[{"type":"gru","units":8},{"type":"dense","units":10}]}"#,
        )
        .unwrap();
        let err = spec.summary().unwrap_err().to_string();
        assert!(err.contains(r#"layer 1 (gru): needs a [steps, features] sequence but gets [1, 28, 28]; to read an image row by row, put {"type":"reshape","shape":[28, 28]} before it"#), "{err}");
        let fixed =
            ModelSpec::from_json(r#"{"input":[1,28,28],"layers":[{"type":"reshape","shape":[28,28]},{"type":"gru","units":8},{"type":"dense","units":10}]}"#)
                .unwrap();
        assert_eq!(fixed.summary().unwrap().layers[1].output, [8]);
        let flat = ModelSpec::from_json(r#"{"input":[6],"layers":[{"type":"lstm","units":2}]}"#).unwrap();
        assert!(flat
            .summary()
            .unwrap_err()
            .to_string()
            .contains(r#"{"type":"reshape","shape":[6, 1]}"#));
        let wrong = ModelSpec::from_json(
            r#"{"input":[1,28,28],"layers":[{"type":"reshape","shape":[28,27]},{"type":"flatten"}]}"#,
        )
        .unwrap();
        assert!(wrong
            .summary()
            .unwrap_err()
            .to_string()
            .contains("layer 1 (reshape): cannot reshape [1, 28, 28] (784 values) into [28, 27]"));
    }

    #[test]
    fn bad_shapes_name_the_layer() {
        let spec = ModelSpec::from_json(r#"{"input":[1,28,28],"layers":[{"type":"dense","units":10}]}"#).unwrap();
        let err = spec.summary().unwrap_err().to_string();
        assert!(err.contains("layer 1 (dense)") && err.contains("flatten"), "{err}");
        let spec = ModelSpec::from_json(
            r#"{"input":[1,4,4],"layers":[{"type":"conv2d","filters":2,"kernel":5},{"type":"flatten"}]}"#,
        )
        .unwrap();
        assert!(spec.summary().unwrap_err().to_string().contains("layer 1 (conv2d)"));
        let spec =
            ModelSpec::from_json(r#"{"input":[1,4,4],"layers":[{"type":"conv2d","filters":2,"kernel":3}]}"#).unwrap();
        assert!(spec.summary().unwrap_err().to_string().contains("last layer"));
    }

    #[test]
    fn sizes_are_counted_in_64_bits_and_held_to_the_limits_with_the_layer_named() {
        let err = |json: &str| ModelSpec::from_json(json).unwrap().summary().unwrap_err().to_string();
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(999), "999");
        let e = err(r#"{"input":[784],"layers":[{"type":"dense","units":100000000}]}"#);
        assert!(
            e.contains("layer 1 (dense): units must be at most 1,048,576, got 100,000,000"),
            "{e}"
        );
        let e = err(r#"{"input":[784],"layers":[{"type":"dense","units":1000},{"type":"dense","units":1000000}]}"#);
        assert!(
            e.contains("layer 2 (dense) brings the model to 1,001,785,000 parameters; a model trained in the browser may have up to 50,000,000"),
            "{e}"
        );
        let e = err(
            r#"{"input":[1,1024,1024],"layers":[{"type":"conv2d","filters":1024,"kernel":1,"padding":0},{"type":"flatten"},{"type":"dense","units":2}]}"#,
        );
        assert!(
            e.contains("layer 1 (conv2d): it outputs 1,073,741,824 values per sample"),
            "{e}"
        );
        let e = err(r#"{"input":[1048577],"layers":[{"type":"dense","units":2}]}"#);
        assert!(e.contains("an input axis of 1,048,577 is over the limit"), "{e}");
        // Within the limits, a count past 32 bits is exact.
        let big = ModelSpec::from_json(
            r#"{"input":[3,256,256],"layers":[{"type":"conv2d","filters":256,"kernel":7,"padding":3},{"type":"flatten"},{"type":"dense","units":2}]}"#,
        )
        .unwrap()
        .summary()
        .unwrap();
        assert_eq!(big.layers[0].flops, 2 * 3 * 49 * 256 * 256 * 256);
        assert!(big.flops > u64::from(u32::MAX));
        // 2 × 4 bytes for each of 3·256² + 256·256² + 256·256² + 2 values a sample: 3 samples fit in 1 GiB.
        assert_eq!(big.largest_batch(), 3);
        big.check_batch(3).unwrap();
        let e = big.check_batch(4).unwrap_err().to_string();
        assert!(
            e.contains("a batch of 4 samples needs 1,030 MB") && e.contains("a batch of at most 3 fits"),
            "{e}"
        );
    }

    #[test]
    fn unknown_fields_and_types_are_refused_in_the_users_words_with_the_layer_named() {
        let err = |json: &str| ModelSpec::from_json(json).unwrap_err().to_string();
        let layers = |layers: &str| err(&format!(r#"{{"input":[2],"layers":[{{"type":"relu"}},{layers}]}}"#));
        assert_eq!(
            layers(r#"{"type":"dense","unit":3}"#),
            "layer 2 (dense): there is no setting 'unit' (the settings are units, init)"
        );
        let e = layers(r#"{"type":"transformer"}"#);
        assert!(
            e.starts_with("layer 2 (transformer): 'transformer' is not one of dense, conv2d,"),
            "{e}"
        );
        assert_eq!(
            layers(r#"{"type":"dense","units":-5}"#),
            "layer 2 (dense): units must be a whole number of at least 1, got -5"
        );
        assert_eq!(
            layers(r#"{"type":"conv2d","filters":4,"padding":1.5}"#),
            "layer 2 (conv2d): padding must be a whole number of at least 0, got 1.5"
        );
        // A setting the editor does not show is still named in words.
        assert_eq!(
            layers(r#"{"type":"max_pool2d","stride":-1}"#),
            "layer 2 (max_pool2d): -1 does not fit here: it takes a whole number, 0 or more"
        );
        assert_eq!(layers(r#"{"units":5}"#), "layer 2 (no type): 'type' is missing");
        assert_eq!(err(r#"{"layers":[]}"#), "the model spec: 'input' is missing");
        let e = err("{\"input\": [2],\n \"layers\": [");
        assert!(
            e.starts_with("the model spec is not valid JSON: ") && e.contains("(line 2"),
            "{e}"
        );
        for e in [
            layers(r#"{"type":"dense","units":"x"}"#),
            layers(r#"{"type":"dropout","rate":[1]}"#),
        ] {
            assert!(
                !["usize", "f32", "sequence", "struct"].iter().any(|w| e.contains(w)),
                "{e}"
            );
        }
    }

    #[test]
    fn spec_round_trips_through_json() {
        let spec = preset("cnn", &[1, 28, 28], 10).unwrap();
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(ModelSpec::from_json(&json).unwrap(), spec);
    }

    #[test]
    fn init_follows_the_next_activation() {
        let spec = preset("toy", &[2], 2).unwrap();
        assert_eq!(spec.init_for(0), Init::Xavier);
        let spec = preset("mlp", &[1, 28, 28], 10).unwrap();
        assert_eq!(spec.init_for(1), Init::He);
        assert_eq!(spec.init_for(3), Init::Xavier);
    }
}
