/* cnnc_simd_sse4.h — cnnc's SIMD vocabulary on SSE4.1 (4 lanes, no FMA).
 *
 * Same helpers and meaning as cnnc_simd_scalar.h, the reference.  SSE4.1 has
 * no fused multiply-add, so cnnc_vfma is a multiply then an add (two
 * roundings).  Tails of n < 4 floats go through a small zeroed buffer so no
 * byte past n is read or written.  Compile with -msse4.1.  Only round and
 * select need SSE4.1; without it (plain x86-64, SSE2) they fall back to a
 * float→int→float round trip (exact for the |n| < 2^31 exp uses) and an
 * and/andnot/or blend, so `auto` gives every x86-64 compiler 4 lanes.
 * Licence: MIT, like the rest of cnnc.
 */
#ifndef CNNC_SIMD_SSE4_H
#define CNNC_SIMD_SSE4_H

#ifdef __SSE4_1__
#include <smmintrin.h>
#define CNNC_ISA "sse4"
#else
#include <emmintrin.h>
#define CNNC_ISA "sse2"
#endif

#define CNNC_LANES 4

typedef __m128 cnnc_v;

static inline cnnc_v cnnc_vzero(void) { return _mm_setzero_ps(); }
static inline cnnc_v cnnc_vload(const float *p) { return _mm_loadu_ps(p); }
static inline cnnc_v cnnc_vload_aligned(const float *p) { return _mm_load_ps(p); }
static inline void cnnc_vstore(float *p, cnnc_v v) { _mm_storeu_ps(p, v); }
static inline void cnnc_vstore_aligned(float *p, cnnc_v v) { _mm_store_ps(p, v); }
static inline void cnnc_prefetch(const float *p) { _mm_prefetch((const char *)p, _MM_HINT_T0); }

static inline cnnc_v cnnc_vload_tail(const float *p, int n) {
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int i = 0; i < n; i++)
        t[i] = p[i];
    return _mm_loadu_ps(t);
}

static inline void cnnc_vstore_tail(float *p, cnnc_v v, int n) {
    float t[4];
    _mm_storeu_ps(t, v);
    for (int i = 0; i < n; i++)
        p[i] = t[i];
}

static inline cnnc_v cnnc_vbcast(float x) { return _mm_set1_ps(x); }
static inline cnnc_v cnnc_vfma(cnnc_v a, cnnc_v b, cnnc_v c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }
static inline cnnc_v cnnc_vadd(cnnc_v a, cnnc_v b) { return _mm_add_ps(a, b); }
static inline cnnc_v cnnc_vsub(cnnc_v a, cnnc_v b) { return _mm_sub_ps(a, b); }
static inline cnnc_v cnnc_vmul(cnnc_v a, cnnc_v b) { return _mm_mul_ps(a, b); }
static inline cnnc_v cnnc_vdiv(cnnc_v a, cnnc_v b) { return _mm_div_ps(a, b); }
static inline cnnc_v cnnc_vmax(cnnc_v a, cnnc_v b) { return _mm_max_ps(a, b); }
static inline cnnc_v cnnc_vmin(cnnc_v a, cnnc_v b) { return _mm_min_ps(a, b); }
/* NaN when either is: maxps gives b for a NaN a, so a NaN a is or-ed back in. */
static inline cnnc_v cnnc_vmaxnan(cnnc_v a, cnnc_v b) {
    return _mm_or_ps(_mm_max_ps(a, b), _mm_and_ps(_mm_cmpunord_ps(a, a), a));
}

static inline float cnnc_vhsum(cnnc_v v) {
    __m128 pairs = _mm_add_ps(v, _mm_movehl_ps(v, v));
    return _mm_cvtss_f32(_mm_add_ss(pairs, _mm_shuffle_ps(pairs, pairs, 1)));
}

static inline cnnc_v cnnc_vround(cnnc_v x) {
#ifdef __SSE4_1__
    return _mm_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
#else
    return _mm_cvtepi32_ps(_mm_cvtps_epi32(x));   /* MXCSR default: nearest even */
#endif
}

static inline cnnc_v cnnc_vpow2i(cnnc_v n) {
    __m128i e = _mm_add_epi32(_mm_cvtps_epi32(n), _mm_set1_epi32(127));
    return _mm_castsi128_ps(_mm_slli_epi32(e, 23));
}

/* Lanes where a < b take t, the others f. */
static inline cnnc_v cnnc_vsel_lt(cnnc_v a, cnnc_v b, cnnc_v t, cnnc_v f) {
    __m128 lt = _mm_cmplt_ps(a, b);
#ifdef __SSE4_1__
    return _mm_blendv_ps(f, t, lt);
#else
    return _mm_or_ps(_mm_and_ps(lt, t), _mm_andnot_ps(lt, f));
#endif
}
static inline cnnc_v cnnc_vabs(cnnc_v x) { return _mm_andnot_ps(_mm_set1_ps(-0.0f), x); }
/* |mag| with the sign of sgn. */
static inline cnnc_v cnnc_vcopysign(cnnc_v mag, cnnc_v sgn) {
    __m128 sign = _mm_set1_ps(-0.0f);
    return _mm_or_ps(_mm_andnot_ps(sign, mag), _mm_and_ps(sign, sgn));
}

/* The even and the odd elements of the 8-lane concatenation a:b (SSE1). */
static inline cnnc_v cnnc_veven(cnnc_v a, cnnc_v b) { return _mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)); }
static inline cnnc_v cnnc_vodd(cnnc_v a, cnnc_v b) { return _mm_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)); }

#include "cnnc_simd_math.h"

#endif
