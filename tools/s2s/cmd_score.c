/*
 * cmd_score.c - `s2s score`: forced decoding of "source<TAB>target" lines.
 * Text output per line: "score ||| lp_1 ... lp_eos[ ||| alignment]";
 * jsonl: the object of model-format.md section 8 with one hypothesis.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli_format.h"
#include "cli_handlers.h"

/* "score ||| lp ... [||| alignment]" for the one hypothesis of `res`. */
static void write_score_text(FILE *f, const cli_opts *o, const s2s_result *res)
{
    const s2s_hypothesis *h = &res->hyps[0];
    cli_text_num(f, h->score);
    fputs(" |||", f);
    for (int i = 0; h->token_logprobs && i < h->n_steps; i++) {
        fputc(' ', f);
        cli_text_num(f, h->token_logprobs[i]);
    }
    if (o->alignment == CLI_ALIGN_HARD) {
        fputs(" ||| ", f);
        cli_write_hard_alignment(f, h, res->n_source);
    } else if (o->alignment == CLI_ALIGN_SOFT) {
        fputs(" ||| ", f);
        cli_write_soft_alignment(f, h, res->n_source);
    }
    fputc('\n', f);
}

/* Writes the scored line into job->out. */
static void format_score(const score_ctx *c, cli_job *job, const s2s_token_seq *src,
                         const s2s_result *res)
{
    char *text = NULL;
    if (c->o->format == CLI_FMT_JSONL) {
        text = s2s_detokenize_result(c->model, res, res->hyps[0].tokens, res->hyps[0].n_tokens);
        if (!text) {
            cli_job_fail(job, c->o->format, "out of memory while detokenizing the target of this line");
            return;
        }
    }
    FILE *f = open_memstream(&job->out, &job->out_len);
    if (f && c->o->format == CLI_FMT_JSONL) {
        char *texts[1] = {text};
        cli_line_out lo = {.id = job->id, .model = c->model, .source = src, .result = res, .texts = texts,
                           .alignment = c->o->alignment};
        cli_write_json_line(f, &lo);
    } else if (f) {
        write_score_text(f, c->o, res);
    }
    cli_job_close_output(job, f, c->o->format);
    free(text);
}

/* Tokenizes one side of the pair; 0, or -1 after failing the job with a
 * message that says which side. */
static int tokenize_side(const score_ctx *c, cli_job *job, s2s_side side, const char *s, size_t n,
                         s2s_token_seq *seq)
{
    s2s_tokenize_params tp = s2s_tokenize_default_params();
    tp.lenient = c->o->lenient;
    s2s_error err = {0};
    if (s2s_tokenize(c->model, side, s, n, &tp, seq, &err) == S2S_OK) return 0;
    char msg[S2S_ERROR_MAX + 16];
    snprintf(msg, sizeof msg, "%s: %s", side == S2S_SOURCE ? "source" : "target", err.message);
    cli_job_fail(job, c->o->format, msg);
    return -1;
}

/* Scores tokenized source and target; fills job->out or fails the job. */
static void score_pair(const score_ctx *c, s2s_session *session, cli_job *job,
                       const s2s_token_seq *src, const s2s_token_seq *tgt)
{
    if (src->n == 0) {
        cli_job_fail(job, c->o->format, "empty source: no tokens");
        return;
    }
    if (src->truncated) cli_job_warn_cut(job, c->model, "source");
    if (tgt->truncated) cli_job_warn_cut(job, c->model, "target");
    s2s_result res = {0};
    s2s_error err = {0};
    if (s2s_score(session, src, tgt, 1, &res, &err) != S2S_OK)
        cli_job_fail(job, c->o->format, err.message);
    else if (res.n_hyps < 1)
        cli_job_fail(job, c->o->format, "no score returned");
    else {
        format_score(c, job, src, &res);
        job->tokens_in = src->n;
        job->tokens_out = res.hyps[0].n_steps; /* the target and its eos */
    }
    s2s_result_free(&res);
}

void cli_score_job(void *vctx, s2s_session *session, cli_job *job)
{
    const score_ctx *c = vctx;
    char *tab = memchr(job->text, '\t', job->len);
    if (!tab) {
        cli_job_fail(job, c->o->format, "no TAB between source and target");
        return;
    }
    s2s_token_seq src = {0}, tgt = {0};
    size_t ns = (size_t)(tab - job->text);
    if (tokenize_side(c, job, S2S_SOURCE, job->text, ns, &src) == 0 &&
        tokenize_side(c, job, S2S_TARGET, tab + 1, job->len - ns - 1, &tgt) == 0)
        score_pair(c, session, job, &src, &tgt);
    s2s_token_seq_free(&src);
    s2s_token_seq_free(&tgt);
}

int cmd_score(int argc, char **argv)
{
    cli_opts o;
    int rc = cli_parse("score", argc, argv, &o);
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    if (o.n_args > 0) return cli_usage_error("score", "unexpected argument '%s'", o.args[0]);
    s2s_model *m = cli_load_model(&o);
    if (!m) return CLI_EXIT_USAGE;
    score_ctx c = {&o, m};
    cli_handler h = {cli_score_job, NULL, &c, "source tokens", "target tokens"};
    rc = cli_run_stream(&o, m, &h);
    s2s_model_free(m);
    return rc;
}
