/* ir.h — reads the network description prepare.py writes (ir.txt + weights.bin)
 * for the C and C++ peers.
 *
 * ir.txt holds one op per line, `NAME key=value …`; fields are looked up by key
 * when a runner builds its network, so the format can grow without breaking
 * readers.  Tensors are float32 in torch layout at float offsets into
 * weights.bin.  Header-only, C and C++.
 */
#ifndef BENCH_IR_H
#define BENCH_IR_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { IR_MAX_OPS = 64, IR_LINE = 512 };

typedef struct IrOp {
    char text[IR_LINE];
} IrOp;

typedef struct Ir {
    IrOp ops[IR_MAX_OPS];
    int n_ops;
    float *weights;
} Ir;

/* Pointer to the value of ` key=` in the op's line; exits if missing. */
static const char *ir_field(const IrOp *op, const char *key) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, " %s=", key);
    const char *at = strstr(op->text, pattern);
    if (!at) {
        fprintf(stderr, "ir: field '%s' missing in: %s\n", key, op->text);
        exit(1);
    }
    return at + strlen(pattern);
}

static long ir_int(const IrOp *op, const char *key) { return strtol(ir_field(op, key), NULL, 10); }
static float ir_float(const IrOp *op, const char *key) { return strtof(ir_field(op, key), NULL); }

/* True when the op's name (first word), or field `key` if given, equals value. */
static int ir_is(const IrOp *op, const char *key, const char *value) {
    const char *at = key ? ir_field(op, key) : op->text;
    size_t n = strlen(value);
    return !strncmp(at, value, n) && (at[n] == ' ' || at[n] == '\0' || at[n] == '\n');
}

static const float *ir_tensor(const Ir *ir, const IrOp *op, const char *key) {
    return ir->weights + ir_int(op, key);
}

static void ir_load_weights(Ir *ir, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "ir: cannot open %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    ir->weights = (float *)malloc((size_t)bytes + 4);
    if (fread(ir->weights, 1, (size_t)bytes, f) != (size_t)bytes) {
        fprintf(stderr, "ir: short read on %s\n", path);
        exit(1);
    }
    fclose(f);
}

/* Loads DIR/ir.txt and DIR/weights.bin. */
static void ir_load(Ir *ir, const char *dir) {
    char path[1024];
    snprintf(path, sizeof path, "%s/ir.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "ir: cannot open %s\n", path);
        exit(1);
    }
    ir->n_ops = 0;
    while (ir->n_ops < IR_MAX_OPS && fgets(ir->ops[ir->n_ops].text, IR_LINE, f))
        ir->n_ops++;
    fclose(f);
    snprintf(path, sizeof path, "%s/weights.bin", dir);
    ir_load_weights(ir, path);
}

#endif
