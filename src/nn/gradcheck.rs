//! Central-difference gradient checks of every layer and of the loss.
//!
//! For a random projection r, L(x, θ) = Σ r ⊙ f(x, θ), so backward(r) must give ∂L/∂x and ∂L/∂θ.
//! Each is compared with (L(v + ε) − L(v − ε)) / 2ε on sampled coordinates; the check passes when
//! the relative error ‖numeric − analytic‖ / (‖numeric‖ + ‖analytic‖) is small.

use super::{Mode, Model, ModelSpec};
use crate::backend::cpu::{Cpu, CpuTensor};
use crate::backend::{ready, Backend};
use crate::rng::Rng;

const EPS: f32 = 1e-2;
const TOLERANCE: f64 = 1e-2;

fn random(shape: &[usize], rng: &mut Rng) -> CpuTensor {
    // Kept at least 0.1 away from zero so that ε-steps never cross the kink of a rectifier.
    let v: Vec<f32> = crate::testing::normal(shape.iter().product(), rng)
        .into_iter()
        .map(|z| z.signum() * (z.abs() + 0.1))
        .collect();
    Cpu.upload(&v, shape)
}

fn dot(a: &CpuTensor, b: &CpuTensor) -> f64 {
    a.iter().zip(b.iter()).map(|(x, y)| *x as f64 * *y as f64).sum()
}

fn relative_error(numeric: &[f64], analytic: &[f64]) -> f64 {
    let diff: f64 = numeric
        .iter()
        .zip(analytic)
        .map(|(n, a)| (n - a).powi(2))
        .sum::<f64>()
        .sqrt();
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    // A gradient that is zero in exact arithmetic (attention's key bias: a shift of every key
    // moves no softmax) is compared absolutely: the central differences' own noise is near 1e-5.
    diff / (norm(numeric) + norm(analytic)).max(1e-2)
}

/// Up to 40 coordinates spread over a tensor of `len` elements.
fn coordinates(len: usize) -> Vec<usize> {
    let step = (len / 40).max(1);
    (0..len).step_by(step).collect()
}

fn check(spec_json: &str, batch: usize, mode: Mode, x: Option<CpuTensor>) {
    let spec = ModelSpec::from_json(spec_json).unwrap();
    let mut rng = Rng::new(42);
    let mut model = Model::new(&Cpu, spec.clone(), 1).unwrap();
    let mut shape = vec![batch];
    shape.extend(&spec.input);
    let x = x.unwrap_or_else(|| random(&shape, &mut rng));
    let y = model.forward(&Cpu, x.clone(), mode);
    let r = random(y.shape(), &mut rng);
    let dx = model.backward(&Cpu, r.clone(), true);
    let loss_at = |model: &mut Model<Cpu>, x: &CpuTensor| dot(&r, &model.forward(&Cpu, x.clone(), mode));

    // A model that takes token ids has no input gradient; every other gives one.
    let tokens = spec_json.contains(r#""type":"embedding""#);
    assert_eq!(
        dx.is_none(),
        tokens,
        "{spec_json}: an input gradient only where the input is not token ids"
    );
    if let Some(dx) = dx {
        let (mut numeric, mut analytic) = (Vec::new(), Vec::new());
        for i in coordinates(x.len()) {
            let mut xp = x.clone();
            xp.as_slice_mut().unwrap()[i] += EPS;
            let mut xm = x.clone();
            xm.as_slice_mut().unwrap()[i] -= EPS;
            numeric.push((loss_at(&mut model, &xp) - loss_at(&mut model, &xm)) / (2.0 * EPS as f64));
            analytic.push(dx.as_slice().unwrap()[i] as f64);
        }
        let err = relative_error(&numeric, &analytic);
        assert!(err < TOLERANCE, "{spec_json}: input gradient relative error {err}");
    }

    // Parameters without a gradient (batch norm's running statistics) are not learned.
    let grads: Vec<Option<Vec<f32>>> = model
        .params()
        .iter()
        .map(|p| p.grad.as_ref().map(|g| ready(Cpu.read(g)).unwrap()))
        .collect();
    assert!(
        grads.iter().any(Option::is_some) || grads.is_empty(),
        "{spec_json}: no parameter got a gradient"
    );
    for (p, grad) in grads.iter().enumerate().filter_map(|(p, g)| g.as_ref().map(|g| (p, g))) {
        let (mut numeric, mut analytic) = (Vec::new(), Vec::new());
        for i in coordinates(grad.len()) {
            let mut value_at = |delta: f32| {
                model.params()[p].value.as_slice_mut().unwrap()[i] += delta;
                let l = loss_at(&mut model, &x);
                model.params()[p].value.as_slice_mut().unwrap()[i] -= delta;
                l
            };
            numeric.push((value_at(EPS) - value_at(-EPS)) / (2.0 * EPS as f64));
            analytic.push(grad[i] as f64);
        }
        let err = relative_error(&numeric, &analytic);
        assert!(
            err < TOLERANCE,
            "{spec_json}: parameter {p} gradient relative error {err}"
        );
    }
}

#[test]
fn dense() {
    check(
        r#"{"input":[5],"layers":[{"type":"dense","units":4}]}"#,
        3,
        Mode::Eval,
        None,
    );
}

#[test]
fn conv2d_plain_and_strided_padded() {
    check(
        r#"{"input":[2,7,6],"layers":[{"type":"conv2d","filters":3,"kernel":3},{"type":"flatten"}]}"#,
        2,
        Mode::Eval,
        None,
    );
    check(
        r#"{"input":[2,7,6],"layers":[{"type":"conv2d","filters":3,"kernel":3,"stride":2,"padding":1},{"type":"flatten"}]}"#,
        2,
        Mode::Eval,
        None,
    );
}

#[test]
fn max_pool2d() {
    // Distinct values 0.05 apart: an ε-step never changes which element is the maximum.
    let mut values: Vec<f32> = (0..2 * 2 * 4 * 6).map(|i| i as f32 * 0.05).collect();
    Rng::new(3).shuffle(&mut values);
    let x = Cpu.upload(&values, &[2, 2, 4, 6]);
    check(
        r#"{"input":[2,4,6],"layers":[{"type":"max_pool2d","size":2},{"type":"flatten"}]}"#,
        2,
        Mode::Eval,
        Some(x.clone()),
    );
    check(
        r#"{"input":[2,4,6],"layers":[{"type":"max_pool2d","size":3,"stride":1},{"type":"flatten"}]}"#,
        2,
        Mode::Eval,
        Some(x),
    );
}

#[test]
fn avg_pool2d() {
    check(
        r#"{"input":[2,4,6],"layers":[{"type":"avg_pool2d","size":2},{"type":"flatten"}]}"#,
        2,
        Mode::Eval,
        None,
    );
}

#[test]
fn activations() {
    for act in [
        r#"{"type":"relu"}"#,
        r#"{"type":"leaky_relu","alpha":0.1}"#,
        r#"{"type":"tanh"}"#,
        r#"{"type":"sigmoid"}"#,
        r#"{"type":"gelu"}"#,
    ] {
        check(&format!(r#"{{"input":[7],"layers":[{act}]}}"#), 3, Mode::Eval, None);
    }
}

#[test]
fn dropout_in_training_and_evaluation() {
    check(
        r#"{"input":[20],"layers":[{"type":"dropout","rate":0.5}]}"#,
        3,
        Mode::train(9),
        None,
    );
    check(
        r#"{"input":[20],"layers":[{"type":"dropout","rate":0.5}]}"#,
        3,
        Mode::Eval,
        None,
    );
}

#[test]
fn batch_norm_in_training_dense_and_conv_shaped() {
    check(
        r#"{"input":[4],"layers":[{"type":"batch_norm"}]}"#,
        6,
        Mode::train(1),
        None,
    );
    check(
        r#"{"input":[3,4,5],"layers":[{"type":"batch_norm"},{"type":"flatten"}]}"#,
        3,
        Mode::train(1),
        None,
    );
    check(
        // A bias right before batch norm has no effect (its gradient is 0), so each sits behind a non-linearity here.
        r#"{"input":[1,6,6],"layers":[{"type":"batch_norm"},{"type":"conv2d","filters":2,"kernel":3},{"type":"sigmoid"},{"type":"batch_norm"},{"type":"flatten"},{"type":"dense","units":4},{"type":"tanh"},{"type":"batch_norm"},{"type":"dense","units":3}]}"#,
        4,
        Mode::train(1),
        None,
    );
}

#[test]
fn layer_norm_flat_and_per_step() {
    // γ and β start at 1 and 0, where a dense layer's bias would hide a wrong dβ; the dense layers
    // around it make γ's and β's gradients matter.
    check(
        r#"{"input":[6],"layers":[{"type":"layer_norm"},{"type":"dense","units":3}]}"#,
        4,
        Mode::train(1),
        None,
    );
    check(
        r#"{"input":[3,5],"layers":[{"type":"layer_norm"},{"type":"tanh"},{"type":"layer_norm"},{"type":"flatten"},{"type":"dense","units":2}]}"#,
        3,
        Mode::Eval,
        None,
    );
}

#[test]
fn residual_blocks_dense_and_conv() {
    check(
        r#"{"input":[5],"layers":[{"type":"residual","layers":[{"type":"dense","units":5},{"type":"tanh"}]},{"type":"dense","units":3}]}"#,
        3,
        Mode::Eval,
        None,
    );
    check(
        r#"{"input":[2,5,5],"layers":[{"type":"residual","layers":[{"type":"conv2d","filters":2,"kernel":3,"padding":1},{"type":"sigmoid"},{"type":"residual","layers":[{"type":"tanh"}]}]},{"type":"flatten"}]}"#,
        2,
        Mode::Eval,
        None,
    );
}

#[test]
fn a_whole_small_network() {
    check(
        r#"{"input":[1,6,6],"layers":[{"type":"conv2d","filters":2,"kernel":3,"padding":1},{"type":"tanh"},
            {"type":"avg_pool2d","size":2},{"type":"flatten"},{"type":"dense","units":5},{"type":"sigmoid"},{"type":"dense","units":3}]}"#,
        2,
        Mode::Eval,
        None,
    );
}

#[test]
fn softmax_cross_entropy_loss() {
    let mut rng = Rng::new(8);
    let logits = random(&[4, 5], &mut rng);
    let labels = Cpu.upload(&[0.0, 3.0, 4.0, 3.0], &[4]);
    // The op returns the summed loss and the gradient of the mean, so compare against L_sum / n.
    let mean_loss =
        |z: &CpuTensor| ready(Cpu.read(&Cpu.softmax_cross_entropy(z, &labels).loss_sum)).unwrap()[0] as f64 / 4.0;
    let grad = Cpu.softmax_cross_entropy(&logits, &labels).grad;
    let (mut numeric, mut analytic) = (Vec::new(), Vec::new());
    for i in 0..logits.len() {
        let mut zp = logits.clone();
        zp.as_slice_mut().unwrap()[i] += EPS;
        let mut zm = logits.clone();
        zm.as_slice_mut().unwrap()[i] -= EPS;
        numeric.push((mean_loss(&zp) - mean_loss(&zm)) / (2.0 * EPS as f64));
        analytic.push(grad.as_slice().unwrap()[i] as f64);
    }
    let err = relative_error(&numeric, &analytic);
    assert!(err < TOLERANCE, "loss gradient relative error {err}");
}

#[test]
fn lstm_last_state_and_every_step() {
    check(
        r#"{"input":[5,3],"layers":[{"type":"lstm","units":4}]}"#,
        3,
        Mode::train(1),
        None,
    );
    check(
        r#"{"input":[5,3],"layers":[{"type":"lstm","units":4,"return_sequences":true},{"type":"flatten"}]}"#,
        3,
        Mode::train(1),
        None,
    );
}

#[test]
fn gru_last_state_and_every_step() {
    check(
        r#"{"input":[5,3],"layers":[{"type":"gru","units":4}]}"#,
        3,
        Mode::train(1),
        None,
    );
    check(
        r#"{"input":[5,3],"layers":[{"type":"gru","units":4,"return_sequences":true},{"type":"flatten"}]}"#,
        3,
        Mode::train(1),
        None,
    );
}

#[test]
fn stacked_recurrent_layers_over_an_image_read_row_by_row() {
    check(
        r#"{"input":[1,4,6],"layers":[{"type":"reshape","shape":[4,6]},{"type":"lstm","units":5,"return_sequences":true},{"type":"gru","units":3},{"type":"dense","units":2}]}"#,
        2,
        Mode::train(1),
        None,
    );
}

#[test]
fn embedding_with_and_without_padding_into_a_recurrent_layer() {
    // Ids repeat within and across samples, so rows sum several tokens' gradients; padding (0) and
    // an id outside the table (9) add to none.
    let ids = Cpu.upload(&[1.0, 3.0, 0.0, 3.0, 2.0, 2.0, 9.0, 1.0, 4.0, 0.0, 3.0, 1.0], &[3, 4]);
    for padding in [true, false] {
        check(
            &format!(
                r#"{{"input":[4],"layers":[{{"type":"embedding","vocab":5,"dim":3,"padding":{padding}}},{{"type":"gru","units":4}},{{"type":"dense","units":2}}]}}"#
            ),
            3,
            Mode::train(1),
            Some(ids.clone()),
        );
    }
}

#[test]
fn positional_encodings_learned_and_sinusoidal_from_either_end() {
    // Texts of 2, 4 and 0 tokens: from the end, each text's positions are its own.
    let ids = Cpu.upload(&[1.0, 3.0, 0.0, 0.0, 2.0, 2.0, 4.0, 1.0, 0.0, 0.0, 0.0, 0.0], &[3, 4]);
    for encoding in ["learned", "sinusoidal"] {
        for from in ["start", "end"] {
            check(
                &format!(
                    r#"{{"input":[4,3],"layers":[{{"type":"positional","encoding":"{encoding}","from":"{from}"}},{{"type":"tanh"}},{{"type":"flatten"}},{{"type":"dense","units":2}}]}}"#
                ),
                3,
                Mode::Eval,
                None,
            );
            check(
                &format!(
                    r#"{{"input":[4],"layers":[{{"type":"embedding","vocab":5,"dim":3}},{{"type":"positional","encoding":"{encoding}","from":"{from}"}},{{"type":"tanh"}},{{"type":"mean_pool"}},{{"type":"dense","units":2}}]}}"#
                ),
                3,
                Mode::Eval,
                Some(ids.clone()),
            );
        }
    }
}

#[test]
fn mean_pool_over_every_step_and_over_the_tokens_alone() {
    check(
        r#"{"input":[4,3],"layers":[{"type":"tanh"},{"type":"mean_pool"},{"type":"dense","units":2}]}"#,
        3,
        Mode::Eval,
        None,
    );
    // With padding (0) the mean is over each text's tokens; the last text is padding alone.
    let ids = Cpu.upload(&[1.0, 3.0, 0.0, 0.0, 2.0, 2.0, 4.0, 1.0, 0.0, 0.0, 0.0, 0.0], &[3, 4]);
    check(
        r#"{"input":[4],"layers":[{"type":"embedding","vocab":5,"dim":3},{"type":"positional"},{"type":"tanh"},{"type":"mean_pool"},{"type":"dense","units":2}]}"#,
        3,
        Mode::Eval,
        Some(ids),
    );
}

#[test]
fn multi_head_attention_plain_causal_with_padding_and_dropout() {
    for (settings, mode) in [
        (r#""heads":2"#, Mode::Eval),
        (r#""heads":2,"key_size":3,"causal":true"#, Mode::Eval),
        (r#""heads":3,"dropout":0.3"#, Mode::train(4)),
    ] {
        check(
            &format!(
                r#"{{"input":[4,6],"layers":[{{"type":"multi_head_attention",{settings}}},{{"type":"tanh"}},{{"type":"flatten"}},{{"type":"dense","units":2}}]}}"#
            ),
            3,
            mode,
            None,
        );
    }
    // Padding keys left out, and a text of padding alone.
    let ids = Cpu.upload(&[1.0, 3.0, 0.0, 0.0, 2.0, 2.0, 4.0, 1.0, 0.0, 0.0, 0.0, 0.0], &[3, 4]);
    check(
        r#"{"input":[4],"layers":[{"type":"embedding","vocab":5,"dim":4},{"type":"positional"},{"type":"multi_head_attention","heads":2,"causal":true},{"type":"mean_pool"},{"type":"dense","units":2}]}"#,
        3,
        Mode::Eval,
        Some(ids),
    );
}

#[test]
fn dense_on_each_step_of_a_sequence() {
    check(
        r#"{"input":[3,4],"layers":[{"type":"dense","units":5},{"type":"tanh"},{"type":"flatten"},{"type":"dense","units":2}]}"#,
        3,
        Mode::Eval,
        None,
    );
}

#[test]
fn transformer_blocks_stacked_over_tokens() {
    let ids = Cpu.upload(&[1.0, 3.0, 0.0, 0.0, 2.0, 2.0, 4.0, 1.0, 3.0, 4.0, 0.0, 0.0], &[3, 4]);
    check(
        r#"{"input":[4],"layers":[{"type":"embedding","vocab":5,"dim":4},{"type":"positional","encoding":"sinusoidal"},
            {"type":"transformer_block","heads":2,"ff_units":6},{"type":"transformer_block","heads":1,"causal":true,"dropout":0.2},
            {"type":"mean_pool"},{"type":"dense","units":2}]}"#,
        3,
        Mode::train(3),
        Some(ids),
    );
}

#[test]
fn a_class_token_read_out_after_attention() {
    check(
        r#"{"input":[3,4],"layers":[{"type":"class_token"},{"type":"multi_head_attention","heads":2},{"type":"tanh"},{"type":"first_step"},{"type":"dense","units":2}]}"#,
        3,
        Mode::Eval,
        None,
    );
    // With padding: the token is never padding, the padding keys are left out after it.
    let ids = Cpu.upload(&[1.0, 3.0, 0.0, 0.0, 2.0, 2.0, 4.0, 1.0, 0.0, 0.0, 0.0, 0.0], &[3, 4]);
    check(
        r#"{"input":[4],"layers":[{"type":"embedding","vocab":5,"dim":4},{"type":"class_token"},{"type":"positional"},
            {"type":"transformer_block","heads":2,"ff_units":6},{"type":"first_step"},{"type":"dense","units":2}]}"#,
        3,
        Mode::Eval,
        Some(ids),
    );
}
