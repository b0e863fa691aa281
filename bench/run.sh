#!/usr/bin/env bash
# run.sh — the cnnc benchmark, one command (not part of CI):
#
#   bash bench/run.sh [--models lenet5,mnist] [--seconds 1]
#   bash bench/run.sh --layers      # single layers of ResNets, into bench/LAYERS.md
#
# Installs what the peers need if missing (Debian: oneDNN, PyTorch, ONNX,
# Node.js; npm: onnxruntime-node into bench/node_modules from the committed
# lock file), builds cnnc in bench/out/build, writes the example weights that
# are not committed, then runs bench.py, which measures every row and writes
# bench/RESULTS.md.  A full run (3 rounds) takes 8 minutes on a quiet machine, 20 on a busy one.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cd "$root"

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# cnnc's own build dependencies, then the peers'.
bash scripts/setup.sh
packages=(g++ libdnnl-dev python3-torch python3-onnx python3-numpy time util-linux valgrind)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from elsewhere (NodeSource ships npm inside its nodejs).
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# onnxruntime-node ships its CPU binaries in the package; its install script
# would only fetch optional CUDA libraries, so it is skipped.
if [ ! -e bench/node_modules/onnxruntime-node/package.json ]; then
  echo "bench: npm ci (onnxruntime-node)"
  (cd bench && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi

# Seeded random weights of the examples that are not committed (flowers).
need_weights=()
for m in lenet5 mnist cifar flowers policy; do
  [ -e examples/"$m".safetensors ] || [ -e examples/"$m".npz ] || need_weights+=("$m")
done
if [ ${#need_weights[@]} -gt 0 ]; then
  /usr/bin/python3 examples/make_weights.py "${need_weights[@]}"
fi
# And of the single layers (--layers), none committed.
/usr/bin/python3 bench/layers/make_weights.py

# cnnc itself; if it does not build, its rows say n/a and the peers still run.
[ -d bench/out/build ] || meson setup bench/out/build --buildtype=release >/dev/null
ninja -C bench/out/build -j2 compiler/cnnc >/dev/null || echo "bench: cnnc did not build; its rows will be n/a"

exec /usr/bin/python3 bench/bench.py "$@"
