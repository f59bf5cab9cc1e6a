// Sums the split-K partial products [splits, m, n] into c [+ bias[j]].
// params: m, n, splits, flags (4: bias)
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(256)
fn sum_splits(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let mn = pu(0u) * pu(1u);
    if (i >= mn) { return; }
    var v = 0.0;
    for (var z = 0u; z < pu(2u); z++) { v += partials[z * mn + i]; }
    if ((pu(3u) & 4u) != 0u) { v += bias[i % pu(1u)]; }
    c[i] = v;
}
