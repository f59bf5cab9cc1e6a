// Softmax cross-entropy, one thread per row of logits [rows, k] against class-index labels [rows]:
// the gradient of the mean loss, and each row's loss and whether its argmax is right (summed after).
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<f32>;
@group(0) @binding(3) var<storage, read_write> grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> row_loss: array<f32>;
@group(0) @binding(5) var<storage, read_write> row_correct: array<f32>;

// Row r's softmax and the gradient of the mean loss over `rows` rows into grad; returns the row's
// loss and whether its argmax is right.
fn row_cross_entropy(r: u32, rows: u32, k: u32) -> vec2<f32> {
    let y = u32(labels[r]);
    var mx = logits[r * k];
    var best = 0u;
    for (var j = 1u; j < k; j++) {
        let v = logits[r * k + j];
        if (v > mx) { mx = v; best = j; }
    }
    var sum = 0.0;
    for (var j = 0u; j < k; j++) { sum += exp(logits[r * k + j] - mx); }
    for (var j = 0u; j < k; j++) {
        let prob = exp(logits[r * k + j] - mx) / sum;
        grad[r * k + j] = (prob - select(0.0, 1.0, j == y)) / f32(rows);
    }
    return vec2<f32>(log(sum) - (logits[r * k + y] - mx), select(0.0, 1.0, best == y));
}

// One thread per row (RowsParams).
@compute @workgroup_size(256)
fn softmax_cross_entropy(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let r = flat_index(wg, groups, l);
    let p = rows_params();
    if (r >= p.rows) { return; }
    let out = row_cross_entropy(r, p.rows, p.k);
    row_loss[r] = out.x;
    row_correct[r] = out.y;
}

// The same for a small batch in one thread (Kernels::BarrierFree: one dispatch instead of a
// parallel one and an adding one): row_loss[0] and row_correct[0] get the batch's loss sum and
// correct count (RowsParams).
@compute @workgroup_size(1)
fn softmax_cross_entropy_serial() {
    let p = rows_params();
    var totals = vec2<f32>(0.0);
    for (var r = 0u; r < p.rows; r++) { totals += row_cross_entropy(r, p.rows, p.k); }
    row_loss[0] = totals.x;
    row_correct[0] = totals.y;
}

// The batch's summed loss and correct count from the rows' (Kernels::BarrierFree: one thread, no
// barrier), bound as: logits ← row losses, labels ← row hits, row_loss ← the loss sum [1],
// row_correct ← the correct count [1]; grad is not touched (RowsParams; k is not read).
@compute @workgroup_size(1)
fn loss_totals_serial() {
    let rows = rows_params().rows;
    var loss = 0.0;
    var hits = 0.0;
    for (var r = 0u; r < rows; r++) {
        loss += logits[r];
        hits += labels[r];
    }
    row_loss[0] = loss;
    row_correct[0] = hits;
}
