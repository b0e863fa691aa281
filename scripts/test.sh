#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine or a warm checkout:
#   1. installs missing Debian packages (scripts/setup.sh);
#   2. builds and runs every test (meson test: unit, diagnostics, weights,
#      end-to-end against PyTorch fixtures on every SIMD target the CPU has,
#      NEON under qemu, random differential models);
#   3. runs the suite again under AddressSanitizer + UBSan;
#   4. builds the libFuzzer targets with clang and runs each briefly.
# Ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh || exit 1
# flowers' 16 MB of example weights are generated, not committed.
[ -f examples/flowers.safetensors ] || /usr/bin/python3 examples/make_weights.py flowers || exit 1

jobs=$(nproc)
status=0
logs=()

# run_suite DIR [meson setup options...]: configure (once), build, test.
run_suite() {
  local dir=$1; shift
  [ -d "$dir" ] || meson setup "$dir" "$@" >/dev/null || { status=1; return; }
  ninja -C "$dir" -j "$jobs" >/dev/null || { ninja -C "$dir" -j 1 | tail -40; status=1; return; }
  meson test -C "$dir" --print-errorlogs --num-processes "$jobs" "${TEST_ARGS[@]}" || status=1
  logs+=("$dir/meson-logs/testlog.json")
}

echo "== tests (gcc, debugoptimized)"
TEST_ARGS=(--no-suite fuzz)
run_suite build-test

echo "== tests under AddressSanitizer and UndefinedBehaviorSanitizer"
TEST_ARGS=(--no-suite fuzz)
ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  run_suite build-asan -Db_sanitize=address,undefined -Db_lundef=false

echo "== fuzzing (libFuzzer, short bounded runs)"
TEST_ARGS=(--suite fuzz)
CC=clang run_suite build-fuzz -Dfuzz=true

/usr/bin/python3 - "${logs[@]}" <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        for line in open(path):
            r = json.loads(line)["result"]
            if r in ("OK", "EXPECTEDFAIL"): passed += 1
            elif r == "SKIP": skipped += 1
            else: failed += 1
    except FileNotFoundError:
        failed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
