// Square sums of gradients (their global norm) into one value.
@group(0) @binding(1) var<storage, read_write> p: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read> g1: array<f32>;
@group(0) @binding(4) var<storage, read> g2: array<f32>;
@group(0) @binding(5) var<storage, read> g3: array<f32>;
@group(0) @binding(6) var<storage, read> g4: array<f32>;
@group(0) @binding(7) var<storage, read> g5: array<f32>;

var<workgroup> partial: array<f32, 256>;

// p[0] += Σ g²: one tensor's share of a gradient's squared norm. One workgroup. params: len
@compute @workgroup_size(256)
fn add_square_sum(@builtin(local_invocation_index) l: u32) {
    var acc = 0.0;
    for (var i = l; i < pu(0u); i += WG) { acc += g[i] * g[i]; }
    partial[l] = acc;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride >>= 1u) {
        if (l < stride) { partial[l] += partial[l + stride]; }
        workgroupBarrier();
    }
    if (l == 0u) { p[0] += partial[0]; }
}

// The same without a barrier (Kernels::BarrierFree), over up to six inputs g, g1…g5 at once (a
// dispatch costs about 0.1 ms on a software adapter, a whole gradient's short tensors far less).
// One thread: p[0] += Σ v of each input, or Σ v² where its flag is set.
// params: (len, square) of each input; an input left unused has len 0.
@compute @workgroup_size(1)
fn add_sum_serial() {
    var acc = 0.0;
    for (var i = 0u; i < pu(0u); i++) { let v = g[i]; acc += select(v, v * v, pu(1u) != 0u); }
    for (var i = 0u; i < pu(2u); i++) { let v = g1[i]; acc += select(v, v * v, pu(3u) != 0u); }
    for (var i = 0u; i < pu(4u); i++) { let v = g2[i]; acc += select(v, v * v, pu(5u) != 0u); }
    for (var i = 0u; i < pu(6u); i++) { let v = g3[i]; acc += select(v, v * v, pu(7u) != 0u); }
    for (var i = 0u; i < pu(8u); i++) { let v = g4[i]; acc += select(v, v * v, pu(9u) != 0u); }
    for (var i = 0u; i < pu(10u); i++) { let v = g5[i]; acc += select(v, v * v, pu(11u) != 0u); }
    p[0] += acc;
}

// Thread t of T: p[t] = Σ g[i]² over i = t, t + T, t + 2T, …, a share for add_sum_serial to add
// up. Interleaved, so that neighbouring invocations (the lanes of a software adapter's SIMD group)
// read neighbouring values; in workgroups of {GROUP} (REGISTER_GROUP), so that a few dozen
// threads still spread over every core of a software adapter.
// params: len, T
@compute @workgroup_size({GROUP})
fn square_sum_parts(@builtin(global_invocation_id) id: vec3<u32>) {
    let threads = pu(1u);
    if (id.x >= threads) { return; }
    var acc = 0.0;
    for (var i = id.x; i < pu(0u); i += threads) { acc += g[i] * g[i]; }
    p[id.x] = acc;
}
