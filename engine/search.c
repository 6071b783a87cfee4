/*
 * search.c - beam search (greedy = width 1) and forced decoding, exactly as
 * model-format.md section 6 describes them.
 *
 * Beam bookkeeping, per sentence: live set L_s after step s (L_0 = the empty
 * hypothesis). Slot j of L_s came from parent par[s][j] in L_{s-1} by token
 * tok[s][j] with log-probability lp[s][j]. The attention row computed at
 * step s for slot i of L_{s-1} is alpha[s][i]. A finished hypothesis is
 * (step t, slot i of L_{t-1}) plus eos; tokens and rows are read back
 * through the parents at the end, so nothing is copied per step but the
 * decoder state rows.
 */
#include "search.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "kernels.h"
#include "result.h"

/* GNMT length penalty ((5 + len) / 6) ^ alpha. */
static double length_penalty(int len, float alpha)
{
    return alpha == 0.0f ? 1.0 : pow((5.0 + len) / 6.0, (double)alpha);
}

typedef struct finished_hyp {
    int step;         /* t: the step that emitted eos */
    int slot;         /* slot in L_{t-1} it extends */
    double score;     /* total log-probability, eos included */
    float eos_lp;     /* log-probability of the eos */
    double rank;      /* score / length_penalty(t) */
} finished_hyp;

typedef struct candidate {
    double score;
    int slot;  /* live hypothesis it extends */
    int token;
} candidate;

/* Per-sentence search state; all arrays carved from the arena. */
typedef struct group {
    enc_memory mem;
    int n;              /* source length */
    int max_len;        /* steps */
    int live;           /* |L_s| */
    int row0;           /* first decoder row this step */
    int done;
    int steps;          /* steps taken */
    int *par, *tok;     /* [max_len][K] */
    float *lp;          /* [max_len][K] */
    float *alpha;       /* [max_len][K][n] (when want_attention) */
    double *score;      /* [K] scores of L_s (sums in double, as the reference) */
    finished_hyp *fin;  /* the n_best best finished, best first */
    int n_fin;          /* how many of them are filled */
} group;

/* Everything a beam call needs, carved once. */
typedef struct beam_bufs {
    group *g;
    int *prev;                 /* [R] last token per row */
    const enc_memory **rowmem; /* [R] */
    float *enc_scratch, *step_scratch, *alpha_step, *logp;
    dec_state st[2];
    candidate *cand;           /* [2K] heap */
} beam_bufs;

typedef struct beam_plan {
    const s2s_model *m;
    const int *n_srcs;
    int n, K, R, n_max, V;
    const s2s_decode_params *p;
} beam_plan;

static int max_length_for(const s2s_model *m, const s2s_decode_params *p, int n_src)
{
    int L = p->max_length > 0 ? p->max_length : m->cfg.max_length > 0 ? m->cfg.max_length : 2 * n_src + 10;
    return L > S2S_MAX_DECODE_STEPS ? S2S_MAX_DECODE_STEPS : L;
}

static void carve_beam(arena *a, const void *plan, void *bufs)
{
    const beam_plan *pl = plan;
    beam_bufs *b = bufs;
    const s2s_model *m = pl->m;
    size_t enc = 0;
    b->g = arena_take(a, sizeof(group) * (size_t)pl->n);
    for (int i = 0; i < pl->n; i++) {
        int n = pl->n_srcs[i], T = max_length_for(m, pl->p, n);
        size_t TK = (size_t)T * pl->K, e = encode_scratch_floats(m, n);
        enc = e > enc ? e : enc;
        float *membuf = arena_take(a, sizeof(float) * memory_floats(m, n));
        int *par = arena_take(a, sizeof(int) * TK), *tok = arena_take(a, sizeof(int) * TK);
        float *lp = arena_take(a, sizeof(float) * TK);
        float *alpha = pl->p->want_attention ? arena_take(a, sizeof(float) * TK * n) : NULL;
        double *score = arena_take(a, sizeof(double) * pl->K);
        finished_hyp *fin = arena_take(a, sizeof(finished_hyp) * pl->p->n_best);
        if (a->measuring) continue;
        group *g = &b->g[i];
        memset(g, 0, sizeof *g);
        memory_bind(m, n, membuf, &g->mem);
        g->n = n; g->max_len = T; g->par = par; g->tok = tok; g->lp = lp;
        g->alpha = alpha; g->score = score; g->fin = fin;
    }
    b->prev = arena_take(a, sizeof(int) * pl->R);
    b->rowmem = arena_take(a, sizeof(void *) * pl->R);
    b->enc_scratch = arena_take(a, sizeof(float) * enc);
    b->step_scratch = arena_take(a, sizeof(float) * step_scratch_floats(m, pl->R));
    b->alpha_step = arena_take(a, sizeof(float) * (size_t)pl->R * pl->n_max);
    b->logp = arena_take(a, sizeof(float) * (size_t)pl->R * pl->V);
    for (int k = 0; k < 2; k++) {
        float *s = arena_take(a, sizeof(float) * dec_state_floats(m, pl->R));
        if (!a->measuring) dec_state_bind(m, pl->R, s, &b->st[k]);
    }
    b->cand = arena_take(a, sizeof(candidate) * 2 * (size_t)pl->K);
}

/* ---- candidate ranking ------------------------------------------------- */

/* 1 when x ranks after y: lower score, then later slot, then higher token. */
static int ranks_after(const candidate *x, const candidate *y)
{
    if (x->score != y->score) return x->score < y->score;
    if (x->slot != y->slot) return x->slot > y->slot;
    return x->token > y->token;
}

/* Min-heap on rank (root = the worst kept candidate). */
static void heap_sift_down(candidate *h, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && ranks_after(&h[l], &h[w])) w = l;
        if (r < n && ranks_after(&h[r], &h[w])) w = r;
        if (w == i) return;
        candidate t = h[i]; h[i] = h[w]; h[w] = t;
        i = w;
    }
}

static void heap_sift_up(candidate *h, int i)
{
    while (i > 0) {
        int p = (i - 1) / 2;
        if (!ranks_after(&h[i], &h[p])) return;
        candidate t = h[i]; h[i] = h[p]; h[p] = t;
        i = p;
    }
}

/* Sorts the heap h (n) in place, best first: the root (worst) goes to the
 * end each time. No allocation, unlike qsort. */
static void heap_sort_best_first(candidate *h, int n)
{
    for (int end = n - 1; end > 0; end--) {
        candidate t = h[0]; h[0] = h[end]; h[end] = t;
        heap_sift_down(h, end, 0);
    }
}

/* The best `cap` candidates over all live slots, best first; returns count.
 * logp (live, V) rows, eos masked while fewer than min_len tokens exist. */
static int top_candidates(const group *g, const float *logp, int V, int eos, int mask_eos,
                          candidate *h, int cap)
{
    int n = 0;
    for (int i = 0; i < g->live; i++) {
        const float *row = logp + (size_t)i * V;
        double base = g->score[i];
        for (int v = 0; v < V; v++) {
            double sc = base + (double)row[v];
            /* a full heap only admits candidates at least as good as its worst */
            if (n == cap && sc < h[0].score) continue;
            if (mask_eos && v == eos) continue;
            candidate c = {sc, i, v};
            if (n < cap) {
                h[n] = c;
                heap_sift_up(h, n++);
            } else if (ranks_after(&h[0], &c)) {
                h[0] = c;
                heap_sift_down(h, n, 0);
            }
        }
    }
    heap_sort_best_first(h, n);
    return n;
}

/* ---- one step of one sentence ------------------------------------------ */

/* Keeps g->fin the n_best best finished hypotheses, best first by ranking
 * score; on equal ranking scores the earlier arrival stays ahead, so a
 * newcomer that only ties the worst kept one is dropped. */
static void keep_finished(group *g, int n_best, const finished_hyp *f)
{
    int at = g->n_fin;
    while (at > 0 && g->fin[at - 1].rank < f->rank) at--;
    if (at >= n_best) return;
    int last = g->n_fin < n_best ? g->n_fin : n_best - 1;
    memmove(g->fin + at + 1, g->fin + at, sizeof *f * (size_t)(last - at));
    g->fin[at] = *f;
    if (g->n_fin < n_best) g->n_fin++;
}

/* Ranks the candidates of group g at step t (1-based), records finished
 * hypotheses and the new live set, and moves the chosen state rows from
 * `from` to `to` starting at row *out_row. */
static void advance_group(const s2s_model *m, const s2s_decode_params *p, int K, group *g, int t,
                          const float *logp, int V, candidate *cand, const dec_state *from,
                          dec_state *to, int *out_row)
{
    int eos = m->eos_id, cap = 2 * K;
    int nc = top_candidates(g, logp, V, eos, t - 1 < p->min_length, cand, cap);
    int *par = g->par + (size_t)(t - 1) * K, *tok = g->tok + (size_t)(t - 1) * K;
    float *lp = g->lp + (size_t)(t - 1) * K;
    double new_score[S2S_MAX_BEAM];
    int live = 0;
    for (int r = 0; r < nc && live < K; r++) {
        const candidate *c = &cand[r];
        float clp = logp[(size_t)c->slot * V + c->token];
        if (c->token == eos) {
            if (r < K) {
                finished_hyp f = {t, c->slot, c->score, clp, c->score / length_penalty(t, p->length_penalty)};
                keep_finished(g, p->n_best, &f);
            }
            continue;
        }
        par[live] = c->slot; tok[live] = c->token; lp[live] = clp;
        new_score[live] = c->score;
        dec_state_copy_row(m, from, g->row0 + c->slot, to, *out_row + live);
        live++;
    }
    memcpy(g->score, new_score, sizeof(double) * (size_t)live);
    g->live = live;
    g->steps = t;
    *out_row += live;

    if (t >= g->max_len || live == 0) {
        g->done = 1;
    } else if (g->n_fin >= p->n_best) {
        /* stop when no live hypothesis can still beat the n-th best finished */
        double bound = g->score[0] / length_penalty(g->max_len, p->length_penalty);
        if (!(bound > g->fin[p->n_best - 1].rank)) g->done = 1;
    }
}

/* ---- results ------------------------------------------------------------ */

/* Fills h from the parents: a hypothesis whose last live slot is `slot` in
 * L_{last}, plus (when finished) the eos step from that slot at last+1. */
static int build_hyp(const group *g, int K, int last, int slot, const finished_hyp *f, int want_att,
                     s2s_hypothesis *h)
{
    int n = g->n;
    if (!hypothesis_alloc(h, last, last + (f ? 1 : 0), n, want_att, f != NULL)) return 0;
    if (f) {
        h->token_logprobs[last] = f->eos_lp;
        if (want_att)
            memcpy(h->attention + (size_t)last * n, g->alpha + ((size_t)last * K + slot) * n, sizeof(float) * n);
    }
    for (int s = last; s >= 1; s--) { /* slot is in L_s */
        size_t at = (size_t)(s - 1) * K + slot;
        int parent = g->par[at];
        h->tokens[s - 1] = g->tok[at];
        h->token_logprobs[s - 1] = g->lp[at];
        if (want_att)
            memcpy(h->attention + (size_t)(s - 1) * n, g->alpha + ((size_t)(s - 1) * K + parent) * n,
                   sizeof(float) * n);
        slot = parent;
    }
    return 1;
}

/* n-best of g: finished by ranking score, then the live ones. */
static int collect_results(const group *g, int K, const s2s_decode_params *p, s2s_result *res)
{
    int want = p->n_best, n_live_used = 0;
    int total = g->n_fin + g->live < want ? g->n_fin + g->live : want;
    if (!result_alloc(res, g->n, total)) return 0;
    for (int i = 0; i < total; i++) {
        s2s_hypothesis *h = &res->hyps[i];
        if (i < g->n_fin) {
            const finished_hyp *f = &g->fin[i];
            if (!build_hyp(g, K, f->step - 1, f->slot, f, p->want_attention, h)) return 0;
            h->score = (float)f->score;
            h->ranking_score = (float)f->rank;
        } else {
            int slot = n_live_used++; /* live slots are already in score order */
            if (!build_hyp(g, K, g->steps, slot, NULL, p->want_attention, h)) return 0;
            h->score = (float)g->score[slot];
            h->ranking_score = (float)(g->score[slot] / length_penalty(g->steps, p->length_penalty));
        }
    }
    return 1;
}

/* ---- the search loop ---------------------------------------------------- */

/* Builds the rows of all active groups; returns R. */
static int gather_rows(beam_bufs *b, int n, int t, const s2s_model *m, int K)
{
    int R = 0;
    for (int i = 0; i < n; i++) {
        group *g = &b->g[i];
        if (g->done) continue;
        g->row0 = R;
        for (int j = 0; j < g->live; j++, R++) {
            b->prev[R] = t == 1 ? m->sos_id : g->tok[(size_t)(t - 2) * K + j];
            b->rowmem[R] = &g->mem;
        }
    }
    return R;
}

static void start_groups(const s2s_model *m, beam_bufs *b, const int *const *srcs, int n)
{
    for (int i = 0; i < n; i++) {
        group *g = &b->g[i];
        encode(m, srcs[i], g->n, b->enc_scratch, &g->mem);
        g->live = 1;
        g->score[0] = 0.0f;
        g->row0 = i;
        dec_state_init_row(m, &b->st[0], i, &g->mem);
    }
}

s2s_status search_beam(const s2s_model *m, arena *ar, const int *const *srcs, const int *n_srcs, int n,
                       const s2s_decode_params *p, s2s_result *results, s2s_error *err)
{
    int K = p->beam_size, n_max = 1, V = vocab_size(m->vocab[S2S_TARGET]);
    for (int i = 0; i < n; i++) n_max = n_srcs[i] > n_max ? n_srcs[i] : n_max;
    beam_plan pl = {m, n_srcs, n, K, n * K, n_max, V, p};
    beam_bufs b;
    if (!arena_carve(ar, carve_beam, &pl, &b)) {
        s2s_fail(err, S2S_ERR_NOMEM, "out of memory for decoding buffers");
        return S2S_ERR_NOMEM;
    }
    start_groups(m, &b, srcs, n);
    int cur = 0;
    for (int t = 1;; t++) {
        if (p->abort_callback && p->abort_callback(p->abort_user_data)) {
            s2s_fail(err, S2S_ERR_ABORTED, "decoding aborted by the caller");
            return S2S_ERR_ABORTED;
        }
        int R = gather_rows(&b, n, t, m, K);
        if (R == 0) break;
        decoder_step(m, R, b.prev, b.rowmem, &b.st[cur], b.step_scratch, b.alpha_step, n_max, b.logp);
        int out_row = 0;
        for (int i = 0; i < n; i++) {
            group *g = &b.g[i];
            if (g->done) continue;
            if (g->alpha)
                for (int j = 0; j < g->live; j++)
                    memcpy(g->alpha + ((size_t)(t - 1) * K + j) * g->n,
                           b.alpha_step + (size_t)(g->row0 + j) * n_max, sizeof(float) * g->n);
            advance_group(m, p, K, g, t, b.logp + (size_t)g->row0 * V, V, b.cand, &b.st[cur],
                          &b.st[1 - cur], &out_row);
            if (g->done) out_row -= g->live; /* its rows are not carried on */
        }
        cur = 1 - cur;
    }
    for (int i = 0; i < n; i++) {
        group *g = &b.g[i];
        if (!collect_results(g, K, p, &results[i])) {
            for (int j = 0; j <= i; j++) s2s_result_free(&results[j]);
            s2s_fail(err, S2S_ERR_NOMEM, "out of memory for results");
            return S2S_ERR_NOMEM;
        }
    }
    return S2S_OK;
}

/* ---- forced decoding ---------------------------------------------------- */

typedef struct forced_bufs {
    float *membuf, *enc_scratch, *step_scratch, *logp, *alpha_step, *state;
} forced_bufs;

typedef struct forced_plan {
    const s2s_model *m;
    int n_src;
} forced_plan;

static void carve_forced(arena *a, const void *plan, void *bufs)
{
    const forced_plan *pl = plan;
    const s2s_model *m = pl->m;
    int n = pl->n_src;
    forced_bufs *f = bufs;
    f->membuf = arena_take(a, sizeof(float) * memory_floats(m, n));
    f->enc_scratch = arena_take(a, sizeof(float) * encode_scratch_floats(m, n));
    f->step_scratch = arena_take(a, sizeof(float) * step_scratch_floats(m, 1));
    f->logp = arena_take(a, sizeof(float) * (size_t)vocab_size(m->vocab[S2S_TARGET]));
    f->alpha_step = arena_take(a, sizeof(float) * (size_t)n);
    f->state = arena_take(a, sizeof(float) * dec_state_floats(m, 1));
}

s2s_status search_forced(const s2s_model *m, arena *ar, const int *src, int n_src, const int *tgt,
                         int n_tgt, int want_attention, s2s_result *res, s2s_error *err)
{
    forced_bufs f;
    forced_plan pl = {m, n_src};
    memset(res, 0, sizeof *res);
    if (!arena_carve(ar, carve_forced, &pl, &f)) goto nomem;
    if (!result_alloc(res, n_src, 1)) goto nomem;
    s2s_hypothesis *h = &res->hyps[0];
    int steps = n_tgt + 1;
    if (!hypothesis_alloc(h, n_tgt, steps, n_src, want_attention, 1)) goto nomem;
    if (n_tgt > 0) memcpy(h->tokens, tgt, sizeof(int) * (size_t)n_tgt);

    enc_memory mem;
    dec_state st;
    memory_bind(m, n_src, f.membuf, &mem);
    encode(m, src, n_src, f.enc_scratch, &mem);
    dec_state_bind(m, 1, f.state, &st);
    dec_state_init_row(m, &st, 0, &mem);
    const enc_memory *rowmem[1] = {&mem};
    int prev = m->sos_id;
    double score = 0.0;
    for (int s = 0; s < steps; s++) {
        int y = s < n_tgt ? tgt[s] : m->eos_id;
        decoder_step(m, 1, &prev, rowmem, &st, f.step_scratch, f.alpha_step, n_src, f.logp);
        h->token_logprobs[s] = f.logp[y];
        score += f.logp[y];
        if (want_attention) memcpy(h->attention + (size_t)s * n_src, f.alpha_step, sizeof(float) * n_src);
        prev = y;
    }
    h->score = (float)score;
    h->ranking_score = (float)score;
    return S2S_OK;
nomem:
    s2s_result_free(res);
    s2s_fail(err, S2S_ERR_NOMEM, "out of memory for forced decoding");
    return S2S_ERR_NOMEM;
}
