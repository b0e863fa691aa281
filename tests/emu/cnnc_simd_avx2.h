/* cnnc_simd_avx2.h (tests/emu) — AVX2+FMA (8 lanes) emulated in portable C, for
 * tests only: stands in for runtime/cnnc_simd_avx2.h (same guard, CNNC_LANES,
 * CNNC_ISA) when tests/emu comes first on the include path.  See
 * cnnc_simd_emu.h. */
#ifndef CNNC_SIMD_AVX2_H
#define CNNC_SIMD_AVX2_H

#define CNNC_LANES 8
#define CNNC_ISA "avx2"
#include "cnnc_simd_emu.h"

#endif
