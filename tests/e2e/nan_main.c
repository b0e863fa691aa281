/* nan_main.c — the main test_nan.c links with its small cnnc-generated
 * models, to check NaN and ±inf through every activation against torch.
 *
 * Build: in a directory holding the generated NAME.c / NAME.h and a
 * models.inc that #includes every NAME.c and defines
 *   #define NAN_SWEEP_MODELS(X) X(nan_relu, NAN_RELU, 0) ...
 * (model, its upper-case prefix, its row of torch_act below), compile this
 * file alone with -I that directory.  Each sweep model is elementwise: the
 * whole input is set to one special value, and every output must be what
 * torch gives for it.  The softmax layer models take mixed rows instead.
 * Prints a line for each wrong output (the first per input of a sweep) and
 * "ok" when none; exit status 0 or 1. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>

#include "models.inc"

static const float special[8] = {NAN, INFINITY, -INFINITY, -0.0f, 1.5f, -1.5f, 7.0f, -100.0f};

/* torch 1.13 in float64 on `special`: torch.relu, F.relu6, F.leaky_relu(x,
 * 0.25), torch.sigmoid, torch.tanh; row 5 is torch.softmax of
 * [x+1, x, x+2] (a fused softmax after weights 1 and bias [1 0 2]): NaN for
 * NaN and ±inf (inf - inf), else softmax([1, 0, 2]) whatever x is. */
static const double torch_act[5][8] = {
    {NAN, INFINITY, 0.0, -0.0, 1.5, 0.0, 7.0, 0.0},
    {NAN, 6.0, 0.0, -0.0, 1.5, 0.0, 6.0, 0.0},
    {NAN, INFINITY, -INFINITY, -0.0, 1.5, -0.375, 7.0, -25.0},
    {NAN, 1.0, 0.0, 0.5, 0.8175744761936437, 0.18242552380635635, 0.9990889488055994, 3.7200759760208356e-44},
    {NAN, 1.0, -1.0, -0.0, 0.9051482536448664, -0.9051482536448664, 0.9999983369439447, -1.0},
};
static const double softmax_102[3] = {0.2447284710547976, 0.09003057317038045, 0.6652409557748218};

/* torch.softmax over the channels of three positions: a NaN or a +inf
 * makes its group NaN, a -inf is a 0. */
static const float softmax_rows[9] = {1, NAN, 2, 1, -INFINITY, 2, INFINITY, 0, 0};
static const double torch_softmax_rows[9] = {NAN, NAN, NAN, 0.26894142136999516, 0.0, 0.7310585786300049,
                                             NAN, NAN, NAN};

static int wrong;

/* NaN must be NaN, an infinity itself, anything else within 1e-5. */
static bool expect(const char *model, float in, int k, float got, double want) {
    bool ok = isnan(want) ? isnan(got) : isinf(want) ? got == want
                                                     : fabs(got - want) <= 1e-5 * fmax(1.0, fabs(want));
    if (!ok) {
        printf("%s(%g) [%d]: got %.9g, torch %.9g\n", model, in, k, got, want);
        wrong++;
    }
    return ok;
}

static double sweep_want(int row, int i, int k) {
    if (row < 5)
        return torch_act[row][i];
    return isfinite(special[i]) ? softmax_102[k % 3] : NAN;
}

#define NAN_SWEEP(name, NAME, row)                                  \
    for (int i = 0; i < 8; i++) {                                   \
        float in[NAME##_INPUT_SIZE], out[NAME##_OUTPUT_SIZE];       \
        for (int k = 0; k < NAME##_INPUT_SIZE; k++)                 \
            in[k] = special[i];                                     \
        name##_infer(in, out);                                      \
        for (int k = 0; k < NAME##_OUTPUT_SIZE; k++)                \
            if (!expect(#name, special[i], k, out[k], sweep_want(row, i, k))) \
                break; /* the first wrong output of each input says it */ \
    }

static void softmax_layers(void) {
    float out[9];
    nan_softmax_image_infer(softmax_rows, out);   /* 1x3x3: per position */
    for (int k = 0; k < 9; k++)
        expect("nan_softmax_image", softmax_rows[k], k, out[k], torch_softmax_rows[k]);
    for (int r = 0; r < 3; r++) {                 /* each row as a vector */
        nan_softmax_vector_infer(softmax_rows + 3 * r, out);
        for (int k = 0; k < 3; k++)
            expect("nan_softmax_vector", softmax_rows[3 * r + k], k, out[k], torch_softmax_rows[3 * r + k]);
    }
}

int main(void) {
    NAN_SWEEP_MODELS(NAN_SWEEP)
    softmax_layers();
    if (!wrong)
        printf("ok\n");
    return wrong != 0;
}
