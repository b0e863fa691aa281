/* test_layout.c — the planner's zero-bordered frames (compiler/layout.c)
 * and the scale-only affine folded into a padded conv (lower.c).
 *
 * The IR tests read --dump=ir text: a PAD op remains only where the caller's
 * input is padded.  The numeric tests compile the generated C for every
 * target this machine runs (NEON under qemu), call it twice on a workspace
 * filled with NaN before each call — the memory plan shares workspace bytes
 * between buffers, so a frame whose border is not zeroed by its producer
 * shows up as NaN — and compare with the reference interpreter. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnnc.h"
#include "count_of.h"
#include "emit_harness.h"

/* ------------------------------------------------------------- models */

static unsigned rng_state = 1;

/* "[v v ...]": n deterministic values in [-1, 1]. */
static const char *R(int n) {
    char *text;
    size_t len;
    FILE *f = open_memstream(&text, &len);
    fputc('[', f);
    for (int i = 0; i < n; i++) {
        rng_state = rng_state * 1103515245u + 12345u;
        fprintf(f, "%s%.4f", i ? " " : "", (double)((rng_state >> 8) % 20001) / 10000.0 - 1.0);
    }
    fputc(']', f);
    fclose(f);
    const char *list = arena_strdup(text);
    free(text);
    return list;
}

/* flowers in small: a rescale before the first padded conv, convs whose
 * pools fuse (SIMD) or stay scalar pools (scalar target), a dense head. */
static const char *flowers_like(void) {
    return arena_printf("model t\ninput 24x24x3\nrescale scale=1/255\n"
                        "c1: conv2d filters=8 kernel=3 padding=same activation=relu weights=%s bias=%s\nmaxpool\n"
                        "c2: conv2d filters=32 kernel=3 padding=same activation=relu weights=%s bias=%s\nmaxpool\n"
                        "c3: conv2d filters=16 kernel=3 padding=same activation=relu weights=%s bias=%s\n"
                        "flatten\nfc: dense units=5 weights=%s bias=%s\n",
                        R(3 * 3 * 3 * 8), R(8), R(3 * 3 * 8 * 32), R(32), R(3 * 3 * 32 * 16), R(16),
                        R(6 * 6 * 16 * 5), R(5));
}

/* The policy net in small: a chain of padded convs (5x5, then 3x3 Winograd
 * on avx2; c2 and c3 write frames and share their code, emit_c.c), a
 * per-position-bias head (the channel-dot kernel) and a softmax. */
static const char *policy_like(void) {
    return arena_printf("model t\ninput 19x19x8\n"
                        "c1: conv2d filters=32 kernel=5 padding=2 activation=relu weights=%s bias=%s\n"
                        "c2: conv2d filters=32 kernel=3 padding=1 activation=relu weights=%s bias=%s\n"
                        "c3: conv2d filters=32 kernel=3 padding=1 activation=relu weights=%s bias=%s\n"
                        "c4: conv2d filters=32 kernel=3 padding=1 activation=relu weights=%s bias=%s\n"
                        "head: conv2d filters=1 kernel=1 weights=%s bias=%s\nflatten\nsoftmax\n",
                        R(5 * 5 * 8 * 32), R(32), R(9 * 32 * 32), R(32), R(9 * 32 * 32), R(32), R(9 * 32 * 32),
                        R(32), R(32), R(19 * 19));
}

/* One input channel (conv_pixels.c), an asymmetric frame, and padded
 * scalar max/avg pools writing frames. */
static const char *gray_model(void) {
    return arena_printf("model t\ninput 10x10x1\n"
                        "c1: conv2d filters=4 kernel=3 padding=same weights=%s bias=%s\n"
                        "c2: conv2d filters=6 kernel=3 padding=[1,0,2,1] activation=tanh weights=%s bias=%s\n"
                        "maxpool size=3 stride=1 padding=same\n"
                        "c3: conv2d filters=5 kernel=3 padding=1 weights=%s bias=%s\n"
                        "avgpool size=2 stride=1 padding=[0,1,0,1]\n"
                        "c4: conv2d filters=3 kernel=2 padding=1 bias=false weights=%s\n",
                        R(9 * 4), R(4), R(9 * 4 * 6), R(6), R(9 * 6 * 5), R(5), R(4 * 5 * 3));
}

/* Outputs narrower than half a register tile: the direct kernel's tiles
 * span several output rows, which a frame puts further apart. */
static const char *narrow_model(void) {
    return arena_printf("model t\ninput 4x3x8\n"
                        "c1: conv2d filters=20 kernel=3 padding=1 activation=relu weights=%s bias=%s\n"
                        "c2: conv2d filters=20 kernel=3 padding=1 activation=relu weights=%s bias=%s\n"
                        "c3: conv2d filters=4 kernel=3 padding=1 bias=false weights=%s\n",
                        R(9 * 8 * 20), R(20), R(9 * 20 * 20), R(20), R(9 * 20 * 4));
}

static const char *ir_text(const Model *m, const char *target) {
    char *text;
    size_t len;
    FILE *f = open_memstream(&text, &len);
    dump_ir(lower_and_plan(m, target), f);
    fclose(f);
    const char *copy = arena_strdup(text);
    free(text);
    return copy;
}

/* ------------------------------------------------------------ IR tests */

static const char *const targets[] = {"scalar", "sse4", "avx2", "avx512", "neon", "auto"};

/* Only the PAD op of the caller's input stays; every other padded conv
 * reads a frame its producer wrote. */
static void assert_one_pad(const char *text, int frames) {
    cr_assert_eq(count_of(text, " pad  "), 1, "%s", text);
    cr_assert(strstr(text, "  0 pad       c1           b0(input"), "%s", text);
    cr_assert_eq(count_of(text, " frame["), frames, "%s", text);
}

Test(layout, flowers_like_keeps_only_the_input_pad) {
    Model *m = checked_model(flowers_like());
    for (size_t i = 0; i < sizeof targets / sizeof *targets; i++) {
        const char *text = ir_text(m, targets[i]);
        assert_one_pad(text, 2);
        cr_assert_eq(count_of(text, "affine"), 0, "rescale not folded on %s:\n%s", targets[i], text);
        cr_assert(strstr(text, "+rescale_1"), "%s", text);
    }
}

Test(layout, policy_like_keeps_only_the_input_pad) {
    Model *m = checked_model(policy_like());
    for (size_t i = 0; i < sizeof targets / sizeof *targets; i++)
        assert_one_pad(ir_text(m, targets[i]), 3);
}

static void write_target_model(const Model *m, const char *target, const char *dir);
static const char *generated_c(const Model *m, const char *target);

/* c2 and c3 (same shapes and kernel, both writing a frame) share one
 * function, each passing its own arrays; c4 (no frame) keeps its own code
 * (emit_c.c).  layout_run checks the shared code's results. */
Test(layout, identical_layers_share_their_code) {
    Model *m = checked_model(policy_like());
    for (size_t i = 0; i < sizeof targets / sizeof *targets; i++) {
        const char *c = generated_c(m, targets[i]);
        cr_assert(strstr(c, "/* The code of c2 c3: the same kernel on the same shapes"), "%s", targets[i]);
        cr_assert_eq(count_of(c, "_code("), 3, "%s: the shared function and two calls", targets[i]);
        cr_assert(strstr(c, "_code(in, frame, "), "%s", targets[i]);
        cr_assert(strstr(c, "t_c3_weight"), "%s", targets[i]);
    }
}

/* Within one kernel row (the body of a ky loop) of a 3-channel first
 * layer, every input value is broadcast once: the row is emitted in input
 * order (conv_simd.c: emit_row_by_input).  In tap order the same value was
 * broadcast once per tap, and gcc kept the merged broadcasts live and
 * spilled them.  `body` is one ky loop; its broadcasts read (xk + A)[B]. */
static void assert_each_input_broadcast_once(const char *body, const char *end, const char *target) {
    long long seen[512];
    int n = 0;
    for (const char *p = strstr(body, "cnnc_vbcast((xk + "); p && p < end; p = strstr(p + 1, "cnnc_vbcast((xk + ")) {
        long long a, b;
        cr_assert_eq(sscanf(p, "cnnc_vbcast((xk + %lld)[%lld])", &a, &b), 2, "%s: %.60s", target, p);
        for (int i = 0; i < n; i++)
            cr_assert_neq(seen[i], a + b, "%s: input %lld broadcast twice in one kernel row", target, a + b);
        cr_assert_lt(n, 512);
        seen[n++] = a + b;
    }
    cr_assert_gt(n, 0, "%s: no broadcast found", target);
}

Test(layout, first_layer_rows_broadcast_each_input_once) {
    Model *m = checked_model(flowers_like());
    const char *fma_targets[] = {"avx2", "avx512", "neon"};
    for (int i = 0; i < 3; i++) {
        const char *c = generated_c(m, fma_targets[i]);
        const char *conv1 = strstr(c, "static CNNC_NOINLINE void t_c1_conv3x3");
        cr_assert_not_null(conv1, "%s", fma_targets[i]);
        const char *conv1_end = strstr(conv1, "\n}\n");
        int rows = 0;
        for (const char *ky = strstr(conv1, "for (int ky = 0;"); ky && ky < conv1_end;
             ky = strstr(ky + 1, "for (int ky = 0;")) {
            const char *next = strstr(ky + 1, "for (int ky = 0;");
            assert_each_input_broadcast_once(ky, next && next < conv1_end ? next : conv1_end, fma_targets[i]);
            rows++;
        }
        cr_assert_gt(rows, 0, "%s: no ky loop in c1", fma_targets[i]);
    }
}

Test(layout, policy_example_has_one_pad_and_eleven_frames) {
    SrcFile *src = srcfile_load("../examples/policy.cnn");
    cr_assert_not_null(src);
    diag_reset();
    Model *m = check_program(parse_program(src), true);
    cr_assert_eq(diag_error_count(), 0);
    const char *text = ir_text(m, "avx2");
    cr_assert_eq(count_of(text, " pad  "), 1, "%s", text);
    cr_assert_eq(count_of(text, " frame[1,1,1,1]"), 11, "%s", text);
}

/* A rescale with an offset changes the zero border: it must stay an op. */
Test(layout, affine_with_shift_is_not_folded_into_padded_conv) {
    const char *text = ir_text(checked_model(arena_printf(
        "model t\ninput 6x6x2\nrescale scale=2 offset=1\n"
        "c1: conv2d filters=3 kernel=3 padding=1 weights=%s bias=%s\n", R(3 * 3 * 2 * 3), R(3))), "avx2");
    cr_assert_eq(count_of(text, "affine"), 1, "%s", text);
    cr_assert_eq(count_of(text, " pad  "), 1, "%s", text);
}

/* Folding a scale changes weights only: the conv gets the same kernel (and
 * no bias it did not have). */
Test(layout, scale_fold_keeps_the_kernel_choice) {
    const char *w = R(3 * 3 * 3 * 16);
    const char *conv = arena_printf("c1: conv2d filters=16 kernel=3 padding=same bias=false weights=%s\n", w);
    for (size_t i = 0; i < sizeof targets / sizeof *targets; i++) {
        const char *plain_text = arena_printf("model t\ninput 12x12x3\n%s", conv);
        const char *scaled_text = arena_printf("model t\ninput 12x12x3\nrescale scale=1/255\n%s", conv);
        Ir *plain = lower_and_plan(checked_model(plain_text), targets[i]);
        Ir *scaled = lower_and_plan(checked_model(scaled_text), targets[i]);
        cr_assert_eq(plain->nops, scaled->nops);
        for (int k = 0; k < plain->nops; k++) {
            cr_assert_str_eq(plain->ops[k].func_name, scaled->ops[k].func_name);
            cr_assert_eq(plain->ops[k].bias.count, scaled->ops[k].bias.count);
        }
    }
}

/* ------------------------------------------------------ numeric tests */

typedef struct Toolchain {
    const char *target, *cc, *flags, *exec;   /* exec: "" or "qemu-aarch64 " */
} Toolchain;

static void write_target_model(const Model *m, const char *target, const char *dir) {
    EmitOptions opts = {.target = target_by_name(target), .header_name = "model.h",
                        .source_name = "tests/model.cnn"};
    write_model(lower_and_plan(m, target), &opts, dir);
}

/* The C that cnnc writes for the model and target (written in a scratch
 * directory, read back, the directory removed). */
static const char *generated_c(const Model *m, const char *target) {
    char *dir = tmpdir_new("layout");
    write_target_model(m, target, dir);
    size_t len;
    const char *c = read_whole_file(arena_printf("%s/model.c", dir), &len);
    cr_assert_not_null(c, "%s", target);
    run(arena_printf("rm -rf %s", dir));
    return c;
}

/* Builds and runs the model for one toolchain; compares with want. */
static void assert_toolchain_matches(const Model *m, const float *input, const float *want,
                                     const Toolchain *tc) {
    char *dir = tmpdir_new("layout");
    write_target_model(m, tc->target, dir);
    write_driver(m, input, dir, DRIVER_NAN_WORKSPACE);
    cr_assert_eq(run(arena_printf("cd %s && %s -std=c11 -Wall -Wextra -Wpedantic -Werror -O1 %s -I%s "
                                  "main.c model.c -lm -o prog 2> cc.log && %s./prog > out.txt",
                                  dir, tc->cc, tc->flags, runtime_dir(), tc->exec)),
                 0, "%s %s failed in %s", tc->target, tc->cc, dir);
    float *got = read_outputs(arena_printf("%s/out.txt", dir), shape_count(m->output));
    for (long long i = 0; i < shape_count(m->output); i++) {
        float tol = 1e-4f * (fabsf(want[i]) > 1 ? fabsf(want[i]) : 1);
        cr_assert(fabsf(got[i] - want[i]) <= tol, "%s %s: output[%lld] = %.9g, want %.9g", tc->target, tc->cc,
                  i, (double)got[i], (double)want[i]);
    }
    run(arena_printf("rm -rf %s", dir));
}

static const Toolchain toolchains[] = {
    {"scalar", "gcc", "", ""},           {"scalar", "clang", "", ""},
    {"sse4", "gcc", "-msse4.1", ""},     {"avx2", "gcc", "-mavx2 -mfma", ""},
    {"avx2", "clang", "-mavx2 -mfma", ""}, {"auto", "gcc", "-march=native", ""},
    {"neon", "aarch64-linux-gnu-gcc", "-static", "qemu-aarch64 "},
};

static void assert_matches_interp(const char *text) {
    Model *m = checked_model(text);
    long long n_in = shape_count(m->input);
    float *input = arena_alloc((size_t)n_in * sizeof *input);
    float *want = arena_alloc((size_t)shape_count(m->output) * sizeof *want);
    for (long long i = 0; i < n_in; i++)
        input[i] = (float)((i * 37) % 255) / 64.0f - 1.5f;
    interp_run(m, input, want);
    for (size_t i = 0; i < sizeof toolchains / sizeof *toolchains; i++) {
        if (strstr(toolchains[i].cc, "aarch64") && (!have(toolchains[i].cc) || !have("qemu-aarch64")))
            continue;
        assert_toolchain_matches(m, input, want, &toolchains[i]);
    }
}

Test(layout_run, flowers_like_on_nan_workspace, .timeout = 240) { assert_matches_interp(flowers_like()); }
Test(layout_run, policy_like_on_nan_workspace, .timeout = 240) { assert_matches_interp(policy_like()); }
Test(layout_run, gray_frames_and_pools_on_nan_workspace, .timeout = 240) {
    assert_matches_interp(gray_model());
}
Test(layout_run, narrow_tiles_on_nan_workspace, .timeout = 240) { assert_matches_interp(narrow_model()); }

/* On AVX2 a pooled 3-channel first layer with 16 filters takes a tile of
 * 2 rows x 6 pixels x 1 vector (12 accumulator chains; 2x2 x 2 vectors is
 * latency bound), a pooled 1-channel one keeps 2x2 x 2 vectors (9 taps: the
 * tile's fixed cost would dominate).  conv_simd.c: one_vector_pooled_tile. */
/* A pooled 3-channel first layer with 16 filters (flowers' conv1 shape). */
static Model *pooled_rgb_model(void) {
    return checked_model(arena_printf(
        "model t\ninput 24x24x3\nc1: conv2d filters=16 kernel=3 padding=same activation=relu weights=%s bias=%s\n"
        "maxpool\n", R(3 * 3 * 3 * 16), R(16)));
}

/* A pooled 1-channel first layer with 32 filters (MNIST's conv1 shape). */
static Model *pooled_gray_model(void) {
    return checked_model(arena_printf(
        "model t\ninput 28x28x1\nc1: conv2d filters=32 kernel=3 activation=relu weights=%s bias=%s\nmaxpool\n",
        R(3 * 3 * 32), R(32)));
}

/* LeNet's c1 with its pool: one channel, 6 filters (conv_pixels.c). */
static Model *lenet_c1_model(void) {
    return checked_model(arena_printf(
        "model t\ninput 32x32x1\nc1: conv2d filters=6 kernel=5 activation=tanh weights=%s bias=%s\nmaxpool\n",
        R(5 * 5 * 6), R(6)));
}

Test(layout, pooled_first_layer_tiles_on_avx2) {
    const char *c = generated_c(pooled_rgb_model(), "avx2");
    cr_expect(strstr(c, "/* tile: 2 rows x 6 pixels x 1 vectors of 8 channels, 2x2 pool at store"), "%.3000s", c);
    c = generated_c(pooled_gray_model(), "avx2");
    cr_expect(strstr(c, "/* tile: 2 rows x 2 pixels x 2 vectors of 8 channels, 2x2 pool at store"), "%.3000s", c);
}

/* A pooled tile's second row loads, at kernel row ky, what its first row
 * loads at ky + 1; gcc's predictive commoning carries those loads across
 * the ky loop and spills accumulators when they do not fit beside them
 * (AVX2 flowers conv1: 12 accumulators + 24 carried; AVX-512: 16 + 30;
 * LeNet c1's pixel tile: 12 + 5).  Those loops read their input row through
 * cnnc_opaque_row; MNIST's one-channel tile (8 + 4 on AVX2, 16 + 6 on
 * AVX-512) and one-row tiles keep the plain pointer.  simd_opaque_row. */
static int opaque_rows(const Model *m, const char *target) {
    const char *c = generated_c(m, target);
    cr_expect_gt(count_of(c, "for (int ky = 0; ky < "), 0, "%s: %.3000s", target, c);
    return count_of(c, "const float *xk = cnnc_opaque_row(x0 + ky * ");
}

Test(layout, ky_row_hidden_where_carried_loads_spill) {
    Model *rgb = pooled_rgb_model(), *gray = pooled_gray_model();
    Model *unpooled = checked_model(arena_printf(
        "model t\ninput 24x24x3\nc1: conv2d filters=16 kernel=3 activation=relu weights=%s bias=%s\n", R(432), R(16)));
    cr_expect_gt(opaque_rows(rgb, "avx2"), 0);
    /* all three weight columns in registers */
    cr_expect(strstr(generated_c(rgb, "avx2"), "const cnnc_v w2_0 = cnnc_vload("));
    cr_expect_gt(opaque_rows(rgb, "avx512"), 0);
    cr_expect_gt(opaque_rows(lenet_c1_model(), "avx2"), 0);
    cr_expect_eq(opaque_rows(gray, "avx2"), 0);
    cr_expect_eq(opaque_rows(gray, "avx512"), 0);
    cr_expect_eq(opaque_rows(unpooled, "avx2"), 0);
}

/* One function's instructions from objdump: address, backward-jump target
 * (0 if none), whether it is an fma, whether it is a vector stack access,
 * whether it is an fma that reads memory (a load folded into it), whether
 * it broadcasts a float from memory other than a constant. */
enum { MAX_INSNS = 1 << 16 };
typedef struct Disassembly {
    unsigned long addr[MAX_INSNS], target[MAX_INSNS];
    char fma[MAX_INSNS], stack[MAX_INSNS], fma_load[MAX_INSNS], bcast[MAX_INSNS];
} Disassembly;

/* What worst_loop_rate counts per fma: stack accesses in every loop, or
 * folded loads in the register tiles' loops (those that broadcast inputs;
 * a Winograd transform reads each input once and may fold it). */
typedef enum { STACK_ACCESSES, FOLDED_LOADS } LoopCount;

/* Over fn's innermost loops (a backward jump with no other loop inside) of
 * min_fmas fmas or more: counts them into *loops, returns the worst of
 * `worst` and their stack accesses or folded loads per fma. */
static double innermost_loops(const Disassembly *fn, int n, LoopCount what, int min_fmas, int *loops,
                              double worst) {
    const char *counted = what == STACK_ACCESSES ? fn->stack : fn->fma_load;
    for (int j = 0; j < n; j++) {
        if (!fn->target[j] || fn->target[j] >= fn->addr[j])
            continue;
        bool inner = true;
        for (int k = 0; k < n && inner; k++)
            inner = k == j || !fn->target[k] || fn->target[k] >= fn->addr[k] || fn->target[k] < fn->target[j] ||
                    fn->addr[k] > fn->addr[j];
        int fmas = 0, count = 0, bcasts = 0;
        for (int k = 0; inner && k <= j; k++)
            if (fn->addr[k] >= fn->target[j])
                fmas += fn->fma[k], count += counted[k], bcasts += fn->bcast[k];
        if (inner && fmas >= min_fmas && (what == STACK_ACCESSES || bcasts >= 2)) {
            ++*loops;
            worst = (double)count / fmas > worst ? (double)count / fmas : worst;
        }
    }
    return worst;
}

/* One line of objdump's x86 output (AT&T) into fn's n-th instruction. */
static void parse_x86(Disassembly *fn, int n, const char *text) {
    unsigned long t = 0;
    if (text[0] == 'j')
        sscanf(text, "%*s %lx", &t);
    fn->target[n] = t;
    fn->fma[n] = strstr(text, "vfmadd") != NULL;
    fn->stack[n] = strstr(text, "mm") && (strstr(text, "(%rsp)") || strstr(text, "(%rbp)"));
    fn->fma_load[n] = fn->fma[n] && strchr(text, '(');
    fn->bcast[n] = strstr(text, "vbroadcastss") && strchr(text, '(') && !strstr(text, "(%rip)");
}

/* The same for AArch64: branches (b, b.cond, cbz/cbnz, tbz/tbnz; not bl)
 * name their target just before " <"; a spill is a q or d register
 * stored to or loaded from [sp. */
static void parse_aarch64(Disassembly *fn, int n, const char *text) {
    unsigned long t = 0;
    const char *name = strstr(text, " <");
    bool branch = (text[0] == 'b' && strncmp(text, "bl", 2) != 0) || !strncmp(text, "cb", 2) || !strncmp(text, "tb", 2);
    if (branch && name) {
        const char *p = name;
        while (p > text && isxdigit((unsigned char)p[-1]))
            p--;
        sscanf(p, "%lx", &t);
    }
    fn->target[n] = t;
    fn->fma[n] = !strncmp(text, "fmla", 4);
    fn->stack[n] = strstr(text, "[sp") && (strstr(text, "\tq") || strstr(text, " q") || strstr(text, "\td") ||
                                           strstr(text, " d"));
    fn->fma_load[n] = 0;   /* fmla takes no memory operand */
    fn->bcast[n] = 0;
}

/* How to compile and disassemble for one architecture. */
typedef struct Arch {
    const char *cc, *objdump;
    void (*parse)(Disassembly *fn, int n, const char *text);
} Arch;
static const Arch x86 = {"gcc", "objdump", parse_x86};
static const Arch aarch64 = {"aarch64-linux-gnu-gcc", "aarch64-linux-gnu-objdump", parse_aarch64};

/* The loops of gcc -O2's object code for DIR/model.c, from objdump: for
 * each innermost loop (a backward jump with no other inside it) of a
 * function whose name has "_conv", its fmas and its vector accesses to the
 * stack (spilled registers) or its fmas with a memory operand.  Returns the
 * worst of those per fma over the loops of min_fmas fmas or more, and how
 * many such loops there were. */
static double worst_loop_rate_on(const Arch *arch, const char *dir, const char *flags, LoopCount what,
                                 int min_fmas, int *loops) {
    cr_assert_eq(run(arena_printf("cd %s && %s -std=c11 -O2 %s -I%s -c model.c -o model.o && "
                                  "%s -d --no-show-raw-insn model.o > model.s",
                                  dir, arch->cc, flags, runtime_dir(), arch->objdump)),
                 0, "%s or %s failed in %s", arch->cc, arch->objdump, dir);
    FILE *f = fopen(arena_printf("%s/model.s", dir), "r");
    cr_assert_not_null(f);
    static Disassembly fn;
    char line[512];
    int n = 0;
    bool conv = false;
    double worst = 0;
    *loops = 0;
    for (bool more = true; more;) {
        more = fgets(line, sizeof line, f) != NULL;
        bool header = more && strchr(line, '<') && strstr(line, ">:");
        if (!more || header) {   /* the previous function is complete */
            if (conv)
                worst = innermost_loops(&fn, n, what, min_fmas, loops, worst);
            n = 0;
            conv = header && strstr(line, "_conv");
            continue;
        }
        unsigned long a;
        char text[400];
        if (!conv || n == MAX_INSNS || sscanf(line, " %lx:\t%399[^\n]", &a, text) != 2)
            continue;
        fn.addr[n] = a;
        arch->parse(&fn, n, text);
        n++;
    }
    fclose(f);
    return worst;
}

static double worst_loop_rate(const char *dir, const char *flags, LoopCount what, int min_fmas, int *loops) {
    return worst_loop_rate_on(&x86, dir, flags, what, min_fmas, loops);
}

/* What cnnc_opaque_row is for, checked on gcc's code: the tiles that spilled
 * accumulators to predictive commoning (AVX2 pooled 3-channel tile: 54 stack
 * accesses per 108 fmas; LeNet c1's pixel tile: 23 per 60; AVX-512's
 * 16-pixel tile: 40 per 144) keep them in registers, at most one stack
 * access per 6 fmas (now 10/108, 4/60, 0/144). */
Test(layout, first_layer_tiles_do_not_spill_under_gcc, .timeout = 240) {
    if (!have("objdump"))
        cr_skip_test("no objdump");
    char *dir = tmpdir_new("layout");
    struct { Model *m; const char *target, *flags; } cases[] = {
        {pooled_rgb_model(), "avx2", "-mavx2 -mfma"},
        {pooled_rgb_model(), "avx512", "-mavx512f -mfma"},
        {lenet_c1_model(), "avx2", "-mavx2 -mfma"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_target_model(cases[i].m, cases[i].target, dir);
        int loops;
        double rate = worst_loop_rate(dir, cases[i].flags, STACK_ACCESSES, 60, &loops);
        cr_expect_gt(loops, 0, "case %zu: no loop of 60 fmas", i);
        cr_expect_leq(rate, 1.0 / 6, "case %zu (%s): %.2f stack accesses per fma", i, cases[i].target, rate);
    }
    run(arena_printf("rm -rf %s", dir));
}

/* A weight vector that a register tile reads once per pixel or Winograd
 * tile stays in a register (cnnc_vload_keep, runtime/cnnc_simd_math.h).
 * gcc's Zen tuning folded it into the fmas that read it instead: in the
 * MNIST conv2 GEMM (2 vectors x 2 channels a step) 10 of the 20 fmas of the
 * 5-tile loop read memory, all 16 of the 4-tile one.  None may on AVX2 (a
 * broadcast cannot fold into an fma there); MNIST conv3's direct tile is
 * checked too. */
Test(layout, reused_weights_stay_in_registers_under_zen_tuning, .timeout = 120) {
    if (!have("objdump"))
        cr_skip_test("no objdump");
    char *dir = tmpdir_new("layout");
    const char *models[] = {
        /* MNIST conv2: Winograd F(4x4,3x3) */
        arena_printf("model t\ninput 13x13x32\nc: conv2d filters=64 kernel=3 activation=relu weights=%s bias=%s\n",
                     R(9 * 32 * 64), R(64)),
        /* MNIST conv3: direct, 6 pixels x 2 vectors */
        arena_printf("model t\ninput 5x5x64\nc: conv2d filters=64 kernel=3 activation=relu weights=%s bias=%s\n",
                     R(9 * 64 * 64), R(64)),
    };
    for (size_t i = 0; i < sizeof models / sizeof *models; i++) {
        write_target_model(checked_model(models[i]), "avx2", dir);
        int loops;
        double rate = worst_loop_rate(dir, "-mavx2 -mfma -mtune=znver3", FOLDED_LOADS, 12, &loops);
        cr_expect_gt(loops, 0, "model %zu: no loop of 12 fmas", i);
        cr_expect_eq(rate, 0, "model %zu: %.2f fmas per fma read memory", i, rate);
    }
    run(arena_printf("rm -rf %s", dir));
}

/* AArch64 gcc schedules instructions before register allocation at -O2,
 * and in the Winograd transforms it hoisted every load of a tile above the
 * arithmetic: MNIST conv2's input transform (120 fmlas) accessed the stack
 * 163 times, its output transform (60) 59 times.  Loaded column by column,
 * with cnnc_sched_barrier between the columns: 24 and 14. */
Test(layout, winograd_transforms_do_not_spill_under_aarch64_gcc, .timeout = 120) {
    if (!have(aarch64.cc) || !have(aarch64.objdump))
        cr_skip_test("no %s", aarch64.cc);
    char *dir = tmpdir_new("layout");
    Model *m = checked_model(arena_printf(
        "model t\ninput 13x13x32\nc: conv2d filters=64 kernel=3 activation=relu weights=%s bias=%s\nmaxpool\n",
        R(9 * 32 * 64), R(64)));
    write_target_model(m, "neon", dir);
    size_t len;
    cr_assert(strstr(read_whole_file(arena_printf("%s/model.c", dir), &len), "Winograd"));
    int loops;
    double rate = worst_loop_rate_on(&aarch64, dir, "", STACK_ACCESSES, 60, &loops);
    cr_expect_geq(loops, 2, "the input and output transforms' loops: %d", loops);
    cr_expect_leq(rate, 0.35, "%.2f stack accesses per fmla", rate);
    run(arena_printf("rm -rf %s", dir));
}

/* Which builds keep such vectors in a register: gcc with AVX (4 and 8
 * lanes) or AVX-512 (16).  Not SSE without AVX, where mulps cannot fold an
 * unaligned load and gcc loads again to free a register: kept there, the
 * sse4 flowers net took 45.9 M instructions instead of 43.2 M. */
Test(layout, weight_vectors_kept_only_where_loads_fold) {
    struct { const char *header, *flags; bool kept; } cases[] = {
        {"cnnc_simd_sse4.h", "-msse4.1", false},   {"cnnc_simd_sse4.h", "-mavx2 -mfma", true},
        {"cnnc_simd_avx2.h", "-mavx2 -mfma", true}, {"cnnc_simd_avx512.h", "-mavx512f", true},
        {"cnnc_simd_scalar.h", "", false},
    };
    char *dir = tmpdir_new("layout");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        FILE *f = fopen(arena_printf("%s/keep.c", dir), "w");
        cr_assert_not_null(f);
        fprintf(f, "#include \"%s\"\n#ifdef cnnc_vload_keep\nint kept = 0;\n#else\nint kept = 1;\n#endif\n",
                cases[i].header);
        fclose(f);
        cr_assert_eq(run(arena_printf("cd %s && gcc -std=c11 -Wall -Wextra -Wpedantic -Werror %s -I%s -E keep.c "
                                      "| grep -q 'int kept = %d'", dir, cases[i].flags, runtime_dir(),
                                      cases[i].kept)),
                     0, "%s with %s: kept should be %d", cases[i].header, cases[i].flags, cases[i].kept);
    }
    run(arena_printf("rm -rf %s", dir));
}

/* A max pool commutes with an activation that never decreases: the pooled
 * output is activated once (sigmoid of the max of four accumulators), not
 * four times; a leaky relu of negative slope does not commute, and keeps
 * activating each accumulator.  Direct (3 channels) and Winograd (16)
 * kernels alike.  conv_simd.c: simd_act_commutes_with_max. */
Test(layout, max_pool_activates_once_per_pooled_output) {
    struct { int cin; const char *act, *want, *unwanted; } cases[] = {
        {3, "sigmoid", "cnnc_vsigmoid(cnnc_vmaxnan(", "cnnc_vmaxnan(cnnc_vsigmoid("},
        {16, "sigmoid", "cnnc_vsigmoid(cnnc_vadd(cnnc_vmaxnan(", "cnnc_vmaxnan(cnnc_vsigmoid("},
        {3, "leaky_relu alpha=-0.5", "cnnc_vmaxnan(cnnc_vleaky_relu(", "cnnc_vleaky_relu(cnnc_vmaxnan("},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int cin = cases[i].cin;
        const char *c = generated_c(checked_model(arena_printf("model t\ninput 26x26x%d\nc1: conv2d filters=16 "
                                                               "kernel=3 activation=%s weights=%s bias=%s\nmaxpool\n",
                                                               cin, cases[i].act, R(9 * cin * 16), R(16))),
                                    "avx2");
        cr_expect(strstr(c, cases[i].want), "case %zu: no %s", i, cases[i].want);
        cr_expect_null(strstr(c, cases[i].unwanted), "case %zu: %s", i, cases[i].unwanted);
    }
}

/* Checks one dense body: every sub-block reads whole rows of one packed
 * block, `cnnc_vload(w + (ROW) * BW + OFF)` with OFF < BW, so its weights
 * are four contiguous streams (the quarters).  Returns the sub-blocks seen. */
static int assert_dense_reads_one_block(const char *body, const char *end, const char *what) {
    const char *head = "vectors of ";
    int tiles = 0;
    for (const char *p = strstr(body, head); p && p < end; p = strstr(p + 1, head)) {
        int lanes, bw;
        cr_assert_eq(sscanf(p, "vectors of %d outputs at a time; weights in blocks of %d", &lanes, &bw), 2,
                     "%s: %.60s", what, p);
        const char *next = strstr(p + 1, head);
        const char *stop = next && next < end ? next : end;
        int loads = 0;
        for (const char *l = strstr(p, "cnnc_vload(w + ("); l && l < stop; l = strstr(l + 1, "cnnc_vload(w + (")) {
            const char *close = strchr(l + strlen("cnnc_vload(w + ("), ')');
            int stride;
            long long off;
            cr_assert_eq(sscanf(close, ") * %d + %lld)", &stride, &off), 2, "%s: %.60s", what, l);
            cr_assert_eq(stride, bw, "%s: rows of %d floats in blocks of %d", what, stride, bw);
            cr_assert_lt(off, bw, "%s: a %d-lane sub-block reads another block (offset %lld)", what, lanes, off);
            loads++;
        }
        cr_assert_gt(loads, 0, "%s: no weight load after %.60s", what, p);
        tiles++;
    }
    return tiles;
}

/* A dense layer's sub-block reads whole rows of one packed block: `auto`
 * packs 64 outputs wide for every path, and the fixed targets NB*L.  With
 * auto's former 16-wide packing, AVX-512's four vectors read four blocks at
 * once, 16 streams, and CIFAR's fc1 ran 2.3x slower than the avx512
 * target's (docs/decisions/simd.md).  AVX2 and NEON take 8 vectors. */
Test(layout, dense_sub_blocks_read_whole_rows_of_one_block) {
    Model *m = checked_model(arena_printf("model t\ninput 4x4x16\nflatten\n"
                                          "fc: dense units=120 activation=tanh weights=%s bias=%s\n",
                                          R(256 * 120), R(120)));
    struct { const char *target, *tile; } cases[] = {
        {"avx512", "4 vectors of 16 outputs at a time; weights in blocks of 64"},
        {"avx2", "8 vectors of 8 outputs at a time; weights in blocks of 64"},
        {"neon", "8 vectors of 4 outputs at a time; weights in blocks of 32"},
        {"sse4", "4 vectors of 4 outputs at a time; weights in blocks of 16"},
        {"auto", "4 vectors of 16 outputs at a time; weights in blocks of 64"},
        {"auto", "8 vectors of 8 outputs at a time; weights in blocks of 64"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *c = generated_c(m, cases[i].target);
        const char *fc = strstr(c, "static CNNC_NOINLINE void t_fc_dense");
        cr_assert_not_null(fc, "%s", cases[i].target);
        const char *end = strstr(fc, "\n}\n");
        cr_assert(strstr(fc, cases[i].tile) && strstr(fc, cases[i].tile) < end, "%s: %s", cases[i].target,
                  cases[i].tile);
        cr_assert_gt(assert_dense_reads_one_block(fc, end, cases[i].target), 0, "%s", cases[i].target);
    }
}

/* Every Winograd block reads all of U.  A U larger than the scratch budget
 * comes from L3 once per block, so the block grows to hold every tile row
 * (conv_winograd.c: wino_plan).  This layer's U is 2.4 MB: under the plain
 * budget it was 2 blocks of 3 and 1 tile rows; ResNet's 14x14x256 layer
 * went 796 -> 496 us with the same change. */
Test(layout, winograd_reads_a_large_u_once) {
    Model *m = checked_model(arena_printf("model t\ninput 14x14x128\n"
                                          "c: conv2d filters=128 kernel=3 padding=1 weights=%s bias=%s\n",
                                          R(9 * 128 * 128), R(128)));
    const char *fma_targets[] = {"avx2", "avx512", "neon"};
    const char *one_block = "/* Winograd F(4x4,3x3): 4x4 tiles in blocks of 4 rows;";
    for (int i = 0; i < 3; i++)
        cr_assert(strstr(generated_c(m, fma_targets[i]), one_block), "%s", fma_targets[i]);
}
