//! Optimisers: SGD, SGD with (Nesterov) momentum, Adam, AdamW, RMSprop. Each keeps its state on the
//! device, one slot per parameter tensor, and updates a parameter with one fused backend op.
//! `schedule` moves the learning rate during a run.

pub mod schedule;

use crate::backend::{read_each, AdamStep, Backend, DeviceLost};
use crate::error::Error;
use crate::nn::Param;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum OptimizerSpec {
    Sgd {
        lr: f32,
    },
    Momentum {
        lr: f32,
        #[serde(default = "default_momentum")]
        momentum: f32,
        #[serde(default)]
        nesterov: bool,
    },
    Adam {
        lr: f32,
        #[serde(default = "default_beta1")]
        beta1: f32,
        #[serde(default = "default_beta2")]
        beta2: f32,
        #[serde(default = "default_eps")]
        eps: f32,
    },
    /// Adam with decoupled weight decay: every step also shrinks each weight by `lr · weight_decay`.
    #[serde(rename = "adamw")]
    AdamW {
        lr: f32,
        #[serde(default = "default_beta1")]
        beta1: f32,
        #[serde(default = "default_beta2")]
        beta2: f32,
        #[serde(default = "default_eps")]
        eps: f32,
        #[serde(default = "default_weight_decay")]
        weight_decay: f32,
    },
    #[serde(rename = "rmsprop")]
    RmsProp {
        lr: f32,
        #[serde(default = "default_rho")]
        rho: f32,
        #[serde(default = "default_eps")]
        eps: f32,
    },
}

fn default_momentum() -> f32 {
    0.9
}
fn default_beta1() -> f32 {
    0.9
}
fn default_beta2() -> f32 {
    0.999
}
fn default_eps() -> f32 {
    1e-8
}
fn default_weight_decay() -> f32 {
    0.01
}
fn default_rho() -> f32 {
    0.9
}

impl OptimizerSpec {
    pub fn lr(&self) -> f32 {
        match *self {
            OptimizerSpec::Sgd { lr }
            | OptimizerSpec::Momentum { lr, .. }
            | OptimizerSpec::Adam { lr, .. }
            | OptimizerSpec::AdamW { lr, .. }
            | OptimizerSpec::RmsProp { lr, .. } => lr,
        }
    }

    pub fn validate(&self) -> Result<(), Error> {
        let lr = self.lr();
        if !(lr.is_finite() && lr > 0.0) {
            return Err(Error::InvalidConfig(format!(
                "the learning rate must be a positive number, got {lr}"
            )));
        }
        let in_unit = |name: &str, v: f32| {
            if (0.0..1.0).contains(&v) {
                Ok(())
            } else {
                Err(Error::InvalidConfig(format!("{name} must be in [0, 1), got {v}")))
            }
        };
        match *self {
            OptimizerSpec::Sgd { .. } => Ok(()),
            OptimizerSpec::Momentum { momentum, .. } => in_unit("momentum", momentum),
            OptimizerSpec::Adam { beta1, beta2, eps, .. } => {
                in_unit("beta1", beta1)?;
                in_unit("beta2", beta2)?;
                positive_eps(eps)
            }
            OptimizerSpec::AdamW {
                beta1,
                beta2,
                eps,
                weight_decay,
                ..
            } => {
                in_unit("beta1", beta1)?;
                in_unit("beta2", beta2)?;
                in_unit("weight decay", weight_decay)?;
                positive_eps(eps)
            }
            OptimizerSpec::RmsProp { rho, eps, .. } => {
                in_unit("rho", rho)?;
                positive_eps(eps)
            }
        }
    }
}

fn positive_eps(eps: f32) -> Result<(), Error> {
    if eps > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidConfig(format!("eps must be positive, got {eps}")))
    }
}

pub struct Optimizer<B: Backend> {
    spec: OptimizerSpec,
    step: u32,
    /// Per parameter: the velocity (momentum) or the first and second moments (Adam).
    state: Vec<Vec<B::Tensor>>,
}

impl<B: Backend> Optimizer<B> {
    pub fn new(spec: OptimizerSpec) -> Result<Self, Error> {
        spec.validate()?;
        Ok(Self {
            spec,
            step: 0,
            state: Vec::new(),
        })
    }

    pub fn spec(&self) -> &OptimizerSpec {
        &self.spec
    }

    /// The steps taken and, per parameter, each state tensor's values (velocity, moments), read
    /// back: what a checkpoint keeps.
    pub async fn saved_state(&self, b: &B) -> Result<(u32, Vec<Vec<Vec<f32>>>), DeviceLost> {
        let tensors: Vec<&B::Tensor> = self.state.iter().flatten().collect();
        let mut values = read_each(b, &tensors).await?.into_iter();
        let state = self
            .state
            .iter()
            .map(|slots| values.by_ref().take(slots.len()).collect())
            .collect();
        Ok((self.step, state))
    }

    /// Takes up a saved state for parameters of `shapes`; one that does not fit is refused.
    pub fn restore_state(
        &mut self,
        b: &B,
        step: u32,
        state: &[Vec<Vec<f32>>],
        shapes: &[Vec<usize>],
    ) -> Result<(), Error> {
        let fits = state.is_empty()
            || (state.len() == shapes.len()
                && state
                    .iter()
                    .zip(shapes)
                    .all(|(slots, shape)| slots.iter().all(|v| v.len() == shape.iter().product::<usize>())));
        if !fits {
            return Err(Error::InvalidData(
                "the saved optimiser state does not fit this model".into(),
            ));
        }
        self.step = step;
        self.state = state
            .iter()
            .zip(shapes)
            .map(|(slots, shape)| slots.iter().map(|v| b.upload(v, shape)).collect())
            .collect();
        Ok(())
    }

    /// Applies one update at learning rate `lr` (the spec's rate, or where a schedule has taken it)
    /// to every parameter that has a gradient.
    pub fn update(&mut self, b: &B, params: Vec<&mut Param<B>>, lr: f32) {
        self.step += 1;
        if self.state.is_empty() {
            let slots = match self.spec {
                OptimizerSpec::Sgd { .. } => 0,
                OptimizerSpec::Momentum { .. } | OptimizerSpec::RmsProp { .. } => 1,
                OptimizerSpec::Adam { .. } | OptimizerSpec::AdamW { .. } => 2,
            };
            self.state = params
                .iter()
                .map(|p| (0..slots).map(|_| b.zeros(&B::shape(&p.value))).collect())
                .collect();
        }
        for (p, state) in params.into_iter().zip(&mut self.state) {
            let Some(g) = p.grad.as_ref() else { continue };
            match (self.spec.clone(), state.as_mut_slice()) {
                (OptimizerSpec::Sgd { .. }, _) => b.sgd_update(&mut p.value, g, lr),
                (OptimizerSpec::Momentum { momentum, nesterov, .. }, [v]) => {
                    b.momentum_update(&mut p.value, g, v, lr, momentum, nesterov)
                }
                (OptimizerSpec::Adam { beta1, beta2, eps, .. }, [m, v]) => b.adam_update(
                    &mut p.value,
                    g,
                    m,
                    v,
                    AdamStep {
                        lr,
                        beta1,
                        beta2,
                        eps,
                        weight_decay: 0.0,
                        step: self.step,
                    },
                ),
                (
                    OptimizerSpec::AdamW {
                        beta1,
                        beta2,
                        eps,
                        weight_decay,
                        ..
                    },
                    [m, v],
                ) => b.adam_update(
                    &mut p.value,
                    g,
                    m,
                    v,
                    AdamStep {
                        lr,
                        beta1,
                        beta2,
                        eps,
                        weight_decay,
                        step: self.step,
                    },
                ),
                (OptimizerSpec::RmsProp { rho, eps, .. }, [v]) => b.rmsprop_update(&mut p.value, g, v, lr, rho, eps),
                _ => unreachable!("optimiser state has the slots its kind needs"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_with_defaults_and_are_validated() {
        let w: OptimizerSpec = serde_json::from_str(r#"{"type":"adamw","lr":0.001}"#).unwrap();
        assert_eq!(
            w,
            OptimizerSpec::AdamW {
                lr: 0.001,
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                weight_decay: 0.01
            }
        );
        let r: OptimizerSpec = serde_json::from_str(r#"{"type":"rmsprop","lr":0.01,"rho":0.95}"#).unwrap();
        assert_eq!(
            r,
            OptimizerSpec::RmsProp {
                lr: 0.01,
                rho: 0.95,
                eps: 1e-8
            }
        );
        assert!(OptimizerSpec::RmsProp {
            lr: 0.01,
            rho: 1.5,
            eps: 1e-8
        }
        .validate()
        .is_err());
        assert!(OptimizerSpec::AdamW {
            lr: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: -0.1
        }
        .validate()
        .is_err());
    }
}
