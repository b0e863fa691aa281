/* cnnc_simd_avx512.h — cnnc's SIMD vocabulary on AVX-512F (16 lanes).
 *
 * Same helpers and meaning as cnnc_simd_scalar.h, the reference.  Exact
 * tails are masked loads/stores (k-registers), which never touch memory in
 * masked-off lanes.  Compile with -mavx512f (gcc/clang then also enable FMA).
 * Licence: MIT, like the rest of cnnc.
 */
#ifndef CNNC_SIMD_AVX512_H
#define CNNC_SIMD_AVX512_H

#include <immintrin.h>

#define CNNC_LANES 16
#define CNNC_ISA "avx512"

typedef __m512 cnnc_v;

static inline cnnc_v cnnc_vzero(void) { return _mm512_setzero_ps(); }
static inline cnnc_v cnnc_vload(const float *p) { return _mm512_loadu_ps(p); }
static inline cnnc_v cnnc_vload_aligned(const float *p) { return _mm512_load_ps(p); }
static inline void cnnc_vstore(float *p, cnnc_v v) { _mm512_storeu_ps(p, v); }
static inline void cnnc_vstore_aligned(float *p, cnnc_v v) { _mm512_store_ps(p, v); }
static inline void cnnc_prefetch(const float *p) { _mm_prefetch((const char *)p, _MM_HINT_T0); }

static inline __mmask16 cnnc_tail_mask(int n) { return (__mmask16)((1u << n) - 1u); }

static inline cnnc_v cnnc_vload_tail(const float *p, int n) {
    return _mm512_maskz_loadu_ps(cnnc_tail_mask(n), p);
}

static inline void cnnc_vstore_tail(float *p, cnnc_v v, int n) {
    _mm512_mask_storeu_ps(p, cnnc_tail_mask(n), v);
}

static inline cnnc_v cnnc_vbcast(float x) { return _mm512_set1_ps(x); }
static inline cnnc_v cnnc_vfma(cnnc_v a, cnnc_v b, cnnc_v c) { return _mm512_fmadd_ps(a, b, c); }
static inline cnnc_v cnnc_vadd(cnnc_v a, cnnc_v b) { return _mm512_add_ps(a, b); }
static inline cnnc_v cnnc_vsub(cnnc_v a, cnnc_v b) { return _mm512_sub_ps(a, b); }
static inline cnnc_v cnnc_vmul(cnnc_v a, cnnc_v b) { return _mm512_mul_ps(a, b); }
static inline cnnc_v cnnc_vdiv(cnnc_v a, cnnc_v b) { return _mm512_div_ps(a, b); }
static inline cnnc_v cnnc_vmax(cnnc_v a, cnnc_v b) { return _mm512_max_ps(a, b); }
static inline cnnc_v cnnc_vmin(cnnc_v a, cnnc_v b) { return _mm512_min_ps(a, b); }
/* NaN when either is: maxps gives b for a NaN a, whose lanes are put back. */
static inline cnnc_v cnnc_vmaxnan(cnnc_v a, cnnc_v b) {
    return _mm512_mask_mov_ps(_mm512_max_ps(a, b), _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q), a);
}
static inline float cnnc_vhsum(cnnc_v v) { return _mm512_reduce_add_ps(v); }

static inline cnnc_v cnnc_vround(cnnc_v x) {
    return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

static inline cnnc_v cnnc_vpow2i(cnnc_v n) {
    __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
}

/* Lanes where a < b take t, the others f. */
static inline cnnc_v cnnc_vsel_lt(cnnc_v a, cnnc_v b, cnnc_v t, cnnc_v f) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_LT_OQ), f, t);
}
/* Integer and/or on floats: AVX-512F has them only on 32-bit integers. */
static inline cnnc_v cnnc_vabs(cnnc_v x) {
    return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x7fffffff)));
}
/* |mag| with the sign of sgn. */
static inline cnnc_v cnnc_vcopysign(cnnc_v mag, cnnc_v sgn) {
    __m512i sign = _mm512_and_si512(_mm512_castps_si512(sgn), _mm512_set1_epi32((int)0x80000000u));
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(cnnc_vabs(mag)), sign));
}

/* The even and the odd elements of the 32-lane concatenation a:b. */
static inline cnnc_v cnnc_veven(cnnc_v a, cnnc_v b) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(a, even, b);
}
static inline cnnc_v cnnc_vodd(cnnc_v a, cnnc_v b) {
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    return _mm512_permutex2var_ps(a, odd, b);
}

#include "cnnc_simd_math.h"

#endif
