// c = op(a)·op(b) [+ bias[j] on every row]; op transposes when flagged. MatmulParams: flags 1
// transposes a, 2 transposes b, 4 adds the bias, 8 writes this workgroup layer's partial product
// to c[z·m·n..] instead.
//
// A template: TM×TN tiles of c per workgroup of WX×WY threads, each thread a 4×4 block held in four
// vec4 accumulators, stepping through k in slices of KT staged in workgroup memory. Workgroups
// along z split k (split-K), so a small c with a long k still fills the device.
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

const TM: u32 = {TM}u;
const TN: u32 = {TN}u;
const KT: u32 = {KT}u;
const WX: u32 = {WX}u;
const WY: u32 = {WY}u;
var<workgroup> tile_a: array<f32, {TILE_A}>; // [KT][TM]
var<workgroup> tile_b: array<f32, {TILE_B}>; // [KT][TN]

@compute @workgroup_size({WX}, {WY})
fn {NAME}(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let p = matmul_params();
    let m = p.m;
    let k = p.k;
    let n = p.n;
    let flags = p.flags;
    let k_begin = wg.z * p.k_per_split;
    let k_end = min(k, k_begin + p.k_per_split);
    let ta = (flags & 1u) != 0u;
    let tb = (flags & 2u) != 0u;
    let row0 = wg.y * TM;
    let col0 = wg.x * TN;
    let tid = lid.y * WX + lid.x;
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    for (var k0 = k_begin; k0 < k_end; k0 += KT) {
        // Walk memory contiguously: along the rows of a stored transposed ([k, m]), else along k.
        for (var e = tid; e < KT * TM; e += WX * WY) {
            var i: u32; var kk: u32;
            if (ta) { i = e % TM; kk = e / TM; } else { kk = e % KT; i = e / KT; }
            let gi = row0 + i;
            let gk = k0 + kk;
            var v = 0.0;
            if (gi < m && gk < k_end) {
                if (ta) { v = a[gk * m + gi]; } else { v = a[gi * k + gk]; }
            }
            tile_a[kk * TM + i] = v;
        }
        for (var e = tid; e < KT * TN; e += WX * WY) {
            var j: u32; var kk: u32;
            if (tb) { kk = e % KT; j = e / KT; } else { j = e % TN; kk = e / TN; }
            let gj = col0 + j;
            let gk = k0 + kk;
            var w = 0.0;
            if (gj < n && gk < k_end) {
                if (tb) { w = b[gj * k + gk]; } else { w = b[gk * n + gj]; }
            }
            tile_b[kk * TN + j] = w;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < KT; kk++) {
            let ai = kk * TM + lid.y * 4u;
            let bj = kk * TN + lid.x * 4u;
            let bv = vec4<f32>(tile_b[bj], tile_b[bj + 1u], tile_b[bj + 2u], tile_b[bj + 3u]);
            acc0 += tile_a[ai] * bv;
            acc1 += tile_a[ai + 1u] * bv;
            acc2 += tile_a[ai + 2u] * bv;
            acc3 += tile_a[ai + 3u] * bv;
        }
        workgroupBarrier();
    }
    let partial = (flags & 8u) != 0u;
    let base = select(0u, wg.z * m * n, partial);
    for (var r = 0u; r < 4u; r++) {
        let i = row0 + lid.y * 4u + r;
        if (i >= m) { break; }
        var row: vec4<f32>;
        switch r {
            case 0u: { row = acc0; }
            case 1u: { row = acc1; }
            case 2u: { row = acc2; }
            default: { row = acc3; }
        }
        for (var s = 0u; s < 4u; s++) {
            let j = col0 + lid.x * 4u + s;
            if (j < n) {
                var v = row[s];
                if (!partial && (flags & 4u) != 0u) { v += bias[j]; }
                c[base + i * n + j] = v;
            }
        }
    }
}
