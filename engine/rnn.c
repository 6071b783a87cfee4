/*
 * rnn.c - GRU and LSTM cells as torch.nn.GRU / torch.nn.LSTM compute them,
 * and the encoder (model-format.md section 4, "Encoder" and "Bridge").
 */
#include "compute.h"

#include <math.h>
#include <string.h>

#include "kernels.h"

/* GRU, PyTorch gate order r, z, n:
 *   r = sig(gi_r + gh_r), z = sig(gi_z + gh_z), n = tanh(gi_n + r * gh_n),
 *   h' = (1 - z) * n + z * h, computed as n + z * (h - n) like PyTorch
 * gi, gh (3H,) already include b_ih and b_hh; gi is overwritten.
 * h (H,) updated in place. */
static void gru_update(float *gi, const float *gh, float *h, int H)
{
    float *rz = gi, *n = gi + 2 * H;
    for (int i = 0; i < 2 * H; i++) rz[i] += gh[i];
    sigmoid_inplace(rz, 2 * H);
    for (int i = 0; i < H; i++) n[i] += rz[i] * gh[2 * H + i];
    tanh_inplace(n, H);
    for (int i = 0; i < H; i++) h[i] = n[i] + rz[H + i] * (h[i] - n[i]); /* PyTorch's form */
}

/* LSTM, PyTorch gate order i, f, g, o:
 *   c' = sig(f) * c + sig(i) * tanh(g),  h' = sig(o) * tanh(c')
 * gi, gh (4H,) include the biases; both are overwritten. h, c (H,) in place. */
static void lstm_update(float *gi, float *gh, float *h, float *c, int H)
{
    for (int k = 0; k < 4 * H; k++) gi[k] += gh[k];
    sigmoid_inplace(gi, 2 * H);          /* i, f */
    tanh_inplace(gi + 2 * H, H);         /* g */
    sigmoid_inplace(gi + 3 * H, H);      /* o */
    for (int k = 0; k < H; k++) gh[k] = c[k] = gi[H + k] * c[k] + gi[k] * gi[2 * H + k];
    tanh_inplace(gh, H);
    for (int k = 0; k < H; k++) h[k] = gi[3 * H + k] * gh[k];
}

void rnn_update_rows(cell_kind cell, int R, int H, float *gi, float *gh, float *h, float *c)
{
    int G = cell_gates(cell);
    for (int r = 0; r < R; r++) {
        float *a = gi + (size_t)r * G * H, *b = gh + (size_t)r * G * H;
        if (cell == CELL_GRU)
            gru_update(a, b, h + (size_t)r * H, H);
        else
            lstm_update(a, b, h + (size_t)r * H, c + (size_t)r * H, H);
    }
}

/* ---- encoder ------------------------------------------------------------- */

/* Widest layer input: the embedding for layer 0, D for the others. */
static int enc_width(const s2s_model *m)
{
    return m->cfg.enc.emb > m->mem_dim ? m->cfg.enc.emb : m->mem_dim;
}

size_t encode_batch_scratch_floats(const s2s_model *m, const int *n, int S)
{
    size_t H = (size_t)m->cfg.enc.hidden, G = (size_t)cell_gates(m->cfg.enc.cell);
    size_t L = (size_t)m->cfg.enc.layers, dirs = (size_t)m->enc_dirs, T = 0, s = (size_t)S;
    for (int i = 0; i < S; i++) T += (size_t)n[i];
    return 2 * T * (size_t)enc_width(m)   /* layer input and output, all rows */
           + T * G * H                    /* input projections of one direction */
           + s * G * H                    /* recurrent projections of one step */
           + 2 * s * H                    /* running h and c per sentence */
           + 2 * s * L * dirs * H         /* final h and c per sentence, layer and direction */
           + T * attention_key_floats(m)  /* projected keys, all rows */
           + (size_t)m->mem_dim           /* mean for mean_tanh */
           + q8_scratch_floats((int)T, enc_width(m)); /* int8 rows (fast mode) */
}

size_t encode_scratch_floats(const s2s_model *m, int n)
{
    return encode_batch_scratch_floats(m, &n, 1);
}

/* The rows of a batch: sentence at sorted position r (longest first) is
 * sentence order[r], of len[r] tokens, its token t on row base[r] + t. */
typedef struct enc_rows {
    const int *order, *len, *base;
    int S;
} enc_rows;

/* One direction of one layer for every sentence of the batch. X (T, ldx)
 * layer input; writes h_t into Y (T, ldy) at column offset `col`. At step
 * s the sentences still running are a prefix of the sorted order, so their
 * recurrent projections are one product of `b` rows; the backward direction
 * starts at each sentence's own end. hs, cs (S, H) running state; fin_h,
 * fin_c receive each sentence's final state at column `fcol` of rows of
 * `fld` floats. q_ih, q_hh: the layer's int8 weights (fast mode) or NULL;
 * qs their scratch. */
static void run_direction(const s2s_model *m, const rnn_layer *w, const qmat *q_ih, const qmat *q_hh, float *qs,
                          int reverse, const enc_rows *rows, int T, const float *X, size_t ldx, float *Y, size_t ldy,
                          int col, float *gi, float *gh, float *hs, float *cs, float *fin_h, float *fin_c, size_t fld,
                          size_t fcol)
{
    cell_kind cell = m->cfg.enc.cell;
    int H = w->hidden, GH = cell_gates(cell) * H, S = rows->S, b = S;
    matmul_wp_or_q8(q_ih, X, ldx, &w->p_ih, w->b_ih, gi, (size_t)GH, T, qs); /* gi (T, GH) = X W_ih^T + b */
    memset(hs, 0, sizeof(float) * (size_t)S * H);
    memset(cs, 0, sizeof(float) * (size_t)S * H);
    for (int s = 0; s < rows->len[0]; s++) {
        while (b > 0 && rows->len[b - 1] <= s) b--;
        /* gh (b, GH) = h W_hh^T + b_hh */
        matmul_wp_or_q8(q_hh, hs, (size_t)H, &w->p_hh, w->b_hh, gh, (size_t)GH, b, qs);
        for (int r = 0; r < b; r++) {
            size_t row = (size_t)rows->base[r] + (size_t)(reverse ? rows->len[r] - 1 - s : s);
            float *h = hs + (size_t)r * H;
            rnn_update_rows(cell, 1, H, gi + row * GH, gh + (size_t)r * GH, h, cs + (size_t)r * H);
            memcpy(Y + row * ldy + col, h, sizeof(float) * (size_t)H);
        }
    }
    for (int r = 0; r < S; r++) {
        memcpy(fin_h + (size_t)r * fld + fcol, hs + (size_t)r * H, sizeof(float) * (size_t)H);
        memcpy(fin_c + (size_t)r * fld + fcol, cs + (size_t)r * H, sizeof(float) * (size_t)H);
    }
}

/* Decoder initial state from the encoder's finals (model-format.md section 4, "Bridge"). */
static void bridge(const s2s_model *m, const float *fin_h, const float *fin_c, const float *mean,
                   enc_memory *mem)
{
    int Hd = m->cfg.dec.hidden, Ld = m->cfg.dec.layers, He = m->cfg.enc.hidden, dirs = m->enc_dirs;
    size_t sz = sizeof(float) * (size_t)Ld * Hd;
    switch (m->cfg.bridge) {
    case BRIDGE_FINAL: /* layer l: [forward final ; backward final]; equal layer counts */
        for (int l = 0; l < Ld; l++)
            for (int d = 0; d < dirs; d++) {
                size_t src = ((size_t)l * dirs + d) * He, dst = (size_t)l * Hd + (size_t)d * He;
                memcpy(mem->init_h + dst, fin_h + src, sizeof(float) * (size_t)He);
                if (mem->init_c) memcpy(mem->init_c + dst, fin_c + src, sizeof(float) * (size_t)He);
            }
        break;
    case BRIDGE_ZEROS:
        memset(mem->init_h, 0, sz);
        if (mem->init_c) memset(mem->init_c, 0, sz);
        break;
    case BRIDGE_MEAN_TANH: /* s0 = tanh(W mean_j(h_j) + b), W (H_d, D) */
        matmul_wp(mean, (size_t)m->mem_dim, &m->w.bridge, m->w.bridge_b, mem->init_h, (size_t)Hd, 1);
        tanh_inplace(mem->init_h, Hd);
        for (int l = 1; l < Ld; l++) memcpy(mem->init_h + (size_t)l * Hd, mem->init_h, sizeof(float) * Hd);
        if (mem->init_c) memset(mem->init_c, 0, sz);
        break;
    }
}

/* Sorts positions 0..S-1 by length, longest first (insertion sort keeps
 * equal lengths in input order; batches are small). */
static void sort_by_length(const int *n, int S, int *order)
{
    for (int i = 0; i < S; i++) {
        int j = i;
        for (; j > 0 && n[order[j - 1]] < n[i]; j--) order[j] = order[j - 1];
        order[j] = i;
    }
}

void encode_batch(const s2s_model *m, const model_q8 *q, const int *const *src, const int *n, int S,
                  float *scratch, int *iscratch, enc_memory *const *mem)
{
    const rnn_config *ec = &m->cfg.enc;
    int W = enc_width(m), He = ec->hidden, dirs = m->enc_dirs, D = m->mem_dim;
    size_t GH = (size_t)cell_gates(ec->cell) * He, K = attention_key_floats(m), T = 0;
    size_t fld = (size_t)ec->layers * dirs * He;
    int *order = iscratch, *len = order + S, *base = len + S;
    sort_by_length(n, S, order);
    for (int r = 0; r < S; r++) {
        len[r] = n[order[r]];
        base[r] = (int)T;
        T += (size_t)len[r];
    }
    enc_rows rows = {order, len, base, S};
    float *X = scratch, *Y = X + T * W, *gi = Y + T * W, *gh = gi + T * GH, *hs = gh + (size_t)S * GH;
    float *cs = hs + (size_t)S * He, *fin_h = cs + (size_t)S * He, *fin_c = fin_h + (size_t)S * fld;
    float *keys = fin_c + (size_t)S * fld, *mean = keys + T * K, *qs = mean + D;

    for (int r = 0; r < S; r++) /* X (T, emb) = E_src[x] */
        for (int t = 0; t < len[r]; t++)
            weights_row(&m->w.enc_embedding, (size_t)src[order[r]][t], ec->emb, X + ((size_t)base[r] + t) * W);
    for (int l = 0; l < ec->layers; l++) {
        for (int d = 0; d < dirs; d++)
            run_direction(m, &m->w.enc_rnn[l][d], q ? &q->enc_ih[l][d] : NULL, q ? &q->enc_hh[l][d] : NULL, qs,
                          d == 1, &rows, (int)T, X, (size_t)W, Y, (size_t)W, d * He, gi, gh, hs, cs, fin_h, fin_c, fld,
                          ((size_t)l * dirs + d) * He);
        float *tmp = X; X = Y; Y = tmp; /* this layer's output is the next one's input */
    }
    if (K) attention_keys_rows(m, X, (size_t)W, (int)T, keys);
    for (int r = 0; r < S; r++) {
        enc_memory *mm = mem[order[r]];
        const float *top = X + (size_t)base[r] * W;
        for (int t = 0; t < len[r]; t++) memcpy(mm->h + (size_t)t * D, top + (size_t)t * W, sizeof(float) * D);
        if (K) memcpy(mm->keys, keys + (size_t)base[r] * K, sizeof(float) * K * (size_t)len[r]);
        if (m->cfg.bridge == BRIDGE_MEAN_TANH) {
            memset(mean, 0, sizeof(float) * D);
            for (int t = 0; t < len[r]; t++) axpy(1.0f, mm->h + (size_t)t * D, mean, D);
            for (int i = 0; i < D; i++) mean[i] /= (float)len[r];
        }
        bridge(m, fin_h + (size_t)r * fld, fin_c + (size_t)r * fld, mean, mm);
    }
}

void encode(const s2s_model *m, const int *src, int n, float *scratch, enc_memory *mem)
{
    int iscratch[3];
    enc_memory *mems[1] = {mem};
    encode_batch(m, NULL, &src, &n, 1, scratch, iscratch, mems);
}
