/* ops/conv.c — scalar kernels for conv2d and the zero-padding op before it.
 *
 * Lowering gives a conv an input that is already padded (a PAD op writes a
 * zero-bordered copy, or the producer wrote a zero-bordered frame: layout.c),
 * so the kernel is a valid convolution whose loops have constant bounds and
 * no per-element branch.  Output rows are frame_pitch apart, so the conv can
 * itself write the next padded conv's frame.  Weights stay in the canonical
 * [KH][KW][Cin][F] order: for each output position the kernel walks the
 * taps, and for each input channel adds x[c] * w[c][f] across the F outputs,
 * a contiguous inner loop a C compiler can vectorize. */
#include "cnnc.h"

static void pack_nothing(IrOp *op) { op->narrays = 0; }

static void pack_conv(IrOp *op) {
    op->arrays[0] = (IrArray){"weight", op->weight.data, op->weight.count};
    op->narrays = 1;
    if (op->bias.count)
        op->arrays[op->narrays++] = (IrArray){"bias", op->bias.data, op->bias.count};
}

/* "v * k", or just "v" when k is 1: keeps index arithmetic readable. */
static const char *times(const char *v, int k) {
    return k == 1 ? v : arena_printf("%s * %d", v, k);
}

/* "(sum) * k", or just "sum" when k is 1. */
static const char *sum_times(const char *sum, int k) {
    return k == 1 ? sum : arena_printf("(%s) * %d", sum, k);
}

/* Offset of output pixel (oy, ox): rows frame_pitch apart (a frame's rows
 * are wider than the tensor's). */
static const char *output_pixel(const IrOp *op) {
    Shape out = op->out_shape;
    if (!has_frame(op))
        return sum_times(arena_printf("oy * %d + ox", out.w), out.c);
    return arena_printf("oy * %d + %s", frame_pitch(op), times("ox", out.c));
}

static void emit_conv_init(Emitter *e, const IrOp *op) {
    int f = op->out_shape.c;
    emit(e, "for (int f = 0; f < %d; f++) {\n", f);
    if (!op->bias.count)
        emit(e, "o[f] = 0.0f;\n}\n");
    else if (op->per_position_bias)
        emit(e, "o[f] = %s[(oy * %d + ox) * %d + f];\n}\n", ir_array_symbol(op, 1), op->out_shape.w, f);
    else
        emit(e, "o[f] = %s[f];\n}\n", ir_array_symbol(op, 1));
}

static void emit_conv(Emitter *e, const IrOp *op) {
    Shape in = op->in_shape, out = op->out_shape;
    emit(e, "for (int oy = 0; oy < %d; oy++) {\nfor (int ox = 0; ox < %d; ox++) {\n", out.h, out.w);
    emit(e, "float *o = out + %s;\n", output_pixel(op));
    emit_conv_init(e, op);
    emit(e, "for (int ky = 0; ky < %d; ky++) {\nfor (int kx = 0; kx < %d; kx++) {\n", op->kh, op->kw);
    const char *pixel = arena_printf("(%s + %s) * %d + %s + %s", times("oy", op->sh),
                                     times("ky", op->dh), in.w, times("ox", op->sw), times("kx", op->dw));
    emit(e, "const float *x = in + %s;\n", sum_times(pixel, in.c));
    emit(e, "const float *w = %s + %s;\n", ir_array_symbol(op, 0),
         sum_times(arena_printf("ky * %d + kx", op->kw), in.c * out.c));
    emit(e, "for (int c = 0; c < %d; c++) {\nfor (int f = 0; f < %d; f++) {\n", in.c, out.c);
    emit(e, "o[f] += x[c] * w[%s + f];\n}\n}\n}\n}\n", times("c", out.c));
    if (op->act != ACT_LINEAR) {
        emit(e, "for (int f = 0; f < %d; f++) {\n", out.c);
        emit_act_statement(e, op->act, op->alpha, "o[f]");
        emit(e, "}\n");
    }
    emit(e, "}\n}\n");
}

/* Zero the border (the interior is overwritten anyway), then copy each
 * input row into the middle. */
static void emit_pad(Emitter *e, const IrOp *op) {
    Shape in = op->in_shape, out = op->out_shape;
    emit_zero_border(e, "out", in, (Frame){op->pad_top, op->pad_bottom, op->pad_left, op->pad_right});
    emit(e, "for (int y = 0; y < %d; y++) {\nfor (int i = 0; i < %d; i++) {\n", in.h, in.w * in.c);
    const char *row = op->pad_top ? arena_printf("(y + %d)", op->pad_top) : "y";
    const char *first = sum_times(arena_printf("%s * %d + %d", row, out.w, op->pad_left), in.c);
    emit(e, "out[%s + i] = in[y * %d + i];\n}\n}\n", first, in.w * in.c);
}

const KernelEmitter conv_scalar_kernel = {"scalar", pack_conv, emit_conv, false, true};
const KernelEmitter pad_scalar_kernel = {"scalar", pack_nothing, emit_pad, false, false};
