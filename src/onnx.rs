//! Export to ONNX (opset 13), so that a trained model runs outside the browser (onnxruntime, and
//! the tools that read ONNX). The model is sequential, so the graph is a chain: `input`
//! `[batch, ...]` → the fitted feature transform, if any → one node per layer → `Softmax` →
//! `probabilities` `[batch, classes]`. With a transform the input is the raw data, as Whetstone's
//! own predictions take it (a table's missing values as NaN).
//! Dropout is the identity at inference and has no node. The file is written with a small protobuf
//! encoder for the few ONNX messages it needs (field numbers from onnx.proto).

use crate::error::Error;
use crate::features::Fitted;
use crate::model_file::NamedTensor;
use crate::nn::{LayerSpec, ModelSpec};
use std::collections::{HashMap, HashSet};

const OPSET: i64 = 13;
const IR_VERSION: i64 = 8;
const FLOAT: i64 = 1;
const INT64: i64 = 7;

/// A protobuf message under construction.
#[derive(Default)]
struct Message(Vec<u8>);

impl Message {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn key(&mut self, field: u32, wire: u32) {
        self.varint(u64::from(field << 3 | wire));
    }

    fn int(&mut self, field: u32, v: i64) -> &mut Self {
        self.key(field, 0);
        self.varint(v as u64);
        self
    }

    fn float(&mut self, field: u32, v: f32) -> &mut Self {
        self.key(field, 5);
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }

    fn bytes(&mut self, field: u32, b: &[u8]) -> &mut Self {
        self.key(field, 2);
        self.varint(b.len() as u64);
        self.0.extend_from_slice(b);
        self
    }

    fn text(&mut self, field: u32, s: &str) -> &mut Self {
        self.bytes(field, s.as_bytes())
    }

    fn message(&mut self, field: u32, m: &Message) -> &mut Self {
        self.bytes(field, &m.0)
    }
}

pub(crate) enum Attr {
    Int(i64),
    Float(f32),
    Ints(Vec<i64>),
    Text(&'static str),
}

fn attribute(name: &str, value: Attr) -> Message {
    let mut a = Message::default();
    a.text(1, name);
    match value {
        Attr::Float(f) => a.float(2, f).int(20, 1),
        Attr::Int(i) => a.int(3, i).int(20, 2),
        Attr::Text(t) => a.text(4, t).int(20, 3),
        Attr::Ints(v) => {
            for i in v {
                a.int(8, i);
            }
            a.int(20, 7)
        }
    };
    a
}

fn node(op: &str, name: &str, inputs: &[&str], output: &str, attrs: Vec<(&str, Attr)>) -> Message {
    node_with_outputs(op, name, inputs, &[output], attrs)
}

/// A node with several outputs; an empty name leaves an optional output unused.
fn node_with_outputs(op: &str, name: &str, inputs: &[&str], outputs: &[&str], attrs: Vec<(&str, Attr)>) -> Message {
    let mut n = Message::default();
    for i in inputs {
        n.text(1, i);
    }
    for o in outputs {
        n.text(2, o);
    }
    n.text(3, name).text(4, op);
    for (key, value) in attrs {
        n.message(5, &attribute(key, value));
    }
    n
}

fn initializer(t: &NamedTensor) -> Message {
    let raw: Vec<u8> = t.values.iter().flat_map(|v| v.to_le_bytes()).collect();
    tensor_proto(&t.name, &t.shape, FLOAT, &raw)
}

/// A constant 1-D int64 tensor (shapes and axes, which opset 13 takes as inputs).
fn int64_initializer(name: &str, values: &[i64]) -> Message {
    let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    tensor_proto(name, &[values.len()], INT64, &raw)
}

fn tensor_proto(name: &str, dims: &[usize], data_type: i64, raw: &[u8]) -> Message {
    let mut m = Message::default();
    for &d in dims {
        m.int(1, d as i64);
    }
    m.int(2, data_type).text(8, name).bytes(9, raw);
    m
}

/// A float tensor's type with a symbolic batch dimension and fixed other dimensions.
fn value_info(name: &str, dims: &[usize]) -> Message {
    let mut shape = Message::default();
    let mut batch = Message::default();
    batch.text(2, "batch");
    shape.message(1, &batch);
    for &d in dims {
        let mut dim = Message::default();
        dim.int(1, d as i64);
        shape.message(1, &dim);
    }
    let mut tensor = Message::default();
    tensor.int(1, FLOAT).message(2, &shape);
    let mut ty = Message::default();
    ty.message(1, &tensor);
    let mut v = Message::default();
    v.text(1, name).message(2, &ty);
    v
}

/// The graph under construction, with the model's weights by name.
pub(crate) struct Graph<'a> {
    message: Message,
    weights: HashMap<&'a str, &'a NamedTensor>,
    /// Weights stored in another layout (the recurrent layers'), not as they are.
    converted: HashSet<String>,
    /// The batch's padding mask `[n, steps]` (1 for a token) and its steps, once an embedding has
    /// found it.
    pub padding_mask: Option<(String, usize)>,
}

impl Graph<'_> {
    fn weight(&self, name: &str) -> &NamedTensor {
        self.weights
            .get(name)
            .unwrap_or_else(|| panic!("export checked that {name} is present"))
    }

    /// ONNX's W, R and B of a recurrent layer from Whetstone's `weight` `[F, G·H]`,
    /// `recurrent_weight` `[H, G·H]`, `bias` and (GRU) `recurrent_bias`: the matrices transposed to
    /// `[1, G·H, F]` and `[1, G·H, H]`, the biases side by side as `[1, 2·G·H]`. The gate order is
    /// already ONNX's.
    pub(crate) fn recurrent_initializers(&mut self, name: &str) -> [String; 3] {
        let transposed = |t: &NamedTensor, onnx: &str| {
            let (rows, cols) = (t.shape[0], t.shape[1]);
            let values = (0..cols)
                .flat_map(|c| (0..rows).map(move |r| t.values[r * cols + c]))
                .collect();
            NamedTensor {
                name: onnx.to_string(),
                shape: vec![1, cols, rows],
                values,
            }
        };
        let w = transposed(self.weight(&format!("{name}.weight")), &format!("{name}.W"));
        let r = transposed(self.weight(&format!("{name}.recurrent_weight")), &format!("{name}.R"));
        let bias = self.weight(&format!("{name}.bias"));
        let width = bias.values.len();
        let recurrent_bias = self
            .weights
            .get(format!("{name}.recurrent_bias").as_str())
            .map_or(vec![0.0; width], |t| t.values.clone());
        let b = NamedTensor {
            name: format!("{name}.B"),
            shape: vec![1, 2 * width],
            values: [bias.values.clone(), recurrent_bias].concat(),
        };
        for suffix in ["weight", "recurrent_weight", "bias", "recurrent_bias"] {
            self.converted.insert(format!("{name}.{suffix}"));
        }
        for t in [&w, &r, &b] {
            self.message.message(5, &initializer(t));
        }
        [w.name, r.name, b.name]
    }

    pub(crate) fn constant(&mut self, name: &str, values: &[i64]) -> String {
        self.message.message(5, &int64_initializer(name, values));
        name.to_string()
    }

    pub(crate) fn floats(&mut self, name: &str, shape: &[usize], values: Vec<f32>) -> String {
        self.message.message(
            5,
            &initializer(&NamedTensor {
                name: name.to_string(),
                shape: shape.to_vec(),
                values,
            }),
        );
        name.to_string()
    }

    /// Appends a node with one output named after it; returns the output's name.
    pub(crate) fn op(&mut self, op: &str, name: &str, inputs: &[&str], attrs: Vec<(&str, Attr)>) -> String {
        let out = format!("{name}.output");
        self.node(op, name, inputs, &[&out], attrs);
        out
    }

    /// Appends a node with several outputs; an empty name leaves an optional output unused.
    pub(crate) fn node(&mut self, op: &str, name: &str, inputs: &[&str], outputs: &[&str], attrs: Vec<(&str, Attr)>) {
        self.message
            .message(1, &node_with_outputs(op, name, inputs, outputs, attrs));
    }
}

/// The image transform of [`crate::features::image_transform`] as nodes on `input` `[batch, c, h, w]`.
fn image_features(graph: &mut Graph, fit: &crate::features::ImageFit, c: usize) -> String {
    let mut parts = Vec::new();
    let grey_weights: Vec<f32> = if c == 3 {
        vec![0.299, 0.587, 0.114]
    } else {
        vec![1.0 / c as f32; c]
    };
    let grey = if fit.grayscale || fit.edges {
        let w = graph.floats("features.grey_weights", &[1, c, 1, 1], grey_weights);
        Some(graph.op(
            "Conv",
            "features.grey",
            &["input", &w],
            vec![("kernel_shape", Attr::Ints(vec![1, 1]))],
        ))
    } else {
        None
    };
    parts.push(if fit.grayscale {
        grey.clone().expect("made above")
    } else {
        "input".to_string()
    });
    if fit.edges {
        let grey = grey.expect("made above");
        let pads = graph.constant("features.edge_pads", &[0, 0, 1, 1, 0, 0, 1, 1]);
        let padded = graph.op(
            "Pad",
            "features.edge_pad",
            &[&grey, &pads],
            vec![("mode", Attr::Text("edge"))],
        );
        // Sobel x and y, each divided by 4 (the magnitude is then the reference's).
        let sobel = [
            [-1.0, 0.0, 1.0, -2.0, 0.0, 2.0, -1.0, 0.0, 1.0],
            [-1.0, -2.0, -1.0, 0.0, 0.0, 0.0, 1.0, 2.0, 1.0],
        ];
        let kernels = graph.floats(
            "features.sobel",
            &[2, 1, 3, 3],
            sobel.iter().flatten().map(|v| v / 4.0).collect(),
        );
        let gradients = graph.op(
            "Conv",
            "features.sobel_conv",
            &[&padded, &kernels],
            vec![("kernel_shape", Attr::Ints(vec![3, 3]))],
        );
        let squares = graph.op("Mul", "features.edge_squares", &[&gradients, &gradients], vec![]);
        let ones = graph.floats("features.edge_sum", &[1, 2, 1, 1], vec![1.0, 1.0]);
        let sum = graph.op(
            "Conv",
            "features.edge_sum_conv",
            &[&squares, &ones],
            vec![("kernel_shape", Attr::Ints(vec![1, 1]))],
        );
        parts.push(graph.op("Sqrt", "features.edges", &[&sum], vec![]));
    }
    let joined = if parts.len() > 1 {
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        graph.op("Concat", "features.channels", &refs, vec![("axis", Attr::Int(1))])
    } else {
        parts.pop().expect("one part")
    };
    let k = fit.mean.len();
    let mean = graph.floats("features.mean", &[1, k, 1, 1], fit.mean.clone());
    let std = graph.floats("features.std", &[1, k, 1, 1], fit.std.clone());
    let centred = graph.op("Sub", "features.centre", &[&joined, &mean], vec![]);
    graph.op("Div", "features.normalise", &[&centred, &std], vec![])
}

/// A table's fitted transform as nodes on `input` `[batch, columns]` (NaN where missing).
fn table_features(graph: &mut Graph, f: &Fitted) -> String {
    let n = f.columns.len();
    let fill = graph.floats("features.fill", &[n], f.columns.iter().map(|c| c.fill).collect());
    let missing = graph.op("IsNaN", "features.missing", &["input"], vec![]);
    let filled = graph.op("Where", "features.filled", &[&missing, &fill, "input"], vec![]);
    let sign = graph.op("Sign", "features.sign", &[&filled], vec![]);
    let magnitude = graph.op("Abs", "features.abs", &[&filled], vec![]);
    let one = graph.floats("features.one", &[1], vec![1.0]);
    let shifted = graph.op("Add", "features.abs_plus_one", &[&magnitude, &one], vec![]);
    let log = graph.op("Log", "features.log", &[&shifted], vec![]);
    let signed_log = graph.op("Mul", "features.signed_log", &[&sign, &log], vec![]);
    let log_mask = graph.floats(
        "features.log_mask",
        &[n],
        f.columns.iter().map(|c| c.log as u8 as f32).collect(),
    );
    let logged_part = graph.op("Mul", "features.logged_part", &[&signed_log, &log_mask], vec![]);
    let plain_mask = graph.floats(
        "features.plain_mask",
        &[n],
        f.columns.iter().map(|c| 1.0 - c.log as u8 as f32).collect(),
    );
    let plain_part = graph.op("Mul", "features.plain_part", &[&filled, &plain_mask], vec![]);
    let logged = graph.op("Add", "features.logged", &[&logged_part, &plain_part], vec![]);
    let shift = graph.floats("features.shift", &[n], f.columns.iter().map(|c| c.shift).collect());
    let scale = graph.floats("features.scale", &[n], f.columns.iter().map(|c| c.scale).collect());
    let centred = graph.op("Sub", "features.centred", &[&logged, &shift], vec![]);
    let scaled = graph.op("Div", "features.scaled", &[&centred, &scale], vec![]);
    let mut parts = Vec::new();
    for (j, c) in f.columns.iter().enumerate() {
        let index = graph.constant(&format!("features.column{j}.index"), &[j as i64]);
        let column = graph.op(
            "Gather",
            &format!("features.column{j}"),
            &[&scaled, &index],
            vec![("axis", Attr::Int(1))],
        );
        parts.push(if c.one_hot.is_empty() {
            column
        } else {
            let codes = graph.floats(
                &format!("features.column{j}.codes"),
                &[c.one_hot.len()],
                (0..c.one_hot.len()).map(|k| k as f32).collect(),
            );
            let equal = graph.op(
                "Equal",
                &format!("features.column{j}.equal"),
                &[&column, &codes],
                vec![],
            );
            graph.op(
                "Cast",
                &format!("features.column{j}.one_hot"),
                &[&equal],
                vec![("to", Attr::Int(FLOAT))],
            )
        });
    }
    let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
    let table = graph.op("Concat", "features.table", &refs, vec![("axis", Attr::Int(1))]);
    if f.products.is_empty() {
        return table;
    }
    let (a, b): (Vec<i64>, Vec<i64>) = f.products.iter().map(|&(a, b)| (a as i64, b as i64)).unzip();
    let (a, b) = (
        graph.constant("features.product_a", &a),
        graph.constant("features.product_b", &b),
    );
    let left = graph.op(
        "Gather",
        "features.product_left",
        &[&table, &a],
        vec![("axis", Attr::Int(1))],
    );
    let right = graph.op(
        "Gather",
        "features.product_right",
        &[&table, &b],
        vec![("axis", Attr::Int(1))],
    );
    let products = graph.op("Mul", "features.products", &[&left, &right], vec![]);
    graph.op(
        "Concat",
        "features.output",
        &[&table, &products],
        vec![("axis", Attr::Int(1))],
    )
}

/// Appends each layer's nodes (named under `prefix`, as the weights are) to `graph`, starting
/// from the value `input`; returns the name of the last output.
pub(crate) fn emit(graph: &mut Graph, prefix: &str, input: String, shape: &[usize], layers: &[LayerSpec]) -> String {
    let mut shape = shape.to_vec();
    layers.iter().enumerate().fold(input, |current, (i, layer)| {
        let out = layer.onnx(graph, &format!("{prefix}{i}"), &current, &shape);
        shape = layer.infer(&shape).expect("export checked the spec").output;
        // The padding mask holds while the steps are the embedding's, as in `Model::forward`.
        if graph
            .padding_mask
            .as_ref()
            .is_some_and(|(_, steps)| shape.len() != 2 || shape[0] != *steps)
        {
            graph.padding_mask = None;
        }
        out
    })
}

/// The ONNX file of a model with these weights (as [`crate::model_file`] names them) and, when it
/// has one, its fitted feature transform in front.
pub fn export(spec: &ModelSpec, weights: &[NamedTensor], features: Option<&Fitted>) -> Result<Vec<u8>, Error> {
    let summary = spec.summary()?;
    let expected = spec.param_shapes()?;
    if expected.len() != weights.len()
        || expected
            .iter()
            .zip(weights)
            .any(|((n, s), w)| *n != w.name || *s != w.shape || w.values.len() != s.iter().product::<usize>())
    {
        return Err(Error::InvalidData("the weights do not match the model spec".into()));
    }
    let mut graph = Graph {
        message: Message::default(),
        weights: weights.iter().map(|t| (t.name.as_str(), t)).collect(),
        converted: HashSet::new(),
        padding_mask: None,
    };
    graph.message.text(2, "whetstone");
    let features = features.filter(|f| f.is_needed());
    if let Some(f) = features.filter(|f| f.output_shape() != spec.input) {
        return Err(Error::InvalidData(format!(
            "the feature transform gives samples of shape {:?}, but the model takes {:?}",
            f.output_shape(),
            spec.input
        )));
    }
    let transformed = match features {
        Some(f) if !f.columns.is_empty() => table_features(&mut graph, f),
        Some(f) => image_features(
            &mut graph,
            f.image
                .as_ref()
                .expect("a needed transform of no table is an image one"),
            f.input_shape[0],
        ),
        None => "input".to_string(),
    };
    let current = emit(&mut graph, "layers.", transformed, &spec.input, &spec.layers);
    let Graph {
        message: mut graph,
        converted,
        ..
    } = graph;
    graph.message(
        1,
        &node(
            "Softmax",
            "softmax",
            &[&current],
            "probabilities",
            vec![("axis", Attr::Int(1))],
        ),
    );
    for t in weights.iter().filter(|t| !converted.contains(&t.name)) {
        graph.message(5, &initializer(t));
    }
    graph.message(
        11,
        &value_info("input", features.map_or(&spec.input, |f| &f.input_shape)),
    );
    graph.message(12, &value_info("probabilities", &summary.output));
    let mut opset = Message::default();
    opset.text(1, "").int(2, OPSET);
    let mut model = Message::default();
    model
        .int(1, IR_VERSION)
        .text(2, "whetstone")
        .text(3, env!("CARGO_PKG_VERSION"))
        .message(8, &opset)
        .message(7, &graph);
    Ok(model.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::preset;
    use crate::testing::constant_weights as weights;

    #[test]
    fn varints_and_keys_follow_the_protobuf_wire_format() {
        let mut m = Message::default();
        m.int(1, 300).text(2, "hi").float(3, 1.0);
        assert_eq!(m.0, [0x08, 0xAC, 0x02, 0x12, 2, b'h', b'i', 0x1D, 0, 0, 0x80, 0x3F]);
        let mut negative = Message::default();
        negative.int(1, -1);
        assert_eq!(negative.0.len(), 11, "negative int64s take ten bytes after the key");
    }

    #[test]
    fn every_layer_becomes_a_node_and_every_weight_an_initializer() {
        let spec = preset("cnn", &[1, 28, 28], 10).unwrap();
        let bytes = export(&spec, &weights(&spec), None).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for op in [
            "Conv",
            "Relu",
            "MaxPool",
            "Flatten",
            "Gemm",
            "Softmax",
            "layers.9.bias",
            "probabilities",
            "batch",
        ] {
            assert!(text.contains(op), "{op} missing");
        }
        assert_eq!(text.matches("Conv").count(), 2);
        // The weights are stored raw: the file is at least as big as the parameters.
        assert!(bytes.len() as u64 > 4 * spec.summary().unwrap().params);
    }

    #[test]
    fn weights_that_do_not_match_the_spec_are_refused() {
        let spec = preset("mlp", &[1, 28, 28], 10).unwrap();
        let mut w = weights(&spec);
        w[0].shape = vec![10, 10];
        assert!(export(&spec, &w, None).is_err());
        assert!(export(&spec, &w[..2], None).is_err());
    }
}
