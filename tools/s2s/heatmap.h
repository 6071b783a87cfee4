/*
 * heatmap.h - an attention matrix with its labels, and the three ways
 * `s2s align` shows it: terminal, SVG, HTML.
 */
#ifndef S2S_HEATMAP_H
#define S2S_HEATMAP_H

#include <stdio.h>

typedef struct heatmap {
    const char *const *cols;  /* n_cols source token labels (UTF-8) */
    int n_cols;
    const char *const *rows;  /* n_rows output token labels */
    int n_rows;
    const float *w;           /* n_rows x n_cols weights in [0, 1], row-major */
    const char *title;        /* a caption, e.g. the input and the output text */
} heatmap;

/* SVG layout, in pixels. */
#define HM_CELL 28            /* cell side */
#define HM_PAD 10             /* outer margin */
#define HM_GAP 6              /* between labels and cells */
#define HM_FONT 12            /* label font size */
#define HM_CHAR_W 7.5         /* advance of one label column at HM_FONT (monospace) */
#define HM_TITLE_H 24         /* caption line */
#define HM_LEGEND_W 14        /* colour bar width */
#define HM_LEGEND_MIN_H 100   /* colour bar minimum height */
#define HM_LEGEND_TEXT_W 36   /* room for the colour bar's numbers */
#define HM_LABEL_MAX 24       /* label display columns before "..." */

/* Terminal layout. */
#define HM_TERM_LABEL_MAX 16  /* row label display columns */
#define HM_TERM_CELL_MAX 9    /* column width (label + 1) */
#define HM_TERM_CELL_MIN 3
#define HM_TERM_WIDTH 100     /* assumed width when it cannot be asked */
#define HM_TERM_TITLE_MAX 400 /* caption display columns */

/* Number of display columns of the UTF-8 string `s` after cleaning (see
 * hm_clean_label). */
int hm_display_width(const char *s);

/* A copy of `s` safe to print: control characters and invalid UTF-8
 * replaced by U+FFFD, cut to `max_cols` display columns with an ellipsis.
 * malloc'd; NULL when out of memory. */
char *hm_clean_label(const char *s, int max_cols);

/* Writes the heatmap for a terminal `cols` wide, with ANSI 256-colour
 * escapes when `color`. Shades and colours run from 0 to the largest weight
 * of the matrix, which the legend line states. */
void hm_write_terminal(FILE *f, const heatmap *h, int color, int cols);

/* Writes a self-contained SVG document; returns 0, or -1 on a write error. */
int hm_write_svg(FILE *f, const heatmap *h);

/* Writes a self-contained HTML page; returns 0, or -1 on a write error. */
int hm_write_html(FILE *f, const heatmap *h);

/* SVG canvas size for `h` (what the width/height attributes say). */
void hm_svg_size(const heatmap *h, int *width, int *height);

#endif
