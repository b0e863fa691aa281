/* cnnc_simd_math.h — vector exp, sigmoid and tanh for every cnnc SIMD
 * header, and cnnc_opaque_row and cnnc_vload_keep (at the end).
 *
 * Included by each cnnc_simd_<isa>.h after it has defined the vocabulary
 * (cnnc_v, cnnc_vfma, cnnc_vround, cnnc_vpow2i, cnnc_vsel_lt, ...), so one
 * algorithm serves every ISA.  It mirrors the scalar functions of cnnc_rt.h
 * step by step — same clamps, constants and polynomials (read the algorithm
 * there) — so a SIMD target and the scalar runtime agree to an ulp or so:
 *   exp      clamp to [-104, 89], n = round(x*log2 e), r = x - n*LN2_HI -
 *            n*LN2_LO, 1 + r + r^2*P(r), times 2^(n1) * 2^(n-n1), n1 = round(n/2);
 *   tanh     unlike cnnc_rt.h, one rational function x*P(x^2)/Q(x^2) on x
 *            clamped to +-9 (Eigen's fit; error <= 3.3e-7 absolute and
 *            relative, measured over [-20, 20] in steps of 1e-5), about
 *            three times cheaper than the exp form (LeNet is tanh-bound);
 *   sigmoid  e = exp(-|x|), d = 1 + e, then e/d for x < 0 and 1/d otherwise.
 * The round-to-nearest instruction replaces the scalar magic-number trick
 * (same result for every |n| < 2^22).
 *
 * NaN in, NaN out, as in torch, at no cost: every clamp and activation puts
 * the value that may be NaN SECOND in cnnc_vmax/cnnc_vmin (a constant
 * first).  x86 maxps/minps return their second operand when either is NaN,
 * the scalar reference is `a > b ? a : b` / `a < b ? a : b` (the same rule)
 * and NEON's vmaxq/vminq return NaN anyway; so cnnc_vmax(zero, x) is x for a
 * NaN x on every ISA, where cnnc_vmax(x, zero) would be 0 on x86.  ±inf meet
 * the clamps and give exp(+inf) = inf, exp(-inf) = 0, tanh(±inf) = ±1,
 * sigmoid(±inf) = 1 / 0.
 */
#ifndef CNNC_SIMD_MATH_H
#define CNNC_SIMD_MATH_H

static inline cnnc_v cnnc_vexp(cnnc_v x) {
    x = cnnc_vmin(cnnc_vbcast(89.0f), cnnc_vmax(cnnc_vbcast(-104.0f), x)); /* NaN kept: see above */
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

/* tanh as one rational function, x*P(x^2)/Q(x^2) (Eigen's float tanh
 * coefficients) on x clamped to +-9, where the fit reaches 1: 10 fmas and a
 * division, against an exp, a division and a second polynomial for the exp
 * form.  The result is clamped to [-1, 1] (tanh(+-inf) = +-1).  Both clamps
 * take the possibly-NaN value second, so a NaN goes through. */
static inline cnnc_v cnnc_vtanh(cnnc_v x) {
    x = cnnc_vmin(cnnc_vbcast(9.0f), cnnc_vmax(cnnc_vbcast(-9.0f), x));
    cnnc_v z = cnnc_vmul(x, x);
    cnnc_v p = cnnc_vbcast(-2.76076847742355e-16f);
    p = cnnc_vfma(p, z, cnnc_vbcast(2.00018790482477e-13f));
    p = cnnc_vfma(p, z, cnnc_vbcast(-8.60467152213735e-11f));
    p = cnnc_vfma(p, z, cnnc_vbcast(5.12229709037114e-08f));
    p = cnnc_vfma(p, z, cnnc_vbcast(1.48572235717979e-05f));
    p = cnnc_vfma(p, z, cnnc_vbcast(6.37261928875436e-04f));
    p = cnnc_vfma(p, z, cnnc_vbcast(4.89352455891786e-03f));
    cnnc_v q = cnnc_vbcast(1.19825839466702e-06f);
    q = cnnc_vfma(q, z, cnnc_vbcast(1.18534705686654e-04f));
    q = cnnc_vfma(q, z, cnnc_vbcast(2.26843463243900e-03f));
    q = cnnc_vfma(q, z, cnnc_vbcast(4.89352518554385e-03f));
    cnnc_v y = cnnc_vdiv(cnnc_vmul(x, p), q);
    return cnnc_vmin(cnnc_vbcast(1.0f), cnnc_vmax(cnnc_vbcast(-1.0f), y));
}

static inline cnnc_v cnnc_vsigmoid(cnnc_v x) {
    cnnc_v e = cnnc_vexp(cnnc_vsub(cnnc_vzero(), cnnc_vabs(x)));
    cnnc_v d = cnnc_vadd(cnnc_vbcast(1.0f), e);
    return cnnc_vsel_lt(x, cnnc_vzero(), cnnc_vdiv(e, d), cnnc_vdiv(cnnc_vbcast(1.0f), d));
}

/* Fused activations the kernels apply at store; NaN passes (x goes second). */
static inline cnnc_v cnnc_vrelu(cnnc_v x) { return cnnc_vmax(cnnc_vzero(), x); }

static inline cnnc_v cnnc_vrelu6(cnnc_v x) {
    return cnnc_vmin(cnnc_vbcast(6.0f), cnnc_vmax(cnnc_vzero(), x));
}

/* x if x > 0 else alpha*x, for any alpha: max(x,0) + alpha*min(x,0). */
static inline cnnc_v cnnc_vleaky_relu(cnnc_v x, float alpha) {
    return cnnc_vfma(cnnc_vmin(cnnc_vzero(), x), cnnc_vbcast(alpha), cnnc_vmax(cnnc_vzero(), x));
}

/* p itself, but gcc cannot see how it relates to the previous loop
 * iteration's.  A conv tile of two output rows reads, at kernel row ky,
 * input row ky + 1 for its second row: the very broadcasts its first row
 * loads at ky + 1.  gcc 12's predictive commoning (it runs at -O2) then
 * carries those loads from one ky iteration to the next in registers, which
 * the tile's accumulators have already taken: accumulators go to the stack
 * (AVX2 flowers conv1: 54 stack accesses per 108 fmas; AVX-512: 40 per 144;
 * LeNet c1: 23 per 60).  Such a loop's input pointer goes through this
 * (also Winograd's loop over overlapping input tiles); for gcc an empty asm
 * hides its value (2-10 stack accesses left, as with
 * -fno-predictive-commoning).  clang has no such pass and gets the plain
 * pointer, and so does AArch64: there gcc carried nothing (LeNet c1 is the
 * same with -fno-predictive-commoning) and the asm made its pre-RA
 * scheduler spill more (36 -> 67 stack accesses per 120 fmas). */
#if defined(__GNUC__) && !defined(__clang__) && (defined(__x86_64__) || defined(__i386__))
static inline const float *cnnc_opaque_row(const float *p) {
    __asm__("" : "+r"(p));
    return p;
}
#else
#define cnnc_opaque_row(p) (p)
#endif

/* A point gcc's instruction scheduler moves no code across (a volatile asm
 * is a barrier to it).  On AArch64 gcc schedules before register allocation
 * at -O2, and in a Winograd transform it hoisted every load of the tile
 * above the arithmetic: 36-64 vectors live at once, and the MNIST input
 * transform (120 fmlas) went through the stack 119 times per tile and
 * channel vector.  The transforms put one after each column (and row) of
 * their loads and arithmetic.  x86 gcc does not schedule before register
 * allocation at -O2, and clang's scheduler weighs register pressure: for
 * them it is nothing. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__aarch64__)
#define cnnc_sched_barrier() __asm__ volatile("")
#else
#define cnnc_sched_barrier() ((void)0)
#endif

/* A weight vector that a register tile reads several times (once per pixel
 * or Winograd tile): loaded once and kept in a register.  gcc's cost tables
 * for AMD Zen (-march=native on Zen 2-4, -mtune=znver*) make it fold the load
 * into the fmas that read the vector instead, once per use: the MNIST conv2
 * GEMM's 4-tile loop read memory in all 16 of its fmas, and MNIST's AVX2
 * code took 48.2 us with -march=native on Zen 3 against 43.1 with
 * -mavx2 -mfma (docs/decisions/simd.md, "Loads gcc folds").  An empty asm
 * that takes the vector in a register ("v": any SSE/AVX register) stops the
 * folding: 42.3 us.  clang does not copy a load into its users, and
 * AArch64's fmla takes no memory operand, so they get the plain load.  So
 * does SSE without AVX, whose mulps cannot fold an unaligned load anyway:
 * there gcc frees registers by loading again (kept, the sse4 flowers net
 * took 45.9 M instructions instead of 43.2 M); and a vector wider than the
 * registers the flags enable (the tests' emulated AVX-512). */
#if defined(__GNUC__) && !defined(__clang__) && (defined(__x86_64__) || defined(__i386__)) &&              \
    (((CNNC_LANES == 4 || CNNC_LANES == 8) && defined(__AVX__)) || (CNNC_LANES == 16 && defined(__AVX512F__)))
static inline cnnc_v cnnc_vload_keep(const float *p) {
    cnnc_v v = cnnc_vload(p);
    __asm__("" : "+v"(v));
    return v;
}
#else
#define cnnc_vload_keep(p) cnnc_vload(p)
#endif

#endif
