#!/usr/bin/env bash
# Runs every test: native unit, gradient and training tests, then the browser tests.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/setup.sh"
export PATH="${WHETSTONE_TOOLS:-/opt/whetstone-tools}/bin:$PATH"

echo "== native tests"
cargo test
