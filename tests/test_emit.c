/* test_emit.c — lower, plan and emit on models built directly as checked
 * Model/Layer structs: the generated C is compiled with gcc and clang
 * (-std=c11 -Wall -Wextra -Wpedantic -Werror), linked with a tiny driver
 * and run; the tests assert hand-computed outputs, the plan's invariants,
 * determinism, and golden files (CNNC_UPDATE_GOLDEN=1 rewrites them). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cnnc.h"
#include "emit_harness.h"

/* ------------------------------------------------------- model building */

static Model *model_new(const char *name, Shape in) {
    Model *m = arena_alloc(sizeof *m);
    m->name = name;
    m->input = m->output = in;
    m->layers = arena_alloc(16 * sizeof(Layer));
    m->weights_loaded = true;
    return m;
}

static Tensor tensor_of(int n, const float *values) {
    Tensor t = {.count = n, .ndims = 1, .dims = {n}};
    t.data = arena_alloc((size_t)n * sizeof(float));
    memcpy(t.data, values, (size_t)n * sizeof(float));
    return t;
}
#define TENSOR(...) tensor_of(sizeof((float[]){__VA_ARGS__}) / sizeof(float), (float[]){__VA_ARGS__})

/* Appends a layer reading the model's current output; returns it for the
 * caller to fill in before layer_done() sets the output shape. */
static Layer *add_layer(Model *m, LayerKind kind, const char *name) {
    Layer *l = &m->layers[m->nlayers++];
    *l = (Layer){.kind = kind, .name = name, .cname = name, .line = m->nlayers + 2,
                 .in = m->output, .out = m->output, .kh = 1, .kw = 1, .sh = 1, .sw = 1,
                 .dh = 1, .dw = 1};
    return l;
}

static void layer_done(Model *m, Layer *l, Shape out) {
    l->out = out;
    m->output = out;
}

static Layer *add_conv(Model *m, const char *name, int f, int k, int pad, Tensor w, Tensor b) {
    Layer *l = add_layer(m, LAYER_CONV2D, name);
    l->filters = f;
    l->kh = l->kw = k;
    l->pad_top = l->pad_bottom = l->pad_left = l->pad_right = pad;
    l->t[T_WEIGHT] = w;
    l->t[T_BIAS] = b;
    l->has_bias = b.count > 0;
    layer_done(m, l, shape_image(l->in.h + 2 * pad - k + 1, l->in.w + 2 * pad - k + 1, f));
    return l;
}

static Layer *add_dense(Model *m, const char *name, int units, Tensor w, Tensor b) {
    Layer *l = add_layer(m, LAYER_DENSE, name);
    l->units = units;
    l->t[T_WEIGHT] = w;
    l->t[T_BIAS] = b;
    l->has_bias = b.count > 0;
    layer_done(m, l, shape_vector(units));
    return l;
}

static Layer *add_simple(Model *m, LayerKind kind, const char *name, ActKind act) {
    Layer *l = add_layer(m, kind, name);
    l->act = act;
    layer_done(m, l, l->in);
    return l;
}

/* ------------------------------------------------- compiling and running */

static EmitOptions options(const char *target, bool standalone) {
    return (EmitOptions){.target = target_by_name(target), .standalone = standalone,
                         .header_name = "model.h", .source_name = "tests/model.cnn"};
}

static const char *strict_flags = "-std=c11 -Wall -Wextra -Wpedantic -Werror";

/* Compiles model.c with cc (the strict flags), links the driver, runs it;
 * returns the output values. */
static float *compile_and_run(const Model *m, const char *dir, const char *cc, const char *extra) {
    cr_assert_eq(run(arena_printf("cd %s && %s %s %s -O1 -I%s -c model.c -o model.o 2> cc.log",
                                  dir, cc, strict_flags, extra, runtime_dir())), 0,
                 "%s rejected the generated C (see %s/cc.log)", cc, dir);
    cr_assert_eq(run(arena_printf("cd %s && %s -std=c11 -I%s main.c model.o -o prog -lm && ./prog > out.txt",
                                  dir, cc, runtime_dir())), 0, "driver failed in %s", dir);
    return read_outputs(arena_printf("%s/out.txt", dir), shape_count(m->output));
}

/* Emits (scalar target), compiles with gcc and clang, returns gcc's output
 * after checking clang's is identical. */
static float *build_and_run(const Model *m, const float *input, bool standalone) {
    const char *dir = tmpdir_new("emit");
    Ir *ir = lower_and_plan(m, "scalar");
    EmitOptions opts = options("scalar", standalone);
    write_model(ir, &opts, dir);
    write_driver(m, input, dir, DRIVER_BOTH_ENTRY_POINTS);
    float *gcc_out = compile_and_run(m, dir, "gcc", "");
    float *clang_out = compile_and_run(m, dir, "clang", "");
    cr_assert_eq(memcmp(gcc_out, clang_out, (size_t)shape_count(m->output) * sizeof(float)), 0);
    run(arena_printf("rm -rf %s", dir));
    return gcc_out;
}

static void assert_close(const float *got, const float *want, int n) {
    for (int i = 0; i < n; i++) {
        float tol = 1e-4f * (fabsf(want[i]) > 1 ? fabsf(want[i]) : 1);
        cr_assert(fabsf(got[i] - want[i]) <= tol, "output[%d] = %.9g, want %.9g", i,
                  (double)got[i], (double)want[i]);
    }
}
#define ASSERT_OUTPUT(got, ...)                                              \
    assert_close(got, (float[]){__VA_ARGS__}, sizeof((float[]){__VA_ARGS__}) / sizeof(float))

/* ------------------------------------------------------------ the models */

/* t: input 3 → dense 2 (relu). */
static Model *dense_model(void) {
    Model *m = model_new("t", shape_vector(3));
    Layer *d = add_dense(m, "fc", 2, TENSOR(1, 2, 3, 4, 5, 6), TENSOR(0.5f, -1));
    d->act = ACT_RELU;
    return m;
}

/* t: 3x3x1 → conv 3x3 same (all ones) → relu layer. */
static Model *conv_same_model(void) {
    Model *m = model_new("t", shape_image(3, 3, 1));
    add_conv(m, "conv", 1, 3, 1, TENSOR(1, 1, 1, 1, 1, 1, 1, 1, 1), (Tensor){0});
    add_simple(m, LAYER_RELU, "relu_1", ACT_RELU);
    return m;
}

Test(emit, dense_relu_hand_computed) {
    float *out = build_and_run(dense_model(), (float[]){1, 1, 1}, false);
    ASSERT_OUTPUT(out, 9.5f, 11.0f);   /* 1+3+5+0.5, 2+4+6-1 */
    out = build_and_run(dense_model(), (float[]){1, -1, 0}, true);
    ASSERT_OUTPUT(out, 0.0f, 0.0f);    /* -1.5 and -3 after relu */
}

Test(emit, conv_same_padding_sums_neighbours) {
    float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    float *out = build_and_run(conv_same_model(), in, false);
    ASSERT_OUTPUT(out, 12, 21, 16, 27, 45, 33, 24, 39, 28);
}

Test(lower, relu_layer_fuses_into_conv_after_pad) {
    Ir *ir = lower_and_plan(conv_same_model(), "scalar");
    cr_assert_eq(ir->nops, 2);
    cr_assert_eq(ir->ops[0].kind, IR_PAD);
    cr_assert_eq(ir->ops[1].kind, IR_CONV);
    cr_assert_eq(ir->ops[1].act, ACT_RELU);
    cr_assert_eq(ir->ops[1].nfused, 1);
    cr_assert_eq(ir->bufs[ir->ops[1].out].kind, BUF_OUTPUT);
    cr_assert_eq(ir_workspace_bytes(ir), 5 * 5 * 4);   /* the padded 5x5 copy */
}

/* ------------------------------------ .cnn text end to end vs interp_run */

static unsigned rng_state;

/* Deterministic values in [-1, 1] with four decimals. */
static double next_random(void) {
    rng_state = rng_state * 1103515245u + 12345u;
    return (double)((rng_state >> 8) % 20001) / 10000.0 - 1.0;
}

/* "[v v v ...]" of n values in [lo, lo + 2*half]. */
static const char *random_list(int n, double lo, double half) {
    char *text;
    size_t len;
    FILE *f = open_memstream(&text, &len);
    fputc('[', f);
    for (int i = 0; i < n; i++)
        fprintf(f, "%s%.4f", i ? " " : "", lo + half * (next_random() + 1.0));
    fputc(']', f);
    fclose(f);
    const char *list = arena_strdup(text);
    free(text);
    return list;
}
#define R(n) random_list(n, -1.0, 1.0)      /* in [-1, 1] */
#define POS(n) random_list(n, 0.5, 0.5)     /* in [0.5, 1.5] */

/* C compiler flags that enable a target's instructions (this machine has
 * them all up to avx512f). */
static const char *target_flags(const char *target) {
    if (!strcmp(target, "sse4"))
        return "-msse4.1";
    if (!strcmp(target, "avx2"))
        return "-mavx2 -mfma";
    if (!strcmp(target, "avx512"))
        return "-mavx512f -mfma";
    if (!strcmp(target, "auto"))
        return "-march=native";
    return "";
}

/* Runs the model as generated C (target, gcc and clang) and with the
 * reference interpreter on a random input; outputs must agree to 1e-4. */
static void assert_matches_interp(const char *text, const char *target, bool standalone) {
    Model *m = checked_model(text);
    long long n_in = shape_count(m->input), n_out = shape_count(m->output);
    float *input = arena_alloc((size_t)n_in * sizeof *input);
    for (long long i = 0; i < n_in; i++)
        input[i] = (float)(next_random() * 2.0);
    float *want = arena_alloc((size_t)n_out * sizeof *want);
    interp_run(m, input, want);
    const char *dir = tmpdir_new("emit");
    Ir *ir = lower_and_plan(m, target);
    EmitOptions opts = options(target, standalone);
    write_model(ir, &opts, dir);
    write_driver(m, input, dir, DRIVER_BOTH_ENTRY_POINTS);
    const char *flags = target_flags(target);
    float *got = compile_and_run(m, dir, "gcc", flags);
    assert_close(got, want, (int)n_out);
    got = compile_and_run(m, dir, "clang", flags);
    assert_close(got, want, (int)n_out);
    run(arena_printf("rm -rf %s", dir));
}

/* rescale folded into an unpadded conv, batchnorm folded into the conv,
 * relu fused, padded maxpool, flatten chw folded into a dense, batchnorm on
 * a vector after tanh folded into the next dense, softmax. */
static const char *folding_model(void) {
    return arena_printf(
        "model t\ninput 6x6x2\n"
        "rescale scale=[0.5, 2] offset=[1, -1]\n"
        "c1: conv2d filters=3 kernel=3 weights=%s bias=%s\n"
        "bn: batchnorm gamma=%s beta=%s mean=%s var=%s\n"
        "relu\n"
        "maxpool size=3 stride=2 padding=1\n"
        "flatten order=chw\ndropout rate=0.5\n"
        "d1: dense units=4 weights=%s bias=%s activation=tanh\n"
        "bn2: batchnorm gamma=%s beta=%s mean=%s var=%s\n"
        "d2: dense units=3 weights=%s bias=%s activation=softmax\n",
        R(54), R(3), POS(3), R(3), R(3), POS(3), R(48), R(4), POS(4), R(4), R(4), POS(4), R(12), R(3));
}

/* C-H-W input and output, padded strided dilated conv with leaky relu,
 * avg pools with and without count_pad, relu6. */
static const char *padding_model(void) {
    return arena_printf(
        "model t\ninput 5x7x3 order=chw\n"
        "conv2d filters=4 kernel=3x2 stride=2x1 dilation=1x2 padding=same activation=leaky_relu alpha=0.2 weights=%s bias=%s\n"
        "avgpool size=2 stride=1 padding=1\n"
        "avgpool size=3 stride=2 padding=1 count_pad=true\n"
        "relu6\n",
        R(72), R(4));
}

/* normalize kept before a padded conv, sigmoid, softmax over channels, a
 * per-position bias, global pools, flatten chw as a transpose. */
static const char *pooling_model(void) {
    return arena_printf(
        "model t\ninput 4x4x3\n"
        "normalize mean=[0.1, 0.2, 0.3] std=[0.5, 2, 1]\n"
        "conv2d filters=5 kernel=1 padding=1 activation=sigmoid weights=%s bias=%s\n"
        "softmax\n"
        "conv2d filters=2 kernel=3 stride=2 weights=%s bias=%s\n"
        "tanh\n"
        "flatten order=chw\n",
        R(15), R(5), R(90), R(8));
}

static const char *global_model(void) {
    return arena_printf(
        "model t\ninput 5x5x4\n"
        "conv2d filters=6 kernel=2 bias=false activation=relu weights=%s\n"
        "global_avgpool\n"
        "rescale scale=%s offset=0.5\n"
        "dense units=3 weights=%s bias=%s\n"
        "leaky_relu\n",
        R(96), POS(6), R(18), R(3));
}

Test(e2e_emit, folding_matches_interpreter) {
    rng_state = 1;
    assert_matches_interp(folding_model(), "scalar", false);
}

Test(e2e_emit, padding_and_chw_match_interpreter) {
    rng_state = 2;
    assert_matches_interp(padding_model(), "scalar", true);
}

Test(e2e_emit, pooling_matches_interpreter) {
    rng_state = 3;
    assert_matches_interp(pooling_model(), "scalar", false);
}

Test(e2e_emit, global_pool_matches_interpreter) {
    rng_state = 4;
    assert_matches_interp(global_model(), "scalar", false);
}

Test(e2e_emit, global_maxpool_and_identity_model) {
    rng_state = 5;
    assert_matches_interp("model t\ninput 3x3x2\nglobal_maxpool\n", "scalar", false);
    assert_matches_interp("model t\ninput 2x2x2\ndropout\nflatten\nlinear\n", "scalar", true);
}

/* The SIMD kernels plug in through choose_kernel: same models, same answers. */
Test(e2e_emit, simd_targets_match_interpreter) {
    const char *(*models[])(void) = {folding_model, padding_model, pooling_model, global_model};
    const char *targets[] = {"auto", "avx2"};
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < 4; i++) {
            rng_state = (unsigned)i + 1;
            assert_matches_interp(models[i](), targets[t], false);
        }
}

/* 30000 inputs: blocked partial sums keep the dense inside the tolerance. */
Test(e2e_emit, long_dense_dot_product) {
    rng_state = 7;
    assert_matches_interp(arena_printf("model t\ninput 30000\ndense units=2 weights=%s bias=%s\n",
                                       random_list(60000, 0.0, 0.5), R(2)), "scalar", false);
}

Test(lower, folds_affines_batchnorm_and_flatten) {
    rng_state = 1;
    Ir *ir = lower_and_plan(checked_model(folding_model()), "scalar");
    /* conv(+rescale, +bn, +relu), maxpool, dense(tanh), dense(+bn2), softmax */
    IrOpKind kinds[] = {IR_CONV, IR_MAXPOOL, IR_DENSE, IR_DENSE, IR_SOFTMAX};
    cr_assert_eq(ir->nops, 5);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(ir->ops[i].kind, kinds[i], "op %d is %s", i, ir_kind_name(ir->ops[i].kind));
    cr_assert_eq(ir->ops[0].nfused, 3);
    cr_assert_eq(ir->ops[0].act, ACT_RELU);
    cr_assert_eq(ir->ops[3].nfused, 1);
    cr_assert_str_eq(ir->ops[3].fused[0]->name, "bn2");
    cr_assert_eq(ir->bufs[ir->ops[0].in].kind, BUF_INPUT);
}

/* ------------------------------------------------- plan and object file */

/* Work buffers alive at the same time never share bytes, unless one runs
 * in place over the other; offsets are 64-byte aligned; all fit. */
static void assert_plan_sound(const Ir *ir) {
    for (int a = 0; a < ir->nbufs; a++) {
        const IrBuf *x = &ir->bufs[a];
        if (x->kind != BUF_WORK)
            continue;
        cr_assert_eq(x->offset % 64, 0);
        cr_assert_leq(x->offset + x->floats * 4, ir->workspace_bytes);
        for (int b = a + 1; b < ir->nbufs; b++) {
            const IrBuf *y = &ir->bufs[b];
            bool alive_together = x->first <= y->last && y->first <= x->last;
            bool in_place = x->shares == b || y->shares == a;
            if (y->kind != BUF_WORK || !alive_together || in_place)
                continue;
            bool apart = x->offset + x->floats * 4 <= y->offset || y->offset + y->floats * 4 <= x->offset;
            cr_assert(apart, "b%d and b%d overlap", a, b);
        }
    }
}

Test(plan, live_buffers_never_overlap) {
    const char *(*models[])(void) = {folding_model, padding_model, pooling_model, global_model};
    for (int i = 0; i < 4; i++) {
        rng_state = (unsigned)i + 1;
        assert_plan_sound(lower_and_plan(checked_model(models[i]()), "scalar"));
    }
}

/* conv(relu) → sigmoid: the sigmoid cannot fuse, so it runs in place;
 * then a dense reads it.  Three live regions at the pad. */
Test(plan, elementwise_op_runs_in_place) {
    rng_state = 9;
    Model *m = checked_model(arena_printf(
        "model t\ninput 4x4x2\nconv2d filters=2 kernel=3 padding=1 activation=relu weights=%s bias=%s\n"
        "sigmoid\nflatten\ndense units=2 weights=%s bias=%s\n", R(36), R(2), R(64), R(2)));
    Ir *ir = lower_and_plan(m, "scalar");
    cr_assert_eq(ir->nops, 4);
    const IrOp *act = &ir->ops[2];
    cr_assert_eq(act->kind, IR_ACT);
    cr_assert_eq(ir->bufs[act->out].shares, act->in);
    cr_assert_eq(ir->bufs[act->out].offset, ir->bufs[act->in].offset);
    /* pad 6x6x2 at 0, conv out 4x4x2 (128 bytes) after it at 320 */
    cr_assert_eq(ir->bufs[ir->ops[1].out].offset, 320);
    cr_assert_eq(ir_workspace_bytes(ir), 448);
    assert_plan_sound(ir);
}

Test(plan, summary_lowering_needs_no_weights) {
    rng_state = 1;
    Model *m = checked_model(folding_model());
    Model shapes_only = *m;
    shapes_only.weights_loaded = false;
    Ir *with = lower_and_plan(m, "scalar"), *without = lower_and_plan(&shapes_only, "scalar");
    cr_assert_eq(ir_workspace_bytes(without), ir_workspace_bytes(with));
    cr_assert_eq(without->nops, with->nops);
    cr_assert_null(without->ops[0].arrays[0].data);
    cr_assert_eq(without->ops[0].arrays[0].count, 54);
}

static const char *shell_output(const char *cmd) {
    FILE *p = popen(cmd, "r");
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, p);
    buf[n] = '\0';
    pclose(p);
    return arena_strdup(buf);
}

Test(emit, object_has_no_allocator_and_exact_static_workspace) {
    rng_state = 4;
    Model *m = checked_model(global_model());
    const char *dir = tmpdir_new("emit");
    Ir *ir = lower_and_plan(m, "scalar");
    EmitOptions opts = options("scalar", false);
    write_model(ir, &opts, dir);
    cr_assert_eq(run(arena_printf("cd %s && gcc %s -I%s -c model.c", dir, strict_flags, runtime_dir())), 0);
    const char *undefined = shell_output(arena_printf("nm -u %s/model.o", dir));
    cr_assert_null(strstr(undefined, "alloc"), "%s", undefined);
    cr_assert_null(strstr(undefined, "free"), "%s", undefined);
    const char *sym = shell_output(arena_printf("nm -S %s/model.o | grep ' t_workspace$'", dir));
    unsigned long long addr, size;
    cr_assert_eq(sscanf(sym, "%llx %llx", &addr, &size), 2, "%s", sym);
    cr_assert_gt(ir_workspace_bytes(ir), 0);
    cr_assert_eq((long long)size, ir_workspace_bytes(ir));
    const char *h = shell_output(arena_printf("grep WORKSPACE_SIZE %s/model.h", dir));
    cr_assert_not_null(strstr(h, arena_printf("#define T_WORKSPACE_SIZE %lld ", ir_workspace_bytes(ir))));
    run(arena_printf("rm -rf %s", dir));
}

/* ------------------------------------------------ determinism and golden */

typedef struct Emitted {
    char *c, *h;
} Emitted;

static Emitted emit_to_memory(const Model *m, const char *target) {
    Emitted out;
    size_t c_len, h_len;
    FILE *c = open_memstream(&out.c, &c_len), *h = open_memstream(&out.h, &h_len);
    EmitOptions opts = options(target, false);
    emit_c(lower_and_plan(m, target), &opts, c, h);
    fclose(c);
    fclose(h);
    return out;
}

Test(emit, same_input_gives_identical_bytes) {
    rng_state = 2;
    Model *m = checked_model(padding_model());
    Emitted a = emit_to_memory(m, "scalar"), b = emit_to_memory(m, "scalar");
    cr_assert_str_eq(a.c, b.c);
    cr_assert_str_eq(a.h, b.h);
    free(a.c), free(a.h), free(b.c), free(b.h);
}

static const char *read_text(const char *path) {
    size_t len;
    const char *text = read_whole_file(path, &len);
    return text ? text : "";
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

/* Compares with tests/golden/NAME.c and .h; CNNC_UPDATE_GOLDEN=1 rewrites them. */
static void assert_golden(const char *name, const Model *m) {
    Emitted out = emit_to_memory(m, "scalar");
    const char *c_path = arena_printf("golden/%s.c", name), *h_path = arena_printf("golden/%s.h", name);
    if (getenv("CNNC_UPDATE_GOLDEN")) {
        write_text(c_path, out.c);
        write_text(h_path, out.h);
    }
    cr_assert_str_eq(out.c, read_text(c_path), "%s differs (CNNC_UPDATE_GOLDEN=1 to accept)", c_path);
    cr_assert_str_eq(out.h, read_text(h_path), "%s differs (CNNC_UPDATE_GOLDEN=1 to accept)", h_path);
    free(out.c), free(out.h);
}

Test(golden, tiny_dense) { assert_golden("tiny_dense", dense_model()); }

Test(golden, edges) {
    assert_golden("edges", checked_model(
        "model edges\ninput 8x8x1\n"
        "blur: conv2d filters=1 kernel=3 padding=same bias=false weights=[\n"
        "    1/16 2/16 1/16\n    2/16 4/16 2/16\n    1/16 2/16 1/16 ]\n"
        "edge: conv2d filters=1 kernel=3 padding=same bias=false weights=[\n"
        "    0 1 0\n    1 -4 1\n    0 1 0 ]\n"
        "relu\n"));
}

Test(golden, folding) {
    rng_state = 1;
    assert_golden("folding", checked_model(folding_model()));
}

/* ------------------------------------------- weight formats and --unroll */

/* t: input n → dense 1 without bias: its weight array is w in order. */
static Model *one_unit_dense(int n, const float *w) {
    Model *m = model_new("t", shape_vector(n));
    add_dense(m, "fc", 1, tensor_of(n, w), (Tensor){0});
    return m;
}

static EmitOptions decimal_options(void) {
    EmitOptions opts = options("scalar", false);
    opts.decimal_weights = true;
    return opts;
}

Test(emit, small_arrays_decimal_large_arrays_packed) {
    float w[1024] = {0.5f, -2};
    Emitted small = emit_to_memory(one_unit_dense(1023, w), "scalar");
    cr_assert_not_null(strstr(small.c, "static CNNC_ALIGN(64) const float t_fc_weight[1023] = {\n"
                                       "    0.5f, -2.0f, 0.0f,"));
    cr_assert_null(strstr(small.c, "union"));
    cr_assert_null(strstr(small.c, "__BYTE_ORDER__"));
    Emitted large = emit_to_memory(one_unit_dense(1024, w), "scalar");
    cr_assert_not_null(strstr(large.c, "static CNNC_ALIGN(64) const union { unsigned char bytes[2][2048]; "
                                       "float f[1024]; } t_fc_weight = {{\n"
                                       "    \"\\0\\0\\0\\77\\0\\0\\0\\300\\0\\0"));
    cr_assert_not_null(strstr(large.c, "t_fc_weight.f + o * 1024"));
    cr_assert_not_null(strstr(large.c, "#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__)"
                                       " && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__\n#error "));
    free(small.c), free(small.h), free(large.c), free(large.h);
}

/* 1025 values (two full rows of bytes and 4 bytes of a third): -0, the
 * smallest positive denormal, the largest negative denormal, FLT_MIN,
 * +-FLT_MAX, 1/3, values whose bytes must be escaped in a string (a
 * backslash, a quote, the trigraph "??/", an escape followed by an octal
 * digit), random values, and a negative denormal last.  bits gets their bit
 * patterns. */
static float *special_weights(uint32_t *bits) {
    static const uint32_t head[] = {0x80000000u, 0x00000001u, 0x807fffffu, 0x00800000u, 0x7f7fffffu,
                                    0xff7fffffu, 0x3eaaaaabu, 0x223f3101u, 0x3f37005cu, 0x412f3f3fu};
    const uint32_t last = 0x80000003u;
    float *w = arena_alloc(1025 * sizeof *w);
    for (int i = 0; i < 1025; i++)
        w[i] = (float)next_random();
    memcpy(w, head, sizeof head);
    memcpy(&w[1024], &last, sizeof last);
    memcpy(bits, w, 1025 * sizeof *w);
    return w;
}

/* A driver that includes model.c and compares the array's bits and
 * alignment with the expected ones. */
static void write_bits_driver(const uint32_t *bits, int n, const char *dir) {
    FILE *f = fopen(arena_printf("%s/bits.c", dir), "w");
    fprintf(f, "#include \"model.c\"\n#ifdef CNNC_FULL_ROWS_WARN\n#error the pragma scope of the weights leaked\n#endif\n"
               "#include <stdio.h>\n#include <string.h>\nstatic const uint32_t want[] = {");
    for (int i = 0; i < n; i++)
        fprintf(f, "%s0x%08xu,", i % 8 ? "" : "\n", bits[i]);
    fprintf(f, "};\nint main(void) {\n    if ((uintptr_t)t_fc_weight.f %% 64) return 2;\n"
               "    for (int i = 0; i < %d; i++) {\n        uint32_t b;\n"
               "        memcpy(&b, &t_fc_weight.f[i], 4);\n"
               "        if (b != want[i]) { printf(\"%%d\\n\", i); return 1; }\n    }\n"
               "    return 0;\n}\n", n);
    fclose(f);
}

/* Runs `cc flags -Iruntime command` in dir, its messages in dir/cc.log. */
static int compile_status(const char *dir, const char *cc, const char *flags, const char *command) {
    return run(arena_printf("cd %s && %s %s -I%s %s > cc.log 2>&1", dir, cc, flags, runtime_dir(),
                            command));
}

/* Both formats give back every bit, with gcc and clang at -O2 (which
 * folds constant loads through the union). */
Test(emit, weights_round_trip_exact_bits) {
    rng_state = 11;
    uint32_t bits[1025];
    Ir *ir = lower_and_plan(one_unit_dense(1025, special_weights(bits)), "scalar");
    EmitOptions formats[2] = {options("scalar", false), decimal_options()};
    const char *flags = arena_printf("%s -O2", strict_flags);
    for (int f = 0; f < 2; f++) {
        const char *dir = tmpdir_new("emit");
        write_model(ir, &formats[f], dir);
        write_bits_driver(bits, 1025, dir);
        const char *build_and_run = "bits.c -o prog && ./prog";
        cr_assert_eq(compile_status(dir, "gcc", flags, build_and_run), 0, "gcc: %s/cc.log", dir);
        cr_assert_eq(compile_status(dir, "clang", flags, build_and_run), 0, "clang: %s/cc.log", dir);
        run(arena_printf("rm -rf %s", dir));
    }
}

/* A full row of bytes has no room for a NUL, which gcc 15 and clang 21 warn
 * about under -Wextra: the file turns that warning off around the arrays on
 * exactly those compilers.  gcc 12 posing as gcc 15 reaches the pragma (and
 * says it does not know the warning); as itself, it compiles clean. */
Test(emit, full_rows_quiet_the_unterminated_string_warning_only_where_it_exists) {
    float w[1024] = {1};
    Ir *ir = lower_and_plan(one_unit_dense(1024, w), "scalar");
    const char *dir = tmpdir_new("emit");
    EmitOptions opts = options("scalar", false);
    write_model(ir, &opts, dir);
    cr_assert_eq(compile_status(dir, "gcc", strict_flags, "-c model.c"), 0, "see %s/cc.log", dir);
    const char *gcc15 = "-std=c11 -Wall -Wextra -U__GNUC__ -D__GNUC__=15";
    cr_assert_eq(compile_status(dir, "gcc", gcc15, "-c model.c"), 0, "see %s/cc.log", dir);
    const char *log = read_text(arena_printf("%s/cc.log", dir));
    cr_assert_not_null(strstr(log, "-Wunterminated-string-initialization"), "%s", log);
    run(arena_printf("rm -rf %s", dir));
}

/* On a big-endian target the packed file refuses to compile and names the
 * fix; the decimal file compiles. */
Test(emit, packed_weights_refuse_big_endian) {
    float w[1024] = {1};
    Ir *ir = lower_and_plan(one_unit_dense(1024, w), "scalar");
    const char *big = "-std=c11 -U__BYTE_ORDER__ -D__BYTE_ORDER__=__ORDER_BIG_ENDIAN__";
    const char *dir = tmpdir_new("emit");
    EmitOptions packed = options("scalar", false), decimal = decimal_options();
    write_model(ir, &packed, dir);
    cr_assert_neq(compile_status(dir, "gcc", big, "-c model.c"), 0);
    const char *log = read_text(arena_printf("%s/cc.log", dir));
    cr_assert_not_null(strstr(log, "#error \"weights packed for a little-endian target: "
                                   "regenerate this file with cnnc --decimal-weights\""), "%s", log);
    write_model(ir, &decimal, dir);
    cr_assert_eq(compile_status(dir, "gcc", big, "-c model.c"), 0, "see %s/cc.log", dir);
    run(arena_printf("rm -rf %s", dir));
}

/* A stand-in kernel: unrolled, one statement per element (45 bytes each);
 * rolled, one loop. */
static void emit_unrolled_relu(Emitter *e, const IrOp *op) {
    long long n = shape_count(op->out_shape);
    if (op->unroll == UNROLL_NONE) {
        emit(e, "for (int i = 0; i < %lld; i++) {\nout[i] = in[i] > 0.0f ? in[i] : 0.0f;\n}\n", n);
        return;
    }
    for (long long i = 0; i < n; i++)
        emit(e, "out[%lld] = in[%lld] > 0.0f ? in[%lld] : 0.0f;\n", i, i, i);
}

/* The same, once per ISA branch, as --target=auto bodies are. */
static void emit_unrolled_relu_per_isa(Emitter *e, const IrOp *op) {
    const char *branches[] = {"#if defined(__AVX512F__)\n", "#elif defined(__AVX2__)\n",
                              "#elif defined(__SSE4_1__)\n", "#else\n"};
    for (int b = 0; b < 4; b++) {
        emit(e, "%s", branches[b]);
        emit_unrolled_relu(e, op);
    }
    emit(e, "#endif\n");
}

static void pack_nothing(IrOp *op) {
    (void)op;
}

static const KernelEmitter unrolled_relu_kernel = {"scalar", pack_nothing, emit_unrolled_relu, false, false};
static const KernelEmitter per_isa_relu_kernel = {"scalar", pack_nothing, emit_unrolled_relu_per_isa,
                                                  false, false};

/* t: input n → relu, emitted by a stand-in kernel under `mode`. */
static char *emit_relu_model(int n, const KernelEmitter *kernel, UnrollMode mode, const char *dir) {
    Model *m = model_new("t", shape_vector(n));
    add_simple(m, LAYER_RELU, "relu_1", ACT_RELU);
    EmitOptions opts = options("scalar", false);
    opts.unroll = mode;
    Ir *ir = lower_model(m, &opts);
    plan_memory(ir);
    cr_assert_eq(ir->nops, 1);
    cr_assert_eq(ir->ops[0].unroll, mode);
    ir->ops[0].kernel = kernel;
    write_model(ir, &opts, dir);
    return arena_strdup(read_text(arena_printf("%s/model.c", dir)));
}

/* The conv kernel lowering picks for MNIST conv2's shape under `mode`. */
static const IrOp *lowered_conv(const Model *m, UnrollMode mode) {
    EmitOptions opts = {.target = target_by_name("avx2"), .unroll = mode};
    Ir *ir = lower_model(m, &opts);
    for (int i = 0; i < ir->nops; i++)
        if (ir->ops[i].kind == IR_CONV)
            return &ir->ops[i];
    cr_assert_fail("no conv op");
    return NULL;
}

/* --unroll=none keeps the readable direct kernel, also once lowering has
 * a separate kernel-choice step (the mode must be set before it). */
Test(emit, unroll_none_keeps_the_direct_kernel) {
    Model *m = checked_model(arena_printf("model t\ninput 13x13x32\nconv2d filters=64 kernel=3 bias=false "
                                          "weights=[%s]\n", R(3 * 3 * 32 * 64)));
    IrOp probe = *lowered_conv(m, UNROLL_AUTO);
    const KernelEmitter *winograd = conv_winograd_kernel_any(&probe, target_by_name("avx2"));
    cr_assert_not_null(winograd);
    cr_assert_eq(lowered_conv(m, UNROLL_AUTO)->kernel, winograd, "auto takes Winograd for this shape");
    cr_assert_neq(lowered_conv(m, UNROLL_NONE)->kernel, winograd);
    cr_assert_eq(lowered_conv(m, UNROLL_NONE)->kernel, conv_simd_kernel(&probe, target_by_name("avx2")));
}

static const char *const rolled_note = "loops kept rolled: unrolled it was";

/* 4000 elements: 200 KB of C, over the 64 KB budget; 1000 per ISA: 50 KB
 * per compile, within it. */
Test(emit, unroll_budget_rolls_only_oversized_auto_functions) {
    const char *dir = tmpdir_new("emit");
    char *full = emit_relu_model(4000, &unrolled_relu_kernel, UNROLL_FULL, dir);
    cr_assert_not_null(strstr(full, "out[3999] = in[3999]"));
    cr_assert_null(strstr(full, rolled_note));
    char *per_isa = emit_relu_model(1000, &per_isa_relu_kernel, UNROLL_AUTO, dir);
    cr_assert_not_null(strstr(per_isa, "out[999] = in[999]"));
    cr_assert_null(strstr(per_isa, rolled_note));
    char *rolled = emit_relu_model(4000, &unrolled_relu_kernel, UNROLL_AUTO, dir);
    cr_assert_null(strstr(rolled, "out[3999]"));
    cr_assert_not_null(strstr(rolled, "for (int i = 0; i < 4000; i++) {"));
    cr_assert_not_null(strstr(rolled, "; loops kept rolled: unrolled it was 200814 bytes of C per ISA, "
                                      "over the 65536-byte budget of --unroll=auto */\n"
                                      "static CNNC_NOINLINE void t_relu_1_act("), "%.400s", rolled);
    float input[4000], want[4000];
    for (int i = 0; i < 4000; i++)
        input[i] = (float)next_random();
    write_driver(model_new("t", shape_vector(4000)), input, dir, DRIVER_BOTH_ENTRY_POINTS);
    float *got = compile_and_run(model_new("t", shape_vector(4000)), dir, "gcc", "");
    for (int i = 0; i < 4000; i++)
        want[i] = input[i] > 0 ? input[i] : 0;
    assert_close(got, want, 4000);
    run(arena_printf("rm -rf %s", dir));
}

/* The kernels' own auto unrolling (first layers up to 45 KB of C per ISA,
 * up to 20% faster than rolled) is left alone by the budget. */
Test(emit, unroll_budget_keeps_kernels_auto_unrolling) {
    const char *examples[] = {"lenet5", "cifar"}, *targets[] = {"auto", "avx512"};
    for (int i = 0; i < 2; i++) {
        diag_reset();
        SrcFile *src = srcfile_load(arena_printf("../examples/%s.cnn", examples[i]));
        Model *m = check_program(parse_program(src), true);
        cr_assert_eq(diag_error_count(), 0);
        for (int t = 0; t < 2; t++) {
            Emitted out = emit_to_memory(m, targets[t]);
            cr_assert_null(strstr(out.c, rolled_note), "%s %s", examples[i], targets[t]);
            free(out.c), free(out.h);
        }
    }
}

/* ------------------------------------------------------- the command line */

/* Compiles `text` with the built cnnc and `cnnc_flags` into dir/model.c
 * (and model_weights.c with --weights-c); returns the exit status. */
static int run_cnnc(const char *dir, const char *text, const char *cnnc_flags) {
    const char *cnnc = getenv("CNNC");
    cr_assert_not_null(cnnc, "CNNC (path of the built cnnc) is not set");
    write_text(arena_printf("%s/t.cnn", dir), text);
    return run(arena_printf("cd %s && %s t.cnn -o model.c %s 2> cnnc.log", dir, cnnc, cnnc_flags));
}

/* cnnc --standalone --weights-c: three files; the two .c files compile
 * with no include path at all and give the interpreter's answer. */
static void assert_weights_file_build(const char *text, const char *cnnc_flags) {
    Model *m = checked_model(text);
    int n_in = (int)shape_count(m->input), n_out = (int)shape_count(m->output);
    float *input = arena_alloc((size_t)n_in * sizeof *input);
    float *want = arena_alloc((size_t)n_out * sizeof *want), *got = arena_alloc((size_t)n_out * sizeof *got);
    for (int i = 0; i < n_in; i++)
        input[i] = (float)next_random();
    interp_run(m, input, want);
    const char *dir = tmpdir_new("emit");
    cr_assert_eq(run_cnnc(dir, text, arena_printf("--standalone --weights-c %s", cnnc_flags)), 0);
    cr_assert_eq(run(arena_printf("cd %s && gcc %s -c model_weights.c", dir, strict_flags)), 0);
    write_driver(m, input, dir, DRIVER_BOTH_ENTRY_POINTS);
    cr_assert_eq(run(arena_printf("cd %s && gcc %s -c model.c && gcc main.c model.o model_weights.o "
                                  "-o prog -lm && ./prog > out.txt", dir, strict_flags)), 0);
    FILE *f = fopen(arena_printf("%s/out.txt", dir), "r");
    for (int i = 0; i < n_out; i++)
        cr_assert_eq(fscanf(f, "%f", &got[i]), 1);
    fclose(f);
    assert_close(got, want, n_out);
    run(arena_printf("rm -rf %s", dir));
}

Test(cli, standalone_with_weights_file) {
    rng_state = 3;
    assert_weights_file_build(pooling_model(), "");
}

/* 1200 dense weights: extern declarations of the union, packed or decimal. */
Test(cli, weights_file_with_large_arrays) {
    rng_state = 12;
    const char *text = arena_printf("model t\ninput 600\ndense units=2 weights=%s bias=%s\n",
                                    R(1200), R(2));
    assert_weights_file_build(text, "");
    assert_weights_file_build(text, "--decimal-weights");
}

Test(cli, unroll_modes_and_bad_value) {
    const char *dir = tmpdir_new("emit");
    const char *text = "model t\ninput 3\ndense units=1 weights=[1 2 3] bias=[0]\n";
    const char *ok[] = {"--unroll=auto", "--unroll=full", "--unroll none", "--decimal-weights"};
    for (int i = 0; i < 4; i++)
        cr_assert_eq(run_cnnc(dir, text, ok[i]), 0, "%s", ok[i]);
    run(arena_printf("rm %s/model.c", dir));
    cr_assert_eq(run_cnnc(dir, text, "--unroll=fast"), 2);
    const char *log = read_text(arena_printf("%s/cnnc.log", dir));
    cr_assert_not_null(strstr(log, "cnnc: unknown --unroll mode 'fast' (auto, full, none)\nusage:"), "%s", log);
    cr_assert_eq(run_cnnc(dir, text, "--unroll"), 2);
    cr_assert_eq(access(arena_printf("%s/model.c", dir), F_OK), -1, "nothing is written");
    run(arena_printf("rm -rf %s", dir));
}
