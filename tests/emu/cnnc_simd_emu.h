/* cnnc_simd_emu.h — cnnc's SIMD vocabulary in portable C, for TESTS ONLY.
 *
 * Why: the AVX-512 paths of generated code (16 lanes: their own register
 * tiles, tails, Winograd/conv/dense blocking) would go untested on every
 * machine without AVX-512, which is most CI machines.  The tests compile the
 * very same generated C with `-I tests/emu` ahead of `-I runtime` and no ISA
 * flag: cnnc_simd_{sse4,avx2,avx512}.h in this directory, shims that set
 * CNNC_LANES and CNNC_ISA and include this file, then stand in for the real
 * headers (same include guards and names).  --target=auto code needs
 * -DCNNC_EMULATE_AVX512 too: see cnnc_simd.h here.  The flags the tests
 * use (-O0 -Wno-psabi) are explained in tests/e2e/driver.h, and the whole
 * scheme in docs/decisions/tests.md.
 *
 * What it mirrors (the semantics the kernels rely on; see the comments of
 * the real headers and of runtime/cnnc_simd_math.h):
 *   - max/min return the SECOND operand when either is NaN (maxps/minps,
 *     and `a > b ? a : b` of the scalar reference); maxnan is NaN if a is;
 *   - fma has one rounding (fmaf) on avx2/avx512, two on sse4 (mul, add);
 *   - round is to nearest even without exceptions (nearbyintf, as
 *     roundps/roundscale); pow2i converts like cvtps2dq: nearest even, and
 *     NaN or out-of-range n give INT32_MIN, then adds 127 and shifts;
 *   - tails read and write lanes 0..n-1 only and zero the rest (masked
 *     loads); an aligned load/store traps when the address is not aligned
 *     to the vector size, as movaps does;
 *   - hsum adds halves pairwise (the order of the real reductions);
 *   - even/odd are the even/odd elements of the 2L-lane concatenation a:b.
 * It cannot mirror timing, nor does it execute the real instructions: it is
 * only as right as this transcription of their semantics.
 *
 * The vector type is a GCC/clang vector extension, so add/sub/mul/div lower
 * to whatever the host has (SSE2 pieces on plain x86-64); everything else is
 * a per-lane loop.  Needs no ISA flag and no <immintrin.h>.
 * Licence: MIT, like the rest of cnnc.
 */
#ifndef CNNC_SIMD_EMU_H
#define CNNC_SIMD_EMU_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#if !defined(CNNC_LANES) || !defined(CNNC_ISA)
#error "include cnnc_simd_emu.h through a shim that defines CNNC_LANES and CNNC_ISA"
#endif

/* A 32/64-byte vector passed by value without AVX/AVX-512 has another
 * psABI than with it: -Wpsabi says so at every call.  Every call here is
 * inline and the program is one build, so the note is noise; clang honours
 * this pragma, gcc (which warns from its back end) needs -Wno-psabi. */
#pragma GCC diagnostic ignored "-Wpsabi"

typedef float cnnc_v __attribute__((vector_size(CNNC_LANES * sizeof(float))));

#define CNNC_EMU_FOR(i) for (int i = 0; i < CNNC_LANES; i++)

static inline cnnc_v cnnc_vzero(void) { return (cnnc_v){0.0f}; }
static inline cnnc_v cnnc_vbcast(float x) { return (cnnc_v){0.0f} + x; }

static inline cnnc_v cnnc_vload(const float *p) {
    cnnc_v r;
    memcpy(&r, p, sizeof r);
    return r;
}

static inline void cnnc_vstore(float *p, cnnc_v v) { memcpy(p, &v, sizeof v); }

/* movaps & co fault on a misaligned address: so does the emulation. */
static inline void cnnc_emu_check_aligned(const void *p) {
    if ((uintptr_t)p % sizeof(cnnc_v))
        __builtin_trap();
}

static inline cnnc_v cnnc_vload_aligned(const float *p) {
    cnnc_emu_check_aligned(p);
    return cnnc_vload(p);
}

static inline void cnnc_vstore_aligned(float *p, cnnc_v v) {
    cnnc_emu_check_aligned(p);
    cnnc_vstore(p, v);
}

/* A cache hint: no effect on any result, so nothing to emulate. */
static inline void cnnc_prefetch(const float *p) { (void)p; }

/* Masked: lanes n.. are zero and their memory is never read. */
static inline cnnc_v cnnc_vload_tail(const float *p, int n) {
    cnnc_v r = cnnc_vzero();
    for (int i = 0; i < n && i < CNNC_LANES; i++)
        r[i] = p[i];
    return r;
}

static inline void cnnc_vstore_tail(float *p, cnnc_v v, int n) {
    for (int i = 0; i < n && i < CNNC_LANES; i++)
        p[i] = v[i];
}

static inline cnnc_v cnnc_vadd(cnnc_v a, cnnc_v b) { return a + b; }
static inline cnnc_v cnnc_vsub(cnnc_v a, cnnc_v b) { return a - b; }
static inline cnnc_v cnnc_vmul(cnnc_v a, cnnc_v b) { return a * b; }
static inline cnnc_v cnnc_vdiv(cnnc_v a, cnnc_v b) { return a / b; }

/* sse4 has no FMA: multiply, round, add, round (two statements, so no
 * compiler contracts them into one fma).  avx2/avx512: one rounding. */
static inline cnnc_v cnnc_vfma(cnnc_v a, cnnc_v b, cnnc_v c) {
#ifdef CNNC_EMU_NO_FMA
    cnnc_v p = a * b;
    return p + c;
#else
    cnnc_v r;
    CNNC_EMU_FOR(i) r[i] = fmaf(a[i], b[i], c[i]);
    return r;
#endif
}

/* maxps/minps: the second operand unless the comparison holds, so a NaN in
 * either lane gives b's lane (and max(+0, -0) is -0). */
static inline cnnc_v cnnc_vmax(cnnc_v a, cnnc_v b) {
    cnnc_v r;
    CNNC_EMU_FOR(i) r[i] = a[i] > b[i] ? a[i] : b[i];
    return r;
}

static inline cnnc_v cnnc_vmin(cnnc_v a, cnnc_v b) {
    cnnc_v r;
    CNNC_EMU_FOR(i) r[i] = a[i] < b[i] ? a[i] : b[i];
    return r;
}

/* NaN when either operand is: max, with a NaN a put back. */
static inline cnnc_v cnnc_vmaxnan(cnnc_v a, cnnc_v b) {
    cnnc_v r;
    CNNC_EMU_FOR(i) r[i] = isnan(a[i]) || a[i] > b[i] ? a[i] : b[i];
    return r;
}

/* Halves added pairwise down to one lane, as the real reductions do
 * (lane i + lane i+L/2, ...), so the rounding order is theirs. */
static inline float cnnc_vhsum(cnnc_v v) {
    float t[CNNC_LANES];
    memcpy(t, &v, sizeof t);
    for (int half = CNNC_LANES / 2; half > 0; half /= 2)
        for (int i = 0; i < half; i++)
            t[i] += t[i + half];
    return t[0];
}

static inline cnnc_v cnnc_vround(cnnc_v x) {
    cnnc_v r;
    CNNC_EMU_FOR(i) r[i] = nearbyintf(x[i]);
    return r;
}

/* cvtps2dq: nearest even (the default MXCSR mode); NaN and values outside
 * int32 give the "integer indefinite" INT32_MIN. */
static inline int32_t cnnc_emu_cvt(float x) {
    if (!(x >= -2147483648.0f && x < 2147483648.0f))
        return INT32_MIN;
    return (int32_t)nearbyintf(x);
}

/* 2^n from the exponent bits: (cvt(n) + 127) << 23 in 32-bit wrapping
 * arithmetic, whatever n is (unsigned, so no UB). */
static inline cnnc_v cnnc_vpow2i(cnnc_v n) {
    cnnc_v r;
    CNNC_EMU_FOR(i) {
        uint32_t bits = ((uint32_t)cnnc_emu_cvt(n[i]) + 127u) << 23;
        float f;
        memcpy(&f, &bits, sizeof f);
        r[i] = f;
    }
    return r;
}

/* Lanes where a < b (ordered: false for NaN) take t, the others f. */
static inline cnnc_v cnnc_vsel_lt(cnnc_v a, cnnc_v b, cnnc_v t, cnnc_v f) {
    cnnc_v r;
    CNNC_EMU_FOR(i) r[i] = a[i] < b[i] ? t[i] : f[i];
    return r;
}

/* Sign-bit operations (and/andnot/or with -0.0f), NaN included. */
static inline cnnc_v cnnc_vabs(cnnc_v x) {
    cnnc_v r;
    CNNC_EMU_FOR(i) r[i] = fabsf(x[i]);
    return r;
}

static inline cnnc_v cnnc_vcopysign(cnnc_v mag, cnnc_v sgn) {
    cnnc_v r;
    CNNC_EMU_FOR(i) r[i] = copysignf(mag[i], sgn[i]);
    return r;
}

/* Element 2i (even) or 2i+1 (odd) of the 2L-lane concatenation a:b. */
static inline cnnc_v cnnc_emu_pick(cnnc_v a, cnnc_v b, int first) {
    cnnc_v r;
    CNNC_EMU_FOR(i) {
        int k = 2 * i + first;
        r[i] = k < CNNC_LANES ? a[k] : b[k - CNNC_LANES];
    }
    return r;
}

static inline cnnc_v cnnc_veven(cnnc_v a, cnnc_v b) { return cnnc_emu_pick(a, b, 0); }
static inline cnnc_v cnnc_vodd(cnnc_v a, cnnc_v b) { return cnnc_emu_pick(a, b, 1); }

#include "cnnc_simd_math.h"

#endif
