#!/usr/bin/env bash
# Benchmark (not a test): builds the release page and prints throughput natively and in Chromium.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/setup.sh"
export PATH="${WHETSTONE_TOOLS:-/opt/whetstone-tools}/bin:$PATH" TRUNK_SKIP_VERSION_CHECK=true XDG_RUNTIME_DIR=/tmp
trunk build --release
# The peers are benchmark-only packages, kept out of the project's own dependencies.
[ -d benches/peers/node_modules ] || npm ci --silent --no-audit --no-fund --prefix benches/peers
node scripts/bench.mjs
# What augmentation costs: the CNN on the coloured shapes with and without every augmentation.
cargo run --quiet --release --example augment_bench
# Uploading 10,000 images through the page: time, and how long the page's own thread was blocked.
node scripts/bench-upload.mjs
# The exported PyTorch project's CNN under PyTorch next to Whetstone's CPU backend (PyTorch is
# installed by scripts/test.sh, at the versions of src/pytorch/requirements.txt).
[ -f target/export-check/cnn_trained.pytorch.zip ] || cargo run --quiet --release --example export_fixtures -- target/export-check
"${WHETSTONE_TOOLS:-/opt/whetstone-tools}/venv/bin/python" scripts/bench_pytorch.py target/export-check
# A long run's memory on each backend, epoch by epoch.
node scripts/soak.mjs
