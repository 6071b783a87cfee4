/*
 * session.c - the public decoding API (s2s.h): sessions, parameter checks,
 * results. The math is in compute.h, the strategies in search.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "error.h"
#include "kernels.h"
#include "search.h"

struct s2s_session {
    const s2s_model *model;
    arena scratch; /* grows between calls, never inside a decoding loop */
};


s2s_decode_params s2s_decode_default_params(void)
{
    s2s_decode_params p;
    memset(&p, 0, sizeof p);
    p.beam_size = 1;
    p.n_best = 1;
    p.length_penalty = 0.0f;
    p.max_length = 0;
    p.min_length = 0;
    p.want_attention = 1;
    return p;
}

s2s_session *s2s_session_new(const s2s_model *model, s2s_error *err)
{
    if (!model) {
        s2s_fail(err, S2S_ERR_INVALID_ARG, "s2s_session_new: model is NULL");
        return NULL;
    }
    s2s_session *s = calloc(1, sizeof *s);
    if (!s) {
        s2s_fail(err, S2S_ERR_NOMEM, "out of memory for a session");
        return NULL;
    }
    s->model = model;
    return s;
}

void s2s_session_free(s2s_session *session)
{
    if (!session) return;
    arena_release(&session->scratch);
    free(session);
}

static s2s_status check_params(const s2s_decode_params *p, s2s_error *err)
{
    if (p->beam_size < 1 || p->beam_size > S2S_MAX_BEAM)
        return s2s_fail(err, S2S_ERR_INVALID_ARG, "beam size %d out of range 1..%d", p->beam_size, S2S_MAX_BEAM);
    if (p->n_best < 1 || p->n_best > p->beam_size)
        return s2s_fail(err, S2S_ERR_INVALID_ARG, "n-best %d out of range 1..beam size (%d)", p->n_best, p->beam_size);
    if (p->max_length < 0 || p->max_length > S2S_MAX_DECODE_STEPS)
        return s2s_fail(err, S2S_ERR_INVALID_ARG, "max length %d out of range 0..%d", p->max_length, S2S_MAX_DECODE_STEPS);
    if (p->min_length < 0)
        return s2s_fail(err, S2S_ERR_INVALID_ARG, "min length %d is negative", p->min_length);
    if (!(p->length_penalty >= 0.0f && p->length_penalty <= S2S_MAX_LENGTH_PENALTY))
        return s2s_fail(err, S2S_ERR_INVALID_ARG, "length penalty %g out of range 0..%g", (double)p->length_penalty,
                        (double)S2S_MAX_LENGTH_PENALTY);
    return S2S_OK;
}

/* Checks that ids (n of them) are valid ids of `side`'s vocabulary. */
static s2s_status check_ids(const s2s_model *m, s2s_side side, const int *ids, int n, int allow_empty,
                            s2s_error *err)
{
    const char *what = side == S2S_SOURCE ? "source" : "target";
    if (n < 0 || (n == 0 && !allow_empty) || (n > 0 && !ids))
        return s2s_fail(err, S2S_ERR_INVALID_ARG, "empty %s sequence", what);
    /* forced decoding has no length limit (model-format.md section 6); sources do */
    if (side == S2S_SOURCE && n > S2S_MAX_SOURCE_TOKENS + 1)
        return s2s_fail(err, S2S_ERR_INVALID_ARG, "source sequence of %d tokens is longer than %d", n,
                        S2S_MAX_SOURCE_TOKENS + 1);
    int V = vocab_size(m->vocab[side]);
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= V)
            return s2s_fail(err, S2S_ERR_INVALID_ARG, "%s id %d at position %d is outside the vocabulary (0..%d)", what,
                        ids[i], i, V - 1);
    return S2S_OK;
}

s2s_status s2s_translate_batch(s2s_session *session, const int *const *srcs, const int *n_srcs, int n,
                               const s2s_decode_params *params, s2s_result *results, s2s_error *err)
{
    if (results)
        for (int i = 0; i < n; i++) memset(&results[i], 0, sizeof results[i]);
    if (!session || !results || (n > 0 && (!srcs || !n_srcs)) || n < 0)
        return s2s_fail(err, S2S_ERR_INVALID_ARG, "s2s_translate_batch: NULL argument");
    if (n > S2S_MAX_BATCH)
        return s2s_fail(err, S2S_ERR_INVALID_ARG, "batch of %d sentences is larger than %d", n, S2S_MAX_BATCH);
    s2s_decode_params p = params ? *params : s2s_decode_default_params();
    s2s_status st = check_params(&p, err);
    for (int i = 0; st == S2S_OK && i < n; i++) st = check_ids(session->model, S2S_SOURCE, srcs[i], n_srcs[i], 0, err);
    if (st != S2S_OK || n == 0) return st;
    unsigned fp = fp_flush_subnormals_begin();
    st = search_beam(session->model, &session->scratch, srcs, n_srcs, n, &p, results, err);
    fp_flush_subnormals_end(fp);
    return st;
}

s2s_status s2s_translate_ids(s2s_session *session, const int *src, int n_src, const s2s_decode_params *params,
                             s2s_result *result, s2s_error *err)
{
    const int *srcs[1] = {src};
    return s2s_translate_batch(session, srcs, &n_src, 1, params, result, err);
}

s2s_status s2s_score_ids(s2s_session *session, const int *src, int n_src, const int *tgt, int n_tgt,
                         int want_attention, s2s_result *result, s2s_error *err)
{
    if (result) memset(result, 0, sizeof *result);
    if (!session || !result) return s2s_fail(err, S2S_ERR_INVALID_ARG, "s2s_score_ids: NULL argument");
    s2s_status st = check_ids(session->model, S2S_SOURCE, src, n_src, 0, err);
    if (st == S2S_OK) st = check_ids(session->model, S2S_TARGET, tgt, n_tgt, 1, err);
    if (st != S2S_OK) return st;
    unsigned fp = fp_flush_subnormals_begin();
    st = search_forced(session->model, &session->scratch, src, n_src, tgt, n_tgt, want_attention, result, err);
    fp_flush_subnormals_end(fp);
    return st;
}
