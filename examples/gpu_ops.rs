//! Where a training step's time goes on the GPU: each op of the CNN preset's step, at its real
//! shapes, repeated and timed on its own (argument: batch size, default 256). Prints one JSON
//! object per op with milliseconds per call. A profiling aid for the WGSL kernels, not a test.

use whetstone::backend::gpu::{test_device, Gpu};
use whetstone::backend::{ready, Activation, AdamStep, Backend, Conv2dGeometry, PoolGeometry};
use whetstone::clock::now_ms;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(256, |b| b.parse().expect("batch size is a whole number"));
    let b = test_device().expect("no GPU adapter");
    let rand = |shape: &[usize]| {
        let len: usize = shape.iter().product();
        let data: Vec<f32> = (0..len)
            .map(|i| ((i * 2_654_435_761) % 1000) as f32 / 1000.0 - 0.5)
            .collect();
        b.upload(&data, shape)
    };
    let (same, valid) = (
        Conv2dGeometry { stride: 1, padding: 2 },
        Conv2dGeometry { stride: 1, padding: 0 },
    );
    let pool = PoolGeometry { size: 2, stride: 2 };
    let (x1, w1, b1, y1) = (
        rand(&[n, 1, 28, 28]),
        rand(&[8, 1, 5, 5]),
        rand(&[8]),
        rand(&[n, 8, 28, 28]),
    );
    let (x2, w2, b2, y2) = (
        rand(&[n, 8, 14, 14]),
        rand(&[16, 8, 5, 5]),
        rand(&[16]),
        rand(&[n, 16, 10, 10]),
    );
    let (x3, w3, b3, y3) = (rand(&[n, 400]), rand(&[400, 64]), rand(&[64]), rand(&[n, 64]));
    let (logits, labels) = (
        rand(&[n, 10]),
        b.upload(&(0..n).map(|i| (i % 10) as f32).collect::<Vec<_>>(), &[n]),
    );
    let (mut p, g, mut m, mut v) = (
        rand(&[400, 64]),
        rand(&[400, 64]),
        b.zeros(&[400, 64]),
        b.zeros(&[400, 64]),
    );
    let adam = AdamStep {
        lr: 1e-3,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weight_decay: 0.0,
        step: 1,
    };
    time(&b, n, "conv1 forward", || drop(b.conv2d_bias(&x1, &w1, &b1, same)));
    time(&b, n, "conv1 weight grad", || {
        drop(b.conv2d_backward(&y1, &x1, &w1, same, false))
    });
    time(&b, n, "relu1 forward", || drop(b.activation(&y1, Activation::Relu)));
    time(&b, n, "relu1 backward", || {
        drop(b.activation_backward(&y1, &y1, &y1, Activation::Relu))
    });
    time(&b, n, "pool1 forward", || drop(b.max_pool2d(&y1, pool)));
    time(&b, n, "pool1 backward", || drop(b.max_pool2d_backward(&y1, &x2, pool)));
    time(&b, n, "conv2 forward", || drop(b.conv2d_bias(&x2, &w2, &b2, valid)));
    time(&b, n, "conv2 both grads", || {
        drop(b.conv2d_backward(&y2, &x2, &w2, valid, true))
    });
    time(&b, n, "dense forward", || drop(b.dense(&x3, &w3, &b3)));
    time(&b, n, "dense weight grad", || drop(b.matmul(&x3, &y3, true, false)));
    time(&b, n, "dense input grad", || drop(b.matmul(&y3, &w3, false, true)));
    time(&b, n, "dense bias grad", || drop(b.bias_grad(&y3)));
    time(&b, n, "softmax cross-entropy", || {
        drop(b.softmax_cross_entropy(&logits, &labels))
    });
    time(&b, n, "adam 400x64", || b.adam_update(&mut p, &g, &mut m, &mut v, adam));
}

/// Milliseconds per call of `op`, over enough calls to fill about half a second.
fn time(b: &Gpu, batch: usize, name: &str, mut op: impl FnMut()) {
    let sync = || drop(ready(b.read(&b.zeros(&[1]))).unwrap());
    op();
    sync();
    let (start, mut calls) = (now_ms(), 0);
    while now_ms() - start < 500.0 {
        for _ in 0..10 {
            op();
        }
        sync();
        calls += 10;
    }
    println!(
        "{{\"op\":{name:?},\"batch\":{batch},\"ms\":{:.4}}}",
        (now_ms() - start) / calls as f64
    );
}
