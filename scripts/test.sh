#!/usr/bin/env bash
# Runs every test: formatting and lints; native unit, gradient and training tests; the ONNX export run in onnxruntime; the
# core inside headless Chromium (wasm-bindgen-test); and the built page driven end to end with
# Playwright.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/setup.sh"
export PATH="${WHETSTONE_TOOLS:-/opt/whetstone-tools}/bin:$PATH"
export CHROMEDRIVER=/usr/bin/chromedriver TRUNK_SKIP_VERSION_CHECK=true XDG_RUNTIME_DIR=/tmp
# GPU tests must run here (lavapipe where there is no GPU), never pass by being skipped.
export WHETSTONE_REQUIRE_GPU=1
# The whole browser suite (WebGPU on SwiftShader included) gets five minutes, not the default 20 s.
export WASM_BINDGEN_TEST_TIMEOUT=300

echo "== formatting and lints (rustfmt, clippy, Biome)"
cargo fmt --check
cargo clippy --quiet --all-targets -- -D warnings
cargo clippy --quiet --target wasm32-unknown-unknown --lib --test browser -- -D warnings
npx biome ci --error-on-warnings

echo "== native tests"
cargo test

echo "== ONNX export against onnxruntime"
cargo run --quiet --release --example onnx_fixtures -- target/onnx-check
"${WHETSTONE_TOOLS:-/opt/whetstone-tools}/venv/bin/python" tests/onnx/check.py target/onnx-check

echo "== wasm tests in headless Chromium"
cargo test --target wasm32-unknown-unknown --test browser

echo "== end-to-end tests of the built page"
trunk build --release
# One file at a time: each trains in workers, and the machine's cores are theirs.
node --test --test-concurrency=1 tests/e2e/
