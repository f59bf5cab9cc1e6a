//! Learning-rate schedules. A schedule maps training progress (the step, and the epoch it falls in)
//! to a multiple of the optimiser's learning rate, so the same rule drives every optimiser; a linear
//! warm-up can precede any of them. Reduce-on-plateau alone depends on the run (the validation
//! numbers), so its planned curve is flat and the trainer applies its cuts as they happen.

use crate::error::Error;
use crate::metrics::Monitor;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    #[default]
    Constant,
    /// Multiplies the rate by `gamma` every `every` epochs.
    Step { every: usize, gamma: f32 },
    /// Multiplies the rate by `gamma` per epoch, smoothly from step to step.
    Exponential { gamma: f32 },
    /// Half a cosine from the rate down to `min_lr` over the whole run.
    Cosine {
        #[serde(default)]
        min_lr: f32,
    },
    /// Cosine annealing with warm restarts (SGDR): the first cycle lasts `period` epochs, each
    /// next one `mult` times longer.
    CosineRestarts {
        period: usize,
        #[serde(default = "one")]
        mult: usize,
        #[serde(default)]
        min_lr: f32,
    },
    /// The one-cycle policy: up from lr/`div` to the optimiser's rate over the first `pct_start`
    /// of the run, then a cosine down to lr/(`div`·`final_div`).
    OneCycle {
        #[serde(default = "default_pct_start")]
        pct_start: f32,
        #[serde(default = "default_div")]
        div: f32,
        #[serde(default = "default_final_div")]
        final_div: f32,
    },
    /// Multiplies the rate by `factor` when the monitored validation number has not improved for
    /// `patience` epochs, never going below `min_lr`.
    ReduceOnPlateau {
        #[serde(default = "default_factor")]
        factor: f32,
        #[serde(default = "default_plateau_patience")]
        patience: usize,
        #[serde(default)]
        min_lr: f32,
        #[serde(default)]
        monitor: Monitor,
    },
}

fn one() -> usize {
    1
}
fn default_pct_start() -> f32 {
    0.3
}
fn default_div() -> f32 {
    25.0
}
fn default_final_div() -> f32 {
    1e4
}
fn default_factor() -> f32 {
    0.1
}
fn default_plateau_patience() -> usize {
    2
}

/// Where a step falls in a run.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// Steps taken before this one, from 0.
    pub step: usize,
    pub steps_per_epoch: usize,
    pub epochs: usize,
}

impl Schedule {
    pub fn validate(&self, lr: f32) -> Result<(), Error> {
        let bad = |what: String| Err(Error::InvalidConfig(format!("learning-rate schedule: {what}")));
        let min_ok = |min_lr: f32| min_lr.is_finite() && (0.0..lr).contains(&min_lr);
        match *self {
            Schedule::Constant => Ok(()),
            Schedule::Step { every, gamma } if every == 0 || !(gamma > 0.0 && gamma <= 1.0) => {
                bad(format!("step needs every ≥ 1 epoch and gamma in (0, 1], got {every} and {gamma}"))
            }
            Schedule::Exponential { gamma } if !(gamma > 0.0 && gamma <= 1.0) => bad(format!("exponential needs gamma in (0, 1], got {gamma}")),
            Schedule::Cosine { min_lr } if !min_ok(min_lr) => bad(format!("min_lr must be in [0, lr), got {min_lr}")),
            Schedule::CosineRestarts { period, mult, min_lr } if period == 0 || mult == 0 || !min_ok(min_lr) => {
                bad(format!("cosine restarts needs a period ≥ 1 epoch, mult ≥ 1 and min_lr in [0, lr), got {period}, {mult} and {min_lr}"))
            }
            Schedule::OneCycle { pct_start, div, final_div } if !(pct_start > 0.0 && pct_start < 1.0 && div >= 1.0 && final_div >= 1.0) => {
                bad(format!("one-cycle needs pct_start in (0, 1) and div, final_div ≥ 1, got {pct_start}, {div} and {final_div}"))
            }
            Schedule::ReduceOnPlateau { factor, patience, min_lr, .. } if !(factor > 0.0 && factor < 1.0) || patience == 0 || !min_ok(min_lr) => {
                bad(format!("reduce-on-plateau needs factor in (0, 1), patience ≥ 1 and min_lr in [0, lr), got {factor}, {patience} and {min_lr}"))
            }
            _ => Ok(()),
        }
    }

    /// The planned rate at a step, for a base rate `lr` (reduce-on-plateau: `lr`, before any cut).
    /// The epochs (from 1) at which a cosine-with-restarts cycle ends within `epochs`: where a
    /// snapshot ensemble takes its members, each at the bottom of a cycle. Empty for other schedules.
    pub fn cycle_ends(&self, epochs: usize) -> Vec<usize> {
        let Schedule::CosineRestarts { period, mult, .. } = *self else {
            return Vec::new();
        };
        let (mut end, mut length, mut ends) = (period, period, Vec::new());
        while end <= epochs && length > 0 {
            ends.push(end);
            length *= mult;
            end += length;
        }
        ends
    }

    pub fn rate(&self, lr: f32, at: Progress) -> f32 {
        let epoch = at.step as f32 / at.steps_per_epoch as f32;
        let total = (at.steps_per_epoch * at.epochs) as f32;
        let cosine = |from: f32, to: f32, t: f32| {
            to + (from - to) * 0.5 * (1.0 + (std::f32::consts::PI * t.clamp(0.0, 1.0)).cos())
        };
        match *self {
            Schedule::Constant | Schedule::ReduceOnPlateau { .. } => lr,
            Schedule::Step { every, gamma } => lr * gamma.powi((at.step / (every * at.steps_per_epoch)) as i32),
            Schedule::Exponential { gamma } => lr * gamma.powf(epoch),
            Schedule::Cosine { min_lr } => cosine(lr, min_lr, at.step as f32 / (total - 1.0).max(1.0)),
            Schedule::CosineRestarts { period, mult, min_lr } => {
                let (mut start, mut length) = (0, period * at.steps_per_epoch);
                while at.step >= start + length {
                    start += length;
                    length *= mult;
                }
                cosine(lr, min_lr, (at.step - start) as f32 / length as f32)
            }
            Schedule::OneCycle {
                pct_start,
                div,
                final_div,
            } => {
                let peak = ((total * pct_start).round() - 1.0).max(1.0);
                let step = at.step as f32;
                if step <= peak {
                    lr / div + (lr - lr / div) * step / peak
                } else {
                    cosine(
                        lr,
                        lr / (div * final_div),
                        (step - peak) / (total - 1.0 - peak).max(1.0),
                    )
                }
            }
        }
    }
}

/// A linear warm-up over the first `warmup_steps` steps: the rate at step s is scaled by
/// (s + 1) / (warmup_steps + 1), reaching the schedule's own rate after the warm-up.
pub fn warmup_factor(step: usize, warmup_steps: usize) -> f32 {
    if step >= warmup_steps {
        1.0
    } else {
        (step + 1) as f32 / (warmup_steps + 1) as f32
    }
}

/// The planned rate of every step of a run: what the page plots before training starts.
pub fn planned_rates(
    schedule: &Schedule,
    warmup_steps: usize,
    lr: f32,
    steps_per_epoch: usize,
    epochs: usize,
) -> Vec<f32> {
    (0..steps_per_epoch * epochs)
        .map(|step| {
            schedule.rate(
                lr,
                Progress {
                    step,
                    steps_per_epoch,
                    epochs,
                },
            ) * warmup_factor(step, warmup_steps)
        })
        .collect()
}

/// Reduce-on-plateau's running state: the current multiple of the base rate, and the epochs since
/// the monitored number last improved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plateau {
    pub factor: f32,
    best: Option<f32>,
    since_best: usize,
}

impl Default for Plateau {
    fn default() -> Self {
        Self {
            factor: 1.0,
            best: None,
            since_best: 0,
        }
    }
}

impl Plateau {
    /// Records an epoch's monitored value (lower is better); returns whether the rate was cut.
    pub fn observe(&mut self, schedule: &Schedule, lr: f32, value: f32) -> bool {
        let Schedule::ReduceOnPlateau {
            factor,
            patience,
            min_lr,
            ..
        } = *schedule
        else {
            return false;
        };
        if self.best.is_none_or(|best| value < best) {
            self.best = Some(value);
            self.since_best = 0;
            return false;
        }
        self.since_best += 1;
        if self.since_best < patience || lr * self.factor <= min_lr {
            return false;
        }
        self.factor = (self.factor * factor).max(min_lr / lr);
        self.since_best = 0;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(s: &Schedule, warmup: usize, spe: usize, epochs: usize) -> Vec<f32> {
        s.validate(1.0).unwrap();
        planned_rates(s, warmup, 1.0, spe, epochs)
    }

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-5
    }

    #[test]
    fn constant_is_flat() {
        assert!(curve(&Schedule::Constant, 0, 3, 4).iter().all(|&r| r == 1.0));
    }

    #[test]
    fn step_cuts_by_gamma_every_n_epochs() {
        let c = curve(&Schedule::Step { every: 2, gamma: 0.5 }, 0, 3, 5);
        assert_eq!(
            c,
            [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]
        );
    }

    #[test]
    fn exponential_multiplies_by_gamma_per_epoch() {
        let c = curve(&Schedule::Exponential { gamma: 0.5 }, 0, 4, 3);
        assert!(close(c[4], 0.5) && close(c[8], 0.25) && close(c[2], 0.5f32.sqrt()));
        assert!(c.windows(2).all(|w| w[1] < w[0]));
    }

    #[test]
    fn cosine_runs_from_lr_to_min_lr() {
        let c = curve(&Schedule::Cosine { min_lr: 0.1 }, 0, 10, 2);
        assert!(close(c[0], 1.0) && close(*c.last().unwrap(), 0.1));
        assert!(close(
            c[c.len() / 2],
            0.55 + 0.45 * (std::f32::consts::PI * 10.0 / 19.0).cos()
        ));
        assert!(c.windows(2).all(|w| w[1] < w[0]));
    }

    #[test]
    fn cosine_restarts_jump_back_up_at_each_cycle_of_growing_length() {
        let c = curve(
            &Schedule::CosineRestarts {
                period: 1,
                mult: 2,
                min_lr: 0.0,
            },
            0,
            4,
            7,
        );
        let restarts: Vec<usize> = (1..c.len()).filter(|&i| c[i] > c[i - 1]).collect();
        assert_eq!(restarts, [4, 12]);
        assert!([0, 4, 12].iter().all(|&i| c[i] == 1.0));
        assert!(close(c[2], 0.5) && close(c[8], 0.5));
    }

    #[test]
    fn cosine_restart_cycles_end_where_the_rate_jumps_back_up() {
        let s = Schedule::CosineRestarts {
            period: 1,
            mult: 2,
            min_lr: 0.0,
        };
        assert_eq!(s.cycle_ends(7), [1, 3, 7]);
        assert_eq!(s.cycle_ends(6), [1, 3]);
        assert_eq!(
            Schedule::CosineRestarts {
                period: 2,
                mult: 1,
                min_lr: 0.0
            }
            .cycle_ends(7),
            [2, 4, 6]
        );
        assert!(Schedule::Cosine { min_lr: 0.0 }.cycle_ends(7).is_empty());
    }

    #[test]
    fn one_cycle_rises_to_lr_then_anneals_far_below() {
        let c = curve(
            &Schedule::OneCycle {
                pct_start: 0.3,
                div: 25.0,
                final_div: 1e4,
            },
            0,
            10,
            10,
        );
        let peak = c.iter().cloned().fold(0.0, f32::max);
        let at = c.iter().position(|&r| r == peak).unwrap();
        assert!(close(peak, 1.0) && close(c[0], 1.0 / 25.0));
        assert_eq!(at, 29);
        assert!(c[..=at].windows(2).all(|w| w[1] > w[0]) && c[at..].windows(2).all(|w| w[1] < w[0]));
        assert!(close(*c.last().unwrap(), 1.0 / 25e4));
    }

    #[test]
    fn warmup_ramps_linearly_then_hands_over() {
        let c = curve(&Schedule::Step { every: 1, gamma: 0.5 }, 3, 4, 2);
        assert_eq!(&c[..5], &[0.25, 0.5, 0.75, 1.0, 0.5]);
    }

    #[test]
    fn plateau_cuts_after_patience_and_stops_at_min_lr() {
        let s = Schedule::ReduceOnPlateau {
            factor: 0.5,
            patience: 2,
            min_lr: 0.2,
            monitor: Monitor::ValLoss,
        };
        let mut p = Plateau::default();
        let cuts: Vec<bool> = [1.0, 0.9, 0.95, 0.92, 0.91, 0.93, 0.94, 0.8, 0.85, 0.86, 0.87, 0.88]
            .iter()
            .map(|&v| p.observe(&s, 1.0, v))
            .collect();
        assert_eq!(
            cuts,
            [false, false, false, true, false, true, false, false, false, true, false, false]
        );
        assert!(close(p.factor, 0.2));
    }

    #[test]
    fn bad_settings_are_named() {
        let err = Schedule::Step { every: 0, gamma: 0.5 }
            .validate(0.1)
            .unwrap_err()
            .to_string();
        assert!(err.contains("every ≥ 1"), "{err}");
        assert!(Schedule::Cosine { min_lr: 0.5 }.validate(0.1).is_err());
        assert!(Schedule::OneCycle {
            pct_start: 1.5,
            div: 25.0,
            final_div: 1e4
        }
        .validate(0.1)
        .is_err());
        assert!(Schedule::ReduceOnPlateau {
            factor: 1.0,
            patience: 1,
            min_lr: 0.0,
            monitor: Monitor::ValLoss
        }
        .validate(0.1)
        .is_err());
    }
}
