/*
 * attention.c - attention scores, weights and context vectors (model-format.md section 4,
 * "Attention scores"). Key-side projections are computed once per input
 * (attention_keys); each step only projects the queries.
 */
#include <math.h>
#include <string.h>

#include "compute.h"
#include "kernels.h"

void attention_keys(const s2s_model *m, enc_memory *mem)
{
    int D = m->mem_dim;
    if (m->cfg.attention == ATTN_BAHDANAU) /* keys (n, A) = h (n, D) @ Ua^T + b */
        matmul_nt(mem->h, (size_t)D, m->w.attn_ua_w, m->w.attn_ua_b, mem->keys,
                  (size_t)m->cfg.attention_size, mem->n, m->cfg.attention_size, D);
    else if (m->cfg.attention == ATTN_GENERAL) /* keys (n, H) = h (n, D) @ Wa^T */
        matmul_nt(mem->h, (size_t)D, m->w.attn_wa_w, NULL, mem->keys, (size_t)m->cfg.dec.hidden,
                  mem->n, m->cfg.dec.hidden, D);
}

size_t attention_scratch_floats(const s2s_model *m, int R)
{
    size_t A = (size_t)m->cfg.attention_size;
    return m->cfg.attention == ATTN_BAHDANAU ? ((size_t)R + 1) * A : 0;
}

/* Bahdanau scores of one query: e_j = Va . tanh(wq + k_j) + b_Va, with
 * wq (A,) = Wa q + b_Wa and keys (n, A). tmp (A,) scratch. */
static void additive_scores(const s2s_model *m, const float *wq, const enc_memory *mem, float *e,
                            float *tmp)
{
    int A = m->cfg.attention_size;
    float vb = m->w.attn_va_b ? m->w.attn_va_b[0] : 0.0f;
    for (int j = 0; j < mem->n; j++) {
        const float *k = mem->keys + (size_t)j * A;
        for (int a = 0; a < A; a++) tmp[a] = wq[a] + k[a];
        tanh_inplace(tmp, A);
        e[j] = dot(m->w.attn_va_w, tmp, A) + vb;
    }
}

/* Multiplicative scores: e_j = q . k_j * scale, keys (n, dim). */
static void dot_scores(const float *q, const float *keys, int n, int dim, float scale, float *e)
{
    for (int j = 0; j < n; j++) e[j] = dot(q, keys + (size_t)j * dim, dim) * scale;
}

void attention_rows(const s2s_model *m, int R, const float *q, size_t ldq,
                    const enc_memory *const *mem, float *alpha, int alpha_ld, float *ctx,
                    size_t ldc, float *scratch)
{
    int H = m->cfg.dec.hidden, D = m->mem_dim, A = m->cfg.attention_size;
    float *wq = scratch, *tmp = scratch + (size_t)R * A;
    if (m->cfg.attention == ATTN_BAHDANAU) /* wq (R, A) = q (R, H) @ Wa^T + b */
        matmul_nt(q, ldq, m->w.attn_wa_w, m->w.attn_wa_b, wq, (size_t)A, R, A, H);

    for (int r = 0; r < R; r++) {
        const enc_memory *mr = mem[r];
        const float *qr = q + (size_t)r * ldq;
        float *e = alpha + (size_t)r * alpha_ld;
        switch (m->cfg.attention) {
        case ATTN_BAHDANAU: additive_scores(m, wq + (size_t)r * A, mr, e, tmp); break;
        case ATTN_GENERAL: dot_scores(qr, mr->keys, mr->n, H, 1.0f, e); break;
        case ATTN_DOT: dot_scores(qr, mr->h, mr->n, D, 1.0f, e); break;
        case ATTN_SCALED_DOT: dot_scores(qr, mr->h, mr->n, D, 1.0f / sqrtf((float)H), e); break;
        }
        softmax(e, mr->n);
        float *c = ctx + (size_t)r * ldc; /* c (D,) = sum_j alpha_j h_j */
        memset(c, 0, sizeof(float) * (size_t)D);
        for (int j = 0; j < mr->n; j++) axpy(e[j], mr->h + (size_t)j * D, c, D);
    }
}
