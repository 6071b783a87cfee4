/*
 * cli_unk.c - --replace-unk: every emitted unk becomes the source word it
 * attends to most, in its original spelling (the span of the input line it
 * came from, when that can be found, rather than the normalized piece).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cli_unk.h"

/* Index of the source column row i attends to most, not counting an
 * appended eos column when there is any other column. */
static int best_source_column(const s2s_hypothesis *h, int i, int n_source, int has_eos)
{
    int n = (has_eos && n_source > 1) ? n_source - 1 : n_source;
    return cli_argmax(h->attention + (size_t)i * n_source, n);
}

/* Finds `piece` in the word w[0..wn) ignoring ASCII case; returns its start
 * or -1. */
static long find_ci(const char *w, size_t wn, const char *piece)
{
    size_t pn = strlen(piece);
    for (size_t s = 0; pn && s + pn <= wn; s++) {
        size_t k = 0;
        while (k < pn && tolower((unsigned char)w[s + k]) == tolower((unsigned char)piece[k])) k++;
        if (k == pn) return (long)s;
    }
    return -1;
}

/* Trims ASCII punctuation from both ends of w[0..*n); returns the new start. */
static const char *trim_punct(const char *w, size_t *n)
{
    while (*n > 0 && ispunct((unsigned char)w[0])) { w++; (*n)--; }
    while (*n > 0 && ispunct((unsigned char)w[*n - 1])) (*n)--;
    return w;
}

/* Number of pieces (appended eos excluded) the model makes of w[0..wn), or -1. */
static int count_pieces(const s2s_model *m, const char *w, size_t wn, int lenient, int has_eos)
{
    s2s_tokenize_params tp = s2s_tokenize_default_params();
    tp.lenient = lenient;
    s2s_token_seq seq;
    if (s2s_tokenize(m, S2S_SOURCE, w, wn, &tp, &seq, NULL) != S2S_OK) return -1;
    int n = seq.n - (has_eos && seq.n > 0 ? 1 : 0);
    s2s_token_seq_free(&seq);
    return n;
}

/* A copy of `piece` without the tokenizer's joiner marks (U+FFED, bytes
 * EF BF AD), which must not reach the text; NULL when out of memory. */
static char *strdup_without_joiners(const char *piece)
{
    char *out = malloc(strlen(piece) + 1), *o = out;
    if (!out) return NULL;
    for (const char *p = piece; *p;)
        if ((unsigned char)p[0] == 0xef && (unsigned char)p[1] == 0xbf && (unsigned char)p[2] == 0xad) p += 3;
        else *o++ = *p++;
    *o = '\0';
    return out;
}

/* Spelling in `line` of source piece `col`: the white-space separated word
 * whose tokens include it, narrowed to the piece when found ignoring case.
 * Each word is tokenized with the white space before it, so that pieces
 * made of white space (character level) are counted where they occur.
 * Falls back to the piece itself, joiner marks removed. Returns a malloc'd
 * string, NULL when out of memory. */
static char *original_spelling(const unk_ctx *u, const char *line, size_t len,
                               const s2s_token_seq *src, int col)
{
    const char *piece = src->pieces[col];
    char *bare = strdup_without_joiners(piece); /* as the piece stands in the line */
    if (!bare) return NULL;
    int before = 0;
    size_t i = 0;
    while (i < len) {
        size_t seg = i;
        while (i < len && isspace((unsigned char)line[i])) i++;
        size_t s = i;
        while (i < len && !isspace((unsigned char)line[i])) i++;
        if (i == s) break;
        int k = count_pieces(u->model, line + seg, i - seg, u->lenient, u->has_eos);
        if (k < 0) break;
        if (col < before + k) {
            long at = find_ci(line + s, i - s, bare);
            size_t wn = i - s;
            const char *w = trim_punct(line + s, &wn);
            char *found = at >= 0 ? strndup(line + s + at, strlen(bare)) : k == 1 && wn > 0 ? strndup(w, wn) : NULL;
            if (found || at >= 0 || (k == 1 && wn > 0)) {
                free(bare);
                return found;
            }
            break;
        }
        before += k;
    }
    return bare;
}

/* Appends s to the growing string *buf of *n bytes; 0 or -1. */
static int append(char **buf, size_t *n, const char *s)
{
    size_t k = strlen(s);
    char *b = realloc(*buf, *n + k + 1);
    if (!b) return -1;
    memcpy(b + *n, s, k + 1);
    *buf = b;
    *n += k;
    return 0;
}

/* Detokenizes ids[a..b) of a hypothesis of `res` and appends it (with a
 * separator when needed). */
static int append_run(const unk_ctx *u, const s2s_result *res, char **buf, size_t *n, const int *ids, int a, int b)
{
    if (b <= a) return 0;
    char *t = s2s_detokenize_result(u->model, res, ids + a, b - a);
    if (!t) return -1;
    int rc = (*n > 0 ? append(buf, n, u->separator) : 0) | append(buf, n, t);
    free(t);
    return rc;
}

char *cli_replace_unk_text(const unk_ctx *u, const char *line, size_t len,
                           const s2s_token_seq *src, const s2s_result *res, int k)
{
    const s2s_hypothesis *h = &res->hyps[k];
    int n_source = res->n_source;
    if (u->unk_id < 0 || !h->attention) return s2s_detokenize_result(u->model, res, h->tokens, h->n_tokens);
    char *buf = calloc(1, 1);
    size_t n = 0;
    int run = 0;
    for (int i = 0; buf && i < h->n_tokens; i++) {
        if (h->tokens[i] != u->unk_id) continue;
        int col = best_source_column(h, i, n_source, u->has_eos);
        char *word = original_spelling(u, line, len, src, col);
        int bad = !word || append_run(u, res, &buf, &n, h->tokens, run, i)
                  || (n > 0 && append(&buf, &n, u->separator)) || append(&buf, &n, word);
        free(word);
        if (bad) { free(buf); return NULL; }
        run = i + 1;
    }
    if (buf && append_run(u, res, &buf, &n, h->tokens, run, h->n_tokens)) { free(buf); return NULL; }
    return buf;
}

void cli_unk_init(unk_ctx *u, const s2s_model *m, int lenient)
{
    s2s_model_info in;
    s2s_model_get_info(m, &in);
    u->model = m;
    u->lenient = lenient;
    u->has_eos = in.append_eos;
    u->unk_id = in.unk ? s2s_model_token_id(m, S2S_TARGET, in.unk, strlen(in.unk)) : -1;
    u->separator = strcmp(in.level, "char") == 0 ? "" : " ";
}
