/* peak.c — the core's measured FMA peak, the 100% of the benchmark table.
 *
 * Independent accumulator chains of vector FMAs, more than latency × issue
 * width on current x86 cores (16 zmm chains; 12 ymm chains, which with the two
 * operands fit AVX2's 16 registers without spills), so throughput, not
 * latency, is measured; flops = 2 × lanes × FMAs.  Run for AVX-512 and AVX2 where the CPU
 * has them.  Time is the thread's CPU time, so being preempted on a shared
 * machine does not count, and the best of several repeats is reported, since
 * noise only ever slows a run down.
 *
 * Output lines: `isa=avx512 gflops=…`, parsed by bench.py.
 */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

enum { ITERS = 10000000, REPEATS = 9 };

static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

#define FMA_LOOP(CHAINS, VEC, SET1, FMA, ADD, REDUCE)                          \
    VEC acc[CHAINS], a = SET1(0.999999f), b = SET1(1e-6f);                    \
    for (int c = 0; c < CHAINS; c++)                                           \
        acc[c] = SET1((float)c);                                               \
    for (long i = 0; i < ITERS; i++) {                                         \
        _Pragma("GCC unroll 16")                                              \
        for (int c = 0; c < CHAINS; c++)                                       \
            acc[c] = FMA(acc[c], a, b);                                        \
    }                                                                          \
    for (int c = 1; c < CHAINS; c++)                                           \
        acc[0] = ADD(acc[0], acc[c]);                                          \
    return REDUCE(acc[0])

__attribute__((target("avx512f"))) static float fma_avx512(void) {
    FMA_LOOP(16, __m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_reduce_add_ps);
}

__attribute__((target("avx2,fma"))) static float first_lane_avx2(__m256 v) { return _mm256_cvtss_f32(v); }

__attribute__((target("avx2,fma"))) static float fma_avx2(void) {
    FMA_LOOP(12, __m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, first_lane_avx2);
}

/* Best GFLOP/s of REPEATS runs of kernel (lanes floats per FMA). */
static double best_gflops(float (*kernel)(void), int lanes, int chains) {
    double best = 0;
    volatile float sink;
    for (int r = 0; r < REPEATS; r++) {
        double t0 = cpu_seconds();
        sink = kernel();
        double gflops = 2.0 * lanes * chains * (double)ITERS / (cpu_seconds() - t0) / 1e9;
        best = gflops > best ? gflops : best;
    }
    (void)sink;
    return best;
}

int main(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        printf("isa=avx512 gflops=%.2f\n", best_gflops(fma_avx512, 16, 16));
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        printf("isa=avx2 gflops=%.2f\n", best_gflops(fma_avx2, 8, 12));
    return 0;
}
