/* kernel_bench.c — microbenchmark of the SIMD conv and dense kernels.
 *
 * Writes one C program for a target (argv[1]: sse4|avx2|avx512|neon|auto):
 * the kernels cnnc's SIMD families emit for the conv and dense layers of
 * the example models (MNIST, CIFAR, the Go policy net; padded inputs as the
 * PAD op makes them), plus a main() that times each kernel single-threaded
 * (median of 31 runs of enough calls to last ~5 ms) and a register-resident
 * fma loop that gives the core's peak for the same vector width.  run.sh
 * compiles it with the target's flags and runs it pinned to one core.
 * KERNELS=TEXT in the environment keeps only the layers whose name has TEXT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cnnc.h"

typedef struct Layer2 {
    const char *name;
    IrOpKind kind;
    int ih, iw, ic, f, k;
    LayerKind pool;   /* LAYER_MAXPOOL/AVGPOOL: a 2x2 pool fused in; else 0 */
    ActKind act;
    int wino_m;       /* Winograd F(m x m, k x k) (whatever its cost model says); 0: direct */
} BenchLayer;

/* The direct kernels, then the Winograd kernels of the layers they are
 * used for ("wino2"/"wino4": F(2x2,5x5)/F(4x4,5x5)); GFLOP/s count the
 * direct conv's multiply-adds (a fused pool is extra work), so Winograd's
 * "GFLOP/s" are effective ones. */
static const BenchLayer layers[] = {
    {"mnist.conv1 28x28x1 -> 26x26x32", IR_CONV, 28, 28, 1, 32, 3, 0, ACT_RELU},
    {"mnist.conv1+maxpool -> 13x13x32", IR_CONV, 28, 28, 1, 32, 3, LAYER_MAXPOOL, ACT_RELU},
    {"mnist.conv2 13x13x32 -> 11x11x64", IR_CONV, 13, 13, 32, 64, 3, 0, ACT_RELU},
    {"mnist.conv3 5x5x64 -> 3x3x64", IR_CONV, 5, 5, 64, 64, 3, 0, ACT_RELU},
    {"cifar.conv1 32x32x3 -> 30x30x32", IR_CONV, 32, 32, 3, 32, 3, 0, ACT_RELU},
    {"cifar.conv1+maxpool -> 15x15x32", IR_CONV, 32, 32, 3, 32, 3, LAYER_MAXPOOL, ACT_RELU},
    {"flowers.conv1+maxpool 182x182x3 -> 90x90x16", IR_CONV, 182, 182, 3, 16, 3, LAYER_MAXPOOL, ACT_RELU},
    {"cifar.conv2 15x15x32 -> 13x13x64", IR_CONV, 15, 15, 32, 64, 3, 0, ACT_RELU},
    {"cifar.conv3 6x6x64 -> 4x4x64", IR_CONV, 6, 6, 64, 64, 3, 0, ACT_RELU},
    {"lenet.c1+s2 32x32x1 -> 14x14x6 tanh", IR_CONV, 32, 32, 1, 6, 5, LAYER_AVGPOOL, ACT_TANH},
    {"lenet.c3+s4 14x14x6 -> 5x5x16 tanh", IR_CONV, 14, 14, 6, 16, 5, LAYER_AVGPOOL, ACT_TANH},
    {"wino2 lenet.c3+s4 14x14x6 -> 5x5x16 tanh", IR_CONV, 14, 14, 6, 16, 5, LAYER_AVGPOOL, ACT_TANH, 2},
    {"policy.conv1 23x23x48 -> 19x19x64 k5", IR_CONV, 23, 23, 48, 64, 5, 0, ACT_RELU},
    {"policy.conv2 21x21x64 -> 19x19x64", IR_CONV, 21, 21, 64, 64, 3, 0, ACT_RELU},
    {"wino2 policy.conv1 23x23x48 -> 19x19x64 k5", IR_CONV, 23, 23, 48, 64, 5, 0, ACT_RELU, 2},
    {"wino4 policy.conv1 23x23x48 -> 19x19x64 k5", IR_CONV, 23, 23, 48, 64, 5, 0, ACT_RELU, 4},
    {"mnist.fc1 1600 -> 64", IR_DENSE, 1, 1, 1600, 64, 1, 0, ACT_RELU},
    {"cifar.fc1 1024 -> 64", IR_DENSE, 1, 1, 1024, 64, 1, 0, ACT_RELU},
    {"lenet.f5 400 -> 120 tanh", IR_DENSE, 1, 1, 400, 120, 1, 0, ACT_TANH},
    {"wino mnist.conv2 13x13x32 -> 11x11x64", IR_CONV, 13, 13, 32, 64, 3, 0, ACT_RELU, 4},
    {"wino mnist.conv3 5x5x64 -> 3x3x64", IR_CONV, 5, 5, 64, 64, 3, 0, ACT_RELU, 4},
    {"wino cifar.conv2 15x15x32 -> 13x13x64", IR_CONV, 15, 15, 32, 64, 3, 0, ACT_RELU, 4},
    {"wino cifar.conv3 6x6x64 -> 4x4x64", IR_CONV, 6, 6, 64, 64, 3, 0, ACT_RELU, 4},
    {"wino policy.conv2 21x21x64 -> 19x19x64", IR_CONV, 21, 21, 64, 64, 3, 0, ACT_RELU, 4},
    {"flowers.conv2 92x92x16 -> 90x90x32", IR_CONV, 92, 92, 16, 32, 3, 0, ACT_RELU},
    {"wino flowers.conv2 92x92x16 -> 90x90x32", IR_CONV, 92, 92, 16, 32, 3, 0, ACT_RELU, 4},
    {"flowers.conv3 47x47x32 -> 45x45x64", IR_CONV, 47, 47, 32, 64, 3, 0, ACT_RELU},
    {"wino flowers.conv3 47x47x32 -> 45x45x64", IR_CONV, 47, 47, 32, 64, 3, 0, ACT_RELU, 4},
};
#define NLAYERS ((int)(sizeof layers / sizeof layers[0]))

static int out_side(int in, int k) { return in - k + 1; }

static float *ramp(long long n, float scale) {
    float *v = arena_alloc((size_t)n * sizeof *v);
    for (long long i = 0; i < n; i++)
        v[i] = scale * (float)((i * 7919) % 1000 - 500) / 500.0f;
    return v;
}

static IrOp make_op(const BenchLayer *l, const Target *t, int index) {
    IrOp op = {.kind = l->kind, .kh = l->k, .kw = l->k, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .act = l->act};
    bool dense = l->kind == IR_DENSE;
    op.in_shape = dense ? shape_vector(l->ic) : shape_image(l->ih, l->iw, l->ic);
    op.out_shape = dense ? shape_vector(l->f) : shape_image(out_side(l->ih, l->k), out_side(l->iw, l->k), l->f);
    long long wcount = (long long)l->k * l->k * l->ic * l->f;
    op.weight = (Tensor){.data = ramp(wcount, 0.05f), .count = wcount};
    op.bias = (Tensor){.data = ramp(l->f, 0.1f), .count = l->f};
    if (l->pool) {
        Layer *pool = arena_alloc(sizeof *pool);
        *pool = (Layer){.kind = l->pool, .kh = 2, .kw = 2, .sh = 2, .sw = 2};
        if (!conv_simd_fuses_pool(&op, pool, t))
            die("%s: the pool is not fused", l->name);
        op.fused[op.nfused++] = pool;
        op.out_shape = shape_image(op.out_shape.h / 2, op.out_shape.w / 2, l->f);
    }
    op.kernel = dense ? dense_simd_kernel(&op, t) : l->wino_m ? conv_winograd_variant_kernel(&op, t, l->wino_m)
                                                                : conv_simd_kernel(&op, t);
    if (!op.kernel)
        die("no kernel for %s", l->name);
    op.kernel->pack(&op);
    op.symbol_prefix = arena_printf("layer%d", index);
    return op;
}

/* A kernel reads a large array as NAME.f (a union, as emit_c.c declares it). */
static void write_array(const char *symbol, const float *v, long long n) {
    size_t len = strlen(symbol);
    bool is_union = len > 2 && !strcmp(symbol + len - 2, ".f");
    if (is_union)
        printf("static CNNC_BENCH_ALIGN const union { float f[%lld]; } %.*s = {{", n, (int)(len - 2), symbol);
    else
        printf("static CNNC_BENCH_ALIGN const float %s[%lld] = {", symbol, n);
    for (long long i = 0; i < n; i++)
        printf("%s%.9g", i == 0 ? "\n" : i % 8 ? ", " : ",\n", (double)v[i]);
    printf(is_union ? "}};\n" : "};\n");
}

static void write_layer(const BenchLayer *l, const Target *t, int index) {
    IrOp op = make_op(l, t, index);
    for (int i = 0; i < op.narrays; i++)
        write_array(ir_array_symbol(&op, i), op.arrays[i].data, op.arrays[i].count);
    if (op.scratch_floats)
        printf("static CNNC_BENCH_ALIGN float layer%d_scratch[%lld];\n", index, op.scratch_floats);
    printf("static void layer%d(const float *restrict in, float *restrict out) {\n", index);
    if (op.scratch_floats)
        printf("    float *restrict scratch = layer%d_scratch;\n", index);
    Emitter e = {.out = stdout, .indent = 1, .line_start = true};
    op.kernel->emit_body(&e, &op);
    printf("}\n\n");
}

int main(int argc, char **argv) {
    const Target *t = target_by_name(argc > 1 ? argv[1] : "auto");
    if (!t || t->lanes == 1)
        die("usage: kernel_bench sse4|avx2|avx512|neon|auto");
    const char *only = getenv("KERNELS");   /* only the layers whose name contains this */
    printf("#include \"cnnc_simd.h\"\n#include \"%s\"\n#include \"bench_main.h\"\n\n", t->header);
    int count = 0;
    for (int i = 0; i < NLAYERS; i++)
        if (!only || strstr(layers[i].name, only))
            write_layer(&layers[i], t, i);
    printf("static const BenchEntry entries[] = {\n");
    for (int i = 0; i < NLAYERS; i++) {
        const BenchLayer *l = &layers[i];
        if (only && !strstr(l->name, only))
            continue;
        count++;
        int o = l->kind == IR_DENSE ? 1 : out_side(l->ih, l->k);
        printf("    {\"%s\", layer%d, %lld, %lld},\n", l->name, i, (long long)l->ih * l->iw * l->ic,
               (long long)o * o * l->f * l->k * l->k * l->ic);
    }
    printf("};\n\nint main(void) { return bench_run(entries, %d); }\n", count);
    return 0;
}
