// dw [o, c·kh·kw] of a convolution, reading the image where im2col would have copied it from
// (Kernels::BarrierFree); a 4×4 block of dw per thread in vec4 accumulators, no barrier.
// params: conv_pixel.wgsl's, then 11 flags (8: write this split's partial product at
// [z·o·c·kh·kw..]), 12 output positions per split.
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

// Σ over output positions of dy · the input pixel each kernel tap read: a is x, b is dy
// [n, o, oh, ow]. Thread (x, y): four kernel taps × four filters; workgroup layers along z
// split the output positions (split-K).
@compute @workgroup_size(64)
fn conv_weight_grad_registers(@builtin(global_invocation_id) g: vec3<u32>) {
    let n = pu(0u); let c = pu(1u); let h = pu(2u); let w = pu(3u);
    let kh = pu(4u); let kw = pu(5u); let oh = pu(6u); let ow = pu(7u);
    let s = i32(pu(8u)); let p = i32(pu(9u)); let o = pu(10u);
    let taps = c * kh * kw;
    let plane = oh * ow;
    let t0 = g.x * 4u;
    let f0 = g.y * 4u;
    if (t0 >= taps || f0 >= o) { return; }
    let t = min(vec4<u32>(t0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(taps - 1u));
    let kx = vec4<i32>(t % kw);
    let ky = vec4<i32>((t / kw) % kh);
    let ci = t / (kw * kh);
    let f = min(vec4<u32>(f0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(o - 1u));
    let begin = g.z * pu(12u);
    let end = min(n * plane, begin + pu(12u));
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    // Walk the output positions in order, carrying (image, row, column) instead of dividing.
    var img = begin / plane;
    var oy = (begin % plane) / ow;
    var ox = begin % ow;
    for (var jj = begin; jj < end; jj++) {
        let xv = pixel((img * c + ci) * h * w, vec4<i32>(i32(oy) * s - p) + ky, vec4<i32>(i32(ox) * s - p) + kx);
        let at = (img * o + f) * plane + oy * ow + ox;
        acc0 += b[at.x] * xv;
        acc1 += b[at.y] * xv;
        acc2 += b[at.z] * xv;
        acc3 += b[at.w] * xv;
        ox++;
        if (ox == ow) {
            ox = 0u;
            oy++;
            if (oy == oh) { oy = 0u; img++; }
        }
    }
    let base = select(0u, g.z * o * taps, (pu(11u) & 8u) != 0u);
    store_taps(base, f0, t0, acc0);
    store_taps(base, f0 + 1u, t0, acc1);
    store_taps(base, f0 + 2u, t0, acc2);
    store_taps(base, f0 + 3u, t0, acc3);
}

fn store_taps(base: u32, f: u32, t0: u32, acc: vec4<f32>) {
    let taps = pu(1u) * pu(4u) * pu(5u);
    if (f >= pu(10u)) { return; }
    for (var e = 0u; e < 4u; e++) {
        if (t0 + e < taps) { out[base + f * taps + t0 + e] = acc[e]; }
    }
}
