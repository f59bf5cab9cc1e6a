//! The browser's WebGPU device.

use super::js_error;
use crate::backend::gpu::Gpu;
use wasm_bindgen::prelude::*;

/// The browser's WebGPU device, opened once by the worker.
#[wasm_bindgen]
pub struct GpuDevice {
    pub(super) inner: Gpu,
}

#[wasm_bindgen]
impl GpuDevice {
    /// Resolves to the device, or rejects with why there is none (no WebGPU, no adapter).
    pub async fn open() -> Result<GpuDevice, JsError> {
        Ok(GpuDevice {
            inner: Gpu::new().await.map_err(js_error)?,
        })
    }

    #[wasm_bindgen(getter)]
    pub fn adapter(&self) -> String {
        self.inner.adapter().to_string()
    }

    /// True for a software adapter (SwiftShader, lavapipe): usually slower than the CPU backend.
    #[wasm_bindgen(getter)]
    pub fn software(&self) -> bool {
        self.inner.is_software()
    }

    #[wasm_bindgen(getter)]
    pub fn lost(&self) -> bool {
        self.inner.is_lost()
    }

    /// Releases the device at once; a run on it then continues on the CPU.
    pub fn destroy(&self) {
        self.inner.destroy();
    }
}
