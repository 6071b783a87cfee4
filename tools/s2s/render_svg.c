/*
 * render_svg.c - the attention heatmap as a self-contained SVG document or
 * HTML page: labelled rows and (rotated) columns, one cell per weight with
 * a tooltip of its exact value, and a colour scale. Every label is cleaned
 * (control characters and bad UTF-8 replaced) and XML-escaped.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "heatmap.h"

#define LABEL_FULL 100000  /* "no cut" for tooltips */
#define N_STOPS 5

/* The "Blues" colour ramp, light to dark. */
static const unsigned char RAMP[N_STOPS][3] = {
    {0xf7, 0xfb, 0xff}, {0xc6, 0xdb, 0xef}, {0x6b, 0xae, 0xd6}, {0x21, 0x71, 0xb5}, {0x08, 0x30, 0x6b},
};

/* Writes "#rrggbb" for weight w in [0, 1] (clamped; NaN as 0). */
static void put_color(FILE *f, float w)
{
    if (!(w > 0)) w = 0;
    if (w > 1) w = 1;
    float x = w * (N_STOPS - 1);
    int k = (int)x;
    if (k >= N_STOPS - 1) k = N_STOPS - 2;
    float t = x - (float)k;
    fputc('#', f);
    for (int c = 0; c < 3; c++)
        fprintf(f, "%02x", (int)lroundf(RAMP[k][c] + t * (RAMP[k + 1][c] - RAMP[k][c])));
}

/* Writes `s` with & < > " ' as XML entities (s is already cleaned). */
static void put_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* Cleans `s` (cut to max_cols), then writes it escaped. */
static void put_label(FILE *f, const char *s, int max_cols)
{
    char *l = hm_clean_label(s, max_cols);
    if (l) put_escaped(f, l);
    free(l);
}

/* Widest label of `labels` in display columns, capped at HM_LABEL_MAX. */
static int widest(const char *const *labels, int n)
{
    int w = 0;
    for (int i = 0; i < n; i++) {
        int k = hm_display_width(labels[i]);
        if (k > w) w = k;
    }
    return w < HM_LABEL_MAX ? w : HM_LABEL_MAX;
}

/* Where things go on the SVG canvas. */
typedef struct layout {
    double grid_x, grid_y, legend_x, legend_h, title_h, note_y;
    int width, height;
    char **title;   /* the caption's wrapped lines (owned), NULL when none */
    int n_title;
    int note;       /* 1: the joiner note under the grid */
} layout;

/* Computes the layout of `h` from the constants in heatmap.h; the caption
 * wraps to the canvas width (at least HM_TITLE_MIN_COLS columns, the
 * canvas widening when the grid is narrower). Free with free_layout. */
static layout compute_layout(const heatmap *h)
{
    layout L = {0};
    double row_w = widest(h->rows, h->n_rows) * HM_CHAR_W;
    double col_h = widest(h->cols, h->n_cols) * HM_CHAR_W;
    L.grid_x = HM_PAD + row_w + HM_GAP;
    L.legend_x = L.grid_x + (double)h->n_cols * HM_CELL + 2 * HM_GAP;
    double width = L.legend_x + HM_LEGEND_W + HM_LEGEND_TEXT_W + HM_PAD;
    int cols = (int)((width - 2 * HM_PAD) / HM_TITLE_CHAR_W);
    int least = h->title ? hm_display_width(h->title) : 0; /* a short caption needs no more */
    if (least > HM_TITLE_MIN_COLS) least = HM_TITLE_MIN_COLS;
    if (cols < least) cols = least;
    if (width < cols * HM_TITLE_CHAR_W + 2 * HM_PAD) width = cols * HM_TITLE_CHAR_W + 2 * HM_PAD;
    if (h->title) L.title = hm_wrap(h->title, cols, HM_TITLE_MAX_LINES, &L.n_title);
    L.title_h = L.title ? L.n_title * HM_TITLE_LINE_H + HM_GAP : 0;
    L.grid_y = HM_PAD + L.title_h + col_h + HM_GAP;
    double grid_h = (double)h->n_rows * HM_CELL;
    L.legend_h = grid_h > HM_LEGEND_MIN_H ? grid_h : HM_LEGEND_MIN_H;
    L.note = hm_has_joiner(h);
    L.note_y = L.grid_y + L.legend_h + HM_NOTE_H - 4;
    L.width = (int)ceil(width);
    L.height = (int)ceil(L.grid_y + L.legend_h + (L.note ? HM_NOTE_H : 0) + HM_PAD);
    return L;
}

static void free_layout(layout *L)
{
    hm_free_lines(L->title);
    L->title = NULL;
}

void hm_svg_size(const heatmap *h, int *width, int *height)
{
    layout L = compute_layout(h);
    *width = L.width;
    *height = L.height;
    free_layout(&L);
}

/* Column labels, rotated to read upwards, and row labels, right-aligned. */
static void svg_labels(FILE *f, const heatmap *h, const layout *L)
{
    for (int j = 0; j < h->n_cols; j++) {
        double x = L->grid_x + j * HM_CELL + HM_CELL / 2.0 + HM_FONT / 3.0;
        fprintf(f, "<text class=\"col\" transform=\"translate(%.1f,%.1f) rotate(-90)\">", x, L->grid_y - HM_GAP);
        put_label(f, h->cols[j], HM_LABEL_MAX);
        fputs("</text>\n", f);
    }
    for (int i = 0; i < h->n_rows; i++) {
        double y = L->grid_y + i * HM_CELL + HM_CELL / 2.0 + HM_FONT / 3.0;
        fprintf(f, "<text class=\"row\" x=\"%.1f\" y=\"%.1f\">", L->grid_x - HM_GAP, y);
        put_label(f, h->rows[i], HM_LABEL_MAX);
        fputs("</text>\n", f);
    }
}

/* One cell: coloured square, tooltip with the exact weight, 2-digit value. */
static void svg_cell(FILE *f, const heatmap *h, const layout *L, int i, int j)
{
    float w = h->w[(size_t)i * h->n_cols + j];
    double x = L->grid_x + j * HM_CELL, y = L->grid_y + i * HM_CELL;
    fprintf(f, "<g><rect class=\"cell\" x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%d\" fill=\"", x, y, HM_CELL, HM_CELL);
    put_color(f, w);
    fputs("\"/><title>", f);
    put_label(f, h->rows[i], LABEL_FULL);
    fputs(" \xe2\x86\x90 ", f);
    put_label(f, h->cols[j], LABEL_FULL);
    fprintf(f, ": %.9g</title>", (double)w);
    fprintf(f, "<text class=\"v%s\" x=\"%.1f\" y=\"%.1f\">%.2f</text></g>\n", w > 0.5f ? " dark" : "",
            x + HM_CELL / 2.0, y + HM_CELL / 2.0 + 3, (double)(isfinite(w) ? w : 0));
}

/* The colour scale: a vertical gradient from 0 (bottom) to 1 (top). */
static void svg_legend(FILE *f, const layout *L)
{
    fputs("<defs><linearGradient id=\"scale\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">", f);
    for (int k = 0; k < N_STOPS; k++) {
        fprintf(f, "<stop offset=\"%g\" stop-color=\"", k / (double)(N_STOPS - 1));
        put_color(f, k / (float)(N_STOPS - 1));
        fputs("\"/>", f);
    }
    fputs("</linearGradient></defs>\n", f);
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"url(#scale)\" stroke=\"#999\"/>\n",
            L->legend_x, L->grid_y, HM_LEGEND_W, L->legend_h);
    for (int k = 0; k <= 2; k++) {
        double y = L->grid_y + L->legend_h * (1 - k / 2.0) + (k == 0 ? 0 : k == 2 ? HM_FONT * 0.8 : 4);
        fprintf(f, "<text class=\"scale\" x=\"%.1f\" y=\"%.1f\">%s</text>\n",
                L->legend_x + HM_LEGEND_W + 4, y, k == 0 ? "0" : k == 1 ? "0.5" : "1");
    }
}

int hm_write_svg(FILE *f, const heatmap *h)
{
    layout L = compute_layout(h);
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n",
            L.width, L.height, L.width, L.height);
    fputs("<title>", f);
    put_label(f, h->title ? h->title : "attention", LABEL_FULL);
    fputs("</title>\n<style>text{font-family:'DejaVu Sans Mono',monospace;font-size:12px;fill:#222}"
          ".row{text-anchor:end}.v{font-size:9px;text-anchor:middle;fill:#222}.v.dark{fill:#fff}"
          ".scale{font-size:10px}.title{font-size:13px}.note{font-size:11px;fill:#555}</style>\n", f);
    fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n", L.width, L.height);
    for (int k = 0; k < L.n_title; k++) { /* the caption, wrapped */
        fprintf(f, "<text class=\"title\" x=\"%d\" y=\"%d\">", HM_PAD, HM_PAD + HM_TITLE_FONT + k * HM_TITLE_LINE_H);
        put_escaped(f, L.title[k]);
        fputs("</text>\n", f);
    }
    svg_labels(f, h, &L);
    for (int i = 0; i < h->n_rows; i++)
        for (int j = 0; j < h->n_cols; j++) svg_cell(f, h, &L, i, j);
    svg_legend(f, &L);
    if (L.note) fprintf(f, "<text class=\"note\" x=\"%d\" y=\"%.1f\">%s</text>\n", HM_PAD, L.note_y, HM_JOINER_NOTE);
    fputs("</svg>\n", f);
    free_layout(&L);
    return ferror(f) ? -1 : 0;
}

/* The header row of an HTML table: vertical column labels. */
static void html_header(FILE *f, const heatmap *h)
{
    fputs("<tr><th></th>", f);
    for (int j = 0; j < h->n_cols; j++) {
        fputs("<th class=\"col\">", f);
        put_label(f, h->cols[j], HM_LABEL_MAX);
        fputs("</th>", f);
    }
    fputs("</tr>\n", f);
}

/* One HTML table row: label then coloured cells with tooltips. */
static void html_row(FILE *f, const heatmap *h, int i)
{
    fputs("<tr><th class=\"row\">", f);
    put_label(f, h->rows[i], HM_LABEL_MAX);
    fputs("</th>", f);
    for (int j = 0; j < h->n_cols; j++) {
        float w = h->w[(size_t)i * h->n_cols + j];
        fputs("<td style=\"background:", f);
        put_color(f, w);
        fprintf(f, "%s\" title=\"", w > 0.5f ? ";color:#fff" : "");
        put_label(f, h->rows[i], LABEL_FULL);
        fputs(" \xe2\x86\x90 ", f);
        put_label(f, h->cols[j], LABEL_FULL);
        fprintf(f, ": %.9g\">%.2f</td>", (double)w, (double)(isfinite(w) ? w : 0));
    }
    fputs("</tr>\n", f);
}

int hm_write_html(FILE *f, const heatmap *h)
{
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>", f);
    put_label(f, h->title ? h->title : "attention", LABEL_FULL);
    fputs("</title>\n<style>body{font-family:'DejaVu Sans Mono',monospace;font-size:12px}"
          "table{border-collapse:collapse}td{width:28px;height:28px;text-align:center;font-size:9px}"
          "th.col{writing-mode:vertical-rl;transform:rotate(180deg);text-align:left;font-weight:normal}"
          "th.row{text-align:right;font-weight:normal;padding-right:6px}</style></head><body>\n<p>", f);
    put_label(f, h->title ? h->title : "", LABEL_FULL);
    fputs("</p>\n<table>\n", f);
    html_header(f, h);
    for (int i = 0; i < h->n_rows; i++) html_row(f, h, i);
    fputs("</table>\n<p>scale: ", f);
    for (int k = 0; k < N_STOPS; k++) {
        fputs("<span style=\"display:inline-block;width:28px;background:", f);
        put_color(f, k / (float)(N_STOPS - 1));
        fprintf(f, "%s\">%.2f</span>", k >= 3 ? ";color:#fff" : "", k / (double)(N_STOPS - 1));
    }
    fputs("</p>\n", f);
    if (hm_has_joiner(h)) fprintf(f, "<p>%s</p>\n", HM_JOINER_NOTE);
    fputs("</body></html>\n", f);
    return ferror(f) ? -1 : 0;
}
