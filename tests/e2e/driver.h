/* driver.h — what test_e2e.c, test_random.c and test_nan.c share: running
 * commands, scratch directories, the CPU's SIMD paths, and building a batch
 * of cnnc-generated models into one harness executable per toolchain (see
 * harness.c). */
#ifndef CNNC_TEST_DRIVER_H
#define CNNC_TEST_DRIVER_H

#include <stdbool.h>

/* Paths from the environment that tests/meson.build passes. */
const char *cnnc_path(void);          /* $CNNC */
const char *runtime_dir(void);        /* $CNNC_RUNTIME */
const char *fixtures_dir(void);       /* $CNNC_FIXTURES */
const char *e2e_dir(void);            /* tests/e2e, absolute */

/* Runs `sh -c cmd` with stderr merged into stdout; returns the exit status
 * (or -1 for a signal) and, if out is not NULL, the malloc'd output. */
int run_command(const char *cmd, char **out);
char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));  /* malloc'd */
bool file_exists(const char *path);
bool write_text(const char *path, const char *text);
char *read_text(const char *path, long *len);   /* malloc'd, NULL if unreadable */

/* A fresh directory under $TMPDIR (or /tmp); remove_tree removes it. */
char *make_scratch_dir(const char *tag);
void remove_tree(const char *dir);

/* The sorted names of the fixture directories (each holds model.cnn,
 * input.npy, expected.npy); the model name equals the directory name. */
int list_fixtures(char ***names);

/* How one harness executable is built and run. */
typedef struct Toolchain {
    const char *label;     /* "gcc-avx2": names the build subdirectory */
    const char *cc;        /* "gcc", "clang", "aarch64-linux-gnu-gcc" */
    const char *flags;     /* target and optimisation flags */
    bool runtime_include;  /* -I runtime (false for --standalone code) */
    const char *runner;    /* "" or "qemu-aarch64" */
} Toolchain;

/* Compiles dir/NAME.c for every NAME in names (in parallel with make -k),
 * then links those that compiled with the harness into dir/LABEL/harness.
 * ok[i] tells which models made it; for the others, (*logs)[i] holds the
 * compiler's messages.  Returns false (with the reason in *logs of every
 * model) when the harness itself does not link. */
bool build_harness(const char *dir, const Toolchain *tc, char **names, int n,
                   bool *ok, char ***logs);

/* Runs dir/LABEL/harness on one model; returns true when it prints ok.
 * *report receives the harness output (malloc'd). */
bool run_harness(const char *dir, const Toolchain *tc, const char *name,
                 const char *input, const char *expected, char **report);

/* The x86 flags of each SIMD target, and whether this CPU runs code built
 * with them: cpu_has("sse4.1"), "avx2" (with FMA) or "avx512" (F/BW/DQ/VL). */
#define X86_FLAGS_SSE4 "-msse4.1"
#define X86_FLAGS_AVX2 "-mavx2 -mfma"
#define X86_FLAGS_AVX512 "-mavx512f -mavx512bw -mavx512dq -mavx512vl"

bool cpu_has(const char *feature);

/* An x86 target the CPU lacks is built on the portable emulation of its
 * header instead (tests/emu, see cnnc_simd_emu.h there): no ISA flag, the
 * emulation ahead of the runtime on the include path, -Wno-psabi (GCC
 * notes that 32/64-byte vectors by value have another ABI without the ISA;
 * it is one program, so that is noise) and -O0: 16-lane vectors split over
 * SSE2 registers make every optimising level compile 2-4 times slower, for
 * nothing these tests need (the code runs in milliseconds either way).
 * emulated_flags(extra) is those plus extra, malloc'd; the toolchain
 * labels end in "-emulated". */
const char *emu_dir(void);            /* $CNNC_EMU, default tests/emu */
char *emulated_flags(const char *extra);

/* True when `cc` exists and links a trivial program with these flags. */
bool toolchain_works(const Toolchain *tc);

#endif
