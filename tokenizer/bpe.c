/*
 * bpe.c - BPE merges files and the rank-priority merge loop (subword-nmt
 * style, without end-of-word markers; pieces after the first of a word are
 * marked by the caller with the joiner, see docs/tokenizer.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok_internal.h"

/* One merge "a b": the text of its line (a, one space, b) in `text`. */
typedef struct merge_entry {
    size_t off;   /* into bpe_merges.text */
    uint32_t len; /* bytes of "a b" */
    uint32_t rank;
} merge_entry;

struct bpe_merges {
    char *text;          /* owned copy of the file */
    merge_entry *slots;  /* open addressing; len == 0 marks an empty slot */
    size_t nslots;       /* power of two */
    size_t count;        /* distinct merges */
};

static uint64_t fnv_step(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

#define FNV_SEED 1469598103934665603ULL

/* Hash of the key a + " " + b. */
static uint64_t pair_hash(const char *a, size_t la, const char *b, size_t lb)
{
    uint64_t h = fnv_step(FNV_SEED, a, la);
    h = fnv_step(h, " ", 1);
    return fnv_step(h, b, lb);
}

/* Rank of the pair (a, b), or -1. */
static long pair_rank(const bpe_merges *m, const char *a, size_t la, const char *b, size_t lb)
{
    if (!m->nslots) return -1;
    size_t mask = m->nslots - 1;
    size_t i = (size_t)pair_hash(a, la, b, lb) & mask;
    size_t need = la + 1 + lb;
    for (;;) {
        const merge_entry *e = &m->slots[i];
        if (e->len == 0) return -1;
        if (e->len == need) {
            const char *t = m->text + e->off;
            if (memcmp(t, a, la) == 0 && t[la] == ' ' && memcmp(t + la + 1, b, lb) == 0) return e->rank;
        }
        i = (i + 1) & mask;
    }
}

/* Frees a merges table. NULL is a no-op. */
void bpe_free(bpe_merges *m)
{
    if (!m) return;
    free(m->text);
    free(m->slots);
    free(m);
}

/* Number of distinct merges. */
size_t bpe_count(const bpe_merges *m) { return m ? m->count : 0; }

/* Parses merges text (see tok_internal.h). Returns an owned table (free
 * with bpe_free()) or NULL with `err` naming `name` and the line. */
bpe_merges *bpe_parse(const char *data, size_t len, const char *name, tok_error *err)
{
    bpe_merges *m = calloc(1, sizeof *m);
    if (!m || !(m->text = malloc(len + 1))) {
        free(m);
        tok_fail(err, TOK_ERR_NOMEM, "%s: out of memory loading merges", name);
        return NULL;
    }
    if (len) memcpy(m->text, data, len);
    m->text[len] = 0;

    /* count lines to size the table */
    size_t lines = 1;
    for (size_t i = 0; i < len; i++) lines += m->text[i] == '\n';
    m->nslots = 16;
    while (m->nslots < lines * 2) m->nslots *= 2;
    m->slots = calloc(m->nslots, sizeof *m->slots);
    if (!m->slots) {
        bpe_free(m);
        tok_fail(err, TOK_ERR_NOMEM, "%s: out of memory loading merges", name);
        return NULL;
    }

    size_t pos = 0, lineno = 0;
    uint32_t rank = 0;
    while (pos < len) {
        lineno++;
        size_t end = pos;
        while (end < len && m->text[end] != '\n') end++;
        size_t next = end < len ? end + 1 : end;
        size_t e = end;
        if (e > pos && m->text[e - 1] == '\r') e--;
        const char *line = m->text + pos;
        size_t ll = e - pos;
        const char *nul = memchr(line, '\0', ll);
        if (nul) {
            tok_fail(err, TOK_ERR_MERGES, "%s: line %zu: NUL byte at column %zu", name, lineno,
                     (size_t)(nul - line) + 1);
            bpe_free(m);
            return NULL;
        }
        cp_buf tmp = {0};
        tok_error uerr;
        if (utf8_decode(line, ll, 0, &tmp, &uerr) != TOK_OK) {
            cp_buf_free(&tmp);
            tok_fail(err, TOK_ERR_MERGES, "%s: line %zu: %s", name, lineno,
                      uerr.status == TOK_ERR_UTF8 ? "invalid UTF-8" : "out of memory");
            bpe_free(m);
            return NULL;
        }
        cp_buf_free(&tmp);
        if (lineno == 1 && ll >= 8 && memcmp(line, "#version", 8) == 0) {
            pos = next;
            continue;
        }
        const char *sp = memchr(line, ' ', ll);
        if (!sp || sp == line || sp == line + ll - 1 || memchr(sp + 1, ' ', (size_t)(line + ll - sp - 1))) {
            tok_fail(err, TOK_ERR_MERGES, "%s: line %zu: expected two symbols separated by one space",
                      name, lineno);
            bpe_free(m);
            return NULL;
        }
        if (ll > UINT32_MAX / 2 || rank == UINT32_MAX) {
            tok_fail(err, TOK_ERR_MERGES, "%s: line %zu: too long", name, lineno);
            bpe_free(m);
            return NULL;
        }
        size_t la = (size_t)(sp - line), lb = ll - la - 1;
        if (pair_rank(m, line, la, sp + 1, lb) < 0) { /* duplicates keep their first rank */
            size_t i = (size_t)pair_hash(line, la, sp + 1, lb) & (m->nslots - 1);
            while (m->slots[i].len) i = (i + 1) & (m->nslots - 1);
            m->slots[i].off = pos;
            m->slots[i].len = (uint32_t)ll;
            m->slots[i].rank = rank;
            m->count++;
        }
        rank++;
        pos = next;
    }
    if (m->count == 0) {
        /* BPE with no merge splits every word into single characters: a
         * truncated or wrongly copied file, never what a model was trained with */
        tok_fail(err, TOK_ERR_MERGES, "%s: no merges (the file is empty%s)", name,
                 len ? " apart from its #version line" : "");
        bpe_free(m);
        return NULL;
    }
    return m;
}


/* Rank-priority BPE of one word; see tok_internal.h. O(k^2) merge-table
 * look-ups for k <= S2S_BPE_MAX_WORD_CHARS code points, O(k) beyond. */
size_t bpe_encode(const bpe_merges *m, const char *w, size_t len, size_t *bnd)
{
    size_t k = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)w[i] & 0xC0) != 0x80) bnd[k++] = i;
    bnd[k] = len;
    if (k > S2S_BPE_MAX_WORD_CHARS || !m) return k;
    while (k > 1) {
        long best = -1;
        size_t bi = 0;
        for (size_t i = 0; i + 1 < k; i++) {
            long r = pair_rank(m, w + bnd[i], bnd[i + 1] - bnd[i], w + bnd[i + 1], bnd[i + 2] - bnd[i + 1]);
            if (r >= 0 && (best < 0 || r < best)) {
                best = r;
                bi = i;
            }
        }
        if (best < 0) break;
        /* merge every occurrence of (A, B), left to right, without overlap */
        const char *A = w + bnd[bi], *B = w + bnd[bi + 1];
        size_t la = bnd[bi + 1] - bnd[bi], lb = bnd[bi + 2] - bnd[bi + 1];
        size_t o = 0, i = 0;
        while (i < k) {
            size_t s0 = bnd[i];
            if (i + 1 < k && bnd[i + 1] - s0 == la && bnd[i + 2] - bnd[i + 1] == lb &&
                memcmp(w + s0, A, la) == 0 && memcmp(w + bnd[i + 1], B, lb) == 0) {
                bnd[o++] = s0;
                i += 2;
            } else {
                bnd[o++] = s0;
                i += 1;
            }
        }
        bnd[o] = len;
        k = o;
    }
    return k;
}
