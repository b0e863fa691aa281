/* summary.c — `cnnc --summary`: a table like Keras model.summary().
 *
 * One row per layer (name, type, output shape, parameters, MACs), then the
 * totals, the bytes of weights the generated code stores and the workspace
 * from the memory plan.  Weight bytes are counted on the lowered IR (default
 * target), so they are exactly what is emitted: after batchnorm and affine
 * layers are folded into their neighbours and kernels have packed their
 * arrays.  Numbers carry thousands separators,
 * as Keras prints them.
 *
 * The table needs no weights, but a conv2d bias in a file may be one per
 * filter or one per output position (SPEC 1.4), so its size is read from the
 * file when it can be (weights.c).  When it cannot, the row's parameters are
 * marked `*` and a footnote says what was assumed. */
#include "cnnc.h"

#include <string.h>

/* 56320 → "56,320". */
static const char *grouped(long long n) {
    char digits[32];
    snprintf(digits, sizeof digits, "%lld", n < 0 ? -n : n);
    int len = (int)strlen(digits);
    char out[48];
    int o = 0;
    if (n < 0)
        out[o++] = '-';
    for (int i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
    return arena_strdup(out);
}

static long long emitted_weight_floats(const Model *m) {
    EmitOptions opts = {.target = target_by_name("auto")};
    const Ir *ir = lower_model(m, &opts);
    long long n = 0;
    for (int i = 0; i < ir->nops; i++)
        for (int k = 0; k < ir->ops[i].narrays; k++)
            n += ir->ops[i].arrays[k].count;
    return n;
}

static void rule(FILE *out, char c, int width) {
    for (int i = 0; i < width; i++)
        fputc(c, out);
    fputc('\n', out);
}

static int name_width(const Model *m) {
    int w = (int)strlen("Layer");
    for (int i = 0; i < m->nlayers; i++)
        if ((int)strlen(m->layers[i].name) > w)
            w = (int)strlen(m->layers[i].name);
    return w;
}

/* mark: ' ', or '*' after a parameter count that assumes something. */
static void row(FILE *out, int nw, const char *name, const char *type, const char *shape,
                const char *params, char mark, const char *macs) {
    fprintf(out, "%-*s  %-14s  %-14s  %12s%c %15s\n", nw, name, type, shape, params, mark, macs);
}

/* The footnote for rows marked '*'. */
static void assumed_bias_note(const Model *m, FILE *out) {
    for (int i = 0; i < m->nlayers; i++)
        if (m->layers[i].bias_assumed) {
            fprintf(out, "* bias counted as one per filter: its weights file was not read, and a\n"
                         "  per-position bias (one per output value) would count more\n");
            return;
        }
}

void print_summary(const Model *m, long long workspace_bytes, FILE *out) {
    int nw = name_width(m);
    int width = nw + 2 + 14 + 2 + 14 + 2 + 12 + 2 + 15;
    long long params = 0, macs = 0;
    fprintf(out, "Model: \"%s\"\n", m->name);
    rule(out, '=', width);
    row(out, nw, "Layer", "Type", "Output shape", "Params", ' ', "MACs");
    rule(out, '=', width);
    row(out, nw, "input", m->input_chw ? "input (chw)" : "input", shape_str(m->input), "0", ' ', "0");
    for (int i = 0; i < m->nlayers; i++) {
        const Layer *l = &m->layers[i];
        row(out, nw, l->name, layer_kind_name(l->kind), shape_str(l->out), grouped(l->params),
            l->bias_assumed ? '*' : ' ', grouped(l->macs));
        params += l->params;
        macs += l->macs;
    }
    rule(out, '=', width);
    fprintf(out, "Total params: %s\n", grouped(params));
    fprintf(out, "Total MACs: %s\n", grouped(macs));
    fprintf(out, "Weights: %s bytes\n", grouped(4 * emitted_weight_floats(m)));
    if (workspace_bytes >= 0)
        fprintf(out, "Workspace: %s bytes\n", grouped(workspace_bytes));
    assumed_bias_note(m, out);
    rule(out, '=', width);
}
