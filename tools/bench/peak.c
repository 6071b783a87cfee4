/*
 * peak.c - measured single-core floating-point peak: independent chains of
 * fused multiply-adds on registers (no memory traffic), float32; and the
 * rate one core reads a buffer of the size of a model's decoder weights
 * again and again (what one sentence decoded alone must do every step).
 *
 *   peak [SECONDS]      prints one JSON object:
 *   {"avx2_fma_gflops": G, "avx512_fma_gflops": G or null,
 *    "read_gbs": B, "read_mb": M, "seconds": S}
 *
 * 12 accumulators per loop hide the FMA latency (4 cycles) on two FMA ports.
 * Time is this thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so the figure
 * does not drop when other processes take the core part of the time; each
 * figure is the best of 20 timed runs.
 */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

#define CHAINS 12
/* 12 named accumulators (registers, not an array the compiler might keep
 * in memory); one loop iteration is 12 independent FMAs. */
#define FMA12(FMA)                                                            \
    a0 = FMA(a0, m, c); a1 = FMA(a1, m, c); a2 = FMA(a2, m, c);               \
    a3 = FMA(a3, m, c); a4 = FMA(a4, m, c); a5 = FMA(a5, m, c);               \
    a6 = FMA(a6, m, c); a7 = FMA(a7, m, c); a8 = FMA(a8, m, c);               \
    a9 = FMA(a9, m, c); a10 = FMA(a10, m, c); a11 = FMA(a11, m, c)

/* The body of a peak kernel for vectors of type VEC: 12 independent
 * accumulators, `iters` rounds of FMA12, then their sum `s` in a fixed tree. */
#define PEAK_BODY(VEC, SET1, FMA, ADD)                                                    \
    const VEC m = SET1(0.999999f), c = SET1(1e-7f);                                       \
    VEC a0 = SET1(1), a1 = SET1(2), a2 = SET1(3), a3 = SET1(4), a4 = SET1(5), a5 = SET1(6), \
        a6 = SET1(7), a7 = SET1(8), a8 = SET1(9), a9 = SET1(10), a10 = SET1(11), a11 = SET1(12); \
    for (long it = 0; it < iters; it++) { FMA12(FMA); }                                   \
    VEC s = ADD(ADD(ADD(a0, a1), ADD(a2, a3)), ADD(ADD(a4, a5), ADD(a6, a7)));             \
    s = ADD(s, ADD(ADD(a8, a9), ADD(a10, a11)))

__attribute__((target("avx2,fma"), noinline)) static float run_avx2(long iters)
{
    PEAK_BODY(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps);
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0];
}

__attribute__((target("avx512f"), noinline)) static float run_avx512(long iters)
{
    PEAK_BODY(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps);
    return _mm512_reduce_add_ps(s);
}

/* Best GFLOP/s over 20 runs of about `seconds` / 20 each. */
static double measure(float (*fn)(long), int lanes, double seconds, volatile float *sink)
{
    long iters = 1000000;
    double t0 = now();
    *sink += fn(iters);
    double dt = now() - t0;
    if (dt > 0) iters = (long)(iters * (seconds / 20) / dt) + 1;
    double best = 0;
    for (int r = 0; r < 20; r++) {
        t0 = now();
        *sink += fn(iters);
        dt = now() - t0;
        double g = (double)iters * CHAINS * lanes * 2 / dt / 1e9;
        if (g > best) best = g;
    }
    return best;
}

/* Sum of a buffer (n floats) read 32 floats at a time with four running
 * sums: the loads, not the adds, set the pace. */
__attribute__((target("avx2"), noinline)) static float read_all(const float *x, size_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (size_t i = 0; i + 32 <= n; i += 32) {
        s0 = _mm256_add_ps(s0, _mm256_load_ps(x + i));
        s1 = _mm256_add_ps(s1, _mm256_load_ps(x + i + 8));
        s2 = _mm256_add_ps(s2, _mm256_load_ps(x + i + 16));
        s3 = _mm256_add_ps(s3, _mm256_load_ps(x + i + 24));
    }
    float out[8];
    _mm256_storeu_ps(out, _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    return out[0];
}

/* Best GB/s of 20 passes over a buffer of `mb` megabytes, after one pass
 * that brings it into whatever cache holds it. */
static double read_rate(double mb, volatile float *sink)
{
    size_t n = (size_t)(mb * 1e6 / sizeof(float)) / 32 * 32;
    float *x = aligned_alloc(64, n * sizeof(float));
    if (!x) return 0;
    for (size_t i = 0; i < n; i++) x[i] = (float)(i % 7);
    *sink += read_all(x, n);
    double best = 0;
    for (int r = 0; r < 20; r++) {
        double t0 = now();
        *sink += read_all(x, n);
        double dt = now() - t0;
        if (dt > 0 && n * sizeof(float) / dt / 1e9 > best) best = n * sizeof(float) / dt / 1e9;
    }
    free(x);
    return best;
}

#define READ_MB 8.0 /* about the default model's decoder weights at F32 */

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 1.0;
    volatile float sink = 0;
    double g2 = measure(run_avx2, 8, seconds, &sink);
    printf("{\"avx2_fma_gflops\": %.2f, ", g2);
    if (__builtin_cpu_supports("avx512f"))
        printf("\"avx512_fma_gflops\": %.2f, ", measure(run_avx512, 16, seconds, &sink));
    else
        printf("\"avx512_fma_gflops\": null, ");
    printf("\"read_gbs\": %.1f, \"read_mb\": %.0f, ", read_rate(READ_MB, &sink), READ_MB);
    printf("\"seconds\": %.2f, \"sink\": %g}\n", seconds, (double)sink);
    return 0;
}
