/*
 * render_term.c - the attention heatmap in a terminal: source tokens as
 * columns, output tokens as rows, Unicode shading (with 256-colour escapes
 * when asked), plus the label cleaning shared with the SVG and HTML output.
 */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "heatmap.h"

#define REPLACEMENT 0xFFFD
#define ELLIPSIS 0x2026
#define VISIBLE_SPACE 0x2423

/* 1 when code point `cp` must not be shown as is (controls, line and
 * paragraph separators, bidi overrides, non-characters). */
static int unprintable(utf8proc_int32_t cp)
{
    utf8proc_category_t c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_CC || c == UTF8PROC_CATEGORY_ZL || c == UTF8PROC_CATEGORY_ZP ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
           (cp & 0xFFFE) == 0xFFFE || (cp >= 0xFDD0 && cp <= 0xFDEF);
}

/* Decodes the code point at s[*i] (cleaned: bad bytes and unprintable
 * characters become U+FFFD) and advances *i; 0 at the end. */
static utf8proc_int32_t next_cp(const char *s, size_t *i)
{
    if (!s[*i]) return 0;
    utf8proc_int32_t cp;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + *i, -1, &cp);
    if (k <= 0) { (*i)++; return REPLACEMENT; }
    *i += (size_t)k;
    return unprintable(cp) ? REPLACEMENT : cp;
}

int hm_display_width(const char *s)
{
    int w = 0;
    size_t i = 0;
    for (utf8proc_int32_t cp; (cp = next_cp(s, &i));) w += utf8proc_charwidth(cp);
    return w;
}

/* 1 when `s` is empty or only ASCII spaces. */
static int blank(const char *s)
{
    while (*s == ' ') s++;
    return *s == '\0';
}

char *hm_clean_label(const char *s, int max_cols)
{
    if (!s) s = "";
    char *out = malloc(strlen(s) * 3 + 8);
    if (!out) return NULL;
    size_t o = 0, i = 0;
    int w = 0, total = hm_display_width(s);
    if (s[0] && blank(s)) {
        o += (size_t)utf8proc_encode_char(VISIBLE_SPACE, (utf8proc_uint8_t *)out);
        out[o] = '\0';
        return out;
    }
    for (utf8proc_int32_t cp; (cp = next_cp(s, &i));) {
        int cw = utf8proc_charwidth(cp);
        if (total > max_cols && w + cw > max_cols - 1) {
            o += (size_t)utf8proc_encode_char(ELLIPSIS, (utf8proc_uint8_t *)out + o);
            break;
        }
        o += (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)out + o);
        w += cw;
    }
    out[o] = '\0';
    return out;
}

/* Writes `s` then spaces up to `width` display columns. */
static void put_padded(FILE *f, const char *s, int width, int right_align)
{
    int pad = width - hm_display_width(s);
    if (right_align) for (int k = 0; k < pad; k++) fputc(' ', f);
    fputs(s, f);
    if (!right_align) for (int k = 0; k < pad; k++) fputc(' ', f);
}

static const char *const SHADES[] = {" ", "\u2591", "\u2592", "\u2593", "\u2588"};

/* Shade index 0..4 of weight w (rounded to the nearest quarter). */
static int shade_level(float w)
{
    int k = (int)(w * 4.0f + 0.5f);
    return k < 0 ? 0 : k > 4 ? 4 : k;
}

/* A 256-colour palette index from dark blue (0) to yellow (1). */
static int color_index(float w)
{
    static const int RAMP[] = {17, 18, 19, 25, 31, 37, 43, 79, 114, 149, 184, 226};
    int n = (int)(sizeof RAMP / sizeof RAMP[0]);
    int k = (int)(w * (float)(n - 1) + 0.5f);
    return RAMP[k < 0 ? 0 : k >= n ? n - 1 : k];
}

/* One cell: `width - 1` characters and a space; without colour a shade
 * for the weight, with colour full blocks in the weight's colour. */
static void put_cell(FILE *f, float w, int width, int color)
{
    if (color) fprintf(f, "\033[38;5;%dm", color_index(w));
    for (int k = 0; k < width - 1; k++) fputs(SHADES[color ? 4 : shade_level(w)], f);
    if (color) fputs("\033[0m", f);
    fputc(' ', f);
}

/* Widest cleaned label of `labels`, capped at `cap`. */
static int widest(const char *const *labels, int n, int cap)
{
    int w = 0;
    for (int i = 0; i < n; i++) {
        int k = hm_display_width(labels[i]);
        if (k > w) w = k;
    }
    return w < cap ? w : cap;
}

/* The header line of column labels, each cut to the cell width. */
static void put_header(FILE *f, const heatmap *h, int label_w, int cell_w)
{
    put_padded(f, "", label_w + 1, 0);
    for (int j = 0; j < h->n_cols; j++) {
        char *l = hm_clean_label(h->cols[j], cell_w - 1);
        put_padded(f, l ? l : "", cell_w, 0);
        free(l);
    }
    fputc('\n', f);
}

/* The legend line under the grid; the scale runs from 0 to `top`, the
 * largest weight of the matrix. */
static void put_legend(FILE *f, int color, float top)
{
    fputs("scale:", f);
    if (color) {
        fputs(" 0 ", f);
        for (int k = 0; k <= 10; k++) put_cell(f, k / 10.0f, 2, 1);
        fprintf(f, "%.2f (the largest weight)\n", (double)top);
        return;
    }
    for (int k = 0; k < 5; k++) {
        fprintf(f, "  [%s] ", SHADES[k]);
        if (k < 4) fprintf(f, "<%.2f", (double)(top * (k + 0.5f) / 4));
        else fprintf(f, ">=%.2f", (double)(top * 3.5f / 4));
    }
    fputc('\n', f);
}

/* The largest weight of the matrix, or 1 when none is positive. */
static float largest_weight(const heatmap *h)
{
    float top = 0;
    for (size_t k = 0; k < (size_t)h->n_rows * (size_t)h->n_cols; k++)
        if (h->w[k] > top) top = h->w[k];
    return top > 0 ? top : 1;
}

void hm_write_terminal(FILE *f, const heatmap *h, int color, int cols)
{
    int label_w = widest(h->rows, h->n_rows, HM_TERM_LABEL_MAX);
    int cell_w = widest(h->cols, h->n_cols, HM_TERM_CELL_MAX - 1) + 1;
    if (cell_w < HM_TERM_CELL_MIN) cell_w = HM_TERM_CELL_MIN;
    int room = (cols > 0 ? cols : HM_TERM_WIDTH) - label_w - 1;
    if (h->n_cols > 0 && room / h->n_cols < cell_w) cell_w = room / h->n_cols;
    if (cell_w < HM_TERM_CELL_MIN) cell_w = HM_TERM_CELL_MIN;
    if (h->title) {
        char *t = hm_clean_label(h->title, HM_TERM_TITLE_MAX);
        if (t) fprintf(f, "%s\n\n", t);
        free(t);
    }
    put_header(f, h, label_w, cell_w);
    float top = largest_weight(h);
    for (int i = 0; i < h->n_rows; i++) {
        char *l = hm_clean_label(h->rows[i], label_w);
        put_padded(f, l ? l : "", label_w, 1);
        free(l);
        fputc(' ', f);
        for (int j = 0; j < h->n_cols; j++) put_cell(f, h->w[(size_t)i * h->n_cols + j] / top, cell_w, color);
        fputc('\n', f);
    }
    fputc('\n', f);
    put_legend(f, color, top);
}
