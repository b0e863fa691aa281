/* ops/act.c — scalar kernels for the elementwise and data-movement ops:
 * activations, softmax, per-channel affine, transposes and copies.
 *
 * Contract of every family file: a pack function (which constant arrays the
 * kernel reads, in its reading order) and an emit_body function printing the
 * statements of `static void f(const float *in, float *out)` with every
 * bound a constant.  Elementwise kernels read each element before writing
 * it, so they are correct in place (in == out), which the planner uses. */
#include "cnnc.h"

static void pack_nothing(IrOp *op) { op->narrays = 0; }

/* scale[C] then shift[C], as lowered. */
static void pack_affine(IrOp *op) {
    op->arrays[0] = (IrArray){"scale", op->weight.data, op->weight.count};
    op->arrays[1] = (IrArray){"shift", op->bias.data, op->bias.count};
    op->narrays = 2;
}

/* NaN in, NaN out, as in torch: a NaN compares false, so every test is
 * written to fall through to x (relu is `x < 0 ? 0 : x`; that also keeps -0
 * as torch.relu does).  The runtime's sigmoid and tanh pass NaN and saturate
 * at ±inf. */
void emit_act_statement(Emitter *e, ActKind act, float alpha, const char *x) {
    switch (act) {
    case ACT_LINEAR: break;
    case ACT_RELU: emit(e, "%s = %s < 0.0f ? 0.0f : %s;\n", x, x, x); break;
    case ACT_RELU6: emit(e, "%s = %s < 0.0f ? 0.0f : %s > 6.0f ? 6.0f : %s;\n", x, x, x, x); break;
    case ACT_LEAKY_RELU: emit(e, "%s = %s > 0.0f ? %s : %.9gf * %s;\n", x, x, x, (double)alpha, x); break;
    case ACT_SIGMOID: emit(e, "%s = cnnc_sigmoidf(%s);\n", x, x); break;
    case ACT_TANH: emit(e, "%s = cnnc_tanhf(%s);\n", x, x); break;
    case ACT_SOFTMAX: die("softmax is an op of its own, not an elementwise activation");
    }
}

static void emit_act(Emitter *e, const IrOp *op) {
    emit(e, "for (int i = 0; i < %lld; i++) {\n", shape_count(op->out_shape));
    emit(e, "float v = in[i];\n");
    emit_act_statement(e, op->act, op->alpha, "v");
    emit(e, "out[i] = v;\n}\n");
}

/* Over the channels at each position (a vector is one position):
 * subtract the max, exponentiate, divide by the sum. */
static void emit_softmax(Emitter *e, const IrOp *op) {
    int c = op->out_shape.c, positions = op->out_shape.h * op->out_shape.w;
    if (positions > 1) {
        emit(e, "for (int p = 0; p < %d; p++) {\n", positions);
        emit(e, "const float *x = in + p * %d;\nfloat *y = out + p * %d;\n", c, c);
    } else {
        emit(e, "const float *x = in;\nfloat *y = out;\n");
    }
    emit(e, "float max = x[0];\n");
    emit(e, "for (int c = 1; c < %d; c++) {\nmax = x[c] > max ? x[c] : max;\n}\n", c);
    emit(e, "float sum = 0.0f;\n");
    emit(e, "for (int c = 0; c < %d; c++) {\ny[c] = cnnc_expf(x[c] - max);\nsum += y[c];\n}\n", c);
    emit(e, "for (int c = 0; c < %d; c++) {\ny[c] = y[c] / sum;\n}\n", c);
    if (positions > 1)
        emit(e, "}\n");
}

static void emit_affine(Emitter *e, const IrOp *op) {
    int c = op->out_shape.c;
    emit(e, "for (int p = 0; p < %d; p++) {\n", op->out_shape.h * op->out_shape.w);
    emit(e, "for (int c = 0; c < %d; c++) {\n", c);
    emit(e, "out[p * %d + c] = in[p * %d + c] * %s[c] + %s[c];\n}\n}\n", c, c,
         ir_array_symbol(op, 0), ir_array_symbol(op, 1));
}

/* Between the caller's C-H-W order and our H-W-C (the 3-D side's shape). */
static void emit_transpose(Emitter *e, const IrOp *op) {
    Shape s = op->to_chw ? op->in_shape : op->out_shape;
    int hw = s.h * s.w;
    emit(e, "for (int p = 0; p < %d; p++) {\nfor (int c = 0; c < %d; c++) {\n", hw, s.c);
    if (op->to_chw)
        emit(e, "out[c * %d + p] = in[p * %d + c];\n}\n}\n", hw, s.c);
    else
        emit(e, "out[p * %d + c] = in[c * %d + p];\n}\n}\n", s.c, hw);
}

static void emit_copy(Emitter *e, const IrOp *op) {
    emit(e, "for (int i = 0; i < %lld; i++) {\nout[i] = in[i];\n}\n", shape_count(op->out_shape));
}

const KernelEmitter act_scalar_kernel = {"scalar", pack_nothing, emit_act, true, false};
const KernelEmitter softmax_scalar_kernel = {"scalar", pack_nothing, emit_softmax, true, false};
const KernelEmitter affine_scalar_kernel = {"scalar", pack_affine, emit_affine, true, false};
const KernelEmitter transpose_scalar_kernel = {"scalar", pack_nothing, emit_transpose, false, false};
const KernelEmitter copy_scalar_kernel = {"scalar", pack_nothing, emit_copy, false, false};
