/* interp.c — the reference interpreter, the oracle generated code is tested
 * against.
 *
 * Method: every layer is a plain loop nest written straight from its
 * definition in SPEC §1.3, computed in double over activations stored H-W-C
 * (channels fastest; a vector is a 1x1xN image).  Nothing is fused, folded or
 * reordered, and nothing is shared with lower/plan/emit: only the checked
 * Model is read.  The affine layers (rescale, normalize, batchnorm) are
 * evaluated from their own tensors rather than through layer_affine(), so a
 * mistake in the folding the compiler does shows up as a difference.
 * Scratch buffers come from the arena, freed with everything else at exit. */
#include "cnnc.h"

#include <math.h>

/* An activation: shape plus H-W-C values. */
typedef struct Act {
    Shape s;
    double *v;
} Act;

static Act act_new(Shape s) {
    return (Act){s, arena_alloc((size_t)shape_count(s) * sizeof(double))};
}

static double act_at(const Act *a, int y, int x, int c) {
    return a->v[((long long)y * a->s.w + x) * a->s.c + c];
}

/* ------------------------------------------------------------ activations */

/* NaN in, NaN out, as in torch: each test is written so that a NaN, which
 * compares false, falls through to x (relu is `x < 0 ? 0 : x`, not
 * `x > 0 ? x : 0`); leaky_relu's alpha*x, sigmoid and tanh carry it anyway.
 * ±inf take the limits: relu6(inf) = 6, sigmoid(-inf) = 0, tanh(inf) = 1. */
static double activate(ActKind k, double x, double alpha) {
    switch (k) {
    case ACT_LINEAR:
    case ACT_SOFTMAX: /* not elementwise: see softmax_groups */
        return x;
    case ACT_RELU:
        return x < 0 ? 0 : x;
    case ACT_RELU6:
        return x < 0 ? 0 : x > 6 ? 6 : x;
    case ACT_LEAKY_RELU:
        return x > 0 ? x : alpha * x;
    case ACT_SIGMOID:
        return 1 / (1 + exp(-x));
    case ACT_TANH:
        return tanh(x);
    }
    unreachable();
}

/* Softmax over each run of `group` consecutive values: the whole vector, or
 * the channels of one position of an H-W-C image.  As in torch, a NaN or a
 * +inf makes its whole group NaN (through exp(NaN) and inf - inf, though
 * fmax skips a NaN) and a -inf becomes 0. */
static void softmax_groups(double *v, long long n, int group) {
    for (long long g = 0; g < n; g += group) {
        double max = v[g], sum = 0;
        for (int i = 1; i < group; i++)
            max = fmax(max, v[g + i]);
        for (int i = 0; i < group; i++)
            sum += v[g + i] = exp(v[g + i] - max);
        for (int i = 0; i < group; i++)
            v[g + i] /= sum;
    }
}

static void apply_activation(Act *a, ActKind k, double alpha) {
    long long n = shape_count(a->s);
    if (k == ACT_SOFTMAX) {
        softmax_groups(a->v, n, a->s.c);
        return;
    }
    for (long long i = 0; i < n; i++)
        a->v[i] = activate(k, a->v[i], alpha);
}

/* ----------------------------------------------------------------- conv2d */

/* Sum over the kernel taps of one output cell; taps in the padding read 0. */
static double conv_taps(const Layer *l, const Act *in, int oy, int ox, int f) {
    const float *w = l->t[T_WEIGHT].data;
    int cin = in->s.c;
    double sum = 0;
    for (int ky = 0; ky < l->kh; ky++) {
        int iy = oy * l->sh - l->pad_top + ky * l->dh;
        for (int kx = 0; kx < l->kw; kx++) {
            int ix = ox * l->sw - l->pad_left + kx * l->dw;
            if (iy < 0 || iy >= in->s.h || ix < 0 || ix >= in->s.w)
                continue;
            for (int ci = 0; ci < cin; ci++)
                sum += act_at(in, iy, ix, ci) * w[(((long long)ky * l->kw + kx) * cin + ci) * l->filters + f];
        }
    }
    return sum;
}

/* bias [F], or per-position bias [OH][OW][F]. */
static double conv_bias(const Layer *l, int oy, int ox, int f) {
    if (!l->has_bias)
        return 0;
    const float *b = l->t[T_BIAS].data;
    if (l->per_position_bias)
        return b[((long long)oy * l->out.w + ox) * l->filters + f];
    return b[f];
}

static void run_conv2d(const Layer *l, const Act *in, Act *out) {
    for (int oy = 0; oy < out->s.h; oy++)
        for (int ox = 0; ox < out->s.w; ox++)
            for (int f = 0; f < l->filters; f++)
                out->v[((long long)oy * out->s.w + ox) * l->filters + f] =
                    conv_taps(l, in, oy, ox, f) + conv_bias(l, oy, ox, f);
    apply_activation(out, l->act, l->alpha);
}

/* ------------------------------------------------------------------ pools */

/* Max or average over the real cells of one window; padded cells are
 * skipped, and counted in the divisor only with count_pad.  A NaN cell makes
 * the max NaN, as in torch (a NaN never compares greater, so it is tested). */
static double pool_window(const Layer *l, const Act *in, int oy, int ox, int c) {
    double max = -INFINITY, sum = 0;
    int real = 0;
    for (int ky = 0; ky < l->kh; ky++) {
        int iy = oy * l->sh - l->pad_top + ky;
        for (int kx = 0; kx < l->kw; kx++) {
            int ix = ox * l->sw - l->pad_left + kx;
            if (iy < 0 || iy >= in->s.h || ix < 0 || ix >= in->s.w)
                continue;
            double v = act_at(in, iy, ix, c);
            max = v > max || isnan(v) ? v : max;
            sum += v;
            real++;
        }
    }
    if (l->kind == LAYER_MAXPOOL)
        return max;
    return sum / (l->count_pad ? l->kh * l->kw : real);
}

static void run_pool(const Layer *l, const Act *in, Act *out) {
    for (int oy = 0; oy < out->s.h; oy++)
        for (int ox = 0; ox < out->s.w; ox++)
            for (int c = 0; c < out->s.c; c++)
                out->v[((long long)oy * out->s.w + ox) * out->s.c + c] = pool_window(l, in, oy, ox, c);
}

static void run_global_pool(const Layer *l, const Act *in, Act *out) {
    int cells = in->s.h * in->s.w;
    for (int c = 0; c < in->s.c; c++) {
        double max = -INFINITY, sum = 0;
        for (int i = 0; i < cells; i++) {
            double v = in->v[(long long)i * in->s.c + c];
            max = v > max || isnan(v) ? v : max;
            sum += v;
        }
        out->v[c] = l->kind == LAYER_GLOBAL_MAXPOOL ? max : sum / cells;
    }
}

/* ------------------------------------------------------ flatten and dense */

/* hwc: the H-W-C values are already in order.  chw: element (y,x,c) goes to
 * c*H*W + y*W + x, PyTorch's order. */
static void run_flatten(const Layer *l, const Act *in, Act *out) {
    Shape s = in->s;
    for (int y = 0; y < s.h; y++)
        for (int x = 0; x < s.w; x++)
            for (int c = 0; c < s.c; c++) {
                long long hwc = ((long long)y * s.w + x) * s.c + c;
                long long chw = ((long long)c * s.h + y) * s.w + x;
                out->v[l->flatten_chw ? chw : hwc] = in->v[hwc];
            }
}

static void run_dense(const Layer *l, const Act *in, Act *out) {
    const float *w = l->t[T_WEIGHT].data;
    int n_in = in->s.c, n_out = out->s.c;
    for (int o = 0; o < n_out; o++) {
        double sum = l->has_bias ? l->t[T_BIAS].data[o] : 0;
        for (int i = 0; i < n_in; i++)
            sum += in->v[i] * w[(long long)i * n_out + o];
        out->v[o] = sum;
    }
    apply_activation(out, l->act, l->alpha);
}

/* --------------------------------------------- rescale, normalize, batchnorm */

/* Element c of a per-channel tensor: absent → dflt, one value → broadcast. */
static double channel_value(const Tensor *t, int c, double dflt) {
    if (t->count == 0)
        return dflt;
    return t->count == 1 ? t->data[0] : t->data[c];
}

static double affine_one(const Layer *l, double x, int c) {
    const Tensor *t = l->t;
    switch (l->kind) {
    case LAYER_RESCALE:
        return x * channel_value(&t[T_SCALE], c, 1) + channel_value(&t[T_OFFSET], c, 0);
    case LAYER_NORMALIZE:
        return (x - channel_value(&t[T_MEAN], c, 0)) / channel_value(&t[T_STD], c, 1);
    case LAYER_BATCHNORM: {
        double gamma = channel_value(&t[T_GAMMA], c, 1), beta = channel_value(&t[T_BETA], c, 0);
        double mean = channel_value(&t[T_MEAN], c, 0), var = channel_value(&t[T_VAR], c, 1);
        return gamma * (x - mean) / sqrt(var + (double)l->epsilon) + beta;
    }
    default:
        unreachable();
    }
}

/* Per channel of an image, per element of a vector (where c = N). */
static void run_affine(const Layer *l, const Act *in, Act *out) {
    long long n = shape_count(in->s);
    for (long long i = 0; i < n; i++)
        out->v[i] = affine_one(l, in->v[i], (int)(i % in->s.c));
}

/* The activation an activation layer applies, from its kind alone. */
static ActKind activation_of(LayerKind k) {
    switch (k) {
    case LAYER_RELU: return ACT_RELU;
    case LAYER_RELU6: return ACT_RELU6;
    case LAYER_LEAKY_RELU: return ACT_LEAKY_RELU;
    case LAYER_SIGMOID: return ACT_SIGMOID;
    case LAYER_TANH: return ACT_TANH;
    case LAYER_SOFTMAX: return ACT_SOFTMAX;
    default: return ACT_LINEAR; /* linear, dropout */
    }
}

static void run_activation_layer(const Layer *l, const Act *in, Act *out) {
    long long n = shape_count(in->s);
    for (long long i = 0; i < n; i++)
        out->v[i] = in->v[i];
    apply_activation(out, activation_of(l->kind), l->alpha);
}

/* ------------------------------------------------------------------ model */

static void run_layer(const Layer *l, const Act *in, Act *out) {
    switch (l->kind) {
    case LAYER_CONV2D: run_conv2d(l, in, out); return;
    case LAYER_MAXPOOL:
    case LAYER_AVGPOOL: run_pool(l, in, out); return;
    case LAYER_GLOBAL_AVGPOOL:
    case LAYER_GLOBAL_MAXPOOL: run_global_pool(l, in, out); return;
    case LAYER_FLATTEN: run_flatten(l, in, out); return;
    case LAYER_DENSE: run_dense(l, in, out); return;
    case LAYER_RESCALE:
    case LAYER_NORMALIZE:
    case LAYER_BATCHNORM: run_affine(l, in, out); return;
    case LAYER_RELU:
    case LAYER_RELU6:
    case LAYER_LEAKY_RELU:
    case LAYER_SIGMOID:
    case LAYER_TANH:
    case LAYER_SOFTMAX:
    case LAYER_LINEAR:
    case LAYER_DROPOUT: run_activation_layer(l, in, out); return;
    case LAYER_KIND_COUNT: break;
    }
    unreachable();
}

/* Offset in the caller's buffer of H-W-C element (y,x,c). */
static long long caller_index(Shape s, bool chw, int y, int x, int c) {
    if (chw && s.rank == 3)
        return ((long long)c * s.h + y) * s.w + x;
    return ((long long)y * s.w + x) * s.c + c;
}

static void read_input(const Model *m, const float *input, Act *a) {
    Shape s = a->s;
    for (int y = 0; y < s.h; y++)
        for (int x = 0; x < s.w; x++)
            for (int c = 0; c < s.c; c++)
                a->v[((long long)y * s.w + x) * s.c + c] = input[caller_index(s, m->input_chw, y, x, c)];
}

static void write_output(const Model *m, const Act *a, float *output) {
    Shape s = a->s;
    for (int y = 0; y < s.h; y++)
        for (int x = 0; x < s.w; x++)
            for (int c = 0; c < s.c; c++)
                output[caller_index(s, m->input_chw, y, x, c)] = (float)act_at(a, y, x, c);
}

void interp_run(const Model *m, const float *input, float *output) {
    Act cur = act_new(m->input);
    read_input(m, input, &cur);
    for (int i = 0; i < m->nlayers; i++) {
        Act next = act_new(m->layers[i].out);
        run_layer(&m->layers[i], &cur, &next);
        cur = next;
    }
    write_output(m, &cur, output);
}
