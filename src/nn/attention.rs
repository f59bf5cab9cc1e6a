//! Multi-head self-attention over a sequence `[steps, dim]`: each step's queries, keys and values
//! (`heads` heads of `key_size` values, each a dense projection of the step), each head's weights
//! the softmax over the steps of scaled query·key scores (padding keys left out, and later steps
//! when causal), dropout on the weights in training, each step's weighted sum of the values, and a
//! dense projection of the heads side by side back to `dim`.

use super::spec::{product, Inferred, Kind, Place};
use super::{dropout_mask, init, Init, Layer, Mode, Param};
use crate::backend::{AttentionGeometry, Backend};
use crate::catalogue::{self, LayerKind};
use crate::onnx::{Attr, Graph};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiHeadAttentionSpec {
    pub heads: usize,
    /// Each head's query and key size (and value size); `dim / heads` when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_size: Option<usize>,
    /// The share of attention weights dropped in training.
    #[serde(default)]
    pub dropout: f32,
    /// Each step attends only to itself and the steps before it.
    #[serde(default)]
    pub causal: bool,
}

impl MultiHeadAttentionSpec {
    fn key(&self, dim: usize) -> usize {
        self.key_size.unwrap_or(dim / self.heads.max(1))
    }
}

/// The projections' names, in the order the layer holds them.
const PROJECTIONS: [&str; 3] = ["query", "key", "value"];

/// `model.py`'s attention, with Whetstone's parameter names and layouts (`[inputs, outputs]`
/// weights) and its padding and causal masks; a query with no key to attend to gives zeros.
const TORCH: &str = r#"class MultiHeadAttention(nn.Module):
    """Self-attention over x [batch, steps, dim] by `heads` heads of `key` values, as Whetstone's."""

    def __init__(self, dim, heads, key, dropout, causal):
        super().__init__()
        self.heads, self.key, self.dropout, self.causal, self.mask = heads, key, dropout, causal, None
        for name in ("query", "key", "value"):
            weight = nn.Parameter(torch.empty(dim, heads * key))
            initialise(weight, "xavier", dim, heads * key)
            self.register_parameter(f"{name}_weight", weight)
            self.register_parameter(f"{name}_bias", nn.Parameter(torch.zeros(heads * key)))
        self.weight = nn.Parameter(torch.empty(heads * key, dim))
        initialise(self.weight, "xavier", heads * key, dim)
        self.bias = nn.Parameter(torch.zeros(dim))

    def use_padding_mask(self, mask):
        self.mask = mask

    def forward(self, x):
        n, steps, _ = x.shape

        def project(name):
            y = x @ getattr(self, f"{name}_weight") + getattr(self, f"{name}_bias")
            return y.view(n, steps, self.heads, self.key).transpose(1, 2)

        q, k, v = project("query"), project("key"), project("value")
        scores = q @ k.transpose(2, 3) / math.sqrt(self.key)
        kept = torch.ones(n, 1, steps, steps, dtype=torch.bool, device=x.device)
        if self.mask is not None:
            kept = kept & (self.mask[:, None, None, :] != 0)
        if self.causal:
            kept = kept & torch.ones(steps, steps, dtype=torch.bool, device=x.device).tril()
        weights = scores.masked_fill(~kept, float("-inf")).softmax(-1).nan_to_num(0.0)
        self.weights = weights.detach()
        weights = nn.functional.dropout(weights, self.dropout, self.training)
        out = (weights @ v).transpose(1, 2).reshape(n, steps, self.heads * self.key)
        return out @ self.weight + self.bias


def build_attention(layer, shape, init):
    heads = layer["heads"]
    key = layer.get("key_size") or shape[1] // heads
    module = MultiHeadAttention(shape[1], heads, key, layer.get("dropout", 0.0), layer.get("causal", False))
    return module, shape


BUILDERS["multi_head_attention"] = build_attention
"#;

impl Kind for MultiHeadAttentionSpec {
    fn entry() -> LayerKind {
        catalogue::layer(
            "multi_head_attention",
            "each step of a sequence looks at every step (or, causal, the steps before it) through several heads and takes a weighted mix of them",
            true,
            vec![
                catalogue::integer("heads", "Heads", 4, 1.0, "attention heads, each with its own queries, keys and values"),
                catalogue::number("dropout", "Dropout on the weights", 0.0, "the share of attention weights dropped in training")
                    .range(0.0, Some(0.95)),
                catalogue::boolean("causal", "Causal", "each step attends only to itself and the steps before it"),
            ],
        )
    }

    fn sizes(&self) -> Vec<(&'static str, usize)> {
        let mut sizes = vec![("heads", self.heads)];
        sizes.extend(self.key_size.map(|k| ("key_size", k)));
        sizes
    }

    fn infer(&self, input: &[usize]) -> Result<Inferred, String> {
        let &[steps, dim] = input else {
            return Err(format!(
                "attends over a sequence [steps, dim], not {input:?}: put it after an embedding or a recurrent layer that returns every step"
            ));
        };
        if self.heads == 0 {
            return Err("heads must be at least 1".into());
        }
        let key = self.key(dim);
        if key == 0 {
            return Err(format!(
                "{} heads leave no values each of a {dim}-wide step; use fewer heads or set key_size",
                self.heads
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(format!("dropout must be in [0, 1), got {}", self.dropout));
        }
        let width = self.heads * key;
        Ok(Inferred {
            output: input.to_vec(),
            params: 4 * product(&[dim, width]) + 3 * width as u64 + dim as u64,
            // Four projections, then each head's scores and weighted sums.
            flops: product(&[8, steps, dim, width]) + product(&[4, steps, steps, width]),
        })
    }

    fn params(&self, input: &[usize]) -> Vec<(String, Vec<usize>)> {
        let (dim, width) = (input[1], self.heads * self.key(input[1]));
        let mut params: Vec<(String, Vec<usize>)> = PROJECTIONS
            .iter()
            .flat_map(|p| {
                [
                    (format!("{p}_weight"), vec![dim, width]),
                    (format!("{p}_bias"), vec![width]),
                ]
            })
            .collect();
        params.push(("weight".into(), vec![width, dim]));
        params.push(("bias".into(), vec![dim]));
        params
    }

    const TORCH: &'static str = TORCH;

    fn build<B: Backend>(&self, b: &B, at: Place, rng: &mut Rng) -> Box<dyn Layer<B>> {
        let (steps, dim) = (at.input[0], at.input[1]);
        let key = self.key(dim);
        let width = self.heads * key;
        let mut dense = |inputs: usize, outputs: usize| {
            let w = init::weights(Init::Xavier, inputs * outputs, inputs, outputs, rng);
            (
                Param::weight(b.upload(&w, &[inputs, outputs])),
                Param::bias(b.zeros(&[outputs])),
            )
        };
        let projections = [dense(dim, width), dense(dim, width), dense(dim, width)];
        let output = dense(width, dim);
        Box::new(MultiHeadAttention {
            projections,
            output,
            shape: (steps, dim),
            heads: self.heads,
            key,
            causal: self.causal,
            dropout: self.dropout,
            salt: at.salt,
            mask: None,
            cache: None,
        })
    }

    /// Projections by `MatMul` and `Add`, heads by `Reshape` and `Transpose`, the masks by `Where`
    /// before the `Softmax` and a product after it (a query with no key gets zeros).
    fn onnx(&self, graph: &mut Graph, name: &str, x: &str, input: &[usize]) -> String {
        let (steps, dim) = (input[0], input[1]);
        let key = self.key(dim) as i64;
        let (steps_i, heads) = (steps as i64, self.heads as i64);
        let part = |graph: &mut Graph, p: &str, perm: Vec<i64>| {
            let (w, b) = (format!("{name}.{p}_weight"), format!("{name}.{p}_bias"));
            let y = graph.op("MatMul", &format!("{name}.{p}"), &[x, &w], vec![]);
            let y = graph.op("Add", &format!("{name}.{p}_biased"), &[&y, &b], vec![]);
            let shape = graph.constant(&format!("{name}.{p}_heads_shape"), &[0, steps_i, heads, key]);
            let y = graph.op("Reshape", &format!("{name}.{p}_heads"), &[&y, &shape], vec![]);
            graph.op(
                "Transpose",
                &format!("{name}.{p}_by_head"),
                &[&y],
                vec![("perm", Attr::Ints(perm))],
            )
        };
        let q = part(graph, "query", vec![0, 2, 1, 3]);
        let k = part(graph, "key", vec![0, 2, 3, 1]);
        let v = part(graph, "value", vec![0, 2, 1, 3]);
        let scores = graph.op("MatMul", &format!("{name}.scores"), &[&q, &k], vec![]);
        let scale = graph.floats(&format!("{name}.scale"), &[], vec![1.0 / (key as f32).sqrt()]);
        let mut scores = graph.op("Mul", &format!("{name}.scaled"), &[&scores, &scale], vec![]);
        // 1 where a query may attend to a key: [n, 1, 1, steps] for padding, [steps, steps] causal.
        let mut kept: Vec<String> = Vec::new();
        if let Some((mask, _)) = graph.padding_mask.clone() {
            let axes = graph.constant(&format!("{name}.mask_axes"), &[1, 2]);
            kept.push(graph.op("Unsqueeze", &format!("{name}.key_mask"), &[&mask, &axes], vec![]));
        }
        if self.causal {
            let lower: Vec<f32> = (0..steps * steps)
                .map(|i| f32::from(u8::from(i % steps <= i / steps)))
                .collect();
            kept.push(graph.floats(&format!("{name}.causal"), &[steps, steps], lower));
        }
        let kept = kept
            .into_iter()
            .reduce(|a, b| graph.op("Mul", &format!("{name}.kept"), &[&a, &b], vec![]));
        if let Some(kept) = &kept {
            let zero = graph.floats(&format!("{name}.zero"), &[], vec![0.0]);
            let allowed = graph.op("Greater", &format!("{name}.allowed"), &[kept, &zero], vec![]);
            let floor = graph.floats(&format!("{name}.floor"), &[], vec![-1e30]);
            scores = graph.op("Where", &format!("{name}.masked"), &[&allowed, &scores, &floor], vec![]);
        }
        let mut weights = graph.op(
            "Softmax",
            &format!("{name}.weights"),
            &[&scores],
            vec![("axis", Attr::Int(-1))],
        );
        if let Some(kept) = &kept {
            weights = graph.op("Mul", &format!("{name}.kept_weights"), &[&weights, kept], vec![]);
        }
        let out = graph.op("MatMul", &format!("{name}.mixed"), &[&weights, &v], vec![]);
        let out = graph.op(
            "Transpose",
            &format!("{name}.by_step"),
            &[&out],
            vec![("perm", Attr::Ints(vec![0, 2, 1, 3]))],
        );
        let shape = graph.constant(&format!("{name}.joined_shape"), &[0, steps_i, heads * key]);
        let out = graph.op("Reshape", &format!("{name}.joined"), &[&out, &shape], vec![]);
        let out = graph.op(
            "MatMul",
            &format!("{name}.projected"),
            &[&out, &format!("{name}.weight")],
            vec![],
        );
        graph.op("Add", name, &[&out, &format!("{name}.bias")], vec![])
    }
}

/// What the backward pass needs of the forward one.
struct Cache<B: Backend> {
    x: B::Tensor,
    q: B::Tensor,
    k: B::Tensor,
    v: B::Tensor,
    weights: B::Tensor,
    /// The dropout mask on the weights, and the weights it left.
    dropped: Option<(B::Tensor, B::Tensor)>,
    mixed: B::Tensor,
}

pub struct MultiHeadAttention<B: Backend> {
    /// Query, key and value projections: weight `[dim, heads · key]` and bias.
    projections: [(Param<B>, Param<B>); 3],
    /// The heads back to `[dim]`: weight `[heads · key, dim]` and bias.
    output: (Param<B>, Param<B>),
    shape: (usize, usize),
    heads: usize,
    key: usize,
    causal: bool,
    dropout: f32,
    salt: u64,
    mask: Option<B::Tensor>,
    cache: Option<Cache<B>>,
}

impl<B: Backend> MultiHeadAttention<B> {
    fn geometry(&self, n: usize) -> AttentionGeometry {
        AttentionGeometry {
            n,
            steps: self.shape.0,
            heads: self.heads,
            key: self.key,
            causal: self.causal,
        }
    }
}

impl<B: Backend> Layer<B> for MultiHeadAttention<B> {
    fn forward(&mut self, b: &B, x: B::Tensor, mode: Mode) -> B::Tensor {
        let (steps, dim) = self.shape;
        let n = B::shape(&x)[0];
        let g = self.geometry(n);
        let x = b.reshape(&x, &[n * steps, dim]);
        let [q, k, v] = self
            .projections
            .each_ref()
            .map(|(w, bias)| b.dense(&x, &w.value, &bias.value));
        let weights = b.attention_weights(&q, &k, self.mask.as_ref(), g);
        let dropped = match mode {
            Mode::Train { seed, rows } if self.dropout > 0.0 => {
                let keep = dropout_mask(
                    b,
                    &B::shape(&weights),
                    n,
                    1.0 - self.dropout,
                    seed ^ self.salt.wrapping_mul(0x9E37_79B9_7F4A_7C15),
                    rows,
                );
                let left = b.mul(&weights, &keep);
                Some((keep, left))
            }
            _ => None,
        };
        let mixed = b.attention_apply(dropped.as_ref().map_or(&weights, |d| &d.1), &v, g);
        let y = b.dense(&mixed, &self.output.0.value, &self.output.1.value);
        self.cache = Some(Cache {
            x,
            q,
            k,
            v,
            weights,
            dropped,
            mixed,
        });
        b.reshape(&y, &[n, steps, dim])
    }

    fn backward(&mut self, b: &B, dy: B::Tensor, _input_grad: bool) -> Option<B::Tensor> {
        let Cache {
            x,
            q,
            k,
            v,
            weights,
            dropped,
            mixed,
        } = self.cache.take().expect("attention backward before forward");
        let (steps, dim) = self.shape;
        let n = B::shape(&dy)[0];
        let g = self.geometry(n);
        let dy = b.reshape(&dy, &[n * steps, dim]);
        let (w, bias) = &mut self.output;
        w.grad = Some(b.matmul(&mixed, &dy, true, false));
        bias.grad = Some(b.bias_grad(&dy));
        let dmixed = b.matmul(&dy, &w.value, false, true);
        let used = dropped.as_ref().map_or(&weights, |d| &d.1);
        let (dused, dv) = b.attention_apply_backward(used, &v, &dmixed, g);
        let dweights = match &dropped {
            Some((keep, _)) => b.mul(&dused, keep),
            None => dused,
        };
        let (dq, dk) = b.attention_weights_backward(&weights, &dweights, &q, &k, g);
        let mut dx: Option<B::Tensor> = None;
        for ((w, bias), d) in self.projections.iter_mut().zip([dq, dk, dv]) {
            w.grad = Some(b.matmul(&x, &d, true, false));
            bias.grad = Some(b.bias_grad(&d));
            let part = b.matmul(&d, &w.value, false, true);
            match &mut dx {
                Some(sum) => b.add_assign(sum, &part),
                None => dx = Some(part),
            }
        }
        dx.map(|dx| b.reshape(&dx, &[n, steps, dim]))
    }

    fn params(&mut self) -> Vec<&mut Param<B>> {
        let mut params: Vec<&mut Param<B>> = Vec::new();
        for (w, bias) in &mut self.projections {
            params.push(w);
            params.push(bias);
        }
        params.push(&mut self.output.0);
        params.push(&mut self.output.1);
        params
    }

    fn use_padding_mask(&mut self, mask: &B::Tensor) {
        self.mask = Some(mask.clone());
    }

    fn attention_weights(&self) -> Vec<B::Tensor> {
        self.cache.iter().map(|c| c.weights.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::backend::cpu::Cpu;
    use crate::backend::{ready, AttentionGeometry, Backend};
    use crate::nn::{Mode, Model, ModelSpec};

    #[test]
    fn the_model_gives_each_attention_layers_weights_for_what_it_last_read() {
        let spec = r#"{"input":[4],"layers":[{"type":"embedding","vocab":6,"dim":4},
            {"type":"transformer_block","heads":2},{"type":"multi_head_attention","heads":1},{"type":"mean_pool"},{"type":"dense","units":2}]}"#;
        let mut m = Model::new(&Cpu, ModelSpec::from_json(spec).unwrap(), 2).unwrap();
        // A text of three tokens and padding.
        m.forward(&Cpu, Cpu.upload(&[3.0, 1.0, 5.0, 0.0], &[1, 4]), Mode::Eval);
        let maps = m.attention_weights();
        assert_eq!(
            maps.iter().map(|w| w.shape().to_vec()).collect::<Vec<_>>(),
            [vec![1, 2, 4, 4], vec![1, 1, 4, 4]]
        );
        for w in maps {
            for row in ready(Cpu.read(&w)).unwrap().chunks(4) {
                assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5 && row[3] == 0.0, "{row:?}");
            }
        }
    }

    #[test]
    fn weights_are_a_softmax_over_the_allowed_keys_and_a_query_with_none_gets_zeros() {
        // One head of one value over three steps: scores q·k = [1, 2, 3] for every query.
        let g = AttentionGeometry {
            n: 2,
            steps: 3,
            heads: 1,
            key: 1,
            causal: true,
        };
        let q = Cpu.upload(&[1.0; 6], &[6, 1]);
        let k = Cpu.upload(&[1.0, 2.0, 3.0, 1.0, 2.0, 3.0], &[6, 1]);
        // The second text is padding alone.
        let mask = Cpu.upload(&[1.0, 1.0, 1.0, 0.0, 0.0, 0.0], &[2, 3]);
        let w = ready(Cpu.read(&Cpu.attention_weights(&q, &k, Some(&mask), g))).unwrap();
        let (e1, e2, e3) = (1f32.exp(), 2f32.exp(), 3f32.exp());
        let (two, three) = (e1 + e2, e1 + e2 + e3);
        let want = [
            1.0,
            0.0,
            0.0,
            e1 / two,
            e2 / two,
            0.0,
            e1 / three,
            e2 / three,
            e3 / three,
        ];
        assert!(w[..9].iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-6), "{w:?}");
        assert_eq!(&w[9..], &[0.0; 9]);
    }
}
