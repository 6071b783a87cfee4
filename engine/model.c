/*
 * model.c - s2s_model_load and friends: reads a model directory (model format
 * sections 1-4), checks every file against the config, binds each needed
 * tensor with its exact shape, and answers info / tensor / token queries.
 *
 * A loaded model is immutable: everything is computed here, nothing lazily,
 * so any number of threads may share it. F32 weights are views into a
 * read-only mmap of the weights file, except where the file's data offset is
 * not 4-byte aligned (safetensors does not promise alignment) or the host is
 * big-endian: such tensors, and every F16/BF16 tensor, get owned float32
 * copies (model_tensor.owned non-NULL).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "kernels.h"
#include "model.h"
#include "numbers.h"
#include "safetensors.h"
#include "shortlist.h"
#include "tokenizer.h"

/* Loader state while binding tensors. */
typedef struct loader {
    s2s_model *m;
    st_file st;
    const char *wname;   /* weights file name as in config.json */
    size_t cap;          /* capacity of m->tensors */
    int allow_nonfinite; /* s2s_model_load_params.allow_nonfinite */
    s2s_error *err;
} loader;

/* ---- half-precision widening ------------------------------------------- */

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* Converts `n` little-endian elements of dtype `dt` (F32, F16 or BF16) at
 * `src` into float32 `dst` (n floats). */
static void widen(st_dtype dt, const uint8_t *src, size_t n, float *dst)
{
    if (dt != ST_F32 && host_is_little_endian()) {
        widen_half(src, dst, n, dt == ST_BF16);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (dt == ST_F32) {
            const uint8_t *p = src + 4 * i;
            uint32_t bits = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                            (uint32_t)p[3] << 24;
            memcpy(&dst[i], &bits, sizeof bits);
        } else {
            widen_half(src + 2 * i, &dst[i], 1, dt == ST_BF16); /* reads little-endian bytes */
        }
    }
}

/* ---- non-finite values -------------------------------------------------- */

/* Refuses tensor `name` (`t`, F32/F16/BF16) when one of its elements is NaN
 * or infinite, naming the first such element. */
static s2s_status check_finite(loader *L, const char *name, const st_tensor *t)
{
    size_t n = (size_t)t->n_elements;
    long long bad = first_nonfinite(t->data, n, t->dtype == ST_F32 ? 4 : 2, t->dtype == ST_BF16);
    if (bad < 0)
        return S2S_OK;
    float v;
    widen(t->dtype, t->data + (size_t)bad * (t->dtype == ST_F32 ? 4 : 2), 1, &v);
    char where[64] = "";
    if (t->ndim == 2 && t->shape[1] > 0)
        snprintf(where, sizeof where, " (row %llu, column %llu)", (unsigned long long)bad / t->shape[1],
                 (unsigned long long)bad % t->shape[1]);
    return s2s_fail(L->err, S2S_ERR_TENSOR,
                    "%s: tensor \"%s\": element %lld%s is %s; non-finite weights are refused "
                    "(allow_nonfinite loads them anyway)",
                    L->wname, name, bad, where, isnan(v) ? "NaN" : v > 0 ? "+inf" : "-inf");
}

/* ---- shapes --------------------------------------------------------------- */

/* Writes a Python-style shape "(10, 64)", "(12,)" or "()" into buf. */
static const char *shape_str(char *buf, size_t size, int ndim, const uint64_t *dims)
{
    size_t used = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%llu", i ? ", " : "",
                                 (unsigned long long)dims[i]);
    if (used < size)
        snprintf(buf + used, size - used, ndim == 1 ? ",)" : ")");
    return buf;
}

/* Binds tensor `name`, which must have shape (d0) when d1 < 0, else (d0, d1),
 * into *out as float32. `note` (may be NULL) explains d0 in the shape
 * message (e.g. "12 = tokens in target.vocab.json"). A missing tensor is an
 * error when `required`, else *out = NULL. */
static s2s_status bind_as(loader *L, const char *name, int64_t d0, int64_t d1, int required,
                          const char *note, int keep_half, weights *out)
{
    memset(out, 0, sizeof *out);
    const st_tensor *t = safetensors_find(&L->st, name);
    if (!t) {
        if (!required)
            return S2S_OK;
        return s2s_fail(L->err, S2S_ERR_TENSOR, "%s: missing tensor \"%s\" (the config needs it)",
                           L->wname, name);
    }
    if (t->dtype != ST_F32 && t->dtype != ST_F16 && t->dtype != ST_BF16)
        return s2s_fail(L->err, S2S_ERR_TENSOR,
                           "%s: tensor \"%s\": dtype %s, but only F32, F16 and BF16 are supported",
                           L->wname, name, st_dtype_name(t->dtype));
    int ndim = d1 < 0 ? 1 : 2;
    uint64_t want[2] = {(uint64_t)d0, (uint64_t)(d1 < 0 ? 0 : d1)};
    if (t->ndim != ndim || t->shape[0] != want[0] || (ndim == 2 && t->shape[1] != want[1])) {
        char got[160], exp[64];
        return s2s_fail(L->err, S2S_ERR_TENSOR,
                           "%s: tensor \"%s\": shape %s but the config implies %s%s%s%s", L->wname,
                           name, shape_str(got, sizeof got, t->ndim, t->shape),
                           shape_str(exp, sizeof exp, ndim, want), note ? " (" : "",
                           note ? note : "", note ? ")" : "");
    }
    if (!L->allow_nonfinite) {
        s2s_status st = check_finite(L, name, t);
        if (st)
            return st;
    }
    if (L->m->n_tensors == L->cap) {
        size_t ncap = L->cap ? 2 * L->cap : 32;
        model_tensor *nt = realloc(L->m->tensors, ncap * sizeof *nt);
        if (!nt)
            return s2s_fail(L->err, S2S_ERR_NOMEM, "%s: out of memory", L->wname);
        L->m->tensors = nt;
        L->cap = ncap;
    }
    model_tensor *mt = &L->m->tensors[L->m->n_tensors];
    memset(mt, 0, sizeof *mt);
    mt->name = strdup(name);
    if (!mt->name)
        return s2s_fail(L->err, S2S_ERR_NOMEM, "%s: out of memory", L->wname);
    L->m->n_tensors++;
    mt->dtype = st_dtype_name(t->dtype);
    mt->ndim = ndim;
    mt->shape[0] = (int64_t)t->shape[0];
    if (ndim == 2)
        mt->shape[1] = (int64_t)t->shape[1];
    size_t n = (size_t)t->n_elements;
    int view = t->dtype == ST_F32 && host_is_little_endian() && (uintptr_t)t->data % 4 == 0;
    if (keep_half && t->dtype != ST_F32 && host_is_little_endian()) {
        out->half = t->data; /* a view into the mapping, widened as it is used */
        out->bf16 = t->dtype == ST_BF16;
        L->m->n_parameters += n;
        return S2S_OK;
    }
    if (view) {
        mt->data = (const float *)(const void *)t->data;
    } else {
        mt->owned = malloc(n ? n * sizeof(float) : 1);
        if (!mt->owned)
            return s2s_fail(L->err, S2S_ERR_NOMEM, "%s: out of memory for tensor \"%s\"",
                               L->wname, name);
        widen(t->dtype, t->data, n, mt->owned);
        mt->data = mt->owned;
    }
    L->m->n_parameters += n;
    out->f32 = mt->data;
    return S2S_OK;
}

/* Binds `name` as float32 (see bind_as). */
static s2s_status bind(loader *L, const char *name, int64_t d0, int64_t d1, int required,
                       const char *note, const float **out)
{
    weights w;
    s2s_status st = bind_as(L, name, d0, d1, required, note, 0, &w);
    *out = w.f32;
    return st;
}

/* Binds the four tensors of one direction of one RNN layer. */
static s2s_status bind_rnn_layer(loader *L, const char *prefix, int k, int reverse, int gates,
                                 int in, int hidden, rnn_layer *out)
{
    char name[128];
    const char *sfx = reverse ? "_reverse" : "";
    int64_t gh = (int64_t)gates * hidden;
    s2s_status st;
    out->in = in;
    out->hidden = hidden;
    snprintf(name, sizeof name, "%s.weight_ih_l%d%s", prefix, k, sfx);
    if ((st = bind(L, name, gh, in, 1, NULL, &out->w_ih)))
        return st;
    snprintf(name, sizeof name, "%s.weight_hh_l%d%s", prefix, k, sfx);
    if ((st = bind(L, name, gh, hidden, 1, NULL, &out->w_hh)))
        return st;
    snprintf(name, sizeof name, "%s.bias_ih_l%d%s", prefix, k, sfx);
    if ((st = bind(L, name, gh, -1, 1, NULL, &out->b_ih)))
        return st;
    snprintf(name, sizeof name, "%s.bias_hh_l%d%s", prefix, k, sfx);
    return bind(L, name, gh, -1, 1, NULL, &out->b_hh);
}

/* Binds the tensors of torch.nn.MultiheadAttention(embed_dim=H, kdim=vdim=D)
 * under decoder.attention.mha. (model-format.md section 9.3): one packed
 * in_proj_weight when D == H, else separate q/k/v projections. */
static s2s_status bind_multihead(loader *L, int D, int H)
{
    model_weights *w = &L->m->w;
    s2s_status st;
    if (D == H) {
        const float *in_proj;
        if ((st = bind(L, "decoder.attention.mha.in_proj_weight", 3 * (int64_t)H, H, 1, NULL, &in_proj)))
            return st;
        w->mha_q_w = in_proj;
        w->mha_k_w = in_proj + (size_t)H * H;
        w->mha_v_w = in_proj + 2 * (size_t)H * H;
    } else if ((st = bind(L, "decoder.attention.mha.q_proj_weight", H, H, 1, NULL, &w->mha_q_w)) ||
               (st = bind(L, "decoder.attention.mha.k_proj_weight", H, D, 1, NULL, &w->mha_k_w)) ||
               (st = bind(L, "decoder.attention.mha.v_proj_weight", H, D, 1, NULL, &w->mha_v_w))) {
        return st;
    }
    if ((st = bind(L, "decoder.attention.mha.in_proj_bias", 3 * (int64_t)H, -1, 1, NULL, &w->mha_in_b)) ||
        (st = bind(L, "decoder.attention.mha.out_proj.weight", H, H, 1, NULL, &w->mha_out_w)) ||
        (st = bind(L, "decoder.attention.mha.out_proj.bias", H, -1, 1, NULL, &w->mha_out_b)))
        return st;
    return S2S_OK;
}

/* Binds every tensor the config needs (model-format.md section 4). */
static s2s_status bind_all(loader *L)
{
    s2s_model *m = L->m;
    const model_config *c = &m->cfg;
    model_weights *w = &m->w;
    int V_src = vocab_size(m->vocab[S2S_SOURCE]), V_tgt = vocab_size(m->vocab[S2S_TARGET]);
    int dirs = m->enc_dirs, D = m->mem_dim, Hd = c->dec.hidden;
    char note_src[320], note_tgt[320];
    snprintf(note_src, sizeof note_src, "%d = tokens in %s", V_src, c->source_vocab);
    snprintf(note_tgt, sizeof note_tgt, "%d = tokens in %s", V_tgt, c->target_vocab);
    s2s_status st;

    if ((st = bind_as(L, "encoder.embedding.weight", V_src, c->enc.emb, 1, note_src, 1,
                      &w->enc_embedding)))
        return st;
    for (int k = 0; k < c->enc.layers; k++)
        for (int d = 0; d < dirs; d++)
            if ((st = bind_rnn_layer(L, "encoder.rnn", k, d, cell_gates(c->enc.cell),
                                     k == 0 ? c->enc.emb : c->enc.hidden * dirs, c->enc.hidden,
                                     &w->enc_rnn[k][d])))
                return st;
    if (c->bridge == BRIDGE_MEAN_TANH) {
        if ((st = bind(L, "bridge.weight", Hd, D, 1, NULL, &w->bridge_w)) ||
            (st = bind(L, "bridge.bias", Hd, -1, 1, NULL, &w->bridge_b)))
            return st;
    }
    if ((st = bind_as(L, "decoder.embedding.weight", V_tgt, c->dec.emb, 1, note_tgt, 1,
                      &w->dec_embedding)))
        return st;
    int in0 = c->position == POS_BEFORE_RNN ? c->dec.emb + m->ctx_dim
                                            : c->dec.emb + (c->input_feeding ? Hd : 0);
    for (int k = 0; k < c->dec.layers; k++)
        if ((st = bind_rnn_layer(L, "decoder.rnn", k, 0, cell_gates(c->dec.cell),
                                 k == 0 ? in0 : Hd, Hd, &w->dec_rnn[k])))
            return st;
    int A = c->attention_size;
    switch (c->attention) {
    case ATTN_BAHDANAU:
        if ((st = bind(L, "decoder.attention.Wa.weight", A, Hd, 1, NULL, &w->attn_wa_w)) ||
            (st = bind(L, "decoder.attention.Wa.bias", A, -1, 1, NULL, &w->attn_wa_b)) ||
            (st = bind(L, "decoder.attention.Ua.weight", A, D, 1, NULL, &w->attn_ua_w)) ||
            (st = bind(L, "decoder.attention.Ua.bias", A, -1, 1, NULL, &w->attn_ua_b)) ||
            (st = bind(L, "decoder.attention.Va.weight", 1, A, 1, NULL, &w->attn_va_w)) ||
            (st = bind(L, "decoder.attention.Va.bias", 1, -1, 1, NULL, &w->attn_va_b)))
            return st;
        break;
    case ATTN_GENERAL:
        if ((st = bind(L, "decoder.attention.Wa.weight", Hd, D, 1, NULL, &w->attn_wa_w)))
            return st;
        break;
    case ATTN_DOT:
    case ATTN_SCALED_DOT:
        break;
    case ATTN_MULTIHEAD:
        if ((st = bind_multihead(L, D, Hd)))
            return st;
        break;
    }
    if (c->coverage &&
        (st = bind(L, "decoder.attention.Wc.weight", A, 1, 1, NULL, &w->attn_wc_w)))
        return st;
    if (c->local == LOCAL_PREDICTIVE &&
        ((st = bind(L, "decoder.attention.Wp.weight", c->predictor_size, Hd, 1, NULL, &w->attn_wp_w)) ||
         (st = bind(L, "decoder.attention.vp.weight", 1, c->predictor_size, 1, NULL, &w->attn_vp_w))))
        return st;
    int C = m->ctx_dim;
    if (c->copy &&
        ((st = bind(L, "decoder.copy_gate.weight", 1, (int64_t)C + Hd + c->dec.emb, 1, NULL, &w->copy_w)) ||
         (st = bind(L, "decoder.copy_gate.bias", 1, -1, 1, NULL, &w->copy_b))))
        return st;
    if (c->position == POS_AFTER_RNN) {
        if ((st = bind(L, "decoder.attention_out.weight", Hd, (int64_t)C + Hd, 1, NULL,
                       &w->attn_out_w)) ||
            (st = bind(L, "decoder.attention_out.bias", Hd, -1, 0, NULL, &w->attn_out_b)))
            return st;
        m->cfg.has_attn_out_bias = w->attn_out_b != NULL;
    }
    if ((st = bind(L, "decoder.out.weight", V_tgt, m->cfg.dec.hidden, 1, note_tgt, &w->out_w)) ||
        (st = bind(L, "decoder.out.bias", V_tgt, -1, 1, note_tgt, &w->out_b)))
        return st;
    return S2S_OK;
}

/* Packs one bound matrix (out, in) for matmul_wp; a matrix the model does
 * not have (W NULL) stays empty. */
static s2s_status pack(loader *L, const char *name, const float *W, int out, int in, wpack *p)
{
    if (!W || wpack_init(p, W, out, in)) return S2S_OK;
    return s2s_fail(L->err, S2S_ERR_NOMEM, "%s: out of memory for tensor \"%s\"", L->wname, name);
}

/* Packs every weight matrix of the products (after bind_all). */
static s2s_status pack_all(loader *L)
{
    s2s_model *m = L->m;
    const model_config *c = &m->cfg;
    model_weights *w = &m->w;
    int Hd = c->dec.hidden, D = m->mem_dim, A = c->attention_size, V = vocab_size(m->vocab[S2S_TARGET]);
    s2s_status st;
    for (int k = 0; k < c->enc.layers; k++)
        for (int d = 0; d < m->enc_dirs; d++) {
            rnn_layer *l = &w->enc_rnn[k][d];
            int GH = cell_gates(c->enc.cell) * l->hidden;
            if ((st = pack(L, "encoder.rnn.weight_ih", l->w_ih, GH, l->in, &l->p_ih)) ||
                (st = pack(L, "encoder.rnn.weight_hh", l->w_hh, GH, l->hidden, &l->p_hh)))
                return st;
        }
    for (int k = 0; k < c->dec.layers; k++) {
        rnn_layer *l = &w->dec_rnn[k];
        int GH = cell_gates(c->dec.cell) * l->hidden;
        if ((st = pack(L, "decoder.rnn.weight_ih", l->w_ih, GH, l->in, &l->p_ih)) ||
            (st = pack(L, "decoder.rnn.weight_hh", l->w_hh, GH, l->hidden, &l->p_hh)))
            return st;
    }
    int wa_out = c->attention == ATTN_BAHDANAU ? A : Hd, wa_in = c->attention == ATTN_BAHDANAU ? Hd : D;
    if ((st = pack(L, "bridge.weight", w->bridge_w, Hd, D, &w->bridge)) ||
        (st = pack(L, "decoder.attention.Wa.weight", w->attn_wa_w, wa_out, wa_in, &w->attn_wa)) ||
        (st = pack(L, "decoder.attention.Ua.weight", w->attn_ua_w, A, D, &w->attn_ua)) ||
        (st = pack(L, "decoder.attention.Wp.weight", w->attn_wp_w, c->predictor_size, Hd, &w->attn_wp)) ||
        (st = pack(L, "decoder.attention.mha.q_proj", w->mha_q_w, Hd, Hd, &w->mha_q)) ||
        (st = pack(L, "decoder.attention.mha.k_proj", w->mha_k_w, Hd, D, &w->mha_k)) ||
        (st = pack(L, "decoder.attention.mha.v_proj", w->mha_v_w, Hd, D, &w->mha_v)) ||
        (st = pack(L, "decoder.attention.mha.out_proj.weight", w->mha_out_w, Hd, Hd, &w->mha_out)) ||
        (st = pack(L, "decoder.attention_out.weight", w->attn_out_w, Hd, m->ctx_dim + Hd, &w->attn_out)))
        return st;
    const st_tensor *ow = safetensors_find(&L->st, "decoder.out.weight");
    if (ow->dtype == ST_F16 && host_is_little_endian() && wpack_init_half(&w->out, ow->data, V, Hd))
        return S2S_OK;
    return pack(L, "decoder.out.weight", w->out_w, V, Hd, &w->out);
}

static void wpack_free_all(s2s_model *m)
{
    model_weights *w = &m->w;
    for (int k = 0; k < S2S_MAX_LAYERS; k++) {
        for (int d = 0; d < 2; d++) {
            wpack_free(&w->enc_rnn[k][d].p_ih);
            wpack_free(&w->enc_rnn[k][d].p_hh);
        }
        wpack_free(&w->dec_rnn[k].p_ih);
        wpack_free(&w->dec_rnn[k].p_hh);
    }
    wpack *all[] = {&w->bridge, &w->attn_wa, &w->attn_ua, &w->attn_wp, &w->mha_q,
                    &w->mha_k,  &w->mha_v,   &w->mha_out, &w->attn_out, &w->out};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) wpack_free(all[i]);
}

/* ---- paths ---------------------------------------------------------------- */

/* Resolves `rel` (already checked by config_check_relpath) inside the real
 * model directory `dir_real`, following symbolic links, and refuses a result
 * outside it. *out is malloc'd. A missing file is S2S_ERR_IO naming `rel`. */
static s2s_status resolve(const char *dir_real, const char *rel, const char *key, char **out,
                          s2s_error *err)
{
    *out = NULL;
    size_t dl = strlen(dir_real), rl = strlen(rel);
    char *joined = malloc(dl + rl + 2);
    if (!joined)
        return s2s_fail(err, S2S_ERR_NOMEM, "%s: out of memory", rel);
    memcpy(joined, dir_real, dl);
    joined[dl] = '/';
    memcpy(joined + dl + 1, rel, rl + 1);
    char *real = realpath(joined, NULL);
    int e = errno;
    free(joined);
    if (!real)
        return key ? s2s_fail(err, S2S_ERR_IO, "%s: cannot open (config key \"%s\"): %s", rel,
                                 key, strerror(e))
                   : s2s_fail(err, S2S_ERR_IO, "%s: cannot open: %s", rel, strerror(e));
    int root = dl == 1 && dir_real[0] == '/';
    if (!root && (strncmp(real, dir_real, dl) != 0 || real[dl] != '/')) {
        free(real);
        return key ? s2s_fail(err, S2S_ERR_CONFIG,
                              "config.json: key \"%s\": \"%.200s\" resolves outside the model "
                              "directory (through a symbolic link)",
                              key, rel)
                   : s2s_fail(err, S2S_ERR_CONFIG,
                              "%s: resolves outside the model directory (through a symbolic link)", rel);
    }
    *out = real;
    return S2S_OK;
}

/* Reads and parses one vocabulary file. */
static s2s_status load_vocab(const char *dir_real, const char *rel, const char *key,
                             s2s_vocab **out, s2s_error *err)
{
    char *path, *text;
    size_t len;
    s2s_status st = resolve(dir_real, rel, key, &path, err);
    if (st)
        return st;
    st = loader_read_file(path, rel, LOADER_MAX_TEXT_FILE, &text, &len, err);
    free(path);
    if (st)
        return st;
    tok_error terr;
    *out = vocab_parse(text, len, rel, &terr);
    free(text);
    return *out ? S2S_OK : s2s_fail_from_tokenizer(err, &terr);
}

/* Reads the merges file (level "bpe") and creates the model's tokenizer. */
static s2s_status load_tokenizer(s2s_model *m, const char *dir_real, s2s_error *err)
{
    const tokenizer_config *tc = &m->cfg.tokenizer;
    char *path = NULL, *text = NULL;
    size_t len = 0;
    s2s_status st;
    if (tc->level == LEVEL_BPE) {
        if ((st = resolve(dir_real, tc->merges, "tokenizer.merges", &path, err)))
            return st;
        st = loader_read_file(path, tc->merges, LOADER_MAX_TEXT_FILE, &text, &len, err);
        free(path);
        if (st)
            return st;
    }
    tok_error terr;
    m->tokenizer = tokenizer_new(tc, text, len, tc->merges, &terr);
    free(text);
    return m->tokenizer ? S2S_OK : s2s_fail_from_tokenizer(err, &terr);
}

/* Reads `shortlist.txt` (the fast mode's lexical shortlist) when the model
 * directory has one and checks its header; the rest is parsed the first
 * time the fast mode needs it, so loading stays as fast without it. Its
 * absence is not an error; a name that is there but cannot be read (a
 * dangling symbolic link, one leading outside the directory) is. */
static s2s_status load_shortlist(s2s_model *m, const char *dir_real, s2s_error *err)
{
    char *path, *text;
    size_t len, dl = strlen(dir_real);
    char *joined = malloc(dl + sizeof "/" SHORTLIST_FILE);
    if (!joined) return s2s_fail(err, S2S_ERR_NOMEM, "%s: out of memory", SHORTLIST_FILE);
    memcpy(joined, dir_real, dl);
    memcpy(joined + dl, "/" SHORTLIST_FILE, sizeof "/" SHORTLIST_FILE);
    struct stat sb;
    int absent = lstat(joined, &sb) != 0 && errno == ENOENT;
    free(joined);
    if (absent) return S2S_OK;
    s2s_status st = resolve(dir_real, SHORTLIST_FILE, NULL, &path, err);
    if (st) return st;
    st = loader_read_file(path, SHORTLIST_FILE, LOADER_MAX_TEXT_FILE, &text, &len, err);
    free(path);
    if (st) return st;
    st = shortlist_check_header(text, len, SHORTLIST_FILE, vocab_size(m->vocab[S2S_SOURCE]),
                                vocab_size(m->vocab[S2S_TARGET]), err);
    if (st) {
        free(text);
        return st;
    }
    m->shortlist_text = text;
    m->shortlist_len = len;
    return S2S_OK;
}

/* ---- load ----------------------------------------------------------------- */

static int cmp_model_tensor(const void *a, const void *b)
{
    return strcmp(((const model_tensor *)a)->name, ((const model_tensor *)b)->name);
}

/* Looks the special tokens up in the vocabularies (model-format.md section 4). */
static s2s_status find_special_tokens(s2s_model *m, s2s_error *err)
{
    const model_config *c = &m->cfg;
    const s2s_vocab *src = m->vocab[S2S_SOURCE], *tgt = m->vocab[S2S_TARGET];
    m->sos_id = vocab_id(tgt, c->sos, strlen(c->sos));
    if (m->sos_id < 0)
        return s2s_fail(err, S2S_ERR_VOCAB,
                           "%s: special token sos \"%.100s\" is not in the target vocabulary",
                           c->target_vocab, c->sos);
    m->eos_id = vocab_id(tgt, c->eos, strlen(c->eos));
    if (m->eos_id < 0)
        return s2s_fail(err, S2S_ERR_VOCAB,
                           "%s: special token eos \"%.100s\" is not in the target vocabulary",
                           c->target_vocab, c->eos);
    m->src_eos_id = vocab_id(src, c->eos, strlen(c->eos));
    if (m->src_eos_id < 0 && c->append_eos)
        return s2s_fail(err, S2S_ERR_VOCAB,
                           "%s: special token eos \"%.100s\" is not in the source vocabulary "
                           "(needed because encoder.append_eos is true)",
                           c->source_vocab, c->eos);
    m->unk_id[S2S_SOURCE] = m->unk_id[S2S_TARGET] = -1;
    if (c->unk) {
        m->unk_id[S2S_SOURCE] = vocab_id(src, c->unk, strlen(c->unk));
        m->unk_id[S2S_TARGET] = vocab_id(tgt, c->unk, strlen(c->unk));
        if (m->unk_id[S2S_SOURCE] < 0 && m->unk_id[S2S_TARGET] < 0)
            return s2s_fail(err, S2S_ERR_VOCAB,
                               "%s, %s: special token unk \"%.100s\" is in neither vocabulary",
                               c->source_vocab, c->target_vocab, c->unk);
    }
    if (c->copy && m->unk_id[S2S_TARGET] < 0)
        return s2s_fail(err, S2S_ERR_VOCAB,
                        "%s: special token unk \"%.100s\" is not in the target vocabulary "
                        "(needed because decoder.copy is true)",
                        c->target_vocab, c->unk);
    return S2S_OK;
}

/* See s2s.h. */
s2s_model_load_params s2s_model_load_default_params(void)
{
    s2s_model_load_params p;
    memset(&p, 0, sizeof p);
    p.allow_nonfinite = 0;
    return p;
}

/* Keep numbers: the glue class of every target piece (numbers.h). */
static s2s_status classify_target_pieces(s2s_model *m, s2s_error *err)
{
    int V = vocab_size(m->vocab[S2S_TARGET]);
    if (!(m->target_glue = malloc((size_t)(V > 0 ? V : 1))))
        return s2s_fail(err, S2S_ERR_NOMEM, "%s: out of memory", m->dir);
    for (int id = 0; id < V; id++) m->target_glue[id] = piece_glue(vocab_token(m->vocab[S2S_TARGET], id));
    return S2S_OK;
}

/* See s2s.h. */
s2s_model *s2s_model_load(const char *dir, s2s_error *err)
{
    return s2s_model_load_with(dir, NULL, err);
}

/* See s2s.h. */
s2s_model *s2s_model_load_with(const char *dir, const s2s_model_load_params *params, s2s_error *err)
{
    s2s_model_load_params p = params ? *params : s2s_model_load_default_params();
    if (!dir || !dir[0]) {
        s2s_fail(err, S2S_ERR_INVALID_ARG, "model directory: empty path");
        return NULL;
    }
    s2s_model *m = calloc(1, sizeof *m);
    if (m) pthread_mutex_init(&m->q8_lock, NULL);
    char *dir_real = NULL, *path = NULL, *text = NULL;
    size_t len;
    s2s_status st = S2S_OK;
    loader L = {.m = m, .err = err, .allow_nonfinite = p.allow_nonfinite != 0};
    if (!m || !(m->dir = strdup(dir))) {
        st = s2s_fail(err, S2S_ERR_NOMEM, "%s: out of memory", dir);
        goto fail;
    }
    m->src_eos_id = m->unk_id[0] = m->unk_id[1] = -1;
    dir_real = realpath(dir, NULL);
    if (!dir_real) {
        st = s2s_fail(err, S2S_ERR_IO, "%s: cannot open model directory: %s", dir,
                         strerror(errno));
        goto fail;
    }
    if ((st = resolve(dir_real, "config.json", NULL, &path, err)))
        goto fail;
    if ((st = loader_read_file(path, "config.json", LOADER_MAX_TEXT_FILE, &text, &len, err)))
        goto fail;
    free(path);
    path = NULL;
    if ((st = model_config_parse(text, len, "config.json", &m->cfg, err)))
        goto fail;
    free(text);
    text = NULL;
    m->enc_dirs = m->cfg.enc.bidirectional ? 2 : 1;
    m->mem_dim = m->cfg.enc.hidden * m->enc_dirs;
    m->ctx_dim = m->cfg.attention == ATTN_MULTIHEAD ? m->cfg.dec.hidden : m->mem_dim;

    if ((st = load_vocab(dir_real, m->cfg.source_vocab, "source_vocab", &m->vocab[S2S_SOURCE],
                         err)) ||
        (st = load_vocab(dir_real, m->cfg.target_vocab, "target_vocab", &m->vocab[S2S_TARGET],
                         err)))
        goto fail;
    if ((st = find_special_tokens(m, err)) || (st = classify_target_pieces(m, err)))
        goto fail;

    if ((st = load_tokenizer(m, dir_real, err)) || (st = load_shortlist(m, dir_real, err)))
        goto fail;

    if ((st = resolve(dir_real, m->cfg.weights, "weights", &path, err)))
        goto fail;
    if ((st = safetensors_map_file(path, m->cfg.weights, &m->map, &m->map_size, err)))
        goto fail;
    if ((st = safetensors_parse(m->map, m->map_size, m->cfg.weights, &L.st, err)))
        goto fail;
    L.wname = m->cfg.weights;
    if ((st = bind_all(&L)) || (st = pack_all(&L)))
        goto fail;
    qsort(m->tensors, m->n_tensors, sizeof *m->tensors, cmp_model_tensor);
    safetensors_free(&L.st);
    free(path);
    free(dir_real);
    return m;
fail:
    (void)st;
    safetensors_free(&L.st);
    free(path);
    free(text);
    free(dir_real);
    s2s_model_free(m);
    return NULL;
}

/* See s2s.h. */
void s2s_model_free(s2s_model *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_tensors; i++) {
        free(m->tensors[i].name);
        free(m->tensors[i].owned);
    }
    free(m->tensors);
    wpack_free_all(m);
    safetensors_unmap(m->map, m->map_size);
    tokenizer_free(m->tokenizer);
    vocab_free(m->vocab[0]);
    vocab_free(m->vocab[1]);
    free(m->target_glue);
    model_config_free(&m->cfg);
    model_q8_free(m);
    shortlist_free(atomic_load(&m->shortlist));
    free(m->shortlist_text);
    pthread_mutex_destroy(&m->q8_lock);
    free(m->dir);
    free(m);
}

/* ---- queries -------------------------------------------------------------- */

/* See s2s.h. */
void s2s_model_get_info(const s2s_model *m, s2s_model_info *info)
{
    if (!info)
        return;
    memset(info, 0, sizeof *info);
    if (!m)
        return;
    const model_config *c = &m->cfg;
    info->dir = m->dir;
    info->task = c->task;
    info->source_language = c->source_language;
    info->target_language = c->target_language;
    info->weights_file = c->weights;
    info->encoder = (s2s_rnn_info){config_cell_name(c->enc.cell), c->enc.emb, c->enc.hidden,
                                   c->enc.layers, c->enc.bidirectional};
    info->decoder = (s2s_rnn_info){config_cell_name(c->dec.cell), c->dec.emb, c->dec.hidden,
                                   c->dec.layers, 0};
    info->append_eos = c->append_eos;
    info->bridge = config_bridge_name(c->bridge);
    info->attention = config_attention_name(c->attention);
    info->attention_position = config_position_name(c->position);
    info->attention_size = c->attention == ATTN_BAHDANAU ? c->attention_size : 0;
    info->input_feeding = c->input_feeding;
    info->source_vocab_size = vocab_size(m->vocab[S2S_SOURCE]);
    info->target_vocab_size = vocab_size(m->vocab[S2S_TARGET]);
    info->sos = c->sos;
    info->eos = c->eos;
    info->unk = c->unk;
    info->pad = c->pad;
    info->normalizer = normalizer_name(c->tokenizer.normalizer);
    info->level = level_name(c->tokenizer.level);
    info->lowercase = c->tokenizer.lowercase;
    info->whole_numbers = c->tokenizer.whole_numbers;
    info->whole_names = c->tokenizer.whole_names;
    info->merges_file = c->tokenizer.level == LEVEL_BPE ? c->tokenizer.merges : NULL;
    info->max_length = c->max_length;
    info->format_version = c->format_version;
    info->coverage = c->coverage;
    info->local = c->local == LOCAL_NONE ? NULL : config_local_name(c->local);
    info->window = c->window;
    info->predictor_size = c->predictor_size;
    info->heads = c->heads;
    info->copy = c->copy;
    info->beam_size = c->beam_size;
    info->min_length = c->min_length;
    info->length_penalty = c->length_penalty;
    info->no_repeat_ngram = c->no_repeat_ngram;
    info->coverage_penalty = c->coverage_penalty;
    info->keep_numbers = c->keep_numbers;
    /* the limit in force: the tokenizer never cuts later than S2S_MAX_SOURCE_TOKENS */
    info->max_input_tokens = c->tokenizer.max_input_tokens < S2S_MAX_SOURCE_TOKENS ? c->tokenizer.max_input_tokens
                                                                                   : S2S_MAX_SOURCE_TOKENS;
    info->n_tensors = m->n_tensors;
    info->n_parameters = m->n_parameters;
    info->license = c->license;
    info->attribution = c->attribution;
    info->scores_json = c->scores_json;
    info->shortlist = m->shortlist_text != NULL;
}

/* See s2s.h. */
s2s_status s2s_model_tensor(const s2s_model *m, size_t i, s2s_tensor_info *out)
{
    if (!m || !out || i >= m->n_tensors)
        return S2S_ERR_INVALID_ARG;
    const model_tensor *t = &m->tensors[i];
    memset(out, 0, sizeof *out);
    out->name = t->name;
    out->dtype = t->dtype;
    out->ndim = t->ndim;
    for (int k = 0; k < t->ndim && k < 4; k++)
        out->shape[k] = t->shape[k];
    return S2S_OK;
}

/* See s2s.h. */
const char *s2s_model_token(const s2s_model *m, s2s_side side, int id)
{
    if (!m || (side != S2S_SOURCE && side != S2S_TARGET))
        return NULL;
    return vocab_token(m->vocab[side], id);
}

/* See s2s.h. */
int s2s_model_token_id(const s2s_model *m, s2s_side side, const char *token, size_t len)
{
    if (!m || !token || (side != S2S_SOURCE && side != S2S_TARGET))
        return -1;
    return vocab_id(m->vocab[side], token, len);
}
