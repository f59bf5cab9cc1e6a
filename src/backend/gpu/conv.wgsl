// The convolution's moves for the tiled kernels: im2col and its adjoint around one matrix product,
// and the transposes between [n, o, q] and [o, n, q] of its output and gradient. Each writes `out`
// from `x`; batch_first_bias adds `bias` too.
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;

// x [n, c, h, w] → out [c·kh·kw, n·oh·ow]: row (ci, ky, kx), column (image, oy, ox).
@compute @workgroup_size(256)
fn im2col(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let cp = conv_params();
    let n = cp.n; let c = cp.c; let h = cp.h; let w = cp.w;
    let kh = cp.kh; let kw = cp.kw; let oh = cp.oh; let ow = cp.ow;
    let s = cp.stride; let p = cp.padding;
    let columns = n * oh * ow;
    if (i >= c * kh * kw * columns) { return; }
    let row = i / columns;
    let col = i % columns;
    let kx = row % kw; let ky = (row / kw) % kh; let ci = row / (kw * kh);
    let ox = col % ow; let oy = (col / ow) % oh; let img = col / (ow * oh);
    let iy = i32(oy * s + ky) - i32(p);
    let ix = i32(ox * s + kx) - i32(p);
    var v = 0.0;
    if (iy >= 0 && ix >= 0 && iy < i32(h) && ix < i32(w)) {
        v = x[((img * c + ci) * h + u32(iy)) * w + u32(ix)];
    }
    out[i] = v;
}

// The adjoint of im2col: every input pixel sums the columns that read it (x here is the columns).
@compute @workgroup_size(256)
fn col2im(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let cp = conv_params();
    let n = cp.n; let c = cp.c; let h = cp.h; let w = cp.w;
    let kh = cp.kh; let kw = cp.kw; let oh = cp.oh; let ow = cp.ow;
    let s = cp.stride; let p = cp.padding;
    if (i >= n * c * h * w) { return; }
    let ix = i % w; let iy = (i / w) % h; let ci = (i / (w * h)) % c; let img = i / (w * h * c);
    let columns = n * oh * ow;
    var sum = 0.0;
    if (s == 1u) {
        // Stride 1: every kernel offset inside the output reads this pixel, no divisions needed.
        let y = iy + p; let xx = ix + p;
        for (var ky = u32(max(i32(y) - i32(oh) + 1, 0)); ky <= min(y, kh - 1u); ky++) {
            for (var kx = u32(max(i32(xx) - i32(ow) + 1, 0)); kx <= min(xx, kw - 1u); kx++) {
                sum += x[((ci * kh + ky) * kw + kx) * columns + (img * oh + y - ky) * ow + xx - kx];
            }
        }
        out[i] = sum;
        return;
    }
    for (var ky = 0u; ky < kh; ky++) {
        let ty = i32(iy + p) - i32(ky);
        if (ty < 0 || ty % i32(s) != 0) { continue; }
        let oy = u32(ty) / s;
        if (oy >= oh) { continue; }
        for (var kx = 0u; kx < kw; kx++) {
            let tx = i32(ix + p) - i32(kx);
            if (tx < 0 || tx % i32(s) != 0) { continue; }
            let ox = u32(tx) / s;
            if (ox >= ow) { continue; }
            let row = (ci * kh + ky) * kw + kx;
            sum += x[row * columns + (img * oh + oy) * ow + ox];
        }
    }
    out[i] = sum;
}

// [n, o, q] → [o, n, q] (PlanesParams).
@compute @workgroup_size(256)
fn channels_first(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let p = planes_params();
    if (i >= p.n * p.o * p.q) { return; }
    let k = i % p.q; let img = (i / p.q) % p.n; let ch = i / (p.q * p.n);
    out[i] = x[(img * p.o + ch) * p.q + k];
}

// [o, n, q] → [n, o, q] plus bias[o] (PlanesParams).
@compute @workgroup_size(256)
fn batch_first_bias(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let p = planes_params();
    if (i >= p.n * p.o * p.q) { return; }
    let k = i % p.q; let ch = (i / p.q) % p.o; let img = i / (p.q * p.o);
    out[i] = x[(ch * p.n + img) * p.q + k] + bias[ch];
}
