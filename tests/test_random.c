/* test_random.c — differential testing on random models.
 *
 * Method: a seeded generator writes hundreds of valid .cnn models with
 * inline weights — random input shapes (images in either order, vectors),
 * conv2d with random kernel, stride, dilation and every padding form, pools,
 * global pools, flatten in both orders, dense, every activation fused and as
 * a layer, batchnorm/rescale/normalize, softmax, dropout — and a random
 * input for each.  The reference interpreter (`cnnc run`, double precision)
 * gives the expected output; the generated C for the scalar target (gcc) and
 * for the best SIMD target of this CPU (clang) must match it within the SPEC
 * tolerance.  All models of one target are linked into one harness, so a run
 * is a few hundred small compiles done two at a time.
 *
 * Without AVX-512, the first 40 models also run --target=avx512 on the
 * portable emulation of its header (tests/emu, gcc, "gcc-avx512-emulated").
 *
 * On a failure the seed and the model's text are printed.  Environment:
 * CNNC_RANDOM_MODELS=N (default 150), CNNC_RANDOM_SEED=S (default fixed)
 * and CNNC_RANDOM_EMULATED=K (default 40) for longer or different runs. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e/driver.h"
#include "e2e/npyio.h"

#define DEFAULT_MODELS 150
#define DEFAULT_SEED 20261122u
#define DEFAULT_EMULATED 40   /* models also run on emulated AVX-512 when the CPU has none */

/* ------------------------------------------------------------ generator */

typedef struct Rng {
    uint64_t state;
} Rng;

static uint64_t rng_next(Rng *r) {   /* splitmix64 */
    uint64_t z = (r->state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static int rand_int(Rng *r, int lo, int hi) {   /* inclusive */
    return lo + (int)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

static double rand_real(Rng *r, double lo, double hi) {
    return lo + (hi - lo) * (double)(rng_next(r) >> 11) / 9007199254740992.0;
}

static bool chance(Rng *r, double p) {
    return rand_real(r, 0, 1) < p;
}

typedef struct Text {
    char *buf;
    size_t len, cap;
} Text;

static void put(Text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(Text *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    while (t->len + (size_t)n + 1 > t->cap)
        t->buf = realloc(t->buf, t->cap = t->cap ? t->cap * 2 : 1024);
    va_start(ap, fmt);
    vsnprintf(t->buf + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

/* The shape the generator tracks: rank 3 (h, w, c) or rank 1 (c). */
typedef struct GenShape {
    int rank, h, w, c;
} GenShape;

static void put_values(Text *t, Rng *r, long n, double lo, double hi) {
    put(t, "[");
    for (long i = 0; i < n; i++)
        put(t, "%s%.6g", i == 0 ? "" : i % 10 ? " " : "\n    ", rand_real(r, lo, hi));
    put(t, "]");
}

static const char *const activations[] = {"relu", "relu6", "leaky_relu", "sigmoid",
                                          "tanh", "softmax", "linear"};

static void put_activation_attr(Text *t, Rng *r) {
    if (chance(r, 0.4))
        return;
    int a = rand_int(r, 0, 6);
    put(t, " activation=%s", activations[a]);
    if (a == 2 && chance(r, 0.7))
        put(t, " alpha=%.3g", rand_real(r, 0.01, 0.5));
}

static void put_pair(Text *t, const char *name, int a, int b) {
    if (a == b)
        put(t, " %s=%d", name, a);
    else
        put(t, " %s=%dx%d", name, a, b);
}

/* Output size per SPEC 1.3, or 0 when the window does not fit. */
static int out_size(int in, int before, int after, int k, int s, int d) {
    int span = in + before + after - d * (k - 1) - 1;
    return span < 0 ? 0 : span / s + 1;
}

static void same_pads(int in, int k, int s, int d, int *before, int *after) {
    int out = (in + s - 1) / s;
    int total = (out - 1) * s + d * (k - 1) + 1 - in;
    total = total > 0 ? total : 0;
    *before = total / 2;
    *after = total - total / 2;
}

/* Window geometry shared by conv2d and the pools. */
typedef struct Window {
    int kh, kw, sh, sw, dh, dw;
    int pad[4];          /* top, bottom, left, right */
    int oh, ow;
} Window;

/* Chooses a padding form and writes it; max_pad keeps pool windows from
 * lying wholly in padding (an error the generator must not produce). */
static void choose_padding(Text *t, Rng *r, const GenShape *s, Window *w, int max_pad) {
    int form = rand_int(r, 0, 4);
    int mp = max_pad < 2 ? max_pad : 2;
    memset(w->pad, 0, sizeof w->pad);
    if (form == 1) {
        same_pads(s->h, w->kh, w->sh, w->dh, &w->pad[0], &w->pad[1]);
        same_pads(s->w, w->kw, w->sw, w->dw, &w->pad[2], &w->pad[3]);
        put(t, " padding=same");
    } else if (form == 2) {
        int p = rand_int(r, 0, mp);
        w->pad[0] = w->pad[1] = w->pad[2] = w->pad[3] = p;
        put(t, " padding=%d", p);
    } else if (form == 3) {
        w->pad[0] = w->pad[1] = rand_int(r, 0, mp);
        w->pad[2] = w->pad[3] = rand_int(r, 0, mp);
        put(t, " padding=%dx%d", w->pad[0], w->pad[2]);
    } else if (form == 4) {
        for (int i = 0; i < 4; i++)
            w->pad[i] = rand_int(r, 0, mp);
        put(t, " padding=[%d, %d, %d, %d]", w->pad[0], w->pad[1], w->pad[2], w->pad[3]);
    } else if (chance(r, 0.5)) {
        put(t, " padding=valid");
    }
}

static bool window_fits(const GenShape *s, Window *w) {
    w->oh = out_size(s->h, w->pad[0], w->pad[1], w->kh, w->sh, w->dh);
    w->ow = out_size(s->w, w->pad[2], w->pad[3], w->kw, w->sw, w->dw);
    return w->oh >= 1 && w->ow >= 1;
}

static void random_window(Rng *r, Window *w, int max_k, bool dilate) {
    w->kh = rand_int(r, 1, max_k);
    w->kw = chance(r, 0.3) ? rand_int(r, 1, max_k) : w->kh;
    w->sh = rand_int(r, 1, 3);
    w->sw = chance(r, 0.3) ? rand_int(r, 1, 3) : w->sh;
    w->dh = dilate && chance(r, 0.25) ? 2 : 1;
    w->dw = dilate && chance(r, 0.25) ? 2 : w->dh;
}

static void put_tensor(Text *t, Rng *r, const char *attr, long n, double scale) {
    put(t, " %s=", attr);
    put_values(t, r, n, -scale, scale);
}

/* Uniform weights with variance 1/fan_in keep activations O(1). */
static double fan_in_scale(int fan_in) {
    return sqrt(3.0 / fan_in);
}

static bool gen_conv(Text *t, Rng *r, GenShape *s) {
    Window w;
    Text attrs = {0};
    for (int tries = 0; tries < 8; tries++) {
        attrs.len = 0;
        random_window(r, &w, 4, true);
        choose_padding(&attrs, r, s, &w, 3);
        if (window_fits(s, &w))
            break;
    }
    if (!window_fits(s, &w)) {
        free(attrs.buf);
        return false;
    }
    int f = rand_int(r, 1, 6);
    put(t, "conv2d filters=%d", f);
    put_pair(t, "kernel", w.kh, w.kw);
    if (w.sh != 1 || w.sw != 1 || chance(r, 0.2))
        put_pair(t, "stride", w.sh, w.sw);
    if (w.dh != 1 || w.dw != 1)
        put_pair(t, "dilation", w.dh, w.dw);
    put(t, "%s", attrs.buf ? attrs.buf : "");
    free(attrs.buf);
    put_activation_attr(t, r);
    if (chance(r, 0.3))
        put(t, " layout=torch");
    put_tensor(t, r, "weights", (long)w.kh * w.kw * s->c * f, fan_in_scale(w.kh * w.kw * s->c));
    if (chance(r, 0.15))
        put(t, " bias=false");
    else
        put_tensor(t, r, "bias", chance(r, 0.15) ? (long)w.oh * w.ow * f : f, 0.5);
    *s = (GenShape){3, w.oh, w.ow, f};
    return true;
}

static bool gen_pool(Text *t, Rng *r, GenShape *s) {
    bool avg = chance(r, 0.5);
    Window w;
    Text attrs = {0};
    for (int tries = 0; tries < 8; tries++) {
        attrs.len = 0;
        random_window(r, &w, 3, false);
        put_pair(&attrs, "size", w.kh, w.kw);
        if (w.sh != w.kh || w.sw != w.kw)
            put_pair(&attrs, "stride", w.sh, w.sw);
        choose_padding(&attrs, r, s, &w, (w.kh < w.kw ? w.kh : w.kw) - 1);
        if (window_fits(s, &w))
            break;
    }
    bool fits = window_fits(s, &w);
    if (fits) {
        put(t, "%s%s", avg ? "avgpool" : "maxpool", attrs.buf);
        if (avg && chance(r, 0.5))
            put(t, " count_pad=%s", chance(r, 0.5) ? "true" : "false");
        s->h = w.oh;
        s->w = w.ow;
    }
    free(attrs.buf);
    return fits;
}

static void gen_dense(Text *t, Rng *r, GenShape *s) {
    int units = rand_int(r, 1, 12);
    put(t, "dense units=%d", units);
    put_activation_attr(t, r);
    if (chance(r, 0.3))
        put(t, " layout=torch");
    put_tensor(t, r, "weights", (long)s->c * units, fan_in_scale(s->c));
    if (chance(r, 0.15))
        put(t, " bias=false");
    else
        put_tensor(t, r, "bias", units, 0.5);
    s->c = units;
}

/* batchnorm, rescale or normalize: per channel (or per vector element). */
static void gen_affine(Text *t, Rng *r, const GenShape *s) {
    int kind = rand_int(r, 0, 2);
    if (kind == 0) {
        put(t, "batchnorm");
        if (chance(r, 0.3))
            put(t, " epsilon=%.3g", rand_real(r, 1e-5, 1e-2));
        put_tensor(t, r, "gamma", s->c, 1.5);
        put_tensor(t, r, "beta", s->c, 0.5);
        put_tensor(t, r, "mean", s->c, 0.5);
        put(t, " var=");
        put_values(t, r, s->c, 0.3, 2.0);
    } else if (kind == 1) {
        put(t, "rescale");
        if (chance(r, 0.5))
            put(t, " scale=%s", chance(r, 0.5) ? "1/2" : "3/4");
        else
            put_tensor(t, r, "scale", s->c, 2.0);
        if (chance(r, 0.5))
            put_tensor(t, r, "offset", s->c, 1.0);
    } else {
        put(t, "normalize");
        put_tensor(t, r, "mean", s->c, 0.5);
        put(t, " std=");
        put_values(t, r, s->c, 0.5, 2.0);
    }
}

static void gen_activation_layer(Text *t, Rng *r) {
    int a = rand_int(r, 0, 6);
    put(t, "%s", activations[a]);
    if (a == 2 && chance(r, 0.5))
        put(t, " alpha=%.3g", rand_real(r, 0.01, 0.5));
}

static void gen_image_layer(Text *t, Rng *r, GenShape *s) {
    int pick = rand_int(r, 0, 99);
    if (pick < 35 && gen_conv(t, r, s))
        return;
    if (pick >= 35 && pick < 55 && gen_pool(t, r, s))
        return;
    if (pick >= 55 && pick < 63) {
        put(t, "%s", chance(r, 0.5) ? "global_avgpool" : "global_maxpool");
        *s = (GenShape){1, 1, 1, s->c};
    } else if (pick >= 63 && pick < 73 && s->h * s->w * s->c <= 400) {
        put(t, "flatten%s", chance(r, 0.5) ? " order=chw" : chance(r, 0.5) ? " order=hwc" : "");
        *s = (GenShape){1, 1, 1, s->h * s->w * s->c};
    } else if (pick >= 73 && pick < 83) {
        gen_affine(t, r, s);
    } else if (pick >= 83 && pick < 88) {
        put(t, "%s", chance(r, 0.8) ? "softmax" : "dropout rate=0.5");
    } else {
        gen_activation_layer(t, r);
    }
}

static void gen_vector_layer(Text *t, Rng *r, GenShape *s) {
    int pick = rand_int(r, 0, 99);
    if (pick < 50)
        gen_dense(t, r, s);
    else if (pick < 65)
        gen_affine(t, r, s);
    else if (pick < 75)
        put(t, "%s", chance(r, 0.8) ? "softmax" : "dropout");
    else
        gen_activation_layer(t, r);
}

/* A whole model; returns the input shape and order through the pointers. */
static char *gen_model(Rng *r, const char *name, GenShape *input, bool *chw) {
    Text t = {0};
    put(&t, "# random model\nmodel %s\n", name);
    if (chance(r, 0.2)) {
        *input = (GenShape){1, 1, 1, rand_int(r, 1, 24)};
        *chw = false;
        put(&t, "input %d\n", input->c);
    } else {
        *input = (GenShape){3, rand_int(r, 1, 10), rand_int(r, 1, 10), rand_int(r, 1, 4)};
        *chw = chance(r, 0.3);
        put(&t, "input %dx%dx%d%s\n", input->h, input->w, input->c, *chw ? " order=chw" : "");
    }
    GenShape s = *input;
    int layers = rand_int(r, 1, 6);
    for (int i = 0; i < layers; i++) {
        if (chance(r, 0.2))
            put(&t, "l%d: ", i);
        if (s.rank == 3)
            gen_image_layer(&t, r, &s);
        else
            gen_vector_layer(&t, r, &s);
        put(&t, "\n");
    }
    return t.buf;
}

/* ------------------------------------------------------------ the test */

static long env_long(const char *name, long fallback) {
    const char *v = getenv(name);
    return v && *v ? strtol(v, NULL, 10) : fallback;
}

typedef struct Case {
    char name[16];
    char *text;
    bool ok;     /* reference ran and code was generated */
} Case;

static void write_input(const char *path, Rng *r, GenShape in, bool chw) {
    long count = (long)in.h * in.w * in.c;
    float *data = malloc(sizeof(float) * (size_t)count);
    for (long i = 0; i < count; i++)
        data[i] = (float)rand_real(r, -2, 2);
    long hwc[3] = {in.h, in.w, in.c}, chw_dims[3] = {in.c, in.h, in.w}, vector[1] = {in.c};
    const long *dims = in.rank == 1 ? vector : chw ? chw_dims : hwc;
    npy_write_f32(path, data, dims, in.rank);
    free(data);
}

static bool run_step(const char *cmd, const Case *c, unsigned seed, const char *what) {
    char *out = NULL;
    int status = run_command(cmd, &out);
    cr_expect_eq(status, 0, "seed %u, %s: %s failed (exit %d):\n%.2000s\nmodel:\n%.4000s", seed,
                 c->name, what, status, out, c->text);
    free(out);
    return status == 0;
}

/* Writes the model and its input, runs the reference, generates code for
 * both targets. */
static void prepare_case(const char *dir, Case *c, Rng *r, unsigned seed, const char *simd) {
    GenShape in;
    bool chw;
    c->text = gen_model(r, c->name, &in, &chw);
    char *model = format("%s/%s.cnn", dir, c->name), *input = format("%s/%s.in.npy", dir, c->name);
    write_text(model, c->text);
    write_input(input, r, in, chw);
    const char *cnnc = cnnc_path();
    char *run = format("'%s' run '%s' --input '%s' --output '%s/%s.ref.npy'", cnnc, model, input,
                       dir, c->name);
    char *scalar = format("'%s' '%s' --target=scalar -o '%s/scalar/%s.c'", cnnc, model, dir, c->name);
    char *vec = format("'%s' '%s' --target=%s -o '%s/simd/%s.c'", cnnc, model, simd, dir, c->name);
    c->ok = run_step(run, c, seed, "cnnc run") && run_step(scalar, c, seed, "cnnc --target=scalar") &&
            run_step(vec, c, seed, simd);
    free(vec);
    free(scalar);
    free(run);
    free(input);
    free(model);
}

static const char *best_simd(const char **flags) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
        *flags = "-O1 -mavx512f -mavx512bw -mavx512dq -mavx512vl";
        return "avx512";
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        *flags = "-O1 -mavx2 -mfma";
        return "avx2";
    }
    if (__builtin_cpu_supports("sse4.1")) {
        *flags = "-O1 -msse4.1";
        return "sse4";
    }
#endif
    *flags = "-O1 -march=native";
    return "auto";
}

/* Builds dir/code_dir's generated C into one harness and checks each model
 * against the reference output kept in dir. */
static void check_target(const char *dir, const char *code_dir, const Toolchain *tc, Case *cases,
                         int n, unsigned seed) {
    char **names = malloc(sizeof(char *) * (size_t)n);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (cases[i].ok)
            names[m++] = cases[i].name;
    bool *built = calloc((size_t)m, sizeof(bool));
    char **logs;
    build_harness(code_dir, tc, names, m, built, &logs);
    for (int i = 0, k = 0; i < n; i++) {
        if (!cases[i].ok)
            continue;
        Case *c = &cases[i];
        char *input = format("%s/%s.in.npy", dir, c->name), *ref = format("%s/%s.ref.npy", dir, c->name);
        char *report = NULL;
        bool passed = built[k] && run_harness(code_dir, tc, c->name, input, ref, &report);
        cr_expect(passed, "seed %u, %s [%s]: %.2000s\nmodel:\n%.4000s", seed, c->name, tc->label,
                  built[k] ? report : logs[k], c->text);
        free(report);
        free(logs[k++]);
        free(ref);
        free(input);
    }
    free(logs);
    free(built);
    free(names);
}

/* Without AVX-512, the first n cases again for --target=avx512 on the
 * emulated header (driver.h), built by gcc: random shapes add odd tails and
 * blockings to the fixtures of test_e2e; a subset keeps the cost small. */
static void check_emulated_avx512(const char *dir, Case *cases, int n, unsigned seed) {
    char *code_dir = format("%s/avx512-emulated", dir), *mk = format("mkdir -p '%s'", code_dir);
    run_command(mk, NULL);
    for (int i = 0; i < n; i++) {
        if (!cases[i].ok)
            continue;
        char *cmd = format("'%s' '%s/%s.cnn' --target=avx512 -o '%s/%s.c'", cnnc_path(), dir, cases[i].name,
                           code_dir, cases[i].name);
        cases[i].ok = run_step(cmd, &cases[i], seed, "cnnc --target=avx512");
        free(cmd);
    }
    char *flags = emulated_flags("");
    Toolchain tc = {"gcc-avx512-emulated", "gcc", flags, true, ""};
    check_target(dir, code_dir, &tc, cases, n, seed);
    free(flags);
    free(mk);
    free(code_dir);
}

Test(random, generated_code_matches_interpreter, .timeout = 900) {
    unsigned seed = (unsigned)env_long("CNNC_RANDOM_SEED", DEFAULT_SEED);
    int n = (int)env_long("CNNC_RANDOM_MODELS", DEFAULT_MODELS);
    const char *simd_flags, *simd = best_simd(&simd_flags);
    char *dir = make_scratch_dir("random");
    cr_assert(dir, "cannot create a scratch directory");
    char *subdirs = format("mkdir -p '%s/scalar' '%s/simd'", dir, dir);
    run_command(subdirs, NULL);
    free(subdirs);
    Case *cases = calloc((size_t)n, sizeof(Case));
    Rng r = {seed};
    for (int i = 0; i < n; i++) {
        snprintf(cases[i].name, sizeof cases[i].name, "r%d", i);
        prepare_case(dir, &cases[i], &r, seed, simd);
    }
    /* Each target's .c files live in their own directory; the harness of
     * that target is built in a subdirectory of it. */
    char *scalar_dir = format("%s/scalar", dir), *simd_dir = format("%s/simd", dir);
    Toolchain scalar = {"gcc", "gcc", "-O1", true, ""};
    Toolchain vec = {"clang", "clang", simd_flags, true, ""};
    check_target(dir, scalar_dir, &scalar, cases, n, seed);
    check_target(dir, simd_dir, &vec, cases, n, seed);
    int emulated = (int)env_long("CNNC_RANDOM_EMULATED", DEFAULT_EMULATED);
    if (strcmp(simd, "avx512"))
        check_emulated_avx512(dir, cases, emulated < n ? emulated : n, seed);
    for (int i = 0; i < n; i++)
        free(cases[i].text);
    free(cases);
    free(simd_dir);
    free(scalar_dir);
    remove_tree(dir);
    free(dir);
}
