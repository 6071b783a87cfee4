/*
 * model_dir.c - see model_dir.h.
 */
#include <stdarg.h>
#include "model_dir.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Element value used for F32 tensors: exact in float. */
float val(int tensor, int i) { return (float)(tensor * 100 + i) * 0.25f; }

tspec *tl_add(tlist *l, const char *name, const char *dtype, int ndim, int64_t d0,
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

void tl_f32(tlist *l, const char *name, int64_t d0, int64_t d1)
{
    tl_add(l, name, "F32", d1 < 0 ? 1 : 2, d0, d1, 4);
}

tspec *tl_find(tlist *l, const char *name)
{
    for (int i = 0; i < l->n; i++)
        if (!strcmp(l->t[i].name, name))
            return &l->t[i];
    return NULL;
}

void tl_remove(tlist *l, const char *name)
{
    tspec *t = tl_find(l, name);
    cr_assert(t, "no tensor %s", name);
    free(t->data);
    int i = (int)(t - l->t);
    memmove(&l->t[i], &l->t[i + 1], (size_t)(l->n - i - 1) * sizeof *t);
    l->n--;
}

void tl_free(tlist *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->t[i].data);
    l->n = 0;
}

/* Serialises `l` as safetensors: header padded with spaces to a multiple of 8,
 * then `extra_pad` more spaces (to misalign the data). Returns malloc'd bytes. */
uint8_t *st_build(const tlist *l, int extra_pad, size_t *len)
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
uint8_t *st_raw(const char *header, size_t dlen, uint64_t force_len, size_t *len)
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

void write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert(f, "cannot write %s", path);
    if (len)
        cr_assert(fwrite(data, 1, len, f) == len);
    fclose(f);
}

/* The base model's tensors in file order: name and shape (d1 < 0: 1-D). */
static const struct {
    const char *name;
    int64_t d0, d1;
} BASE_TENSORS_F32[] = {
    {"encoder.embedding.weight", 5, 4},
    {"encoder.rnn.weight_ih_l0", 12, 4},
    {"encoder.rnn.weight_hh_l0", 12, 4},
    {"encoder.rnn.bias_ih_l0", 12, -1},
    {"encoder.rnn.bias_hh_l0", 12, -1},
    {"decoder.embedding.weight", 6, 4},
    {"decoder.rnn.weight_ih_l0", 12, 8}, /* emb 4 + D 4 */
    {"decoder.rnn.weight_hh_l0", 12, 4},
    {"decoder.rnn.bias_ih_l0", 12, -1},
    {"decoder.rnn.bias_hh_l0", 12, -1},
    {"decoder.attention.Wa.weight", 3, 4},
    {"decoder.attention.Wa.bias", 3, -1},
    {"decoder.attention.Ua.weight", 3, 4},
    {"decoder.attention.Ua.bias", 3, -1},
    {"decoder.attention.Va.weight", 1, 3},
    {"decoder.attention.Va.bias", 1, -1},
    {"decoder.out.weight", 6, 4},
    {"decoder.out.bias", 6, -1},
};

/* The base model: GRU 4/4, one layer, Bahdanau A=3 before the RNN, V_src 5,
 * V_tgt 6, embeddings of size 4. */
void base_tensors(tlist *l)
{
    for (size_t i = 0; i < sizeof BASE_TENSORS_F32 / sizeof BASE_TENSORS_F32[0]; i++)
        tl_f32(l, BASE_TENSORS_F32[i].name, BASE_TENSORS_F32[i].d0, BASE_TENSORS_F32[i].d1);
}

cJSON *base_config(void)
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

void fx_init(fixture *fx)
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

void fx_cleanup(fixture *fx)
{
    nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    tl_free(&fx->tl);
    cJSON_Delete(fx->cfg);
    free(fx->raw_weights);
}

void fx_write(fixture *fx)
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

s2s_model *fx_load(fixture *fx)
{
    fx_write(fx);
    memset(&fx->err, 0, sizeof fx->err);
    return s2s_model_load(fx->dir, &fx->err);
}

void fx_raw(fixture *fx, uint8_t *bytes, size_t len)
{
    fx->raw_weights = bytes;
    fx->raw_len = len;
}

/* Loads and expects failure with `status` and `needle` in the message. */
void expect_fail(fixture *fx, s2s_status status, const char *needle)
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
void cfg_set(cJSON *root, const char *path, cJSON *v)
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

void expect_config_fail(s2s_status status, const char *needle, ...)
{
    fixture fx;
    fx_init(&fx);
    va_list ap;
    va_start(ap, needle);
    const char *path;
    while ((path = va_arg(ap, const char *)))
        cfg_set(fx.cfg, path, va_arg(ap, cJSON *));
    va_end(ap);
    expect_fail(&fx, status, needle);
}
