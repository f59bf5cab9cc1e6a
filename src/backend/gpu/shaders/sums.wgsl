// Square sums of gradients (their global norm) into one value.
@group(0) @binding(1) var<storage, read_write> p: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;

var<workgroup> partial: array<f32, 256>;

// p[0] += Σ g²: one tensor's share of a gradient's squared norm. One workgroup. params: len
@compute @workgroup_size(256)
fn add_square_sum(@builtin(local_invocation_index) l: u32) {
    var acc = 0.0;
    for (var i = l; i < pu(0u); i += WG) { acc += g[i] * g[i]; }
    partial[l] = acc;
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride >>= 1u) {
        if (l < stride) { partial[l] += partial[l + stride]; }
        workgroupBarrier();
    }
    if (l == 0u) { p[0] += partial[0]; }
}

// The same without a barrier (Kernels::BarrierFree). One thread: p[0] += Σ g, or Σ g² when
// `square` is set. params: len, square
@compute @workgroup_size(1)
fn add_sum_serial() {
    let square = pu(1u) != 0u;
    var acc = 0.0;
    for (var i = 0u; i < pu(0u); i++) { acc += select(g[i], g[i] * g[i], square); }
    p[0] += acc;
}

// Thread t: p[t] = Σ g² over its run of `per` values, a share for add_sum_serial to add up.
// params: len, per
@compute @workgroup_size(64)
fn square_sum_parts(@builtin(global_invocation_id) id: vec3<u32>) {
    let begin = id.x * pu(1u);
    let end = min(pu(0u), begin + pu(1u));
    if (begin >= end) { return; }
    var acc = 0.0;
    for (var i = begin; i < end; i++) { acc += g[i] * g[i]; }
    p[id.x] = acc;
}
