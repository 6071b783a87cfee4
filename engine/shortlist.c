/*
 * shortlist.c - reading and applying the lexical shortlist (see shortlist.h).
 */
#include "shortlist.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* A cursor over one line of the file. */
typedef struct line_reader {
    const char *p, *end; /* the line, without its newline */
    const char *file;
    int line_no;
} line_reader;

/* Reads the next decimal integer of the line into *v: 1 when one was read,
 * 0 at the end of the line, -1 on anything else. */
static int next_int(line_reader *r, long *v)
{
    while (r->p < r->end && is_blank(*r->p)) r->p++;
    if (r->p == r->end) return 0;
    if (*r->p < '0' || *r->p > '9') return -1;
    long x = 0;
    while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
        if (x > 100000000) return -1;
        x = x * 10 + (*r->p++ - '0');
    }
    if (r->p < r->end && !is_blank(*r->p)) return -1;
    *v = x;
    return 1;
}

static int take_word(line_reader *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0) return 0;
    if (r->p + n < r->end && !is_blank(r->p[n])) return 0;
    r->p += n;
    return 1;
}

/* Moves r->p past leading white space; 1 when the line holds nothing else
 * or is a comment. */
static int skip_line(line_reader *r)
{
    while (r->p < r->end && is_blank(*r->p)) r->p++;
    return r->p == r->end || *r->p == '#';
}

/* Reads the target ids of the rest of the line into ids (growing it). */
static s2s_status read_targets(line_reader *r, int v_tgt, int **ids, int *n, int *cap, s2s_error *err)
{
    long v;
    int got;
    while ((got = next_int(r, &v)) == 1) {
        if (v >= v_tgt)
            return s2s_fail(err, S2S_ERR_VOCAB, "%s line %d: target id %ld outside the target vocabulary (0..%d)",
                            r->file, r->line_no, v, v_tgt - 1);
        if (*n == *cap) {
            int nc = *cap ? 2 * *cap : 1024;
            int *g = realloc(*ids, sizeof(int) * (size_t)nc);
            if (!g) return s2s_fail(err, S2S_ERR_NOMEM, "%s: out of memory", r->file);
            *ids = g;
            *cap = nc;
        }
        (*ids)[(*n)++] = (int)v;
    }
    if (got < 0) return s2s_fail(err, S2S_ERR_VOCAB, "%s line %d: expected target ids (decimal numbers)", r->file, r->line_no);
    return S2S_OK;
}

void shortlist_free(shortlist *sl)
{
    if (!sl) return;
    free(sl->frequent);
    free(sl->first);
    free(sl->cand);
    free(sl);
}

/* Header: "s2s-shortlist 1 V_SRC V_TGT", sizes equal to the model's. */
static s2s_status read_header(line_reader *r, int v_src, int v_tgt, s2s_error *err)
{
    long version, ns, nt;
    if (!take_word(r, "s2s-shortlist") || next_int(r, &version) != 1 || next_int(r, &ns) != 1 ||
        next_int(r, &nt) != 1 || next_int(r, &version) != 0)
        return s2s_fail(err, S2S_ERR_VOCAB, "%s line %d: expected the header 's2s-shortlist 1 V_SRC V_TGT'", r->file,
                        r->line_no);
    if (version != 1)
        return s2s_fail(err, S2S_ERR_VERSION, "%s line %d: shortlist version %ld (this library reads 1)", r->file,
                        r->line_no, version);
    if (ns != v_src || nt != v_tgt)
        return s2s_fail(err, S2S_ERR_VOCAB,
                        "%s line %d: made for vocabularies of %ld and %ld tokens, the model has %d and %d", r->file,
                        r->line_no, ns, nt, v_src, v_tgt);
    return S2S_OK;
}

/* The line of source id s: its targets go to cand, its span is recorded. */
static s2s_status read_source_line(line_reader *r, shortlist *sl, int *span, int *cap, s2s_error *err)
{
    long s;
    if (next_int(r, &s) != 1)
        return s2s_fail(err, S2S_ERR_VOCAB, "%s line %d: expected a source id or 'frequent'", r->file, r->line_no);
    if (s >= sl->n_src)
        return s2s_fail(err, S2S_ERR_VOCAB, "%s line %d: source id %ld outside the source vocabulary (0..%d)", r->file,
                        r->line_no, s, sl->n_src - 1);
    if (span[2 * s] >= 0)
        return s2s_fail(err, S2S_ERR_VOCAB, "%s line %d: source id %ld repeated", r->file, r->line_no, s);
    int n = sl->first[sl->n_src]; /* the running total, kept in the last slot */
    s2s_status st = read_targets(r, sl->n_tgt, &sl->cand, &n, cap, err);
    span[2 * s] = sl->first[sl->n_src];
    span[2 * s + 1] = n;
    sl->first[sl->n_src] = n;
    return st;
}

/* Lays the candidates out by source id (the file may list them in any order). */
static s2s_status order_by_source(shortlist *sl, const int *span, const char *file, s2s_error *err)
{
    int total = sl->first[sl->n_src];
    int *cand = malloc(sizeof(int) * (size_t)(total ? total : 1));
    if (!cand) return s2s_fail(err, S2S_ERR_NOMEM, "%s: out of memory", file);
    int k = 0;
    for (int s = 0; s < sl->n_src; s++) {
        sl->first[s] = k;
        if (span[2 * s] < 0) continue;
        for (int i = span[2 * s]; i < span[2 * s + 1]; i++) cand[k++] = sl->cand[i];
    }
    sl->first[sl->n_src] = k;
    free(sl->cand);
    sl->cand = cand;
    return S2S_OK;
}

s2s_status shortlist_parse(const char *text, size_t len, const char *file, int v_src, int v_tgt,
                           shortlist **out, s2s_error *err)
{
    *out = NULL;
    shortlist *sl = calloc(1, sizeof *sl);
    int *span = sl ? malloc(sizeof(int) * 2 * (size_t)v_src) : NULL;
    if (sl) sl->first = calloc((size_t)v_src + 1, sizeof(int));
    if (!sl || !span || !sl->first) {
        free(span);
        shortlist_free(sl);
        return s2s_fail(err, S2S_ERR_NOMEM, "%s: out of memory", file);
    }
    for (int s = 0; s < 2 * v_src; s++) span[s] = -1;
    sl->n_src = v_src;
    sl->n_tgt = v_tgt;
    s2s_status st = S2S_OK;
    int cap = 0, fcap = 0, seen_header = 0, seen_frequent = 0;
    line_reader r = {text, text, file, 0};
    const char *end = text + len;
    while (st == S2S_OK && r.p < end) {
        const char *nl = memchr(r.p, '\n', (size_t)(end - r.p));
        r.end = nl ? nl : end;
        r.line_no++;
        if (skip_line(&r)) {
        } else if (!seen_header) {
            st = read_header(&r, v_src, v_tgt, err);
            seen_header = 1;
        } else if (take_word(&r, "frequent")) {
            if (seen_frequent++)
                st = s2s_fail(err, S2S_ERR_VOCAB, "%s line %d: a second 'frequent' line", file, r.line_no);
            else
                st = read_targets(&r, v_tgt, &sl->frequent, &sl->n_frequent, &fcap, err);
        } else {
            st = read_source_line(&r, sl, span, &cap, err);
        }
        r.p = nl ? nl + 1 : end;
    }
    if (st == S2S_OK && !seen_header)
        st = s2s_fail(err, S2S_ERR_VOCAB, "%s: empty (expected the header 's2s-shortlist 1 V_SRC V_TGT')", file);
    if (st == S2S_OK) st = order_by_source(sl, span, file, err);
    free(span);
    if (st != S2S_OK) {
        shortlist_free(sl);
        return st;
    }
    *out = sl;
    return S2S_OK;
}

s2s_status shortlist_check_header(const char *text, size_t len, const char *file, int v_src, int v_tgt,
                                  s2s_error *err)
{
    line_reader r = {text, text, file, 0};
    const char *end = text + len;
    while (r.p < end) {
        const char *nl = memchr(r.p, '\n', (size_t)(end - r.p));
        r.end = nl ? nl : end;
        r.line_no++;
        if (!skip_line(&r)) return read_header(&r, v_src, v_tgt, err);
        r.p = nl ? nl + 1 : end;
    }
    return s2s_fail(err, S2S_ERR_VOCAB, "%s: empty (expected the header 's2s-shortlist 1 V_SRC V_TGT')", file);
}

int shortlist_bound(const shortlist *sl, const int *src, int n, int extra)
{
    long total = (long)sl->n_frequent + extra;
    for (int j = 0; j < n; j++)
        if (src[j] >= 0 && src[j] < sl->n_src) total += sl->first[src[j] + 1] - sl->first[src[j]];
    return total < sl->n_tgt ? (int)total : sl->n_tgt;
}

void shortlist_add_targets(const int *ids_in, int n, int n_tgt, unsigned char *mark, int *ids, int *k)
{
    for (int i = 0; i < n; i++) {
        int t = ids_in[i];
        if (t < 0 || t >= n_tgt || mark[t]) continue;
        mark[t] = 1;
        ids[(*k)++] = t;
    }
}

void shortlist_add_source(const shortlist *sl, const int *src, int n, unsigned char *mark, int *ids, int *k)
{
    for (int j = 0; j < n; j++) {
        int s = src[j];
        if (s < 0 || s >= sl->n_src) continue;
        shortlist_add_targets(sl->cand + sl->first[s], sl->first[s + 1] - sl->first[s], sl->n_tgt, mark, ids, k);
    }
}
