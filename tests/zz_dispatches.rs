mod common;
use whetstone::backend::gpu::{test_device, Kernels};
use whetstone::backend::ready;
use whetstone::nn::preset;
use whetstone::optim::OptimizerSpec;
use whetstone::train::{TrainConfig, Trainer};
#[test]
fn count() {
    let gpu = test_device().unwrap().with_kernels(Kernels::BarrierFree);
    let digits = common::digits();
    let (train, val) = digits.split(500, 3).unwrap();
    let model = std::env::var("MODEL").unwrap_or("mlp".into());
    let config = TrainConfig::new(1, 32, OptimizerSpec::Adam { lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 }, 5);
    let mut trainer = Trainer::new(gpu.clone(), preset(&model, &[1, 28, 28], 10).unwrap(), config, &train, &val).unwrap();
    for _ in 0..3 {
        ready(trainer.run(1)).unwrap();
    }
    eprintln!("=== START");
    ready(trainer.run(1)).unwrap();
    eprintln!("=== END");
}
