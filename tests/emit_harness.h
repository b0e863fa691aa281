/* emit_harness.h — what the tests that compile whole generated models
 * share (test_emit.c, test_layout.c): check a .cnn text, lower and plan it,
 * write model.c/model.h and a driver main.c into a temporary directory, run
 * shell commands, read the printed outputs back.  Failures are Criterion
 * assertions. */
#ifndef EMIT_HARNESS_H
#define EMIT_HARNESS_H

#include <stdbool.h>

#include "cnnc.h"

/* The runtime headers: $CNNC_RUNTIME, else ../runtime (tests run in tests/). */
const char *runtime_dir(void);
/* A new directory /tmp/cnnc_TAG_XXXXXX. */
char *tmpdir_new(const char *tag);
/* Parses and checks a model text (source name tests/model.cnn); no errors allowed. */
Model *checked_model(const char *text);
Ir *lower_and_plan(const Model *m, const char *target);
/* Emits the IR as DIR/model.c and DIR/model.h. */
void write_model(const Ir *ir, const EmitOptions *opts, const char *dir);

/* What the driver DIR/main.c does with the model (prefix t) on a fixed input,
 * before printing the output one number per line: */
typedef enum {
    DRIVER_BOTH_ENTRY_POINTS,  /* t_infer and t_infer_ws must agree bit for bit */
    DRIVER_NAN_WORKSPACE,      /* t_infer_ws twice, the workspace refilled with NaN before each */
} DriverKind;
void write_driver(const Model *m, const float *input, const char *dir, DriverKind kind);

/* system(cmd)'s exit status (-1 if it did not exit). */
int run(const char *cmd);
bool have(const char *tool);
/* n numbers from a text file, one per line. */
float *read_outputs(const char *path, long long n);

#endif
