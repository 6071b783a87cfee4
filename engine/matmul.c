/*
 * matmul.c - the matrix products with weights: Y = X W^T + b (see kernels.h,
 * "wpack").
 *
 * Accumulation order, the same on every path: each output element starts
 * at 0, takes x[k] * W[o][k] for k = 0, 1, ..., in - 1 one fused
 * multiply-add at a time (one rounding each), and gets its bias added last.
 * Vector lanes hold different output columns, never parts of one sum, so
 * the vector width, the blocking and the number of rows cannot change a bit:
 * one sentence alone or inside a batch, AVX-512, AVX2 or portable code give
 * the same numbers.
 *
 * For that order W is read a column at a time, so it is kept transposed:
 * panels of WP_WIDTH output columns, each stored k after k (the 64 weights
 * of one k side by side). A block of R rows and one panel keeps 4R vectors of
 * 16 running sums in registers; every k broadcasts one x per row and loads
 * the panel's 64 weights once for all R rows, and nothing is left to add
 * across lanes at the end.
 */
#include "kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define S2S_X86 1
#endif

#define WP_ALIGN 64  /* bytes: a panel row is one or four cache lines */
#define WP_ROWS 6    /* X rows per AVX-512 block: 24 accumulators */
#define WP_ROWS_AVX2 2 /* X rows per AVX2 block (half a panel): 8 accumulators */

static size_t wp_panels(int out)
{
    return (size_t)(out + WP_WIDTH - 1) / WP_WIDTH;
}

/* Panels of a megabyte or more are aligned to 2 MB and asked for as huge
 * pages where the kernel offers them: one page fault per 2 MB instead of
 * one per 4 KB while they are written at load (the faults were most of the
 * load time of a large model), and fewer TLB misses as they stream. */
#define WP_HUGE ((size_t)2 << 20)
static void *wp_alloc(size_t bytes)
{
    size_t align = bytes >= WP_HUGE / 2 ? WP_HUGE : WP_ALIGN;
    bytes = (bytes + align - 1) / align * align;
    void *p = aligned_alloc(align, bytes ? bytes : align);
#ifdef MADV_HUGEPAGE
    if (p && align == WP_HUGE) (void)madvise(p, bytes, MADV_HUGEPAGE); /* a hint: refused is fine */
#endif
    return p;
}

int wpack_init(wpack *p, const float *W, int out, int in)
{
    memset(p, 0, sizeof *p);
    size_t n = wp_panels(out) * WP_WIDTH * (size_t)in;
    float *d = wp_alloc(n * sizeof(float));
    if (!d) return 0;
    for (size_t q = 0; q < wp_panels(out); q++) {
        float *panel = d + q * (size_t)in * WP_WIDTH;
        int o0 = (int)q * WP_WIDTH, width = out - o0 < WP_WIDTH ? out - o0 : WP_WIDTH;
        if (width < WP_WIDTH) memset(panel, 0, sizeof(float) * (size_t)in * WP_WIDTH); /* columns past `out` */
        const float *w = W + (size_t)o0 * in;
        for (int k = 0; k < in; k++) /* written in order; the 64 rows' lines stay cached across k */
            for (int j = 0; j < width; j++) panel[(size_t)k * WP_WIDTH + j] = w[(size_t)j * in + k];
    }
    p->f32 = d;
    p->out = out;
    p->in = in;
    return 1;
}

int wpack_init_half(wpack *p, const void *Wh, int out, int in)
{
    memset(p, 0, sizeof *p);
    if (!kernels_have_f16c()) return 0;
    size_t n = wp_panels(out) * WP_WIDTH * (size_t)in;
    uint16_t *d = wp_alloc(n * sizeof(uint16_t));
    if (!d) return 0;
    const unsigned char *src = Wh;
    for (size_t q = 0; q < wp_panels(out); q++) {
        uint16_t *panel = d + q * (size_t)in * WP_WIDTH;
        int o0 = (int)q * WP_WIDTH, width = out - o0 < WP_WIDTH ? out - o0 : WP_WIDTH;
        if (width < WP_WIDTH) memset(panel, 0, sizeof(uint16_t) * (size_t)in * WP_WIDTH);
        const unsigned char *h = src + 2 * (size_t)o0 * in; /* little-endian, any alignment */
        for (int k = 0; k < in; k++)
            for (int j = 0; j < width; j++) {
                size_t at = 2 * ((size_t)j * in + (size_t)k);
                panel[(size_t)k * WP_WIDTH + j] = (uint16_t)(h[at] | h[at + 1] << 8);
            }
    }
    p->f16 = d;
    p->out = out;
    p->in = in;
    return 1;
}

void wpack_free(wpack *p)
{
    free(p->f32);
    free(p->f16);
    memset(p, 0, sizeof *p);
}

/* ---- portable path ---------------------------------------------------------- */

/* The panel row (WP_WIDTH weights) of panel q at k, as float32. */
static const float *panel_row(const wpack *W, size_t q, int k, float *buf)
{
    size_t at = (q * (size_t)W->in + (size_t)k) * WP_WIDTH;
    if (W->f32) return W->f32 + at;
    widen_half(W->f16 + at, buf, WP_WIDTH, 0);
    return buf;
}

static void matmul_wp_portable(const float *X, size_t ldx, const wpack *W, const float *b, float *Y, size_t ldy,
                               int rows)
{
    float buf[WP_WIDTH], acc[WP_WIDTH];
    for (size_t q = 0; q < wp_panels(W->out); q++) {
        int o0 = (int)q * WP_WIDTH, width = W->out - o0 < WP_WIDTH ? W->out - o0 : WP_WIDTH;
        for (int r = 0; r < rows; r++) {
            const float *x = X + (size_t)r * ldx;
            for (int j = 0; j < WP_WIDTH; j++) acc[j] = 0.0f;
            for (int k = 0; k < W->in; k++) {
                const float *w = panel_row(W, q, k, buf);
                for (int j = 0; j < WP_WIDTH; j++) acc[j] = fmaf(x[k], w[j], acc[j]);
            }
            float *y = Y + (size_t)r * ldy + o0;
            for (int j = 0; j < width; j++) y[j] = acc[j] + (b ? b[o0 + j] : 0.0f);
        }
    }
}

#ifdef S2S_X86
/* Y rows 0..R-1 (R fixed per function), columns 0..width-1 of one column
 * group of a panel: pf (float32) or ph (halves) at the group's first
 * column of k = 0, rows WP_WIDTH apart. With lanes (R x 16 floats), the
 * values stored are also folded into each row's 16 running maxima (lane l
 * takes the columns equal to l mod 16), from the registers they are stored
 * from. */
typedef void (*block_fn)(const float *X, size_t ldx, const float *pf, const uint16_t *ph, int in, const float *b,
                         float *Y, size_t ldy, int width, float *lanes);

/* The blocks of one instruction set: block[R] for R = 1..rows, each over
 * `cols` columns (WP_WIDTH, or half of it). */
typedef struct block_set {
    block_fn block[WP_ROWS + 1];
    int rows, cols;
} block_set;

/* ---- AVX-512 path ------------------------------------------------------------ */
#define AVX512_TARGET __attribute__((target("avx512f,avx512dq,avx2,fma,f16c")))

/* The 4 vectors of panel row k: float32 as stored, or halves widened. */
AVX512_TARGET static inline __attribute__((always_inline)) void load_panel_row512(const float *pf,
                                                                                  const uint16_t *ph, int k,
                                                                                  __m512 w[4])
{
    _Pragma("GCC unroll 4") for (int v = 0; v < 4; v++) {
        if (pf) w[v] = _mm512_load_ps(pf + (size_t)k * WP_WIDTH + 16 * v);
        else w[v] = _mm512_cvtph_ps(_mm256_load_si256((const __m256i *)(const void *)(ph + (size_t)k * WP_WIDTH + 16 * v)));
    }
}

/* Y rows 0..R-1, columns 0..width-1 (width <= 64) of one panel (pf or ph):
 * acc[r][v] (16 columns each) over k, then + b, stored. */
AVX512_TARGET static inline __attribute__((always_inline)) void block512(const float *X, size_t ldx, int R,
                                                                          const float *pf, const uint16_t *ph,
                                                                          int in, const float *b, float *Y,
                                                                          size_t ldy, int width, float *lanes)
{
    __m512 acc[WP_ROWS][4];
    _Pragma("GCC unroll 6") for (int r = 0; r < R; r++)
        _Pragma("GCC unroll 4") for (int v = 0; v < 4; v++) acc[r][v] = _mm512_setzero_ps();
    for (int k = 0; k < in; k++) {
        __m512 w[4];
        load_panel_row512(pf, ph, k, w);
        _Pragma("GCC unroll 6") for (int r = 0; r < R; r++) {
            __m512 x = _mm512_set1_ps(X[(size_t)r * ldx + k]);
            _Pragma("GCC unroll 4") for (int v = 0; v < 4; v++) acc[r][v] = _mm512_fmadd_ps(x, w[v], acc[r][v]);
        }
    }
    _Pragma("GCC unroll 4") for (int v = 0; v < 4; v++) {
        int n = width - 16 * v;
        if (n <= 0) break;
        __mmask16 m = n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u);
        __m512 bias = b ? _mm512_maskz_loadu_ps(m, b + 16 * v) : _mm512_setzero_ps();
        _Pragma("GCC unroll 6") for (int r = 0; r < R; r++) {
            acc[r][v] = _mm512_add_ps(acc[r][v], bias);
            _mm512_mask_storeu_ps(Y + (size_t)r * ldy + 16 * v, m, acc[r][v]);
        }
    }
    if (!lanes) return;
    _Pragma("GCC unroll 6") for (int r = 0; r < R; r++) {
        __m512 most = _mm512_loadu_ps(lanes + 16 * r);
        _Pragma("GCC unroll 4") for (int v = 0; v < 4; v++) {
            int n = width - 16 * v;
            if (n <= 0) break;
            __mmask16 m = n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u);
            most = _mm512_mask_max_ps(most, m, most, acc[r][v]);
        }
        _mm512_storeu_ps(lanes + 16 * r, most);
    }
}

#define BLOCK512(R)                                                                                              \
    AVX512_TARGET static void block512_##R(const float *X, size_t ldx, const float *pf, const uint16_t *ph,     \
                                           int in, const float *b, float *Y, size_t ldy, int width,           \
                                           float *lanes)                                                        \
    {                                                                                                            \
        if (pf) block512(X, ldx, R, pf, NULL, in, b, Y, ldy, width, lanes);                                     \
        else block512(X, ldx, R, NULL, ph, in, b, Y, ldy, width, lanes);                                        \
    }
BLOCK512(1) BLOCK512(2) BLOCK512(3) BLOCK512(4) BLOCK512(5) BLOCK512(6)
static const block_set blocks512 = {{NULL, block512_1, block512_2, block512_3, block512_4, block512_5, block512_6},
                                    WP_ROWS, WP_WIDTH};

/* ---- AVX2 path: half a panel (32 columns, 4 vectors) per block ------------- */
#define AVX2_TARGET __attribute__((target("avx2,fma,f16c")))

AVX2_TARGET static inline __attribute__((always_inline)) void block_avx2(const float *X, size_t ldx, int R,
                                                                          const float *pf, const uint16_t *ph,
                                                                          int in, const float *b, float *Y,
                                                                          size_t ldy, int width, float *lanes)
{
    __m256 acc[WP_ROWS_AVX2][4];
    _Pragma("GCC unroll 2") for (int r = 0; r < R; r++)
        _Pragma("GCC unroll 4") for (int v = 0; v < 4; v++) acc[r][v] = _mm256_setzero_ps();
    for (int k = 0; k < in; k++) {
        __m256 w[4];
        _Pragma("GCC unroll 4") for (int v = 0; v < 4; v++) {
            if (pf) w[v] = _mm256_load_ps(pf + (size_t)k * WP_WIDTH + 8 * v);
            else w[v] = _mm256_cvtph_ps(_mm_load_si128((const __m128i *)(const void *)(ph + (size_t)k * WP_WIDTH + 8 * v)));
        }
        _Pragma("GCC unroll 2") for (int r = 0; r < R; r++) {
            __m256 x = _mm256_set1_ps(X[(size_t)r * ldx + k]);
            _Pragma("GCC unroll 4") for (int v = 0; v < 4; v++) acc[r][v] = _mm256_fmadd_ps(x, w[v], acc[r][v]);
        }
    }
    for (int r = 0; r < R; r++) {
        float sums[32];
        _Pragma("GCC unroll 4") for (int v = 0; v < 4; v++) _mm256_storeu_ps(sums + 8 * v, acc[r][v]);
        float *y = Y + (size_t)r * ldy;
        for (int j = 0; j < width; j++) {
            y[j] = sums[j] + (b ? b[j] : 0.0f);
            if (lanes && y[j] > lanes[16 * r + j % 16]) lanes[16 * r + j % 16] = y[j];
        }
    }
}

#define BLOCK_AVX2(R)                                                                                            \
    AVX2_TARGET static void block_avx2_##R(const float *X, size_t ldx, const float *pf, const uint16_t *ph,     \
                                           int in, const float *b, float *Y, size_t ldy, int width,           \
                                           float *lanes)                                                        \
    {                                                                                                            \
        if (pf) block_avx2(X, ldx, R, pf, NULL, in, b, Y, ldy, width, lanes);                                   \
        else block_avx2(X, ldx, R, NULL, ph, in, b, Y, ldy, width, lanes);                                      \
    }
BLOCK_AVX2(1) BLOCK_AVX2(2)
static const block_set blocks_avx2 = {{NULL, block_avx2_1, block_avx2_2}, WP_ROWS_AVX2, 32};

/* Rows for the next block when `left` rows remain, blocks of at most `most`:
 * full blocks, but the last two blocks are split evenly (a 6-row block and a
 * 2-row block become two of 4), since a block of few rows reads the same
 * weights for less work. */
static int block_rows(int left, int most)
{
    if (left <= most) return left;
    if (left < 2 * most) return left / 2;
    return most;
}

/* Column group by column group (a group of a panel stays in cache while
 * every block of rows passes), each through set's blocks of rows; with
 * lanes (rows x 16, -infinity to start), each block's values are folded
 * into its rows' running maxima as it is stored. */
static void matmul_wp_blocks(const float *X, size_t ldx, const wpack *W, const float *b, float *Y, size_t ldy,
                             int rows, const block_set *set, float *lanes)
{
    for (int o0 = 0; o0 < W->out; o0 += set->cols) {
        int width = W->out - o0 < set->cols ? W->out - o0 : set->cols;
        size_t at = (size_t)(o0 / WP_WIDTH) * (size_t)W->in * WP_WIDTH + (size_t)(o0 % WP_WIDTH);
        const float *pf = W->f32 ? W->f32 + at : NULL;
        const uint16_t *ph = W->f16 ? W->f16 + at : NULL;
        for (int r = 0, R; r < rows; r += R) {
            R = block_rows(rows - r, set->rows);
            set->block[R](X + (size_t)r * ldx, ldx, pf, ph, W->in, b ? b + o0 : NULL, Y + (size_t)r * ldy + o0,
                          ldy, width, lanes ? lanes + 16 * (size_t)r : NULL);
        }
    }
}
#endif /* S2S_X86 */

void matmul_wp_max(const float *X, size_t ldx, const wpack *W, const float *b, float *Y, size_t ldy, int rows,
                   float *row_max, float *lanes)
{
    if (rows <= 0 || W->out <= 0) return;
#ifdef S2S_X86 /* half panels exist only on CPUs with F16C (wpack_init_half) */
    if (kernels_have_avx2()) {
        if (row_max)
            for (size_t i = 0; i < 16 * (size_t)rows; i++) lanes[i] = -INFINITY;
        matmul_wp_blocks(X, ldx, W, b, Y, ldy, rows, kernels_have_avx512() ? &blocks512 : &blocks_avx2,
                         row_max ? lanes : NULL);
        if (row_max)
            for (int r = 0; r < rows; r++) row_max[r] = largest_of(lanes + 16 * (size_t)r, 16);
        return;
    }
#endif
    (void)lanes;
    matmul_wp_portable(X, ldx, W, b, Y, ldy, rows);
    if (row_max)
        for (int r = 0; r < rows; r++) row_max[r] = largest_of(Y + (size_t)r * ldy, W->out);
}

void matmul_wp(const float *X, size_t ldx, const wpack *W, const float *b, float *Y, size_t ldy, int rows)
{
    matmul_wp_max(X, ldx, W, b, Y, ldy, rows, NULL, NULL);
}

void matmul_wp_or_q8(const qmat *qw, const float *X, size_t ldx, const wpack *W, const float *b, float *Y,
                     size_t ldy, int rows, float *scratch)
{
    if (qw) matmul_q8(X, ldx, qw, b, Y, ldy, rows, scratch);
    else matmul_wp(X, ldx, W, b, Y, ldy, rows);
}
