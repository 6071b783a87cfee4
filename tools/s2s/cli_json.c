/*
 * cli_json.c - writing JSON strings and numbers by hand, for the streaming
 * jsonl output (one object per line, written as it is produced).
 */
#include <math.h>
#include <string.h>

#include "cli.h"

/* Length of the valid UTF-8 sequence at s[0..n) (1..4), or 0 when the bytes
 * there are not valid UTF-8 (overlong forms, surrogates and values above
 * U+10FFFF included). */
static size_t utf8_valid_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t need;
    unsigned min;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) { need = 2; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { need = 3; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { need = 4; min = 0x10000; }
    else return 0;
    if (n < need) return 0;
    unsigned cp = c & (0x7F >> need);
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return need;
}

/* Writes the escape of an ASCII byte that JSON does not allow raw, and
 * returns 1; returns 0 for a byte that may be written as is. */
static int write_escape(FILE *f, unsigned char c)
{
    switch (c) {
    case '"': fputs("\\\"", f); return 1;
    case '\\': fputs("\\\\", f); return 1;
    case '\n': fputs("\\n", f); return 1;
    case '\r': fputs("\\r", f); return 1;
    case '\t': fputs("\\t", f); return 1;
    case '\b': fputs("\\b", f); return 1;
    case '\f': fputs("\\f", f); return 1;
    }
    if (c < 0x20 || c == 0x7F) { fprintf(f, "\\u%04x", c); return 1; }
    return 0;
}

void cli_json_str(FILE *f, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', f);
    size_t i = 0;
    while (i < len) {
        size_t k = utf8_valid_len(p + i, len - i);
        if (k == 0) { fputs("\\ufffd", f); i++; continue; }
        if (k == 1 && write_escape(f, p[i])) { i++; continue; }
        fwrite(p + i, 1, k, f);
        i += k;
    }
    fputc('"', f);
}

void cli_json_cstr(FILE *f, const char *s)
{
    if (!s) { fputs("null", f); return; }
    cli_json_str(f, s, strlen(s));
}

void cli_json_num(FILE *f, double v)
{
    if (!isfinite(v)) { fputs("null", f); return; }
    fprintf(f, "%.9g", v);
}

void cli_text_num(FILE *f, double v)
{
    if (isnan(v)) fputs("nan", f);
    else if (isinf(v)) fputs(v > 0 ? "inf" : "-inf", f);
    else fprintf(f, "%.9g", v);
}
