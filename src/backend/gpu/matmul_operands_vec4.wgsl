// Operand readers of matmul_registers.wgsl when m, k, n and the k per split are multiples of 4:
// every buffer is read and written as vec4s, one load or store per four values.
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> c: array<vec4<f32>>;

fn a_along_k(row: u32, q: u32, k: u32, k_end: u32) -> vec4<f32> {
    return a[(row * k + q) / 4u];
}

fn a_along_m(q: u32, r0: u32, m: u32, k_end: u32) -> vec4<f32> {
    return a[(q * m + min(r0, m - 4u)) / 4u];
}

fn b_along_n(q: u32, cols: vec4<u32>, n: u32, k_end: u32) -> vec4<f32> {
    return b[(q * n + cols.x) / 4u];
}

fn b_along_k(col: u32, q: u32, k: u32, k_end: u32) -> vec4<f32> {
    return b[(col * k + q) / 4u];
}

fn store_row(i: u32, j0: u32, row: vec4<f32>, base: u32, m: u32, n: u32, flags: u32) {
    if (i >= m || j0 >= n) { return; }
    var v = row;
    if ((flags & 12u) == 4u) { v += bias[j0 / 4u]; }
    c[(base + i * n + j0) / 4u] = v;
}
