/*
 * cmd_translate.c - `s2s translate` and `s2s summarize`: decode every input
 * line, write one result per line (n-best: N lines), in order, streaming.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "cli_format.h"
#include "cli_handlers.h"

/* Summarization defaults when config.json has no "decoding" value. */
#define SUMMARIZE_BEAM 4
#define SUMMARIZE_LENGTH_PENALTY 1.0f

/* Readable texts of every hypothesis (with unk replacement when asked; a
 * copy model's extended ids spelled as their source pieces); NULL entries
 * when out of memory. Caller frees each and the array. */
static char **hyp_texts(const translate_ctx *c, const cli_job *job, const s2s_token_seq *src,
                        const s2s_result *res)
{
    char **t = calloc((size_t)res->n_hyps + 1, sizeof *t);
    for (int k = 0; t && k < res->n_hyps; k++) {
        const s2s_hypothesis *h = &res->hyps[k];
        t[k] = c->o->replace_unk ? cli_replace_unk_text(&c->unk, job->text, job->len, src, res, k)
                                 : s2s_detokenize_result(c->model, res, h->tokens, h->n_tokens);
    }
    return t;
}

/* Formats a decoded line into job->out. */
static void format_output(const translate_ctx *c, cli_job *job, const s2s_token_seq *src,
                          const s2s_result *res)
{
    const cli_opts *o = c->o;
    char **texts = hyp_texts(c, job, src, res);
    cli_line_out lo = {job->id, c->model, src, res, texts, o->alignment};
    int listed = o->n_best_set || o->dp.num_samples > 1; /* one 'ID ||| text ||| score' line per hypothesis */
    FILE *f = open_memstream(&job->out, &job->out_len);
    if (f && texts) {
        if (o->format == CLI_FMT_JSONL) cli_write_json_line(f, &lo);
        else if (listed) for (int k = 0; k < res->n_hyps; k++) cli_write_text_hyp(f, &lo, k, 1, 1);
        else if (res->n_hyps > 0) cli_write_text_hyp(f, &lo, 0, 0, o->scores);
        else fputc('\n', f);
    }
    if (f) fclose(f);
    for (int k = 0; texts && k < res->n_hyps; k++) free(texts[k]);
    free(texts);
}

/* 1 when the line holds nothing but white space (ASCII or Unicode Zs,
 * NEL, line and paragraph separators); invalid UTF-8 is not white space. */
static int blank_text(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || (c >= '\t' && c <= '\r')) { i++; continue; }
        if (c < 0x80) return 0;
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);
        if (k <= 0) return 0;
        utf8proc_category_t cat = utf8proc_category(cp);
        if (cp != 0x85 && cat != UTF8PROC_CATEGORY_ZS && cat != UTF8PROC_CATEGORY_ZL && cat != UTF8PROC_CATEGORY_ZP)
            return 0;
        i += (size_t)k;
    }
    return 1;
}

/* Formats the output of a blank line: one finished hypothesis with no
 * token, score 0 and no attention row, in whatever layout was asked. */
static void format_blank(const translate_ctx *c, cli_job *job, const s2s_token_seq *src)
{
    s2s_hypothesis empty = {0};
    empty.finished = 1;
    s2s_result res = {.n_source = src->n, .hyps = &empty, .n_hyps = 1};
    format_output(c, job, src, &res);
}

/* Tokenizes `len` bytes of `text` on `side` into `seq`; 0, or -1 after
 * failing the job with a message naming `what`. */
static int tokenize_part(const translate_ctx *c, cli_job *job, s2s_side side, const char *text, size_t len,
                         const char *what, s2s_token_seq *seq)
{
    s2s_tokenize_params tp = s2s_tokenize_default_params();
    tp.lenient = c->o->lenient;
    s2s_error err = {0};
    if (s2s_tokenize(c->model, side, text, len, &tp, seq, &err) == S2S_OK) return 0;
    char msg[S2S_ERROR_MAX + 16];
    snprintf(msg, sizeof msg, "%s%s", what, err.message);
    cli_job_fail(job, c->o->format, msg);
    return -1;
}

/* One line's source and target prefix. */
typedef struct line_input {
    s2s_token_seq src, prefix;
    int has_prefix;
} line_input;

/* Tokenizes job's line into `li` (with --prefix-column: source<TAB>prefix;
 * with --prefix: the same prefix for every line); 0, or -1 after failing the
 * job (bad line) or writing its output (a blank line, which is not decoded).
 * A source of white space only is tokenized as the empty text it stands for
 * (so a white-space character the vocabulary lacks is no error there); a
 * line is blank when its source gives no token besides the appended eos. */
static int prepare_input(const translate_ctx *c, cli_job *job, line_input *li)
{
    const cli_opts *o = c->o;
    size_t src_len = job->len;
    const char *prefix = o->prefix;
    size_t prefix_len = prefix ? strlen(prefix) : 0;
    memset(li, 0, sizeof *li);
    if (o->prefix_column) {
        const char *tab = memchr(job->text, '\t', job->len);
        if (!tab) {
            cli_job_fail(job, o->format, "no TAB between source and target prefix");
            return -1;
        }
        src_len = (size_t)(tab - job->text);
        prefix = tab + 1;
        prefix_len = job->len - src_len - 1;
    }
    if (blank_text(job->text, src_len)) src_len = 0;
    if (tokenize_part(c, job, S2S_SOURCE, job->text, src_len, "", &li->src) < 0) return -1;
    if (li->src.truncated) cli_job_warn_cut(job, c->model, "input");
    if (li->src.n <= (c->append_eos ? 1 : 0)) {
        format_blank(c, job, &li->src);
        s2s_token_seq_free(&li->src);
        return -1;
    }
    li->has_prefix = prefix != NULL;
    if (prefix && tokenize_part(c, job, S2S_TARGET, prefix, prefix_len, "target prefix: ", &li->prefix) < 0) {
        s2s_token_seq_free(&li->src);
        return -1;
    }
    return 0;
}

static void line_input_free(line_input *li)
{
    s2s_token_seq_free(&li->src);
    s2s_token_seq_free(&li->prefix);
}

/* The decoding parameters of every line. */
static s2s_decode_params decode_params(const cli_opts *o)
{
    s2s_decode_params dp = o->dp;
    dp.want_attention = o->format == CLI_FMT_JSONL || o->alignment || o->replace_unk;
    return dp;
}

/* The library input of a prepared line; its sampling stream is its line number. */
static s2s_input input_of(const line_input *li, const cli_job *job)
{
    s2s_input in = {&li->src, li->has_prefix ? &li->prefix : NULL, (uint64_t)job->id};
    return in;
}

/* Decodes one prepared line and formats it (or fails the job). */
static void decode_one(const translate_ctx *c, s2s_session *session, cli_job *job, const line_input *li)
{
    s2s_decode_params dp = decode_params(c->o);
    s2s_input in = input_of(li, job);
    s2s_result res = {0};
    s2s_error err = {0};
    if (s2s_translate_inputs(session, &in, 1, &dp, &res, &err) != S2S_OK)
        cli_job_fail(job, c->o->format, err.message);
    else
        format_output(c, job, &li->src, &res);
    s2s_result_free(&res);
}

void cli_translate_init(translate_ctx *c, const cli_opts *o, const s2s_model *m)
{
    s2s_model_info info;
    s2s_model_get_info(m, &info);
    c->o = o;
    c->model = m;
    c->append_eos = info.append_eos;
    cli_unk_init(&c->unk, m, o->lenient);
}

void cli_translate_block(void *vctx, s2s_session *session, cli_job *jobs, int n)
{
    const translate_ctx *c = vctx;
    line_input li[CLI_BATCH_LINES];
    s2s_input in[CLI_BATCH_LINES];
    s2s_result res[CLI_BATCH_LINES];
    int idx[CLI_BATCH_LINES], nb = 0;
    for (int i = 0; i < n; i++) {
        if (jobs[i].failed || prepare_input(c, &jobs[i], &li[nb]) < 0) continue;
        idx[nb++] = i;
    }
    for (int k = 0; k < nb; k++) in[k] = input_of(&li[k], &jobs[idx[k]]);
    s2s_decode_params dp = decode_params(c->o);
    s2s_error err = {0};
    int batched = nb > 1 && s2s_translate_inputs(session, in, nb, &dp, res, &err) == S2S_OK;
    for (int k = 0; k < nb; k++) {
        if (batched) {
            format_output(c, &jobs[idx[k]], &li[k].src, &res[k]);
            s2s_result_free(&res[k]);
        } else {
            decode_one(c, session, &jobs[idx[k]], &li[k]);
        }
        line_input_free(&li[k]);
    }
}

/* Sets what the command line left open from the model's decoding defaults
 * (config "decoding": beam_size, length_penalty, min_length), or the
 * summarization defaults, without ever contradicting what the command line
 * did set. */
static void summarize_defaults(cli_opts *o, const s2s_model *m)
{
    s2s_model_info info;
    s2s_model_get_info(m, &info);
    if (!o->beam_set) {
        int beam = info.beam_size > 0 ? info.beam_size : SUMMARIZE_BEAM;
        o->dp.beam_size = beam > o->dp.n_best ? beam : o->dp.n_best;
    }
    if (!o->lp_set)
        o->dp.length_penalty = info.length_penalty >= 0.0f ? info.length_penalty : SUMMARIZE_LENGTH_PENALTY;
    if (!o->min_len_set) {
        int min = info.min_length;
        if (o->max_len_set && min >= o->dp.max_length) min = o->dp.max_length - 1;
        o->dp.min_length = min;
    }
}

int cmd_translate(int argc, char **argv)
{
    const char *cmd = strcmp(argv[0], "summarize") == 0 ? "summarize" : "translate";
    cli_opts o;
    int rc = cli_parse(cmd, argc, argv, &o);
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    s2s_model *m = cli_load_model(&o);
    if (!m) return CLI_EXIT_USAGE;
    if (strcmp(cmd, "summarize") == 0) summarize_defaults(&o, m);
    translate_ctx c;
    cli_translate_init(&c, &o, m);
    cli_handler h = {NULL, cli_translate_block, &c};
    rc = cli_run_stream(&o, m, &h);
    s2s_model_free(m);
    return rc;
}
