/*
 * normalize.c - the normalizers "none", "tutorial" and "text" (model-format.md section 5
 * and docs/tokenizer.md). Every Unicode operation goes through utf8proc.
 */
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "tok_internal.h"

/* Longest canonical decomposition utf8proc produces for one code point is 4;
 * room for more is kept to be safe. */
#define NFD_MAX_CPS 32

/* Appends one unit; 0, or -1 when out of memory. */
int unit_push(unit_list *l, size_t off, size_t len, char kind, int attached)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 32;
        tok_unit *u = realloc(l->u, nc * sizeof *u);
        if (!u) return -1;
        l->u = u;
        l->cap = nc;
    }
    l->u[l->n].off = off;
    l->u[l->n].len = len;
    l->u[l->n].kind = kind;
    l->u[l->n].attached = (char)(attached != 0);
    l->n++;
    return 0;
}

/* Frees the array and zeroes the list. NULL is a no-op. */
void unit_list_free(unit_list *l)
{
    if (!l) return;
    free(l->u);
    memset(l, 0, sizeof *l);
}

/* See tok_internal.h: Python's str.lower() of one code point. */
int tok_lower(int32_t c, int32_t dst[2])
{
    if (c == 0x130) { /* LATIN CAPITAL LETTER I WITH DOT ABOVE: full mapping */
        dst[0] = 0x69;
        dst[1] = 0x307;
        return 2;
    }
    dst[0] = utf8proc_tolower(c);
    return 1;
}

/* See tok_internal.h: Python's str.isspace() of one code point. */
int tok_isspace(int32_t c)
{
    if (c == ' ' || (c >= 0x09 && c <= 0x0D)) return 1;
    if (c < 0x80) return c >= 0x1C && c <= 0x1F;
    const utf8proc_property_t *p = utf8proc_get_property(c);
    return p->category == UTF8PROC_CATEGORY_ZS || p->bidi_class == UTF8PROC_BIDI_CLASS_WS ||
           p->bidi_class == UTF8PROC_BIDI_CLASS_B || p->bidi_class == UTF8PROC_BIDI_CLASS_S;
}

static int is_ascii_ws(int32_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static int is_ascii_alpha(int32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static tok_status nomem(tok_error *err)
{
    return tok_fail(err, TOK_ERR_NOMEM, "out of memory normalizing text");
}

/* NFKC of the code points `cps` into `out` (appended after clearing
 * out->n), through utf8proc_map, after making the text stream-safe: U+034F
 * (COMBINING GRAPHEME JOINER) after every S2S_MAX_NONSTARTERS consecutive
 * non-starters, so that canonical reordering never sorts an unbounded run of
 * marks (utf8proc, like Python, takes quadratic time on one). The Python
 * twin does the same. TOK_ERR_NOMEM on allocation failure. */
#define S2S_MAX_NONSTARTERS 30
#define S2S_CGJ 0x034F
tok_status nfkc(const cp_buf *cps, cp_buf *out, tok_error *err)
{
    byte_buf b = {0};
    out->n = 0;
    int run = 0; /* consecutive non-starters: U+034F after every S2S_MAX_NONSTARTERS (UAX #15 stream-safe) */
    for (size_t i = 0; i < cps->n; i++) {
        int ns = utf8proc_get_property(cps->cp[i])->combining_class != 0;
        int brk = ns && run == S2S_MAX_NONSTARTERS;
        run = ns ? (brk ? 1 : run + 1) : 0;
        if ((brk && bytes_push_cp(&b, S2S_CGJ)) || bytes_push_cp(&b, cps->cp[i])) {
            byte_buf_free(&b);
            return nomem(err);
        }
    }
    utf8proc_uint8_t *dst = NULL;
    utf8proc_ssize_t n = utf8proc_map((const utf8proc_uint8_t *)(b.s ? b.s : ""), (utf8proc_ssize_t)b.n,
                                      &dst, UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
    byte_buf_free(&b);
    if (n < 0) {
        free(dst);
        if (n == UTF8PROC_ERROR_NOMEM || n == UTF8PROC_ERROR_OVERFLOW) return nomem(err);
        return tok_fail(err, TOK_ERR_UTF8, "NFKC normalization failed: %s", utf8proc_errmsg(n));
    }
    tok_status st = utf8_decode((const char *)dst, (size_t)n, 1, out, err);
    free(dst);
    return st;
}

/* ---- "none": runs of ASCII white space separate words ------------------- */
/* U+0000 is dropped (a token string cannot hold it); nothing else changes. */

static tok_status units_none(const cp_buf *cps, byte_buf *buf, unit_list *units, tok_error *err)
{
    size_t i = 0;
    while (i < cps->n) {
        while (i < cps->n && is_ascii_ws(cps->cp[i])) i++;
        if (i == cps->n) break;
        size_t off = buf->n;
        for (; i < cps->n && !is_ascii_ws(cps->cp[i]); i++)
            if (cps->cp[i] != 0 && bytes_push_cp(buf, cps->cp[i])) return nomem(err); /* NUL dropped */
        if (buf->n > off && unit_push(units, off, buf->n - off, 'w', 0)) return nomem(err);
    }
    return TOK_OK;
}

/* ---- "tutorial": the PyTorch tutorial's normalizeString ----------------- */
/*
 * Python: s = unicodeToAscii(s.lower().strip()); s = re.sub(r"([.!?])", r" \1", s);
 * s = re.sub(r"[^a-zA-Z!?]+", r" ", s); s.strip(); then split on spaces.
 * Only ASCII letters, '!' and '?' survive, so the words are the maximal runs
 * of [a-zA-Z!?] in lower(s) -> NFD -> minus Mn, with a break before every '!'
 * and '?' (the inserted space). Canonical reordering only permutes marks,
 * which never survive, so decomposing code point by code point is exact;
 * Python's final-sigma rule only chooses between two non-ASCII letters.
 */
static tok_status units_tutorial(const cp_buf *cps, byte_buf *buf, unit_list *units, tok_error *err)
{
    int in_word = 0;
    size_t off = 0;
    for (size_t i = 0; i < cps->n; i++) {
        int32_t low[2];
        int nl = tok_lower(cps->cp[i], low);
        for (int a = 0; a < nl; a++) {
            int32_t d[NFD_MAX_CPS];
            int bound = 0;
            utf8proc_ssize_t nd = utf8proc_decompose_char(low[a], d, NFD_MAX_CPS, UTF8PROC_DECOMPOSE, &bound);
            if (nd < 0 || nd > NFD_MAX_CPS) { /* cannot happen for valid code points */
                d[0] = low[a];
                nd = 1;
            }
            for (utf8proc_ssize_t k = 0; k < nd; k++) {
                int32_t c = d[k];
                if (utf8proc_category(c) == UTF8PROC_CATEGORY_MN) continue;
                int keep = is_ascii_alpha(c) || c == '!' || c == '?';
                if (in_word && (!keep || c == '!' || c == '?')) {
                    if (unit_push(units, off, buf->n - off, 'w', 0)) return nomem(err);
                    in_word = 0;
                }
                if (keep) {
                    if (!in_word) {
                        off = buf->n;
                        in_word = 1;
                    }
                    char ch = (char)c;
                    if (bytes_push(buf, &ch, 1)) return nomem(err);
                }
            }
        }
    }
    if (in_word && unit_push(units, off, buf->n - off, 'w', 0)) return nomem(err);
    return TOK_OK;
}

/* ---- "text": NFKC, lowercase, drop Cc/Cf, split on spaces and punctuation */

static int is_punct_or_symbol(int cat)
{
    return cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_SO;
}

static int is_mark(int cat)
{
    return cat >= UTF8PROC_CATEGORY_MN && cat <= UTF8PROC_CATEGORY_ME;
}

static tok_status units_text(int lowercase, const cp_buf *cps, byte_buf *buf, unit_list *units,
                             tok_error *err)
{
    cp_buf n = {0};
    tok_status st = nfkc(cps, &n, err);
    if (st != TOK_OK) {
        cp_buf_free(&n);
        return st;
    }
    char cur = 0;      /* kind of the open unit, 0 = none (outside a chunk) */
    size_t off = 0;    /* where the open unit starts in buf */
    int attached = 0;  /* the open unit touches the previous one */
    for (size_t i = 0; i < n.n; i++) {
        int32_t low[2];
        int nl = lowercase ? tok_lower(n.cp[i], low) : (low[0] = n.cp[i], 1);
        for (int a = 0; a < nl; a++) {
            int32_t c = low[a];
            if (tok_isspace(c)) {
                if (cur && unit_push(units, off, buf->n - off, cur, attached)) goto oom;
                cur = 0;
                continue;
            }
            int cat = utf8proc_category(c);
            if (cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF) continue;
            char kind;
            if (is_punct_or_symbol(cat)) kind = 'p';
            else if (is_mark(cat) && cur) kind = 0;           /* joins the open unit */
            else if (cur == 'w') kind = 0;
            else kind = 'w';
            if (kind) {
                int touching = cur != 0;
                if (cur && unit_push(units, off, buf->n - off, cur, attached)) goto oom;
                cur = kind;
                off = buf->n;
                attached = touching;
            }
            if (bytes_push_cp(buf, c)) goto oom;
        }
    }
    if (cur && unit_push(units, off, buf->n - off, cur, attached)) goto oom;
    cp_buf_free(&n);
    return TOK_OK;
oom:
    cp_buf_free(&n);
    return nomem(err);
}

/* Dispatches to the normalizer `kind`; see tok_internal.h. */
tok_status normalize_units(normalizer_kind kind, int lowercase, const cp_buf *cps, byte_buf *buf,
                           unit_list *units, tok_error *err)
{
    switch (kind) {
    case NORM_TUTORIAL: return units_tutorial(cps, buf, units, err);
    case NORM_TEXT: return units_text(lowercase, cps, buf, units, err);
    case NORM_NONE:
    default: return units_none(cps, buf, units, err);
    }
}

/* The text level "char" splits; see tok_internal.h. */
tok_status normalize_text(normalizer_kind kind, int lowercase, const cp_buf *cps, cp_buf *out,
                          tok_error *err)
{
    if (kind == NORM_NONE) {
        for (size_t i = 0; i < cps->n; i++)
            if (cps->cp[i] != 0 && cp_push(out, cps->cp[i])) return nomem(err);
        return TOK_OK;
    }
    byte_buf buf = {0};
    unit_list units = {0};
    tok_status st = normalize_units(kind, lowercase, cps, &buf, &units, err);
    for (size_t i = 0; st == TOK_OK && i < units.n; i++) {
        if (i > 0 && !units.u[i].attached && cp_push(out, ' ')) st = nomem(err);
        if (st == TOK_OK) st = utf8_decode(buf.s + units.u[i].off, units.u[i].len, 1, out, err);
    }
    byte_buf_free(&buf);
    unit_list_free(&units);
    return st;
}
