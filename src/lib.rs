//! Whetstone's core: a small deep-learning engine (backends, layers, optimisers, training loop,
//! data) that runs natively and in the browser through WebAssembly.

pub mod augment;
pub mod backend;
pub mod catalogue;
pub mod clock;
pub mod data;
pub mod ensemble;
pub mod error;
pub mod features;
pub mod metrics;
pub mod model_file;
pub mod monitor;
pub mod nn;
pub mod onnx;
pub mod optim;
pub mod pytorch;
pub mod rng;
#[doc(hidden)]
pub mod testing;
pub mod train;
pub mod tune;
pub mod zip;

#[cfg(target_arch = "wasm32")]
mod wasm;

pub use error::Error;
