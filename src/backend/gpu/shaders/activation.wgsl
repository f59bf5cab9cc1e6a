// An activation, element-wise; compiled over f32 and over vec4<f32> like update.wgsl.
alias T = {T};
@group(0) @binding(1) var<storage, read> x: array<T>;
@group(0) @binding(2) var<storage, read_write> out: array<T>;

fn activate(v: T, kind: u32, alpha: f32) -> T {
    switch kind {
        case 0u: { return max(v, T(0.0)); }
        case 1u: { return select(alpha * v, v, v > T(0.0)); }
        case 2u: { return tanh(v); }
        // GELU, tanh form: ½·v·(1 + tanh(√(2/π)·(v + 0.044715·v³))).
        case 4u: { return 0.5 * v * (1.0 + tanh(0.7978846 * (v + 0.044715 * v * v * v))); }
        default: { return 1.0 / (1.0 + exp(-v)); }
    }
}

// params: len, kind (0 relu, 1 leaky relu, 2 tanh, 3 sigmoid, 4 gelu), alpha
@compute @workgroup_size(256)
fn activation{V}(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    if (i < pu(0u)) { out[i] = activate(x[i], pu(1u), pf(2u)); }
}
