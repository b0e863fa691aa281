/* timing.h — the one measuring loop every in-process C/C++ runner shares.
 *
 * Warm up (at least 5 calls and 0.2 s), then time calls one by one with
 * CLOCK_MONOTONIC until the budget is spent (at least 15 and at most 20000
 * calls) and report the median, which shrugs off the odd preemption on a
 * shared machine better than the mean.  Each call's process CPU time is taken
 * too: on a loaded machine a call of milliseconds is preempted almost every
 * time, and the CPU-time median shows what the call itself cost.  The result
 * line is parsed by bench.py:
 *   median_us=… min_us=… iters=… cpu_median_us=…
 */
#ifndef BENCH_TIMING_H
#define BENCH_TIMING_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef void (*bench_fn)(void *ctx);

static double bench_clock_us(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return t.tv_sec * 1e6 + t.tv_nsec * 1e-3;
}

static double bench_now_us(void) { return bench_clock_us(CLOCK_MONOTONIC); }

static int bench_compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Seconds of timed calls: $BENCH_SECONDS, default 1. */
static double bench_budget_us(void) {
    const char *s = getenv("BENCH_SECONDS");
    return (s ? atof(s) : 1.0) * 1e6;
}

enum { BENCH_MIN_ITERS = 15, BENCH_MAX_ITERS = 20000 };

/* Times up to `max` calls (at least 15) within budget_us; returns the count.
 * The CPU clock is a system call, read outside the wall-clock interval. */
static int bench_samples(bench_fn fn, void *ctx, double budget_us, int max, double *wall, double *cpu) {
    int n = 0;
    double start = bench_now_us();
    while (n < BENCH_MIN_ITERS || (n < max && bench_now_us() - start < budget_us)) {
        double c0 = bench_clock_us(CLOCK_PROCESS_CPUTIME_ID), t0 = bench_now_us();
        fn(ctx);
        wall[n] = bench_now_us() - t0;
        cpu[n++] = bench_clock_us(CLOCK_PROCESS_CPUTIME_ID) - c0;
    }
    qsort(wall, (size_t)n, sizeof wall[0], bench_compare);
    qsort(cpu, (size_t)n, sizeof cpu[0], bench_compare);
    return n;
}

static void bench_nothing(void *ctx) { (void)ctx; }

static void bench_measure(bench_fn fn, void *ctx) {
    static double wall[BENCH_MAX_ITERS], cpu[BENCH_MAX_ITERS];
    // The CPU clock's own cost, measured on an empty call, is taken off.
    int n = bench_samples(bench_nothing, NULL, 5e3, 1001, wall, cpu);
    double cpu_overhead = cpu[n / 2];
    double start = bench_now_us();
    for (int i = 0; i < 5 || bench_now_us() - start < 2e5; i++)
        fn(ctx);
    n = bench_samples(fn, ctx, bench_budget_us(), BENCH_MAX_ITERS, wall, cpu);
    printf("median_us=%.3f min_us=%.3f iters=%d cpu_median_us=%.3f\n", wall[n / 2], wall[0], n,
           cpu[n / 2] - cpu_overhead);
}

/* Reads exactly n floats from path; exits with a message otherwise. */
static float *bench_read_floats(const char *path, size_t n) {
    FILE *f = fopen(path, "rb");
    float *v = (float *)malloc(n * sizeof *v + 64);
    if (!f || !v || fread(v, sizeof *v, n, f) != n) {
        fprintf(stderr, "cannot read %zu floats from %s\n", n, path);
        exit(1);
    }
    fclose(f);
    return v;
}

static void bench_write_floats(const char *path, const float *v, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(v, sizeof *v, n, f) != n) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

#endif
