/*
 * load.c - model load time through the public API: s2s_model_load followed
 * by s2s_model_free, repeated.
 *
 *   load MODEL_DIR [REPEATS]
 *
 * Prints one JSON object: {"first_ms": T, "min_ms": T, "median_ms": T,
 * "cpu_median_ms": T, "repeats": N, "parameters": P}. "first" is the first
 * load in this process (the weights file may or may not be in the page cache
 * already); min and median (wall clock) and cpu_median (this process's CPU
 * time, page faults included: steadier when other processes compete for the
 * CPU) cover the following loads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "s2s.h"

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: load MODEL_DIR [REPEATS]\n");
        return 2;
    }
    int n = argc > 2 ? atoi(argv[2]) : 20;
    if (n < 1) n = 1;
    double *t = malloc(sizeof(double) * (size_t)(n + 1)), *c = malloc(sizeof(double) * (size_t)(n + 1));
    size_t params = 0;
    for (int i = 0; i <= n; i++) {
        s2s_error err = {0};
        double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        s2s_model *m = s2s_model_load(argv[1], &err);
        if (!m) {
            fprintf(stderr, "load: %s: %s\n", argv[1], err.message);
            return 1;
        }
        if (i == 0) {
            s2s_model_info info;
            s2s_model_get_info(m, &info);
            params = info.n_parameters;
        }
        s2s_model_free(m);
        t[i] = (clock_s(CLOCK_MONOTONIC) - t0) * 1e3;
        c[i] = (clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0) * 1e3;
    }
    double first = t[0];
    qsort(t + 1, (size_t)n, sizeof(double), cmp);
    qsort(c + 1, (size_t)n, sizeof(double), cmp);
    printf("{\"first_ms\": %.3f, \"min_ms\": %.3f, \"median_ms\": %.3f, \"cpu_median_ms\": %.3f, "
           "\"repeats\": %d, \"parameters\": %zu}\n",
           first, t[1], t[1 + n / 2], c[1 + n / 2], n, params);
    free(t);
    free(c);
    return 0;
}
