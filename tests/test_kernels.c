/* Unit tests of engine/kernels.c: products against a double-precision
 * reference, bit-identical rows whatever the batch, softmax invariants. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

/* Deterministic pseudo-random floats in [-1, 1). */
static void fill(float *x, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
}

/* Y = X W^T + b through a packed copy of W (matmul_wp). */
static void product(const float *X, size_t ldx, const float *W, const float *b, float *Y, size_t ldy, int rows,
                    int out, int in)
{
    wpack p;
    cr_assert(wpack_init(&p, W, out, in));
    matmul_wp(X, ldx, &p, b, Y, ldy, rows);
    wpack_free(&p);
}

/* The documented order, written out independently: from 0, x[k] * w[k]
 * for k = 0, 1, ... with one rounding each (fmaf), then the bias. */
static float ordered_dot(const float *x, const float *w, int in, float bias)
{
    float acc = 0.0f;
    for (int k = 0; k < in; k++) acc = fmaf(x[k], w[k], acc);
    return acc + bias;
}

static void check_matmul(int rows, int out, int in)
{
    float *X = malloc(sizeof(float) * rows * in), *W = malloc(sizeof(float) * out * in);
    float *b = malloc(sizeof(float) * out), *Y = malloc(sizeof(float) * rows * out);
    fill(X, (size_t)rows * in, 1); fill(W, (size_t)out * in, 2); fill(b, out, 3);
    product(X, in, W, b, Y, out, rows, out, in);
    for (int r = 0; r < rows; r++)
        for (int o = 0; o < out; o++) {
            cr_assert(Y[r * out + o] == ordered_dot(X + r * in, W + o * in, in, b[o]),
                      "rows %d out %d in %d: Y[%d][%d] is not the sum in the documented order", rows, out, in, r, o);
            double ref = b[o], mag = fabs(b[o]);
            for (int k = 0; k < in; k++) {
                ref += (double)X[r * in + k] * W[o * in + k];
                mag += fabs((double)X[r * in + k] * W[o * in + k]);
            }
            cr_assert(fabs(Y[r * out + o] - ref) <= 1e-6 * mag + 1e-7,
                      "rows %d out %d in %d: Y[%d][%d] = %.9g, reference %.9g", rows, out, in, r, o,
                      (double)Y[r * out + o], ref);
        }
    free(X); free(W); free(b); free(Y);
}

Test(kernels, matmul_matches_double_reference)
{
    int shapes[][3] = {{1, 1, 1}, {1, 7, 5}, {2, 4, 8}, {3, 5, 9}, {5, 13, 17}, {16, 64, 128}, {7, 33, 250}, {1, 1000, 3},
                       {13, 130, 20}, {6, 65, 7}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) check_matmul(shapes[i][0], shapes[i][1], shapes[i][2]);
}

/* Each row of a many-row product equals the same row computed alone, bit
 * for bit: blocks of 6 rows with every remainder, panels of 64 columns with
 * a partial last one, k of every length. */
Test(kernels, rows_are_bit_identical_alone_or_batched)
{
    enum { MAXR = 35, MAXO = 140, MAXI = 256 };
    static float X[MAXR * MAXI], W[MAXO * MAXI], b[MAXO], Yb[MAXR * MAXO], y1[MAXO];
    int shapes[][3] = {{9, 37, 83}, {16, 13, 256}, {6, 12, 8}, {2, 7, 5}, {11, 36, 40}, {35, 13, 256},
                       {15, 12, 64}, {34, 6, 256}, {7, 140, 33}, {13, 64, 16}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int ROWS = shapes[s][0], OUT = shapes[s][1], IN = shapes[s][2];
        fill(X, (size_t)ROWS * IN, 4); fill(W, (size_t)OUT * IN, 5); fill(b, OUT, 6);
        wpack p;
        cr_assert(wpack_init(&p, W, OUT, IN));
        matmul_wp(X, IN, &p, b, Yb, OUT, ROWS);
        for (int r = 0; r < ROWS; r++) {
            matmul_wp(X + r * IN, IN, &p, b, y1, OUT, 1);
            cr_assert(memcmp(y1, Yb + r * OUT, sizeof(float) * OUT) == 0,
                      "shape %dx%dx%d: row %d differs between batch and single", ROWS, OUT, IN, r);
        }
        wpack_free(&p);
    }
}

Test(kernels, strided_rows)
{
    /* X rows 10 floats apart, Y rows 6 apart: padding must be left alone */
    float X[3 * 10], W[4 * 7], Y[3 * 6];
    fill(X, 30, 7); fill(W, 28, 8);
    for (int i = 0; i < 18; i++) Y[i] = 99.0f;
    product(X, 10, W, NULL, Y, 6, 3, 4, 7);
    for (int r = 0; r < 3; r++) {
        cr_assert_eq(Y[r * 6 + 4], 99.0f);
        cr_assert_eq(Y[r * 6 + 5], 99.0f);
        for (int o = 0; o < 4; o++) {
            double ref = 0;
            for (int k = 0; k < 7; k++) ref += (double)X[r * 10 + k] * W[o * 7 + k];
            cr_assert_float_eq(Y[r * 6 + o], ref, 1e-5);
        }
    }
}

Test(kernels, softmax_and_log_softmax)
{
    float x[5] = {1.0f, 2.0f, 3.0f, -50.0f, 1000.0f}, y[5];
    memcpy(y, x, sizeof x);
    softmax(x, 5);
    log_softmax(y, 5);
    double s = 0;
    for (int i = 0; i < 5; i++) {
        s += x[i];
        cr_assert(y[i] <= 0.0f);
        cr_assert_float_eq(expf(y[i]), x[i], 1e-6);
    }
    cr_assert_float_eq(s, 1.0, 1e-6);
    /* hand-computed: log_softmax of (0, ln 3) is (ln 1/4, ln 3/4) */
    float z[2] = {0.0f, logf(3.0f)};
    log_softmax(z, 2);
    cr_assert_float_eq(z[0], log(0.25), 1e-6);
    cr_assert_float_eq(z[1], log(0.75), 1e-6);
}

Test(kernels, nonlinearities)
{
    float s[3] = {0.0f, 2.0f, -2.0f}, t[3] = {0.0f, 0.5f, -20.0f};
    sigmoid_inplace(s, 3);
    tanh_inplace(t, 3);
    cr_assert_float_eq(s[0], 0.5, 1e-7);
    cr_assert_float_eq(s[1], 1.0 / (1.0 + exp(-2.0)), 1e-7);
    cr_assert_float_eq(s[1] + s[2], 1.0, 1e-6);
    cr_assert_float_eq(t[1], tanh(0.5), 1e-7);
    cr_assert_float_eq(t[2], -1.0, 1e-7);
}

Test(kernels, exp_sigmoid_tanh_accuracy_over_range)
{
    enum { N = 4001 };
    static float in[N], e[N], s[N], t[N];
    for (int i = 0; i < N; i++) in[i] = e[i] = s[i] = t[i] = -40.0f + 80.0f * (float)i / (N - 1);
    exp_inplace(e, N);
    sigmoid_inplace(s, N);
    tanh_inplace(t, N);
    for (int i = 0; i < N; i++) {
        double x = in[i];
        cr_assert(fabs(e[i] - exp(x)) <= 3e-7 * exp(x), "exp(%g) = %.9g, libm %.9g", x, (double)e[i], exp(x));
        cr_assert(fabs(s[i] - 1.0 / (1.0 + exp(-x))) <= 2e-7, "sigmoid(%g) = %.9g", x, (double)s[i]);
        cr_assert(fabs(t[i] - tanh(x)) <= 2e-7, "tanh(%g) = %.9g", x, (double)t[i]);
    }
}

Test(kernels, elementwise_results_do_not_depend_on_position)
{
    float a[13], b[13];
    fill(a, 13, 9);
    for (int shift = 0; shift < 8; shift++) {
        memcpy(b + shift, a, sizeof(float) * 5);
        float c[5];
        memcpy(c, a, sizeof c);
        tanh_inplace(b + shift, 5);
        tanh_inplace(c, 5);
        cr_assert(memcmp(b + shift, c, sizeof c) == 0, "tanh differs at offset %d", shift);
    }
    float big[11] = {100.0f, -100.0f, 0.0f, 1e-6f, -1e-6f, 88.0f, -88.0f, 50.0f, -50.0f, 3.0f, -3.0f}, tb[11];
    memcpy(tb, big, sizeof big);
    sigmoid_inplace(big, 11);
    tanh_inplace(tb, 11);
    cr_assert_eq(big[0], 1.0f);
    cr_assert(big[1] >= 0.0f && big[1] < 1e-37f);
    cr_assert_eq(tb[0], 1.0f);
    cr_assert_eq(tb[1], -1.0f);
    cr_assert_eq(tb[2], 0.0f);
    cr_assert(fabsf(tb[3] - 1e-6f) < 1e-7f);
}

/* Inputs for exp, sigmoid and tanh: small, moderate and saturating values
 * in turn (both tanh branches, exp's clamps). */
static void mixed_range(float *x, int n, unsigned seed)
{
    fill(x, (size_t)n, seed);
    for (int i = 0; i < n; i++) x[i] *= (i % 3 == 0) ? 0.5f : (i % 3 == 1) ? 6.0f : 100.0f;
}

/* A long row goes through the widest vector path (16 lanes where the CPU
 * has AVX-512), then 8 lanes, then the padded tail: each element must get
 * the bits it gets computed alone, whichever path it took. */
Test(kernels, elementwise_bits_are_the_same_on_every_vector_path)
{
    enum { N = 45 };
    void (*fns[3])(float *, int) = {exp_inplace, sigmoid_inplace, tanh_inplace};
    const char *names[3] = {"exp", "sigmoid", "tanh"};
    float x[N], row[N];
    mixed_range(x, N, 11);
    for (int f = 0; f < 3; f++) {
        memcpy(row, x, sizeof row);
        fns[f](row, N);
        for (int i = 0; i < N; i++) {
            float one = x[i];
            fns[f](&one, 1);
            cr_assert(memcmp(&one, &row[i], sizeof one) == 0, "%s(%.9g): %.9g in a row of %d at %d, %.9g alone",
                      names[f], (double)x[i], (double)row[i], N, i, (double)one);
        }
    }
}

Test(kernels, tanh_keeps_relative_precision_near_zero)
{
    float x[6] = {1e-8f, -1e-6f, 1e-3f, 0.1f, -0.6f, 0.624f}, y[6];
    memcpy(y, x, sizeof x);
    tanh_inplace(y, 6);
    for (int i = 0; i < 6; i++)
        cr_assert(fabs(y[i] - tanh((double)x[i])) <= 2.5e-7 * fabs(tanh((double)x[i])),
                  "tanh(%g) = %.9g, libm %.9g", (double)x[i], (double)y[i], tanh((double)x[i]));
}

/* IEEE half -> double by the definition: (-1)^s 2^(e-15) (1 + m/1024), subnormals 2^-14 m/1024. */
static double half_value(unsigned h)
{
    unsigned s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(1024 + m, (int)e - 25);
    return s ? -v : v;
}

Test(kernels, half_and_bfloat16_widening_is_exact_for_every_value)
{
    static unsigned char raw[2 * 65536 + 1];
    static float out[65536];
    for (unsigned h = 0; h < 65536; h++) { raw[1 + 2 * h] = h & 0xff; raw[2 + 2 * h] = h >> 8; }
    /* odd address on purpose: safetensors offsets need not be aligned */
    size_t done = widen_half_block(raw + 1, out, 65536, 0);
    cr_assert(done == 65536 || done == 0, "converted %zu", done);
    for (size_t h = 0; h < done; h++) {
        double want = half_value((unsigned)h);
        if (isnan(want)) cr_assert(isnan(out[h]), "half 0x%04zx", h);
        else cr_assert(out[h] == want && !signbit(out[h]) == !signbit(want), "half 0x%04zx: %g vs %g", h, (double)out[h], want);
    }
    done = widen_half_block(raw + 1, out, 65536, 1);
    for (size_t h = 0; h < done; h++) {
        uint32_t bits = (uint32_t)h << 16;
        float want;
        memcpy(&want, &bits, sizeof want);
        cr_assert(memcmp(&out[h], &want, sizeof want) == 0, "bfloat16 0x%04zx", h);
    }
}

Test(kernels, exp_below_the_normal_range_is_zero_not_subnormal)
{
    float x[10] = {-100.0f, -87.5f, -87.0f, -1000.0f, 0.0f, -90.0f, -88.0f, -86.0f, -200.0f, -87.33f};
    exp_inplace(x, 10);
    cr_assert_eq(x[0], 0.0f);
    cr_assert_eq(x[1], 0.0f);
    cr_assert(x[2] >= 1.17549435e-38f, "exp(-87) = %g", (double)x[2]); /* normal */
    cr_assert_eq(x[3], 0.0f);
    cr_assert_eq(x[4], 1.0f);
    cr_assert_eq(x[8], 0.0f);
    float row[3] = {0.0f, -200.0f, -0.5f};
    softmax(row, 3);
    cr_assert_eq(row[1], 0.0f);
    cr_assert_float_eq(row[0] + row[2], 1.0, 1e-6);
}

Test(kernels, flush_mode_is_restored)
{
    unsigned before = fp_flush_subnormals_begin();
    volatile float tiny = 1e-39f, scale = 0.5f;
    cr_assert_eq(tiny * scale, 0.0f, "subnormals flushed inside");
    fp_flush_subnormals_end(before);
    cr_assert(tiny * scale > 0.0f, "gradual underflow back after");
}

Test(kernels, half_weight_rows_widen_exactly)
{
    /* weights_row on half or bfloat16 weights equals widen_half of the same row */
    enum { OUT = 37, IN = 130 };
    static unsigned char raw[2 * OUT * IN];
    static float wide[OUT * IN], row[IN];
    for (int bf = 0; bf <= 1; bf++) {
        unsigned seed = 13;
        for (size_t i = 0; i < OUT * IN; i++) {
            seed = seed * 1103515245u + 12345u;
            unsigned h = ((seed >> 16) & (bf ? 0x3fff : 0x3bff)) | (seed & 1) << 15;
            raw[2 * i] = h & 0xff; raw[2 * i + 1] = h >> 8;
        }
        widen_half(raw, wide, OUT * IN, bf);
        weights W = {NULL, raw, bf};
        for (int r = 0; r < OUT; r += 12) {
            weights_row(&W, (size_t)r, IN, row);
            cr_assert(memcmp(row, wide + (size_t)r * IN, sizeof row) == 0, "row %d bf16 %d", r, bf);
        }
        weights F = {wide, NULL, 0};
        weights_row(&F, OUT - 1, IN, row);
        cr_assert(memcmp(row, wide + (size_t)(OUT - 1) * IN, sizeof row) == 0);
    }
}

/* matmul_q8 against an independent computation: the weights and each row
 * quantized here with the documented rules (weights: scale = max |w| / 127;
 * activation rows: 7 bits, scale = max |x| / 63; round to nearest even,
 * clamp), the integer dot product summed here in int64, then
 * dequantized; equal to within one float rounding of the last step. Also
 * within the quantization error of the float product, and every row the
 * same alone as in a batch (integer sums do not depend on blocking). */
static int8_t q8_of(float v, float sc, int max)
{
    float r = nearbyintf(v / sc);
    return (int8_t)(r > max ? max : r < -max ? -max : r);
}

/* An activation: x times 1 / scale, as matmul_q8 computes it once per row. */
static int8_t q7_of(float v, float sc)
{
    float r = nearbyintf(v * (1.0f / sc));
    return (int8_t)(r > 63 ? 63 : r < -63 ? -63 : r);
}

Test(kernels, int8_product_matches_independent_quantization)
{
    enum { MAXR = 9, MAXO = 70, MAXI = 200 };
    static float X[MAXR * MAXI], W[MAXO * MAXI], b[MAXO], Y[MAXR * MAXO], y1[MAXO], scratch[8192];
    int shapes[][3] = {{9, 37, 200}, {4, 8, 64}, {5, 5, 3}, {1, 13, 130}, {6, 70, 64}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int R = shapes[s][0], O = shapes[s][1], I = shapes[s][2];
        fill(X, (size_t)R * I, 7); fill(W, (size_t)O * I, 8); fill(b, O, 9);
        qmat q;
        cr_assert(qmat_init(&q, W, O, I));
        cr_assert(q8_scratch_floats(R, I) <= sizeof scratch / sizeof scratch[0]);
        matmul_q8(X, I, &q, b, Y, O, R, scratch);
        for (int r = 0; r < R; r++) {
            const float *x = X + r * I;
            float mx = 0;
            for (int k = 0; k < I; k++) mx = fmaxf(mx, fabsf(x[k]));
            float sx = mx > 0 ? mx / 63.0f : 1.0f;
            matmul_q8(x, I, &q, b, y1, O, 1, scratch);
            cr_assert(memcmp(y1, Y + r * O, sizeof(float) * O) == 0, "shape %d: int8 row %d differs alone", (int)s, r);
            for (int o = 0; o < O; o++) {
                const float *w = W + o * I;
                float mw = 0;
                for (int k = 0; k < I; k++) mw = fmaxf(mw, fabsf(w[k]));
                float sw = mw > 0 ? mw / 127.0f : 1.0f;
                long long acc = 0;
                double exact = b[o], mag = 0;
                for (int k = 0; k < I; k++) {
                    acc += (long long)q7_of(x[k], sx) * q8_of(w[k], sw, 127);
                    exact += (double)x[k] * w[k];
                    mag += fabs((double)x[k] * w[k]);
                }
                /* the documented dequantization, in float: the same bits */
                float want = (float)acc * (sx * sw) + b[o], got = Y[r * O + o];
                cr_assert(memcmp(&got, &want, sizeof got) == 0, "shape %d row %d col %d: %.9g vs %.9g", (int)s, r, o,
                          (double)got, (double)want);
                cr_assert(fabs(got - exact) <= 0.02 * mag + 1e-4, "row %d col %d: %g vs float %g", r, o, got, exact);
            }
        }
        qmat_free(&q);
    }
}

/* The shortlist's rows of an int8 matrix, gathered in any order (a
 * repeat, the last row, fewer than a panel and more): each output equals
 * the full product's output of that row, bit for bit. */
Test(kernels, int8_gathered_rows_equal_the_full_product)
{
    enum { R = 5, O = 53, I = 130, K = 21 };
    static float X[R * I], W[O * I], b[O], Y[R * O], Yk[R * K], bk[K], scratch[8192];
    int ids[K] = {52, 0, 17, 16, 15, 3, 3, 40, 41, 1, 2, 50, 33, 34, 35, 36, 5, 6, 7, 8, 9};
    fill(X, R * I, 21); fill(W, O * I, 22); fill(b, O, 23);
    qmat q, sub;
    cr_assert(qmat_init(&q, W, O, I));
    size_t rows_pad = (size_t)q8_rows_padded(K);
    sub.q = aligned_alloc(64, rows_pad * (size_t)q.in_pad);
    sub.scale = malloc(sizeof(float) * rows_pad);
    sub.corr = malloc(sizeof(int32_t) * rows_pad);
    memset(sub.q, 0x55, rows_pad * (size_t)q.in_pad); /* garbage: gather must write every byte it reads */
    qmat_gather(&sub, &q, ids, K);
    for (int i = 0; i < K; i++) bk[i] = b[ids[i]];
    matmul_q8(X, I, &q, b, Y, O, R, scratch);
    matmul_q8(X, I, &sub, bk, Yk, K, R, scratch);
    for (int r = 0; r < R; r++)
        for (int i = 0; i < K; i++)
            cr_assert(memcmp(&Yk[r * K + i], &Y[r * O + ids[i]], sizeof(float)) == 0, "row %d, shortlist %d (id %d)",
                      r, i, ids[i]);
    free(sub.q); free(sub.scale); free(sub.corr);
    qmat_free(&q);
}

/* Every kernel path this CPU has (portable, AVX2, AVX-512 and VNNI) gives
 * the bits the widest one gives: int8 and float32 products always; exp,
 * sigmoid, tanh on every vector path (the portable code rounds without FMA,
 * so it is held to accuracy tests instead). */
Test(kernels, every_instruction_set_gives_the_same_bits)
{
    enum { MAXR = 17, MAXO = 70, MAXI = 256, N = 45 };
    static float X[MAXR * MAXI], W[MAXO * MAXI], b[MAXO], want[MAXR * MAXO], got[MAXR * MAXO], scratch[16384];
    int shapes[][3] = {{9, 37, 200}, {1, 40, 64}, {5, 16, 256}, {17, 70, 130}, {2, 3, 5}};
    kernels_isa narrower[] = {KERNELS_PORTABLE, KERNELS_AVX2};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int R = shapes[s][0], O = shapes[s][1], I = shapes[s][2];
        fill(X, (size_t)R * I, 31); fill(W, (size_t)O * I, 32); fill(b, O, 33);
        qmat q;
        wpack p;
        cr_assert(qmat_init(&q, W, O, I) && wpack_init(&p, W, O, I));
        for (int f32 = 0; f32 < 2; f32++) {
            kernels_limit(KERNELS_ANY);
            if (f32) matmul_wp(X, I, &p, b, want, O, R);
            else matmul_q8(X, I, &q, b, want, O, R, scratch);
            for (size_t n = 0; n < 2; n++) {
                kernels_limit(narrower[n]);
                if (f32) matmul_wp(X, I, &p, b, got, O, R);
                else matmul_q8(X, I, &q, b, got, O, R, scratch);
                cr_assert(memcmp(got, want, sizeof(float) * R * O) == 0, "%s product %dx%dx%d differs at level %d",
                          f32 ? "float" : "int8", R, O, I, (int)narrower[n]);
            }
        }
        kernels_limit(KERNELS_ANY);
        qmat_free(&q);
        wpack_free(&p);
    }
    void (*fns[3])(float *, int) = {exp_inplace, sigmoid_inplace, tanh_inplace};
    float x[N], wide[N], avx2[N];
    mixed_range(x, N, 34);
    for (int f = 0; f < 3; f++) {
        memcpy(wide, x, sizeof x);
        memcpy(avx2, x, sizeof x);
        kernels_limit(KERNELS_ANY);
        fns[f](wide, N);
        kernels_limit(KERNELS_AVX2);
        fns[f](avx2, N);
        kernels_limit(KERNELS_ANY);
        cr_assert(memcmp(wide, avx2, sizeof x) == 0, "function %d differs between AVX-512 and AVX2", f);
    }
    /* a row of logits: log-softmax, the second largest, the scan for values
     * at least a bound, on rows whose length is not a multiple of 16 */
    enum { V = 1003 };
    static float logits[V], lw[V], la[V];
    fill(logits, V, 35);
    for (int i = 0; i < V; i++) logits[i] *= 12.0f;
    memcpy(lw, logits, sizeof logits);
    memcpy(la, logits, sizeof logits);
    kernels_limit(KERNELS_ANY);
    log_softmax(lw, V);
    float s2w = second_largest(lw, V, -1), s2skip_w = second_largest(lw, V, 700);
    int hits_w[4] = {next_at_least(lw, 0, V, s2w), next_at_least(lw, 17, V, -3.0f), next_at_least(lw, 990, V, -1.0f),
                     next_at_least(lw, 0, V, 1.0f)};
    kernels_limit(KERNELS_AVX2);
    log_softmax(la, V);
    float s2a = second_largest(la, V, -1), s2skip_a = second_largest(la, V, 700);
    int hits_a[4] = {next_at_least(la, 0, V, s2a), next_at_least(la, 17, V, -3.0f), next_at_least(la, 990, V, -1.0f),
                     next_at_least(la, 0, V, 1.0f)};
    kernels_limit(KERNELS_ANY);
    cr_assert(memcmp(lw, la, sizeof lw) == 0, "log_softmax differs between AVX-512 and AVX2");
    cr_assert(s2w == s2a && s2skip_w == s2skip_a, "second_largest: %g %g vs %g %g", (double)s2w, (double)s2skip_w,
              (double)s2a, (double)s2skip_a);
    cr_assert(memcmp(hits_w, hits_a, sizeof hits_w) == 0, "next_at_least: %d %d %d %d vs %d %d %d %d", hits_w[0],
              hits_w[1], hits_w[2], hits_w[3], hits_a[0], hits_a[1], hits_a[2], hits_a[3]);
    cr_assert(hits_w[3] == V, "no log-probability reaches 1");
}

/* Weights kept half: the same bits as the float32 product of the widened
 * weights, on every path (AVX-512, AVX2, portable) and for row counts and
 * shapes that take every block and a partial last panel. */
Test(kernels, half_weight_product_equals_widened_product)
{
    enum { MAXR = 35, MAXO = 137, MAXI = 256 };
    static float X[MAXR * MAXI], W[MAXO * MAXI], b[MAXO], Y1[MAXR * MAXO], Y2[MAXR * MAXO];
    static uint16_t Wh[MAXO * MAXI];
    int shapes[][3] = {{11, 37, 90}, {1, 16, 64}, {2, 6, 8}, {5, 13, 3}, {8, 12, 40}, {35, 13, 256}, {15, 137, 64}};
    kernels_isa levels[] = {KERNELS_ANY, KERNELS_AVX2, KERNELS_PORTABLE};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int R = shapes[s][0], O = shapes[s][1], I = shapes[s][2];
        fill(X, (size_t)R * I, 11); fill(b, O, 12);
        for (int i = 0; i < O * I; i++) Wh[i] = (uint16_t)(0x3000 + (i * 7919) % 0x1800) ^ (uint16_t)((i & 1) << 15);
        widen_half(Wh, W, (size_t)O * I, 0);
        wpack pf, ph;
        cr_assert(wpack_init(&pf, W, O, I));
        if (!wpack_init_half(&ph, Wh, O, I)) { /* no F16C: the model packs its float32 copy */
            cr_assert(!kernels_have_f16c());
            wpack_free(&pf);
            continue;
        }
        matmul_wp(X, I, &pf, b, Y1, O, R);
        for (size_t l = 0; l < sizeof levels / sizeof *levels; l++) {
            kernels_limit(levels[l]);
            memset(Y2, 0, sizeof Y2);
            matmul_wp(X, I, &ph, b, Y2, O, R);
            kernels_limit(KERNELS_ANY);
            cr_assert(memcmp(Y1, Y2, sizeof(float) * R * O) == 0, "shape %dx%dx%d: half product differs at level %d",
                      R, O, I, (int)levels[l]);
        }
        wpack_free(&pf);
        wpack_free(&ph);
    }
}

/* matmul_wp_max: the same Y as matmul_wp and, for each row, its largest
 * value as a plain loop finds it, on every instruction set, with half and
 * float32 panels, partial panels and every row remainder; then
 * log_softmax_from_max with that maximum gives log_softmax's bits. */
Test(kernels, product_row_maxima_and_log_softmax_from_max)
{
    enum { MAXR = 35, MAXO = 300, MAXI = 64 };
    static float X[MAXR * MAXI], W[MAXO * MAXI], b[MAXO], Y1[MAXR * MAXO], Y2[MAXR * MAXO], row_max[MAXR],
        lanes[MAXR * 16], z[MAXO];
    static uint16_t Wh[MAXO * MAXI];
    int shapes[][3] = {{1, 1, 3}, {7, 33, 20}, {13, 64, 64}, {35, 300, 17}, {8, 129, 40}, {6, 97, 5}};
    kernels_isa levels[] = {KERNELS_ANY, KERNELS_AVX2, KERNELS_PORTABLE};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int R = shapes[s][0], O = shapes[s][1], I = shapes[s][2];
        fill(X, (size_t)R * I, 41); fill(W, (size_t)O * I, 42); fill(b, O, 43);
        /* each row's largest value in a column of its own near the end (in
         * the last, partial, column group): row r has a large x at k = r % I,
         * which only column O - 1 - (r % I) % O weighs by more than 0.01 */
        for (int i = 0; i < O * I; i++) W[i] *= 0.01f;
        for (int r = 0; r < R; r++) {
            int k = r % I, c = O - 1 - k % O;
            X[r * I + k] = 50.0f + (float)r;
            W[c * I + k] = 1.0f;
        }
        if (s % 2) /* every value negative: the padding columns past O (0 before the bias) must not count */
            for (int o = 0; o < O; o++) b[o] = -1000.0f;
        for (int i = 0; i < O * I; i++) Wh[i] = (uint16_t)(0x3000 + (i * 7919) % 0x1800) ^ (uint16_t)((i & 1) << 15);
        for (int half = 0; half < 2; half++) {
            wpack p;
            if (half ? !wpack_init_half(&p, Wh, O, I) : !wpack_init(&p, W, O, I)) {
                cr_assert(half && !kernels_have_f16c());
                continue;
            }
            matmul_wp(X, I, &p, b, Y1, O, R);
            for (size_t l = 0; l < sizeof levels / sizeof *levels; l++) {
                kernels_limit(levels[l]);
                memset(Y2, 0, sizeof Y2);
                matmul_wp_max(X, I, &p, b, Y2, O, R, row_max, lanes);
                kernels_limit(KERNELS_ANY);
                cr_assert(memcmp(Y1, Y2, sizeof(float) * R * O) == 0, "shape %dx%dx%d: Y differs at level %d", R,
                          O, I, (int)levels[l]);
                for (int r = 0; r < R; r++) {
                    float want = Y1[r * O];
                    for (int o = 1; o < O; o++) want = Y1[r * O + o] > want ? Y1[r * O + o] : want;
                    cr_assert(row_max[r] == want, "shape %dx%dx%d level %d half %d: row %d max %g, want %g", R, O,
                              I, (int)levels[l], half, r, (double)row_max[r], (double)want);
                    memcpy(z, Y1 + r * O, sizeof(float) * O);
                    log_softmax_from_max(z, O, row_max[r]);
                    memcpy(Y2 + r * O, Y1 + r * O, sizeof(float) * O);
                    log_softmax(Y2 + r * O, O);
                    cr_assert(memcmp(z, Y2 + r * O, sizeof(float) * O) == 0, "row %d: log_softmax_from_max differs", r);
                }
            }
            wpack_free(&p);
        }
    }
}

/* first_nonfinite against an independent rule: a half (F16) is non-finite
 * when its 5 exponent bits are 11111 (IEEE 754 binary16), a bfloat16 when
 * its 8 exponent bits are all ones, like the top half of a binary32. Every
 * 16-bit pattern is tried, at every position of a buffer that spans several
 * vectorized blocks and a tail, and at an odd (unaligned) address. */
Test(kernels, first_nonfinite_finds_the_first_nan_or_infinity)
{
    enum { N = 64 * 3 + 7 };
    unsigned char *raw = malloc(4 * N + 1), *buf = raw + 1; /* unaligned on purpose */
    for (int bf16 = 0; bf16 <= 1; bf16++)
        for (unsigned bits = 0; bits < 65536; bits++) {
            unsigned e = bf16 ? (bits >> 7) & 0xffu : (bits >> 10) & 0x1fu;
            int bad = bf16 ? e == 0xffu : e == 0x1fu;
            size_t pos = (bits * 7u) % N;
            memset(buf, 0, 2 * N); /* zeros are finite */
            buf[2 * pos] = (unsigned char)(bits & 0xff);
            buf[2 * pos + 1] = (unsigned char)(bits >> 8);
            long long got = first_nonfinite(buf, N, 2, bf16);
            if (got != (bad ? (long long)pos : -1))
                cr_assert_fail("%s 0x%04x at %zu: got %lld", bf16 ? "BF16" : "F16", bits, pos, got);
        }
    /* F32: NaN, +inf, -inf and the largest finite values, little-endian bytes */
    uint32_t cases[][2] = {{0x7fc00000u, 1}, {0x7f800000u, 1}, {0xff800000u, 1}, {0x7f800001u, 1},
                           {0x7f7fffffu, 0}, {0xff7fffffu, 0}, {0x00000001u, 0}, {0x3f800000u, 0}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (size_t pos = 0; pos < N; pos += 13) {
            memset(buf, 0, 4 * N);
            for (int k = 0; k < 4; k++) buf[4 * pos + k] = (unsigned char)(cases[c][0] >> (8 * k));
            long long got = first_nonfinite(buf, N, 4, 0);
            cr_assert_eq(got, cases[c][1] ? (long long)pos : -1, "F32 0x%08x at %zu: got %lld", cases[c][0], pos, got);
        }
    /* two bad values: the first one is reported */
    memset(buf, 0, 2 * N);
    buf[2 * 150 + 1] = 0x7c;
    buf[2 * 100 + 1] = 0xfc;
    cr_assert_eq(first_nonfinite(buf, N, 2, 0), 100);
    cr_assert_eq(first_nonfinite(buf, 0, 2, 0), -1);
    free(raw);
}

/* second_largest and next_at_least against plain loops, over lengths that
 * take the vector body and its tail, with repeats, -infinity and a skipped
 * entry. */
Test(kernels, second_largest_and_next_at_least_match_plain_loops)
{
    static float x[300];
    for (int n = 1; n <= 300; n += 7) {
        fill(x, (size_t)n, (unsigned)n);
        if (n > 5) x[3] = x[n - 1]; /* a repeat */
        if (n > 9) x[9] = -INFINITY;
        for (int skip = -1; skip < n; skip += n / 3 + 1) {
            float m1 = -INFINITY, m2 = -INFINITY;
            for (int k = 0; k < n; k++) {
                if (k == skip) continue;
                if (x[k] > m1) { m2 = m1; m1 = x[k]; } else if (x[k] > m2) m2 = x[k];
            }
            cr_assert_eq(second_largest(x, n, skip), m2, "n %d skip %d", n, skip);
        }
        float lo = x[n / 2];
        for (int from = 0; from <= n; from += 5) {
            int want = from;
            while (want < n && !(x[want] >= lo)) want++;
            cr_assert_eq(next_at_least(x, from, n, lo), want, "n %d from %d", n, from);
        }
    }
    float lane[24] = {0};
    lane[1] = lane[9] = 5.0f; /* the maximum twice in one vector lane */
    cr_assert_eq(second_largest(lane, 24, -1), 5.0f, "a maximum repeated in one lane is also the second");
    cr_assert_eq(second_largest(lane, 24, 9), 0.0f, "skipping one of them");
    float two[2] = {1.0f, 1.0f}, one[1] = {2.0f};
    cr_assert_eq(second_largest(two, 2, -1), 1.0f, "a repeated maximum is also the second");
    cr_assert(isinf(second_largest(one, 1, -1)), "one entry: -infinity");
    cr_assert(isinf(second_largest(two, 2, 0)), "one entry left after the skip: -infinity");
}

/* top_two_of_logits against log_softmax itself: whenever it decides, its two
 * tokens are the two best of the log-softmax row (higher first, equal
 * values by lower index). Rows: random at several scales, and crafted
 * near-ties, among them one where the log-softmax rounds two different
 * logits to the same value (the lower index then wins, which the logits
 * alone would get wrong: the function must decline). */
static void best_two_of_row(const float *y, int n, int ids[2])
{
    ids[0] = ids[1] = -1;
    for (int v = 0; v < n; v++) {
        if (ids[0] < 0 || y[v] > y[ids[0]]) { ids[1] = ids[0]; ids[0] = v; }
        else if (ids[1] < 0 || y[v] > y[ids[1]]) ids[1] = v;
    }
}

Test(kernels, top_two_of_logits_agrees_with_log_softmax)
{
    enum { N = 3001 };
    static float z[N], y[N];
    int decided = 0, declined = 0;
    for (int row = 0; row < 400; row++) {
        fill(z, N, 100 + row);
        float scale = row % 4 == 0 ? 0.01f : row % 4 == 1 ? 1.0f : row % 4 == 2 ? 30.0f : 1000.0f;
        for (int i = 0; i < N; i++) z[i] *= scale;
        int a = (row * 7919) % N, b = (row * 104729 + 13) % N;
        if (a == b) b = (b + 1) % N;
        float top = 3.0f * scale + 1.0f;
        switch (row % 5) { /* the best two at a and b, this far apart */
        case 0: z[a] = top; z[b] = top - 1.0f; break;
        case 1: z[a] = top; z[b] = nextafterf(top, 0.0f); break;           /* one ulp */
        case 2: z[a] = top; z[b] = top - 0x1p-15f * (1.0f + fabsf(top)); break;
        case 3: z[a] = top; z[b] = top; break;                              /* equal */
        case 4: z[a] = top; z[b] = top - 0.5f; z[(b + 1) % N] = nextafterf(z[b], -INFINITY); break; /* close third */
        }
        memcpy(y, z, sizeof z);
        log_softmax(y, N);
        int want[2], got[2] = {-1, -1};
        best_two_of_row(y, N, want);
        if (top_two_of_logits(z, N, got)) {
            decided++;
            cr_assert(got[0] == want[0] && got[1] == want[1], "row %d: logits give %d %d, log_softmax %d %d", row,
                      got[0], got[1], want[0], want[1]);
        } else {
            declined++;
        }
    }
    cr_assert(decided > 100 && declined > 100, "decided %d, declined %d", decided, declined);

    /* a rounding tie: logits 0 and -2^-24 (lower index), the rest near -3,
     * so lse is about 5 and both log-probabilities round to -lse */
    for (int i = 0; i < N; i++) z[i] = -3.0f - 0x1p-10f * (float)(i % 17);
    z[5] = -0x1p-24f;
    z[9] = 0.0f;
    memcpy(y, z, sizeof z);
    log_softmax(y, N);
    cr_assert(y[5] == y[9], "the crafted row must tie after log_softmax (%a %a)", (double)y[5], (double)y[9]);
    int want[2], got[2];
    best_two_of_row(y, N, want);
    cr_assert(want[0] == 5, "log_softmax ranks the lower index first on a tie");
    cr_assert(!top_two_of_logits(z, N, got), "the logits alone cannot decide this row");
}

/* additive_scores: row by row the add, tanh_inplace and dot it stands for,
 * bit for bit, on every instruction set, for sizes with and without a tail. */
Test(kernels, additive_scores_equal_add_tanh_dot)
{
    enum { N = 9, MAXA = 150 };
    static float wq[MAXA], keys[N * MAXA], va[MAXA], tmp[MAXA], row[MAXA], e[N];
    int sizes[] = {128, 130, 7, 16, 150};
    kernels_isa levels[] = {KERNELS_ANY, KERNELS_AVX2, KERNELS_PORTABLE};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        int A = sizes[s];
        fill(wq, A, 41); fill(keys, (size_t)N * A, 42); fill(va, A, 43);
        for (int i = 0; i < N * A; i++) keys[i] *= 3.0f; /* both tanh branches */
        for (size_t l = 0; l < sizeof levels / sizeof *levels; l++) {
            kernels_limit(levels[l]);
            additive_scores(wq, keys, N, A, va, 0.25f, e, tmp);
            for (int j = 0; j < N; j++) {
                for (int a = 0; a < A; a++) row[a] = wq[a] + keys[j * A + a];
                tanh_inplace(row, A);
                float want = dot(va, row, A) + 0.25f;
                cr_assert(e[j] == want, "A %d level %d row %d: %a vs %a", A, (int)levels[l], j, (double)e[j],
                          (double)want);
            }
            kernels_limit(KERNELS_ANY);
        }
    }
}
