/* test_runtime.c — the scalar runtime (runtime/cnnc_rt.h) against libm.
 *
 * Each function is swept densely and compared with the double-precision libm
 * result; the error is relative where the exact result is a normal float and
 * absolute (one subnormal ulp) below that.  Edge cases are checked exactly.
 * NaN and ±inf are checked against torch, for cnnc_rt.h and for the vector
 * activations of the SIMD vocabulary the C compiler enables (cnnc_simd.h). */
#include "../runtime/cnnc_rt.h"
#include "../runtime/cnnc_simd.h" /* SSE2 on plain x86-64, NEON on AArch64 */

#include <criterion/criterion.h>
#include <float.h>
#include <math.h>

#define MAX_REL_ERR 1e-6

/* Error of got against exact, as described in the file comment; 0 if both
 * are the same infinity or both NaN. */
static double error_against(float got, double exact) {
    if (isnan(exact))
        return isnan(got) ? 0 : INFINITY;
    if (isinf(exact) || fabs(exact) > FLT_MAX)
        return (double)got == (exact > 0 ? INFINITY : -INFINITY) ? 0 : INFINITY;
    double diff = fabs((double)got - exact);
    if (fabs(exact) < FLT_MIN)
        return diff <= 0x1p-149 ? 0 : INFINITY;
    return diff / fabs(exact);
}

static double sigmoid_exact(double x) { return 1.0 / (1.0 + exp(-x)); }

typedef float (*Fn)(float);
typedef double (*Exact)(double);

/* Largest error over lo, lo+step, ..., hi. */
static double sweep(Fn f, Exact exact, double lo, double hi, double step, double *worst_x) {
    double worst = 0;
    long n = lround((hi - lo) / step);
    for (long i = 0; i <= n; i++) {
        float x = (float)(lo + (double)i * step);
        double e = error_against(f(x), exact((double)x));
        if (e > worst) {
            worst = e;
            *worst_x = x;
        }
    }
    return worst;
}

static void check_sweep(Fn f, Exact exact, double lo, double hi, double step, const char *what) {
    double at = 0;
    double worst = sweep(f, exact, lo, hi, step, &at);
    cr_expect(worst <= MAX_REL_ERR, "%s: relative error %g at x=%.9g", what, worst, at);
}

static const float edge_cases[] = {
    0.0f, -0.0f, 1e-45f, -1e-45f, 1e-38f, -1e-38f, 1e-20f, -1e-20f, 1e-7f, -1e-7f,
    0.625f, -0.625f, 0.62499994f, 9.0f, -9.0f, 30.0f, -30.0f, 87.0f, -87.0f,
    88.7f, 88.72283f, 88.73f, -103.0f, -104.5f, -150.0f, 1e10f, -1e10f, FLT_MAX, -FLT_MAX,
};

static void check_edges(Fn f, Exact exact, const char *what) {
    int n = (int)(sizeof edge_cases / sizeof edge_cases[0]);
    for (int i = 0; i < n; i++) {
        float x = edge_cases[i];
        double e = error_against(f(x), exact((double)x));
        cr_expect(e <= MAX_REL_ERR, "%s(%.9g) = %.9g, exact %.9g", what, x, f(x), exact(x));
    }
    cr_expect(isnan(f(NAN)), "%s(NaN) is NaN", what);
}

Test(runtime, expf_dense_sweep) {
    check_sweep(cnnc_expf, exp, -20, 20, 1e-3, "expf");
    check_sweep(cnnc_expf, exp, -110, 95, 7e-4, "expf (full range)");
}

Test(runtime, expf_edges) {
    check_edges(cnnc_expf, exp, "expf");
    cr_expect_eq(cnnc_expf(0.0f), 1.0f);
    cr_expect_eq(cnnc_expf(INFINITY), INFINITY);
    cr_expect_eq(cnnc_expf(-INFINITY), 0.0f);
    cr_expect_eq(cnnc_expf(89.0f), INFINITY);
    cr_expect_eq(cnnc_expf(-110.0f), 0.0f);
}

Test(runtime, tanhf_dense_sweep) {
    check_sweep(cnnc_tanhf, tanh, -20, 20, 1e-3, "tanhf");
    check_sweep(cnnc_tanhf, tanh, -1, 1, 1e-6, "tanhf (near 0 and the switch)");
    check_sweep(cnnc_tanhf, tanh, -1e-3, 1e-3, 1e-8, "tanhf (tiny)");
}

Test(runtime, tanhf_edges) {
    check_edges(cnnc_tanhf, tanh, "tanhf");
    cr_expect_eq(cnnc_tanhf(INFINITY), 1.0f);
    cr_expect_eq(cnnc_tanhf(-INFINITY), -1.0f);
    cr_expect(signbit(cnnc_tanhf(-0.0f)), "tanh(-0) keeps its sign");
    cr_expect_eq(cnnc_tanhf(1e-30f), 1e-30f);
}

Test(runtime, sigmoidf_dense_sweep) {
    check_sweep(cnnc_sigmoidf, sigmoid_exact, -20, 20, 1e-3, "sigmoidf");
    check_sweep(cnnc_sigmoidf, sigmoid_exact, -110, 110, 7e-4, "sigmoidf (tails)");
}

Test(runtime, sigmoidf_edges) {
    check_edges(cnnc_sigmoidf, sigmoid_exact, "sigmoidf");
    cr_expect_eq(cnnc_sigmoidf(0.0f), 0.5f);
    cr_expect_eq(cnnc_sigmoidf(INFINITY), 1.0f);
    cr_expect_eq(cnnc_sigmoidf(-INFINITY), 0.0f);
}

/* softmax in double, straight from the definition. */
static void softmax_exact(const float *x, double *y, int n) {
    double max = x[0], sum = 0;
    for (int i = 1; i < n; i++)
        max = fmax(max, x[i]);
    for (int i = 0; i < n; i++)
        sum += (y[i] = exp((double)x[i] - max));
    for (int i = 0; i < n; i++)
        y[i] /= sum;
}

Test(runtime, softmax_matches_double_and_sums_to_one) {
    float x[7] = {1.5f, -2.0f, 0.25f, 3.0f, 3.0f, -40.0f, 10.0f};
    float y[7];
    double exact[7], sum = 0;
    cnnc_softmaxf(x, y, 7);
    softmax_exact(x, exact, 7);
    for (int i = 0; i < 7; i++) {
        cr_expect(error_against(y[i], exact[i]) <= 1e-6, "y[%d] = %.9g, exact %.9g", i, y[i], exact[i]);
        sum += y[i];
    }
    cr_expect(fabs(sum - 1.0) <= 1e-6, "sum %.9g", sum);
}

Test(runtime, softmax_in_place_and_huge_inputs) {
    float x[3] = {1000.0f, 1000.0f, 999.0f};
    double exact[3];
    softmax_exact(x, exact, 3);
    cnnc_softmaxf(x, x, 3);
    for (int i = 0; i < 3; i++)
        cr_expect(error_against(x[i], exact[i]) <= 1e-6, "x[%d] = %.9g", i, x[i]);
    float one = 42.0f;
    cnnc_softmaxf(&one, &one, 1);
    cr_expect_eq(one, 1.0f);
}

Test(runtime, argmax_takes_first_of_ties_and_skips_nan) {
    float a[5] = {1, 7, 3, 7, -2};
    cr_expect_eq(cnnc_argmaxf(a, 5), 1);
    float b[4] = {NAN, -5, 2, 2};
    cr_expect_eq(cnnc_argmaxf(b, 4), 2);
    float c[3] = {-INFINITY, -INFINITY, -INFINITY};
    cr_expect_eq(cnnc_argmaxf(c, 3), 0);
    float d[2] = {NAN, NAN};
    cr_expect_eq(cnnc_argmaxf(d, 2), 0);
    float e[1] = {3};
    cr_expect_eq(cnnc_argmaxf(e, 1), 0);
}

Test(runtime, align_and_restrict_macros_compile) {
    static CNNC_ALIGN(64) float w[4] = {1, 2, 3, 4};
    float *CNNC_RESTRICT p = w;
    cr_expect_eq((uintptr_t)w % 64, 0);
    cr_expect_eq(p[3], 4.0f);
}

/* torch.softmax: a NaN or a +inf anywhere makes every output NaN (exp(NaN),
 * inf - inf); a -inf is a 0; all -inf is NaN (torch 1.13). */
Test(runtime, softmax_nan_and_inf_as_torch) {
    const float in[6][3] = {{1, NAN, 2}, {NAN, 1, 2}, {1, INFINITY, 2}, {1, -INFINITY, 2},
                            {-INFINITY, -INFINITY, -INFINITY}, {INFINITY, -INFINITY, 0}};
    const double mid[3] = {0.26894142136999516, 0, 0.7310585786300049};
    for (int r = 0; r < 6; r++) {
        float y[3];
        cnnc_softmaxf(in[r], y, 3);
        for (int i = 0; i < 3; i++) {
            double want = r == 3 ? mid[i] : NAN;
            cr_expect(error_against(y[i], want) <= 1e-6, "row %d: y[%d] = %g, torch %g", r, i, y[i], want);
        }
    }
}

/* The special values, and what torch gives for them (float64):
 * torch.relu, F.relu6, F.leaky_relu(x, 0.25), torch.sigmoid, torch.tanh, exp. */
static const float special[7] = {NAN, INFINITY, -INFINITY, -0.0f, 1.5f, -1.5f, -100.0f};
static const double torch_special[6][7] = {
    {NAN, INFINITY, 0, 0, 1.5, 0, 0},
    {NAN, 6, 0, 0, 1.5, 0, 0},
    {NAN, INFINITY, -INFINITY, 0, 1.5, -0.375, -25},
    {NAN, 1, 0, 0.5, 0.8175744761936437, 0.18242552380635635, 3.7200759760208356e-44},
    {NAN, 1, -1, 0, 0.9051482536448664, -0.9051482536448664, -1},
    {NAN, INFINITY, 0, 1, 4.4816890703380645, 0.22313016014842982, 3.720075976020836e-44},
};

static cnnc_v vector_act(int which, cnnc_v x) {
    switch (which) {
    case 0: return cnnc_vrelu(x);
    case 1: return cnnc_vrelu6(x);
    case 2: return cnnc_vleaky_relu(x, 0.25f);
    case 3: return cnnc_vsigmoid(x);
    case 4: return cnnc_vtanh(x);
    default: return cnnc_vexp(x);
    }
}

/* Every lane of the vector helpers: NaN in, NaN out; ±inf to torch's limits.
 * On x86 this depends on the operand order of maxps/minps. */
Test(runtime, vector_activations_nan_and_inf_as_torch) {
    static const char *const names[6] = {"vrelu", "vrelu6", "vleaky_relu", "vsigmoid", "vtanh", "vexp"};
    for (int a = 0; a < 6; a++)
        for (int i = 0; i < 7; i++) {
            float lanes[CNNC_LANES];
            cnnc_vstore(lanes, vector_act(a, cnnc_vbcast(special[i])));
            for (int l = 0; l < CNNC_LANES; l++)
                cr_expect(error_against(lanes[l], torch_special[a][i]) <= 1e-5, "%s %s(%g) lane %d = %g, torch %g",
                          CNNC_ISA, names[a], special[i], l, lanes[l], torch_special[a][i]);
        }
}
