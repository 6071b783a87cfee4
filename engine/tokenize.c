/*
 * tokenize.c - public tokenization entry points (s2s.h): s2s_tokenize,
 * s2s_detokenize and friends: the model's tokenizer and vocabularies
 * (tokenizer/) applied with the model's settings.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "model.h"

/* Defaults: strict UTF-8, the model's max_input_tokens. */
s2s_tokenize_params s2s_tokenize_default_params(void)
{
    s2s_tokenize_params p;
    memset(&p, 0, sizeof p);
    p.lenient = 0;
    p.max_tokens = 0;
    return p;
}

/* Frees the ids and pieces of `seq` and zeroes it. NULL is a no-op. */
void s2s_token_seq_free(s2s_token_seq *seq)
{
    if (!seq) return;
    if (seq->pieces)
        for (int i = 0; i < seq->n; i++) free(seq->pieces[i]);
    free(seq->pieces);
    free(seq->ids);
    memset(seq, 0, sizeof *seq);
}

/* Token limit for one call: params, else the model's max_input_tokens, else
 * the default; never above S2S_MAX_SOURCE_TOKENS. */
static int token_limit(const s2s_model *model, s2s_side side, const s2s_tokenize_params *p)
{
    if (side == S2S_TARGET) /* targets are scored whole (forced decoding has no length limit) */
        return p->max_tokens > 0 && p->max_tokens < S2S_MAX_TARGET_TOKENS ? p->max_tokens : S2S_MAX_TARGET_TOKENS;
    int max = p->max_tokens > 0 ? p->max_tokens : model->cfg.tokenizer.max_input_tokens;
    if (max <= 0) max = S2S_DEFAULT_MAX_INPUT_TOKENS;
    if (max > S2S_MAX_SOURCE_TOKENS) max = S2S_MAX_SOURCE_TOKENS;
    return max;
}

/* See s2s.h. On success `out` owns `ids` and `pieces` (free with
 * s2s_token_seq_free()); on failure `out` is left empty. */
s2s_status s2s_tokenize(const s2s_model *model, s2s_side side, const char *text, size_t len,
                        const s2s_tokenize_params *params, s2s_token_seq *out, s2s_error *err)
{
    if (out) memset(out, 0, sizeof *out);
    if (!model || !out || (!text && len) || (side != S2S_SOURCE && side != S2S_TARGET))
        return s2s_fail(err, S2S_ERR_INVALID_ARG, "s2s_tokenize: bad argument");
    s2s_tokenize_params defaults = s2s_tokenize_default_params();
    const s2s_tokenize_params *p = params ? params : &defaults;
    if (p->max_tokens < 0)
        return s2s_fail(err, S2S_ERR_INVALID_ARG, "s2s_tokenize: max_tokens %d is negative", p->max_tokens);
    const s2s_vocab *vocab = model->vocab[side];
    const char *side_name = side == S2S_SOURCE ? "source" : "target";

    int max = token_limit(model, side, p);
    piece_list pl = {0};
    pl.limit = max + 1; /* one more than kept, to know that the text was cut */
    tok_error terr;
    if (tokenizer_split(model->tokenizer, text ? text : "", len, p->lenient, vocab, &pl, &terr) != TOK_OK) {
        piece_list_free(&pl);
        return s2s_fail_from_tokenizer(err, &terr);
    }
    int truncated = pl.dropped > 0;
    pl.limit = 0;
    if (pl.n > max) {
        for (int i = max; i < pl.n; i++) free(pl.pieces[i]);
        pl.n = max;
        truncated = 1;
    }
    int add_eos = side == S2S_SOURCE && model->cfg.append_eos;
    if (add_eos && model->src_eos_id < 0) {
        piece_list_free(&pl);
        return s2s_fail(err, S2S_ERR_VOCAB, "source vocabulary has no eos token '%s'",
                         model->cfg.eos ? model->cfg.eos : "");
    }
    int n = pl.n + add_eos;
    int *ids = malloc((size_t)(n ? n : 1) * sizeof *ids);
    if (!ids) {
        piece_list_free(&pl);
        return s2s_fail(err, S2S_ERR_NOMEM, "out of memory tokenizing");
    }
    for (int i = 0; i < pl.n; i++) {
        const char *t = pl.pieces[i];
        int id = vocab_id(vocab, t, strlen(t));
        if (id < 0) {
            /* model-format.md section 5 allows unk for the source side only;
             * a copy model's target token may be a source piece (section 9.4):
             * -1 here, resolved against the source by the decoding calls */
            id = side == S2S_SOURCE ? model->unk_id[S2S_SOURCE] : -1;
            if (id < 0 && !(side == S2S_TARGET && model->cfg.copy)) {
                char esc[4 * S2S_ERR_TOKEN_BYTES + 8];
                tok_escape(t, strlen(t), esc, sizeof esc);
                s2s_fail(err, S2S_ERR_UNKNOWN_TOKEN, "unknown %s token '%s' (token %d)%s", side_name,
                          esc, i, side == S2S_SOURCE ? " and the model has no unk token" : "");
                free(ids);
                piece_list_free(&pl);
                return S2S_ERR_UNKNOWN_TOKEN;
            }
        }
        ids[i] = id;
    }
    if (add_eos) {
        const char *eos = model->cfg.eos ? model->cfg.eos : "";
        if (piece_list_push(&pl, eos, strlen(eos))) {
            free(ids);
            piece_list_free(&pl);
            return s2s_fail(err, S2S_ERR_NOMEM, "out of memory tokenizing");
        }
        ids[n - 1] = model->src_eos_id;
    }
    out->ids = ids;
    out->pieces = pl.pieces; /* ownership moves to out */
    out->n = n;
    out->truncated = truncated;
    return S2S_OK;
}

/* Joins the token strings of target ids (eos and unknown ids skipped). */
static char *join_ids(const s2s_model *model, const s2s_result *result, const int *ids, int n)
{
    if (n < 0) n = 0;
    const char **toks = malloc((size_t)(n ? n : 1) * sizeof *toks);
    if (!toks) return NULL;
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (ids[i] == model->eos_id) continue;
        const char *t = s2s_result_token(model, result, ids[i]);
        if (t) toks[k++] = t; /* out-of-range ids are skipped */
    }
    char *s = tokenizer_join(model->tokenizer, toks, k);
    free(toks);
    return s;
}

/* See s2s.h: skips eos and out-of-range ids, joins with tokenizer_join().
 * Returns a malloc'd string the caller frees, or NULL. */
char *s2s_detokenize(const s2s_model *model, const int *ids, int n)
{
    if (!model || (!ids && n > 0)) return NULL;
    return join_ids(model, NULL, ids, n);
}

/* See s2s.h. */
char *s2s_detokenize_result(const s2s_model *model, const s2s_result *result, const int *ids, int n)
{
    if (!model || (!ids && n > 0)) return NULL;
    return join_ids(model, result, ids, n);
}
