/*
 * test_loader.c - the model loader against hand-built model directories:
 * one valid tiny model written by this test (safetensors bytes, config,
 * vocabularies), then malformed variants, each checked for the exact status
 * and a distinctive part of the message. Expected numbers are worked out by
 * hand from the spec, not taken from the loader's output.
 */
#include <criterion/criterion.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "model.h"
#include "s2s.h"
#include "safetensors.h"
#include "tokenizer.h"

/* ---- tiny safetensors writer ------------------------------------------- */

#define MAX_T 64

typedef struct tspec {
    char name[96];
    char dtype[16];
    int ndim;
    int64_t shape[4];
    uint8_t *data; /* nbytes, owned */
    size_t nbytes;
} tspec;

typedef struct tlist {
    tspec t[MAX_T];
    int n;
} tlist;

/* Element value used for F32 tensors: exact in float. */
static float val(int tensor, int i) { return (float)(tensor * 100 + i) * 0.25f; }

static tspec *tl_add(tlist *l, const char *name, const char *dtype, int ndim, int64_t d0,
                     int64_t d1, size_t elsize)
{
    cr_assert(l->n < MAX_T);
    tspec *t = &l->t[l->n];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    snprintf(t->dtype, sizeof t->dtype, "%s", dtype);
    t->ndim = ndim;
    t->shape[0] = d0;
    t->shape[1] = d1;
    size_t n = (size_t)d0 * (ndim == 2 ? (size_t)d1 : 1);
    t->nbytes = n * elsize;
    t->data = calloc(t->nbytes ? t->nbytes : 1, 1);
    if (!strcmp(dtype, "F32"))
        for (size_t i = 0; i < n; i++) {
            float f = val(l->n, (int)i);
            memcpy(t->data + 4 * i, &f, 4); /* host is little-endian here */
        }
    l->n++;
    return t;
}

static void tl_f32(tlist *l, const char *name, int64_t d0, int64_t d1)
{
    tl_add(l, name, "F32", d1 < 0 ? 1 : 2, d0, d1, 4);
}

static tspec *tl_find(tlist *l, const char *name)
{
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->t[i].name, name))
            return &l->t[i];
    return NULL;
}

static void tl_remove(tlist *l, const char *name)
{
    tspec *t = tl_find(l, name);
    cr_assert(t, "no tensor %s", name);
    free(t->data);
    int i = (int)(t - l->t);
    memmove(&l->t[i], &l->t[i + 1], (size_t)(l->n - i - 1) * sizeof *t);
    l->n--;
}

static void tl_free(tlist *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->t[i].data);
    l->n = 0;
}

/* Serialises `l` as safetensors: header padded with spaces to a multiple of 8,
 * then `extra_pad` more spaces (to misalign the data). Returns malloc'd bytes. */
static uint8_t *st_build(const tlist *l, int extra_pad, size_t *len)
{
    size_t cap = 65536, used = 0;
    char *h = malloc(cap);
    used += (size_t)snprintf(h + used, cap - used, "{\"__metadata__\":{\"format\":\"pt\"}");
    size_t off = 0;
    for (int i = 0; i < l->n; i++) {
        const tspec *t = &l->t[i];
        used += (size_t)snprintf(h + used, cap - used, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[",
                                 t->name, t->dtype);
        for (int k = 0; k < t->ndim; k++)
            used += (size_t)snprintf(h + used, cap - used, "%s%lld", k ? "," : "",
                                     (long long)t->shape[k]);
        used += (size_t)snprintf(h + used, cap - used, "],\"data_offsets\":[%zu,%zu]}", off,
                                 off + t->nbytes);
        off += t->nbytes;
    }
    used += (size_t)snprintf(h + used, cap - used, "}");
    while (used % 8)
        h[used++] = ' ';
    for (int i = 0; i < extra_pad; i++)
        h[used++] = ' ';
    *len = 8 + used + off;
    uint8_t *out = malloc(*len);
    uint64_t n = used;
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(n >> (8 * i));
    memcpy(out + 8, h, used);
    size_t p = 8 + used;
    for (int i = 0; i < l->n; i++) {
        memcpy(out + p, l->t[i].data, l->t[i].nbytes);
        p += l->t[i].nbytes;
    }
    free(h);
    return out;
}

/* Raw safetensors: 8-byte length `n` (the header's own length unless
 * force_len), header text, then `dlen` zero bytes. */
static uint8_t *st_raw(const char *header, size_t dlen, uint64_t force_len, size_t *len)
{
    size_t hl = strlen(header);
    *len = 8 + hl + dlen;
    uint8_t *out = calloc(*len, 1);
    uint64_t n = force_len ? force_len : hl;
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(n >> (8 * i));
    memcpy(out + 8, header, hl);
    return out;
}

/* ---- model directory fixture -------------------------------------------- */

#define SRC_VOCAB "{\"EOS\": 0, \"je\": 1, \"suis\": 2, \"content\": 3, \"<unk>\": 4}"
#define TGT_VOCAB "{\"SOS\": 0, \"EOS\": 1, \"i\": 2, \"am\": 3, \"happy\": 4, \"<unk>\": 5}"

typedef struct fixture {
    char dir[64];
    tlist tl;
    cJSON *cfg;
    const char *src_vocab, *tgt_vocab;
    int extra_pad;
    uint8_t *raw_weights; /* when set, written instead of tl */
    size_t raw_len;
    s2s_error err;
} fixture;

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert(f, "cannot write %s", path);
    if (len)
        cr_assert(fwrite(data, 1, len, f) == len);
    fclose(f);
}

/* The base model: GRU 4/4, one layer, Bahdanau A=3 before the RNN, V_src 5,
 * V_tgt 6, embeddings of size 4. */
static void base_tensors(tlist *l)
{
    tl_f32(l, "encoder.embedding.weight", 5, 4);
    tl_f32(l, "encoder.rnn.weight_ih_l0", 12, 4);
    tl_f32(l, "encoder.rnn.weight_hh_l0", 12, 4);
    tl_f32(l, "encoder.rnn.bias_ih_l0", 12, -1);
    tl_f32(l, "encoder.rnn.bias_hh_l0", 12, -1);
    tl_f32(l, "decoder.embedding.weight", 6, 4);
    tl_f32(l, "decoder.rnn.weight_ih_l0", 12, 8); /* emb 4 + D 4 */
    tl_f32(l, "decoder.rnn.weight_hh_l0", 12, 4);
    tl_f32(l, "decoder.rnn.bias_ih_l0", 12, -1);
    tl_f32(l, "decoder.rnn.bias_hh_l0", 12, -1);
    tl_f32(l, "decoder.attention.Wa.weight", 3, 4);
    tl_f32(l, "decoder.attention.Wa.bias", 3, -1);
    tl_f32(l, "decoder.attention.Ua.weight", 3, 4);
    tl_f32(l, "decoder.attention.Ua.bias", 3, -1);
    tl_f32(l, "decoder.attention.Va.weight", 1, 3);
    tl_f32(l, "decoder.attention.Va.bias", 1, -1);
    tl_f32(l, "decoder.out.weight", 6, 4);
    tl_f32(l, "decoder.out.bias", 6, -1);
}
/* 20 + 48 + 48 + 12 + 12 + 24 + 96 + 48 + 12 + 12 + 12 + 3 + 12 + 3 + 3 + 1 + 24 + 6 = 396 */
#define BASE_PARAMS 396
#define BASE_TENSORS 18

static cJSON *base_config(void)
{
    const char *text =
        "{\"format\": \"s2s-rnn\", \"format_version\": 1, \"task\": \"translation\","
        " \"source_language\": \"fr\", \"target_language\": \"en\","
        " \"special_tokens\": {\"sos\": \"SOS\", \"eos\": \"EOS\", \"unk\": \"<unk>\", \"pad\": null},"
        " \"encoder\": {\"cell\": \"gru\", \"embedding_size\": 4, \"hidden_size\": 4},"
        " \"decoder\": {\"cell\": \"gru\", \"embedding_size\": 4, \"hidden_size\": 4,"
        "   \"attention\": {\"type\": \"bahdanau\", \"size\": 3}},"
        " \"tokenizer\": {\"normalizer\": \"tutorial\", \"level\": \"word\"},"
        " \"decoding\": {\"max_length\": 20}}";
    cJSON *c = cJSON_Parse(text);
    cr_assert(c);
    return c;
}

static void fx_init(fixture *fx)
{
    memset(fx, 0, sizeof *fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/s2s-loader-XXXXXX");
    cr_assert(mkdtemp(fx->dir));
    base_tensors(&fx->tl);
    fx->cfg = base_config();
    fx->src_vocab = SRC_VOCAB;
    fx->tgt_vocab = TGT_VOCAB;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void fx_cleanup(fixture *fx)
{
    nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    tl_free(&fx->tl);
    cJSON_Delete(fx->cfg);
    free(fx->raw_weights);
}

static void fx_write(fixture *fx)
{
    char *cfg = cJSON_Print(fx->cfg);
    write_file(fx->dir, "config.json", cfg, strlen(cfg));
    free(cfg);
    if (fx->src_vocab)
        write_file(fx->dir, "source.vocab.json", fx->src_vocab, strlen(fx->src_vocab));
    if (fx->tgt_vocab)
        write_file(fx->dir, "target.vocab.json", fx->tgt_vocab, strlen(fx->tgt_vocab));
    if (fx->raw_weights) {
        write_file(fx->dir, "model.safetensors", fx->raw_weights, fx->raw_len);
    } else {
        size_t len;
        uint8_t *b = st_build(&fx->tl, fx->extra_pad, &len);
        write_file(fx->dir, "model.safetensors", b, len);
        free(b);
    }
}

static s2s_model *fx_load(fixture *fx)
{
    fx_write(fx);
    memset(&fx->err, 0, sizeof fx->err);
    return s2s_model_load(fx->dir, &fx->err);
}

static void fx_raw(fixture *fx, uint8_t *bytes, size_t len)
{
    fx->raw_weights = bytes;
    fx->raw_len = len;
}

/* Raw weights from st_raw(header, dlen, force_len). */
#define RAW(fx, header, dlen, force)                                                         \
    do {                                                                                     \
        size_t raw_len_;                                                                     \
        uint8_t *raw_ = st_raw(header, dlen, force, &raw_len_);                              \
        fx_raw(fx, raw_, raw_len_);                                                          \
    } while (0)

/* Loads and expects failure with `status` and `needle` in the message. */
static void expect_fail(fixture *fx, s2s_status status, const char *needle)
{
    s2s_model *m = fx_load(fx);
    cr_assert_null(m, "model loaded but %s (%s) was expected", s2s_strerror(status), needle);
    cr_assert_eq(fx->err.status, status, "status %d (%s), expected %d; message: %s",
                 fx->err.status, s2s_strerror(fx->err.status), status, fx->err.message);
    cr_assert(strstr(fx->err.message, needle), "message \"%s\" lacks \"%s\"", fx->err.message,
              needle);
    cr_assert(!strchr(fx->err.message, '\n'), "message is not one line");
    fx_cleanup(fx);
}

/* Sets config key path "a.b.c" to `v` (creating objects), or deletes it when v is NULL. */
static void cfg_set(cJSON *root, const char *path, cJSON *v)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    cJSON *obj = root;
    char *save = NULL, *tok = strtok_r(buf, ".", &save), *next;
    while ((next = strtok_r(NULL, ".", &save))) {
        cJSON *child = cJSON_GetObjectItemCaseSensitive(obj, tok);
        if (!child)
            child = cJSON_AddObjectToObject(obj, tok);
        obj = child;
        tok = next;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(obj, tok);
    if (v)
        cJSON_AddItemToObject(obj, tok, v);
}

/* ---- the valid model ------------------------------------------------------ */

Test(loader, base_model_info)
{
    fixture fx;
    fx_init(&fx);
    s2s_model *m = fx_load(&fx);
    cr_assert_not_null(m, "load failed: %s", fx.err.message);
    s2s_model_info in;
    s2s_model_get_info(m, &in);
    cr_assert_str_eq(in.dir, fx.dir);
    cr_assert_str_eq(in.task, "translation");
    cr_assert_str_eq(in.source_language, "fr");
    cr_assert_str_eq(in.target_language, "en");
    cr_assert_str_eq(in.weights_file, "model.safetensors");
    cr_assert_str_eq(in.encoder.cell, "gru");
    cr_assert_eq(in.encoder.embedding_size, 4);
    cr_assert_eq(in.encoder.hidden_size, 4);
    cr_assert_eq(in.encoder.num_layers, 1);
    cr_assert_eq(in.encoder.bidirectional, 0);
    cr_assert_str_eq(in.decoder.cell, "gru");
    cr_assert_eq(in.decoder.embedding_size, 4);
    cr_assert_eq(in.decoder.hidden_size, 4);
    cr_assert_eq(in.decoder.num_layers, 1);
    cr_assert_eq(in.decoder.bidirectional, 0);
    cr_assert_eq(in.append_eos, 1);
    cr_assert_str_eq(in.bridge, "final");
    cr_assert_str_eq(in.attention, "bahdanau");
    cr_assert_str_eq(in.attention_position, "before_rnn");
    cr_assert_eq(in.attention_size, 3);
    cr_assert_eq(in.input_feeding, 0);
    cr_assert_eq(in.source_vocab_size, 5);
    cr_assert_eq(in.target_vocab_size, 6);
    cr_assert_str_eq(in.sos, "SOS");
    cr_assert_str_eq(in.eos, "EOS");
    cr_assert_str_eq(in.unk, "<unk>");
    cr_assert_null(in.pad);
    cr_assert_str_eq(in.normalizer, "tutorial");
    cr_assert_str_eq(in.level, "word");
    cr_assert_eq(in.lowercase, 0);
    cr_assert_null(in.merges_file);
    cr_assert_eq(in.max_length, 20);
    cr_assert_eq(in.max_input_tokens, S2S_DEFAULT_MAX_INPUT_TOKENS);
    cr_assert_eq(in.n_tensors, BASE_TENSORS);
    cr_assert_eq(in.n_parameters, BASE_PARAMS);

    /* internal ids */
    cr_assert_eq(m->sos_id, 0);
    cr_assert_eq(m->eos_id, 1);
    cr_assert_eq(m->src_eos_id, 0);
    cr_assert_eq(m->unk_id[S2S_SOURCE], 4);
    cr_assert_eq(m->unk_id[S2S_TARGET], 5);
    cr_assert_eq(m->enc_dirs, 1);
    cr_assert_eq(m->mem_dim, 4);
    cr_assert_eq(m->out_dim, 4);
    cr_assert_eq(m->cfg.attention_size, 3);

    /* weights: tensor index in the file j, element i -> (100 j + i) / 4 */
    cr_assert_float_eq(m->w.enc_embedding.f32[0], 0.0f, 0);
    cr_assert_float_eq(m->w.enc_embedding.f32[19], 19 * 0.25f, 0);
    cr_assert_float_eq(m->w.dec_rnn[0].w_ih[95], (6 * 100 + 95) * 0.25f, 0);
    cr_assert_float_eq(m->w.out_b[5], (17 * 100 + 5) * 0.25f, 0);
    cr_assert_eq(m->w.dec_rnn[0].in, 8);
    cr_assert_eq(m->w.dec_rnn[0].hidden, 4);
    cr_assert_eq(m->w.enc_rnn[0][0].in, 4);
    cr_assert_null(m->w.bridge_w);
    cr_assert_null(m->w.attn_out_w);

    /* tensor table in name order */
    s2s_tensor_info ti;
    cr_assert_eq(s2s_model_tensor(m, 0, &ti), S2S_OK);
    cr_assert_str_eq(ti.name, "decoder.attention.Ua.bias");
    cr_assert_str_eq(ti.dtype, "F32");
    cr_assert_eq(ti.ndim, 1);
    cr_assert_eq(ti.shape[0], 3);
    for (size_t i = 1; i < in.n_tensors; i++) {
        s2s_tensor_info a, b;
        s2s_model_tensor(m, i - 1, &a);
        s2s_model_tensor(m, i, &b);
        cr_assert(strcmp(a.name, b.name) < 0);
    }
    cr_assert_eq(s2s_model_tensor(m, BASE_TENSORS - 1, &ti), S2S_OK);
    cr_assert_str_eq(ti.name, "encoder.rnn.weight_ih_l0");
    cr_assert_eq(ti.ndim, 2);
    cr_assert_eq(ti.shape[0], 12);
    cr_assert_eq(ti.shape[1], 4);
    cr_assert_eq(s2s_model_tensor(m, BASE_TENSORS, &ti), S2S_ERR_INVALID_ARG);

    /* token look-ups */
    cr_assert_str_eq(s2s_model_token(m, S2S_SOURCE, 2), "suis");
    cr_assert_str_eq(s2s_model_token(m, S2S_TARGET, 4), "happy");
    cr_assert_null(s2s_model_token(m, S2S_TARGET, 6));
    cr_assert_null(s2s_model_token(m, S2S_TARGET, -1));
    cr_assert_eq(s2s_model_token_id(m, S2S_SOURCE, "content", 7), 3);
    cr_assert_eq(s2s_model_token_id(m, S2S_TARGET, "happyXX", 5), 4);
    cr_assert_eq(s2s_model_token_id(m, S2S_TARGET, "je", 2), -1);
    cr_assert_eq(s2s_model_token_id(m, (s2s_side)7, "je", 2), -1);

    /* F32 with 8-byte-aligned offsets: views into the mapping, no copies */
    for (size_t i = 0; i < m->n_tensors; i++)
        cr_assert_null(m->tensors[i].owned, "%s was copied", m->tensors[i].name);
    s2s_model_free(m);
    fx_cleanup(&fx);
}

Test(loader, defaults_when_keys_absent)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "task", NULL);
    cfg_set(fx.cfg, "source_language", NULL);
    cfg_set(fx.cfg, "target_language", NULL);
    cfg_set(fx.cfg, "special_tokens.unk", NULL);
    cfg_set(fx.cfg, "special_tokens.pad", NULL);
    cfg_set(fx.cfg, "decoder.attention", NULL);
    cfg_set(fx.cfg, "tokenizer", NULL);
    cfg_set(fx.cfg, "decoding", NULL);
    /* attention size defaults to H_d = 4 */
    tl_find(&fx.tl, "decoder.attention.Wa.weight")->shape[0] = 4;
    tl_remove(&fx.tl, "decoder.attention.Wa.bias");
    tl_remove(&fx.tl, "decoder.attention.Ua.weight");
    tl_remove(&fx.tl, "decoder.attention.Ua.bias");
    tl_remove(&fx.tl, "decoder.attention.Va.weight");
    tl_f32(&fx.tl, "decoder.attention.Wa.bias", 4, -1);
    tl_f32(&fx.tl, "decoder.attention.Ua.weight", 4, 4);
    tl_f32(&fx.tl, "decoder.attention.Ua.bias", 4, -1);
    tl_f32(&fx.tl, "decoder.attention.Va.weight", 1, 4);
    /* fix the data size of the reshaped Wa.weight: 4 x 4 floats */
    tspec *wa = tl_find(&fx.tl, "decoder.attention.Wa.weight");
    free(wa->data);
    wa->nbytes = 64;
    wa->data = calloc(64, 1);
    s2s_model *m = fx_load(&fx);
    cr_assert_not_null(m, "load failed: %s", fx.err.message);
    s2s_model_info in;
    s2s_model_get_info(m, &in);
    cr_assert_str_eq(in.task, "");
    cr_assert_str_eq(in.source_language, "");
    cr_assert_null(in.unk);
    cr_assert_eq(m->unk_id[0], -1);
    cr_assert_eq(m->unk_id[1], -1);
    cr_assert_str_eq(in.attention, "bahdanau");
    cr_assert_str_eq(in.attention_position, "before_rnn");
    cr_assert_eq(in.attention_size, 4);
    cr_assert_str_eq(in.normalizer, "none");
    cr_assert_str_eq(in.level, "word");
    cr_assert_eq(in.max_length, 0);
    cr_assert_str_eq(in.bridge, "final");
    s2s_model_free(m);
    fx_cleanup(&fx);
}

Test(loader, unused_extra_tensors_ignored)
{
    fixture fx;
    fx_init(&fx);
    tl_f32(&fx.tl, "encoder.something_else", 3, 3);
    tl_add(&fx.tl, "extra.int_table", "I32", 1, 5, -1, 4);
    tl_add(&fx.tl, "extra.empty", "U8", 1, 0, -1, 1);
    s2s_model *m = fx_load(&fx);
    cr_assert_not_null(m, "load failed: %s", fx.err.message);
    cr_assert_eq(m->n_tensors, BASE_TENSORS);
    cr_assert_eq(m->n_parameters, BASE_PARAMS);
    s2s_model_free(m);
    fx_cleanup(&fx);
}

Test(loader, misaligned_f32_is_copied)
{
    fixture fx;
    fx_init(&fx);
    fx.extra_pad = 1; /* data buffer starts at an odd offset */
    s2s_model *m = fx_load(&fx);
    cr_assert_not_null(m, "load failed: %s", fx.err.message);
    for (size_t i = 0; i < m->n_tensors; i++) {
        cr_assert_not_null(m->tensors[i].owned);
        cr_assert_eq((uintptr_t)m->tensors[i].data % 4, 0);
    }
    cr_assert_float_eq(m->w.enc_embedding.f32[19], 19 * 0.25f, 0);
    cr_assert_float_eq(m->w.out_w[23], (16 * 100 + 23) * 0.25f, 0);
    s2s_model_free(m);
    fx_cleanup(&fx);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

Test(loader, f16_and_bf16_widened)
{
    fixture fx;
    fx_init(&fx);
    /* decoder.out.bias (6,) as F16 */
    tl_remove(&fx.tl, "decoder.out.bias");
    tspec *t = tl_add(&fx.tl, "decoder.out.bias", "F16", 1, 6, -1, 2);
    const uint16_t h[6] = {0x3C00, 0xC000, 0x0001, 0x7C00, 0x7E00, 0x3555};
    for (int i = 0; i < 6; i++)
        put16(t->data + 2 * i, h[i]);
    /* decoder.attention.Wa.bias (3,) as BF16 */
    tl_remove(&fx.tl, "decoder.attention.Wa.bias");
    t = tl_add(&fx.tl, "decoder.attention.Wa.bias", "BF16", 1, 3, -1, 2);
    const uint16_t b[3] = {0x3F80, 0xC0A0, 0xFF80};
    for (int i = 0; i < 3; i++)
        put16(t->data + 2 * i, b[i]);
    /* encoder.rnn.bias_hh_l0 (12,) as F16 with subnormals and the largest half */
    tl_remove(&fx.tl, "encoder.rnn.bias_hh_l0");
    t = tl_add(&fx.tl, "encoder.rnn.bias_hh_l0", "F16", 1, 12, -1, 2);
    const uint16_t s[4] = {0x03FF, 0x8200, 0x7BFF, 0x0400};
    for (int i = 0; i < 4; i++)
        put16(t->data + 2 * i, s[i]);
    s2s_model *m = fx_load(&fx);
    cr_assert_not_null(m, "load failed: %s", fx.err.message);
    const float *ob = m->w.out_b;
    cr_assert_eq(ob[0], 1.0f);
    cr_assert_eq(ob[1], -2.0f);
    cr_assert_eq(ob[2], ldexpf(1.0f, -24)); /* smallest subnormal half */
    cr_assert(isinf(ob[3]) && ob[3] > 0);
    cr_assert(isnan(ob[4]));
    cr_assert_eq(ob[5], 0.25f * (1.0f + 341.0f / 1024.0f)); /* exp 13: 2^-2 x (1 + 0x155/1024) */
    const float *wb = m->w.attn_wa_b;
    cr_assert_eq(wb[0], 1.0f);
    cr_assert_eq(wb[1], -5.0f);
    cr_assert(isinf(wb[2]) && wb[2] < 0);
    const float *bh = m->w.enc_rnn[0][0].b_hh;
    cr_assert_eq(bh[0], 1023.0f * ldexpf(1.0f, -24)); /* largest subnormal */
    cr_assert_eq(bh[1], -512.0f * ldexpf(1.0f, -24));
    cr_assert_eq(bh[2], 65504.0f);
    cr_assert_eq(bh[3], ldexpf(1.0f, -14)); /* smallest normal */
    cr_assert_eq(bh[4], 0.0f);
    s2s_tensor_info ti;
    int found = 0;
    for (size_t i = 0; i < m->n_tensors; i++) {
        s2s_model_tensor(m, i, &ti);
        if (!strcmp(ti.name, "decoder.out.bias")) {
            cr_assert_str_eq(ti.dtype, "F16");
            found++;
        }
        if (!strcmp(ti.name, "decoder.attention.Wa.bias")) {
            cr_assert_str_eq(ti.dtype, "BF16");
            found++;
        }
    }
    cr_assert_eq(found, 2);
    s2s_model_free(m);
    fx_cleanup(&fx);
}

/* A bigger architecture: 2-layer bidirectional LSTM encoder, mean_tanh
 * bridge, 1-layer LSTM decoder, general attention after the RNN with input
 * feeding and an attention_out bias. E_e 3, H_e 5 (D 10), E_d 2, H_d 6. */
Test(loader, lstm_bidir_general_after_rnn)
{
    fixture fx;
    fx_init(&fx);
    tl_free(&fx.tl);
    tlist *l = &fx.tl;
    tl_f32(l, "encoder.embedding.weight", 5, 3);
    const char *sfx[2] = {"", "_reverse"};
    char name[96];
    for (int k = 0; k < 2; k++)
        for (int d = 0; d < 2; d++) {
            snprintf(name, sizeof name, "encoder.rnn.weight_ih_l%d%s", k, sfx[d]);
            tl_f32(l, name, 20, k == 0 ? 3 : 10);
            snprintf(name, sizeof name, "encoder.rnn.weight_hh_l%d%s", k, sfx[d]);
            tl_f32(l, name, 20, 5);
            snprintf(name, sizeof name, "encoder.rnn.bias_ih_l%d%s", k, sfx[d]);
            tl_f32(l, name, 20, -1);
            snprintf(name, sizeof name, "encoder.rnn.bias_hh_l%d%s", k, sfx[d]);
            tl_f32(l, name, 20, -1);
        }
    tl_f32(l, "bridge.weight", 6, 10);
    tl_f32(l, "bridge.bias", 6, -1);
    tl_f32(l, "decoder.embedding.weight", 6, 2);
    tl_f32(l, "decoder.rnn.weight_ih_l0", 24, 8); /* emb 2 + htilde 6 */
    tl_f32(l, "decoder.rnn.weight_hh_l0", 24, 6);
    tl_f32(l, "decoder.rnn.bias_ih_l0", 24, -1);
    tl_f32(l, "decoder.rnn.bias_hh_l0", 24, -1);
    tl_f32(l, "decoder.attention.Wa.weight", 6, 10);
    tl_f32(l, "decoder.attention_out.weight", 6, 16);
    tl_f32(l, "decoder.attention_out.bias", 6, -1);
    tl_f32(l, "decoder.out.weight", 6, 6);
    tl_f32(l, "decoder.out.bias", 6, -1);
    cJSON_Delete(fx.cfg);
    fx.cfg = cJSON_Parse(
        "{\"format\": \"s2s-rnn\", \"format_version\": 1,"
        " \"special_tokens\": {\"sos\": \"SOS\", \"eos\": \"EOS\"},"
        " \"encoder\": {\"cell\": \"lstm\", \"embedding_size\": 3, \"hidden_size\": 5,"
        "   \"num_layers\": 2, \"bidirectional\": true},"
        " \"bridge\": \"mean_tanh\","
        " \"decoder\": {\"cell\": \"lstm\", \"embedding_size\": 2, \"hidden_size\": 6,"
        "   \"attention\": {\"type\": \"general\", \"position\": \"after_rnn\"},"
        "   \"input_feeding\": true}}");
    s2s_model *m = fx_load(&fx);
    cr_assert_not_null(m, "load failed: %s", fx.err.message);
    cr_assert_eq(m->enc_dirs, 2);
    cr_assert_eq(m->mem_dim, 10);
    cr_assert_eq(m->out_dim, 6);
    cr_assert_eq(m->cfg.has_attn_out_bias, 1);
    cr_assert_not_null(m->w.attn_out_b);
    cr_assert_not_null(m->w.bridge_w);
    cr_assert_not_null(m->w.enc_rnn[1][1].w_ih);
    cr_assert_eq(m->w.enc_rnn[1][1].in, 10);
    cr_assert_eq(m->w.enc_rnn[0][1].in, 3);
    cr_assert_eq(m->w.dec_rnn[0].in, 8);
    cr_assert_null(m->w.attn_ua_w);
    s2s_model_info in;
    s2s_model_get_info(m, &in);
    cr_assert_eq(in.attention_size, 0);
    cr_assert_str_eq(in.attention, "general");
    cr_assert_str_eq(in.attention_position, "after_rnn");
    cr_assert_str_eq(in.bridge, "mean_tanh");
    cr_assert_str_eq(in.encoder.cell, "lstm");
    cr_assert_eq(in.encoder.bidirectional, 1);
    cr_assert_eq(in.input_feeding, 1);
    /* per tensor: emb 15; l0 dirs: 2 x (20*3 + 20*5 + 20 + 20) = 2 x 200 = 400;
     * l1 dirs: 2 x (20*10 + 100 + 40) = 680; bridge 60 + 6; dec emb 12; dec rnn
     * 24*8 + 24*6 + 48 = 384; Wa 60; attention_out 96 + 6; out 36 + 6. */
    cr_assert_eq(in.n_parameters, 15 + 400 + 680 + 66 + 12 + 384 + 60 + 102 + 42);
    cr_assert_eq(in.n_tensors, 1 + 16 + 2 + 1 + 4 + 1 + 2 + 2);
    s2s_model_free(m);
    fx_cleanup(&fx);
}

Test(loader, eos_absent_from_source_without_append_eos)
{
    fixture fx;
    fx_init(&fx);
    fx.src_vocab = "{\"<unk>\": 0, \"je\": 1, \"suis\": 2, \"content\": 3, \"moi\": 4}";
    cfg_set(fx.cfg, "encoder.append_eos", cJSON_CreateFalse());
    s2s_model *m = fx_load(&fx);
    cr_assert_not_null(m, "load failed: %s", fx.err.message);
    cr_assert_eq(m->src_eos_id, -1);
    cr_assert_eq(m->unk_id[S2S_SOURCE], 0);
    s2s_model_free(m);
    fx_cleanup(&fx);
}

Test(loader, strerror_every_status)
{
    for (int s = 0; s < S2S_STATUS_COUNT; s++) {
        const char *m = s2s_strerror((s2s_status)s);
        cr_assert(m && m[0]);
        cr_assert_str_neq(m, "unknown status");
        for (int t = 0; t < s; t++)
            cr_assert_str_neq(m, s2s_strerror((s2s_status)t));
    }
    cr_assert_str_eq(s2s_strerror(S2S_STATUS_COUNT), "unknown status");
    cr_assert_str_eq(s2s_strerror((s2s_status)-1), "unknown status");
}

/* ---- safetensors malformations ------------------------------------------ */

#define ONE_T "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}"

Test(safetensors, truncated_file)
{
    fixture fx;
    fx_init(&fx);
    fx_raw(&fx, calloc(5, 1), 5);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "file is 5 bytes, too short");
}

Test(safetensors, empty_file)
{
    fixture fx;
    fx_init(&fx);
    fx_raw(&fx, calloc(1, 1), 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "file is 0 bytes");
}

Test(safetensors, header_length_past_end)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, ONE_T, 8, 1000);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "header length 1000 runs past the end");
}

Test(safetensors, header_length_near_2_64)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, ONE_T, 8, UINT64_MAX - 3);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "exceeds the limit of 100000000 bytes");
}

Test(safetensors, header_just_over_limit)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, ONE_T, 8, 100000001ULL);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "header length 100000001 exceeds");
}

Test(safetensors, bad_json)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", 8, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "not valid JSON");
}

Test(safetensors, trailing_garbage_after_json)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, ONE_T " x", 8, 0);
    /* the JSON is 54 bytes, then a space, then 'x' at header index 55 = file offset 63 */
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "trailing data after the JSON at byte offset 63");
}

Test(safetensors, bad_utf8_in_header)
{
    fixture fx;
    fx_init(&fx);
    /* '{' '"' 'a' then 0xFF: header index 3, file offset 11 */
    RAW(&fx, "{\"a\xff\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "not valid UTF-8 at byte offset 11");
}

Test(safetensors, control_byte_in_header)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, "{\"a\x01\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "control byte 0x01 at byte offset 11");
}

Test(safetensors, header_not_object)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, "[1, 2]", 0, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "does not start with '{'");
}

Test(safetensors, duplicate_names)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                  "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
                  16, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "tensor name \"a\" appears twice");
}

Test(safetensors, unknown_dtype)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, "{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "unknown dtype \"F33\"");
}

Test(safetensors, offsets_out_of_bounds)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                  "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
                  12, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS,
                "tensor \"b\": data_offsets [8, 16] are out of bounds (the data buffer has 12");
}

Test(safetensors, overlapping)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                  "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                  12, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "tensor \"b\": data_offsets [4, 12] overlap tensor \"a\"");
}

Test(safetensors, hole)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                  "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}",
                  20, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "data_offsets [12, 20] leave a hole after tensor \"a\"");
}

Test(safetensors, first_not_at_zero)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "first data_offsets begin at 4, not 0");
}

Test(safetensors, last_not_at_eof)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, ONE_T, 9, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS,
                "last tensor \"a\" ends at 8 but the data buffer has 9 bytes");
}

Test(safetensors, size_not_matching_shape)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "hold 8 bytes but shape and dtype F32 need 12");
}

Test(safetensors, shape_product_overflow)
{
    fixture fx;
    fx_init(&fx);
    /* 2^32 x 2^32 = 2^64 elements: overflows 64 bits */
    RAW(&fx, "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
                  "\"data_offsets\":[0,8]}}",
                  8, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "element count of its shape overflows");
}

Test(safetensors, byte_size_overflow)
{
    fixture fx;
    fx_init(&fx);
    /* 2^31 x 2^31 = 2^62 elements x 64 bits overflows */
    RAW(&fx, "{\"a\":{\"dtype\":\"F64\",\"shape\":[2147483648,2147483648],"
                  "\"data_offsets\":[0,8]}}",
                  8, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "byte size of its shape overflows");
}

Test(safetensors, negative_dim)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,-1],\"data_offsets\":[0,8]}}", 8, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "shape[1] is not a non-negative integer");
}

Test(safetensors, fractional_dim)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "shape[0] is not a non-negative integer");
}

Test(safetensors, metadata_not_object)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, "{\"__metadata__\":[1],\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,"
                  "8]}}",
                  8, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "\"__metadata__\" is an array");
}

Test(safetensors, metadata_value_not_string)
{
    fixture fx;
    fx_init(&fx);
    RAW(&fx, "{\"__metadata__\":{\"format\":\"pt\",\"n\":3},\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                  "\"data_offsets\":[0,8]}}",
                  8, 0);
    expect_fail(&fx, S2S_ERR_SAFETENSORS, "\"__metadata__\" value of \"n\" is a number");
}

Test(safetensors, sub_byte_dtype_must_fill_bytes)
{
    /* direct parser test: F4 x 3 elements = 12 bits, not whole bytes */
    const char *h = "{\"a\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}";
    size_t len;
    uint8_t *b = st_raw(h, 2, 0, &len);
    st_file f;
    s2s_error err = {0};
    cr_assert_eq(safetensors_parse(b, len, "w.safetensors", &f, &err), S2S_ERR_SAFETENSORS);
    cr_assert(strstr(err.message, "do not fill whole bytes"), "%s", err.message);
    free(b);
    /* F4 x 4 = 2 bytes, F6_E2M3 x 4 = 3 bytes, C64 x 1 = 8 bytes: valid */
    h = "{\"a\":{\"dtype\":\"F4\",\"shape\":[4],\"data_offsets\":[0,2]},"
        "\"b\":{\"dtype\":\"F6_E2M3\",\"shape\":[2,2],\"data_offsets\":[2,5]},"
        "\"c\":{\"dtype\":\"C64\",\"shape\":[],\"data_offsets\":[5,13]},"
        "\"z\":{\"dtype\":\"BOOL\",\"shape\":[0,7],\"data_offsets\":[13,13]}}";
    b = st_raw(h, 13, 0, &len);
    cr_assert_eq(safetensors_parse(b, len, "w.safetensors", &f, &err), S2S_OK, "%s", err.message);
    cr_assert_eq(f.n_tensors, 4);
    const st_tensor *t = safetensors_find(&f, "c");
    cr_assert_not_null(t);
    cr_assert_eq(t->ndim, 0);
    cr_assert_eq(t->n_elements, 1);
    cr_assert_eq(t->file_offset, 8 + strlen(h) + 5);
    cr_assert_null(safetensors_find(&f, "d"));
    safetensors_free(&f);
    free(b);
}

Test(safetensors, empty_header_object_is_valid)
{
    size_t len;
    uint8_t *b = st_raw("{}      ", 0, 0, &len);
    st_file f;
    s2s_error err = {0};
    cr_assert_eq(safetensors_parse(b, len, "w", &f, &err), S2S_OK, "%s", err.message);
    cr_assert_eq(f.n_tensors, 0);
    safetensors_free(&f);
    free(b);
    b = st_raw("{}", 4, 0, &len);
    cr_assert_eq(safetensors_parse(b, len, "w", &f, &err), S2S_ERR_SAFETENSORS);
    cr_assert(strstr(err.message, "no tensors but 4 bytes"), "%s", err.message);
    free(b);
}

/* ---- tensors against the config ----------------------------------------- */

Test(tensors, missing_tensor)
{
    fixture fx;
    fx_init(&fx);
    tl_remove(&fx.tl, "decoder.out.bias");
    expect_fail(&fx, S2S_ERR_TENSOR, "model.safetensors: missing tensor \"decoder.out.bias\"");
}

Test(tensors, wrong_shape)
{
    fixture fx;
    fx_init(&fx);
    tl_remove(&fx.tl, "decoder.out.weight");
    tl_f32(&fx.tl, "decoder.out.weight", 6, 5);
    expect_fail(&fx, S2S_ERR_TENSOR,
                "tensor \"decoder.out.weight\": shape (6, 5) but the config implies (6, 4)");
}

Test(tensors, wrong_rank)
{
    fixture fx;
    fx_init(&fx);
    tl_remove(&fx.tl, "decoder.rnn.bias_ih_l0");
    tl_f32(&fx.tl, "decoder.rnn.bias_ih_l0", 12, 1);
    expect_fail(&fx, S2S_ERR_TENSOR,
                "\"decoder.rnn.bias_ih_l0\": shape (12, 1) but the config implies (12,)");
}

Test(tensors, i32_where_f32_needed)
{
    fixture fx;
    fx_init(&fx);
    tl_remove(&fx.tl, "encoder.rnn.bias_ih_l0");
    tl_add(&fx.tl, "encoder.rnn.bias_ih_l0", "I32", 1, 12, -1, 4);
    expect_fail(&fx, S2S_ERR_TENSOR, "tensor \"encoder.rnn.bias_ih_l0\": dtype I32");
}

Test(tensors, vocab_size_not_matching_embedding)
{
    fixture fx;
    fx_init(&fx);
    fx.src_vocab = "{\"EOS\": 0, \"je\": 1, \"suis\": 2, \"content\": 3, \"<unk>\": 4, \"tu\": 5,"
                   " \"es\": 6}";
    expect_fail(&fx, S2S_ERR_TENSOR,
                "\"encoder.embedding.weight\": shape (5, 4) but the config implies (7, 4) (7 = "
                "tokens in source.vocab.json)");
}

Test(tensors, target_vocab_not_matching_out)
{
    fixture fx;
    fx_init(&fx);
    tl_remove(&fx.tl, "decoder.embedding.weight");
    tl_f32(&fx.tl, "decoder.embedding.weight", 7, 4);
    fx.tgt_vocab = "{\"SOS\": 0, \"EOS\": 1, \"i\": 2, \"am\": 3, \"happy\": 4, \"<unk>\": 5,"
                   " \"sad\": 6}";
    expect_fail(&fx, S2S_ERR_TENSOR,
                "\"decoder.out.weight\": shape (6, 4) but the config implies (7, 4)");
}

Test(tensors, missing_weights_file)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "weights", cJSON_CreateString("other.safetensors"));
    expect_fail(&fx, S2S_ERR_IO, "other.safetensors: cannot open");
}

/* ---- vocabularies --------------------------------------------------------- */

Test(vocab, hole)
{
    fixture fx;
    fx_init(&fx);
    fx.src_vocab = "{\"EOS\": 0, \"je\": 1, \"suis\": 3, \"content\": 4, \"<unk>\": 5}";
    expect_fail(&fx, S2S_ERR_VOCAB, "ids must be exactly 0..4: id 2 is missing");
}

Test(vocab, repeated_id)
{
    fixture fx;
    fx_init(&fx);
    fx.tgt_vocab = "{\"SOS\": 0, \"EOS\": 1, \"i\": 2, \"am\": 1, \"happy\": 4, \"<unk>\": 5}";
    expect_fail(&fx, S2S_ERR_VOCAB, "id 1 is used twice (tokens \"EOS\" and \"am\")");
}

Test(vocab, non_integer_id)
{
    fixture fx;
    fx_init(&fx);
    fx.src_vocab = "{\"EOS\": 0, \"je\": 1.5, \"suis\": 2, \"content\": 3, \"<unk>\": 4}";
    expect_fail(&fx, S2S_ERR_VOCAB, "token \"je\": id is not an integer");
}

Test(vocab, string_id)
{
    fixture fx;
    fx_init(&fx);
    fx.src_vocab = "{\"EOS\": 0, \"je\": \"1\", \"suis\": 2, \"content\": 3, \"<unk>\": 4}";
    expect_fail(&fx, S2S_ERR_VOCAB, "token \"je\": id is not an integer");
}

Test(vocab, negative_id)
{
    fixture fx;
    fx_init(&fx);
    fx.src_vocab = "{\"EOS\": 0, \"je\": -1, \"suis\": 2, \"content\": 3, \"<unk>\": 4}";
    expect_fail(&fx, S2S_ERR_VOCAB, "token \"je\": negative id -1");
}

Test(vocab, duplicate_token)
{
    fixture fx;
    fx_init(&fx);
    fx.src_vocab = "{\"EOS\": 0, \"je\": 1, \"suis\": 2, \"je\": 3, \"<unk>\": 4}";
    expect_fail(&fx, S2S_ERR_VOCAB, "token \"je\" appears twice");
}

Test(vocab, bad_utf8)
{
    fixture fx;
    fx_init(&fx);
    /* byte 12 is the lone continuation byte */
    fx.src_vocab = "{\"EOS\": 0, \"\x80\": 1, \"suis\": 2, \"content\": 3, \"<unk>\": 4}";
    expect_fail(&fx, S2S_ERR_VOCAB, "source.vocab.json: invalid UTF-8 at byte offset 12");
}

Test(vocab, not_an_object)
{
    fixture fx;
    fx_init(&fx);
    fx.tgt_vocab = "[\"SOS\", \"EOS\"]";
    expect_fail(&fx, S2S_ERR_VOCAB, "target.vocab.json: expected a JSON object");
}

Test(vocab, unicode_tokens_and_escapes)
{
    const char *j = "{\"\\u00e9t\\u00e9\": 0, \"日本\": 1, \" \": 2, \"a\\\"b\": 3, \"\": 4}";
    s2s_error err = {0};
    s2s_vocab *v = vocab_parse(j, strlen(j), "v.json", &err);
    cr_assert_not_null(v, "%s", err.message);
    cr_assert_eq(vocab_size(v), 5);
    cr_assert_eq(vocab_id(v, "\xc3\xa9t\xc3\xa9", 5), 0);
    cr_assert_eq(vocab_id(v, "\xe6\x97\xa5\xe6\x9c\xac", 6), 1);
    cr_assert_eq(vocab_id(v, " ", 1), 2);
    cr_assert_eq(vocab_id(v, "a\"b", 3), 3);
    cr_assert_eq(vocab_id(v, "", 0), 4);
    cr_assert_eq(vocab_id(v, "a\"", 2), -1);
    cr_assert_str_eq(vocab_token(v, 1), "\xe6\x97\xa5\xe6\x9c\xac");
    cr_assert_null(vocab_token(v, 5));
    vocab_free(v);
    /* a NUL escape inside a token is refused */
    j = "{\"a\\u0000b\": 0}";
    cr_assert_null(vocab_parse(j, strlen(j), "v.json", &err));
    cr_assert(strstr(err.message, "\\u0000"), "%s", err.message);
    j = "{}";
    cr_assert_null(vocab_parse(j, strlen(j), "v.json", &err));
    cr_assert(strstr(err.message, "empty"), "%s", err.message);
}

Test(vocab, many_tokens_hash)
{
    /* 5000 tokens: every id round-trips through the hash table */
    size_t cap = 200000, used = 0;
    char *j = malloc(cap);
    used += (size_t)snprintf(j, cap, "{");
    for (int i = 0; i < 5000; i++)
        used += (size_t)snprintf(j + used, cap - used, "%s\"t%d\": %d", i ? ", " : "",
                                 (i * 7919) % 5000, i);
    used += (size_t)snprintf(j + used, cap - used, "}");
    s2s_error err = {0};
    s2s_vocab *v = vocab_parse(j, used, "big.json", &err);
    cr_assert_not_null(v, "%s", err.message);
    char tok[32];
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(tok, sizeof tok, "t%d", (i * 7919) % 5000);
        cr_assert_eq(vocab_id(v, tok, (size_t)n), i);
    }
    vocab_free(v);
    free(j);
}

Test(vocab, eos_missing_from_target)
{
    fixture fx;
    fx_init(&fx);
    fx.tgt_vocab = "{\"SOS\": 0, \"</s>\": 1, \"i\": 2, \"am\": 3, \"happy\": 4, \"<unk>\": 5}";
    expect_fail(&fx, S2S_ERR_VOCAB,
                "target.vocab.json: special token eos \"EOS\" is not in the target vocabulary");
}

Test(vocab, sos_missing_from_target)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "special_tokens.sos", cJSON_CreateString("<s>"));
    expect_fail(&fx, S2S_ERR_VOCAB, "special token sos \"<s>\" is not in the target vocabulary");
}

Test(vocab, eos_missing_from_source_with_append_eos)
{
    fixture fx;
    fx_init(&fx);
    fx.src_vocab = "{\"<unk>\": 0, \"je\": 1, \"suis\": 2, \"content\": 3, \"moi\": 4}";
    expect_fail(&fx, S2S_ERR_VOCAB, "not in the source vocabulary (needed because "
                                    "encoder.append_eos is true)");
}

Test(vocab, unk_in_neither)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "special_tokens.unk", cJSON_CreateString("UNK"));
    expect_fail(&fx, S2S_ERR_VOCAB, "special token unk \"UNK\" is in neither vocabulary");
}

/* ---- config.json ---------------------------------------------------------- */

Test(config, unknown_value)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "decoder.attention.type", cJSON_CreateString("luong"));
    expect_fail(&fx, S2S_ERR_CONFIG,
                "config.json: key \"decoder.attention.type\": unknown value \"luong\" (expected "
                "bahdanau, dot, scaled_dot, general)");
}

Test(config, unknown_cell)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "encoder.cell", cJSON_CreateString("rnn"));
    expect_fail(&fx, S2S_ERR_CONFIG, "key \"encoder.cell\": unknown value \"rnn\" (expected gru, lstm)");
}

Test(config, unknown_tokenizer_level)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "tokenizer.level", cJSON_CreateString("sentencepiece"));
    expect_fail(&fx, S2S_ERR_CONFIG,
                "config.json: key \"tokenizer.level\": unknown value \"sentencepiece\"");
}

Test(config, wrong_type)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "encoder.hidden_size", cJSON_CreateString("4"));
    expect_fail(&fx, S2S_ERR_CONFIG,
                "key \"encoder.hidden_size\": expected a positive integer, got a string");
}

Test(config, wrong_type_bool)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "encoder.bidirectional", cJSON_CreateNumber(1));
    expect_fail(&fx, S2S_ERR_CONFIG, "key \"encoder.bidirectional\": expected true or false");
}

Test(config, missing_required_key)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "special_tokens.sos", NULL);
    expect_fail(&fx, S2S_ERR_CONFIG, "config.json: missing required key \"special_tokens.sos\"");
}

Test(config, missing_decoder_hidden)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "decoder.hidden_size", NULL);
    expect_fail(&fx, S2S_ERR_CONFIG, "missing required key \"decoder.hidden_size\"");
}

Test(config, format_version_2)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "format_version", cJSON_CreateNumber(2));
    cfg_set(fx.cfg, "encoder.cell", cJSON_CreateString("transformer")); /* v2 may differ */
    expect_fail(&fx, S2S_ERR_VERSION, "format_version 2 is newer than this engine reads (1)");
}

Test(config, other_format)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "format", cJSON_CreateString("onnx"));
    expect_fail(&fx, S2S_ERR_VERSION, "key \"format\": \"onnx\" is not a format this engine reads");
}

Test(config, not_json)
{
    fixture fx;
    fx_init(&fx);
    fx_write(&fx);
    write_file(fx.dir, "config.json", "{\"format\": ", 11);
    s2s_model *m = s2s_model_load(fx.dir, &fx.err);
    cr_assert_null(m);
    cr_assert_eq(fx.err.status, S2S_ERR_CONFIG);
    cr_assert(strstr(fx.err.message, "config.json: invalid JSON"), "%s", fx.err.message);
    fx_cleanup(&fx);
}

Test(config, missing_config)
{
    fixture fx;
    fx_init(&fx);
    fx_write(&fx);
    char p[128];
    snprintf(p, sizeof p, "%s/config.json", fx.dir);
    unlink(p);
    s2s_model *m = s2s_model_load(fx.dir, &fx.err);
    cr_assert_null(m);
    cr_assert_eq(fx.err.status, S2S_ERR_IO);
    cr_assert(strstr(fx.err.message, "config.json: cannot open"), "%s", fx.err.message);
    fx_cleanup(&fx);
}

Test(config, num_layers_out_of_range)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "encoder.num_layers", cJSON_CreateNumber(17));
    expect_fail(&fx, S2S_ERR_CONFIG, "key \"encoder.num_layers\": 17 is out of range (1..16)");
}

Test(config, zero_size)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "decoder.embedding_size", cJSON_CreateNumber(0));
    expect_fail(&fx, S2S_ERR_CONFIG, "key \"decoder.embedding_size\": 0 is out of range");
}

Test(config, bridge_final_layer_mismatch)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "decoder.num_layers", cJSON_CreateNumber(2));
    expect_fail(&fx, S2S_ERR_CONFIG,
                "\"final\" needs equal layer counts (encoder.num_layers 1, decoder.num_layers 2)");
}

Test(config, bridge_final_cell_mismatch)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "decoder.cell", cJSON_CreateString("lstm"));
    expect_fail(&fx, S2S_ERR_CONFIG, "\"final\" needs equal cells");
}

Test(config, bridge_final_hidden_mismatch)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "encoder.bidirectional", cJSON_CreateTrue());
    expect_fail(&fx, S2S_ERR_CONFIG,
                "needs decoder.hidden_size (4) == encoder output size D (8)");
}

Test(config, dot_needs_equal_sizes)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "bridge", cJSON_CreateString("zeros"));
    cfg_set(fx.cfg, "encoder.hidden_size", cJSON_CreateNumber(5));
    cfg_set(fx.cfg, "decoder.attention.type", cJSON_CreateString("scaled_dot"));
    expect_fail(&fx, S2S_ERR_CONFIG,
                "key \"decoder.attention.type\": \"scaled_dot\" needs decoder.hidden_size (4) == "
                "encoder output size D (5)");
}

Test(config, input_feeding_needs_after_rnn)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "decoder.input_feeding", cJSON_CreateTrue());
    expect_fail(&fx, S2S_ERR_CONFIG, "key \"decoder.input_feeding\": true needs");
}

Test(config, bidirectional_decoder)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "decoder.bidirectional", cJSON_CreateTrue());
    expect_fail(&fx, S2S_ERR_CONFIG, "the decoder cannot be bidirectional");
}

Test(config, max_length_not_positive)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "decoding.max_length", cJSON_CreateNumber(-3));
    expect_fail(&fx, S2S_ERR_CONFIG, "key \"decoding.max_length\": -3 is out of range");
}

Test(config, bpe_needs_merges)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "tokenizer.level", cJSON_CreateString("bpe"));
    expect_fail(&fx, S2S_ERR_CONFIG, "missing required key \"tokenizer.merges\"");
}

Test(config, path_with_dotdot)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "source_vocab", cJSON_CreateString("sub/../../etc/passwd"));
    expect_fail(&fx, S2S_ERR_CONFIG, "key \"source_vocab\": path \"sub/../../etc/passwd\" has a "
                                     "\"..\" component");
}

Test(config, absolute_path)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "weights", cJSON_CreateString("/etc/passwd"));
    expect_fail(&fx, S2S_ERR_CONFIG, "key \"weights\": absolute path \"/etc/passwd\"");
}

Test(config, symlink_escape)
{
    fixture fx;
    fx_init(&fx);
    char outside[64] = "/tmp/s2s-outside-XXXXXX";
    cr_assert(mkdtemp(outside));
    write_file(outside, "v.json", SRC_VOCAB, strlen(SRC_VOCAB));
    fx.src_vocab = NULL; /* not written: the symlink takes its place */
    char target[128], link[128];
    snprintf(target, sizeof target, "%s/v.json", outside);
    snprintf(link, sizeof link, "%s/source.vocab.json", fx.dir);
    cr_assert_eq(symlink(target, link), 0);
    s2s_model *m = fx_load(&fx);
    cr_assert_null(m);
    cr_assert_eq(fx.err.status, S2S_ERR_CONFIG);
    cr_assert(strstr(fx.err.message, "key \"source_vocab\": \"source.vocab.json\" resolves outside "
                                     "the model directory"),
              "%s", fx.err.message);
    unlink(target);
    rmdir(outside);
    fx_cleanup(&fx);
}

Test(config, symlink_inside_is_fine)
{
    fixture fx;
    fx_init(&fx);
    char sub[128], link[128];
    snprintf(sub, sizeof sub, "%s/vocabs", fx.dir);
    cr_assert_eq(mkdir(sub, 0700), 0);
    write_file(sub, "src.json", SRC_VOCAB, strlen(SRC_VOCAB));
    fx.src_vocab = NULL;
    snprintf(link, sizeof link, "%s/source.vocab.json", fx.dir);
    cr_assert_eq(symlink("vocabs/src.json", link), 0);
    s2s_model *m = fx_load(&fx);
    cr_assert_not_null(m, "%s", fx.err.message);
    s2s_model_free(m);
    fx_cleanup(&fx);
}

Test(config, direct_parse_defaults_and_messages)
{
    const char *j = "{\"format\":\"s2s-rnn\",\"format_version\":1,"
                    "\"special_tokens\":{\"sos\":\"S\",\"eos\":\"E\"},"
                    "\"encoder\":{\"cell\":\"lstm\",\"embedding_size\":2,\"hidden_size\":3},"
                    "\"decoder\":{\"cell\":\"lstm\",\"embedding_size\":2,\"hidden_size\":3},"
                    "\"unknown_key\":[1,2,{}]}";
    model_config c;
    s2s_error err = {0};
    cr_assert_eq(model_config_parse(j, strlen(j), "cfg.json", &c, &err), S2S_OK, "%s",
                 err.message);
    cr_assert_str_eq(c.weights, "model.safetensors");
    cr_assert_str_eq(c.source_vocab, "source.vocab.json");
    cr_assert_str_eq(c.target_vocab, "target.vocab.json");
    cr_assert_null(c.unk);
    cr_assert_null(c.pad);
    cr_assert_eq(c.enc.layers, 1);
    cr_assert_eq(c.dec.layers, 1);
    cr_assert_eq(c.append_eos, 1);
    cr_assert_eq(c.bridge, BRIDGE_FINAL);
    cr_assert_eq(c.attention, ATTN_BAHDANAU);
    cr_assert_eq(c.position, POS_BEFORE_RNN);
    cr_assert_eq(c.attention_size, 3);
    cr_assert_eq(c.input_feeding, 0);
    cr_assert_eq(c.tokenizer.normalizer, NORM_NONE);
    cr_assert_eq(c.tokenizer.level, LEVEL_WORD);
    cr_assert_eq(c.tokenizer.max_input_tokens, S2S_DEFAULT_MAX_INPUT_TOKENS);
    cr_assert_null(c.tokenizer.merges);
    cr_assert_eq(c.max_length, 0);
    model_config_free(&c);

    /* tokenizer_config_parse on its own: key names without a file prefix */
    cJSON *t = cJSON_Parse("{\"level\": \"bpe\", \"merges\": \"m.txt\", \"lowercase\": true,"
                           " \"max_input_tokens\": 99, \"normalizer\": \"text\"}");
    tokenizer_config tc;
    cr_assert_eq(tokenizer_config_parse(t, &tc, &err), S2S_OK, "%s", err.message);
    cr_assert_eq(tc.level, LEVEL_BPE);
    cr_assert_str_eq(tc.merges, "m.txt");
    cr_assert_eq(tc.lowercase, 1);
    cr_assert_eq(tc.max_input_tokens, 99);
    cr_assert_eq(tc.normalizer, NORM_TEXT);
    cr_assert_str_eq(normalizer_name(tc.normalizer), "text");
    cr_assert_str_eq(level_name(tc.level), "bpe");
    tokenizer_config_free(&tc);
    cJSON_Delete(t);
    t = cJSON_Parse("{\"max_input_tokens\": 0}");
    cr_assert_eq(tokenizer_config_parse(t, &tc, &err), S2S_ERR_CONFIG);
    cr_assert(strstr(err.message, "key \"tokenizer.max_input_tokens\": 0 is out of range"), "%s",
              err.message);
    cJSON_Delete(t);
    cr_assert_eq(tokenizer_config_parse(NULL, &tc, &err), S2S_OK);
    cr_assert_eq(tc.level, LEVEL_WORD);
    tokenizer_config_free(&tc);

    /* invalid UTF-8 and trailing garbage */
    const char *bad = "{\"format\":\"s2s-rnn\xc3\"}";
    cr_assert_eq(model_config_parse(bad, strlen(bad), "cfg.json", &c, &err), S2S_ERR_CONFIG);
    cr_assert(strstr(err.message, "cfg.json: invalid UTF-8 at byte offset 18"), "%s",
              err.message);
    bad = "{} {}";
    cr_assert_eq(model_config_parse(bad, strlen(bad), "cfg.json", &c, &err), S2S_ERR_CONFIG);
    cr_assert(strstr(err.message, "trailing data"), "%s", err.message);
}

Test(loader, null_and_missing_dir)
{
    s2s_error err = {0};
    cr_assert_null(s2s_model_load(NULL, &err));
    cr_assert_eq(err.status, S2S_ERR_INVALID_ARG);
    cr_assert_null(s2s_model_load("/nonexistent/s2s/model", &err));
    cr_assert_eq(err.status, S2S_ERR_IO);
    cr_assert(strstr(err.message, "/nonexistent/s2s/model: cannot open model directory"), "%s",
              err.message);
    cr_assert_null(s2s_model_load("/nonexistent/s2s/model", NULL)); /* err may be NULL */
    s2s_model_free(NULL);
}

Test(config, bpe_merges_resolved_in_dir)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "tokenizer.level", cJSON_CreateString("bpe"));
    cfg_set(fx.cfg, "tokenizer.merges", cJSON_CreateString("bpe/merges.txt"));
    char sub[128];
    snprintf(sub, sizeof sub, "%s/bpe", fx.dir);
    cr_assert_eq(mkdir(sub, 0700), 0);
    write_file(sub, "merges.txt", "#version: 0.2\nj e\n", 18);
    s2s_model *m = fx_load(&fx);
    cr_assert_not_null(m, "load failed: %s", fx.err.message);
    s2s_model_info in;
    s2s_model_get_info(m, &in);
    cr_assert_str_eq(in.level, "bpe");
    cr_assert_str_eq(in.merges_file, "bpe/merges.txt");
    s2s_model_free(m);
    fx_cleanup(&fx);
}

Test(config, bpe_merges_missing)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "tokenizer.level", cJSON_CreateString("bpe"));
    cfg_set(fx.cfg, "tokenizer.merges", cJSON_CreateString("merges.txt"));
    expect_fail(&fx, S2S_ERR_IO, "merges.txt: cannot open (config key \"tokenizer.merges\")");
}

Test(config, bpe_merges_escaping)
{
    fixture fx;
    fx_init(&fx);
    cfg_set(fx.cfg, "tokenizer.level", cJSON_CreateString("bpe"));
    cfg_set(fx.cfg, "tokenizer.merges", cJSON_CreateString("../merges.txt"));
    expect_fail(&fx, S2S_ERR_CONFIG,
                "config.json: key \"tokenizer.merges\": path \"../merges.txt\" has a \"..\" "
                "component");
}

/* Direct parser checks of the remaining header rules. */
static void parse_expect(const char *header, size_t dlen, const char *needle)
{
    size_t len;
    uint8_t *b = st_raw(header, dlen, 0, &len);
    st_file f;
    s2s_error err = {0};
    cr_assert_eq(safetensors_parse(b, len, "w.safetensors", &f, &err), S2S_ERR_SAFETENSORS,
                 "accepted: %s", header);
    cr_assert(strstr(err.message, needle), "message \"%s\" lacks \"%s\"", err.message, needle);
    cr_assert_eq(f.n_tensors, 0); /* left empty */
    free(b);
}

Test(safetensors, entry_rules)
{
    parse_expect("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
                 "tensor \"a\": missing \"dtype\"");
    parse_expect("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8,
                 "tensor \"a\": missing \"shape\"");
    parse_expect("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "missing \"data_offsets\"");
    parse_expect("{\"a\":{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
                 "dtype is a number, expected a string");
    parse_expect("{\"a\":{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
                 "unknown dtype \"f32\"");
    parse_expect("{\"a\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 8,
                 "shape is a number, expected an array");
    parse_expect("{\"a\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", 8,
                 "shape[0] is not a non-negative integer");
    parse_expect("{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],"
                 "\"data_offsets\":[0,1]}}",
                 1, "shape has 17 dimensions, more than 16");
    parse_expect("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,9]}}", 8,
                 "data_offsets must be two non-negative integers");
    parse_expect("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,-8]}}", 8,
                 "data_offsets must be two non-negative integers");
    parse_expect("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8,
                 "data_offsets [8, 0] end before they begin");
    parse_expect("{\"a\":[1,2]}", 0, "tensor \"a\": header entry is an array");
    parse_expect("{\"__metadata__\":{},\"__metadata__\":{}}", 0, "\"__metadata__\" appears twice");
    parse_expect("{\"__metadata__\":{\"k\":\"v\",\"k\":\"w\"}}", 0,
                 "\"__metadata__\" key \"k\" appears twice");
    parse_expect("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}} \x0c", 8,
                 "control byte 0x0c");
    /* 2^53 + 2 is above the exact-integer limit */
    parse_expect("{\"a\":{\"dtype\":\"U8\",\"shape\":[9007199254740994],\"data_offsets\":[0,1]}}",
                 1, "shape[0] is not a non-negative integer (at most 2^53)");
}

Test(safetensors, metadata_is_kept)
{
    const char *h = "{\"__metadata__\":{\"format\":\"pt\",\"note\":\"\\u00e9\"},"
                    "\"b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[2,3]},"
                    "\"a\":{\"dtype\":\"I16\",\"shape\":[1],\"data_offsets\":[0,2]}}";
    size_t len;
    uint8_t *b = st_raw(h, 3, 0, &len);
    b[len - 1] = 0x7f;
    st_file f;
    s2s_error err = {0};
    cr_assert_eq(safetensors_parse(b, len, "w", &f, &err), S2S_OK, "%s", err.message);
    cr_assert_eq(f.n_meta, 2);
    cr_assert_str_eq(f.meta_keys[1], "note");
    cr_assert_str_eq(f.meta_values[1], "\xc3\xa9");
    cr_assert_eq(f.n_tensors, 2);
    cr_assert_str_eq(f.tensors[0].name, "a"); /* sorted by name, not by offset */
    cr_assert_eq(f.tensors[1].data[0], 0x7f);
    cr_assert_eq(f.header_len, strlen(h));
    cr_assert_eq(f.data_len, 3);
    safetensors_free(&f);
    free(b);
}

#include <pthread.h>

typedef struct load_job {
    const char *dir;
    int expect_ok;
    int ok; /* 1 when the outcome was the expected one every time */
} load_job;

static void *load_many(void *arg)
{
    load_job *j = arg;
    j->ok = 1;
    for (int i = 0; i < 20; i++) {
        s2s_error err = {0};
        s2s_model *m = s2s_model_load(j->dir, &err);
        if ((m != NULL) != j->expect_ok)
            j->ok = 0;
        if (!j->expect_ok && !strstr(err.message, "unknown value \"luong\""))
            j->ok = 0;
        if (m && s2s_model_token_id(m, S2S_TARGET, "happy", 5) != 4)
            j->ok = 0;
        s2s_model_free(m);
    }
    return NULL;
}

/* Loads run concurrently in several threads, good and bad models mixed: no
 * shared state between loads. */
Test(loader, concurrent_loads)
{
    fixture good, bad;
    fx_init(&good);
    fx_init(&bad);
    fx_write(&good);
    cfg_set(bad.cfg, "decoder.attention.type", cJSON_CreateString("luong"));
    fx_write(&bad);
    pthread_t th[4];
    load_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (load_job){i % 2 ? bad.dir : good.dir, !(i % 2), 0};
        cr_assert_eq(pthread_create(&th[i], NULL, load_many, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        cr_assert(jobs[i].ok, "thread %d saw an unexpected outcome", i);
    }
    fx_cleanup(&good);
    fx_cleanup(&bad);
}
