// Whole-tensor moves, products and sums: each writes `out` from `a` (and `b`), outputs first so
// that a kernel with fewer inputs leaves the last bindings unused.
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;

var<workgroup> partial: array<f32, 256>;

// a ⊙ b (LenParams).
@compute @workgroup_size(256)
fn mul(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    if (i < len_params().len) { out[i] = a[i] * b[i]; }
}

// a [n, o, q] + the bias b[o] (PlanesParams).
@compute @workgroup_size(256)
fn add_bias(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let p = planes_params();
    if (i < p.n * p.o * p.q) { out[i] = a[i] + b[(i / p.q) % p.o]; }
}

// Per-channel sum of a [n, o, q] into out[o]; one workgroup per channel (PlanesParams).
@compute @workgroup_size(256)
fn channel_sum(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let p = planes_params();
    let ch = wg.x;
    var acc = 0.0;
    for (var e = l; e < p.n * p.q; e += WG) {
        acc += a[((e / p.q) * p.o + ch) * p.q + e % p.q];
    }
    partial[l] = acc;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride >>= 1u) {
        if (l < stride) { partial[l] += partial[l + stride]; }
        workgroupBarrier();
    }
    if (l == 0u) { out[ch] = partial[0]; }
}

// The same sum by one thread per channel walking its elements, for adapters where a barrier costs
// more than the walk (Kernels::BarrierFree).
@compute @workgroup_size(256)
fn channel_sum_serial(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let ch = flat_index(wg, groups, l);
    let p = planes_params();
    if (ch >= p.o) { return; }
    var acc = 0.0;
    for (var img = 0u; img < p.n; img++) {
        let base = (img * p.o + ch) * p.q;
        for (var t = 0u; t < p.q; t++) { acc += a[base + t]; }
    }
    out[ch] = acc;
}

// The sum of a's len values into out[0]; one workgroup (LenParams).
@compute @workgroup_size(256)
fn sum_all(@builtin(local_invocation_index) l: u32) {
    let len = len_params().len;
    var acc = 0.0;
    for (var i = l; i < len; i += WG) { acc += a[i]; }
    partial[l] = acc;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride >>= 1u) {
        if (l < stride) { partial[l] += partial[l + stride]; }
        workgroupBarrier();
    }
    if (l == 0u) { out[0] = partial[0]; }
}

// Rows of a, width values each, into out (GatherParams); the source row of each output row follows
// the struct in the arena.
@compute @workgroup_size(256)
fn gather_rows(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let p = gather_params();
    if (i < p.len) { out[i] = a[params[gather_params_words + i / p.width] * p.width + i % p.width]; }
}

// a [a, b, inner] → out [b, a, inner] (SwapParams).
@compute @workgroup_size(256)
fn swap_leading(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let p = swap_params();
    if (i >= p.a * p.b * p.inner) { return; }
    let row = i / p.inner;
    out[i] = a[((row % p.a) * p.b + row / p.a) * p.inner + i % p.inner];
}

// Inverted dropout mask: 1/keep where the counter-based uniform of (seed, i) is below keep, else 0;
// the same draw as rng::counter_uniform (MaskParams).
@compute @workgroup_size(256)
fn dropout_mask(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let p = mask_params();
    if (i >= p.len) { return; }
    out[i] = select(0.0, 1.0 / p.keep, counter_uniform(p.seed, i) < p.keep);
}

// Row-wise softmax of a [rows, k]; one thread per row (RowsParams).
@compute @workgroup_size(256)
fn softmax(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let r = flat_index(wg, groups, l);
    let p = rows_params();
    let k = p.k;
    if (r >= p.rows) { return; }
    var mx = a[r * k];
    for (var j = 1u; j < k; j++) { mx = max(mx, a[r * k + j]); }
    var sum = 0.0;
    for (var j = 0u; j < k; j++) { sum += exp(a[r * k + j] - mx); }
    for (var j = 0u; j < k; j++) { out[r * k + j] = exp(a[r * k + j] - mx) / sum; }
}
