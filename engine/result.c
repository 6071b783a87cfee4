/*
 * result.c - allocating and freeing decoding results (see result.h).
 */
#include "result.h"

#include "model.h"

#include <stdlib.h>
#include <string.h>

int result_alloc(s2s_result *res, int n_source, int n_hyps)
{
    memset(res, 0, sizeof *res);
    res->hyps = calloc((size_t)(n_hyps > 0 ? n_hyps : 1), sizeof(s2s_hypothesis));
    if (!res->hyps) return 0;
    res->n_source = n_source;
    res->n_hyps = n_hyps;
    return 1;
}

int hypothesis_alloc(s2s_hypothesis *h, int n_tokens, int n_steps, int n_source, int want_attention,
                     int finished)
{
    memset(h, 0, sizeof *h);
    h->tokens = malloc(sizeof(int) * (size_t)(n_tokens > 0 ? n_tokens : 1));
    h->token_logprobs = malloc(sizeof(float) * (size_t)(n_steps > 0 ? n_steps : 1));
    if (want_attention)
        h->attention = malloc(sizeof(float) * (size_t)(n_steps > 0 ? n_steps : 1) * (size_t)(n_source > 0 ? n_source : 1));
    h->n_tokens = n_tokens;
    h->n_steps = n_steps;
    h->finished = finished;
    return h->tokens && h->token_logprobs && (!want_attention || h->attention);
}

/* See s2s.h. */
void s2s_result_free(s2s_result *result)
{
    if (!result) return;
    for (int i = 0; i < result->n_hyps; i++) {
        free(result->hyps[i].tokens);
        free(result->hyps[i].token_logprobs);
        free(result->hyps[i].attention);
    }
    free(result->hyps);
    for (int e = 0; e < result->n_extended; e++) free(result->extended[e]);
    free(result->extended);
    memset(result, 0, sizeof *result);
}

/* See s2s.h. */
const char *s2s_result_token(const s2s_model *model, const s2s_result *result, int id)
{
    if (!model || id < 0) return NULL;
    int V = vocab_size(model->vocab[S2S_TARGET]);
    if (id < V) return vocab_token(model->vocab[S2S_TARGET], id);
    if (!result || id - V >= result->n_extended) return NULL;
    return result->extended[id - V];
}
