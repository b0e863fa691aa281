/* ops/dense_simd.c — dense layers as blocked matrix-vector products.
 *
 * y = x W + b with W [in][out].  The outputs are cut into sub-blocks of NB
 * vectors; for each sub-block the kernel walks the inputs, broadcasts x[i]
 * and multiplies it into the NB weight vectors of row i.  The inputs are
 * read in four quarters (four streams through the weights); up to 4 vectors
 * the quarters go to two accumulator sets, so 2*NB independent fma chains
 * hide the fma latency, and from 5 vectors on to one set (NB chains are
 * enough, and two sets would not fit 16 registers).  The sets are added at
 * the end, then bias and activation, and a last vector of fewer than L
 * outputs is stored with the exact tail helpers.  A dense layer reads each
 * weight once, so it is bound by memory bandwidth: what matters is that the
 * weights stream contiguously, which the compile-time packing ensures —
 * blocks of BW outputs, each [in][BW], with BW = NB*L: a sub-block reads
 * whole rows of one block.  NB is 8 on AVX2 and NEON, 4 on AVX-512 (a
 * 64-wide row) and SSE.
 *
 * `auto`, whose body is emitted once per lane count under #if, packs once
 * for every path: BW = 64 (AVX-512's 4 vectors; fewer for narrow layers):
 * AVX-512 and AVX2 read whole rows, the 4-lane path (SSE or NEON) quarters.  A
 * 16-wide packing read by AVX-512's 4 vectors made 16 streams at once and
 * ran 2.3x slower (docs/decisions/simd.md).
 */
#include "simd.h"

#include <string.h>

#define AUTO_BLOCK_WIDTH 64

typedef struct DenseTile {
    int lanes;   /* L */
    int nb;      /* vectors of outputs per sub-block */
    int bw;      /* packed block width in outputs */
} DenseTile;

static int min_int(int a, int b) { return a < b ? a : b; }

/* `auto`'s one packing: 64 outputs, or the outputs rounded up to 16 (a
 * multiple of every lane count) when there are fewer. */
static int auto_block_width(const IrOp *op) {
    return min_int(AUTO_BLOCK_WIDTH, (op->out_shape.c + 15) / 16 * 16);
}

/* Vectors per sub-block: 8 in one set with fma on 8 or 4 lanes (AVX2, NEON:
 * 8 accumulators and the broadcast fit 16 registers), else 4 in two sets
 * (AVX-512's 4 are a 64-wide row; SSE's multiply-add needs temporaries, and
 * 8 vectors were no faster there, within the machine's noise). */
static int most_vectors(int lanes, bool fma) { return fma && (lanes == 8 || lanes == 4) ? 8 : 4; }

static DenseTile dense_tile(const IrOp *op, int lanes, bool fma, bool auto_bw) {
    DenseTile t = {.lanes = lanes};
    int nvec = (op->out_shape.c + lanes - 1) / lanes;
    t.nb = min_int(nvec, most_vectors(lanes, fma));
    t.bw = auto_bw ? auto_block_width(op) : t.nb * lanes;
    t.nb = min_int(t.nb, t.bw / lanes);   /* a sub-block never straddles a block */
    return t;
}

static DenseTile packing_tile(const IrOp *op) {
    const Target *t = simd_kernel_target(op);
    return t->lanes ? dense_tile(op, t->lanes, t->fma, false) : dense_tile(op, 16, true, true);
}

static void dense_simd_pack(IrOp *op) {
    int n = op->in_shape.c, m = op->out_shape.c, bw = packing_tile(op).bw;
    long long mpad = (m + bw - 1) / bw * bw;
    float *packed = NULL;
    if (op->weight.data) {
        packed = arena_alloc((size_t)(mpad * n) * sizeof *packed);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
                packed[(long long)(j / bw) * n * bw + (long long)i * bw + j % bw] =
                    op->weight.data[(long long)i * m + j];
    }
    op->arrays[0] = (IrArray){"weight", packed, mpad * n};
    op->narrays = 1;
    if (op->bias.count)
        op->arrays[op->narrays++] = (IrArray){"bias", op->bias.data, op->bias.count};
}

static SimdBlocks dense_blocks(const IrOp *op, const DenseTile *t) {
    return (SimdBlocks){op->out_shape.c, t->lanes, t->nb, t->bw, (long long)op->in_shape.c * t->bw};
}

/* Offset of output j (relative to a sub-block start) in the packed weights. */
static long long packed_offset(const IrOp *op, const DenseTile *t, int j) {
    SimdBlocks b = dense_blocks(op, t);
    return simd_packed_offset(&b, j);
}

/* acc += x[i] * W[i] for input row `i` (a C expression), into accumulator
 * set `set`. */
static void emit_row_step(Emitter *e, const IrOp *op, const DenseTile *t, int nb, char set, const char *i) {
    emit(e, "x = cnnc_vbcast(in[%s]);", i);
    for (int v = 0; v < nb; v++)
        emit(e, " %c%d = cnnc_vfma(x, cnnc_vload(w + (%s) * %d + %lld), %c%d);", set, v, i, t->bw,
             packed_offset(op, t, v * t->lanes), set, v);
    emit(e, "\n");
}

/* The input rows are read as four streams, the quarters of the packed
 * weights, which a memory-bound layer reads faster than one or two (flowers
 * fc1, 16 MB of weights, on a Zen 3 core: one stream -> two 20-40% less time,
 * two -> four another 15-30%, docs/decisions/simd.md).  Up to 4 vectors two
 * accumulator sets (a: quarters 1 and 3, b: 2 and 4) hide the fma latency;
 * more vectors are chains enough in one set.  The rows left over when 4 does
 * not divide the inputs come last. */
#define STREAMS 4
#define MOST_VECTORS_WITH_TWO_SETS 4

static bool two_sets(int nb) { return nb <= MOST_VECTORS_WITH_TWO_SETS; }

static char stream_set(int nb, int s) { return two_sets(nb) && s % 2 ? 'b' : 'a'; }

/* The rows after the four quarters, each with a constant index. */
static void emit_rows_left_over(Emitter *e, const IrOp *op, const DenseTile *t, int nb) {
    int n = op->in_shape.c;
    for (int i = n / STREAMS * STREAMS; i < n; i++)
        emit_row_step(e, op, t, nb, stream_set(nb, i), arena_printf("%d", i));
}

/* --unroll=full: every input row with a constant index. */
static void emit_rows_unrolled(Emitter *e, const IrOp *op, const DenseTile *t, int nb) {
    int quarter = op->in_shape.c / STREAMS;
    for (int i = 0; i < quarter; i++)
        for (int s = 0; s < STREAMS; s++)
            emit_row_step(e, op, t, nb, stream_set(nb, s), arena_printf("%d", s * quarter + i));
    emit_rows_left_over(e, op, t, nb);
}

static void emit_rows_rolled(Emitter *e, const IrOp *op, const DenseTile *t, int nb) {
    int quarter = op->in_shape.c / STREAMS;
    if (quarter) {
        emit(e, "for (int i = 0; i < %d; i++) {\n", quarter);
        for (int s = 0; s < STREAMS; s++)
            emit_row_step(e, op, t, nb, stream_set(nb, s), s ? arena_printf("i + %d", s * quarter) : "i");
        emit(e, "}\n");
    }
    emit_rows_left_over(e, op, t, nb);
}

static void emit_sub_block_reduction(Emitter *e, const IrOp *op, const DenseTile *t, int nb) {
    for (int v = 0; v < nb; v++) {
        if (two_sets(nb))
            emit(e, "cnnc_v a%d = cnnc_vzero(), b%d = cnnc_vzero();\n", v, v);
        else
            emit(e, "cnnc_v a%d = cnnc_vzero();\n", v);
    }
    emit(e, "cnnc_v x;\n");
    if (op->unroll == UNROLL_FULL && op->in_shape.c <= SIMD_FULL_UNROLL_MAX_STEPS)
        emit_rows_unrolled(e, op, t, nb);
    else
        emit_rows_rolled(e, op, t, nb);
}

static void emit_sub_block_store(Emitter *e, const IrOp *op, int nb, int tail, int lanes) {
    for (int v = 0; v < nb; v++) {
        bool is_tail = tail && v == nb - 1;
        const char *sum = two_sets(nb) ? arena_printf("cnnc_vadd(a%d, b%d)", v, v) : arena_printf("a%d", v);
        if (op->bias.count && is_tail)
            sum = arena_printf("cnnc_vadd(%s, cnnc_vload_tail(%s + f0 + %d, %d))", sum, ir_array_symbol(op, 1),
                               v * lanes, tail);
        else if (op->bias.count)
            sum = arena_printf("cnnc_vadd(%s, cnnc_vload(%s + f0 + %d))", sum, ir_array_symbol(op, 1), v * lanes);
        const char *val = simd_act_expr(op->act, op->alpha, sum);
        if (is_tail)
            emit(e, "cnnc_vstore_tail(out + f0 + %d, %s, %d);\n", v * lanes, val, tail);
        else
            emit(e, "cnnc_vstore(out + f0 + %d, %s);\n", v * lanes, val);
    }
}

static void emit_sub_block(Emitter *e, const IrOp *op, const void *tile, int nb, int tail) {
    const DenseTile *t = tile;
    emit_sub_block_reduction(e, op, t, nb);
    emit_sub_block_store(e, op, nb, tail, t->lanes);
}

static void emit_dense_for_tile(Emitter *e, const IrOp *op, const DenseTile *t) {
    emit(e, "/* %d vectors of %d outputs at a time; weights in blocks of %d */\n", t->nb, t->lanes, t->bw);
    SimdBlocks b = dense_blocks(op, t);
    simd_emit_channel_blocks(e, op, &b, emit_sub_block, t);
}

static void dense_simd_emit_body(Emitter *e, const IrOp *op) {
    if (simd_kernel_target(op)->lanes) {
        DenseTile t = packing_tile(op);
        emit_dense_for_tile(e, op, &t);
        return;
    }
    for (int i = 0; i < SIMD_AUTO_PATHS; i++) {
        DenseTile t = dense_tile(op, simd_auto_paths[i].lanes, simd_auto_paths[i].fma, true);
        simd_emit_auto_branch(e, i);
        emit_dense_for_tile(e, op, &t);
    }
    emit(e, "#endif\n");
}

#define DENSE_SIMD_KERNEL(isa) {isa, dense_simd_pack, dense_simd_emit_body, false, false}
static const KernelEmitter dense_simd_kernels[] = {
    DENSE_SIMD_KERNEL("auto"), DENSE_SIMD_KERNEL("sse4"), DENSE_SIMD_KERNEL("avx2"),
    DENSE_SIMD_KERNEL("avx512"), DENSE_SIMD_KERNEL("neon"),
};

/* A fused softmax stays with the scalar kernel (it needs the whole vector). */
const KernelEmitter *dense_simd_kernel(const IrOp *op, const Target *t) {
    if (op->act == ACT_SOFTMAX)
        return NULL;
    for (size_t i = 0; i < sizeof dense_simd_kernels / sizeof dense_simd_kernels[0]; i++)
        if (!strcmp(dense_simd_kernels[i].isa, t->name))
            return &dense_simd_kernels[i];
    return NULL;
}
