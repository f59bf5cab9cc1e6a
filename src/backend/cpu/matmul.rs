//! Matrix products on the CPU: the `gemm` crate natively (AVX/FMA kernels), the packed 4×8
//! SIMD128 product of `packed.rs` in the wasm build.

/// `c = op(a) · op(b)` (or `c += …` when `accumulate`), all row-major and contiguous.
/// `a` is stored `[m, k]` (or `[k, m]` when `transpose_a`), `b` is stored `[k, n]` (or `[n, k]`
/// when `transpose_b`); `c` is `[m, n]`. Transposes cost nothing: they only swap strides.
#[allow(clippy::too_many_arguments)]
pub fn gemm_into(
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
    assert_eq!(a.len(), m * k, "lhs size");
    assert_eq!(b.len(), k * n, "rhs size");
    assert_eq!(c.len(), m * n, "output size");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c.fill(0.0);
        }
        return;
    }
    #[cfg(target_arch = "wasm32")]
    super::packed::gemm(c, a, b, m, k, n, transpose_a, transpose_b, accumulate);
    #[cfg(not(target_arch = "wasm32"))]
    crate_gemm(c, a, b, m, k, n, transpose_a, transpose_b, accumulate);
}

/// The product through the `gemm` crate (AVX/FMA kernels natively), sizes checked by the caller.
#[cfg(not(target_arch = "wasm32"))]
#[allow(clippy::too_many_arguments)]
fn crate_gemm(
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
    // (column stride, row stride) of each operand as gemm sees it.
    let (a_cs, a_rs) = if transpose_a { (m as isize, 1) } else { (1, k as isize) };
    let (b_cs, b_rs) = if transpose_b { (k as isize, 1) } else { (1, n as isize) };
    // SAFETY: the caller's asserts guarantee every index gemm forms from these sizes and strides
    // lies inside the three slices, and `c` does not alias `a` or `b` (it is borrowed mutably).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn matches_naive_product_for_all_transposes_and_odd_sizes() {
        crate::testing::check_matrix_product(super::gemm_into);
    }
}
