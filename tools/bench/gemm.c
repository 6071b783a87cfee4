/*
 * gemm.c - speed of the engine's own matmul_wp (engine/kernels.h), the
 * product every decoder step is made of: Y (rows, out) = X (rows, in) W^T + b,
 * W packed once (wpack_init, as the model loader does).
 *
 *   gemm [SECONDS] [OUT IN [ROWS...]]
 *
 * Defaults: OUT 8192, IN 256, ROWS 1 5 16 32 64. W (OUT x IN) is one
 * buffer reused by every call, as a model's weight matrix is. For each row
 * count it prints one JSON object per line:
 *   {"rows": R, "out": O, "in": I, "gflops": G, "us_per_call": T}
 * Then one more line for the engine's log_softmax over one row of OUT
 * logits (what follows the output projection at every decoding step):
 *   {"kernel": "log_softmax", "n": OUT, "us_per_call": T, "ns_per_element": E}
 * G is the best over 20 timed runs; time is this thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID), so time slices given to other processes on a
 * shared machine do not count (their effect on the caches still does).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static float *rand_buf(size_t n, unsigned *seed)
{
    float *p = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    if (!p) { perror("gemm"); exit(1); }
    for (size_t i = 0; i < n; i++) p[i] = (float)rand_r(seed) / RAND_MAX - 0.5f;
    return p;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 0.5;
    int out = argc > 3 ? atoi(argv[2]) : 8192, in = argc > 3 ? atoi(argv[3]) : 256;
    int def_rows[] = {1, 5, 16, 32, 64};
    int n_rows = argc > 4 ? argc - 4 : 5;
    unsigned seed = 1;
    int max_rows = 0;
    for (int i = 0; i < n_rows; i++) {
        int r = argc > 4 ? atoi(argv[4 + i]) : def_rows[i];
        if (r > max_rows) max_rows = r;
    }
    float *W = rand_buf((size_t)out * in, &seed), *b = rand_buf((size_t)out, &seed);
    float *X = rand_buf((size_t)max_rows * in, &seed), *Y = rand_buf((size_t)max_rows * out, &seed);
    wpack P;
    if (!wpack_init(&P, W, out, in)) { perror("gemm"); exit(1); }
    double sink = 0;
    for (int i = 0; i < n_rows; i++) {
        int rows = argc > 4 ? atoi(argv[4 + i]) : def_rows[i];
        double flop = 2.0 * rows * out * in;
        /* calls per timed run: about seconds / 20 */
        matmul_wp(X, (size_t)in, &P, b, Y, (size_t)out, rows);
        double t0 = now();
        matmul_wp(X, (size_t)in, &P, b, Y, (size_t)out, rows);
        double one = now() - t0;
        long calls = (long)(seconds / 20 / (one > 1e-7 ? one : 1e-7)) + 1;
        double best = 1e30;
        for (int run = 0; run < 20; run++) {
            t0 = now();
            for (long c = 0; c < calls; c++) matmul_wp(X, (size_t)in, &P, b, Y, (size_t)out, rows);
            double dt = (now() - t0) / calls;
            if (dt < best) best = dt;
            sink += Y[0];
        }
        printf("{\"rows\": %d, \"out\": %d, \"in\": %d, \"gflops\": %.2f, \"us_per_call\": %.1f}\n",
               rows, out, in, flop / best / 1e9, best * 1e6);
    }
    /* log_softmax over one row of `out` logits; the row is refreshed from a
     * copy each call (the copy is timed separately and subtracted) */
    {
        float *src = rand_buf((size_t)out, &seed), *row = rand_buf((size_t)out, &seed);
        for (int i = 0; i < out; i++) src[i] *= 20.0f;
        double best = 1e30, best_copy = 1e30;
        long calls = 200;
        for (int run = 0; run < 20; run++) {
            double t0 = now();
            for (long c = 0; c < calls; c++) {
                memcpy(row, src, sizeof(float) * (size_t)out);
                log_softmax(row, out);
            }
            double t1 = now();
            for (long c = 0; c < calls; c++) {
                memcpy(row, src, sizeof(float) * (size_t)out);
                __asm__ volatile("" ::"r"(row) : "memory");
            }
            double t2 = now();
            if ((t1 - t0) / calls < best) best = (t1 - t0) / calls;
            if ((t2 - t1) / calls < best_copy) best_copy = (t2 - t1) / calls;
            sink += row[0];
        }
        double t = best - best_copy > 0 ? best - best_copy : best;
        printf("{\"kernel\": \"log_softmax\", \"n\": %d, \"us_per_call\": %.2f, \"ns_per_element\": %.3f}\n",
               out, t * 1e6, t * 1e9 / out);
        free(src);
        free(row);
    }
    fprintf(stderr, "%s", sink == 12345.678 ? "." : "");
    wpack_free(&P);
    free(W); free(b); free(X); free(Y);
    return 0;
}
