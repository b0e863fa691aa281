/* cnnc_simd_avx512.h (tests/emu) — AVX-512F (16 lanes) emulated in portable C, for
 * tests only: stands in for runtime/cnnc_simd_avx512.h (same guard, CNNC_LANES,
 * CNNC_ISA) when tests/emu comes first on the include path.  See
 * cnnc_simd_emu.h. */
#ifndef CNNC_SIMD_AVX512_H
#define CNNC_SIMD_AVX512_H

#define CNNC_LANES 16
#define CNNC_ISA "avx512"
#include "cnnc_simd_emu.h"

#endif
