/*
 * kernels.c - dot products, nonlinearities, softmax, half widening and the
 * int8 products (see kernels.h; the float32 products with weights are in
 * matmul.c).
 *
 * Every dot product, whichever path computes it, is: eight running lanes
 * over k = 0, 8, 16, ... (lane l takes k = 8i + l), a fixed pairwise sum of
 * the lanes, then the leftover k added one by one. The AVX2 path uses fused
 * multiply-adds for all of it; the portable path plain multiply-add.
 */
#include "kernels.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define S2S_X86 1
#endif

/* The widest kernels allowed (kernels_limit); the CPU decides below it. */
static kernels_isa isa_cap = KERNELS_ANY;

void kernels_limit(kernels_isa widest)
{
    isa_cap = widest;
}

int kernels_have_avx2(void)
{
#ifdef S2S_X86
    return isa_cap >= KERNELS_AVX2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

/* ---- portable path -------------------------------------------------------- */

static float dot_portable(const float *a, const float *b, int n)
{
    float lane[8] = {0};
    int k = 0;
    for (; k + 8 <= n; k += 8)
        for (int l = 0; l < 8; l++) lane[l] += a[k + l] * b[k + l];
    float s = ((lane[0] + lane[4]) + (lane[2] + lane[6])) + ((lane[1] + lane[5]) + (lane[3] + lane[7]));
    for (; k < n; k++) s += a[k] * b[k];
    return s;
}

/* ---- AVX2 + FMA path ------------------------------------------------------- */
#ifdef S2S_X86
#define AVX_TARGET __attribute__((target("avx2,fma")))

/* Sum of the 8 lanes in the fixed order ((0+4)+(2+6)) + ((1+5)+(3+7)). */
AVX_TARGET static inline float hsum8(__m256 v)
{
    __m128 lo = _mm256_castps256_ps128(v);
    __m128 hi = _mm256_extractf128_ps(v, 1);
    __m128 s = _mm_add_ps(lo, hi);              /* 0+4, 1+5, 2+6, 3+7 */
    __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s)); /* (0+4)+(2+6), (1+5)+(3+7) */
    t = _mm_add_ss(t, _mm_shuffle_ps(t, t, 1));
    return _mm_cvtss_f32(t);
}

/* Adds the k >= k0 leftovers of a dot product to its lane sum, with FMA. */
AVX_TARGET static inline float fma_tail(float lanes, const float *a, const float *b, int k0, int n)
{
    __m128 s = _mm_set_ss(lanes);
    for (int k = k0; k < n; k++) s = _mm_fmadd_ss(_mm_load_ss(a + k), _mm_load_ss(b + k), s);
    return _mm_cvtss_f32(s);
}

/* Finishes one dot product: lanes, then the k >= k0 leftovers with FMA. */
AVX_TARGET static inline float dot_tail(__m256 acc, const float *a, const float *b, int k0, int n)
{
    return fma_tail(hsum8(acc), a, b, k0, n);
}

AVX_TARGET static float dot_avx2(const float *a, const float *b, int n)
{
    __m256 acc = _mm256_setzero_ps();
    int k = 0;
    for (; k + 8 <= n; k += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), acc);
    return dot_tail(acc, a, b, k, n);
}

/* ---- AVX-512: the elementwise and row kernels, 16 lanes wide ---------------- */
#define AVX512_TARGET __attribute__((target("avx512f,avx512dq,avx2,fma")))

int kernels_have_avx512(void)
{
    return isa_cap >= KERNELS_AVX512 && kernels_have_avx2() && __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512dq");
}
#endif /* S2S_X86 */

float dot(const float *a, const float *b, int n)
{
#ifdef S2S_X86
    if (kernels_have_avx2()) return dot_avx2(a, b, n);
#endif
    return dot_portable(a, b, n);
}

/* ---- exponential ----------------------------------------------------------
 * exp(x) = 2^k * exp(r), k = round(x / ln 2), r = x - k ln 2 split in a high
 * and a low part; exp(r) on |r| <= ln2/2 by the degree-6 minimax polynomial
 * of the Cephes library (about 1 ulp). Inputs are clamped to the float
 * range first. Every element, vector lane or tail, takes the same path, so
 * results never depend on where an element sits in a row. */
#define EXP_HI 88.3762626647949f
#define EXP_LO -87.3365447504f
#define LOG2E 1.44269504088896341f
#define LN2_HI 0.693359375f
#define LN2_LO -2.12194440e-4f
#define EXP_P0 1.9875691500e-4f
#define EXP_P1 1.3981999507e-3f
#define EXP_P2 8.3334519073e-3f
#define EXP_P3 4.1665795894e-2f
#define EXP_P4 1.6666665459e-1f
#define EXP_P5 5.0000001201e-1f
/* tanh on |x| < TANH_SMALL: x + x^3 P(x^2), Cephes' minimax polynomial;
 * above it 1 - 2 / (exp(2|x|) + 1), which loses relative precision near 0. */
#define TANH_SMALL 0.625f
#define TANH_P0 -5.70498872745e-3f
#define TANH_P1 2.06390887954e-2f
#define TANH_P2 -5.37397155531e-2f
#define TANH_P3 1.33314422036e-1f
#define TANH_P4 -3.33332819422e-1f

static float exp_portable(float x)
{
    if (x < EXP_LO) return 0.0f; /* below the normal range: 0, not a subnormal */
    x = x > EXP_HI ? EXP_HI : x;
    float k = nearbyintf(x * LOG2E);
    float r = x - k * LN2_HI;
    r = r - k * LN2_LO;
    float p = EXP_P0;
    p = p * r + EXP_P1; p = p * r + EXP_P2; p = p * r + EXP_P3;
    p = p * r + EXP_P4; p = p * r + EXP_P5;
    p = p * (r * r) + r + 1.0f;
    return ldexpf(p, (int)k);
}

#ifdef S2S_X86
AVX_TARGET static inline __m256 exp8(__m256 x)
{
    /* lanes below the normal range give 0: subnormal results would only slow
     * every later product that touches them */
    __m256 in_range = _mm256_cmp_ps(x, _mm256_set1_ps(EXP_LO), _CMP_GE_OQ);
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(EXP_LO)), _mm256_set1_ps(EXP_HI));
    __m256 k = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(LN2_HI), x);
    r = _mm256_fnmadd_ps(k, _mm256_set1_ps(LN2_LO), r);
    __m256 p = _mm256_set1_ps(EXP_P0);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EXP_P1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EXP_P2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EXP_P3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EXP_P4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EXP_P5));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    /* 2^k: k + 127 in the exponent field; k in [-126, 127] after the clamp */
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
    return _mm256_and_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(e)), in_range);
}

/* f in {exp, sigmoid, tanh} over x (n,) in place, 8 at a time; the tail is
 * padded into one more vector so it takes the same path. */
enum vfun { VF_EXP, VF_SIGMOID, VF_TANH };

AVX_TARGET static inline __m256 vfun8(__m256 x, enum vfun f)
{
    __m256 one = _mm256_set1_ps(1.0f);
    switch (f) {
    case VF_EXP: return exp8(x);
    case VF_SIGMOID: /* 1 / (1 + exp(-x)) */
        return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
    case VF_TANH: { /* small |x|: polynomial; else sign(x) (1 - 2 / (exp(2|x|) + 1)) */
        __m256 sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
        __m256 ax = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
        __m256 e = exp8(_mm256_add_ps(ax, ax));
        __m256 big = _mm256_or_ps(_mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, one))), sign);
        __m256 z = _mm256_mul_ps(x, x), p = _mm256_set1_ps(TANH_P0);
        p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(TANH_P1));
        p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(TANH_P2));
        p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(TANH_P3));
        p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(TANH_P4));
        __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), x, x);
        return _mm256_blendv_ps(big, small, _mm256_cmp_ps(ax, _mm256_set1_ps(TANH_SMALL), _CMP_LT_OQ));
    }
    }
    return x;
}

AVX_TARGET static void vfun_avx2(float *x, int n, enum vfun f)
{
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, vfun8(_mm256_loadu_ps(x + i), f));
    if (i < n) {
        float buf[8] = {0};
        memcpy(buf, x + i, sizeof(float) * (size_t)(n - i));
        _mm256_storeu_ps(buf, vfun8(_mm256_loadu_ps(buf), f));
        memcpy(x + i, buf, sizeof(float) * (size_t)(n - i));
    }
}

/* exp8, vfun8 and vfun_avx2 on 16 lanes: the same operations in the same
 * order lane by lane, so every element gets the bits the AVX2 path gives it
 * (the AVX-512 loop leaves the last n % 16 elements to vfun_avx2). */
AVX512_TARGET static inline __m512 exp16(__m512 x)
{
    __mmask16 in_range = _mm512_cmp_ps_mask(x, _mm512_set1_ps(EXP_LO), _CMP_GE_OQ);
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(EXP_LO)), _mm512_set1_ps(EXP_HI));
    __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(LOG2E)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(LN2_HI), x);
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(LN2_LO), r);
    __m512 p = _mm512_set1_ps(EXP_P0);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_P1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_P2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_P3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_P4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(EXP_P5));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(k), _mm512_set1_epi32(127)), 23);
    return _mm512_maskz_mov_ps(in_range, _mm512_mul_ps(p, _mm512_castsi512_ps(e)));
}

AVX512_TARGET static inline __m512 vfun16(__m512 x, enum vfun f)
{
    __m512 one = _mm512_set1_ps(1.0f);
    switch (f) {
    case VF_EXP: return exp16(x);
    case VF_SIGMOID: return _mm512_div_ps(one, _mm512_add_ps(one, exp16(_mm512_sub_ps(_mm512_setzero_ps(), x))));
    case VF_TANH: {
        __m512 sign = _mm512_and_ps(x, _mm512_set1_ps(-0.0f));
        __m512 ax = _mm512_andnot_ps(_mm512_set1_ps(-0.0f), x);
        __m512 e = exp16(_mm512_add_ps(ax, ax));
        __m512 big = _mm512_or_ps(_mm512_sub_ps(one, _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, one))), sign);
        __m512 z = _mm512_mul_ps(x, x), p = _mm512_set1_ps(TANH_P0);
        p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(TANH_P1));
        p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(TANH_P2));
        p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(TANH_P3));
        p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(TANH_P4));
        __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(p, z), x, x);
        return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(ax, _mm512_set1_ps(TANH_SMALL), _CMP_LT_OQ), big, small);
    }
    }
    return x;
}

AVX512_TARGET static void vfun_avx512(float *x, int n, enum vfun f)
{
    int i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, vfun16(_mm512_loadu_ps(x + i), f));
    if (i < n) vfun_avx2(x + i, n - i, f);
}

/* The widest elementwise path this CPU has. */
static void vfun_best(float *x, int n, enum vfun f)
{
    if (kernels_have_avx512()) vfun_avx512(x, n, f);
    else vfun_avx2(x, n, f);
}
#endif

#ifdef S2S_X86
/* Finishes one score: tmp[0..a) holds tanh(wq + k) already; the rest, then
 * va . tmp + vb. */
AVX_TARGET static inline float additive_tail(const float *wq, const float *k, int a, int A, const float *va,
                                             float vb, float *tmp)
{
    for (int i = a; i < A; i++) tmp[i] = wq[i] + k[i];
    if (a < A) vfun_avx2(tmp + a, A - a, VF_TANH);
    return dot_avx2(va, tmp, A) + vb;
}

/* additive_scores for AVX2 / AVX-512: the add, tanh (vfun8 / vfun16, with
 * vfun_avx2's padded tail) and dot_avx2 of each row, without a call per
 * row; the same operations, so the same bits. */
AVX_TARGET static void additive_scores_avx2(const float *wq, const float *keys, int n, int A, const float *va,
                                            float vb, float *e, float *tmp)
{
    for (int j = 0; j < n; j++) {
        const float *k = keys + (size_t)j * A;
        int a = 0;
        for (; a + 8 <= A; a += 8)
            _mm256_storeu_ps(tmp + a, vfun8(_mm256_add_ps(_mm256_loadu_ps(wq + a), _mm256_loadu_ps(k + a)), VF_TANH));
        e[j] = additive_tail(wq, k, a, A, va, vb, tmp);
    }
}

AVX512_TARGET static void additive_scores_avx512(const float *wq, const float *keys, int n, int A,
                                                 const float *va, float vb, float *e, float *tmp)
{
    for (int j = 0; j < n; j++) {
        const float *k = keys + (size_t)j * A;
        int a = 0;
        for (; a + 16 <= A; a += 16)
            _mm512_storeu_ps(tmp + a, vfun16(_mm512_add_ps(_mm512_loadu_ps(wq + a), _mm512_loadu_ps(k + a)), VF_TANH));
        e[j] = additive_tail(wq, k, a, A, va, vb, tmp);
    }
}
#endif

void additive_scores(const float *wq, const float *keys, int n, int A, const float *va, float vb, float *e,
                     float *tmp)
{
#ifdef S2S_X86
    if (kernels_have_avx512()) { additive_scores_avx512(wq, keys, n, A, va, vb, e, tmp); return; }
    if (kernels_have_avx2()) { additive_scores_avx2(wq, keys, n, A, va, vb, e, tmp); return; }
#endif
    for (int j = 0; j < n; j++) {
        const float *k = keys + (size_t)j * A;
        for (int a = 0; a < A; a++) tmp[a] = wq[a] + k[a];
        tanh_inplace(tmp, A);
        e[j] = dot(va, tmp, A) + vb;
    }
}

void exp_inplace(float *x, int n)
{
#ifdef S2S_X86
    if (kernels_have_avx2()) { vfun_best(x, n, VF_EXP); return; }
#endif
    for (int i = 0; i < n; i++) x[i] = exp_portable(x[i]);
}

void sigmoid_inplace(float *x, int n)
{
#ifdef S2S_X86
    if (kernels_have_avx2()) { vfun_best(x, n, VF_SIGMOID); return; }
#endif
    for (int i = 0; i < n; i++) x[i] = 1.0f / (1.0f + exp_portable(-x[i]));
}

void tanh_inplace(float *x, int n)
{
#ifdef S2S_X86
    if (kernels_have_avx2()) { vfun_best(x, n, VF_TANH); return; }
#endif
    for (int i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        if (a < TANH_SMALL) {
            float z = x[i] * x[i];
            float p = (((TANH_P0 * z + TANH_P1) * z + TANH_P2) * z + TANH_P3) * z + TANH_P4;
            x[i] = p * z * x[i] + x[i];
        } else {
            x[i] = copysignf(1.0f - 2.0f / (exp_portable(a + a) + 1.0f), x[i]);
        }
    }
}

/* ---- floating-point mode ------------------------------------------------- */

unsigned fp_flush_subnormals_begin(void)
{
#ifdef S2S_X86
    unsigned old = _mm_getcsr();
    _mm_setcsr(old | 0x8040u); /* FTZ (bit 15) and DAZ (bit 6) */
    return old;
#else
    return 0;
#endif
}

void fp_flush_subnormals_end(unsigned saved)
{
#ifdef S2S_X86
    _mm_setcsr(saved);
#else
    (void)saved;
#endif
}

/* ---- half precision to float32 ------------------------------------------ */

#ifdef S2S_X86
/* CPUID leaf 1, ECX bit 29 (clang's __builtin_cpu_supports has no "f16c"),
 * asked once: under a hypervisor every CPUID instruction traps, and the
 * embedding rows of an F16 model are widened at every decoder step. */
int kernels_have_f16c(void)
{
    static atomic_int known = -1; /* racing first calls store the same value */
    int k = atomic_load_explicit(&known, memory_order_relaxed);
    if (k < 0) {
        unsigned a, b, c, d;
        k = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29));
        atomic_store_explicit(&known, k, memory_order_relaxed);
    }
    return k;
}
#else
int kernels_have_f16c(void)
{
    return 0;
}
#endif

#ifdef S2S_X86
__attribute__((target("avx2,f16c"))) static size_t f16_block_f16c(const unsigned char *src, float *dst, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(src + 2 * i))));
    return i;
}

AVX_TARGET static size_t bf16_block_avx2(const unsigned char *src, float *dst, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(const void *)(src + 2 * i)));
        _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(w, 16)));
    }
    return i;
}
#endif

size_t widen_half_block(const void *src, float *dst, size_t n, int bf16)
{
#ifdef S2S_X86
    if (bf16 && kernels_have_avx2()) return bf16_block_avx2(src, dst, n);
    if (!bf16 && kernels_have_avx2() && kernels_have_f16c()) return f16_block_f16c(src, dst, n);
#endif
    (void)src; (void)dst; (void)n; (void)bf16;
    return 0;
}

/* Exact IEEE binary16 -> binary32 (subnormals, infinities and NaN payloads
 * included; every half value is representable as a float). */
static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {
            /* subnormal: mant x 2^-24; normalise the mantissa */
            int e = -1;
            do {
                e++;
                mant <<= 1;
            } while (!(mant & 0x400u));
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Exact bfloat16 -> binary32: the upper half of the float's bits. */
static float bf16_to_float(uint16_t h)
{
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Widens n little-endian F16 (bf16 == 0) or BF16 values at `src` (any
 * alignment) to float32 in `dst`; exact. Vector blocks first, then the tail. */
void widen_half(const void *src, float *dst, size_t n, int bf16)
{
    const unsigned char *p = src;
    size_t i = widen_half_block(src, dst, n, bf16);
    for (; i < n; i++) {
        uint16_t h = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
        dst[i] = bf16 ? bf16_to_float(h) : half_to_float(h);
    }
}

/* ---- non-finite values ---------------------------------------------------
 * A float is NaN or infinite exactly when its exponent bits are all ones:
 * 0x7f80 in the top half of an F32 and in a BF16, 0x7c00 in an F16. The
 * scan reads the bits as they are in the file. Blocks of NONFINITE_BLOCK
 * elements (a fixed trip count with a branch-free OR, which compilers
 * vectorize at -O2) only find the block; the scalar loop finds the element. */

#define NONFINITE_BLOCK 64

static int little_endian_host(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* first_nonfinite for 16-bit values with exponent mask `mask`. */
static long long first_all_ones_16(const unsigned char *p, size_t n, uint16_t mask)
{
    size_t i = 0;
    for (; little_endian_host() && i + NONFINITE_BLOCK <= n; i += NONFINITE_BLOCK) {
        uint16_t v[NONFINITE_BLOCK];
        memcpy(v, p + 2 * i, sizeof v);
        unsigned bad = 0;
        for (int k = 0; k < NONFINITE_BLOCK; k++) bad |= (uint16_t)(v[k] & mask) == mask;
        if (bad) break;
    }
    for (; i < n; i++)
        if (((uint16_t)(p[2 * i] | p[2 * i + 1] << 8) & mask) == mask) return (long long)i;
    return -1;
}

/* first_nonfinite for F32. */
static long long first_all_ones_32(const unsigned char *p, size_t n)
{
    const uint32_t mask = 0x7f800000u;
    size_t i = 0;
    for (; little_endian_host() && i + NONFINITE_BLOCK <= n; i += NONFINITE_BLOCK) {
        uint32_t v[NONFINITE_BLOCK];
        memcpy(v, p + 4 * i, sizeof v);
        unsigned bad = 0;
        for (int k = 0; k < NONFINITE_BLOCK; k++) bad |= (v[k] & mask) == mask;
        if (bad) break;
    }
    for (; i < n; i++) {
        const unsigned char *q = p + 4 * i;
        uint32_t x = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
        if ((x & mask) == mask) return (long long)i;
    }
    return -1;
}

long long first_nonfinite(const void *src, size_t n, int bytes, int bf16)
{
    const unsigned char *p = src;
    if (bytes == 4) return first_all_ones_32(p, n);
    return first_all_ones_16(p, n, bf16 ? 0x7f80u : 0x7c00u);
}

void weights_row(const weights *W, size_t row, int cols, float *dst)
{
    if (W->f32)
        memcpy(dst, W->f32 + row * cols, sizeof(float) * (size_t)cols);
    else
        widen_half((const unsigned char *)W->half + 2 * row * cols, dst, (size_t)cols, W->bf16);
}

/* ---- vector helpers -------------------------------------------------------- */

#ifdef S2S_X86
/* Sum of x (n) in eight lanes, then the fixed lane order, then the tail. */
AVX_TARGET static float sum_avx2(const float *x, int n)
{
    __m256 acc = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= n; i += 8) acc = _mm256_add_ps(acc, _mm256_loadu_ps(x + i));
    float s = hsum8(acc);
    for (; i < n; i++) s += x[i];
    return s;
}

AVX_TARGET static void axpy_avx2(float a, const float *x, float *y, int n)
{
    __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] = fmaf(a, x[i], y[i]);
}

/* y (n) = (x - m) - lse, 8 at a time; the same two roundings per element as
 * the scalar tail. */
AVX_TARGET static void shift_avx2(const float *x, float m, float lse, float *y, int n)
{
    __m256 vm = _mm256_set1_ps(m), vl = _mm256_set1_ps(lse);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm), vl));
    for (; i < n; i++) y[i] = (x[i] - m) - lse;
}

/* shift_avx2 16 at a time (the same operations per element) */
AVX512_TARGET static void shift_avx512(const float *x, float m, float lse, float *y, int n)
{
    __m512 vm = _mm512_set1_ps(m), vl = _mm512_set1_ps(lse);
    int i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_sub_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i), vm), vl));
    shift_avx2(x + i, m, lse, y + i, n - i);
}
#endif

/* Sum of x (n); a fixed order for a given n. */
static float sum_of(const float *x, int n)
{
#ifdef S2S_X86
    if (kernels_have_avx2()) return sum_avx2(x, n);
#endif
    float s = 0.0f;
    for (int i = 0; i < n; i++) s += x[i];
    return s;
}

/* y (n) = (x - m) - lse, element by element (y may be x). */
static void shift_by(const float *x, float m, float lse, float *y, int n)
{
#ifdef S2S_X86
    if (kernels_have_avx512()) { shift_avx512(x, m, lse, y, n); return; }
    if (kernels_have_avx2()) { shift_avx2(x, m, lse, y, n); return; }
#endif
    for (int i = 0; i < n; i++) y[i] = (x[i] - m) - lse;
}

#ifdef S2S_X86
AVX_TARGET static float max_avx2(const float *x, int n)
{
    __m256 m = _mm256_set1_ps(x[0]);
    int i = 0;
    for (; i + 8 <= n; i += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(x + i));
    float lane[8], r = x[0];
    _mm256_storeu_ps(lane, m);
    for (int j = 0; j < 8; j++) r = lane[j] > r ? lane[j] : r;
    for (; i < n; i++) r = x[i] > r ? x[i] : r;
    return r;
}

/* max_avx2 16 lanes wide; order does not matter for a maximum */
AVX512_TARGET static float max_avx512(const float *x, int n)
{
    if (n < 16) return max_avx2(x, n);
    __m512 m = _mm512_loadu_ps(x);
    int i = 16;
    for (; i + 16 <= n; i += 16) m = _mm512_max_ps(m, _mm512_loadu_ps(x + i));
    float r = _mm512_reduce_max_ps(m);
    for (; i < n; i++) r = x[i] > r ? x[i] : r;
    return r;
}
#endif

/* The largest of x (n >= 1); order does not matter for a maximum. */
float largest_of(const float *x, int n)
{
#ifdef S2S_X86
    if (kernels_have_avx512()) return max_avx512(x, n);
    if (kernels_have_avx2()) return max_avx2(x, n);
#endif
    float m = x[0];
    for (int i = 1; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

void softmax(float *x, int n)
{
    float m = largest_of(x, n);
    shift_by(x, m, 0.0f, x, n);
    exp_inplace(x, n);
    float inv = 1.0f / sum_of(x, n);
    for (int i = 0; i < n; i++) x[i] *= inv;
}

/* The shifted logits are kept (log(exp(x)) would lose precision) and their
 * exps summed block by block through a small buffer. */
#define LSM_BLOCK 256
void log_softmax(float *x, int n)
{
    log_softmax_from_max(x, n, largest_of(x, n));
}

void log_softmax_from_max(float *x, int n, float m)
{
    float buf[LSM_BLOCK];
    double s = 0.0;
    for (int i = 0; i < n; i += LSM_BLOCK) {
        int c = n - i < LSM_BLOCK ? n - i : LSM_BLOCK;
        shift_by(x + i, m, 0.0f, buf, c);
        exp_inplace(buf, c);
        s += sum_of(buf, c); /* one block in float, the blocks in double */
    }
    float lse = (float)log(s);
    shift_by(x, m, lse, x, n);
}

/* Folds x[k] into the two largest (m1 >= m2) seen so far. */
static inline void keep_two(float v, float *m1, float *m2)
{
    if (v > *m1) {
        *m2 = *m1;
        *m1 = v;
    } else if (v > *m2) {
        *m2 = v;
    }
}

/* keep_two over x[0..n). */
static void keep_two_of(const float *x, int n, float *m1, float *m2)
{
    for (int k = 0; k < n; k++) keep_two(x[k], m1, m2);
}

#ifdef S2S_X86
/* Per lane the two largest, then merged: the two largest of x[0..n). */
AVX_TARGET static void two_largest_avx2(const float *x, int n, float *m1, float *m2)
{
    __m256 a = _mm256_set1_ps(-INFINITY), b = a;
    int k = 0;
    for (; k + 8 <= n; k += 8) {
        __m256 v = _mm256_loadu_ps(x + k);
        b = _mm256_max_ps(b, _mm256_min_ps(a, v));
        a = _mm256_max_ps(a, v);
    }
    float lanes[16]; /* each lane's largest, then each lane's second */
    _mm256_storeu_ps(lanes, a);
    _mm256_storeu_ps(lanes + 8, b);
    keep_two_of(lanes, 16, m1, m2);
    keep_two_of(x + k, n - k, m1, m2);
}

AVX_TARGET static int next_at_least_avx2(const float *x, int from, int n, float lo)
{
    __m256 vlo = _mm256_set1_ps(lo);
    int k = from;
    for (; k + 8 <= n; k += 8) {
        int mask = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + k), vlo, _CMP_GE_OQ));
        if (mask) return k + __builtin_ctz((unsigned)mask);
    }
    for (; k < n; k++)
        if (x[k] >= lo) return k;
    return n;
}

/* two_largest_avx2 with 16 lanes: the two largest values are the same
 * whatever the lanes */
AVX512_TARGET static void two_largest_avx512(const float *x, int n, float *m1, float *m2)
{
    __m512 a = _mm512_set1_ps(-INFINITY), b = a;
    int k = 0;
    for (; k + 16 <= n; k += 16) {
        __m512 v = _mm512_loadu_ps(x + k);
        b = _mm512_max_ps(b, _mm512_min_ps(a, v));
        a = _mm512_max_ps(a, v);
    }
    float lanes[32];
    _mm512_storeu_ps(lanes, a);
    _mm512_storeu_ps(lanes + 16, b);
    keep_two_of(lanes, 32, m1, m2);
    two_largest_avx2(x + k, n - k, m1, m2);
}

/* next_at_least_avx2 16 at a time */
AVX512_TARGET static int next_at_least_avx512(const float *x, int from, int n, float lo)
{
    __m512 vlo = _mm512_set1_ps(lo);
    int k = from;
    for (; k + 16 <= n; k += 16) {
        __mmask16 mask = _mm512_cmp_ps_mask(_mm512_loadu_ps(x + k), vlo, _CMP_GE_OQ);
        if (mask) return k + __builtin_ctz((unsigned)mask);
    }
    return next_at_least_avx2(x, k, n, lo);
}
#endif

static void two_largest(const float *x, int n, float *m1, float *m2)
{
#ifdef S2S_X86
    if (kernels_have_avx512()) { two_largest_avx512(x, n, m1, m2); return; }
    if (kernels_have_avx2()) { two_largest_avx2(x, n, m1, m2); return; }
#endif
    keep_two_of(x, n, m1, m2);
}

void largest_two(const float *x, int n, float *m1, float *m2)
{
    *m1 = *m2 = -INFINITY;
    two_largest(x, n, m1, m2);
}

float second_largest(const float *x, int n, int skip)
{
    float m1 = -INFINITY, m2 = -INFINITY;
    if (skip < 0 || skip >= n) {
        two_largest(x, n, &m1, &m2);
    } else {
        two_largest(x, skip, &m1, &m2);
        two_largest(x + skip + 1, n - skip - 1, &m1, &m2);
    }
    return m2;
}

int next_at_least(const float *x, int from, int n, float lo)
{
#ifdef S2S_X86
    if (kernels_have_avx512()) return next_at_least_avx512(x, from, n, lo);
    if (kernels_have_avx2()) return next_at_least_avx2(x, from, n, lo);
#endif
    for (int k = from; k < n; k++)
        if (x[k] >= lo) return k;
    return n;
}

int top_two_of_logits(const float *z, int n, int ids[2])
{
    float m1, m2;
    largest_two(z, n, &m1, &m2);
    if (!(m2 > -INFINITY) || !(m1 - m2 > 0x1p-14f)) return 0;
    float lo = m2 - 0x1p-18f * ((m1 - m2) + 64.0f);
    int found[2], k = 0;
    for (int v = next_at_least(z, 0, n, lo); v < n; v = next_at_least(z, v + 1, n, lo)) {
        if (k == 2) return 0; /* a third logit close to the second */
        found[k++] = v;
    }
    if (k != 2) return 0;
    int best = z[found[0]] > z[found[1]] ? 0 : 1;
    ids[0] = found[best];
    ids[1] = found[1 - best];
    return 1;
}

void axpy(float a, const float *x, float *y, int n)
{
#ifdef S2S_X86
    if (kernels_have_avx2()) { axpy_avx2(a, x, y, n); return; }
#endif
    for (int i = 0; i < n; i++) y[i] += a * x[i];
}

/* ---- int8 weights (the fast mode) -------------------------------------------
 * Weights are int8 (-127..127, a scale per row). Activations are quantized
 * per row to 7 bits (-63..63) and stored biased by Q8_X_BIAS as unsigned
 * bytes (1..127), as the VNNI and AVX2 instructions want one unsigned
 * operand: sum_k (xq_k + 64) q_k = sum_k xq_k q_k + corr, corr = 64 sum_k q_k,
 * so the exact int32 dot product is the biased sum minus corr. Seven bits
 * keep AVX2's vpmaddubsw exact: a pair of products is at most
 * 2 * 127 * 127 = 32258, inside int16, so every path sums the same integers. */
#define Q8_X_MAX 63
#define Q8_X_BIAS 64

#include <stdlib.h>

#define Q8_ALIGN 64

static int q8_pad(int in)
{
    return (in + Q8_ALIGN - 1) / Q8_ALIGN * Q8_ALIGN;
}

int q8_rows_padded(int out)
{
    return (out + Q8_PANEL - 1) / Q8_PANEL * Q8_PANEL;
}

/* The byte of weight (o, k) in a qmat's panels. */
static size_t q8_at(int in_pad, int o, int k)
{
    return ((size_t)(o / Q8_PANEL) * (size_t)(in_pad / 4) + (size_t)(k / 4)) * (4 * Q8_PANEL) +
           (size_t)(o % Q8_PANEL) * 4 + (size_t)(k % 4);
}

/* bytes[k] = round(w[k] / sc) clamped to -127..127 for k = from .. in - 1;
 * returns their sum. */
static int32_t quantize_weights(const float *w, int from, int in, float sc, int8_t *bytes)
{
    int32_t sum = 0;
    for (int k = from; k < in; k++) {
        float v = nearbyintf(w[k] / sc);
        v = v > 127.0f ? 127.0f : v < -127.0f ? -127.0f : v;
        bytes[k] = (int8_t)v;
        sum += bytes[k];
    }
    return sum;
}

/* Row w (in) quantized: bytes[k] = round(w[k] / scale) clamped to
 * -127..127, scale = max |w| / 127 (1 for a zero row); returns the sum of
 * the bytes. */
static int32_t quantize_weight_row_portable(const float *w, int in, int8_t *bytes, float *scale)
{
    float mx = 0.0f;
    for (int k = 0; k < in; k++) mx = fabsf(w[k]) > mx ? fabsf(w[k]) : mx;
    *scale = mx > 0.0f ? mx / 127.0f : 1.0f;
    return quantize_weights(w, 0, in, *scale, bytes);
}

#ifdef S2S_X86
/* The same, eight at a time: the same division and rounding, so the same
 * bytes. */
AVX_TARGET static int32_t quantize_weight_row_avx2(const float *w, int in, int8_t *bytes, float *scale)
{
    __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)), m = _mm256_setzero_ps();
    int k = 0;
    for (; k + 8 <= in; k += 8) m = _mm256_max_ps(m, _mm256_and_ps(_mm256_loadu_ps(w + k), absmask));
    float lane[8], mx = 0.0f;
    _mm256_storeu_ps(lane, m);
    for (int j = 0; j < 8; j++) mx = lane[j] > mx ? lane[j] : mx;
    for (int t = k; t < in; t++) mx = fabsf(w[t]) > mx ? fabsf(w[t]) : mx;
    float sc = mx > 0.0f ? mx / 127.0f : 1.0f;
    __m256 vsc = _mm256_set1_ps(sc), hi = _mm256_set1_ps(127.0f), lo = _mm256_set1_ps(-127.0f);
    __m256i vsum = _mm256_setzero_si256();
    for (k = 0; k + 8 <= in; k += 8) {
        __m256 v = _mm256_round_ps(_mm256_div_ps(_mm256_loadu_ps(w + k), vsc), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m256i q = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(v, lo), hi));
        vsum = _mm256_add_epi32(vsum, q);
        __m128i w16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
        _mm_storel_epi64((__m128i *)(void *)(bytes + k), _mm_packs_epi16(w16, w16));
    }
    int32_t part[8], sum = quantize_weights(w, k, in, sc, bytes);
    _mm256_storeu_si256((__m256i *)(void *)part, vsum);
    for (int j = 0; j < 8; j++) sum += part[j];
    *scale = sc;
    return sum;
}
#endif

int qmat_init(qmat *q, const float *W, int out, int in)
{
    memset(q, 0, sizeof *q);
    int in_pad = q8_pad(in), out_pad = q8_rows_padded(out);
    q->q = aligned_alloc(Q8_ALIGN, (size_t)out_pad * in_pad);
    q->scale = malloc(sizeof(float) * (size_t)out_pad);
    q->corr = malloc(sizeof(int32_t) * (size_t)out_pad);
    int8_t *bytes = calloc((size_t)in_pad, 1); /* one row, zero-padded to in_pad */
    if (!q->q || !q->scale || !q->corr || !bytes) {
        free(bytes);
        qmat_free(q);
        return 0;
    }
    q->out = out;
    q->in = in;
    q->in_pad = in_pad;
    memset(q->q, 0, (size_t)out_pad * in_pad);
    for (int o = 0; o < out_pad; o++) {
        q->scale[o] = 1.0f;
        q->corr[o] = 0;
    }
    for (int o = 0; o < out; o++) {
        const float *w = W + (size_t)o * in;
        int32_t sum;
#ifdef S2S_X86
        if (kernels_have_avx2()) sum = quantize_weight_row_avx2(w, in, bytes, &q->scale[o]);
        else
#endif
            sum = quantize_weight_row_portable(w, in, bytes, &q->scale[o]);
        q->corr[o] = Q8_X_BIAS * sum;
        int8_t *to = q->q + q8_at(in_pad, o, 0);
        for (int g = 0; g < in_pad; g += 4) memcpy(to + (size_t)g * Q8_PANEL, bytes + g, 4);
    }
    free(bytes);
    return 1;
}

void qmat_gather(qmat *dst, const qmat *src, const int *ids, int k)
{
    int in_pad = src->in_pad, k_pad = q8_rows_padded(k);
    dst->out = k;
    dst->in = src->in;
    dst->in_pad = in_pad;
    for (int i = 0; i < k_pad; i++) {
        int8_t *to = dst->q + q8_at(in_pad, i, 0);
        if (i < k) {
            const int8_t *from = src->q + q8_at(in_pad, ids[i], 0);
            for (int g = 0; g < in_pad; g += 4) memcpy(to + (size_t)g * Q8_PANEL, from + (size_t)g * Q8_PANEL, 4);
            dst->scale[i] = src->scale[ids[i]];
            dst->corr[i] = src->corr[ids[i]];
        } else { /* padding rows: zeros, as qmat_init leaves them */
            for (int g = 0; g < in_pad; g += 4) memset(to + (size_t)g * Q8_PANEL, 0, 4);
            dst->scale[i] = 1.0f;
            dst->corr[i] = 0;
        }
    }
}

void qmat_free(qmat *q)
{
    free(q->q);
    free(q->scale);
    free(q->corr);
    memset(q, 0, sizeof *q);
}

size_t q8_scratch_floats(int rows, int in)
{
    /* biased bytes of every row (plus room to align them), then the row scales */
    return (size_t)rows * (size_t)q8_pad(in) / sizeof(float) + Q8_ALIGN / sizeof(float) + (size_t)rows;
}

#ifdef S2S_X86
/* quantize_row's two passes eight at a time; the same roundings (the
 * conversion rounds to nearest even like nearbyintf), so the same bytes. */
AVX_TARGET static float quantize_row_avx2(const float *x, int in, int in_pad, uint8_t *xb)
{
    __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)), m = _mm256_setzero_ps();
    int k = 0;
    for (; k + 8 <= in; k += 8) m = _mm256_max_ps(m, _mm256_and_ps(_mm256_loadu_ps(x + k), absmask));
    float lane[8], mx = 0.0f;
    _mm256_storeu_ps(lane, m);
    for (int j = 0; j < 8; j++) mx = lane[j] > mx ? lane[j] : mx;
    for (; k < in; k++) mx = fabsf(x[k]) > mx ? fabsf(x[k]) : mx;
    float sc = mx > 0.0f ? mx / (float)Q8_X_MAX : 1.0f, inv = 1.0f / sc;
    __m256 vinv = _mm256_set1_ps(inv), hi = _mm256_set1_ps((float)Q8_X_MAX), lo = _mm256_set1_ps(-(float)Q8_X_MAX);
    __m256i bias = _mm256_set1_epi32(Q8_X_BIAS);
    for (k = 0; k + 8 <= in; k += 8) {
        __m256 v = _mm256_min_ps(_mm256_max_ps(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + k), vinv),
                                                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC),
                                               lo),
                                 hi);
        __m256i q = _mm256_add_epi32(_mm256_cvtps_epi32(v), bias); /* 1..127 */
        __m128i w = _mm_packus_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
        _mm_storel_epi64((__m128i *)(void *)(xb + k), _mm_packus_epi16(w, w));
    }
    for (; k < in; k++) {
        float v = nearbyintf(x[k] * inv);
        v = v > Q8_X_MAX ? Q8_X_MAX : v < -Q8_X_MAX ? -Q8_X_MAX : v;
        xb[k] = (uint8_t)((int)v + Q8_X_BIAS);
    }
    memset(xb + in, Q8_X_BIAS, (size_t)(in_pad - in));
    return sc;
}
#endif

/* Row x (in) -> xb (in_pad biased bytes); returns the row's scale. */
static float quantize_row(const float *x, int in, int in_pad, uint8_t *xb)
{
#ifdef S2S_X86
    if (kernels_have_avx2()) return quantize_row_avx2(x, in, in_pad, xb);
#endif
    float mx = 0.0f;
    for (int k = 0; k < in; k++) mx = fabsf(x[k]) > mx ? fabsf(x[k]) : mx;
    float sc = mx > 0.0f ? mx / (float)Q8_X_MAX : 1.0f, inv = 1.0f / sc;
    for (int k = 0; k < in; k++) {
        float v = nearbyintf(x[k] * inv);
        v = v > Q8_X_MAX ? Q8_X_MAX : v < -Q8_X_MAX ? -Q8_X_MAX : v;
        xb[k] = (uint8_t)((int)v + Q8_X_BIAS);
    }
    memset(xb + in, Q8_X_BIAS, (size_t)(in_pad - in));
    return sc;
}

/* The exact int32 dot product of biased activation bytes x (n) with weight
 * row o of W. */
static int32_t dot_q8_portable(const uint8_t *x, const qmat *W, int o, int n)
{
    int32_t s = 0;
    for (int k = 0; k < n; k++) s += (int32_t)x[k] * W->q[q8_at(W->in_pad, o, k)];
    return s;
}

/* y = (biased sum - corr) * scale_x * scale_w + b */
static inline float q8_out(int32_t sum, const qmat *W, int o, float sx, const float *b)
{
    return (float)(sum - W->corr[o]) * (sx * W->scale[o]) + (b ? b[o] : 0.0f);
}

#ifdef S2S_X86
#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vnni,avx2")))

static int have_vnni(void)
{
    return kernels_have_avx512() && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni");
}

/* Y rows r .. r + RB - 1, outputs o .. o + 16 PB - 1 (those below W->out
 * stored): RB x PB accumulators, lane j of acc[i][p] the dot product of X
 * row i with W row o + 16 p + j. Each step of 4 k's broadcasts 4
 * activation bytes of every row and loads one 64-byte group of every panel,
 * so no lane sum is left to do at the end. q8_out's arithmetic, 16 lanes at
 * a time (the same roundings, so the same bits as the other paths). */
VNNI_TARGET static inline __attribute__((always_inline)) void q8_block_vnni(const uint8_t *x, size_t ldx, int RB,
                                                                             const qmat *W, int o, int PB,
                                                                             const float *sx, const float *b,
                                                                             float *Y, size_t ldy)
{
    int n = W->in_pad;
    const int8_t *wp = W->q + q8_at(n, o, 0);
    size_t panel = (size_t)Q8_PANEL * (size_t)n;
    __m512i acc[4][4];
    _Pragma("GCC unroll 4") for (int i = 0; i < RB; i++)
        _Pragma("GCC unroll 4") for (int p = 0; p < PB; p++) acc[i][p] = _mm512_setzero_si512();
    for (int k = 0; k < n; k += 4) {
        __m512i xv[4];
        _Pragma("GCC unroll 4") for (int i = 0; i < RB; i++) {
            int32_t four;
            memcpy(&four, x + (size_t)i * ldx + k, 4);
            xv[i] = _mm512_set1_epi32(four);
        }
        _Pragma("GCC unroll 4") for (int p = 0; p < PB; p++) {
            __m512i wv = _mm512_loadu_si512(wp + (size_t)p * panel + (size_t)k * Q8_PANEL);
            _Pragma("GCC unroll 4") for (int i = 0; i < RB; i++) acc[i][p] = _mm512_dpbusd_epi32(acc[i][p], xv[i], wv);
        }
    }
    _Pragma("GCC unroll 4") for (int p = 0; p < PB; p++) {
        int op = o + p * Q8_PANEL, left = W->out - op;
        __mmask16 keep = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1u);
        __m512 scale = _mm512_loadu_ps(W->scale + op);
        __m512i corr = _mm512_loadu_si512(W->corr + op);
        __m512 bias = b ? _mm512_maskz_loadu_ps(keep, b + op) : _mm512_setzero_ps();
        _Pragma("GCC unroll 4") for (int i = 0; i < RB; i++) {
            __m512 v = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[i][p], corr));
            v = _mm512_add_ps(_mm512_mul_ps(v, _mm512_mul_ps(_mm512_set1_ps(sx[i]), scale)), bias);
            _mm512_mask_storeu_ps(Y + (size_t)i * ldy + op, keep, v);
        }
    }
}

#define Q8_VNNI(RB, PB)                                                                                             \
    VNNI_TARGET static void q8_vnni_##RB##x##PB(const uint8_t *x, size_t ldx, const qmat *W, int o,                \
                                                const float *sx, const float *b, float *Y, size_t ldy)             \
    {                                                                                                               \
        q8_block_vnni(x, ldx, RB, W, o, PB, sx, b, Y, ldy);                                                         \
    }
Q8_VNNI(1, 1) Q8_VNNI(2, 1) Q8_VNNI(3, 1) Q8_VNNI(4, 1) Q8_VNNI(1, 4) Q8_VNNI(2, 4) Q8_VNNI(3, 4) Q8_VNNI(4, 4)

/* A block of 1-4 rows (blocks[0][rows - 1]) against one panel, or
 * (blocks[1][rows - 1], when given) against 4 panels. */
typedef void (*q8_block_fn)(const uint8_t *x, size_t ldx, const qmat *W, int o, const float *sx, const float *b,
                            float *Y, size_t ldy);
typedef q8_block_fn q8_block_set[2][4];

static const q8_block_set q8_blocks_vnni = {{q8_vnni_1x1, q8_vnni_2x1, q8_vnni_3x1, q8_vnni_4x1},
                                            {q8_vnni_1x4, q8_vnni_2x4, q8_vnni_3x4, q8_vnni_4x4}};

/* Y from the quantized rows xb (n bytes each, scales sx): blocks of 4
 * panels (64 outputs) while the set has them, then single panels; each over
 * blocks of 4 rows, then the 1-3 rows left. */
static void matmul_q8_panels(const uint8_t *xb, size_t n, const float *sx, const qmat *W, const float *b, float *Y,
                             size_t ldy, int rows, const q8_block_set *set)
{
    int panels = q8_rows_padded(W->out) / Q8_PANEL;
    for (int p = 0; p < panels;) {
        int wide = (*set)[1][0] && panels - p >= 4, o = p * Q8_PANEL;
        for (int r = 0; r < rows; r += 4) {
            int rb = rows - r < 4 ? rows - r : 4;
            (*set)[wide][rb - 1](xb + (size_t)r * n, n, W, o, sx + r, b, Y + (size_t)r * ldy, ldy);
        }
        p += wide ? 4 : 1;
    }
}

/* q8_block_vnni with AVX2: a panel's 64-byte group is two 256-bit halves
 * (rows 0-7, 8-15); vpmaddubsw multiplies the unsigned activation bytes by
 * the signed weight bytes and adds pairs into int16 (exact: see the note
 * above), vpmaddwd by ones adds the two pairs of each row into int32. One
 * panel, up to 4 rows: 8 accumulators. */
AVX_TARGET static inline __attribute__((always_inline)) void q8_block_avx2(const uint8_t *x, size_t ldx, int RB,
                                                                           const qmat *W, int o, const float *sx,
                                                                           const float *b, float *Y, size_t ldy)
{
    int n = W->in_pad;
    const int8_t *wp = W->q + q8_at(n, o, 0);
    __m256i acc[4][2], ones = _mm256_set1_epi16(1);
    _Pragma("GCC unroll 4") for (int i = 0; i < RB; i++) acc[i][0] = acc[i][1] = _mm256_setzero_si256();
    for (int k = 0; k < n; k += 4) {
        __m256i w0 = _mm256_loadu_si256((const __m256i *)(const void *)(wp + (size_t)k * Q8_PANEL));
        __m256i w1 = _mm256_loadu_si256((const __m256i *)(const void *)(wp + (size_t)k * Q8_PANEL + 32));
        _Pragma("GCC unroll 4") for (int i = 0; i < RB; i++) {
            int32_t four;
            memcpy(&four, x + (size_t)i * ldx + k, 4);
            __m256i xv = _mm256_set1_epi32(four);
            acc[i][0] = _mm256_add_epi32(acc[i][0], _mm256_madd_epi16(_mm256_maddubs_epi16(xv, w0), ones));
            acc[i][1] = _mm256_add_epi32(acc[i][1], _mm256_madd_epi16(_mm256_maddubs_epi16(xv, w1), ones));
        }
    }
    int left = W->out - o;
    _Pragma("GCC unroll 4") for (int i = 0; i < RB; i++) {
        float y[Q8_PANEL];
        _Pragma("GCC unroll 2") for (int h = 0; h < 2; h++) {
            __m256 v = _mm256_cvtepi32_ps(
                _mm256_sub_epi32(acc[i][h], _mm256_loadu_si256((const __m256i *)(const void *)(W->corr + o + 8 * h))));
            v = _mm256_mul_ps(v, _mm256_mul_ps(_mm256_set1_ps(sx[i]), _mm256_loadu_ps(W->scale + o + 8 * h)));
            _mm256_storeu_ps(y + 8 * h, v);
        }
        float *yr = Y + (size_t)i * ldy + o;
        for (int j = 0; j < Q8_PANEL && j < left; j++) yr[j] = y[j] + (b ? b[o + j] : 0.0f);
    }
}

#define Q8_AVX2(RB)                                                                                                 \
    AVX_TARGET static void q8_avx2_##RB(const uint8_t *x, size_t ldx, const qmat *W, int o, const float *sx,       \
                                        const float *b, float *Y, size_t ldy)                                      \
    {                                                                                                               \
        q8_block_avx2(x, ldx, RB, W, o, sx, b, Y, ldy);                                                             \
    }
Q8_AVX2(1) Q8_AVX2(2) Q8_AVX2(3) Q8_AVX2(4)

static const q8_block_set q8_blocks_avx2 = {{q8_avx2_1, q8_avx2_2, q8_avx2_3, q8_avx2_4}, {NULL}};
#endif

void matmul_q8(const float *X, size_t ldx, const qmat *W, const float *b, float *Y, size_t ldy, int rows,
               float *scratch)
{
    int in = W->in, n = W->in_pad, out = W->out;
    uint8_t *xb = (uint8_t *)(((uintptr_t)scratch + Q8_ALIGN - 1) & ~(uintptr_t)(Q8_ALIGN - 1));
    float *sx = (float *)(void *)(xb + (size_t)rows * n);
    for (int r = 0; r < rows; r++) sx[r] = quantize_row(X + (size_t)r * ldx, in, n, xb + (size_t)r * n);
#ifdef S2S_X86
    if (have_vnni()) {
        matmul_q8_panels(xb, (size_t)n, sx, W, b, Y, ldy, rows, &q8_blocks_vnni);
        return;
    }
    if (kernels_have_avx2()) {
        matmul_q8_panels(xb, (size_t)n, sx, W, b, Y, ldy, rows, &q8_blocks_avx2);
        return;
    }
#endif
    for (int o = 0; o < out; o++)
        for (int r = 0; r < rows; r++)
            Y[(size_t)r * ldy + o] = q8_out(dot_q8_portable(xb + (size_t)r * n, W, o, n), W, o, sx[r], b);
}
