use super::*;
use crate::backend::cpu::Cpu;
use crate::backend::ready;
use crate::data::toy;
use crate::nn::preset;
use crate::optim::schedule::{planned_rates, Schedule};
use crate::optim::OptimizerSpec;
use crate::testing::assert_close;

fn config(lr: f32, batch_size: usize, epochs: usize) -> TrainConfig {
    TrainConfig::new(
        epochs,
        batch_size,
        OptimizerSpec::Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        },
        3,
    )
}

fn circle_trainer(c: TrainConfig) -> Result<Trainer<Cpu>, Error> {
    let data = toy::generate("circle", 600, 0.05, 1)?;
    let (train, val) = data.split(200, 2)?;
    Trainer::new(Cpu, preset("toy", &[2], 2)?, c, &train, &val)
}

fn run_to_end(t: &mut Trainer<Cpu>) -> Vec<Event> {
    let mut events = Vec::new();
    while !t.is_finished() {
        events.extend(ready(t.run(7)).unwrap());
    }
    events
}

/// The last epoch's training loss and held-out accuracy of a run trained to its end.
fn last_epoch(t: &mut Trainer<Cpu>) -> (f32, f32) {
    match run_to_end(t)
        .into_iter()
        .rev()
        .find(|e| matches!(e, Event::Epoch { .. }))
    {
        Some(Event::Epoch {
            train_loss,
            val_accuracy,
            ..
        }) => (train_loss, val_accuracy),
        _ => unreachable!("a run has epochs"),
    }
}

/// Events with their wall-clock fields zeroed, for comparing runs.
fn timeless(events: Vec<Event>) -> Vec<Event> {
    events
        .into_iter()
        .map(|e| match e {
            Event::Step {
                samples_per_sec: _,
                epoch,
                step,
                steps_per_epoch,
                loss,
                accuracy,
                lrs,
                grad_norms,
            } => Event::Step {
                epoch,
                step,
                steps_per_epoch,
                loss,
                accuracy,
                samples_per_sec: 0.0,
                lrs,
                grad_norms,
            },
            Event::Epoch {
                epoch,
                train_loss,
                train_accuracy,
                val_loss,
                val_accuracy,
                ..
            } => Event::Epoch {
                epoch,
                train_loss,
                train_accuracy,
                val_loss,
                val_accuracy,
                seconds: 0.0,
            },
            other => other,
        })
        .collect()
}

#[test]
fn learns_the_circle_and_reports_every_epoch() {
    let mut t = circle_trainer(config(0.02, 16, 15)).unwrap();
    let events = run_to_end(&mut t);
    let epochs: Vec<_> = events
        .iter()
        .filter_map(|e| {
            if let Event::Epoch {
                epoch, val_accuracy, ..
            } = e
            {
                Some((*epoch, *val_accuracy))
            } else {
                None
            }
        })
        .collect();
    assert_eq!(epochs.len(), 15);
    assert_eq!(
        epochs.iter().map(|e| e.0).collect::<Vec<_>>(),
        (1..=15).collect::<Vec<_>>()
    );
    assert!(
        epochs.last().unwrap().1 > 0.95,
        "validation accuracy {:?}",
        epochs.last()
    );
    assert_eq!(events.last(), Some(&Event::Finished { epochs: 15 }));
    // Chunks stop at epoch boundaries: 400 samples / 16 = 25 steps → chunks of 7, 7, 7, 4.
    let steps: Vec<_> = events
        .iter()
        .take(5)
        .filter_map(|e| {
            if let Event::Step { step, .. } = e {
                Some(*step)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(steps, vec![7, 14, 21, 25]);
}

#[test]
fn same_seed_same_run() {
    let a = timeless(run_to_end(&mut circle_trainer(config(0.01, 32, 3)).unwrap()));
    let b = timeless(run_to_end(&mut circle_trainer(config(0.01, 32, 3)).unwrap()));
    assert_eq!(a, b);
    let mut other = config(0.01, 32, 3);
    other.seed = 4;
    assert_ne!(a, timeless(run_to_end(&mut circle_trainer(other).unwrap())));
}

#[test]
fn every_optimiser_lowers_the_loss() {
    for optimizer in [
        OptimizerSpec::Sgd { lr: 0.3 },
        OptimizerSpec::Momentum {
            lr: 0.05,
            momentum: 0.9,
            nesterov: false,
        },
        OptimizerSpec::Momentum {
            lr: 0.05,
            momentum: 0.9,
            nesterov: true,
        },
        OptimizerSpec::Adam {
            lr: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        },
        OptimizerSpec::AdamW {
            lr: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
        },
        OptimizerSpec::RmsProp {
            lr: 0.01,
            rho: 0.9,
            eps: 1e-8,
        },
    ] {
        let mut t = circle_trainer(TrainConfig::new(10, 16, optimizer.clone(), 1)).unwrap();
        let before = ready(t.evaluate_validation()).unwrap().loss;
        run_to_end(&mut t);
        let after = ready(t.evaluate_validation()).unwrap().loss;
        assert!(after < 0.5 * before, "{optimizer:?}: loss {before} → {after}");
    }
}

#[test]
fn bad_settings_get_clear_errors() {
    let msg = |c| circle_trainer(c).err().expect("must be refused").to_string();
    assert!(msg(config(0.01, 0, 1)).contains("batch size"));
    assert!(msg(config(0.01, 401, 1)).contains("batch size"));
    assert!(msg(config(-1.0, 8, 1)).contains("learning rate"));
    assert!(msg(config(f32::NAN, 8, 1)).contains("learning rate"));
    assert!(msg(config(0.01, 8, 0)).contains("epochs"));
    let data = toy::generate("circle", 100, 0.05, 1).unwrap();
    let (train, val) = data.split(20, 2).unwrap();
    let wrong_classes = Trainer::new(Cpu, preset("toy", &[2], 3).unwrap(), config(0.01, 8, 1), &train, &val);
    assert!(wrong_classes
        .err()
        .unwrap()
        .to_string()
        .contains("3 values but the data has 2 classes"));
    let wrong_input = Trainer::new(
        Cpu,
        preset("mlp", &[1, 28, 28], 2).unwrap(),
        config(0.01, 8, 1),
        &train,
        &val,
    );
    assert!(wrong_input.err().unwrap().to_string().contains("[1, 28, 28]"));
    assert!(TrainConfig::from_json(r#"{"epochs":1,"batch_size":8,"optimizer":{"type":"adam"}}"#).is_err());
}

#[test]
fn a_diverging_run_stops_with_advice() {
    let c = TrainConfig::new(5, 16, OptimizerSpec::Sgd { lr: 1e30 }, 1);
    let data = toy::generate("circle", 600, 0.05, 1).unwrap();
    let (train, val) = data.split(200, 2).unwrap();
    // Without a saturating activation the weights overflow to infinity and the loss turns NaN.
    let spec = ModelSpec::from_json(
        r#"{"input":[2],"layers":[{"type":"dense","units":16},{"type":"relu"},{"type":"dense","units":2}]}"#,
    )
    .unwrap();
    let mut t = Trainer::new(Cpu, spec, c, &train, &val).unwrap();
    let err = (0..20)
        .find_map(|_| ready(t.run(5)).err())
        .expect("the loss must blow up");
    // Found at the step that blew up, inside the first chunk of five, not at the chunk's end.
    assert!(matches!(err, Error::Diverged { epoch: 1, step: 2, .. }), "{err:?}");
    assert!(err.to_string().contains("Lower the learning rate"), "{err}");
}

#[test]
fn an_exploding_but_finite_loss_also_stops() {
    // Saturated tanh units keep the loss finite, but a step this large sends the logits to ±1e29.
    let c = TrainConfig::new(5, 16, OptimizerSpec::Sgd { lr: 1e30 }, 1);
    let mut t = circle_trainer(c).unwrap();
    let err = (0..20)
        .find_map(|_| ready(t.run(5)).err())
        .expect("the loss must explode");
    assert!(matches!(err, Error::Diverged { .. }), "{err}");
}

#[test]
fn predict_gives_probability_rows() {
    let mut t = circle_trainer(config(0.02, 16, 10)).unwrap();
    run_to_end(&mut t);
    let p = ready(t.predict(&[0.0, 0.0, 0.9, 0.0])).unwrap();
    assert_eq!(p.len(), 4);
    assert!((p[0] + p[1] - 1.0).abs() < 1e-5 && (p[2] + p[3] - 1.0).abs() < 1e-5);
    assert!(p[0] > 0.9 && p[3] > 0.9, "centre is class 0, the ring class 1: {p:?}");
    assert!(ready(t.predict(&[0.0, 0.0, 0.9])).is_err());
}

#[test]
fn a_run_resumes_from_its_snapshot_on_another_trainer() {
    let mut a = circle_trainer(config(0.02, 16, 4)).unwrap();
    assert!(a.snapshot().is_none());
    while a.snapshot().is_none_or(|s| s.epoch < 2) {
        ready(a.run(100)).unwrap();
    }
    let snap = a.snapshot().unwrap().clone();
    assert_eq!(snap.epoch, 2);
    let before = ready(a.evaluate_validation()).unwrap();
    // A fresh trainer (other initial weights) that restores the snapshot evaluates the same.
    let mut other = config(0.02, 16, 4);
    other.seed = 99;
    let mut b = circle_trainer(other).unwrap();
    b.restore(&snap).unwrap();
    assert_eq!(ready(b.evaluate_validation()).unwrap(), before);
    let events = run_to_end(&mut b);
    let epochs: Vec<usize> = events
        .iter()
        .filter_map(|e| {
            if let Event::Epoch { epoch, .. } = e {
                Some(*epoch)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(epochs, vec![3, 4], "it carries on from the epoch after the snapshot");
    let mut wrong = snap.clone();
    wrong.weights.pop();
    assert!(b.restore(&wrong).is_err());
}

fn early(patience: usize, min_delta: f32, restore_best: bool) -> TrainConfig {
    let mut c = config(0.02, 16, 20);
    c.early_stopping = Some(EarlyStopping {
        patience,
        min_delta,
        monitor: Monitor::ValLoss,
        restore_best,
    });
    c
}

fn epoch_events(events: &[Event]) -> Vec<(usize, f32, f32)> {
    events
        .iter()
        .filter_map(|e| {
            if let Event::Epoch {
                epoch,
                val_loss,
                val_accuracy,
                ..
            } = e
            {
                Some((*epoch, *val_loss, *val_accuracy))
            } else {
                None
            }
        })
        .collect()
}

#[test]
fn early_stopping_stops_after_patience_and_restores_the_best_epoch() {
    // No epoch after the first can improve the loss by 10, so epoch 1 stays the best and the run
    // stops once two more epochs have passed without improving.
    let mut t = circle_trainer(early(2, 10.0, true)).unwrap();
    let events = run_to_end(&mut t);
    let epochs = epoch_events(&events);
    assert_eq!(epochs.iter().map(|e| e.0).collect::<Vec<_>>(), vec![1, 2, 3]);
    let stop = events
        .iter()
        .find(|e| matches!(e, Event::EarlyStop { .. }))
        .expect("an early-stop event");
    assert_eq!(
        stop,
        &Event::EarlyStop {
            epoch: 3,
            best_epoch: 1,
            restored: true,
            best_val_loss: epochs[0].1,
            best_val_accuracy: epochs[0].2
        }
    );
    assert_eq!(events.last(), Some(&Event::Finished { epochs: 3 }));
    assert!(t.is_finished());
    // The model is epoch 1's again.
    let now = ready(t.evaluate_validation()).unwrap();
    assert_eq!((now.loss, now.accuracy), (epochs[0].1, epochs[0].2));
    assert_eq!(t.snapshot().unwrap().epoch, 1);
}

#[test]
fn early_stopping_without_restore_keeps_the_last_weights_and_a_real_improvement_resets_patience() {
    let mut t = circle_trainer(early(2, 10.0, false)).unwrap();
    let epochs = epoch_events(&run_to_end(&mut t));
    let now = ready(t.evaluate_validation()).unwrap();
    assert_eq!((now.loss, now.accuracy), (epochs[2].1, epochs[2].2));
    // With no margin, the run stops exactly where the rule says: three epochs after the last
    // new best validation loss, or never.
    let mut t = circle_trainer(early(3, 0.0, true)).unwrap();
    let events = run_to_end(&mut t);
    let (mut best, mut since, mut expected) = (f32::INFINITY, 0, None);
    for &(epoch, loss, _) in &epoch_events(&events) {
        if loss < best {
            (best, since) = (loss, 0);
        } else {
            since += 1;
            if since == 3 {
                expected = Some(epoch);
            }
        }
    }
    let stopped = events.iter().find_map(|e| {
        if let Event::EarlyStop { epoch, .. } = e {
            Some(*epoch)
        } else {
            None
        }
    });
    assert_eq!(stopped, expected);
}

#[test]
fn early_stopping_settings_are_checked_and_parse() {
    assert!(circle_trainer(early(0, 0.0, true))
        .err()
        .unwrap()
        .to_string()
        .contains("patience"));
    assert!(circle_trainer(early(2, -1.0, true)).is_err());
    let c =
        TrainConfig::from_json(r#"{"epochs":5,"batch_size":8,"optimizer":{"type":"sgd","lr":0.1},"early_stopping":{"patience":3,"monitor":"val_accuracy"}}"#)
            .unwrap();
    assert_eq!(
        c.early_stopping,
        Some(EarlyStopping {
            patience: 3,
            min_delta: 0.0,
            monitor: Monitor::ValAccuracy,
            restore_best: true
        })
    );
}

fn weight_norms(t: &mut Trainer<Cpu>) -> (f32, f32) {
    // (Σ|w|, Σw²) over the weights, biases left out as the penalties leave them out.
    let mut norms = (0.0, 0.0);
    for p in t.model.params().into_iter().filter(|p| p.penalised) {
        for w in ready(Cpu.read(&p.value)).unwrap() {
            norms.0 += w.abs();
            norms.1 += w * w;
        }
    }
    norms
}

#[test]
fn l1_and_l2_penalties_shrink_the_weights() {
    let trained = |l1: f32, l2: f32| {
        let mut c = config(0.02, 16, 10);
        (c.l1, c.l2) = (l1, l2);
        let mut t = circle_trainer(c).unwrap();
        run_to_end(&mut t);
        weight_norms(&mut t)
    };
    let plain = trained(0.0, 0.0);
    let l2 = trained(0.0, 0.05);
    let l1 = trained(0.005, 0.0);
    assert!(l2.1 < 0.7 * plain.1, "L2 shrinks Σw²: {} → {}", plain.1, l2.1);
    assert!(l1.0 < 0.7 * plain.0, "L1 shrinks Σ|w|: {} → {}", plain.0, l1.0);
    let mut bad = config(0.02, 16, 1);
    bad.l2 = -1.0;
    assert!(circle_trainer(bad).err().unwrap().to_string().contains("L1 and L2"));
}

/// Every weight and bias, flattened in the model's order.
fn all_weights(t: &mut Trainer<Cpu>) -> Vec<f32> {
    t.model
        .params()
        .into_iter()
        .flat_map(|p| ready(Cpu.read(&p.value)).unwrap())
        .collect()
}

/// (learning rate, gradient norm) of every step, in order.
fn step_rates(events: &[Event]) -> Vec<(f32, f32)> {
    let mut steps = Vec::new();
    for e in events {
        if let Event::Step { lrs, grad_norms, .. } = e {
            assert_eq!(lrs.len(), grad_norms.len(), "one rate and one norm per step");
            steps.extend(lrs.iter().copied().zip(grad_norms.iter().copied()));
        }
    }
    steps
}

#[test]
fn steps_follow_the_planned_schedule_and_report_one_gradient_norm_each() {
    let mut c = config(0.02, 40, 6);
    c.schedule = Schedule::CosineRestarts {
        period: 2,
        mult: 1,
        min_lr: 0.001,
    };
    c.warmup_steps = 5;
    let mut t = circle_trainer(c.clone()).unwrap();
    let spe = t.steps_per_epoch();
    let plan = planned_rates(&c.schedule, c.warmup_steps, 0.02, spe, 6);
    let steps = step_rates(&run_to_end(&mut t));
    assert!(steps.iter().all(|(_, norm)| norm.is_finite() && *norm > 0.0));
    let seen: Vec<f32> = steps.iter().map(|s| s.0).collect();
    assert_eq!(seen, plan);
    assert!(
        seen[spe * 2] > seen[spe * 2 - 1],
        "the rate restarts after the first 2-epoch cycle"
    );
}

#[test]
fn the_reported_gradient_norm_is_the_step_that_sgd_takes() {
    // With SGD at rate 1, a step moves the weights by exactly the gradient.
    let sgd = |clip_norm: Option<f32>, clip_value: Option<f32>| {
        let mut c = TrainConfig::new(1, 32, OptimizerSpec::Sgd { lr: 1.0 }, 3);
        (c.clip_norm, c.clip_value) = (clip_norm, clip_value);
        let mut t = circle_trainer(c).unwrap();
        let before = all_weights(&mut t);
        let events = ready(t.run(1)).unwrap();
        let moved: Vec<f32> = all_weights(&mut t).iter().zip(&before).map(|(a, b)| a - b).collect();
        (step_rates(&events)[0].1, moved)
    };
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let (reported, moved) = sgd(None, None);
    assert!(
        (norm(&moved) - reported).abs() < 1e-4 * reported,
        "{} vs {reported}",
        norm(&moved)
    );
    // Clipping by norm caps the step at the limit and reports the norm before clipping.
    let cap = reported / 4.0;
    let (unclipped, moved) = sgd(Some(cap), None);
    assert_eq!(unclipped, reported);
    assert!(
        (norm(&moved) - cap).abs() < 1e-4 * cap,
        "clipped to {} not {cap}",
        norm(&moved)
    );
    // A cap above the norm changes nothing.
    assert_eq!(sgd(Some(reported * 2.0), None).1, sgd(None, None).1);
    // Clipping by value caps every coordinate and leaves smaller ones alone.
    let limit = 0.01;
    let (_, free) = sgd(None, None);
    let (_, clamped) = sgd(None, Some(limit));
    assert!(free.iter().any(|d| d.abs() > 2.0 * limit));
    for (f, c) in free.iter().zip(&clamped) {
        assert!((c - f.clamp(-limit, limit)).abs() < 1e-6, "{f} clamped to {c}");
    }
}

#[test]
fn reduce_on_plateau_cuts_the_rate_when_validation_stalls() {
    // A rate so small that the validation loss cannot move: every epoch after the first is a plateau.
    let mut c = TrainConfig::new(4, 40, OptimizerSpec::Sgd { lr: 1e-12 }, 3);
    c.schedule = Schedule::ReduceOnPlateau {
        factor: 0.5,
        patience: 1,
        min_lr: 0.0,
        monitor: Monitor::ValLoss,
    };
    let mut t = circle_trainer(c).unwrap();
    let events = run_to_end(&mut t);
    let spe = t.steps_per_epoch();
    let steps = step_rates(&events);
    assert_eq!(steps.len(), 4 * spe);
    let factors: Vec<f32> = steps
        .chunks(spe)
        .map(|epoch| (epoch[0].0 / 1e-12 * 1e3).round() / 1e3)
        .collect();
    assert_eq!(factors, [1.0, 1.0, 0.5, 0.25]);
    assert!(
        steps.chunks(spe).all(|epoch| epoch.iter().all(|s| s.0 == epoch[0].0)),
        "the rate only changes between epochs"
    );
}

#[test]
fn schedule_and_clipping_settings_parse_and_are_checked() {
    let c = TrainConfig::from_json(
        r#"{"epochs":5,"batch_size":8,"optimizer":{"type":"sgd","lr":0.1},"schedule":{"type":"step","every":2,"gamma":0.5},"warmup_steps":10,"clip_norm":1.0}"#,
    )
    .unwrap();
    assert_eq!(c.schedule, Schedule::Step { every: 2, gamma: 0.5 });
    assert_eq!((c.warmup_steps, c.clip_norm, c.clip_value), (10, Some(1.0), None));
    let mut bad = config(0.02, 16, 2);
    bad.clip_norm = Some(0.0);
    assert!(circle_trainer(bad)
        .err()
        .unwrap()
        .to_string()
        .contains("clipping by norm"));
    let mut bad = config(0.02, 16, 2);
    bad.schedule = Schedule::Cosine { min_lr: 0.5 };
    assert!(circle_trainer(bad).err().unwrap().to_string().contains("min_lr"));
}

#[test]
fn a_saved_model_reloads_into_a_fresh_run_and_predicts_the_same() {
    use crate::model_file::ModelFile;
    let mut a = circle_trainer(config(0.02, 16, 3)).unwrap();
    run_to_end(&mut a);
    let grid: Vec<f32> = (0..50)
        .flat_map(|i| [i as f32 / 25.0 - 1.0, 0.3 - i as f32 / 60.0])
        .collect();
    let before = ready(a.predict(&grid)).unwrap();
    let file = ModelFile {
        spec: a.model().spec().clone(),
        classes: vec!["out".into(), "in".into()],
        tensors: ready(a.named_weights()).unwrap(),
        features: None,
        vocabulary: None,
        history: None,
    };
    let bytes = file.to_bytes().unwrap();
    let mut other = config(0.02, 16, 3);
    other.seed = 77;
    let mut b = circle_trainer(other).unwrap();
    assert_ne!(
        ready(b.predict(&grid)).unwrap(),
        before,
        "a fresh model predicts differently"
    );
    b.load_file_weights(&ModelFile::from_bytes(&bytes).unwrap()).unwrap();
    assert_eq!(
        ready(b.predict(&grid)).unwrap(),
        before,
        "the reloaded model predicts exactly the same"
    );
    assert_eq!(
        ready(b.evaluate_validation()).unwrap(),
        ready(a.evaluate_validation()).unwrap()
    );
    // A file of another model is refused.
    let data = toy::generate("circle", 600, 0.05, 1).unwrap();
    let (train, val) = data.split(200, 2).unwrap();
    let mut mlp = Trainer::new(Cpu, preset("mlp", &[2], 2).unwrap(), config(0.02, 16, 1), &train, &val).unwrap();
    assert!(mlp
        .load_file_weights(&file)
        .unwrap_err()
        .to_string()
        .contains("different model"));
}

/// Each layer's weights (not biases), by layer number from 1.
fn layer_weights(t: &mut Trainer<Cpu>) -> Vec<Vec<f32>> {
    t.model
        .layer_params()
        .into_iter()
        .map(|ps| {
            ps.into_iter()
                .filter(|p| p.penalised)
                .flat_map(|p| ready(Cpu.read(&p.value)).unwrap())
                .collect()
        })
        .collect()
}

#[test]
fn frozen_layers_keep_their_weights_and_the_others_still_learn() {
    let mut c = config(0.02, 16, 5);
    c.frozen = vec![1];
    let mut t = circle_trainer(c).unwrap();
    let before: Vec<Vec<f32>> = t
        .model
        .params()
        .into_iter()
        .map(|p| ready(Cpu.read(&p.value)).unwrap())
        .collect();
    let loss_before = ready(t.evaluate_validation()).unwrap().loss;
    run_to_end(&mut t);
    let after: Vec<Vec<f32>> = t
        .model
        .params()
        .into_iter()
        .map(|p| ready(Cpu.read(&p.value)).unwrap())
        .collect();
    // The toy preset: dense (1), tanh, dense (3), tanh, dense (5); each dense has a weight and a bias.
    assert_eq!(
        after[..2],
        before[..2],
        "layer 1 (weight and bias) is bit for bit as it was"
    );
    assert!((2..6).all(|i| after[i] != before[i]), "layers 3 and 5 learned");
    let loss_after = ready(t.evaluate_validation()).unwrap().loss;
    assert!(
        loss_after < 0.8 * loss_before,
        "the layers above a frozen one still learn: {loss_before} → {loss_after}"
    );
}

#[test]
fn a_frozen_recurrent_layer_keeps_its_weights_while_the_head_learns() {
    let waves = crate::data::sequence::waves(300, 12, 0.2, 1).unwrap();
    let (train, val) = waves.split(60, 2).unwrap();
    let mut c = config(0.01, 16, 3);
    c.frozen = vec![1];
    let mut t = Trainer::new(Cpu, preset("gru", &[12, 1], 4).unwrap(), c, &train, &val).unwrap();
    let before: Vec<Vec<f32>> = t
        .model
        .params()
        .into_iter()
        .map(|p| ready(Cpu.read(&p.value)).unwrap())
        .collect();
    run_to_end(&mut t);
    let after: Vec<Vec<f32>> = t
        .model
        .params()
        .into_iter()
        .map(|p| ready(Cpu.read(&p.value)).unwrap())
        .collect();
    // The GRU's weight, recurrent weight, bias and recurrent bias; then the dense head's two.
    assert_eq!(after[..4], before[..4]);
    assert!(after[4] != before[4] && after[5] != before[5]);
}

#[test]
fn a_layer_penalty_replaces_the_global_one_for_that_layer() {
    let trained = |l2: f32, layer_penalties: Vec<LayerPenalty>| {
        let mut c = config(0.02, 16, 10);
        c.l2 = l2;
        c.layer_penalties = layer_penalties;
        let mut t = circle_trainer(c).unwrap();
        run_to_end(&mut t);
        layer_weights(&mut t)
            .iter()
            .map(|w| w.iter().map(|v| v * v).sum::<f32>())
            .collect::<Vec<f32>>()
    };
    let plain = trained(0.0, vec![]);
    let first_only = trained(
        0.0,
        vec![LayerPenalty {
            layer: 1,
            l1: 0.0,
            l2: 0.1,
        }],
    );
    assert!(
        first_only[0] < 0.7 * plain[0],
        "layer 1 shrinks: {} → {}",
        plain[0],
        first_only[0]
    );
    let all_but_first = trained(
        0.1,
        vec![LayerPenalty {
            layer: 1,
            l1: 0.0,
            l2: 0.0,
        }],
    );
    let all = trained(0.1, vec![]);
    assert!(
        all_but_first[0] > 1.3 * all[0],
        "layer 1 is spared the global penalty: {} vs {}",
        all_but_first[0],
        all[0]
    );
    assert!(
        all_but_first[4] < 0.7 * plain[4],
        "the others still get it: {} vs {}",
        all_but_first[4],
        plain[4]
    );
}

#[test]
fn layer_settings_must_name_layers_with_weights() {
    let mut c = config(0.02, 16, 1);
    c.frozen = vec![2];
    assert!(circle_trainer(c)
        .err()
        .unwrap()
        .to_string()
        .contains("layer 2 (tanh) has no weights to freeze"));
    let mut c = config(0.02, 16, 1);
    c.layer_penalties = vec![LayerPenalty {
        layer: 9,
        l1: 0.0,
        l2: 0.1,
    }];
    assert!(circle_trainer(c)
        .err()
        .unwrap()
        .to_string()
        .contains("there is no layer 9 to penalise"));
    let mut c = config(0.02, 16, 1);
    c.layer_penalties = vec![LayerPenalty {
        layer: 1,
        l1: -1.0,
        l2: 0.0,
    }];
    assert!(circle_trainer(c).is_err());
    let parsed =
        TrainConfig::from_json(r#"{"epochs":1,"batch_size":8,"optimizer":{"type":"sgd","lr":0.1},"frozen":[1],"layer_penalties":[{"layer":3,"l2":0.5}]}"#)
            .unwrap();
    assert_eq!(
        (parsed.frozen, parsed.layer_penalties),
        (
            vec![1],
            vec![LayerPenalty {
                layer: 3,
                l1: 0.0,
                l2: 0.5
            }]
        )
    );
}

#[test]
fn validation_probabilities_are_the_rows_evaluation_scores() {
    let mut t = circle_trainer(config(0.02, 16, 2)).unwrap();
    run_to_end(&mut t);
    let probs = ready(t.validation_probabilities()).unwrap();
    assert_eq!(probs.len(), 200 * 2);
    assert!(probs.chunks(2).all(|row| (row[0] + row[1] - 1.0).abs() < 1e-5));
    let labels: Vec<u32> = ready(Cpu.read(&t.val.y)).unwrap().iter().map(|&l| l as u32).collect();
    let report = crate::metrics::report(&probs, &labels, 2, None).unwrap();
    let eval = ready(t.evaluate_validation()).unwrap();
    assert!(
        (report.accuracy as f32 - eval.accuracy).abs() < 1e-6,
        "{} vs {}",
        report.accuracy,
        eval.accuracy
    );
    assert!(
        (report.log_loss as f32 - eval.loss).abs() < 1e-4,
        "{} vs {}",
        report.log_loss,
        eval.loss
    );
}

#[test]
fn a_model_with_batch_norm_learns_and_its_file_keeps_the_running_statistics() {
    use crate::model_file::ModelFile;
    let spec = ModelSpec::from_json(r#"{"input":[2],"layers":[{"type":"dense","units":16},{"type":"batch_norm"},{"type":"tanh"},{"type":"dense","units":2}]}"#)
        .unwrap();
    let data = toy::generate("circle", 600, 0.05, 1).unwrap();
    let (train, val) = data.split(200, 2).unwrap();
    let mut t = Trainer::new(Cpu, spec.clone(), config(0.02, 16, 15), &train, &val).unwrap();
    run_to_end(&mut t);
    let accuracy = ready(t.evaluate_validation()).unwrap().accuracy;
    assert!(accuracy > 0.9, "validation accuracy with batch norm {accuracy}");
    let tensors = ready(t.named_weights()).unwrap();
    let running_mean = tensors.iter().find(|t| t.name == "layers.1.running_mean").unwrap();
    assert!(
        running_mean.values.iter().any(|v| v.abs() > 1e-3),
        "training moved the running mean"
    );
    let bytes = ModelFile {
        spec: spec.clone(),
        classes: train.classes.clone(),
        tensors,
        features: None,
        vocabulary: None,
        history: None,
    }
    .to_bytes()
    .unwrap();
    let mut other = config(0.02, 16, 15);
    other.seed = 8;
    let mut fresh = Trainer::new(Cpu, spec, other, &train, &val).unwrap();
    fresh
        .load_file_weights(&ModelFile::from_bytes(&bytes).unwrap())
        .unwrap();
    assert_eq!(
        ready(fresh.evaluate_validation()).unwrap(),
        ready(t.evaluate_validation()).unwrap(),
        "evaluation uses the saved running statistics"
    );
}

#[test]
fn a_model_with_residual_blocks_learns_the_spiral() {
    let spec = ModelSpec::from_json(
        r#"{"input":[2],"layers":[{"type":"dense","units":32},{"type":"tanh"},
            {"type":"residual","layers":[{"type":"dense","units":32},{"type":"tanh"}]},
            {"type":"residual","layers":[{"type":"dense","units":32},{"type":"tanh"}]},{"type":"dense","units":3}]}"#,
    )
    .unwrap();
    let data = toy::generate("spiral", 900, 0.05, 1).unwrap();
    let (train, val) = data.split(300, 2).unwrap();
    let mut t = Trainer::new(Cpu, spec, config(0.01, 16, 40), &train, &val).unwrap();
    run_to_end(&mut t);
    let accuracy = ready(t.evaluate_validation()).unwrap().accuracy;
    assert!(
        accuracy > 0.9,
        "spiral validation accuracy with residual blocks {accuracy}"
    );
}

#[test]
fn mixup_trains_on_mixed_targets_and_still_learns() {
    let epoch_with = |augment: &str| {
        let mut c = config(0.02, 16, 15);
        c.augment = serde_json::from_str(augment).unwrap();
        last_epoch(&mut circle_trainer(c).unwrap())
    };
    let (plain_loss, plain_acc) = epoch_with("[]");
    let mixed = r#"[{"type":"mixup","p":1,"alpha":1}]"#;
    let (mixed_loss, mixed_acc) = epoch_with(mixed);
    // Mixed targets cannot be fitted to zero loss, yet the classifier on clean points is as good.
    assert!(
        mixed_loss > plain_loss + 0.1,
        "training loss plain {plain_loss}, mixup {mixed_loss}"
    );
    assert!(
        mixed_acc > 0.9 && plain_acc > 0.9,
        "held-out accuracy plain {plain_acc}, mixup {mixed_acc}"
    );
    assert_eq!(epoch_with(mixed), (mixed_loss, mixed_acc), "seeded");
    // Mixup works on any data; the per-image augmentations need images.
    let mut c = config(0.02, 16, 1);
    c.augment = serde_json::from_str(r#"[{"type":"rotate","p":0.5,"degrees":10}]"#).unwrap();
    assert!(circle_trainer(c)
        .err()
        .unwrap()
        .to_string()
        .contains("augmentation other than mixup works on images"));
    let mut c = config(0.02, 16, 1);
    c.augment = serde_json::from_str(r#"[{"type":"mixup","p":0.5,"alpha":0}]"#).unwrap();
    assert!(circle_trainer(c)
        .err()
        .unwrap()
        .to_string()
        .contains("augmentation 'mixup': alpha must be above 0 and at most 10, got 0"));
}

/// Texts of 2 to 8 token ids from a vocabulary of 10: class 0's from ids 2–5, class 1's from 6–9.
fn token_texts(n: usize, seed: u64) -> Dataset {
    let mut rng = crate::rng::Rng::new(seed);
    let (mut features, mut labels) = (Vec::new(), Vec::new());
    for i in 0..n {
        let class = (i % 2) as u32;
        let len = 2 + rng.below(7);
        features.extend((0..8).map(|t| {
            if t < len {
                (2 + 4 * class as usize + rng.below(4)) as f32
            } else {
                0.0
            }
        }));
        labels.push(class);
    }
    Dataset::new(vec![8], features, labels, vec!["low".into(), "high".into()]).unwrap()
}

#[test]
fn token_augmentation_changes_the_training_texts_and_the_model_still_learns() {
    let data = token_texts(400, 5);
    let (train, val) = data.split(100, 1).unwrap();
    let epoch_with = |augment: &str| {
        let mut c = config(0.01, 16, 6);
        c.augment = serde_json::from_str(augment).unwrap();
        last_epoch(&mut Trainer::new(Cpu, crate::nn::text_preset("bag", 8, 10, 2).unwrap(), c, &train, &val).unwrap())
    };
    let (plain_loss, plain_acc) = epoch_with("[]");
    // Half the tokens masked and as many inserted in every text: the training texts are harder, the held-out
    // ones (never augmented) are read as well.
    let noisy = r#"[{"type":"mask_tokens","p":1,"rate":0.5},{"type":"insert_tokens","p":1,"rate":0.5}]"#;
    let (noisy_loss, noisy_acc) = epoch_with(noisy);
    assert!(
        noisy_loss > plain_loss + 0.05,
        "training loss plain {plain_loss}, augmented {noisy_loss}"
    );
    assert!(
        plain_acc > 0.95 && noisy_acc > 0.95,
        "held-out accuracy plain {plain_acc}, augmented {noisy_acc}"
    );
    assert_eq!(epoch_with(noisy), (noisy_loss, noisy_acc), "seeded");
    // Token augmentation needs a model that reads token ids; mixup cannot blend them.
    let mut c = config(0.02, 16, 1);
    c.augment = serde_json::from_str(r#"[{"type":"delete_tokens","p":0.5,"rate":0.1}]"#).unwrap();
    let err = circle_trainer(c).err().unwrap().to_string();
    assert!(
        err.contains("work on texts, read by a model whose first layer is an embedding"),
        "{err}"
    );
    let mut c = config(0.02, 16, 1);
    c.augment = serde_json::from_str(r#"[{"type":"mixup","p":0.5,"alpha":0.2}]"#).unwrap();
    let err = Trainer::new(Cpu, crate::nn::text_preset("bag", 8, 10, 2).unwrap(), c, &train, &val)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("token ids cannot be blended"), "{err}");
}

#[test]
fn rebalancing_evens_out_the_training_split_only() {
    // A circle set whose class 1 is a tenth of class 0 in the training split.
    let data = toy::generate("circle", 600, 0.05, 1).unwrap();
    let keep: Vec<usize> = (0..600).filter(|&i| data.labels[i] == 0 || i % 20 == 1).collect();
    let (train, val) = data.subset(&keep).split(60, 2).unwrap();
    let steps = |rebalance: Option<Rebalance>| {
        let mut c = config(0.02, 10, 1);
        c.rebalance = rebalance;
        Trainer::new(Cpu, preset("toy", &[2], 2).unwrap(), c, &train, &val)
            .unwrap()
            .steps_per_epoch()
    };
    let counts = crate::data::quality::report(&train).class_counts;
    assert_eq!(steps(None), train.len().div_ceil(10));
    assert_eq!(steps(Some(Rebalance::Oversample)), (2 * counts[0]).div_ceil(10));
    assert_eq!(steps(Some(Rebalance::Undersample)), (2 * counts[1]).div_ceil(10));
    let parsed = TrainConfig::from_json(
        r#"{"epochs":1,"batch_size":8,"optimizer":{"type":"sgd","lr":0.1},"rebalance":"oversample"}"#,
    )
    .unwrap();
    assert_eq!(parsed.rebalance, Some(Rebalance::Oversample));
}

/// A table of 600 rows: `small` in [0, 1) decides the class (above 0.5), `huge` is noise in
/// [0, 1000), `colour` (red / green / blue) is noise too, and one value in ten of `small` is missing
/// (its class then follows `colour`: red is class 1).
fn scaled_table() -> Dataset {
    let mut rng = crate::rng::Rng::new(4);
    let mut text = String::from("small,huge,colour,label\n");
    for i in 0..600 {
        let (small, huge, colour) = (
            rng.uniform(),
            1000.0 * rng.uniform(),
            ["red", "green", "blue"][rng.below(3)],
        );
        let label = if i % 10 == 0 {
            (colour == "red") as u8
        } else {
            (small > 0.5) as u8
        };
        let small = if i % 10 == 0 { String::new() } else { small.to_string() };
        text += &format!("{small},{huge},{colour},{label}\n");
    }
    crate::data::tabular::from_csv(&text, None).unwrap().data
}

fn table_run(features: crate::features::FeatureSpec, epochs: usize) -> Result<Trainer<Cpu>, Error> {
    let (train, val) = scaled_table().split(200, 2)?;
    let mut c = TrainConfig::new(epochs, 16, OptimizerSpec::Sgd { lr: 0.05 }, 3);
    c.features = features;
    let input = Fitted::fit(&c.features, &train)?.output_shape();
    Trainer::new(Cpu, preset("toy", &input, 2)?, c, &train, &val)
}

#[test]
fn standardising_a_table_whose_columns_differ_a_thousandfold_lets_sgd_learn_it() {
    use crate::features::{FeatureSpec, Scale};
    let outcome = |features: FeatureSpec| {
        let mut t = table_run(features, 10).unwrap();
        while !t.is_finished() {
            if let Err(e) = ready(t.run(100)) {
                return Err(e.to_string());
            }
        }
        Ok(ready(t.evaluate_validation()).unwrap().accuracy)
    };
    let scaled = outcome(FeatureSpec {
        scale: Scale::Standardize,
        one_hot: true,
        ..Default::default()
    })
    .unwrap();
    assert!(scaled > 0.9, "standardised: {scaled}");
    match outcome(FeatureSpec::default()) {
        Ok(raw) => assert!(raw < scaled - 0.2, "raw {raw}, standardised {scaled}"),
        Err(e) => assert!(e.contains("diverged"), "{e}"),
    }
}

#[test]
fn a_saved_table_model_predicts_the_same_through_its_fitted_transform() {
    use crate::features::{FeatureSpec, Impute, Scale};
    let spec = FeatureSpec {
        impute: Impute::Median,
        scale: Scale::MinMax,
        one_hot: true,
        polynomial: true,
        log: vec!["huge".into()],
        ..Default::default()
    };
    let mut t = table_run(spec, 3).unwrap();
    run_to_end(&mut t);
    let bytes = ready(t.model_file(vec!["0".into(), "1".into()], None))
        .unwrap()
        .to_bytes()
        .unwrap();
    let file = ModelFile::from_bytes(&bytes).unwrap();
    assert_eq!(file.features.as_ref(), Some(t.features()));
    // Raw rows, one with a missing value: both models fill it in the same way.
    let rows = [0.2, 500.0, 0.0, f32::NAN, 10.0, 2.0, 0.9, 3.0, 1.0];
    let before = ready(t.predict(&rows)).unwrap();
    let (train, val) = scaled_table().split(200, 2).unwrap();
    // Another run with other settings takes the file's transform and weights.
    let mut other = TrainConfig::new(1, 16, OptimizerSpec::Sgd { lr: 0.05 }, 9);
    other.features = FeatureSpec::default();
    let refused = Trainer::new(Cpu, file.spec.clone(), other.clone(), &train, &val)
        .err()
        .expect("the untransformed table does not fit the model");
    assert!(
        refused
            .to_string()
            .contains("takes inputs of shape [8] but the data has samples of shape [3]"),
        "{refused}"
    );
    let mut loaded = Trainer::with_features(
        Cpu,
        file.spec.clone(),
        other,
        &train,
        &val,
        file.features.clone().unwrap(),
    )
    .unwrap();
    loaded.load_file_weights(&file).unwrap();
    assert_eq!(ready(loaded.predict(&rows)).unwrap(), before);
    assert_eq!(
        ready(loaded.evaluate_validation()).unwrap(),
        ready(t.evaluate_validation()).unwrap()
    );
}

#[test]
fn class_weights_raise_the_recall_of_a_rare_class() {
    // Two overlapping classes on a line; class 1 is one sample in twenty of the training split and
    // half of the held-out one.
    let mut rng = crate::rng::Rng::new(6);
    let mut points = |n: usize, rare_every: usize| {
        let labels: Vec<u32> = (0..n).map(|i| (i % rare_every == 0) as u32).collect();
        let x: Vec<f32> = labels.iter().map(|&l| 1.5 * l as f32 + rng.normal()).collect();
        Dataset::new(vec![1], x, labels, vec!["common".into(), "rare".into()]).unwrap()
    };
    let (train, val) = (points(2000, 20), points(400, 2));
    let rare_recall = |rebalance: Option<Rebalance>| {
        let mut c = config(0.01, 32, 5);
        c.rebalance = rebalance;
        let mut t = Trainer::new(Cpu, preset("toy", &[1], 2).unwrap(), c, &train, &val).unwrap();
        run_to_end(&mut t);
        let probs = ready(t.validation_probabilities()).unwrap();
        let rare: Vec<usize> = (0..val.len()).filter(|&i| val.labels[i] == 1).collect();
        rare.iter().filter(|&&i| probs[2 * i + 1] > probs[2 * i]).count() as f32 / rare.len() as f32
    };
    let (plain, weighted) = (rare_recall(None), rare_recall(Some(Rebalance::ClassWeights)));
    println!("recall of the rare class: {plain} plain, {weighted} with class weights");
    assert!(
        weighted > plain + 0.3,
        "recall of the rare class: {plain} plain, {weighted} with class weights"
    );
}

#[test]
fn a_run_resumed_from_its_checkpoint_ends_exactly_as_the_uninterrupted_one() {
    // Adam's moments, dropout's masks, the shuffles, reduce-on-plateau and early stopping all carry
    // state from epoch to epoch.
    let data = toy::generate("circle", 600, 0.05, 1).unwrap();
    let (train, val) = data.split(200, 2).unwrap();
    let spec = ModelSpec::from_json(
        r#"{"input":[2],"layers":[{"type":"dense","units":16},{"type":"relu"},{"type":"dropout","rate":0.2},{"type":"dense","units":2}]}"#,
    )
    .unwrap();
    let mut c = early(50, 0.0, true);
    c.epochs = 6;
    c.schedule = Schedule::ReduceOnPlateau {
        factor: 0.5,
        patience: 1,
        min_lr: 0.0,
        monitor: Monitor::ValLoss,
    };
    let trainer = || Trainer::new(Cpu, spec.clone(), c.clone(), &train, &val).unwrap();
    let mut straight = trainer();
    let all = epoch_events(&run_to_end(&mut straight));
    let mut first = trainer();
    while first.epoch < 3 {
        ready(first.run(7)).unwrap();
    }
    let bytes = ready(first.checkpoint())
        .unwrap()
        .expect("between two epochs")
        .to_bytes();
    let restored = Checkpoint::from_bytes(&bytes).unwrap();
    assert_eq!(restored, ready(first.checkpoint()).unwrap().unwrap());
    let mut resumed = trainer();
    resumed.resume(&restored).unwrap();
    let rest = epoch_events(&run_to_end(&mut resumed));
    assert_eq!(all[3..], rest[..]);
    assert_eq!(ready(straight.read_params()), ready(resumed.read_params()));
    // A checkpoint of another run, or damaged bytes, is refused by name.
    let mut other = Trainer::new(Cpu, spec.clone(), c.clone(), &data.split(100, 2).unwrap().0, &val).unwrap();
    assert!(other
        .resume(&restored)
        .unwrap_err()
        .to_string()
        .contains("does not fit these settings"));
    for cut in [4, 20, bytes.len() - 3] {
        let e = Checkpoint::from_bytes(&bytes[..cut]).unwrap_err().to_string();
        assert!(e.starts_with("the saved run cannot be read"), "{e}");
    }
}

/// The slots of shards on threads of this process, and the barrier they meet at.
type Slots = std::sync::Arc<(std::sync::Mutex<Vec<Vec<f32>>>, std::sync::Barrier)>;

/// Shard `index`'s exchange through `slots`: it writes its gradients into its slot and, once all
/// have, reads the sum of the slots in shard order.
fn thread_exchange(slots: Slots, index: usize) -> Exchange {
    Box::new(move |flat: &mut [f32]| {
        let (table, barrier) = &*slots;
        table.lock().unwrap()[index] = flat.to_vec();
        barrier.wait();
        flat.fill(0.0);
        for slot in table.lock().unwrap().iter() {
            flat.iter_mut().zip(slot).for_each(|(f, v)| *f += v);
        }
        // Nobody writes the next step's gradients before everyone has read these.
        barrier.wait();
        Ok(())
    })
}

/// The circle run of `c` with dropout, as one trainer (`shards` 1) or split over threads: each
/// shard's events (wall-clock fields zeroed) and final weights.
fn sharded_circle(c: &TrainConfig, shards: usize) -> Vec<(Vec<Event>, Vec<f32>)> {
    let spec = r#"{"input": [2], "layers": [{"type": "dense", "units": 16}, {"type": "tanh"},
        {"type": "dropout", "rate": 0.2}, {"type": "dense", "units": 16}, {"type": "tanh"},
        {"type": "dense", "units": 2}]}"#;
    let build = || {
        let data = toy::generate("circle", 600, 0.05, 1).unwrap();
        let (train, val) = data.split(200, 2).unwrap();
        Trainer::new(Cpu, ModelSpec::from_json(spec).unwrap(), c.clone(), &train, &val).unwrap()
    };
    let finish = |mut t: Trainer<Cpu>| (timeless(run_to_end(&mut t)), all_weights(&mut t));
    if shards == 1 {
        return vec![finish(build())];
    }
    let slots: Slots = std::sync::Arc::new((
        std::sync::Mutex::new(vec![Vec::new(); shards]),
        std::sync::Barrier::new(shards),
    ));
    std::thread::scope(|scope| {
        let runs: Vec<_> = (0..shards)
            .map(|i| {
                let slots = slots.clone();
                scope.spawn(move || {
                    let mut t = build();
                    let len = t.shard(i, shards, thread_exchange(slots, i)).unwrap();
                    assert_eq!(
                        len,
                        all_weights(&mut t).len() + 2,
                        "every parameter, the loss and the correct count"
                    );
                    // The page sizes the shared buffer from the summary before it shards a run.
                    assert_eq!(len as u64, t.model().spec().summary().unwrap().params + 2);
                    finish(t)
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    })
}

/// The training losses of each step event, in order.
fn step_losses(events: &[Event]) -> Vec<f32> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Step { loss, .. } => Some(*loss),
            _ => None,
        })
        .collect()
}

#[test]
fn a_run_split_over_shards_trains_as_one_trainer_up_to_summation_order() {
    // Dropout, mixup and class weights draw or weigh per sample; 400 samples in batches of 32
    // end each epoch with 16, which 3 shards split unevenly (5, 5, 6), as they do 32 (10, 11, 11).
    let mut c = config(0.02, 32, 3);
    c.augment = serde_json::from_str(r#"[{"type":"mixup","p":0.5,"alpha":0.4}]"#).unwrap();
    c.rebalance = Some(Rebalance::ClassWeights);
    c.clip_norm = Some(1.0);
    let one = sharded_circle(&c, 1).remove(0);
    for shards in [2, 3] {
        let runs = sharded_circle(&c, shards);
        for (i, (events, weights)) in runs.iter().enumerate() {
            let what = format!("shard {i} of {shards}");
            assert_close(&format!("{what}: weights"), &one.1, weights, 1e-4);
            assert_close(
                &format!("{what}: step losses"),
                &step_losses(&one.0),
                &step_losses(events),
                1e-4,
            );
            assert_eq!(events.len(), one.0.len(), "{what}: the same events");
        }
        // Every shard holds exactly the same weights: they all step from the same sums.
        assert!(runs.iter().all(|r| r.1 == runs[0].1));
    }
}

#[test]
fn a_run_with_batch_norm_or_more_shards_than_rows_is_not_split() {
    let mut t = circle_trainer(config(0.02, 2, 1)).unwrap();
    let message = |t: &mut Trainer<Cpu>, index, count| {
        t.shard(index, count, Box::new(|_: &mut [f32]| Ok(())))
            .unwrap_err()
            .to_string()
    };
    assert!(message(&mut t, 0, 3).contains("a batch of 2 cannot be split over 3 threads"));
    assert!(message(&mut t, 2, 2).contains("numbered from 0"));
    let spec = r#"{"input": [2], "layers": [{"type": "residual", "layers": [{"type": "batch_norm"}]},
        {"type": "dense", "units": 2}]}"#;
    let data = toy::generate("circle", 600, 0.05, 1).unwrap();
    let (train, val) = data.split(200, 2).unwrap();
    let mut t = Trainer::new(
        Cpu,
        ModelSpec::from_json(spec).unwrap(),
        config(0.02, 8, 1),
        &train,
        &val,
    )
    .unwrap();
    assert!(message(&mut t, 0, 2).contains("batch norm needs the statistics of the whole batch"));
}

#[test]
fn a_shard_whose_exchange_fails_ends_the_step_with_its_message() {
    let mut t = circle_trainer(config(0.02, 8, 1)).unwrap();
    t.shard(1, 2, Box::new(|_: &mut [f32]| Err("the run was stopped".into())))
        .unwrap();
    assert_eq!(ready(t.run(3)).unwrap_err().to_string(), "the run was stopped");
}
