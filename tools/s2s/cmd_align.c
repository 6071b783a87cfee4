/*
 * cmd_align.c - `s2s align`: translate one text and show its attention
 * matrix as a heatmap in the terminal, and optionally as SVG and HTML.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "heatmap.h"

/* Everything one alignment needs, owned together. */
typedef struct align_run {
    s2s_token_seq src;
    s2s_result res;
    const char **rows;
    char *output_text;
    char *title;
} align_run;

/* 1 when the terminal heatmap should use colour. */
static int want_color(int mode)
{
    if (mode != CLI_COLOR_AUTO) return mode == CLI_COLOR_ALWAYS;
    const char *term = getenv("TERM"), *no = getenv("NO_COLOR");
    return isatty(STDOUT_FILENO) && term && strcmp(term, "dumb") != 0 && !(no && no[0]);
}

/* Width of the terminal on stdout, else $COLUMNS, else 0 (a default). */
static int terminal_width(void)
{
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    const char *c = getenv("COLUMNS");
    return c ? atoi(c) : 0;
}

/* Reads the text to align: the arguments, else the first input line.
 * Returns a malloc'd string or NULL after printing why. */
static char *read_text(const cli_opts *o)
{
    line_reader r;
    if (cli_open_input(o, &r) < 0) return NULL;
    char *line = NULL, *text = NULL;
    size_t len = 0;
    int k = lr_next(&r, 1, &line, &len);
    if (k == LR_LINE) text = strndup(line, len);
    else if (k == LR_EOF) cli_usage_error(o->cmd, "no text to align: give it as arguments or on standard input");
    else fprintf(stderr, "s2s align: cannot read the input\n");
    lr_close(&r);
    return text;
}

/* Tokenizes and decodes `text`; 0, or -1 after printing the message. */
static int decode(const cli_opts *o, const s2s_model *m, const char *text, align_run *a)
{
    s2s_tokenize_params tp = s2s_tokenize_default_params();
    tp.lenient = o->lenient;
    s2s_error err = {0};
    if (s2s_tokenize(m, S2S_SOURCE, text, strlen(text), &tp, &a->src, &err) != S2S_OK) goto fail;
    if (a->src.truncated) {
        s2s_model_info in;
        s2s_model_get_info(m, &in);
        fprintf(stderr, "s2s align: line 1: warning: input longer than %d tokens: the rest is ignored\n",
                in.max_input_tokens);
    }
    if (a->src.n == 0) {
        fprintf(stderr, "s2s align: line 1: empty input: no source tokens\n");
        return -1;
    }
    s2s_session *s = s2s_session_new(m, &err);
    if (!s) goto fail;
    s2s_decode_params dp = o->dp;
    dp.want_attention = 1;
    s2s_token_seq prefix = {0};
    s2s_status st = S2S_OK;
    if (o->prefix) st = s2s_tokenize(m, S2S_TARGET, o->prefix, strlen(o->prefix), &tp, &prefix, &err);
    s2s_input in = {&a->src, o->prefix ? &prefix : NULL, 0};
    if (st == S2S_OK) st = s2s_translate_inputs(s, &in, 1, &dp, &a->res, &err);
    s2s_token_seq_free(&prefix);
    s2s_session_free(s);
    if (st == S2S_OK && a->res.n_hyps > 0 && a->res.hyps[0].attention) return 0;
    if (st == S2S_OK) snprintf(err.message, sizeof err.message, "no hypothesis with attention");
fail:
    fprintf(stderr, "s2s align: line 1: %s\n", err.message);
    return -1;
}

/* Fills the heatmap from the best hypothesis: rows are its tokens (and the
 * eos step), columns the source pieces. 0, or -1 when out of memory. */
static int build_heatmap(const s2s_model *m, const char *text, align_run *a, heatmap *h)
{
    const s2s_hypothesis *best = &a->res.hyps[0];
    s2s_model_info in;
    s2s_model_get_info(m, &in);
    a->rows = calloc((size_t)best->n_steps + 1, sizeof *a->rows);
    if (!a->rows) return -1;
    for (int i = 0; i < best->n_steps; i++)
        a->rows[i] = i < best->n_tokens ? s2s_result_token(m, &a->res, best->tokens[i]) : in.eos;
    a->output_text = s2s_detokenize_result(m, &a->res, best->tokens, best->n_tokens);
    if (!a->output_text || asprintf(&a->title, "%s \xe2\x86\x92 %s  (score %.4g)", text, a->output_text,
                                    (double)best->score) < 0)
        return -1;
    h->cols = (const char *const *)a->src.pieces;
    h->n_cols = a->res.n_source;
    h->rows = a->rows;
    h->n_rows = best->n_steps;
    h->w = best->attention;
    h->title = a->title;
    return 0;
}

/* Writes the heatmap to `path` with `writer`; 0, or -1 after a message. */
static int write_file(const char *path, const heatmap *h, int (*writer)(FILE *, const heatmap *))
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "s2s align: cannot write '%s': %s\n", path, strerror(errno));
        return -1;
    }
    int rc = writer(f, h);
    if (fclose(f) != 0) rc = -1;
    if (rc < 0) fprintf(stderr, "s2s align: error writing '%s'\n", path);
    return rc;
}

/* Shows the heatmap in the terminal and writes the asked files. */
static int show(const cli_opts *o, const heatmap *h)
{
    hm_write_terminal(stdout, h, want_color(o->color), terminal_width());
    int rc = CLI_EXIT_OK;
    if (o->svg && write_file(o->svg, h, hm_write_svg) < 0) rc = CLI_EXIT_USAGE;
    if (o->html && write_file(o->html, h, hm_write_html) < 0) rc = CLI_EXIT_USAGE;
    if (cli_close_output(o, stdout) < 0) rc = CLI_EXIT_USAGE;
    return rc;
}

int cmd_align(int argc, char **argv)
{
    cli_opts o;
    int rc = cli_parse("align", argc, argv, &o);
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    s2s_model *m = cli_load_model(&o);
    if (!m) return CLI_EXIT_USAGE;
    cli_model_defaults(&o, m, 0); /* the search `s2s translate` would run */
    char *text = read_text(&o);
    align_run a = {0};
    heatmap h = {0};
    rc = CLI_EXIT_USAGE;
    if (text) {
        rc = CLI_EXIT_LINES;
        if (decode(&o, m, text, &a) == 0) {
            if (build_heatmap(m, text, &a, &h) == 0) rc = show(&o, &h);
            else fprintf(stderr, "s2s align: out of memory\n");
        }
    }
    free(a.rows);
    free(a.output_text);
    free(a.title);
    s2s_result_free(&a.res);
    s2s_token_seq_free(&a.src);
    free(text);
    s2s_model_free(m);
    return rc;
}
