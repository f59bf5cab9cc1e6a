// y [n, o, oh, ow] = conv(x, w) + bias, reading the image where im2col would have copied it from
// (Kernels::BarrierFree): no column matrix is written or read back, and no barrier is used. Each
// thread keeps a block of {ROWS} filters × {COLS} output positions in vec4 accumulators, as
// matmul_registers.wgsl does (a register-block template).
// ConvParams: flags 4 adds the bias.
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

// a is x, b the kernel [o, c·kh·kw]. Threads walk the blocks
// position-major: consecutive output positions (image, row, column flattened), then filters.
@compute @workgroup_size({GROUP})
fn conv_forward_registers(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let cp = conv_params();
    let n = cp.n; let c = cp.c; let h = cp.h; let w = cp.w;
    let kh = cp.kh; let kw = cp.kw; let oh = cp.oh; let ow = cp.ow;
    let s = cp.stride; let p = i32(cp.padding); let o = cp.filters;
    let plane = oh * ow;
    let columns = n * plane;
    let taps = c * kh * kw;
    let block = (wg.y * groups.x + wg.x) * {GROUP}u + l;
    let blocks_across = (columns + {COLS}u - 1u) / {COLS}u;
    let j0 = (block % blocks_across) * {COLS}u;
    let f0 = (block / blocks_across) * {ROWS}u;
    if (f0 >= o) { return; }
    // Positions and filters past the edge read the last one and are never written.
    let pos#v = min(vec4<u32>(j0 + 4u * #vu) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(columns - 1u));
    let img#v = pos#v / plane;
    let r#v = pos#v % plane;
    let y#v = vec4<i32>((r#v / ow) * s) - p;
    let x#v = vec4<i32>((r#v % ow) * s) - p;
    let filter#r = min(f0 + #ru, o - 1u) * taps;
    var acc#r_#v = vec4<f32>(0.0);
    var q = 0u;
    for (var ci = 0u; ci < c; ci++) {
        let base#v = (img#v * c + ci) * h * w;
        for (var ky = 0u; ky < kh; ky++) {
            for (var kx = 0u; kx < kw; kx++) {
                let xv#v = pixel(base#v, y#v + i32(ky), x#v + i32(kx), i32(h), i32(w));
                let w#r = b[filter#r + q];
                acc#r_#v += w#r * xv#v;
                q++;
            }
        }
    }
    let with_bias = (cp.flags & 4u) != 0u;
    store_outputs(j0 + 4u * #vu, f0 + #ru, acc#r_#v, img#v * o * plane + r#v, with_bias, o, plane, columns);
}

// Four consecutive output positions of filter f: `at` is each one's index without the filter's
// plane offset.
fn store_outputs(j: u32, f: u32, acc: vec4<f32>, at: vec4<u32>, with_bias: bool, o: u32, plane: u32, columns: u32) {
    if (f >= o || j >= columns) { return; }
    let v = acc + select(0.0, bias[f], with_bias);
    let to = at + f * plane;
    out[to.x] = v.x;
    if (j + 1u < columns) { out[to.y] = v.y; }
    if (j + 2u < columns) { out[to.z] = v.z; }
    if (j + 3u < columns) { out[to.w] = v.w; }
}
