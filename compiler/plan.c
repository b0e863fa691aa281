/* plan.c — the static memory plan: a byte offset in one workspace for every
 * intermediate buffer.
 *
 * Method: liveness, then offline first fit.  A buffer lives from the op that
 * writes it to the last op that reads it (both included, so an op's input
 * and output never overlap).  Buffers are placed in the order they are
 * written, each at the lowest 64-byte aligned offset where it does not
 * overlap any already placed buffer whose lifetime intersects its own.  An
 * elementwise op whose input dies with it runs in place: its output takes the
 * input's offset.  A kernel's scratch buffer lives during its op only.
 * The caller's input and output arrays are not in the
 * workspace; the workspace size is the end of the highest placed buffer. */
#include "cnnc.h"

#include <stdlib.h>

#define WS_ALIGN 64

static long long buffer_bytes(const IrBuf *b) { return b->floats * (long long)sizeof(float); }

static long long align_up(long long n) { return (n + WS_ALIGN - 1) / WS_ALIGN * WS_ALIGN; }

static void compute_liveness(Ir *ir) {
    for (int i = 0; i < ir->nops; i++) {
        IrBuf *in = &ir->bufs[ir->ops[i].in], *out = &ir->bufs[ir->ops[i].out];
        in->last = i;
        if (out->first < 0)
            out->first = i;
        if (out->last < i)
            out->last = i;
        if (ir->ops[i].scratch >= 0)
            ir->bufs[ir->ops[i].scratch].first = ir->bufs[ir->ops[i].scratch].last = i;
    }
}

static bool lifetimes_meet(const IrBuf *a, const IrBuf *b) {
    return a->first <= b->last && b->first <= a->last;
}

static int by_offset(const void *pa, const void *pb) {
    const IrBuf *a = *(const IrBuf *const *)pa, *b = *(const IrBuf *const *)pb;
    return (a->offset > b->offset) - (a->offset < b->offset);
}

/* The lowest aligned offset that clears every placed buffer alive with b. */
static long long first_fit(Ir *ir, const IrBuf *b, const bool *placed) {
    const IrBuf **live = arena_alloc((size_t)ir->nbufs * sizeof *live);
    int n = 0;
    for (int i = 0; i < ir->nbufs; i++)
        if (placed[i] && lifetimes_meet(&ir->bufs[i], b))
            live[n++] = &ir->bufs[i];
    qsort(live, (size_t)n, sizeof *live, by_offset);
    long long at = 0;
    for (int i = 0; i < n; i++) {
        if (at + buffer_bytes(b) <= live[i]->offset)
            break;
        long long end = align_up(live[i]->offset + buffer_bytes(live[i]));
        if (end > at)
            at = end;
    }
    return at;
}

/* The op's output may take its input's place: elementwise kernel, input in
 * the workspace, read by nobody after this op, and no smaller. */
static int in_place_source(const Ir *ir, int op_index) {
    const IrOp *op = &ir->ops[op_index];
    const IrBuf *in = &ir->bufs[op->in];
    bool ok = op->kernel->in_place_ok && in->kind == BUF_WORK && in->last == op_index &&
              in->floats >= ir->bufs[op->out].floats;
    return ok ? op->in : -1;
}

/* Buffer id at the offset of `shares` (in place), else at the first fit. */
static void place_buffer(Ir *ir, int id, int shares, bool *placed) {
    IrBuf *b = &ir->bufs[id];
    if (b->kind != BUF_WORK)
        return;
    b->shares = shares;
    b->offset = shares >= 0 ? ir->bufs[shares].offset : first_fit(ir, b, placed);
    placed[id] = true;
    if (b->offset + buffer_bytes(b) > ir->workspace_bytes)
        ir->workspace_bytes = b->offset + buffer_bytes(b);
}

void plan_memory(Ir *ir) {
    if (!ir)
        return;
    compute_liveness(ir);
    bool *placed = arena_alloc((size_t)ir->nbufs * sizeof *placed);
    for (int i = 0; i < ir->nops; i++) {
        place_buffer(ir, ir->ops[i].out, in_place_source(ir, i), placed);
        if (ir->ops[i].scratch >= 0)
            place_buffer(ir, ir->ops[i].scratch, -1, placed);
    }
}

long long ir_workspace_bytes(const Ir *ir) { return ir ? ir->workspace_bytes : -1; }
