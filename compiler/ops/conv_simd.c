/* ops/conv_simd.c — direct convolution vectorized over output channels.
 *
 * Activations are H-W-C, so the F output channels of one pixel are
 * contiguous.  The kernel keeps a register tile of PX output pixels along a
 * row times NB vectors of output channels (NB*PX accumulators), and for each
 * tap and input channel broadcasts one input value per pixel and multiplies
 * it into NB weight vectors (XNNPACK's "igemm" shape without the indirection
 * buffer: the input is already zero-padded by a PAD op, so every tap is in
 * range and there is no border code).  Bias starts the accumulators, the
 * activation is applied at store, and a last vector of fewer than L channels
 * is stored with the exact tail helpers.
 *
 * Weights are repacked at compile time in the order the kernel streams them:
 * blocks of BW output channels, each [KH][KW][Cin][BW].  For a fixed target
 * BW = NB*L, so one sub-block reads one contiguous stream; for `auto` the
 * lane count is only known to the C compiler, so BW = 16 (a multiple of every
 * lane count) and the body is emitted once per lane count under #if.
 * When the dilation is 1 the KW*Cin values of a kernel row are contiguous in
 * both input and weights and the inner loop runs over them in one go; a short
 * row (1- and 3-channel first layers) is unrolled with constant offsets.
 * The tile is sized to the register file (16 or 32 vectors): see tile_for.
 * Measured numbers and the reasons for these choices: docs/decisions/simd.md.
 */
#include "simd.h"

#include <string.h>

/* The register tile for one lane count. */
typedef struct ConvTile {
    int lanes;   /* L: floats per vector */
    int nb;      /* vectors of output channels per sub-block */
    int px;      /* most output pixels per tile */
    int bw;      /* packed block width in channels */
    int rows;    /* output rows one tile spans (narrow outputs), else 1 */
} ConvTile;

const Target *simd_kernel_target(const IrOp *op) {
    const Target *t = target_by_name(op->kernel->isa);
    if (!t)
        die("simd kernel for unknown isa %s", op->kernel->isa);
    return t;
}

int simd_register_count(const Target *t) {
    return t->kind == TARGET_AVX512 || t->kind == TARGET_NEON ? 32 : 16;
}

/* NB*PX accumulators + NB weight vectors + a broadcast must fit the
 * register file.  Two-operand SSE without FMA also needs a product, a copy
 * of the weight and the activation constant gcc keeps live: 6 spare in all
 * (with 5 spare gcc spilled an accumulator to the stack inside the loop: the
 * sse4 policy net went 13.2 -> 8.8 ms).  An output at most PX/2 wide gets
 * tiles of whole rows, so small layers still fill the tile. */
static ConvTile tile_for(const IrOp *op, int lanes, int regs, bool fma, bool auto_bw) {
    ConvTile t = {.lanes = lanes};
    int nvec = (op->out_shape.c + lanes - 1) / lanes;
    int most = regs >= 32 ? 4 : 2;
    t.nb = nvec < most ? nvec : most;
    int px = (regs - t.nb - (fma ? 1 : 6)) / t.nb;
    t.px = px > 8 ? 8 : px;
    t.bw = auto_bw ? 16 : t.nb * lanes;
    t.rows = op->out_shape.w * 2 <= t.px ? t.px / op->out_shape.w : 1;
    return t;
}

/* The tile the packed weights are laid out for (auto: any, BW is 16). */
static ConvTile packing_tile(const IrOp *op) {
    const Target *t = simd_kernel_target(op);
    if (t->lanes == 0)
        return tile_for(op, 16, 32, true, true);
    return tile_for(op, t->lanes, simd_register_count(t), t->fma, false);
}

static void conv_simd_pack(IrOp *op) {
    int f = op->out_shape.c, bw = packing_tile(op).bw;
    long long taps = (long long)op->kh * op->kw * op->in_shape.c;
    long long fpad = (f + bw - 1) / bw * bw;
    float *packed = NULL;
    if (op->weight.data) {
        packed = arena_alloc((size_t)(fpad * taps) * sizeof *packed);
        for (long long t = 0; t < taps; t++)
            for (int j = 0; j < f; j++)
                packed[(j / bw) * taps * bw + t * bw + j % bw] = op->weight.data[t * f + j];
    }
    op->arrays[0] = (IrArray){"weight", packed, fpad * taps};
    op->narrays = 1;
    if (op->bias.count)
        op->arrays[op->narrays++] = (IrArray){"bias", op->bias.data, op->bias.count};
}

const char *simd_act_expr(ActKind act, float alpha, const char *x) {
    switch (act) {
    case ACT_RELU: return arena_printf("cnnc_vrelu(%s)", x);
    case ACT_RELU6: return arena_printf("cnnc_vrelu6(%s)", x);
    case ACT_LEAKY_RELU: return arena_printf("cnnc_vleaky_relu(%s, %.9ef)", x, (double)alpha);
    case ACT_SIGMOID: return arena_printf("cnnc_vsigmoid(%s)", x);
    case ACT_TANH: return arena_printf("cnnc_vtanh(%s)", x);
    case ACT_LINEAR: return x;
    case ACT_SOFTMAX: break;
    }
    unreachable();
}

/* Offset of channel j (relative to a block-aligned sub-block start) in the
 * packed weights: whole blocks of BW channels, then the place in a block. */
static long long packed_offset(const IrOp *op, const ConvTile *t, int j) {
    long long block = (long long)op->kh * op->kw * op->in_shape.c * t->bw;
    return (j / t->bw) * block + j % t->bw;
}

static void emit_tile_init(Emitter *e, const IrOp *op, int nb, int px, int tail, int lanes) {
    for (int v = 0; v < nb; v++) {
        bool is_tail = tail && v == nb - 1;
        if (!op->bias.count)
            emit(e, "cnnc_v a0_%d = cnnc_vzero();\n", v);
        else if (is_tail)
            emit(e, "cnnc_v a0_%d = cnnc_vload_tail(%s + f0 + %d, %d);\n", v, ir_array_symbol(op, 1),
                 v * lanes, tail);
        else
            emit(e, "cnnc_v a0_%d = cnnc_vload(%s + f0 + %d);\n", v, ir_array_symbol(op, 1), v * lanes);
        for (int p = 1; p < px; p++)
            emit(e, "cnnc_v a%d_%d = a0_%d;\n", p, v, v);
    }
}

/* Input offset of pixel p of a tile: along the row, or for a tile spanning
 * several rows (t->rows > 1, whole rows) row by row. */
static int input_offset(const IrOp *op, const ConvTile *t, int p) {
    int ow = t->rows > 1 ? op->out_shape.w : p + 1;
    return (p / ow) * op->sh * op->in_shape.w * op->in_shape.c + (p % ow) * op->sw * op->in_shape.c;
}

/* One step of the reduction: NB weight vectors, then per pixel a broadcast
 * and NB fmas.  `xs` indexes the input, `ws` the packed weights. */
static void emit_tile_step(Emitter *e, const IrOp *op, const ConvTile *t, int nb, int px,
                           const char *xs, const char *ws) {
    for (int v = 0; v < nb; v++)
        emit(e, "const cnnc_v w%d = cnnc_vload(%s + %lld);\n", v, ws, packed_offset(op, t, v * t->lanes));
    for (int p = 0; p < px; p++) {
        emit(e, "x = cnnc_vbcast(%s[%d]);", xs, input_offset(op, t, p));
        for (int v = 0; v < nb; v++)
            emit(e, " a%d_%d = cnnc_vfma(x, w%d, a%d_%d);", p, v, v, p, v);
        emit(e, "\n");
    }
}

/* A short kernel row (first layers: KW*Cin = 3 or 9) is unrolled with
 * constant offsets: no loop overhead between the few fmas per output.  The
 * ky loop stays rolled, which keeps gcc from hoisting every weight load out
 * of the pixel loop (that spills on AVX-512). */
#define UNROLL_MAX_STEPS 16

static void emit_kernel_row_unrolled(Emitter *e, const IrOp *op, const ConvTile *t, int nb, int px) {
    for (int j = 0; j < op->kw * op->in_shape.c; j++) {
        emit(e, "{\n");
        emit_tile_step(e, op, t, nb, px, arena_printf("(xk + %d)", j), arena_printf("(wk + %d)", j * t->bw));
        emit(e, "}\n");
    }
}

static void emit_tile_reduction(Emitter *e, const IrOp *op, const ConvTile *t, int nb, int px) {
    int c = op->in_shape.c, row = op->in_shape.w * c;
    emit(e, "cnnc_v x;\n");
    emit(e, "for (int ky = 0; ky < %d; ky++) {\n", op->kh);
    if (op->dw == 1) {
        emit(e, "const float *xk = x0 + ky * %d, *wk = w + ky * %d;\n", op->dh * row, op->kw * c * t->bw);
        if (op->kw * c <= UNROLL_MAX_STEPS) {
            emit_kernel_row_unrolled(e, op, t, nb, px);
        } else {
            emit(e, "for (int j = 0; j < %d; j++) {\n", op->kw * c);
            emit_tile_step(e, op, t, nb, px, "(xk + j)", arena_printf("(wk + j * %d)", t->bw));
            emit(e, "}\n");
        }
    } else {
        emit(e, "for (int kx = 0; kx < %d; kx++) {\n", op->kw);
        emit(e, "const float *xk = x0 + ky * %d + kx * %d, *wk = w + (ky * %d + kx) * %d;\n",
             op->dh * row, op->dw * c, op->kw, c * t->bw);
        emit(e, "for (int j = 0; j < %d; j++) {\n", c);
        emit_tile_step(e, op, t, nb, px, "(xk + j)", arena_printf("(wk + j * %d)", t->bw));
        emit(e, "}\n");
        emit(e, "}\n");
    }
    emit(e, "}\n");
}

static void emit_tile_store(Emitter *e, const IrOp *op, int nb, int px, int tail, int lanes) {
    int f = op->out_shape.c;
    for (int p = 0; p < px; p++)
        for (int v = 0; v < nb; v++) {
            const char *val = simd_act_expr(op->act, op->alpha, arena_printf("a%d_%d", p, v));
            if (tail && v == nb - 1)
                emit(e, "cnnc_vstore_tail(o + %d, %s, %d);\n", p * f + v * lanes, val, tail);
            else
                emit(e, "cnnc_vstore(o + %d, %s);\n", p * f + v * lanes, val);
        }
}

/* PX pixels from `ox` times NB channel vectors from `f0`. */
static void emit_tile(Emitter *e, const IrOp *op, const ConvTile *t, int nb, int px, int tail) {
    emit(e, "const float *x0 = row + ox * %d;\n", op->sw * op->in_shape.c);
    emit(e, "float *o = orow + ox * %d + f0;\n", op->out_shape.c);
    emit_tile_init(e, op, nb, px, tail, t->lanes);
    emit_tile_reduction(e, op, t, nb, px);
    emit_tile_store(e, op, nb, px, tail, t->lanes);
}

/* The output row split into tiles of at most t->px pixels, as even as
 * possible: `na` tiles of `pxa` pixels, then tiles of pxa-1. */
static void emit_row_tiles(Emitter *e, const IrOp *op, const ConvTile *t, int nb, int tail) {
    int ow = op->out_shape.w;
    if (t->rows > 1) {   /* one tile of whole rows */
        emit(e, "{\n");
        emit(e, "const int ox = 0;\n");
        emit_tile(e, op, t, nb, t->rows * ow, tail);
        emit(e, "}\n");
        return;
    }
    int ntiles = (ow + t->px - 1) / t->px;
    int pxa = (ow + ntiles - 1) / ntiles;
    int na = ow - ntiles * (pxa - 1);
    emit(e, "for (int ox = 0; ox < %d; ox += %d) {\n", na * pxa, pxa);
    emit_tile(e, op, t, nb, pxa, tail);
    emit(e, "}\n");
    if (na == ntiles)
        return;
    emit(e, "for (int ox = %d; ox < %d; ox += %d) {\n", na * pxa, ow, pxa - 1);
    emit_tile(e, op, t, nb, pxa - 1, tail);
    emit(e, "}\n");
}

/* Full sub-blocks of NB vectors, then the rest (ending in a tail vector
 * when F is not a multiple of L). */
static void emit_channel_blocks(Emitter *e, const IrOp *op, const ConvTile *t) {
    int f = op->out_shape.c, lanes = t->lanes;
    int full_vecs = f / lanes, tail = f % lanes;
    int nsub = full_vecs / t->nb, rest = full_vecs % t->nb + (tail ? 1 : 0);
    const char *w = ir_array_symbol(op, 0);
    if (nsub) {
        emit(e, "for (int f0 = 0; f0 < %d; f0 += %d) {\n", nsub * t->nb * lanes, t->nb * lanes);
        emit(e, "const float *w = %s + (f0 / %d) * %lld + f0 %% %d;\n", w, t->bw, packed_offset(op, t, t->bw),
             t->bw);
        emit_row_tiles(e, op, t, t->nb, 0);
        emit(e, "}\n");
    }
    if (rest) {
        emit(e, "{\n");
        emit(e, "const int f0 = %d;\n", nsub * t->nb * lanes);
        emit(e, "const float *w = %s + %lld;\n", w, packed_offset(op, t, nsub * t->nb * lanes));
        emit_row_tiles(e, op, t, rest, tail);
        emit(e, "}\n");
    }
}

static void emit_output_rows(Emitter *e, const IrOp *op, const ConvTile *t) {
    emit(e, "const float *row = in + oy * %d;\n", op->sh * op->in_shape.w * op->in_shape.c);
    emit(e, "float *orow = out + oy * %d;\n", op->out_shape.w * op->out_shape.c);
    emit_channel_blocks(e, op, t);
}

/* Rows in steps of t->rows (1 unless the output is narrow), then the rows
 * left over, as a tile of fewer rows. */
static void emit_conv_for_tile(Emitter *e, const IrOp *op, const ConvTile *t) {
    int oh = op->out_shape.h, step = t->rows, rest = oh % step;
    emit(e, "/* tile: %d pixels x %d vectors of %d channels; weights in blocks of %d */\n",
         step > 1 ? step * op->out_shape.w : t->px, t->nb, t->lanes, t->bw);
    if (oh - rest) {
        emit(e, "for (int oy = 0; oy < %d; oy += %d) {\n", oh - rest, step);
        emit_output_rows(e, op, t);
        emit(e, "}\n");
    }
    if (rest) {
        ConvTile last = *t;
        last.rows = rest;
        emit(e, "{\n");
        emit(e, "const int oy = %d;\n", oh - rest);
        emit_output_rows(e, op, &last);
        emit(e, "}\n");
    }
}

/* `auto`: one body per lane count the runtime header may pick, all reading
 * the same BW=16 packing. */
static void emit_conv_auto(Emitter *e, const IrOp *op) {
    static const struct { int lanes, regs; bool fma; } paths[] = {
        {16, 32, true}, {8, 16, true}, {4, 16, false}, {1, 16, false}};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        ConvTile t = tile_for(op, paths[i].lanes, paths[i].regs, paths[i].fma, true);
        if (i + 1 < sizeof paths / sizeof paths[0])
            emit(e, "#%s CNNC_LANES == %d\n", i ? "elif" : "if", paths[i].lanes);
        else
            emit(e, "#else\n");
        emit_conv_for_tile(e, op, &t);
    }
    emit(e, "#endif\n");
}

static void conv_simd_emit_body(Emitter *e, const IrOp *op) {
    if (simd_kernel_target(op)->lanes == 0) {
        emit_conv_auto(e, op);
        return;
    }
    ConvTile t = packing_tile(op);
    emit_conv_for_tile(e, op, &t);
}

#define CONV_SIMD_KERNEL(isa) {isa, conv_simd_pack, conv_simd_emit_body, false}
static const KernelEmitter conv_simd_kernels[] = {
    CONV_SIMD_KERNEL("auto"), CONV_SIMD_KERNEL("sse4"), CONV_SIMD_KERNEL("avx2"),
    CONV_SIMD_KERNEL("avx512"), CONV_SIMD_KERNEL("neon"),
};

/* Any conv on an unpadded (or PAD-op padded) input with a per-channel bias;
 * a per-position bias or a fused softmax stays with the scalar kernel. */
const KernelEmitter *conv_simd_kernel(const IrOp *op, const Target *t) {
    if (op->per_position_bias || op->act == ACT_SOFTMAX)
        return NULL;
    if (op->pad_top || op->pad_bottom || op->pad_left || op->pad_right)
        return NULL;
    for (size_t i = 0; i < sizeof conv_simd_kernels / sizeof conv_simd_kernels[0]; i++)
        if (!strcmp(conv_simd_kernels[i].isa, t->name))
            return &conv_simd_kernels[i];
    return NULL;
}
