//! Helpers shared by every test target: the crate's own tests, the integration tests (through
//! `tests/common`), the parity cases natively and in the browser, and the examples that check
//! exports. Not used by the engine itself.

use crate::rng::Rng;

/// `n` standard-normal values drawn from `rng`.
pub fn normal(n: usize, rng: &mut Rng) -> Vec<f32> {
    (0..n).map(|_| rng.normal()).collect()
}

/// Standard-normal values for a tensor of `shape`, seeded.
pub fn random(shape: &[usize], seed: u64) -> Vec<f32> {
    normal(shape.iter().product(), &mut Rng::new(seed))
}

/// Asserts that `got` has `want`'s length and each of its values is within `tol · (1 + |want|)`
/// of `want`'s; a failure names `what` and the first element that is not.
pub fn assert_close(what: &str, want: &[f32], got: &[f32], tol: f32) {
    assert_eq!(want.len(), got.len(), "{what}: lengths");
    for (i, (w, g)) in want.iter().zip(got).enumerate() {
        assert!(
            (w - g).abs() <= tol * (1.0 + w.abs()),
            "{what}: element {i}: want {w}, got {g}"
        );
    }
}

/// The bytes of the built-in digits, as `scripts/setup.sh` builds them into `assets/`.
#[cfg(not(target_arch = "wasm32"))]
pub fn digits_bytes() -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/mnist-10k.bin");
    std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}; run scripts/setup.sh to build the digits asset"))
}

/// The built-in word-language list (`language<TAB>word` lines).
#[cfg(not(target_arch = "wasm32"))]
pub fn words_tsv() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/words.tsv");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}; run scripts/setup.sh to build the word list"))
}

/// The built-in digits.
#[cfg(not(target_arch = "wasm32"))]
pub fn digits() -> crate::data::Dataset {
    crate::data::mnist::decode(&digits_bytes()).expect("the digits asset decodes")
}

/// Every parameter of `spec`, each value 0.5: weights of the right names and shapes.
pub fn constant_weights(spec: &crate::nn::ModelSpec) -> Vec<crate::model_file::NamedTensor> {
    spec.param_shapes()
        .expect("a valid spec")
        .into_iter()
        .map(|(name, shape)| crate::model_file::NamedTensor {
            values: vec![0.5; shape.iter().product()],
            name,
            shape,
        })
        .collect()
}

/// A matrix product with the signature of `backend::cpu::gemm_into`.
pub type MatrixProduct = fn(&mut [f32], &[f32], &[f32], usize, usize, usize, bool, bool, bool);

/// Checks `product` against the definition (summed in f64) for every pair of transposes, with and
/// without accumulating, on sizes from one element to ones that cross the packed product's blocks
/// (256 deep, 64 rows) and leave partial 4×8 tiles.
pub fn check_matrix_product(product: MatrixProduct) {
    let mut rng = Rng::new(11);
    for (m, k, n) in [
        (1, 1, 1),
        (3, 5, 7),
        (17, 33, 9),
        (64, 25, 130),
        (70, 300, 19),
        (5, 513, 8),
        (130, 3, 33),
    ] {
        let a = normal(m * k, &mut rng);
        let b = normal(k * n, &mut rng);
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let mut want = vec![0.0f64; m * n];
            for i in 0..m {
                for j in 0..n {
                    for p in 0..k {
                        let av = if ta { a[p * m + i] } else { a[i * k + p] };
                        let bv = if tb { b[j * k + p] } else { b[p * n + j] };
                        want[i * n + j] += av as f64 * bv as f64;
                    }
                }
            }
            let mut c = vec![1.0; m * n];
            product(&mut c, &a, &b, m, k, n, ta, tb, false);
            for (x, y) in c.iter().zip(&want) {
                assert!(
                    (*x as f64 - y).abs() < 1e-4 * (1.0 + y.abs()),
                    "{m}x{k}x{n} {ta} {tb}: {x} against {y}"
                );
            }
            product(&mut c, &a, &b, m, k, n, ta, tb, true);
            for (x, y) in c.iter().zip(&want) {
                assert!(
                    (*x as f64 - 2.0 * y).abs() < 2e-4 * (1.0 + y.abs()),
                    "{m}x{k}x{n} {ta} {tb} accumulated"
                );
            }
        }
    }
}
