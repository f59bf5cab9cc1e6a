// Token embeddings: rows of a table picked by token ids (whole numbers held as f32), and the
// table's gradient. Each writes `out` from `a` (and `b`), outputs first.
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;

// The table row of a token id, or -1 for an id outside [0, vocab), not whole, or 0 as padding.
fn token_row(id: f32, p: EmbeddingParams) -> i32 {
    if (id < 0.0 || id >= f32(p.vocab) || id != floor(id) || (p.padding != 0u && id == 0.0)) { return -1; }
    return i32(id);
}

// out [tokens, dim] = the rows of the table b [vocab, dim] for the ids a [tokens] (EmbeddingParams).
@compute @workgroup_size(256)
fn embedding(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let p = embedding_params();
    if (i >= p.tokens * p.dim) { return; }
    let row = token_row(a[i / p.dim], p);
    out[i] = select(0.0, b[u32(max(row, 0)) * p.dim + i % p.dim], row >= 0);
}

// out [vocab, dim]: each table value's gradient, the sum over the tokens of its row of dy b
// [tokens, dim], in token order; ids a [tokens] (EmbeddingParams). One thread a value, no atomics.
@compute @workgroup_size(256)
fn embedding_backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let i = flat_index(wg, groups, l);
    let p = embedding_params();
    if (i >= p.vocab * p.dim) { return; }
    let v = i32(i / p.dim);
    let d = i % p.dim;
    var sum = 0.0;
    for (var t = 0u; t < p.tokens; t++) {
        if (token_row(a[t], p) == v) { sum += b[t * p.dim + d]; }
    }
    out[i] = sum;
}
