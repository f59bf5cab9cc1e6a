//! Hyper-parameter search: a search space, and strategies that propose trials one at a time
//! (`ask`) and learn from their scores (`tell`): grid, random, Bayesian optimisation (a Gaussian
//! process with expected improvement, see [`gp`]) and successive halving. Trials may run in
//! parallel: a strategy proposes while others are pending. Everything is seeded, and a search is
//! its spec plus its trials, so it serialises and resumes exactly. Trials carry no seed of their
//! own: they are meant to train with one seed, so that they share the held-out split they are
//! scored on and differ only in the values searched.

pub mod apply;
pub mod gp;

use crate::error::{plain, Error};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One searched setting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ParamSpec {
    Float {
        name: String,
        low: f64,
        high: f64,
        #[serde(default)]
        log: bool,
    },
    Int {
        name: String,
        low: i64,
        high: i64,
        #[serde(default)]
        log: bool,
    },
    Choice {
        name: String,
        values: Vec<Value>,
    },
}

impl ParamSpec {
    pub fn name(&self) -> &str {
        match self {
            ParamSpec::Float { name, .. } | ParamSpec::Int { name, .. } | ParamSpec::Choice { name, .. } => name,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        let bad = |why: String| {
            Err(Error::InvalidConfig(format!(
                "search parameter '{}': {why}",
                self.name()
            )))
        };
        match *self {
            ParamSpec::Float { low, high, log, .. } => {
                if !(low.is_finite() && high.is_finite()) || low >= high {
                    return bad(format!(
                        "the range {low} to {high} is empty; the low end must be below the high end"
                    ));
                }
                if log && low <= 0.0 {
                    return bad(format!("a log-scale range must be above 0, but it starts at {low}"));
                }
            }
            ParamSpec::Int { low, high, log, .. } => {
                if low > high {
                    return bad(format!("the range {low} to {high} is empty"));
                }
                if log && low <= 0 {
                    return bad(format!("a log-scale range must be above 0, but it starts at {low}"));
                }
            }
            ParamSpec::Choice { ref values, .. } => {
                if values.is_empty() {
                    return bad("a choice needs at least one value".into());
                }
            }
        }
        Ok(())
    }

    /// The value at `u` in [0, 1]: linear or logarithmic across a range, or one of the choices.
    fn decode(&self, u: f64) -> Value {
        let u = u.clamp(0.0, 1.0);
        match *self {
            ParamSpec::Float { low, high, log, .. } => {
                let v = if log {
                    (low.ln() + u * (high.ln() - low.ln())).exp()
                } else {
                    low + u * (high - low)
                };
                serde_json::json!(significant(v).clamp(low, high))
            }
            ParamSpec::Int { low, high, log, .. } => {
                let v = if log {
                    ((low as f64).ln() + u * ((high as f64 + 1.0).ln() - (low as f64).ln()))
                        .exp()
                        .floor() as i64
                } else {
                    low + (u * (high - low + 1) as f64).floor() as i64
                };
                serde_json::json!(v.clamp(low, high))
            }
            ParamSpec::Choice { ref values, .. } => {
                values[((u * values.len() as f64) as usize).min(values.len() - 1)].clone()
            }
        }
    }

    /// Where `value` sits in [0, 1]: the inverse of `decode` (the middle of an integer's or a
    /// choice's cell).
    fn encode(&self, value: &Value) -> f64 {
        match *self {
            ParamSpec::Float { low, high, log, .. } => {
                let v = value.as_f64().unwrap_or(low);
                if log {
                    (v.ln() - low.ln()) / (high.ln() - low.ln())
                } else {
                    (v - low) / (high - low)
                }
            }
            ParamSpec::Int { low, high, log, .. } => {
                let v = value.as_f64().unwrap_or(low as f64);
                if log {
                    let (a, b) = ((low as f64).ln(), (high as f64 + 1.0).ln());
                    (((v + 0.5).ln()) - a) / (b - a)
                } else {
                    (v - low as f64 + 0.5) / (high - low + 1) as f64
                }
            }
            ParamSpec::Choice { ref values, .. } => {
                (values.iter().position(|v| v == value).unwrap_or(0) as f64 + 0.5) / values.len() as f64
            }
        }
        .clamp(0.0, 1.0)
    }

    /// `points` values spread evenly across a range (on its scale), or every choice.
    pub fn grid(&self, points: usize) -> Vec<Value> {
        let mut values: Vec<Value> = match self {
            ParamSpec::Choice { values, .. } => values.clone(),
            ParamSpec::Int {
                low, high, log: false, ..
            } if (high - low + 1) as usize <= points => (*low..=*high).map(|v| serde_json::json!(v)).collect(),
            ParamSpec::Float { low, high, log, .. } => (0..points)
                .map(|i| {
                    let t = if points == 1 {
                        0.5
                    } else {
                        i as f64 / (points - 1) as f64
                    };
                    serde_json::json!(significant(if *log {
                        (low.ln() + t * (high.ln() - low.ln())).exp()
                    } else {
                        low + t * (high - low)
                    }))
                })
                .collect(),
            ParamSpec::Int { low, high, log, .. } => (0..points)
                .map(|i| {
                    let t = if points == 1 {
                        0.5
                    } else {
                        i as f64 / (points - 1) as f64
                    };
                    let (a, b) = (*low as f64, *high as f64);
                    serde_json::json!((if *log {
                        (a.ln() + t * (b.ln() - a.ln())).exp()
                    } else {
                        a + t * (b - a)
                    })
                    .round() as i64)
                })
                .collect(),
        };
        values.dedup();
        values
    }
}

/// How the next trials are chosen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Strategy {
    /// Every combination of `points` values per range (every value of a choice), in order.
    Grid {
        #[serde(default = "three")]
        points: usize,
    },
    Random,
    /// `initial` random trials (default: the number of parameters + 2, at least 4), then each trial
    /// where a Gaussian process fitted to the scores so far expects the most improvement. Pending
    /// trials count as scoring the best score so far (the "constant liar"), so parallel proposals
    /// spread out.
    Bayesian {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        initial: Option<usize>,
    },
    /// Successive halving: `budget` random configurations train for `min_epochs`; the best
    /// 1/`eta` of each rung train again for `eta` times the epochs, up to `max_epochs`.
    Halving {
        #[serde(default = "three")]
        eta: usize,
        min_epochs: usize,
        max_epochs: usize,
    },
}

/// `v` to 6 significant digits: a value as a person writes it, which reads back from JSON as the
/// same number.
fn significant(v: f64) -> f64 {
    format!("{v:.5e}").parse().unwrap_or(v)
}

/// A proposed trial: its configuration, epochs (when the strategy sets them) and rung.
type Proposal = (Map<String, Value>, Option<usize>, usize);

fn three() -> usize {
    3
}

/// A whole search: what is searched, how, how many trials (for halving: how many configurations
/// start), the seed, and whether a higher score is better.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchSpec {
    pub params: Vec<ParamSpec>,
    pub strategy: Strategy,
    pub budget: usize,
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub maximize: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Outcome {
    Pending,
    Done { score: f64 },
    Failed { reason: String },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    pub id: usize,
    pub config: Map<String, Value>,
    /// The epochs this trial trains for, when the strategy decides them (halving's rungs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs: Option<usize>,
    /// Halving's rung (0 for the first).
    #[serde(default)]
    pub rung: usize,
    pub outcome: Outcome,
}

/// What `ask` gives.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Ask {
    /// Run this trial and `tell` its score.
    Run { trial: Trial },
    /// Nothing can be proposed until a pending trial's score is known (halving between rungs).
    Wait,
    /// The budget is spent.
    Finished,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Search {
    pub spec: SearchSpec,
    pub trials: Vec<Trial>,
    /// Trials handed out again after a resume, before anything new.
    #[serde(default, skip)]
    requeued: Vec<usize>,
}

/// Every random draw depends only on the search seed and the trial number.
fn stream(seed: u64, id: usize, purpose: u64) -> Rng {
    Rng::new(seed ^ (id as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ purpose.wrapping_mul(0xD1B5_4A32_D192_ED03))
}

impl Search {
    pub fn new(spec: SearchSpec) -> Result<Self, Error> {
        let bad = |why: String| Err(Error::InvalidConfig(why));
        if spec.params.is_empty() {
            return bad("the search space has no parameters; add at least one".into());
        }
        for (i, p) in spec.params.iter().enumerate() {
            p.validate()?;
            if spec.params[..i].iter().any(|q| q.name() == p.name()) {
                return bad(format!("the parameter '{}' is searched twice", p.name()));
            }
        }
        if spec.budget == 0 {
            return bad("the budget is 0 trials; a search needs at least one".into());
        }
        match spec.strategy {
            Strategy::Grid { points: 0 } => return bad("a grid needs at least one point per range".into()),
            Strategy::Halving { eta, min_epochs, max_epochs } if eta < 2 || min_epochs == 0 || max_epochs < min_epochs => {
                return bad(format!("halving needs eta ≥ 2 and 1 ≤ min epochs ≤ max epochs, got eta {eta}, epochs {min_epochs} to {max_epochs}"))
            }
            _ => {}
        }
        Ok(Self {
            spec,
            trials: Vec::new(),
            requeued: Vec::new(),
        })
    }

    pub fn from_json(json: &str) -> Result<Self, Error> {
        let spec: SearchSpec = serde_json::from_str(json)
            .map_err(|e| Error::InvalidConfig(format!("the search settings are not valid: {}", plain(&e))))?;
        Self::new(spec)
    }

    /// A saved search (`serde_json` of a `Search`), its pending trials queued to run again.
    pub fn restore(json: &str) -> Result<Self, Error> {
        let saved: Search = serde_json::from_str(json)
            .map_err(|e| Error::InvalidData(format!("the saved search cannot be read: {}", plain(&e))))?;
        let mut search = Self::new(saved.spec)?;
        search.trials = saved.trials;
        search.requeued = search
            .trials
            .iter()
            .filter(|t| t.outcome == Outcome::Pending)
            .map(|t| t.id)
            .collect();
        Ok(search)
    }

    pub fn tell(&mut self, id: usize, score: f64) -> Result<(), Error> {
        if !score.is_finite() {
            return self.fail(id, format!("its score is {score}"));
        }
        self.settle(id, Outcome::Done { score })
    }

    /// A trial that could not be scored (it diverged, or its worker failed): the search goes on
    /// without it.
    pub fn fail(&mut self, id: usize, reason: String) -> Result<(), Error> {
        self.settle(id, Outcome::Failed { reason })
    }

    fn settle(&mut self, id: usize, outcome: Outcome) -> Result<(), Error> {
        let trial = self
            .trials
            .get_mut(id)
            .ok_or_else(|| Error::InvalidConfig(format!("there is no trial {id}")))?;
        if trial.outcome != Outcome::Pending {
            return Err(Error::InvalidConfig(format!("trial {id} already has a result")));
        }
        trial.outcome = outcome;
        self.requeued.retain(|&r| r != id);
        Ok(())
    }

    /// The best finished trial: of the highest rung that has one (halving's longest-trained), the
    /// best score.
    pub fn best(&self) -> Option<&Trial> {
        let better = |a: &Trial, b: &Trial| {
            a.rung > b.rung
                || a.rung == b.rung
                    && if self.spec.maximize {
                        score_of(a) > score_of(b)
                    } else {
                        score_of(a) < score_of(b)
                    }
        };
        self.trials
            .iter()
            .filter(|t| matches!(t.outcome, Outcome::Done { .. }))
            .fold(None, |best: Option<&Trial>, t| match best {
                Some(b) if !better(t, b) => Some(b),
                _ => Some(t),
            })
    }

    pub fn ask(&mut self) -> Ask {
        if !self.requeued.is_empty() {
            let id = self.requeued.remove(0);
            return Ask::Run {
                trial: self.trials[id].clone(),
            };
        }
        let next = match self.spec.strategy.clone() {
            Strategy::Grid { points } => self.next_grid(points),
            Strategy::Random => (self.trials.len() < self.spec.budget)
                .then(|| (self.decode(&self.random_point(self.trials.len())), None, 0)),
            Strategy::Bayesian { initial } => self.next_bayesian(initial),
            Strategy::Halving {
                eta,
                min_epochs,
                max_epochs,
            } => match self.next_halving(eta, min_epochs, max_epochs) {
                Ok(next) => next,
                Err(wait) => return wait,
            },
        };
        let Some((config, epochs, rung)) = next else {
            return Ask::Finished;
        };
        let id = self.trials.len();
        let trial = Trial {
            id,
            config,
            epochs,
            rung,
            outcome: Outcome::Pending,
        };
        self.trials.push(trial.clone());
        Ask::Run { trial }
    }

    fn decode(&self, unit: &[f64]) -> Map<String, Value> {
        self.spec
            .params
            .iter()
            .zip(unit)
            .map(|(p, &u)| (p.name().to_string(), p.decode(u)))
            .collect()
    }

    fn random_point(&self, id: usize) -> Vec<f64> {
        let mut rng = stream(self.spec.seed, id, 2);
        self.spec.params.iter().map(|_| rng.uniform_f64()).collect()
    }

    fn unit_of(&self, t: &Trial) -> Vec<f64> {
        self.spec.params.iter().map(|p| p.encode(&t.config[p.name()])).collect()
    }

    fn next_grid(&self, points: usize) -> Option<Proposal> {
        let axes: Vec<Vec<Value>> = self.spec.params.iter().map(|p| p.grid(points)).collect();
        let total: usize = axes.iter().map(Vec::len).product();
        let id = self.trials.len();
        if id >= total.min(self.spec.budget) {
            return None;
        }
        // Trial `id` is combination `id` in mixed radix, the last parameter changing fastest.
        let mut rest = id;
        let mut config = Map::new();
        for (p, axis) in self.spec.params.iter().zip(&axes).rev() {
            config.insert(p.name().to_string(), axis[rest % axis.len()].clone());
            rest /= axis.len();
        }
        Some((config, None, 0))
    }

    fn next_bayesian(&self, initial: Option<usize>) -> Option<Proposal> {
        let id = self.trials.len();
        if id >= self.spec.budget {
            return None;
        }
        let initial = initial.unwrap_or((self.spec.params.len() + 2).max(4));
        // Minimise: a maximised score is negated.
        let sign = if self.spec.maximize { -1.0 } else { 1.0 };
        let done: Vec<(Vec<f64>, f64)> = self
            .trials
            .iter()
            .filter_map(|t| match t.outcome {
                Outcome::Done { score } => Some((self.unit_of(t), sign * score)),
                _ => None,
            })
            .collect();
        if id < initial || done.len() < 2 {
            return Some((self.decode(&self.random_point(id)), None, 0));
        }
        let best = done.iter().map(|d| d.1).fold(f64::INFINITY, f64::min);
        // A failed trial (a diverged run) counts as the worst score so far, so that the search
        // learns where runs fail instead of trying there again.
        let worst = done.iter().map(|d| d.1).fold(f64::NEG_INFINITY, f64::max);
        let failed = self
            .trials
            .iter()
            .filter(|t| matches!(t.outcome, Outcome::Failed { .. }))
            .map(|t| (self.unit_of(t), worst));
        let pending = self
            .trials
            .iter()
            .filter(|t| t.outcome == Outcome::Pending)
            .map(|t| (self.unit_of(t), best));
        let (x, y): (Vec<Vec<f64>>, Vec<f64>) = done.iter().cloned().chain(failed).chain(pending).unzip();
        let mut rng = stream(self.spec.seed, id, 3);
        let process = gp::Gp::fit(x.clone(), &y, &mut rng);
        let d = self.spec.params.len();
        // Candidates: uniform over the cube, and near the best points so far.
        let mut candidates: Vec<Vec<f64>> = (0..2000).map(|_| (0..d).map(|_| rng.uniform_f64()).collect()).collect();
        let mut ranked: Vec<&(Vec<f64>, f64)> = done.iter().collect();
        ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
        for (centre, _) in ranked.iter().take(5) {
            for _ in 0..100 {
                candidates.push(
                    centre
                        .iter()
                        .map(|&c| (c + 0.05 * rng.normal() as f64).clamp(0.0, 1.0))
                        .collect(),
                );
            }
        }
        // The margin an improvement must clear, in the scores' own units: a hundredth of their
        // spread so far (a fixed 0.01 is a whole point of accuracy, and nothing for a loss of 100).
        let mean = done.iter().map(|d| d.1).sum::<f64>() / done.len() as f64;
        let spread = (done.iter().map(|d| (d.1 - mean).powi(2)).sum::<f64>() / done.len() as f64).sqrt();
        let margin = 0.01 * spread;
        let chosen = candidates
            .into_iter()
            .map(|c| (process.expected_improvement(&c, best, margin), c))
            .fold((f64::NEG_INFINITY, None), |(best_ei, best_c), (ei, c)| {
                if ei > best_ei {
                    (ei, Some(c))
                } else {
                    (best_ei, best_c)
                }
            })
            .1
            .expect("there are candidates");
        Some((self.decode(&chosen), None, 0))
    }

    /// Rung 0 is `budget` random configurations at `min_epochs`; rung r + 1 trains the survivors of
    /// rung r (once every trial of rung r has its result) for `eta` times the epochs. It ends with a
    /// rung of one, or at `max_epochs`. `Err(Ask::Wait)` while a rung's results are still coming in.
    fn next_halving(&self, eta: usize, min_epochs: usize, max_epochs: usize) -> Result<Option<Proposal>, Ask> {
        let epochs = |r: usize| (min_epochs.saturating_mul(eta.saturating_pow(r as u32))).min(max_epochs);
        let id = self.trials.len();
        if id < self.spec.budget {
            return Ok(Some((self.decode(&self.random_point(id)), Some(epochs(0)), 0)));
        }
        let rung_of = |r: usize| self.trials.iter().filter(|t| t.rung == r).collect::<Vec<&Trial>>();
        let top = self.trials.iter().map(|t| t.rung).max().unwrap_or(0);
        let current = rung_of(top);
        if top > 0 {
            let promoted = self.survivors(&rung_of(top - 1), eta);
            if current.len() < promoted.len() {
                return Ok(Some((promoted[current.len()].config.clone(), Some(epochs(top)), top)));
            }
        }
        if current.iter().any(|t| t.outcome == Outcome::Pending) {
            return Err(Ask::Wait);
        }
        let survivors = self.survivors(&current, eta);
        if current.len() <= 1 || survivors.is_empty() || epochs(top) >= max_epochs {
            return Ok(None);
        }
        Ok(Some((survivors[0].config.clone(), Some(epochs(top + 1)), top + 1)))
    }

    /// The best `⌊n / eta⌋` (at least 1) finished trials of a rung, best first.
    fn survivors<'a>(&self, rung: &[&'a Trial], eta: usize) -> Vec<&'a Trial> {
        let mut done: Vec<&Trial> = rung
            .iter()
            .copied()
            .filter(|t| matches!(t.outcome, Outcome::Done { .. }))
            .collect();
        let sign = if self.spec.maximize { -1.0 } else { 1.0 };
        done.sort_by(|a, b| {
            (sign * score_of(a))
                .total_cmp(&(sign * score_of(b)))
                .then(a.id.cmp(&b.id))
        });
        let keep = (rung.len() / eta).max(1).min(done.len());
        done.truncate(keep);
        done
    }
}

fn score_of(t: &Trial) -> f64 {
    match t.outcome {
        Outcome::Done { score } => score,
        _ => f64::NAN,
    }
}

#[cfg(test)]
mod tests;
