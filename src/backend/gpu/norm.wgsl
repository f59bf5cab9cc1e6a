// Batch normalisation over x [n, c, inner]: per-channel moments, the normalisation, and its
// gradients (NormParams). Layer normalisation (below) reads its [rows, d] as n = rows, c = d,
// inner = 1.
//
// Every kernel here binds all six buffers (`bind_all`), so that they share one layout: the host
// passes an input again, or a scratch buffer, where a kernel has no use for a slot.
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> s1: array<f32>;
@group(0) @binding(4) var<storage, read> s2: array<f32>;
@group(0) @binding(5) var<storage, read_write> out1: array<f32>;
@group(0) @binding(6) var<storage, read_write> out2: array<f32>;

var<workgroup> part1: array<f32, 256>;
var<workgroup> part2: array<f32, 256>;

fn bind_all() {
    _ = a[0]; _ = b[0]; _ = s1[0]; _ = s2[0]; _ = out1[0]; _ = out2[0];
}

fn element(e: u32, ch: u32) -> u32 {
    let p = norm_params();
    return ((e / p.inner) * p.c + ch) * p.inner + e % p.inner;
}

fn reduce_pair(l: u32) {
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride >>= 1u) {
        if (l < stride) { part1[l] += part1[l + stride]; part2[l] += part2[l + stride]; }
        workgroupBarrier();
    }
}

// Mean (out1) and biased variance (out2) of channel wg.x of x (a). One workgroup per channel.
@compute @workgroup_size(256)
fn channel_moments(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    bind_all();
    let p = norm_params();
    let m = p.n * p.inner;
    let ch = wg.x;
    var sum = 0.0;
    for (var e = l; e < m; e += WG) { sum += a[element(e, ch)]; }
    part1[l] = sum;
    part2[l] = 0.0;
    reduce_pair(l);
    let mean = part1[0] / f32(m);
    workgroupBarrier();
    var sq = 0.0;
    for (var e = l; e < m; e += WG) { let d = a[element(e, ch)] - mean; sq += d * d; }
    part1[l] = 0.0;
    part2[l] = sq;
    reduce_pair(l);
    if (l == 0u) { out1[ch] = mean; out2[ch] = part2[0] / f32(m); }
}

// γ·(x − mean)/√(var + ε) + β with x = a, mean = b, var = s1, (γ, β) = s2 (γ then β), into out1.
@compute @workgroup_size(256)
fn batch_norm(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    bind_all();
    let i = flat_index(wg, groups, l);
    let p = norm_params();
    let c = p.c;
    if (i >= p.n * c * p.inner) { return; }
    let ch = (i / p.inner) % c;
    out1[i] = s2[ch] * (a[i] - b[ch]) / sqrt(s1[ch] + p.eps) + s2[c + ch];
}

// Σ dy·x̂ (out1 = dγ) and Σ dy (out2 = dβ) for channel wg.x, dy = a, x = b, (mean, var) = s1.
@compute @workgroup_size(256)
fn batch_norm_param_grads(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    bind_all();
    let p = norm_params();
    let m = p.n * p.inner;
    let c = p.c;
    let ch = wg.x;
    let inv_std = 1.0 / sqrt(s1[c + ch] + p.eps);
    var dg = 0.0;
    var db = 0.0;
    for (var e = l; e < m; e += WG) {
        let k = element(e, ch);
        dg += a[k] * (b[k] - s1[ch]) * inv_std;
        db += a[k];
    }
    part1[l] = dg;
    part2[l] = db;
    reduce_pair(l);
    if (l == 0u) { out1[ch] = part1[0]; out2[ch] = part2[0]; }
}

// dx = γ/σ·(dy − dβ/m − x̂·dγ/m) with dy = a, x = b, (mean, var) = s1, (γ, dγ, dβ) = s2, into out1.
@compute @workgroup_size(256)
fn batch_norm_input_grad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    bind_all();
    let i = flat_index(wg, groups, l);
    let p = norm_params();
    let c = p.c;
    let m = f32(p.n * p.inner);
    if (i >= p.n * c * p.inner) { return; }
    let ch = (i / p.inner) % c;
    let inv_std = 1.0 / sqrt(s1[c + ch] + p.eps);
    let x_hat = (b[i] - s1[ch]) * inv_std;
    out1[i] = s2[ch] * inv_std * (a[i] - s2[2u * c + ch] / m - x_hat * s2[c + ch] / m);
}

// Layer normalisation over the rows of x [rows, d]: NormParams with n = rows, c = d, inner = 1.
// One workgroup per row (row_of) or per column, spread over x and y.
fn row_of(wg: vec3<u32>, groups: vec3<u32>) -> u32 {
    return wg.y * groups.x + wg.x;
}

// y = γ·(x − mean)·r + β of row wg with x = a, (γ, β) = b (γ then β), into out1; the row's mean and
// r = 1/√(var + ε) into out2 [rows, 2].
@compute @workgroup_size(256)
fn layer_norm(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    bind_all();
    let row = row_of(wg, groups);
    let p = norm_params();
    let d = p.c;
    if (row >= p.n) { return; }
    let start = row * d;
    var sum = 0.0;
    for (var j = l; j < d; j += WG) { sum += a[start + j]; }
    part1[l] = sum;
    part2[l] = 0.0;
    reduce_pair(l);
    let mean = part1[0] / f32(d);
    workgroupBarrier();
    var sq = 0.0;
    for (var j = l; j < d; j += WG) { let v = a[start + j] - mean; sq += v * v; }
    part1[l] = 0.0;
    part2[l] = sq;
    reduce_pair(l);
    let r = 1.0 / sqrt(part2[0] / f32(d) + p.eps);
    for (var j = l; j < d; j += WG) { out1[start + j] = b[j] * (a[start + j] - mean) * r + b[d + j]; }
    if (l == 0u) { out2[2u * row] = mean; out2[2u * row + 1u] = r; }
}

// Σ over rows of dy·x̂ (out1 = dγ) and of dy (out2 = dβ) for column wg, with dy = a, x = b and the
// row statistics s1.
@compute @workgroup_size(256)
fn layer_norm_param_grads(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    bind_all();
    let col = row_of(wg, groups);
    let p = norm_params();
    let rows = p.n;
    let d = p.c;
    if (col >= d) { return; }
    var dg = 0.0;
    var db = 0.0;
    for (var r = l; r < rows; r += WG) {
        let k = r * d + col;
        dg += a[k] * (b[k] - s1[2u * r]) * s1[2u * r + 1u];
        db += a[k];
    }
    part1[l] = dg;
    part2[l] = db;
    reduce_pair(l);
    if (l == 0u) { out1[col] = part1[0]; out2[col] = part2[0]; }
}

// dx = r·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·γ for row wg: dy = a, x = b, the row statistics
// s1, γ = s2; into out1.
@compute @workgroup_size(256)
fn layer_norm_input_grad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    bind_all();
    let row = row_of(wg, groups);
    let p = norm_params();
    let d = p.c;
    if (row >= p.n) { return; }
    let start = row * d;
    let mean = s1[2u * row];
    let r = s1[2u * row + 1u];
    var sg = 0.0;
    var sgx = 0.0;
    for (var j = l; j < d; j += WG) {
        let g = a[start + j] * s2[j];
        sg += g;
        sgx += g * (b[start + j] - mean) * r;
    }
    part1[l] = sg;
    part2[l] = sgx;
    reduce_pair(l);
    let mean_g = part1[0] / f32(d);
    let mean_gx = part2[0] / f32(d);
    for (var j = l; j < d; j += WG) {
        let x_hat = (b[start + j] - mean) * r;
        out1[start + j] = r * (a[start + j] * s2[j] - mean_g - x_hat * mean_gx);
    }
}
