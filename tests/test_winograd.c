/* test_winograd.c — the Winograd F(m x m, r x r) conv kernels (F(4x4,3x3),
 * F(2x2,5x5), F(4x4,5x5)) against a float64 reference, on every SIMD target.
 *
 * Method (as test_simd.c): hand-made r x r stride-1 conv ops for awkward
 * shapes — outputs that are not multiples of m in either direction (partial
 * edge tiles), several tile-row blocks, input and output channel counts that
 * are not multiples of the lane count, one-tile outputs, every fused
 * activation, no bias, inputs with the zero border a PAD op gives (padding
 * (r-1)/2) and without (valid), large magnitudes, fused 2x2 max and average
 * pools — are packed and emitted by the variant's kernel (cost model
 * bypassed), written into one C program with a main() that runs
 * each kernel with its scratch buffer and writes the outputs, compiled with
 * -Werror and the target's flags, run (NEON under qemu), and every element
 * checked against the convolution computed here in double:
 * |got - exp| <= 1e-4 * max(1, |exp|).  A last test pins the kernel choice:
 * which layers the cost model gives to Winograd and which it refuses.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnnc.h"
#include "count_of.h"
#include "kernel_harness.h"
#include "ops/simd.h"

typedef enum { NO_POOL, MAX_POOL, AVG_POOL } PoolKind;

typedef struct Case {
    int r, m;            /* an r x r conv by Winograd F(m x m, r x r) */
    int oh, ow, ic, f;   /* conv output rows, cols; channels in, out */
    bool border;         /* input carries the zero border of padding (r-1)/2 */
    ActKind act;
    bool bias;
    bool large;          /* inputs in [0, 2000) and positive weights */
    PoolKind pool;       /* a fused 2x2 stride-2 pool */
} Case;

static const Case cases[] = {
    {3, 4, 19, 19, 64, 64, true, ACT_RELU, true, false, NO_POOL},   /* policy layer: 5x5 tiles, partial edges */
    {3, 4, 11, 11, 32, 64, false, ACT_RELU, true, false, NO_POOL},  /* MNIST conv2, valid */
    {3, 4, 9, 12, 5, 10, false, ACT_LINEAR, false, false, NO_POOL}, /* partial rows only, tails, no bias */
    {3, 4, 6, 7, 17, 20, true, ACT_SIGMOID, true, false, NO_POOL},  /* partial both ways, odd channels */
    {3, 4, 5, 5, 16, 33, false, ACT_TANH, true, false, NO_POOL},    /* F one past two AVX-512 vectors */
    {3, 4, 4, 4, 8, 16, false, ACT_LEAKY_RELU, true, false, NO_POOL}, /* exactly one tile */
    {3, 4, 3, 3, 64, 64, false, ACT_RELU6, true, false, NO_POOL},   /* one partial tile */
    {3, 4, 58, 58, 16, 16, true, ACT_RELU, true, false, NO_POOL},   /* several blocks of tile rows */
    {3, 4, 8, 10, 24, 24, false, ACT_LINEAR, true, true, NO_POOL},   /* large magnitudes */
    {3, 4, 7, 6, 1, 1, true, ACT_RELU, true, false, NO_POOL},       /* one channel in and out */
    {3, 4, 19, 19, 16, 24, true, ACT_RELU, true, false, MAX_POOL},    /* odd: last tile pools one row */
    {3, 4, 13, 14, 16, 20, false, ACT_TANH, true, false, AVG_POOL},   /* avg after tanh, tails */
    {3, 4, 21, 21, 16, 16, true, ACT_RELU, true, false, MAX_POOL},    /* odd: last conv row and column not tiled */
    {3, 4, 8, 8, 24, 24, false, ACT_LINEAR, false, false, AVG_POOL},  /* whole tiles */
    {3, 4, 13, 13, 32, 64, false, ACT_RELU, true, false, NO_POOL},  /* CIFAR conv2: 16x64 = 4 KB points, skewed */
    {3, 4, 7, 9, 20, 80, true, ACT_RELU, true, false, NO_POOL},     /* F = 5 AVX-512 vectors: a 1-vector rest block */
    /* F(2x2,5x5) */
    {5, 2, 19, 19, 48, 64, true, ACT_RELU, true, false, NO_POOL},   /* policy conv1: 10x10 tiles, padding 2 */
    {5, 2, 7, 9, 17, 20, true, ACT_SIGMOID, true, false, NO_POOL},  /* partial both ways, odd channels */
    {5, 2, 2, 2, 16, 33, false, ACT_RELU6, false, false, NO_POOL},  /* one tile, F one past 2 vectors, no bias */
    {5, 2, 40, 40, 16, 16, true, ACT_RELU, true, false, NO_POOL},   /* several blocks of tile rows */
    {5, 2, 14, 14, 16, 24, true, ACT_RELU, true, false, MAX_POOL},  /* each tile pools to one output */
    {5, 2, 11, 13, 8, 12, false, ACT_TANH, true, false, AVG_POOL},  /* odd: last conv row and column not tiled */
    /* F(4x4,5x5) */
    {5, 4, 19, 19, 48, 64, true, ACT_RELU, true, false, NO_POOL},   /* policy conv1: 5x5 tiles, partial edges */
    {5, 4, 6, 7, 17, 20, true, ACT_SIGMOID, true, false, NO_POOL},  /* partial both ways, odd channels */
    {5, 4, 4, 4, 16, 33, false, ACT_TANH, true, false, NO_POOL},    /* exactly one tile, F one past 2 vectors */
    {5, 4, 40, 40, 16, 16, true, ACT_RELU, true, false, NO_POOL},   /* several blocks of tile rows */
    {5, 4, 8, 8, 24, 24, false, ACT_LINEAR, true, true, NO_POOL},   /* large magnitudes */
    {5, 4, 19, 19, 16, 24, true, ACT_RELU, true, false, MAX_POOL},  /* odd: last tile pools one row */
    {5, 4, 21, 21, 8, 8, true, ACT_LEAKY_RELU, true, false, MAX_POOL}, /* odd: last conv row and column not tiled */
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

static int in_h(const Case *c) { return c->oh + c->r - 1; }
static int in_w(const Case *c) { return c->ow + c->r - 1; }
static long long in_count(const Case *c) { return (long long)in_h(c) * in_w(c) * c->ic; }
static int pooled(const Case *c, int n) { return c->pool ? n / 2 : n; }
static int out_h(const Case *c) { return pooled(c, c->oh); }
static int out_w(const Case *c) { return pooled(c, c->ow); }
static long long weight_count(const Case *c) { return (long long)c->r * c->r * c->ic * c->f; }

/* Weights scaled so sums stay O(1) and sigmoid/tanh are not saturated;
 * for a border case the input's outer (r-1)/2 rings are zero.  Large inputs come with
 * positive weights: outputs of random sign would cancel to values near 0,
 * whose 1e-4 absolute tolerance no float32 sum of terms of 1000 meets (the
 * direct sum is at 9e-5 there, Winograd 8e-4: docs/decisions/winograd.md). */
static KernelData case_data(int k) {
    const Case *c = &cases[k];
    KernelData d = kernel_random_data(k, in_count(c), weight_count(c), c->f);
    for (int y = 0; y < in_h(c); y++)
        for (int x = 0; x < in_w(c); x++)
            for (int ch = 0; ch < c->ic; ch++) {
                int pad = (c->r - 1) / 2;
                bool ring = y < pad || x < pad || y >= in_h(c) - pad || x >= in_w(c) - pad;
                float *v = &d.input[((long long)y * in_w(c) + x) * c->ic + ch];
                *v = c->border && ring ? 0.0f : c->large ? (*v + 1.0f) * 1000.0f : *v;
            }
    for (long long i = 0; i < weight_count(c); i++)
        d.weight[i] = (c->large ? fabsf(d.weight[i]) : d.weight[i]) * (float)(2.0 / sqrt((double)c->r * c->r * c->ic));
    return d;
}

/* The convolution in double; weights [r][r][Cin][F]. */
static double conv_reference(const Case *c, const KernelData *d, int oy, int ox, int f) {
    double s = c->bias ? d->bias[f] : 0.0;
    for (int ky = 0; ky < c->r; ky++)
        for (int kx = 0; kx < c->r; kx++)
            for (int ch = 0; ch < c->ic; ch++)
                s += (double)d->input[((long long)(oy + ky) * in_w(c) + ox + kx) * c->ic + ch] *
                     d->weight[((ky * c->r + kx) * c->ic + ch) * (long long)c->f + f];
    return kernel_act_ref(c->act, s);
}

/* Output (oy, ox) of the case: the conv, or the pool of its 2x2 block. */
static double reference(int k, const void *data, int oy, int ox, int f) {
    const Case *c = &cases[k];
    const KernelData *d = data;
    if (!c->pool)
        return conv_reference(c, d, oy, ox, f);
    double sum = 0, most = -INFINITY;
    for (int i = 0; i < 4; i++) {
        double v = conv_reference(c, d, 2 * oy + i / 2, 2 * ox + i % 2, f);
        sum += v;
        most = fmax(most, v);
    }
    return c->pool == MAX_POOL ? most : sum / 4;
}

/* Case k packed for t, with the data its reference reads. */
static KernelCase build_case(int k, const Target *t) {
    const Case *c = &cases[k];
    KernelData *d = arena_alloc(sizeof *d);
    *d = case_data(k);
    IrOp op = {.kind = IR_CONV, .kh = c->r, .kw = c->r, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .act = c->act,
               .alpha = 0.01f, .scratch = -1};
    op.in_shape = shape_image(in_h(c), in_w(c), c->ic);
    op.out_shape = shape_image(out_h(c), out_w(c), c->f);
    if (c->pool) {
        Layer *pool = arena_alloc(sizeof *pool);
        *pool = (Layer){.kind = c->pool == MAX_POOL ? LAYER_MAXPOOL : LAYER_AVGPOOL, .kh = 2, .kw = 2, .sh = 2, .sw = 2};
        op.fused[op.nfused++] = pool;
    }
    op.weight = (Tensor){.data = d->weight, .count = weight_count(c)};
    if (c->bias)
        op.bias = (Tensor){.data = d->bias, .count = c->f};
    op.kernel = conv_winograd_variant_kernel(&op, t, c->m);
    cr_assert_not_null(op.kernel, "no Winograd F(%dx%d,%dx%d) %s kernel for case %d", c->m, c->m, c->r, c->r,
                       t->name, k);
    op.kernel->pack(&op);
    cr_assert_gt(op.scratch_floats, 0, "case %d: no scratch", k);
    op.symbol_prefix = arena_printf("case%d", k);
    return (KernelCase){op, d->input, d};
}

static const KernelSuite suite = {"winograd", NCASES, 1 << 18, false, build_case, reference};

Test(winograd, sse4) { kernel_test_sse4(&suite); }

Test(winograd, avx2) { kernel_test_avx2(&suite); }

Test(winograd, avx512) { kernel_test_avx512(&suite, true); }

Test(winograd, auto_every_path) { kernel_test_auto(&suite, "clang"); }

Test(winograd, neon) { kernel_test_neon(&suite); }

/* The shape of a conv op for the kernel choice (no weights needed). */
static IrOp choice_op(int ih, int iw, int ic, int f, int k, int stride, UnrollMode unroll) {
    IrOp op = {.kind = IR_CONV, .kh = k, .kw = k, .sh = stride, .sw = stride, .dh = 1, .dw = 1,
               .act = ACT_RELU, .unroll = unroll, .scratch = -1};
    op.in_shape = shape_image(ih, iw, ic);
    op.out_shape = shape_image((ih - k) / stride + 1, (iw - k) / stride + 1, f);
    op.weight = (Tensor){.count = (long long)k * k * ic * f};
    return op;
}

/* Where the cost model takes Winograd on AVX-512 and where it leaves the
 * direct kernel, and which variant it picks (docs/decisions/winograd.md has
 * the measured speed-ups). */
Test(winograd, kernel_choice) {
    const Target *t = target_by_name("avx512");
    IrOp policy = choice_op(21, 21, 64, 64, 3, 1, UNROLL_AUTO);
    IrOp flowers3 = choice_op(47, 47, 32, 64, 3, 1, UNROLL_FULL);
    IrOp rgb = choice_op(182, 182, 3, 16, 3, 1, UNROLL_AUTO);        /* measured 0.45x */
    IrOp gray = choice_op(28, 28, 1, 32, 3, 1, UNROLL_AUTO);         /* measured 0.2x */
    IrOp rolled = choice_op(21, 21, 64, 64, 3, 1, UNROLL_NONE);      /* the readable kernel */
    IrOp strided = choice_op(21, 21, 64, 64, 3, 2, UNROLL_AUTO);
    IrOp five = choice_op(23, 23, 48, 64, 5, 1, UNROLL_AUTO);     /* policy conv1: F(4x4,5x5) */
    IrOp five_strided = choice_op(23, 23, 48, 64, 5, 2, UNROLL_AUTO);
    IrOp lenet = choice_op(32, 32, 1, 6, 5, 1, UNROLL_AUTO);         /* one input channel */
    IrOp seven = choice_op(25, 25, 48, 64, 7, 1, UNROLL_AUTO);       /* no variant */
    cr_expect_not_null(conv_winograd_kernel(&policy, t));
    cr_expect_not_null(conv_winograd_kernel(&flowers3, t));
    cr_expect_null(conv_winograd_kernel(&rgb, t));
    cr_expect_null(conv_winograd_kernel(&gray, t));
    cr_expect_null(conv_winograd_kernel(&rolled, t));
    cr_expect_null(conv_winograd_kernel_any(&strided, t));
    cr_expect_null(conv_winograd_kernel(&policy, target_by_name("scalar")));
    cr_expect_eq(conv_winograd_kernel(&policy, t), conv_winograd_variant_kernel(&policy, t, 4));
    cr_expect_null(conv_winograd_variant_kernel(&policy, t, 2));
    const Target *avx2 = target_by_name("avx2");
    cr_expect_not_null(conv_winograd_kernel(&five, t));
    cr_expect_eq(conv_winograd_kernel(&five, t), conv_winograd_variant_kernel(&five, t, 4));
    cr_expect_eq(conv_winograd_kernel(&five, avx2), conv_winograd_variant_kernel(&five, avx2, 4));
    cr_expect_not_null(conv_winograd_variant_kernel(&five, t, 2));
    cr_expect_null(conv_winograd_variant_kernel(&policy, t, 6));   /* F(6x6,3x3): not adopted */
    cr_expect_null(conv_winograd_kernel_any(&five_strided, t));
    cr_expect_null(conv_winograd_kernel(&lenet, avx2));
    /* LeNet c3: estimated 0.845 on AVX2 and SSE4 (taken, measured faster),
     * 1.1 on AVX-512 (direct). */
    IrOp lenet_c3 = choice_op(14, 14, 6, 16, 5, 1, UNROLL_AUTO);
    cr_expect_eq(conv_winograd_kernel(&lenet_c3, avx2), conv_winograd_variant_kernel(&lenet_c3, avx2, 4));
    cr_expect_not_null(conv_winograd_kernel(&lenet_c3, target_by_name("sse4")));
    cr_expect_null(conv_winograd_kernel(&lenet_c3, t));
    cr_expect_null(conv_winograd_kernel_any(&seven, t));
    /* One tile (cifar conv3, 4x4 outputs): the GEMM streams U (590 KB) for
     * one fma per vector; estimated 0.83 on every target, measured 0.76 of
     * the direct kernel on AVX2.  mnist conv3 (3x3 outputs of the same one
     * tile, 1.48) stays direct: measured 1.26. */
    IrOp cifar3 = choice_op(6, 6, 64, 64, 3, 1, UNROLL_AUTO);
    IrOp mnist3 = choice_op(5, 5, 64, 64, 3, 1, UNROLL_AUTO);
    const char *const simd_targets[] = {"sse4", "avx2", "avx512", "neon"};
    for (int i = 0; i < 4; i++) {
        const Target *target = target_by_name(simd_targets[i]);
        cr_expect_not_null(conv_winograd_kernel(&cifar3, target), "%s", simd_targets[i]);
        cr_expect_null(conv_winograd_kernel(&mnist3, target), "%s", simd_targets[i]);
    }
}

/* The emitted body of op's F(4x4,3x3) kernel on a target (weights not
 * needed). */
static char *winograd_body_on(IrOp *op, const char *target) {
    op->kernel = conv_winograd_variant_kernel(op, target_by_name(target), 4);
    cr_assert_not_null(op->kernel);
    op->kernel->pack(op);
    char *text;
    size_t len;
    FILE *f = open_memstream(&text, &len);
    Emitter e = {.out = f, .line_start = true};
    op->kernel->emit_body(&e, op);
    fclose(f);
    return text;
}

static char *winograd_body(IrOp *op) { return winograd_body_on(op, "avx2"); }

/* Neighbouring input tiles share alpha - m = 2 columns of 6 loads, which
 * gcc's predictive commoning carries to the next tile in registers when the
 * tile loop is innermost (one vector of input channels): 36 + 12 do not fit
 * 32 registers (AVX-512 flowers conv2: 68 stack accesses per tile, 37 with
 * the pointer hidden).  With two vectors of channels the k loop is
 * innermost and nothing is carried.  simd_opaque_row. */
Test(winograd, input_tile_pointer_hidden_where_tiles_are_innermost) {
    IrOp flowers2 = choice_op(92, 92, 16, 32, 3, 1, UNROLL_AUTO);
    cr_expect(strstr(winograd_body_on(&flowers2, "avx512"), "const float *x = cnnc_opaque_row(in + "));
    IrOp two_vectors = choice_op(92, 92, 32, 32, 3, 1, UNROLL_AUTO);
    cr_expect_null(strstr(winograd_body_on(&two_vectors, "avx512"), "cnnc_opaque_row"));
    cr_expect_null(strstr(winograd_body_on(&flowers2, "avx2"), "cnnc_opaque_row"));
}

/* A block of fewer tiles than the register tile's PX: one tile of cifar
 * conv3 with AVX2's 6 tiles x 2 vectors left 2 chains of 64 dependent fmas
 * per point (latency-bound; CIFAR 612 k -> 493 k instructions with all 8
 * vectors of output channels in one tile, 60.8 -> 54.6 us).  Several tiles
 * keep their weight vectors in registers, so fewer vectors fit. */
Test(winograd, few_tiles_take_more_output_vectors) {
    IrOp cifar3 = choice_op(6, 6, 64, 64, 3, 1, UNROLL_AUTO);
    char *text = winograd_body(&cifar3);
    cr_assert(strstr(text, "1x1 tiles in blocks of 1 rows; GEMM tile 1 tiles x 8 vectors of 8"), "%.300s", text);
    cr_expect(strstr(text, "a0_7 = cnnc_vfma(x, w7, a0_7)"));
    cr_expect(strstr(winograd_body_on(&cifar3, "avx512"), "GEMM tile 1 tiles x 4 vectors of 16"));
    cr_expect(strstr(winograd_body_on(&cifar3, "sse4"), "GEMM tile 1 tiles x 8 vectors of 4"));
    IrOp two_tiles = choice_op(10, 6, 64, 64, 3, 1, UNROLL_AUTO);   /* 8x4 outputs */
    text = winograd_body(&two_tiles);
    cr_expect(strstr(text, "2x1 tiles in blocks of 2 rows; GEMM tile 2 tiles x 4 vectors of 8"), "%.300s", text);
    IrOp policy = choice_op(21, 21, 64, 64, 3, 1, UNROLL_AUTO);
    cr_expect(strstr(winograd_body(&policy), "GEMM tile 6 tiles x 2 vectors of 8"));
}

/* `auto`: each path decides.  LeNet c3 is estimated 0.845 on AVX2 and SSE,
 * 1.1 on AVX-512: the split kernel gives the 16-lane path the direct body
 * and the others Winograd (LeNet-5 compiled for AVX2 from an auto file:
 * 135 k -> 108 k instructions, as --target=avx2).  Where every path agrees
 * (the policy layer) the plain Winograd kernel stays. */
Test(winograd, auto_paths_decide_for_themselves) {
    const Target *t = target_by_name("auto");
    IrOp policy = choice_op(21, 21, 64, 64, 3, 1, UNROLL_AUTO);
    cr_expect_eq(conv_winograd_kernel(&policy, t), conv_winograd_variant_kernel(&policy, t, 4));
    IrOp lenet_c3 = choice_op(14, 14, 6, 16, 5, 1, UNROLL_AUTO);
    lenet_c3.kernel = conv_winograd_kernel(&lenet_c3, t);
    cr_assert_not_null(lenet_c3.kernel);
    cr_expect_neq(lenet_c3.kernel, conv_winograd_variant_kernel(&lenet_c3, t, 4));
    lenet_c3.symbol_prefix = "lenet5_c3";
    lenet_c3.kernel->pack(&lenet_c3);
    cr_assert_eq(lenet_c3.narrays, 2);   /* no bias in choice_op: the direct weights, U */
    cr_expect_str_eq(lenet_c3.arrays[1].tensor, "winograd");
    cr_expect_gt(lenet_c3.scratch_floats, 0);
    char *text;
    size_t len;
    FILE *f = open_memstream(&text, &len);
    Emitter e = {.out = f, .line_start = true};
    lenet_c3.kernel->emit_body(&e, &lenet_c3);
    fclose(f);
    const char *lanes8 = strstr(text, "#elif CNNC_LANES == 8\n");
    cr_assert_not_null(lanes8, "%.300s", text);
    /* 16 lanes: the direct tile, U and the scratch unused; then Winograd. */
    cr_expect(strstr(text, "#if CNNC_LANES == 16\n(void)lenet5_c3_winograd.f;\n(void)scratch;\n/* tile: "),
              "%.300s", text);
    cr_expect(strstr(text, "Winograd F(4x4,5x5)") > lanes8);
    cr_expect(strstr(lanes8, "#elif CNNC_LANES == 8\n(void)lenet5_c3_weight.f;\n/* Winograd F(4x4,5x5)"));
    cr_expect(strstr(lanes8, "#elif CNNC_LANES == 4\n(void)lenet5_c3_weight.f;\n/* Winograd F(4x4,5x5)"));
    cr_expect(strstr(lanes8, "#else\n(void)lenet5_c3_weight.f;\n/* Winograd F(4x4,5x5)"));
    free(text);
}

/* With a fused 2x2 pool the tiles cover only the conv outputs the pool reads:
 * cifar conv2's 13x13 outputs pool to 6x6, which 3x3 tiles of 4 cover (4x4
 * computed a row and a column of tiles that nothing read: 16 tiles for 9).
 * 21x21 pooled to 10x10 needs 5x5 tiles, 20x20 unpooled too. */
Test(winograd, pooled_tiles_cover_only_pooled_pairs) {
    Layer pool = {.kind = LAYER_MAXPOOL, .kh = 2, .kw = 2, .sh = 2, .sw = 2};
    IrOp cifar2 = choice_op(15, 15, 32, 64, 3, 1, UNROLL_AUTO);
    cifar2.out_shape = shape_image(6, 6, 64);
    cifar2.fused[cifar2.nfused++] = &pool;
    char *text = winograd_body(&cifar2);
    cr_assert(strstr(text, "F(4x4,3x3): 3x3 tiles"), "%.300s", text);
    IrOp odd = choice_op(23, 23, 16, 16, 3, 1, UNROLL_AUTO);
    odd.out_shape = shape_image(10, 10, 16);
    odd.fused[odd.nfused++] = &pool;
    text = winograd_body(&odd);
    cr_assert(strstr(text, "F(4x4,3x3): 5x5 tiles"), "%.300s", text);
    IrOp plain = choice_op(22, 22, 16, 16, 3, 1, UNROLL_AUTO);
    text = winograd_body(&plain);
    cr_assert(strstr(text, "F(4x4,3x3): 5x5 tiles"), "%.300s", text);
}

/* ---- the transforms' shared pairs (ops/lincomb.c) ---- */

/* The emitted temporaries, then one "yR = EXPR;" line per row (or "yR = 0;"). */
static char *lincomb_text(const double *matrix, int rows, const char *const *terms, int n) {
    char *text;
    size_t len;
    FILE *f = open_memstream(&text, &len);
    Emitter e = {.out = f, .line_start = true};
    const char *out[LINCOMB_MAX_ROWS];
    lincomb_emit(&e, matrix, LINCOMB_MAX_N, rows, terms, n, "p_", out);
    for (int r = 0; r < rows; r++)
        emit(&e, "y%d = %s;\n", r, out[r] ? out[r] : "0");
    fclose(f);
    return text;
}

static int vector_ops(const char *text) {
    return count_of(text, "cnnc_vadd(") + count_of(text, "cnnc_vsub(") + count_of(text, "cnnc_vfma(") +
           count_of(text, "cnnc_vmul(");
}

static const char *const six_terms[] = {"x0", "x1", "x2", "x3", "x4", "x5"};

/* F(4x4,3x3) with points 0, 1, -1, 1/2, -2: B^T's rows 0, 3, 4 and 5 share
 * x1 - x3 and x4 - x2 (20 -> 16 operations), A^T's rows x1 + x2 and x1 - x2
 * (14 -> 12). */
Test(lincomb, winograd_4x4_3x3_transforms_share_pairs) {
    static const double bt[6][LINCOMB_MAX_N] = {{1, -1.5, -2, 1.5, 1, 0}, {0, -1, 0.5, 2.5, 1, 0},
                                                {0, 1, -2.5, 0.5, 1, 0},  {0, -2, -1, 2, 1, 0},
                                                {0, 0.5, -1, -0.5, 1, 0}, {0, 1, -1.5, -2, 1.5, 1}};
    static const double at[4][LINCOMB_MAX_N] = {
        {1, 1, 1, 1, 1, 0}, {0, 1, -1, 0.5, -2, 0}, {0, 1, 1, 0.25, 4, 0}, {0, 1, -1, 0.125, -8, 1}};
    char *b = lincomb_text(bt[0], 6, six_terms, 6);
    cr_expect_eq(vector_ops(b), 16, "%s", b);
    cr_expect(strstr(b, "const cnnc_v p_t0 = cnnc_vsub(x1, x3);\n"), "%s", b);
    cr_expect(strstr(b, "y3 = cnnc_vfma(cnnc_vbcast(-2.0f), p_t0, p_t1);\n"), "%s", b);
    char *a = lincomb_text(at[0], 4, six_terms, 6);
    cr_expect_eq(vector_ops(a), 12, "%s", a);
    free(b);
    free(a);
}

/* A NULL term is a known zero (a tile past the input's edge): its terms
 * drop out, and a row with nothing left is NULL. */
Test(lincomb, absent_terms_drop_out) {
    static const double m[2][LINCOMB_MAX_N] = {{1, 1, 1}, {0, 2, 0}};
    const char *terms[] = {"x0", NULL, "x2"};
    char *text = lincomb_text(m[0], 2, terms, 3);
    cr_expect_str_eq(text, "y0 = cnnc_vadd(x0, x2);\ny1 = 0;\n");
    free(text);
}

/* A pair is shared only in a power-of-two ratio, so every coefficient stays
 * exact: x0 + 2·x1 is shared by its multiple 3·(x0 + 2·x1), x0 + 3·x1 is not. */
Test(lincomb, shares_only_exact_ratios) {
    static const double two[2][LINCOMB_MAX_N] = {{1, 2}, {3, 6}}, three[2][LINCOMB_MAX_N] = {{1, 3}, {2, 6}};
    char *shared = lincomb_text(two[0], 2, six_terms, 2);
    cr_expect_str_eq(shared, "const cnnc_v p_t0 = cnnc_vfma(cnnc_vbcast(2.0f), x1, x0);\n"
                             "y0 = p_t0;\ny1 = cnnc_vmul(cnnc_vbcast(3.0f), p_t0);\n");
    char *plain = lincomb_text(three[0], 2, six_terms, 2);
    cr_expect_null(strstr(plain, "p_t"), "%s", plain);
    free(shared);
    free(plain);
}
