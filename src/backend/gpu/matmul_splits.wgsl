// Sums the split-K partial products [splits, m, n] into c [+ bias[j]] (SplitsParams; flags 4: bias).
//
// A workgroup owns OUTS consecutive outputs and spreads the splits over LANES threads each, so
// that a product split thousands of ways is summed in parallel rather than by one thread per
// output walking every split; the lanes' sums then meet in workgroup memory.
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

const OUTS: u32 = 8u;
const LANES: u32 = WG / OUTS;
var<workgroup> lane_sums: array<f32, WG>;

@compute @workgroup_size(256)
fn sum_splits(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let p = splits_params();
    let mn = p.m * p.n;
    let out = l % OUTS;
    let lane = l / OUTS;
    let i = (wg.y * groups.x + wg.x) * OUTS + out;
    var v = 0.0;
    if (i < mn) {
        for (var z = lane; z < p.splits; z += LANES) { v += partials[z * mn + i]; }
    }
    lane_sums[l] = v;
    workgroupBarrier();
    for (var stride = LANES / 2u; stride > 0u; stride /= 2u) {
        if (lane < stride) { lane_sums[l] += lane_sums[l + stride * OUTS]; }
        workgroupBarrier();
    }
    if (lane == 0u && i < mn) {
        var total = lane_sums[out];
        if ((p.flags & 4u) != 0u) { total += bias[i % p.n]; }
        c[i] = total;
    }
}

// The same sum by one thread per output walking every split, for adapters where a barrier costs
// more than the walk (Kernels::BarrierFree).
@compute @workgroup_size(256)
fn sum_splits_serial(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let p = splits_params();
    let mn = p.m * p.n;
    if (i >= mn) { return; }
    var total = 0.0;
    for (var z = 0u; z < p.splits; z++) { total += partials[z * mn + i]; }
    if ((p.flags & 4u) != 0u) { total += bias[i % p.n]; }
    c[i] = total;
}
