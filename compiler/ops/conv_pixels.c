/* ops/conv_pixels.c — direct convolution vectorized over output pixels, for
 * single-channel inputs with few filters (LeNet's first layer, the image
 * filters of examples/), optionally with the 2x2 pool that follows it.
 *
 * With Cin = 1 the input pixels of a row are contiguous, so one vector load
 * gives a tap's input for L neighbouring output pixels, and each filter's
 * weight is a broadcast (an embedded {1to16} operand on AVX-512): per tap,
 * one load and F fmas for L outputs, where vectorizing over F <= 8 output
 * channels would fill at most half a 16-lane vector and need a broadcast per
 * pixel.  The register tile is R conv rows x V vectors of L pixels x F
 * filters; the activation (tanh for LeNet) runs on full vectors too.  The
 * weights are read in their canonical order [KH][KW][1][F]: nothing to pack.
 *
 * The output is H-W-C (rows frame_pitch apart: it may be a frame, layout.c),
 * so each tile is transposed on the way out through a small stack array (F
 * vectors stored, then F floats per pixel copied).
 * When lowering has fused a 2x2 stride-2 pool into the op (IrOp.fused, see
 * lower.c), R = 2 rows are computed, activated, combined vertically, then
 * horizontally with the even/odd deinterleave of neighbouring vectors, and
 * only the pooled pixels are transposed and stored: the conv output never
 * reaches memory.  A row that is not a whole number of vectors ends in a
 * vector loaded with the exact tail helper (its extra lanes are zeros).
 * Measured numbers: docs/decisions/simd.md.
 */
#include "simd.h"

#include <string.h>

typedef struct PixelTile {
    int lanes;          /* L */
    int rows;           /* conv rows in flight: 2 with a fused pool, else 1 */
    int vecs;           /* most vectors of L pixels per row segment */
    int oh, ow;         /* conv rows and columns computed (a pool drops odd ends) */
    int regs;           /* vector registers of the target */
    const Layer *pool;  /* the fused pool, or NULL */
} PixelTile;

const Layer *conv_fused_pool(const IrOp *op) {
    for (int i = 0; i < op->nfused; i++)
        if (op->fused[i]->kind == LAYER_MAXPOOL || op->fused[i]->kind == LAYER_AVGPOOL)
            return op->fused[i];
    return NULL;
}

static int conv_rows(const IrOp *op) { return (op->in_shape.h - op->dh * (op->kh - 1) - 1) / op->sh + 1; }
static int conv_cols(const IrOp *op) { return op->in_shape.w - op->dw * (op->kw - 1); }

/* F*R*V accumulators, the R*V input vectors of one tap and a weight must fit
 * the register file.  With a pool, pairs of vectors make one pooled vector,
 * so V is even (or 1 when a vector holds pairs itself: L >= 2). */
static PixelTile pixel_tile(const IrOp *op, int lanes, int regs) {
    PixelTile t = {.lanes = lanes, .pool = conv_fused_pool(op), .oh = conv_rows(op), .ow = conv_cols(op), .regs = regs};
    t.rows = t.pool ? 2 : 1;
    if (t.pool)
        t.oh = op->out_shape.h * 2, t.ow = op->out_shape.w * 2;
    int row_vecs = (t.ow + lanes - 1) / lanes;
    int per_vec = t.rows * (op->out_shape.c + 1);
    t.vecs = (regs - 2) / per_vec < 1 ? 1 : (regs - 2) / per_vec;
    t.vecs = t.vecs < row_vecs ? t.vecs : row_vecs;
    if (t.pool && lanes == 1)
        t.vecs = t.vecs < 2 ? 2 : t.vecs & ~1;
    else if (t.pool && t.vecs > 1)
        t.vecs &= ~1;
    return t;
}

static void conv_pixels_pack(IrOp *op) {
    op->arrays[0] = (IrArray){"weight", op->weight.data, op->weight.count};
    op->narrays = 1;
    if (op->bias.count)
        op->arrays[op->narrays++] = (IrArray){"bias", op->bias.data, op->bias.count};
}

static void emit_init(Emitter *e, const IrOp *op, const PixelTile *t, int nvec) {
    for (int f = 0; f < op->out_shape.c; f++) {
        if (op->bias.count)
            emit(e, "const cnnc_v b%d = cnnc_vbcast(%s[%d]);\n", f, ir_array_symbol(op, 1), f);
        for (int q = 0; q < t->rows; q++)
            for (int v = 0; v < nvec; v++)
                emit(e, "cnnc_v a%d_%d_%d = %s;\n", q, v, f, op->bias.count ? arena_printf("b%d", f) : "cnnc_vzero()");
    }
}

/* One tap: R*V input vectors from `xp` (the tap's input for the tile's first
 * pixel), then per filter a broadcast weight from `wp` and R*V fmas.  The
 * last vector of a row holds `last` valid pixels (L if full). */
static void emit_tap(Emitter *e, const IrOp *op, const PixelTile *t, int nvec, int last, const char *xp,
                     const char *wp) {
    int row = op->sh * op->in_shape.w;
    for (int q = 0; q < t->rows; q++)
        for (int v = 0; v < nvec; v++) {
            int off = q * row + v * t->lanes;
            if (v == nvec - 1 && last < t->lanes)
                emit(e, "const cnnc_v x%d_%d = cnnc_vload_tail(%s + %d, %d);\n", q, v, xp, off, last);
            else
                emit(e, "const cnnc_v x%d_%d = %s;\n", q, v,
                     simd_reused_load(arena_printf("%s + %d", xp, off), op->out_shape.c));
        }
    for (int f = 0; f < op->out_shape.c; f++) {
        emit(e, "w = cnnc_vbcast(%s[%d]);", wp, f);
        for (int q = 0; q < t->rows; q++)
            for (int v = 0; v < nvec; v++)
                emit(e, " a%d_%d_%d = cnnc_vfma(x%d_%d, w, a%d_%d_%d);", q, v, f, q, v, q, v, f);
        emit(e, "\n");
    }
}

/* One kernel row from xk and wk: a kx loop, or the taps with constant
 * offsets. */
static void emit_kernel_row(Emitter *e, const IrOp *op, const PixelTile *t, int nvec, int last, bool roll_kx) {
    int f = op->out_shape.c;
    if (roll_kx) {
        emit(e, "for (int kx = 0; kx < %d; kx++) {\n", op->kw);
        emit_tap(e, op, t, nvec, last, arena_printf("(xk + kx * %d)", op->dw), arena_printf("(wk + kx * %d)", f));
        emit(e, "}\n");
        return;
    }
    for (int kx = 0; kx < op->kw; kx++) {
        emit(e, "{\n");
        emit_tap(e, op, t, nvec, last, arena_printf("(xk + %d)", kx * op->dw), arena_printf("(wk + %d)", kx * f));
        emit(e, "}\n");
    }
}

/* The kernel window: ky rolled unless --unroll=full, kx unrolled unless
 * --unroll=none (or the row is longer than 16 taps under auto). */
static void emit_window(Emitter *e, const IrOp *op, const PixelTile *t, int nvec, int last) {
    int row = op->dh * op->in_shape.w, wrow = op->kw * op->out_shape.c;
    bool roll_ky = op->unroll != UNROLL_FULL || op->kh * op->kw > SIMD_FULL_UNROLL_MAX_STEPS;
    bool roll_kx = op->unroll == UNROLL_NONE || (op->unroll == UNROLL_AUTO && op->kw > 16) ||
                   (op->unroll == UNROLL_FULL && op->kw > SIMD_FULL_UNROLL_MAX_STEPS);
    const char *w = ir_array_symbol(op, 0);
    emit(e, "cnnc_v w;\n");
    if (roll_ky) {
        emit(e, "for (int ky = 0; ky < %d; ky++) {\n", op->kh);
        const char *xk = arena_printf("x0 + ky * %d", row);
        /* The tile's later rows load the next ky's inputs of its first rows.
         * Live: per row vector, F accumulators and the kept input vector. */
        if (!roll_kx)
            xk = simd_opaque_row(xk, (op->out_shape.c + 1) * t->rows * nvec, (t->rows - 1) * nvec * op->kw,
                                 t->regs);
        emit(e, "const float *xk = %s, *wk = %s + ky * %d;\n", xk, w, wrow);
        emit_kernel_row(e, op, t, nvec, last, roll_kx);
        emit(e, "}\n");
        return;
    }
    for (int ky = 0; ky < op->kh; ky++) {
        emit(e, "{\n");
        emit(e, "const float *xk = x0 + %d, *wk = %s + %d;\n", ky * row, w, ky * wrow);
        emit_kernel_row(e, op, t, nvec, last, roll_kx);
        emit(e, "}\n");
    }
}

/* `n` vectors of filter f, named by `name(v)`, transposed into H-W-C through
 * the stack array t: `pixels` pixels from `o`. */
static void emit_transposed_store(Emitter *e, const IrOp *op, const PixelTile *t, int n, int pixels,
                                  const char *(*name)(int v, int f)) {
    int f_count = op->out_shape.c;
    emit(e, "float t[%d][%d];\n", f_count, n * t->lanes);
    for (int f = 0; f < f_count; f++)
        for (int v = 0; v < n; v++)
            emit(e, "cnnc_vstore(t[%d] + %d, %s);\n", f, v * t->lanes, name(v, f));
    emit(e, "for (int p = 0; p < %d; p++) {\n", pixels);
    for (int f = 0; f < f_count; f++)
        emit(e, "o[p * %d + %d] = t[%d][p];\n", f_count, f, f);
    emit(e, "}\n");
}

static const char *activated(int v, int f) { return arena_printf("y%d_%d", v, f); }
static const char *pooled(int v, int f) { return arena_printf("p%d_%d", v, f); }

static const char *act_of(const IrOp *op, int q, int v, int f) {
    return simd_act_expr(op->act, op->alpha, arena_printf("a%d_%d_%d", q, v, f));
}

/* Each accumulator activated as soon as it is read, so few values are live
 * at once (all of them at once spilled on AVX2). */
static void emit_activation(Emitter *e, const IrOp *op, int nvec) {
    for (int v = 0; v < nvec; v++)
        for (int f = 0; f < op->out_shape.c; f++)
            emit(e, "const cnnc_v y%d_%d = %s;\n", v, f, act_of(op, 0, v, f));
}

/* 2x2 pool: the two rows combined (activated on the way), then neighbouring
 * pixels: even and odd lanes of vectors 2u and 2u+1 (or of one vector and
 * zeros); avg scales by 1/4. */
static void emit_pool(Emitter *e, const IrOp *op, const PixelTile *t, int nvec) {
    bool is_max = t->pool->kind == LAYER_MAXPOOL;
    const char *combine = is_max ? "cnnc_vmaxnan" : "cnnc_vadd";
    for (int v = 0; v < nvec; v++)
        for (int f = 0; f < op->out_shape.c; f++)
            emit(e, "const cnnc_v r%d_%d = %s(%s, %s);\n", v, f, combine, act_of(op, 0, v, f), act_of(op, 1, v, f));
    for (int u = 0; u < (nvec + 1) / 2; u++)
        for (int f = 0; f < op->out_shape.c; f++) {
            const char *a = arena_printf("r%d_%d", 2 * u, f);
            const char *b = 2 * u + 1 < nvec ? arena_printf("r%d_%d", 2 * u + 1, f) : "cnnc_vzero()";
            const char *pair = arena_printf("%s(cnnc_veven(%s, %s), cnnc_vodd(%s, %s))", combine, a, b, a, b);
            emit(e, "const cnnc_v p%d_%d = %s;\n", u, f,
                 is_max ? pair : arena_printf("cnnc_vmul(%s, cnnc_vbcast(0.25f))", pair));
        }
}

/* One segment of `pixels` conv columns from `ox` (a C variable) in conv rows
 * oy..oy+R-1. */
static void emit_segment(Emitter *e, const IrOp *op, const PixelTile *t, int pixels) {
    int nvec = (pixels + t->lanes - 1) / t->lanes, last = pixels - (nvec - 1) * t->lanes;
    emit(e, "const float *x0 = in + oy * %d + ox;\n", op->sh * op->in_shape.w);
    emit_init(e, op, t, nvec);
    emit_window(e, op, t, nvec, last);
    int f = op->out_shape.c;
    if (t->pool) {
        emit_pool(e, op, t, nvec);
        emit(e, "float *o = out + (oy / 2) * %d + (ox / 2) * %d;\n", frame_pitch(op), f);
        emit_transposed_store(e, op, t, (nvec + 1) / 2, pixels / 2, pooled);
    } else {
        emit_activation(e, op, nvec);
        emit(e, "float *o = out + oy * %d + ox * %d;\n", frame_pitch(op), f);
        emit_transposed_store(e, op, t, nvec, pixels, activated);
    }
}

/* Rows in steps of R; each row in segments of V*L pixels, then the rest. */
static void emit_pixels_for_tile(Emitter *e, const IrOp *op, const PixelTile *t) {
    int seg = t->vecs * t->lanes, full = t->ow / seg * seg;
    emit(e, "/* tile: %d rows x %d vectors of %d pixels x %d filters%s */\n", t->rows, t->vecs, t->lanes,
         op->out_shape.c, t->pool ? ", 2x2 pool in registers" : "");
    emit(e, "for (int oy = 0; oy < %d; oy += %d) {\n", t->oh, t->rows);
    if (full) {
        emit(e, "for (int ox = 0; ox < %d; ox += %d) {\n", full, seg);
        emit_segment(e, op, t, seg);
        emit(e, "}\n");
    }
    if (full < t->ow) {
        emit(e, "{\nconst int ox = %d;\n", full);
        emit_segment(e, op, t, t->ow - full);
        emit(e, "}\n");
    }
    emit(e, "}\n");
}

static void conv_pixels_emit_body(Emitter *e, const IrOp *op) {
    const Target *target = simd_kernel_target(op);
    if (target->lanes) {
        PixelTile t = pixel_tile(op, target->lanes, simd_register_count(target));
        emit_pixels_for_tile(e, op, &t);
        return;
    }
    for (int i = 0; i < SIMD_AUTO_PATHS; i++) {
        PixelTile t = pixel_tile(op, simd_auto_paths[i].lanes, simd_auto_paths[i].regs);
        simd_emit_auto_branch(e, i);
        emit_pixels_for_tile(e, op, &t);
    }
    emit(e, "#endif\n");
}

#define CONV_PIXELS_KERNEL(isa) {isa, conv_pixels_pack, conv_pixels_emit_body, false, true}
static const KernelEmitter conv_pixels_kernels[] = {
    CONV_PIXELS_KERNEL("auto"), CONV_PIXELS_KERNEL("sse4"), CONV_PIXELS_KERNEL("avx2"),
    CONV_PIXELS_KERNEL("avx512"), CONV_PIXELS_KERNEL("neon"),
};

/* One input channel, unit horizontal stride, at most 8 filters (the
 * accumulators of 2 rows x 8 filters still leave vectors of pixels room on
 * a 32-register ISA), and no padding: the conv_simd_kernel conditions. */
bool conv_pixels_applies(const IrOp *op) {
    return op->in_shape.c == 1 && op->sw == 1 && op->out_shape.c <= 8;
}

const KernelEmitter *conv_pixels_kernel(const Target *t) {
    for (size_t i = 0; i < sizeof conv_pixels_kernels / sizeof conv_pixels_kernels[0]; i++)
        if (!strcmp(conv_pixels_kernels[i].isa, t->name))
            return &conv_pixels_kernels[i];
    return NULL;
}
