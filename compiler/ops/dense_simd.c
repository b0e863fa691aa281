/* ops/dense_simd.c — dense layers as blocked matrix-vector products.
 *
 * y = x W + b with W [in][out].  The outputs are cut into sub-blocks of NB
 * vectors; for each sub-block the kernel walks the inputs, broadcasts x[i]
 * and multiplies it into the NB weight vectors of row i.  Two accumulator
 * sets take the even and the odd inputs, so 2*NB independent fma chains hide
 * the fma latency; they are added at the end, then bias and activation, and
 * a last vector of fewer than L outputs is stored with the exact tail
 * helpers.  A dense layer reads each weight once, so it is bound by memory
 * bandwidth: what matters is that the weights stream contiguously, which the
 * compile-time packing ensures — blocks of BW outputs, each [in][BW], with
 * BW = NB*L for a fixed target and 16 (a multiple of every lane count) for
 * `auto`, whose body is emitted once per lane count under #if.
 */
#include "simd.h"

#include <string.h>

typedef struct DenseTile {
    int lanes;   /* L */
    int nb;      /* vectors of outputs per sub-block */
    int bw;      /* packed block width in outputs */
} DenseTile;

static DenseTile dense_tile(const IrOp *op, int lanes, bool auto_bw) {
    DenseTile t = {.lanes = lanes};
    int nvec = (op->out_shape.c + lanes - 1) / lanes;
    t.nb = nvec < 4 ? nvec : 4;
    t.bw = auto_bw ? 16 : t.nb * lanes;
    if (auto_bw && t.nb * lanes > 16 && lanes < 16)
        t.nb = 16 / lanes;   /* a sub-block must not straddle a packing block */
    return t;
}

static DenseTile packing_tile(const IrOp *op) {
    const Target *t = simd_kernel_target(op);
    return t->lanes ? dense_tile(op, t->lanes, false) : dense_tile(op, 16, true);
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

/* Offset of output j (relative to a sub-block start) in the packed weights. */
static long long packed_offset(const IrOp *op, const DenseTile *t, int j) {
    return (long long)(j / t->bw) * op->in_shape.c * t->bw + j % t->bw;
}

/* acc += x[i] * W[i] for one input row, into accumulator set `set`. */
static void emit_row_step(Emitter *e, const IrOp *op, const DenseTile *t, int nb, char set, int di) {
    emit(e, "x = cnnc_vbcast(in[i + %d]);", di);
    for (int v = 0; v < nb; v++)
        emit(e, " %c%d = cnnc_vfma(x, cnnc_vload(w + (i + %d) * %d + %lld), %c%d);", set, v, di, t->bw,
             packed_offset(op, t, v * t->lanes), set, v);
    emit(e, "\n");
}

static void emit_sub_block_reduction(Emitter *e, const IrOp *op, const DenseTile *t, int nb) {
    int n = op->in_shape.c;
    for (int v = 0; v < nb; v++)
        emit(e, "cnnc_v a%d = cnnc_vzero(), b%d = cnnc_vzero();\n", v, v);
    emit(e, "cnnc_v x;\n");
    emit(e, "for (int i = 0; i < %d; i += 2) {\n", n / 2 * 2);
    emit_row_step(e, op, t, nb, 'a', 0);
    emit_row_step(e, op, t, nb, 'b', 1);
    emit(e, "}\n");
    if (n % 2) {
        emit(e, "{\n");
        emit(e, "const int i = %d;\n", n - 1);
        emit_row_step(e, op, t, nb, 'a', 0);
        emit(e, "}\n");
    }
}

static void emit_sub_block_store(Emitter *e, const IrOp *op, int nb, int tail, int lanes) {
    for (int v = 0; v < nb; v++) {
        bool is_tail = tail && v == nb - 1;
        const char *sum = arena_printf("cnnc_vadd(a%d, b%d)", v, v);
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

static void emit_sub_block(Emitter *e, const IrOp *op, const DenseTile *t, int nb, int tail) {
    emit_sub_block_reduction(e, op, t, nb);
    emit_sub_block_store(e, op, nb, tail, t->lanes);
}

/* Full sub-blocks of NB vectors, then the rest (ending in a tail vector when
 * the output count is not a multiple of L). */
static void emit_dense_for_tile(Emitter *e, const IrOp *op, const DenseTile *t) {
    int m = op->out_shape.c, lanes = t->lanes;
    int full_vecs = m / lanes, tail = m % lanes;
    int nsub = full_vecs / t->nb, rest = full_vecs % t->nb + (tail ? 1 : 0);
    const char *w = ir_array_symbol(op, 0);
    emit(e, "/* %d vectors of %d outputs at a time; weights in blocks of %d */\n", t->nb, lanes, t->bw);
    if (nsub) {
        emit(e, "for (int f0 = 0; f0 < %d; f0 += %d) {\n", nsub * t->nb * lanes, t->nb * lanes);
        emit(e, "const float *w = %s + (f0 / %d) * %lld + f0 %% %d;\n", w, t->bw, packed_offset(op, t, t->bw),
             t->bw);
        emit_sub_block(e, op, t, t->nb, 0);
        emit(e, "}\n");
    }
    if (rest) {
        emit(e, "{\n");
        emit(e, "const int f0 = %d;\n", nsub * t->nb * lanes);
        emit(e, "const float *w = %s + %lld;\n", w, packed_offset(op, t, nsub * t->nb * lanes));
        emit_sub_block(e, op, t, rest, tail);
        emit(e, "}\n");
    }
}

static void dense_simd_emit_body(Emitter *e, const IrOp *op) {
    if (simd_kernel_target(op)->lanes) {
        DenseTile t = packing_tile(op);
        emit_dense_for_tile(e, op, &t);
        return;
    }
    static const int lane_counts[] = {16, 8, 4, 1};
    for (int i = 0; i < 4; i++) {
        DenseTile t = dense_tile(op, lane_counts[i], true);
        if (i < 3)
            emit(e, "#%s CNNC_LANES == %d\n", i ? "elif" : "if", lane_counts[i]);
        else
            emit(e, "#else\n");
        emit_dense_for_tile(e, op, &t);
    }
    emit(e, "#endif\n");
}

#define DENSE_SIMD_KERNEL(isa) {isa, dense_simd_pack, dense_simd_emit_body, false}
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
