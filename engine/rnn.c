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

size_t encode_scratch_floats(const s2s_model *m, int n)
{
    size_t H = (size_t)m->cfg.enc.hidden, G = (size_t)cell_gates(m->cfg.enc.cell);
    size_t L = (size_t)m->cfg.enc.layers, dirs = (size_t)m->enc_dirs;
    return 2 * (size_t)n * (size_t)enc_width(m) /* layer input and output */
           + (size_t)n * G * H                    /* input projections of one direction */
           + G * H                                /* recurrent projection */
           + 2 * L * dirs * H                     /* final h and c per layer and direction */
           + (size_t)m->mem_dim;                  /* mean for mean_tanh */
}

/* One direction of one layer over n positions.
 * X (n, ldx) layer input; writes h_t into Y (n, ldy) at column offset
 * `col`; hT, cT (H,) receive the final state (start from zero). */
static void run_direction(const s2s_model *m, const rnn_layer *w, int reverse, int n, const float *X,
                          size_t ldx, float *Y, size_t ldy, int col, float *gi, float *gh, float *hT,
                          float *cT)
{
    cell_kind cell = m->cfg.enc.cell;
    int H = w->hidden, GH = cell_gates(cell) * H;
    matmul_nt(X, ldx, w->w_ih, w->b_ih, gi, (size_t)GH, n, GH, w->in); /* gi (n, GH) = X W_ih^T + b_ih */
    memset(hT, 0, sizeof(float) * (size_t)H);
    memset(cT, 0, sizeof(float) * (size_t)H);
    for (int s = 0; s < n; s++) {
        int t = reverse ? n - 1 - s : s;
        matvec(w->w_hh, hT, w->b_hh, gh, GH, H); /* gh (GH,) = W_hh h + b_hh */
        rnn_update_rows(cell, 1, H, gi + (size_t)t * GH, gh, hT, cT);
        memcpy(Y + (size_t)t * ldy + col, hT, sizeof(float) * (size_t)H);
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
        matvec(m->w.bridge_w, mean, m->w.bridge_b, mem->init_h, Hd, m->mem_dim);
        tanh_inplace(mem->init_h, Hd);
        for (int l = 1; l < Ld; l++) memcpy(mem->init_h + (size_t)l * Hd, mem->init_h, sizeof(float) * Hd);
        if (mem->init_c) memset(mem->init_c, 0, sz);
        break;
    }
}

void encode(const s2s_model *m, const int *src, int n, float *scratch, enc_memory *mem)
{
    const rnn_config *ec = &m->cfg.enc;
    int W = enc_width(m), He = ec->hidden, dirs = m->enc_dirs, D = m->mem_dim;
    size_t GH = (size_t)cell_gates(ec->cell) * He;
    float *X = scratch, *Y = X + (size_t)n * W, *gi = Y + (size_t)n * W, *gh = gi + (size_t)n * GH;
    float *fin_h = gh + GH, *fin_c = fin_h + (size_t)ec->layers * dirs * He;
    float *mean = fin_c + (size_t)ec->layers * dirs * He;

    for (int t = 0; t < n; t++) /* X (n, emb) = E_src[x] */
        weights_row(&m->w.enc_embedding, (size_t)src[t], ec->emb, X + (size_t)t * W);
    for (int l = 0; l < ec->layers; l++) {
        for (int d = 0; d < dirs; d++) {
            size_t f = ((size_t)l * dirs + d) * He;
            run_direction(m, &m->w.enc_rnn[l][d], d == 1, n, X, (size_t)W, Y, (size_t)W, d * He, gi, gh,
                          fin_h + f, fin_c + f);
        }
        float *tmp = X; X = Y; Y = tmp; /* this layer's output is the next one's input */
    }
    for (int t = 0; t < n; t++) memcpy(mem->h + (size_t)t * D, X + (size_t)t * W, sizeof(float) * D);

    if (m->cfg.bridge == BRIDGE_MEAN_TANH) {
        memset(mean, 0, sizeof(float) * D);
        for (int t = 0; t < n; t++) axpy(1.0f, mem->h + (size_t)t * D, mean, D);
        for (int i = 0; i < D; i++) mean[i] /= (float)n;
    }
    bridge(m, fin_h, fin_c, mean, mem);
    attention_keys(m, mem);
}
