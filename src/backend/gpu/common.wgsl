// Prepended to every kernel, before the parameter structs (`kernels.rs`). Binding 0 is this
// dispatch's slice of the parameter arena: u32 words, with f32 values stored as their bits; a
// kernel reads it through its struct's loader (`pool_params()`), never by position.
@group(0) @binding(0) var<storage, read> params: array<u32>;

const WG: u32 = 256u;

// Flat thread index of a 1-D launch spread over x and y (x is capped at 65535 workgroups).
fn flat_index(wg: vec3<u32>, groups: vec3<u32>, local: u32) -> u32 {
    return (wg.y * groups.x + wg.x) * WG + local;
}

// PCG output hash; the same as rng::pcg_hash on the CPU.
fn pcg_hash(input: u32) -> u32 {
    let state = input * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

// A uniform number in [0, 1) from (seed, i) alone; the same as rng::counter_uniform on the CPU.
fn counter_uniform(seed: u32, i: u32) -> f32 {
    return f32(pcg_hash(i ^ pcg_hash(seed)) >> 8u) / 16777216.0;
}

// Windows covering input coordinate v along an axis: o with o·s ≤ v < o·s + size, o < extent.
fn first_window(v: u32, size: u32, s: u32) -> u32 {
    return select(0u, (v - size + 1u + s - 1u) / s, v + 1u > size);
}
