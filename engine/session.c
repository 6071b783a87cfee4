/*
 * session.c - the public decoding API (s2s.h): sessions, argument and
 * parameter checks, and the resolution of each input (ids, a copy model's
 * extended vocabulary, target prefixes) before the search starts. The math
 * is in compute.h, the strategies in search.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "copy.h"
#include "error.h"
#include "kernels.h"
#include "numbers.h"
#include "result.h"
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
    p.no_repeat_ngram = 0;
    p.coverage_penalty = 0.0f;
    p.sampling = 0;
    p.num_samples = 1;
    p.temperature = 1.0f;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.seed = 0;
    p.compute = S2S_COMPUTE_F32;
    p.shortlist = 1;
    p.want_scores = 1;
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

static s2s_status check_sampling(const s2s_decode_params *p, s2s_error *err)
{
    if (p->beam_size != 1)
        return s2s_fail(err, S2S_ERR_INVALID_ARG, "sampling needs beam size 1 (it is %d)", p->beam_size);
    if (p->num_samples < 1 || p->num_samples > S2S_MAX_BEAM)
        return s2s_fail(err, S2S_ERR_INVALID_ARG, "number of samples %d out of range 1..%d", p->num_samples,
                        S2S_MAX_BEAM);
    if (!(p->temperature > 0.0f) || !isfinite(p->temperature))
        return s2s_fail(err, S2S_ERR_INVALID_ARG, "temperature %g is not a positive number", (double)p->temperature);
    if (p->top_k < 0) return s2s_fail(err, S2S_ERR_INVALID_ARG, "top-k %d is negative", p->top_k);
    if (!(p->top_p > 0.0f && p->top_p <= 1.0f))
        return s2s_fail(err, S2S_ERR_INVALID_ARG, "top-p %g out of range (0, 1]", (double)p->top_p);
    return S2S_OK;
}

static s2s_status check_params(const s2s_model *m, const s2s_decode_params *p, s2s_error *err)
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
    if (p->no_repeat_ngram < 0 || p->no_repeat_ngram > S2S_MAX_DECODE_STEPS)
        return s2s_fail(err, S2S_ERR_INVALID_ARG, "no-repeat n-gram size %d out of range 0..%d", p->no_repeat_ngram,
                        S2S_MAX_DECODE_STEPS);
    if (!(p->coverage_penalty >= 0.0f) || !isfinite(p->coverage_penalty))
        return s2s_fail(err, S2S_ERR_INVALID_ARG, "coverage penalty %g is not a number >= 0",
                        (double)p->coverage_penalty);
    if (p->compute != S2S_COMPUTE_F32 && p->compute != S2S_COMPUTE_INT8)
        return s2s_fail(err, S2S_ERR_INVALID_ARG, "compute mode %d is neither F32 (0) nor INT8 (1)", (int)p->compute);
    if (p->shortlist != 0 && p->shortlist != 1)
        return s2s_fail(err, S2S_ERR_INVALID_ARG, "shortlist %d is neither 0 nor 1", p->shortlist);
    if (p->keep_numbers != 0 && p->keep_numbers != 1)
        return s2s_fail(err, S2S_ERR_INVALID_ARG, "keep_numbers %d is neither 0 nor 1", p->keep_numbers);
    if (p->coverage_penalty > 0.0f && m->cfg.window)
        return s2s_fail(err, S2S_ERR_INVALID_ARG,
                        "a coverage penalty needs global attention: local attention leaves positions at 0");
    return p->sampling ? check_sampling(p, err) : S2S_OK;
}

/* Checks that ids (n of them) are valid ids of `side`'s vocabulary; with
 * `ext` > 0 (a copy model's target side) ids V..V+ext-1 are valid too. */
static s2s_status check_ids(const s2s_model *m, s2s_side side, const int *ids, int n, int allow_empty, int ext,
                            s2s_error *err)
{
    const char *what = side == S2S_SOURCE ? "source" : "target";
    if (n < 0 || (n == 0 && !allow_empty) || (n > 0 && !ids))
        return s2s_fail(err, S2S_ERR_INVALID_ARG, "empty %s sequence", what);
    /* forced decoding has no length limit (model-format.md section 6); sources do */
    if (side == S2S_SOURCE && n > S2S_MAX_SOURCE_TOKENS + 1)
        return s2s_fail(err, S2S_ERR_INVALID_ARG, "source sequence of %d tokens is longer than %d", n,
                        S2S_MAX_SOURCE_TOKENS + 1);
    int V = vocab_size(m->vocab[side]) + ext;
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= V)
            return s2s_fail(err, S2S_ERR_INVALID_ARG, "%s id %d at position %d is outside the vocabulary (0..%d)", what,
                            ids[i], i, V - 1);
    return S2S_OK;
}

/* ---- inputs resolved for the search ---------------------------------------- */

/* The search inputs of one call and the memory behind them (allocated
 * before decoding starts, freed after). */
typedef struct resolved {
    search_input *in;
    int *ints;              /* copy ids, first occurrences, same-as positions, numbers and prefix ids */
    unsigned char *glue;    /* keep numbers: the source's glue classes (scratch), which numbers
                               stand alone, and the glue classes of the extended ids */
    const char ***pieces;   /* [n] source pieces of each input */
    const char **piece_buf; /* pieces spelled from source ids (ids-only calls) */
    int **first_of;         /* [n] copy models: first occurrence of each extended id */
} resolved;

static void resolved_free(resolved *r)
{
    free(r->in);
    free(r->ints);
    free(r->glue);
    free(r->pieces);
    free(r->piece_buf);
    free(r->first_of);
    memset(r, 0, sizeof *r);
}

/* Allocates room for n inputs of total_src source and total_prefix prefix
 * tokens; `spell` also reserves source pieces spelled from the ids. */
static int resolved_alloc(resolved *r, int n, size_t total_src, size_t total_prefix, int spell)
{
    memset(r, 0, sizeof *r);
    r->in = calloc((size_t)(n ? n : 1), sizeof *r->in);
    r->ints = malloc(sizeof(int) * (4 * total_src + total_prefix + 1));
    r->glue = malloc(3 * total_src + 1);
    r->pieces = calloc((size_t)(n ? n : 1), sizeof *r->pieces);
    r->first_of = calloc((size_t)(n ? n : 1), sizeof *r->first_of);
    r->piece_buf = spell ? malloc(sizeof(char *) * (total_src + 1)) : NULL;
    if (r->in && r->ints && r->glue && r->pieces && r->first_of && (!spell || r->piece_buf)) return 1;
    resolved_free(r);
    return 0;
}

/* Fills in->copy_ids, in->copy_same_as (and first_of) for a copy model from
 * the pieces. */
static void resolve_copy(const s2s_model *m, search_input *in, const char **pieces, int **cursor, int **first_of)
{
    if (!m->cfg.copy) return;
    int *copy_ids = *cursor, *first = *cursor + in->n, *same_as = *cursor + 2 * in->n;
    *cursor += 3 * in->n;
    in->n_ext = copy_map(m, pieces, in->n, copy_ids, first);
    copy_same_as(copy_ids, in->n, same_as);
    in->copy_ids = copy_ids;
    in->copy_same_as = same_as;
    *first_of = first;
}

/* A piece made only of the digits 0-9. */
static int is_number_piece(const char *piece)
{
    if (!piece || !*piece) return 0;
    for (; *piece; piece++)
        if (*piece < '0' || *piece > '9') return 0;
    return 1;
}

/* keep_numbers: fills in->numbers with the distinct target ids of the
 * input's number pieces: in a copy model the extended ids of its `pieces`
 * (as tokenized), in another model the target ids of its source tokens (an
 * unk source token is no number), so that every entry point agrees; the
 * digits after a separator ("4" of "23,4") are part of a longer number and
 * left out where they stand (numbers.h). Marks
 * in in->number_alone those the source writes alone at least once (not
 * continued by the next pieces, numbers.h), and gives a copy model's
 * extended ids their glue classes (first_of: copy_map's). */
static void resolve_numbers(const s2s_model *m, search_input *in, const char **pieces, const int *first_of,
                            int **cursor, unsigned char **glue_cursor)
{
    const s2s_vocab *src = m->vocab[S2S_SOURCE], *tgt = m->vocab[S2S_TARGET];
    int *numbers = *cursor, k = 0;
    unsigned char *src_glue = *glue_cursor, *alone = src_glue + in->n, *ext_glue = alone + in->n;
    *cursor += in->n;
    *glue_cursor += 3 * (size_t)in->n;
    for (int j = 0; j < in->n; j++) src_glue[j] = piece_glue(in->copy_ids ? pieces[j] : vocab_token(src, in->ids[j]));
    for (int j = 0; j < in->n; j++) {
        const char *piece = in->copy_ids ? pieces[j] : vocab_token(src, in->ids[j]);
        if (!is_number_piece(piece) || number_after_separator(src_glue, j)) continue;
        int id = in->copy_ids ? in->copy_ids[j] : vocab_id(tgt, piece, strlen(piece));
        if (id < 0) continue;
        int at = 0;
        while (at < k && numbers[at] != id) at++;
        if (at == k) {
            numbers[k] = id;
            alone[k++] = 0;
        }
        if (!number_continued(src_glue, in->n, j)) alone[at] = 1;
    }
    for (int e = 0; e < in->n_ext; e++) ext_glue[e] = piece_glue(pieces[first_of[e]]);
    in->numbers = numbers;
    in->number_alone = alone;
    in->ext_glue = ext_glue;
    in->n_numbers = k;
}

/* Target ids of `seq` for input `in` (prefix or scored target): ids -1 of a
 * copy model resolve to the extended id of the same source piece. */
static s2s_status resolve_target(const s2s_model *m, const search_input *in, const char **pieces,
                                 const s2s_token_seq *seq, int *out, const char *what, s2s_error *err)
{
    for (int i = 0; i < seq->n; i++) {
        int id = seq->ids[i];
        if (id < 0 && m->cfg.copy && seq->pieces && seq->pieces[i])
            id = copy_find(m, pieces, in->copy_ids, in->n, seq->pieces[i]);
        if (id < 0)
            return s2s_fail(err, S2S_ERR_UNKNOWN_TOKEN, "unknown target token '%.64s' in the %s (token %d)%s",
                            seq->pieces && seq->pieces[i] ? seq->pieces[i] : "?", what, i,
                            m->cfg.copy ? ": not in the target vocabulary nor in the source" : "");
        out[i] = id;
    }
    return S2S_OK;
}

/* Spells the extended ids of `res` from the source pieces (copy models). */
static int fill_extended(const search_input *in, const char **pieces, const int *first_of, s2s_result *res)
{
    if (in->n_ext == 0) return 1;
    res->extended = calloc((size_t)in->n_ext, sizeof *res->extended);
    if (!res->extended) return 0;
    res->n_extended = in->n_ext;
    for (int e = 0; e < in->n_ext; e++)
        if (!(res->extended[e] = strdup(pieces[first_of[e]]))) return 0;
    return 1;
}

/* 1 when no hypothesis of `res` finished. */
static int none_finished(const s2s_result *res)
{
    for (int h = 0; h < res->n_hyps; h++)
        if (res->hyps[h].finished) return 0;
    return 1;
}

/* keep_numbers: each input that holds numbers and got no finished
 * hypothesis is decoded again without them (its numbers dropped), and that
 * result replaces the first. */
static s2s_status redo_without_numbers(s2s_session *session, const resolved *r, int n, const s2s_decode_params *p,
                                       s2s_result *results, s2s_error *err)
{
    int *which = malloc(sizeof(int) * (size_t)n), k = 0;
    search_input *in = malloc(sizeof *in * (size_t)n);
    s2s_result *again = calloc((size_t)n, sizeof *again);
    s2s_status st = S2S_OK;
    if (!which || !in || !again) {
        st = s2s_fail(err, S2S_ERR_NOMEM, "out of memory for the batch");
        goto done;
    }
    for (int i = 0; i < n; i++)
        if (r->in[i].n_numbers > 0 && none_finished(&results[i])) {
            which[k] = i;
            in[k] = r->in[i];
            in[k].numbers = NULL;
            in[k].number_alone = NULL;
            in[k].n_numbers = 0;
            k++;
        }
    if (k == 0) goto done;
    st = search_beam(session->model, &session->scratch, in, k, p, again, err);
    for (int j = 0; st == S2S_OK && j < k; j++) {
        s2s_result_free(&results[which[j]]);
        results[which[j]] = again[j];
        memset(&again[j], 0, sizeof again[j]);
    }
done:
    free(which);
    free(in);
    free(again);
    return st;
}

/* Runs the search over the resolved inputs (keep_numbers: again without the
 * numbers where none finished) and spells extended ids. */
static s2s_status run_search(s2s_session *session, const resolved *r, int n, const s2s_decode_params *p,
                             s2s_result *results, s2s_error *err)
{
    unsigned fp = fp_flush_subnormals_begin();
    s2s_status st = search_beam(session->model, &session->scratch, r->in, n, p, results, err);
    if (st == S2S_OK && p->keep_numbers && !p->sampling) st = redo_without_numbers(session, r, n, p, results, err);
    fp_flush_subnormals_end(fp);
    for (int i = 0; st == S2S_OK && i < n; i++)
        if (!fill_extended(&r->in[i], r->pieces[i], r->first_of[i], &results[i]))
            st = s2s_fail(err, S2S_ERR_NOMEM, "out of memory for results");
    if (st != S2S_OK)
        for (int i = 0; i < n; i++) s2s_result_free(&results[i]);
    return st;
}

/* ---- the public entry points -------------------------------------------------- */

s2s_status s2s_translate_batch(s2s_session *session, const int *const *srcs, const int *n_srcs, int n,
                               const s2s_decode_params *params, s2s_result *results, s2s_error *err)
{
    /* Every argument that says how much of `results` may be written is
     * checked before the first write: a caller that got n or an array
     * wrong keeps its memory. */
    if (n < 0 || n > S2S_MAX_BATCH)
        return s2s_fail(err, S2S_ERR_INVALID_ARG, "s2s_translate_batch: batch of %d sentences is outside 0..%d", n,
                        S2S_MAX_BATCH);
    if (!session || !results || (n > 0 && (!srcs || !n_srcs)))
        return s2s_fail(err, S2S_ERR_INVALID_ARG, "s2s_translate_batch: %s is NULL",
                        !session ? "session" : !results ? "results" : !srcs ? "srcs" : "n_srcs");
    for (int i = 0; i < n; i++) memset(&results[i], 0, sizeof results[i]);
    const s2s_model *m = session->model;
    s2s_decode_params p = params ? *params : s2s_decode_default_params();
    s2s_status st = check_params(m, &p, err);
    size_t total = 0;
    for (int i = 0; st == S2S_OK && i < n; i++) {
        st = check_ids(m, S2S_SOURCE, srcs[i], n_srcs[i], 0, 0, err);
        total += (size_t)n_srcs[i];
    }
    if (st != S2S_OK || n == 0) return st;
    resolved r;
    if (!resolved_alloc(&r, n, total, 0, m->cfg.copy))
        return s2s_fail(err, S2S_ERR_NOMEM, "out of memory for the batch");
    int *cursor = r.ints;
    unsigned char *glue_cursor = r.glue;
    const char **spelled = r.piece_buf;
    for (int i = 0; i < n; i++) {
        search_input *in = &r.in[i];
        in->ids = srcs[i];
        in->n = n_srcs[i];
        in->stream = (uint64_t)i;
        if (m->cfg.copy) { /* without pieces, each source id stands for its vocabulary token */
            for (int j = 0; j < in->n; j++) spelled[j] = vocab_token(m->vocab[S2S_SOURCE], srcs[i][j]);
            r.pieces[i] = spelled;
            resolve_copy(m, in, spelled, &cursor, &r.first_of[i]);
        }
        if (p.keep_numbers && !p.sampling)
            resolve_numbers(m, in, m->cfg.copy ? spelled : NULL, r.first_of[i], &cursor, &glue_cursor);
        if (m->cfg.copy) spelled += in->n;
    }
    st = run_search(session, &r, n, &p, results, err);
    resolved_free(&r);
    return st;
}

s2s_status s2s_translate_ids(s2s_session *session, const int *src, int n_src, const s2s_decode_params *params,
                             s2s_result *result, s2s_error *err)
{
    const int *srcs[1] = {src};
    return s2s_translate_batch(session, srcs, &n_src, 1, params, result, err);
}

/* Checks one input of s2s_translate_inputs (everything but the prefix ids). */
static s2s_status check_input(const s2s_model *m, const s2s_input *in, int i, s2s_error *err)
{
    if (!in->source)
        return s2s_fail(err, S2S_ERR_INVALID_ARG, "input %d has no source", i);
    if (m->cfg.copy && in->source->n > 0 && !in->source->pieces)
        return s2s_fail(err, S2S_ERR_INVALID_ARG, "input %d: a copy model needs the source pieces", i);
    if (in->prefix && in->prefix->n > 0 && !in->prefix->ids)
        return s2s_fail(err, S2S_ERR_INVALID_ARG, "input %d: prefix without ids", i);
    if (in->prefix)
        for (int k = 0; k < in->prefix->n; k++)
            if (in->prefix->ids[k] == m->eos_id)
                return s2s_fail(err, S2S_ERR_INVALID_ARG, "input %d: the target prefix holds eos (token %d)", i, k);
    return check_ids(m, S2S_SOURCE, in->source->ids, in->source->n, 0, 0, err);
}

s2s_status s2s_translate_inputs(s2s_session *session, const s2s_input *inputs, int n,
                                const s2s_decode_params *params, s2s_result *results, s2s_error *err)
{
    if (!session || !results || n < 0 || (n > 0 && !inputs))
        return s2s_fail(err, S2S_ERR_INVALID_ARG, "s2s_translate_inputs: NULL argument or negative count");
    if (n > S2S_MAX_BATCH)
        return s2s_fail(err, S2S_ERR_INVALID_ARG, "batch of %d inputs is larger than %d", n, S2S_MAX_BATCH);
    for (int i = 0; i < n; i++) memset(&results[i], 0, sizeof results[i]);
    const s2s_model *m = session->model;
    s2s_decode_params p = params ? *params : s2s_decode_default_params();
    s2s_status st = check_params(m, &p, err);
    size_t total_src = 0, total_prefix = 0;
    for (int i = 0; st == S2S_OK && i < n; i++) {
        if ((st = check_input(m, &inputs[i], i, err)) != S2S_OK) break;
        total_src += (size_t)inputs[i].source->n;
        total_prefix += inputs[i].prefix ? (size_t)inputs[i].prefix->n : 0;
    }
    if (st != S2S_OK || n == 0) return st;
    resolved r;
    if (!resolved_alloc(&r, n, total_src, total_prefix, 0))
        return s2s_fail(err, S2S_ERR_NOMEM, "out of memory for the batch");
    int *cursor = r.ints;
    unsigned char *glue_cursor = r.glue;
    for (int i = 0; st == S2S_OK && i < n; i++) {
        search_input *in = &r.in[i];
        const s2s_token_seq *src = inputs[i].source, *prefix = inputs[i].prefix;
        in->ids = src->ids;
        in->n = src->n;
        in->stream = inputs[i].stream;
        r.pieces[i] = (const char **)src->pieces;
        resolve_copy(m, in, r.pieces[i], &cursor, &r.first_of[i]);
        if (p.keep_numbers && !p.sampling)
            resolve_numbers(m, in, r.pieces[i], r.first_of[i], &cursor, &glue_cursor);
        if (prefix && prefix->n > 0) {
            int *ids = cursor;
            cursor += prefix->n;
            st = resolve_target(m, in, r.pieces[i], prefix, ids, "prefix", err);
            if (st == S2S_OK) st = check_ids(m, S2S_TARGET, ids, prefix->n, 1, in->n_ext, err);
            in->prefix = ids;
            in->n_prefix = prefix->n;
        }
    }
    if (st == S2S_OK) st = run_search(session, &r, n, &p, results, err);
    resolved_free(&r);
    return st;
}

s2s_status s2s_score_ids(s2s_session *session, const int *src, int n_src, const int *tgt, int n_tgt,
                         int want_attention, s2s_result *result, s2s_error *err)
{
    if (!session || !result) return s2s_fail(err, S2S_ERR_INVALID_ARG, "s2s_score_ids: NULL argument");
    memset(result, 0, sizeof *result);
    const s2s_model *m = session->model;
    s2s_status st = check_ids(m, S2S_SOURCE, src, n_src, 0, 0, err);
    if (st == S2S_OK) st = check_ids(m, S2S_TARGET, tgt, n_tgt, 1, 0, err);
    if (st != S2S_OK) return st;
    resolved r;
    if (!resolved_alloc(&r, 1, (size_t)n_src, 0, m->cfg.copy))
        return s2s_fail(err, S2S_ERR_NOMEM, "out of memory for scoring");
    int *cursor = r.ints;
    search_input *in = &r.in[0];
    in->ids = src;
    in->n = n_src;
    if (m->cfg.copy) {
        for (int j = 0; j < n_src; j++) r.piece_buf[j] = vocab_token(m->vocab[S2S_SOURCE], src[j]);
        resolve_copy(m, in, r.piece_buf, &cursor, &r.first_of[0]);
    }
    unsigned fp = fp_flush_subnormals_begin();
    st = search_forced(m, &session->scratch, in, tgt, n_tgt, want_attention, result, err);
    fp_flush_subnormals_end(fp);
    if (st == S2S_OK && !fill_extended(in, r.piece_buf, r.first_of[0], result)) {
        s2s_result_free(result);
        st = s2s_fail(err, S2S_ERR_NOMEM, "out of memory for results");
    }
    resolved_free(&r);
    return st;
}

s2s_status s2s_score(s2s_session *session, const s2s_token_seq *source, const s2s_token_seq *target,
                     int want_attention, s2s_result *result, s2s_error *err)
{
    if (!session || !result || !source || !target) return s2s_fail(err, S2S_ERR_INVALID_ARG, "s2s_score: NULL argument");
    memset(result, 0, sizeof *result);
    const s2s_model *m = session->model;
    s2s_input one = {source, NULL, 0};
    s2s_status st = check_input(m, &one, 0, err);
    if (st == S2S_OK && target->n > 0 && !target->ids)
        st = s2s_fail(err, S2S_ERR_INVALID_ARG, "s2s_score: target without ids");
    if (st != S2S_OK) return st;
    resolved r;
    if (!resolved_alloc(&r, 1, (size_t)source->n, (size_t)target->n, 0))
        return s2s_fail(err, S2S_ERR_NOMEM, "out of memory for scoring");
    int *cursor = r.ints;
    search_input *in = &r.in[0];
    in->ids = source->ids;
    in->n = source->n;
    r.pieces[0] = (const char **)source->pieces;
    resolve_copy(m, in, r.pieces[0], &cursor, &r.first_of[0]);
    int *tgt = cursor;
    st = resolve_target(m, in, r.pieces[0], target, tgt, "target", err);
    if (st == S2S_OK) st = check_ids(m, S2S_TARGET, tgt, target->n, 1, in->n_ext, err);
    if (st == S2S_OK) {
        unsigned fp = fp_flush_subnormals_begin();
        st = search_forced(m, &session->scratch, in, tgt, target->n, want_attention, result, err);
        fp_flush_subnormals_end(fp);
    }
    if (st == S2S_OK && !fill_extended(in, r.pieces[0], r.first_of[0], result)) {
        s2s_result_free(result);
        st = s2s_fail(err, S2S_ERR_NOMEM, "out of memory for results");
    }
    resolved_free(&r);
    return st;
}
