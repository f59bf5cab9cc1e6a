// An activation and its gradient, element-wise; compiled over f32 and over vec4<f32> like
// update.wgsl (ActivationParams: kind 0 relu, 1 leaky relu, 2 tanh, 3 sigmoid, 4 gelu). The
// forward kernel reads x; the backward one x, the forward output y and dL/dy.
alias T = {T};
@group(0) @binding(1) var<storage, read_write> out: array<T>;
@group(0) @binding(2) var<storage, read> x: array<T>;
@group(0) @binding(3) var<storage, read> y: array<T>;
@group(0) @binding(4) var<storage, read> dy: array<T>;

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

@compute @workgroup_size(256)
fn activation{V}(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let p = activation_params();
    if (i < p.len) { out[i] = activate(x[i], p.kind, p.alpha); }
}

@compute @workgroup_size(256)
fn activation_backward{V}(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let p = activation_params();
    if (i >= p.len) { return; }
    var d: T;
    switch p.kind {
        case 0u: { d = select(T(0.0), T(1.0), x[i] > T(0.0)); }
        case 1u: { d = select(T(p.alpha), T(1.0), x[i] > T(0.0)); }
        case 2u: { d = 1.0 - y[i] * y[i]; }
        // GELU: with t = tanh(s(x + c·x³)), ½(1 + t) + ½·x·(1 − t²)·s(1 + 3c·x²).
        case 4u: {
            let v = x[i];
            let t = tanh(0.7978846 * (v + 0.044715 * v * v * v));
            d = 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * 0.7978846 * (1.0 + 3.0 * 0.044715 * v * v);
        }
        default: { d = y[i] * (1.0 - y[i]); }
    }
    out[i] = dy[i] * d;
}
