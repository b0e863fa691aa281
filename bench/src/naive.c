/* naive.c — the textbook-loops baseline: the network of ir.txt run with the
 * nested loops of a deep-learning course, in CHW order, shapes known only at
 * run time, compiled with plain gcc -O2.
 *
 * Convolution is six loops (filter, row, column, channel, kernel row, kernel
 * column) with a bounds test for padding; dense is a matrix-vector product.
 * Nothing is blocked, packed or vectorized by hand: this is the floor every
 * optimized implementation is compared against.
 *
 * Usage: naive MODEL_DIR INPUT_NCHW.bin OUTPUT.bin
 */
#include "ir.h"
#include "timing.h"

#include <math.h>

typedef enum { ACT_LINEAR, ACT_RELU, ACT_RELU6, ACT_LEAKY, ACT_SIGMOID, ACT_TANH, ACT_SOFTMAX } Act;

typedef struct Step {
    const IrOp *op;
    Act act;
    float alpha;
} Step;

static Ir net;
static Step steps[IR_MAX_OPS];
static float *buffers[2];
static const float *input;
static float *output;
static long output_size;

static Act act_of(const IrOp *op, const char *key) {
    static const char *const names[] = {"linear", "relu", "relu6", "leaky_relu", "sigmoid", "tanh", "softmax"};
    for (int i = 0; i < 7; i++)
        if (ir_is(op, key, names[i]))
            return (Act)i;
    fprintf(stderr, "naive: unknown activation in %s", op->text);
    exit(1);
}

static float activate(Act act, float alpha, float x) {
    switch (act) {
    case ACT_RELU: return x > 0 ? x : 0;
    case ACT_RELU6: return x < 0 ? 0 : x > 6 ? 6 : x;
    case ACT_LEAKY: return x > 0 ? x : alpha * x;
    case ACT_SIGMOID: return 1 / (1 + expf(-x));
    case ACT_TANH: return tanhf(x);
    default: return x;
    }
}

/* Softmax over `n` values `stride` apart (channels of one pixel, or a vector). */
static void softmax(float *x, long n, long stride) {
    float max = x[0], sum = 0;
    for (long i = 1; i < n; i++)
        max = x[i * stride] > max ? x[i * stride] : max;
    for (long i = 0; i < n; i++)
        sum += x[i * stride] = expf(x[i * stride] - max);
    for (long i = 0; i < n; i++)
        x[i * stride] /= sum;
}

static void activate_all(Act act, float alpha, float *x, long c, long hw) {
    if (act == ACT_SOFTMAX) {
        for (long p = 0; p < hw; p++)
            softmax(x + p, c, hw);
        return;
    }
    for (long i = 0; i < c * hw; i++)
        x[i] = activate(act, alpha, x[i]);
}

static void conv(const Step *s, const float *in, float *out) {
    const IrOp *op = s->op;
    long ic = ir_int(op, "ic"), ih = ir_int(op, "ih"), iw = ir_int(op, "iw");
    long oc = ir_int(op, "oc"), oh = ir_int(op, "oh"), ow = ir_int(op, "ow");
    long kh = ir_int(op, "kh"), kw = ir_int(op, "kw"), sh = ir_int(op, "sh"), sw = ir_int(op, "sw");
    long dh = ir_int(op, "dh"), dw = ir_int(op, "dw"), pt = ir_int(op, "pt"), pl = ir_int(op, "pl");
    const float *w = ir_tensor(&net, op, "w"), *b = ir_tensor(&net, op, "b");
    int bias_kind = ir_is(op, "bias", "none") ? 0 : ir_is(op, "bias", "channel") ? 1 : 2;
    for (long f = 0; f < oc; f++)
        for (long y = 0; y < oh; y++)
            for (long x = 0; x < ow; x++) {
                float acc = bias_kind == 0 ? 0 : bias_kind == 1 ? b[f] : b[(f * oh + y) * ow + x];
                for (long c = 0; c < ic; c++)
                    for (long ky = 0; ky < kh; ky++)
                        for (long kx = 0; kx < kw; kx++) {
                            long iy = y * sh - pt + ky * dh, ix = x * sw - pl + kx * dw;
                            if (iy >= 0 && iy < ih && ix >= 0 && ix < iw)
                                acc += in[(c * ih + iy) * iw + ix] * w[((f * ic + c) * kh + ky) * kw + kx];
                        }
                out[(f * oh + y) * ow + x] = acc;
            }
    activate_all(s->act, s->alpha, out, oc, oh * ow);
}

static void pool(const Step *s, const float *in, float *out) {
    const IrOp *op = s->op;
    long c = ir_int(op, "c"), ih = ir_int(op, "ih"), iw = ir_int(op, "iw");
    long oh = ir_int(op, "oh"), ow = ir_int(op, "ow"), kh = ir_int(op, "kh"), kw = ir_int(op, "kw");
    long sh = ir_int(op, "sh"), sw = ir_int(op, "sw"), pt = ir_int(op, "pt"), pl = ir_int(op, "pl");
    int is_max = ir_is(op, "kind", "max"), count_pad = (int)ir_int(op, "count_pad");
    for (long ch = 0; ch < c; ch++)
        for (long y = 0; y < oh; y++)
            for (long x = 0; x < ow; x++) {
                float acc = is_max ? -INFINITY : 0;
                long cells = 0;
                for (long ky = 0; ky < kh; ky++)
                    for (long kx = 0; kx < kw; kx++) {
                        long iy = y * sh - pt + ky, ix = x * sw - pl + kx;
                        if (iy < 0 || iy >= ih || ix < 0 || ix >= iw)
                            continue;
                        float v = in[(ch * ih + iy) * iw + ix];
                        acc = is_max ? (v > acc ? v : acc) : acc + v;
                        cells++;
                    }
                out[(ch * oh + y) * ow + x] = is_max ? acc : acc / (float)(count_pad ? kh * kw : cells);
            }
}

static void global_pool(const Step *s, const float *in, float *out) {
    long c = ir_int(s->op, "c"), hw = ir_int(s->op, "h") * ir_int(s->op, "w");
    int is_max = ir_is(s->op, "kind", "max");
    for (long ch = 0; ch < c; ch++) {
        float acc = is_max ? -INFINITY : 0;
        for (long i = 0; i < hw; i++)
            acc = is_max ? (in[ch * hw + i] > acc ? in[ch * hw + i] : acc) : acc + in[ch * hw + i];
        out[ch] = is_max ? acc : acc / (float)hw;
    }
}

static void flatten(const Step *s, const float *in, float *out) {
    long c = ir_int(s->op, "c"), hw = ir_int(s->op, "h") * ir_int(s->op, "w");
    int hwc = ir_is(s->op, "order", "hwc");
    for (long ch = 0; ch < c; ch++)
        for (long p = 0; p < hw; p++)
            out[hwc ? p * c + ch : ch * hw + p] = in[ch * hw + p];
}

static void dense(const Step *s, const float *in, float *out) {
    long n_in = ir_int(s->op, "n_in"), n_out = ir_int(s->op, "n_out");
    const float *w = ir_tensor(&net, s->op, "w"), *b = ir_tensor(&net, s->op, "b");
    int has_bias = !ir_is(s->op, "bias", "none");
    for (long o = 0; o < n_out; o++) {
        float acc = has_bias ? b[o] : 0;
        for (long i = 0; i < n_in; i++)
            acc += w[o * n_in + i] * in[i];
        out[o] = acc;
    }
    activate_all(s->act, s->alpha, out, n_out, 1);
}

static void activation_layer(const Step *s, const float *in, float *out) {
    long c = ir_int(s->op, "c"), hw = ir_int(s->op, "h") * ir_int(s->op, "w");
    memcpy(out, in, (size_t)(c * hw) * sizeof *out);
    activate_all(s->act, s->alpha, out, c, hw);
}

static void affine(const Step *s, const float *in, float *out) {
    long c = ir_int(s->op, "c"), hw = ir_int(s->op, "h") * ir_int(s->op, "w");
    const float *scale = ir_tensor(&net, s->op, "scale"), *offset = ir_tensor(&net, s->op, "offset");
    for (long ch = 0; ch < c; ch++)
        for (long p = 0; p < hw; p++)
            out[ch * hw + p] = in[ch * hw + p] * scale[ch] + offset[ch];
}

/* The size in floats an op's output needs (its largest dimension product). */
static long output_floats(const IrOp *op) {
    if (ir_is(op, NULL, "conv"))
        return ir_int(op, "oc") * ir_int(op, "oh") * ir_int(op, "ow");
    if (ir_is(op, NULL, "pool"))
        return ir_int(op, "c") * ir_int(op, "oh") * ir_int(op, "ow");
    if (ir_is(op, NULL, "dense"))
        return ir_int(op, "n_out");
    return ir_int(op, "c") * ir_int(op, "h") * ir_int(op, "w");
}

static void run_network(void *ctx) {
    (void)ctx;
    const float *in = input;
    int which = 0;
    for (int i = 1; i < net.n_ops; i++) {
        const Step *s = &steps[i];
        float *out = buffers[which];
        if (ir_is(s->op, NULL, "conv")) conv(s, in, out);
        else if (ir_is(s->op, NULL, "pool")) pool(s, in, out);
        else if (ir_is(s->op, NULL, "gpool")) global_pool(s, in, out);
        else if (ir_is(s->op, NULL, "flatten")) flatten(s, in, out);
        else if (ir_is(s->op, NULL, "dense")) dense(s, in, out);
        else if (ir_is(s->op, NULL, "act")) activation_layer(s, in, out);
        else affine(s, in, out);
        in = out;
        which ^= 1;
    }
    output = (float *)in;
}

static void build_steps(void) {
    long largest = ir_int(&net.ops[0], "c") * ir_int(&net.ops[0], "h") * ir_int(&net.ops[0], "w");
    for (int i = 1; i < net.n_ops; i++) {
        const IrOp *op = &net.ops[i];
        int has_act = ir_is(op, NULL, "conv") || ir_is(op, NULL, "dense");
        steps[i].op = op;
        steps[i].act = has_act ? act_of(op, "act") : ir_is(op, NULL, "act") ? act_of(op, "kind") : ACT_LINEAR;
        steps[i].alpha = has_act || ir_is(op, NULL, "act") ? ir_float(op, "alpha") : 0;
        long n = output_floats(op);
        largest = n > largest ? n : largest;
        output_size = n;
    }
    buffers[0] = malloc((size_t)largest * sizeof(float));
    buffers[1] = malloc((size_t)largest * sizeof(float));
}

/* The output in the order of cnnc's output buffer: an image ends HWC (the
 * network ran CHW), a vector as is.  Outside the timed calls. */
static void write_output(const char *path, const IrOp *last) {
    long c = 0, hw = 0;
    if (ir_is(last, NULL, "conv"))
        c = ir_int(last, "oc"), hw = ir_int(last, "oh") * ir_int(last, "ow");
    else if (ir_is(last, NULL, "pool"))
        c = ir_int(last, "c"), hw = ir_int(last, "oh") * ir_int(last, "ow");
    else if (ir_is(last, NULL, "act") || ir_is(last, NULL, "affine"))
        c = ir_int(last, "c"), hw = ir_int(last, "h") * ir_int(last, "w");
    if (hw <= 1) {
        bench_write_floats(path, output, (size_t)output_size);
        return;
    }
    float *hwc = malloc((size_t)output_size * sizeof(float));
    for (long ch = 0; ch < c; ch++)
        for (long p = 0; p < hw; p++)
            hwc[p * c + ch] = output[ch * hw + p];
    bench_write_floats(path, hwc, (size_t)output_size);
    free(hwc);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s MODEL_DIR INPUT_NCHW.bin OUTPUT.bin\n", argv[0]);
        return 2;
    }
    ir_load(&net, argv[1]);
    build_steps();
    const IrOp *in = &net.ops[0];
    input = bench_read_floats(argv[2], (size_t)(ir_int(in, "c") * ir_int(in, "h") * ir_int(in, "w")));
    bench_measure(run_network, NULL);
    write_output(argv[3], &net.ops[net.n_ops - 1]);
    return 0;
}
