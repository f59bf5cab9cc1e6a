//! The parity cases of `tests/parity/` on the native GPU adapter (lavapipe where there is no GPU).
#![cfg(not(target_arch = "wasm32"))]

#[macro_use]
mod parity;

use whetstone::backend::gpu::test_device;
use whetstone::backend::ready;
use whetstone::backend::Backend;

macro_rules! native {
    ($($case:ident),* $(,)?) => {$(
        #[test]
        fn $case() {
            let Some(gpu) = test_device() else { return };
            gpu.poison_new_buffers();
            ready(parity::$case(&gpu));
        }
    )*};
}

parity_cases!(native);

#[test]
fn reports_its_adapter() {
    let Some(gpu) = test_device() else { return };
    eprintln!("GPU parity tests ran on: {}", gpu.name());
    assert!(gpu.name().starts_with("GPU ("));
}
