/*
 * cli_handlers.h - the line handlers of `s2s translate` and `s2s score`, for
 * every front end of the same code (the command's line pipeline, the
 * server): given options and a model they turn cli_job lines into exactly
 * the command's output for those lines.
 */
#ifndef S2S_CLI_HANDLERS_H
#define S2S_CLI_HANDLERS_H

#include "cli.h"
#include "cli_unk.h"

/* What translate and summarize need for every line; `o` and `model` are
 * borrowed and must outlive the context. */
typedef struct translate_ctx {
    const cli_opts *o;
    const s2s_model *model;
    int append_eos;     /* the model's encoder appends eos to every source */
    int n_target;       /* target vocabulary size (where a copy model's extended ids start) */
    int fix_case;       /* --case auto and the model's tokenizer keeps case */
    unk_ctx unk;
} translate_ctx;

/* Fills `c` for options `o` and model `m`. */
void cli_translate_init(translate_ctx *c, const cli_opts *o, const s2s_model *m);

/* The cli_block_fn of translate/summarize (ctx: a translate_ctx): splits
 * jobs[0..n) (n <= CLI_BATCH_LINES) into sentences when o->split_sentences
 * is nonzero, folds ALL-CAPS and Title Case sentences when fix_case,
 * tokenizes them, decodes all the sentences that are not blank in batches
 * (identical to one by one, which is the fallback when a batch call fails),
 * and formats each line into job->out (a blank line: one empty hypothesis);
 * jobs already failed are skipped. */
void cli_translate_block(void *ctx, s2s_session *session, cli_job *jobs, int n);

/* What score needs; both borrowed. */
typedef struct score_ctx {
    const cli_opts *o;
    const s2s_model *model;
} score_ctx;

/* The cli_job_fn of score (ctx: a score_ctx): splits the line at its first
 * TAB into source and target, tokenizes both, scores, formats job->out. */
void cli_score_job(void *ctx, s2s_session *session, cli_job *job);

#endif
