// Max and average pooling of `planes` planes [h, w] into [oh, ow] (PoolParams), forward and
// backward. `out` is the result, `x` the forward input (the average's backward reads dy there
// instead, as it needs no input), `dy` the gradient of the output.
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;

// The index of the first maximum of x in the size×size window at `corner` of a plane w wide.
fn window_argmax(corner: u32, w: u32, size: u32) -> u32 {
    var best = corner;
    for (var wy = 0u; wy < size; wy++) {
        for (var wx = 0u; wx < size; wx++) {
            let j = corner + wy * w + wx;
            if (x[j] > x[best]) { best = j; }
        }
    }
    return best;
}

// The corner of output position i's window.
fn window_corner(p: PoolParams, i: u32) -> u32 {
    let ox = i % p.ow; let oy = (i / p.ow) % p.oh; let plane = i / (p.ow * p.oh);
    return plane * p.h * p.w + oy * p.stride * p.w + ox * p.stride;
}

@compute @workgroup_size(256)
fn max_pool(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let p = pool_params();
    if (i >= p.planes * p.oh * p.ow) { return; }
    out[i] = x[window_argmax(window_corner(p, i), p.w, p.size)];
}

// Each input sums dy over the windows whose first maximum it is.
@compute @workgroup_size(256)
fn max_pool_backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let p = pool_params();
    if (i >= p.planes * p.h * p.w) { return; }
    let ix = i % p.w; let iy = (i / p.w) % p.h; let plane = i / (p.w * p.h);
    var sum = 0.0;
    for (var oy = first_window(iy, p.size, p.stride); oy <= min(iy / p.stride, p.oh - 1u); oy++) {
        for (var ox = first_window(ix, p.size, p.stride); ox <= min(ix / p.stride, p.ow - 1u); ox++) {
            let o = (plane * p.oh + oy) * p.ow + ox;
            if (window_argmax(window_corner(p, o), p.w, p.size) == i) { sum += dy[o]; }
        }
    }
    out[i] = sum;
}

// Windows that tile the input (size = stride) by one thread per window: dy goes to the window's
// first maximum; `out` is cleared beforehand (Kernels::BarrierFree).
@compute @workgroup_size(256)
fn max_pool_backward_scatter(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let p = pool_params();
    if (i >= p.planes * p.oh * p.ow) { return; }
    out[window_argmax(window_corner(p, i), p.w, p.size)] = dy[i];
}

@compute @workgroup_size(256)
fn avg_pool(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let p = pool_params();
    if (i >= p.planes * p.oh * p.ow) { return; }
    let corner = window_corner(p, i);
    var sum = 0.0;
    for (var wy = 0u; wy < p.size; wy++) {
        for (var wx = 0u; wx < p.size; wx++) { sum += x[corner + wy * p.w + wx]; }
    }
    out[i] = sum / f32(p.size * p.size);
}

// x here is dy: each input gets the mean share of every window that covers it.
@compute @workgroup_size(256)
fn avg_pool_backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let p = pool_params();
    if (i >= p.planes * p.h * p.w) { return; }
    let ix = i % p.w; let iy = (i / p.w) % p.h; let plane = i / (p.w * p.h);
    var sum = 0.0;
    for (var oy = first_window(iy, p.size, p.stride); oy <= min(iy / p.stride, p.oh - 1u); oy++) {
        for (var ox = first_window(ix, p.size, p.stride); ox <= min(ix / p.stride, p.ow - 1u); ox++) {
            sum += x[(plane * p.oh + oy) * p.ow + ox];
        }
    }
    out[i] = sum / f32(p.size * p.size);
}
