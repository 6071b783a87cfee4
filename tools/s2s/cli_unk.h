/*
 * cli_unk.h - --replace-unk.
 */
#ifndef S2S_CLI_UNK_H
#define S2S_CLI_UNK_H

#include "cli.h"

typedef struct unk_ctx {
    const s2s_model *model;
    int unk_id;             /* target unk id, -1 when the model has none */
    int has_eos;            /* source sequences end with an appended eos */
    int lenient;
    const char *separator;  /* between a replaced word and its neighbours */
} unk_ctx;

/* Fills `u` for model `m`. */
void cli_unk_init(unk_ctx *u, const s2s_model *m, int lenient);

/* Readable text of hypothesis k of `res` where each unk is replaced by the
 * source word (from `line`, the input line of `len` bytes, tokenized into
 * `src`) it attends to most. Without unk or attention it is plain
 * s2s_detokenize_result. Returns a malloc'd string, or NULL when out of
 * memory. */
char *cli_replace_unk_text(const unk_ctx *u, const char *line, size_t len,
                           const s2s_token_seq *src, const s2s_result *res, int k);

#endif
