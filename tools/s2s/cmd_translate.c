/*
 * cmd_translate.c - `s2s translate` and `s2s summarize`: decode every input
 * line, write one result per line (n-best: N lines), in order, streaming.
 * A line may have a target prefix (--prefix, --prefix-column), which goes
 * to its first sentence. A line may be split into sentences (--split-sentences): they are decoded
 * together with the other sentences of the block of lines, and the line's
 * result joins theirs (cli_join.c). A blank line is not decoded.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "cli_format.h"
#include "cli_join.h"
#include "cli_handlers.h"
#include "sentences.h"
#include "textcase.h"

/* Sentences decoded in one s2s_translate_inputs call. */
#define BATCH_UNITS 64

/* One sentence of a line (the whole line when it is not split). */
typedef struct unit {
    const char *text;   /* the sentence as it stands in the line */
    size_t len;
    char *folded;       /* the text given to the tokenizer when not `text` (owned) */
    int casing;         /* enum cli_case applied to it */
    s2s_token_seq src;
    s2s_token_seq prefix; /* target prefix, when has_prefix */
    int has_prefix;
    uint64_t stream;    /* sampling stream: the line number, distinct per sentence */
    s2s_result res;     /* decoded; for a blank unit one empty hypothesis */
    s2s_hypothesis blank_hyp;
    int blank;          /* no token to decode */
    char **texts;       /* res.n_hyps readable texts (owned) */
} unit;

/* A line being translated: its sentences, and its target prefix. */
typedef struct line_units {
    unit *u;
    int n;
    const char *prefix; /* NULL when none */
    size_t prefix_len;
} line_units;

/* ---- preparing a line ---- */

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

/* Cuts the job's line into units: the sentences of its source with
 * --split-sentences, else the whole source; a blank source is one unit of
 * no text. The source is the line, or with --prefix-column the part
 * before the first TAB (the rest is the prefix). 0, or -1 after failing
 * the job. */
static int split_line(const translate_ctx *c, cli_job *job, line_units *lu)
{
    const cli_opts *o = c->o;
    size_t len = job->len;
    lu->prefix = o->prefix;
    lu->prefix_len = o->prefix ? strlen(o->prefix) : 0;
    if (o->prefix_column) {
        const char *tab = memchr(job->text, '\t', job->len);
        if (!tab) {
            cli_job_fail(job, o->format, "no TAB between source and target prefix");
            return -1;
        }
        len = (size_t)(tab - job->text);
        lu->prefix = tab + 1;
        lu->prefix_len = job->len - len - 1;
    }
    sent_span sp[SENT_MAX];
    int n = 1;
    if (blank_text(job->text, len)) sp[0] = (sent_span){0, 0};
    else if (o->split_sentences && (n = sent_split(job->text, len, sp, SENT_MAX)) < 1) n = 1;
    else if (!o->split_sentences) sp[0] = (sent_span){0, len};
    lu->u = calloc((size_t)n, sizeof *lu->u);
    if (!lu->u) {
        cli_job_fail(job, o->format, "out of memory");
        return -1;
    }
    lu->n = n;
    for (int i = 0; i < n; i++) {
        lu->u[i].text = job->text + sp[i].start;
        lu->u[i].len = sp[i].len;
        /* sentence 0 samples from the line's own stream, so that an unsplit
           line is sampled as it would be without splitting */
        lu->u[i].stream = i == 0 ? (uint64_t)job->id : ((uint64_t)i << 40) | (uint64_t)job->id;
    }
    return 0;
}

/* Tokenizes `len` bytes of `text` on `side` into `seq`; 0, or -1 after
 * failing the job with a message starting with `what`. */
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

/* The cli_known_fn of case folding: a whole token of the source vocabulary. */
static int source_knows(void *model, const char *word, size_t len)
{
    return s2s_model_token_id(model, S2S_SOURCE, word, len) >= 0;
}

/* With case handling on, an ALL-CAPS or Title Case unit gets the text it
 * is decoded from (textcase.h). 0, or -1 after failing the job. */
static int fold_case(const translate_ctx *c, cli_job *job, unit *u)
{
    if (!c->fix_case ||
        (u->casing = cli_case_detect(u->text, u->len, source_knows, (void *)c->model)) == CLI_CASE_NONE)
        return 0;
    if ((u->folded = cli_case_fold(u->text, u->len, source_knows, (void *)c->model))) return 0;
    cli_job_fail(job, c->o->format, "out of memory");
    return -1;
}

/* Tokenizes one unit; 0, or -1 after failing the job. A unit that gives
 * no token besides the appended eos is blank: one empty, finished
 * hypothesis with score 0 and no step, not decoded. */
static int tokenize_unit(const translate_ctx *c, cli_job *job, unit *u)
{
    if (fold_case(c, job, u) < 0) return -1;
    const char *t = u->folded ? u->folded : u->text;
    size_t n = u->folded ? strlen(u->folded) : u->len;
    if (tokenize_part(c, job, S2S_SOURCE, t, n, "", &u->src) < 0) return -1;
    if (u->src.truncated) cli_job_warn_cut(job, c->model, "input");
    if (u->src.n > (c->append_eos ? 1 : 0)) return 0;
    u->blank = 1;
    u->blank_hyp.finished = 1;
    u->res = (s2s_result){.n_source = u->src.n, .hyps = &u->blank_hyp, .n_hyps = 1};
    return 0;
}

/* Splits and tokenizes the job's line; 0, or -1 after failing the job. */
static int prepare_line(const translate_ctx *c, cli_job *job, line_units *lu)
{
    if (split_line(c, job, lu) < 0) return -1;
    for (int i = 0; i < lu->n; i++)
        if (tokenize_unit(c, job, &lu->u[i]) < 0) return -1;
    unit *first = &lu->u[0];
    if (!lu->prefix || first->blank) return 0;
    first->has_prefix = 1;
    return tokenize_part(c, job, S2S_TARGET, lu->prefix, lu->prefix_len, "target prefix: ", &first->prefix);
}

/* Frees everything a line's units own. */
static void free_line(line_units *lu)
{
    for (int i = 0; i < lu->n; i++) {
        unit *u = &lu->u[i];
        for (int k = 0; u->texts && k < u->res.n_hyps; k++) free(u->texts[k]);
        free(u->texts);
        if (!u->blank) s2s_result_free(&u->res);
        s2s_token_seq_free(&u->src);
        s2s_token_seq_free(&u->prefix);
        free(u->folded);
    }
    free(lu->u);
    memset(lu, 0, sizeof *lu);
}

/* ---- decoding ---- */

/* The decoding parameters of every line. */
static s2s_decode_params decode_params(const cli_opts *o)
{
    s2s_decode_params dp = o->dp;
    dp.want_attention = o->format == CLI_FMT_JSONL || o->alignment || o->replace_unk;
    dp.want_scores = o->format != CLI_FMT_TEXT || o->scores; /* text without ||| score: not printed */
    return dp;
}

/* Where a unit to decode comes from. */
typedef struct unit_ref {
    unit *u;
    cli_job *job;
} unit_ref;

/* The library input of a unit. */
static s2s_input input_of(const unit *u)
{
    s2s_input in = {&u->src, u->has_prefix ? &u->prefix : NULL, u->stream};
    return in;
}

/* Decodes refs[0..n) as one batch (identical to one by one, which is the
 * fallback when the batch call fails: then each failing unit fails its
 * line). */
static void decode_units(const translate_ctx *c, s2s_session *session, unit_ref *refs, int n)
{
    s2s_input in[BATCH_UNITS];
    s2s_result res[BATCH_UNITS];
    s2s_decode_params dp = decode_params(c->o);
    s2s_error err = {0};
    for (int k = 0; k < n; k++) in[k] = input_of(refs[k].u);
    if (n > 1 && s2s_translate_inputs(session, in, n, &dp, res, &err) == S2S_OK) {
        for (int k = 0; k < n; k++) refs[k].u->res = res[k];
        return;
    }
    for (int k = 0; k < n; k++) {
        if (refs[k].job->failed) continue;
        if (s2s_translate_inputs(session, &in[k], 1, &dp, &refs[k].u->res, &err) != S2S_OK)
            cli_job_fail(refs[k].job, c->o->format, err.message);
    }
}

/* ---- output ---- */

/* Readable texts of every hypothesis of unit `u` (with unk replacement
 * when asked). 0, or -1 when out of memory. */
static int unit_texts(const translate_ctx *c, unit *u)
{
    u->texts = calloc((size_t)u->res.n_hyps + 1, sizeof *u->texts);
    if (!u->texts) return -1;
    const char *t = u->folded ? u->folded : u->text;
    size_t n = u->folded ? strlen(u->folded) : u->len;
    for (int k = 0; k < u->res.n_hyps; k++) {
        const s2s_hypothesis *h = &u->res.hyps[k];
        u->texts[k] = c->o->replace_unk ? cli_replace_unk_text(&c->unk, t, n, &u->src, &u->res, k)
                                        : s2s_detokenize_result(c->model, &u->res, h->tokens, h->n_tokens);
        if (u->texts[k] && u->casing != CLI_CASE_NONE) {
            char *restored = cli_case_restore(u->texts[k], u->casing);
            free(u->texts[k]);
            u->texts[k] = restored;
        }
        if (!u->texts[k]) return -1;
    }
    return 0;
}

/* Writes the formatted line into job->out. */
static void write_line(const translate_ctx *c, cli_job *job, const cli_line_out *lo)
{
    const cli_opts *o = c->o;
    const s2s_result *res = lo->result;
    FILE *f = open_memstream(&job->out, &job->out_len);
    if (f) {
        int listed = o->n_best_set || o->dp.num_samples > 1; /* one 'ID ||| text ||| ...' line per hypothesis */
        if (o->format == CLI_FMT_JSONL) cli_write_json_line(f, lo);
        else if (listed) for (int k = 0; k < res->n_hyps; k++) cli_write_text_hyp(f, lo, k, 1, 1);
        else if (res->n_hyps > 0) cli_write_text_hyp(f, lo, 0, 0, o->scores);
        else fputc('\n', f);
    }
    cli_job_close_output(job, f, o->format); /* fails the job when a write failed */
}

/* The text of sentence choices combo[0..n): the sentences' texts joined
 * by single spaces (empty ones left out). malloc'd, NULL when out of memory. */
static char *joined_text(const line_units *lu, const int *combo)
{
    size_t len = 1;
    for (int i = 0; i < lu->n; i++) len += strlen(lu->u[i].texts[combo[i]]) + 1;
    char *s = malloc(len), *p = s;
    for (int i = 0; s && i < lu->n; i++) {
        const char *t = lu->u[i].texts[combo[i]];
        if (!*t) continue;
        if (p > s) *p++ = ' ';
        size_t k = strlen(t);
        memcpy(p, t, k);
        p += k;
    }
    if (s) *p = '\0';
    return s;
}

/* Everything the joined output of a split line owns. */
typedef struct joined {
    s2s_token_seq src;
    s2s_result res;
    char **texts;
    int *combo;
    cli_sentence_out *sent;
    int *col0, *ext0;
    const s2s_hypothesis **pick;
} joined;

static void joined_free(joined *j)
{
    for (int k = 0; j->res.hyps && k < j->res.n_hyps; k++) cli_join_free(&j->res.hyps[k]);
    for (int k = 0; j->texts && k < j->res.n_hyps; k++) free(j->texts[k]);
    free(j->res.hyps);
    free(j->texts);
    free(j->combo);
    free(j->sent);
    free(j->col0);
    free(j->ext0);
    free(j->res.extended);
    free(j->pick);
    free(j->src.ids);
    free(j->src.pieces);
}

/* The combinations a split line shows: the best by summed ranking score
 * (cli_join_best), or with sampling sample k of every sentence (a blank
 * sentence's one empty hypothesis in each). Their count, or -1 when out
 * of memory; j->combo is allocated here. */
static int pick_combos(const translate_ctx *c, const line_units *lu, const s2s_result *const *res, joined *j)
{
    const s2s_decode_params *dp = &c->o->dp;
    int n = lu->n, nb = dp->sampling ? 1 : (dp->n_best > 0 ? dp->n_best : 1);
    if (dp->sampling)
        for (int i = 0; i < n; i++)
            if (res[i]->n_hyps > nb) nb = res[i]->n_hyps;
    if (!(j->combo = malloc((size_t)nb * n * sizeof *j->combo))) return -1;
    if (!dp->sampling) return cli_join_best(res, n, nb, j->combo);
    for (int k = 0; k < nb; k++)
        for (int i = 0; i < n; i++) j->combo[(size_t)k * n + i] = k < res[i]->n_hyps ? k : res[i]->n_hyps - 1;
    return nb;
}

/* Builds the joined result of a line of several sentences into `j` and
 * the sentence outputs; 0, or -1 when out of memory. */
static int join_line(const translate_ctx *c, const line_units *lu, joined *j)
{
    int n = lu->n;
    const s2s_result *res[SENT_MAX];
    const s2s_token_seq *src[SENT_MAX];
    j->sent = calloc((size_t)n, sizeof *j->sent);
    j->col0 = malloc((size_t)n * sizeof *j->col0);
    j->ext0 = malloc((size_t)n * sizeof *j->ext0);
    j->pick = malloc((size_t)n * sizeof *j->pick);
    if (!j->sent || !j->col0 || !j->ext0 || !j->pick) return -1;
    for (int i = 0, col = 0; i < n; i++) {
        const unit *u = &lu->u[i];
        res[i] = &u->res;
        src[i] = &u->src;
        j->col0[i] = col;
        col += u->res.n_source;
        j->sent[i] = (cli_sentence_out){u->text, u->len, &u->src, &u->res, u->texts, cli_case_name(u->casing)};
    }
    if (cli_join_source(src, n, &j->src) < 0) return -1;
    j->res.extended = cli_join_extended(res, n, j->ext0, &j->res.n_extended);
    if (j->res.n_extended < 0) return -1;
    int nc = pick_combos(c, lu, res, j);
    if (nc < 0) return -1;
    j->res.n_source = j->src.n;
    j->res.hyps = calloc((size_t)nc + 1, sizeof *j->res.hyps);
    j->texts = calloc((size_t)nc + 1, sizeof *j->texts);
    if (!j->res.hyps || !j->texts) return -1;
    s2s_decode_params dp = decode_params(c->o);
    for (int k = 0; k < nc; k++) {
        const int *cb = j->combo + (size_t)k * n;
        for (int i = 0; i < n; i++) j->pick[i] = &lu->u[i].res.hyps[cb[i]];
        j->res.n_hyps = k + 1;
        if (cli_join_hypothesis(j->pick, j->col0, j->ext0, n, j->src.n, c->n_target, dp.want_attention,
                                &j->res.hyps[k]) < 0 ||
            !(j->texts[k] = joined_text(lu, cb)))
            return -1;
    }
    return 0;
}

/* Formats a decoded line into job->out (or fails the job). */
static void format_line(const translate_ctx *c, cli_job *job, line_units *lu)
{
    for (int i = 0; i < lu->n; i++)
        if (unit_texts(c, &lu->u[i]) < 0) {
            cli_job_fail(job, c->o->format, "out of memory");
            return;
        }
    if (lu->n == 1) {
        const unit *u = &lu->u[0];
        cli_line_out lo = {.id = job->id, .model = c->model, .source = &u->src, .result = &u->res,
                           .texts = u->texts, .alignment = c->o->alignment, .casing = cli_case_name(u->casing)};
        write_line(c, job, &lo);
        return;
    }
    joined j = {0};
    if (join_line(c, lu, &j) == 0) {
        cli_line_out lo = {.id = job->id, .model = c->model, .source = &j.src, .result = &j.res,
                           .texts = j.texts, .alignment = c->o->alignment, .sentences = j.sent,
                           .n_sentences = lu->n, .combo = j.combo};
        write_line(c, job, &lo);
    } else {
        cli_job_fail(job, c->o->format, "out of memory");
    }
    joined_free(&j);
}

void cli_translate_init(translate_ctx *c, const cli_opts *o, const s2s_model *m)
{
    s2s_model_info info;
    s2s_model_get_info(m, &info);
    /* a tokenizer that lowercases sees no case to fix */
    int keeps_case = strcmp(info.normalizer, "tutorial") != 0 && !info.lowercase;
    c->o = o;
    c->model = m;
    c->append_eos = info.append_eos;
    c->n_target = info.target_vocab_size;
    c->fix_case = o->case_mode == CLI_CASE_AUTO && keeps_case;
    cli_unk_init(&c->unk, m, o->lenient);
}

/* The cli_block_fn of translate/summarize: prepares jobs[0..n) (n <=
 * CLI_BATCH_LINES), decodes all their sentences in batches of up to
 * BATCH_UNITS, formats each line. */
void cli_translate_block(void *vctx, s2s_session *session, cli_job *jobs, int n)
{
    const translate_ctx *c = vctx;
    line_units lines[CLI_BATCH_LINES] = {{0}};
    int total = 0;
    for (int i = 0; i < n; i++) {
        if (jobs[i].failed || prepare_line(c, &jobs[i], &lines[i]) < 0) continue;
        for (int k = 0; k < lines[i].n; k++) total += !lines[i].u[k].blank;
    }
    unit_ref *refs = malloc((size_t)(total ? total : 1) * sizeof *refs);
    int nr = 0;
    for (int i = 0; refs && i < n; i++)
        for (int k = 0; !jobs[i].failed && k < lines[i].n; k++)
            if (!lines[i].u[k].blank) refs[nr++] = (unit_ref){&lines[i].u[k], &jobs[i]};
    for (int k = 0; k < nr; k += BATCH_UNITS) decode_units(c, session, refs + k, nr - k < BATCH_UNITS ? nr - k : BATCH_UNITS);
    for (int i = 0; i < n; i++) {
        if (!refs && !jobs[i].failed) cli_job_fail(&jobs[i], c->o->format, "out of memory");
        if (!jobs[i].failed) format_line(c, &jobs[i], &lines[i]);
        for (int k = 0; !jobs[i].failed && k < lines[i].n; k++) { /* for -v */
            const unit *u = &lines[i].u[k];
            jobs[i].tokens_in += u->src.n;
            jobs[i].tokens_out += u->res.n_hyps > 0 ? u->res.hyps[0].n_tokens : 0;
        }
        free_line(&lines[i]);
    }
    free(refs);
}

int cmd_translate(int argc, char **argv)
{
    const char *cmd = strcmp(argv[0], "summarize") == 0 ? "summarize" : "translate";
    cli_opts o;
    int rc = cli_parse(cmd, argc, argv, &o);
    if (rc) return rc < 0 ? CLI_EXIT_OK : rc;
    int summarize = strcmp(cmd, "summarize") == 0;
    if (o.split_sentences < 0) o.split_sentences = !summarize; /* a summary reads the whole text */
    s2s_model *m = cli_load_model(&o);
    if (!m) return CLI_EXIT_USAGE;
    cli_model_defaults(&o, m, summarize);
    translate_ctx c;
    cli_translate_init(&c, &o, m);
    cli_handler h = {NULL, cli_translate_block, &c, "source tokens", "output tokens"};
    rc = cli_run_stream(&o, m, &h);
    s2s_model_free(m);
    return rc;
}
