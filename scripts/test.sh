#!/usr/bin/env bash
# Runs every test: formatting and lints; native unit, gradient and training tests; the ONNX export run in onnxruntime and the PyTorch export in PyTorch; the
# core inside headless Chromium (wasm-bindgen-test); and the built page driven end to end with
# Playwright.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/setup.sh"
PYTHON="${WHETSTONE_TOOLS:-/opt/whetstone-tools}/venv/bin/python"
# PyTorch, safetensors, Optuna and SciPy (from PyPI, at the versions the exported PyTorch project pins) check that
# export; test-only, so the playground's setup does not fetch them.
if ! "$PYTHON" -c "
import importlib.metadata as m, sys
pins = [line.split('==') for line in open('src/pytorch/requirements.txt').read().split()]
sys.exit(any(m.version(name) != version for name, version in pins))" 2>/dev/null; then
  echo "== installing the PyTorch export's packages (src/pytorch/requirements.txt)"
  "$PYTHON" -m pip install --quiet --disable-pip-version-check -r src/pytorch/requirements.txt
fi
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

echo "== exports: ONNX in onnxruntime, the PyTorch project in PyTorch and back"
cargo run --quiet --release --example export_fixtures -- target/export-check
"$PYTHON" tests/onnx/check.py target/export-check
"$PYTHON" tests/pytorch/check.py target/export-check
cargo run --quiet --release --example export_fixtures -- verify target/export-check
"$PYTHON" tests/pytorch/train_check.py target/export-check
"$PYTHON" tests/pytorch/search_check.py target/export-check

echo "== wasm tests in headless Chromium"
cargo test --target wasm32-unknown-unknown --test browser

echo "== end-to-end tests of the built page"
trunk build --release
# One file at a time: each trains in workers, and the machine's cores are theirs.
node --test --test-concurrency=1 tests/e2e/
