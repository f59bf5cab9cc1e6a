// dw [o, c·kh·kw] of a convolution, reading the image where im2col would have copied it from
// (Kernels::BarrierFree); a block of {ROWS} filters × {COLS} kernel taps per thread in vec4
// accumulators (a register-block template), no barrier.
// ConvParams: flags 8 writes this split's partial product at [z·o·c·kh·kw..]; each split sums
// per_split output positions.
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

// Σ over output positions of dy · the input pixel each kernel tap read: a is x, b is dy
// [n, o, oh, ow]. Threads walk the blocks tap-major: kernel taps, then filters; workgroup layers
// along z split the output positions (split-K).
@compute @workgroup_size({GROUP})
fn conv_weight_grad_registers(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let cp = conv_params();
    let n = cp.n; let c = cp.c; let h = cp.h; let w = cp.w;
    let kh = cp.kh; let kw = cp.kw; let oh = cp.oh; let ow = cp.ow;
    let s = i32(cp.stride); let p = i32(cp.padding); let o = cp.filters;
    let taps = c * kh * kw;
    let plane = oh * ow;
    let block = (wg.y * groups.x + wg.x) * {GROUP}u + l;
    let blocks_across = (taps + {COLS}u - 1u) / {COLS}u;
    let t0 = (block % blocks_across) * {COLS}u;
    let f0 = (block / blocks_across) * {ROWS}u;
    if (f0 >= o) { return; }
    // Taps and filters past the edge read the last one and are never written.
    let tap#v = min(vec4<u32>(t0 + 4u * #vu) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(taps - 1u));
    let kx#v = vec4<i32>(tap#v % kw);
    let ky#v = vec4<i32>((tap#v / kw) % kh);
    let ci#v = tap#v / (kw * kh);
    let filter#r = min(f0 + #ru, o - 1u) * plane;
    var acc#r_#v = vec4<f32>(0.0);
    let begin = wg.z * cp.per_split;
    let end = min(n * plane, begin + cp.per_split);
    // Walk the output positions in order, carrying (image, row, column) instead of dividing.
    var img = begin / plane;
    var oy = (begin % plane) / ow;
    var ox = begin % ow;
    for (var jj = begin; jj < end; jj++) {
        let iy = i32(oy) * s - p;
        let ix = i32(ox) * s - p;
        let pix#v = pixel((img * c + ci#v) * h * w, vec4<i32>(iy) + ky#v, vec4<i32>(ix) + kx#v, i32(h), i32(w));
        let at = img * o * plane + oy * ow + ox;
        let dy#r = b[at + filter#r];
        acc#r_#v += dy#r * pix#v;
        ox++;
        if (ox == ow) {
            ox = 0u;
            oy++;
            if (oy == oh) { oy = 0u; img++; }
        }
    }
    let base = select(0u, wg.z * o * taps, (cp.flags & 8u) != 0u);
    store_taps(base + (f0 + #ru) * taps, f0 + #ru, t0 + 4u * #vu, acc#r_#v, taps, o);
}

// Four consecutive taps of filter f, starting at `at`.
fn store_taps(at: u32, f: u32, t: u32, acc: vec4<f32>, taps: u32, o: u32) {
    if (f >= o || t >= taps) { return; }
    out[at + t] = acc.x;
    if (t + 1u < taps) { out[at + t + 1u] = acc.y; }
    if (t + 2u < taps) { out[at + t + 2u] = acc.z; }
    if (t + 3u < taps) { out[at + t + 3u] = acc.w; }
}
