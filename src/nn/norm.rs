//! Batch normalisation for dense (`[n, c]`) and conv (`[n, c, h, w]`) activations: in training each
//! channel is normalised by this batch's mean and variance, which also move the running statistics
//! (`running = running + momentum·(batch − running)`, variance biased); evaluation normalises by the
//! running statistics. γ and β are learned; the running statistics are parameters without
//! gradients, so they are saved, snapshotted and exported with the weights but never optimised.

use super::spec::{Inferred, Kind, Place};
use super::{Layer, Mode, Param};
use crate::backend::Backend;
use crate::catalogue::{self, number, LayerKind};
use crate::onnx::{Attr, Graph};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchNormSpec {
    #[serde(default = "default_momentum")]
    pub momentum: f32,
    #[serde(default = "default_eps")]
    pub eps: f32,
}

fn default_momentum() -> f32 {
    0.1
}

/// The ε a normalisation adds to the variance when its settings do not say.
pub(super) fn default_eps() -> f32 {
    1e-5
}

/// `model.py`'s batch normalisation: as `torch.nn.BatchNorm*d` but for the running variance,
/// which moves by the batch's biased variance, as Whetstone's does.
const TORCH: &str = r#"class BatchNorm(nn.Module):
    """Per-channel normalisation of [n, c] or [n, c, h, w]: by the batch's mean and (biased)
    variance in training, which also move the running ones; by the running ones in evaluation."""

    def __init__(self, channels, momentum, eps):
        super().__init__()
        self.momentum, self.eps = momentum, eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))

    def forward(self, x):
        axes = [0, *range(2, x.dim())]
        shape = [1, -1] + [1] * (x.dim() - 2)
        if self.training:
            mean = x.mean(axes)
            var = x.var(axes, unbiased=False)
            with torch.no_grad():
                self.running_mean += self.momentum * (mean - self.running_mean)
                self.running_var += self.momentum * (var - self.running_var)
        else:
            mean, var = self.running_mean, self.running_var
        scale = self.weight / torch.sqrt(var + self.eps)
        return (x - mean.reshape(shape)) * scale.reshape(shape) + self.bias.reshape(shape)


BUILDERS["batch_norm"] = lambda layer, shape, init: (BatchNorm(shape[0], layer["momentum"], layer["eps"]), shape)
"#;

impl Kind for BatchNormSpec {
    const TORCH: &'static str = TORCH;

    fn entry() -> LayerKind {
        catalogue::layer(
            "batch_norm",
            "normalises each channel over the batch, then scales and shifts it",
            false,
            vec![number(
                "momentum",
                "momentum",
                0.1,
                "weight of each batch in the running statistics",
            )
            .range(0.0, Some(1.0))],
        )
    }

    fn infer(&self, input: &[usize]) -> Result<Inferred, String> {
        if input.len() != 1 && input.len() != 3 {
            return Err(format!(
                "normalises [channels] or [channels, height, width] inputs, not {input:?}"
            ));
        }
        let Self { momentum, eps } = *self;
        if !(momentum > 0.0 && momentum <= 1.0 && eps > 0.0) {
            return Err(format!(
                "momentum must be in (0, 1] and eps positive, got {momentum} and {eps}"
            ));
        }
        // γ and β are learned; the running mean and variance are not counted.
        Ok(Inferred {
            output: input.to_vec(),
            params: 2 * input[0] as u64,
            flops: 4 * super::spec::product(input),
        })
    }

    fn params(&self, input: &[usize]) -> Vec<(String, Vec<usize>)> {
        ["weight", "bias", "running_mean", "running_var"]
            .map(|name| (name.to_string(), vec![input[0]]))
            .into()
    }

    fn build<B: Backend>(&self, b: &B, at: Place, _: &mut Rng) -> Box<dyn Layer<B>> {
        Box::new(BatchNorm::new(b, at.input[0], self.momentum, self.eps))
    }

    fn onnx(&self, graph: &mut Graph, name: &str, x: &str, _: &[usize]) -> String {
        let [w, b, mean, var] = ["weight", "bias", "running_mean", "running_var"].map(|p| format!("{name}.{p}"));
        graph.op(
            "BatchNormalization",
            name,
            &[x, &w, &b, &mean, &var],
            vec![("epsilon", Attr::Float(self.eps))],
        )
    }
}

pub struct BatchNorm<B: Backend> {
    gamma: Param<B>,
    beta: Param<B>,
    running_mean: Param<B>,
    running_var: Param<B>,
    momentum: f32,
    eps: f32,
    /// The training-mode input and its batch moments, for the backward pass.
    cache: Option<(B::Tensor, B::Tensor, B::Tensor)>,
}

impl<B: Backend> BatchNorm<B> {
    pub fn new(b: &B, channels: usize, momentum: f32, eps: f32) -> Self {
        let ones = b.upload(&vec![1.0; channels], &[channels]);
        Self {
            gamma: Param::bias(ones.clone()),
            beta: Param::bias(b.zeros(&[channels])),
            running_mean: Param::bias(b.zeros(&[channels])),
            running_var: Param::bias(ones),
            momentum,
            eps,
            cache: None,
        }
    }
}

impl<B: Backend> Layer<B> for BatchNorm<B> {
    fn forward(&mut self, b: &B, x: B::Tensor, mode: Mode) -> B::Tensor {
        match mode {
            Mode::Train { .. } => {
                let (mean, var) = b.channel_moments(&x);
                let y = b.batch_norm(&x, &mean, &var, &self.gamma.value, &self.beta.value, self.eps);
                self.running_mean.value = b.lerp(&self.running_mean.value, &mean, self.momentum);
                self.running_var.value = b.lerp(&self.running_var.value, &var, self.momentum);
                self.cache = Some((x, mean, var));
                y
            }
            Mode::Eval => {
                self.cache = None;
                b.batch_norm(
                    &x,
                    &self.running_mean.value,
                    &self.running_var.value,
                    &self.gamma.value,
                    &self.beta.value,
                    self.eps,
                )
            }
        }
    }

    fn backward(&mut self, b: &B, dy: B::Tensor, _input_grad: bool) -> Option<B::Tensor> {
        let (x, mean, var) = self
            .cache
            .take()
            .expect("batch norm's backward pass follows a training-mode forward pass");
        let (dx, dgamma, dbeta) = b.batch_norm_backward(&dy, &x, &mean, &var, &self.gamma.value, self.eps);
        self.gamma.grad = Some(dgamma);
        self.beta.grad = Some(dbeta);
        Some(dx)
    }

    fn params(&mut self) -> Vec<&mut Param<B>> {
        vec![
            &mut self.gamma,
            &mut self.beta,
            &mut self.running_mean,
            &mut self.running_var,
        ]
    }
}

#[cfg(test)]
mod tests {
    use crate::backend::cpu::Cpu;
    use crate::backend::{ready, Backend};
    use crate::nn::{Mode, Model, ModelSpec};

    #[test]
    fn training_moves_the_running_statistics_that_evaluation_then_uses() {
        let spec = ModelSpec::from_json(r#"{"input":[2],"layers":[{"type":"batch_norm","momentum":0.5}]}"#).unwrap();
        let mut model = Model::new(&Cpu, spec, 1).unwrap();
        // Channel 0 has mean 5 and variance 4; channel 1 mean −1 and variance 1.
        let x = Cpu.upload(&[3.0, -2.0, 7.0, 0.0, 3.0, 0.0, 7.0, -2.0], &[4, 2]);
        let trained = ready(Cpu.read(&model.forward(&Cpu, x.clone(), Mode::train(0)))).unwrap();
        let stats = |m: &mut Model<Cpu>| {
            m.params()
                .iter()
                .skip(2)
                .map(|p| ready(Cpu.read(&p.value)).unwrap())
                .collect::<Vec<_>>()
        };
        // One step at momentum 0.5 from (0, 1): halfway to the batch's moments.
        assert_eq!(stats(&mut model), [vec![2.5, -0.5], vec![2.5, 1.0]]);
        for _ in 0..30 {
            model.forward(&Cpu, x.clone(), Mode::train(0));
        }
        let converged = stats(&mut model);
        assert!(
            (converged[0][0] - 5.0).abs() < 1e-4 && (converged[1][0] - 4.0).abs() < 1e-4,
            "{converged:?}"
        );
        let evaluated = ready(Cpu.read(&model.forward(&Cpu, x, Mode::Eval))).unwrap();
        assert!(
            trained.iter().zip(&evaluated).all(|(t, e)| (t - e).abs() < 1e-4),
            "{trained:?} vs {evaluated:?}"
        );
        assert_eq!(
            trained[..2],
            [-1.0 / (1.0f32 + 1e-5 / 4.0).sqrt(), -1.0 / (1.0f32 + 1e-5).sqrt()]
        );
    }
}
