/*
 * tokenizer.h - internal interface of the tokenizer module: vocabularies,
 * normalizers, word/char/BPE splitting and detokenization.
 * Not installed; the public entry points are s2s_tokenize/s2s_detokenize in
 * s2s.h. Nothing here prints or exits.
 */
#ifndef S2S_TOKENIZER_H
#define S2S_TOKENIZER_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "s2s.h"

/* ---- vocabularies (tokenizer/vocab.c) ---------------------------------- */

typedef struct s2s_vocab s2s_vocab;

/* Loads a JSON object {token: id}. Ids must be exactly 0..V-1, each once;
 * V >= 1. Errors (S2S_ERR_IO, S2S_ERR_VOCAB) name `path` and the id or token
 * at fault. Returns NULL on failure. Free with vocab_free(). */
s2s_vocab *vocab_load(const char *path, s2s_error *err);
/* Same from an in-memory JSON text; `name` is used in messages. */
s2s_vocab *vocab_parse(const char *json, size_t len, const char *name, s2s_error *err);
void vocab_free(s2s_vocab *vocab);
int vocab_size(const s2s_vocab *vocab);
/* Id of the token `tok` (`len` bytes), or -1 when absent. */
int vocab_id(const s2s_vocab *vocab, const char *tok, size_t len);
/* Token string of `id` (owned by the vocab), or NULL when out of range. */
const char *vocab_token(const s2s_vocab *vocab, int id);

/* ---- tokenizer settings: the "tokenizer" object of config.json --------- */

typedef enum { NORM_NONE = 0, NORM_TUTORIAL, NORM_TEXT } normalizer_kind;
typedef enum { LEVEL_WORD = 0, LEVEL_CHAR, LEVEL_BPE } level_kind;

#define S2S_DEFAULT_MAX_INPUT_TOKENS 1024

typedef struct tokenizer_config {
    normalizer_kind normalizer; /* "none" (default), "tutorial", "text" */
    level_kind level;           /* "word" (default), "char", "bpe" */
    int lowercase;              /* "lowercase" (bool) for "text"; default 0 */
    char *merges;               /* "merges": file name relative to the model
                                   dir; required for "bpe", else NULL. Owned. */
    int max_input_tokens;       /* "max_input_tokens"; default S2S_DEFAULT_MAX_INPUT_TOKENS */
} tokenizer_config;

/* Parses the "tokenizer" object `obj` (NULL = absent: all defaults) into
 * `out`. Unknown keys are ignored; a wrong type or an unknown value is
 * S2S_ERR_CONFIG with a message naming the key ("tokenizer.level") and the
 * value. Free with tokenizer_config_free(). */
s2s_status tokenizer_config_parse(const cJSON *obj, tokenizer_config *out, s2s_error *err);
void tokenizer_config_free(tokenizer_config *cfg);
/* Names of the enum values, as in config.json. */
const char *normalizer_name(normalizer_kind k);
const char *level_name(level_kind k);

/* ---- tokenizer (tokenizer/tokenizer.c, normalize.c, bpe.c, detok.c,
 *      utf8.c; internal helpers in tok_internal.h; s2s_tokenize and
 *      s2s_detokenize in api.c) ------------------------------------------ */

typedef struct s2s_tokenizer s2s_tokenizer;

/* Creates a tokenizer for `cfg`. `merges_path` is the resolved path of the
 * BPE merges file (NULL unless cfg->level is LEVEL_BPE). Returns NULL on
 * failure (S2S_ERR_IO, S2S_ERR_MERGES naming file and line). Free with
 * tokenizer_free(). */
s2s_tokenizer *tokenizer_new(const tokenizer_config *cfg, const char *merges_path, s2s_error *err);
void tokenizer_free(s2s_tokenizer *tok);

/* A growable list of NUL-terminated token strings. */
typedef struct piece_list {
    char **pieces;
    int n, cap;
    int limit;   /* > 0: pieces past this many are counted, not stored */
    long dropped; /* pieces not stored because of limit */
} piece_list;
void piece_list_free(piece_list *list);

/* Normalizes and splits `text` (`len` bytes) into token strings appended to
 * `out`. `vocab` is consulted only by level "char" (the " " token rule).
 * Invalid UTF-8: S2S_ERR_UTF8 naming the byte offset, unless `lenient`, in
 * which case bad bytes become U+FFFD. */
s2s_status tokenizer_split(const s2s_tokenizer *tok, const char *text, size_t len, int lenient,
                           const s2s_vocab *vocab, piece_list *out, s2s_error *err);

/* Joins target token strings into text a person reads. Returns a malloc'd
 * string the caller frees, or NULL when out of memory. */
char *tokenizer_join(const s2s_tokenizer *tok, const char *const *pieces, int n);

#endif
