/*
 * attention.c - attention scores, weights and context vectors
 * (docs/model-format.md section 4, "Attention scores", and the version-2
 * variants of section 9: coverage, local-m / local-p windows, multi-head).
 * Key-side projections are computed once per input (attention_keys); each
 * step only projects the queries, for all R rows in one product.
 */
#include <math.h>
#include <string.h>

#include "compute.h"
#include "kernels.h"

/* Floats of keys per source position: bahdanau A, general H, multihead 2H
 * (projected keys and values), else 0. */
size_t attention_key_floats(const s2s_model *m)
{
    switch (m->cfg.attention) {
    case ATTN_BAHDANAU: return (size_t)m->cfg.attention_size;
    case ATTN_GENERAL: return (size_t)m->cfg.dec.hidden;
    case ATTN_MULTIHEAD: return 2 * (size_t)m->cfg.dec.hidden;
    default: return 0;
    }
}

void attention_keys_rows(const s2s_model *m, const float *h, size_t ldh, int n, float *keys)
{
    int H = m->cfg.dec.hidden, A = m->cfg.attention_size;
    const model_weights *w = &m->w;
    switch (m->cfg.attention) {
    case ATTN_BAHDANAU: /* keys (n, A) = h (n, D) @ Ua^T + b */
        matmul_wp(h, ldh, &w->attn_ua, w->attn_ua_b, keys, (size_t)A, n);
        break;
    case ATTN_GENERAL: /* keys (n, H) = h (n, D) @ Wa^T */
        matmul_wp(h, ldh, &w->attn_wa, NULL, keys, (size_t)H, n);
        break;
    case ATTN_MULTIHEAD: /* row j = [K_j ; V_j]: K (n, H) = h @ Wk^T + b_k, V (n, H) = h @ Wv^T + b_v */
        matmul_wp(h, ldh, &w->mha_k, w->mha_in_b + H, keys, 2 * (size_t)H, n);
        matmul_wp(h, ldh, &w->mha_v, w->mha_in_b + 2 * H, keys + H, 2 * (size_t)H, n);
        break;
    default:
        break;
    }
}

void attention_keys(const s2s_model *m, enc_memory *mem)
{
    if (mem->keys) attention_keys_rows(m, mem->h, (size_t)m->mem_dim, mem->n, mem->keys);
}

size_t attention_scratch_floats(const s2s_model *m, int R, int n_max)
{
    size_t r = (size_t)R, H = (size_t)m->cfg.dec.hidden;
    switch (m->cfg.attention) {
    case ATTN_BAHDANAU: /* wq (R, A), tmp (A,), local-p: pq (P,) */
        return (r + 1) * (size_t)m->cfg.attention_size + (size_t)m->cfg.predictor_size;
    case ATTN_MULTIHEAD: return 2 * r * H + (size_t)n_max;                    /* Q, concat (R, H), e (n,) */
    default: return m->cfg.local == LOCAL_PREDICTIVE ? r * (size_t)m->cfg.predictor_size : 0; /* (R, P) */
    }
}

/* Bahdanau scores of one query: e_j = Va . tanh(wq + k_j [+ Wc cov_j]) + b_Va,
 * with wq (A,) = Wa q + b_Wa, keys (n, A) and cov (n,) or NULL. tmp (A,). */
static void bahdanau_scores(const s2s_model *m, const float *wq, const enc_memory *mem, const float *cov,
                            float *e, float *tmp)
{
    int A = m->cfg.attention_size;
    float vb = m->w.attn_va_b ? m->w.attn_va_b[0] : 0.0f;
    const float *wc = m->w.attn_wc_w;
    if (!cov) {
        additive_scores(wq, mem->keys, mem->n, A, m->w.attn_va_w, vb, e, tmp);
        return;
    }
    for (int j = 0; j < mem->n; j++) {
        const float *k = mem->keys + (size_t)j * A;
        for (int a = 0; a < A; a++) tmp[a] = wq[a] + k[a];
        for (int a = 0; a < A; a++) tmp[a] += wc[a] * cov[j];
        tanh_inplace(tmp, A);
        e[j] = dot(m->w.attn_va_w, tmp, A) + vb;
    }
}

/* Multiplicative scores: e_j = q . k_j * scale, keys (n, dim) with row stride ld. */
static void dot_scores(const float *q, const float *keys, size_t ld, int n, int dim, float scale, float *e)
{
    for (int j = 0; j < n; j++) e[j] = dot(q, keys + (size_t)j * ld, dim) * scale;
}

/* Window centre p_t of local attention for one row: min(t, n) for local-m,
 * n * sigmoid(vp . tanh(Wp q)) for local-p given pq (P,) = Wp q. */
static float window_centre(const s2s_model *m, int t, int n, float *pq)
{
    if (m->cfg.local == LOCAL_MONOTONIC) return (float)(t < n ? t : n);
    int P = m->cfg.predictor_size;
    tanh_inplace(pq, P);
    float z = dot(m->w.attn_vp_w, pq, P);
    sigmoid_inplace(&z, 1);
    return (float)n * z;
}

/* Local attention over e (n,): softmax over the positions j (1-based) with
 * |j - p| <= W, 0 elsewhere; local-p then weighs each by
 * exp(-(j - p)^2 / (2 sigma^2)), sigma = W / 2, without renormalizing. */
static void local_weights(const s2s_model *m, float p, float *e, int n)
{
    float W = (float)m->cfg.window;
    int lo = n, hi = -1; /* 0-based window [lo, hi] */
    for (int j = 0; j < n; j++)
        if (fabsf((float)(j + 1) - p) <= W) {
            if (j < lo) lo = j;
            hi = j;
        }
    for (int j = 0; j < n; j++)
        if (j < lo || j > hi) e[j] = 0.0f;
    if (hi < lo) return; /* no position in the window: all weights 0 */
    softmax(e + lo, hi - lo + 1);
    if (m->cfg.local == LOCAL_PREDICTIVE) {
        float sigma = W / 2.0f;
        for (int j = lo; j <= hi; j++) {
            float d = (float)(j + 1) - p;
            e[j] *= expf(-(d * d) / (2.0f * sigma * sigma));
        }
    }
}

/* c (D,) = sum_j alpha_j h_j */
static void context_of(const float *alpha, const float *h, int n, int D, float *c)
{
    memset(c, 0, sizeof(float) * (size_t)D);
    for (int j = 0; j < n; j++) axpy(alpha[j], h + (size_t)j * D, c, D);
}

/* torch.nn.MultiheadAttention for R rows (model-format.md section 9.3):
 * per head i of size d = H/k, weights_i = softmax_j(Q_i . K_{j,i} / sqrt(d)),
 * head output sum_j weights_ij V_{j,i}; ctx = out_proj(concat of heads);
 * alpha = the head-averaged weights. */
static void multihead_rows(const s2s_model *m, int R, const float *q, size_t ldq, const enc_memory *const *mem,
                           float *alpha, int alpha_ld, float *ctx, size_t ldc, float *scratch, int n_max)
{
    int H = m->cfg.dec.hidden, k = m->cfg.heads, d = H / k;
    size_t ld = 2 * (size_t)H; /* keys row: [K ; V] */
    float *Q = scratch, *heads = Q + (size_t)R * H, *e = heads + (size_t)R * H;
    float scale = 1.0f / sqrtf((float)d);
    matmul_wp(q, ldq, &m->w.mha_q, m->w.mha_in_b, Q, (size_t)H, R); /* Q (R, H) = q @ Wq^T + b_q */
    for (int r = 0; r < R; r++) {
        const enc_memory *mr = mem[r];
        float *a = alpha + (size_t)r * alpha_ld, *out = heads + (size_t)r * H;
        memset(a, 0, sizeof(float) * (size_t)mr->n);
        memset(out, 0, sizeof(float) * (size_t)H);
        for (int i = 0; i < k; i++) {
            const float *Qi = Q + (size_t)r * H + (size_t)i * d;
            dot_scores(Qi, mr->keys + (size_t)i * d, ld, mr->n, d, scale, e);
            softmax(e, mr->n);
            for (int j = 0; j < mr->n; j++) {
                axpy(e[j], mr->keys + (size_t)j * ld + H + (size_t)i * d, out + (size_t)i * d, d);
                a[j] += e[j];
            }
        }
        for (int j = 0; j < mr->n; j++) a[j] /= (float)k;
    }
    (void)n_max;
    matmul_wp(heads, (size_t)H, &m->w.mha_out, m->w.mha_out_b, ctx, ldc, R); /* ctx (R, H) = heads @ Wo^T + b */
}

void attention_rows(const s2s_model *m, int R, int t, const float *q, size_t ldq, const enc_memory *const *mem,
                    const float *cov, size_t cov_ld, float *alpha, int alpha_ld, float *ctx, size_t ldc,
                    float *scratch, int n_max)
{
    int H = m->cfg.dec.hidden, D = m->mem_dim, A = m->cfg.attention_size, P = m->cfg.predictor_size;
    if (m->cfg.attention == ATTN_MULTIHEAD) {
        multihead_rows(m, R, q, ldq, mem, alpha, alpha_ld, ctx, ldc, scratch, n_max);
        return;
    }
    float *wq = scratch, *tmp = scratch + (size_t)R * A, *pq = scratch;
    if (m->cfg.attention == ATTN_BAHDANAU) /* wq (R, A) = q (R, H) @ Wa^T + b */
        matmul_wp(q, ldq, &m->w.attn_wa, m->w.attn_wa_b, wq, (size_t)A, R);
    else if (m->cfg.local == LOCAL_PREDICTIVE) /* pq (R, P) = q (R, H) @ Wp^T */
        matmul_wp(q, ldq, &m->w.attn_wp, NULL, pq, (size_t)P, R);

    for (int r = 0; r < R; r++) {
        const enc_memory *mr = mem[r];
        const float *qr = q + (size_t)r * ldq;
        float *e = alpha + (size_t)r * alpha_ld;
        switch (m->cfg.attention) {
        case ATTN_BAHDANAU:
            bahdanau_scores(m, wq + (size_t)r * A, mr, cov ? cov + (size_t)r * cov_ld : NULL, e, tmp);
            break;
        case ATTN_GENERAL: dot_scores(qr, mr->keys, (size_t)H, mr->n, H, 1.0f, e); break;
        case ATTN_DOT: dot_scores(qr, mr->h, (size_t)D, mr->n, D, 1.0f, e); break;
        case ATTN_SCALED_DOT: dot_scores(qr, mr->h, (size_t)D, mr->n, D, 1.0f / sqrtf((float)H), e); break;
        case ATTN_MULTIHEAD: break; /* handled above */
        }
        if (m->cfg.local == LOCAL_NONE) {
            softmax(e, mr->n);
        } else {
            float *pr = m->cfg.attention == ATTN_BAHDANAU ? NULL : pq + (size_t)r * P;
            if (m->cfg.local == LOCAL_PREDICTIVE && !pr) { /* bahdanau: project one row here */
                pr = tmp + A;
                matmul_wp(qr, (size_t)H, &m->w.attn_wp, NULL, pr, (size_t)P, 1);
            }
            local_weights(m, window_centre(m, t, mr->n, pr), e, mr->n);
        }
        context_of(e, mr->h, mr->n, D, ctx + (size_t)r * ldc);
    }
}
