/* test_winograd.c — the Winograd F(4x4,3x3) conv kernel against a float64
 * reference, on every SIMD target.
 *
 * Method (as test_simd.c): hand-made 3x3 stride-1 conv ops for awkward shapes
 * — outputs that are not multiples of 4 in either direction (partial edge
 * tiles), several tile-row blocks, input and output channel counts that are
 * not multiples of the lane count, one-tile outputs, every fused activation,
 * no bias, inputs with the zero border a PAD op gives (padding 1) and without
 * (valid), large magnitudes, fused 2x2 max and average pools — are packed and emitted by the Winograd kernel
 * (cost model bypassed), written into one C program with a main() that runs
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
#include <unistd.h>

#include "cnnc.h"

#define RUNTIME_DIR "../runtime"
#define WORK_DIR "/tmp"

typedef enum { NO_POOL, MAX_POOL, AVG_POOL } PoolKind;

typedef struct Case {
    int oh, ow, ic, f;   /* conv output rows, cols; channels in, out */
    bool border;         /* input carries a zero border of 1 (padding=1) */
    ActKind act;
    bool bias;
    bool large;          /* inputs in [0, 2000) and positive weights */
    PoolKind pool;       /* a fused 2x2 stride-2 pool */
} Case;

static const Case cases[] = {
    {19, 19, 64, 64, true, ACT_RELU, true, false, NO_POOL},   /* policy layer: 5x5 tiles, partial edges */
    {11, 11, 32, 64, false, ACT_RELU, true, false, NO_POOL},  /* MNIST conv2, valid */
    {9, 12, 5, 10, false, ACT_LINEAR, false, false, NO_POOL}, /* partial rows only, tails, no bias */
    {6, 7, 17, 20, true, ACT_SIGMOID, true, false, NO_POOL},  /* partial both ways, odd channels */
    {5, 5, 16, 33, false, ACT_TANH, true, false, NO_POOL},    /* F one past two AVX-512 vectors */
    {4, 4, 8, 16, false, ACT_LEAKY_RELU, true, false, NO_POOL}, /* exactly one tile */
    {3, 3, 64, 64, false, ACT_RELU6, true, false, NO_POOL},   /* one partial tile */
    {58, 58, 16, 16, true, ACT_RELU, true, false, NO_POOL},   /* several blocks of tile rows */
    {8, 10, 24, 24, false, ACT_LINEAR, true, true, NO_POOL},   /* large magnitudes */
    {7, 6, 1, 1, true, ACT_RELU, true, false, NO_POOL},       /* one channel in and out */
    {19, 19, 16, 24, true, ACT_RELU, true, false, MAX_POOL},    /* odd: last tile pools one row */
    {13, 14, 16, 20, false, ACT_TANH, true, false, AVG_POOL},   /* avg after tanh, tails */
    {21, 21, 16, 16, true, ACT_RELU, true, false, MAX_POOL},    /* last tile row and column pool none */
    {8, 8, 24, 24, false, ACT_LINEAR, false, false, AVG_POOL},  /* whole tiles */
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

static int in_h(const Case *c) { return c->oh + 2; }
static int in_w(const Case *c) { return c->ow + 2; }
static long long in_count(const Case *c) { return (long long)in_h(c) * in_w(c) * c->ic; }
static int pooled(const Case *c, int n) { return c->pool ? n / 2 : n; }
static int out_h(const Case *c) { return pooled(c, c->oh); }
static int out_w(const Case *c) { return pooled(c, c->ow); }
static long long out_count(const Case *c) { return (long long)out_h(c) * out_w(c) * c->f; }
static long long weight_count(const Case *c) { return 9LL * c->ic * c->f; }

/* Deterministic values in [-1, 1). */
static float *random_floats(long long n, unsigned seed) {
    float *v = arena_alloc((size_t)n * sizeof *v);
    for (long long i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        v[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
    return v;
}

typedef struct Data {
    float *input, *weight, *bias;
} Data;

/* Weights scaled so sums stay O(1) and sigmoid/tanh are not saturated;
 * for a border case the input's outer ring is zero.  Large inputs come with
 * positive weights: outputs of random sign would cancel to values near 0,
 * whose 1e-4 absolute tolerance no float32 sum of terms of 1000 meets (the
 * direct sum is at 9e-5 there, Winograd 8e-4: docs/decisions/winograd.md). */
static Data case_data(int k) {
    const Case *c = &cases[k];
    Data d = {random_floats(in_count(c), 11u + (unsigned)k), random_floats(weight_count(c), 23u + (unsigned)k),
              random_floats(c->f, 37u + (unsigned)k)};
    for (int y = 0; y < in_h(c); y++)
        for (int x = 0; x < in_w(c); x++)
            for (int ch = 0; ch < c->ic; ch++) {
                bool ring = y == 0 || x == 0 || y == in_h(c) - 1 || x == in_w(c) - 1;
                float *v = &d.input[((long long)y * in_w(c) + x) * c->ic + ch];
                *v = c->border && ring ? 0.0f : c->large ? (*v + 1.0f) * 1000.0f : *v;
            }
    for (long long i = 0; i < weight_count(c); i++)
        d.weight[i] = (c->large ? fabsf(d.weight[i]) : d.weight[i]) * (float)(2.0 / sqrt(9.0 * c->ic));
    return d;
}

static double act_ref(ActKind act, double x) {
    switch (act) {
    case ACT_RELU: return x > 0 ? x : 0;
    case ACT_RELU6: return x < 0 ? 0 : x > 6 ? 6 : x;
    case ACT_LEAKY_RELU: return x > 0 ? x : 0.01 * x;
    case ACT_SIGMOID: return 1 / (1 + exp(-x));
    case ACT_TANH: return tanh(x);
    default: return x;
    }
}

/* The convolution in double; weights [3][3][Cin][F]. */
static double conv_reference(const Case *c, const Data *d, int oy, int ox, int f) {
    double s = c->bias ? d->bias[f] : 0.0;
    for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++)
            for (int ch = 0; ch < c->ic; ch++)
                s += (double)d->input[((long long)(oy + ky) * in_w(c) + ox + kx) * c->ic + ch] *
                     d->weight[((ky * 3 + kx) * c->ic + ch) * (long long)c->f + f];
    return act_ref(c->act, s);
}

/* Output (oy, ox) of the case: the conv, or the pool of its 2x2 block. */
static double reference(const Case *c, const Data *d, int oy, int ox, int f) {
    if (!c->pool)
        return conv_reference(c, d, oy, ox, f);
    double sum = 0, most = -INFINITY;
    for (int k = 0; k < 4; k++) {
        double v = conv_reference(c, d, 2 * oy + k / 2, 2 * ox + k % 2, f);
        sum += v;
        most = fmax(most, v);
    }
    return c->pool == MAX_POOL ? most : sum / 4;
}

static IrOp make_op(int k, const Data *d, const Target *t) {
    const Case *c = &cases[k];
    IrOp op = {.kind = IR_CONV, .kh = 3, .kw = 3, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .act = c->act,
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
    op.kernel = conv_winograd_kernel_any(&op, t);
    cr_assert_not_null(op.kernel, "no Winograd %s kernel for case %d", t->name, k);
    op.kernel->pack(&op);
    cr_assert_gt(op.scratch_floats, 0, "case %d: no scratch", k);
    op.symbol_prefix = arena_printf("case%d", k);
    return op;
}

static void write_float_list(FILE *f, const float *v, long long n) {
    fprintf(f, "{");
    for (long long i = 0; i < n; i++)
        fprintf(f, "%s%.9g", i == 0 ? "\n    " : i % 8 ? ", " : ",\n    ", (double)v[i]);
    fprintf(f, "}");
}

static void write_floats(FILE *f, const char *decl, const float *v, long long n) {
    fprintf(f, "%s[%lld] = ", decl, n);
    write_float_list(f, v, n);
    fprintf(f, ";\n");
}

/* A kernel reads a large array as NAME.f (a union member, as emit_c.c
 * declares it) and a small one as NAME. */
static void write_array(FILE *f, const IrOp *op, int i) {
    const char *symbol = ir_array_symbol(op, i);
    size_t len = strlen(symbol);
    if (len < 2 || strcmp(symbol + len - 2, ".f")) {
        write_floats(f, arena_printf("static const float %s", symbol), op->arrays[i].data, op->arrays[i].count);
        return;
    }
    fprintf(f, "static const union { float f[%lld]; } %.*s = {", op->arrays[i].count, (int)(len - 2), symbol);
    write_float_list(f, op->arrays[i].data, op->arrays[i].count);
    fprintf(f, "};\n");
}

static void write_case(FILE *f, int k, const Target *t) {
    Data d = case_data(k);
    IrOp op = make_op(k, &d, t);
    for (int i = 0; i < op.narrays; i++)
        write_array(f, &op, i);
    write_floats(f, arena_printf("static const float case%d_input", k), d.input, in_count(&cases[k]));
    fprintf(f, "static _Alignas(64) float case%d_scratch[%lld];\n", k, op.scratch_floats);
    fprintf(f, "static void case%d(const float *restrict in, float *restrict out, float *restrict scratch) {\n", k);
    Emitter e = {.out = f, .indent = 1, .line_start = true};
    op.kernel->emit_body(&e, &op);
    fprintf(f, "}\n\n");
}

/* One program running every case and writing all outputs to stdout. */
static const char *write_program(const Target *t, const char *tag) {
    const char *path = arena_printf(WORK_DIR "/cnnc_test_winograd_%s_%d.c", tag, (int)getpid());
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "#include <stdio.h>\n#include \"%s\"\n\n", t->header);
    for (int k = 0; k < NCASES; k++)
        write_case(f, k, t);
    fprintf(f, "static float out[1 << 18];\n\nint main(void) {\n");
    fprintf(f, "    fputs(CNNC_ISA \"\\n\", stdout);\n");
    for (int k = 0; k < NCASES; k++)
        fprintf(f, "    case%d(case%d_input, out, case%d_scratch);\n    fwrite(out, sizeof(float), %lld, stdout);\n",
                k, k, k, out_count(&cases[k]));
    fprintf(f, "    return 0;\n}\n");
    fclose(f);
    return path;
}

static void check_case(FILE *run, const char *tag, int k) {
    const Case *c = &cases[k];
    Data d = case_data(k);
    float *got = arena_alloc((size_t)out_count(c) * sizeof *got);
    cr_assert_eq(fread(got, sizeof *got, (size_t)out_count(c), run), (size_t)out_count(c),
                 "%s: case %d: short output", tag, k);
    for (int oy = 0; oy < out_h(c); oy++)
        for (int ox = 0; ox < out_w(c); ox++)
            for (int f = 0; f < c->f; f++) {
                double want = reference(c, &d, oy, ox, f);
                double have = got[((long long)oy * out_w(c) + ox) * c->f + f];
                cr_assert(fabs(have - want) <= 1e-4 * fmax(1.0, fabs(want)),
                          "%s: case %d at (%d,%d,%d): got %.9g, want %.9g", tag, k, oy, ox, f, have, want);
            }
}

/* The program first prints the ISA the runtime header took. */
static void check_isa(FILE *run, const char *tag, const char *isa) {
    char line[32] = "";
    cr_assert_not_null(fgets(line, sizeof line, run), "%s: no output", tag);
    line[strcspn(line, "\n")] = '\0';
    cr_assert_str_eq(line, isa, "%s: compiled for %s, expected %s", tag, line, isa);
}

/* Generate for target `name`, compile with `cc flags`, run under `runner`
 * (empty, or an emulator), expect the runtime header to pick `isa`. */
static void run_target(const char *name, const char *isa, const char *tag, const char *cc, const char *flags,
                       const char *runner) {
    const Target *t = target_by_name(name);
    cr_assert_not_null(t);
    const char *src = write_program(t, tag);
    const char *exe = arena_printf(WORK_DIR "/cnnc_test_winograd_%s_%d", tag, (int)getpid());
    const char *cmd = arena_printf("%s -std=c11 -O2 -Wall -Wextra -Wpedantic -Werror %s -I" RUNTIME_DIR
                                   " %s -o %s -lm", cc, flags, src, exe);
    cr_assert_eq(system(cmd), 0, "%s: compile failed: %s", tag, cmd);
    FILE *run = popen(arena_printf("%s %s", runner, exe), "r");
    cr_assert_not_null(run);
    check_isa(run, tag, isa);
    for (int k = 0; k < NCASES; k++)
        check_case(run, tag, k);
    cr_assert_eq(pclose(run), 0, "%s: program failed", tag);
    remove(src);
    remove(exe);
}

static bool have_command(const char *name) {
    return system(arena_printf("command -v %s >/dev/null 2>&1", name)) == 0;
}

Test(winograd, sse4) {
    if (!__builtin_cpu_supports("sse4.1"))
        cr_skip_test("this CPU has no SSE4.1");
    run_target("sse4", "sse4", "sse4", "cc", "-msse4.1", "");
}

Test(winograd, avx2) {
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
        cr_skip_test("this CPU has no AVX2+FMA");
    run_target("avx2", "avx2", "avx2", "cc", "-mavx2 -mfma", "");
}

Test(winograd, avx512) {
    if (!__builtin_cpu_supports("avx512f"))
        cr_skip_test("this CPU has no AVX-512F");
    run_target("avx512", "avx512", "avx512_gcc", "cc", "-mavx512f", "");
    run_target("avx512", "avx512", "avx512_clang", "clang", "-mavx512f", "");
}

/* `auto` on every path: forced scalar, plain x86-64 (SSE2), then each ISA. */
Test(winograd, auto_every_path) {
    run_target("auto", "scalar", "auto_scalar", "cc", "-DCNNC_SIMD_FORCE_SCALAR", "");
    run_target("auto", "sse2", "auto_sse2", "clang", "", "");
    run_target("auto", "sse4", "auto_sse4", "cc", "-msse4.1", "");
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        run_target("auto", "avx2", "auto_avx2", "clang", "-mavx2 -mfma", "");
    if (__builtin_cpu_supports("avx512f"))
        run_target("auto", "avx512", "auto_avx512", "cc", "-mavx512f", "");
}

Test(winograd, neon) {
    if (!have_command("aarch64-linux-gnu-gcc") || !have_command("qemu-aarch64"))
        cr_skip_test("no aarch64-linux-gnu-gcc or qemu-aarch64: NEON not tested");
    run_target("neon", "neon", "neon", "aarch64-linux-gnu-gcc", "-static", "qemu-aarch64");
    run_target("auto", "neon", "auto_neon", "aarch64-linux-gnu-gcc", "-static", "qemu-aarch64");
}

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
 * direct kernel (docs/decisions/winograd.md has the measured speed-ups). */
Test(winograd, kernel_choice) {
    const Target *t = target_by_name("avx512");
    IrOp policy = choice_op(21, 21, 64, 64, 3, 1, UNROLL_AUTO);
    IrOp flowers3 = choice_op(47, 47, 32, 64, 3, 1, UNROLL_FULL);
    IrOp rgb = choice_op(182, 182, 3, 16, 3, 1, UNROLL_AUTO);        /* measured 0.45x */
    IrOp gray = choice_op(28, 28, 1, 32, 3, 1, UNROLL_AUTO);         /* measured 0.2x */
    IrOp rolled = choice_op(21, 21, 64, 64, 3, 1, UNROLL_NONE);      /* the readable kernel */
    IrOp strided = choice_op(21, 21, 64, 64, 3, 2, UNROLL_AUTO);
    IrOp five = choice_op(23, 23, 48, 64, 5, 1, UNROLL_AUTO);
    cr_expect_not_null(conv_winograd_kernel(&policy, t));
    cr_expect_not_null(conv_winograd_kernel(&flowers3, t));
    cr_expect_null(conv_winograd_kernel(&rgb, t));
    cr_expect_null(conv_winograd_kernel(&gray, t));
    cr_expect_null(conv_winograd_kernel(&rolled, t));
    cr_expect_null(conv_winograd_kernel_any(&strided, t));
    cr_expect_null(conv_winograd_kernel_any(&five, t));
    cr_expect_null(conv_winograd_kernel(&policy, target_by_name("scalar")));
}
