// dL/dx of an activation from its input x, output y and dL/dy.
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

// params: len, kind (0 relu, 1 leaky relu, 2 tanh, 3 sigmoid), alpha
@compute @workgroup_size(256)
fn activation_backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    if (i >= pu(0u)) { return; }
    var d: f32;
    switch pu(1u) {
        case 0u: { d = select(0.0, 1.0, x[i] > 0.0); }
        case 1u: { d = select(pf(2u), 1.0, x[i] > 0.0); }
        case 2u: { d = 1.0 - y[i] * y[i]; }
        default: { d = y[i] * (1.0 - y[i]); }
    }
    out[i] = dy[i] * d;
}
