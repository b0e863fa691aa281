/* test_e2e.c — generated C against PyTorch, on every fixture and target.
 *
 * Method: tests/fixtures/models/<name>/ holds model.cnn, its weights,
 * input.npy and expected.npy (PyTorch in float64, see gen_models.py).  Each
 * test below takes one way of producing code — a --target, --standalone —
 * runs cnnc on every fixture, compiles all of them with gcc and clang under
 * -std=c11 -Wall -Wextra -Wpedantic -Werror into one harness per compiler
 * (tests/e2e/harness.c), runs it model by model and compares with the SPEC
 * tolerance.  One test per target keeps the compile batched; every failing
 * fixture is reported by name, with the compiler log or the worst element.
 * An x86 target the CPU cannot run is built (by gcc) on the portable
 * emulation of its header in tests/emu instead, labelled "-emulated"; NEON
 * without the cross tools is skipped with the reason.  The reference
 * interpreter (`cnnc run`) is checked against the same fixtures, the
 * winograd_5x5 fixture's kernel choice is pinned in its generated C, and the
 * command line's promises (determinism, exit statuses, no partial output)
 * are checked directly. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "e2e/driver.h"
#include "e2e/npyio.h"

static char *fixture_file(const char *name, const char *file) {
    return format("%s/%s/%s", fixtures_dir(), name, file);
}

static int load_fixtures(char ***names) {
    int n = list_fixtures(names);
    cr_assert_gt(n, 30, "only %d fixtures in %s (run tests/fixtures/gen_models.py)", n,
                 fixtures_dir());
    return n;
}

/* Runs cnnc with `options` on every fixture into dir/NAME.c; returns the
 * names that produced code, reporting the others. */
static int generate_all(const char *dir, const char *options, char **all, int n, char **made) {
    int m = 0;
    for (int i = 0; i < n; i++) {
        char *model = fixture_file(all[i], "model.cnn"), *out = NULL;
        char *cmd = format("'%s' '%s' -o '%s/%s.c' %s", cnnc_path(), model, dir, all[i], options);
        int status = run_command(cmd, &out);
        cr_expect_eq(status, 0, "cnnc %s failed on %s (exit %d):\n%.3000s", options, all[i],
                     status, out);
        if (status == 0)
            made[m++] = all[i];
        free(out);
        free(cmd);
        free(model);
    }
    return m;
}

static void run_batch(const char *dir, const Toolchain *tc, char **names, int n) {
    bool *ok = calloc((size_t)n, sizeof(bool));
    char **logs;
    build_harness(dir, tc, names, n, ok, &logs);
    for (int i = 0; i < n; i++) {
        if (!ok[i]) {
            cr_expect_fail("[%s] %s: generated C does not build:\n%.3000s", tc->label, names[i],
                           logs[i] ? logs[i] : "");
            free(logs[i]);
            continue;
        }
        char *input = fixture_file(names[i], "input.npy");
        char *expected = fixture_file(names[i], "expected.npy"), *report = NULL;
        bool passed = run_harness(dir, tc, names[i], input, expected, &report);
        cr_expect(passed, "[%s] %s: %.2000s", tc->label, names[i], report);
        free(report);
        free(expected);
        free(input);
    }
    free(logs);
    free(ok);
}

/* Keeps the fixtures named in `only` (NULL-terminated); returns the count. */
static int keep_fixtures(char **all, int n, const char *const *only) {
    int m = 0;
    for (int i = 0; i < n; i++)
        for (const char *const *o = only; *o; o++)
            if (!strcmp(all[i], *o)) {
                all[m++] = all[i];
                break;
            }
    cr_assert_gt(m, 0, "none of the listed fixtures exists");
    return m;
}

/* Generates code with `options` for every fixture, or those in `only` if it
 * is not NULL, and checks it under every toolchain. */
static void verify_fixtures(const char *options, const Toolchain *tcs, int ntc, const char *const *only) {
    char **all;
    int n = load_fixtures(&all);
    if (only)
        n = keep_fixtures(all, n, only);
    char *dir = make_scratch_dir("e2e");
    cr_assert(dir, "cannot create a scratch directory");
    char **made = calloc((size_t)n, sizeof(char *));
    int m = generate_all(dir, options, all, n, made);
    for (int t = 0; t < ntc; t++)
        run_batch(dir, &tcs[t], made, m);
    remove_tree(dir);
    free(made);
    free(dir);
}

static void verify_target(const char *options, const Toolchain *tcs, int ntc) {
    verify_fixtures(options, tcs, ntc, NULL);
}

/* An x86 target the CPU lacks: the same generated code on the portable
 * emulation of its header (driver.h), built by gcc only.  Every fixture:
 * they compile in about 13 CPU-seconds at -O0 and run in milliseconds. */
static void verify_emulated(const char *target) {
    char *options = format("--target=%s", target), *label = format("gcc-%s-emulated", target);
    char *flags = emulated_flags("");
    Toolchain tc = {label, "gcc", flags, true, ""};
    verify_target(options, &tc, 1);
    free(flags);
    free(label);
    free(options);
}

Test(e2e, scalar, .timeout = 600) {
    Toolchain tcs[] = {{"gcc-scalar", "gcc", "-O2", true, ""},
                       {"clang-scalar", "clang", "-O2", true, ""}};
    verify_target("--target=scalar", tcs, 2);
}

Test(e2e, sse4, .timeout = 600) {
    if (!cpu_has("sse4.1")) {
        verify_emulated("sse4");
        return;
    }
    Toolchain tcs[] = {{"gcc-sse4", "gcc", "-O1 " X86_FLAGS_SSE4, true, ""},
                       {"clang-sse4", "clang", "-O1 " X86_FLAGS_SSE4, true, ""}};
    verify_target("--target=sse4", tcs, 2);
}

Test(e2e, avx2, .timeout = 600) {
    if (!cpu_has("avx2")) {
        verify_emulated("avx2");
        return;
    }
    Toolchain tcs[] = {{"gcc-avx2", "gcc", "-O1 " X86_FLAGS_AVX2, true, ""},
                       {"clang-avx2", "clang", "-O1 " X86_FLAGS_AVX2, true, ""}};
    verify_target("--target=avx2", tcs, 2);
}

Test(e2e, avx512, .timeout = 600) {
    if (!cpu_has("avx512")) {
        verify_emulated("avx512");
        return;
    }
    Toolchain tcs[] = {{"gcc-avx512", "gcc", "-O1 " X86_FLAGS_AVX512, true, ""},
                       {"clang-avx512", "clang", "-O1 " X86_FLAGS_AVX512, true, ""}};
    verify_target("--target=avx512", tcs, 2);
}

/* auto: the same file must work with the best path -march=native enables
 * and with the portable fallback when no ISA flag is given. */
Test(e2e, auto_native, .timeout = 600) {
    Toolchain tcs[] = {{"gcc-native", "gcc", "-O2 -march=native", true, ""},
                       {"clang-native", "clang", "-O1 -march=native", true, ""}};
    verify_target("--target=auto", tcs, 2);
}

Test(e2e, auto_portable, .timeout = 600) {
    Toolchain tcs[] = {{"gcc-plain", "gcc", "-O2", true, ""},
                       {"clang-plain", "clang", "-O1", true, ""}};
    verify_target("--target=auto", tcs, 2);
}

/* auto where the CPU has no AVX-512: CNNC_EMULATE_AVX512 makes the test
 * dispatcher tests/emu/cnnc_simd.h take the emulated 16-lane header, so the
 * generated `#if CNNC_LANES == 16` branches run.  A subset, for time: the
 * example networks (every conv, pool, dense and Winograd kernel family)
 * and the fixtures with odd channel counts and strides. */
static const char *const auto_emulated_fixtures[] = {
    "cifar", "lenet5", "mnist", "policy_net", "winograd_layers", "winograd_5x5", "image_filters",
    "conv_same_s2_odd", "conv_stride_dilation", "maxpool_forms", "global_pools", "act_conv_softmax",
    "dense_vector", NULL};

Test(e2e, auto_emulated_avx512, .timeout = 600) {
    if (cpu_has("avx512"))
        cr_skip_test("this CPU has AVX-512: auto_native runs the 16-lane paths for real");
    char *flags = emulated_flags("-DCNNC_EMULATE_AVX512");
    Toolchain tc = {"gcc-auto-avx512-emulated", "gcc", flags, true, ""};
    verify_fixtures("--target=auto", &tc, 1, auto_emulated_fixtures);
    free(flags);
}

/* --standalone: compiled without the runtime on the include path. */
Test(e2e, standalone, .timeout = 600) {
    Toolchain tcs[] = {{"gcc-standalone", "gcc", "-O1 -march=native", false, ""}};
    verify_target("--standalone", tcs, 1);
}

Test(e2e, neon, .timeout = 600) {
    Toolchain tcs[] = {{"aarch64-neon", "aarch64-linux-gnu-gcc", "-O1", true, "qemu-aarch64"}};
    if (!toolchain_works(&tcs[0]))
        cr_skip_test("aarch64-linux-gnu-gcc (static libc) or qemu-aarch64 is not installed");
    verify_target("--target=neon", tcs, 1);
}

/* ------------------------------------------------- the kernel choice */

/* The winograd_5x5 fixture exists to run 5x5 Winograd layers end to end;
 * this pins the variant the cost model gives each of its 5x5 layers
 * (gen_models.py says why these shapes), so that a cost-model change cannot
 * silently turn it back into a test of the direct kernel. */
static const struct { const char *layer, *variant; } winograd_5x5_layers[] = {
    {"conv1", "F(4x4,5x5)"}, {"conv2", "F(4x4,5x5)"}, {"conv3", "F(2x2,5x5)"}};

static int count_between(const char *from, const char *to, const char *what) {
    int n = 0;
    for (const char *p = strstr(from, what); p && (!to || p < to); p = strstr(p + 1, what))
        n++;
    return n;
}

/* The "Winograd VARIANT" comments (one per emitted body) in the generated
 * function of `layer`, whose code runs to the next function; -1 if the
 * layer has no function. */
static int winograd_bodies(const char *c, const char *layer, const char *variant) {
    char *head = format("\nstatic CNNC_NOINLINE void winograd_5x5_%s_conv5x5_", layer);
    char *comment = format("/* Winograd %s:", variant);
    const char *start = strstr(c, head);
    int n = start ? count_between(start, strstr(start + 1, "\nstatic CNNC_NOINLINE void "), comment) : -1;
    free(comment);
    free(head);
    return n;
}

/* `bodies`: Winograd bodies per layer (auto: one per lane count, scalar: none). */
static void expect_winograd_5x5_variants(const char *dir, const char *target, int bodies) {
    char *model = fixture_file("winograd_5x5", "model.cnn"), *path = format("%s/%s.c", dir, target), *out = NULL;
    char *cmd = format("'%s' '%s' --target=%s -o '%s'", cnnc_path(), model, target, path);
    int status = run_command(cmd, &out);
    cr_assert_eq(status, 0, "cnnc --target=%s on winograd_5x5 failed (exit %d):\n%.3000s", target, status, out);
    long len;
    char *c = read_text(path, &len);
    cr_assert_not_null(c, "cannot read %s", path);
    int layers = (int)(sizeof winograd_5x5_layers / sizeof winograd_5x5_layers[0]);
    for (int i = 0; i < layers; i++) {
        const char *layer = winograd_5x5_layers[i].layer, *variant = winograd_5x5_layers[i].variant;
        int n = winograd_bodies(c, layer, variant);
        cr_expect_eq(n, bodies, "--target=%s: %s has %d Winograd %s bodies, expected %d", target, layer, n,
                     variant, bodies);
    }
    int all = count_between(c, NULL, "/* Winograd F(");
    cr_expect_eq(all, layers * bodies, "--target=%s: %d Winograd bodies in all, expected %d", target, all,
                 layers * bodies);
    free(c);
    free(out);
    free(cmd);
    free(path);
    free(model);
}

Test(e2e, winograd_5x5_kernel_choice, .timeout = 120) {
    static const char *const simd[] = {"sse4", "avx2", "avx512", "neon"};
    char *dir = make_scratch_dir("wino5");
    cr_assert(dir, "cannot create a scratch directory");
    for (int i = 0; i < 4; i++)
        expect_winograd_5x5_variants(dir, simd[i], 1);
    expect_winograd_5x5_variants(dir, "auto", 4);
    expect_winograd_5x5_variants(dir, "scalar", 0);
    remove_tree(dir);
    free(dir);
}

/* `cnnc run` writes OUT.npy with the shape of the caller's buffer. */
static void check_interpreter(const char *dir, const char *name) {
    char *model = fixture_file(name, "model.cnn"), *input = fixture_file(name, "input.npy");
    char *expected_path = fixture_file(name, "expected.npy");
    char *out_path = format("%s/%s.npy", dir, name), *out = NULL;
    char *cmd = format("'%s' run '%s' --input '%s' --output '%s'", cnnc_path(), model, input, out_path);
    int status = run_command(cmd, &out);
    NpyArray got, expected;
    char err[256], msg[256];
    if (status != 0 || !npy_read(out_path, &got, err, sizeof err)) {
        cr_expect_fail("cnnc run on %s: exit %d:\n%.2000s", name, status, out);
    } else {
        cr_assert(npy_read(expected_path, &expected, err, sizeof err), "%s", err);
        bool same_shape = got.ndims == expected.ndims &&
                          !memcmp(got.dims, expected.dims, sizeof(long) * (size_t)got.ndims);
        cr_expect(same_shape, "cnnc run on %s: output shape differs from expected.npy", name);
        if (same_shape)
            cr_expect(compare_arrays(got.data, expected.data, got.count, msg, sizeof msg),
                      "cnnc run on %s: %s", name, msg);
        npy_free(&got);
        npy_free(&expected);
    }
    free(out);
    free(cmd);
    free(out_path);
    free(expected_path);
    free(input);
    free(model);
}

Test(e2e, interpreter, .timeout = 120) {
    char **all;
    int n = load_fixtures(&all);
    char *dir = make_scratch_dir("run");
    for (int i = 0; i < n; i++)
        check_interpreter(dir, all[i]);
    remove_tree(dir);
    free(dir);
}

/* ------------------------------------------------------------ the CLI */

static bool same_file(const char *a, const char *b) {
    long la, lb;
    char *ta = read_text(a, &la), *tb = read_text(b, &lb);
    bool same = ta && tb && la == lb && !memcmp(ta, tb, (size_t)la);
    free(ta);
    free(tb);
    return same;
}

/* Same input, byte-identical output: two runs in two directories, so the
 * file names (and the #include of the header) are the same. */
Test(cli, output_is_deterministic, .timeout = 60) {
    static const char *const models[] = {"mnist", "policy_net", "conv_inline_torch"};
    static const char *const targets[] = {"auto", "avx2", "neon"};
    char *dir = make_scratch_dir("det");
    for (int i = 0; i < 3; i++)
        for (int run = 0; run < 2; run++) {
            char *model = fixture_file(models[i], "model.cnn");
            char *cmd = format("mkdir -p '%s/%d' && '%s' '%s' --target=%s -o '%s/%d/m.c'", dir, run,
                               cnnc_path(), model, targets[i], dir, run);
            cr_expect_eq(run_command(cmd, NULL), 0, "%s", cmd);
            free(cmd);
            free(model);
        }
    char *c0 = format("%s/0/m.c", dir), *c1 = format("%s/1/m.c", dir);
    char *h0 = format("%s/0/m.h", dir), *h1 = format("%s/1/m.h", dir);
    cr_expect(same_file(c0, c1), "two runs of cnnc wrote different .c files");
    cr_expect(same_file(h0, h1), "two runs of cnnc wrote different .h files");
    remove_tree(dir);
    free(dir);
}

/* Runs cnnc on MODEL_TEXT in a fresh directory; expects exit 1 and that the
 * directory afterwards holds nothing but the model (no .c, .h, temporaries). */
static void expect_model_error(const char *model_text, const char *what) {
    char *dir = make_scratch_dir("bad");
    char *model = format("%s/bad.cnn", dir), *out = NULL;
    write_text(model, model_text);
    char *cmd = format("cd '%s' && '%s' bad.cnn -o out.c; s=$?; ls; exit $s", dir, cnnc_path());
    int status = run_command(cmd, &out);
    cr_expect_eq(status, 1, "%s: exit %d, expected 1:\n%s", what, status, out);
    cr_expect(strstr(out, "bad.cnn:") != NULL, "%s: no FILE:LINE:COL diagnostic:\n%s", what, out);
    cr_expect(!strstr(out, "out.c") && !strstr(out, "out.h") && !strstr(out, ".tmp"),
              "%s: output files left behind:\n%s", what, out);
    free(cmd);
    free(out);
    free(model);
    remove_tree(dir);
    free(dir);
}

Test(cli, model_errors_exit_1_without_output, .timeout = 60) {
    expect_model_error("model bad\ninput 8x8x1\nconv2d filters=2 kernel=9 weights=[1]\n",
                       "output size below 1");
    expect_model_error("model bad\ninput 8x8x1\nconv2d filters=1 kernel=1 weights=[1 2] bias=false\n",
                       "wrong element count");
    expect_model_error("model bad\ninput 8x8x1\nconv2d filters=1 kernel=1 weights=\"missing.npy\"\n",
                       "missing weights file");
    expect_model_error("model bad\ninput 4\ndense units=2 weights=[1 2 3 4 5 6 7 8] bias=false\n"
                       "dense units= = 3\n",
                       "syntax error after a good layer");
}

Test(cli, missing_model_file_exits_1, .timeout = 30) {
    char *cmd = format("'%s' /nonexistent/model.cnn -o /tmp/never-written.c", cnnc_path());
    cr_expect_eq(run_command(cmd, NULL), 1);
    cr_expect(!file_exists("/tmp/never-written.c"));
    free(cmd);
}

Test(cli, bad_command_line_exits_2, .timeout = 30) {
    const char *cnnc = cnnc_path();
    char *model = fixture_file("conv_valid", "model.cnn");
    char *cmds[] = {
        format("'%s'", cnnc),                                   /* no model */
        format("'%s' '%s' --frobnicate", cnnc, model),          /* unknown option */
        format("'%s' '%s' --target=sparc", cnnc, model),        /* unknown target */
        format("'%s' '%s' --target", cnnc, model),              /* missing value */
        format("'%s' '%s' '%s'", cnnc, model, model),           /* two models */
        format("'%s' run '%s'", cnnc, model),                   /* run without --input */
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        cr_expect_eq(run_command(cmds[i], NULL), 2, "expected exit 2: %s", cmds[i]);
        free(cmds[i]);
    }
    free(model);
}

Test(cli, run_with_wrong_input_shape_exits_1, .timeout = 30) {
    char *model = fixture_file("mnist", "model.cnn");
    char *wrong = fixture_file("cifar", "input.npy");
    char *cmd = format("'%s' run '%s' --input '%s'", cnnc_path(), model, wrong);
    cr_expect_eq(run_command(cmd, NULL), 1, "%s", cmd);
    free(cmd);
    free(wrong);
    free(model);
}

/* Two models whose layers have the same names, generated into one directory
 * and #included into one translation unit: every file-scope name (kernel
 * functions, weights, workspace, runtime helpers) must be distinct or
 * guarded.  Input k at cell k: the 3x3 window sums peak at 90, plus the bias. */
static const char two_models_main[] =
    "#include \"a.c\"\n#include \"b.c\"\n#include <stdio.h>\n"
    "int main(void) {\n"
    "    float in[16], out_a[A_OUTPUT_SIZE], out_b[B_OUTPUT_SIZE];\n"
    "    for (int k = 0; k < 16; k++) in[k] = (float)k;\n"
    "    a_infer(in, out_a);\n    b_infer(in, out_b);\n"
    "    printf(\"%g %g\\n\", out_a[0], out_b[0]);\n    return 0;\n}\n";

static void expect_two_models_in_one_unit(const char *options, const char *cc) {
    char *dir = make_scratch_dir("two"), *out = NULL;
    const char *model = "input 4x4x1\nconv1: conv2d filters=1 kernel=3 weights=[1 1 1 1 1 1 1 1 1] bias=[%s]\n"
                        "pool1: maxpool size=2\nflatten\n";
    static const char *const names[] = {"a", "b"}, *const biases[] = {"0.5", "1"};
    for (int i = 0; i < 2; i++) {
        char *layers = format(model, biases[i]), *path = format("%s/%s.cnn", dir, names[i]);
        char *text = format("model %s\n%s", names[i], layers);
        write_text(path, text);
        free(text);
        free(path);
        free(layers);
    }
    char *main_path = format("%s/main.c", dir);
    write_text(main_path, two_models_main);
    free(main_path);
    char *cmd = format("cd '%s' && '%s' a.cnn %s && '%s' b.cnn %s && %s -std=c11 -Wall -Wextra -Wpedantic "
                       "-Werror -O1 -march=native -I '%s' main.c -lm -o main && ./main",
                       dir, cnnc_path(), options, cnnc_path(), options, cc, runtime_dir());
    int status = run_command(cmd, &out);
    cr_expect_eq(status, 0, "%s %s: exit %d:\n%.3000s", cc, options, status, out);
    cr_expect_str_eq(out, "90.5 91\n", "%s %s", cc, options);
    free(out);
    free(cmd);
    remove_tree(dir);
    free(dir);
}

Test(cli, two_models_share_one_translation_unit, .timeout = 120) {
    static const char *const options[] = {"--target=auto", "--target=scalar", "--standalone"};
    for (int i = 0; i < 3; i++) {
        expect_two_models_in_one_unit(options[i], "gcc");
        expect_two_models_in_one_unit(options[i], "clang");
    }
}

/* A NaN anywhere in a max window makes the max NaN, as torch.nn.MaxPool2d
 * and a global max do; the generated kernels must agree with the reference
 * interpreter (test_interp.c) on every target and under -O2. */
static const char nan_pool_main[] =
    "#include \"m.h\"\n#include <math.h>\n#include <stdio.h>\n"
    "int main(void) {\n"
    "    float in[M_INPUT_SIZE], out[M_OUTPUT_SIZE];\n"
    "    for (int k = 0; k < M_INPUT_SIZE; k++) in[k] = (float)k;\n"
    "    in[5 * 2] = NAN;   /* cell (1,1) channel 0: last of its 2x2 window */\n"
    "    in[6 * 2 + 1] = NAN;   /* cell (1,2) channel 1 */\n"
    "    m_infer(in, out);\n"
    "    for (int k = 0; k < M_OUTPUT_SIZE; k++) printf(\"%g \", isnan(out[k]) ? NAN : out[k]);\n"
    "    return 0;\n}\n";

static void expect_nan_propagates(const char *dir, const char *model, const char *options, const char *want) {
    char *out = NULL;
    char *path = format("%s/m.cnn", dir);
    write_text(path, model);
    char *cmd = format("cd '%s' && '%s' m.cnn -o m.c %s && gcc -std=c11 -Wall -Wextra -Wpedantic -Werror -O2 "
                       "-march=native -I '%s' main.c m.c -lm -o main && ./main", dir, cnnc_path(), options,
                       runtime_dir());
    int status = run_command(cmd, &out);
    cr_expect_eq(status, 0, "%s: exit %d:\n%.3000s", options, status, out);
    cr_expect_str_eq(out, want, "%s on\n%s", options, model);
    free(out);
    free(cmd);
    free(path);
}

Test(cli, max_pools_propagate_nan, .timeout = 120) {
    static const char *const options[] = {"--target=scalar", "--target=auto"};
    char *dir = make_scratch_dir("nan"), *main_path = format("%s/main.c", dir);
    write_text(main_path, nan_pool_main);
    for (int i = 0; i < 2; i++) {
        /* What torch.nn.MaxPool2d gives on this input (checked with
         * PyTorch 2): NaN in every window that holds one. */
        expect_nan_propagates(dir, "model m\ninput 4x4x2\nmaxpool size=2\nflatten\n", options[i],
                              "nan 11 14 nan 26 27 30 31 ");
        expect_nan_propagates(dir, "model m\ninput 4x4x2\nglobal_maxpool\n", options[i], "nan nan ");
        expect_nan_propagates(dir, "model m\ninput 4x4x2\nmaxpool size=3 stride=2 padding=1\nflatten\n",
                              options[i], "nan 11 nan nan nan 27 nan nan ");
    }
    remove_tree(dir);
    free(main_path);
    free(dir);
}

/* SPEC §2: `-o X.c` writes X.c and X.h, `-o X` writes X and X.h, no -o
 * writes STEM.c and STEM.h in the current directory; each .c includes its
 * header by base name, so it compiles where it was written. */
Test(cli, output_file_names, .timeout = 60) {
    /* options, the .c written, the header written, the header as included */
    static const char *const cases[][4] = {{"-o sub/x.c", "sub/x.c", "sub/x.h", "x.h"},
                                           {"-o sub/y", "sub/y", "sub/y.h", "y.h"},
                                           {"", "two-layer.c", "two-layer.h", "two-layer.h"}};
    char *dir = make_scratch_dir("names");
    char *model = format("%s/two-layer.cnn", dir);
    write_text(model, "model m\ninput 2\ndense units=1 weights=[1 2] bias=false\n");
    for (int i = 0; i < 3; i++) {
        const char *const *c = cases[i];
        char *out = NULL;
        char *cmd = format("cd '%s' && mkdir -p sub && '%s' two-layer.cnn %s && test -f %s && "
                           "grep -q '#include \"%s\"' %s && gcc -std=c11 -Wall -Wextra -Wpedantic -Werror "
                           "-x c -c %s -I '%s' -o /dev/null", dir, cnnc_path(), c[0], c[2], c[3], c[1], c[1],
                           runtime_dir());
        cr_expect_eq(run_command(cmd, &out), 0, "%s:\n%s", cmd, out);
        free(out);
        free(cmd);
    }
    free(model);
    remove_tree(dir);
    free(dir);
}

Test(cli, run_with_missing_input_exits_1, .timeout = 30) {
    char *model = fixture_file("mnist", "model.cnn");
    char *cmds[] = {format("'%s' run '%s' --input /nonexistent/in.npy", cnnc_path(), model),
                    format("'%s' run '%s' --input '%s'", cnnc_path(), model, model)};
    for (int i = 0; i < 2; i++) {
        cr_expect_eq(run_command(cmds[i], NULL), 1, "%s", cmds[i]);
        free(cmds[i]);
    }
    free(model);
}
