/* cnnc_simd_neon.h — cnnc's SIMD vocabulary on AArch64 NEON (4 lanes, FMA).
 *
 * Same helpers and meaning as cnnc_simd_scalar.h, the reference.  Tails of
 * n < 4 floats go through a small zeroed buffer so no byte past n is read or
 * written.  Needs AArch64 (vfmaq_f32, vdivq_f32, vrndnq_f32, vaddvq_f32).
 * Licence: MIT, like the rest of cnnc.
 */
#ifndef CNNC_SIMD_NEON_H
#define CNNC_SIMD_NEON_H

#include <arm_neon.h>

#define CNNC_LANES 4
#define CNNC_ISA "neon"

typedef float32x4_t cnnc_v;

static inline cnnc_v cnnc_vzero(void) { return vdupq_n_f32(0.0f); }
static inline cnnc_v cnnc_vload(const float *p) { return vld1q_f32(p); }
static inline cnnc_v cnnc_vload_aligned(const float *p) { return vld1q_f32(p); }
static inline void cnnc_vstore(float *p, cnnc_v v) { vst1q_f32(p, v); }
static inline void cnnc_vstore_aligned(float *p, cnnc_v v) { vst1q_f32(p, v); }
static inline void cnnc_prefetch(const float *p) { __builtin_prefetch(p); }

static inline cnnc_v cnnc_vload_tail(const float *p, int n) {
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int i = 0; i < n; i++)
        t[i] = p[i];
    return vld1q_f32(t);
}

static inline void cnnc_vstore_tail(float *p, cnnc_v v, int n) {
    float t[4];
    vst1q_f32(t, v);
    for (int i = 0; i < n; i++)
        p[i] = t[i];
}

static inline cnnc_v cnnc_vbcast(float x) { return vdupq_n_f32(x); }
static inline cnnc_v cnnc_vfma(cnnc_v a, cnnc_v b, cnnc_v c) { return vfmaq_f32(c, a, b); }
static inline cnnc_v cnnc_vadd(cnnc_v a, cnnc_v b) { return vaddq_f32(a, b); }
static inline cnnc_v cnnc_vsub(cnnc_v a, cnnc_v b) { return vsubq_f32(a, b); }
static inline cnnc_v cnnc_vmul(cnnc_v a, cnnc_v b) { return vmulq_f32(a, b); }
static inline cnnc_v cnnc_vdiv(cnnc_v a, cnnc_v b) { return vdivq_f32(a, b); }
static inline cnnc_v cnnc_vmax(cnnc_v a, cnnc_v b) { return vmaxq_f32(a, b); }
static inline cnnc_v cnnc_vmin(cnnc_v a, cnnc_v b) { return vminq_f32(a, b); }
/* vmaxq is NaN when either operand is. */
static inline cnnc_v cnnc_vmaxnan(cnnc_v a, cnnc_v b) { return vmaxq_f32(a, b); }
static inline float cnnc_vhsum(cnnc_v v) { return vaddvq_f32(v); }
static inline cnnc_v cnnc_vround(cnnc_v x) { return vrndnq_f32(x); }

static inline cnnc_v cnnc_vpow2i(cnnc_v n) {
    int32x4_t e = vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127));
    return vreinterpretq_f32_s32(vshlq_n_s32(e, 23));
}

/* Lanes where a < b take t, the others f. */
static inline cnnc_v cnnc_vsel_lt(cnnc_v a, cnnc_v b, cnnc_v t, cnnc_v f) { return vbslq_f32(vcltq_f32(a, b), t, f); }
static inline cnnc_v cnnc_vabs(cnnc_v x) { return vabsq_f32(x); }
/* |mag| with the sign of sgn. */
static inline cnnc_v cnnc_vcopysign(cnnc_v mag, cnnc_v sgn) {
    return vbslq_f32(vdupq_n_u32(0x80000000u), sgn, vabsq_f32(mag));
}

/* The even and the odd elements of the 8-lane concatenation a:b. */
static inline cnnc_v cnnc_veven(cnnc_v a, cnnc_v b) { return vuzp1q_f32(a, b); }
static inline cnnc_v cnnc_vodd(cnnc_v a, cnnc_v b) { return vuzp2q_f32(a, b); }

#include "cnnc_simd_math.h"

#endif
