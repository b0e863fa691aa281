/* cnnc_simd_scalar.h — the scalar reference of cnnc's SIMD vocabulary.
 *
 * Generated kernels are written against a thin set of inline helpers on a
 * vector type cnnc_v of CNNC_LANES floats: load/store (aligned, unaligned
 * and exact tails of n < CNNC_LANES floats that touch no memory past n),
 * broadcast, fma, add/sub/mul/div, max/min, zero, horizontal sum, round,
 * 2^n, even/odd deinterleave, a prefetch hint, and exp/sigmoid/tanh
 * (cnnc_simd_math.h).  This header is the
 * one-lane version every other ISA (sse4, avx2, avx512, neon) is tested
 * against.  No FMA instruction is assumed: cnnc_vfma is a*b + c rounded
 * twice, like the sse4 target.
 *
 * Use: generated code includes this header (--target=scalar) or
 * cnnc_simd.h, which picks the best ISA the C compiler enables.
 * Licence: MIT, like the rest of cnnc.
 */
#ifndef CNNC_SIMD_SCALAR_H
#define CNNC_SIMD_SCALAR_H

#include <math.h>
#include <string.h>

#define CNNC_LANES 1
#define CNNC_ISA "scalar"

typedef float cnnc_v;

static inline cnnc_v cnnc_vzero(void) { return 0.0f; }
static inline cnnc_v cnnc_vload(const float *p) { return *p; }
static inline cnnc_v cnnc_vload_aligned(const float *p) { return *p; }
static inline void cnnc_vstore(float *p, cnnc_v v) { *p = v; }
static inline void cnnc_vstore_aligned(float *p, cnnc_v v) { *p = v; }
/* A hint that the cache line at p is read soon; it never changes a result
 * (Winograd's GEMM asks for the next point's weights).  Nothing here. */
static inline void cnnc_prefetch(const float *p) { (void)p; }
/* With one lane a tail is always empty. */
static inline cnnc_v cnnc_vload_tail(const float *p, int n) { return n > 0 ? *p : 0.0f; }
static inline void cnnc_vstore_tail(float *p, cnnc_v v, int n) { if (n > 0) *p = v; }
static inline cnnc_v cnnc_vbcast(float x) { return x; }
static inline cnnc_v cnnc_vfma(cnnc_v a, cnnc_v b, cnnc_v c) { return a * b + c; }
static inline cnnc_v cnnc_vadd(cnnc_v a, cnnc_v b) { return a + b; }
static inline cnnc_v cnnc_vsub(cnnc_v a, cnnc_v b) { return a - b; }
static inline cnnc_v cnnc_vmul(cnnc_v a, cnnc_v b) { return a * b; }
static inline cnnc_v cnnc_vdiv(cnnc_v a, cnnc_v b) { return a / b; }
static inline cnnc_v cnnc_vmax(cnnc_v a, cnnc_v b) { return a > b ? a : b; }
static inline cnnc_v cnnc_vmin(cnnc_v a, cnnc_v b) { return a < b ? a : b; }
/* max that is NaN when either operand is (torch's max pool); cnnc_vmax
 * keeps only a NaN second operand. */
static inline cnnc_v cnnc_vmaxnan(cnnc_v a, cnnc_v b) { return a != a || a > b ? a : b; }
static inline float cnnc_vhsum(cnnc_v v) { return v; }
static inline cnnc_v cnnc_vround(cnnc_v x) { return nearbyintf(x); }

/* 2^n for an integral n in [-126, 127], from the exponent bits. */
static inline cnnc_v cnnc_vpow2i(cnnc_v n) {
    /* A NaN n (vexp of a NaN, whose result is NaN anyway) is not cast: UB in C. */
    unsigned bits = (unsigned)((n == n ? (int)n : 0) + 127) << 23;
    float r;
    memcpy(&r, &bits, sizeof r);
    return r;
}

/* Lanes where a < b take t, the others f. */
static inline cnnc_v cnnc_vsel_lt(cnnc_v a, cnnc_v b, cnnc_v t, cnnc_v f) { return a < b ? t : f; }
static inline cnnc_v cnnc_vabs(cnnc_v x) { return fabsf(x); }
/* |mag| with the sign of sgn. */
static inline cnnc_v cnnc_vcopysign(cnnc_v mag, cnnc_v sgn) { return copysignf(mag, sgn); }

/* The even and the odd elements of the 2L-lane concatenation a:b, in order
 * (pairs of neighbours, for 2-wide pooling); with one lane, a and b. */
static inline cnnc_v cnnc_veven(cnnc_v a, cnnc_v b) { (void)b; return a; }
static inline cnnc_v cnnc_vodd(cnnc_v a, cnnc_v b) { (void)a; return b; }

#include "cnnc_simd_math.h"

#endif
