/*
 * vocab.c - vocabularies: a JSON object {token: id} with ids exactly 0..V-1,
 * held as an id -> token array plus an open-addressing hash table for
 * token -> id. Read-only after loading, so threads may share one.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <utf8proc.h>

#include "tokenizer.h"

/* Largest vocabulary accepted (ids are ints; the hash table doubles it). */
#define VOCAB_MAX_SIZE (1 << 26)

struct s2s_vocab {
    int size;            /* V */
    char **tokens;       /* [V] owned, NUL-terminated */
    size_t *lens;        /* [V] byte lengths */
    int *slots;          /* [cap] id + 1, 0 = empty */
    size_t cap;          /* power of two >= 2 V */
};

/* FNV-1a over `len` bytes of `s`. */
static uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Id of `tok` (`len` bytes), or -1. */
int vocab_id(const s2s_vocab *v, const char *tok, size_t len)
{
    if (!v || !tok)
        return -1;
    size_t mask = v->cap - 1;
    for (size_t i = (size_t)hash_bytes(tok, len) & mask;; i = (i + 1) & mask) {
        int s = v->slots[i];
        if (s == 0)
            return -1;
        int id = s - 1;
        if (v->lens[id] == len && memcmp(v->tokens[id], tok, len) == 0)
            return id;
    }
}

/* Puts `id` in the hash table; returns the id already holding the same
 * token, or -1 when the token is new. */
static int vocab_insert(s2s_vocab *v, int id)
{
    size_t mask = v->cap - 1;
    const char *tok = v->tokens[id];
    size_t len = v->lens[id];
    for (size_t i = (size_t)hash_bytes(tok, len) & mask;; i = (i + 1) & mask) {
        int s = v->slots[i];
        if (s == 0) {
            v->slots[i] = id + 1;
            return -1;
        }
        if (v->lens[s - 1] == len && memcmp(v->tokens[s - 1], tok, len) == 0)
            return s - 1;
    }
}

/* See tokenizer.h. */
void vocab_free(s2s_vocab *v)
{
    if (!v)
        return;
    if (v->tokens)
        for (int i = 0; i < v->size; i++)
            free(v->tokens[i]);
    free(v->tokens);
    free(v->lens);
    free(v->slots);
    free(v);
}

/* V, or 0 for NULL. */
int vocab_size(const s2s_vocab *v) { return v ? v->size : 0; }

/* Token string of `id`, owned by the vocabulary; NULL when out of range. */
const char *vocab_token(const s2s_vocab *v, int id)
{
    return (v && id >= 0 && id < v->size) ? v->tokens[id] : NULL;
}

/* Returns the byte offset of the first "\u0000" escape in the JSON text, or
 * -1 (a token may not contain NUL). */
static long long find_nul_escape(const char *s, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (s[i] != '\\')
            continue;
        if (s[i + 1] == 'u' && i + 5 < len && memcmp(s + i + 2, "0000", 4) == 0)
            return (long long)i;
        i++; /* skip the escaped character */
    }
    return -1;
}

/* See tokenizer.h. */
s2s_vocab *vocab_parse(const char *json, size_t len, const char *name, tok_error *err)
{
    if (!name)
        name = "vocabulary";
    for (size_t i = 0; i < len;) {
        utf8proc_int32_t cp;
        size_t left = len - i;
        utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)json + i,
                                              left > 4 ? 4 : (utf8proc_ssize_t)left, &cp);
        if (n <= 0) {
            tok_fail(err, TOK_ERR_VOCAB, "%s: invalid UTF-8 at byte offset %zu", name, i);
            return NULL;
        }
        if (cp == 0) {
            tok_fail(err, TOK_ERR_VOCAB, "%s: NUL byte at byte offset %zu", name, i);
            return NULL;
        }
        i += (size_t)n;
    }
    long long nul = find_nul_escape(json, len);
    if (nul >= 0) {
        tok_fail(err, TOK_ERR_VOCAB, "%s: a token contains \\u0000 at byte offset %lld", name,
                    nul);
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        size_t off = (end && end >= json && end <= json + len) ? (size_t)(end - json) : 0;
        tok_fail(err, TOK_ERR_VOCAB, "%s: invalid JSON near byte offset %zu", name, off);
        return NULL;
    }
    s2s_vocab *v = NULL;
    int *ids = NULL;
    for (const char *p = end; p && p < json + len; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            tok_fail(err, TOK_ERR_VOCAB, "%s: trailing data after the JSON at byte offset %zu",
                        name, (size_t)(p - json));
            goto fail;
        }
    if (!cJSON_IsObject(root)) {
        tok_fail(err, TOK_ERR_VOCAB, "%s: expected a JSON object {token: id}", name);
        goto fail;
    }
    size_t count = 0;
    for (const cJSON *it = root->child; it; it = it->next)
        count++;
    if (count == 0) {
        tok_fail(err, TOK_ERR_VOCAB, "%s: the vocabulary is empty", name);
        goto fail;
    }
    if (count > VOCAB_MAX_SIZE) {
        tok_fail(err, TOK_ERR_VOCAB, "%s: %zu tokens, more than the limit of %d", name, count,
                    VOCAB_MAX_SIZE);
        goto fail;
    }
    int V = (int)count;
    v = calloc(1, sizeof *v);
    ids = malloc(count * sizeof *ids);
    if (!v || !ids)
        goto nomem;
    v->tokens = calloc(count, sizeof *v->tokens);
    v->lens = calloc(count, sizeof *v->lens);
    v->cap = 16;
    while (v->cap < 2 * count)
        v->cap *= 2;
    v->slots = calloc(v->cap, sizeof *v->slots);
    if (!v->tokens || !v->lens || !v->slots)
        goto nomem;
    v->size = V;
    for (int i = 0; i < V; i++)
        ids[i] = -1; /* ids[id] = index of the entry that holds it */

    /* First pass: id types and ranges, repeats. */
    int idx = 0, out_of_range = -1;
    for (const cJSON *it = root->child; it; it = it->next, idx++) {
        const char *tok = it->string;
        double d = cJSON_IsNumber(it) ? it->valuedouble : 0.5;
        if (!isfinite(d) || d != floor(d)) {
            tok_fail(err, TOK_ERR_VOCAB, "%s: token \"%.100s\": id is not an integer", name,
                        tok);
            goto fail;
        }
        if (d < 0) {
            tok_fail(err, TOK_ERR_VOCAB, "%s: token \"%.100s\": negative id %.0f", name, tok,
                        d);
            goto fail;
        }
        if (d >= V) {
            if (out_of_range < 0)
                out_of_range = idx;
            continue;
        }
        int id = (int)d;
        if (ids[id] >= 0) {
            const cJSON *first = cJSON_GetArrayItem(root, ids[id]);
            tok_fail(err, TOK_ERR_VOCAB,
                        "%s: id %d is used twice (tokens \"%.100s\" and \"%.100s\")", name, id,
                        first ? first->string : "?", tok);
            goto fail;
        }
        ids[id] = idx;
    }
    if (out_of_range >= 0) {
        const cJSON *bad = cJSON_GetArrayItem(root, out_of_range);
        int missing_id = 0;
        while (missing_id < V && ids[missing_id] >= 0)
            missing_id++;
        tok_fail(err, TOK_ERR_VOCAB,
                    "%s: ids must be exactly 0..%d: id %d is missing (a hole) and token "
                    "\"%.100s\" has id %.0f",
                    name, V - 1, missing_id, bad->string, bad->valuedouble);
        goto fail;
    }
    /* Every id 0..V-1 is now used exactly once (V entries, no repeats, none out
     * of range). Second pass: copy tokens in id order and hash them. */
    idx = 0;
    for (const cJSON *it = root->child; it; it = it->next, idx++) {
        int id = (int)it->valuedouble;
        size_t tl = strlen(it->string);
        v->tokens[id] = malloc(tl + 1);
        if (!v->tokens[id])
            goto nomem;
        memcpy(v->tokens[id], it->string, tl + 1);
        v->lens[id] = tl;
        int other = vocab_insert(v, id);
        if (other >= 0) {
            tok_fail(err, TOK_ERR_VOCAB, "%s: token \"%.100s\" appears twice (ids %d and %d)",
                        name, it->string, other, id);
            goto fail;
        }
    }
    free(ids);
    cJSON_Delete(root);
    return v;
nomem:
    tok_fail(err, TOK_ERR_NOMEM, "%s: out of memory", name);
fail:
    free(ids);
    vocab_free(v);
    cJSON_Delete(root);
    return NULL;
}
