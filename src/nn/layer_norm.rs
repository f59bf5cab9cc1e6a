//! Layer normalisation: each sample's features (the last axis; each step's, for a sequence) are
//! normalised by their own mean and variance, then scaled by γ and shifted by β. Unlike batch
//! normalisation it keeps no running statistics and behaves the same in training and evaluation,
//! which is why Transformers use it.

use super::{Layer, Mode, Param};
use crate::backend::Backend;

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
        let trained = ready(Cpu.read(&model.forward(&Cpu, x.clone(), Mode::Train { seed: 0 }))).unwrap();
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
