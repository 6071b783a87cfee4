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
#define HM_TITLE_FONT 13      /* caption font size */
#define HM_TITLE_CHAR_W 7.9   /* advance of one caption column at HM_TITLE_FONT */
#define HM_TITLE_LINE_H 17    /* caption line height */
#define HM_TITLE_MIN_COLS 60  /* the caption wraps at no fewer columns (the canvas widens) */
#define HM_TITLE_MAX_LINES 30 /* caption lines shown; the rest is cut with an ellipsis */
#define HM_NOTE_H 18          /* the note under the grid */

/* Terminal layout. */
#define HM_TERM_LABEL_MAX 16  /* row label display columns */
#define HM_TERM_CELL_MAX 9    /* column width (label + 1) */
#define HM_TERM_CELL_MIN 3
#define HM_TERM_WIDTH 100     /* assumed width when it cannot be asked */
#define HM_TERM_TITLE_LINES 12 /* caption lines shown, wrapped to the terminal */
#define HM_TERM_VLABEL_MAX 12 /* rows of vertical column labels */

/* How the joiner mark of "text" and BPE tokens (U+FFED, which many fonts
 * lack) is shown in labels, and the note that says so. */
#define HM_JOINER_SHOWN "\u00b7"
#define HM_JOINER_NOTE "\u00b7 marks where a token joins its neighbour (no space between them)"

/* Number of display columns of the UTF-8 string `s` after cleaning (see
 * hm_clean_label). */
int hm_display_width(const char *s);

/* A copy of `s` safe to print: control characters and invalid UTF-8
 * replaced by U+FFFD, the joiner mark U+FFED shown as HM_JOINER_SHOWN, cut
 * to `max_cols` display columns with an ellipsis. malloc'd; NULL when out
 * of memory. */
char *hm_clean_label(const char *s, int max_cols);

/* 1 when some row or column label holds the joiner mark U+FFED. */
int hm_has_joiner(const struct heatmap *h);

/* Splits the cleaned `text` into lines of at most `cols` display columns,
 * at spaces where it can (a longer word is cut), for at most `max_lines`
 * lines (the last one ending in an ellipsis when text is left). Returns a
 * malloc'd array of malloc'd lines, NULL-terminated, *n_lines set; free
 * with hm_free_lines. NULL when out of memory. */
char **hm_wrap(const char *text, int cols, int max_lines, int *n_lines);
void hm_free_lines(char **lines);

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
