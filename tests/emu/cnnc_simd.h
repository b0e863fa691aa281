/* cnnc_simd.h (tests/emu) — the `auto` dispatcher for emulated runs, for
 * tests only: with -DCNNC_EMULATE_AVX512 (or _AVX2) and tests/emu ahead of
 * the runtime on the include path, --target=auto code takes the emulated
 * 16-lane (8-lane) header and its `#if CNNC_LANES == 16` branches.
 * Defining __AVX512F__ instead would not do: the real runtime/cnnc_simd.h
 * includes its siblings with quotes, which finds the real header next to
 * it before any -I directory.  Same include guard as the real dispatcher. */
#ifndef CNNC_SIMD_H
#define CNNC_SIMD_H

#if defined(CNNC_EMULATE_AVX512)
#include "cnnc_simd_avx512.h"
#elif defined(CNNC_EMULATE_AVX2)
#include "cnnc_simd_avx2.h"
#else
#error "tests/emu on the include path for --target=auto: define CNNC_EMULATE_AVX512 or CNNC_EMULATE_AVX2"
#endif

#endif
