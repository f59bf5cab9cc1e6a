//! The serialisable description of a model, its validation and its summary (shapes, parameters,
//! FLOPs), computed without building anything.
//!
//! Each kind of layer is described once, in its own file, by a settings struct that implements
//! [`Kind`]: its catalogue entry, its output shape with its parameters and FLOPs, its parameter
//! tensors, how it is built on a backend and its ONNX nodes. [`LayerSpec`] lists the kinds; a new
//! layer is its file and one line here.

use super::activation::{GeluSpec, LeakyReluSpec, ReluSpec, SigmoidSpec, TanhSpec};
use super::attention::MultiHeadAttentionSpec;
use super::class_token::ClassTokenSpec;
use super::conv::Conv2dSpec;
use super::dense::DenseSpec;
use super::dropout::DropoutSpec;
use super::embedding::EmbeddingSpec;
use super::first_step::FirstStepSpec;
use super::layer_norm::LayerNormSpec;
use super::mean_pool::MeanPoolSpec;
use super::norm::BatchNormSpec;
use super::pool::{AvgPool2dSpec, MaxPool2dSpec};
use super::positional::PositionalSpec;
use super::recurrent::{GruSpec, LstmSpec};
use super::reshape::{FlattenSpec, ReshapeSpec};
use super::residual::ResidualSpec;
use super::transformer::TransformerBlockSpec;
use super::Layer;
use crate::backend::Backend;
use crate::catalogue::LayerKind;
use crate::error::{plain, Error};
use crate::onnx::Graph;
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// He (Kaiming) normal, std = √(2 / fan_in): keeps ReLU activations' variance constant.
    He,
    /// Xavier (Glorot) uniform, limit = √(6 / (fan_in + fan_out)): for tanh, sigmoid and linear outputs.
    Xavier,
}

impl Init {
    /// Its name, as specs write it.
    pub fn name(self) -> &'static str {
        match self {
            Init::He => "he",
            Init::Xavier => "xavier",
        }
    }
}

/// What one layer gives for one sample of its input.
pub(crate) struct Inferred {
    pub output: Vec<usize>,
    pub params: u64,
    /// Forward floating-point operations (a multiply-add counts two).
    pub flops: u64,
}

/// Where a layer is built: its input's per-sample shape, the initialisation its weights get, and a
/// salt that tells its random streams (dropout's) apart from every other layer's.
pub(crate) struct Place<'a> {
    pub input: &'a [usize],
    pub init: Init,
    pub salt: u64,
}

/// What one kind of layer knows about itself, written once in the kind's own file.
pub(crate) trait Kind {
    /// The kind's entry in the catalogue, from which the page renders its editor.
    fn entry() -> LayerKind;
    /// The settings that size the layer, by name, for the size limit.
    fn sizes(&self) -> Vec<(&'static str, usize)> {
        Vec::new()
    }
    /// The output shape, parameters and FLOPs for one sample of shape `input`, or why the layer
    /// cannot take that input.
    fn infer(&self, input: &[usize]) -> Result<Inferred, String>;
    /// The name (under the layer's own) and shape of each parameter tensor, in the order the built
    /// layer holds them.
    fn params(&self, _input: &[usize]) -> Vec<(String, Vec<usize>)> {
        Vec::new()
    }
    /// The initialisation the layer's settings choose, if they choose one.
    fn init(&self) -> Option<Init> {
        None
    }
    /// Whether the layer is a rectifier, after which weights are initialised for one (He).
    const RECTIFIER: bool = false;
    /// Whether the layer takes token ids, which have no gradient: it must be the first layer.
    const TAKES_TOKENS: bool = false;
    /// The layer on a backend, its weights drawn from `rng`.
    fn build<B: Backend>(&self, b: &B, at: Place, rng: &mut Rng) -> Box<dyn Layer<B>>;
    /// Appends the layer's ONNX nodes on the value `x` (one sample of which has shape `input`),
    /// under `name` (as its weights are named); returns the name of its output.
    fn onnx(&self, graph: &mut Graph, name: &str, x: &str, input: &[usize]) -> String;
    /// The kind in the exported PyTorch project's `model.py` (`crate::pytorch`): the Python that
    /// defines its module, if `torch.nn` has none, and registers `BUILDERS["name"]`, a function of
    /// the layer's settings (as JSON writes them), its input shape and the initialisation it gets
    /// that returns the module, its parameters named and shaped as the layer's own, and its output
    /// shape.
    const TORCH: &'static str;
}

macro_rules! layer_kinds {
    ($($(#[$doc:meta])* $variant:ident($spec:ty),)*) => {
        /// A layer of a model spec, as JSON writes it: `{"type": "dense", "units": 16}`. The kinds
        /// are listed in the order the layer editor offers them.
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        pub enum LayerSpec {
            $($(#[$doc])* $variant($spec),)*
        }

        impl LayerSpec {
            /// Every kind's catalogue entry, in the editor's order.
            pub fn kinds() -> Vec<LayerKind> {
                vec![$(<$spec as Kind>::entry(),)*]
            }

            fn entry(&self) -> LayerKind {
                match self {
                    $(Self::$variant(_) => <$spec as Kind>::entry(),)*
                }
            }

            fn sizes(&self) -> Vec<(&'static str, usize)> {
                match self {
                    $(Self::$variant(l) => l.sizes(),)*
                }
            }

            pub(crate) fn infer(&self, input: &[usize]) -> Result<Inferred, String> {
                match self {
                    $(Self::$variant(l) => l.infer(input),)*
                }
            }

            fn params(&self, input: &[usize]) -> Vec<(String, Vec<usize>)> {
                match self {
                    $(Self::$variant(l) => l.params(input),)*
                }
            }

            fn init(&self) -> Option<Init> {
                match self {
                    $(Self::$variant(l) => l.init(),)*
                }
            }

            fn rectifier(&self) -> bool {
                match self {
                    $(Self::$variant(_) => <$spec as Kind>::RECTIFIER,)*
                }
            }

            fn takes_tokens(&self) -> bool {
                match self {
                    $(Self::$variant(_) => <$spec as Kind>::TAKES_TOKENS,)*
                }
            }

            /// Every kind's Python for the exported `model.py`, in the editor's order.
            pub(crate) fn torch_sources() -> Vec<&'static str> {
                vec![$(<$spec as Kind>::TORCH,)*]
            }

            /// The names of the rectifier kinds.
            pub(crate) fn rectifiers() -> Vec<&'static str> {
                let mut names = Vec::new();
                $(if <$spec as Kind>::RECTIFIER {
                    names.push(<$spec as Kind>::entry().entry.name);
                })*
                names
            }

            pub(super) fn build<B: Backend>(&self, b: &B, at: Place, rng: &mut Rng) -> Box<dyn Layer<B>> {
                match self {
                    $(Self::$variant(l) => l.build(b, at, rng),)*
                }
            }

            pub(crate) fn onnx(&self, graph: &mut Graph, name: &str, x: &str, input: &[usize]) -> String {
                match self {
                    $(Self::$variant(l) => l.onnx(graph, name, x, input),)*
                }
            }

        }
    };
}

layer_kinds! {
    Dense(DenseSpec),
    Conv2d(Conv2dSpec),
    MaxPool2d(MaxPool2dSpec),
    AvgPool2d(AvgPool2dSpec),
    LeakyRelu(LeakyReluSpec),
    Dropout(DropoutSpec),
    /// Per-channel normalisation of `[c]` or `[c, h, w]` activations.
    BatchNorm(BatchNormSpec),
    /// Normalisation of each sample's features (each step's, for a sequence).
    LayerNorm(LayerNormSpec),
    /// A skip connection around inner layers that keep the shape.
    Residual(ResidualSpec),
    Lstm(LstmSpec),
    Gru(GruSpec),
    /// Token ids `[steps]` to vectors `[steps, dim]`; the first layer of a text model.
    Embedding(EmbeddingSpec),
    /// A vector per position added to each step `[steps, dim]`: learned or sinusoidal.
    Positional(PositionalSpec),
    /// A learned token before a sequence's steps: `[steps, dim]` → `[steps + 1, dim]`.
    ClassToken(ClassTokenSpec),
    /// The mean over a sequence's steps `[steps, dim]` → `[dim]`, padding left out.
    MeanPool(MeanPoolSpec),
    /// A sequence's first step `[steps, dim]` → `[dim]`: a class token's output.
    FirstStep(FirstStepSpec),
    /// Self-attention over a sequence's steps `[steps, dim]`, several heads.
    MultiHeadAttention(MultiHeadAttentionSpec),
    /// Pre-norm attention and feed-forward, each residual: `[steps, dim]` kept.
    TransformerBlock(TransformerBlockSpec),
    Reshape(ReshapeSpec),
    Flatten(FlattenSpec),
    Relu(ReluSpec),
    Tanh(TanhSpec),
    Sigmoid(SigmoidSpec),
    Gelu(GeluSpec),
}

impl LayerSpec {
    pub fn kind(&self) -> &'static str {
        self.entry().entry.name
    }

    /// Whether the layer has weights that a penalty and freezing apply to.
    pub fn weighted(&self) -> bool {
        self.entry().weighted
    }
}

/// The product of `factors` in 64 bits, saturating instead of overflowing.
pub(crate) fn product(factors: &[usize]) -> u64 {
    factors.iter().fold(1u64, |p, &f| p.saturating_mul(f as u64))
}

/// The output of an element-wise layer: its input's shape, one operation a value.
pub(crate) fn elementwise(input: &[usize]) -> Inferred {
    Inferred {
        output: input.to_vec(),
        params: 0,
        flops: product(input),
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
    let entry = LayerSpec::kinds().into_iter().find(|l| l.entry.name == kind)?.entry;
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
        self.layers[index]
            .init()
            .unwrap_or_else(|| match self.layers.get(index + 1) {
                Some(next) if next.rectifier() => Init::He,
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
        if layer.takes_tokens() && index > 0 {
            return Err(fail(
                "it takes the model's token ids, so it must be the first layer".into(),
            ));
        }
        let Inferred { output, params, flops } = layer.infer(&shape).map_err(fail)?;
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

    /// Whether a layer, at any depth, normalises by statistics of the whole batch (batch norm).
    pub fn uses_batch_statistics(&self) -> bool {
        fn any(layers: &[LayerSpec]) -> bool {
            layers.iter().any(|l| match l {
                LayerSpec::BatchNorm(_) => true,
                LayerSpec::Residual(r) => any(&r.layers),
                _ => false,
            })
        }
        any(&self.layers)
    }

    /// The number of token ids the model reads, when it reads token ids (its first layer is an
    /// embedding).
    pub fn vocabulary(&self) -> Option<usize> {
        match self.layers.first() {
            Some(LayerSpec::Embedding(e)) => Some(e.vocab),
            _ => None,
        }
    }
}

/// The parameter tensors of `layers` from `input` on, named under `prefix` (a residual block's
/// inner layers as `layers.{i}.layers.{j}.*`).
pub(super) fn param_shapes_of(
    prefix: &str,
    input: &[usize],
    layers: &[LayerSpec],
    shapes: &mut Vec<(String, Vec<usize>)>,
) -> Result<(), Error> {
    let (rows, _) = layer_rows(input, layers)?;
    for (i, layer) in layers.iter().enumerate() {
        let input = if i == 0 { input } else { &rows[i - 1].output };
        shapes.extend(
            layer
                .params(input)
                .into_iter()
                .map(|(name, shape)| (format!("{prefix}{i}.{name}"), shape)),
        );
    }
    Ok(())
}

/// The built-in presets for texts of `steps` token ids from a vocabulary of `vocab`: a Transformer
/// (`transformer`), a GRU reading the tokens in order (`gru`), and the mean of the tokens'
/// vectors, which sees which tokens a text has but not their order (`bag`). The Transformer counts
/// positions from each text's end: a word's ending, which tells languages apart, then sits at the
/// same positions whatever the word's length.
pub fn text_preset(name: &str, steps: usize, vocab: usize, classes: usize) -> Result<ModelSpec, Error> {
    use serde_json::json;
    let embedding = |dim: usize| json!({"type": "embedding", "vocab": vocab, "dim": dim});
    let dense = json!({"type": "dense", "units": classes});
    let block = json!({"type": "transformer_block", "heads": 4, "ff_units": 128, "dropout": 0.1});
    let layers = match name {
        "transformer" => json!([
            embedding(64),
            {"type": "positional", "from": "end"},
            block,
            block,
            {"type": "layer_norm"},
            {"type": "mean_pool"},
            dense
        ]),
        "gru" => json!([embedding(16), {"type": "gru", "units": 32}, dense]),
        "bag" => json!([embedding(32), {"type": "mean_pool"}, dense]),
        _ => {
            return Err(Error::InvalidSpec(format!(
                "unknown text preset '{name}' (known: transformer, gru, bag)"
            )))
        }
    };
    Ok(ModelSpec {
        input: vec![steps],
        layers: serde_json::from_value(layers).expect("the presets are valid layers"),
    })
}

/// The built-in model presets: for 28×28 grey digits (mlp, cnn), 2-D points (toy) and sequences
/// `[steps, features]` (gru, lstm, transformer; mlp too).
pub fn preset(name: &str, input: &[usize], classes: usize) -> Result<ModelSpec, Error> {
    use serde_json::json;
    let dense = |units| json!({"type": "dense", "units": units});
    let conv = |filters, padding| json!({"type": "conv2d", "filters": filters, "kernel": 5, "padding": padding});
    let (relu, tanh, flatten) = (
        json!({"type": "relu"}),
        json!({"type": "tanh"}),
        json!({"type": "flatten"}),
    );
    let pool = json!({"type": "max_pool2d", "size": 2});
    let layers = match name {
        "mlp" => json!([flatten, dense(128), relu, dense(classes)]),
        "cnn" => json!([
            conv(8, 2),
            relu,
            pool,
            conv(16, 0),
            relu,
            pool,
            flatten,
            dense(64),
            relu,
            dense(classes)
        ]),
        "toy" => json!([dense(16), tanh, dense(16), tanh, dense(classes)]),
        "gru" | "lstm" => json!([{"type": name, "units": 32}, dense(classes)]),
        // Patches of 4 steps (when they divide the sequence) to 32 values each, one block of
        // four heads, the mean. A patch gives each token a piece of the curve's shape, which one
        // value alone does not have. No positions: a curve's phase is random, so where a patch
        // sits tells nothing of its class, and learned positions fit the training curves' noise
        // (on the built-in waveforms, the best held-out accuracy over 20 epochs fell from 0.92
        // without them to 0.88 with them).
        "transformer" => {
            let (steps, features) = match *input {
                [steps, features] => (steps, features),
                _ => (0, 0),
            };
            let patch = if steps % 4 == 0 { 4 } else { 1 };
            json!([
                {"type": "reshape", "shape": [steps / patch, patch * features]},
                dense(32),
                {"type": "transformer_block", "heads": 4, "ff_units": 64, "dropout": 0.1},
                {"type": "layer_norm"},
                {"type": "mean_pool"},
                dense(classes)
            ])
        }
        _ => {
            return Err(Error::InvalidSpec(format!(
                "unknown preset '{name}' (known: mlp, cnn, toy, gru, lstm, transformer)"
            )))
        }
    };
    Ok(ModelSpec {
        input: input.to_vec(),
        layers: serde_json::from_value(layers).expect("the presets are valid layers"),
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
