/*
 * model_dir.h - helpers for the loader tests: a tiny safetensors writer and a
 * valid model directory (GRU 4/4, Bahdanau, V_src 5, V_tgt 6) that each test
 * breaks in one way. Expected numbers are worked out by hand from the model
 * format, not taken from the loader's output.
 */
#ifndef S2S_TEST_MODEL_DIR_H
#define S2S_TEST_MODEL_DIR_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "s2s.h"

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

/* 20 + 48 + 48 + 12 + 12 + 24 + 96 + 48 + 12 + 12 + 12 + 3 + 12 + 3 + 3 + 1 + 24 + 6 = 396 */
#define BASE_PARAMS 396
#define BASE_TENSORS 18

/* Raw weights from st_raw(header, dlen, force_len). */
#define RAW(fx, header, dlen, force)                                                         \
    do {                                                                                     \
        size_t raw_len_;                                                                     \
        uint8_t *raw_ = st_raw(header, dlen, force, &raw_len_);                              \
        fx_raw(fx, raw_, raw_len_);                                                          \
    } while (0)

/* Element value used for F32 tensors: exact in float. */
float val(int tensor, int i);

tspec *tl_add(tlist *l, const char *name, const char *dtype, int ndim, int64_t d0,
              int64_t d1, size_t elsize);

void tl_f32(tlist *l, const char *name, int64_t d0, int64_t d1);

tspec *tl_find(tlist *l, const char *name);

void tl_remove(tlist *l, const char *name);

void tl_free(tlist *l);

/* Serialises `l` as safetensors: header padded with spaces to a multiple of 8,
 * then `extra_pad` more spaces (to misalign the data). Returns malloc'd bytes. */
uint8_t *st_build(const tlist *l, int extra_pad, size_t *len);

/* Raw safetensors: 8-byte length `n` (the header's own length unless
 * force_len), header text, then `dlen` zero bytes. */
uint8_t *st_raw(const char *header, size_t dlen, uint64_t force_len, size_t *len);

void write_file(const char *dir, const char *name, const void *data, size_t len);

/* The base model: GRU 4/4, one layer, Bahdanau A=3 before the RNN, V_src 5,
 * V_tgt 6, embeddings of size 4. */
void base_tensors(tlist *l);

cJSON *base_config(void);

void fx_init(fixture *fx);

void fx_cleanup(fixture *fx);

void fx_write(fixture *fx);

s2s_model *fx_load(fixture *fx);

void fx_raw(fixture *fx, uint8_t *bytes, size_t len);

/* Loads and expects failure with `status` and `needle` in the message. */
void expect_fail(fixture *fx, s2s_status status, const char *needle);

/* Sets config key path "a.b.c" to `v` (creating objects), or deletes it when v is NULL. */
void cfg_set(cJSON *root, const char *path, cJSON *v);

/* A fresh fixture whose config gets the changes in the NULL-terminated list of
 * (const char *path, cJSON *value) pairs, in order, as cfg_set would apply them
 * (value NULL deletes the key; ownership of each value passes to the config);
 * then loads it and expects failure with `status` and `needle` in the message. */
void expect_config_fail(s2s_status status, const char *needle, ...);

/* The base model as format version 2: a pair for expect_config_fail. */
#define CFG_V2 "format_version", cJSON_CreateNumber(2)

#endif
