// Kernels that read two tensors `a` and `b` and write `out`.
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

// params: len
@compute @workgroup_size(256)
fn mul(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    if (i < pu(0u)) { out[i] = a[i] * b[i]; }
}

// a + l1·sign(b) + l2·b: the L1/L2 penalty's gradient (b the weights) added to a gradient.
// params: len, l1, l2
@compute @workgroup_size(256)
fn add_penalty(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    if (i < pu(0u)) { out[i] = a[i] + pf(1u) * sign(b[i]) + pf(2u) * b[i]; }
}

// a · min(1, max_norm / √b[0]), b[0] the gradient's global squared norm. params: len, max_norm
@compute @workgroup_size(256)
fn scale_to_norm(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    if (i < pu(0u)) { out[i] = a[i] * min(1.0, pf(1u) / sqrt(b[0])); }
}

// a + t·(b − a): running statistics. params: len, t
@compute @workgroup_size(256)
fn lerp(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    if (i < pu(0u)) { out[i] = a[i] + pf(1u) * (b[i] - a[i]); }
}

// a [n, c, inner] + b[c]. params: len, c, inner
@compute @workgroup_size(256)
fn add_bias(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    if (i < pu(0u)) { out[i] = a[i] + b[(i / pu(2u)) % pu(1u)]; }
}

// [o, n, q] → [n, o, q] plus b[o]. params: n, o, q
@compute @workgroup_size(256)
fn batch_first_bias(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let n = pu(0u); let o = pu(1u); let q = pu(2u);
    if (i >= n * o * q) { return; }
    let k = i % q; let ch = (i / q) % o; let img = i / (q * o);
    out[i] = a[(ch * n + img) * q + k] + b[ch];
}

// The index of the first maximum of a (the forward input) in the size×size window at `corner`;
// unary.wgsl's window_argmax does the same over its binding x.
fn first_maximum(corner: u32, w: u32, size: u32) -> u32 {
    var best = corner;
    for (var dy = 0u; dy < size; dy++) {
        for (var dx = 0u; dx < size; dx++) {
            let j = corner + dy * w + dx;
            if (a[j] > a[best]) { best = j; }
        }
    }
    return best;
}

// Windows that tile the input (size = stride) by one thread per window: dy goes to the window's
// first maximum; `out` is cleared beforehand (Kernels::BarrierFree). params as max_pool_backward.
@compute @workgroup_size(256)
fn max_pool_backward_scatter(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let h = pu(1u); let w = pu(2u); let oh = pu(3u); let ow = pu(4u); let size = pu(5u); let s = pu(6u);
    if (i >= pu(0u) * oh * ow) { return; }
    let ox = i % ow; let oy = (i / ow) % oh; let plane = i / (ow * oh);
    out[first_maximum(plane * h * w + oy * s * w + ox * s, w, size)] = b[i];
}

// a is the forward input x, b is dy; each input sums dy over the windows whose first maximum it is.
// params: 0 planes, 1 h, 2 w, 3 oh, 4 ow, 5 size, 6 stride
@compute @workgroup_size(256)
fn max_pool_backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let h = pu(1u); let w = pu(2u); let oh = pu(3u); let ow = pu(4u); let size = pu(5u); let s = pu(6u);
    if (i >= pu(0u) * h * w) { return; }
    let ix = i % w; let iy = (i / w) % h; let plane = i / (w * h);
    var sum = 0.0;
    for (var oy = first_window(iy, size, s); oy <= min(iy / s, oh - 1u); oy++) {
        for (var ox = first_window(ix, size, s); ox <= min(ix / s, ow - 1u); ox++) {
            if (first_maximum(plane * h * w + oy * s * w + ox * s, w, size) == i) { sum += b[(plane * oh + oy) * ow + ox]; }
        }
    }
    out[i] = sum;
}
