/* cnnc_simd_sse4.h (tests/emu) — SSE4.1 (4 lanes) emulated in portable C, for
 * tests only: stands in for runtime/cnnc_simd_sse4.h (same guard, CNNC_LANES,
 * CNNC_ISA) when tests/emu comes first on the include path.  See
 * cnnc_simd_emu.h. */
#ifndef CNNC_SIMD_SSE4_H
#define CNNC_SIMD_SSE4_H

#define CNNC_LANES 4
#define CNNC_ISA "sse4"
#define CNNC_EMU_NO_FMA   /* SSE4.1 has no fma: two roundings */
#include "cnnc_simd_emu.h"

#endif
