// Operand readers of matmul_registers.wgsl for any m, k and n: four scalar loads per vec4. Terms
// at or past k_end read as 0 (both operands, so that an infinity there cannot make a NaN).
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

fn inside(v: vec4<f32>, q: u32, k_end: u32) -> vec4<f32> {
    return select(vec4<f32>(0.0), v, vec4<u32>(q) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(k_end));
}

// a [m, k]: a[row, q..q+3].
fn a_along_k(row: u32, q: u32, k: u32, k_end: u32) -> vec4<f32> {
    let at = row * k;
    let last = k_end - 1u;
    return inside(vec4<f32>(a[at + q], a[at + min(q + 1u, last)], a[at + min(q + 2u, last)], a[at + min(q + 3u, last)]), q, k_end);
}

// a [k, m], transposed: a[q, r0..r0+3] (rows past m read the last one).
fn a_along_m(q: u32, r0: u32, m: u32, k_end: u32) -> vec4<f32> {
    if (q >= k_end) { return vec4<f32>(0.0); }
    let at = q * m;
    let last = m - 1u;
    return vec4<f32>(a[at + min(r0, last)], a[at + min(r0 + 1u, last)], a[at + min(r0 + 2u, last)], a[at + min(r0 + 3u, last)]);
}

// b [k, n]: b[q, cols].
fn b_along_n(q: u32, cols: vec4<u32>, n: u32, k_end: u32) -> vec4<f32> {
    if (q >= k_end) { return vec4<f32>(0.0); }
    let at = q * n;
    return vec4<f32>(b[at + cols.x], b[at + cols.y], b[at + cols.z], b[at + cols.w]);
}

// b [n, k], transposed: b[col, q..q+3].
fn b_along_k(col: u32, q: u32, k: u32, k_end: u32) -> vec4<f32> {
    let at = col * k;
    let last = k_end - 1u;
    return inside(vec4<f32>(b[at + q], b[at + min(q + 1u, last)], b[at + min(q + 2u, last)], b[at + min(q + 3u, last)]), q, k_end);
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
