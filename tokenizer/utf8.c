/*
 * utf8.c - UTF-8 decoding (strict / lenient), encoding, growable buffers and
 * error helpers for the tokenizer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok_internal.h"


/* See tokenizer.h. */
void tok_format_message(char *dst, size_t cap, const char *fmt, va_list ap)
{
    vsnprintf(dst, cap, fmt, ap);
    for (char *p = dst; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
}

/* See tokenizer.h. */
tok_status tok_fail(tok_error *err, tok_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->status = status;
        tok_format_message(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return status;
}

/* See tok_internal.h. */
void tok_escape(const char *s, size_t len, char *dst, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    int cut = 0;
    if (len > S2S_ERR_TOKEN_BYTES) {
        len = S2S_ERR_TOKEN_BYTES;
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80) len--; /* UTF-8 boundary */
        cut = 1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7F || c == '\\' || c == '\'') {
            if (o + 5 > cap) break;
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex[c >> 4];
            dst[o++] = hex[c & 15];
        } else {
            if (o + 2 > cap) break;
            dst[o++] = (char)c;
        }
    }
    if (cut && o + 4 <= cap) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o < cap ? o : cap - 1] = 0;
}

/* ---- buffers ------------------------------------------------------------- */

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 16;
    while (nc < need) {
        if (nc > ((size_t)-1) / 2 / elem) return -1;
        nc *= 2;
    }
    void *q = realloc(*p, nc * elem);
    if (!q) return -1;
    *p = q;
    *cap = nc;
    return 0;
}

/* Appends one code point; 0, or -1 when out of memory. */
int cp_push(cp_buf *b, int32_t cp)
{
    if (grow((void **)&b->cp, &b->cap, b->n + 1, sizeof *b->cp)) return -1;
    b->cp[b->n++] = cp;
    return 0;
}

/* Frees the array and zeroes the buffer. NULL is a no-op. */
void cp_buf_free(cp_buf *b)
{
    if (!b) return;
    free(b->cp);
    memset(b, 0, sizeof *b);
}

/* Appends `n` bytes (keeps room for a final NUL); 0 or -1. */
int bytes_push(byte_buf *b, const char *s, size_t n)
{
    if (grow((void **)&b->s, &b->cap, b->n + n + 1, 1)) return -1;
    if (n) memcpy(b->s + b->n, s, n);
    b->n += n;
    return 0;
}

/* Appends the UTF-8 of `cp`; 0 or -1. */
int bytes_push_cp(byte_buf *b, int32_t cp)
{
    char tmp[4];
    return bytes_push(b, tmp, utf8_encode(cp, tmp));
}

/* Frees the bytes and zeroes the buffer. NULL is a no-op. */
void byte_buf_free(byte_buf *b)
{
    if (!b) return;
    free(b->s);
    memset(b, 0, sizeof *b);
}

/* See tok_internal.h: appends a malloc'd copy owned by the list. */
int piece_list_push(piece_list *list, const char *s, size_t n)
{
    if (list->limit > 0 && list->n >= list->limit) { /* bounded memory on huge lines */
        list->dropped++;
        return 0;
    }
    if (list->n == list->cap) {
        size_t cap = (size_t)list->cap;
        if (list->cap >= (1 << 30)) return -1;
        if (grow((void **)&list->pieces, &cap, (size_t)list->n + 1, sizeof *list->pieces)) return -1;
        list->cap = (int)cap;
    }
    char *c = malloc(n + 1);
    if (!c) return -1;
    if (n) memcpy(c, s, n);
    c[n] = 0;
    list->pieces[list->n++] = c;
    return 0;
}

/* Frees every piece and the array, and zeroes the list. NULL is a no-op. */
void piece_list_free(piece_list *list)
{
    if (!list) return;
    for (int i = 0; i < list->n; i++) free(list->pieces[i]);
    free(list->pieces);
    list->pieces = NULL;
    list->n = list->cap = 0;
}

/* ---- UTF-8 ----------------------------------------------------------------- */

size_t utf8_encode(int32_t cp, char *dst)
{
    unsigned char *d = (unsigned char *)dst;
    if (cp < 0x80) {
        d[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (unsigned char)(0xC0 | (cp >> 6));
        d[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (unsigned char)(0xE0 | (cp >> 12));
        d[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        d[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    d[0] = (unsigned char)(0xF0 | (cp >> 18));
    d[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    d[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    d[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Code points in valid UTF-8: the bytes that are not continuation bytes. */
size_t utf8_count(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) n++;
    return n;
}

/* Length of the valid sequence starting at s[i] and its code point, or 0 when
 * ill-formed; then *bad is the length of the maximal ill-formed subpart (>= 1). */
static size_t decode_one(const unsigned char *s, size_t len, size_t i, int32_t *cp, size_t *bad)
{
    unsigned char b0 = s[i];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;
    int32_t c;
    if (b0 < 0x80) {
        *cp = b0;
        return 1;
    } else if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 1;
        c = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 2;
        c = b0 & 0x0F;
        if (b0 == 0xE0) lo = 0xA0;
        if (b0 == 0xED) hi = 0x9F; /* no surrogates */
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 3;
        c = b0 & 0x07;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F; /* <= U+10FFFF */
    } else {
        *bad = 1;
        return 0;
    }
    for (size_t k = 1; k <= need; k++) {
        if (i + k >= len) {
            *bad = k;
            return 0;
        }
        unsigned char b = s[i + k];
        unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
        if (b < l || b > h) {
            *bad = k;
            return 0;
        }
        c = (c << 6) | (b & 0x3F);
    }
    *cp = c;
    return need + 1;
}

/* See tok_internal.h: strict (error with byte offset) or lenient (U+FFFD
 * per maximal ill-formed subpart) decoding, appended to `out`. */
tok_status utf8_decode(const char *text, size_t len, int lenient, cp_buf *out, tok_error *err)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        int32_t cp = 0;
        size_t bad = 0;
        size_t k = decode_one(s, len, i, &cp, &bad);
        if (k == 0) {
            if (!lenient) return tok_fail(err, TOK_ERR_UTF8, "invalid UTF-8 at byte %zu", i);
            cp = S2S_REPLACEMENT_CHAR;
            k = bad;
        }
        if (cp_push(out, cp)) return tok_fail(err, TOK_ERR_NOMEM, "out of memory decoding text");
        i += k;
    }
    return TOK_OK;
}

/* See tok_internal.h: the offset of the first byte that does not start a
 * valid UTF-8 sequence (strict rules, as utf8_decode), or len. */
size_t utf8_first_invalid(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        int32_t cp = 0;
        size_t bad = 0;
        size_t k = decode_one(s, len, i, &cp, &bad);
        if (k == 0) return i;
        i += k;
    }
    return len;
}
