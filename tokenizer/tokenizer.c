/*
 * tokenizer.c - tokenizer object, splitting and joining (first cut: word
 * level with the "none" normalizer).
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "tokenizer.h"

struct s2s_tokenizer {
    tokenizer_config cfg; /* copy; merges pointer not owned */
};

static void set_err(s2s_error *err, s2s_status st, const char *msg)
{
    if (!err) return;
    err->status = st;
    snprintf(err->message, sizeof err->message, "%s", msg);
}

/* Creates a tokenizer; see tokenizer.h. Caller frees with tokenizer_free(). */
s2s_tokenizer *tokenizer_new(const tokenizer_config *cfg, const char *merges_path, s2s_error *err)
{
    (void)merges_path;
    s2s_tokenizer *t = calloc(1, sizeof *t);
    if (!t) { set_err(err, S2S_ERR_NOMEM, "out of memory creating tokenizer"); return NULL; }
    t->cfg = *cfg;
    t->cfg.merges = NULL;
    return t;
}

void tokenizer_free(s2s_tokenizer *tok) { free(tok); }

void piece_list_free(piece_list *list)
{
    if (!list) return;
    for (int i = 0; i < list->n; i++) free(list->pieces[i]);
    free(list->pieces);
    list->pieces = NULL;
    list->n = list->cap = 0;
}

static int push(piece_list *out, const char *s, size_t n)
{
    if (out->n == out->cap) {
        int nc = out->cap ? out->cap * 2 : 16;
        char **p = realloc(out->pieces, (size_t)nc * sizeof *p);
        if (!p) return -1;
        out->pieces = p;
        out->cap = nc;
    }
    char *c = malloc(n + 1);
    if (!c) return -1;
    memcpy(c, s, n);
    c[n] = 0;
    out->pieces[out->n++] = c;
    return 0;
}

static int is_ascii_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

s2s_status tokenizer_split(const s2s_tokenizer *tok, const char *text, size_t len, int lenient,
                           const s2s_vocab *vocab, piece_list *out, s2s_error *err)
{
    (void)tok; (void)lenient; (void)vocab;
    size_t i = 0;
    while (i < len) {
        while (i < len && is_ascii_ws((unsigned char)text[i])) i++;
        size_t b = i;
        while (i < len && !is_ascii_ws((unsigned char)text[i])) i++;
        if (i > b && push(out, text + b, i - b)) {
            set_err(err, S2S_ERR_NOMEM, "out of memory splitting text");
            return S2S_ERR_NOMEM;
        }
    }
    return S2S_OK;
}

char *tokenizer_join(const s2s_tokenizer *tok, const char *const *pieces, int n)
{
    (void)tok;
    size_t total = 1;
    for (int i = 0; i < n; i++) total += strlen(pieces[i]) + 1;
    char *s = malloc(total), *p = s;
    if (!s) return NULL;
    for (int i = 0; i < n; i++) {
        if (i) *p++ = ' ';
        size_t l = strlen(pieces[i]);
        memcpy(p, pieces[i], l);
        p += l;
    }
    *p = 0;
    return s;
}
