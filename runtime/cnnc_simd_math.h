/* cnnc_simd_math.h — vector exp, sigmoid and tanh for every cnnc SIMD header.
 *
 * Included by each cnnc_simd_<isa>.h after it has defined the vocabulary
 * (cnnc_v, cnnc_vfma, cnnc_vround, cnnc_vpow2i, ...), so one algorithm serves
 * every ISA and the scalar header is its reference.
 *
 * exp(x): the Cephes expf method.  x is clamped to [-87.3, 88.0] (exp stays a
 * normal float), n = round(x*log2 e), r = x - n*ln2 with ln2 split in a high
 * part exact in float and a low correction, exp(r) by a degree-6 polynomial
 * on |r| <= ln2/2, times 2^n built from the exponent bits.  Relative error
 * about 2e-7 over the range.
 * sigmoid(x) = 1 / (1 + exp(-x)); tanh(x) = 1 - 2 / (exp(2x) + 1), whose
 * absolute error near 0 (~1e-7) is far inside cnnc's 1e-4 tolerance.
 */
#ifndef CNNC_SIMD_MATH_H
#define CNNC_SIMD_MATH_H

static inline cnnc_v cnnc_vexp(cnnc_v x) {
    x = cnnc_vmin(cnnc_vmax(x, cnnc_vbcast(-87.3f)), cnnc_vbcast(88.0f));
    cnnc_v n = cnnc_vround(cnnc_vmul(x, cnnc_vbcast(1.44269504088896341f)));
    cnnc_v r = cnnc_vfma(n, cnnc_vbcast(-0.693359375f), x);
    r = cnnc_vfma(n, cnnc_vbcast(2.12194440e-4f), r);
    cnnc_v p = cnnc_vbcast(1.9875691500e-4f);
    p = cnnc_vfma(p, r, cnnc_vbcast(1.3981999507e-3f));
    p = cnnc_vfma(p, r, cnnc_vbcast(8.3334519073e-3f));
    p = cnnc_vfma(p, r, cnnc_vbcast(4.1665795894e-2f));
    p = cnnc_vfma(p, r, cnnc_vbcast(1.6666665459e-1f));
    p = cnnc_vfma(p, r, cnnc_vbcast(5.0000001201e-1f));
    p = cnnc_vfma(p, cnnc_vmul(r, r), cnnc_vadd(r, cnnc_vbcast(1.0f)));
    return cnnc_vmul(p, cnnc_vpow2i(n));
}

static inline cnnc_v cnnc_vsigmoid(cnnc_v x) {
    cnnc_v one = cnnc_vbcast(1.0f);
    return cnnc_vdiv(one, cnnc_vadd(one, cnnc_vexp(cnnc_vsub(cnnc_vzero(), x))));
}

static inline cnnc_v cnnc_vtanh(cnnc_v x) {
    cnnc_v one = cnnc_vbcast(1.0f);
    cnnc_v e2x = cnnc_vexp(cnnc_vadd(x, x));
    return cnnc_vsub(one, cnnc_vdiv(cnnc_vbcast(2.0f), cnnc_vadd(e2x, one)));
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
