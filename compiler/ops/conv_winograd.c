/* ops/conv_winograd.c — r x r stride-1 convolution by Winograd F(m x m, r x r):
 * F(4x4,3x3) for 3x3 layers, F(2x2,5x5) or F(4x4,5x5) for 5x5 ones (the one
 * the cost model estimates cheaper: F(4x4,5x5) for the policy net's conv1).
 *
 * Each m x m block of outputs (a tile) is computed from the alpha x alpha
 * block of input under it (alpha = m + r - 1) as
 *     Y = A^T [ sum_c (G g_c G^T) ⊙ (B^T d_c B) ] A,
 * which costs alpha² multiplies per input channel and output channel instead
 * of m²r² (F(4x4,3x3): 36 instead of 144): the alpha² transform-domain points
 * are independent GEMMs
 *     M[ξ][tile][f] = sum_c V[ξ][tile][c] U[ξ][c][f].
 * A variant is a record (WinoVariant: m, r, alpha and the tables B^T, G, A^T,
 * derived and checked by scripts/winograd_matrices.py); every function takes
 * its sizes from it, and the cost model picks the cheapest variant per op.
 * The filter transform U = G g G^T is done here at compile time in double
 * and packed [alpha²][FS/16][Cin][16] (FS: F rounded up to 16, zero-filled),
 * the order the GEMM streams it.  At run time the tiles are processed in
 * blocks of whole tile rows, small enough to keep the block's transformed
 * input V and products M in L2 (scratch from the workspace,
 * IrOp.scratch_floats):
 *   1. input transform B^T d B, straight-line SIMD over channel vectors
 *      (channels are contiguous in H-W-C), into V[alpha²][tiles][CS];
 *   2. per point ξ, the GEMM with conv_simd's register tile: PX tiles times
 *      NB vectors of output channels, one broadcast of V per tile and input
 *      channel, U[ξ] staying in L1 across the block's tiles (on x86 the
 *      GEMM prefetches U[ξ+1]: a layer's U comes from L3);
 *   3. output transform A^T M A, bias, activation, stored to the output
 *      (with a fused 2x2 pool, for even m: each m x m tile stores its
 *      m/2 x m/2 pooled outputs).
 * Partial tiles at the right and bottom edges are separate straight-line
 * code: input taps past the buffer are known zeros (no load, terms
 * dropped), outputs past the edge are not computed or stored; the loops
 * around them have constant trip counts, so there are no per-element
 * branches.  Interpolation points 0, 1, -1, 1/2, -2 (and ∞) instead of the
 * usual 0, ±1, ±2: half the float32 error (docs/decisions/winograd.md).
 * `auto` emits one body per lane count; each takes Winograd or the direct
 * kernel on its own estimate (the split kernel, at the end of the file).
 */
#include "simd.h"

#include <math.h>
#include <string.h>

#define PAD_TO 16    /* V and M rows, U rows: a multiple of every lane count */
#define MAX_ALPHA 8
#define MAX_M 6
#define MAX_R 5

/* One Winograd variant F(m x m, r x r): each m x m tile of outputs from the
 * alpha x alpha inputs under it (alpha = m + r - 1), alpha² transform-domain
 * points.  The Cook-Toom tables B^T (alpha x alpha), G (alpha x r) and A^T
 * (m x alpha) are printed, with the identity they satisfy checked in exact
 * rationals, by scripts/winograd_matrices.py; G's rows carry the 1/N_j
 * normalisation. */
typedef struct WinoVariant {
    const char *name;
    int m, r, alpha;
    double bt[MAX_ALPHA][MAX_ALPHA];
    double g[MAX_ALPHA][MAX_R];
    double at[MAX_M][MAX_ALPHA];
} WinoVariant;

static const WinoVariant variants[] = {
    {"F(4x4,3x3)", 4, 3, 6,   /* points 0, 1, -1, 1/2, -2, ∞ */
     .bt = {{1, -1.5, -2, 1.5, 1, 0}, {0, -1, 0.5, 2.5, 1, 0}, {0, 1, -2.5, 0.5, 1, 0}, {0, -2, -1, 2, 1, 0},
            {0, 0.5, -1, -0.5, 1, 0}, {0, 1, -1.5, -2, 1.5, 1}},
     .g = {{1, 0, 0}, {1.0 / 3, 1.0 / 3, 1.0 / 3}, {-1.0 / 3, 1.0 / 3, -1.0 / 3}, {-16.0 / 15, -8.0 / 15, -4.0 / 15},
           {1.0 / 15, -2.0 / 15, 4.0 / 15}, {0, 0, 1}},
     .at = {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 0.5, -2, 0}, {0, 1, 1, 0.25, 4, 0}, {0, 1, -1, 0.125, -8, 1}}},
    {"F(2x2,5x5)", 2, 5, 6,   /* the same points, so the same B^T */
     .bt = {{1, -1.5, -2, 1.5, 1, 0}, {0, -1, 0.5, 2.5, 1, 0}, {0, 1, -2.5, 0.5, 1, 0}, {0, -2, -1, 2, 1, 0},
            {0, 0.5, -1, -0.5, 1, 0}, {0, 1, -1.5, -2, 1.5, 1}},
     .g = {{1, 0, 0, 0, 0},
           {1.0 / 3, 1.0 / 3, 1.0 / 3, 1.0 / 3, 1.0 / 3},
           {-1.0 / 3, 1.0 / 3, -1.0 / 3, 1.0 / 3, -1.0 / 3},
           {-16.0 / 15, -8.0 / 15, -4.0 / 15, -2.0 / 15, -1.0 / 15},
           {1.0 / 15, -2.0 / 15, 4.0 / 15, -8.0 / 15, 16.0 / 15},
           {0, 0, 0, 0, 1}},
     .at = {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 0.5, -2, 1}}},
    {"F(4x4,5x5)", 4, 5, 8,   /* points 0, 1, -1, 1/2, -2, -1/2, 2, ∞ */
     .bt = {{-1, 0, 5.25, 0, -5.25, 0, 1, 0}, {0, 1, 1, -4.25, -4.25, 1, 1, 0}, {0, -1, 1, 4.25, -4.25, -1, 1, 0},
            {0, 2, 4, -2.5, -5, 0.5, 1, 0}, {0, -0.5, 0.25, 2.5, -1.25, -2, 1, 0}, {0, -2, 4, 2.5, -5, -0.5, 1, 0},
            {0, 0.5, 0.25, -2.5, -1.25, 2, 1, 0}, {0, -1, 0, 5.25, 0, -5.25, 0, 1}},
     .g = {{-1, 0, 0, 0, 0},
           {-2.0 / 9, -2.0 / 9, -2.0 / 9, -2.0 / 9, -2.0 / 9},
           {-2.0 / 9, 2.0 / 9, -2.0 / 9, 2.0 / 9, -2.0 / 9},
           {32.0 / 45, 16.0 / 45, 8.0 / 45, 4.0 / 45, 2.0 / 45},
           {1.0 / 90, -1.0 / 45, 2.0 / 45, -4.0 / 45, 8.0 / 45},
           {32.0 / 45, -16.0 / 45, 8.0 / 45, -4.0 / 45, 2.0 / 45},
           {1.0 / 90, 1.0 / 45, 2.0 / 45, 4.0 / 45, 8.0 / 45},
           {0, 0, 0, 0, 1}},
     .at = {{1, 1, 1, 1, 1, 1, 1, 0}, {0, 1, -1, 0.5, -2, -0.5, 2, 0}, {0, 1, 1, 0.25, 4, 0.25, 4, 0},
            {0, 1, -1, 0.125, -8, -0.125, 8, 1}}},
};
#define NVARIANTS ((int)(sizeof variants / sizeof variants[0]))

/* The variant of an op whose kernel is one of this file's (kernel table below). */
static const WinoVariant *variant_of(const IrOp *op);

/* Sizes fixed by the op's shape, shared by every lane count. */
typedef struct WinoPlan {
    const WinoVariant *v;
    int th, tw;                 /* tiles down and across */
    int cs, fs;                 /* row strides of V and M: Cin, F rounded up to PAD_TO */
    int block_rows;             /* tile rows per block */
    int in_rows, in_cols;       /* valid input rows/cols of the last tile row/col */
    int out_rows, out_cols;     /* valid output rows/cols of the last tile row/col */
} WinoPlan;

/* One lane count's GEMM register tile; `prefetch`: x86, where the GEMM
 * prefetches the next point's U (cnnc_prefetch, measured only there). */
typedef struct WinoTile {
    int lanes, nb, px;
    int regs;   /* vector registers of the target */
    bool prefetch;
} WinoTile;

/* What every emitting function needs. */
typedef struct Wino {
    const IrOp *op;
    WinoPlan plan;
    WinoTile tile;
} Wino;

/* Scratch for a block (V and M) is kept under 512 KB so it stays in L2 (of
 * the Xeon here and of Zen 5).  Budgets from 96 KB to 1.5 MB measured within
 * noise on the policy layer, flowers conv2/conv3 lost 5-10% at 1.5 MB; at
 * 512 KB a 19x19x64 layer is one block, so its code is emitted once.
 * Every block reads all of U: a U larger than the budget comes from L3 once
 * per block, so such a layer's budget is U's size, and a block's scratch
 * spilling out of L2 costs at most one more pass over U (ResNet's 14x14x256
 * layer, 9.4 MB of U: 4 blocks -> 1, 796 -> 496 us on a Zen 5 core). */
#define BLOCK_BUDGET_FLOATS (128 * 1024)

static int round_up(int n, int to) { return (n + to - 1) / to * to; }
static int min_int(int a, int b) { return a < b ? a : b; }

/* The conv outputs the layer stores or pools (out_shape is the pooled one
 * when a 2x2 pool is fused: each m x m tile then stores m/2 x m/2 pooled
 * outputs).  The pool drops an odd last row or column, so the tiles cover
 * only whole pooled pairs: cifar conv2's 13x13 outputs pooled to 6x6 need
 * 3x3 tiles of 4, not 4x4. */
static int needed_conv_outputs(const IrOp *op, int along) {
    return conv_fused_pool(op) ? along / 2 * 2 : along;
}
static int conv_rows(const IrOp *op) { return needed_conv_outputs(op, op->in_shape.h - op->kh + 1); }
static int conv_cols(const IrOp *op) { return needed_conv_outputs(op, op->in_shape.w - op->kw + 1); }
static int pool_factor(const IrOp *op) { return conv_fused_pool(op) ? 2 : 1; }

/* Conv outputs of the last tile row (or column, `along` = conv_cols). */
static int last_outputs(int m, int along, int tiles) { return along - (tiles - 1) * m; }

static int points(const WinoVariant *v) { return v->alpha * v->alpha; }

static WinoPlan wino_plan(const IrOp *op, const WinoVariant *v) {
    int m = v->m;
    WinoPlan p = {.v = v, .th = (conv_rows(op) + m - 1) / m, .tw = (conv_cols(op) + m - 1) / m,
                  .cs = round_up(op->in_shape.c, PAD_TO), .fs = round_up(op->out_shape.c, PAD_TO)};
    long long row_floats = (long long)points(v) * p.tw * (p.cs + p.fs);
    long long u_floats = (long long)points(v) * p.cs * p.fs;
    long long budget = u_floats > BLOCK_BUDGET_FLOATS ? u_floats : BLOCK_BUDGET_FLOATS;
    long long rows = budget / row_floats;
    p.block_rows = rows < 1 ? 1 : rows > p.th ? p.th : (int)rows;
    int last = (p.th - 1) * m, last_col = (p.tw - 1) * m;   /* first row/col of the last tiles */
    p.in_rows = min_int(v->alpha, op->in_shape.h - last);
    p.in_cols = min_int(v->alpha, op->in_shape.w - last_col);
    p.out_rows = last_outputs(m, conv_rows(op), p.th);
    p.out_cols = last_outputs(m, conv_cols(op), p.tw);
    return p;
}

static int block_tiles(const WinoPlan *p) { return p->block_rows * p->tw; }

/* Floats from one point's V (row_floats per tile: CS) or M (FS) to the next:
 * an odd number of cache lines, so the alpha² (36, 64) loads or stores of
 * one tile's transform fall in different L1 sets.  A block of 16 tiles of 64
 * channels would otherwise put them 4 KB apart, all in one set of an 8- or
 * 12-way L1, and evict each other (measured: cifar conv2, then 16 tiles, on
 * AVX2 1.5x slower than with the skew). */
static long long point_stride(const WinoPlan *p, int row_floats) {
    long long lines = (long long)block_tiles(p) * row_floats / PAD_TO;   /* PAD_TO floats: 64 bytes */
    return (lines | 1) * PAD_TO;
}

/* As conv_simd's tile: NB*PX accumulators, NB weight vectors and a
 * broadcast in the register file (SSE without fma: 6 spare).  A block of
 * fewer tiles than that PX would leave too few independent chains of fma
 * (cifar conv3 is one tile: 2 chains on AVX2, each waiting 4 cycles per
 * fma), so it takes more vectors of output channels instead, split evenly;
 * a weight read by one tile only needs no register (it is the fma's memory
 * operand). */
static WinoTile wino_tile(const IrOp *op, const WinoPlan *p, int lanes, int regs, bool fma) {
    WinoTile t = {.lanes = lanes, .regs = regs};
    int nvec = (op->out_shape.c + lanes - 1) / lanes, spare = fma ? 1 : 6;
    t.nb = min_int(nvec, regs >= 32 ? 4 : 2);
    t.px = min_int(8, (regs - t.nb - spare) / t.nb);
    int tiles = block_tiles(p);
    if (tiles < t.px) {
        int nb_max = (regs - spare) / (tiles + (tiles > 1)), groups = (nvec + nb_max - 1) / nb_max;
        t.px = tiles;
        t.nb = (nvec + groups - 1) / groups;
    }
    return t;
}

/* ------------------------------------------------------------------ pack */

/* U[ξ = alpha·i+j][c][f] = (G g G^T)[i][j] for filter g of (c, f), in double. */
static double filter_point(const IrOp *op, const WinoVariant *v, int i, int j, int c, int f) {
    int cin = op->in_shape.c, fcount = op->out_shape.c, r = v->r;
    double sum = 0;
    for (int a = 0; a < r; a++)
        for (int b = 0; b < r; b++)
            sum += v->g[i][a] * v->g[j][b] * op->weight.data[((a * r + b) * cin + c) * (long long)fcount + f];
    return sum;
}

/* U is packed [alpha²][FS/16][Cin][16]: a GEMM tile's output-channel vectors
 * then stream contiguous rows of 16 floats over the input channels, for
 * every lane count (a [points][Cin][FS] packing strides FS floats per channel,
 * which the AVX2 tile of 16 channels reads at a quarter of a cache line per
 * 64-float row). */
static long long u_index(const IrOp *op, const WinoPlan *p, int xi, int c, int f) {
    long long point = (long long)xi * op->in_shape.c * p->fs;
    return point + ((long long)(f / PAD_TO) * op->in_shape.c + c) * PAD_TO + f % PAD_TO;
}

static void winograd_pack(IrOp *op) {
    const WinoVariant *v = variant_of(op);
    WinoPlan p = wino_plan(op, v);
    int cin = op->in_shape.c;
    long long count = (long long)points(v) * cin * p.fs;
    float *packed = NULL;
    if (op->weight.data) {
        packed = arena_alloc((size_t)count * sizeof *packed);
        for (int xi = 0; xi < points(v); xi++)
            for (int c = 0; c < cin; c++)
                for (int f = 0; f < op->out_shape.c; f++)
                    packed[u_index(op, &p, xi, c, f)] =
                        (float)filter_point(op, v, xi / v->alpha, xi % v->alpha, c, f);
    }
    op->arrays[0] = (IrArray){"weight", packed, count};
    op->narrays = 1;
    if (op->bias.count)
        op->arrays[op->narrays++] = (IrArray){"bias", op->bias.data, op->bias.count};
    op->scratch_floats = points(v) * (point_stride(&p, p.cs) + point_stride(&p, p.fs));
}

/* ------------------------------------------------------------ transforms */

/* Column j of the alpha x alpha input patch of one tile and channel vector,
 * rows/cols past the buffer left out (NULL); `tail` lanes via the exact tail
 * load. */
static void emit_input_column(Emitter *e, const Wino *w, int j, int rows, int cols, int tail,
                              const char *d[MAX_ALPHA][MAX_ALPHA]) {
    int c = w->op->in_shape.c, iw = w->op->in_shape.w, alpha = w->plan.v->alpha;
    for (int i = 0; i < alpha; i++) {
        d[i][j] = NULL;
        if (i >= rows || j >= cols)
            continue;
        d[i][j] = arena_printf("d%d_%d", i, j);
        if (tail)
            emit(e, "const cnnc_v d%d_%d = cnnc_vload_tail(x + %d, %d);\n", i, j, (i * iw + j) * c, tail);
        else
            emit(e, "const cnnc_v d%d_%d = cnnc_vload(x + %d);\n", i, j, (i * iw + j) * c);
    }
}

/* Column j of the column half of a 2-D transform: s[i][j] = sum_k
 * table[i][k]·x[k][j] for the first `rows` rows of the table, computing once
 * the pairs of terms its rows share (lincomb.c); NULL where all terms are
 * zero. */
static void emit_column(Emitter *e, const double (*table)[MAX_ALPHA], int rows, int alpha, int j,
                        const char *x[][MAX_ALPHA], const char *s[][MAX_ALPHA]) {
    const char *col[MAX_ALPHA], *expr[MAX_ALPHA];
    for (int k = 0; k < alpha; k++)
        col[k] = x[k][j];
    lincomb_emit(e, table[0], MAX_ALPHA, rows, col, alpha, arena_printf("c%d_", j), expr);
    for (int i = 0; i < rows; i++) {
        s[i][j] = expr[i] ? arena_printf("s%d_%d", i, j) : NULL;
        if (expr[i])
            emit(e, "const cnnc_v s%d_%d = %s;\n", i, j, expr[i]);
    }
}

/* V[alpha·i+j] = (B^T d B)[i][j]: columns first (s = B^T d), each loaded just
 * before its transform, then rows; each 1-D transform shares the pairs of
 * terms its rows have in common. */
static void emit_input_transform(Emitter *e, const Wino *w, int rows, int cols, int tail) {
    const WinoVariant *v = w->plan.v;
    int alpha = v->alpha;
    const char *d[MAX_ALPHA][MAX_ALPHA], *s[MAX_ALPHA][MAX_ALPHA];
    for (int j = 0; j < alpha; j++) {
        emit_input_column(e, w, j, rows, cols, tail, d);
        emit_column(e, v->bt, alpha, alpha, j, d, s);
        emit(e, "cnnc_sched_barrier();\n");
    }
    long long stride = point_stride(&w->plan, w->plan.cs);
    for (int i = 0; i < alpha; i++) {
        const char *expr[MAX_ALPHA];
        lincomb_emit(e, v->bt[0], MAX_ALPHA, alpha, s[i], alpha, arena_printf("r%d_", i), expr);
        for (int j = 0; j < alpha; j++)
            emit(e, "cnnc_vstore(vt + %lld, %s);\n", (i * alpha + j) * stride, expr[j] ? expr[j] : "cnnc_vzero()");
        emit(e, "cnnc_sched_barrier();\n");
    }
}

/* One output vector at pixel (i, j) of the tile's output block. */
static void emit_store(Emitter *e, const IrOp *op, int i, int j, int tail, const char *value) {
    int at = i * frame_pitch(op) + j * op->out_shape.c;
    if (tail)
        emit(e, "cnnc_vstore_tail(o + %d, %s, %d);\n", at, value, tail);
    else
        emit(e, "cnnc_vstore(o + %d, %s);\n", at, value);
}

/* Bias and activation of one output (or pooled output) vector. */
static const char *finished(const IrOp *op, const char *y) {
    return simd_act_expr(op->act, op->alpha, op->bias.count ? arena_printf("cnnc_vadd(%s, b)", y) : y);
}

/* The outputs y (before bias and activation), finished and stored, or with a
 * fused 2x2 pool their pooled pairs of rows and columns: the mean of the
 * finished values, or their max (NaN propagating), which for an activation
 * that never decreases is the max of y finished once (simd.h). */
static void emit_output_stores(Emitter *e, const IrOp *op, int rows, int cols, int tail,
                               const char *y[MAX_M][MAX_M]) {
    const Layer *pool = conv_fused_pool(op);
    bool is_max = pool && pool->kind == LAYER_MAXPOOL;
    bool finish_after_max = is_max && simd_act_commutes_with_max(op->act, op->alpha);
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            const char *value = finish_after_max ? y[i][j] : finished(op, y[i][j]);
            if (!pool)
                emit_store(e, op, i, j, tail, value);
            else
                emit(e, "const cnnc_v y%d_%d = %s;\n", i, j, value);
        }
    if (!pool)
        return;
    const char *combine = is_max ? "cnnc_vmaxnan(cnnc_vmaxnan(y%d_%d, y%d_%d), cnnc_vmaxnan(y%d_%d, y%d_%d))"
                                 : "cnnc_vmul(cnnc_vadd(cnnc_vadd(y%d_%d, y%d_%d), cnnc_vadd(y%d_%d, y%d_%d)), "
                                   "cnnc_vbcast(0.25f))";
    for (int i = 0; i < rows; i += 2)
        for (int j = 0; j < cols; j += 2) {
            const char *value = arena_printf(combine, i, j, i, j + 1, i + 1, j, i + 1, j + 1);
            emit_store(e, op, i / 2, j / 2, tail, finish_after_max ? finished(op, value) : value);
        }
}

/* Does any of the first `outputs` rows of A^T read point k? */
static bool output_reads(const WinoVariant *v, int outputs, int k) {
    for (int i = 0; i < outputs; i++)
        if (v->at[i][k] != 0)
            return true;
    return false;
}

/* Y = A^T M A + bias, activation, stored for the rows x cols valid outputs;
 * the M rows and columns no valid output reads are neither loaded nor kept. */
static void emit_output_transform(Emitter *e, const Wino *w, int rows, int cols, int tail) {
    const IrOp *op = w->op;
    const WinoVariant *v = w->plan.v;
    int alpha = v->alpha;
    long long stride = point_stride(&w->plan, w->plan.fs);
    const char *m[MAX_ALPHA][MAX_ALPHA], *s[MAX_M][MAX_ALPHA];
    for (int j = 0; j < alpha; j++) {
        for (int i = 0; i < alpha; i++) {
            m[i][j] = output_reads(v, rows, i) && output_reads(v, cols, j) ? arena_printf("m%d_%d", i, j) : NULL;
            if (m[i][j])
                emit(e, "const cnnc_v m%d_%d = cnnc_vload(mt + %lld);\n", i, j, (i * alpha + j) * stride);
        }
        emit_column(e, v->at, rows, alpha, j, m, s);
        emit(e, "cnnc_sched_barrier();\n");
    }
    const char *y[MAX_M][MAX_M];
    for (int i = 0; i < rows; i++)
        lincomb_emit(e, v->at[0], MAX_ALPHA, cols, s[i], alpha, arena_printf("r%d_", i), y[i]);
    emit_output_stores(e, op, rows, cols, tail, y);
}

/* ------------------------------------------------------ loops over tiles */

/* Which transform a sweep over the block's tiles emits. */
typedef enum { SWEEP_INPUT, SWEEP_OUTPUT } Sweep;

/* The vectors of one tile: input channels (SWEEP_INPUT) or output channels,
 * full vectors in a loop, then a last partial one with the exact tail. */
static void emit_tile_vectors(Emitter *e, const Wino *w, Sweep sweep, int rows, int cols) {
    const IrOp *op = w->op;
    int n = sweep == SWEEP_INPUT ? op->in_shape.c : op->out_shape.c, lanes = w->tile.lanes;
    int full = n / lanes * lanes, tail = n % lanes;
    for (int part = 0; part < 2; part++) {
        if (part == 0 && full)
            emit(e, "for (int k = 0; k < %d; k += %d) {\n", full, lanes);
        else if (part == 1 && tail)
            emit(e, "{\nconst int k = %d;\n", full);
        else
            continue;
        int m = w->plan.v->m;
        if (sweep == SWEEP_INPUT) {
            const char *x = arena_printf("in + (ty * %d + tx * %d) * %d + k", m * op->in_shape.w, m, op->in_shape.c);
            int alpha = w->plan.v->alpha;
            if (full <= lanes)   /* no k loop: neighbouring tiles share alpha - m columns */
                x = simd_opaque_row(x, alpha * alpha, (alpha - m) * alpha, w->tile.regs);
            emit(e, "const float *x = %s;\n", x);
            emit(e, "float *vt = v + t * %d + k;\n", w->plan.cs);
            emit_input_transform(e, w, rows, cols, part ? tail : 0);
        } else {
            emit(e, "const float *mt = m + t * %d + k;\n", w->plan.fs);
            int step = m / pool_factor(op);   /* outputs a tile stores per side */
            emit(e, "float *o = out + ty * %d + tx * %d + k;\n", step * frame_pitch(op), step * op->out_shape.c);
            if (op->bias.count)
                emit(e, "const cnnc_v b = %s;\n",
                     part ? arena_printf("cnnc_vload_tail(%s + k, %d)", ir_array_symbol(op, 1), tail)
                          : arena_printf("cnnc_vload(%s + k)", ir_array_symbol(op, 1)));
            emit_output_transform(e, w, rows, cols, part ? tail : 0);
        }
        emit(e, "}\n");
    }
}

/* One row of tiles: full tiles in a loop, then the partial last column. */
static void emit_tile_row(Emitter *e, const Wino *w, Sweep sweep, int rows) {
    const WinoPlan *p = &w->plan;
    int full_tile = sweep == SWEEP_INPUT ? p->v->alpha : p->v->m;
    int last_cols = sweep == SWEEP_INPUT ? p->in_cols : p->out_cols;
    int full = last_cols == full_tile ? p->tw : p->tw - 1;
    if (full) {
        emit(e, "for (int tx = 0; tx < %d; tx++) {\n", full);
        emit(e, "const int t = (ty - ty0) * %d + tx;\n", p->tw);
        emit_tile_vectors(e, w, sweep, rows, full_tile);
        emit(e, "}\n");
    }
    if (full < p->tw) {
        emit(e, "{\nconst int tx = %d, t = (ty - ty0) * %d + tx;\n", full, p->tw);
        emit_tile_vectors(e, w, sweep, rows, last_cols);
        emit(e, "}\n");
    }
}

/* The block's tile rows; `last` says it holds the image's last tile row,
 * which may be partial. */
static void emit_sweep(Emitter *e, const Wino *w, Sweep sweep, int nrows, bool last) {
    const WinoPlan *p = &w->plan;
    int full_tile = sweep == SWEEP_INPUT ? p->v->alpha : p->v->m;
    int last_rows = sweep == SWEEP_INPUT ? p->in_rows : p->out_rows;
    int full = last && last_rows < full_tile ? nrows - 1 : nrows;
    emit(e, "/* %s transform */\n", sweep == SWEEP_INPUT ? "input" : "output");
    if (full) {
        emit(e, "for (int ty = ty0; ty < ty0 + %d; ty++) {\n", full);
        emit_tile_row(e, w, sweep, full_tile);
        emit(e, "}\n");
    }
    if (full < nrows) {
        emit(e, "{\nconst int ty = ty0 + %d;\n", full);
        emit_tile_row(e, w, sweep, last_rows);
        emit(e, "}\n");
    }
}

/* ------------------------------------------------------------------ GEMM */

/* Input channel `c` (a C expression) of a GEMM tile: NB loads of U, a
 * broadcast of V per tile, NB*PX fmas. */
static void emit_gemm_step(Emitter *e, const Wino *w, int nb, int px, const char *c) {
    int lanes = w->tile.lanes, cs = w->plan.cs;
    emit(e, "{\n");
    for (int v = 0; v < nb && w->tile.prefetch; v++)
        if (v * lanes % PAD_TO == 0)   /* one per 64-byte row of U */
            emit(e, "cnnc_prefetch(u%d + next + %s * %d);\n", v, c, PAD_TO);
    for (int v = 0; v < nb; v++)
        emit(e, "const cnnc_v w%d = %s;\n", v, simd_reused_load(arena_printf("u%d + %s * %d", v, c, PAD_TO), px));
    emit(e, "cnnc_v x;\n");
    for (int p = 0; p < px; p++) {
        emit(e, "x = cnnc_vbcast(vx[%d + %s]);", p * cs, c);
        for (int v = 0; v < nb; v++)
            emit(e, " a%d_%d = cnnc_vfma(x, w%d, a%d_%d);", p, v, v, p, v);
        emit(e, "\n");
    }
    emit(e, "}\n");
}

/* The GEMM's input-channel loop does two channels per iteration when the
 * count is even: the policy net on Zen 3, AVX2, 14.40 M -> 14.13 M
 * instructions and 6-8% less time (two runs of 7 and 9 alternated rounds;
 * the loop of 22 instructions for 10 fmas becomes 43 for 20). */
#define GEMM_UNROLL 2

/* PX tiles from t0 times NB vectors of output channels from f0, summed over
 * the input channels of point ξ; stored to M as full vectors. */
static void emit_gemm_tile(Emitter *e, const Wino *w, int nb, int px) {
    int lanes = w->tile.lanes, cs = w->plan.cs, fs = w->plan.fs;
    emit(e, "{\n");
    for (int p = 0; p < px; p++)
        for (int v = 0; v < nb; v++)
            emit(e, "cnnc_v a%d_%d = cnnc_vzero();\n", p, v);
    emit(e, "const float *vx = vp + t0 * %d;\n", cs);
    for (int v = 0; v < nb; v++)
        emit(e, "const float *u%d = up0 + (f0 + %d) / %d * %d + (f0 + %d) %% %d;\n", v, v * lanes, PAD_TO,
             w->op->in_shape.c * PAD_TO, v * lanes, PAD_TO);
    int step = w->op->in_shape.c % GEMM_UNROLL ? 1 : GEMM_UNROLL;
    emit(e, "for (int c = 0; c < %d; c += %d) {\n", w->op->in_shape.c, step);
    for (int k = 0; k < step; k++)
        emit_gemm_step(e, w, nb, px, k ? arena_printf("(c + %d)", k) : "c");
    emit(e, "}\n");
    for (int p = 0; p < px; p++)
        for (int v = 0; v < nb; v++)
            emit(e, "cnnc_vstore(mp + (t0 + %d) * %d + %d, a%d_%d);\n", p, fs, v * lanes, p, v);
    emit(e, "}\n");
}

/* The block's tiles cut into groups of at most PX, as even as possible. */
static void emit_gemm_tiles(Emitter *e, const Wino *w, int nb, int ntiles) {
    int groups = (ntiles + w->tile.px - 1) / w->tile.px;
    int pxa = (ntiles + groups - 1) / groups, na = ntiles - groups * (pxa - 1);
    emit(e, "for (int t0 = 0; t0 < %d; t0 += %d)\n", na * pxa, pxa);
    emit_gemm_tile(e, w, nb, pxa);
    if (na < groups) {
        emit(e, "for (int t0 = %d; t0 < %d; t0 += %d)\n", na * pxa, ntiles, pxa - 1);
        emit_gemm_tile(e, w, nb, pxa - 1);
    }
}

static void emit_gemm(Emitter *e, const Wino *w, int ntiles) {
    int lanes = w->tile.lanes, nb = w->tile.nb;
    int nvec = (w->op->out_shape.c + lanes - 1) / lanes, nsub = nvec / nb, rest = nvec % nb;
    int npoints = points(w->plan.v);
    emit(e, "/* %d GEMMs [%d tiles x %d] x [%d x %d] */\n", npoints, ntiles, w->op->in_shape.c,
         w->op->in_shape.c, w->op->out_shape.c);
    emit(e, "for (int xi = 0; xi < %d; xi++) {\n", npoints);
    emit(e, "const float *vp = v + xi * %lld;\n", point_stride(&w->plan, w->plan.cs));
    emit(e, "float *mp0 = m + xi * %lld;\n", point_stride(&w->plan, w->plan.fs));
    long long u_point = (long long)w->op->in_shape.c * w->plan.fs;
    emit(e, "const float *up0 = %s + xi * %lld;\n", ir_array_symbol(w->op, 0), u_point);
    if (w->tile.prefetch)   /* the next point's U, from L3 on a 512 KB L2: see emit_gemm_tile */
        emit(e, "const int next = xi + 1 < %d ? %lld : 0;\n", npoints, u_point);
    if (nsub) {
        emit(e, "for (int f0 = 0; f0 < %d; f0 += %d) {\n", nsub * nb * lanes, nb * lanes);
        emit(e, "float *mp = mp0 + f0;\n");
        emit_gemm_tiles(e, w, nb, ntiles);
        emit(e, "}\n");
    }
    if (rest) {
        emit(e, "{\nconst int f0 = %d;\nfloat *mp = mp0 + f0;\n", nsub * nb * lanes);
        emit_gemm_tiles(e, w, rest, ntiles);
        emit(e, "}\n");
    }
    emit(e, "}\n");
}

/* ---------------------------------------------------------------- blocks */

static void emit_block(Emitter *e, const Wino *w, int nrows, bool last) {
    emit_sweep(e, w, SWEEP_INPUT, nrows, last);
    emit_gemm(e, w, nrows * w->plan.tw);
    emit_sweep(e, w, SWEEP_OUTPUT, nrows, last);
}

/* Whole blocks of tile rows in a loop, then the last block (which holds the
 * image's last tile row, possibly partial). */
static void emit_for_tile(Emitter *e, const Wino *w) {
    const WinoPlan *p = &w->plan;
    int nblocks = (p->th + p->block_rows - 1) / p->block_rows;
    int last_start = (nblocks - 1) * p->block_rows;
    emit(e, "/* Winograd %s: %dx%d tiles in blocks of %d rows; GEMM tile %d tiles x %d vectors of %d */\n",
         p->v->name, p->th, p->tw, p->block_rows, w->tile.px, w->tile.nb, w->tile.lanes);
    emit(e, "float *v = scratch, *m = scratch + %lld;\n", points(p->v) * point_stride(p, p->cs));
    if (nblocks > 1) {
        emit(e, "for (int ty0 = 0; ty0 < %d; ty0 += %d) {\n", last_start, p->block_rows);
        emit_block(e, w, p->block_rows, false);
        emit(e, "}\n");
    }
    emit(e, "{\nconst int ty0 = %d;\n", last_start);
    emit_block(e, w, p->th - last_start, true);
    emit(e, "}\n");
}

/* One `auto` path's body. */
static void emit_auto_path(Emitter *e, const IrOp *op, const AutoPath *path) {
    WinoPlan p = wino_plan(op, variant_of(op));
    Wino w = {op, p, wino_tile(op, &p, path->lanes, path->regs, path->fma)};
    w.tile.prefetch = path->x86;
    emit_for_tile(e, &w);
}

/* `auto`: one body per lane count the runtime header may pick; the packing
 * and the scratch layout do not depend on it. */
static void emit_auto(Emitter *e, const IrOp *op) {
    for (int i = 0; i < SIMD_AUTO_PATHS; i++) {
        simd_emit_auto_branch(e, i);
        emit_auto_path(e, op, &simd_auto_paths[i]);
    }
    emit(e, "#endif\n");
}

static void winograd_emit_body(Emitter *e, const IrOp *op) {
    const Target *t = simd_kernel_target(op);
    if (t->lanes == 0) {
        emit_auto(e, op);
        return;
    }
    WinoPlan p = wino_plan(op, variant_of(op));
    Wino w = {op, p, wino_tile(op, &p, t->lanes, simd_register_count(t), t->fma)};
    w.tile.prefetch = t->kind == TARGET_SSE4 || t->kind == TARGET_AVX2 || t->kind == TARGET_AVX512;
    emit_for_tile(e, &w);
}

#define WINOGRAD_KERNEL(isa) {isa, winograd_pack, winograd_emit_body, false, true}
#define WINOGRAD_KERNELS                                                                                         \
    {WINOGRAD_KERNEL("auto"), WINOGRAD_KERNEL("sse4"), WINOGRAD_KERNEL("avx2"), WINOGRAD_KERNEL("avx512"),       \
     WINOGRAD_KERNEL("neon")}
#define NISAS 5
/* One row per variant: the kernel an op holds says which variant packed it. */
static const KernelEmitter winograd_kernels[NVARIANTS][NISAS] = {WINOGRAD_KERNELS, WINOGRAD_KERNELS, WINOGRAD_KERNELS};

/* `auto` with Winograd on some paths and the direct kernel on the others
 * (section "auto" at the end), also one per variant. */
static void split_pack(IrOp *op);
static void split_emit_body(Emitter *e, const IrOp *op);
#define SPLIT_KERNEL {"auto", split_pack, split_emit_body, false, true}
static const KernelEmitter split_kernels[NVARIANTS] = {SPLIT_KERNEL, SPLIT_KERNEL, SPLIT_KERNEL};

static const WinoVariant *variant_of(const IrOp *op) {
    for (int v = 0; v < NVARIANTS; v++)
        if ((op->kernel >= winograd_kernels[v] && op->kernel < winograd_kernels[v] + NISAS) ||
            op->kernel == &split_kernels[v])
            return &variants[v];
    unreachable();
}

static const KernelEmitter *variant_kernel(const WinoVariant *v, const Target *t) {
    const KernelEmitter *row = winograd_kernels[v - variants];
    for (int i = 0; i < NISAS; i++)
        if (!strcmp(row[i].isa, t->name))
            return &row[i];
    return NULL;
}

/* ------------------------------------------------------------ cost model */

/* r x r (a variant's), stride 1, dilation 1, unpadded (PAD op) input,
 * per-channel or no bias, no fused softmax, a fused pool only for even m;
 * UNROLL_NONE keeps the readable direct kernel. */
static bool winograd_applies(const IrOp *op, const WinoVariant *v) {
    return op->kind == IR_CONV && op->kh == v->r && op->kw == v->r && op->sh == 1 && op->sw == 1 &&
           op->dh == 1 && op->dw == 1 && !(op->pad_top || op->pad_bottom || op->pad_left || op->pad_right) &&
           !op->per_position_bias && op->act != ACT_SOFTMAX && op->unroll != UNROLL_NONE &&
           (!conv_fused_pool(op) || v->m % 2 == 0);
}

/* Costs in units of one vector fma of the direct kernel (which runs near
 * the fma peak), measured per tile on AVX-512 and AVX2 for F(4x4,3x3):
 * transforming one vector of input channels ~400, one vector of output
 * channels ~350 (loads, stores and the ~12 six-term combinations); other
 * variants scale these by their operation counts (transform_ops).  The
 * GEMM runs at the fma peak only with enough independent accumulators:
 * 2 fma ports x 4 cycles of latency.  Winograd must come out clearly
 * cheaper, the estimate is rough: 0.85.  LeNet c3 (estimated 0.845 on AVX2
 * and SSE4) measured 0.85 of the direct layer on AVX2 and took LeNet-5
 * 16% faster on SSE4; cifar conv3 (estimated 1.08 on AVX2) measured 0.85
 * and stays direct (docs/decisions/winograd.md). */
#define INPUT_TRANSFORM_COST 400.0
#define OUTPUT_TRANSFORM_COST 350.0
#define CHAINS_FOR_PEAK 8.0
#define REQUIRED_GAIN 0.85
/* Each vector of U comes into the block's GEMM once, from L2 or L3 (the U
 * of a 64 -> 64 layer is 590 KB), and then feeds one fma per tile of the
 * block.  With fewer than ~3 tiles the GEMM waits on U instead of on the
 * fmas.  Calibrated on Zen 3, AVX2, one-tile layers against their direct
 * kernel (which runs ~75% of peak on them): cifar conv3 0.76 of direct,
 * mnist conv3 1.26 (docs/decisions/winograd.md, ninth session). */
#define U_VECTOR_COST 3.0

static int nonzeros(const double *row, int n) {
    int count = 0;
    for (int k = 0; k < n; k++)
        count += row[k] != 0;
    return count;
}

/* Vector operations of one channel vector's transform: the input's alpha²
 * loads and stores and a term per nonzero of B^T in each of its 2·alpha 1-D
 * transforms; the output's alpha² loads, alpha + m 1-D transforms over A^T
 * and m² stores. */
static double transform_ops(const WinoVariant *v, Sweep sweep) {
    int alpha = v->alpha, terms = 0;
    if (sweep == SWEEP_INPUT) {
        for (int i = 0; i < alpha; i++)
            terms += nonzeros(v->bt[i], alpha);
        return 2.0 * alpha * alpha + 2.0 * alpha * terms;
    }
    for (int i = 0; i < v->m; i++)
        terms += nonzeros(v->at[i], alpha);
    return (double)alpha * alpha + (double)(alpha + v->m) * terms + v->m * v->m;
}

static double transform_cost(const WinoVariant *v, Sweep sweep) {
    double measured = sweep == SWEEP_INPUT ? INPUT_TRANSFORM_COST : OUTPUT_TRANSFORM_COST;
    return measured * transform_ops(v, sweep) / transform_ops(&variants[0], sweep);
}

/* Estimated Winograd cost / direct cost for this op with this many lanes
 * and registers. */
static double cost_ratio(const IrOp *op, const WinoVariant *v, int lanes, int regs, bool fma) {
    int c = op->in_shape.c, f = op->out_shape.c;
    WinoPlan p = wino_plan(op, v);
    WinoTile tile = wino_tile(op, &p, lanes, regs, fma);
    double cvec = (c + lanes - 1) / lanes, fvec = (f + lanes - 1) / lanes;
    double chains = tile.nb * min_int(tile.px, block_tiles(&p));
    double gemm_rate = chains < CHAINS_FOR_PEAK ? chains / CHAINS_FOR_PEAK : 1.0;
    double per_fma = fmax(1.0 / gemm_rate, U_VECTOR_COST / block_tiles(&p));
    double per_tile = points(v) * c * fvec * per_fma + cvec * transform_cost(v, SWEEP_INPUT) +
                      fvec * transform_cost(v, SWEEP_OUTPUT);
    double direct = (double)conv_rows(op) * conv_cols(op) * v->r * v->r * c * fvec;
    return (double)p.th * p.tw * per_tile / direct;
}

/* On a target (`auto`, for conv_winograd_kernel_any: as AVX-512). */
static double winograd_cost_ratio(const IrOp *op, const Target *t, const WinoVariant *v) {
    if (!t->lanes)
        return cost_ratio(op, v, simd_auto_paths[0].lanes, simd_auto_paths[0].regs, simd_auto_paths[0].fma);
    return cost_ratio(op, v, t->lanes, simd_register_count(t), t->fma);
}

const KernelEmitter *conv_winograd_variant_kernel(const IrOp *op, const Target *t, int m) {
    for (int v = 0; v < NVARIANTS; v++)
        if (variants[v].m == m && winograd_applies(op, &variants[v]))
            return variant_kernel(&variants[v], t);
    return NULL;
}

/* The variant the cost model estimates cheapest, with its ratio. */
static const KernelEmitter *cheapest_kernel(const IrOp *op, const Target *t, double *ratio) {
    const KernelEmitter *best = NULL;
    for (int v = 0; v < NVARIANTS; v++) {
        const KernelEmitter *k = winograd_applies(op, &variants[v]) ? variant_kernel(&variants[v], t) : NULL;
        double estimate = k ? winograd_cost_ratio(op, t, &variants[v]) : 0;
        if (k && (!best || estimate < *ratio))
            best = k, *ratio = estimate;
    }
    return best;
}

const KernelEmitter *conv_winograd_kernel_any(const IrOp *op, const Target *t) {
    double ratio;
    return cheapest_kernel(op, t, &ratio);
}

static const KernelEmitter *auto_kernel(const IrOp *op);

const KernelEmitter *conv_winograd_kernel(const IrOp *op, const Target *t) {
    if (!t->lanes)
        return auto_kernel(op);
    double ratio;
    const KernelEmitter *k = cheapest_kernel(op, t, &ratio);
    return k && ratio < REQUIRED_GAIN ? k : NULL;
}

/* ------------------------------------------------------------------ auto */

/* An `auto` file runs on whichever ISA the C compiler enables, and the
 * estimates differ by path: LeNet c3 is 0.845 on AVX2 and SSE, 1.1 on
 * AVX-512.  So each SIMD path decides for itself, all with the variant that
 * looks best on any of them; the plain-C fallback follows the paths that
 * take Winograd.  When the SIMD paths disagree, the op gets the split
 * kernel: both packings (the direct kernel's weights and U, as "winograd"),
 * and per path the body of the kernel it took, which names the array it
 * does not read with (void) so that no build warns of it. */
static bool path_takes(const IrOp *op, const WinoVariant *v, int i) {
    const AutoPath *path = &simd_auto_paths[i];
    return path->lanes == 1 || cost_ratio(op, v, path->lanes, path->regs, path->fma) < REQUIRED_GAIN;
}

static const WinoVariant *auto_variant(const IrOp *op) {
    const WinoVariant *best = NULL;
    double best_ratio = 0;
    for (int v = 0; v < NVARIANTS; v++)
        for (int i = 0; i < SIMD_AUTO_PATHS; i++) {
            const AutoPath *path = &simd_auto_paths[i];
            if (!winograd_applies(op, &variants[v]) || path->lanes == 1)
                continue;
            double ratio = cost_ratio(op, &variants[v], path->lanes, path->regs, path->fma);
            if (!best || ratio < best_ratio)
                best = &variants[v], best_ratio = ratio;
        }
    return best;
}

static const KernelEmitter *auto_kernel(const IrOp *op) {
    const WinoVariant *v = auto_variant(op);
    int simd_paths = 0, taking = 0;
    for (int i = 0; v && i < SIMD_AUTO_PATHS; i++)
        if (simd_auto_paths[i].lanes > 1)
            simd_paths++, taking += path_takes(op, v, i);
    if (!taking)
        return NULL;
    if (taking == simd_paths)
        return &winograd_kernels[v - variants][0];
    return conv_simd_auto_kernel(op) ? &split_kernels[v - variants] : NULL;
}

/* Arrays: the direct kernel's (weight, bias if any), then U. */
static void split_pack(IrOp *op) {
    IrOp direct = *op, wino = *op;
    direct.kernel = conv_simd_auto_kernel(op);
    direct.kernel->pack(&direct);
    wino.kernel = &winograd_kernels[variant_of(op) - variants][0];
    winograd_pack(&wino);
    memcpy(op->arrays, direct.arrays, sizeof op->arrays);
    op->narrays = direct.narrays;
    op->arrays[op->narrays] = wino.arrays[0];
    op->arrays[op->narrays++].tensor = "winograd";
    op->scratch_floats = wino.scratch_floats;
}

/* Each path's body, from a copy of op that holds its kernel and arrays. */
static void split_emit_body(Emitter *e, const IrOp *op) {
    const WinoVariant *v = variant_of(op);
    int u = op->narrays - 1;
    IrOp direct = *op, wino = *op;
    direct.kernel = conv_simd_auto_kernel(op);
    direct.narrays = u;
    wino.kernel = &winograd_kernels[v - variants][0];
    wino.arrays[0] = op->arrays[u];
    wino.narrays = u;   /* U, and the bias if there is one */
    for (int i = 0; i < SIMD_AUTO_PATHS; i++) {
        simd_emit_auto_branch(e, i);
        if (path_takes(op, v, i)) {
            emit(e, "(void)%s;\n", ir_array_symbol(op, 0));
            emit_auto_path(e, &wino, &simd_auto_paths[i]);
        } else {
            emit(e, "(void)%s;\n(void)scratch;\n", ir_array_symbol(op, u));
            conv_simd_emit_auto_path(e, &direct, &simd_auto_paths[i]);
        }
    }
    emit(e, "#endif\n");
}
