//! Layer normalisation: each sample's features (the last axis; each step's, for a sequence) are
//! normalised by their own mean and variance, then scaled by γ and shifted by β. Unlike batch
//! normalisation it keeps no running statistics and behaves the same in training and evaluation,
//! which is why Transformers use it.

use super::norm::default_eps;
use super::spec::{product, Inferred, Kind, Place};
use super::{Layer, Mode, Param};
use crate::backend::Backend;
use crate::catalogue::{self, LayerKind};
use crate::onnx::{Attr, Graph};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerNormSpec {
    #[serde(default = "default_eps")]
    pub eps: f32,
}

impl Kind for LayerNormSpec {
    const TORCH: &'static str =
        "BUILDERS[\"layer_norm\"] = lambda layer, shape, init: (nn.LayerNorm(shape[-1], eps=layer[\"eps\"]), shape)\n";

    fn entry() -> LayerKind {
        catalogue::layer(
            "layer_norm",
            "normalises each sample's features (each step's, in a sequence) by their own mean and spread, then scales and shifts them",
            false,
            vec![],
        )
    }

    fn infer(&self, input: &[usize]) -> Result<Inferred, String> {
        let (Some(&features), 1..=2) = (input.last(), input.len()) else {
            return Err(format!(
                "normalises [features] or [steps, features] inputs, not {input:?}; put a flatten before it"
            ));
        };
        if self.eps.is_nan() || self.eps <= 0.0 {
            return Err(format!("eps must be positive, got {}", self.eps));
        }
        // Two passes for the moments, one to normalise, scale and shift.
        Ok(Inferred {
            output: input.to_vec(),
            params: 2 * features as u64,
            flops: 5 * product(input),
        })
    }

    fn params(&self, input: &[usize]) -> Vec<(String, Vec<usize>)> {
        let features = input[input.len() - 1];
        vec![("weight".into(), vec![features]), ("bias".into(), vec![features])]
    }

    fn build<B: Backend>(&self, b: &B, at: Place, _: &mut Rng) -> Box<dyn Layer<B>> {
        Box::new(LayerNorm::new(b, at.input[at.input.len() - 1], self.eps))
    }

    /// Opset 13 has no LayerNormalization: the last axis's moments, node by node.
    fn onnx(&self, graph: &mut Graph, name: &str, x: &str, _: &[usize]) -> String {
        let mean_of = |graph: &mut Graph, part: &str, v: &str| {
            let axes = vec![("axes", Attr::Ints(vec![-1])), ("keepdims", Attr::Int(1))];
            graph.op("ReduceMean", &format!("{name}.{part}"), &[v], axes)
        };
        let mean = mean_of(graph, "mean", x);
        let centred = graph.op("Sub", &format!("{name}.centred"), &[x, &mean], vec![]);
        let squares = graph.op("Mul", &format!("{name}.squares"), &[&centred, &centred], vec![]);
        let var = mean_of(graph, "var", &squares);
        let eps = graph.floats(&format!("{name}.eps"), &[], vec![self.eps]);
        let shifted = graph.op("Add", &format!("{name}.shifted"), &[&var, &eps], vec![]);
        let std = graph.op("Sqrt", &format!("{name}.std"), &[&shifted], vec![]);
        let x_hat = graph.op("Div", &format!("{name}.normalised"), &[&centred, &std], vec![]);
        let (w, b) = (format!("{name}.weight"), format!("{name}.bias"));
        let scaled = graph.op("Mul", &format!("{name}.scaled"), &[&x_hat, &w], vec![]);
        graph.op("Add", name, &[&scaled, &b], vec![])
    }
}

pub struct LayerNorm<B: Backend> {
    gamma: Param<B>,
    beta: Param<B>,
    eps: f32,
    /// The input and its rows' statistics, for the backward pass.
    cache: Option<(B::Tensor, B::Tensor)>,
}

impl<B: Backend> LayerNorm<B> {
    /// γ and β of `features` values (the input's last axis), starting at 1 and 0.
    pub fn new(b: &B, features: usize, eps: f32) -> Self {
        Self {
            gamma: Param::bias(b.upload(&vec![1.0; features], &[features])),
            beta: Param::bias(b.zeros(&[features])),
            eps,
            cache: None,
        }
    }
}

impl<B: Backend> Layer<B> for LayerNorm<B> {
    fn forward(&mut self, b: &B, x: B::Tensor, _mode: Mode) -> B::Tensor {
        let (y, stats) = b.layer_norm(&x, &self.gamma.value, &self.beta.value, self.eps);
        self.cache = Some((x, stats));
        y
    }

    fn backward(&mut self, b: &B, dy: B::Tensor, _input_grad: bool) -> Option<B::Tensor> {
        let (x, stats) = self.cache.take().expect("layer norm backward before forward");
        let (dx, dgamma, dbeta) = b.layer_norm_backward(&dy, &x, &stats, &self.gamma.value);
        self.gamma.grad = Some(dgamma);
        self.beta.grad = Some(dbeta);
        Some(dx)
    }

    fn params(&mut self) -> Vec<&mut Param<B>> {
        vec![&mut self.gamma, &mut self.beta]
    }
}

#[cfg(test)]
mod tests {
    use crate::backend::cpu::Cpu;
    use crate::backend::{ready, Backend};
    use crate::nn::{Mode, Model, ModelSpec};

    #[test]
    fn each_step_of_a_sequence_is_normalised_alone_in_training_and_evaluation() {
        let spec =
            ModelSpec::from_json(r#"{"input":[2,4],"layers":[{"type":"layer_norm"},{"type":"flatten"}]}"#).unwrap();
        let mut model = Model::new(&Cpu, spec, 1).unwrap();
        // Step 0 has mean 2.5 and variance 1.25; step 1 is constant, so it normalises to 0.
        let x = Cpu.upload(&[1.0, 2.0, 3.0, 4.0, 7.0, 7.0, 7.0, 7.0], &[1, 2, 4]);
        let trained = ready(Cpu.read(&model.forward(&Cpu, x.clone(), Mode::train(0)))).unwrap();
        let evaluated = ready(Cpu.read(&model.forward(&Cpu, x, Mode::Eval))).unwrap();
        assert_eq!(trained, evaluated);
        let r = 1.0 / (1.25f32 + 1e-5).sqrt();
        let want = [-1.5 * r, -0.5 * r, 0.5 * r, 1.5 * r, 0.0, 0.0, 0.0, 0.0];
        assert!(
            trained.iter().zip(&want).all(|(t, w)| (t - w).abs() < 1e-6),
            "{trained:?} vs {want:?}"
        );
    }
}
