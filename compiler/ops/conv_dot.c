/* ops/conv_dot.c — convolution with one or two filters over many input
 * channels (the 1x1 "heads" of policy and value networks), vectorized over
 * the input channels.
 *
 * conv_simd.c vectorizes over output channels: with F = 1 it would use one
 * lane of each vector, and its accumulator for a pixel is one chain of
 * KH*KW*Cin dependent fmas.  Here each output value is a dot product of the
 * pixel's input channels (contiguous in H-W-C) with the filter: per tap,
 * Cin/L vector fmas into one accumulator per (pixel, filter), then a
 * horizontal sum.  A tile of P = L/F pixels has P*F accumulators (8 on AVX2,
 * 16 on AVX-512: independent chains that hide the fma latency); its P*F sums
 * are contiguous outputs in H-W-C, so bias, activation and the store run on
 * vectors again.  Measured on the policy head (19x19x64 -> 19x19x1, AVX2,
 * Zen 3): scalar loop 30 µs, conv_simd 15 µs, this kernel: see
 * docs/decisions/simd.md.
 *
 * Weights are packed [F][KH*KW][CS], CS = Cin rounded up to 16 with zeros,
 * so every weight load is a full vector for every lane count (`auto` shares
 * one packing).  A per-channel bias is packed as a pattern of 16 values
 * (bias[k % F]) read at the sums' offset; a per-position bias is read as it
 * is ([OH][OW][F]: a tile's P*F values are contiguous).  Output rows are
 * frame_pitch apart, so the kernel can write a frame (layout.c).
 */
#include "simd.h"

#include <string.h>

#define DOT_MAX_FILTERS 2
#define DOT_MIN_CHANNELS 16
#define PAD_TO 16   /* CS and the bias pattern: a multiple of every lane count */

bool conv_dot_applies(const IrOp *op) {
    return op->kind == IR_CONV && op->out_shape.c <= DOT_MAX_FILTERS && op->in_shape.c >= DOT_MIN_CHANNELS &&
           !conv_fused_pool(op);
}

static int channel_stride(const IrOp *op) { return (op->in_shape.c + PAD_TO - 1) / PAD_TO * PAD_TO; }

static void conv_dot_pack(IrOp *op) {
    int taps = op->kh * op->kw, c = op->in_shape.c, f = op->out_shape.c, cs = channel_stride(op);
    long long count = (long long)f * taps * cs;
    float *packed = NULL;
    if (op->weight.data) {
        packed = arena_alloc((size_t)count * sizeof *packed);
        for (int j = 0; j < f; j++)
            for (int t = 0; t < taps; t++)
                for (int i = 0; i < c; i++)
                    packed[((long long)j * taps + t) * cs + i] = op->weight.data[((long long)t * c + i) * f + j];
    }
    op->arrays[0] = (IrArray){"weight", packed, count};
    op->narrays = 1;
    if (!op->bias.count)
        return;
    if (op->per_position_bias) {
        op->arrays[op->narrays++] = (IrArray){"bias", op->bias.data, op->bias.count};
        return;
    }
    float *pattern = NULL;
    if (op->bias.data) {
        pattern = arena_alloc(PAD_TO * sizeof *pattern);
        for (int k = 0; k < PAD_TO; k++)
            pattern[k] = op->bias.data[k % f];
    }
    op->arrays[op->narrays++] = (IrArray){"bias", pattern, PAD_TO};
}

static const char *load(const char *at, int n, int lanes) {
    return n < lanes ? arena_printf("cnnc_vload_tail(%s, %d)", at, n) : arena_printf("cnnc_vload(%s)", at);
}

/* One vector of input channels from i (`n` of them: a tail when n < L):
 * F weight vectors, then per pixel the input vector and F fmas. */
static void emit_dot_step(Emitter *e, const IrOp *op, int lanes, int px, int n) {
    int f = op->out_shape.c, pixel = op->sw * op->in_shape.c;
    long long filter = (long long)op->kh * op->kw * channel_stride(op);
    for (int j = 0; j < f; j++)
        emit(e, "const cnnc_v w%d = %s;\n", j, simd_reused_load(arena_printf("wk + %lld + i", j * filter), px));
    for (int p = 0; p < px; p++) {
        emit(e, "const cnnc_v v%d = %s;\n", p, load(arena_printf("xk + %d + i", p * pixel), n, lanes));
        for (int j = 0; j < f; j++)
            emit(e, "a%d_%d = cnnc_vfma(v%d, w%d, a%d_%d);\n", p, j, p, j, p, j);
    }
}

/* The P*F sums (contiguous outputs) in vectors: + bias, activation, store. */
static void emit_dot_finish(Emitter *e, const IrOp *op, int lanes, int px) {
    int f = op->out_shape.c, n = px * f;
    emit(e, "float s[%d];\n", n);
    for (int p = 0; p < px; p++)
        for (int j = 0; j < f; j++)
            emit(e, "s[%d] = cnnc_vhsum(a%d_%d);\n", p * f + j, p, j);
    for (int k = 0; k < n; k += lanes) {
        int m = n - k < lanes ? n - k : lanes;
        const char *v = load(arena_printf("s + %d", k), m, lanes);
        if (op->per_position_bias)
            v = arena_printf("cnnc_vadd(%s, %s)", v,
                             load(arena_printf("%s + (oy * %d + ox) * %d + %d", ir_array_symbol(op, 1),
                                               op->out_shape.w, f, k), m, lanes));
        else if (op->bias.count)
            v = arena_printf("cnnc_vadd(%s, %s)", v, load(arena_printf("%s + %d", ir_array_symbol(op, 1), k), m, lanes));
        v = simd_act_expr(op->act, op->alpha, v);
        if (m < lanes)
            emit(e, "cnnc_vstore_tail(o + %d, %s, %d);\n", k, v, m);
        else
            emit(e, "cnnc_vstore(o + %d, %s);\n", k, v);
    }
}

/* `px` pixels from ox: the taps in loops, the channels in vectors. */
static void emit_dot_tile(Emitter *e, const IrOp *op, int lanes, int px) {
    int f = op->out_shape.c, c = op->in_shape.c, full = c / lanes * lanes;
    emit(e, "const float *x0 = row + ox * %d;\n", op->sw * c);
    emit(e, "float *o = orow + ox * %d;\n", f);
    for (int p = 0; p < px; p++)
        for (int j = 0; j < f; j++)
            emit(e, "cnnc_v a%d_%d = cnnc_vzero();\n", p, j);
    emit(e, "for (int ky = 0; ky < %d; ky++) {\n", op->kh);
    emit(e, "for (int kx = 0; kx < %d; kx++) {\n", op->kw);
    emit(e, "const float *xk = x0 + ky * %d + kx * %d;\n", op->dh * op->in_shape.w * c, op->dw * c);
    emit(e, "const float *wk = %s + (ky * %d + kx) * %d;\n", ir_array_symbol(op, 0), op->kw, channel_stride(op));
    if (full) {
        emit(e, "for (int i = 0; i < %d; i += %d) {\n", full, lanes);
        emit_dot_step(e, op, lanes, px, lanes);
        emit(e, "}\n");
    }
    if (c > full) {
        emit(e, "{\nconst int i = %d;\n", full);
        emit_dot_step(e, op, lanes, px, c - full);
        emit(e, "}\n");
    }
    emit(e, "}\n}\n");
    emit_dot_finish(e, op, lanes, px);
}

static void emit_dot_rows(Emitter *e, const IrOp *op, int lanes) {
    int ow = op->out_shape.w, px = lanes / op->out_shape.c > 1 ? lanes / op->out_shape.c : 1;
    int full = ow / px * px;
    emit(e, "/* tile: %d pixels x %d filters, input channels in vectors of %d */\n", px, op->out_shape.c, lanes);
    emit(e, "for (int oy = 0; oy < %d; oy++) {\n", op->out_shape.h);
    emit(e, "const float *row = in + oy * %d;\n", op->sh * op->in_shape.w * op->in_shape.c);
    emit(e, "float *orow = out + oy * %d;\n", frame_pitch(op));
    if (full) {
        emit(e, "for (int ox = 0; ox < %d; ox += %d) {\n", full, px);
        emit_dot_tile(e, op, lanes, px);
        emit(e, "}\n");
    }
    if (ow > full) {
        emit(e, "{\nconst int ox = %d;\n", full);
        emit_dot_tile(e, op, lanes, ow - full);
        emit(e, "}\n");
    }
    emit(e, "}\n");
}

static void conv_dot_emit_body(Emitter *e, const IrOp *op) {
    int lanes = simd_kernel_target(op)->lanes;
    if (lanes) {
        emit_dot_rows(e, op, lanes);
        return;
    }
    for (int i = 0; i < SIMD_AUTO_PATHS; i++) {   /* `auto`: one body per lane count */
        simd_emit_auto_branch(e, i);
        emit_dot_rows(e, op, simd_auto_paths[i].lanes);
    }
    emit(e, "#endif\n");
}

#define CONV_DOT_KERNEL(isa) {isa, conv_dot_pack, conv_dot_emit_body, false, true}
static const KernelEmitter conv_dot_kernels[] = {
    CONV_DOT_KERNEL("auto"), CONV_DOT_KERNEL("sse4"), CONV_DOT_KERNEL("avx2"),
    CONV_DOT_KERNEL("avx512"), CONV_DOT_KERNEL("neon"),
};

const KernelEmitter *conv_dot_kernel(const Target *t) {
    for (size_t i = 0; i < sizeof conv_dot_kernels / sizeof conv_dot_kernels[0]; i++)
        if (!strcmp(conv_dot_kernels[i].isa, t->name))
            return &conv_dot_kernels[i];
    return NULL;
}
