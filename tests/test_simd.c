/* test_simd.c — the SIMD conv and dense kernels against a float64 reference.
 *
 * Method: for one target, build IR ops by hand for a set of awkward shapes
 * (1 and 3 input channels, odd and tail channel counts, stride 2, dilation,
 * 1x1, every fused activation), let the SIMD kernel family pack and emit
 * them into one C file with a main() that runs each kernel on fixed random
 * inputs and writes the outputs to stdout, compile that file with the
 * target's flags (-Werror: generated code must be warning-free), run it —
 * under qemu for NEON — and check every element against the same layer
 * computed here in double (tests/kernel_harness.c writes, compiles, runs and
 * checks): |got - exp| <= 1e-4 * max(1, |exp|).
 * Padding is not the conv kernel's business (lowering puts a PAD op in
 * front), so the cases are unpadded.  An x86 target the CPU lacks runs on
 * its portable emulation (tests/emu); NEON without qemu is skipped.  The
 * emulation_matches_* tests compare the emulated and the real headers.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "cnnc.h"
#include "kernel_harness.h"
#include "ops/simd.h"

typedef enum { NO_POOL, MAX_POOL, AVG_POOL } PoolKind;
/* POSITION_BIAS: one bias per conv output value (the policy head). */
typedef enum { NO_BIAS, CHANNEL_BIAS, POSITION_BIAS } BiasKind;

typedef struct Case {
    IrOpKind kind;
    int ih, iw, ic, f;      /* input H-W-C (dense: ic inputs), outputs */
    int kh, kw, sh, sw, dh, dw;
    ActKind act;
    BiasKind bias;          /* true: one per output channel */
    UnrollMode unroll;      /* AUTO unless the case says */
    PoolKind pool;          /* a 2x2 stride-2 pool fused into the conv */
} Case;

static const Case cases[] = {
    {IR_CONV, 28, 28, 1, 32, 3, 3, 1, 1, 1, 1, ACT_RELU, true, UNROLL_AUTO, NO_POOL},       /* MNIST first layer */
    {IR_CONV, 13, 13, 32, 64, 3, 3, 1, 1, 1, 1, ACT_RELU, true, UNROLL_AUTO, NO_POOL},      /* MNIST conv2 */
    {IR_CONV, 21, 21, 64, 64, 3, 3, 1, 1, 1, 1, ACT_RELU, true, UNROLL_AUTO, NO_POOL},      /* policy, padded 19x19 */
    {IR_CONV, 17, 19, 3, 10, 3, 3, 1, 1, 1, 1, ACT_LINEAR, true, UNROLL_AUTO, NO_POOL},     /* RGB, tail of 10 */
    {IR_CONV, 15, 14, 5, 17, 3, 2, 2, 2, 1, 1, ACT_SIGMOID, true, UNROLL_AUTO, NO_POOL},    /* stride 2, odd F */
    {IR_CONV, 16, 16, 7, 20, 3, 3, 1, 1, 2, 2, ACT_TANH, false, UNROLL_AUTO, NO_POOL},      /* dilation 2 */
    {IR_CONV, 9, 11, 16, 24, 1, 1, 1, 1, 1, 1, ACT_LEAKY_RELU, true, UNROLL_AUTO, NO_POOL}, /* 1x1 */
    {IR_CONV, 12, 10, 6, 1, 5, 3, 1, 2, 2, 1, ACT_RELU6, true, UNROLL_AUTO, NO_POOL},       /* F=1, mixed */
    {IR_CONV, 10, 10, 9, 72, 2, 2, 1, 1, 1, 1, ACT_RELU, true, UNROLL_AUTO, NO_POOL},       /* 4.5 AVX-512 vectors */
    {IR_CONV, 5, 5, 64, 64, 3, 3, 1, 1, 1, 1, ACT_RELU, true, UNROLL_AUTO, NO_POOL},        /* 3x3 out: 2-row tiles */
    {IR_CONV, 9, 5, 3, 20, 3, 2, 2, 2, 1, 1, ACT_LINEAR, true, UNROLL_AUTO, NO_POOL},       /* 2 wide, stride 2 */
    {IR_DENSE, 1, 1, 1600, 64, 0, 0, 0, 0, 0, 0, ACT_RELU, true, UNROLL_AUTO, NO_POOL},     /* MNIST fc1 */
    {IR_DENSE, 1, 1, 64, 10, 0, 0, 0, 0, 0, 0, ACT_LINEAR, true, UNROLL_AUTO, NO_POOL},     /* classifier */
    {IR_DENSE, 1, 1, 37, 83, 0, 0, 0, 0, 0, 0, ACT_TANH, false, UNROLL_AUTO, NO_POOL},      /* odd in, tails */
    {IR_DENSE, 1, 1, 5, 3, 0, 0, 0, 0, 0, 0, ACT_SIGMOID, true, UNROLL_AUTO, NO_POOL},      /* tiny */
    /* --unroll=full: whole reductions with constant offsets (dilated: three
     * levels), a reduction past the step cap (2400 steps: the ky loop is
     * kept), dense rows. */
    {IR_CONV, 28, 28, 1, 32, 3, 3, 1, 1, 1, 1, ACT_RELU, true, UNROLL_FULL, NO_POOL},
    {IR_CONV, 16, 16, 7, 20, 3, 3, 1, 1, 2, 2, ACT_TANH, false, UNROLL_FULL, NO_POOL},
    {IR_CONV, 403, 4, 2, 5, 400, 3, 1, 1, 1, 1, ACT_LINEAR, true, UNROLL_FULL, NO_POOL},
    {IR_DENSE, 1, 1, 37, 83, 0, 0, 0, 0, 0, 0, ACT_TANH, false, UNROLL_FULL, NO_POOL},
    /* --unroll=none: rolled loops, the register tile kept. */
    {IR_CONV, 17, 19, 3, 10, 3, 3, 1, 1, 1, 1, ACT_LINEAR, true, UNROLL_NONE, NO_POOL},
    {IR_CONV, 15, 14, 5, 17, 3, 2, 2, 2, 1, 1, ACT_SIGMOID, true, UNROLL_NONE, NO_POOL},
    {IR_DENSE, 1, 1, 64, 10, 0, 0, 0, 0, 0, 0, ACT_LINEAR, true, UNROLL_NONE, NO_POOL},
    /* One input channel, few filters: vectors of pixels (conv_pixels.c),
     * with and without a fused pool, odd widths (tail vectors), odd conv
     * outputs (the pool drops the last row and column). */
    {IR_CONV, 32, 32, 1, 6, 5, 5, 1, 1, 1, 1, ACT_TANH, true, UNROLL_AUTO, AVG_POOL},  /* LeNet c1 + s2 */
    {IR_CONV, 20, 23, 1, 1, 3, 3, 2, 1, 1, 1, ACT_LINEAR, true, UNROLL_AUTO, NO_POOL}, /* edge filter */
    {IR_CONV, 17, 19, 1, 8, 3, 3, 1, 1, 2, 2, ACT_RELU, true, UNROLL_AUTO, MAX_POOL},  /* dilated, 13x15 */
    {IR_CONV, 40, 41, 1, 3, 2, 3, 1, 1, 1, 1, ACT_SIGMOID, false, UNROLL_AUTO, AVG_POOL},
    {IR_CONV, 14, 12, 1, 5, 3, 3, 1, 1, 1, 1, ACT_TANH, true, UNROLL_FULL, MAX_POOL},
    {IR_CONV, 14, 30, 1, 4, 5, 3, 1, 1, 1, 1, ACT_RELU6, true, UNROLL_NONE, NO_POOL},
    /* Vectors of channels with the pool fused: 2-row tiles pooled at store. */
    {IR_CONV, 28, 28, 1, 32, 3, 3, 1, 1, 1, 1, ACT_RELU, true, UNROLL_AUTO, MAX_POOL},  /* MNIST conv1 */
    {IR_CONV, 14, 14, 6, 16, 5, 5, 1, 1, 1, 1, ACT_TANH, true, UNROLL_AUTO, AVG_POOL},  /* LeNet c3 + s4 */
    {IR_CONV, 19, 16, 3, 20, 3, 2, 1, 1, 1, 1, ACT_LINEAR, true, UNROLL_AUTO, AVG_POOL},/* odd 17x15, tail */
    {IR_CONV, 22, 38, 3, 16, 3, 3, 1, 1, 1, 1, ACT_RELU, true, UNROLL_AUTO, MAX_POOL},  /* flowers conv1: rows in input order */
    {IR_CONV, 11, 13, 3, 12, 3, 3, 1, 1, 1, 1, ACT_TANH, true, UNROLL_FULL, MAX_POOL},  /* same, ky unrolled too */
    {IR_CONV, 13, 17, 3, 9, 3, 3, 2, 2, 1, 1, ACT_RELU, true, UNROLL_FULL, NO_POOL},    /* input order, stride 2 */
    {IR_CONV, 13, 13, 9, 40, 2, 2, 2, 2, 1, 1, ACT_RELU, false, UNROLL_FULL, MAX_POOL},
    {IR_CONV, 12, 15, 5, 24, 3, 3, 1, 1, 1, 1, ACT_SIGMOID, true, UNROLL_NONE, AVG_POOL},
    /* A bias per output value: the policy head (1x1, one filter, partial
     * tiles), tails of several vectors, one input channel (which the pixel
     * kernel would take with a per-channel bias), a pooled tile. */
    {IR_CONV, 19, 19, 64, 1, 1, 1, 1, 1, 1, 1, ACT_LINEAR, POSITION_BIAS, UNROLL_AUTO, NO_POOL},
    {IR_CONV, 9, 11, 7, 19, 3, 3, 1, 1, 1, 1, ACT_RELU, POSITION_BIAS, UNROLL_AUTO, NO_POOL},
    {IR_CONV, 10, 9, 1, 3, 3, 3, 1, 1, 1, 1, ACT_TANH, POSITION_BIAS, UNROLL_AUTO, NO_POOL},
    {IR_CONV, 13, 12, 3, 10, 3, 3, 1, 1, 1, 1, ACT_LINEAR, POSITION_BIAS, UNROLL_AUTO, MAX_POOL},
    {IR_CONV, 6, 5, 64, 20, 3, 3, 1, 1, 1, 1, ACT_RELU, POSITION_BIAS, UNROLL_AUTO, NO_POOL},
    /* One or two filters over 16+ channels: the channel-dot kernel
     * (conv_dot.c); channel tails, stride and dilation, rows that are not a
     * whole number of tiles, every kind of bias. */
    {IR_CONV, 9, 13, 20, 2, 3, 3, 2, 1, 1, 2, ACT_SIGMOID, CHANNEL_BIAS, UNROLL_AUTO, NO_POOL},
    {IR_CONV, 7, 23, 33, 1, 1, 1, 1, 1, 1, 1, ACT_RELU, NO_BIAS, UNROLL_AUTO, NO_POOL},
    {IR_CONV, 5, 6, 16, 2, 1, 2, 1, 1, 1, 1, ACT_TANH, POSITION_BIAS, UNROLL_AUTO, NO_POOL},
    {IR_CONV, 4, 21, 48, 1, 2, 2, 1, 2, 1, 1, ACT_LINEAR, CHANNEL_BIAS, UNROLL_NONE, NO_POOL},
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

static int conv_h(const Case *c) { return c->kind == IR_DENSE ? 1 : (c->ih - c->dh * (c->kh - 1) - 1) / c->sh + 1; }
static int conv_w(const Case *c) { return c->kind == IR_DENSE ? 1 : (c->iw - c->dw * (c->kw - 1) - 1) / c->sw + 1; }
static int out_h(const Case *c) { return c->pool ? conv_h(c) / 2 : conv_h(c); }
static int out_w(const Case *c) { return c->pool ? conv_w(c) / 2 : conv_w(c); }
static long long in_count(const Case *c) { return (long long)c->ih * c->iw * c->ic; }

static long long weight_count(const Case *c) {
    return c->kind == IR_DENSE ? (long long)c->ic * c->f : (long long)c->kh * c->kw * c->ic * c->f;
}

static KernelData case_data(int k) {
    const Case *c = &cases[k];
    long long biases = c->bias == POSITION_BIAS ? (long long)conv_h(c) * conv_w(c) * c->f : c->f;
    KernelData d = kernel_random_data(k, in_count(c), weight_count(c), biases);
    /* Scale the weights so sums stay O(1) and sigmoid/tanh are not saturated. */
    long long fan_in = weight_count(c) / c->f;
    for (long long i = 0; i < weight_count(c); i++)
        d.weight[i] *= (float)(2.0 / sqrt((double)fan_in));
    /* A fused pool must pass a NaN on as torch does: one NaN input makes a
     * block of NaN conv outputs, first, last or alone in its pool windows. */
    if (c->pool)
        d.input[in_count(c) / 3] = NAN;
    return d;
}

/* The layer in double, canonical weights [KH][KW][Cin][F] (dense [in][out]). */
static double conv_reference(const Case *c, const KernelData *d, int oy, int ox, int f) {
    long long at = c->bias == POSITION_BIAS ? ((long long)oy * conv_w(c) + ox) * c->f + f : f;
    double s = c->bias ? d->bias[at] : 0.0;
    int kh = c->kind == IR_DENSE ? 1 : c->kh, kw = c->kind == IR_DENSE ? 1 : c->kw;
    for (int ky = 0; ky < kh; ky++)
        for (int kx = 0; kx < kw; kx++)
            for (int ch = 0; ch < c->ic; ch++) {
                int iy = c->kind == IR_DENSE ? 0 : oy * c->sh + ky * c->dh;
                int ix = c->kind == IR_DENSE ? 0 : ox * c->sw + kx * c->dw;
                s += (double)d->input[((long long)iy * c->iw + ix) * c->ic + ch] *
                     d->weight[(((long long)ky * kw + kx) * c->ic + ch) * c->f + f];
            }
    return kernel_act_ref(c->act, s);
}

/* The conv, then the fused 2x2 stride-2 pool if the case has one. */
static double reference(int k, const void *data, int oy, int ox, int f) {
    const Case *c = &cases[k];
    const KernelData *d = data;
    if (!c->pool)
        return conv_reference(c, d, oy, ox, f);
    double sum = 0, max = -INFINITY;
    for (int dy = 0; dy < 2; dy++)
        for (int dx = 0; dx < 2; dx++) {
            double v = conv_reference(c, d, 2 * oy + dy, 2 * ox + dx, f);
            sum += v;
            max = isnan(max) || v <= max ? max : v;   /* NaN wins, as in torch */
        }
    return c->pool == MAX_POOL ? max : sum / 4;
}

/* Case k packed for t, with the data its reference reads. */
static KernelCase build_case(int k, const Target *t) {
    const Case *c = &cases[k];
    KernelData *d = arena_alloc(sizeof *d);
    *d = case_data(k);
    IrOp op = {.kind = c->kind, .kh = c->kh, .kw = c->kw, .sh = c->sh, .sw = c->sw, .dh = c->dh, .dw = c->dw,
               .act = c->act, .alpha = 0.01f, .unroll = c->unroll};
    op.in_shape = c->kind == IR_DENSE ? shape_vector(c->ic) : shape_image(c->ih, c->iw, c->ic);
    op.out_shape = c->kind == IR_DENSE ? shape_vector(c->f) : shape_image(out_h(c), out_w(c), c->f);
    op.weight = (Tensor){.data = d->weight, .count = weight_count(c)};
    if (c->pool) {
        Layer *pool = arena_alloc(sizeof *pool);
        *pool = (Layer){.kind = c->pool == MAX_POOL ? LAYER_MAXPOOL : LAYER_AVGPOOL, .kh = 2, .kw = 2, .sh = 2, .sw = 2};
        cr_assert(conv_simd_fuses_pool(&op, pool, t), "case %d: %s does not fuse the pool", k, t->name);
        op.fused[op.nfused++] = pool;
        cr_assert(!conv_simd_fuses_pool(&op, pool, t), "case %d: a second pool would be fused", k);
    }
    if (c->bias)
        op.bias = (Tensor){.data = d->bias, .count = c->bias == POSITION_BIAS ? (long long)conv_h(c) * conv_w(c) * c->f : c->f};
    op.per_position_bias = c->bias == POSITION_BIAS;
    op.kernel = c->kind == IR_DENSE ? dense_simd_kernel(&op, t) : conv_simd_kernel(&op, t);
    cr_assert_not_null(op.kernel, "no %s kernel for case %d", t->name, k);
    op.kernel->pack(&op);
    op.symbol_prefix = arena_printf("case%d", k);
    return (KernelCase){op, d->input, d};
}

/* The heads (one or two filters, many channels) take the channel-dot
 * kernel; three filters, or few channels, stay with the others. */
Test(simd, one_or_two_filters_over_many_channels_take_the_dot_kernel) {
    const Target *t = target_by_name("avx2");
    IrOp op = {.kind = IR_CONV, .kh = 1, .kw = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .act = ACT_LINEAR};
    op.in_shape = shape_image(19, 19, 64);
    op.out_shape = shape_image(19, 19, 1);
    op.per_position_bias = true;
    cr_assert_eq(conv_simd_kernel(&op, t), conv_dot_kernel(t));
    op.out_shape.c = 2;
    cr_assert_eq(conv_simd_kernel(&op, t), conv_dot_kernel(t));
    op.out_shape.c = 3;
    cr_assert_neq(conv_simd_kernel(&op, t), conv_dot_kernel(t));
    op.out_shape.c = 1;
    op.in_shape.c = 8;
    cr_assert_neq(conv_simd_kernel(&op, t), conv_dot_kernel(t));
}

static const KernelSuite suite = {"simd", NCASES, 1 << 16, true, build_case, reference};

Test(simd, sse4) { kernel_test_sse4(&suite); }

Test(simd, avx2) { kernel_test_avx2(&suite); }

Test(simd, avx512) { kernel_test_avx512(&suite, false); }

Test(simd, auto_every_path) { kernel_test_auto(&suite, "cc"); }

Test(simd, neon) { kernel_test_neon(&suite); }

/* tests/emu stands in for an x86 header the CPU lacks (kernel_harness.h):
 * where the CPU has the ISA, the stand-in must agree with it bit for bit. */
Test(simd, emulation_matches_sse4) {
    if (!__builtin_cpu_supports("sse4.1"))
        cr_skip_test("this CPU has no SSE4.1: nothing to compare the emulation with");
    kernel_check_emulation("sse4", "-msse4.1");
}

Test(simd, emulation_matches_avx2) {
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
        cr_skip_test("this CPU has no AVX2+FMA: nothing to compare the emulation with");
    kernel_check_emulation("avx2", "-mavx2 -mfma");
}

Test(simd, emulation_matches_avx512) {
    if (!__builtin_cpu_supports("avx512f"))
        cr_skip_test("this CPU has no AVX-512F: nothing to compare the emulation with");
    kernel_check_emulation("avx512", "-mavx512f");
}
