use super::*;
use crate::backend::ready;
use crate::testing;

fn random(shape: &[usize], seed: u64) -> CpuTensor {
    tensor(shape, testing::random(shape, seed))
}

/// Direct six-loop convolution, the definition the im2col version must match.
fn conv_direct(x: &CpuTensor, w: &CpuTensor, g: Conv2dGeometry) -> Vec<f32> {
    let (xs, ws) = (x.shape(), w.shape());
    let oh = g.output_extent(xs[2], ws[2]).unwrap();
    let ow = g.output_extent(xs[3], ws[3]).unwrap();
    let mut y = vec![0.0; xs[0] * ws[0] * oh * ow];
    for n in 0..xs[0] {
        for o in 0..ws[0] {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = 0.0;
                    for c in 0..xs[1] {
                        for ky in 0..ws[2] {
                            for kx in 0..ws[3] {
                                let iy = (oy * g.stride + ky) as isize - g.padding as isize;
                                let ix = (ox * g.stride + kx) as isize - g.padding as isize;
                                if iy >= 0 && ix >= 0 && (iy as usize) < xs[2] && (ix as usize) < xs[3] {
                                    acc += x[[n, c, iy as usize, ix as usize]] * w[[o, c, ky, kx]];
                                }
                            }
                        }
                    }
                    y[((n * ws[0] + o) * oh + oy) * ow + ox] = acc;
                }
            }
        }
    }
    y
}

fn assert_close(got: &[f32], want: &[f32], tol: f32) {
    testing::assert_close("CPU op", want, got, tol);
}

#[test]
fn conv2d_matches_direct_definition() {
    for (g, xs, ws) in [
        (Conv2dGeometry { stride: 1, padding: 0 }, [2, 1, 7, 6], [3, 1, 3, 3]),
        (Conv2dGeometry { stride: 2, padding: 1 }, [3, 2, 9, 8], [4, 2, 3, 3]),
        (Conv2dGeometry { stride: 1, padding: 2 }, [1, 3, 5, 5], [2, 3, 5, 5]),
        (Conv2dGeometry { stride: 3, padding: 2 }, [2, 2, 8, 7], [3, 2, 2, 2]),
        (Conv2dGeometry { stride: 2, padding: 0 }, [1, 1, 6, 9], [1, 1, 4, 1]),
        // Padding wider than the kernel: whole rows of taps read padding only.
        (Conv2dGeometry { stride: 1, padding: 3 }, [2, 2, 4, 5], [2, 2, 3, 3]),
    ] {
        let (x, w) = (random(&xs, 1), random(&ws, 2));
        let direct = conv_direct(&x, &w, g);
        assert_close(data(&Cpu.conv2d(&x, &w, g)), &direct, 1e-4);
        // The fused bias equals conv2d followed by add_bias.
        let bias = random(&[ws[0]], 3);
        let fused = Cpu.conv2d_bias(&x, &w, &bias, g);
        let separate = Cpu.add_bias(&tensor(fused.shape(), direct), &bias);
        assert_close(data(&fused), data(&separate), 1e-4);
    }
}

#[test]
fn conv2d_backward_passes_are_adjoints_of_forward() {
    for (g, xs, ws) in [
        (Conv2dGeometry { stride: 2, padding: 1 }, [2, 3, 7, 6], [4, 3, 3, 3]),
        (Conv2dGeometry { stride: 3, padding: 2 }, [2, 2, 8, 7], [3, 2, 2, 2]),
        (Conv2dGeometry { stride: 1, padding: 0 }, [3, 1, 6, 5], [2, 1, 5, 5]),
    ] {
        check_adjoint(g, &xs, &ws);
    }
}

fn check_adjoint(g: Conv2dGeometry, xs: &[usize], ws: &[usize]) {
    // For a linear map y = A(x, w): <dy, A(x, w)> = <A*_x(dy), x> = <A*_w(dy), w>.
    let (x, w) = (random(xs, 3), random(ws, 4));
    let y = Cpu.conv2d(&x, &w, g);
    let dy = random(y.shape(), 5);
    let dot = |a: &CpuTensor, b: &CpuTensor| data(a).iter().zip(data(b)).map(|(p, q)| (p * q) as f64).sum::<f64>();
    let dx = Cpu.conv2d_backward_input(&dy, &w, g, x.shape());
    let dw = Cpu.conv2d_backward_weight(&dy, &x, g, w.shape());
    let lhs = dot(&dy, &y);
    assert!((lhs - dot(&dx, &x)).abs() < 1e-3 * lhs.abs().max(1.0));
    assert!((lhs - dot(&dw, &w)).abs() < 1e-3 * lhs.abs().max(1.0));
}

#[test]
fn pooling_forward_and_backward() {
    let x = tensor(&[1, 1, 4, 4], (0..16).map(|v| v as f32).collect());
    let g = PoolGeometry { size: 2, stride: 2 };
    assert_eq!(data(&Cpu.max_pool2d(&x, g)), &[5.0, 7.0, 13.0, 15.0]);
    assert_eq!(data(&Cpu.avg_pool2d(&x, g)), &[2.5, 4.5, 10.5, 12.5]);
    let dy = tensor(&[1, 1, 2, 2], vec![1.0, 2.0, 3.0, 4.0]);
    let dx = Cpu.max_pool2d_backward(&x, &dy, g);
    let mut want = [0.0; 16];
    (want[5], want[7], want[13], want[15]) = (1.0, 2.0, 3.0, 4.0);
    assert_eq!(data(&dx), &want[..]);
    let da = Cpu.avg_pool2d_backward(&dy, g, &[1, 1, 4, 4]);
    assert_eq!(data(&da)[0], 0.25);
    assert_eq!(data(&da)[15], 1.0);
    // Overlapping windows (size 3, stride 1) still give 2x2 from 4x4.
    assert_eq!(
        data(&Cpu.max_pool2d(&x, PoolGeometry { size: 3, stride: 1 })),
        &[10.0, 11.0, 14.0, 15.0]
    );
}

/// The 2×2, stride-2 max pooling (its own loops) against the definition on odd sizes, several
/// planes and ties: each output the window's maximum, each gradient on the window's first maximum.
#[test]
fn two_by_two_max_pooling_matches_its_definition() {
    let (n, c, h, w) = (2, 3, 7, 5);
    // Values from a small set, so that windows hold ties.
    let x = tensor(
        &[n, c, h, w],
        (0..n * c * h * w).map(|i| ((i * 7) % 5) as f32).collect(),
    );
    let g = PoolGeometry { size: 2, stride: 2 };
    let (oh, ow) = (h / 2, w / 2);
    let dy = random(&[n, c, oh, ow], 5);
    let (y, dx) = (Cpu.max_pool2d(&x, g), Cpu.max_pool2d_backward(&x, &dy, g));
    let mut want_dx = vec![0.0; n * c * h * w];
    for plane in 0..n * c {
        for oy in 0..oh {
            for ox in 0..ow {
                let places =
                    [(0, 0), (0, 1), (1, 0), (1, 1)].map(|(dy, dx)| plane * h * w + (2 * oy + dy) * w + 2 * ox + dx);
                let first = places
                    .iter()
                    .copied()
                    .reduce(|a, b| if data(&x)[b] > data(&x)[a] { b } else { a })
                    .unwrap();
                let o = (plane * oh + oy) * ow + ox;
                assert_eq!(data(&y)[o], data(&x)[first]);
                want_dx[first] += data(&dy)[o];
            }
        }
    }
    assert_eq!(data(&dx), &want_dx[..]);
}

#[test]
fn softmax_cross_entropy_values() {
    // Row 0: logits equal → p = 1/3, loss ln 3. Row 1: label 0 far ahead → loss ≈ 0, correct.
    let logits = tensor(&[2, 3], vec![0.0, 0.0, 0.0, 20.0, 0.0, 0.0]);
    let labels = tensor(&[2], vec![2.0, 0.0]);
    let out = Cpu.softmax_cross_entropy(&logits, &labels);
    let loss = ready(Cpu.read(&out.loss_sum)).unwrap()[0];
    assert!((loss - 3f32.ln()).abs() < 1e-5, "{loss}");
    assert_eq!(ready(Cpu.read(&out.correct)).unwrap()[0], 1.0);
    let g = data(&out.grad);
    assert_close(&g[..3], &[1.0 / 6.0, 1.0 / 6.0, (1.0 / 3.0 - 1.0) / 2.0], 1e-6);
    // Gradient rows of a softmax loss sum to zero.
    assert!(g[3..].iter().sum::<f32>().abs() < 1e-6);
}

#[test]
fn fused_dense_equals_matmul_plus_bias() {
    let (x, w, b) = (random(&[5, 7], 1), random(&[7, 3], 2), random(&[3], 3));
    let separate = Cpu.add_bias(&Cpu.matmul(&x, &w, false, false), &b);
    assert_close(data(&Cpu.dense(&x, &w, &b)), data(&separate), 1e-5);
}

#[test]
fn bias_over_channel_axis() {
    let x = Cpu.zeros(&[2, 3, 2, 2]);
    let b = tensor(&[3], vec![1.0, 2.0, 3.0]);
    let y = Cpu.add_bias(&x, &b);
    assert_eq!(y[[1, 2, 1, 0]], 3.0);
    assert_eq!(data(&Cpu.bias_grad(&y)), &[8.0, 16.0, 24.0]);
}

#[test]
fn optimiser_updates_match_hand_computation() {
    let g = tensor(&[2], vec![0.5, -2.0]);
    let mut p = tensor(&[2], vec![1.0, 1.0]);
    Cpu.sgd_update(&mut p, &g, 0.1);
    assert_close(data(&p), &[0.95, 1.2], 1e-6);

    let (mut p, mut v) = (tensor(&[2], vec![1.0, 1.0]), Cpu.zeros(&[2]));
    Cpu.momentum_update(&mut p, &g, &mut v, 0.1, 0.9, false);
    Cpu.momentum_update(&mut p, &g, &mut v, 0.1, 0.9, false);
    // v1 = g, v2 = 1.9g; p = 1 − 0.1·2.9g
    assert_close(data(&p), &[1.0 - 0.29 * 0.5, 1.0 + 0.29 * 2.0], 1e-6);

    // Adam's first step moves every parameter by lr·sign(g) (bias correction makes m̂/√v̂ = ±1).
    let (mut p, mut m, mut v) = (tensor(&[2], vec![1.0, 1.0]), Cpu.zeros(&[2]), Cpu.zeros(&[2]));
    Cpu.adam_update(
        &mut p,
        &g,
        &mut m,
        &mut v,
        AdamStep {
            lr: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            step: 1,
        },
    );
    assert_close(data(&p), &[0.99, 1.01], 1e-5);

    // AdamW with a zero gradient only decays: p ← p(1 − lr·λ) every step.
    let zero = Cpu.zeros(&[2]);
    let (mut p, mut m, mut v) = (tensor(&[2], vec![2.0, -4.0]), Cpu.zeros(&[2]), Cpu.zeros(&[2]));
    for step in 1..=3 {
        Cpu.adam_update(
            &mut p,
            &zero,
            &mut m,
            &mut v,
            AdamStep {
                lr: 0.1,
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                weight_decay: 0.5,
                step,
            },
        );
    }
    assert_close(data(&p), &[2.0 * 0.95f32.powi(3), -4.0 * 0.95f32.powi(3)], 1e-6);

    // RMSprop's first step: v = (1−ρ)g², so p moves by lr·g/(√(1−ρ)|g|) = lr·sign(g)/√(1−ρ).
    let (mut p, mut v) = (tensor(&[2], vec![1.0, 1.0]), Cpu.zeros(&[2]));
    Cpu.rmsprop_update(&mut p, &g, &mut v, 0.01, 0.9, 1e-8);
    let step = 0.01 / 0.1f32.sqrt();
    assert_close(data(&p), &[1.0 - step, 1.0 + step], 1e-5);
}

#[test]
fn penalty_gradient() {
    let g = tensor(&[3], vec![0.5, 0.5, 0.5]);
    let p = tensor(&[3], vec![2.0, 0.0, -4.0]);
    // g + 0.1·sign(p) + 0.25·p
    assert_close(data(&Cpu.add_penalty(&g, &p, 0.1, 0.25)), &[1.1, 0.5, -0.6], 1e-6);
}

#[test]
fn dropout_mask_keeps_expected_fraction_and_scales() {
    let m = Cpu.dropout_mask(&[100, 100], 0.8, 9);
    let kept = data(&m).iter().filter(|&&v| v > 0.0).count() as f32 / 10_000.0;
    assert!((kept - 0.8).abs() < 0.02, "{kept}");
    assert!(data(&m).iter().all(|&v| v == 0.0 || (v - 1.25).abs() < 1e-6));
    assert_eq!(
        data(&m),
        data(&Cpu.dropout_mask(&[100, 100], 0.8, 9)),
        "same seed, same mask"
    );
}

#[test]
fn gather_rows_cuts_a_batch() {
    let src = tensor(&[4, 2], vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
    let b = Cpu.gather_rows(&src, &[3, 0, 3]);
    assert_eq!(b.shape(), &[3, 2]);
    assert_eq!(data(&b), &[6.0, 7.0, 0.0, 1.0, 6.0, 7.0]);
}

#[test]
fn gradient_norm_clipping_and_concat_by_hand() {
    let g = Cpu.upload(&[3.0, -4.0], &[2]);
    let mut ss = Cpu.zeros(&[1]);
    Cpu.add_square_sums(&mut ss, &[&g, &Cpu.upload(&[12.0], &[1])]);
    assert_eq!(ready(Cpu.read(&ss)).unwrap(), [169.0]);
    // The global norm is 13: a cap of 6.5 halves every tensor, a cap of 20 leaves it alone.
    assert_eq!(ready(Cpu.read(&Cpu.scale_to_norm(&g, &ss, 6.5))).unwrap(), [1.5, -2.0]);
    assert_eq!(ready(Cpu.read(&Cpu.scale_to_norm(&g, &ss, 20.0))).unwrap(), [3.0, -4.0]);
    assert_eq!(ready(Cpu.read(&Cpu.clamp(&g, 3.5))).unwrap(), [3.0, -3.5]);
    let joined = Cpu.concat(&[&ss, &g]);
    assert_eq!(Cpu::shape(&joined), [3]);
    assert_eq!(ready(Cpu.read(&joined)).unwrap(), [169.0, 3.0, -4.0]);
}

#[test]
fn batch_norm_by_hand() {
    // Two samples, two channels of two values: channel 0 holds 1, 3, 5, 7; channel 1 holds 2 four times.
    let x = Cpu.upload(&[1.0, 3.0, 2.0, 2.0, 5.0, 7.0, 2.0, 2.0], &[2, 2, 2]);
    let (mean, var) = Cpu.channel_moments(&x);
    assert_eq!(
        (ready(Cpu.read(&mean)).unwrap(), ready(Cpu.read(&var)).unwrap()),
        (vec![4.0, 2.0], vec![5.0, 0.0])
    );
    let (gamma, beta) = (Cpu.upload(&[2.0, 1.0], &[2]), Cpu.upload(&[0.5, -1.0], &[2]));
    let y = ready(Cpu.read(&Cpu.batch_norm(&x, &mean, &var, &gamma, &beta, 0.0))).unwrap();
    let s = 5f32.sqrt();
    assert_eq!(y[..2], [-6.0 / s + 0.5, -2.0 / s + 0.5]);
    assert!(
        Cpu.batch_norm(&x, &mean, &var, &gamma, &beta, 1e-5)
            .iter()
            .skip(2)
            .take(2)
            .all(|&v| v == -1.0),
        "a constant channel maps to beta"
    );
    // A gradient that is constant over a channel moves nothing: normalisation removes shifts.
    let dy = Cpu.upload(&[1.0; 8], &[2, 2, 2]);
    let (dx, dgamma, dbeta) = Cpu.batch_norm_backward(&dy, &x, &mean, &var, &gamma, 1e-5);
    assert!(dx.iter().all(|v| v.abs() < 1e-5));
    assert_eq!(ready(Cpu.read(&dbeta)).unwrap(), [4.0, 4.0]);
    assert!(ready(Cpu.read(&dgamma)).unwrap().iter().all(|v| v.abs() < 1e-5));
    assert_eq!(ready(Cpu.read(&Cpu.lerp(&gamma, &beta, 0.25))).unwrap(), [1.625, 0.5]);
}
