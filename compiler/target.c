/* target.c — the SIMD targets as data records.  The emitter asks a record
 * (lanes, fma, header) instead of testing the target kind everywhere. */
#include "cnnc.h"

#include <string.h>

static const Target targets[] = {
    {TARGET_AUTO, "auto", 0, false, "cnnc_simd.h"},
    {TARGET_SCALAR, "scalar", 1, false, "cnnc_simd_scalar.h"},
    {TARGET_SSE4, "sse4", 4, false, "cnnc_simd_sse4.h"},
    {TARGET_AVX2, "avx2", 8, true, "cnnc_simd_avx2.h"},
    {TARGET_AVX512, "avx512", 16, true, "cnnc_simd_avx512.h"},
    {TARGET_NEON, "neon", 4, true, "cnnc_simd_neon.h"},
};

const Target *target_by_name(const char *name) {
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++)
        if (!strcmp(targets[i].name, name))
            return &targets[i];
    return NULL;
}
