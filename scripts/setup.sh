#!/usr/bin/env bash
# Installs what building, serving and testing Whetstone needs, skipping whatever is already present.
# Tools go into one fixed folder ($WHETSTONE_TOOLS, default /opt/whetstone-tools) so later runs reuse them.
set -euo pipefail

TOOLS="${WHETSTONE_TOOLS:-/opt/whetstone-tools}"
TRUNK_VERSION=0.21.14
BINDGEN_VERSION=0.2.130
BINARYEN_VERSION=132.0.0
ONNXRUNTIME_VERSION=1.31.1
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$TOOLS/bin"

log() { printf '[setup] %s\n' "$*"; }

sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_packages=()
command -v chromium >/dev/null || apt_packages+=(chromium)
command -v chromedriver >/dev/null || apt_packages+=(chromium-driver)
[ -e /usr/share/vulkan/icd.d/lvp_icd.x86_64.json ] || [ -e /usr/share/vulkan/icd.d/lvp_icd.json ] || apt_packages+=(mesa-vulkan-drivers)
ldconfig -p | grep -q 'libvulkan.so.1' || apt_packages+=(libvulkan1)
command -v python3 >/dev/null || apt_packages+=(python3)
python3 -c 'import ensurepip, venv' 2>/dev/null || apt_packages+=(python3-venv)
if [ ${#apt_packages[@]} -gt 0 ]; then
  log "apt: ${apt_packages[*]}"
  sudo_if_needed apt-get update -qq
  DEBIAN_FRONTEND=noninteractive sudo_if_needed apt-get install -y -qq "${apt_packages[@]}" >/dev/null
fi

rustup target list --installed | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

if ! "$TOOLS/bin/trunk" --version 2>/dev/null | grep -q "$TRUNK_VERSION"; then
  log "installing trunk $TRUNK_VERSION (several minutes)"
  cargo install trunk --locked --version "$TRUNK_VERSION" --root "$TOOLS" --quiet
fi
if ! "$TOOLS/bin/wasm-bindgen" --version 2>/dev/null | grep -q "$BINDGEN_VERSION"; then
  log "installing wasm-bindgen-cli $BINDGEN_VERSION (several minutes)"
  # Not --locked: the CLI's own lock file names a crate version the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$BINDGEN_VERSION" --root "$TOOLS" --quiet
fi
if ! "$TOOLS/binaryen/node_modules/.bin/wasm-opt" --version 2>/dev/null | grep -q "version ${BINARYEN_VERSION%%.*}"; then
  log "installing wasm-opt (npm binaryen $BINARYEN_VERSION)"
  mkdir -p "$TOOLS/binaryen"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS/binaryen" "binaryen@$BINARYEN_VERSION"
fi
ln -sf "$TOOLS/binaryen/node_modules/.bin/wasm-opt" "$TOOLS/bin/wasm-opt"

# onnxruntime (from PyPI) checks the ONNX export in the tests; it lives in its own virtual environment.
if ! "$TOOLS/venv/bin/python" -c "import onnxruntime, sys; sys.exit(onnxruntime.__version__ != '$ONNXRUNTIME_VERSION')" 2>/dev/null; then
  log "installing onnxruntime $ONNXRUNTIME_VERSION into $TOOLS/venv"
  python3 -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check "onnxruntime==$ONNXRUNTIME_VERSION" numpy
fi

if [ ! -d "$ROOT/node_modules" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
  log "npm ci"
  (cd "$ROOT" && npm ci --silent --no-audit --no-fund)
fi
if [ ! -s "$ROOT/assets/mnist-10k.bin" ] || [ "$ROOT/scripts/build-mnist.mjs" -nt "$ROOT/assets/mnist-10k.bin" ]; then
  (cd "$ROOT" && node scripts/build-mnist.mjs)
fi
if [ ! -s "$ROOT/assets/words.tsv" ] || [ "$ROOT/scripts/build-words.mjs" -nt "$ROOT/assets/words.tsv" ]; then
  (cd "$ROOT" && node scripts/build-words.mjs)
fi
if [ ! -s "$ROOT/assets/pretrained-digits-0-4.safetensors" ] || [ "$ROOT/examples/pretrain.rs" -nt "$ROOT/assets/pretrained-digits-0-4.safetensors" ]; then
  log "pretraining the CNN on digits 0–4 (about a minute)"
  (cd "$ROOT" && cargo run --quiet --release --example pretrain)
fi
log "tools ready in $TOOLS/bin"
