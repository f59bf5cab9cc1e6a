// What happens to a gradient before the optimiser takes it: the penalties' gradient, the global
// norm's square sums and the rescaling to a maximum norm, clamping; and the blend of running
// statistics. Each writes `out` (or adds to out[0]) from `g` and, where it takes more, `g1`…`g5`.
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read> g1: array<f32>;
@group(0) @binding(4) var<storage, read> g2: array<f32>;
@group(0) @binding(5) var<storage, read> g3: array<f32>;
@group(0) @binding(6) var<storage, read> g4: array<f32>;
@group(0) @binding(7) var<storage, read> g5: array<f32>;

var<workgroup> partial: array<f32, 256>;

// g + l1·sign(w) + l2·w with the weights w = g1 (PenaltyParams).
@compute @workgroup_size(256)
fn add_penalty(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let p = penalty_params();
    if (i < p.len) { out[i] = g[i] + p.l1 * sign(g1[i]) + p.l2 * g1[i]; }
}

// out[0] += Σ g²: one tensor's share of a gradient's squared norm. One workgroup (LenParams).
@compute @workgroup_size(256)
fn add_square_sum(@builtin(local_invocation_index) l: u32) {
    let len = len_params().len;
    var acc = 0.0;
    for (var i = l; i < len; i += WG) { acc += g[i] * g[i]; }
    partial[l] = acc;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride >>= 1u) {
        if (l < stride) { partial[l] += partial[l + stride]; }
        workgroupBarrier();
    }
    if (l == 0u) { out[0] += partial[0]; }
}

// The same without a barrier (Kernels::BarrierFree), over up to six inputs g, g1…g5 at once (a
// dispatch costs about 0.1 ms on a software adapter, a whole gradient's short tensors far less).
// One thread: out[0] += Σ v of each input, or Σ v² where it is squared (SumsParams; an input left
// unused has length 0).
@compute @workgroup_size(1)
fn add_sum_serial() {
    let p = sums_params();
    var acc = 0.0;
    for (var i = 0u; i < p.len0; i++) { let v = g[i]; acc += select(v, v * v, p.square0 != 0u); }
    for (var i = 0u; i < p.len1; i++) { let v = g1[i]; acc += select(v, v * v, p.square1 != 0u); }
    for (var i = 0u; i < p.len2; i++) { let v = g2[i]; acc += select(v, v * v, p.square2 != 0u); }
    for (var i = 0u; i < p.len3; i++) { let v = g3[i]; acc += select(v, v * v, p.square3 != 0u); }
    for (var i = 0u; i < p.len4; i++) { let v = g4[i]; acc += select(v, v * v, p.square4 != 0u); }
    for (var i = 0u; i < p.len5; i++) { let v = g5[i]; acc += select(v, v * v, p.square5 != 0u); }
    out[0] += acc;
}

// Thread t of T: out[t] = Σ g[i]² over i = t, t + T, t + 2T, …, a share for add_sum_serial to add
// up. Interleaved, so that neighbouring invocations (the lanes of a software adapter's SIMD group)
// read neighbouring values; in workgroups of {GROUP} (REGISTER_GROUP), so that a few dozen
// threads still spread over every core of a software adapter (SharesParams).
@compute @workgroup_size({GROUP})
fn square_sum_parts(@builtin(global_invocation_id) id: vec3<u32>) {
    let p = shares_params();
    if (id.x >= p.threads) { return; }
    var acc = 0.0;
    for (var i = id.x; i < p.len; i += p.threads) { acc += g[i] * g[i]; }
    out[id.x] = acc;
}

// g · min(1, max_norm / √g1[0]), g1[0] the gradient's global squared norm (ScaleParams: the
// maximum norm).
@compute @workgroup_size(256)
fn scale_to_norm(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let p = scale_params();
    if (i < p.len) { out[i] = g[i] * min(1.0, p.value / sqrt(g1[0])); }
}

// g clamped to ±limit (ScaleParams: the limit).
@compute @workgroup_size(256)
fn clamp_values(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let p = scale_params();
    if (i < p.len) { out[i] = clamp(g[i], -p.value, p.value); }
}

// g + t·(g1 − g): running statistics (ScaleParams: t).
@compute @workgroup_size(256)
fn lerp(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let p = scale_params();
    if (i < p.len) { out[i] = g[i] + p.value * (g1[i] - g[i]); }
}
