// The element-wise maths of one recurrent step (LSTM and GRU), forward and backward, one thread
// per (row, unit) (StepParams: the backward kernels do not read the offset).
//
// Every kernel here binds all seven buffers (`bind_all`), so that they share one layout: the host
// passes an input again, or a scratch buffer, where a kernel has no use for a slot.
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> c: array<f32>;
@group(0) @binding(4) var<storage, read> d: array<f32>;
@group(0) @binding(5) var<storage, read_write> out1: array<f32>;
@group(0) @binding(6) var<storage, read_write> out2: array<f32>;
@group(0) @binding(7) var<storage, read_write> out3: array<f32>;

fn bind_all() {
    _ = a[0]; _ = b[0]; _ = c[0]; _ = d[0]; _ = out1[0]; _ = out2[0]; _ = out3[0];
}

fn sigmoid(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }

// xw = a (all steps), hw = b, c_prev = c → h = out1, c = out2, gates (i, o, f, g) = out3.
@compute @workgroup_size(256)
fn lstm_step(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    bind_all();
    let k = flat_index(wg, groups, l);
    let p = step_params();
    let units = p.units;
    if (k >= p.n * units) { return; }
    let j = k % units;
    let base = (k / units) * 4u * units + j;
    let x = p.offset + base;
    let i = sigmoid(a[x] + b[base]);
    let o = sigmoid(a[x + units] + b[base + units]);
    let f = sigmoid(a[x + 2u * units] + b[base + 2u * units]);
    let g = tanh(a[x + 3u * units] + b[base + 3u * units]);
    let cell = f * c[k] + i * g;
    out2[k] = cell;
    out1[k] = o * tanh(cell);
    out3[base] = i; out3[base + units] = o; out3[base + 2u * units] = f; out3[base + 3u * units] = g;
}

// dh = a, dc = b, gates = c, c_prev = d → dz = out1, dc_prev = out2.
@compute @workgroup_size(256)
fn lstm_step_backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    bind_all();
    let k = flat_index(wg, groups, l);
    let p = step_params();
    let units = p.units;
    if (k >= p.n * units) { return; }
    let base = (k / units) * 4u * units + k % units;
    let i = c[base]; let o = c[base + units]; let f = c[base + 2u * units]; let g = c[base + 3u * units];
    let tanh_c = tanh(f * d[k] + i * g);
    let dc = b[k] + a[k] * o * (1.0 - tanh_c * tanh_c);
    out1[base] = dc * g * i * (1.0 - i);
    out1[base + units] = a[k] * tanh_c * o * (1.0 - o);
    out1[base + 2u * units] = dc * d[k] * f * (1.0 - f);
    out1[base + 3u * units] = dc * i * (1.0 - g * g);
    out2[k] = dc * f;
}

// xw = a (all steps), hw = b, h_prev = c → h = out1, gates (z, r, n) = out2.
@compute @workgroup_size(256)
fn gru_step(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    bind_all();
    let k = flat_index(wg, groups, l);
    let p = step_params();
    let units = p.units;
    if (k >= p.n * units) { return; }
    let base = (k / units) * 3u * units + k % units;
    let x = p.offset + base;
    let z = sigmoid(a[x] + b[base]);
    let r = sigmoid(a[x + units] + b[base + units]);
    let n = tanh(a[x + 2u * units] + r * b[base + 2u * units]);
    out1[k] = (1.0 - z) * n + z * c[k];
    out2[base] = z; out2[base + units] = r; out2[base + 2u * units] = n;
}

// dh = a, gates = b, hw = c, h_prev = d → dxw = out1, dhw = out2, dh_prev (through z) = out3.
@compute @workgroup_size(256)
fn gru_step_backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    bind_all();
    let k = flat_index(wg, groups, l);
    let p = step_params();
    let units = p.units;
    if (k >= p.n * units) { return; }
    let base = (k / units) * 3u * units + k % units;
    let z = b[base]; let r = b[base + units]; let n = b[base + 2u * units];
    let dn = a[k] * (1.0 - z) * (1.0 - n * n);
    let dz = a[k] * (d[k] - n) * z * (1.0 - z);
    let dr = dn * c[base + 2u * units] * r * (1.0 - r);
    out1[base] = dz; out1[base + units] = dr; out1[base + 2u * units] = dn;
    out2[base] = dz; out2[base + units] = dr; out2[base + 2u * units] = dn * r;
    out3[k] = a[k] * z;
}
