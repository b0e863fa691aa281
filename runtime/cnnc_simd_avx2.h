/* cnnc_simd_avx2.h — cnnc's SIMD vocabulary on AVX2 + FMA (8 lanes).
 *
 * Same helpers and meaning as cnnc_simd_scalar.h, the reference.  Exact
 * tails use vmaskmovps with a mask taken from a sliding window of a constant
 * table, so no byte past n is touched (masked-off lanes never fault).
 * Compile with -mavx2 -mfma.
 * Licence: MIT, like the rest of cnnc.
 */
#ifndef CNNC_SIMD_AVX2_H
#define CNNC_SIMD_AVX2_H

#include <immintrin.h>

#define CNNC_LANES 8
#define CNNC_ISA "avx2"

typedef __m256 cnnc_v;

static inline cnnc_v cnnc_vzero(void) { return _mm256_setzero_ps(); }
static inline cnnc_v cnnc_vload(const float *p) { return _mm256_loadu_ps(p); }
static inline cnnc_v cnnc_vload_aligned(const float *p) { return _mm256_load_ps(p); }
static inline void cnnc_vstore(float *p, cnnc_v v) { _mm256_storeu_ps(p, v); }
static inline void cnnc_vstore_aligned(float *p, cnnc_v v) { _mm256_store_ps(p, v); }
static inline void cnnc_prefetch(const float *p) { _mm_prefetch((const char *)p, _MM_HINT_T0); }

/* Lanes 0..n-1 set: the 8 ints starting at cnnc_tail_mask_window + 8 - n. */
static inline __m256i cnnc_tail_mask(int n) {
    static const int window[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    return _mm256_loadu_si256((const __m256i *)(const void *)(window + 8 - n));
}

static inline cnnc_v cnnc_vload_tail(const float *p, int n) {
    return _mm256_maskload_ps(p, cnnc_tail_mask(n));
}

static inline void cnnc_vstore_tail(float *p, cnnc_v v, int n) {
    _mm256_maskstore_ps(p, cnnc_tail_mask(n), v);
}

static inline cnnc_v cnnc_vbcast(float x) { return _mm256_set1_ps(x); }
static inline cnnc_v cnnc_vfma(cnnc_v a, cnnc_v b, cnnc_v c) { return _mm256_fmadd_ps(a, b, c); }
static inline cnnc_v cnnc_vadd(cnnc_v a, cnnc_v b) { return _mm256_add_ps(a, b); }
static inline cnnc_v cnnc_vsub(cnnc_v a, cnnc_v b) { return _mm256_sub_ps(a, b); }
static inline cnnc_v cnnc_vmul(cnnc_v a, cnnc_v b) { return _mm256_mul_ps(a, b); }
static inline cnnc_v cnnc_vdiv(cnnc_v a, cnnc_v b) { return _mm256_div_ps(a, b); }
static inline cnnc_v cnnc_vmax(cnnc_v a, cnnc_v b) { return _mm256_max_ps(a, b); }
static inline cnnc_v cnnc_vmin(cnnc_v a, cnnc_v b) { return _mm256_min_ps(a, b); }
/* NaN when either is: maxps gives b for a NaN a, so a NaN a is or-ed back in. */
static inline cnnc_v cnnc_vmaxnan(cnnc_v a, cnnc_v b) {
    return _mm256_or_ps(_mm256_max_ps(a, b), _mm256_and_ps(_mm256_cmp_ps(a, a, _CMP_UNORD_Q), a));
}

static inline float cnnc_vhsum(cnnc_v v) {
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    q = _mm_add_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_add_ss(q, _mm_shuffle_ps(q, q, 1)));
}

static inline cnnc_v cnnc_vround(cnnc_v x) {
    return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

static inline cnnc_v cnnc_vpow2i(cnnc_v n) {
    __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
}

/* Lanes where a < b take t, the others f. */
static inline cnnc_v cnnc_vsel_lt(cnnc_v a, cnnc_v b, cnnc_v t, cnnc_v f) {
    return _mm256_blendv_ps(f, t, _mm256_cmp_ps(a, b, _CMP_LT_OQ));
}
static inline cnnc_v cnnc_vabs(cnnc_v x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }
/* |mag| with the sign of sgn. */
static inline cnnc_v cnnc_vcopysign(cnnc_v mag, cnnc_v sgn) {
    __m256 sign = _mm256_set1_ps(-0.0f);
    return _mm256_or_ps(_mm256_andnot_ps(sign, mag), _mm256_and_ps(sign, sgn));
}

/* The even and the odd elements of the 16-lane concatenation a:b: shuffle
 * within 128-bit halves, then put the 64-bit quarters in order. */
static inline cnnc_v cnnc_veven(cnnc_v a, cnnc_v b) {
    __m256 t = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(t), _MM_SHUFFLE(3, 1, 2, 0)));
}
static inline cnnc_v cnnc_vodd(cnnc_v a, cnnc_v b) {
    __m256 t = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(t), _MM_SHUFFLE(3, 1, 2, 0)));
}

#include "cnnc_simd_math.h"

#endif
