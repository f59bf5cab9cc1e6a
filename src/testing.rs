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
