//! The matrix product the wasm build runs: blocks of both operands are copied into panels that a
//! 4×8 micro-kernel reads in order, its eight SIMD128 accumulators held in registers.
//!
//! Why not the `gemm` crate here, as natively: its wasm kernel keeps a 12×4 tile, twelve
//! accumulators that with their operands exceed the sixteen vector registers V8 has on x64, so V8
//! spills them. On panels in L1, a 4×8 tile runs at 56–58 GFLOP/s in Chromium 156 and Node 20 where
//! a 12×4 one runs at 33 (one core of this machine). Relaxed-SIMD's fused multiply-add added about
//! 5 % to the 4×8 tile in Chromium and nothing in Node, too little for a second wasm build.

use std::cell::RefCell;

/// Rows and columns of the micro-kernel's tile.
const MR: usize = 4;
pub const NR: usize = 8;
/// Depth of one pass over the panels (a panel of B, `KC·NR` floats, stays in L1) and rows of A
/// packed at once (`MC·KC` floats, in L2).
const KC: usize = 256;
const MC: usize = 64;

/// A matrix operand read through strides: element `(i, j)` is `data[i·rs + j·cs]`.
#[derive(Clone, Copy)]
struct View<'a> {
    data: &'a [f32],
    rs: usize,
    cs: usize,
}

impl View<'_> {
    fn at(&self, i: usize, j: usize) -> f32 {
        self.data[i * self.rs + j * self.cs]
    }
}

thread_local! {
    /// The packed panels of A and B, kept between products so the hot path does not allocate.
    static PANELS: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// The right operand of a product, `k` rows by `n` columns, as the product reads it: panel by
/// panel, so that an operand need not exist as a matrix (a convolution's receptive fields).
pub trait Rhs {
    /// Writes rows `p0..p0 + kc` of columns `col..col + NR` into `panel`, `kc` steps of NR values
    /// each. Columns at or past `n` may hold any values: the product does not store the
    /// outputs they give.
    fn pack(&self, panel: &mut [f32], p0: usize, kc: usize, col: usize, n: usize);
}

impl Rhs for View<'_> {
    fn pack(&self, panel: &mut [f32], p0: usize, kc: usize, col: usize, n: usize) {
        for (p, step) in panel.chunks_exact_mut(NR).take(kc).enumerate() {
            if self.cs == 1 && col + NR <= n {
                let start = (p0 + p) * self.rs + col;
                step.copy_from_slice(&self.data[start..start + NR]);
            } else {
                for (j, v) in step.iter_mut().enumerate() {
                    *v = if col + j < n { self.at(p0 + p, col + j) } else { 0.0 };
                }
            }
        }
    }
}

/// `c = op(a) · op(b)` (or `c += …` when `accumulate`), with the layout of
/// [`super::matmul::gemm_into`], which checks the sizes and calls this in the wasm build.
#[cfg(any(target_arch = "wasm32", test))]
#[allow(clippy::too_many_arguments)]
pub fn gemm(
    c: &mut [f32],
    a: &[f32],
    b: &[f32],
    m: usize,
    k: usize,
    n: usize,
    transpose_a: bool,
    transpose_b: bool,
    accumulate: bool,
) {
    let b = if transpose_b {
        View { data: b, rs: 1, cs: k }
    } else {
        View { data: b, rs: n, cs: 1 }
    };
    product(c, a, transpose_a, &b, m, k, n, accumulate);
}

/// `c = op(a) · b` (or `c += …` when `accumulate`): `c` is `[m, n]` row-major, `a` is stored
/// `[m, k]` (or `[k, m]` when `transpose_a`), `b` is whatever packs `k` rows of `n` columns.
#[allow(clippy::too_many_arguments)]
pub fn product(
    c: &mut [f32],
    a: &[f32],
    transpose_a: bool,
    b: &impl Rhs,
    m: usize,
    k: usize,
    n: usize,
    accumulate: bool,
) {
    assert_eq!(a.len(), m * k, "lhs size");
    assert_eq!(c.len(), m * n, "output size");
    if !accumulate {
        c.fill(0.0);
    }
    let a = if transpose_a {
        View { data: a, rs: 1, cs: m }
    } else {
        View { data: a, rs: k, cs: 1 }
    };
    PANELS.with_borrow_mut(|(packed_a, packed_b)| {
        for p0 in (0..k).step_by(KC) {
            let kc = KC.min(k - p0);
            let panels = n.div_ceil(NR);
            packed_b.resize(packed_b.len().max(panels * kc * NR), 0.0);
            for (jp, panel) in packed_b.chunks_exact_mut(kc * NR).take(panels).enumerate() {
                b.pack(panel, p0, kc, jp * NR, n);
            }
            for i0 in (0..m).step_by(MC) {
                let mc = MC.min(m - i0);
                pack_a(packed_a, a, i0, mc, p0, kc);
                for (jp, b_panel) in packed_b.chunks_exact(kc * NR).take(panels).enumerate() {
                    for (ip, a_panel) in packed_a.chunks_exact(kc * MR).take(mc.div_ceil(MR)).enumerate() {
                        let tile = kernel(a_panel, b_panel);
                        add_tile(c, n, i0 + ip * MR, jp * NR, m, &tile);
                    }
                }
            }
        }
    });
}

/// Adds the tile whose top-left is `(row, col)` onto `c` (`[m, n]`), the part inside it.
fn add_tile(c: &mut [f32], n: usize, row: usize, col: usize, m: usize, tile: &[[f32; NR]; MR]) {
    let (rows, cols) = (MR.min(m - row), NR.min(n - col));
    for (i, values) in tile.iter().enumerate().take(rows) {
        let start = (row + i) * n + col;
        if cols == NR {
            // A whole row of the tile: a constant length, so two vector adds.
            let out: &mut [f32; NR] = (&mut c[start..start + NR]).try_into().expect("NR places");
            for (o, v) in out.iter_mut().zip(values) {
                *o += v;
            }
        } else {
            for (o, v) in c[start..start + cols].iter_mut().zip(values) {
                *o += v;
            }
        }
    }
}

/// Rows `i0..i0 + mc`, columns `p0..p0 + kc` of `a` as panels of MR rows, each `kc` steps of MR
/// values; rows past the end are zeros.
fn pack_a(out: &mut Vec<f32>, a: View, i0: usize, mc: usize, p0: usize, kc: usize) {
    let panels = mc.div_ceil(MR);
    out.resize(out.len().max(panels * kc * MR), 0.0);
    for (ip, panel) in out.chunks_exact_mut(kc * MR).take(panels).enumerate() {
        let row0 = i0 + ip * MR;
        let rows = MR.min(i0 + mc - row0);
        if a.cs == 1 {
            // Rows stored whole: each is read along and written down its place in the steps.
            for i in 0..MR {
                if i < rows {
                    let start = (row0 + i) * a.rs + p0;
                    for (step, &v) in panel.chunks_exact_mut(MR).zip(&a.data[start..start + kc]) {
                        step[i] = v;
                    }
                } else {
                    panel.chunks_exact_mut(MR).for_each(|step| step[i] = 0.0);
                }
            }
        } else {
            // Stored transposed: each step's values lie side by side.
            for (p, step) in panel.chunks_exact_mut(MR).enumerate() {
                let start = (p0 + p) * a.cs + row0;
                step[..rows].copy_from_slice(&a.data[start..start + rows]);
                step[rows..].fill(0.0);
            }
        }
    }
}

/// The MR×NR product of a packed panel of A and one of B (the same number of steps).
#[cfg(target_arch = "wasm32")]
fn kernel(a: &[f32], b: &[f32]) -> [[f32; NR]; MR] {
    use core::arch::wasm32::{f32x4_add, f32x4_mul, f32x4_splat, v128, v128_load, v128_store};
    let mut acc = [[f32x4_splat(0.0); NR / 4]; MR];
    for (a_step, b_step) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
        // SAFETY: `b_step` holds NR = 8 floats, so both loads lie inside it (v128_load takes any
        // alignment).
        let (b0, b1) = unsafe {
            (
                v128_load(b_step.as_ptr().cast::<v128>()),
                v128_load(b_step.as_ptr().add(4).cast::<v128>()),
            )
        };
        for (row, &x) in acc.iter_mut().zip(a_step) {
            let x = f32x4_splat(x);
            row[0] = f32x4_add(row[0], f32x4_mul(x, b0));
            row[1] = f32x4_add(row[1], f32x4_mul(x, b1));
        }
    }
    let mut tile = [[0.0; NR]; MR];
    for (out, row) in tile.iter_mut().zip(&acc) {
        // SAFETY: `out` holds NR = 8 floats, so both stores lie inside it.
        unsafe {
            v128_store(out.as_mut_ptr().cast::<v128>(), row[0]);
            v128_store(out.as_mut_ptr().add(4).cast::<v128>(), row[1]);
        }
    }
    tile
}

/// The same product in plain Rust, so the packing is tested natively (where the `gemm` crate runs
/// the products).
#[cfg(not(target_arch = "wasm32"))]
fn kernel(a: &[f32], b: &[f32]) -> [[f32; NR]; MR] {
    let mut tile = [[0.0; NR]; MR];
    for (a_step, b_step) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
        for (row, &x) in tile.iter_mut().zip(a_step) {
            for (t, &y) in row.iter_mut().zip(b_step) {
                *t += x * y;
            }
        }
    }
    tile
}

#[cfg(test)]
mod tests {
    #[test]
    fn packed_product_matches_the_definition() {
        crate::testing::check_matrix_product(super::gemm);
    }
}
