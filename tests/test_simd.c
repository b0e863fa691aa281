/* test_simd.c — the SIMD conv and dense kernels against a float64 reference.
 *
 * Method: for one target, build IR ops by hand for a set of awkward shapes
 * (1 and 3 input channels, odd and tail channel counts, stride 2, dilation,
 * 1x1, every fused activation), let the SIMD kernel family pack and emit
 * them into one C file with a main() that runs each kernel on fixed random
 * inputs and writes the outputs to stdout, compile that file with the
 * target's flags (-Werror: generated code must be warning-free), run it —
 * under qemu for NEON — and check every element against the same layer
 * computed here in double: |got - exp| <= 1e-4 * max(1, |exp|).
 * Padding is not the conv kernel's business (lowering puts a PAD op in
 * front), so the cases are unpadded.  A target the machine cannot run is
 * skipped with the reason.
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
    IrOpKind kind;
    int ih, iw, ic, f;      /* input H-W-C (dense: ic inputs), outputs */
    int kh, kw, sh, sw, dh, dw;
    ActKind act;
    bool bias;
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
    {IR_CONV, 13, 13, 9, 40, 2, 2, 2, 2, 1, 1, ACT_RELU, false, UNROLL_FULL, MAX_POOL},
    {IR_CONV, 12, 15, 5, 24, 3, 3, 1, 1, 1, 1, ACT_SIGMOID, true, UNROLL_NONE, AVG_POOL},
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

static int conv_h(const Case *c) { return c->kind == IR_DENSE ? 1 : (c->ih - c->dh * (c->kh - 1) - 1) / c->sh + 1; }
static int conv_w(const Case *c) { return c->kind == IR_DENSE ? 1 : (c->iw - c->dw * (c->kw - 1) - 1) / c->sw + 1; }
static int out_h(const Case *c) { return c->pool ? conv_h(c) / 2 : conv_h(c); }
static int out_w(const Case *c) { return c->pool ? conv_w(c) / 2 : conv_w(c); }
static long long in_count(const Case *c) { return (long long)c->ih * c->iw * c->ic; }
static long long out_count(const Case *c) { return (long long)out_h(c) * out_w(c) * c->f; }

static long long weight_count(const Case *c) {
    return c->kind == IR_DENSE ? (long long)c->ic * c->f : (long long)c->kh * c->kw * c->ic * c->f;
}

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

static Data case_data(int k) {
    const Case *c = &cases[k];
    Data d = {random_floats(in_count(c), 11u + (unsigned)k), random_floats(weight_count(c), 23u + (unsigned)k),
              random_floats(c->f, 37u + (unsigned)k)};
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

static double act_ref(ActKind act, double x) {
    switch (act) {
    case ACT_RELU: return x < 0 ? 0 : x;   /* NaN stays NaN */
    case ACT_RELU6: return x < 0 ? 0 : x > 6 ? 6 : x;
    case ACT_LEAKY_RELU: return x > 0 ? x : 0.01 * x;
    case ACT_SIGMOID: return 1 / (1 + exp(-x));
    case ACT_TANH: return tanh(x);
    default: return x;
    }
}

/* The layer in double, canonical weights [KH][KW][Cin][F] (dense [in][out]). */
static double conv_reference(const Case *c, const Data *d, int oy, int ox, int f) {
    double s = c->bias ? d->bias[f] : 0.0;
    int kh = c->kind == IR_DENSE ? 1 : c->kh, kw = c->kind == IR_DENSE ? 1 : c->kw;
    for (int ky = 0; ky < kh; ky++)
        for (int kx = 0; kx < kw; kx++)
            for (int ch = 0; ch < c->ic; ch++) {
                int iy = c->kind == IR_DENSE ? 0 : oy * c->sh + ky * c->dh;
                int ix = c->kind == IR_DENSE ? 0 : ox * c->sw + kx * c->dw;
                s += (double)d->input[((long long)iy * c->iw + ix) * c->ic + ch] *
                     d->weight[(((long long)ky * kw + kx) * c->ic + ch) * c->f + f];
            }
    return act_ref(c->act, s);
}

/* The conv, then the fused 2x2 stride-2 pool if the case has one. */
static double reference(const Case *c, const Data *d, int oy, int ox, int f) {
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

static IrOp make_op(int k, const Data *d, const Target *t) {
    const Case *c = &cases[k];
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
        op.bias = (Tensor){.data = d->bias, .count = c->f};
    op.kernel = c->kind == IR_DENSE ? dense_simd_kernel(&op, t) : conv_simd_kernel(&op, t);
    cr_assert_not_null(op.kernel, "no %s kernel for case %d", t->name, k);
    op.kernel->pack(&op);
    op.symbol_prefix = arena_printf("case%d", k);
    return op;
}

static void write_float_list(FILE *f, const float *v, long long n) {
    fprintf(f, "{");
    for (long long i = 0; i < n; i++)
        fprintf(f, isnan(v[i]) ? "%sNAN" : "%s%.9g", i == 0 ? "\n    " : i % 8 ? ", " : ",\n    ", (double)v[i]);
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
    fprintf(f, "static void case%d(const float *restrict in, float *restrict out) {\n", k);
    Emitter e = {.out = f, .indent = 1, .line_start = true};
    op.kernel->emit_body(&e, &op);
    fprintf(f, "}\n\n");
}

/* One program running every case and writing all outputs to stdout. */
static const char *write_program(const Target *t, const char *tag) {
    const char *path = arena_printf(WORK_DIR "/cnnc_test_simd_%s_%d.c", tag, (int)getpid());
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "#include <math.h>\n#include <stdio.h>\n#include \"%s\"\n\n", t->header);
    for (int k = 0; k < NCASES; k++)
        write_case(f, k, t);
    fprintf(f, "static float out[1 << 16];\n\nint main(void) {\n");
    fprintf(f, "    fputs(CNNC_ISA \"\\n\", stdout);\n");
    for (int k = 0; k < NCASES; k++)
        fprintf(f, "    case%d(case%d_input, out);\n    fwrite(out, sizeof(float), %lld, stdout);\n", k, k,
                out_count(&cases[k]));
    fprintf(f, "    return 0;\n}\n");
    fclose(f);
    return path;
}

static void check_outputs(FILE *run, const char *tag) {
    for (int k = 0; k < NCASES; k++) {
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
                    if (isnan(want) || isnan(have))
                        cr_assert(isnan(want) && isnan(have), "%s: case %d at (%d,%d,%d): got %.9g, want %.9g",
                                  tag, k, oy, ox, f, have, want);
                    else
                        cr_assert(fabs(have - want) <= 1e-4 * fmax(1.0, fabs(want)),
                              "%s: case %d at (%d,%d,%d): got %.9g, want %.9g", tag, k, oy, ox, f, have, want);
                }
    }
}

/* The program first prints the ISA the runtime header took: the flags must
 * have selected the path under test. */
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
    const char *exe = arena_printf(WORK_DIR "/cnnc_test_simd_%s_%d", tag, (int)getpid());
    const char *cmd = arena_printf("%s -std=c11 -O2 -Wall -Wextra -Wpedantic -Werror %s -I" RUNTIME_DIR
                                   " %s -o %s -lm", cc, flags, src, exe);
    cr_assert_eq(system(cmd), 0, "%s: compile failed: %s", tag, cmd);
    FILE *run = popen(arena_printf("%s %s", runner, exe), "r");
    cr_assert_not_null(run);
    check_isa(run, tag, isa);
    check_outputs(run, tag);
    cr_assert_eq(pclose(run), 0, "%s: program failed", tag);
    remove(src);
    remove(exe);
}

static bool have_command(const char *name) {
    return system(arena_printf("command -v %s >/dev/null 2>&1", name)) == 0;
}

Test(simd, sse4) {
    if (!__builtin_cpu_supports("sse4.1"))
        cr_skip_test("this CPU has no SSE4.1");
    run_target("sse4", "sse4", "sse4", "cc", "-msse4.1", "");
}

Test(simd, avx2) {
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
        cr_skip_test("this CPU has no AVX2+FMA");
    run_target("avx2", "avx2", "avx2", "cc", "-mavx2 -mfma", "");
}

Test(simd, avx512) {
    if (!__builtin_cpu_supports("avx512f"))
        cr_skip_test("this CPU has no AVX-512F");
    run_target("avx512", "avx512", "avx512", "cc", "-mavx512f", "");
}

/* `auto` on every path: forced scalar, plain x86-64 (SSE2), then each ISA. */
Test(simd, auto_every_path) {
    run_target("auto", "scalar", "auto_scalar", "cc", "-DCNNC_SIMD_FORCE_SCALAR", "");
    run_target("auto", "sse2", "auto_sse2", "cc", "", "");
    run_target("auto", "sse4", "auto_sse4", "cc", "-msse4.1", "");
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        run_target("auto", "avx2", "auto_avx2", "clang", "-mavx2 -mfma", "");
    if (__builtin_cpu_supports("avx512f"))
        run_target("auto", "avx512", "auto_avx512", "cc", "-mavx512f", "");
}

Test(simd, neon) {
    if (!have_command("aarch64-linux-gnu-gcc") || !have_command("qemu-aarch64"))
        cr_skip_test("no aarch64-linux-gnu-gcc or qemu-aarch64: NEON not tested");
    run_target("neon", "neon", "neon", "aarch64-linux-gnu-gcc", "-static", "qemu-aarch64");
    run_target("auto", "neon", "auto_neon", "aarch64-linux-gnu-gcc", "-static", "qemu-aarch64");
}
