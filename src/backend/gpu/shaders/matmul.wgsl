// c = op(a)·op(b) [+ c if accumulating] [+ bias[j] on every row]; op transposes when flagged.
// params: m, k, n, flags (1: transpose a, 2: transpose b, 4: accumulate, 8: bias).
// Each 16×16 workgroup computes a 64×64 tile of c, each thread a 4×4 block, stepping through k in
// slices of 16 that are staged in workgroup memory.
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

const TILE: u32 = 64u;
const KT: u32 = 16u;
var<workgroup> tile_a: array<f32, 1024>; // [KT][TILE]
var<workgroup> tile_b: array<f32, 1024>; // [KT][TILE]

@compute @workgroup_size(16, 16)
fn matmul(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let m = pu(0u);
    let k = pu(1u);
    let n = pu(2u);
    let flags = pu(3u);
    let ta = (flags & 1u) != 0u;
    let tb = (flags & 2u) != 0u;
    let row0 = wg.y * TILE;
    let col0 = wg.x * TILE;
    let tid = lid.y * 16u + lid.x;
    var acc: array<f32, 16>;
    for (var k0 = 0u; k0 < k; k0 += KT) {
        for (var r = 0u; r < 4u; r++) {
            let e = tid + r * 256u;
            // Walk memory contiguously: along i when a is stored transposed ([k, m]), else along k.
            var i: u32; var kk: u32;
            if (ta) { i = e % TILE; kk = e / TILE; } else { kk = e % KT; i = e / KT; }
            let gi = row0 + i;
            let gk = k0 + kk;
            var v = 0.0;
            if (gi < m && gk < k) { v = select(a[gi * k + gk], a[gk * m + gi], ta); }
            tile_a[kk * TILE + i] = v;
            var j: u32; var kb: u32;
            if (tb) { kb = e % KT; j = e / KT; } else { j = e % TILE; kb = e / TILE; }
            let gj = col0 + j;
            let gkb = k0 + kb;
            var w = 0.0;
            if (gj < n && gkb < k) { w = select(b[gkb * n + gj], b[gj * k + gkb], tb); }
            tile_b[kb * TILE + j] = w;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < KT; kk++) {
            let ai = kk * TILE + lid.y * 4u;
            let bj = kk * TILE + lid.x * 4u;
            let av = vec4<f32>(tile_a[ai], tile_a[ai + 1u], tile_a[ai + 2u], tile_a[ai + 3u]);
            let bv = vec4<f32>(tile_b[bj], tile_b[bj + 1u], tile_b[bj + 2u], tile_b[bj + 3u]);
            for (var r = 0u; r < 4u; r++) {
                acc[r * 4u] += av[r] * bv.x;
                acc[r * 4u + 1u] += av[r] * bv.y;
                acc[r * 4u + 2u] += av[r] * bv.z;
                acc[r * 4u + 3u] += av[r] * bv.w;
            }
        }
        workgroupBarrier();
    }
    for (var r = 0u; r < 4u; r++) {
        let i = row0 + lid.y * 4u + r;
        for (var s = 0u; s < 4u; s++) {
            let j = col0 + lid.x * 4u + s;
            if (i < m && j < n) {
                var v = acc[r * 4u + s];
                if ((flags & 4u) != 0u) { v += c[i * n + j]; }
                if ((flags & 8u) != 0u) { v += bias[j]; }
                c[i * n + j] = v;
            }
        }
    }
}
