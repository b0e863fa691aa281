/* ops.c — the operator table: every layer kind once, with the attributes it
 * takes and its shape rule.
 *
 * check.c reads a statement's attributes against a row of this table and
 * fills the Layer; the row's infer() then derives the output shape, the
 * parameter count (as Keras counts them) and the multiply-accumulates (every
 * kernel tap, padding included).  Adding a layer kind means: an X() line in
 * cnnc.h, a row here, and its lowering. */
#include "cnnc.h"

#include <limits.h>
#include <string.h>

const char *const act_names[] = {"linear", "relu", "relu6", "leaky_relu", "sigmoid", "tanh", "softmax"};

const char *act_name(ActKind a) { return act_names[a]; }

bool act_by_name(const char *name, ActKind *a) {
    for (int i = 0; i <= ACT_SOFTMAX; i++)
        if (!strcmp(name, act_names[i])) {
            *a = (ActKind)i;
            return true;
        }
    return false;
}

/* ---- shape rules ---- */

static bool need_image(Layer *l) {
    if (l->in.rank == 3)
        return true;
    error_at(l->loc, "%s layer '%s' needs an image input (HxWxC), but its input is the vector %s",
             layer_kind_name(l->kind), l->name, shape_str(l->in));
    return false;
}

static int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

/* One spatial axis: resolves `same` padding (TensorFlow rule, smaller half
 * before) and returns the output size, which may be below 1. */
static int axis_out(int in, int k, int s, int d, bool same, int *before, int *after) {
    int span = d * (k - 1) + 1;
    if (same) {
        int out = (in + s - 1) / s;
        int total = (out - 1) * s + span - in;
        if (total < 0)
            total = 0;
        *before = total / 2;
        *after = total - *before;
    }
    return floor_div(in + *before + *after - span, s) + 1;
}

/* "height floor((2 + 0 + 0 - 3) / 1) + 1 = 0" for an axis below 1, else "". */
static const char *axis_problem(const char *axis, int in, int k, int s, int d, int before, int after, int out) {
    if (out >= 1)
        return "";
    return arena_printf("%s floor((%d + %d + %d - %d) / %d) + 1 = %d", axis, in, before, after, d * (k - 1) + 1, s, out);
}

/* Tensors are indexed with int in generated code. */
static bool fits(const Layer *l, const char *what, double n) {
    if (n <= INT_MAX)
        return true;
    error_at(l->loc, "layer '%s' is too large: its %s would have %.0f elements (at most %d)", l->name, what, n,
             INT_MAX);
    return false;
}

/* Spatial output of a sliding window (conv or pool); false if below 1. */
static bool window_out(Layer *l, bool same, int *oh, int *ow) {
    if (!fits(l, "dilated kernel", ((double)l->dh * (l->kh - 1) + 1) * ((double)l->dw * (l->kw - 1) + 1)))
        return false;
    *oh = axis_out(l->in.h, l->kh, l->sh, l->dh, same, &l->pad_top, &l->pad_bottom);
    *ow = axis_out(l->in.w, l->kw, l->sw, l->dw, same, &l->pad_left, &l->pad_right);
    if (*oh >= 1 && *ow >= 1)
        return true;
    const char *h = axis_problem("height", l->in.h, l->kh, l->sh, l->dh, l->pad_top, l->pad_bottom, *oh);
    const char *w = axis_problem("width", l->in.w, l->kw, l->sw, l->dw, l->pad_left, l->pad_right, *ow);
    error_at(l->loc, "layer '%s' has no output: %s%s%s (input %s, %s %dx%d, stride %dx%d, dilation %dx%d)",
             l->name, h, *h && *w ? ", " : "", w, shape_str(l->in), l->kind == LAYER_CONV2D ? "kernel" : "size",
             l->kh, l->kw, l->sh, l->sw, l->dh, l->dw);
    return false;
}

static bool conv_infer(Layer *l, bool same) {
    int oh, ow;
    if (!need_image(l) || !window_out(l, same, &oh, &ow) ||
        !fits(l, "output", (double)oh * ow * l->filters) ||
        !fits(l, "weights", (double)l->kh * l->kw * l->in.c * l->filters))
        return false;
    l->out = shape_image(oh, ow, l->filters);
    long long taps = (long long)l->kh * l->kw * l->in.c;
    l->macs = (long long)oh * ow * l->filters * taps;
    long long bias = !l->has_bias ? 0 : l->per_position_bias ? shape_count(l->out) : l->filters;
    l->params = taps * l->filters + bias;
    return true;
}

/* A pooling window made of padding only has nothing to pool.  Windows are
 * contiguous and ordered, so checking the first and last along each axis is
 * enough. */
static bool axis_window_real(int in, int k, int s, int before, int out) {
    return before < k && (out - 1) * s - before < in;
}

static bool pool_infer(Layer *l, bool same) {
    int oh, ow;
    if (!need_image(l) || !window_out(l, same, &oh, &ow))
        return false;
    if (!axis_window_real(l->in.h, l->kh, l->sh, l->pad_top, oh) ||
        !axis_window_real(l->in.w, l->kw, l->sw, l->pad_left, ow)) {
        error_at(l->loc,
                 "layer '%s': a %dx%d window at the edge covers only padding "
                 "(padding top %d, bottom %d, left %d, right %d on input %s)",
                 l->name, l->kh, l->kw, l->pad_top, l->pad_bottom, l->pad_left, l->pad_right,
                 shape_str(l->in));
        return false;
    }
    l->out = shape_image(oh, ow, l->in.c);
    return true;
}

static bool global_pool_infer(Layer *l, bool same) {
    (void)same;
    if (!need_image(l))
        return false;
    l->out = shape_vector(l->in.c);
    return true;
}

/* A vector flattens to itself, as in Keras (torch.flatten after a global
 * pool is common in transcribed models). */
static bool flatten_infer(Layer *l, bool same) {
    (void)same;
    l->out = shape_vector((int)shape_count(l->in));
    return true;
}

/* The output is known even when the input is wrong, so checking goes on. */
static bool dense_infer(Layer *l, bool same) {
    (void)same;
    if (l->in.rank != 1)
        error_at(l->loc, "dense layer '%s' needs a vector input, but its input is %s; add 'flatten' "
                 "(or 'global_avgpool') before it", l->name, shape_str(l->in));
    l->out = shape_vector(l->units);
    if (!fits(l, "weights", (double)shape_count(l->in) * l->units))
        return false;
    l->macs = shape_count(l->in) * l->units;
    l->params = l->macs + (l->has_bias ? l->units : 0);
    return true;
}

static bool same_shape_infer(Layer *l, bool same) {
    (void)same;
    l->out = l->in;
    return true;
}

/* rescale, normalize, batchnorm: one multiply-add per element. */
static bool affine_infer(Layer *l, bool same) {
    (void)same;
    l->out = l->in;
    l->macs = shape_count(l->in);
    if (l->kind == LAYER_BATCHNORM)
        l->params = 4LL * l->in.c;
    return true;
}

/* ---- the table ---- */

#define TENSOR(n, r) {n, AK_TENSOR, r}
static const AttrSpec conv_attrs[] = {
    {"filters", AK_POS_INT, 0}, {"kernel", AK_PAIR, 0}, {"stride", AK_PAIR, 0},
    {"dilation", AK_PAIR, 0}, {"padding", AK_PADDING, 0}, {"bias", AK_BIAS, T_BIAS},
    {"activation", AK_ACT, 0}, {"alpha", AK_NUMBER, 0}, TENSOR("weights", T_WEIGHT),
    {"layout", AK_LAYOUT, 0}, {NULL, 0, 0}};
static const AttrSpec maxpool_attrs[] = {
    {"size", AK_PAIR, 0}, {"stride", AK_PAIR, 0}, {"padding", AK_PADDING, 0}, {NULL, 0, 0}};
static const AttrSpec avgpool_attrs[] = {
    {"size", AK_PAIR, 0}, {"stride", AK_PAIR, 0}, {"padding", AK_PADDING, 0},
    {"count_pad", AK_BOOL, 0}, {NULL, 0, 0}};
static const AttrSpec flatten_attrs[] = {{"order", AK_ORDER, 0}, {NULL, 0, 0}};
static const AttrSpec dense_attrs[] = {
    {"units", AK_POS_INT, 0}, {"bias", AK_BIAS, T_BIAS}, {"activation", AK_ACT, 0},
    {"alpha", AK_NUMBER, 0}, TENSOR("weights", T_WEIGHT), {"layout", AK_LAYOUT, 0}, {NULL, 0, 0}};
static const AttrSpec leaky_attrs[] = {{"alpha", AK_NUMBER, 0}, {NULL, 0, 0}};
static const AttrSpec rescale_attrs[] = {
    {"scale", AK_NUM_TENSOR, T_SCALE}, {"offset", AK_NUM_TENSOR, T_OFFSET}, {NULL, 0, 0}};
static const AttrSpec normalize_attrs[] = {
    {"mean", AK_NUM_TENSOR, T_MEAN}, {"std", AK_NUM_TENSOR, T_STD}, {NULL, 0, 0}};
static const AttrSpec batchnorm_attrs[] = {
    {"epsilon", AK_NUMBER, 0}, TENSOR("gamma", T_GAMMA), TENSOR("beta", T_BETA),
    TENSOR("mean", T_MEAN), TENSOR("var", T_VAR), {NULL, 0, 0}};
static const AttrSpec dropout_attrs[] = {{"rate", AK_NUMBER, 0}, {NULL, 0, 0}};
static const AttrSpec no_attrs[] = {{NULL, 0, 0}};

static const OpInfo ops[LAYER_KIND_COUNT] = {
    [LAYER_CONV2D] = {"conv2d", conv_attrs, conv_infer},
    [LAYER_MAXPOOL] = {"maxpool", maxpool_attrs, pool_infer},
    [LAYER_AVGPOOL] = {"avgpool", avgpool_attrs, pool_infer},
    [LAYER_GLOBAL_AVGPOOL] = {"global_avgpool", no_attrs, global_pool_infer},
    [LAYER_GLOBAL_MAXPOOL] = {"global_maxpool", no_attrs, global_pool_infer},
    [LAYER_FLATTEN] = {"flatten", flatten_attrs, flatten_infer},
    [LAYER_DENSE] = {"dense", dense_attrs, dense_infer},
    [LAYER_RELU] = {"relu", no_attrs, same_shape_infer},
    [LAYER_RELU6] = {"relu6", no_attrs, same_shape_infer},
    [LAYER_LEAKY_RELU] = {"leaky_relu", leaky_attrs, same_shape_infer},
    [LAYER_SIGMOID] = {"sigmoid", no_attrs, same_shape_infer},
    [LAYER_TANH] = {"tanh", no_attrs, same_shape_infer},
    [LAYER_SOFTMAX] = {"softmax", no_attrs, same_shape_infer},
    [LAYER_LINEAR] = {"linear", no_attrs, same_shape_infer},
    [LAYER_RESCALE] = {"rescale", rescale_attrs, affine_infer},
    [LAYER_NORMALIZE] = {"normalize", normalize_attrs, affine_infer},
    [LAYER_BATCHNORM] = {"batchnorm", batchnorm_attrs, affine_infer},
    [LAYER_DROPOUT] = {"dropout", dropout_attrs, same_shape_infer},
};

/* The X-macro keeps the enum and the keywords in one place; the table above
 * must agree with it, which op_info checks. */
static const char *const keywords[] = {
#define X(kind, keyword) keyword,
    LAYER_KINDS(X)
#undef X
};

const char *layer_kind_name(LayerKind k) { return keywords[k]; }

const OpInfo *op_info(LayerKind k) {
    if (strcmp(ops[k].keyword, keywords[k]))
        die("operator table row %d is '%s', expected '%s'", (int)k, ops[k].keyword, keywords[k]);
    return &ops[k];
}

bool op_by_keyword(const char *keyword, LayerKind *k) {
    for (int i = 0; i < LAYER_KIND_COUNT; i++)
        if (!strcmp(keyword, keywords[i])) {
            *k = (LayerKind)i;
            return true;
        }
    return false;
}

const AttrSpec *op_attr(LayerKind k, const char *name) {
    for (const AttrSpec *a = op_info(k)->attrs; a->name; a++)
        if (!strcmp(a->name, name))
            return a;
    return NULL;
}

const char *op_owning_attr(const char *name) {
    for (int i = 0; i < LAYER_KIND_COUNT; i++)
        if (op_attr((LayerKind)i, name))
            return keywords[i];
    return NULL;
}
