#!/usr/bin/env bash
# The main job, end to end: install what is missing, build cnnc, compile a
# model to C, build that C into a small program, run it.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null

out=build/demo
mkdir -p "$out"
echo "== cnnc examples/demo/edges.cnn --summary"
build/compiler/cnnc examples/demo/edges.cnn --summary
echo "== cnnc examples/demo/edges.cnn -o $out/edges.c"
build/compiler/cnnc examples/demo/edges.cnn -o "$out/edges.c"
echo "== cc -O2 demo.c edges.c"
cc -std=c11 -O2 -Wall -Wextra -Wpedantic -march=native -I runtime -I "$out" \
   examples/demo/demo.c "$out/edges.c" -lm -o "$out/demo"
"$out/demo"
