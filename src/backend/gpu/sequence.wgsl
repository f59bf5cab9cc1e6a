// Ops over the steps of sequences [n, steps, dim]: each writes `out` from `a` (and `b`, the
// padding mask [n, steps] when `masked`), outputs first.
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;

// Step t of sample s's share of its mean: 1/steps, or its mask value over the sample's marked
// steps (none marked: 0).
fn step_weight(s: u32, t: u32, p: StepsParams) -> f32 {
    if (p.masked == 0u) { return 1.0 / f32(p.steps); }
    var count = 0.0;
    for (var u = 0u; u < p.steps; u++) { count += b[s * p.steps + u]; }
    return b[s * p.steps + t] / max(count, 1.0);
}

// out [n, dim]: the (masked) mean over the steps of a [n, steps, dim] (StepsParams).
@compute @workgroup_size(256)
fn mean_steps(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let p = steps_params();
    if (i >= p.n * p.dim) { return; }
    let s = i / p.dim;
    let d = i % p.dim;
    var sum = 0.0;
    for (var t = 0u; t < p.steps; t++) {
        sum += step_weight(s, t, p) * a[(s * p.steps + t) * p.dim + d];
    }
    out[i] = sum;
}

// out [n, steps, dim]: the gradient of mean_steps from dy a [n, dim] (StepsParams).
@compute @workgroup_size(256)
fn mean_steps_backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let p = steps_params();
    if (i >= p.n * p.steps * p.dim) { return; }
    let s = i / (p.steps * p.dim);
    let t = (i / p.dim) % p.steps;
    out[i] = step_weight(s, t, p) * a[s * p.dim + i % p.dim];
}
