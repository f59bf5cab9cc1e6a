// c = op(a)·op(b) [+ bias[j] on every row], the same contract and MatmulParams as matmul.wgsl
// (flag 8 writes this split's partial product to c[z·m·n..]).
//
// No workgroup memory and no barrier: each thread keeps a {ROWS}×{COLS} block of c in vec4
// accumulators and reads its operands straight from storage (a register-block template: see
// `register_block` in kernels.rs). On a software adapter (SwiftShader, lavapipe) a
// barrier suspends every invocation group of the workgroup, which costs more than the loads it
// saves; this kernel is several times faster there than the tiled one.
//
// k advances four terms at a time: each operand is read as vec4s along whichever axis it is
// contiguous in (a row of a along k, or a column of op(a) along m when a is transposed; b along
// n, or along k when transposed), and the 4×4 pieces are turned to shape by `transpose`, which
// costs no memory traffic. The operand readers come from matmul_operands.wgsl (any size, four
// scalar loads per vec4) or matmul_operands_vec4.wgsl (m, k and n multiples of 4, one load per
// vec4: on SwiftShader a vec4 load costs about what a scalar one does). Lines ending in a
// transpose tag are kept only in the pipelines of that transpose (see `matmul_registers_source`).

@compute @workgroup_size({GROUP})
fn {NAME}(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) l: u32) {
    let p = matmul_params();
    let m = p.m;
    let k = p.k;
    let n = p.n;
    let flags = p.flags;
    let k_begin = wg.z * p.k_per_split;
    let k_end = min(k, k_begin + p.k_per_split);
    // Threads walk the blocks of c row by row (see `register_launch` in mod.rs).
    let block = (wg.y * groups.x + wg.x) * {GROUP}u + l;
    let blocks_across = (n + {COLS}u - 1u) / {COLS}u;
    let i0 = (block / blocks_across) * {ROWS}u;
    let j0 = (block % blocks_across) * {COLS}u;
    if (i0 >= m) { return; }
    // Rows and columns past the edge read the last one and are never written.
    let row#r = min(i0 + #ru, m - 1u);
    let col#v = min(vec4<u32>(j0 + 4u * #vu) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(n - 1u));
    var acc#r_#v = vec4<f32>(0.0);
    for (var q = k_begin; q < k_end; q += 4u) {
        // a#r: row r of op(a) at q..q+3. b#v: column t is row q+t of op(b) at the columns col#v.
        let a#r = a_along_k(row#r, q, k, k_end); //@NA
        let at#h = transpose(mat4x4<f32>(a_along_m(q, i0 + 4u * #hu, m, k_end), a_along_m(q + 1u, i0 + 4u * #hu, m, k_end), a_along_m(q + 2u, i0 + 4u * #hu, m, k_end), a_along_m(q + 3u, i0 + 4u * #hu, m, k_end))); //@TA
        let a#r = at#h[#c]; //@TA
        let b#v = mat4x4<f32>(b_along_n(q, col#v, n, k_end), b_along_n(q + 1u, col#v, n, k_end), b_along_n(q + 2u, col#v, n, k_end), b_along_n(q + 3u, col#v, n, k_end)); //@NB
        let b#v = transpose(mat4x4<f32>(b_along_k(col#v.x, q, k, k_end), b_along_k(col#v.y, q, k, k_end), b_along_k(col#v.z, q, k, k_end), b_along_k(col#v.w, q, k, k_end))); //@TB
        acc#r_#v += b#v * a#r;
    }
    let base = select(0u, wg.z * m * n, (flags & 8u) != 0u);
    store_row(i0 + #ru, j0 + 4u * #vu, acc#r_#v, base, m, n, flags);
}
