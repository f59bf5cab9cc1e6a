//! The parity cases of `tests/parity/` on the native GPU adapter (lavapipe where there is no GPU).
#![cfg(not(target_arch = "wasm32"))]

mod parity;

use whetstone::backend::gpu::test_device;
use whetstone::backend::ready;
use whetstone::backend::Backend;

macro_rules! native {
    ($($case:ident),* $(,)?) => {$(
        #[test]
        fn $case() {
            let Some(gpu) = test_device() else { return };
            ready(parity::$case(&gpu));
        }
    )*};
}

native!(
    matmul_all_transposes_and_awkward_sizes,
    bias_and_its_gradient,
    conv2d_forward_and_both_backwards,
    pooling_forward_and_backward,
    activations_and_element_wise_ops,
    gather_reshape_zeros_and_read_back,
    softmax_and_cross_entropy,
    optimiser_updates,
);

#[test]
fn reports_its_adapter() {
    let Some(gpu) = test_device() else { return };
    eprintln!("GPU parity tests ran on: {}", gpu.name());
    assert!(gpu.name().starts_with("GPU ("));
}
