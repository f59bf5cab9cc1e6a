// c = op(a)·op(b) [+ bias[j] on every row], the same contract and parameters as matmul.wgsl
// (m, k, n, flags, k per split; flag 8 writes this split's partial product to c[z·m·n..]).
//
// No workgroup memory and no barrier: each thread keeps a {ROWS}×{COLS} block of c in vec4
// accumulators and reads its operands straight from storage (a register-block template: see
// `register_block` in context.rs). On a software adapter (SwiftShader, lavapipe) a
// barrier suspends every invocation group of the workgroup, which costs more than the loads it
// saves; this kernel is several times faster there than the tiled one. TA and TB are fixed per
// pipeline, so the transposes cost nothing in the inner loop.
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

const TA: bool = {TA};
const TB: bool = {TB};

fn a_at(i: u32, q: u32, m: u32, k: u32) -> f32 {
    if (TA) { return a[q * m + i]; }
    return a[i * k + q];
}

fn b_at(q: u32, j: u32, k: u32, n: u32) -> f32 {
    if (TB) { return b[j * k + q]; }
    return b[q * n + j];
}

fn store_row(i: u32, j0: u32, row: vec4<f32>, base: u32, m: u32, n: u32, flags: u32) {
    if (i >= m || j0 >= n) { return; }
    var v = row;
    if ((flags & 12u) == 4u) {
        let last = n - 1u;
        v += vec4<f32>(bias[j0], bias[min(j0 + 1u, last)], bias[min(j0 + 2u, last)], bias[min(j0 + 3u, last)]);
    }
    let at = base + i * n + j0;
    c[at] = v.x;
    if (j0 + 3u < n) {
        c[at + 1u] = v.y;
        c[at + 2u] = v.z;
        c[at + 3u] = v.w;
        return;
    }
    if (j0 + 1u < n) { c[at + 1u] = v.y; }
    if (j0 + 2u < n) { c[at + 2u] = v.z; }
}

@compute @workgroup_size(64)
fn {NAME}(@builtin(global_invocation_id) g: vec3<u32>) {
    let m = pu(0u);
    let k = pu(1u);
    let n = pu(2u);
    let flags = pu(3u);
    let k_begin = g.z * pu(4u);
    let k_end = min(k, k_begin + pu(4u));
    let i0 = g.y * {ROWS}u;
    let j0 = g.x * {COLS}u;
    if (i0 >= m || j0 >= n) { return; }
    // Rows and columns past the edge read the last one and are never written.
    let row#r = min(i0 + #ru, m - 1u);
    let col#v = min(vec4<u32>(j0 + 4u * #vu) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(n - 1u));
    var acc#r_#v = vec4<f32>(0.0);
    for (var q = k_begin; q < k_end; q++) {
        let b#v = vec4<f32>(b_at(q, col#v.x, k, n), b_at(q, col#v.y, k, n), b_at(q, col#v.z, k, n), b_at(q, col#v.w, k, n));
        let a#r = a_at(row#r, q, m, k);
        acc#r_#v += a#r * b#v;
    }
    let base = select(0u, g.z * m * n, (flags & 8u) != 0u);
    store_row(i0 + #ru, j0 + 4u * #vu, acc#r_#v, base, m, n, flags);
}
