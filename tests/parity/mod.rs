//! Parity cases: every GPU op against the CPU reference on random inputs of awkward sizes (not
//! multiples of any tile). Written once as async functions; `tests/gpu_parity.rs` runs them natively
//! (Vulkan, lavapipe where there is no GPU) and `tests/browser.rs` in Chromium through WebGPU.

/// Calls `$runner!(case, …)` with every parity case, so each test target lists them once.
macro_rules! parity_cases {
    ($runner:ident) => {
        $runner!(
            matmul_all_transposes_and_awkward_sizes,
            bias_and_its_gradient,
            conv2d_forward_and_both_backwards,
            pooling_forward_and_backward,
            activations_and_element_wise_ops,
            gather_reshape_zeros_and_read_back,
            softmax_and_cross_entropy,
            optimiser_updates,
            gradient_clipping_and_concat,
            batch_norm_and_its_gradients,
            layer_norm_and_its_gradients,
            embedding_and_its_gradient,
            mean_over_steps_and_its_gradient,
            attention_and_its_gradients,
            recurrent_steps_and_their_gradients,
            augmentation,
            image_features,
        );
    };
}

use whetstone::backend::cpu::{Cpu, CpuTensor};
use whetstone::backend::gpu::{Gpu, GpuTensor, Kernels};
use whetstone::backend::{Activation, AdamStep, AttentionGeometry, Backend, Conv2dGeometry, PoolGeometry};
use whetstone::rng::Rng;
use whetstone::testing::{assert_close, random};

/// The same op on both backends from the same host data.
struct Pair<'a> {
    gpu: &'a Gpu,
}

impl Pair<'_> {
    fn both(&self, data: &[f32], shape: &[usize]) -> (CpuTensor, GpuTensor) {
        (Cpu.upload(data, shape), self.gpu.upload(data, shape))
    }

    fn random(&self, shape: &[usize], seed: u64) -> (CpuTensor, GpuTensor) {
        self.both(&random(shape, seed), shape)
    }

    async fn assert_close(&self, what: &str, cpu: &CpuTensor, gpu: &GpuTensor, tol: f32) {
        assert_eq!(cpu.shape(), &Gpu::shape(gpu)[..], "{what}: shapes");
        let want = Cpu.read(cpu).await.unwrap();
        let got = self.gpu.read(gpu).await.unwrap();
        assert_close(&format!("{what} (want: CPU, got: GPU)"), &want, &got, tol);
    }
}

/// Runs `case` once with each family of kernels the GPU backend can record.
async fn with_each_kernel_family(gpu: &Gpu, case: impl AsyncFn(&Gpu)) {
    for kernels in [Kernels::Tiled, Kernels::BarrierFree] {
        case(&gpu.with_kernels(kernels)).await;
    }
}

pub async fn matmul_all_transposes_and_awkward_sizes(gpu: &Gpu) {
    with_each_kernel_family(gpu, products_match_the_cpu).await;
}

async fn products_match_the_cpu(gpu: &Gpu) {
    let p = Pair { gpu };
    let kernel = format!("{:?}", gpu.kernels());
    // Sizes that pick every tile shape (square, wide, tall, small), with and without split-K; the
    // barrier-free family reads vec4s where m, k and n are all multiples of 4 (the last three).
    for &(m, k, n) in &[
        (1, 1, 1),
        (3, 5, 7),
        (65, 17, 130),
        (31, 200, 9),
        (5, 700, 40),
        (70, 90, 20),
        (3, 5000, 7),
        (8, 1000, 300),
        (12, 36, 20),
        (4, 4096, 12),
    ] {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let (ac, ag) = p.random(&if ta { [k, m] } else { [m, k] }, 1);
            let (bc, bg) = p.random(&if tb { [n, k] } else { [k, n] }, 2);
            p.assert_close(
                &format!("{kernel} matmul {m}x{k}x{n} {ta} {tb}"),
                &Cpu.matmul(&ac, &bc, ta, tb),
                &p.gpu.matmul(&ag, &bg, ta, tb),
                1e-4,
            )
            .await;
        }
    }
    let (xc, xg) = p.random(&[70, 33], 3);
    let (wc, wg) = p.random(&[33, 66], 4);
    let (bc, bg) = p.random(&[66], 5);
    p.assert_close(
        &format!("{kernel} dense"),
        &Cpu.dense(&xc, &wc, &bc),
        &p.gpu.dense(&xg, &wg, &bg),
        1e-4,
    )
    .await;
    // A thin output with a long k: split-K partial products summed with the bias.
    let (xc, xg) = p.random(&[20, 900], 6);
    let (wc, wg) = p.random(&[900, 10], 7);
    let (bc, bg) = p.random(&[10], 8);
    p.assert_close(
        &format!("{kernel} dense split-K"),
        &Cpu.dense(&xc, &wc, &bc),
        &p.gpu.dense(&xg, &wg, &bg),
        1e-4,
    )
    .await;
    // The same two with every size a multiple of 4 (vec4 operands and bias).
    for (rows, inner, cols) in [(68, 32, 20), (20, 900, 12)] {
        let (xc, xg) = p.random(&[rows, inner], 9);
        let (wc, wg) = p.random(&[inner, cols], 10);
        let (bc, bg) = p.random(&[cols], 11);
        p.assert_close(
            &format!("{kernel} dense {rows}x{inner}x{cols}"),
            &Cpu.dense(&xc, &wc, &bc),
            &p.gpu.dense(&xg, &wg, &bg),
            1e-4,
        )
        .await;
    }
}

pub async fn bias_and_its_gradient(gpu: &Gpu) {
    with_each_kernel_family(gpu, biases_match_the_cpu).await;
}

async fn biases_match_the_cpu(gpu: &Gpu) {
    let p = Pair { gpu };
    let kernel = format!("{:?}", gpu.kernels());
    let (xc, xg) = p.random(&[3, 5, 7, 2], 1);
    let (bc, bg) = p.random(&[5], 2);
    p.assert_close("add_bias", &Cpu.add_bias(&xc, &bc), &p.gpu.add_bias(&xg, &bg), 1e-6)
        .await;
    p.assert_close(
        &format!("{kernel} bias_grad"),
        &Cpu.bias_grad(&xc),
        &p.gpu.bias_grad(&xg),
        1e-5,
    )
    .await;
    let (yc, yg) = p.random(&[301, 3], 3);
    p.assert_close(
        &format!("{kernel} bias_grad 2-D"),
        &Cpu.bias_grad(&yc),
        &p.gpu.bias_grad(&yg),
        1e-4,
    )
    .await;
}

pub async fn conv2d_forward_and_both_backwards(gpu: &Gpu) {
    with_each_kernel_family(gpu, convolutions_match_the_cpu).await;
}

async fn convolutions_match_the_cpu(gpu: &Gpu) {
    let p = Pair { gpu };
    let kernel = format!("{:?}", gpu.kernels());
    for (g, xs, ws) in [
        (Conv2dGeometry { stride: 1, padding: 2 }, [3, 1, 28, 28], [8, 1, 5, 5]),
        (Conv2dGeometry { stride: 2, padding: 1 }, [2, 3, 9, 7], [5, 3, 3, 3]),
        (Conv2dGeometry { stride: 3, padding: 2 }, [2, 2, 8, 7], [3, 2, 2, 2]),
        // More filters and taps than one register block holds, neither a multiple of it.
        (Conv2dGeometry { stride: 1, padding: 1 }, [3, 3, 10, 9], [19, 3, 3, 3]),
    ] {
        let (xc, xg) = p.random(&xs, 1);
        let (wc, wg) = p.random(&ws, 2);
        let (bc, bg) = p.random(&[ws[0]], 3);
        let yc = Cpu.conv2d_bias(&xc, &wc, &bc, g);
        p.assert_close(
            &format!("{kernel} conv2d_bias"),
            &yc,
            &p.gpu.conv2d_bias(&xg, &wg, &bg, g),
            1e-4,
        )
        .await;
        p.assert_close(
            &format!("{kernel} conv2d"),
            &Cpu.conv2d(&xc, &wc, g),
            &p.gpu.conv2d(&xg, &wg, g),
            1e-4,
        )
        .await;
        let (dyc, dyg) = p.random(yc.shape(), 4);
        p.assert_close(
            &format!("{kernel} conv2d_backward_input"),
            &Cpu.conv2d_backward_input(&dyc, &wc, g, &xs),
            &p.gpu.conv2d_backward_input(&dyg, &wg, g, &xs),
            1e-4,
        )
        .await;
        p.assert_close(
            &format!("{kernel} conv2d_backward_weight"),
            &Cpu.conv2d_backward_weight(&dyc, &xc, g, &ws),
            &p.gpu.conv2d_backward_weight(&dyg, &xg, g, &ws),
            1e-3,
        )
        .await;
        let ((dwc, dxc), (dwg, dxg)) = (
            Cpu.conv2d_backward(&dyc, &xc, &wc, g, true),
            p.gpu.conv2d_backward(&dyg, &xg, &wg, g, true),
        );
        p.assert_close(&format!("{kernel} conv2d_backward dw"), &dwc, &dwg, 1e-3)
            .await;
        p.assert_close(
            &format!("{kernel} conv2d_backward dx"),
            &dxc.unwrap(),
            &dxg.unwrap(),
            1e-4,
        )
        .await;
        assert!(p.gpu.conv2d_backward(&dyg, &xg, &wg, g, false).1.is_none());
    }
}

pub async fn pooling_forward_and_backward(gpu: &Gpu) {
    with_each_kernel_family(gpu, pools_match_the_cpu).await;
}

async fn pools_match_the_cpu(gpu: &Gpu) {
    let p = Pair { gpu };
    let kernel = format!("{:?}", gpu.kernels());
    for g in [
        PoolGeometry { size: 2, stride: 2 },
        PoolGeometry { size: 3, stride: 1 },
        PoolGeometry { size: 3, stride: 2 },
    ] {
        let shape = [2, 3, 9, 7];
        let (xc, xg) = p.random(&shape, 1);
        let yc = Cpu.max_pool2d(&xc, g);
        p.assert_close("max_pool2d", &yc, &p.gpu.max_pool2d(&xg, g), 0.0).await;
        let (dyc, dyg) = p.random(yc.shape(), 2);
        p.assert_close(
            &format!("{kernel} max_pool2d_backward"),
            &Cpu.max_pool2d_backward(&xc, &dyc, g),
            &p.gpu.max_pool2d_backward(&xg, &dyg, g),
            1e-6,
        )
        .await;
        p.assert_close("avg_pool2d", &Cpu.avg_pool2d(&xc, g), &p.gpu.avg_pool2d(&xg, g), 1e-6)
            .await;
        p.assert_close(
            "avg_pool2d_backward",
            &Cpu.avg_pool2d_backward(&dyc, g, &shape),
            &p.gpu.avg_pool2d_backward(&dyg, g, &shape),
            1e-6,
        )
        .await;
    }
}

pub async fn activations_and_element_wise_ops(gpu: &Gpu) {
    let p = Pair { gpu };
    // 917 values run the scalar activation kernels, 780 (a multiple of 4) the vec4 ones.
    for shape in [[6, 130], [7, 131]] {
        let (xc, xg) = p.random(&shape, 1);
        let (dyc, dyg) = p.random(&shape, 2);
        for f in [
            Activation::Relu,
            Activation::LeakyRelu(0.1),
            Activation::Tanh,
            Activation::Sigmoid,
            Activation::Gelu,
        ] {
            let (yc, yg) = (Cpu.activation(&xc, f), p.gpu.activation(&xg, f));
            p.assert_close(&format!("{f:?} {shape:?}"), &yc, &yg, 1e-5).await;
            let (dc, dg) = (
                Cpu.activation_backward(&xc, &yc, &dyc, f),
                p.gpu.activation_backward(&xg, &yg, &dyg, f),
            );
            p.assert_close(&format!("{f:?} backward {shape:?}"), &dc, &dg, 1e-5)
                .await;
        }
    }
    let shape = [7, 131];
    let (xc, xg) = p.random(&shape, 1);
    let (dyc, dyg) = p.random(&shape, 2);
    p.assert_close("mul", &Cpu.mul(&xc, &dyc), &p.gpu.mul(&xg, &dyg), 1e-6)
        .await;
    p.assert_close(
        "add_penalty",
        &Cpu.add_penalty(&dyc, &xc, 0.01, 0.1),
        &p.gpu.add_penalty(&dyg, &xg, 0.01, 0.1),
        1e-6,
    )
    .await;
    let (mut ac, mut ag) = (xc.clone(), xg.clone());
    Cpu.add_assign(&mut ac, &dyc);
    p.gpu.add_assign(&mut ag, &dyg);
    p.assert_close("add_assign", &ac, &ag, 1e-6).await;
    // The update wrote a copy: the handle it was cloned from is unchanged, as on the CPU.
    p.assert_close("add_assign leaves clones alone", &xc, &xg, 0.0).await;
    p.assert_close(
        "dropout_mask",
        &Cpu.dropout_mask(&[13, 77], 0.7, 99),
        &p.gpu.dropout_mask(&[13, 77], 0.7, 99),
        1e-6,
    )
    .await;
}

pub async fn gather_reshape_zeros_and_read_back(gpu: &Gpu) {
    let p = Pair { gpu };
    let (sc, sg) = p.random(&[10, 3, 4], 1);
    let idx = [9, 0, 3, 3, 7];
    p.assert_close(
        "gather_rows",
        &Cpu.gather_rows(&sc, &idx),
        &p.gpu.gather_rows(&sg, &idx),
        0.0,
    )
    .await;
    p.assert_close(
        "reshape",
        &Cpu.reshape(&sc, &[30, 4]),
        &p.gpu.reshape(&sg, &[30, 4]),
        0.0,
    )
    .await;
    p.assert_close("zeros", &Cpu.zeros(&[5, 3]), &p.gpu.zeros(&[5, 3]), 0.0)
        .await;
}

pub async fn softmax_and_cross_entropy(gpu: &Gpu) {
    with_each_kernel_family(gpu, losses_match_the_cpu).await;
}

async fn losses_match_the_cpu(gpu: &Gpu) {
    let p = Pair { gpu };
    // 3,010 logits: one thread on the barrier-free family; 5,010: a thread per row, then a sum.
    for rows in [301, 501] {
        let (zc, zg) = p.random(&[rows, 10], 1);
        let labels: Vec<f32> = (0..rows).map(|i| (i * 7 % 10) as f32).collect();
        let (lc, lg) = p.both(&labels, &[rows]);
        p.assert_close("softmax", &Cpu.softmax(&zc), &p.gpu.softmax(&zg), 1e-5)
            .await;
        let (oc, og) = (
            Cpu.softmax_cross_entropy(&zc, &lc),
            p.gpu.softmax_cross_entropy(&zg, &lg),
        );
        p.assert_close(&format!("loss, {rows} rows"), &oc.loss_sum, &og.loss_sum, 1e-4)
            .await;
        p.assert_close(&format!("correct, {rows} rows"), &oc.correct, &og.correct, 0.0)
            .await;
        p.assert_close(&format!("loss gradient, {rows} rows"), &oc.grad, &og.grad, 1e-5)
            .await;
    }
}

pub async fn optimiser_updates(gpu: &Gpu) {
    // 407 values run the scalar kernels, 396 (a multiple of 4) the vec4 ones.
    for shape in [[37, 11], [36, 11]] {
        updates_match_the_cpu(gpu, &shape).await;
    }
}

async fn updates_match_the_cpu(gpu: &Gpu, shape: &[usize]) {
    let p = Pair { gpu };
    let (gc, gg) = p.random(shape, 2);
    let (mut pc, mut pg) = p.random(shape, 1);
    Cpu.add_assign(&mut pc, &gc);
    p.gpu.add_assign(&mut pg, &gg);
    p.assert_close(&format!("add_assign {shape:?}"), &pc, &pg, 1e-6).await;
    Cpu.sgd_update(&mut pc, &gc, 0.1);
    p.gpu.sgd_update(&mut pg, &gg, 0.1);
    p.assert_close(&format!("sgd {shape:?}"), &pc, &pg, 1e-6).await;
    for nesterov in [false, true] {
        let (mut vc, mut vg) = (Cpu.zeros(shape), p.gpu.zeros(shape));
        for _ in 0..3 {
            Cpu.momentum_update(&mut pc, &gc, &mut vc, 0.05, 0.9, nesterov);
            p.gpu.momentum_update(&mut pg, &gg, &mut vg, 0.05, 0.9, nesterov);
        }
        p.assert_close(&format!("momentum {shape:?}"), &pc, &pg, 1e-5).await;
        p.assert_close(&format!("velocity {shape:?}"), &vc, &vg, 1e-5).await;
    }
    let (mut mc, mut mg, mut vc, mut vg) = (
        Cpu.zeros(shape),
        p.gpu.zeros(shape),
        Cpu.zeros(shape),
        p.gpu.zeros(shape),
    );
    for weight_decay in [0.0, 0.1] {
        for step in 1..=3 {
            let s = AdamStep {
                lr: 0.01,
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                weight_decay,
                step,
            };
            Cpu.adam_update(&mut pc, &gc, &mut mc, &mut vc, s);
            p.gpu.adam_update(&mut pg, &gg, &mut mg, &mut vg, s);
        }
        p.assert_close(&format!("adam {shape:?}, weight decay {weight_decay}"), &pc, &pg, 1e-5)
            .await;
    }
    let (mut vc, mut vg) = (Cpu.zeros(shape), p.gpu.zeros(shape));
    for _ in 0..3 {
        Cpu.rmsprop_update(&mut pc, &gc, &mut vc, 0.01, 0.9, 1e-8);
        p.gpu.rmsprop_update(&mut pg, &gg, &mut vg, 0.01, 0.9, 1e-8);
    }
    p.assert_close(&format!("rmsprop {shape:?}"), &pc, &pg, 1e-5).await;
    p.assert_close(&format!("rmsprop square average {shape:?}"), &vc, &vg, 1e-5)
        .await;
}

pub async fn gradient_clipping_and_concat(gpu: &Gpu) {
    with_each_kernel_family(gpu, clipping_matches_the_cpu).await;
}

async fn clipping_matches_the_cpu(gpu: &Gpu) {
    let p = Pair { gpu };
    // A gradient of eight tensors, its squared norm accumulated: one larger than a workgroup's
    // stride, two that a barrier-free sum shares among threads, the rest short; more inputs
    // than one barrier-free adding dispatch takes. Added twice, to an accumulator already set.
    let shapes: [&[usize]; 8] = [&[700, 3], &[5], &[70, 101], &[3], &[64, 80], &[1], &[9, 9], &[2, 2]];
    let tensors: Vec<(CpuTensor, GpuTensor)> = shapes
        .iter()
        .enumerate()
        .map(|(i, shape)| p.random(shape, 10 + i as u64))
        .collect();
    let (ac, ag) = (&tensors[0].0, &tensors[0].1);
    let (bc, bg) = (&tensors[1].0, &tensors[1].1);
    let (mut sc, mut sg) = (Cpu.zeros(&[1]), p.gpu.zeros(&[1]));
    let (cpu_parts, gpu_parts): (Vec<&CpuTensor>, Vec<&GpuTensor>) = tensors.iter().map(|(c, g)| (c, g)).unzip();
    for _ in 0..2 {
        Cpu.add_square_sums(&mut sc, &cpu_parts);
        p.gpu.add_square_sums(&mut sg, &gpu_parts);
    }
    p.assert_close("square sum", &sc, &sg, 1e-5).await;
    // A cap below the norm rescales, one above it leaves the gradient alone.
    for max_norm in [3.0, 1e3] {
        p.assert_close(
            &format!("scale to norm {max_norm}"),
            &Cpu.scale_to_norm(ac, &sc, max_norm),
            &p.gpu.scale_to_norm(ag, &sg, max_norm),
            1e-5,
        )
        .await;
    }
    p.assert_close("clamp", &Cpu.clamp(ac, 0.5), &p.gpu.clamp(ag, 0.5), 0.0)
        .await;
    let (cc, cg) = p.random(&[2, 2], 3);
    p.assert_close(
        "concat",
        &Cpu.concat(&[&sc, bc, &cc]),
        &p.gpu.concat(&[&sg, bg, &cg]),
        1e-5,
    )
    .await;
}

pub async fn batch_norm_and_its_gradients(gpu: &Gpu) {
    let p = Pair { gpu };
    // Conv-shaped ([n, c, h, w], more elements per channel than a workgroup) and dense-shaped.
    for shape in [vec![5, 3, 9, 7], vec![37, 6]] {
        let c = shape[1];
        let (xc, xg) = p.random(&shape, 1);
        let (dyc, dyg) = p.random(&shape, 2);
        let (gc, gg) = p.random(&[c], 3);
        let (bc, bg) = p.random(&[c], 4);
        let (mean_c, var_c) = Cpu.channel_moments(&xc);
        let (mean_g, var_g) = p.gpu.channel_moments(&xg);
        p.assert_close("channel mean", &mean_c, &mean_g, 1e-5).await;
        p.assert_close("channel variance", &var_c, &var_g, 1e-5).await;
        p.assert_close(
            "batch norm",
            &Cpu.batch_norm(&xc, &mean_c, &var_c, &gc, &bc, 1e-5),
            &p.gpu.batch_norm(&xg, &mean_g, &var_g, &gg, &bg, 1e-5),
            1e-4,
        )
        .await;
        let (dxc, dgc, dbc) = Cpu.batch_norm_backward(&dyc, &xc, &mean_c, &var_c, &gc, 1e-5);
        let (dxg, dgg, dbg) = p.gpu.batch_norm_backward(&dyg, &xg, &mean_g, &var_g, &gg, 1e-5);
        p.assert_close("batch norm dx", &dxc, &dxg, 1e-4).await;
        p.assert_close("batch norm dgamma", &dgc, &dgg, 1e-4).await;
        p.assert_close("batch norm dbeta", &dbc, &dbg, 1e-4).await;
        p.assert_close("lerp", &Cpu.lerp(&gc, &bc, 0.1), &p.gpu.lerp(&gg, &bg, 0.1), 1e-6)
            .await;
    }
}

pub async fn layer_norm_and_its_gradients(gpu: &Gpu) {
    let p = Pair { gpu };
    // Sequence-shaped rows narrower than a workgroup, and rows wider than one.
    for shape in [vec![5, 7, 13], vec![37, 300]] {
        let d = shape[shape.len() - 1];
        let (xc, xg) = p.random(&shape, 1);
        let (dyc, dyg) = p.random(&shape, 2);
        let (gc, gg) = p.random(&[d], 3);
        let (bc, bg) = p.random(&[d], 4);
        let (yc, sc) = Cpu.layer_norm(&xc, &gc, &bc, 1e-5);
        let (yg, sg) = p.gpu.layer_norm(&xg, &gg, &bg, 1e-5);
        p.assert_close("layer norm", &yc, &yg, 1e-4).await;
        p.assert_close("layer norm statistics", &sc, &sg, 1e-4).await;
        let (dxc, dgc, dbc) = Cpu.layer_norm_backward(&dyc, &xc, &sc, &gc);
        let (dxg, dgg, dbg) = p.gpu.layer_norm_backward(&dyg, &xg, &sg, &gg);
        p.assert_close("layer norm dx", &dxc, &dxg, 1e-4).await;
        p.assert_close("layer norm dgamma", &dgc, &dgg, 1e-4).await;
        p.assert_close("layer norm dbeta", &dbc, &dbg, 1e-4).await;
    }
}

pub async fn embedding_and_its_gradient(gpu: &Gpu) {
    let p = Pair { gpu };
    // 37 × 13 tokens into a table of 300 rows of 19: ids repeat, and some are padding (0), past the
    // table, negative or not whole, which pick zeros and add to no row.
    let (vocab, dim) = (300, 19);
    let mut rng = Rng::new(5);
    let ids: Vec<f32> = (0..37 * 13)
        .map(|i| match i % 11 {
            0 => 0.0,
            1 => vocab as f32 + 3.0,
            2 => -2.0,
            3 => 4.5,
            _ => rng.below(40) as f32,
        })
        .collect();
    let (ic, ig) = p.both(&ids, &[37, 13]);
    let (tc, tg) = p.random(&[vocab, dim], 1);
    let (dyc, dyg) = p.random(&[37, 13, dim], 2);
    for padding in [true, false] {
        let what = |part: &str| format!("embedding {part} (padding {padding})");
        p.assert_close(
            &what("rows"),
            &Cpu.embedding(&ic, &tc, padding),
            &p.gpu.embedding(&ig, &tg, padding),
            0.0,
        )
        .await;
        p.assert_close(
            &what("table gradient"),
            &Cpu.embedding_backward(&ic, &dyc, vocab, padding),
            &p.gpu.embedding_backward(&ig, &dyg, vocab, padding),
            1e-5,
        )
        .await;
    }
}

pub async fn mean_over_steps_and_its_gradient(gpu: &Gpu) {
    let p = Pair { gpu };
    let (n, steps, dim) = (37, 13, 19);
    let (xc, xg) = p.random(&[n, steps, dim], 1);
    let (dyc, dyg) = p.random(&[n, dim], 2);
    // Texts of every length from 0 tokens (padding alone) to all 13.
    let mask: Vec<f32> = (0..n * steps)
        .map(|i| f32::from(u8::from(i % steps < (i / steps) % (steps + 1))))
        .collect();
    let (mc, mg) = p.both(&mask, &[n, steps]);
    for (what, mc, mg) in [("every step", None, None), ("masked", Some(&mc), Some(&mg))] {
        p.assert_close(
            &format!("mean over steps ({what})"),
            &Cpu.mean_steps(&xc, mc),
            &p.gpu.mean_steps(&xg, mg),
            1e-5,
        )
        .await;
        p.assert_close(
            &format!("mean over steps' gradient ({what})"),
            &Cpu.mean_steps_backward(&dyc, mc, steps),
            &p.gpu.mean_steps_backward(&dyg, mg, steps),
            1e-5,
        )
        .await;
    }
}

pub async fn attention_and_its_gradients(gpu: &Gpu) {
    let p = Pair { gpu };
    // 7 sequences of 13 steps, 3 heads of 5: no size a multiple of a workgroup.
    let (n, steps, heads, key) = (7, 13, 3, 5);
    let width = heads * key;
    let (qc, qg) = p.random(&[n * steps, width], 1);
    let (kc, kg) = p.random(&[n * steps, width], 2);
    let (vc, vg) = p.random(&[n * steps, width], 3);
    let (doc, dog) = p.random(&[n * steps, width], 4);
    let (dwc, dwg) = p.random(&[n, heads, steps, steps], 5);
    // Texts of 0 (padding alone) to 13 tokens.
    let mask: Vec<f32> = (0..n * steps)
        .map(|i| f32::from(u8::from(i % steps < 2 * (i / steps))))
        .collect();
    let (mc, mg) = p.both(&mask, &[n, steps]);
    for causal in [false, true] {
        let g = AttentionGeometry {
            n,
            steps,
            heads,
            key,
            causal,
        };
        for (what, mc, mg) in [("every key", None, None), ("padding masked", Some(&mc), Some(&mg))] {
            let what = |part: &str| format!("attention {part} ({what}, causal {causal})");
            let (wc, wg) = (
                Cpu.attention_weights(&qc, &kc, mc, g),
                p.gpu.attention_weights(&qg, &kg, mg, g),
            );
            p.assert_close(&what("weights"), &wc, &wg, 1e-5).await;
            let (oc, og) = (Cpu.attention_apply(&wc, &vc, g), p.gpu.attention_apply(&wg, &vg, g));
            p.assert_close(&what("output"), &oc, &og, 1e-4).await;
            let (dwc2, dvc) = Cpu.attention_apply_backward(&wc, &vc, &doc, g);
            let (dwg2, dvg) = p.gpu.attention_apply_backward(&wg, &vg, &dog, g);
            p.assert_close(&what("weights' gradient"), &dwc2, &dwg2, 1e-4).await;
            p.assert_close(&what("values' gradient"), &dvc, &dvg, 1e-4).await;
            let (dqc, dkc) = Cpu.attention_weights_backward(&wc, &dwc, &qc, &kc, g);
            let (dqg, dkg) = p.gpu.attention_weights_backward(&wg, &dwg, &qg, &kg, g);
            p.assert_close(&what("queries' gradient"), &dqc, &dqg, 1e-4).await;
            p.assert_close(&what("keys' gradient"), &dkc, &dkg, 1e-4).await;
        }
    }
}

pub async fn recurrent_steps_and_their_gradients(gpu: &Gpu) {
    let p = Pair { gpu };
    // 37 rows of 13 units: neither a multiple of a workgroup nor of a gate block.
    let (steps, n, units) = (3, 37, 13);
    let (xc, xg) = p.random(&[n, steps, 5], 1);
    p.assert_close(
        "swap leading axes",
        &Cpu.swap_leading(&xc),
        &p.gpu.swap_leading(&xg),
        0.0,
    )
    .await;
    p.assert_close(
        "swap back",
        &Cpu.swap_leading(&Cpu.swap_leading(&xc)),
        &p.gpu.swap_leading(&p.gpu.swap_leading(&xg)),
        0.0,
    )
    .await;
    let (sc, sg) = p.random(&[n, units], 2);
    let (dhc, dhg) = p.random(&[n, units], 3);
    for (gates, seed) in [(4, 10), (3, 20)] {
        let (xwc, xwg) = p.random(&[steps, n, gates * units], seed);
        let (hwc, hwg) = p.random(&[n, gates * units], seed + 1);
        for t in [0, steps - 1] {
            if gates == 4 {
                let ((hc, cc, gc), (hg, cg, gg)) =
                    (Cpu.lstm_step(&xwc, t, &hwc, &sc), p.gpu.lstm_step(&xwg, t, &hwg, &sg));
                p.assert_close("lstm h", &hc, &hg, 1e-5).await;
                p.assert_close("lstm c", &cc, &cg, 1e-5).await;
                p.assert_close("lstm gates", &gc, &gg, 1e-5).await;
                let (dcc, dcg) = p.random(&[n, units], 4);
                let ((dzc, dpc), (dzg, dpg)) = (
                    Cpu.lstm_step_backward(&dhc, &dcc, &gc, &sc),
                    p.gpu.lstm_step_backward(&dhg, &dcg, &gg, &sg),
                );
                p.assert_close("lstm dz", &dzc, &dzg, 1e-5).await;
                p.assert_close("lstm dc_prev", &dpc, &dpg, 1e-5).await;
            } else {
                let ((hc, gc), (hg, gg)) = (Cpu.gru_step(&xwc, t, &hwc, &sc), p.gpu.gru_step(&xwg, t, &hwg, &sg));
                p.assert_close("gru h", &hc, &hg, 1e-5).await;
                p.assert_close("gru gates", &gc, &gg, 1e-5).await;
                let (xc, hc, pc) = Cpu.gru_step_backward(&dhc, &gc, &hwc, &sc);
                let (xg, hg, pg) = p.gpu.gru_step_backward(&dhg, &gg, &hwg, &sg);
                p.assert_close("gru dxw", &xc, &xg, 1e-5).await;
                p.assert_close("gru dhw", &hc, &hg, 1e-5).await;
                p.assert_close("gru dh_prev", &pc, &pg, 1e-5).await;
            }
        }
    }
}

pub async fn augmentation(gpu: &Gpu) {
    use whetstone::augment::{draw, Augmentation, AUGMENT_PARAMS};
    let p = Pair { gpu };
    let pipeline: Vec<Augmentation> = serde_json::from_str(
        r#"[{"type":"flip_horizontal","p":0.5},{"type":"flip_vertical","p":0.3},{"type":"rotate","p":0.8,"degrees":40},{"type":"scale","p":0.5,"amount":0.3},
            {"type":"translate","p":0.5,"fraction":0.2},{"type":"crop","p":0.5,"fraction":0.3},{"type":"brightness","p":0.7,"amount":0.3},
            {"type":"contrast","p":0.7,"amount":0.5},{"type":"saturation","p":0.7,"amount":0.8},{"type":"hue","p":0.7,"degrees":120},
            {"type":"noise","p":0.5,"std":0.1},{"type":"cutout","p":0.5,"size":0.4}]"#,
    )
    .unwrap();
    // Colour (three channels) and grey images of awkward sizes, values in [0, 1].
    for (shape, seed) in [([7, 3, 9, 11], 1u64), ([5, 1, 13, 6], 2)] {
        let n = shape[0];
        let values: Vec<f32> = random(&shape, seed)
            .iter()
            .map(|v| (v * 0.3 + 0.5).clamp(0.0, 1.0))
            .collect();
        let (xc, xg) = p.both(&values, &shape);
        let q = draw(&pipeline, n, shape[2], shape[3], &mut Rng::new(seed + 10));
        let (qc, qg) = p.both(&q, &[n, AUGMENT_PARAMS]);
        p.assert_close(
            &format!("augment {shape:?}"),
            &Cpu.augment(&xc, &qc, 77),
            &p.gpu.augment(&xg, &qg, 77),
            2e-4,
        )
        .await;
    }
}

pub async fn image_features(gpu: &Gpu) {
    let p = Pair { gpu };
    for (shape, seed) in [([3, 3, 9, 11], 1u64), ([2, 1, 13, 6], 2), ([2, 2, 5, 7], 3)] {
        let (xc, xg) = p.random(&shape, seed);
        for (grayscale, edges) in [(false, false), (true, false), (false, true), (true, true)] {
            let out = whetstone::features::image_channels(shape[1], grayscale, edges);
            let stats: Vec<f32> = random(&[out], seed + 5)
                .into_iter()
                .chain(random(&[out], seed + 6).into_iter().map(|v| 0.5 + v.abs()))
                .collect();
            let (sc, sg) = p.both(&stats, &[2, out]);
            let what = format!("image_features {shape:?} grayscale {grayscale} edges {edges}");
            p.assert_close(
                &what,
                &Cpu.image_features(&xc, &sc, grayscale, edges),
                &p.gpu.image_features(&xg, &sg, grayscale, edges),
                1e-5,
            )
            .await;
        }
    }
}
