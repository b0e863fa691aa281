/* harness.c — the generic main linked with cnnc-generated models.
 *
 * Build: compile each generated MODEL.c, and this file with
 *   -DHARNESS_MODELS='"models.inc"'
 * where models.inc #includes every model header and defines
 *   #define HARNESS_MODEL_LIST(X) X(mnist, MNIST) X(cifar, CIFAR) ...
 * so one executable serves a whole batch of models.
 *
 * Run:  harness NAME INPUT.npy EXPECTED.npy [OUT.npy]
 * Calls NAME_infer and NAME_infer_ws on the input and compares both outputs
 * with the expected array under the SPEC tolerance; prints "ok NAME" or
 * "FAIL NAME: ..." with the worst element, exit status 0 or 1.  The buffers
 * are deliberately hostile: input and output only float-aligned (never
 * vector-aligned), the workspace 64-byte aligned but filled with NaN bytes,
 * so code that reads scratch before writing it shows up. */
#include "npyio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include HARNESS_MODELS

typedef struct HarnessModel {
    const char *name;
    void (*infer)(const float *input, float *output);
    void (*infer_ws)(const float *input, float *output, void *ws);
    long input_size, output_size, workspace_size;
} HarnessModel;

#define HARNESS_ROW(name, NAME) \
    {#name, name##_infer, name##_infer_ws, NAME##_INPUT_SIZE, NAME##_OUTPUT_SIZE, NAME##_WORKSPACE_SIZE},

static const HarnessModel models[] = {HARNESS_MODEL_LIST(HARNESS_ROW)};

static const HarnessModel *find_model(const char *name) {
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++)
        if (!strcmp(models[i].name, name))
            return &models[i];
    return NULL;
}

/* count floats starting 4 bytes past a 64-byte boundary. */
static float *misaligned_floats(long count, void **block) {
    size_t bytes = ((size_t)count + 16) * sizeof(float);
    *block = aligned_alloc(64, (bytes + 63) / 64 * 64);
    return (float *)*block + 1;
}

static bool check_output(const char *name, const char *what, const float *out,
                         const NpyArray *expected) {
    double *got = malloc(sizeof(double) * (size_t)expected->count);
    for (long i = 0; i < expected->count; i++)
        got[i] = out[i];
    char msg[256];
    bool ok = compare_arrays(got, expected->data, expected->count, msg, sizeof msg);
    if (!ok)
        printf("FAIL %s (%s): %s\n", name, what, msg);
    free(got);
    return ok;
}

static void write_output(const char *path, const float *out, const NpyArray *expected) {
    if (path && !npy_write_f32(path, out, expected->dims, expected->ndims))
        printf("cannot write %s\n", path);
}

static bool run_model(const HarnessModel *m, const NpyArray *in, const NpyArray *expected,
                      const char *out_path) {
    if (in->count != m->input_size || expected->count != m->output_size) {
        printf("FAIL %s: sizes in=%ld/%ld out=%ld/%ld (npy/header)\n", m->name, in->count,
               m->input_size, expected->count, m->output_size);
        return false;
    }
    void *in_block, *out_block;
    float *input = misaligned_floats(in->count, &in_block);
    float *output = misaligned_floats(expected->count, &out_block);
    for (long i = 0; i < in->count; i++)
        input[i] = (float)in->data[i];
    size_t ws_bytes = ((size_t)m->workspace_size + 63) / 64 * 64 + 64;
    void *ws = aligned_alloc(64, ws_bytes);
    memset(ws, 0xff, ws_bytes);
    m->infer_ws(input, output, ws);
    bool ok = check_output(m->name, "infer_ws", output, expected);
    memset(output, 0xff, sizeof(float) * (size_t)expected->count);
    m->infer(input, output);
    ok &= check_output(m->name, "infer", output, expected);
    write_output(out_path, output, expected);
    free(ws);
    free(in_block);
    free(out_block);
    return ok;
}

int main(int argc, char **argv) {
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: harness NAME INPUT.npy EXPECTED.npy [OUT.npy]\n");
        return 2;
    }
    const HarnessModel *m = find_model(argv[1]);
    if (!m) {
        printf("FAIL %s: not linked into this harness\n", argv[1]);
        return 1;
    }
    NpyArray in, expected;
    char err[256];
    if (!npy_read(argv[2], &in, err, sizeof err) || !npy_read(argv[3], &expected, err, sizeof err)) {
        printf("FAIL %s: %s\n", m->name, err);
        return 1;
    }
    bool ok = run_model(m, &in, &expected, argc == 5 ? argv[4] : NULL);
    if (ok)
        printf("ok %s\n", m->name);
    npy_free(&in);
    npy_free(&expected);
    return ok ? 0 : 1;
}
