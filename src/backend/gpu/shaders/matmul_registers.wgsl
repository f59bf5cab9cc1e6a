// c = op(a)·op(b) [+ bias[j] on every row], the same contract and parameters as matmul.wgsl
// (m, k, n, flags, k per split; flag 8 writes this split's partial product to c[z·m·n..]).
//
// No workgroup memory and no barrier: each thread keeps a 4×4 block of c in four vec4 accumulators
// and reads its operands straight from storage. On a software adapter (SwiftShader, lavapipe) a
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

fn store_row(i: u32, j0: u32, row: vec4<f32>, base: u32) {
    let m = pu(0u);
    let n = pu(2u);
    let flags = pu(3u);
    if (i >= m) { return; }
    for (var s = 0u; s < 4u; s++) {
        let j = j0 + s;
        if (j < n) {
            var v = row[s];
            if ((flags & 12u) == 4u) { v += bias[j]; }
            c[base + i * n + j] = v;
        }
    }
}

@compute @workgroup_size(64)
fn {NAME}(@builtin(global_invocation_id) g: vec3<u32>) {
    let m = pu(0u);
    let k = pu(1u);
    let n = pu(2u);
    let k_begin = g.z * pu(4u);
    let k_end = min(k, k_begin + pu(4u));
    let i0 = g.y * 4u;
    let j0 = g.x * 4u;
    if (i0 >= m || j0 >= n) { return; }
    // Rows and columns past the edge read the last one and are never written.
    let i = min(vec4<u32>(i0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(m - 1u));
    let j = min(vec4<u32>(j0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(n - 1u));
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    for (var q = k_begin; q < k_end; q++) {
        let bv = vec4<f32>(b_at(q, j.x, k, n), b_at(q, j.y, k, n), b_at(q, j.z, k, n), b_at(q, j.w, k, n));
        acc0 += a_at(i.x, q, m, k) * bv;
        acc1 += a_at(i.y, q, m, k) * bv;
        acc2 += a_at(i.z, q, m, k) * bv;
        acc3 += a_at(i.w, q, m, k) * bv;
    }
    let base = select(0u, g.z * m * n, (pu(3u) & 8u) != 0u);
    store_row(i0, j0, acc0, base);
    store_row(i0 + 1u, j0, acc1, base);
    store_row(i0 + 2u, j0, acc2, base);
    store_row(i0 + 3u, j0, acc3, base);
}
