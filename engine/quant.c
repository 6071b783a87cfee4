/*
 * quant.c - the int8 weights of the fast mode (S2S_COMPUTE_INT8): the
 * encoder's and the decoder's RNN matrices, attention_out and the output
 * projection, quantized row by row (kernels.h, qmat) the first time a
 * decoding asks for them.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "shortlist.h"

static void q8_free_all(model_q8 *q)
{
    for (int l = 0; l < S2S_MAX_LAYERS; l++) {
        for (int d = 0; d < 2; d++) {
            qmat_free(&q->enc_ih[l][d]);
            qmat_free(&q->enc_hh[l][d]);
        }
        qmat_free(&q->dec_ih[l]);
        qmat_free(&q->dec_hh[l]);
    }
    qmat_free(&q->attn_out);
    qmat_free(&q->out);
    free(q);
}

static model_q8 *q8_make(const s2s_model *m)
{
    model_q8 *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    int H = m->cfg.dec.hidden, GH = cell_gates(m->cfg.dec.cell) * H, ok = 1;
    int He = m->cfg.enc.hidden, GHe = cell_gates(m->cfg.enc.cell) * He;
    for (int l = 0; l < m->cfg.enc.layers && ok; l++)
        for (int d = 0; d < m->enc_dirs && ok; d++) {
            const rnn_layer *w = &m->w.enc_rnn[l][d];
            ok = qmat_init(&q->enc_ih[l][d], w->w_ih, GHe, w->in) && qmat_init(&q->enc_hh[l][d], w->w_hh, GHe, He);
        }
    for (int l = 0; l < m->cfg.dec.layers && ok; l++) {
        const rnn_layer *w = &m->w.dec_rnn[l];
        ok = qmat_init(&q->dec_ih[l], w->w_ih, GH, w->in) && qmat_init(&q->dec_hh[l], w->w_hh, GH, H);
    }
    if (ok && m->cfg.position == POS_AFTER_RNN) ok = qmat_init(&q->attn_out, m->w.attn_out_w, H, m->ctx_dim + H);
    if (ok) ok = qmat_init(&q->out, m->w.out_w, vocab_size(m->vocab[S2S_TARGET]), H);
    if (!ok) {
        q8_free_all(q);
        return NULL;
    }
    return q;
}

const model_q8 *model_q8_get(const s2s_model *cm)
{
    s2s_model *m = (s2s_model *)cm; /* the cache is the only thing that changes */
    model_q8 *q = atomic_load(&m->q8);
    if (q) return q;
    pthread_mutex_lock(&m->q8_lock);
    q = atomic_load(&m->q8);
    if (!q && (q = q8_make(m))) atomic_store(&m->q8, q);
    pthread_mutex_unlock(&m->q8_lock);
    return q;
}

const struct shortlist *model_shortlist_get(const s2s_model *cm, s2s_error *err)
{
    s2s_model *m = (s2s_model *)cm; /* the cache is the only thing that changes */
    shortlist *sl = atomic_load(&m->shortlist);
    if (err) memset(err, 0, sizeof *err);
    if (sl || !m->shortlist_text) return sl;
    pthread_mutex_lock(&m->q8_lock);
    sl = atomic_load(&m->shortlist);
    if (!sl && m->shortlist_err.status == S2S_OK) {
        if (shortlist_parse(m->shortlist_text, m->shortlist_len, SHORTLIST_FILE, vocab_size(m->vocab[S2S_SOURCE]),
                            vocab_size(m->vocab[S2S_TARGET]), &sl, &m->shortlist_err) == S2S_OK)
            atomic_store(&m->shortlist, sl);
    }
    if (!sl && err) *err = m->shortlist_err;
    if (m->shortlist_err.status == S2S_ERR_NOMEM) /* a later call may find the memory: only the file's faults stay */
        memset(&m->shortlist_err, 0, sizeof m->shortlist_err);
    pthread_mutex_unlock(&m->q8_lock);
    return sl;
}

void model_q8_free(s2s_model *m)
{
    model_q8 *q = atomic_load(&m->q8);
    if (q) q8_free_all(q);
    atomic_store(&m->q8, NULL);
}
