//! The device, its pipelines, and how work reaches it.
//!
//! - Pipelines and their bind-group layouts are built once, when the context is made, from
//!   `kernels::files`: one layout per WGSL module, from its binding declarations, so that kernels
//!   of a file share bind groups.
//! - Bind groups are kept, keyed by layout and buffers: the parameter arena is bound with a dynamic
//!   offset, so a training step that reuses its pooled buffers reuses its bind groups too.
//! - Ops are recorded into one command encoder; nothing is submitted until a read (or an upload)
//!   needs it, so a whole training step, or many, goes to the queue as one submission.
//! - Each dispatch's small parameters (sizes, learning rate, batch indices) are appended to a host
//!   arena that is written to one storage buffer just before the submission that uses it.
//! - Tensor buffers come from a pool keyed by size and return to it when the last handle drops.
//!   Reusing a buffer is safe: the queue runs commands in the order they were recorded.

use super::kernels::{files, Kernel, Params};
use crate::error::Error;
use std::any::TypeId;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll, Waker};

/// Bytes of parameters one submission can carry before it is flushed early.
const ARENA_BYTES: usize = 1 << 20;
/// Bytes of the arena a kept bind group exposes to one dispatch (its parameters start at the
/// dynamic offset); a dispatch with more parameters gets a bind group of its own.
const PARAMS_WINDOW: usize = 1 << 16;
/// Kept bind groups before the cache is emptied (a long run with many shapes cannot grow it
/// without bound).
const MAX_BIND_GROUPS: usize = 4096;

pub const WORKGROUP: u32 = 256;

struct Pipeline {
    pipeline: wgpu::ComputePipeline,
    /// Index into `Context::layouts`: the layout of the kernel's WGSL module.
    layout: usize,
}

/// A WGSL module's bind-group layout: binding 0 (the parameters, dynamic offset) and its storage
/// buffers 1…N.
struct Layout {
    layout: wgpu::BindGroupLayout,
    buffers: usize,
}

/// The bindings 1…N a WGSL module declares, as whether each is writable (`var<storage, read_write>`).
fn declared_bindings(source: &str) -> Vec<bool> {
    let mut writable = Vec::new();
    for declaration in source.split("@group(0) @binding(").skip(1) {
        let (index, rest) = declaration.split_once(')').expect("a binding declaration closes");
        let index: usize = index.trim().parse().expect("a binding index is a number");
        if index == 0 {
            continue;
        }
        if writable.len() < index {
            writable.resize(index, false);
        }
        writable[index - 1] = rest.trim_start().starts_with("var<storage, read_write>");
    }
    writable
}

struct Arena {
    buffer: wgpu::Buffer,
    bytes: Vec<u8>,
}

pub struct Context {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub adapter: String,
    /// A software adapter (the CPU emulating a GPU), as browsers report with `isFallbackAdapter`.
    pub software: bool,
    /// Logical CPU cores: what a software adapter runs its workgroups on.
    pub cores: usize,
    kernels: HashMap<Kernel, Pipeline>,
    layouts: Vec<Layout>,
    spares: Vec<wgpu::Buffer>,
    bind_groups: RefCell<HashMap<(usize, Vec<wgpu::Buffer>), wgpu::BindGroup>>,
    /// Buffers and bind groups created so far: a training step past its first few creates none.
    created: Cell<Allocations>,
    encoder: RefCell<Option<wgpu::CommandEncoder>>,
    /// The compute pass open on `encoder`: consecutive dispatches share one pass (each dispatch is
    /// still its own synchronisation scope), and it closes before a copy, a clear or a submit.
    pass: RefCell<Option<wgpu::ComputePass<'static>>>,
    arena: RefCell<Arena>,
    pool: RefCell<HashMap<u64, Vec<wgpu::Buffer>>>,
    /// Set by tests: every acquired buffer is filled with NaN first (see [`Context::acquire`]).
    poison: Cell<bool>,
    /// Mappable read-back buffers, by size: a training run reads the same few sizes over and over.
    staging: RefCell<HashMap<u64, Vec<wgpu::Buffer>>>,
    align: usize,
    lost: Arc<AtomicBool>,
}

impl Context {
    /// Finds an adapter and builds every pipeline; fails with a message when there is no GPU.
    pub async fn new() -> Result<Rc<Self>, Error> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            })
            .await
            .map_err(|e| Error::NoGpu(format!("no GPU adapter: {e}")))?;
        let info = adapter.get_info();
        let available = adapter.limits();
        let required_limits = wgpu::Limits {
            max_storage_buffer_binding_size: available.max_storage_buffer_binding_size,
            max_buffer_size: available.max_buffer_size,
            ..wgpu::Limits::default()
        };
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("whetstone"),
                required_limits,
                ..Default::default()
            })
            .await
            .map_err(|e| Error::NoGpu(format!("the GPU adapter refused a device: {e}")))?;
        let lost = Arc::new(AtomicBool::new(false));
        let flag = lost.clone();
        device.set_device_lost_callback(move |_, _| flag.store(true, Ordering::SeqCst));

        let mut kernels = HashMap::new();
        let mut layouts = Vec::new();
        let modules = files()
            .into_iter()
            .flat_map(|(file, source, kernels)| source.modules(&kernels).into_iter().map(move |m| (file, m)));
        for (file, (source, entries)) in modules {
            let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(file),
                source: wgpu::ShaderSource::Wgsl(source.as_str().into()),
            });
            let storage = |binding: u32, read_only: bool, has_dynamic_offset: bool| wgpu::BindGroupLayoutEntry {
                binding,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Storage { read_only },
                    has_dynamic_offset,
                    min_binding_size: None,
                },
                count: None,
            };
            let writable = declared_bindings(&source);
            let entries_of_layout: Vec<_> = std::iter::once(storage(0, true, true))
                .chain(
                    writable
                        .iter()
                        .enumerate()
                        .map(|(i, &w)| storage(i as u32 + 1, !w, false)),
                )
                .collect();
            let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some(file),
                entries: &entries_of_layout,
            });
            let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some(file),
                bind_group_layouts: &[Some(&layout)],
                immediate_size: 0,
            });
            for kernel in entries {
                let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(kernel.entry()),
                    layout: Some(&pipeline_layout),
                    module: &module,
                    entry_point: Some(kernel.entry()),
                    compilation_options: Default::default(),
                    cache: None,
                });
                kernels.insert(
                    kernel,
                    Pipeline {
                        pipeline,
                        layout: layouts.len(),
                    },
                );
            }
            layouts.push(Layout {
                layout,
                buffers: writable.len(),
            });
        }
        // Bindings a kernel leaves unused in its file's layout are filled with these, one per
        // binding so that no two writable slots of a dispatch share a buffer.
        let spares = (0..layouts.iter().map(|l| l.buffers).max().unwrap_or(0))
            .map(|_| {
                device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("unused binding"),
                    size: 4,
                    usage: wgpu::BufferUsages::STORAGE,
                    mapped_at_creation: false,
                })
            })
            .collect();
        let arena = Arena {
            buffer: device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("parameters"),
                size: (ARENA_BYTES + PARAMS_WINDOW) as u64,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            }),
            bytes: Vec::with_capacity(ARENA_BYTES),
        };
        let software = info.device_type == wgpu::DeviceType::Cpu;
        let name = match (info.name.is_empty(), software) {
            (false, _) => info.name.clone(),
            (true, true) => "software WebGPU adapter".to_string(),
            (true, false) => "WebGPU adapter".to_string(),
        };
        Ok(Rc::new(Self {
            align: device.limits().min_storage_buffer_offset_alignment as usize,
            device,
            queue,
            adapter: name,
            software,
            cores: cpu_cores(),
            kernels,
            layouts,
            spares,
            bind_groups: RefCell::new(HashMap::new()),
            created: Cell::new(Allocations::default()),
            encoder: RefCell::new(None),
            pass: RefCell::new(None),
            arena: RefCell::new(arena),
            pool: RefCell::new(HashMap::new()),
            poison: Cell::new(false),
            staging: RefCell::new(HashMap::new()),
            lost,
        }))
    }

    pub fn is_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    pub fn destroy(&self) {
        self.pass.borrow_mut().take();
        self.encoder.borrow_mut().take();
        self.lost.store(true, Ordering::SeqCst);
        self.device.destroy();
    }

    /// The encoder, with no pass open on it.
    fn with_encoder<R>(&self, f: impl FnOnce(&mut wgpu::CommandEncoder) -> R) -> R {
        self.pass.borrow_mut().take();
        let mut slot = self.encoder.borrow_mut();
        let encoder = slot.get_or_insert_with(|| self.device.create_command_encoder(&Default::default()));
        f(encoder)
    }

    /// Submits everything recorded so far, with the parameters it reads.
    pub fn flush(&self) {
        self.pass.borrow_mut().take();
        let Some(encoder) = self.encoder.borrow_mut().take() else {
            return;
        };
        let mut arena = self.arena.borrow_mut();
        if !arena.bytes.is_empty() {
            self.queue.write_buffer(&arena.buffer, 0, &arena.bytes);
            arena.bytes.clear();
        }
        self.queue.submit([encoder.finish()]);
    }

    /// A buffer of at least `bytes` bytes (its contents are whatever it last held, or NaN after
    /// [`Context::poison`]).
    pub fn acquire(&self, bytes: u64) -> wgpu::Buffer {
        let size = bytes.max(4).next_multiple_of(4);
        let pooled = self.pool.borrow_mut().get_mut(&size).and_then(Vec::pop);
        let buffer = pooled.unwrap_or_else(|| {
            self.count(|a| a.buffers += 1);
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: None,
                size,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        });
        if self.poison.get() {
            self.upload(&buffer, &vec![f32::NAN; size as usize / 4]);
        }
        buffer
    }

    /// From now on every acquired buffer is filled with NaN before it is handed out, so that an op
    /// that leaves part of its output unwritten shows NaN there, never the right answer a recycled
    /// buffer happened to hold from an earlier op.
    pub fn poison(&self) {
        self.poison.set(true);
    }

    pub fn release(&self, buffer: wgpu::Buffer) {
        self.pool.borrow_mut().entry(buffer.size()).or_default().push(buffer);
    }

    /// Writes host data into a buffer, ordered after everything recorded before it.
    pub fn upload(&self, buffer: &wgpu::Buffer, data: &[f32]) {
        // queue.write_buffer runs before the commands of the next submission, so anything already
        // recorded must be submitted first.
        self.flush();
        if !data.is_empty() {
            self.queue.write_buffer(buffer, 0, bytemuck::cast_slice(data));
        }
    }

    pub fn clear(&self, buffer: &wgpu::Buffer) {
        self.with_encoder(|e| e.clear_buffer(buffer, 0, None));
    }

    /// Copies the first `bytes` of `from` to `to` at byte `at`: a transfer command, not a dispatch.
    pub fn copy(&self, from: &wgpu::Buffer, to: &wgpu::Buffer, at: u64, bytes: u64) {
        if bytes > 0 {
            self.with_encoder(|e| e.copy_buffer_to_buffer(from, 0, to, at, bytes));
        }
    }

    /// Records one dispatch of `kernel` with `params` at binding 0 and `buffers` at bindings 1…N,
    /// over `threads` threads of a 1-D launch (or `groups` workgroups when given).
    pub fn dispatch<P: Params>(&self, kernel: Kernel, params: &P, buffers: &[&wgpu::Buffer], launch: Launch) {
        self.dispatch_with(kernel, params, &[], buffers, launch);
    }

    /// [`Context::dispatch`] with `tail` after the parameters (a gather's row indices).
    pub fn dispatch_with<P: Params>(
        &self,
        kernel: Kernel,
        params: &P,
        tail: &[u32],
        buffers: &[&wgpu::Buffer],
        launch: Launch,
    ) {
        assert_eq!(
            kernel.params(),
            TypeId::of::<P>(),
            "{kernel:?} reads other parameters than {}",
            std::any::type_name::<P>()
        );
        let mut words = params.words();
        words.extend_from_slice(tail);
        let kernel = &self.kernels[&kernel];
        let param_bytes: &[u8] = bytemuck::cast_slice(&words);
        let len = param_bytes.len().max(4);
        let offset = {
            let needs = self.arena.borrow().bytes.len().next_multiple_of(self.align) + len;
            if needs > ARENA_BYTES {
                self.flush();
            }
            let mut arena = self.arena.borrow_mut();
            let offset = arena.bytes.len().next_multiple_of(self.align);
            arena.bytes.resize(offset, 0);
            arena.bytes.extend_from_slice(param_bytes);
            arena.bytes.resize(offset + len, 0);
            offset
        };
        let bind_group = self.bind_group(kernel.layout, buffers, len);
        let (x, y, z) = match launch {
            Launch::Threads(n) => {
                let (x, y) = spread(n.div_ceil(WORKGROUP));
                (x, y, 1)
            }
            Launch::Groups(x, y, z) => (x, y, z),
        };
        if x == 0 || y == 0 || z == 0 {
            return;
        }
        let mut pass = self.pass.borrow_mut();
        let pass = pass.get_or_insert_with(|| {
            let mut slot = self.encoder.borrow_mut();
            let encoder = slot.get_or_insert_with(|| self.device.create_command_encoder(&Default::default()));
            encoder
                .begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: None,
                    timestamp_writes: None,
                })
                .forget_lifetime()
        });
        pass.set_pipeline(&kernel.pipeline);
        pass.set_bind_group(0, &bind_group, &[offset as u32]);
        pass.dispatch_workgroups(x, y, z);
    }

    /// The bind group of `buffers` (then spares) under layout `layout`, with a window of the
    /// parameter arena at binding 0: kept and reused, unless the parameters outgrow the window.
    fn bind_group(&self, layout: usize, buffers: &[&wgpu::Buffer], params_len: usize) -> wgpu::BindGroup {
        let Layout {
            layout: bind_layout,
            buffers: slots,
        } = &self.layouts[layout];
        assert!(
            buffers.len() <= *slots,
            "{} buffers for a layout of {slots}",
            buffers.len()
        );
        let bound: Vec<wgpu::Buffer> = buffers
            .iter()
            .map(|&b| b.clone())
            .chain(self.spares[buffers.len()..*slots].iter().cloned())
            .collect();
        let window = params_len.max(PARAMS_WINDOW);
        let key = (layout, bound);
        if window == PARAMS_WINDOW {
            if let Some(group) = self.bind_groups.borrow().get(&key) {
                return group.clone();
            }
        }
        let arena = self.arena.borrow();
        let entries: Vec<_> = std::iter::once(wgpu::BindGroupEntry {
            binding: 0,
            resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer: &arena.buffer,
                offset: 0,
                size: wgpu::BufferSize::new(window as u64),
            }),
        })
        .chain(key.1.iter().enumerate().map(|(i, b)| wgpu::BindGroupEntry {
            binding: i as u32 + 1,
            resource: b.as_entire_binding(),
        }))
        .collect();
        let group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: bind_layout,
            entries: &entries,
        });
        self.count(|a| a.bind_groups += 1);
        if window == PARAMS_WINDOW {
            let mut kept = self.bind_groups.borrow_mut();
            if kept.len() >= MAX_BIND_GROUPS {
                kept.clear();
            }
            kept.insert(key, group.clone());
        }
        group
    }

    fn count(&self, f: impl FnOnce(&mut Allocations)) {
        let mut a = self.created.get();
        f(&mut a);
        self.created.set(a);
    }

    /// Buffers and bind groups created on the device so far.
    pub fn allocations(&self) -> Allocations {
        self.created.get()
    }

    /// Copies `bytes` bytes of `buffer` back to the host once the queue has run.
    pub async fn read(&self, buffer: &wgpu::Buffer, bytes: u64) -> Result<Vec<f32>, Error> {
        if bytes == 0 {
            return Ok(Vec::new());
        }
        let pooled = self.staging.borrow_mut().get_mut(&bytes).and_then(Vec::pop);
        let staging = pooled.unwrap_or_else(|| {
            self.count(|a| a.buffers += 1);
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("read-back"),
                size: bytes,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        });
        self.copy(buffer, &staging, 0, bytes);
        self.flush();
        let signal = MapSignal::default();
        let state = signal.state.clone();
        staging.slice(..).map_async(wgpu::MapMode::Read, move |result| {
            let mut s = state.lock().expect("map state");
            s.result = Some(result.is_ok());
            if let Some(w) = s.waker.take() {
                w.wake();
            }
        });
        #[cfg(not(target_arch = "wasm32"))]
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::NoGpu(format!("the GPU stopped answering: {e}")))?;
        if !signal.await || self.is_lost() {
            return Err(Error::NoGpu("the GPU device was lost while reading results".into()));
        }
        let view = staging
            .slice(..)
            .get_mapped_range()
            .map_err(|e| Error::NoGpu(format!("read-back failed: {e}")))?;
        let values = bytemuck::cast_slice::<u8, f32>(&view).to_vec();
        drop(view);
        staging.unmap();
        self.staging.borrow_mut().entry(bytes).or_default().push(staging);
        Ok(values)
    }
}

/// Logical CPU cores of this machine (of the browser's, in wasm); 1 when it will not say.
fn cpu_cores() -> usize {
    #[cfg(target_arch = "wasm32")]
    let cores = {
        let get = |target: &wasm_bindgen::JsValue, key: &str| js_sys::Reflect::get(target, &key.into()).ok();
        get(&js_sys::global(), "navigator")
            .and_then(|n| get(&n, "hardwareConcurrency"))
            .and_then(|c| c.as_f64())
            .map(|c| c as usize)
    };
    #[cfg(not(target_arch = "wasm32"))]
    let cores = std::thread::available_parallelism().ok().map(|n| n.get());
    cores.unwrap_or(1).max(1)
}

/// What a context has created on its device.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Allocations {
    pub buffers: usize,
    pub bind_groups: usize,
}

/// How many workgroups a dispatch launches.
#[derive(Clone, Copy, Debug)]
pub enum Launch {
    /// One thread per element of a 1-D range, in workgroups of [`WORKGROUP`].
    Threads(u32),
    /// An explicit grid of workgroups.
    Groups(u32, u32, u32),
}

/// Spreads `groups` workgroups over x and y so that neither exceeds the 65,535 limit.
pub(super) fn spread(groups: u32) -> (u32, u32) {
    let x = groups.min(65_535);
    (x, if x == 0 { 0 } else { groups.div_ceil(x) })
}

#[derive(Default)]
struct MapState {
    result: Option<bool>,
    waker: Option<Waker>,
}

/// Resolves when a buffer's `map_async` callback has run, to whether the mapping succeeded.
#[derive(Default)]
struct MapSignal {
    state: Arc<Mutex<MapState>>,
}

impl Future for MapSignal {
    type Output = bool;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<bool> {
        let mut s = self.state.lock().expect("map state");
        match s.result {
            Some(ok) => Poll::Ready(ok),
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
