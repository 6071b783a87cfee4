/*
 * kernels.h - the numeric building blocks: matrix products, softmax, cells'
 * nonlinearities. Row-major float32 throughout.
 *
 * Determinism: every output element of matmul_wp is computed with the same
 * accumulation order whatever the number of rows, the blocking, the thread or
 * the instruction set, so one sentence decoded alone or inside a batch gives
 * bit-identical numbers. AVX-512 or AVX2+FMA code is chosen at run time when
 * the CPU has it; the portable path follows the same orders (with fmaf where
 * the vector paths fuse).
 */
#ifndef S2S_KERNELS_H
#define S2S_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* A weight matrix W (out, in), as torch.nn.Linear stores it, laid out for
 * the matrix products: transposed, in panels of WP_WIDTH output columns,
 * each panel k after k (the WP_WIDTH weights W[64p .. 64p + 63][k] side by
 * side, zero past `out`). Float32, or IEEE halves kept half (the same
 * products: a half widens exactly). Exactly one of f32, f16 is set; both
 * owned (wpack_free). */
#define WP_WIDTH 64
typedef struct wpack {
    float *f32;
    uint16_t *f16;
    int out, in;
} wpack;

/* Packs W (out, in) float32 into p. Returns 0 when out of memory (p empty). */
int wpack_init(wpack *p, const float *W, int out, int in);

/* Packs W (out, in) given as little-endian IEEE halves (any alignment),
 * kept half. Returns 0 when out of memory or when the CPU cannot widen
 * halves in vectors (no F16C; p empty): the caller then packs the widened
 * float32 copy. */
int wpack_init_half(wpack *p, const void *Wh, int out, int in);

void wpack_free(wpack *p);

/* Y (rows, out) = X (rows, in) @ W^T + b, b (out,) or NULL; ldx/ldy are the
 * row strides of X and Y in floats (>= in, >= out). Y must not alias X.
 * Each element: the products x[k] * W[o][k] for k = 0, 1, .. in - 1 added
 * one fused multiply-add at a time from 0, then b[o]: the same bits whatever
 * the number of rows, the blocking, the thread or the instruction set. */
void matmul_wp(const float *X, size_t ldx, const wpack *W, const float *b, float *Y, size_t ldy, int rows);

/* matmul_wp, and row_max (rows,) := the largest value of each row of Y,
 * folded from the registers as each block is stored (the output
 * projection's rows are then ready for log_softmax_from_max without a pass
 * to find it). lanes: scratch of rows x 16 floats. Y must be free of NaN for
 * the maximum to be the one log_softmax would find. With row_max NULL (lanes
 * unused) it is matmul_wp. */
void matmul_wp_max(const float *X, size_t ldx, const wpack *W, const float *b, float *Y, size_t ldy, int rows,
                   float *row_max, float *lanes);

/* a (n,) . b (n,): eight running lanes (lane l takes k = 8i + l), summed
 * ((0+4)+(2+6)) + ((1+5)+(3+7)), then the leftover k one by one; the same
 * bits on every path. */
float dot(const float *a, const float *b, int n);

/* In place over x (n,): softmax; log_softmax. n >= 1. */
void softmax(float *x, int n);
void log_softmax(float *x, int n);

/* log_softmax of x (n,) whose largest value is already known: m must be it
 * (as matmul_wp_max gives); the same bits as log_softmax. */
void log_softmax_from_max(float *x, int n, float m);

/* exp, logistic sigmoid and tanh as PyTorch computes them in float32 (to within
 * an ulp or two), on n elements in place. */
void exp_inplace(float *x, int n);
void sigmoid_inplace(float *x, int n);
void tanh_inplace(float *x, int n);

/* Bahdanau scores without coverage: e[j] = va . tanh(wq + keys[j]) + vb for
 * j < n, keys (n, A) row-major; tmp (A,) scratch. The same bits as the add,
 * tanh_inplace and dot row by row. */
void additive_scores(const float *wq, const float *keys, int n, int A, const float *va, float vb, float *e,
                     float *tmp);

/* y (n,) += a * x (n,) */
void axpy(float a, const float *x, float *y, int n);

/* The second largest of x[0..n) except x[skip] (skip < 0: none), counting
 * repeats (two entries equal to the maximum give the maximum); -infinity
 * when fewer than two entries count. No NaN in x. */
float second_largest(const float *x, int n, int skip);
/* The two largest of x[0..n) (m1 >= m2), counting repeats; -infinity for
 * what is missing. No NaN in x. */
void largest_two(const float *x, int n, float *m1, float *m2);

/* The largest value of x (n >= 1). */
float largest_of(const float *x, int n);

/* The first i in from..n-1 with x[i] >= lo, else n. */
int next_at_least(const float *x, int from, int n, float lo);

/* The two best tokens of a row of logits z (n,) as log_softmax(z) ranks
 * them (higher first, equal values by lower index), found without the
 * log-softmax: ids[0], ids[1]. log_softmax keeps the order of z, but its
 * rounding could make two close logits equal; the logits alone decide only
 * when the largest is more than 2^-14 above the second and every other
 * logit lies more than 2^-18 (d + 64) below the second (d = their
 * difference): lse < 32 (n < 2^46), so the roundings are at most 2^-19
 * apart. Returns 1 then, else 0 (ids untouched). No NaN in z. */
int top_two_of_logits(const float *z, int n, int ids[2]);

/* Widens the first elements of n little-endian IEEE halves (bf16 = 0) or
 * bfloat16s (bf16 = 1) at src (any 2-byte alignment) into dst, exactly, with
 * the CPU's vector conversions; returns how many it did (a multiple of 8,
 * 0 without the instructions): the caller converts the rest. x86 only. */
size_t widen_half_block(const void *src, float *dst, size_t n, int bf16);

/* Subnormal floats flushed to zero in this thread (x86 FTZ+DAZ) until the
 * matching end call restores the caller's mode. Attention weights of far
 * source positions fall below 1e-38, and each product with a subnormal takes
 * a slow microcode path; no value the engine reports is affected beyond
 * 1e-38. */
unsigned fp_flush_subnormals_begin(void);
void fp_flush_subnormals_end(unsigned saved);

/* Widens n half (bf16 = 0) or bfloat16 (bf16 = 1) values at src (little-
 * endian, any alignment) into dst exactly: vector conversions, then the rest
 * one by one. */
void widen_half(const void *src, float *dst, size_t n, int bf16);

/* A weight matrix as the model holds it: float32, or IEEE half / bfloat16
 * kept as stored in the weights file (exactly one of f32, half is set). */
typedef struct weights {
    const float *f32;
    const void *half;
    int bf16;
} weights;

/* dst (cols,) := row `row` of W (rows of `cols` values), as float32. */
void weights_row(const weights *W, size_t row, int cols, float *dst);

/* A weight matrix W (out, in) quantized to int8 for the fast mode: weight
 * (o, k) is round(W[o][k] / scale[o]) in -127..127 with scale[o] =
 * max_k |W[o][k]| / 127. The weights are stored in panels of Q8_PANEL rows:
 * panel p holds rows 16p .. 16p + 15 as groups of 64 bytes, group g the
 * bytes k = 4g .. 4g + 3 of each of its 16 rows in turn, so that one vector
 * load gives 16 outputs 4 k's each. Rows are padded with zero bytes to
 * in_pad (a multiple of 64) and with zero rows to q8_rows_padded(out)
 * (scale 1, corr 0); corr[o] = 64 * sum_k q[o][k] (see matmul_q8). Owned
 * arrays (views, for a qmat_gather destination). */
#define Q8_PANEL 16
typedef struct qmat {
    int8_t *q;     /* q8_rows_padded(out) * in_pad bytes, in panels */
    float *scale;  /* q8_rows_padded(out) */
    int32_t *corr; /* q8_rows_padded(out) */
    int out, in, in_pad;
} qmat;

/* out rounded up to whole panels: the rows a qmat of out rows stores. */
int q8_rows_padded(int out);

/* Quantizes W (out, in) into q (arrays allocated). 0 when out of memory
 * (q left empty). */
int qmat_init(qmat *q, const float *W, int out, int in);
void qmat_free(qmat *q);

/* dst := rows ids[0 .. k) of src, in that order (the fast mode's shortlist).
 * dst's arrays are the caller's, with room for q8_rows_padded(k) rows of
 * src->in_pad bytes; the rest of dst is set here. */
void qmat_gather(qmat *dst, const qmat *src, const int *ids, int k);

/* Floats of scratch matmul_q8 needs for `rows` rows of a qmat with `in` columns. */
size_t q8_scratch_floats(int rows, int in);

/* Y (rows, out) ~= X (rows, in) @ W^T + b with W quantized: each row of X
 * is quantized to 7 bits with its own scale s = max |x| / 63 (round(x * (1 / s))), the products
 * summed exactly in int32 (so the result does not depend on the path,
 * the block or the number of rows: batch == single bit for bit), then
 * y = (sum - corr[o]) * scale_x * scale[o] + b[o]. AVX-512 VNNI, AVX2 or portable
 * code, chosen at run time. scratch: q8_scratch_floats(rows, in) floats. */
void matmul_q8(const float *X, size_t ldx, const qmat *W, const float *b, float *Y, size_t ldy, int rows,
               float *scratch);

/* Y (rows, out) = X (rows, in) W^T + b: with qw, the int8 copy of W, when
 * the fast mode gives one (matmul_q8, scratch as it needs), else float32
 * (matmul_wp on W). */
void matmul_wp_or_q8(const qmat *qw, const float *X, size_t ldx, const wpack *W, const float *b, float *Y,
                     size_t ldy, int rows, float *scratch);

/* 1 when the AVX2+FMA kernels are in use on this CPU; 1 when the AVX-512
 * kernels (the same accumulation orders, so the same bits) are too; 1 when
 * the CPU widens halves in vectors (F16C). */
int kernels_have_avx2(void);
int kernels_have_avx512(void);
int kernels_have_f16c(void);

/* For tests: the kernels used from now on are at most `widest` (the CPU
 * still decides below it), so that every path can be checked against the
 * others on one machine. Not for use while products run on other threads. */
typedef enum { KERNELS_PORTABLE, KERNELS_AVX2, KERNELS_AVX512, KERNELS_ANY = KERNELS_AVX512 } kernels_isa;
void kernels_limit(kernels_isa widest);

/* Index of the first NaN or infinite element among `n` little-endian values
 * at `src` (any alignment): F32 when bytes is 4, else BF16 when bf16, else
 * F16. -1 when every element is finite. */
long long first_nonfinite(const void *src, size_t n, int bytes, int bf16);

#endif
