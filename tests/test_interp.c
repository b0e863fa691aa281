/* test_interp.c — the reference interpreter against hand-computed values.
 *
 * Models are built as checked Layer structs directly (padding already
 * resolved to top/bottom/left/right, as the checker leaves it), so these
 * tests depend on nothing but interp.c.  Every expected number is worked out
 * by hand in the comment next to it, or by a one-line formula.  The image
 * loader is tested on the tiny files in tests/fixtures/images/ (made by
 * make_images.py there). */
#include "cnnc.h"

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <dirent.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

static Tensor tensor(const float *values, long long count) {
    Tensor t = {.data = arena_alloc((size_t)count * sizeof(float)), .count = count, .ndims = 1};
    memcpy(t.data, values, (size_t)count * sizeof(float));
    t.dims[0] = count;
    return t;
}

static int out_size(int in, int before, int after, int k, int stride, int dil) {
    return (in + before + after - dil * (k - 1) - 1) / stride + 1;
}

/* conv2d over `in` with a [KH][KW][Cin][F] kernel; pads = {top, bottom,
 * left, right}; bias NULL for none. */
static Layer conv(Shape in, int filters, int kh, int kw, int stride, int dil, const int pads[4],
                  const float *w, const float *bias) {
    Layer l = {.kind = LAYER_CONV2D, .name = "conv", .in = in, .filters = filters, .kh = kh, .kw = kw,
               .sh = stride, .sw = stride, .dh = dil, .dw = dil, .pad_top = pads[0],
               .pad_bottom = pads[1], .pad_left = pads[2], .pad_right = pads[3]};
    l.out = shape_image(out_size(in.h, pads[0], pads[1], kh, stride, dil),
                        out_size(in.w, pads[2], pads[3], kw, stride, dil), filters);
    l.t[T_WEIGHT] = tensor(w, (long long)kh * kw * in.c * filters);
    if (bias) {
        l.has_bias = true;
        l.t[T_BIAS] = tensor(bias, filters);
    }
    return l;
}

static Layer pool(LayerKind kind, Shape in, int size, int stride, const int pads[4], bool count_pad) {
    Layer l = {.kind = kind, .name = "pool", .in = in, .kh = size, .kw = size, .sh = stride,
               .sw = stride, .dh = 1, .dw = 1, .pad_top = pads[0], .pad_bottom = pads[1],
               .pad_left = pads[2], .pad_right = pads[3], .count_pad = count_pad};
    l.out = shape_image(out_size(in.h, pads[0], pads[1], size, stride, 1),
                        out_size(in.w, pads[2], pads[3], size, stride, 1), in.c);
    return l;
}

/* A shape-preserving layer (activations, affine, dropout). */
static Layer same_shape(LayerKind kind, Shape s) {
    return (Layer){.kind = kind, .name = "layer", .in = s, .out = s, .alpha = 0.01f, .epsilon = 1e-5f};
}

static void run_chain(Shape input, bool chw, Layer *layers, int n, const float *in, float *out) {
    Model m = {.name = "t", .input = input, .input_chw = chw, .layers = layers, .nlayers = n,
               .output = layers[n - 1].out, .weights_loaded = true};
    interp_run(&m, in, out);
}

static void run_one(Shape input, Layer l, const float *in, float *out) {
    run_chain(input, false, &l, 1, in, out);
}

static void expect_values(const float *got, const double *want, int n) {
    for (int i = 0; i < n; i++)
        cr_expect(fabs(got[i] - want[i]) <= 1e-6 * fmax(1, fabs(want[i])),
                  "element %d: got %.9g, want %.9g", i, got[i], want[i]);
}

static const int no_pad[4] = {0, 0, 0, 0};

/* 1 2 3 / 4 5 6 / 7 8 9, one channel. */
static const float grid3[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

Test(interp, conv_valid_with_bias) {
    const float w[4] = {1, 2, 3, 4}, b[1] = {0.5f};
    float out[4];
    run_one(shape_image(3, 3, 1), conv(shape_image(3, 3, 1), 1, 2, 2, 1, 1, no_pad, w, b), grid3, out);
    /* (0,0): 1*1 + 2*2 + 4*3 + 5*4 = 37, then +0.5; the others shift by 1 and 3 */
    expect_values(out, (const double[]){37.5, 47.5, 67.5, 77.5}, 4);
}

Test(interp, conv_same_padding_sums_neighbourhoods) {
    const float ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    const int pads[4] = {1, 1, 1, 1};
    float out[9];
    run_one(shape_image(3, 3, 1), conv(shape_image(3, 3, 1), 1, 3, 3, 1, 1, pads, ones, NULL), grid3, out);
    /* each output is the sum of the 3x3 neighbourhood that lies in the grid */
    expect_values(out, (const double[]){12, 21, 16, 27, 45, 33, 24, 39, 28}, 9);
}

Test(interp, conv_asymmetric_padding_and_stride) {
    const float ones[4] = {1, 1, 1, 1};
    const int pads[4] = {1, 0, 0, 2}; /* top 1, right 2: a 4x5 padded grid, stride 2 → 2x2 */
    float out[4];
    Layer l = conv(shape_image(3, 3, 1), 1, 2, 2, 2, 1, pads, ones, NULL);
    cr_assert_eq(l.out.h, 2);
    cr_assert_eq(l.out.w, 2);
    run_one(shape_image(3, 3, 1), l, grid3, out);
    /* (0,0) rows -1..0 cols 0..1: 1+2; (0,1) cols 2..3: 3; (1,0) rows 1..2: 4+5+7+8;
     * (1,1): 6+9 */
    expect_values(out, (const double[]){3, 3, 24, 15}, 4);
}

Test(interp, conv_rectangular_stride_and_padding) {
    const float ones[2] = {1, 1}; /* a 1x2 kernel */
    const int pads[4] = {0, 0, 1, 1};
    Layer l = conv(shape_image(3, 3, 1), 1, 1, 2, 1, 1, pads, ones, NULL);
    l.sh = 2; /* stride 2x1: out = 2x4 */
    l.out = shape_image(2, 4, 1);
    float out[8];
    run_one(shape_image(3, 3, 1), l, grid3, out);
    /* rows 0 and 2, pairs of neighbours in 0 1 2 3 0 and 0 7 8 9 0 */
    expect_values(out, (const double[]){1, 3, 5, 3, 7, 15, 17, 9}, 8);
}

Test(interp, conv_dilation) {
    const float w[4] = {1, 2, 3, 4};
    float out[1];
    run_one(shape_image(3, 3, 1), conv(shape_image(3, 3, 1), 1, 2, 2, 1, 2, no_pad, w, NULL), grid3, out);
    /* taps at the corners: 1*1 + 3*2 + 7*3 + 9*4 */
    expect_values(out, (const double[]){64}, 1);
}

Test(interp, conv_weight_layout_is_kh_kw_cin_f) {
    const float w[4] = {1, 2, 3, 4}; /* w[ci][f]: f0 = x0 + 3*x1, f1 = 2*x0 + 4*x1 */
    const float b[2] = {1, -1};
    const float in[4] = {1, 2, -1, 0.5f}; /* two pixels of two channels */
    float out[4];
    run_one(shape_image(1, 2, 2), conv(shape_image(1, 2, 2), 2, 1, 1, 1, 1, no_pad, w, b), in, out);
    expect_values(out, (const double[]){1 + 6 + 1, 2 + 8 - 1, -1 + 1.5 + 1, -2 + 2 - 1}, 4);
}

Test(interp, conv_per_position_bias) {
    const float w[2] = {1, -1};
    const float bias[4] = {10, 20, 30, 40}; /* [OH=1][OW=2][F=2] */
    const float in[2] = {1, 2};
    Layer l = conv(shape_image(1, 2, 1), 2, 1, 1, 1, 1, no_pad, w, NULL);
    l.has_bias = l.per_position_bias = true;
    l.t[T_BIAS] = tensor(bias, 4);
    float out[4];
    run_one(shape_image(1, 2, 1), l, in, out);
    expect_values(out, (const double[]){1 + 10, -1 + 20, 2 + 30, -2 + 40}, 4);
}

Test(interp, conv_fused_activations) {
    const float w[1] = {1};
    const float in[4] = {-3, -0.5f, 2, 8};
    double want[4];
    float out[4];
    const ActKind acts[] = {ACT_RELU, ACT_RELU6, ACT_LEAKY_RELU, ACT_SIGMOID, ACT_TANH, ACT_LINEAR};
    for (int a = 0; a < 6; a++) {
        Layer l = conv(shape_image(2, 2, 1), 1, 1, 1, 1, 1, no_pad, w, NULL);
        l.act = acts[a];
        l.alpha = 0.25f;
        run_one(shape_image(2, 2, 1), l, in, out);
        for (int i = 0; i < 4; i++) {
            double x = in[i];
            double results[6] = {fmax(x, 0), fmin(fmax(x, 0), 6), x > 0 ? x : 0.25 * x,
                                 1 / (1 + exp(-x)), tanh(x), x};
            want[i] = results[a];
        }
        expect_values(out, want, 4);
    }
}

Test(interp, conv_softmax_is_over_channels_per_position) {
    const float identity[4] = {1, 0, 0, 1};
    const float in[4] = {0, (float)log(3.0), 1, 1};
    Layer l = conv(shape_image(1, 2, 2), 2, 1, 1, 1, 1, no_pad, identity, NULL);
    l.act = ACT_SOFTMAX;
    float out[4];
    run_one(shape_image(1, 2, 2), l, in, out);
    /* e^0 : e^ln3 = 1 : 3 at the first position, equal at the second */
    expect_values(out, (const double[]){0.25, 0.75, 0.5, 0.5}, 4);
}

Test(interp, maxpool_valid_and_padded_cells_ignored) {
    float in16[16], out[4];
    for (int i = 0; i < 16; i++)
        in16[i] = (float)i;
    run_one(shape_image(4, 4, 1), pool(LAYER_MAXPOOL, shape_image(4, 4, 1), 2, 2, no_pad, false), in16, out);
    expect_values(out, (const double[]){5, 7, 13, 15}, 4);

    float neg[9];
    for (int i = 0; i < 9; i++)
        neg[i] = -grid3[i];
    const int same[4] = {0, 1, 0, 1}; /* 'same' for size 2 stride 2 on 3: bottom/right 1 */
    run_one(shape_image(3, 3, 1), pool(LAYER_MAXPOOL, shape_image(3, 3, 1), 2, 2, same, false), neg, out);
    /* a padded 0 never wins: the last window holds only -9 */
    expect_values(out, (const double[]){-1, -3, -7, -9}, 4);
}

Test(interp, avgpool_excludes_padding_unless_count_pad) {
    const int same[4] = {0, 1, 0, 1};
    float out[4];
    run_one(shape_image(3, 3, 1), pool(LAYER_AVGPOOL, shape_image(3, 3, 1), 2, 2, same, false), grid3, out);
    /* (1+2+4+5)/4, (3+6)/2, (7+8)/2, 9/1 */
    expect_values(out, (const double[]){3, 4.5, 7.5, 9}, 4);
    run_one(shape_image(3, 3, 1), pool(LAYER_AVGPOOL, shape_image(3, 3, 1), 2, 2, same, true), grid3, out);
    /* the same sums over the full window of 4 */
    expect_values(out, (const double[]){3, 2.25, 3.75, 2.25}, 4);
}

Test(interp, avgpool_overlapping_stride_and_channels) {
    const float in[8] = {1, 10, 2, 20, 3, 30, 4, 40}; /* 1x4x2 */
    Layer l = pool(LAYER_AVGPOOL, shape_image(1, 4, 2), 1, 1, no_pad, false);
    l.kw = 2; /* a 1x2 window, stride 1: 1x3x2 */
    l.out = shape_image(1, 3, 2);
    float out[6];
    run_one(shape_image(1, 4, 2), l, in, out);
    expect_values(out, (const double[]){1.5, 15, 2.5, 25, 3.5, 35}, 6);
}

Test(interp, global_pools) {
    const float in[8] = {1, -1, 2, -5, 3, 0, 4, 8}; /* 2x2x2, H-W-C */
    Layer l = {.kind = LAYER_GLOBAL_AVGPOOL, .in = shape_image(2, 2, 2), .out = shape_vector(2)};
    float out[2];
    run_one(l.in, l, in, out);
    expect_values(out, (const double[]){2.5, 0.5}, 2);
    l.kind = LAYER_GLOBAL_MAXPOOL;
    run_one(l.in, l, in, out);
    expect_values(out, (const double[]){4, 8}, 2);
}

/* torch.nn.MaxPool2d and a global max return NaN for a window holding one,
 * wherever it sits in the window (a NaN compares false with everything). */
Test(interp, max_pools_propagate_nan) {
    float in16[16], out[4];
    for (int i = 0; i < 16; i++)
        in16[i] = (float)i;
    in16[5] = NAN;   /* last cell of the first window */
    in16[2] = NAN;   /* first cell of the second */
    run_one(shape_image(4, 4, 1), pool(LAYER_MAXPOOL, shape_image(4, 4, 1), 2, 2, no_pad, false), in16, out);
    cr_expect(isnan(out[0]) && isnan(out[1]), "got %g %g, want NaN NaN", out[0], out[1]);
    expect_values(out + 2, (const double[]){13, 15}, 2);

    const float in[8] = {1, -1, NAN, -5, 3, 0, 4, NAN}; /* 2x2x2, H-W-C */
    Layer l = {.kind = LAYER_GLOBAL_MAXPOOL, .in = shape_image(2, 2, 2), .out = shape_vector(2)};
    run_one(l.in, l, in, out);
    cr_expect(isnan(out[0]) && isnan(out[1]), "got %g %g, want NaN NaN", out[0], out[1]);
}

Test(interp, flatten_hwc_and_chw) {
    float in[12], out[12];
    for (int i = 0; i < 12; i++)
        in[i] = (float)i; /* 2x2x3, H-W-C */
    Layer l = {.kind = LAYER_FLATTEN, .in = shape_image(2, 2, 3), .out = shape_vector(12)};
    run_one(l.in, l, in, out);
    expect_values(out, (const double[]){0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 12);
    l.flatten_chw = true;
    run_one(l.in, l, in, out);
    /* channel 0 of the four positions, then channel 1, then 2 */
    expect_values(out, (const double[]){0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11}, 12);
}

Test(interp, dense_in_out_layout_bias_and_relu) {
    const float in[3] = {1, 2, 3}, w[6] = {1, -2, 3, -4, 5, -6}, b[2] = {0.5f, -0.5f};
    Layer l = {.kind = LAYER_DENSE, .in = shape_vector(3), .out = shape_vector(2), .units = 2,
               .has_bias = true};
    l.t[T_WEIGHT] = tensor(w, 6);
    l.t[T_BIAS] = tensor(b, 2);
    float out[2];
    run_one(l.in, l, in, out);
    /* 1 + 6 + 15 + 0.5, -2 - 8 - 18 - 0.5 */
    expect_values(out, (const double[]){22.5, -28.5}, 2);
    l.act = ACT_RELU;
    run_one(l.in, l, in, out);
    expect_values(out, (const double[]){22.5, 0}, 2);
}

static const float act_in[5] = {-2, -0.5f, 0, 0.5f, 7};

static void expect_activation(LayerKind kind, float alpha, const double want[5]) {
    Layer l = same_shape(kind, shape_vector(5));
    l.alpha = alpha;
    float out[5];
    run_one(l.in, l, act_in, out);
    expect_values(out, want, 5);
}

Test(interp, activation_layers) {
    expect_activation(LAYER_RELU, 0, (const double[]){0, 0, 0, 0.5, 7});
    expect_activation(LAYER_RELU6, 0, (const double[]){0, 0, 0, 0.5, 6});
    expect_activation(LAYER_LEAKY_RELU, 0.25f, (const double[]){-0.5, -0.125, 0, 0.5, 7});
    expect_activation(LAYER_LINEAR, 0, (const double[]){-2, -0.5, 0, 0.5, 7});
    expect_activation(LAYER_DROPOUT, 0, (const double[]){-2, -0.5, 0, 0.5, 7});
    double sig[5], th[5];
    for (int i = 0; i < 5; i++) {
        sig[i] = 1 / (1 + exp(-act_in[i]));
        th[i] = (exp(2.0 * act_in[i]) - 1) / (exp(2.0 * act_in[i]) + 1);
    }
    expect_activation(LAYER_SIGMOID, 0, sig);
    expect_activation(LAYER_TANH, 0, th);
}

Test(interp, softmax_layer_on_vector_and_on_channels) {
    const float v[3] = {1, 2, 3};
    double e = exp(1.0), sum = e + e * e + e * e * e;
    Layer l = same_shape(LAYER_SOFTMAX, shape_vector(3));
    float out[4];
    run_one(l.in, l, v, out);
    expect_values(out, (const double[]){e / sum, e * e / sum, e * e * e / sum}, 3);

    const float img[4] = {0, (float)log(3.0), 5, 5}; /* 1x2x2 */
    l = same_shape(LAYER_SOFTMAX, shape_image(1, 2, 2));
    run_one(l.in, l, img, out);
    expect_values(out, (const double[]){0.25, 0.75, 0.5, 0.5}, 4);
}

/* NaN and ±inf through every activation, as torch gives them (torch 1.13,
 * float64: torch.relu, F.relu6, F.leaky_relu(x, 0.25), torch.sigmoid,
 * torch.tanh, torch.softmax).  NaN in is NaN out everywhere. */
static const float special_in[7] = {NAN, INFINITY, -INFINITY, -0.0f, 1.5f, -1.5f, 7};
static const double torch_special[5][7] = {
    {NAN, INFINITY, 0, -0.0, 1.5, 0, 7},                                    /* relu */
    {NAN, 6, 0, -0.0, 1.5, 0, 6},                                           /* relu6 */
    {NAN, INFINITY, -INFINITY, -0.0, 1.5, -0.375, 7},                       /* leaky_relu 0.25 */
    {NAN, 1, 0, 0.5, 0.8175744761936437, 0.18242552380635635, 0.9990889488055994}, /* sigmoid */
    {NAN, 1, -1, -0.0, 0.9051482536448664, -0.9051482536448664, 0.9999983369439447}, /* tanh */
};

/* Like expect_values, where NaN must match NaN and an infinity itself. */
static void expect_special(const float *got, const double *want, int n, const char *what) {
    for (int i = 0; i < n; i++) {
        bool ok = isnan(want[i]) ? isnan(got[i])
                  : isinf(want[i]) ? got[i] == want[i]
                                   : fabs(got[i] - want[i]) <= 1e-6 * fmax(1, fabs(want[i]));
        cr_expect(ok, "%s, element %d: got %.9g, want %.9g", what, i, got[i], want[i]);
    }
}

Test(interp, activations_propagate_nan_and_saturate_at_inf) {
    const LayerKind layers[5] = {LAYER_RELU, LAYER_RELU6, LAYER_LEAKY_RELU, LAYER_SIGMOID, LAYER_TANH};
    const ActKind acts[5] = {ACT_RELU, ACT_RELU6, ACT_LEAKY_RELU, ACT_SIGMOID, ACT_TANH};
    const float one[1] = {1};
    float out[7];
    for (int a = 0; a < 5; a++) {
        Layer l = same_shape(layers[a], shape_vector(7));
        l.alpha = 0.25f;
        run_one(l.in, l, special_in, out);
        expect_special(out, torch_special[a], 7, layer_kind_name(layers[a]));
        /* fused into a 1x1 conv with weight 1: the pre-activation is the input */
        Layer c = conv(shape_image(1, 7, 1), 1, 1, 1, 1, 1, no_pad, one, NULL);
        c.act = acts[a];
        c.alpha = 0.25f;
        run_one(c.in, c, special_in, out);
        expect_special(out, torch_special[a], 7, layer_kind_name(layers[a]));
    }
}

/* torch.softmax: a NaN or a +inf in a group makes the whole group NaN
 * (exp(NaN), inf - inf); a -inf there is just a 0 (exp(-inf)). */
Test(interp, softmax_propagates_nan_and_inf) {
    const float rows[9] = {1, NAN, 2, 1, -INFINITY, 2, INFINITY, 0, 0};
    const double want[9] = {NAN, NAN, NAN, 0.26894142136999516, 0, 0.7310585786300049, NAN, NAN, NAN};
    float out[9];
    Layer l = same_shape(LAYER_SOFTMAX, shape_image(1, 3, 3)); /* over the channels of 3 positions */
    run_one(l.in, l, rows, out);
    expect_special(out, want, 9, "softmax per position");
    for (int r = 0; r < 3; r++) {
        l = same_shape(LAYER_SOFTMAX, shape_vector(3));
        run_one(l.in, l, rows + 3 * r, out);
        expect_special(out, want + 3 * r, 3, "softmax of a vector");
    }
    const float all_minus_inf[3] = {-INFINITY, -INFINITY, -INFINITY};
    run_one(l.in, l, all_minus_inf, out);
    expect_special(out, (const double[]){NAN, NAN, NAN}, 3, "softmax of -inf -inf -inf");
}

Test(interp, batchnorm_per_channel) {
    Layer l = same_shape(LAYER_BATCHNORM, shape_image(1, 2, 2));
    l.epsilon = 1;
    l.t[T_GAMMA] = tensor((const float[]){2, 1}, 2);
    l.t[T_BETA] = tensor((const float[]){1, 0}, 2);
    l.t[T_MEAN] = tensor((const float[]){1, -1}, 2);
    l.t[T_VAR] = tensor((const float[]){3, 0}, 2); /* sqrt(var + 1) = 2 and 1 */
    const float in[4] = {5, 2, 1, -3};
    float out[4];
    run_one(l.in, l, in, out);
    /* 2*(5-1)/2 + 1, (2+1)/1, 2*(1-1)/2 + 1, (-3+1)/1 */
    expect_values(out, (const double[]){5, 3, 1, -2}, 4);
}

Test(interp, rescale_scalar_and_per_channel) {
    Layer l = same_shape(LAYER_RESCALE, shape_image(1, 1, 3));
    l.t[T_SCALE] = tensor((const float[]){1.0f / 255}, 1);
    l.t[T_OFFSET] = tensor((const float[]){-1}, 1);
    const float in[3] = {255, 0, 51};
    float out[3];
    run_one(l.in, l, in, out);
    expect_values(out, (const double[]){(double)(1.0f / 255) * 255 - 1, -1, (double)(1.0f / 255) * 51 - 1}, 3);
    l.t[T_SCALE] = tensor((const float[]){2, 3, -1}, 3);
    l.t[T_OFFSET] = (Tensor){0}; /* absent: offset 0 */
    run_one(l.in, l, in, out);
    expect_values(out, (const double[]){510, 0, -51}, 3);
}

Test(interp, normalize_per_channel_and_per_element) {
    Layer l = same_shape(LAYER_NORMALIZE, shape_image(1, 2, 2));
    l.t[T_MEAN] = tensor((const float[]){0.5f, 1}, 2);
    l.t[T_STD] = tensor((const float[]){0.25f, 2}, 2);
    const float in[4] = {1, 5, 0, -1};
    float out[4];
    run_one(l.in, l, in, out);
    expect_values(out, (const double[]){2, 2, -2, -1}, 4);
    l.in = l.out = shape_vector(4); /* one mean/std per element */
    l.t[T_MEAN] = tensor((const float[]){1, 2, 3, 4}, 4);
    l.t[T_STD] = tensor((const float[]){1, 2, 3, 4}, 4);
    run_one(l.in, l, in, out);
    expect_values(out, (const double[]){0, 1.5, -1, -1.25}, 4);
}

Test(interp, order_chw_input_and_output) {
    const float swap[4] = {0, 1, 1, 0}; /* 1x1 conv exchanging two channels */
    const float in[8] = {1, 2, 3, 4, 5, 6, 7, 8}; /* C-H-W: channel 0 is 1..4 */
    Layer l = conv(shape_image(2, 2, 2), 2, 1, 1, 1, 1, no_pad, swap, NULL);
    float out[8];
    run_chain(l.in, true, &l, 1, in, out);
    expect_values(out, (const double[]){5, 6, 7, 8, 1, 2, 3, 4}, 8);

    const float mix[2] = {1, 10}; /* one filter: c0 + 10*c1 */
    l = conv(shape_image(2, 2, 2), 1, 1, 1, 1, 1, no_pad, mix, NULL);
    Layer chain[2] = {l, {.kind = LAYER_FLATTEN, .in = l.out, .out = shape_vector(4)}};
    run_chain(l.in, true, chain, 2, in, out);
    expect_values(out, (const double[]){51, 62, 73, 84}, 4);
}

Test(interp, layers_chain_through_shapes) {
    /* conv 3x3 same → relu → maxpool 3 (one window) → flatten → dense */
    const float ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    const int pads[4] = {1, 1, 1, 1};
    float neg[9];
    for (int i = 0; i < 9; i++)
        neg[i] = grid3[i] - 5;
    Layer c = conv(shape_image(3, 3, 1), 1, 3, 3, 1, 1, pads, ones, (const float[]){-1});
    c.act = ACT_RELU;
    Layer p = pool(LAYER_MAXPOOL, c.out, 3, 3, no_pad, false);
    Layer f = {.kind = LAYER_FLATTEN, .in = p.out, .out = shape_vector(1)};
    Layer d = {.kind = LAYER_DENSE, .in = f.out, .out = shape_vector(2), .units = 2};
    d.t[T_WEIGHT] = tensor((const float[]){2, -1}, 2);
    Layer chain[4] = {c, p, f, d};
    float out[2];
    run_chain(c.in, false, chain, 4, neg, out);
    /* neighbourhood sums less 5 per cell, less the bias 1: largest at (2,1):
     * 39 - 30 - 1 = 8, then dense: 2*8, -1*8 */
    expect_values(out, (const double[]){16, -8}, 2);
}

/* ------------------------------------------------------------ image_load */

/* Every fixture is the same 2x3 picture, channel value v(y,x,c) below (the
 * gray ones hold channel 0). */
static double fixture_value(int y, int x, int c) { return (double)(y * 3 + x) * 20 + c * 7; }

static void expect_image(const char *path, int want_c) {
    int h = 0, w = 0, c = 0;
    float *px = NULL;
    char err[256] = "";
    bool ok = image_load(path, &h, &w, &c, &px, err, sizeof err);
    cr_assert(ok, "%s: %s", path, err);
    cr_assert(h == 2 && w == 3 && c == want_c, "%s: %dx%dx%d", path, h, w, c);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++) {
                float got = px[(y * w + x) * c + k];
                cr_expect(fabs(got - fixture_value(y, x, k)) < 1e-4, "%s (%d,%d,%d): %g", path, y, x,
                          k, got);
            }
}

Test(image, netpbm_binary_ascii_and_maxvals) {
    expect_image("fixtures/images/gray.pgm", 1);      /* P5 */
    expect_image("fixtures/images/gray_ascii.pgm", 1); /* P2 with comments */
    expect_image("fixtures/images/gray16.pgm", 1);    /* P5, maxval 65535 */
    expect_image("fixtures/images/gray_max510.pgm", 1);
    expect_image("fixtures/images/rgb.ppm", 3);       /* P6 */
    expect_image("fixtures/images/rgb_ascii.ppm", 3); /* P3 */
    expect_image("fixtures/images/rgb16.ppm", 3);     /* P6, maxval 65535 */
}

Test(image, png_color_types) {
    expect_image("fixtures/images/gray.png", 1);
    expect_image("fixtures/images/gray_alpha.png", 1); /* alpha dropped */
    expect_image("fixtures/images/rgb.png", 3);
    expect_image("fixtures/images/rgba.png", 3); /* alpha dropped */
    expect_image("fixtures/images/palette.png", 3);
    expect_image("fixtures/images/rgb16.png", 3);
}

Test(image, errors_name_the_problem) {
    int h, w, c;
    float *px;
    char err[256] = "";
    cr_expect(!image_load("fixtures/images/missing.png", &h, &w, &c, &px, err, sizeof err));
    cr_expect(strstr(err, "missing.png") || strstr(err, "No such file"), "%s", err);
    cr_expect(!image_load("fixtures/images/cut.ppm", &h, &w, &c, &px, err, sizeof err));
    cr_expect(strstr(err, "truncated") != NULL, "%s", err);
    cr_expect(!image_load("fixtures/images/not_an_image.pgm", &h, &w, &c, &px, err, sizeof err));
    cr_expect(strstr(err, "P2") != NULL, "%s", err);
}

/* ---------------------------------------------------------------- cnnc run */

/* A model of one shape-preserving or flattening layer over `input`. */
static Model *tiny_model(Shape input, bool chw, LayerKind kind) {
    Model *m = arena_alloc(sizeof *m);
    Layer *l = arena_alloc(sizeof *l);
    *l = same_shape(kind, input);
    if (kind == LAYER_FLATTEN)
        l->out = shape_vector((int)shape_count(input));
    *m = (Model){.name = "t", .input = input, .input_chw = chw, .layers = l, .nlayers = 1,
                 .output = l->out, .weights_loaded = true};
    return m;
}

static const char *temp_path(const char *name) {
    return arena_printf("/tmp/cnnc_test_interp_%ld_%s", (long)getpid(), name);
}

static Tensor load_npy(const char *path, const char *want_shape_text, long long count) {
    RawTensor raw;
    Tensor t;
    char err[256];
    cr_assert(npy_load(path, &raw, err, sizeof err), "%s", err);
    cr_assert(raw.dtype == DT_F32 && !raw.big_endian && !raw.fortran_order);
    cr_assert(raw_to_tensor(&raw, &t, err, sizeof err), "%s", err);
    cr_assert_eq(t.count, count, "%s: want shape %s", path, want_shape_text);
    return t;
}

Test(run, image_to_npy_and_back, .init = cr_redirect_stdout) {
    const char *a = temp_path("a.npy"), *b = temp_path("b.npy");
    Model *m = tiny_model(shape_image(2, 3, 3), false, LAYER_DROPOUT);
    cr_assert_eq(run_model(m, "fixtures/images/rgb.png", a), 0);
    Tensor t = load_npy(a, "(2, 3, 3)", 18);
    cr_expect(t.ndims == 3 && t.dims[0] == 2 && t.dims[1] == 3 && t.dims[2] == 3);
    for (int i = 0; i < 18; i++)
        cr_expect_eq(t.data[i], fixture_value(i / 9, i / 3 % 3, i % 3));
    cr_assert_eq(run_model(m, a, b), 0); /* the .npy written is a valid input */
    Tensor u = load_npy(b, "(2, 3, 3)", 18);
    cr_expect_arr_eq(u.data, t.data, 18 * sizeof(float));
    remove(a);
    remove(b);
}

Test(run, chw_model_reads_images_in_chw_order, .init = cr_redirect_stdout) {
    const char *a = temp_path("chw.npy");
    Model *m = tiny_model(shape_image(2, 3, 3), true, LAYER_DROPOUT);
    cr_assert_eq(run_model(m, "fixtures/images/rgb.ppm", a), 0);
    Tensor t = load_npy(a, "(3, 2, 3)", 18);
    cr_expect(t.dims[0] == 3 && t.dims[1] == 2 && t.dims[2] == 3);
    for (int i = 0; i < 18; i++) /* i = (c*2 + y)*3 + x */
        cr_expect_eq(t.data[i], fixture_value(i / 3 % 2, i % 3, i / 6));
    remove(a);
}

Test(run, vector_output_prints_values_and_top_classes, .init = cr_redirect_stdout) {
    const char *v = temp_path("v.npy");
    Model *flat = tiny_model(shape_image(2, 3, 1), false, LAYER_FLATTEN);
    cr_assert_eq(run_model(flat, "fixtures/images/gray.pgm", v), 0);
    load_npy(v, "(6,)", 6);
    cr_assert_eq(run_model(tiny_model(shape_vector(6), false, LAYER_RELU), v, NULL), 0);
    fflush(stdout);
    char text[4096] = "";
    size_t n = fread(text, 1, sizeof text - 1, cr_get_redirected_stdout());
    text[n] = '\0';
    /* the image gray.pgm holds 0 20 40 60 80 100 */
    cr_expect(strstr(text, "output 6 (6,)\n") != NULL, "%s", text);
    cr_expect(strstr(text, "           0           20           40           60           80          100\n"),
              "%s", text);
    cr_expect(strstr(text, "top 5:\n  1. class 5: 100\n  2. class 4: 80\n") != NULL, "%s", text);
    remove(v);
}

Test(run, wrong_inputs_are_errors, .init = cr_redirect_stdout) {
    diag_reset();
    FILE *sink = tmpfile();
    diag_set_stream(sink);
    const char *a = temp_path("wrong.npy");
    Model *flat = tiny_model(shape_image(2, 3, 1), false, LAYER_FLATTEN);
    Model *gray = tiny_model(shape_image(2, 3, 1), false, LAYER_RELU);
    cr_assert_eq(run_model(flat, "fixtures/images/gray.pgm", a), 0);
    cr_expect_eq(run_model(tiny_model(shape_vector(5), false, LAYER_RELU), a, NULL), 1);
    cr_expect_eq(run_model(gray, "fixtures/images/rgb.png", NULL), 1);
    cr_expect_eq(run_model(gray, "fixtures/images/none.npy", NULL), 1);
    cr_expect_eq(run_model(gray, "fixtures/images/make_images.py", NULL), 1);
    rewind(sink);
    char text[2048] = "";
    text[fread(text, 1, sizeof text - 1, sink)] = '\0';
    cr_expect(strstr(text, "has shape (6,), expected (5,)") != NULL, "%s", text);
    cr_expect(strstr(text, "is 2x3x3 (RGB), but the model's input is 2x3x1") != NULL, "%s", text);
    cr_expect(strstr(text, "cannot read input 'fixtures/images/none.npy'") != NULL, "%s", text);
    cr_expect(strstr(text, "unknown kind of file") != NULL, "%s", text);
    diag_set_stream(stderr);
    fclose(sink);
    remove(a);
}

/* A .npy v1.0 of N int32 zeros, shape (N,). */
static void write_int_npy(const char *path, int n) {
    char header[128] = "\x93NUMPY\x01";
    int len = snprintf(header + 10, 118, "{'descr': '<i4', 'fortran_order': False, 'shape': (%d,), }", n);
    memset(header + 10 + len, ' ', (size_t)(117 - len));
    header[127] = '\n';
    header[8] = 118;
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    fwrite(header, 1, 128, f);
    for (int i = 0; i < n * 4; i++)
        fputc(0, f);
    fclose(f);
}

/* `.NPY` is a .npy, as `.PNG` is a .png; an integer .npy input is an error
 * that talks about the input, not about weights. */
Test(run, npy_input_extension_case_and_integer_dtype, .init = cr_redirect_stdout) {
    diag_reset();
    char *text;
    size_t len;
    FILE *sink = open_memstream(&text, &len);
    diag_set_stream(sink);
    const char *upper = temp_path("UP.NPY"), *ints = temp_path("ints.npy");
    Model *m = tiny_model(shape_vector(6), false, LAYER_RELU);
    cr_assert_eq(run_model(tiny_model(shape_image(2, 3, 1), false, LAYER_FLATTEN), "fixtures/images/gray.pgm", upper), 0);
    cr_expect_eq(run_model(m, upper, NULL), 0);
    write_int_npy(ints, 6);
    cr_expect_eq(run_model(m, ints, NULL), 1);
    fclose(sink);
    diag_set_stream(NULL);
    cr_expect_str_eq(text, arena_printf("cnnc: error: input '%s' has dtype <i4; the input must be float "
                                        "(float16, bfloat16, float32 or float64)\n", ints));
    free(text);
    remove(upper);
    remove(ints);
}

/* ------------------------------------------------ PyTorch fixtures, via .cnn */

static float *load_floats(const char *path, long long *count) {
    RawTensor raw;
    Tensor t;
    char err[256];
    cr_assert(npy_load(path, &raw, err, sizeof err) && raw_to_tensor(&raw, &t, err, sizeof err), "%s: %s",
              path, err);
    *count = t.count;
    return t.data;
}

/* Largest |got - want| / max(1, |want|) of one fixture model. */
static double fixture_error(const char *dir) {
    diag_reset();
    SrcFile *src = srcfile_load(arena_printf("%s/model.cnn", dir));
    cr_assert(src, "%s: no model.cnn", dir);
    Model *m = check_program(parse_program(src), true);
    cr_assert_eq(diag_error_count(), 0, "%s: the model does not check", dir);
    long long n_in, n_out;
    float *in = load_floats(arena_printf("%s/input.npy", dir), &n_in);
    float *want = load_floats(arena_printf("%s/expected.npy", dir), &n_out);
    cr_assert(n_in == shape_count(m->input) && n_out == shape_count(m->output), "%s: sizes", dir);
    float *got = arena_alloc((size_t)n_out * sizeof(float));
    interp_run(m, in, got);
    double worst = 0;
    for (long long i = 0; i < n_out; i++)
        worst = fmax(worst, fabs(got[i] - want[i]) / fmax(1, fabs(want[i])));
    return worst;
}

/* Every model in tests/fixtures/models against PyTorch (float64), with a
 * margin 100x tighter than the SPEC's 1e-4 for generated code (the double
 * computation differs from the expected values by float rounding only). */
Test(interp, matches_pytorch_on_every_fixture_model) {
    DIR *d = opendir("fixtures/models");
    cr_assert(d, "fixtures/models is missing");
    int models = 0;
    for (struct dirent *e; (e = readdir(d));) {
        const char *dir = arena_printf("fixtures/models/%s", e->d_name);
        if (e->d_name[0] == '.' || access(arena_printf("%s/model.cnn", dir), R_OK))
            continue;
        double err = fixture_error(dir);
        cr_expect(err <= 1e-6, "%s: relative error %g", e->d_name, err);
        models++;
    }
    closedir(d);
    cr_expect(models >= 10, "only %d fixture models found", models);
}

/* Parses and checks a model with inline weights, then interprets it. */
static void run_text(const char *text, const float *in, float *out) {
    diag_reset();
    Model *m = check_program(parse_program(srcfile_from_string("t.cnn", text)), true);
    cr_assert_eq(diag_error_count(), 0, "%s", text);
    interp_run(m, in, out);
}

/* The checker resolves padding=same (TensorFlow rule) to top 0, bottom 1,
 * left 0, right 1 here: ceil(4/2) = 2 outputs, total (2-1)*2 + 3 - 4 = 1. */
Test(interp, same_padding_from_cnn_text_with_and_without_count_pad) {
    float in[16], out[4];
    for (int i = 0; i < 16; i++)
        in[i] = (float)i; /* rows 0 1 2 3 / 4 5 6 7 / 8 9 10 11 / 12 13 14 15 */
    run_text("input 4x4x1\navgpool size=3 stride=2 padding=same\n", in, out);
    /* 3x3 real cells 0..10: 45/9; 2x3: 39/6; 3x2: 66/6; 2x2: 50/4 */
    expect_values(out, (const double[]){5, 6.5, 11, 12.5}, 4);
    run_text("input 4x4x1\navgpool size=3 stride=2 padding=same count_pad=true\n", in, out);
    expect_values(out, (const double[]){5, 39 / 9.0, 66 / 9.0, 50 / 9.0}, 4);
    run_text("input 4x4x1\nmaxpool size=3 stride=2 padding=same\n", in, out);
    expect_values(out, (const double[]){10, 11, 14, 15}, 4);
}
