/* layout.c — the planner's activation layouts: plain H-W-C, or H-W-C inside
 * a zero-bordered frame.
 *
 * Lowering puts a PAD op (a zero-bordered copy) before every padded conv, so
 * every conv kernel is a valid convolution with no border code.  This pass,
 * run once kernels are chosen, removes the copies it can: when a PAD op's
 * input is a workspace buffer that only the PAD op reads, and the kernel
 * writing it can address its output rows with a pitch (writes_frame), that
 * producer writes straight into the interior of the PAD op's buffer and the
 * PAD op disappears.  Workspace memory is shared between buffers (plan.c)
 * and holds garbage at each inference, so the producer also zeroes the
 * border: O(perimeter) stores instead of a full copy plus a memset.
 * The PAD op stays where no producer can write a frame: the caller's input
 * buffer, and kernels without writes_frame (dense, activations, ...): those
 * are the layout conversions at the model's edges.  docs/decisions/layout.md
 * has the decision and its measurements. */
#include "cnnc.h"

#include <string.h>

bool has_frame(const IrOp *op) {
    Frame f = op->out_frame;
    return f.top || f.bottom || f.left || f.right;
}

int frame_pitch(const IrOp *op) {
    return (op->out_frame.left + op->out_shape.w + op->out_frame.right) * op->out_shape.c;
}

long long frame_origin(const IrOp *op) {
    return (long long)op->out_frame.top * frame_pitch(op) + (long long)op->out_frame.left * op->out_shape.c;
}

/* ------------------------------------------------------------ the pass */

/* The op writing buffer b, or -1; how many ops read it. */
static int writer_of(const Ir *ir, int b) {
    for (int i = 0; i < ir->nops; i++)
        if (ir->ops[i].out == b)
            return i;
    return -1;
}

static int readers_of(const Ir *ir, int b) {
    int n = 0;
    for (int i = 0; i < ir->nops; i++)
        n += ir->ops[i].in == b;
    return n;
}

/* The op that can write PAD op `pad`'s buffer as a frame, or -1. */
static int frame_writer(const Ir *ir, const IrOp *pad) {
    if (ir->bufs[pad->in].kind != BUF_WORK || readers_of(ir, pad->in) != 1)
        return -1;
    int w = writer_of(ir, pad->in);
    if (w < 0 || !ir->ops[w].kernel->writes_frame || has_frame(&ir->ops[w]))
        return -1;
    return w;
}

/* Removes buffer b (no op uses it any more) and renumbers the later ones.
 * Only in/out need it: scratch buffers are added after this pass
 * (lower_model: choose kernels, place frames, pack, then scratch). */
static void drop_buffer(Ir *ir, int b) {
    memmove(&ir->bufs[b], &ir->bufs[b + 1], (size_t)(ir->nbufs - b - 1) * sizeof *ir->bufs);
    ir->nbufs--;
    for (int i = 0; i < ir->nops; i++) {
        ir->ops[i].in -= ir->ops[i].in > b;
        ir->ops[i].out -= ir->ops[i].out > b;
    }
}

static void drop_op(Ir *ir, int i) {
    memmove(&ir->ops[i], &ir->ops[i + 1], (size_t)(ir->nops - i - 1) * sizeof *ir->ops);
    ir->nops--;
}

/* The writer of the PAD op's input writes the PAD op's output instead, in
 * the interior of a frame as wide as the padding. */
static void fold_pad_into_writer(Ir *ir, int pad_index, int writer) {
    IrOp *pad = &ir->ops[pad_index], *w = &ir->ops[writer];
    int old = w->out;
    w->out = pad->out;
    w->out_frame = (Frame){pad->pad_top, pad->pad_bottom, pad->pad_left, pad->pad_right};
    drop_op(ir, pad_index);
    drop_buffer(ir, old);
}

void place_frames(Ir *ir) {
    for (int i = 0; i < ir->nops; i++) {
        if (ir->ops[i].kind != IR_PAD)
            continue;
        int w = frame_writer(ir, &ir->ops[i]);
        if (w >= 0)
            fold_pad_into_writer(ir, i--, w);
    }
}

/* ------------------------------------------------------- emitting a frame */

/* base[0 .. count) = 0; nothing when count is 0. */
static void emit_zero_run(Emitter *e, const char *base, long long count) {
    if (count <= 0)
        return;
    emit(e, "for (int i = 0; i < %lld; i++) {\n%s[i] = 0.0f;\n}\n", count, base);
}

/* The border of an interior of shape s in frame f of buffer `buf`, in three
 * parts: everything before the interior's first row (top rows, left of row
 * 0), the gap between consecutive interior rows (right of row y, left of row
 * y+1: contiguous), everything after the interior's last row. */
void emit_zero_border(Emitter *e, const char *buf, Shape s, Frame f) {
    int pitch = (f.left + s.w + f.right) * s.c, row = s.w * s.c, gap = pitch - row;
    long long origin = (long long)f.top * pitch + (long long)f.left * s.c;
    long long end = origin + (long long)(s.h - 1) * pitch + row;
    long long total = (long long)(f.top + s.h + f.bottom) * pitch;
    emit(e, "/* zero border of the %dx%dx%d frame around the %s interior */\n", f.top + s.h + f.bottom,
         pitch / s.c, s.c, shape_str(s));
    emit_zero_run(e, buf, origin);
    if (gap && s.h > 1) {
        emit(e, "for (int y = 0; y < %d; y++) {\n", s.h - 1);
        emit(e, "float *gap = %s + %lld + y * %d;\n", buf, origin + row, pitch);
        emit_zero_run(e, "gap", gap);
        emit(e, "}\n");
    }
    emit_zero_run(e, arena_printf("(%s + %lld)", buf, end), total - end);
}

void emit_frame_border(Emitter *e, const IrOp *op) {
    if (has_frame(op))
        emit_zero_border(e, "frame", op->out_shape, op->out_frame);
}
