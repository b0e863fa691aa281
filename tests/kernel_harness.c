/* kernel_harness.c — write, compile, run and check a suite of hand-made
 * kernel ops on one target (see kernel_harness.h for the contract).
 *
 * A kernel reads a large array as NAME.f (a union member, as emit_c.c
 * declares it) and a small one as NAME, so the arrays are written the same
 * way.  The cases are built once per target and kept for the check.
 */
#include "kernel_harness.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RUNTIME_DIR "../runtime"
/* The portable stand-ins of the x86 headers (tests/emu/cnnc_simd_emu.h),
 * ahead of the runtime on the include path; -Wno-psabi: see there.  -O0:
 * with 16-lane vectors split over SSE2 registers, test_winograd's program
 * takes 58 CPU-s to compile at -O1 and 24 at -O0 (test_simd's 20 and 7),
 * and runs in a fraction of a second either way. */
#define EMULATED_FLAGS "-O0 -Wno-psabi -Iemu"
#define WORK_DIR "/tmp"

static float *random_floats(long long n, unsigned seed) {
    float *v = arena_alloc((size_t)n * sizeof *v);
    for (long long i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        v[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
    return v;
}

KernelData kernel_random_data(int k, long long inputs, long long weights, int outputs) {
    return (KernelData){random_floats(inputs, 11u + (unsigned)k), random_floats(weights, 23u + (unsigned)k),
                        random_floats(outputs, 37u + (unsigned)k)};
}

double kernel_act_ref(ActKind act, double x) {
    switch (act) {
    case ACT_RELU: return x < 0 ? 0 : x;   /* NaN stays NaN */
    case ACT_RELU6: return x < 0 ? 0 : x > 6 ? 6 : x;
    case ACT_LEAKY_RELU: return x > 0 ? x : 0.01 * x;
    case ACT_SIGMOID: return 1 / (1 + exp(-x));
    case ACT_TANH: return tanh(x);
    default: return x;
    }
}

static bool have_command(const char *name) {
    return system(arena_printf("command -v %s >/dev/null 2>&1", name)) == 0;
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

/* caseK's arrays, input, scratch if the kernel needs one, and function. */
static void write_case(FILE *f, int k, const KernelCase *kc) {
    const IrOp *op = &kc->op;
    for (int i = 0; i < op->narrays; i++)
        write_array(f, op, i);
    write_floats(f, arena_printf("static const float case%d_input", k), kc->input, shape_count(op->in_shape));
    if (op->scratch_floats > 0) {
        fprintf(f, "static _Alignas(64) float case%d_scratch[%lld];\n", k, op->scratch_floats);
        fprintf(f, "static void case%d(const float *restrict in, float *restrict out, float *restrict scratch) {\n",
                k);
    } else {
        fprintf(f, "static void case%d(const float *restrict in, float *restrict out) {\n", k);
    }
    Emitter e = {.out = f, .indent = 1, .line_start = true};
    op->kernel->emit_body(&e, op);
    fprintf(f, "}\n\n");
}

static void write_main(FILE *f, const KernelSuite *s, const KernelCase *cases) {
    fprintf(f, "static float out[%lld];\n\nint main(void) {\n", s->out_floats);
    fprintf(f, "    fputs(CNNC_ISA \"\\n\", stdout);\n");
    for (int k = 0; k < s->ncases; k++) {
        if (cases[k].op.scratch_floats > 0)
            fprintf(f, "    case%d(case%d_input, out, case%d_scratch);\n", k, k, k);
        else
            fprintf(f, "    case%d(case%d_input, out);\n", k, k);
        fprintf(f, "    fwrite(out, sizeof(float), %lld, stdout);\n", shape_count(cases[k].op.out_shape));
    }
    fprintf(f, "    return 0;\n}\n");
}

/* One program running every case and writing all outputs to stdout. */
static const char *write_program(const KernelSuite *s, const KernelCase *cases, const Target *t, const char *tag) {
    const char *path = arena_printf(WORK_DIR "/cnnc_test_%s_%s_%d.c", s->name, tag, (int)getpid());
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "#include <math.h>\n#include <stdio.h>\n#include \"%s\"\n\n", t->header);
    for (int k = 0; k < s->ncases; k++)
        write_case(f, k, &cases[k]);
    write_main(f, s, cases);
    fclose(f);
    return path;
}

static void check_value(const KernelSuite *s, const char *tag, int k, int oy, int ox, int f, double have,
                        double want) {
    if (s->nan_equal && (isnan(want) || isnan(have)))
        cr_assert(isnan(want) && isnan(have), "%s: case %d at (%d,%d,%d): got %.9g, want %.9g", tag, k, oy, ox, f,
                  have, want);
    else
        cr_assert(fabs(have - want) <= 1e-4 * fmax(1.0, fabs(want)), "%s: case %d at (%d,%d,%d): got %.9g, want %.9g",
                  tag, k, oy, ox, f, have, want);
}

static void check_case(FILE *run, const KernelSuite *s, const char *tag, int k, const KernelCase *kc) {
    Shape out = kc->op.out_shape;
    size_t n = (size_t)shape_count(out);
    float *got = arena_alloc(n * sizeof *got);
    cr_assert_eq(fread(got, sizeof *got, n, run), n, "%s: case %d: short output", tag, k);
    for (int oy = 0; oy < out.h; oy++)
        for (int ox = 0; ox < out.w; ox++)
            for (int f = 0; f < out.c; f++)
                check_value(s, tag, k, oy, ox, f, got[((long long)oy * out.w + ox) * out.c + f],
                            s->reference(k, kc->data, oy, ox, f));
}

/* The program first prints the ISA the runtime header took: the flags must
 * have selected the path under test. */
static void check_isa(FILE *run, const char *tag, const char *isa) {
    char line[32] = "";
    cr_assert_not_null(fgets(line, sizeof line, run), "%s: no output", tag);
    line[strcspn(line, "\n")] = '\0';
    cr_assert_str_eq(line, isa, "%s: compiled for %s, expected %s", tag, line, isa);
}

void kernel_run_target(const KernelSuite *s, const char *name, const char *isa, const char *tag, const char *cc,
                       const char *flags, const char *runner) {
    const Target *t = target_by_name(name);
    cr_assert_not_null(t);
    KernelCase *cases = arena_alloc((size_t)s->ncases * sizeof *cases);
    for (int k = 0; k < s->ncases; k++)
        cases[k] = s->build(k, t);
    const char *src = write_program(s, cases, t, tag);
    const char *exe = arena_printf(WORK_DIR "/cnnc_test_%s_%s_%d", s->name, tag, (int)getpid());
    const char *cmd = arena_printf("%s -std=c11 -O2 -Wall -Wextra -Wpedantic -Werror %s -I" RUNTIME_DIR
                                   " %s -o %s -lm", cc, flags, src, exe);
    cr_assert_eq(system(cmd), 0, "%s: compile failed: %s", tag, cmd);
    FILE *run = popen(arena_printf("%s %s", runner, exe), "r");
    cr_assert_not_null(run);
    check_isa(run, tag, isa);
    for (int k = 0; k < s->ncases; k++)
        check_case(run, s, tag, k, &cases[k]);
    cr_assert_eq(pclose(run), 0, "%s: program failed", tag);
    remove(src);
    remove(exe);
}

/* A target the CPU lacks runs on the emulated header instead of being
 * skipped, built with no ISA flag: "avx512-emulated" in every message. */
static void run_emulated(const KernelSuite *s, const char *isa) {
    kernel_run_target(s, isa, isa, arena_printf("%s-emulated", isa), "cc", EMULATED_FLAGS, "");
}

void kernel_test_sse4(const KernelSuite *s) {
    if (!__builtin_cpu_supports("sse4.1"))
        run_emulated(s, "sse4");
    else
        kernel_run_target(s, "sse4", "sse4", "sse4", "cc", "-msse4.1", "");
}

void kernel_test_avx2(const KernelSuite *s) {
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
        run_emulated(s, "avx2");
    else
        kernel_run_target(s, "avx2", "avx2", "avx2", "cc", "-mavx2 -mfma", "");
}

void kernel_test_avx512(const KernelSuite *s, bool with_clang) {
    if (!__builtin_cpu_supports("avx512f")) {
        run_emulated(s, "avx512");
        return;
    }
    kernel_run_target(s, "avx512", "avx512", "avx512", "cc", "-mavx512f", "");
    if (with_clang)
        kernel_run_target(s, "avx512", "avx512", "avx512_clang", "clang", "-mavx512f", "");
}

/* auto on an emulated ISA is left to test_nan and test_e2e: the 16-lane
 * branch of auto code is the avx512 target's kernel, which the emulated
 * avx512 run above checks, and one more such compile costs 20 CPU-s. */
void kernel_test_auto(const KernelSuite *s, const char *sse2_cc) {
    kernel_run_target(s, "auto", "scalar", "auto_scalar", "cc", "-DCNNC_SIMD_FORCE_SCALAR", "");
    kernel_run_target(s, "auto", "sse2", "auto_sse2", sse2_cc, "", "");
    kernel_run_target(s, "auto", "sse4", "auto_sse4", "cc", "-msse4.1", "");
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        kernel_run_target(s, "auto", "avx2", "auto_avx2", "clang", "-mavx2 -mfma", "");
    if (__builtin_cpu_supports("avx512f"))
        kernel_run_target(s, "auto", "avx512", "auto_avx512", "cc", "-mavx512f", "");
}

/* Builds e2e/vocab_main.c on `isa`'s header with cc and flags, runs it
 * into a text file and returns that file's path. */
static const char *vocab_output(const char *isa, const char *tag, const char *cc, const char *flags) {
    const char *exe = arena_printf(WORK_DIR "/cnnc_vocab_%s_%d", tag, (int)getpid());
    const char *out = arena_printf("%s.txt", exe);
    const char *cmd = arena_printf("%s -std=c11 -O2 -Wall -Wextra -Wpedantic -Werror %s -I" RUNTIME_DIR
                                   " '-DCNNC_VOCAB_HEADER=\"cnnc_simd_%s.h\"' e2e/vocab_main.c -o %s -lm && %s > %s",
                                   cc, flags, isa, exe, exe, out);
    cr_assert_eq(system(cmd), 0, "%s: build or run failed: %s", tag, cmd);
    remove(exe);
    return out;
}

/* Line by line; a difference names the helper (the last line that is not
 * a number) and both values. */
static void expect_same_lines(const char *tag, const char *native, const char *emulated) {
    FILE *a = fopen(native, "r"), *b = fopen(emulated, "r");
    cr_assert(a && b, "%s: cannot read %s or %s", tag, native, emulated);
    char la[64], lb[64], helper[64] = "?";
    for (int line = 1;; line++) {
        bool more_a = fgets(la, sizeof la, a) != NULL, more_b = fgets(lb, sizeof lb, b) != NULL;
        cr_assert_eq(more_a, more_b, "%s: outputs differ in length at line %d", tag, line);
        if (!more_a)
            break;
        if (strspn(la, "0123456789abcdef") != 8 && strcmp(la, "nan\n"))
            snprintf(helper, sizeof helper, "%s", la);
        helper[strcspn(helper, "\n")] = '\0';
        cr_assert_str_eq(la, lb, "%s: line %d (%s): native %s, emulated %s", tag, line, helper, la, lb);
    }
    fclose(a);
    fclose(b);
}

void kernel_check_emulation(const char *isa, const char *isa_flags) {
    static const char *const compilers[] = {"cc", "clang"};
    for (int i = 0; i < 2; i++) {
        const char *tag = arena_printf("%s-%s", isa, compilers[i]);
        const char *native = vocab_output(isa, arena_printf("%s-native", tag), compilers[i], isa_flags);
        const char *emulated = vocab_output(isa, arena_printf("%s-emulated", tag), compilers[i], EMULATED_FLAGS);
        expect_same_lines(tag, native, emulated);
        remove(native);
        remove(emulated);
    }
}

void kernel_test_neon(const KernelSuite *s) {
    if (!have_command("aarch64-linux-gnu-gcc") || !have_command("qemu-aarch64"))
        cr_skip_test("no aarch64-linux-gnu-gcc or qemu-aarch64: NEON not tested");
    kernel_run_target(s, "neon", "neon", "neon", "aarch64-linux-gnu-gcc", "-static", "qemu-aarch64");
    kernel_run_target(s, "auto", "neon", "auto_neon", "aarch64-linux-gnu-gcc", "-static", "qemu-aarch64");
}
