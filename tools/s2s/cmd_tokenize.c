/*
 * cmd_tokenize.c - `s2s tokenize`: how the model splits each input line,
 * printed space-separated (vocabulary tokens, raw pieces, or ids).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct tokenize_ctx {
    const cli_opts *o;
    const s2s_model *model;
} tokenize_ctx;

/* Writes a token with each ASCII space shown as U+2423 (so that the
 * space-separated output stays readable for a " " token). */
static void put_visible(FILE *f, const char *t)
{
    for (; *t; t++) {
        if (*t == ' ') fputs("\u2423", f);
        else fputc(*t, f);
    }
}

/* Writes token i of `seq` the way --show asks. */
static void write_token(FILE *f, const tokenize_ctx *c, const s2s_token_seq *seq, int i)
{
    if (c->o->show == CLI_SHOW_IDS) fprintf(f, "%d", seq->ids[i]);
    else if (c->o->show == CLI_SHOW_PIECES) put_visible(f, seq->pieces[i]);
    else {
        const char *t = s2s_model_token(c->model, (s2s_side)c->o->side, seq->ids[i]);
        put_visible(f, t ? t : "?");
    }
}

/* The cli_job_fn of tokenize. */
static void tokenize_job(void *vctx, s2s_session *session, cli_job *job)
{
    const tokenize_ctx *c = vctx;
    s2s_tokenize_params tp = s2s_tokenize_default_params();
    tp.lenient = c->o->lenient;
    s2s_token_seq seq;
    s2s_error err = {0};
    if (s2s_tokenize(c->model, (s2s_side)c->o->side, job->text, job->len, &tp, &seq, &err) != S2S_OK) {
        cli_job_fail(job, CLI_FMT_TEXT, err.message);
        return;
    }
    if (seq.truncated) cli_job_warn_cut(job, c->model, "input");
    job->tokens_out = seq.n;
    FILE *f = open_memstream(&job->out, &job->out_len);
    if (f) {
        for (int i = 0; i < seq.n; i++) {
            if (i) fputc(' ', f);
            write_token(f, c, &seq, i);
        }
        fputc('\n', f);
    }
    cli_job_close_output(job, f, CLI_FMT_TEXT);
    s2s_token_seq_free(&seq);
}

int cmd_tokenize(int argc, char **argv)
{
    cli_opts o;
    int rc = cli_parse("tokenize", argc, argv, &o);
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    s2s_model *m = cli_load_model(&o);
    if (!m) return CLI_EXIT_USAGE;
    tokenize_ctx c = {&o, m};
    cli_handler h = {tokenize_job, NULL, &c, NULL, "tokens"};
    rc = cli_run_stream(&o, m, &h);
    s2s_model_free(m);
    return rc;
}
