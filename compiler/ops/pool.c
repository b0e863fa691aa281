/* ops/pool.c — scalar kernels for max/avg pooling and the global pools.
 *
 * Padded cells are never read: for each output row and column the window is
 * clamped to the real input once ([ya, yb) x [xa, xb)), so the inner loops
 * have no branch.  Max ignores padding by construction; avg divides by the
 * clamped cell count, or by the full window with count_pad (torch's
 * count_include_pad).  Without padding the clamping lines are not emitted.
 * Max propagates NaN as torch does: a NaN cell wins (`x != x`), and once the
 * running max is NaN no comparison replaces it.  Max and avg pools address
 * output rows with frame_pitch, so they can write a padded conv's frame. */
#include "cnnc.h"

static void pack_nothing(IrOp *op) { op->narrays = 0; }

static bool pool_padded(const IrOp *op) {
    return op->pad_top || op->pad_bottom || op->pad_left || op->pad_right;
}

/* const int <v>a, <v>b: the window's real extent along one axis. */
static void emit_window(Emitter *e, const IrOp *op, char v, const char *o, int s, int k, int pad, int n) {
    if (!pool_padded(op)) {
        emit(e, "const int %ca = %s * %d;\nconst int %cb = %ca + %d;\n", v, o, s, v, v, k);
        return;
    }
    emit(e, "const int %c0 = %s * %d - %d;\n", v, o, s, pad);
    emit(e, "const int %ca = %c0 < 0 ? 0 : %c0;\n", v, v, v);
    emit(e, "const int %cb = %c0 + %d > %d ? %d : %c0 + %d;\n", v, v, k, n, n, v, k);
}

static void emit_pool(Emitter *e, const IrOp *op, bool is_max) {
    Shape in = op->in_shape, out = op->out_shape;
    emit(e, "for (int oy = 0; oy < %d; oy++) {\n", out.h);
    emit_window(e, op, 'y', "oy", op->sh, op->kh, op->pad_top, in.h);
    emit(e, "for (int ox = 0; ox < %d; ox++) {\n", out.w);
    emit_window(e, op, 'x', "ox", op->sw, op->kw, op->pad_left, in.w);
    if (has_frame(op))
        emit(e, "float *o = out + oy * %d + ox * %d;\n", frame_pitch(op), out.c);
    else
        emit(e, "float *o = out + (oy * %d + ox) * %d;\n", out.w, out.c);
    emit(e, "for (int c = 0; c < %d; c++) {\n", out.c);
    emit(e, is_max ? "o[c] = in[(ya * %d + xa) * %d + c];\n}\n" : "o[c] = 0.0f;\n}\n", in.w, in.c);
    emit(e, "for (int y = ya; y < yb; y++) {\nfor (int x = xa; x < xb; x++) {\n");
    emit(e, "const float *p = in + (y * %d + x) * %d;\n", in.w, in.c);
    emit(e, "for (int c = 0; c < %d; c++) {\n", in.c);
    emit(e, "%s\n}\n}\n}\n", is_max ? "o[c] = (p[c] > o[c] || p[c] != p[c]) ? p[c] : o[c];" : "o[c] += p[c];");
    if (!is_max) {
        if (op->count_pad || !pool_padded(op))
            emit(e, "const float count = %d.0f;\n", op->kh * op->kw);
        else
            emit(e, "const float count = (float)((yb - ya) * (xb - xa));\n");
        emit(e, "for (int c = 0; c < %d; c++) {\no[c] = o[c] / count;\n}\n", out.c);
    }
    emit(e, "}\n}\n");
}

static void emit_maxpool(Emitter *e, const IrOp *op) { emit_pool(e, op, true); }
static void emit_avgpool(Emitter *e, const IrOp *op) { emit_pool(e, op, false); }

/* Sums row by row into a partial sum per channel, to keep long sums exact
 * enough, then divides by the cell count. */
static void emit_global_avgpool(Emitter *e, const IrOp *op) {
    Shape in = op->in_shape;
    emit(e, "for (int c = 0; c < %d; c++) {\nout[c] = 0.0f;\n}\n", in.c);
    emit(e, "for (int y = 0; y < %d; y++) {\n", in.h);
    emit(e, "float row[%d] = {0.0f};\n", in.c);
    emit(e, "for (int x = 0; x < %d; x++) {\nfor (int c = 0; c < %d; c++) {\n", in.w, in.c);
    emit(e, "row[c] += in[(y * %d + x) * %d + c];\n}\n}\n", in.w, in.c);
    emit(e, "for (int c = 0; c < %d; c++) {\nout[c] += row[c];\n}\n}\n", in.c);
    emit(e, "for (int c = 0; c < %d; c++) {\nout[c] = out[c] / %d.0f;\n}\n", in.c, in.h * in.w);
}

static void emit_global_maxpool(Emitter *e, const IrOp *op) {
    Shape in = op->in_shape;
    emit(e, "for (int c = 0; c < %d; c++) {\nout[c] = in[c];\n}\n", in.c);
    emit(e, "for (int p = 1; p < %d; p++) {\nfor (int c = 0; c < %d; c++) {\n", in.h * in.w, in.c);
    emit(e, "const float v = in[p * %d + c];\nout[c] = (v > out[c] || v != v) ? v : out[c];\n}\n}\n", in.c);
}

const KernelEmitter maxpool_scalar_kernel = {"scalar", pack_nothing, emit_maxpool, false, true};
const KernelEmitter avgpool_scalar_kernel = {"scalar", pack_nothing, emit_avgpool, false, true};
const KernelEmitter global_avgpool_scalar_kernel = {"scalar", pack_nothing, emit_global_avgpool, false, false};
const KernelEmitter global_maxpool_scalar_kernel = {"scalar", pack_nothing, emit_global_maxpool, false, false};
