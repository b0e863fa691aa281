/* ops/conv_simd.c — direct convolution vectorized over output channels.
 *
 * Activations are H-W-C, so the F output channels of one pixel are
 * contiguous.  The kernel keeps a register tile of PX output pixels along a
 * row times NB vectors of output channels (NB*PX accumulators), and for each
 * tap and input channel broadcasts one input value per pixel and multiplies
 * it into NB weight vectors (XNNPACK's "igemm" shape without the indirection
 * buffer: the input is already zero-padded, by a PAD op or by the producer
 * writing a frame (layout.c), so every tap is in range and there is no
 * border code).  Output rows are frame_pitch apart, so the kernel can write
 * the next padded conv's frame itself.  Bias starts the accumulators, the
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
 * row (1- and 3-channel first layers) is unrolled with constant offsets
 * (--unroll=full unrolls more, none nothing but the tile).
 * The tile is sized to the register file (16 or 32 vectors): see tile_for.
 * A 2x2 pool that lowering fused into the op (IrOp.fused) is applied at
 * store: tiles then span 2 conv rows and an even number of columns, and
 * only the pooled pixels are written.  One input channel with few filters
 * goes to conv_pixels.c instead.
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
    int rows;    /* output rows one tile spans (narrow outputs, pooling), else 1 */
    int cols;    /* columns of the tile body being emitted (pixel p is at
                    row p / cols, column p % cols of the tile) */
    const Layer *pool;   /* a fused 2x2 pool: 2-row tiles, pooled at store */
    int pooled_cols;     /* with a pool: most pooled columns per tile */
    bool by_input;       /* kernel row in input order (emit_row_by_input) */
    int regs;            /* vector registers of the target */
} ConvTile;

#define PX_CAP_POOLED 16

const AutoPath simd_auto_paths[SIMD_AUTO_PATHS] = {
    {16, 32, true, true}, {8, 16, true, true}, {4, 16, false, false}, {1, 16, false, false}};

void simd_emit_auto_branch(Emitter *e, int i) {
    if (i + 1 < SIMD_AUTO_PATHS)
        emit(e, "#%s CNNC_LANES == %d\n", i ? "elif" : "if", simd_auto_paths[i].lanes);
    else
        emit(e, "#else\n");
}

const Target *simd_kernel_target(const IrOp *op) {
    const Target *t = target_by_name(op->kernel->isa);
    if (!t)
        die("simd kernel for unknown isa %s", op->kernel->isa);
    return t;
}

int simd_register_count(const Target *t) {
    return t->kind == TARGET_AVX512 || t->kind == TARGET_NEON ? 32 : 16;
}

const char *simd_opaque_row(const char *row, int live, int carried, int regs) {
    return live + carried > regs - 2 ? arena_printf("cnnc_opaque_row(%s)", row) : row;
}

const char *simd_reused_load(const char *at, int uses) {
    return arena_printf("%s(%s)", uses > 1 ? "cnnc_vload_keep" : "cnnc_vload", at);
}

/* A short kernel row is unrolled (emit_tap_levels); when neighbouring
 * pixels of a tile read overlapping inputs (stride below the kernel width:
 * the 1- and 3-channel first layers), the same input value is broadcast for
 * several (pixel, tap) steps, and gcc merges those broadcasts and keeps them
 * live across the row. */
static bool shares_broadcasts(const IrOp *op) {
    return op->kw * op->in_shape.c <= 16 && op->sw < op->kw;
}

/* Such a row is then emitted in input order (emit_row_by_input), where each
 * broadcast is used at once by every pixel that reads it; it needs the KW
 * weight vectors of a channel live.  With dilation 1 (the row is contiguous)
 * and fma; --unroll=none keeps the row a loop, which shares nothing. */
static bool row_by_input(const IrOp *op, bool fma) {
    return fma && shares_broadcasts(op) && op->dw == 1 && op->unroll != UNROLL_NONE;
}

/* A pooled tile in input order on 16 registers with NB = 2 has 2x2 pixels x
 * 2 vectors = 8 accumulators, each taking KW·Cin fmas per kernel row in a
 * chain exactly as long as the 2 fma ports need for all 8 (4 cycles of
 * latency): latency bound, flowers conv1 at 69% of the fma peak (llvm-mca).
 * NB = 1 gives 2 rows x 6 pixels = 12 chains (16 registers with the 3
 * weights and the broadcast; gcc spills a few, the loads are cheap):
 * flowers conv1 +8%, cifar conv1 +4-20% (alternated kernel bench, Zen 3).
 * With fewer than 27 taps per output (MNIST's one channel) the tile's
 * fixed cost dominates and NB = 2 stays (4.8 against 7-8 us). */
static bool one_vector_pooled_tile(const IrOp *op, int regs, bool by_input) {
    return regs == 16 && by_input && conv_fused_pool(op) && op->kh * op->kw * op->in_shape.c >= 27;
}

/* NB*PX accumulators + the weight vectors + a broadcast must fit the
 * register file.  Two-operand SSE without FMA also needs a product, a copy
 * of the weight and the activation constant gcc keeps live: 6 spare in all
 * (with 5 spare gcc spilled an accumulator to the stack inside the loop: the
 * sse4 policy net went 13.2 -> 8.8 ms).  A row in input order keeps KW*NB
 * weight vectors; a dilated row with shared broadcasts keeps 2 registers
 * spare on AVX2 for them.  An output at most PX/2 wide gets tiles of whole
 * rows, so small layers still fill the tile. */
static ConvTile tile_for(const IrOp *op, int lanes, int regs, bool fma, bool auto_bw) {
    ConvTile t = {.lanes = lanes, .by_input = row_by_input(op, fma), .regs = regs};
    int nvec = (op->out_shape.c + lanes - 1) / lanes;
    int most = regs >= 32 ? 4 : 2;
    t.nb = nvec < most ? nvec : most;
    if (one_vector_pooled_tile(op, regs, t.by_input))
        t.nb = 1;
    int weights = t.by_input ? op->kw * t.nb : t.nb;
    int shared = regs == 16 && fma && shares_broadcasts(op) && !t.by_input ? 2 : 0;
    int px = (regs - weights - (fma ? 1 : 6) - shared) / t.nb;
    t.pool = conv_fused_pool(op);
    int cap = t.pool && t.nb == 1 ? PX_CAP_POOLED : 8;
    t.px = px > cap ? cap : px;
    t.bw = auto_bw ? 16 : t.nb * lanes;
    t.rows = op->out_shape.w * 2 <= t.px ? t.px / op->out_shape.w : 1;
    t.pooled_cols = t.px / 4 > 1 ? t.px / 4 : 1;
    if (t.pool)
        t.rows = 2;
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

bool simd_act_commutes_with_max(ActKind act, float alpha) {
    return act != ACT_SOFTMAX && !(act == ACT_LEAKY_RELU && alpha < 0);
}

static SimdBlocks conv_blocks(const IrOp *op, const ConvTile *t) {
    long long taps = (long long)op->kh * op->kw * op->in_shape.c;
    return (SimdBlocks){op->out_shape.c, t->lanes, t->nb, t->bw, taps * t->bw};
}

/* Offset of channel j (relative to a block-aligned sub-block start) in the
 * packed weights: whole blocks of BW channels, then the place in a block. */
static long long packed_offset(const IrOp *op, const ConvTile *t, int j) {
    SimdBlocks b = conv_blocks(op, t);
    return simd_packed_offset(&b, j);
}

/* The conv's own output width (out_shape is the pooled one when a pool is
 * fused); a per-position bias has one row of this many pixels per conv row. */
static int conv_cols(const IrOp *op) { return (op->in_shape.w - op->dw * (op->kw - 1) - 1) / op->sw + 1; }

/* One accumulator's starting value: zero, the channels' bias, or the bias of
 * pixel p of the tile (at conv row oy + p / cols, column ox + p % cols). */
static const char *tile_start(const IrOp *op, const ConvTile *t, int p, int v, int tail) {
    if (!op->bias.count)
        return "cnnc_vzero()";
    const char *at = arena_printf("%s + f0 + %d", ir_array_symbol(op, 1), v * t->lanes);
    if (op->per_position_bias)
        at = arena_printf("%s + ((oy + %d) * %d + ox + %d) * %d", at, p / t->cols, conv_cols(op), p % t->cols,
                          op->out_shape.c);
    return tail ? arena_printf("cnnc_vload_tail(%s, %d)", at, tail) : arena_printf("cnnc_vload(%s)", at);
}

/* A per-channel bias is loaded once per vector and copied to every pixel. */
static void emit_tile_init(Emitter *e, const IrOp *op, const ConvTile *t, int nb, int px, int tail) {
    for (int v = 0; v < nb; v++) {
        int vtail = tail && v == nb - 1 ? tail : 0;
        for (int p = 0; p < px; p++)
            if (p == 0 || op->per_position_bias)
                emit(e, "cnnc_v a%d_%d = %s;\n", p, v, tile_start(op, t, p, v, vtail));
            else
                emit(e, "cnnc_v a%d_%d = a0_%d;\n", p, v, v);
    }
}

/* Input offset of pixel p of a tile: row by row, t->cols to a row. */
static int input_offset(const IrOp *op, const ConvTile *t, int p) {
    return (p / t->cols) * op->sh * op->in_shape.w * op->in_shape.c + (p % t->cols) * op->sw * op->in_shape.c;
}

/* One step of the reduction: NB weight vectors, then per pixel a broadcast
 * and NB fmas.  `xs` indexes the input, `ws` the packed weights. */
static void emit_tile_step(Emitter *e, const IrOp *op, const ConvTile *t, int nb, int px,
                           const char *xs, const char *ws) {
    for (int v = 0; v < nb; v++)
        emit(e, "const cnnc_v w%d = %s;\n", v,
             simd_reused_load(arena_printf("%s + %lld", ws, packed_offset(op, t, v * t->lanes)), px));
    for (int p = 0; p < px; p++) {
        emit(e, "x = cnnc_vbcast(%s[%d]);", xs, input_offset(op, t, p));
        for (int v = 0; v < nb; v++)
            emit(e, " a%d_%d = cnnc_vfma(x, w%d, a%d_%d);", p, v, v, p, v);
        emit(e, "\n");
    }
}

/* The reduction of a tile is up to three nested loops over the taps: ky,
 * then kx, then the input channel j; with dilation 1 the KW*Cin values of a
 * kernel row are contiguous in input and weights, so kx and j merge into one
 * loop j < KW*Cin.  Each level moves the input by `xstride` floats and the
 * packed weights by `wstride`. */
typedef struct TapLevel {
    const char *var;
    int n, xstride;
    long long wstride;
} TapLevel;

static int tap_levels(const IrOp *op, const ConvTile *t, TapLevel lv[3]) {
    int c = op->in_shape.c, row = op->in_shape.w * c;
    lv[0] = (TapLevel){"ky", op->kh, op->dh * row, (long long)op->kw * c * t->bw};
    if (op->dw == 1) {
        lv[1] = (TapLevel){"j", op->kw * c, 1, t->bw};
        return 2;
    }
    lv[1] = (TapLevel){"kx", op->kw, op->dw * c, (long long)c * t->bw};
    lv[2] = (TapLevel){"j", c, 1, t->bw};
    return 3;
}

/* A short kernel row (first layers: KW*Cin = 3 or 9) is unrolled with
 * constant offsets: no loop overhead between the few fmas per output.  The
 * ky loop stays rolled, which keeps gcc from hoisting every weight load out
 * of the pixel loop (that spills on AVX-512). */
#define UNROLL_MAX_STEPS 16

/* The first level unrolled with constant offsets (nlv: none).  --unroll=none
 * unrolls nothing but the tile, auto a short innermost loop, full every
 * level inside SIMD_FULL_UNROLL_MAX_STEPS steps. */
static int first_unrolled_level(const IrOp *op, const TapLevel *lv, int nlv) {
    if (op->unroll == UNROLL_NONE)
        return nlv;
    if (op->unroll == UNROLL_AUTO)
        return lv[nlv - 1].n <= UNROLL_MAX_STEPS ? nlv - 1 : nlv;
    long long steps = 1;
    int u = nlv;
    while (u > 0 && steps * lv[u - 1].n <= SIMD_FULL_UNROLL_MAX_STEPS)
        steps *= lv[--u].n;
    return u;
}

/* One kernel row (KW taps x Cin channels, contiguous) in input order: per
 * input channel the KW*NB weight vectors, then per input column and tile
 * row one broadcast, multiplied at once into each pixel that reads it
 * (pixel column q reads input column u through tap u - q*SW); the rows
 * alternate so that consecutive fmas go to different accumulators.  In tap
 * order (emit_tile_step) the same input is broadcast once per tap, and gcc
 * merges those broadcasts and keeps them live across the row: on AVX-512,
 * flowers conv1 (16 pixels) spilled 39 vectors and reloaded 77 per 144
 * fmas (docs/decisions/simd.md). */
static void emit_row_by_input(Emitter *e, const IrOp *op, const ConvTile *t, int nb, int px, const char *xp,
                              const char *wp) {
    int c = op->in_shape.c, kw = op->kw, sw = op->sw, cols = t->cols, rows = px / cols;
    int row_floats = op->sh * op->in_shape.w * c;
    for (int ch = 0; ch < c; ch++) {
        emit(e, "{\n");
        for (int kx = 0; kx < kw; kx++)
            for (int v = 0; v < nb; v++)
                emit(e, "const cnnc_v w%d_%d = cnnc_vload(%s + %lld);\n", kx, v, wp,
                     (long long)(kx * c + ch) * t->bw + packed_offset(op, t, v * t->lanes));
        for (int u = 0; u < (cols - 1) * sw + kw; u++)
            for (int r = 0; r < rows; r++) {
                emit(e, "x = cnnc_vbcast(%s[%d]);", xp, r * row_floats + u * c + ch);
                for (int q = 0; q < cols; q++) {
                    int kx = u - q * sw;
                    for (int v = 0; v < nb && kx >= 0 && kx < kw; v++)
                        emit(e, " a%d_%d = cnnc_vfma(x, w%d_%d, a%d_%d);", r * cols + q, v, kx, v, r * cols + q, v);
                }
                emit(e, "\n");
            }
        emit(e, "}\n");
    }
}

/* Every step of levels lv[0..nlv) with constant offsets from xp and wp; a
 * tile in input order takes the last level (the kernel row) whole. */
static void emit_unrolled_steps(Emitter *e, const IrOp *op, const ConvTile *t, int nb, int px,
                                const TapLevel *lv, int nlv, const char *xp, const char *wp) {
    if (t->by_input && nlv > 0) {
        for (int s = 0; s < (nlv == 2 ? lv[0].n : 1); s++)
            emit_row_by_input(e, op, t, nb, px, arena_printf("(%s + %lld)", xp, (long long)s * lv[0].xstride),
                              arena_printf("(%s + %lld)", wp, s * lv[0].wstride));
        return;
    }
    long long steps = 1;
    for (int i = 0; i < nlv; i++)
        steps *= lv[i].n;
    for (long long s = 0; s < steps; s++) {
        long long rest = s, xoff = 0, woff = 0;
        for (int i = nlv - 1; i >= 0; i--) {
            xoff += rest % lv[i].n * lv[i].xstride;
            woff += rest % lv[i].n * lv[i].wstride;
            rest /= lv[i].n;
        }
        emit(e, "{\n");
        emit_tile_step(e, op, t, nb, px, arena_printf("(%s + %lld)", xp, xoff), arena_printf("(%s + %lld)", wp, woff));
        emit(e, "}\n");
    }
}

/* Broadcasts of one kernel row that the tile's rows after the first share
 * with the next kernel row's first rows (simd_opaque_row). */
static int carried_loads(const IrOp *op, const ConvTile *t, int px) {
    int rows = px / t->cols;
    return (rows - 1) * ((t->cols - 1) * op->sw + op->kw) * op->in_shape.c;
}

/* Loops over levels [level, u), then the unrolled levels [u, nlv).  The
 * innermost rolled loop indexes from its parent's pointers directly. */
static void emit_tap_levels(Emitter *e, const IrOp *op, const ConvTile *t, int nb, int px, const TapLevel *lv,
                            int nlv, int u, int level, const char *xp, const char *wp) {
    if (level == u) {
        emit_unrolled_steps(e, op, t, nb, px, lv + u, nlv - u, xp, wp);
        return;
    }
    const TapLevel *l = &lv[level];
    emit(e, "for (int %s = 0; %s < %d; %s++) {\n", l->var, l->var, l->n, l->var);
    if (level + 1 == nlv) {
        const char *xs = l->xstride == 1 ? arena_printf("(%s + %s)", xp, l->var)
                                         : arena_printf("(%s + %s * %d)", xp, l->var, l->xstride);
        emit_tile_step(e, op, t, nb, px, xs, arena_printf("(%s + %s * %lld)", wp, l->var, l->wstride));
    } else {
        const char *xk = level ? arena_printf("xk%d", level) : "xk", *wk = level ? arena_printf("wk%d", level) : "wk";
        const char *row = arena_printf("%s + %s * %d", xp, l->var, l->xstride);
        if (level == 0 && u == 1)
            row = simd_opaque_row(row, px * nb, carried_loads(op, t, px), t->regs);
        emit(e, "const float *%s = %s, *%s = %s + %s * %lld;\n", xk, row, wk, wp, l->var, l->wstride);
        emit_tap_levels(e, op, t, nb, px, lv, nlv, u, level + 1, xk, wk);
    }
    emit(e, "}\n");
}

static void emit_tile_reduction(Emitter *e, const IrOp *op, const ConvTile *t, int nb, int px) {
    TapLevel lv[3];
    int nlv = tap_levels(op, t, lv);
    emit(e, "cnnc_v x;\n");
    emit_tap_levels(e, op, t, nb, px, lv, nlv, first_unrolled_level(op, lv, nlv), 0, "x0", "w");
}

/* Pixel p of the tile is in output row p / cols, column p % cols: rows are
 * frame_pitch apart (wider than the tensor's inside a frame). */
static void emit_tile_store(Emitter *e, const IrOp *op, const ConvTile *t, int nb, int px, int tail) {
    int f = op->out_shape.c, lanes = t->lanes;
    for (int p = 0; p < px; p++)
        for (int v = 0; v < nb; v++) {
            const char *val = simd_act_expr(op->act, op->alpha, arena_printf("a%d_%d", p, v));
            int off = (p / t->cols) * frame_pitch(op) + (p % t->cols) * f + v * lanes;
            if (tail && v == nb - 1)
                emit(e, "cnnc_vstore_tail(o + %d, %s, %d);\n", off, val, tail);
            else
                emit(e, "cnnc_vstore(o + %d, %s);\n", off, val);
        }
}

/* The fused 2x2 pool: per pooled column j and vector v, the activated
 * accumulators of conv columns 2j, 2j+1 in both rows combined: a sum scaled
 * by 1/4, or the max, for which an activation that never decreases is
 * applied once to the max of the accumulators instead (simd.h). */
static void emit_pooled_store(Emitter *e, const IrOp *op, const ConvTile *t, int nb, int tail) {
    bool is_max = t->pool->kind == LAYER_MAXPOOL;
    bool act_after = is_max && simd_act_commutes_with_max(op->act, op->alpha);
    for (int j = 0; j < t->cols / 2; j++)
        for (int v = 0; v < nb; v++) {
            const char *val = NULL;
            for (int q = 0; q < 2; q++)
                for (int dx = 0; dx < 2; dx++) {
                    const char *y = arena_printf("a%d_%d", q * t->cols + 2 * j + dx, v);
                    y = act_after ? y : simd_act_expr(op->act, op->alpha, y);
                    val = !val ? y : arena_printf("%s(%s, %s)", is_max ? "cnnc_vmaxnan" : "cnnc_vadd", val, y);
                }
            if (act_after)
                val = simd_act_expr(op->act, op->alpha, val);
            else if (!is_max)
                val = arena_printf("cnnc_vmul(%s, cnnc_vbcast(0.25f))", val);
            int off = j * op->out_shape.c + v * t->lanes;
            if (tail && v == nb - 1)
                emit(e, "cnnc_vstore_tail(o + %d, %s, %d);\n", off, val, tail);
            else
                emit(e, "cnnc_vstore(o + %d, %s);\n", off, val);
        }
}

/* t->rows x `cols` pixels from `ox` times NB channel vectors from `f0`. */
static void emit_tile(Emitter *e, const IrOp *op, const ConvTile *t, int nb, int cols, int tail) {
    ConvTile body = *t;
    body.cols = cols;
    int px = body.rows * cols;
    emit(e, "const float *x0 = row + ox * %d;\n", op->sw * op->in_shape.c);
    emit(e, "float *o = orow + ox%s * %d + f0;\n", t->pool ? " / 2" : "", op->out_shape.c);
    emit_tile_init(e, op, &body, nb, px, tail);
    emit_tile_reduction(e, op, &body, nb, px);
    if (t->pool)
        emit_pooled_store(e, op, &body, nb, tail);
    else
        emit_tile_store(e, op, &body, nb, px, tail);
}

/* `n` units of `unit` columns (pooled columns are 2 conv columns) split into
 * tiles of at most `most` units, as even as possible: `na` tiles of `pxa`
 * units, then tiles of pxa-1. */
static void emit_column_tiles(Emitter *e, const IrOp *op, const ConvTile *t, int nb, int tail, int n, int most,
                              int unit) {
    int ntiles = (n + most - 1) / most;
    int pxa = (n + ntiles - 1) / ntiles;
    int na = n - ntiles * (pxa - 1);
    emit(e, "for (int ox = 0; ox < %d; ox += %d) {\n", na * pxa * unit, pxa * unit);
    emit_tile(e, op, t, nb, pxa * unit, tail);
    emit(e, "}\n");
    if (na == ntiles)
        return;
    emit(e, "for (int ox = %d; ox < %d; ox += %d) {\n", na * pxa * unit, n * unit, (pxa - 1) * unit);
    emit_tile(e, op, t, nb, (pxa - 1) * unit, tail);
    emit(e, "}\n");
}

/* The output row(s): pooled columns two conv columns wide; a narrow output
 * as one tile of whole rows; else tiles of at most t->px pixels. */
static void emit_row_tiles(Emitter *e, const IrOp *op, const void *tile, int nb, int tail) {
    const ConvTile *t = tile;
    int ow = op->out_shape.w;
    if (t->pool) {
        emit_column_tiles(e, op, t, nb, tail, ow, t->pooled_cols, 2);
    } else if (t->rows > 1) {
        emit(e, "{\n");
        emit(e, "const int ox = 0;\n");
        emit_tile(e, op, t, nb, ow, tail);
        emit(e, "}\n");
    } else {
        emit_column_tiles(e, op, t, nb, tail, ow, t->px, 1);
    }
}

long long simd_packed_offset(const SimdBlocks *b, int j) {
    return (j / b->bw) * b->block_floats + j % b->bw;
}

void simd_emit_channel_blocks(Emitter *e, const IrOp *op, const SimdBlocks *b, SimdBlockEmitter *emit_block,
                              const void *tile) {
    int lanes = b->lanes, full_vecs = b->channels / lanes, tail = b->channels % lanes;
    int nsub = full_vecs / b->nb, rest = full_vecs % b->nb + (tail ? 1 : 0);
    const char *w = ir_array_symbol(op, 0);
    if (nsub) {
        emit(e, "for (int f0 = 0; f0 < %d; f0 += %d) {\n", nsub * b->nb * lanes, b->nb * lanes);
        emit(e, "const float *w = %s + (f0 / %d) * %lld + f0 %% %d;\n", w, b->bw, b->block_floats, b->bw);
        emit_block(e, op, tile, b->nb, 0);
        emit(e, "}\n");
    }
    if (rest) {
        emit(e, "{\n");
        emit(e, "const int f0 = %d;\n", nsub * b->nb * lanes);
        emit(e, "const float *w = %s + %lld;\n", w, simd_packed_offset(b, nsub * b->nb * lanes));
        emit_block(e, op, tile, rest, tail);
        emit(e, "}\n");
    }
}

static void emit_output_rows(Emitter *e, const IrOp *op, const ConvTile *t) {
    emit(e, "const float *row = in + oy * %d;\n", op->sh * op->in_shape.w * op->in_shape.c);
    emit(e, "float *orow = out + oy%s * %d;\n", t->pool ? " / 2" : "", frame_pitch(op));
    SimdBlocks b = conv_blocks(op, t);
    simd_emit_channel_blocks(e, op, &b, emit_row_tiles, t);
}

/* Conv rows in steps of t->rows (1 unless the output is narrow or pooled),
 * then the rows left over, as a tile of fewer rows. */
static void emit_conv_for_tile(Emitter *e, const IrOp *op, const ConvTile *t) {
    int oh = t->pool ? 2 * op->out_shape.h : op->out_shape.h, step = t->rows, rest = oh % step;
    if (t->pool)
        emit(e, "/* tile: 2 rows x %d pixels x %d vectors of %d channels, 2x2 pool at store; weights in "
                "blocks of %d */\n", 2 * (t->pooled_cols), t->nb, t->lanes, t->bw);
    else
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

void conv_simd_emit_auto_path(Emitter *e, const IrOp *op, const AutoPath *path) {
    ConvTile t = tile_for(op, path->lanes, path->regs, path->fma, true);
    emit_conv_for_tile(e, op, &t);
}

/* `auto`: one body per lane count the runtime header may pick, all reading
 * the same BW=16 packing. */
static void emit_conv_auto(Emitter *e, const IrOp *op) {
    for (int i = 0; i < SIMD_AUTO_PATHS; i++) {
        simd_emit_auto_branch(e, i);
        conv_simd_emit_auto_path(e, op, &simd_auto_paths[i]);
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

#define CONV_SIMD_KERNEL(isa) {isa, conv_simd_pack, conv_simd_emit_body, false, true}
static const KernelEmitter conv_simd_kernels[] = {
    CONV_SIMD_KERNEL("auto"), CONV_SIMD_KERNEL("sse4"), CONV_SIMD_KERNEL("avx2"),
    CONV_SIMD_KERNEL("avx512"), CONV_SIMD_KERNEL("neon"),
};

/* Any conv on an unpadded (or PAD-op padded) input; a fused softmax stays
 * with the scalar kernel.  A single-channel input with few filters and a
 * per-channel bias goes to the pixel-vectorized kernel (conv_pixels.c), one
 * or two filters over many channels to the channel-dot kernel (conv_dot.c,
 * the policy head); the rest, per-position biases included, here. */
const KernelEmitter *conv_simd_kernel(const IrOp *op, const Target *t) {
    if (op->act == ACT_SOFTMAX)
        return NULL;
    if (op->pad_top || op->pad_bottom || op->pad_left || op->pad_right)
        return NULL;
    if (conv_pixels_applies(op) && !op->per_position_bias)
        return conv_pixels_kernel(t);
    if (conv_dot_applies(op))
        return conv_dot_kernel(t);
    for (size_t i = 0; i < sizeof conv_simd_kernels / sizeof conv_simd_kernels[0]; i++)
        if (!strcmp(conv_simd_kernels[i].isa, t->name))
            return &conv_simd_kernels[i];
    return NULL;
}

const KernelEmitter *conv_simd_auto_kernel(const IrOp *op) {
    const KernelEmitter *k = conv_simd_kernel(op, target_by_name("auto"));
    return k == &conv_simd_kernels[0] ? k : NULL;
}

/* A 2x2 stride-2 unpadded pool after a conv that a SIMD kernel will compute
 * (the direct kernels here and Winograd all pool in registers), and not a
 * second pool (a kernel applies one). */
bool conv_simd_fuses_pool(const IrOp *conv, const Layer *pool, const Target *t) {
    bool pool_2x2 = pool->kh == 2 && pool->kw == 2 && pool->sh == 2 && pool->sw == 2 && !pool->pad_top &&
                    !pool->pad_bottom && !pool->pad_left && !pool->pad_right;
    return pool_2x2 && t && t->lanes != 1 && !conv_fused_pool(conv) && !conv_dot_applies(conv) &&
           conv_simd_kernel(conv, t);
}
