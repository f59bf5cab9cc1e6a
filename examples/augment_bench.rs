//! What augmentation costs: training throughput of the CNN preset on the coloured shapes
//! (3 × 32 × 32) without augmentation and with every augmentation on (probability 0.5 each), on the
//! CPU and on the GPU adapter wgpu finds, and the augment op alone. Run by `scripts/bench.sh`.

use whetstone::augment::{draw, Augmentation, AUGMENT_PARAMS};
use whetstone::backend::cpu::Cpu;
use whetstone::backend::gpu::test_device;
use whetstone::backend::{ready, Backend};
use whetstone::clock::now_ms;
use whetstone::data::{shapes, Dataset};
use whetstone::nn::preset;
use whetstone::optim::OptimizerSpec;
use whetstone::rng::Rng;
use whetstone::train::{TrainConfig, Trainer};

const EVERYTHING: &str = r#"[{"type":"flip_horizontal","p":0.5},{"type":"flip_vertical","p":0.5},{"type":"rotate","p":0.5,"degrees":20},
    {"type":"scale","p":0.5,"amount":0.2},{"type":"translate","p":0.5,"fraction":0.1},{"type":"crop","p":0.5,"fraction":0.2},
    {"type":"brightness","p":0.5,"amount":0.2},{"type":"contrast","p":0.5,"amount":0.3},{"type":"saturation","p":0.5,"amount":0.5},
    {"type":"hue","p":0.5,"degrees":90},{"type":"noise","p":0.5,"std":0.05},{"type":"cutout","p":0.5,"size":0.25}]"#;

fn main() {
    let (train, test) = shapes::generate(2_000, 200, 1.0, 1).unwrap();
    let pipeline: Vec<Augmentation> = serde_json::from_str(EVERYTHING).unwrap();
    println!(
        "{:<12} {:>6} {:>14} {:>14} {:>9} {:>16}",
        "where", "batch", "plain samples/s", "augmented", "ratio", "op alone, img/s"
    );
    for batch in [32, 256] {
        row("native-cpu", Cpu, batch, &train, &test, &pipeline);
        if let Some(gpu) = test_device() {
            row("native-gpu", gpu, batch, &train, &test, &pipeline);
        }
    }
}

fn row<B: Backend>(place: &str, backend: B, batch: usize, train: &Dataset, test: &Dataset, pipeline: &[Augmentation]) {
    let plain = throughput(backend.clone(), batch, train, test, Vec::new());
    let augmented = throughput(backend.clone(), batch, train, test, pipeline.to_vec());
    let op = op_rate(&backend, batch, train, pipeline);
    println!(
        "{place:<12} {batch:>6} {plain:>14.0} {augmented:>14.0} {:>9.3} {op:>16.0}",
        augmented / plain
    );
}

/// Training samples per second over about two seconds.
fn throughput<B: Backend>(
    backend: B,
    batch: usize,
    train: &Dataset,
    test: &Dataset,
    augment: Vec<Augmentation>,
) -> f64 {
    let mut config = TrainConfig::new(
        100_000,
        batch,
        OptimizerSpec::Adam {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        },
        1,
    );
    config.augment = augment;
    let mut t = Trainer::new(backend, preset("cnn", &[3, 32, 32], 4).unwrap(), config, train, test).unwrap();
    ready(t.run(2)).unwrap();
    let (start, mut steps) = (now_ms(), 0);
    while now_ms() - start < 2_000.0 {
        ready(t.run(4)).unwrap();
        steps += 4;
    }
    // Every batch but an epoch's last is full; at most one short batch per epoch is ignored here.
    (steps * batch) as f64 / ((now_ms() - start) / 1e3)
}

/// Images per second through the augment op alone (parameters drawn on the host, one upload).
fn op_rate<B: Backend>(backend: &B, batch: usize, train: &Dataset, pipeline: &[Augmentation]) -> f64 {
    let x = backend.upload(&train.features[..batch * 3 * 32 * 32], &[batch, 3, 32, 32]);
    let mut rng = Rng::new(1);
    let (start, mut images) = (now_ms(), 0);
    while now_ms() - start < 1_000.0 {
        let params = draw(pipeline, batch, 32, 32, &mut rng);
        let out = backend.augment(&x, &backend.upload(&params, &[batch, AUGMENT_PARAMS]), images as u32);
        ready(backend.read(&backend.reshape(&out, &[batch * 3 * 32 * 32])))
            .unwrap()
            .len();
        images += batch;
    }
    images as f64 / ((now_ms() - start) / 1e3)
}
