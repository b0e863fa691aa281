/* bench_main.h — timing harness included by the program kernel_bench.c
 * writes: median-of-31 timing per kernel (thread CPU time, since the machine
 * is shared), and the core's fma peak for the vector width in use. */
#ifndef CNNC_BENCH_MAIN_H
#define CNNC_BENCH_MAIN_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CNNC_BENCH_ALIGN _Alignas(64)

typedef struct BenchEntry {
    const char *name;
    void (*fn)(const float *, float *);
    long long in_floats, macs;
} BenchEntry;

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);   /* CPU time: the machine is shared */
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median over 31 runs of the time of one call of fn. */
static double median_call_seconds(void (*volatile fn)(const float *, float *), const float *in, float *out) {
    int calls = 1;
    for (double t0 = now_seconds(); now_seconds() - t0 < 0.005; calls *= 2)
        for (int i = 0; i < calls; i++)
            fn(in, out);
    double runs[31];
    for (int r = 0; r < 31; r++) {
        double t0 = now_seconds();
        for (int i = 0; i < calls; i++)
            fn(in, out);
        runs[r] = (now_seconds() - t0) / calls;
    }
    qsort(runs, 31, sizeof runs[0], compare_doubles);
    volatile float sink = out[0];   /* the output is used: no call is dead */
    (void)sink;
    return runs[15];
}

/* 12 independent fma chains held in named variables (an array would live
 * in memory; 12 + 2 operands fit the 16 registers of SSE/AVX2): the fma
 * throughput of the core for this vector width. */
static double peak_gflops(void) {
    volatile float seed = 1e-7f;
    cnnc_v a = cnnc_vbcast(0.999999f), b = cnnc_vbcast(seed);
#define CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define DECLARE(i) cnnc_v acc##i = cnnc_vbcast((float)i);
#define STEP(i) acc##i = cnnc_vfma(acc##i, a, b);
#define SUM(i) +cnnc_vhsum(acc##i)
    CHAINS(DECLARE)
    long long iters = 10000000;
    double t0 = now_seconds();
    for (long long n = 0; n < iters; n++) {
        CHAINS(STEP)
    }
    double secs = now_seconds() - t0;
    volatile float sink = 0 CHAINS(SUM);
    (void)sink;
    return 2.0 * 12 * CNNC_LANES * (double)iters / secs * 1e-9;
}

static int bench_run(const BenchEntry *entries, int n) {
    static CNNC_BENCH_ALIGN float in[1 << 19], out[1 << 19];
    for (int i = 0; i < (1 << 19); i++)
        in[i] = (float)(i % 17) * 0.01f;
    double peak = 0;   /* the best of 5: interference only ever slows it down */
    for (int r = 0; r < 5; r++) {
        double p = peak_gflops();
        peak = p > peak ? p : peak;
    }
    printf("%s: fma peak %.1f GFLOP/s\n", CNNC_ISA, peak);
    for (int i = 0; i < n; i++) {
        double s = median_call_seconds(entries[i].fn, in, out);
        double gf = 2.0 * (double)entries[i].macs / s * 1e-9;
        printf("  %-40s %9.2f us %7.1f GFLOP/s %5.1f%% of peak\n", entries[i].name, s * 1e6, gf, 100 * gf / peak);
    }
    return 0;
}

#endif
