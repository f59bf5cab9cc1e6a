// y [n, o, oh, ow] = conv(x, w) + bias, reading the image where im2col would have copied it from
// (Kernels::BarrierFree): no column matrix is written or read back, and no barrier is used. Each
// thread keeps a 4×4 block of its output in four vec4 accumulators, as matmul_registers.wgsl does.
// params: conv_pixel.wgsl's, then 11 flags (4: bias).
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

// a is x, b the kernel [o, c·kh·kw]. Thread (x, y): four consecutive output positions (image, row,
// column flattened) × four filters.
@compute @workgroup_size(64)
fn conv_forward_registers(@builtin(global_invocation_id) g: vec3<u32>) {
    let n = pu(0u); let c = pu(1u); let h = pu(2u); let w = pu(3u);
    let kh = pu(4u); let kw = pu(5u); let oh = pu(6u); let ow = pu(7u);
    let s = pu(8u); let p = i32(pu(9u)); let o = pu(10u);
    let plane = oh * ow;
    let columns = n * plane;
    let j0 = g.x * 4u;
    let f0 = g.y * 4u;
    if (j0 >= columns || f0 >= o) { return; }
    let j = min(vec4<u32>(j0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(columns - 1u));
    let img = j / plane;
    let r = j % plane;
    let y0 = vec4<i32>((r / ow) * s) - p;
    let x0 = vec4<i32>((r % ow) * s) - p;
    let f = min(vec4<u32>(f0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(o - 1u)) * (c * kh * kw);
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    var q = 0u;
    for (var ci = 0u; ci < c; ci++) {
        let base = (img * c + ci) * h * w;
        for (var ky = 0u; ky < kh; ky++) {
            let iy = y0 + i32(ky);
            for (var kx = 0u; kx < kw; kx++) {
                let xv = pixel(base, iy, x0 + i32(kx));
                acc0 += b[f.x + q] * xv;
                acc1 += b[f.y + q] * xv;
                acc2 += b[f.z + q] * xv;
                acc3 += b[f.w + q] * xv;
                q++;
            }
        }
    }
    let with_bias = (pu(11u) & 4u) != 0u;
    store_outputs(j0, f0, acc0, img, r, with_bias);
    store_outputs(j0, f0 + 1u, acc1, img, r, with_bias);
    store_outputs(j0, f0 + 2u, acc2, img, r, with_bias);
    store_outputs(j0, f0 + 3u, acc3, img, r, with_bias);
}

fn store_outputs(j0: u32, f: u32, acc: vec4<f32>, img: vec4<u32>, r: vec4<u32>, with_bias: bool) {
    let o = pu(10u);
    let plane = pu(6u) * pu(7u);
    if (f >= o) { return; }
    let add = select(0.0, bias[f], with_bias);
    let at = (img * o + f) * plane + r;
    for (var e = 0u; e < 4u; e++) {
        if (j0 + e < pu(0u) * plane) { out[at[e]] = acc[e] + add; }
    }
}

