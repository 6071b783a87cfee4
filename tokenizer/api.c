/*
 * api.c - public tokenization entry points (s2s.h): s2s_tokenize,
 * s2s_detokenize and friends, on top of the internal tokenizer and the
 * model's vocabularies.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "model.h"

s2s_tokenize_params s2s_tokenize_default_params(void)
{
    s2s_tokenize_params p = {0, 0};
    return p;
}

void s2s_token_seq_free(s2s_token_seq *seq)
{
    if (!seq) return;
    if (seq->pieces)
        for (int i = 0; i < seq->n; i++) free(seq->pieces[i]);
    free(seq->pieces);
    free(seq->ids);
    memset(seq, 0, sizeof *seq);
}

s2s_status s2s_tokenize(const s2s_model *model, s2s_side side, const char *text, size_t len,
                        const s2s_tokenize_params *params, s2s_token_seq *out, s2s_error *err)
{
    (void)model; (void)side; (void)text; (void)len; (void)params;
    memset(out, 0, sizeof *out);
    if (err) { err->status = S2S_ERR_INVALID_ARG; snprintf(err->message, sizeof err->message, "s2s_tokenize: not implemented yet"); }
    return S2S_ERR_INVALID_ARG;
}

char *s2s_detokenize(const s2s_model *model, const int *ids, int n)
{
    (void)model; (void)ids; (void)n;
    return calloc(1, 1);
}
