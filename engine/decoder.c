/*
 * decoder.c - decoder state and one decoder step for many rows at once
 * (docs/model-format.md section 4, "Decoder step"). Every matrix product runs over all R
 * rows together (beam hypotheses, batched sentences).
 */
#include <math.h>
#include <string.h>

#include "compute.h"
#include "kernels.h"

size_t memory_floats(const s2s_model *m, int n)
{
    size_t H = (size_t)m->cfg.dec.hidden, L = (size_t)m->cfg.dec.layers;
    size_t keys = (size_t)n * attention_key_floats(m);
    return (size_t)n * m->mem_dim + keys + L * H * (m->cfg.dec.cell == CELL_LSTM ? 2 : 1);
}

void memory_bind(const s2s_model *m, int n, float *buf, enc_memory *mem)
{
    size_t H = (size_t)m->cfg.dec.hidden, L = (size_t)m->cfg.dec.layers, K = attention_key_floats(m);
    memset(mem, 0, sizeof *mem);
    mem->n = n;
    mem->h = buf;
    buf += (size_t)n * m->mem_dim;
    if (K) {
        mem->keys = buf;
        buf += (size_t)n * K;
    }
    mem->init_h = buf;
    buf += L * H;
    mem->init_c = m->cfg.dec.cell == CELL_LSTM ? buf : NULL;
}

static int has_feed(const s2s_model *m)
{
    return m->cfg.position == POS_AFTER_RNN && m->cfg.input_feeding;
}

size_t dec_state_floats(const s2s_model *m, int rows, int n_max)
{
    size_t per = (size_t)m->cfg.dec.layers * rows * m->cfg.dec.hidden;
    return per * (m->cfg.dec.cell == CELL_LSTM ? 2 : 1) + (has_feed(m) ? (size_t)rows * m->cfg.dec.hidden : 0) +
           (m->cfg.coverage ? (size_t)rows * n_max : 0);
}

void dec_state_bind(const s2s_model *m, int rows, int n_max, float *buf, dec_state *st)
{
    size_t per = (size_t)m->cfg.dec.layers * rows * m->cfg.dec.hidden;
    st->stride = rows;
    st->h = buf;
    buf += per;
    st->c = NULL;
    if (m->cfg.dec.cell == CELL_LSTM) {
        st->c = buf;
        buf += per;
    }
    st->htilde = NULL;
    if (has_feed(m)) {
        st->htilde = buf;
        buf += (size_t)rows * m->cfg.dec.hidden;
    }
    st->cov = m->cfg.coverage ? buf : NULL;
    st->cov_ld = n_max;
}

void dec_state_init_row(const s2s_model *m, dec_state *st, int r, const enc_memory *mem)
{
    int H = m->cfg.dec.hidden;
    size_t bytes = sizeof(float) * (size_t)H;
    for (int l = 0; l < m->cfg.dec.layers; l++) {
        size_t at = ((size_t)l * st->stride + r) * H;
        memcpy(st->h + at, mem->init_h + (size_t)l * H, bytes);
        if (st->c) memcpy(st->c + at, mem->init_c + (size_t)l * H, bytes);
    }
    if (st->htilde) memset(st->htilde + (size_t)r * H, 0, bytes); /* htilde_0 = 0 */
    if (st->cov) memset(st->cov + (size_t)r * st->cov_ld, 0, sizeof(float) * (size_t)st->cov_ld); /* cov_1 = 0 */
}

void dec_state_copy_row(const s2s_model *m, const dec_state *from, int src, dec_state *to, int dst)
{
    int H = m->cfg.dec.hidden;
    size_t bytes = sizeof(float) * (size_t)H;
    for (int l = 0; l < m->cfg.dec.layers; l++) {
        size_t a = ((size_t)l * from->stride + src) * H, b = ((size_t)l * to->stride + dst) * H;
        memcpy(to->h + b, from->h + a, bytes);
        if (from->c) memcpy(to->c + b, from->c + a, bytes);
    }
    if (from->htilde) memcpy(to->htilde + (size_t)dst * H, from->htilde + (size_t)src * H, bytes);
    if (from->cov)
        memcpy(to->cov + (size_t)dst * to->cov_ld, from->cov + (size_t)src * from->cov_ld,
               sizeof(float) * (size_t)from->cov_ld);
}

int logp_width(const s2s_model *m, int n_max)
{
    return vocab_size(m->vocab[S2S_TARGET]) + (m->cfg.copy ? n_max : 0);
}

/* Width of the widest per-row vector the step assembles: the RNN input, or
 * [c ; q] for attention_out. */
static size_t step_width(const s2s_model *m)
{
    size_t in0 = (size_t)m->w.dec_rnn[0].in, cat = (size_t)m->ctx_dim + m->cfg.dec.hidden;
    return in0 > cat ? in0 : cat;
}

/* Widest input of an int8 product: the RNN input, H, or [c ; q]. */
static int q8_width(const s2s_model *m)
{
    int w = (int)step_width(m);
    return w > m->cfg.dec.hidden ? w : m->cfg.dec.hidden;
}

size_t step_scratch_floats(const s2s_model *m, int rows, int n_max)
{
    size_t R = (size_t)rows, GH = (size_t)cell_gates(m->cfg.dec.cell) * m->cfg.dec.hidden;
    return q8_scratch_floats(rows, q8_width(m))            /* int8 rows (fast mode) */
           + R * step_width(m)                                /* x: RNN input or [c ; q] */
           + 2 * R * GH                                      /* gi, gh */
           + R * (size_t)m->cfg.dec.hidden                   /* o (after_rnn without feeding) */
           + (m->cfg.copy ? R * ((size_t)m->cfg.dec.emb + 1) + (size_t)n_max : 0) /* copy: E[y] (R, emb),
                                                                  p_gen (R,), mass (n,) */
           + 17 * R                                          /* output row maxima (R,), their lanes (R, 16) */
           + attention_scratch_floats(m, rows, n_max);
}

/* x (R, ldx) columns 0..emb-1 := E_tgt[prev[r]]; an extended id (>= V) is
 * embedded as unk (section 9.4). */
static void embed_rows(const s2s_model *m, int R, const int *prev, float *x, size_t ldx)
{
    int E = m->cfg.dec.emb, V = vocab_size(m->vocab[S2S_TARGET]);
    for (int r = 0; r < R; r++) {
        int y = prev[r] < V ? prev[r] : m->unk_id[S2S_TARGET];
        weights_row(&m->w.dec_embedding, (size_t)y, E, x + (size_t)r * ldx);
    }
}

/* Runs the decoder RNN stack one step for R rows on input x (R, ldx). */
static void rnn_stack(const s2s_model *m, const model_q8 *q, int R, const float *x, size_t ldx, dec_state *st,
                      float *gi, float *gh, float *qs)
{
    int H = m->cfg.dec.hidden, GH = cell_gates(m->cfg.dec.cell) * H;
    for (int l = 0; l < m->cfg.dec.layers; l++) {
        const rnn_layer *w = &m->w.dec_rnn[l];
        float *h = st->h + (size_t)l * st->stride * H;
        float *c = st->c ? st->c + (size_t)l * st->stride * H : NULL;
        const float *in = l == 0 ? x : st->h + (size_t)(l - 1) * st->stride * H;
        size_t ld = l == 0 ? ldx : (size_t)H;
        /* gi (R, GH) = in W_ih^T + b_ih; gh (R, GH) = h W_hh^T + b_hh */
        matmul_wp_or_q8(q ? &q->dec_ih[l] : NULL, in, ld, &w->p_ih, w->b_ih, gi, (size_t)GH, R, qs);
        matmul_wp_or_q8(q ? &q->dec_hh[l] : NULL, h, (size_t)H, &w->p_hh, w->b_hh, gh, (size_t)GH, R, qs);
        rnn_update_rows(m->cfg.dec.cell, R, H, gi, gh, h, c);
    }
}

/* cov (R, cov_ld) += alpha (R, alpha_ld) over each row's positions. */
static void add_coverage(dec_state *st, int R, const enc_memory *const *mem, const float *alpha, int alpha_ld)
{
    for (int r = 0; r < R; r++) {
        float *cv = st->cov + (size_t)r * st->cov_ld;
        const float *a = alpha + (size_t)r * alpha_ld;
        for (int j = 0; j < mem[r]->n; j++) cv[j] += a[j];
    }
}

/* Pointer-generator output (section 9.4) for R rows, in place over logp
 * (R, logp_ld) holding the logits in its first V columns:
 * P(w) = p_gen softmax(logits)(w) + (1 - p_gen) sum_{j: m_j = w} alpha_j,
 * log P, with p_gen = sigmoid(copy_gate([c ; o ; E[y]])). A word no source
 * position maps to has log P = log p_gen + log_softmax(logits)(w), so only
 * the source's own ids (at most n per row) need a log of a sum.
 * mass: n_max floats of scratch. */
static void copy_distribution(const s2s_model *m, int R, const enc_memory *const *mem, const float *ctx,
                              size_t ldc, const float *out, const float *emb, const float *alpha, int alpha_ld,
                              float *p_gen, float *mass, float *logp, int logp_ld)
{
    int V = vocab_size(m->vocab[S2S_TARGET]), C = m->ctx_dim, H = m->cfg.dec.hidden, E = m->cfg.dec.emb;
    const float *w = m->w.copy_w;
    for (int r = 0; r < R; r++) /* p_gen (R,) = sigmoid([c ; o ; E[y]] . w + b) */
        p_gen[r] = dot(w, ctx + (size_t)r * ldc, C) + dot(w + C, out + (size_t)r * H, H) +
                   dot(w + C + H, emb + (size_t)r * E, E) + m->w.copy_b[0];
    sigmoid_inplace(p_gen, R);
    for (int r = 0; r < R; r++) {
        float *row = logp + (size_t)r * logp_ld, g = p_gen[r], log_g = logf(g);
        const float *a = alpha + (size_t)r * alpha_ld;
        const enc_memory *mr = mem[r];
        log_softmax(row, V);
        for (int v = 0; v < V; v++) row[v] += log_g;        /* log(p_gen softmax) */
        for (int v = V; v < logp_ld; v++) row[v] = -INFINITY; /* extended ids: no generation */
        for (int j = 0; j < mr->n; j++) mass[j] = 0.0f;
        for (int j = 0; j < mr->n; j++) mass[mr->copy_same_as[j]] += a[j]; /* attention per distinct id */
        for (int j = 0; j < mr->n; j++) {
            if (mr->copy_same_as[j] != j) continue;
            int id = mr->copy_ids[j];
            float generated = id < V ? expf(row[id]) : 0.0f;
            row[id] = logf(generated + (1.0f - g) * mass[j]);
        }
    }
}

/* Logits of the union's k ids (one product for all rows), then each row
 * keeps its own input's ids only (int8 sums are exact, so an element does
 * not depend on the other columns): without copy, the log-softmax over them
 * in their list's order, scattered; a copy model gets the logits (its
 * distribution is made over the whole row). Other ids get -infinity. */
static void subset_output(const s2s_model *m, const out_subset *sub, const float *o, int R,
                          const enc_memory *const *mem, float *logp, int logp_ld, float *qs)
{
    int H = m->cfg.dec.hidden, V = vocab_size(m->vocab[S2S_TARGET]), k = sub->k;
    matmul_q8(o, (size_t)H, &sub->w, sub->bias, sub->logits, (size_t)k, R, qs); /* (R, k) = o W_sub^T + b */
    for (int r = 0; r < R; r++) {
        float *row = logp + (size_t)r * logp_ld, *lg = sub->logits + (size_t)r * k;
        const int *ids = mem[r]->shortlist_ids;
        int K = mem[r]->shortlist_k;
        for (int i = 0; i < K; i++) sub->vals[i] = lg[sub->pos[ids[i]]];
        if (!m->cfg.copy) log_softmax(sub->vals, K);
        for (int v = 0; v < V; v++) row[v] = -INFINITY;
        for (int i = 0; i < K; i++) row[ids[i]] = sub->vals[i];
    }
}

void decoder_step(const s2s_model *m, const model_q8 *q, const out_subset *sub, int R, int t, const int *prev,
                  const enc_memory *const *mem, dec_state *st, float *scratch, int n_max, float *alpha, int alpha_ld,
                  float *logp, int logp_ld, int want_logp, float *row_max)
{
    int H = m->cfg.dec.hidden, C = m->ctx_dim, E = m->cfg.dec.emb, V = vocab_size(m->vocab[S2S_TARGET]);
    size_t W = step_width(m), GH = (size_t)cell_gates(m->cfg.dec.cell) * H;
    float *qs = scratch;
    scratch += q8_scratch_floats(R, q8_width(m));
    float *x = scratch, *gi = x + (size_t)R * W, *gh = gi + (size_t)R * GH, *o = gh + (size_t)R * GH;
    float *emb = o + (size_t)R * H, *p_gen = emb + (m->cfg.copy ? (size_t)R * E : 0);
    float *mass = p_gen + (m->cfg.copy ? (size_t)R : 0);
    float *maxima = mass + (m->cfg.copy ? (size_t)n_max : 0), *lanes = maxima + R;
    float *att = lanes + (size_t)R * 16;
    const float *top = st->h + (size_t)(m->cfg.dec.layers - 1) * st->stride * H; /* (R, H) */
    const float *out, *ctx;
    size_t ldc = W;

    if (m->cfg.position == POS_BEFORE_RNN) {
        /* q = s_{t-1}; x = [E[y] ; c_t]; s_t = RNN(x, s_{t-1}); o = s_t */
        attention_rows(m, R, t, top, (size_t)H, mem, st->cov, (size_t)st->cov_ld, alpha, alpha_ld, x + E, W, att,
                       n_max);
        embed_rows(m, R, prev, x, W);
        rnn_stack(m, q, R, x, W, st, gi, gh, qs);
        out = top;
        ctx = x + E;
        if (m->cfg.copy)
            for (int r = 0; r < R; r++) memcpy(emb + (size_t)r * E, x + (size_t)r * W, sizeof(float) * E);
    } else {
        /* x = [E[y] ; htilde_{t-1}] or E[y]; s_t = RNN(x); q = s_t;
         * htilde_t = tanh(W_out_att [c_t ; q] + b); o = htilde_t */
        embed_rows(m, R, prev, x, W);
        if (m->cfg.copy)
            for (int r = 0; r < R; r++) memcpy(emb + (size_t)r * E, x + (size_t)r * W, sizeof(float) * E);
        if (st->htilde)
            for (int r = 0; r < R; r++)
                memcpy(x + (size_t)r * W + E, st->htilde + (size_t)r * H, sizeof(float) * H);
        rnn_stack(m, q, R, x, W, st, gi, gh, qs);
        attention_rows(m, R, t, top, (size_t)H, mem, st->cov, (size_t)st->cov_ld, alpha, alpha_ld, x, W, att,
                       n_max);
        for (int r = 0; r < R; r++) memcpy(x + (size_t)r * W + C, top + (size_t)r * H, sizeof(float) * H);
        float *ht = st->htilde ? st->htilde : o;
        matmul_wp_or_q8(q ? &q->attn_out : NULL, x, W, &m->w.attn_out, m->w.attn_out_b, ht, (size_t)H, R,
                        qs); /* (R, H) = [c;q] W^T + b */
        for (int r = 0; r < R; r++) tanh_inplace(ht + (size_t)r * H, H);
        out = ht;
        ctx = x;
    }
    if (st->cov) add_coverage(st, R, mem, alpha, alpha_ld);
    if (sub) {
        subset_output(m, sub, out, R, mem, logp, logp_ld, qs);
        if (m->cfg.copy) copy_distribution(m, R, mem, ctx, ldc, out, emb, alpha, alpha_ld, p_gen, mass, logp, logp_ld);
        return;
    }
    if (!q && !m->cfg.copy && (want_logp || row_max)) {
        if (row_max) maxima = row_max;
        matmul_wp_max(out, (size_t)H, &m->w.out, m->w.out_b, logp, (size_t)logp_ld, R, maxima,
                      lanes); /* logits (R, V) */
        if (want_logp)
            for (int r = 0; r < R; r++) log_softmax_from_max(logp + (size_t)r * logp_ld, V, maxima[r]);
        return;
    }
    matmul_wp_or_q8(q ? &q->out : NULL, out, (size_t)H, &m->w.out, m->w.out_b, logp, (size_t)logp_ld, R,
                    qs); /* logits (R, V) */
    if (m->cfg.copy)
        copy_distribution(m, R, mem, ctx, ldc, out, emb, alpha, alpha_ld, p_gen, mass, logp, logp_ld);
    else if (want_logp)
        for (int r = 0; r < R; r++) log_softmax(logp + (size_t)r * logp_ld, V);
}
