#!/bin/sh
# Microbenchmark of cnnc's SIMD kernels: generate, compile, run on core 1.
# Usage: bench/kernels/run.sh [avx512|avx2|sse4|auto] [extra cc flags]
# KEEP=FILE also keeps the generated C there (for objdump or callgrind);
# KERNELS=TEXT benchmarks only the layers whose name contains TEXT (e.g. wino).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../..
target=${1:-avx512}
shift || true
case $target in
    avx512) flags="-mavx512f" ;;
    avx2) flags="-mavx2 -mfma" ;;
    sse4) flags="-msse4.1" ;;
    *) flags="-march=native" ;;
esac
out=${TMPDIR:-/tmp}/cnnc_kernel_bench_$$
cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -I"$root/compiler" "$here/kernel_bench.c" \
    "$root/compiler/ops/conv_simd.c" "$root/compiler/ops/conv_pixels.c" "$root/compiler/ops/conv_dot.c" "$root/compiler/ops/conv_winograd.c" "$root/compiler/ops/dense_simd.c" "$root/compiler/ops/lincomb.c" "$root/compiler/target.c" \
    "$root/compiler/util.c" "$root/compiler/shape.c" "$root/compiler/emit_c.c" "$root/compiler/diag.c" "$root/compiler/layout.c" \
    "$here/stubs.c" -o "$out.gen" -lm
"$out.gen" "$target" > "$out.c"
start=$(date +%s.%N)
cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L $flags "$@" -I"$root/runtime" -I"$here" "$out.c" -o "$out" -lm
end=$(date +%s.%N)
echo "generated $(wc -c < "$out.c") bytes of C; gcc -O2 took $(echo "$end - $start" | bc) s"
taskset -c 1 "$out"
[ -n "${KEEP:-}" ] && cp "$out.c" "$KEEP"
rm -f "$out" "$out.c" "$out.gen"
