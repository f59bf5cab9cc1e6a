// In-place updates: parameters and optimiser state are read and written where they live.
@group(0) @binding(1) var<storage, read_write> p: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> s1: array<f32>;
@group(0) @binding(4) var<storage, read_write> s2: array<f32>;

// p += g. params: len
@compute @workgroup_size(256)
fn add_assign(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    if (i < pu(0u)) { p[i] += g[i]; }
}

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

// The same without a barrier (Kernels::BarrierFree). One thread: p[0] += Σ g, or Σ g² when
// `square` is set. params: len, square
@compute @workgroup_size(1)
fn add_sum_serial() {
    let square = pu(1u) != 0u;
    var acc = 0.0;
    for (var i = 0u; i < pu(0u); i++) { acc += select(g[i], g[i] * g[i], square); }
    p[0] += acc;
}

// Thread t: p[t] = Σ g² over its run of `per` values, a share for add_sum_serial to add up.
// params: len, per
@compute @workgroup_size(64)
fn square_sum_parts(@builtin(global_invocation_id) id: vec3<u32>) {
    let begin = id.x * pu(1u);
    let end = min(pu(0u), begin + pu(1u));
    if (begin >= end) { return; }
    var acc = 0.0;
    for (var i = begin; i < end; i++) { acc += g[i] * g[i]; }
    p[id.x] = acc;
}

// p -= lr·g. params: len, lr
@compute @workgroup_size(256)
fn sgd(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    if (i < pu(0u)) { p[i] -= pf(1u) * g[i]; }
}

// v = μv + g; p -= lr·v, or lr·(g + μv) with Nesterov. params: len, lr, μ, nesterov
@compute @workgroup_size(256)
fn momentum(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    if (i >= pu(0u)) { return; }
    let mu = pf(2u);
    let v = mu * s1[i] + g[i];
    s1[i] = v;
    p[i] -= pf(1u) * select(v, g[i] + mu * v, pu(3u) != 0u);
}

// Adam with bias correction (folded into α and ε̂, see `AdamStep::corrected`) and AdamW's
// decoupled weight decay λ. params: len, α, β1, β2, ε̂, lr·λ
@compute @workgroup_size(256)
fn adam(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    if (i >= pu(0u)) { return; }
    let b1 = pf(2u);
    let b2 = pf(3u);
    let gi = g[i];
    let m = b1 * s1[i] + (1.0 - b1) * gi;
    let v = b2 * s2[i] + (1.0 - b2) * gi * gi;
    s1[i] = m;
    s2[i] = v;
    let pi = p[i];
    p[i] = pi - pf(1u) * (m / (sqrt(v) + pf(4u))) - pf(5u) * pi;
}

// v = ρv + (1 − ρ)g²; p -= lr·g / (√v + ε). params: len, lr, ρ, ε
@compute @workgroup_size(256)
fn rmsprop(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    if (i >= pu(0u)) { return; }
    let rho = pf(2u);
    let v = rho * s1[i] + (1.0 - rho) * g[i] * g[i];
    s1[i] = v;
    p[i] -= pf(1u) * g[i] / (sqrt(v) + pf(3u));
}
