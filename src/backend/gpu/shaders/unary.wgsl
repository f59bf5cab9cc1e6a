// Kernels that read one tensor `x` and write `out`.
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<f32, 256>;

// params: len, limit
@compute @workgroup_size(256)
fn clamp_values(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    if (i < pu(0u)) { out[i] = clamp(x[i], -pf(1u), pf(1u)); }
}

// x [a, b, inner] → out [b, a, inner]. params: a, b, inner
@compute @workgroup_size(256)
fn swap_leading(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let inner = pu(2u);
    if (i >= pu(0u) * pu(1u) * inner) { return; }
    let row = i / inner;
    out[i] = x[((row % pu(0u)) * pu(1u) + row / pu(0u)) * inner + i % inner];
}

// params: len (of out), row width, then one source row index per output row
@compute @workgroup_size(256)
fn gather_rows(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let width = pu(1u);
    if (i < pu(0u)) { out[i] = x[pu(2u + i / width) * width + i % width]; }
}

// Conv geometry params shared by im2col and col2im:
// 0 n, 1 c, 2 h, 3 w, 4 kh, 5 kw, 6 oh, 7 ow, 8 stride, 9 padding.
// cols is [c·kh·kw, n·oh·ow]: row (ci, ky, kx), column (image, oy, ox).
@compute @workgroup_size(256)
fn im2col(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let n = pu(0u); let c = pu(1u); let h = pu(2u); let w = pu(3u);
    let kh = pu(4u); let kw = pu(5u); let oh = pu(6u); let ow = pu(7u);
    let s = pu(8u); let p = pu(9u);
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

// The adjoint of im2col: every input pixel sums the columns that read it (x here is cols).
@compute @workgroup_size(256)
fn col2im(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let n = pu(0u); let c = pu(1u); let h = pu(2u); let w = pu(3u);
    let kh = pu(4u); let kw = pu(5u); let oh = pu(6u); let ow = pu(7u);
    let s = pu(8u); let p = pu(9u);
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

// [n, o, q] → [o, n, q]. params: n, o, q
@compute @workgroup_size(256)
fn channels_first(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let n = pu(0u); let o = pu(1u); let q = pu(2u);
    if (i >= n * o * q) { return; }
    let k = i % q; let img = (i / q) % n; let ch = i / (q * n);
    out[i] = x[(img * o + ch) * q + k];
}

// Pooling params: 0 planes, 1 h, 2 w, 3 oh, 4 ow, 5 size, 6 stride.
fn window_argmax(corner: u32, w: u32, size: u32) -> u32 {
    var best = corner;
    for (var dy = 0u; dy < size; dy++) {
        for (var dx = 0u; dx < size; dx++) {
            let j = corner + dy * w + dx;
            if (x[j] > x[best]) { best = j; }
        }
    }
    return best;
}

@compute @workgroup_size(256)
fn max_pool(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let h = pu(1u); let w = pu(2u); let oh = pu(3u); let ow = pu(4u); let s = pu(6u);
    if (i >= pu(0u) * oh * ow) { return; }
    let ox = i % ow; let oy = (i / ow) % oh; let plane = i / (ow * oh);
    out[i] = x[window_argmax(plane * h * w + oy * s * w + ox * s, w, pu(5u))];
}

@compute @workgroup_size(256)
fn avg_pool(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let h = pu(1u); let w = pu(2u); let oh = pu(3u); let ow = pu(4u); let size = pu(5u); let s = pu(6u);
    if (i >= pu(0u) * oh * ow) { return; }
    let ox = i % ow; let oy = (i / ow) % oh; let plane = i / (ow * oh);
    let corner = plane * h * w + oy * s * w + ox * s;
    var sum = 0.0;
    for (var dy = 0u; dy < size; dy++) {
        for (var dx = 0u; dx < size; dx++) { sum += x[corner + dy * w + dx]; }
    }
    out[i] = sum / f32(size * size);
}


// x here is dy; out is dx.
@compute @workgroup_size(256)
fn avg_pool_backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let h = pu(1u); let w = pu(2u); let oh = pu(3u); let ow = pu(4u); let size = pu(5u); let s = pu(6u);
    if (i >= pu(0u) * h * w) { return; }
    let ix = i % w; let iy = (i / w) % h; let plane = i / (w * h);
    var sum = 0.0;
    for (var oy = first_window(iy, size, s); oy <= min(iy / s, oh - 1u); oy++) {
        for (var ox = first_window(ix, size, s); ox <= min(ix / s, ow - 1u); ox++) {
            sum += x[(plane * oh + oy) * ow + ox];
        }
    }
    out[i] = sum / f32(size * size);
}

// Sum of all of x into out[0]. One workgroup. params: len
@compute @workgroup_size(256)
fn sum_all(@builtin(local_invocation_index) l: u32) {
    var acc = 0.0;
    for (var i = l; i < pu(0u); i += WG) { acc += x[i]; }
    partial[l] = acc;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride >>= 1u) {
        if (l < stride) { partial[l] += partial[l + stride]; }
        workgroupBarrier();
    }
    if (l == 0u) { out[0] = partial[0]; }
}

// Per-channel sum of x [n, c, inner] into out[c]; one workgroup per channel. params: n, c, inner
@compute @workgroup_size(256)
fn channel_sum(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let n = pu(0u); let c = pu(1u); let inner = pu(2u);
    let ch = wg.x;
    var acc = 0.0;
    for (var e = l; e < n * inner; e += WG) {
        acc += x[((e / inner) * c + ch) * inner + e % inner];
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
    let n = pu(0u); let c = pu(1u); let inner = pu(2u);
    if (ch >= c) { return; }
    var acc = 0.0;
    for (var b = 0u; b < n; b++) {
        let base = (b * c + ch) * inner;
        for (var t = 0u; t < inner; t++) { acc += x[base + t]; }
    }
    out[ch] = acc;
}

// Row-wise softmax of x [rows, k]; one thread per row. params: rows, k
@compute @workgroup_size(256)
fn softmax(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let r = flat_index(wg, groups, l);
    let k = pu(1u);
    if (r >= pu(0u)) { return; }
    var mx = x[r * k];
    for (var j = 1u; j < k; j++) { mx = max(mx, x[r * k + j]); }
    var sum = 0.0;
    for (var j = 0u; j < k; j++) { sum += exp(x[r * k + j] - mx); }
    for (var j = 0u; j < k; j++) { out[r * k + j] = exp(x[r * k + j] - mx) / sum; }
}
