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
#define JOINER 0xFFED
#define JOINER_SHOWN 0x00B7

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
    if (cp == JOINER) return JOINER_SHOWN;
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

/* 1 when `s` holds U+FFED (bytes EF BF AD). */
static int holds_joiner(const char *s)
{
    return s && strstr(s, "\xef\xbf\xad") != NULL;
}

int hm_has_joiner(const heatmap *h)
{
    for (int j = 0; j < h->n_cols; j++)
        if (holds_joiner(h->cols[j])) return 1;
    for (int i = 0; i < h->n_rows; i++)
        if (holds_joiner(h->rows[i])) return 1;
    return 0;
}

void hm_free_lines(char **lines)
{
    for (int i = 0; lines && lines[i]; i++) free(lines[i]);
    free(lines);
}

/* Appends the line s[a..b) (trailing spaces dropped) to lines[*n]. */
static int push_line(char **lines, int *n, const char *s, size_t a, size_t b)
{
    while (b > a && s[b - 1] == ' ') b--;
    if (!(lines[*n] = strndup(s + a, b - a))) return -1;
    (*n)++;
    return 0;
}

/* Puts an ellipsis at the end of `line` (a malloc'd string), cutting it
 * to `cols` - 1 display columns first. 0, or -1 when out of memory. */
static int end_with_ellipsis(char **line, int cols)
{
    char *cut = hm_clean_label(*line, cols > 1 ? cols - 1 : 1);
    if (!cut) return -1;
    size_t n = strlen(cut);
    char *e = realloc(cut, n + 4);
    if (!e) { free(cut); return -1; }
    if (n < 3 || strcmp(e + n - 3, "\xe2\x80\xa6") != 0) memcpy(e + n, "\xe2\x80\xa6", 4);
    free(*line);
    *line = e;
    return 0;
}

char **hm_wrap(const char *text, int cols, int max_lines, int *n_lines)
{
    if (cols < 1) cols = 1;
    if (max_lines < 1) max_lines = 1;
    char *s = hm_clean_label(text, 1 << 30);
    char **lines = calloc((size_t)max_lines + 1, sizeof *lines);
    int n = 0, bad = !s || !lines;
    size_t start = 0, i = 0, last_space = 0; /* line start; after the last space in the line */
    int w = 0, w_at_space = 0;
    while (!bad && s[i] && n < max_lines) {
        size_t at = i;
        utf8proc_int32_t cp = next_cp(s, &i);
        int cw = utf8proc_charwidth(cp);
        if (w + cw > cols && at > start) { /* break before this character */
            size_t end = cp == ' ' ? at : last_space > start ? last_space : at;
            bad = push_line(lines, &n, s, start, end) < 0;
            start = cp == ' ' ? i : end;
            while (s[start] == ' ') start++;
            i = start;
            w = 0;
            last_space = start;
            continue;
        }
        w += cw;
        if (cp == ' ') { last_space = i; w_at_space = w; }
    }
    (void)w_at_space;
    if (!bad && n < max_lines && s[start]) bad = push_line(lines, &n, s, start, strlen(s)) < 0;
    else if (!bad && n == max_lines && s[start]) bad = end_with_ellipsis(&lines[n - 1], cols) < 0;
    free(s);
    if (bad) {
        hm_free_lines(lines);
        return NULL;
    }
    *n_lines = n;
    return lines;
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

/* Column labels written downwards, one character a line, when they do not
 * fit across their cells: `depth` lines (the longest label, at most
 * HM_TERM_VLABEL_MAX; a longer one ends in an ellipsis). */
static void put_vertical_header(FILE *f, const heatmap *h, int label_w, int cell_w, int depth)
{
    char **labels = calloc((size_t)h->n_cols + 1, sizeof *labels);
    size_t *at = calloc((size_t)h->n_cols + 1, sizeof *at);
    for (int j = 0; labels && at && j < h->n_cols; j++) labels[j] = hm_clean_label(h->cols[j], depth);
    for (int r = 0; labels && at && r < depth; r++) {
        put_padded(f, "", label_w + 1, 0);
        for (int j = 0; j < h->n_cols; j++) {
            const char *l = labels[j] ? labels[j] : "";
            size_t a = at[j];
            utf8proc_int32_t cp = l[a] ? next_cp(l, &at[j]) : 0;
            char one[8] = "";
            if (cp) one[utf8proc_encode_char(cp, (utf8proc_uint8_t *)one)] = '\0';
            (void)a;
            put_padded(f, one, cell_w, 0);
        }
        fputc('\n', f);
    }
    for (int j = 0; labels && j < h->n_cols; j++) free(labels[j]);
    free(labels);
    free(at);
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
        int n;
        char **t = hm_wrap(h->title, cols > 0 ? cols : HM_TERM_WIDTH, HM_TERM_TITLE_LINES, &n);
        for (int k = 0; t && t[k]; k++) fprintf(f, "%s\n", t[k]);
        fputc('\n', f);
        hm_free_lines(t);
    }
    int widest_col = widest(h->cols, h->n_cols, 1 << 20);
    if (widest_col <= cell_w - 1) put_header(f, h, label_w, cell_w);
    else put_vertical_header(f, h, label_w, cell_w, widest_col < HM_TERM_VLABEL_MAX ? widest_col : HM_TERM_VLABEL_MAX);
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
    if (hm_has_joiner(h)) fprintf(f, "%s\n", HM_JOINER_NOTE);
}
