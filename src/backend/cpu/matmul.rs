//! Matrix products on the CPU through the `gemm` crate (SIMD128 kernels on wasm, AVX/FMA natively).

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
    // (column stride, row stride) of each operand as gemm sees it.
    let (a_cs, a_rs) = if transpose_a { (m as isize, 1) } else { (1, k as isize) };
    let (b_cs, b_rs) = if transpose_b { (k as isize, 1) } else { (1, n as isize) };
    // SAFETY: the asserts above guarantee every index gemm forms from these sizes and strides lies
    // inside the three slices, and `c` does not alias `a` or `b` (it is borrowed mutably).
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
    use super::*;
    use crate::rng::Rng;

    fn naive(a: &[f32], b: &[f32], m: usize, k: usize, n: usize, ta: bool, tb: bool) -> Vec<f64> {
        let mut c = vec![0.0f64; m * n];
        for i in 0..m {
            for j in 0..n {
                for p in 0..k {
                    let av = if ta { a[p * m + i] } else { a[i * k + p] };
                    let bv = if tb { b[j * k + p] } else { b[p * n + j] };
                    c[i * n + j] += av as f64 * bv as f64;
                }
            }
        }
        c
    }

    #[test]
    fn matches_naive_product_for_all_transposes_and_odd_sizes() {
        let mut rng = Rng::new(11);
        for &(m, k, n) in &[(1, 1, 1), (3, 5, 7), (17, 33, 9), (64, 25, 130)] {
            let a: Vec<f32> = (0..m * k).map(|_| rng.normal()).collect();
            let b: Vec<f32> = (0..k * n).map(|_| rng.normal()).collect();
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let want = naive(&a, &b, m, k, n, ta, tb);
                let mut c = vec![1.0; m * n];
                gemm_into(&mut c, &a, &b, m, k, n, ta, tb, false);
                for (x, y) in c.iter().zip(&want) {
                    assert!((*x as f64 - y).abs() < 1e-4 * (1.0 + y.abs()), "{m}x{k}x{n} {ta} {tb}");
                }
                gemm_into(&mut c, &a, &b, m, k, n, ta, tb, true);
                for (x, y) in c.iter().zip(&want) {
                    assert!((*x as f64 - 2.0 * y).abs() < 2e-4 * (1.0 + y.abs()), "accumulate");
                }
            }
        }
    }
}
