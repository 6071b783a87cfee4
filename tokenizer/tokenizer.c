/*
 * tokenizer.c - the tokenizer object: normalizer + level (word, char, BPE),
 * and the joiner-mark convention of docs/tokenizer.md.
 */
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "tok_internal.h"


/* Creates a tokenizer for `cfg`, parsing the merges text for level "bpe"
 * (see tokenizer.h). Returns NULL with `err` set on failure; the caller
 * frees the result with tokenizer_free(). */
s2s_tokenizer *tokenizer_new(const tokenizer_config *cfg, const char *merges, size_t merges_len,
                             const char *merges_name, tok_error *err)
{
    if (!cfg) {
        tok_fail(err, TOK_ERR_INVALID_ARG, "tokenizer_new: no tokenizer config");
        return NULL;
    }
    if ((unsigned)cfg->normalizer > NORM_TEXT || (unsigned)cfg->level > LEVEL_BPE) {
        tok_fail(err, TOK_ERR_CONFIG, "tokenizer: unknown normalizer or level value");
        return NULL;
    }
    if (cfg->level == LEVEL_BPE && !merges) {
        tok_fail(err, TOK_ERR_CONFIG, "tokenizer.merges: required for level \"bpe\"");
        return NULL;
    }
    s2s_tokenizer *t = calloc(1, sizeof *t);
    if (!t) {
        tok_fail(err, TOK_ERR_NOMEM, "out of memory creating tokenizer");
        return NULL;
    }
    t->normalizer = cfg->normalizer;
    t->level = cfg->level;
    t->lowercase = cfg->lowercase != 0;
    t->whole_numbers = cfg->whole_numbers != 0;
    t->whole_names = cfg->whole_names != 0;
    if (cfg->level == LEVEL_BPE) {
        t->merges = bpe_parse(merges, merges_len, merges_name ? merges_name : "merges", err);
        if (!t->merges) {
            free(t);
            return NULL;
        }
    }
    return t;
}

/* Frees the tokenizer and its merges table. NULL is a no-op. */
void tokenizer_free(s2s_tokenizer *tok)
{
    if (!tok) return;
    bpe_free(tok->merges);
    free(tok);
}

/* Level "char": the code points of the normalized text; ASCII white space
 * becomes " " when the vocabulary holds " " (or no vocabulary is given). */
static tok_status split_chars(const s2s_tokenizer *tok, const cp_buf *cps, const s2s_vocab *vocab,
                              piece_list *out, tok_error *err)
{
    cp_buf norm = {0};
    tok_status st = normalize_text(tok->normalizer, tok->lowercase, cps, &norm, err);
    int keep_space = !vocab || vocab_id(vocab, " ", 1) >= 0;
    for (size_t i = 0; st == TOK_OK && i < norm.n; i++) {
        int32_t c = norm.cp[i];
        char tmp[4];
        size_t n;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f') {
            if (!keep_space) continue;
            tmp[0] = ' ';
            n = 1;
        } else {
            n = utf8_encode(c, tmp);
        }
        if (piece_list_push(out, tmp, n)) st = tok_fail(err, TOK_ERR_NOMEM, "out of memory splitting text");
    }
    cp_buf_free(&norm);
    return st;
}

/* Emits one token: [joiner] text [joiner]. */
static int emit(piece_list *out, const char *s, size_t n, int pre, int post)
{
    char small[256];
    size_t total = n + (pre ? S2S_JOINER_LEN : 0) + (post ? S2S_JOINER_LEN : 0);
    if (!pre && !post) return piece_list_push(out, s, n);
    char *b = total <= sizeof small ? small : malloc(total);
    if (!b) return -1;
    size_t o = 0;
    if (pre) { memcpy(b, S2S_JOINER, S2S_JOINER_LEN); o += S2S_JOINER_LEN; }
    memcpy(b + o, s, n);
    o += n;
    if (post) { memcpy(b + o, S2S_JOINER, S2S_JOINER_LEN); o += S2S_JOINER_LEN; }
    int r = piece_list_push(out, b, o);
    if (b != small) free(b);
    return r;
}

/* 1 when the `len` bytes at `s` are all ASCII digits 0-9 (len > 0). */
static int all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return len > 0;
}

/* 1 when the `len` bytes at `s` (valid UTF-8) are a capitalized word: a
 * code point of category Lu or Lt, then one or more of category Ll, and
 * nothing else. */
static int capitalized(const char *s, size_t len)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t left = (utf8proc_ssize_t)len;
    size_t n = 0;
    while (left > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(p, left, &cp);
        if (k <= 0) return 0;
        utf8proc_category_t cat = utf8proc_category(cp);
        if (n == 0 ? cat != UTF8PROC_CATEGORY_LU && cat != UTF8PROC_CATEGORY_LT : cat != UTF8PROC_CATEGORY_LL)
            return 0;
        n++;
        p += k;
        left -= k;
    }
    return n >= 2;
}

/* 1 when level BPE keeps this word unit as one piece (whole_numbers,
 * whole_names). */
static int kept_whole(const s2s_tokenizer *tok, const char *s, size_t len)
{
    return (tok->whole_numbers && all_digits(s, len)) || (tok->whole_names && capitalized(s, len));
}

/* Decodes, normalizes and splits all of `text` (see tokenizer_split). */
static tok_status split_all(const s2s_tokenizer *tok, const char *text, size_t len, int lenient,
                            const s2s_vocab *vocab, piece_list *out, tok_error *err)
{
    cp_buf cps = {0};
    tok_status st = utf8_decode(text, len, lenient, &cps, err);
    if (st != TOK_OK) {
        cp_buf_free(&cps);
        return st;
    }
    if (tok->level == LEVEL_CHAR) {
        st = split_chars(tok, &cps, vocab, out, err);
        cp_buf_free(&cps);
        return st;
    }

    byte_buf buf = {0};
    unit_list units = {0}, ex = {0};
    st = normalize_units(tok->normalizer, tok->lowercase, &cps, &buf, &units, err);
    cp_buf_free(&cps);
    const unit_list *use = &units;
    size_t *bnd = NULL;
    if (st == TOK_OK && tok->level == LEVEL_BPE) {
        /* expand word units into BPE pieces; later pieces touch the earlier ones */
        size_t maxcp = 0;
        for (size_t i = 0; i < units.n; i++) {
            size_t c = utf8_count(buf.s + units.u[i].off, units.u[i].len);
            if (c > maxcp) maxcp = c;
        }
        bnd = malloc((maxcp + 1) * sizeof *bnd);
        if (!bnd) st = tok_fail(err, TOK_ERR_NOMEM, "out of memory splitting text");
        for (size_t i = 0; st == TOK_OK && i < units.n; i++) {
            tok_unit u = units.u[i];
            if (u.kind != 'w' || kept_whole(tok, buf.s + u.off, u.len)) {
                if (unit_push(&ex, u.off, u.len, u.kind, u.attached))
                    st = tok_fail(err, TOK_ERR_NOMEM, "out of memory splitting text");
                continue;
            }
            size_t k = bpe_encode(tok->merges, buf.s + u.off, u.len, bnd);
            for (size_t j = 0; j < k; j++)
                if (unit_push(&ex, u.off + bnd[j], bnd[j + 1] - bnd[j], 'w', j ? 1 : u.attached)) {
                    st = tok_fail(err, TOK_ERR_NOMEM, "out of memory splitting text");
                    break;
                }
        }
        use = &ex;
    }
    int marks = tok->normalizer == NORM_TEXT || tok->level == LEVEL_BPE;
    for (size_t i = 0; st == TOK_OK && i < use->n; i++) {
        const tok_unit *u = &use->u[i];
        int pre = 0, post = 0;
        if (marks) {
            /* at a touching boundary, a punctuation unit on the left takes a
             * trailing mark, otherwise the right unit takes a leading one */
            pre = u->attached && use->u[i - 1].kind != 'p';
            post = i + 1 < use->n && use->u[i + 1].attached && u->kind == 'p';
        }
        if (emit(out, buf.s + u->off, u->len, pre, post))
            st = tok_fail(err, TOK_ERR_NOMEM, "out of memory splitting text");
    }
    free(bnd);
    byte_buf_free(&buf);
    unit_list_free(&units);
    unit_list_free(&ex);
    return st;
}

/* ---- long texts ---------------------------------------------------------------
 * Decoding and normalizing cost several times the text's size in memory,
 * and a caller that keeps only `limit` pieces does not need the pieces of a
 * long text's tail. So a long text is first split up to a cut after
 * PREFIX_MIN_BYTES or limit * PREFIX_BYTES_PER_PIECE bytes, doubled while
 * too few pieces come out. A cut is only made between an ASCII letter or
 * digit and ASCII white space: no normalizer joins across such a point
 * (white space ends every unit; the letter or digit neither composes with
 * white space under NFKC nor belongs to a run of marks), so the pieces of
 * the prefix are exactly the first pieces of the whole text. */

#define PREFIX_MIN_BYTES 65536
#define PREFIX_BYTES_PER_PIECE 32

static int ascii_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int ascii_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* The first cut at or after `from` (see above), or len when there is none. */
static size_t next_cut(const char *text, size_t len, size_t from)
{
    const unsigned char *s = (const unsigned char *)text;
    for (size_t c = from > 0 ? from : 1; c < len; c++)
        if (ascii_space(s[c]) && ascii_alnum(s[c - 1])) return c;
    return len;
}

/* Drops the pieces of `out` past `n` and restores its count of dropped ones. */
static void piece_list_truncate(piece_list *out, int n, long dropped)
{
    for (int i = n; i < out->n; i++) free(out->pieces[i]);
    out->n = n;
    out->dropped = dropped;
}

/* Decodes, normalizes and splits `text` (see tokenizer.h), appending
 * malloc'd token strings to `out` (the caller frees them with
 * piece_list_free(), also after a failure: tokens appended before it stay).
 * With out->limit set, a long text is split by prefixes (see above); the
 * stored pieces are the same, and out->dropped counts at least one piece
 * whenever pieces past the limit exist. */
tok_status tokenizer_split(const s2s_tokenizer *tok, const char *text, size_t len, int lenient,
                           const s2s_vocab *vocab, piece_list *out, tok_error *err)
{
    if (!tok || !out || (!text && len)) return tok_fail(err, TOK_ERR_INVALID_ARG, "tokenizer_split: NULL argument");
    if (out->limit <= 0 || len <= PREFIX_MIN_BYTES) return split_all(tok, text, len, lenient, vocab, out, err);
    if (!lenient) { /* invalid UTF-8 anywhere fails the text, as split_all would */
        size_t bad = utf8_first_invalid(text, len);
        if (bad < len) return tok_fail(err, TOK_ERR_UTF8, "invalid UTF-8 at byte %zu", bad);
    }
    int n0 = out->n;
    long dropped0 = out->dropped;
    size_t want = (size_t)out->limit * PREFIX_BYTES_PER_PIECE;
    if (want < PREFIX_MIN_BYTES) want = PREFIX_MIN_BYTES;
    while (want < len / 2) {
        size_t cut = next_cut(text, len, want);
        if (cut >= len) break;
        tok_status st = split_all(tok, text, cut, lenient, vocab, out, err);
        if (st != TOK_OK || out->n >= out->limit) return st;
        piece_list_truncate(out, n0, dropped0); /* too few pieces: a longer prefix */
        want = cut * 2;
    }
    return split_all(tok, text, len, lenient, vocab, out, err);
}
