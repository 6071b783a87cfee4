/*
 * decoder.c - decoder state and one decoder step for many rows at once
 * (docs/model-format.md section 4, "Decoder step"). Every matrix product runs over all R
 * rows together (beam hypotheses, batched sentences).
 */
#include <string.h>

#include "compute.h"
#include "kernels.h"

size_t memory_floats(const s2s_model *m, int n)
{
    size_t H = (size_t)m->cfg.dec.hidden, L = (size_t)m->cfg.dec.layers, keys = 0;
    if (m->cfg.attention == ATTN_BAHDANAU) keys = (size_t)n * m->cfg.attention_size;
    if (m->cfg.attention == ATTN_GENERAL) keys = (size_t)n * H;
    return (size_t)n * m->mem_dim + keys + L * H * (m->cfg.dec.cell == CELL_LSTM ? 2 : 1);
}

void memory_bind(const s2s_model *m, int n, float *buf, enc_memory *mem)
{
    size_t H = (size_t)m->cfg.dec.hidden, L = (size_t)m->cfg.dec.layers;
    mem->n = n;
    mem->h = buf;
    buf += (size_t)n * m->mem_dim;
    mem->keys = NULL;
    if (m->cfg.attention == ATTN_BAHDANAU || m->cfg.attention == ATTN_GENERAL) {
        mem->keys = buf;
        buf += (size_t)n * (m->cfg.attention == ATTN_BAHDANAU ? (size_t)m->cfg.attention_size : H);
    }
    mem->init_h = buf;
    buf += L * H;
    mem->init_c = m->cfg.dec.cell == CELL_LSTM ? buf : NULL;
}

static int has_feed(const s2s_model *m)
{
    return m->cfg.position == POS_AFTER_RNN && m->cfg.input_feeding;
}

size_t dec_state_floats(const s2s_model *m, int rows)
{
    size_t per = (size_t)m->cfg.dec.layers * rows * m->cfg.dec.hidden;
    return per * (m->cfg.dec.cell == CELL_LSTM ? 2 : 1) + (has_feed(m) ? (size_t)rows * m->cfg.dec.hidden : 0);
}

void dec_state_bind(const s2s_model *m, int rows, float *buf, dec_state *st)
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
    st->htilde = has_feed(m) ? buf : NULL;
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
}

/* Width of the widest per-row vector the step assembles. */
static size_t step_width(const s2s_model *m)
{
    size_t in0 = (size_t)m->w.dec_rnn[0].in, cat = (size_t)m->mem_dim + m->cfg.dec.hidden;
    return in0 > cat ? in0 : cat;
}

size_t step_scratch_floats(const s2s_model *m, int rows)
{
    size_t R = (size_t)rows, GH = (size_t)cell_gates(m->cfg.dec.cell) * m->cfg.dec.hidden;
    return R * step_width(m)               /* x: RNN input or [c ; q] */
           + 2 * R * GH                     /* gi, gh */
           + R * (size_t)m->cfg.dec.hidden  /* o (after_rnn without feeding) */
           + attention_scratch_floats(m, rows);
}

/* x (R, ldx) columns 0..emb-1 := E_tgt[prev[r]]. */
static void embed_rows(const s2s_model *m, int R, const int *prev, float *x, size_t ldx)
{
    int E = m->cfg.dec.emb;
    for (int r = 0; r < R; r++)
        weights_row(&m->w.dec_embedding, (size_t)prev[r], E, x + (size_t)r * ldx);
}

/* Runs the decoder RNN stack one step for R rows on input x (R, ldx). */
static void rnn_stack(const s2s_model *m, int R, const float *x, size_t ldx, dec_state *st,
                      float *gi, float *gh)
{
    int H = m->cfg.dec.hidden, GH = cell_gates(m->cfg.dec.cell) * H;
    for (int l = 0; l < m->cfg.dec.layers; l++) {
        const rnn_layer *w = &m->w.dec_rnn[l];
        float *h = st->h + (size_t)l * st->stride * H;
        float *c = st->c ? st->c + (size_t)l * st->stride * H : NULL;
        const float *in = l == 0 ? x : st->h + (size_t)(l - 1) * st->stride * H;
        size_t ld = l == 0 ? ldx : (size_t)H;
        matmul_nt(in, ld, w->w_ih, w->b_ih, gi, (size_t)GH, R, GH, w->in); /* gi (R,GH) = in W_ih^T + b */
        matmul_nt(h, (size_t)H, w->w_hh, w->b_hh, gh, (size_t)GH, R, GH, H); /* gh (R,GH) = h W_hh^T + b */
        rnn_update_rows(m->cfg.dec.cell, R, H, gi, gh, h, c);
    }
}

void decoder_step(const s2s_model *m, int R, const int *prev, const enc_memory *const *mem,
                  dec_state *st, float *scratch, float *alpha, int alpha_ld, float *logp)
{
    int H = m->cfg.dec.hidden, D = m->mem_dim, E = m->cfg.dec.emb, V = vocab_size(m->vocab[S2S_TARGET]);
    size_t W = step_width(m), GH = (size_t)cell_gates(m->cfg.dec.cell) * H;
    float *x = scratch, *gi = x + (size_t)R * W, *gh = gi + (size_t)R * GH, *o = gh + (size_t)R * GH;
    float *att = o + (size_t)R * H;
    const float *top = st->h + (size_t)(m->cfg.dec.layers - 1) * st->stride * H; /* (R, H) */
    const float *out;

    if (m->cfg.position == POS_BEFORE_RNN) {
        /* q = s_{t-1}; x = [E[y] ; c_t]; s_t = RNN(x, s_{t-1}); o = s_t */
        attention_rows(m, R, top, (size_t)H, mem, alpha, alpha_ld, x + E, W, att);
        embed_rows(m, R, prev, x, W);
        rnn_stack(m, R, x, W, st, gi, gh);
        out = top;
    } else {
        /* x = [E[y] ; htilde_{t-1}] or E[y]; s_t = RNN(x); q = s_t;
         * htilde_t = tanh(W_out_att [c_t ; q] + b); o = htilde_t */
        embed_rows(m, R, prev, x, W);
        if (st->htilde)
            for (int r = 0; r < R; r++)
                memcpy(x + (size_t)r * W + E, st->htilde + (size_t)r * H, sizeof(float) * H);
        rnn_stack(m, R, x, W, st, gi, gh);
        attention_rows(m, R, top, (size_t)H, mem, alpha, alpha_ld, x, W, att);
        for (int r = 0; r < R; r++) memcpy(x + (size_t)r * W + D, top + (size_t)r * H, sizeof(float) * H);
        float *ht = st->htilde ? st->htilde : o;
        matmul_nt(x, W, m->w.attn_out_w, m->w.attn_out_b, ht, (size_t)H, R, H, D + H);
        for (int r = 0; r < R; r++) tanh_inplace(ht + (size_t)r * H, H);
        out = ht;
    }
    matmul_nt(out, (size_t)H, m->w.out_w, m->w.out_b, logp, (size_t)V, R, V, H); /* logits (R, V) */
    for (int r = 0; r < R; r++) log_softmax(logp + (size_t)r * V, V);
}
