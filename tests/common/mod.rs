use whetstone::data::{mnist, Dataset};

/// The built-in digits, as built by `scripts/build-mnist.mjs` (run by `scripts/setup.sh`).
pub fn digits() -> Dataset {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/mnist-10k.bin");
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}; run scripts/setup.sh to build the digits asset"));
    mnist::decode(&bytes).expect("digits asset decodes")
}
