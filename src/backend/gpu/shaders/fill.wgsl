@group(0) @binding(1) var<storage, read_write> out: array<f32>;

// Inverted dropout mask: 1/keep where the counter-based uniform of (seed, i) is below keep, else 0;
// the same draw as rng::counter_uniform. params: len, seed, keep
@compute @workgroup_size(256)
fn dropout_mask(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    if (i >= pu(0u)) { return; }
    let u = counter_uniform(pu(1u), i);
    let keep = pf(2u);
    out[i] = select(0.0, 1.0 / keep, u < keep);
}
