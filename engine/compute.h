/*
 * compute.h - the model's math (model-format.md section 4), separate from the decoding
 * strategies (search.c) that drive it. Nothing here allocates: callers hand
 * in buffers carved once per call from the session arena.
 *
 * Notation: n source positions, D = memory size (enc hidden x directions),
 * H = decoder hidden, L = decoder layers, G = gates (3 GRU, 4 LSTM),
 * A = attention size, V = target vocabulary, R = decoder rows (hypotheses).
 */
#ifndef S2S_COMPUTE_H
#define S2S_COMPUTE_H

#include "model.h"

/* What the encoder leaves for the decoder, for one source sequence. */
typedef struct enc_memory {
    int n;          /* source positions */
    float *h;       /* (n, D) top-layer outputs: attention keys and values */
    float *keys;    /* (n, attention_key_floats) projected keys, NULL when none */
    float *init_h;  /* (L, H) decoder initial hidden state per layer (bridge) */
    float *init_c;  /* (L, H) LSTM initial cell state, NULL for GRU */
    const int *copy_ids; /* copy models: (n) extended-vocabulary id m_j of each
                            source position (section 9.4); else NULL */
    const int *copy_same_as; /* copy models: (n) the first position with the
                            same id as position j; else NULL */
    int n_ext;      /* copy models: extended ids V..V+n_ext-1 in use */
    const int *shortlist_ids; /* fast mode with a shortlist: this input's own target
                                 ids (the order a call of this input alone would
                                 list them), else NULL */
    int shortlist_k;
} enc_memory;

/* Floats of scratch encode() needs for n source tokens. */
size_t encode_scratch_floats(const s2s_model *m, int n);
/* Floats the enc_memory buffers need (h, keys, init_h, init_c). */
size_t memory_floats(const s2s_model *m, int n);
/* Points mem's buffers into `buf` (memory_floats(m, n) floats) and sets n. */
void memory_bind(const s2s_model *m, int n, float *buf, enc_memory *mem);

/* Runs the encoder over src (n ids, all valid), fills mem (bound with
 * memory_bind): outputs, bridge state and projected attention keys.
 * scratch: encode_scratch_floats(m, n) floats. Same as encode_batch of one. */
void encode(const s2s_model *m, const int *src, int n, float *scratch, enc_memory *mem);

/* Floats of scratch encode_batch() needs for S sources of n[i] tokens, in
 * either mode; it also needs 3 * S ints. */
size_t encode_batch_scratch_floats(const s2s_model *m, const int *n, int S);

/* Runs the encoder over S sources at once (src[i]: n[i] > 0 valid ids) and
 * fills mem[i] (bound with memory_bind for n[i]) with what encode() gives
 * for source i alone, bit for bit; with q (the fast mode's int8 weights,
 * NULL for F32) the RNN products use them, again the same for a source
 * whatever the batch. The sentences are sorted by length
 * (longest first) so that those still running at each time step are a
 * prefix: every step is one product over them, the input projections and
 * the attention keys one product over all tokens. scratch:
 * encode_batch_scratch_floats(m, n, S) floats; iscratch: 3 * S ints. */
void encode_batch(const s2s_model *m, const model_q8 *q, const int *const *src, const int *n, int S,
                  float *scratch, int *iscratch, enc_memory *const *mem);

/* Decoder state of R rows. Layer l, row r lives at h + (l * stride + r) * H
 * (likewise c), so rows can be gathered without moving layers. */
typedef struct dec_state {
    float *h;        /* (L, stride, H) */
    float *c;        /* (L, stride, H), LSTM only, else NULL */
    float *htilde;   /* (stride, H), after_rnn with input feeding, else NULL */
    float *cov;      /* (stride, cov_ld) coverage: the attention summed over the
                        steps so far (coverage models), else NULL */
    int cov_ld;      /* n_max */
    int stride;      /* row capacity */
} dec_state;

/* Floats for one dec_state of `rows` rows over memories of at most n_max
 * positions; binds a state into `buf`. */
size_t dec_state_floats(const s2s_model *m, int rows, int n_max);
void dec_state_bind(const s2s_model *m, int rows, int n_max, float *buf, dec_state *st);
/* Row r of `st` := the initial state from mem (bridge output, zero htilde,
 * zero coverage). */
void dec_state_init_row(const s2s_model *m, dec_state *st, int r, const enc_memory *mem);
/* Row dst of `to` := row src of `from`. */
void dec_state_copy_row(const s2s_model *m, const dec_state *from, int src, dec_state *to, int dst);

/* Width of a row of log-probabilities for memories of at most n_max
 * positions: V, plus n_max extended ids for a copy model. */
int logp_width(const s2s_model *m, int n_max);

/* Per-step scratch, in floats, for up to `rows` rows over memories of at
 * most n_max positions. */
size_t step_scratch_floats(const s2s_model *m, int rows, int n_max);

/* The output projection restricted to the k target ids of a call's lexical
 * shortlists (the fast mode): the union of its inputs' own lists. Each row
 * then keeps only its own input's ids (mem[r]->shortlist_ids), normalized
 * over them in that list's order, so a row's result does not depend on the
 * other inputs of the call; every other target id gets log p = -infinity. */
typedef struct out_subset {
    int k;
    const int *ids;     /* (k) target ids of the union, distinct */
    const int *pos;     /* (V) column of each target id in the union, -1 if absent */
    qmat w;             /* (k, H) their rows of the int8 output projection (views) */
    const float *bias;  /* (k) their output biases */
    float *logits;      /* (R, k) scratch */
    float *vals;        /* (V) scratch: one row's own logits */
} out_subset;

/* One decoder step t (1-based) for rows 0..R-1 of st (q: the int8 weights
 * of the fast mode, or NULL for F32; sub: the shortlist's output rows, or
 * NULL for the whole vocabulary; only with q): row r continues a
 * hypothesis over memory mem[r] whose last token is prev[r] (sos at the first
 * step; an extended id is fed back as unk). Updates st in place, writes
 * alpha (R, alpha_ld) attention weights (first mem[r]->n entries of each row,
 * alpha_ld >= n_max) and logp (R, logp_ld) log-probabilities (logp_ld =
 * logp_width(m, n_max); extended ids past a row's n_ext get -infinity).
 * want_logp 0: a model without copy and without sub leaves the logits in
 * logp, without the log-softmax (greedy decoding that reports no scores);
 * then, with row_max (R,) and without q, each row's largest logit is stored
 * there, so the caller can take a row's log-softmax when it reads the row
 * (log_softmax_from_max), while the row is still in cache. */
void decoder_step(const s2s_model *m, const model_q8 *q, const out_subset *sub, int R, int t, const int *prev,
                  const enc_memory *const *mem, dec_state *st, float *scratch, int n_max, float *alpha, int alpha_ld,
                  float *logp, int logp_ld, int want_logp, float *row_max);

/* Cell update for R rows: gi, gh (R, G*H) hold W_ih x + b_ih and
 * W_hh h + b_hh (both used as scratch and overwritten); h (R, H) and, for
 * LSTM, c (R, H) are updated in place. */
void rnn_update_rows(cell_kind cell, int R, int H, float *gi, float *gh, float *h, float *c);

/* Floats of projected keys per source position (0 when the attention has none). */
size_t attention_key_floats(const s2s_model *m);

/* Fills mem->keys from mem->h (bahdanau: Ua h_j + b_Ua; general: Wa h_j;
 * multihead: [Wk h_j + b_k ; Wv h_j + b_v]). */
void attention_keys(const s2s_model *m, enc_memory *mem);

/* The same for n rows of memory h (row stride ldh, D used) into keys
 * (n, attention_key_floats(m)). Nothing when the attention has no keys. */
void attention_keys_rows(const s2s_model *m, const float *h, size_t ldh, int n, float *keys);

/* Floats of scratch attention_rows needs for R rows over memories of at most n_max. */
size_t attention_scratch_floats(const s2s_model *m, int R, int n_max);

/* Attention at step t for R rows: query q (R, ldq) row r against mem[r],
 * with the coverage rows cov (R, cov_ld) for a coverage model (else NULL);
 * writes the weights into alpha (R, alpha_ld) (first mem[r]->n entries) and
 * the context vectors c_r (C,) into ctx (R, ldc). */
void attention_rows(const s2s_model *m, int R, int t, const float *q, size_t ldq, const enc_memory *const *mem,
                    const float *cov, size_t cov_ld, float *alpha, int alpha_ld, float *ctx, size_t ldc,
                    float *scratch, int n_max);

#endif
