/* test_nan.c — NaN and ±inf through the activations of generated code, on
 * every target, against torch.
 *
 * Method: small models (inline weights) put a chosen pre-activation in front
 * of each activation four ways — an activation layer, fused into a 1x1
 * conv with weights 1 (19 filters, and 5 for the few-filter kernels), fused
 * into a dense layer with weights 1 — plus fused and layer softmax.  19
 * filters or units give full vectors and a partial last one on every lane
 * count.  cnnc writes them for one --target, and
 * tests/e2e/nan_main.c, compiled with them into one program under
 * -std=c11 -Wall -Wextra -Wpedantic -Werror, feeds NaN, ±inf, -0 and
 * ordinary values and compares every output with torch's (its comments say
 * which).  An x86 target the CPU lacks runs on the portable emulation of
 * its header (tests/emu) instead; NEON is skipped without
 * aarch64-linux-gnu-gcc and qemu-aarch64, with the reason. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "e2e/driver.h"

static const char *const acts[5] = {"relu", "relu6", "leaky_relu", "sigmoid", "tanh"};

static const char ones19[] = "[1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1]";

/* Writes dir/NAME.cnn with `body` after the model line and runs cnnc on it. */
static void generate(const char *dir, const char *name, const char *body, const char *options) {
    char *path = format("%s/%s.cnn", dir, name), *text = format("model %s\n%s", name, body), *out = NULL;
    write_text(path, text);
    char *cmd = format("cd '%s' && '%s' %s.cnn -o %s.c %s", dir, cnnc_path(), name, name, options);
    int status = run_command(cmd, &out);
    cr_assert_eq(status, 0, "%s: exit %d:\n%.3000s", cmd, status, out);
    free(out);
    free(cmd);
    free(text);
    free(path);
}

/* Every model, and models.inc listing them for nan_main.c. */
static void generate_models(const char *dir, const char *options) {
    char *list = format("#define NAN_SWEEP_MODELS(X)"), *includes = format("%s", "");
    for (int a = 0; a < 6; a++) {
        const char *act = a < 5 ? acts[a] : "softmax";
        const char *alpha = a == 2 ? " alpha=0.25" : "";
        static const char *const forms[4] = {"", "conv_", "dense_", "conv5_"};
        for (int f = a < 5 ? 0 : 1; f < (a < 5 ? 4 : 3); f++) {
            char *name = format("nan_%s%s", forms[f], act), *body;
            if (f == 0)
                body = format("input 11\n%s%s\n", act, alpha);
            else if (a == 5)
                body = format(f == 1 ? "input 1x2x1\nconv2d filters=3 kernel=1 %s activation=softmax\n"
                                     : "input 1\ndense units=3 %s activation=softmax\n",
                              "weights=[1 1 1] bias=[1 0 2]");
            else if (f == 3)
                body = format("input 1x11x1\nconv2d filters=5 kernel=1 weights=[1 1 1 1 1] bias=false "
                              "activation=%s%s\n", act, alpha);
            else
                body = format(f == 1 ? "input 1x11x1\nconv2d filters=19 kernel=1 weights=%s bias=false "
                                       "activation=%s%s\n"
                                     : "input 1\ndense units=19 weights=%s bias=false activation=%s%s\n",
                              ones19, act, alpha);
            generate(dir, name, body, options);
            char *upper = format("%s", name);
            for (char *p = upper; *p; p++)
                *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
            char *l = format("%s X(%s, %s, %d)", list, name, upper, a), *i = format("%s#include \"%s.c\"\n", includes, name);
            free(list);
            free(includes);
            list = l;
            includes = i;
            free(upper);
            free(body);
            free(name);
        }
    }
    generate(dir, "nan_softmax_image", "input 1x3x3\nsoftmax\n", options);
    generate(dir, "nan_softmax_vector", "input 3\nsoftmax\n", options);
    char *inc = format("%s#include \"nan_softmax_image.c\"\n#include \"nan_softmax_vector.c\"\n%s\n", includes, list);
    char *path = format("%s/models.inc", dir);
    write_text(path, inc);
    free(path);
    free(inc);
    free(includes);
    free(list);
}

/* Compiles nan_main.c with the models in dir under tc and runs it. */
static void check_toolchain(const char *dir, const Toolchain *tc) {
    char *out = NULL;
    char *cmd = format("cd '%s' && %s -std=c11 -Wall -Wextra -Wpedantic -Werror %s%s -I . -I '%s' '%s/nan_main.c' "
                       "-lm -o %s && %s ./%s", dir, tc->cc, tc->flags, strstr(tc->cc, "aarch64") ? " -static" : "",
                       runtime_dir(), e2e_dir(), tc->label, tc->runner, tc->label);
    int status = run_command(cmd, &out);
    cr_expect(status == 0 && !strcmp(out, "ok\n"), "[%s] exit %d:\n%.4000s", tc->label, status, out);
    free(out);
    free(cmd);
}

static void verify_target(const char *options, const Toolchain *tcs, int ntc) {
    char *dir = make_scratch_dir("nan");
    cr_assert(dir, "cannot create a scratch directory");
    generate_models(dir, options);
    for (int t = 0; t < ntc; t++)
        check_toolchain(dir, &tcs[t]);
    remove_tree(dir);
    free(dir);
}

/* Code for --target=TARGET built by gcc and by clang with `flags`. */
static void verify_gcc_clang(const char *target, const char *flags) {
    char *options = format("--target=%s", target);
    char *gcc = format("gcc-%s", target), *clang = format("clang-%s", target);
    Toolchain tcs[] = {{gcc, "gcc", flags, true, ""}, {clang, "clang", flags, true, ""}};
    verify_target(options, tcs, 2);
    free(clang);
    free(gcc);
    free(options);
}

/* An x86 target the CPU lacks: the same code on the portable emulation of
 * its header (driver.h), built by gcc and clang, labelled "-emulated". */
static void verify_emulated(const char *target) {
    char *options = format("--target=%s", target), *flags = emulated_flags("");
    char *gcc = format("gcc-%s-emulated", target), *clang = format("clang-%s-emulated", target);
    Toolchain tcs[] = {{gcc, "gcc", flags, true, ""}, {clang, "clang", flags, true, ""}};
    verify_target(options, tcs, 2);
    free(clang);
    free(gcc);
    free(flags);
    free(options);
}

Test(nan, scalar, .timeout = 300) {
    verify_gcc_clang("scalar", "-O2");
}

Test(nan, sse4, .timeout = 300) {
    if (!cpu_has("sse4.1")) {
        verify_emulated("sse4");
        return;
    }
    verify_gcc_clang("sse4", "-O2 " X86_FLAGS_SSE4);
}

Test(nan, avx2, .timeout = 300) {
    if (!cpu_has("avx2")) {
        verify_emulated("avx2");
        return;
    }
    verify_gcc_clang("avx2", "-O2 " X86_FLAGS_AVX2);
}

Test(nan, avx512, .timeout = 300) {
    if (!cpu_has("avx512")) {
        verify_emulated("avx512");
        return;
    }
    verify_gcc_clang("avx512", "-O2 " X86_FLAGS_AVX512);
}

/* auto: the best path -march=native enables, plain x86-64 (SSE2) and the
 * forced scalar reference of the SIMD vocabulary (cnnc_simd_scalar.h); on
 * a CPU without AVX-512, also the 16-lane path on the emulated header
 * (CNNC_EMULATE_AVX512 makes tests/emu/cnnc_simd.h take it). */
Test(nan, auto, .timeout = 300) {
    char *emulated = emulated_flags("-DCNNC_EMULATE_AVX512");
    Toolchain tcs[] = {{"gcc-native", "gcc", "-O2 -march=native", true, ""},
                       {"clang-native", "clang", "-O2 -march=native", true, ""},
                       {"gcc-plain", "gcc", "-O2", true, ""},
                       {"gcc-forced-scalar", "gcc", "-O2 -DCNNC_SIMD_FORCE_SCALAR", true, ""},
                       {"gcc-auto-avx512-emulated", "gcc", emulated, true, ""}};
    verify_target("--target=auto", tcs, cpu_has("avx512") ? 4 : 5);
    free(emulated);
}

Test(nan, neon, .timeout = 300) {
    Toolchain tc = {"aarch64-neon", "aarch64-linux-gnu-gcc", "-O2", true, "qemu-aarch64"};
    if (!toolchain_works(&tc))
        cr_skip_test("aarch64-linux-gnu-gcc (static libc) or qemu-aarch64 is not installed");
    verify_target("--target=neon", &tc, 1);
    tc.label = "aarch64-auto";
    verify_target("--target=auto", &tc, 1);
}
