#!/usr/bin/env bash
# Sets up what is missing and serves the playground on http://127.0.0.1:${PORT:-8080}/ with Trunk.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/setup.sh"
export PATH="${WHETSTONE_TOOLS:-/opt/whetstone-tools}/bin:$PATH" TRUNK_SKIP_VERSION_CHECK=true
exec trunk serve --release --address "${ADDRESS:-127.0.0.1}" --port "${PORT:-8080}"
