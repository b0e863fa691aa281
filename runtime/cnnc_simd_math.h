/* cnnc_simd_math.h — vector exp, sigmoid and tanh for every cnnc SIMD header.
 *
 * Included by each cnnc_simd_<isa>.h after it has defined the vocabulary
 * (cnnc_v, cnnc_vfma, cnnc_vround, cnnc_vpow2i, cnnc_vsel_lt, ...), so one
 * algorithm serves every ISA.  It mirrors the scalar functions of cnnc_rt.h
 * step by step — same clamps, constants and polynomials (read the algorithm
 * there) — so a SIMD target and the scalar runtime agree to an ulp or so:
 *   exp      clamp to [-104, 89], n = round(x*log2 e), r = x - n*LN2_HI -
 *            n*LN2_LO, 1 + r + r^2*P(r), times 2^(n1) * 2^(n-n1), n1 = round(n/2);
 *   tanh     x + x^3*Q(x^2) below |x| = 0.625, else 1 - 2/(exp(2|x|)+1) with
 *            |x| clamped to 10; the sign of x put back;
 *   sigmoid  e = exp(-|x|), d = 1 + e, then e/d for x < 0 and 1/d otherwise.
 * The round-to-nearest instruction replaces the scalar magic-number trick
 * (same result for every |n| < 2^22).
 */
#ifndef CNNC_SIMD_MATH_H
#define CNNC_SIMD_MATH_H

static inline cnnc_v cnnc_vexp(cnnc_v x) {
    x = cnnc_vmin(cnnc_vmax(x, cnnc_vbcast(-104.0f)), cnnc_vbcast(89.0f));
    cnnc_v n = cnnc_vround(cnnc_vmul(x, cnnc_vbcast(1.44269504088896341f)));
    cnnc_v r = cnnc_vsub(x, cnnc_vmul(n, cnnc_vbcast(0.693359375f)));
    r = cnnc_vsub(r, cnnc_vmul(n, cnnc_vbcast(-2.12194440e-4f)));
    cnnc_v p = cnnc_vbcast(1.9875691500e-4f);
    p = cnnc_vfma(p, r, cnnc_vbcast(1.3981999507e-3f));
    p = cnnc_vfma(p, r, cnnc_vbcast(8.3334519073e-3f));
    p = cnnc_vfma(p, r, cnnc_vbcast(4.1665795894e-2f));
    p = cnnc_vfma(p, r, cnnc_vbcast(1.6666665459e-1f));
    p = cnnc_vfma(p, r, cnnc_vbcast(5.0000001201e-1f));
    p = cnnc_vfma(p, cnnc_vmul(r, r), cnnc_vadd(r, cnnc_vbcast(1.0f)));
    cnnc_v n1 = cnnc_vround(cnnc_vmul(n, cnnc_vbcast(0.5f)));
    return cnnc_vmul(cnnc_vmul(p, cnnc_vpow2i(n1)), cnnc_vpow2i(cnnc_vsub(n, n1)));
}

static inline cnnc_v cnnc_vtanh_small(cnnc_v x) {
    cnnc_v z = cnnc_vmul(x, x);
    cnnc_v q = cnnc_vbcast(-5.70498872745e-3f);
    q = cnnc_vfma(q, z, cnnc_vbcast(2.06390887954e-2f));
    q = cnnc_vfma(q, z, cnnc_vbcast(-5.37397155531e-2f));
    q = cnnc_vfma(q, z, cnnc_vbcast(1.33314422036e-1f));
    q = cnnc_vfma(q, z, cnnc_vbcast(-3.33332819422e-1f));
    return cnnc_vfma(cnnc_vmul(q, z), x, x);
}

static inline cnnc_v cnnc_vtanh(cnnc_v x) {
    cnnc_v one = cnnc_vbcast(1.0f);
    cnnc_v ax = cnnc_vabs(x);
    cnnc_v clamped = cnnc_vmin(ax, cnnc_vbcast(10.0f));
    cnnc_v e2x = cnnc_vexp(cnnc_vadd(clamped, clamped));
    cnnc_v large = cnnc_vsub(one, cnnc_vdiv(cnnc_vbcast(2.0f), cnnc_vadd(e2x, one)));
    cnnc_v y = cnnc_vsel_lt(ax, cnnc_vbcast(0.625f), cnnc_vtanh_small(ax), large);
    return cnnc_vcopysign(y, x);
}

static inline cnnc_v cnnc_vsigmoid(cnnc_v x) {
    cnnc_v e = cnnc_vexp(cnnc_vsub(cnnc_vzero(), cnnc_vabs(x)));
    cnnc_v d = cnnc_vadd(cnnc_vbcast(1.0f), e);
    return cnnc_vsel_lt(x, cnnc_vzero(), cnnc_vdiv(e, d), cnnc_vdiv(cnnc_vbcast(1.0f), d));
}

/* Fused activations the kernels apply at store. */
static inline cnnc_v cnnc_vrelu(cnnc_v x) { return cnnc_vmax(x, cnnc_vzero()); }

static inline cnnc_v cnnc_vrelu6(cnnc_v x) {
    return cnnc_vmin(cnnc_vmax(x, cnnc_vzero()), cnnc_vbcast(6.0f));
}

/* x if x > 0 else alpha*x, for any alpha: max(x,0) + alpha*min(x,0). */
static inline cnnc_v cnnc_vleaky_relu(cnnc_v x, float alpha) {
    return cnnc_vfma(cnnc_vmin(x, cnnc_vzero()), cnnc_vbcast(alpha), cnnc_vmax(x, cnnc_vzero()));
}

#endif
