/* ops/simd.h — what the SIMD kernel families (conv_simd.c, dense_simd.c)
 * share; defined in conv_simd.c.  Not part of cnnc.h because no other phase
 * needs it. */
#ifndef CNNC_OPS_SIMD_H
#define CNNC_OPS_SIMD_H

#include "cnnc.h"

/* The target record a SIMD kernel serves (from its isa name); lanes 0 is
 * `auto`, whose lane count only the C compiler knows. */
const Target *simd_kernel_target(const IrOp *op);
/* Vector registers of a target with this many lanes: 32 on AVX-512 and
 * NEON, 16 elsewhere. */
int simd_register_count(const Target *t);
/* The input pointer `row` of a loop with no inner loop, through
 * cnnc_opaque_row (runtime/cnnc_simd_math.h) when gcc's predictive
 * commoning would spill.  Loads of one iteration that the next iteration
 * loads again (a conv tile's later rows read the next ky's rows of its first
 * ones; Winograd's neighbouring input tiles overlap by alpha - m columns)
 * are carried in registers by gcc: hidden when those `carried` loads and the
 * `live` values of the body (accumulators, transform points) leave fewer
 * than two of `regs`; below that the reuse is free and kept. */
const char *simd_opaque_row(const char *row, int live, int carried, int regs);
/* The load of a vector from `at` that a register tile reads `uses` times:
 * cnnc_vload_keep (runtime/cnnc_simd_math.h) when more than once, so that
 * gcc keeps it in a register instead of folding the load into each fma. */
const char *simd_reused_load(const char *at, int uses);
/* The bodies of an `auto` kernel: one per lane count cnnc_simd.h may pick
 * (AVX-512, AVX2, SSE or NEON, then plain C), each with the register file
 * and fma its register tiles and cost estimates assume.  x86: the 16- and
 * 8-lane paths (the 4-lane one may be NEON). */
typedef struct AutoPath {
    int lanes, regs;
    bool fma, x86;
} AutoPath;
#define SIMD_AUTO_PATHS 4
extern const AutoPath simd_auto_paths[SIMD_AUTO_PATHS];
/* The line that opens path i's body: #if / #elif CNNC_LANES == L, #else. */
void simd_emit_auto_branch(Emitter *e, int i);
/* `cnnc_vrelu(x)` etc.: the fused activation around a vector expression. */
const char *simd_act_expr(ActKind act, float alpha, const char *x);
/* Whether max(f(a), f(b)) = f(max(a, b)) for the activation f: it never
 * decreases (all but softmax and a leaky relu of negative slope), and NaN
 * stays NaN through both.  A fused max pool then activates once per pooled
 * output instead of four times. */
bool simd_act_commutes_with_max(ActKind act, float alpha);

/* How a kernel cuts its output channels (conv filters, dense outputs) into
 * sub-blocks of NB vectors of L lanes, over weights packed in blocks of BW
 * channels of block_floats floats each. */
typedef struct SimdBlocks {
    int channels, lanes, nb, bw;
    long long block_floats;
} SimdBlocks;
/* Emits the code for one sub-block of `nb` vectors starting at channel f0
 * (a C variable), reading packed weights from `w` (a C pointer); the last
 * vector holds only `tail` channels when tail > 0.  `tile` is the caller's. */
typedef void SimdBlockEmitter(Emitter *e, const IrOp *op, const void *tile, int nb, int tail);
/* Offset of channel j (from a block-aligned start) in the packed weights. */
long long simd_packed_offset(const SimdBlocks *b, int j);
/* Full sub-blocks of NB vectors in a loop over f0, then the rest (ending in
 * a tail vector when the channel count is not a multiple of L). */
void simd_emit_channel_blocks(Emitter *e, const IrOp *op, const SimdBlocks *b, SimdBlockEmitter *emit_block,
                              const void *tile);
/* Steps of a reduction that --unroll=full unrolls with constant offsets,
 * at most, per tile body (beyond it the outer loops stay rolled). */
#define SIMD_FULL_UNROLL_MAX_STEPS 2048

/* conv_simd.c's direct kernel for `auto` when it is the one that takes op
 * (not the pixel or channel-dot kernel), else NULL; and its body for one
 * path (conv_winograd.c's split kernel puts it beside Winograd bodies). */
const KernelEmitter *conv_simd_auto_kernel(const IrOp *op);
void conv_simd_emit_auto_path(Emitter *e, const IrOp *op, const AutoPath *path);

/* A conv the pixel-vectorized kernel takes (one input channel, few filters). */
bool conv_pixels_applies(const IrOp *op);
const KernelEmitter *conv_pixels_kernel(const Target *t);

/* A conv the channel-dot kernel takes (one or two filters, many input
 * channels: the 1x1 heads of policy and value networks). */
bool conv_dot_applies(const IrOp *op);
const KernelEmitter *conv_dot_kernel(const Target *t);

/* lincomb.c: emits out[r] = sum_k matrix[r·stride + k]·terms[k] for the
 * `rows` rows, as vector expressions over the C names in terms (NULL: a
 * known zero), declaring before them the temporaries (named PREFIX t0,
 * PREFIX t1, …) for pairs of terms that several rows share; out[r] is NULL
 * when the row has no nonzero term.  At most LINCOMB_MAX_N terms and
 * LINCOMB_MAX_ROWS rows. */
#define LINCOMB_MAX_N 8
#define LINCOMB_MAX_ROWS 8
void lincomb_emit(Emitter *e, const double *matrix, int stride, int rows, const char *const *terms, int n,
                  const char *prefix, const char **out);

#endif
