/* kernel_harness.h — run hand-made kernel ops on a real target and check
 * every output against a float64 reference (test_simd.c, test_winograd.c).
 *
 * A suite gives, per case, a packed IrOp (kernel chosen, symbol_prefix
 * "caseK") with its input, and the reference value of each output element.
 * kernel_run_target() writes one C program holding every case's arrays and
 * function plus a main() that prints CNNC_ISA then all outputs, compiles it
 * with -Werror and the target's flags, runs it (under an emulator if asked),
 * checks the ISA line and every element: |got - exp| <= 1e-4 * max(1, |exp|).
 */
#ifndef KERNEL_HARNESS_H
#define KERNEL_HARNESS_H

#include <stdbool.h>

#include "cnnc.h"

typedef struct KernelCase {
    IrOp op;              /* packed; emit_body reads in, out (and scratch if scratch_floats > 0) */
    const float *input;   /* shape_count(op.in_shape) floats */
    const void *data;     /* handed back to the suite's reference() */
} KernelCase;

typedef struct KernelSuite {
    const char *name;     /* names the temporary files */
    int ncases;
    long long out_floats; /* size of the program's output buffer */
    bool nan_equal;       /* a NaN output passes where the reference is NaN */
    KernelCase (*build)(int k, const Target *t);
    /* Output (oy, ox, f) of case k in double. */
    double (*reference)(int k, const void *data, int oy, int ox, int f);
} KernelSuite;

/* Generate the suite for target `name`, compile with `cc flags`, run under
 * `runner` (empty, or an emulator), expect the runtime header to pick `isa`. */
void kernel_run_target(const KernelSuite *s, const char *name, const char *isa, const char *tag, const char *cc,
                       const char *flags, const char *runner);

/* The paths every suite runs: each target built by cc (avx512 by clang too
 * if asked), `auto` on every path (forced scalar, plain x86-64 SSE2 built by
 * sse2_cc, then each ISA), neon and auto under qemu-aarch64.  An x86 ISA the
 * CPU lacks runs on its portable emulation (tests/emu, tag "avx512-emulated"
 * etc.) instead; NEON without the cross tools is skipped with the reason. */
void kernel_test_sse4(const KernelSuite *s);
void kernel_test_avx2(const KernelSuite *s);
void kernel_test_avx512(const KernelSuite *s, bool with_clang);
void kernel_test_auto(const KernelSuite *s, const char *sse2_cc);
void kernel_test_neon(const KernelSuite *s);

/* The emulation against the real thing: tests/e2e/vocab_main.c built on
 * `isa`'s runtime header with isa_flags and on the emulated header with no
 * ISA flag, by cc and by clang, must print the same bits for every helper. */
void kernel_check_emulation(const char *isa, const char *isa_flags);

/* A case's input, weights (canonical layout) and bias. */
typedef struct KernelData {
    float *input, *weight, *bias;
} KernelData;

/* Case k's data, in the arena: deterministic values in [-1, 1) that the
 * suite then shapes (scales the weights, zeroes a border, ...). */
KernelData kernel_random_data(int k, long long inputs, long long weights, int outputs);

/* The fused activation in double, as torch computes it (relu passes NaN). */
double kernel_act_ref(ActKind act, double x);

#endif
