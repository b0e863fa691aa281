/* lower.c — checked model → IR: a flat list of fused ops over virtual buffers.
 *
 * Method: one pass over the layers, keeping the "current" buffer.  Each layer
 * either appends ops or folds itself into the op just appended:
 *   - an activation layer after a conv/dense with a linear activation becomes
 *     that op's fused activation;
 *   - a batchnorm right after a conv/dense (linear activation) is folded into
 *     its weight and bias (in double, rounded once to float);
 *   - an affine op (rescale/normalize/batchnorm elsewhere) right before a
 *     conv without padding, or a dense, is folded into that layer's weights;
 *   - dropout, linear and flatten order=hwc are nothing (hwc is our layout);
 *   - flatten order=chw followed by a dense permutes the dense weight rows
 *     at compile time; anywhere else it is a transpose op.
 *   - a scale-only affine (zero shift) right before a padded conv is folded
 *     too: the zero border stays zero under a pure scale.
 * A conv with padding reads a zero-bordered buffer made by a PAD op, so every
 * conv kernel is a plain valid convolution without per-element branches.
 * At the end the last op is retargeted to the caller's output buffer and the
 * kernel emitter of each op is chosen; then layout.c removes each PAD op
 * whose producer can write its output straight into that zero-bordered frame,
 * and the kernels pack their constant arrays. */
#include "cnnc.h"

#include <string.h>

typedef struct Lowering {
    const Model *m;
    const Target *target; /* for kernel-dependent fusion (conv + pool) */
    VEC(IrOp) ops;
    VEC(IrBuf) bufs;
    int cur;              /* buffer holding the value so far */
    Shape shape;          /* its shape (a flatten changes it without an op) */
    bool chw_pending;     /* a flatten order=chw waits for the next dense */
    Shape chw_from;       /* the 3-D shape that flatten saw */
} Lowering;

const char *ir_kind_name(IrOpKind k) {
    static const char *const names[] = {
#define X(kind, name) name,
        IR_OP_KINDS(X)
#undef X
    };
    return (unsigned)k < IR_KIND_COUNT ? names[k] : "?";
}

static int new_buffer(Lowering *lw, BufKind kind, Shape s) {
    IrBuf b = {.kind = kind, .floats = shape_count(s), .first = -1, .last = -1, .shares = -1};
    vec_push(&lw->bufs, b);
    return lw->bufs.len - 1;
}

/* Appends an op reading the current buffer and writing a new one of `out`. */
static IrOp *add_op(Lowering *lw, IrOpKind kind, const Layer *l, Shape out) {
    IrOp op = {.kind = kind, .layer = l, .in = lw->cur, .in_shape = lw->shape, .out_shape = out,
               .kh = 1, .kw = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .scratch = -1};
    op.out = new_buffer(lw, BUF_WORK, out);
    vec_push(&lw->ops, op);
    lw->cur = op.out;
    lw->shape = out;
    return &lw->ops.items[lw->ops.len - 1];
}

static IrOp *last_op(Lowering *lw) {
    return lw->ops.len ? &lw->ops.items[lw->ops.len - 1] : NULL;
}

static void note_fused(IrOp *op, const Layer *l) {
    if (op->nfused == IR_MAX_FUSED)
        die("too many layers fused into one op");
    op->fused[op->nfused++] = l;
}

/* An empty tensor of `count` floats (data only when weights are loaded). */
static Tensor new_tensor(const Model *m, long long count) {
    Tensor t = {.count = count, .ndims = 1, .dims = {count}};
    if (m->weights_loaded)
        t.data = arena_alloc((size_t)count * sizeof(float));
    return t;
}

/* ---------------------------------------------------------------- folding */

/* y = bn(conv(x)): scale every output channel's weights and bias. */
static void fold_affine_after(Lowering *lw, IrOp *op, const Layer *bn) {
    int f_count = op->out_shape.c;
    if (!op->bias.count)
        op->bias = new_tensor(lw->m, f_count);
    Tensor w = new_tensor(lw->m, op->weight.count);
    Tensor b = new_tensor(lw->m, op->bias.count);
    if (lw->m->weights_loaded) {
        for (long long i = 0; i < w.count; i++) {
            double s, t;
            layer_affine(bn, (int)(i % f_count), &s, &t);
            w.data[i] = (float)(op->weight.data[i] * s);
        }
        for (long long i = 0; i < b.count; i++) {
            double s, t;
            layer_affine(bn, (int)(i % f_count), &s, &t);
            double old = op->bias.data ? op->bias.data[i] : 0.0;
            b.data[i] = (float)(old * s + t);
        }
    }
    op->weight = w;
    op->bias = b;
    note_fused(op, bn);
}

/* Absent (then 0) or all zeros; false when the values are unknown (a file
 * not read under --summary; inline lists are always read). */
static bool tensor_all_zero(const Tensor *t) {
    if (t->count && !t->data)
        return false;
    for (long long i = 0; i < t->count; i++)
        if (t->data[i] != 0.0f)
            return false;
    return true;
}

/* An affine op whose shift is known to be zero in every channel, y = x*scale
 * (see layer_affine), decided from the layer so that --summary, which may
 * lack the values, plans the same ops when the shift is given inline. */
static bool is_scale_only(const IrOp *aff) {
    const Layer *l = aff->layer;
    switch (l->kind) {
    case LAYER_RESCALE: return tensor_all_zero(&l->t[T_OFFSET]);
    case LAYER_NORMALIZE: return tensor_all_zero(&l->t[T_MEAN]);
    case LAYER_BATCHNORM: return tensor_all_zero(&l->t[T_BETA]) && tensor_all_zero(&l->t[T_MEAN]);
    default: return false;
    }
}

/* y = conv(affine(x)) with no padding (or a scale-only affine), or
 * dense(affine(x)): row r of the weight matrix (viewed as [rows][F]) reads
 * input channel r % C.  A scale-only affine gives no bias. */
static void fold_affine_before(Lowering *lw, IrOp *op, const IrOp *aff) {
    int f_count = op->out_shape.c, c_count = (int)aff->weight.count;
    long long rows = op->weight.count / f_count;
    if (!op->bias.count && !is_scale_only(aff))
        op->bias = new_tensor(lw->m, f_count);
    Tensor w = new_tensor(lw->m, op->weight.count);
    Tensor b = new_tensor(lw->m, op->bias.count);
    if (lw->m->weights_loaded) {
        for (int f = 0; f < f_count; f++) {
            double extra = 0;
            for (long long r = 0; r < rows; r++) {
                double wv = op->weight.data[r * f_count + f];
                w.data[r * f_count + f] = (float)(wv * aff->weight.data[r % c_count]);
                extra += wv * aff->bias.data[r % c_count];
            }
            for (long long i = f; i < b.count; i += f_count)
                b.data[i] = (float)((op->bias.data ? op->bias.data[i] : 0.0) + extra);
        }
    }
    op->weight = w;
    op->bias = b;
    for (int i = 0; i < aff->nfused; i++)
        note_fused(op, aff->fused[i]);
    note_fused(op, aff->layer);
}

/* Dense weight rows written for a C-H-W flatten, reordered to our H-W-C. */
static Tensor rows_chw_to_hwc(const Model *m, const Tensor *w, Shape s, int units) {
    Tensor out = new_tensor(m, w->count);
    if (!m->weights_loaded)
        return out;
    for (int y = 0; y < s.h; y++)
        for (int x = 0; x < s.w; x++)
            for (int c = 0; c < s.c; c++) {
                long long hwc = ((long long)y * s.w + x) * s.c + c;
                long long chw = ((long long)c * s.h + y) * s.w + x;
                memcpy(out.data + hwc * units, w->data + chw * units, (size_t)units * sizeof(float));
            }
    return out;
}

/* If the op just appended is an affine op on this op's input, fold it in:
 * the merged op reads the affine's input and writes the affine's buffer
 * (resized); this op's own buffer, the last one made, is dropped. */
static void absorb_previous_affine(Lowering *lw, IrOp *op) {
    if (lw->ops.len < 2)
        return;
    IrOp *prev = &lw->ops.items[lw->ops.len - 2];
    if (prev->kind != IR_AFFINE || prev->out != op->in)
        return;
    fold_affine_before(lw, op, prev);
    IrOp merged = *op;
    merged.in = prev->in;
    merged.out = prev->out;
    lw->bufs.items[merged.out] = lw->bufs.items[op->out];
    lw->bufs.len--;
    *prev = merged;
    lw->ops.len--;
    lw->cur = merged.out;
}

/* --------------------------------------------------------------- layers */

/* The op's activation, with softmax split off as its own op. */
static void add_activation(Lowering *lw, IrOp *op, const Layer *l) {
    if (l->act == ACT_SOFTMAX)
        add_op(lw, IR_SOFTMAX, l, lw->shape);
    else
        op->act = l->act, op->alpha = l->alpha;
}

static bool has_padding(const Layer *l) {
    return l->pad_top || l->pad_bottom || l->pad_left || l->pad_right;
}

/* The affine op just appended, if it is scale-only and a padded conv reads
 * its output: removed (with its buffer, the last one made) into *aff, for
 * the conv to fold.  A zero shift keeps the conv's zero border zero. */
static bool take_scale_only_affine(Lowering *lw, IrOp *aff) {
    IrOp *prev = last_op(lw);
    if (!prev || prev->kind != IR_AFFINE || prev->out != lw->cur || prev->out != lw->bufs.len - 1 ||
        !is_scale_only(prev))
        return false;
    *aff = *prev;
    lw->ops.len--;
    lw->bufs.len--;
    lw->cur = aff->in;
    return true;
}

static void lower_conv(Lowering *lw, const Layer *l) {
    IrOp scale;
    bool fold_scale = has_padding(l) && take_scale_only_affine(lw, &scale);
    if (has_padding(l)) {
        Shape p = shape_image(l->in.h + l->pad_top + l->pad_bottom,
                              l->in.w + l->pad_left + l->pad_right, l->in.c);
        IrOp *pad = add_op(lw, IR_PAD, l, p);
        pad->pad_top = l->pad_top, pad->pad_bottom = l->pad_bottom;
        pad->pad_left = l->pad_left, pad->pad_right = l->pad_right;
    }
    IrOp *op = add_op(lw, IR_CONV, l, l->out);
    op->kh = l->kh, op->kw = l->kw, op->sh = l->sh, op->sw = l->sw, op->dh = l->dh, op->dw = l->dw;
    op->weight = l->t[T_WEIGHT];
    op->bias = l->t[T_BIAS];
    op->per_position_bias = l->per_position_bias;
    if (fold_scale)
        fold_affine_before(lw, op, &scale);
    else if (!has_padding(l))
        absorb_previous_affine(lw, op);
    add_activation(lw, last_op(lw), l);
}

static void lower_dense(Lowering *lw, const Layer *l) {
    IrOp *op = add_op(lw, IR_DENSE, l, l->out);
    op->weight = l->t[T_WEIGHT];
    op->bias = l->t[T_BIAS];
    if (lw->chw_pending) {
        op->weight = rows_chw_to_hwc(lw->m, &op->weight, lw->chw_from, l->units);
        lw->chw_pending = false;
    }
    absorb_previous_affine(lw, op);
    add_activation(lw, last_op(lw), l);
}

/* A pool right after a conv whose SIMD kernel pools in registers becomes
 * part of that op: the conv writes the pooled shape. */
static bool fuse_pool_into_conv(Lowering *lw, const Layer *l) {
    IrOp *prev = last_op(lw);
    if (!prev || prev->kind != IR_CONV || prev->out != lw->cur || !conv_simd_fuses_pool(prev, l, lw->target))
        return false;
    prev->out_shape = lw->shape = l->out;
    lw->bufs.items[prev->out].floats = shape_count(l->out);
    note_fused(prev, l);
    return true;
}

static void lower_pool(Lowering *lw, const Layer *l, IrOpKind kind) {
    if (fuse_pool_into_conv(lw, l))
        return;
    IrOp *op = add_op(lw, kind, l, l->out);
    op->kh = l->kh, op->kw = l->kw, op->sh = l->sh, op->sw = l->sw;
    op->pad_top = l->pad_top, op->pad_bottom = l->pad_bottom;
    op->pad_left = l->pad_left, op->pad_right = l->pad_right;
    op->count_pad = l->count_pad;
}

/* A conv or dense whose output is still its own (not pooled): activations
 * and batchnorm fold into it. */
static bool is_conv_or_dense(const IrOp *op) {
    return op && (op->kind == IR_CONV || op->kind == IR_DENSE) && !conv_fused_pool(op);
}

/* relu, sigmoid, ...: fused into a preceding conv/dense when possible. */
static void lower_activation(Lowering *lw, const Layer *l) {
    IrOp *prev = last_op(lw);
    if (l->act == ACT_SOFTMAX) {
        add_op(lw, IR_SOFTMAX, l, lw->shape);
    } else if (is_conv_or_dense(prev) && prev->act == ACT_LINEAR && prev->out == lw->cur) {
        prev->act = l->act, prev->alpha = l->alpha;
        note_fused(prev, l);
    } else {
        IrOp *op = add_op(lw, IR_ACT, l, lw->shape);
        op->act = l->act, op->alpha = l->alpha;
    }
}

/* rescale / normalize / batchnorm: folded into a preceding linear conv/dense
 * (batchnorm only, per output channel), else a per-channel affine op. */
static void lower_affine(Lowering *lw, const Layer *l) {
    IrOp *prev = last_op(lw);
    bool same_view = prev && prev->out == lw->cur && prev->out_shape.rank == lw->shape.rank;
    if (l->kind == LAYER_BATCHNORM && same_view && is_conv_or_dense(prev) &&
        prev->act == ACT_LINEAR) {
        fold_affine_after(lw, prev, l);
        return;
    }
    IrOp *op = add_op(lw, IR_AFFINE, l, lw->shape);
    int c_count = lw->shape.c;
    op->weight = new_tensor(lw->m, c_count);
    op->bias = new_tensor(lw->m, c_count);
    for (int c = 0; c < c_count && lw->m->weights_loaded; c++) {
        double s, t;
        layer_affine(l, c, &s, &t);
        op->weight.data[c] = (float)s;
        op->bias.data[c] = (float)t;
    }
}

/* The next layer that is not an identity (dropout, linear). */
static const Layer *next_real_layer(const Model *m, int i) {
    for (i++; i < m->nlayers; i++)
        if (m->layers[i].kind != LAYER_DROPOUT && m->layers[i].kind != LAYER_LINEAR)
            return &m->layers[i];
    return NULL;
}

static void lower_flatten(Lowering *lw, const Layer *l, int index) {
    bool trivial = !l->flatten_chw || (l->in.h == 1 && l->in.w == 1);
    const Layer *next = next_real_layer(lw->m, index);
    if (trivial) {
        lw->shape = l->out;
    } else if (next && next->kind == LAYER_DENSE) {
        lw->chw_pending = true;
        lw->chw_from = l->in;
        lw->shape = l->out;
    } else {
        add_op(lw, IR_TRANSPOSE, l, l->out)->to_chw = true;
    }
}

static void lower_layer(Lowering *lw, const Layer *l, int index) {
    switch (l->kind) {
    case LAYER_CONV2D: lower_conv(lw, l); break;
    case LAYER_DENSE: lower_dense(lw, l); break;
    case LAYER_MAXPOOL: lower_pool(lw, l, IR_MAXPOOL); break;
    case LAYER_AVGPOOL: lower_pool(lw, l, IR_AVGPOOL); break;
    case LAYER_GLOBAL_AVGPOOL: add_op(lw, IR_GLOBAL_AVGPOOL, l, l->out); break;
    case LAYER_GLOBAL_MAXPOOL: add_op(lw, IR_GLOBAL_MAXPOOL, l, l->out); break;
    case LAYER_FLATTEN: lower_flatten(lw, l, index); break;
    case LAYER_RELU: case LAYER_RELU6: case LAYER_LEAKY_RELU:
    case LAYER_SIGMOID: case LAYER_TANH: case LAYER_SOFTMAX:
        lower_activation(lw, l);
        break;
    case LAYER_RESCALE: case LAYER_NORMALIZE: case LAYER_BATCHNORM:
        lower_affine(lw, l);
        break;
    case LAYER_LINEAR: case LAYER_DROPOUT: break;
    case LAYER_KIND_COUNT: unreachable();
    }
}

/* ------------------------------------------------------- input, output */

static void lower_input(Lowering *lw) {
    lw->shape = lw->m->input;
    lw->cur = new_buffer(lw, BUF_INPUT, lw->shape);
    if (lw->m->input_chw && lw->shape.rank == 3)
        add_op(lw, IR_TRANSPOSE, NULL, lw->shape)->to_chw = false;
}

/* The last op writes the caller's output; a model that computes nothing
 * (only identities) copies its input. */
static void lower_output(Lowering *lw) {
    if (lw->m->input_chw && lw->shape.rank == 3)
        add_op(lw, IR_TRANSPOSE, NULL, lw->shape)->to_chw = true;
    if (lw->bufs.items[lw->cur].kind == BUF_INPUT)
        add_op(lw, IR_COPY, NULL, lw->shape);
    lw->bufs.items[lw->cur].kind = BUF_OUTPUT;
}

/* ------------------------------------------------- kernels and names */

static const KernelEmitter *scalar_kernel(IrOpKind k) {
    switch (k) {
    case IR_CONV: return &conv_scalar_kernel;
    case IR_DENSE: return &dense_scalar_kernel;
    case IR_MAXPOOL: return &maxpool_scalar_kernel;
    case IR_AVGPOOL: return &avgpool_scalar_kernel;
    case IR_GLOBAL_AVGPOOL: return &global_avgpool_scalar_kernel;
    case IR_GLOBAL_MAXPOOL: return &global_maxpool_scalar_kernel;
    case IR_ACT: return &act_scalar_kernel;
    case IR_SOFTMAX: return &softmax_scalar_kernel;
    case IR_AFFINE: return &affine_scalar_kernel;
    case IR_PAD: return &pad_scalar_kernel;
    case IR_TRANSPOSE: return &transpose_scalar_kernel;
    case IR_COPY: return &copy_scalar_kernel;
    case IR_KIND_COUNT: break;
    }
    unreachable();
}

/* The SIMD families are asked first (for a conv, Winograd before direct:
 * it declines the layers where it does not pay); the scalar kernel is the
 * fallback. */
static const KernelEmitter *choose_kernel(const IrOp *op, const Target *t) {
    const KernelEmitter *k = NULL;
    if (t && t->lanes != 1 && op->kind == IR_CONV)
        k = conv_winograd_kernel(op, t);
    if (t && t->lanes != 1 && op->kind == IR_CONV && !k)
        k = conv_simd_kernel(op, t);
    if (t && t->lanes != 1 && op->kind == IR_DENSE)
        k = dense_simd_kernel(op, t);
    return k ? k : scalar_kernel(op->kind);
}

/* mnist_conv1_conv3x3_26x26x32, mnist_fc1_dense_1600x64, mnist_pool1_maxpool;
 * "_avx2" when the kernel is ISA-specific; a numeric suffix if a name repeats.
 * The model prefix lets two models' files share one translation unit. */
static const char *function_name(const Ir *ir, int index) {
    const IrOp *op = &ir->ops[index];
    const char *base = op->layer ? op->layer->cname : op->kind == IR_COPY ? "output" :
                       op->to_chw ? "output" : "input";
    const char *name = arena_printf("%s_%s_%s", ir->model->name, base, ir_kind_name(op->kind));
    if (op->kind == IR_CONV)
        name = arena_printf("%s%dx%d_%s", name, op->kh, op->kw, shape_str(op->out_shape));
    if (op->kind == IR_DENSE)
        name = arena_printf("%s_%dx%d", name, op->in_shape.c, op->out_shape.c);
    if (strcmp(op->kernel->isa, "scalar"))
        name = arena_printf("%s_%s", name, op->kernel->isa);
    for (int i = 0, n = 2; i < index; i++)
        if (!strcmp(ir->ops[i].func_name, name))
            name = arena_printf("%s_%d", name, n++), i = -1;
    return name;
}

/* The unroll mode first: it is part of the choice (--unroll=none keeps the
 * readable direct kernel instead of Winograd). */
static void choose_kernels(Ir *ir, UnrollMode unroll) {
    for (int i = 0; i < ir->nops; i++) {
        ir->ops[i].unroll = unroll;
        ir->ops[i].kernel = choose_kernel(&ir->ops[i], ir->target);
    }
}

static void finish_ops(Ir *ir) {
    for (int i = 0; i < ir->nops; i++) {
        IrOp *op = &ir->ops[i];
        op->kernel->pack(op);
        op->symbol_prefix = arena_printf("%s_%s", ir->model->name,
                                         op->layer ? op->layer->cname : "io");
        op->func_name = function_name(ir, i);
    }
}

/* A kernel that asked for scratch (in pack) gets a workspace buffer that
 * lives only during its op.  (place_frames may have shortened the lists.) */
static void add_scratch_buffers(Lowering *lw, Ir *ir) {
    lw->bufs.len = ir->nbufs;
    for (int i = 0; i < ir->nops; i++) {
        if (ir->ops[i].scratch_floats <= 0)
            continue;
        IrBuf b = {.kind = BUF_WORK, .floats = ir->ops[i].scratch_floats, .first = -1, .last = -1,
                   .shares = -1};
        vec_push(&lw->bufs, b);
        ir->ops[i].scratch = lw->bufs.len - 1;
    }
    ir->bufs = lw->bufs.items;
    ir->nbufs = lw->bufs.len;
}

Ir *lower_model(const Model *m, const EmitOptions *opts) {
    Lowering lw = {.m = m, .target = opts ? opts->target : NULL};
    lower_input(&lw);
    for (int i = 0; i < m->nlayers; i++)
        lower_layer(&lw, &m->layers[i], i);
    lower_output(&lw);
    Ir *ir = arena_alloc(sizeof *ir);
    *ir = (Ir){.model = m, .target = opts ? opts->target : NULL, .ops = lw.ops.items,
               .nops = lw.ops.len, .bufs = lw.bufs.items, .nbufs = lw.bufs.len};
    choose_kernels(ir, opts ? opts->unroll : UNROLL_AUTO);
    place_frames(ir);
    finish_ops(ir);
    add_scratch_buffers(&lw, ir);
    return ir;
}

/* ---------------------------------------------------------------- dump */

static void dump_op(const Ir *ir, int i, FILE *out) {
    const IrOp *op = &ir->ops[i];
    static const char *const kinds[] = {"input", "output", "work"};
    fprintf(out, "%3d %-9s %-12s b%d(%s %s) -> b%d(%s %s)", i, ir_kind_name(op->kind),
            op->layer ? op->layer->name : "-", op->in, kinds[ir->bufs[op->in].kind],
            shape_str(op->in_shape), op->out, kinds[ir->bufs[op->out].kind],
            shape_str(op->out_shape));
    if (op->kind == IR_CONV || op->kind == IR_MAXPOOL || op->kind == IR_AVGPOOL)
        fprintf(out, " k%dx%d s%dx%d d%dx%d", op->kh, op->kw, op->sh, op->sw, op->dh, op->dw);
    if (op->pad_top || op->pad_bottom || op->pad_left || op->pad_right)
        fprintf(out, " pad[%d,%d,%d,%d]", op->pad_top, op->pad_bottom, op->pad_left, op->pad_right);
    if (has_frame(op))
        fprintf(out, " frame[%d,%d,%d,%d]", op->out_frame.top, op->out_frame.bottom, op->out_frame.left,
                op->out_frame.right);
    if (op->kind == IR_TRANSPOSE)
        fprintf(out, " %s", op->to_chw ? "hwc->chw" : "chw->hwc");
    if (op->bias.count)
        fprintf(out, " +bias%s", op->per_position_bias ? "(per-position)" : "");
    if ((op->kind == IR_CONV || op->kind == IR_DENSE || op->kind == IR_ACT) && op->act != ACT_LINEAR)
        fprintf(out, " %s", act_name(op->act));
    for (int k = 0; k < op->nfused; k++)
        fprintf(out, " +%s", op->fused[k]->name);
    if (op->scratch >= 0)
        fprintf(out, " scratch b%d", op->scratch);
    fprintf(out, " [%s]\n", op->kernel->isa);
}

void dump_ir(const Ir *ir, FILE *out) {
    fprintf(out, "ir %s: %d ops, %d buffers, workspace %lld bytes\n", ir->model->name, ir->nops,
            ir->nbufs, ir->workspace_bytes);
    for (int i = 0; i < ir->nops; i++)
        dump_op(ir, i, out);
    for (int b = 0; b < ir->nbufs; b++) {
        const IrBuf *buf = &ir->bufs[b];
        if (buf->kind == BUF_WORK)
            fprintf(out, "  b%d: %lld floats at offset %lld, live ops %d..%d%s\n", b, buf->floats,
                    buf->offset, buf->first, buf->last, buf->shares >= 0 ? " (in place)" : "");
    }
}
