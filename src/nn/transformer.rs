//! A Transformer block, pre-norm: `x + attention(norm(x))`, then `+ feed_forward(norm(·))`, the
//! feed-forward part a dense layer of `ff_units` with GELU and a dense layer back to the step's
//! width, each part followed by dropout when set. It is the two residual blocks it stands for:
//! their parameters are named as theirs (`layers.0.layers.1.query_weight`, …), and the ONNX and
//! PyTorch exports write those blocks.

use super::residual::Stack;
use super::spec::{layer_rows, param_shapes_of, Inferred, Kind, LayerSpec, Place};
use super::{Layer, ModelSpec};
use crate::backend::Backend;
use crate::catalogue::{self, LayerKind};
use crate::onnx::Graph;
use crate::rng::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformerBlockSpec {
    pub heads: usize,
    /// The feed-forward part's hidden units; four times the step's width when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ff_units: Option<usize>,
    /// Dropout on the attention weights and after each part, in training.
    #[serde(default)]
    pub dropout: f32,
    #[serde(default)]
    pub causal: bool,
}

impl TransformerBlockSpec {
    /// The two residual blocks it stands for, on steps `dim` wide.
    pub fn expand(&self, dim: usize) -> Vec<LayerSpec> {
        let dropout = if self.dropout > 0.0 {
            vec![json!({"type": "dropout", "rate": self.dropout})]
        } else {
            vec![]
        };
        let attention = [
            vec![
                json!({"type": "layer_norm"}),
                json!({"type": "multi_head_attention", "heads": self.heads, "dropout": self.dropout, "causal": self.causal}),
            ],
            dropout.clone(),
        ]
        .concat();
        let feed_forward = [
            vec![
                json!({"type": "layer_norm"}),
                json!({"type": "dense", "units": self.ff_units.unwrap_or(4 * dim)}),
                json!({"type": "gelu"}),
                json!({"type": "dense", "units": dim}),
            ],
            dropout,
        ]
        .concat();
        serde_json::from_value(json!([
            {"type": "residual", "layers": attention},
            {"type": "residual", "layers": feed_forward},
        ]))
        .expect("the block's layers are valid specs")
    }
}

/// `model.py`'s block: the same two residual blocks, built from their specs.
const TORCH: &str = r#"def transformer_layers(layer, dim):
    """The two residual blocks a transformer block stands for, as Whetstone expands it."""
    dropout = [{"type": "dropout", "rate": layer["dropout"]}] if layer.get("dropout", 0.0) > 0 else []
    attention = {"type": "multi_head_attention", "heads": layer["heads"], "dropout": layer.get("dropout", 0.0), "causal": layer.get("causal", False)}
    norm = {"type": "layer_norm", "eps": 0.00001}
    feed_forward = [norm, {"type": "dense", "units": layer.get("ff_units") or 4 * dim}, {"type": "gelu"}, {"type": "dense", "units": dim}]
    return [
        {"type": "residual", "layers": [norm, attention] + dropout},
        {"type": "residual", "layers": feed_forward + dropout},
    ]


def build_transformer_block(layer, shape, init):
    specs = transformer_layers(layer, shape[1])
    return Stack(build(specs, shape)[0], specs), shape


BUILDERS["transformer_block"] = build_transformer_block
"#;

impl Kind for TransformerBlockSpec {
    fn entry() -> LayerKind {
        catalogue::layer(
            "transformer_block",
            "a Transformer block: attention, then a feed-forward layer on each step, each with layer norm before it and its input added back",
            false,
            vec![
                catalogue::integer("heads", "Heads", 4, 1.0, "attention heads"),
                catalogue::number("dropout", "Dropout", 0.0, "dropout on the attention weights and after each part, in training")
                    .range(0.0, Some(0.95)),
                catalogue::boolean("causal", "Causal", "each step attends only to itself and the steps before it"),
            ],
        )
    }

    fn sizes(&self) -> Vec<(&'static str, usize)> {
        let mut sizes = vec![("heads", self.heads)];
        sizes.extend(self.ff_units.map(|u| ("ff_units", u)));
        sizes
    }

    fn infer(&self, input: &[usize]) -> Result<Inferred, String> {
        let &[_, dim] = input else {
            return Err(format!(
                "works on a sequence [steps, dim], not {input:?}: put it after an embedding and a positional encoding"
            ));
        };
        if self.ff_units == Some(0) {
            return Err("ff_units must be at least 1".into());
        }
        let (rows, _) = layer_rows(input, &self.expand(dim)).map_err(|e| format!("inside the block, {e}"))?;
        Ok(Inferred {
            output: input.to_vec(),
            params: rows.iter().fold(0u64, |sum, r| sum.saturating_add(r.params)),
            flops: rows.iter().fold(0u64, |sum, r| sum.saturating_add(r.flops)),
        })
    }

    fn params(&self, input: &[usize]) -> Vec<(String, Vec<usize>)> {
        let mut shapes = Vec::new();
        param_shapes_of("layers.", input, &self.expand(input[1]), &mut shapes)
            .expect("the block was checked by its summary");
        shapes
    }

    const TORCH: &'static str = TORCH;

    fn build<B: Backend>(&self, b: &B, at: Place, rng: &mut Rng) -> Box<dyn Layer<B>> {
        let inner = ModelSpec {
            input: at.input.to_vec(),
            layers: self.expand(at.input[1]),
        };
        Box::new(Stack::new(super::model::build(b, &inner, rng, at.salt)))
    }

    fn onnx(&self, graph: &mut Graph, name: &str, x: &str, input: &[usize]) -> String {
        crate::onnx::emit(
            graph,
            &format!("{name}.layers."),
            x.to_string(),
            input,
            &self.expand(input[1]),
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::nn::ModelSpec;

    #[test]
    fn a_block_is_the_two_residual_blocks_it_stands_for() {
        let block = ModelSpec::from_json(
            r#"{"input":[5,8],"layers":[{"type":"transformer_block","heads":2,"dropout":0.1},{"type":"mean_pool"},{"type":"dense","units":3}]}"#,
        )
        .unwrap();
        let spelled = ModelSpec::from_json(
            r#"{"input":[5,8],"layers":[{"type":"residual","layers":[
                {"type":"layer_norm"},{"type":"multi_head_attention","heads":2,"dropout":0.1},{"type":"dropout","rate":0.1}]},
              {"type":"residual","layers":[{"type":"layer_norm"},{"type":"dense","units":32},{"type":"gelu"},{"type":"dense","units":8},
                {"type":"dropout","rate":0.1}]},
              {"type":"mean_pool"},{"type":"dense","units":3}]}"#,
        )
        .unwrap();
        let (block, spelled) = (block.param_shapes().unwrap(), spelled.param_shapes().unwrap());
        // The same tensors in the same order; the block's under its own number, each named as
        // in the residual blocks it stands for.
        let shapes = |p: &[(String, Vec<usize>)]| p.iter().map(|(_, s)| s.clone()).collect::<Vec<_>>();
        assert_eq!(shapes(&block), shapes(&spelled));
        let renamed: Vec<String> = spelled
            .iter()
            .map(|(n, _)| match n.strip_prefix("layers.") {
                Some(rest) if rest.starts_with("0.") || rest.starts_with("1.") => format!("layers.0.layers.{rest}"),
                Some(rest) => format!("layers.2{}", &rest[1..]),
                None => n.clone(),
            })
            .collect();
        assert_eq!(block.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(), renamed);
        assert!(block
            .iter()
            .any(|(n, s)| n == "layers.0.layers.0.layers.1.query_weight" && *s == vec![8, 8]));
        // model.py's expansion writes the layer norms' ε, which a spec's JSON always holds.
        assert!(super::TORCH.contains(&format!("\"eps\": {}", crate::nn::norm::default_eps())));
        assert!(
            ModelSpec::from_json(r#"{"input":[8],"layers":[{"type":"transformer_block","heads":2}]}"#)
                .unwrap()
                .summary()
                .unwrap_err()
                .to_string()
                .contains("[steps, dim]")
        );
    }
}
