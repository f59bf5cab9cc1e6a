// Multi-head attention (AttentionParams): queries, keys and values [n · steps, heads · key], each
// step's heads side by side; weights [n, heads, steps, steps]. Each kernel writes `out` from `a`,
// `b` (and `c`, the padding mask [n, steps] when `masked`), outputs first. One thread an output
// value or row; no atomics.
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read> c: array<f32>;

// Where head h's part of step t of sample s starts in a [n · steps, heads · key] tensor.
fn part(s: u32, t: u32, h: u32, p: AttentionParams) -> u32 {
    return ((s * p.steps + t) * p.heads + h) * p.key;
}

// Where row t of head h's weights of sample s starts.
fn weights_row(s: u32, h: u32, t: u32, p: AttentionParams) -> u32 {
    return ((s * p.heads + h) * p.steps + t) * p.steps;
}

// out [n, heads, steps, steps]: a row a thread, the softmax over the keys b of the scaled scores
// of query a, leaving out padding keys (c) and, when causal, later steps; zeros with no key.
@compute @workgroup_size(256)
fn attention_weights(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let p = attention_params();
    if (i >= p.n * p.heads * p.steps) { return; }
    let s = i / (p.heads * p.steps);
    let h = (i / p.steps) % p.heads;
    let t = i % p.steps;
    let r = i * p.steps;
    let q = part(s, t, h, p);
    var best = -3.4e38;
    var any = false;
    for (var j = 0u; j < p.steps; j++) {
        let kept = (p.causal == 0u || j <= t) && (p.masked == 0u || c[s * p.steps + j] != 0.0);
        if (kept) {
            let k = part(s, j, h, p);
            var score = 0.0;
            for (var e = 0u; e < p.key; e++) { score += a[q + e] * b[k + e]; }
            score *= p.scale;
            out[r + j] = score;
            best = max(best, score);
            any = true;
        }
    }
    var sum = 0.0;
    for (var j = 0u; j < p.steps; j++) {
        let kept = any && (p.causal == 0u || j <= t) && (p.masked == 0u || c[s * p.steps + j] != 0.0);
        let w = select(0.0, exp(out[r + j] - best), kept);
        out[r + j] = w;
        sum += w;
    }
    if (any) {
        for (var j = 0u; j < p.steps; j++) { out[r + j] /= sum; }
    }
}

// out [n · steps, heads · key]: for each step t, the sum over steps j of a[t, j] · b[j], per head
// (a: weights or score gradients [n, heads, steps, steps]; b: values or keys): the output, and the
// queries' gradient.
@compute @workgroup_size(256)
fn attention_mix(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let p = attention_params();
    if (i >= p.n * p.steps * p.heads * p.key) { return; }
    let e = i % p.key;
    let h = (i / p.key) % p.heads;
    let t = (i / (p.key * p.heads)) % p.steps;
    let s = i / (p.key * p.heads * p.steps);
    let r = weights_row(s, h, t, p);
    var sum = 0.0;
    for (var j = 0u; j < p.steps; j++) { sum += a[r + j] * b[part(s, j, h, p) + e]; }
    out[i] = sum;
}

// out [n, heads, steps, steps]: the weights' gradient, dout a · values b.
@compute @workgroup_size(256)
fn attention_dweights(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let p = attention_params();
    if (i >= p.n * p.heads * p.steps * p.steps) { return; }
    let j = i % p.steps;
    let t = (i / p.steps) % p.steps;
    let h = (i / (p.steps * p.steps)) % p.heads;
    let s = i / (p.steps * p.steps * p.heads);
    let d = part(s, t, h, p);
    let v = part(s, j, h, p);
    var sum = 0.0;
    for (var e = 0u; e < p.key; e++) { sum += a[d + e] * b[v + e]; }
    out[i] = sum;
}

// out [n · steps, heads · key]: for each step j, the sum over steps t of a[t, j] · b[t], per head
// (the transposed mix): the values' gradient (a the weights, b dout) and the keys' (a the score
// gradients, b the queries).
@compute @workgroup_size(256)
fn attention_mix_transposed(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let p = attention_params();
    if (i >= p.n * p.steps * p.heads * p.key) { return; }
    let e = i % p.key;
    let h = (i / p.key) % p.heads;
    let j = (i / (p.key * p.heads)) % p.steps;
    let s = i / (p.key * p.heads * p.steps);
    var sum = 0.0;
    for (var t = 0u; t < p.steps; t++) { sum += a[weights_row(s, h, t, p) + j] * b[part(s, t, h, p) + e]; }
    out[i] = sum;
}

// out [n, heads, steps, steps]: the scores' gradient through the softmax, a row a thread, from the
// weights a and their gradient b: p ⊙ (dp − Σ p·dp), scaled.
@compute @workgroup_size(256)
fn attention_dscores(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let p = attention_params();
    if (i >= p.n * p.heads * p.steps) { return; }
    let r = i * p.steps;
    var centre = 0.0;
    for (var j = 0u; j < p.steps; j++) { centre += a[r + j] * b[r + j]; }
    for (var j = 0u; j < p.steps; j++) { out[r + j] = a[r + j] * (b[r + j] - centre) * p.scale; }
}
