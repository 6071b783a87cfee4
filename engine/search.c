/*
 * search.c - beam search (greedy = width 1), sampling and forced decoding,
 * exactly as docs/model-format.md sections 6 and 9.5 describe them.
 *
 * Beam bookkeeping, per sentence: live set L_s after step s (L_0 = the empty
 * hypothesis). Slot j of L_s came from parent par[s][j] in L_{s-1} by token
 * tok[s][j] with log-probability lp[s][j]. The attention row computed at
 * step s for slot i of L_{s-1} is alpha[s][i]. A finished hypothesis is
 * (step t, slot i of L_{t-1}) plus eos; tokens and rows are read back
 * through the parents at the end, so nothing is copied per step but the
 * decoder state rows.
 *
 * A target prefix forces the first steps (one live hypothesis, its tokens
 * recorded like any other). Sampling keeps K independent rows (one per
 * sample), each drawing its next token from its own generator.
 */
#include "search.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "kernels.h"
#include "numbers.h"
#include "result.h"
#include "shortlist.h"

/* GNMT length penalty ((5 + len) / 6) ^ alpha. */
static double length_penalty(int len, float alpha)
{
    return alpha == 0.0f ? 1.0 : pow((5.0 + len) / 6.0, (double)alpha);
}

typedef struct finished_hyp {
    int step;         /* t: the step that emitted eos */
    int slot;         /* slot in L_{t-1} it extends */
    int sample;       /* sampling: the sample it belongs to */
    double score;     /* total log-probability, eos included */
    float eos_lp;     /* log-probability of the eos */
    double rank;      /* score / length_penalty(t) + coverage penalty */
} finished_hyp;

typedef struct candidate {
    double score;
    int slot;  /* live hypothesis it extends */
    int token;
} candidate;

/* Per-sentence search state; all arrays carved from the arena. */
typedef struct group {
    enc_memory mem;
    const search_input *in;
    int n;              /* source length */
    int max_len;        /* steps */
    int live;           /* |L_s| */
    int row0;           /* first decoder row this step */
    int done;
    int steps;          /* steps taken */
    int *par, *tok;     /* [max_len][K] */
    float *lp;          /* [max_len][K] */
    float *alpha;       /* [max_len][K][n] (attention kept, or a coverage penalty) */
    double *score;      /* [K] scores of L_s (sums in double, as the reference) */
    finished_hyp *fin;  /* the n_best best finished, best first */
    int n_fin;          /* how many of them are filled */
    int *sample_of;     /* sampling: [K] the sample each live slot belongs to */
    uint64_t *rng;      /* sampling: [K] generator state per sample */
    int scores_unknown; /* a step was chosen from the logits (top_two_from_logits) */
} group;

/* Keep numbers in beam search: each live slot's level (how many of its
 * input's C number ids it holds) and the candidates it is chosen from. */
typedef struct level_bufs {
    candidate *pool;       /* [K * (2K + C_max)] every row's best 2K and its missing numbers */
    int *pool_level;       /* [same] the level each candidate reaches */
    unsigned char *taken;  /* [same] 1 = chosen for L_t */
    int *count;            /* [K * C_max] count[slot * C + k]: the positions where the slot holds numbers[k] */
    int *slot_level;       /* [K] how many numbers each slot holds */
    int *last_number;      /* [K] the alone number its last token holds (index k), else -1 */
    int *sep_number;       /* [K] the alone number held before its last token when that is a separator, else -1 */
    unsigned char *after_separator; /* [K] 1 = its last tokens are digits and a separator (numbers.h) */
} level_bufs;

/* Everything a search call needs, carved once. */
typedef struct beam_bufs {
    group *g;
    int *prev;                 /* [R] last token per row */
    const enc_memory **rowmem; /* [R] */
    float *enc_scratch, *step_scratch, *alpha_step, *logp;
    float *row_max;            /* [R] each row's largest logit (log-softmax taken as rows are read) */
    int *enc_ints;             /* [3 * ENC_CHUNK] encode_batch's ints */
    int *enc_n;                /* [ENC_CHUNK] source lengths of a chunk */
    const int **enc_src;       /* [ENC_CHUNK] sources of a chunk */
    enc_memory **enc_mem;      /* [ENC_CHUNK] their memories */
    dec_state st[2];
    candidate *cand;           /* [2K] heap */
    level_bufs lv;             /* keep numbers in beam search (K > 1), else all NULL */
    int *history;              /* [T_max + 1] a hypothesis' tokens (n-gram blocking, keep numbers) */
    unsigned char *glue;       /* keep numbers: [T_max + 1] their glue classes, else NULL */
    unsigned char *held;       /* keep numbers: [numbers_max] which numbers they hold, else NULL */
    float *coverage_acc;       /* [n_max] attention sums (coverage penalty) */
    int *order;                /* [Vx] token order (sampling) */
    float *prob;               /* [Vx] probabilities (sampling) */
    unsigned char *sl_mark;    /* shortlist: [V] 1 = target id in the list being built */
    int *sl_lists;             /* shortlist: every input's own ids, one list after another */
    out_subset sub;            /* shortlist: the union's output rows (k 0 = none) */
} beam_bufs;

typedef struct beam_plan {
    const s2s_model *m;
    const search_input *in;
    int n, K, R, n_max, Vx, T_max;
    int numbers_max;      /* keep numbers: the most number ids of an input, else 0 */
    const s2s_decode_params *p;
    const model_q8 *q;    /* fast mode's int8 weights, or NULL */
    const shortlist *sl;  /* the model's shortlist when the fast mode uses it, else NULL */
} beam_plan;

/* Sentences encoded together: one product per time step over all of them,
 * with scratch that stays bounded however many inputs a call has. */
#define ENC_CHUNK 64

static int max_length_for(const s2s_model *m, const s2s_decode_params *p, int n_src)
{
    int L = p->max_length > 0 ? p->max_length : m->cfg.max_length > 0 ? m->cfg.max_length : 2 * n_src + 10;
    return L > S2S_MAX_DECODE_STEPS ? S2S_MAX_DECODE_STEPS : L;
}

/* Rows each input keeps: the beam width, or the number of samples. */
static int rows_per_input(const s2s_decode_params *p)
{
    return p->sampling ? p->num_samples : p->beam_size;
}

static int keeps_alpha(const s2s_decode_params *p)
{
    return p->want_attention || p->coverage_penalty > 0.0f;
}

static void carve_beam(arena *a, const void *plan, void *bufs)
{
    const beam_plan *pl = plan;
    beam_bufs *b = bufs;
    const s2s_model *m = pl->m;
    size_t enc = 0;
    int K = pl->K, n_fin = pl->p->sampling ? K : pl->p->n_best;
    b->g = arena_take(a, sizeof(group) * (size_t)pl->n);
    for (int c = 0; c < pl->n; c += ENC_CHUNK) { /* encoder scratch of the largest chunk */
        int lens[ENC_CHUNK], S = pl->n - c < ENC_CHUNK ? pl->n - c : ENC_CHUNK;
        for (int i = 0; i < S; i++) lens[i] = pl->in[c + i].n;
        size_t e = encode_batch_scratch_floats(m, lens, S);
        enc = e > enc ? e : enc;
    }
    for (int i = 0; i < pl->n; i++) {
        const search_input *in = &pl->in[i];
        int n = in->n, T = max_length_for(m, pl->p, n);
        size_t TK = (size_t)T * K;
        float *membuf = arena_take(a, sizeof(float) * memory_floats(m, n));
        int *par = arena_take(a, sizeof(int) * TK), *tok = arena_take(a, sizeof(int) * TK);
        float *lp = arena_take(a, sizeof(float) * TK);
        float *alpha = keeps_alpha(pl->p) ? arena_take(a, sizeof(float) * TK * n) : NULL;
        double *score = arena_take(a, sizeof(double) * K);
        finished_hyp *fin = arena_take(a, sizeof(finished_hyp) * n_fin);
        int *sample_of = pl->p->sampling ? arena_take(a, sizeof(int) * K) : NULL;
        uint64_t *rng = pl->p->sampling ? arena_take(a, sizeof(uint64_t) * K) : NULL;
        if (a->measuring) continue;
        group *g = &b->g[i];
        memset(g, 0, sizeof *g);
        memory_bind(m, n, membuf, &g->mem);
        g->mem.copy_ids = in->copy_ids;
        g->mem.copy_same_as = in->copy_same_as;
        g->mem.n_ext = in->n_ext;
        g->in = in;
        g->n = n; g->max_len = T; g->par = par; g->tok = tok; g->lp = lp;
        g->alpha = alpha; g->score = score; g->fin = fin; g->sample_of = sample_of; g->rng = rng;
    }
    b->prev = arena_take(a, sizeof(int) * pl->R);
    b->rowmem = arena_take(a, sizeof(void *) * pl->R);
    b->enc_scratch = arena_take(a, sizeof(float) * enc);
    b->enc_ints = arena_take(a, sizeof(int) * 3 * ENC_CHUNK);
    b->enc_n = arena_take(a, sizeof(int) * ENC_CHUNK);
    b->enc_src = arena_take(a, sizeof(int *) * ENC_CHUNK);
    b->enc_mem = arena_take(a, sizeof(enc_memory *) * ENC_CHUNK);
    b->step_scratch = arena_take(a, sizeof(float) * step_scratch_floats(m, pl->R, pl->n_max));
    b->alpha_step = arena_take(a, sizeof(float) * (size_t)pl->R * pl->n_max);
    b->logp = arena_take(a, sizeof(float) * (size_t)pl->R * pl->Vx);
    b->row_max = arena_take(a, sizeof(float) * (size_t)pl->R);
    for (int k = 0; k < 2; k++) {
        float *s = arena_take(a, sizeof(float) * dec_state_floats(m, pl->R, pl->n_max));
        if (!a->measuring) dec_state_bind(m, pl->R, pl->n_max, s, &b->st[k]);
    }
    b->cand = arena_take(a, sizeof(candidate) * 2 * (size_t)K);
    memset(&b->lv, 0, sizeof b->lv);
    if (pl->numbers_max > 0 && K > 1) {
        size_t pool = (size_t)K * (size_t)(2 * K + pl->numbers_max);
        b->lv.pool = arena_take(a, sizeof(candidate) * pool);
        b->lv.pool_level = arena_take(a, sizeof(int) * pool);
        b->lv.taken = arena_take(a, pool);
        b->lv.count = arena_take(a, sizeof(int) * (size_t)K * (size_t)pl->numbers_max);
        b->lv.slot_level = arena_take(a, sizeof(int) * (size_t)K);
        b->lv.last_number = arena_take(a, sizeof(int) * (size_t)K);
        b->lv.sep_number = arena_take(a, sizeof(int) * (size_t)K);
        b->lv.after_separator = arena_take(a, (size_t)K);
    }
    b->history = arena_take(a, sizeof(int) * ((size_t)pl->T_max + 1));
    b->glue = pl->numbers_max > 0 ? arena_take(a, (size_t)pl->T_max + 1) : NULL;
    b->held = pl->numbers_max > 0 ? arena_take(a, (size_t)pl->numbers_max) : NULL;
    b->coverage_acc = pl->p->coverage_penalty > 0.0f ? arena_take(a, sizeof(float) * (size_t)pl->n_max) : NULL;
    b->order = pl->p->sampling ? arena_take(a, sizeof(int) * (size_t)pl->Vx) : NULL;
    b->prob = pl->p->sampling ? arena_take(a, sizeof(float) * (size_t)pl->Vx) : NULL;
    memset(&b->sub, 0, sizeof b->sub);
    b->sl_mark = NULL;
    b->sl_lists = NULL;
    if (pl->sl) { /* room for every target id: the selection is made after carving */
        const qmat *w = &pl->q->out;
        size_t V = (size_t)w->out, V_pad = (size_t)q8_rows_padded(w->out), lists = 0;
        for (int i = 0; i < pl->n; i++) lists += (size_t)shortlist_bound(pl->sl, pl->in[i].ids, pl->in[i].n,
                                                                         pl->in[i].n_prefix + pl->in[i].n_numbers + 2);
        b->sl_mark = arena_take(a, V);
        b->sl_lists = arena_take(a, sizeof(int) * lists);
        b->sub.ids = arena_take(a, sizeof(int) * V);
        b->sub.pos = arena_take(a, sizeof(int) * V);
        b->sub.w.q = arena_take(a, V_pad * (size_t)w->in_pad);
        b->sub.w.scale = arena_take(a, sizeof(float) * V_pad);
        b->sub.w.corr = arena_take(a, sizeof(int32_t) * V_pad);
        b->sub.bias = arena_take(a, sizeof(float) * V);
        b->sub.logits = arena_take(a, sizeof(float) * V * (size_t)pl->R);
        b->sub.vals = arena_take(a, sizeof(float) * V);
    }
}

/* The fast mode's shortlist of each input, in this order: the frequent ids,
 * eos and unk, the candidates of its source ids, its prefix ids and (keep
 * numbers) the target ids of its numbers; each
 * group's memory points at its own list. Their union's rows of the int8
 * output projection are gathered into b->sub. */
static void select_shortlist(const s2s_model *m, const shortlist *sl, const model_q8 *q, const search_input *in, int n,
                             beam_bufs *b)
{
    const qmat *w = &q->out;
    int V = w->out, k = 0, *ids = (int *)b->sub.ids, *pos = (int *)b->sub.pos, *list = b->sl_lists;
    int special[2] = {m->eos_id, m->unk_id[S2S_TARGET]};
    memset(b->sl_mark, 0, (size_t)V);
    for (int t = 0; t < V; t++) pos[t] = -1;
    for (int i = 0; i < n; i++) {
        int K = 0;
        shortlist_add_targets(sl->frequent, sl->n_frequent, V, b->sl_mark, list, &K);
        shortlist_add_targets(special, 2, V, b->sl_mark, list, &K);
        shortlist_add_source(sl, in[i].ids, in[i].n, b->sl_mark, list, &K);
        shortlist_add_targets(in[i].prefix, in[i].n_prefix, V, b->sl_mark, list, &K);
        shortlist_add_targets(in[i].numbers, in[i].n_numbers, V, b->sl_mark, list, &K);
        for (int j = 0; j < K; j++) { /* clear the marks for the next input; add to the union */
            b->sl_mark[list[j]] = 0;
            if (pos[list[j]] < 0) {
                pos[list[j]] = k;
                ids[k++] = list[j];
            }
        }
        b->g[i].mem.shortlist_ids = list;
        b->g[i].mem.shortlist_k = K;
        list += K;
    }
    float *bias = (float *)b->sub.bias;
    qmat_gather(&b->sub.w, w, ids, k);
    for (int i = 0; i < k; i++) bias[i] = m->w.out_b ? m->w.out_b[ids[i]] : 0.0f;
    b->sub.k = k;
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

/* top_candidates for one live hypothesis and cap 2 (greedy): one pass
 * keeping the best two, ranked as the heap ranks them. A hypothesis of
 * score -infinity (a prefix token of probability 0) leaves every sum at
 * -infinity: its tokens then rank by log p alone, so that greedy still
 * takes the arg-max (model-format.md section 6), and keep that score. */
static int top_two(const group *g, float *row, int width, int eos, int mask_eos, const float *row_max, candidate *h)
{
    int n = 0;
    if (row_max) log_softmax_from_max(row, width, row_max[0]);
    double score = g->score[0], base = score == -INFINITY ? 0.0 : score;
    /* Scores base + row[v] rank as row[v] does, so the two best are among
     * the tokens whose log p reaches the second largest; the margin keeps
     * any token whose double sum could round level with it (ties go to the
     * lower id), and the exact ranking below decides among those few. */
    float m2 = second_largest(row, width, mask_eos ? eos : -1);
    float lo = m2 - 1e-5f * (1.0f + fabsf(m2)) - 1e-9f * (float)fabs(base);
    if (!(lo > -INFINITY)) lo = -INFINITY;
    for (int v = next_at_least(row, 0, width, lo); v < width; v = next_at_least(row, v + 1, width, lo)) {
        if (row[v] == -INFINITY || (mask_eos && v == eos)) continue;
        candidate c = {base + (double)row[v], 0, v};
        if (n < 2) {
            h[n++] = c;
            if (n == 2 && ranks_after(&h[0], &h[1])) {
                candidate t = h[0]; h[0] = h[1]; h[1] = t;
            }
        } else if (ranks_after(&h[1], &c)) {
            if (ranks_after(&h[0], &c)) {
                h[1] = h[0];
                h[0] = c;
            } else {
                h[1] = c;
            }
        }
    }
    if (base != score)
        for (int i = 0; i < n; i++) h[i].score = score;
    return n;
}

/* Greedy decoding that reports no scores (want_scores 0): the two
 * candidates top_two would return, from a row of logits z when the logits
 * alone decide them (kernels.h, top_two_of_logits); their scores are base
 * (what this step adds is not known). 0 when the log-softmax is needed. */
static int top_two_from_logits(const group *g, const float *z, int width, candidate *h)
{
    int ids[2];
    if (!top_two_of_logits(z, width, ids)) return 0;
    candidate c0 = {g->score[0], 0, ids[0]}, c1 = {g->score[0], 0, ids[1]};
    h[0] = c0;
    h[1] = c1;
    return 2;
}

/* Adds the candidates of one row (slot `slot`, score `base`) to the
 * min-heap h (n entries, at most cap); returns the new count. The row holds
 * log p over the first `width` tokens; eos is skipped when mask_eos, and a
 * token of log-probability -infinity is never a candidate. */
static int add_row_candidates(const float *row, int width, double base, int slot, int eos, int mask_eos,
                              candidate *h, int n, int cap)
{
    /* Once the heap is full, a token can enter only with base + row[v]
     * >= the worst kept score: row[v] >= that minus base, less a margin
     * for the float rounding of the bound. A vector pass skips the rest. */
    float lo = -INFINITY;
    for (int v = next_at_least(row, 0, width, lo); v < width; v = next_at_least(row, v + 1, width, lo)) {
        if (n == cap) {
            float bound = (float)(h[0].score - base);
            lo = bound - 1e-5f * (1.0f + fabsf(bound)) - 1e-9f * (float)fabs(base);
            if (row[v] < lo) continue;
        }
        if (row[v] == -INFINITY) continue;
        double sc = base + (double)row[v];
        /* a full heap only admits candidates at least as good as its worst */
        if (n == cap && sc < h[0].score) continue;
        if (mask_eos && v == eos) continue;
        candidate c = {sc, slot, v};
        if (n < cap) {
            h[n] = c;
            heap_sift_up(h, n++);
        } else if (ranks_after(&h[0], &c)) {
            h[0] = c;
            heap_sift_down(h, n, 0);
        }
    }
    return n;
}

/* The best `cap` candidates over all live slots, best first; returns count.
 * logp (live, ld) rows over the first `width` tokens; eos masked in the
 * rows i with eos_masked[i]. A token of log-probability -infinity is never
 * a candidate.
 * With row_max (live,), the rows hold logits and each gets its log-softmax
 * (in place) just before it is scanned. */
static int top_candidates(const group *g, float *logp, int ld, int width, int eos, const unsigned char *eos_masked,
                          const float *row_max, candidate *h, int cap)
{
    if (cap == 2 && g->live == 1) return top_two(g, logp, width, eos, eos_masked[0], row_max, h);
    int n = 0;
    for (int i = 0; i < g->live; i++) {
        float *row = logp + (size_t)i * ld;
        if (row_max) log_softmax_from_max(row, width, row_max[i]);
        n = add_row_candidates(row, width, g->score[i], i, eos, eos_masked[i], h, n, cap);
    }
    heap_sort_best_first(h, n);
    return n;
}

/* ---- hypotheses read back through the parents ---------------------------- */

/* Tokens of the hypothesis in slot `slot` of L_s into out[0..s-1]. */
static void tokens_of(const group *g, int K, int s, int slot, int *out)
{
    for (; s >= 1; s--) {
        size_t at = (size_t)(s - 1) * K + slot;
        out[s - 1] = g->tok[at];
        slot = g->par[at];
    }
}

/* ---- keep numbers: which numbers a hypothesis holds ---------------------- */

/* The index of `token` among the input's number ids, or -1. */
static int number_index(const search_input *in, int token)
{
    for (int k = 0; k < in->n_numbers; k++)
        if (in->numbers[k] == token) return k;
    return -1;
}

/* The glue class (numbers.h) of target id y of input `in`. */
static unsigned char token_glue(const s2s_model *m, const search_input *in, int y)
{
    int V = vocab_size(m->vocab[S2S_TARGET]);
    return y < V ? m->target_glue[y] : in->ext_glue ? in->ext_glue[y - V] : 0;
}

/* 1 when the number the input's index k names, at position s of tokens
 * with glue classes glue[0..n), counts as held there: when the source
 * writes it alone, it must stand alone, neither continued by the tokens
 * after it nor the end of a longer number (numbers.h). */
static int held_at(const search_input *in, int k, const unsigned char *glue, int n, int s)
{
    return !in->number_alone[k] || !(number_continued(glue, n, s) || number_after_separator(glue, s));
}

/* Which of the input's number ids tokens[0..len) hold, into held[k]; returns
 * how many: a number is held where its id occurs at a position held_at
 * accepts. glue: scratch for len classes. */
static int numbers_held(const s2s_model *m, const search_input *in, const int *tokens, int len, unsigned char *glue,
                        unsigned char *held)
{
    int count = 0;
    for (int s = 0; s < len; s++) glue[s] = token_glue(m, in, tokens[s]);
    memset(held, 0, (size_t)in->n_numbers);
    for (int s = 0; s < len; s++) {
        int k = number_index(in, tokens[s]);
        if (k < 0 || held[k] || !held_at(in, k, glue, len, s)) continue;
        held[k] = 1;
        count++;
    }
    return count;
}

/* keep_numbers: 1 when the hypothesis in slot `slot` of L_s lacks one of
 * the input's numbers (b->history: room for s tokens). */
static int lacks_a_number(const s2s_model *m, const group *g, int K, int s, int slot, beam_bufs *b)
{
    if (g->in->n_numbers == 0) return 0;
    tokens_of(g, K, s, slot, b->history);
    return numbers_held(m, g->in, b->history, s, b->glue, b->held) < g->in->n_numbers;
}

/* Which live slots of L_{t-1} may not end at step t: all of them before
 * min_length tokens, and (keep_numbers) each that lacks a number of its
 * source. Returns 1 when any may not. */
static int mask_eos_rows(const s2s_model *m, const group *g, const s2s_decode_params *p, int K, int t, beam_bufs *b,
                         unsigned char *eos_masked)
{
    int any = 0;
    for (int i = 0; i < g->live; i++) {
        eos_masked[i] = t - 1 < p->min_length || (p->keep_numbers && lacks_a_number(m, g, K, t - 1, i, b));
        any |= eos_masked[i];
    }
    return any;
}

/* No n-gram repeats (section 9.5): for each live slot of L_{t-1}, sets to
 * -infinity every token that would complete an N-gram already present in
 * its tokens. logp rows (live, ld). */
static void block_repeated_ngrams(const group *g, int K, int t, int N, float *logp, int ld, int *hist)
{
    int len = t - 1; /* tokens so far */
    if (N < 1 || len < N - 1) return;
    for (int i = 0; i < g->live; i++) {
        tokens_of(g, K, len, i, hist);
        float *row = logp + (size_t)i * ld;
        const int *tail = hist + len - (N - 1); /* the last N-1 tokens */
        for (int s = 0; s + N - 1 < len; s++)   /* an earlier N-gram hist[s..s+N-1] */
            if (memcmp(hist + s, tail, sizeof(int) * (size_t)(N - 1)) == 0) row[hist[s + N - 1]] = -INFINITY;
    }
}

/* GNMT coverage penalty (section 9.5) of the hypothesis finished at step t
 * from slot `slot` of L_{t-1}: beta * sum_j log(min(1, sum over its steps of
 * alpha_{s,j})), the eos step included. `acc` (n,) scratch. */
static double coverage_penalty(const group *g, int K, int t, int slot, float beta, float *acc)
{
    int n = g->n;
    memset(acc, 0, sizeof(float) * (size_t)n);
    for (int s = t; s >= 1; s--) { /* the row of step s was computed for `slot` of L_{s-1} */
        const float *row = g->alpha + ((size_t)(s - 1) * K + slot) * n;
        for (int j = 0; j < n; j++) acc[j] += row[j];
        if (s > 1) slot = g->par[(size_t)(s - 2) * K + slot];
    }
    double cp = 0.0;
    for (int j = 0; j < n; j++) cp += log(acc[j] < 1.0f ? (double)acc[j] : 1.0);
    return (double)beta * cp;
}

/* ---- one step of one sentence ------------------------------------------ */

/* Keeps g->fin the `keep` best finished hypotheses, best first by ranking
 * score; on equal ranking scores the earlier arrival stays ahead, so a
 * newcomer that only ties the worst kept one is dropped. */
static void keep_finished(group *g, int keep, const finished_hyp *f)
{
    int at = g->n_fin;
    while (at > 0 && g->fin[at - 1].rank < f->rank) at--;
    if (at >= keep) return;
    int last = g->n_fin < keep ? g->n_fin : keep - 1;
    memmove(g->fin + at + 1, g->fin + at, sizeof *f * (size_t)(last - at));
    g->fin[at] = *f;
    if (g->n_fin < keep) g->n_fin++;
}

/* Records slot `slot` of L_{t-1} extended by `token` as slot `live` of L_t
 * and moves its state row. */
static void extend(const s2s_model *m, group *g, int K, int t, int live, int slot, int token, float clp,
                   const dec_state *from, dec_state *to, int out_row)
{
    size_t at = (size_t)(t - 1) * K + live;
    g->par[at] = slot;
    g->tok[at] = token;
    g->lp[at] = clp;
    dec_state_copy_row(m, from, g->row0 + slot, to, out_row);
}

/* Ends the group when it has reached max_length or has no live hypothesis,
 * or (beam search) when no live hypothesis can still beat the n-th best
 * finished one. */
static void check_done(group *g, const s2s_decode_params *p, int t)
{
    if (t >= g->max_len || g->live == 0) {
        g->done = 1;
    } else if (!p->sampling && g->n_fin >= p->n_best) {
        double bound = g->score[0] / length_penalty(g->max_len, p->length_penalty);
        if (!(bound > g->fin[p->n_best - 1].rank)) g->done = 1;
    }
}

/* A forced step t of the target prefix: the one live hypothesis takes
 * prefix[t-1]. */
static void advance_prefix(const s2s_model *m, int K, group *g, int t, const float *logp, const dec_state *from,
                           dec_state *to, int *out_row)
{
    int y = g->in->prefix[t - 1];
    float clp = logp[y];
    extend(m, g, K, t, 0, 0, y, clp, from, to, *out_row);
    g->score[0] += (double)clp;
    g->live = 1;
    g->steps = t;
    *out_row += 1;
}

/* Records candidate c (an eos of slot c->slot of L_{t-1}, log-probability
 * clp) as a finished hypothesis of g. */
static void finish_candidate(group *g, const s2s_decode_params *p, int K, int t, const candidate *c, float clp,
                             beam_bufs *b)
{
    double rank = c->score / length_penalty(t, p->length_penalty);
    if (p->coverage_penalty > 0.0f) rank += coverage_penalty(g, K, t, c->slot, p->coverage_penalty, b->coverage_acc);
    finished_hyp f = {t, c->slot, 0, c->score, clp, rank};
    keep_finished(g, p->n_best, &f);
}

/* ---- keep numbers in beam search ---------------------------------------- */

/* For each live slot of L_{t-1}: at how many positions it holds each of
 * the input's numbers (numbers_held's rule), how many it holds, and which
 * held numbers one more token could continue: its last token, or the one
 * before a final separator; and whether it ends with digits and a
 * separator, after which a number ends a longer one (numbers.h). */
static void slot_numbers(const s2s_model *m, const group *g, int K, int t, beam_bufs *b)
{
    const search_input *in = g->in;
    level_bufs *lv = &b->lv;
    int C = in->n_numbers, len = t - 1, *hist = b->history;
    unsigned char *glue = b->glue;
    for (int i = 0; i < g->live; i++) {
        int *count = lv->count + (size_t)i * C;
        tokens_of(g, K, len, i, hist);
        for (int s = 0; s < len; s++) glue[s] = token_glue(m, in, hist[s]);
        memset(count, 0, sizeof(int) * (size_t)C);
        for (int s = 0; s < len; s++) {
            int k = number_index(in, hist[s]);
            if (k >= 0 && held_at(in, k, glue, len, s)) count[k]++;
        }
        lv->slot_level[i] = 0;
        for (int k = 0; k < C; k++) lv->slot_level[i] += count[k] > 0;
        int last = len >= 1 ? number_index(in, hist[len - 1]) : -1;
        int before = len >= 2 && (glue[len - 1] & GLUE_SEPARATOR) ? number_index(in, hist[len - 2]) : -1;
        /* only a number held there can be continued (an alone number that
         * ends a longer one is not held, so nothing changes) */
        lv->last_number[i] =
            last >= 0 && in->number_alone[last] && held_at(in, last, glue, len, len - 1) ? last : -1;
        lv->sep_number[i] =
            before >= 0 && in->number_alone[before] && held_at(in, before, glue, len, len - 2) ? before : -1;
        lv->after_separator[i] = (unsigned char)number_after_separator(glue, len);
    }
}

/* The level of candidate c: how many numbers its slot's tokens followed by
 * c->token hold. Only the token itself (a number at the end is never
 * continued, but may end a longer number) and the number it may continue
 * change the slot's counts. */
static int candidate_level(const s2s_model *m, const group *g, const candidate *c, const level_bufs *lv)
{
    const search_input *in = g->in;
    const int *count = lv->count + (size_t)c->slot * in->n_numbers;
    unsigned char glue = token_glue(m, in, c->token);
    int level = lv->slot_level[c->slot], continued = -1, placed = number_index(in, c->token);
    if ((glue & GLUE_WORD) && lv->last_number[c->slot] >= 0) continued = lv->last_number[c->slot];
    else if ((glue & GLUE_DIGIT) && lv->sep_number[c->slot] >= 0) continued = lv->sep_number[c->slot];
    if (continued >= 0 && count[continued] == 1) level--;
    if (placed >= 0 && !(in->number_alone[placed] && lv->after_separator[c->slot]) &&
        count[placed] - (placed == continued) == 0)
        level++;
    return level;
}

/* Sorts the n candidates best first (the order is total: no two share a
 * slot and a token). No allocation, unlike qsort. */
static void sort_best_first(candidate *c, int n)
{
    for (int i = 1; i < n; i++) heap_sift_up(c, i);
    heap_sort_best_first(c, n);
}

/* A number whose log-probability is below this is not added to the
 * candidates: its probability would be no normal float, which the copy
 * mixture flushes to zero (docs/model-format.md section 9.5). */
#define MIN_FORCED_LOGPROB (-87.0f)

/* The candidates a step of keep numbers chooses from, best first: each
 * live slot's best 2K (as top_candidates ranks them) and each number id
 * the slot lacks (when its log-probability is at least
 * MIN_FORCED_LOGPROB); with the level each reaches in lv->pool_level.
 * Returns their count. */
static int level_candidates(const s2s_model *m, const group *g, int K, float *logp, int ld, int width,
                            const unsigned char *eos_masked, const float *row_max, beam_bufs *b)
{
    level_bufs *lv = &b->lv;
    int eos = m->eos_id;
    int n = 0, C = g->in->n_numbers;
    for (int i = 0; i < g->live; i++) {
        float *row = logp + (size_t)i * ld;
        if (row_max) log_softmax_from_max(row, width, row_max[i]);
        candidate *own = lv->pool + n;
        int kept = add_row_candidates(row, width, g->score[i], i, eos, eos_masked[i], own, 0, 2 * K);
        const int *count = lv->count + (size_t)i * C;
        for (int k = 0; k < C; k++) {
            int y = g->in->numbers[k], listed = 0;
            if (count[k] > 0 || y >= width || !(row[y] >= MIN_FORCED_LOGPROB)) continue;
            for (int j = 0; j < kept && !listed; j++) listed = own[j].token == y;
            if (!listed) {
                candidate c = {g->score[i] + (double)row[y], i, y};
                own[kept++] = c;
            }
        }
        n += kept;
    }
    sort_best_first(lv->pool, n);
    for (int r = 0; r < n; r++) lv->pool_level[r] = candidate_level(m, g, &lv->pool[r], lv);
    return n;
}

/* Beam search with keep numbers, K > 1, for an input with C >= 1 number
 * ids (docs/model-format.md section 9.5): the K slots of L_t are shared
 * among the levels 0..C so that hypotheses that hold more numbers stay in
 * the beam. Level l is given K / (C + 1) slots, one more for the K mod
 * (C + 1) highest levels; each level takes its best non-eos candidates up
 * to its share, and the slots a level leaves empty go to the best non-eos
 * candidates not yet taken, whatever their level. An eos (only a
 * hypothesis of level C may end) finishes when it ranks among the first K
 * candidates of level C. Slot order in L_t is rank order. */
static void advance_beam_by_level(const s2s_model *m, const s2s_decode_params *p, int K, group *g, int t,
                                  float *logp, int ld, const float *row_max, const unsigned char *eos_masked,
                                  beam_bufs *b, const dec_state *from, dec_state *to, int *out_row)
{
    level_bufs *lv = &b->lv;
    int eos = m->eos_id, C = g->in->n_numbers, width = vocab_size(m->vocab[S2S_TARGET]) + g->mem.n_ext;
    slot_numbers(m, g, K, t, b);
    int nc = level_candidates(m, g, K, logp, ld, width, eos_masked, row_max, b);
    for (int r = 0; r < nc; r++) lv->taken[r] = 0;
    for (int r = 0, top = 0; r < nc && top < K; r++) {
        if (lv->pool_level[r] != C) continue;
        const candidate *c = &lv->pool[r];
        if (c->token == eos) finish_candidate(g, p, K, t, c, logp[(size_t)c->slot * ld + eos], b);
        top++;
    }
    int chosen = 0;
    for (int level = C; level >= 0; level--) {
        int share = K / (C + 1) + (C - level < K % (C + 1));
        for (int r = 0; r < nc && share > 0; r++)
            if (lv->pool_level[r] == level && lv->pool[r].token != eos) {
                lv->taken[r] = 1;
                share--;
                chosen++;
            }
    }
    for (int r = 0; r < nc && chosen < K; r++)
        if (!lv->taken[r] && lv->pool[r].token != eos) {
            lv->taken[r] = 1;
            chosen++;
        }
    double new_score[S2S_MAX_BEAM];
    int live = 0;
    for (int r = 0; r < nc; r++) {
        if (!lv->taken[r]) continue;
        const candidate *c = &lv->pool[r];
        extend(m, g, K, t, live, c->slot, c->token, logp[(size_t)c->slot * ld + c->token], from, to, *out_row + live);
        new_score[live++] = c->score;
    }
    memcpy(g->score, new_score, sizeof(double) * (size_t)live);
    g->live = live;
    g->steps = t;
    *out_row += live;
    check_done(g, p, t);
}

/* Ranks the candidates of group g at step t (1-based), records finished
 * hypotheses and the new live set, and moves the chosen state rows from
 * `from` to `to` starting at row *out_row. */
static void advance_beam(const s2s_model *m, const s2s_decode_params *p, int K, group *g, int t, float *logp,
                         int ld, int logits, const float *row_max, beam_bufs *b, const dec_state *from,
                         dec_state *to, int *out_row)
{
    int eos = m->eos_id, cap = 2 * K, width = vocab_size(m->vocab[S2S_TARGET]) + g->mem.n_ext;
    int nc = 0, from_logits = 0;
    unsigned char eos_masked[S2S_MAX_BEAM];
    int mask_eos = mask_eos_rows(m, g, p, K, t, b, eos_masked);
    if (p->no_repeat_ngram > 0) block_repeated_ngrams(g, K, t, p->no_repeat_ngram, logp, ld, b->history);
    if (b->lv.pool && g->in->n_numbers > 0) {
        advance_beam_by_level(m, p, K, g, t, logp, ld, row_max, eos_masked, b, from, to, out_row);
        return;
    }
    candidate *cand = b->cand;
    if (logits) { /* one live row of logits (see run_search) */
        if (!mask_eos) nc = from_logits = top_two_from_logits(g, logp, width, cand);
        if (from_logits) g->scores_unknown = 1;
        else log_softmax(logp, width);
    }
    if (!nc) nc = top_candidates(g, logp, ld, width, eos, eos_masked, row_max, cand, cap);
    double new_score[S2S_MAX_BEAM];
    int live = 0;
    for (int r = 0; r < nc && live < K; r++) {
        const candidate *c = &cand[r];
        float clp = from_logits ? NAN : logp[(size_t)c->slot * ld + c->token];
        if (c->token == eos) {
            if (r < K) finish_candidate(g, p, K, t, c, clp, b);
            continue;
        }
        extend(m, g, K, t, live, c->slot, c->token, clp, from, to, *out_row + live);
        new_score[live] = c->score;
        live++;
    }
    memcpy(g->score, new_score, sizeof(double) * (size_t)live);
    g->live = live;
    g->steps = t;
    *out_row += live;
    check_done(g, p, t);
}

/* ---- sampling ------------------------------------------------------------ */

/* splitmix64: the engine's own generator, the same on every platform. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Generator of sample k of the input with stream number `stream`. */
static uint64_t seed_for(uint64_t seed, uint64_t stream, int k)
{
    uint64_t s = seed;
    uint64_t a = next_random(&s);
    s ^= stream * 0xD1B54A32D192ED03ULL;
    uint64_t b = next_random(&s);
    s ^= (uint64_t)k * 0xABC98388FB8FAC03ULL;
    return a ^ b ^ next_random(&s);
}

/* order[0..n) sorted by row value, highest first (ties: lower id), heap sort. */
static void sift_tokens(int *order, const float *row, int n, int i)
{
    for (;;) { /* min-heap on (value, -id): the root is the lowest ranked */
        int l = 2 * i + 1, r = l + 1, w = i;
#define LOWER(a, b) (row[a] < row[b] || (row[a] == row[b] && (a) > (b)))
        if (l < n && LOWER(order[l], order[w])) w = l;
        if (r < n && LOWER(order[r], order[w])) w = r;
#undef LOWER
        if (w == i) return;
        int t = order[i]; order[i] = order[w]; order[w] = t;
        i = w;
    }
}

static void sort_tokens_best_first(int *order, const float *row, int n)
{
    for (int i = n / 2 - 1; i >= 0; i--) sift_tokens(order, row, n, i);
    for (int end = n - 1; end > 0; end--) {
        int t = order[0]; order[0] = order[end]; order[end] = t;
        sift_tokens(order, row, end, 0);
    }
}

/* Draws a token from row (width entries of log p): softmax(log p / T) over
 * the top-k tokens, then the smallest set reaching top-p, renormalized. */
static int draw_token(const s2s_decode_params *p, const float *row, int width, int *order, float *prob,
                      uint64_t *rng)
{
    int n = 0;
    for (int v = 0; v < width; v++)
        if (row[v] != -INFINITY) order[n++] = v;
    if (n == 0) return -1;
    sort_tokens_best_first(order, row, n);
    if (p->top_k > 0 && p->top_k < n) n = p->top_k;
    double total = 0.0, best = row[order[0]];
    for (int i = 0; i < n; i++) total += prob[i] = (float)exp(((double)row[order[i]] - best) / p->temperature);
    if (p->top_p < 1.0f) {
        double cum = 0.0;
        for (int i = 0; i < n; i++) {
            cum += prob[i];
            if (cum >= (double)p->top_p * total) {
                n = i + 1;
                total = cum;
                break;
            }
        }
    }
    double u = (double)(next_random(rng) >> 11) * (1.0 / 9007199254740992.0) * total, acc = 0.0;
    for (int i = 0; i < n; i++) {
        acc += prob[i];
        if (u < acc) return order[i];
    }
    return order[n - 1];
}

/* Each live row of group g draws its next token; eos finishes its sample. */
static void advance_sampling(const s2s_model *m, const s2s_decode_params *p, int K, group *g, int t, float *logp,
                             int ld, beam_bufs *b, const dec_state *from, dec_state *to, int *out_row)
{
    int eos = m->eos_id, width = vocab_size(m->vocab[S2S_TARGET]) + g->mem.n_ext, live = 0;
    double new_score[S2S_MAX_BEAM];
    int new_sample[S2S_MAX_BEAM];
    unsigned char eos_masked[S2S_MAX_BEAM];
    mask_eos_rows(m, g, p, K, t, b, eos_masked);
    if (p->no_repeat_ngram > 0) block_repeated_ngrams(g, K, t, p->no_repeat_ngram, logp, ld, b->history);
    for (int i = 0; i < g->live; i++) {
        float *row = logp + (size_t)i * ld;
        if (eos_masked[i]) row[eos] = -INFINITY;
        int k = g->sample_of[i], y = draw_token(p, row, width, b->order, b->prob, &g->rng[k]);
        if (y < 0) continue; /* nothing can be drawn: the sample ends unfinished */
        double sc = g->score[i] + (double)row[y];
        if (y == eos) {
            finished_hyp f = {t, i, k, sc, row[y], sc / length_penalty(t, p->length_penalty)};
            g->fin[g->n_fin++] = f;
            continue;
        }
        extend(m, g, K, t, live, i, y, row[y], from, to, *out_row + live);
        new_score[live] = sc;
        new_sample[live] = k;
        live++;
    }
    memcpy(g->score, new_score, sizeof(double) * (size_t)live);
    memcpy(g->sample_of, new_sample, sizeof(int) * (size_t)live);
    g->live = live;
    g->steps = t;
    *out_row += live;
    check_done(g, p, t);
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

/* Puts the hypotheses of a sampling result in sample order (key[i] is the
 * sample of hyps[i]); insertion sort, at most S2S_MAX_BEAM entries. */
static void order_by_sample(s2s_result *res, int *key)
{
    for (int i = 1; i < res->n_hyps; i++)
        for (int j = i; j > 0 && key[j - 1] > key[j]; j--) {
            s2s_hypothesis h = res->hyps[j]; res->hyps[j] = res->hyps[j - 1]; res->hyps[j - 1] = h;
            int k = key[j]; key[j] = key[j - 1]; key[j - 1] = k;
        }
}

/* n-best of g: finished by ranking score, then the live ones (beam search);
 * every sample in sample order (sampling). */
static int collect_results(const group *g, int K, const s2s_decode_params *p, s2s_result *res)
{
    int want = p->sampling ? K : p->n_best, n_live_used = 0, key[S2S_MAX_BEAM];
    int total = g->n_fin + g->live < want ? g->n_fin + g->live : want;
    if (!result_alloc(res, g->n, total)) return 0;
    for (int i = 0; i < total; i++) {
        s2s_hypothesis *h = &res->hyps[i];
        if (i < g->n_fin) {
            const finished_hyp *f = &g->fin[i];
            if (!build_hyp(g, K, f->step - 1, f->slot, f, p->want_attention, h)) return 0;
            h->score = (float)f->score;
            h->ranking_score = (float)f->rank;
            key[i] = f->sample;
        } else {
            int slot = n_live_used++; /* live slots are already in score order */
            if (!build_hyp(g, K, g->steps, slot, NULL, p->want_attention, h)) return 0;
            h->score = (float)g->score[slot];
            h->ranking_score = (float)(g->score[slot] / length_penalty(g->steps, p->length_penalty));
            key[i] = p->sampling ? g->sample_of[slot] : i;
        }
    }
    if (g->scores_unknown)
        for (int i = 0; i < total; i++) res->hyps[i].score = res->hyps[i].ranking_score = NAN;
    if (p->sampling) order_by_sample(res, key);
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

/* Encodes every input, ENC_CHUNK sentences at a time, and opens its search:
 * one live hypothesis, or (sampling without a prefix) K samples, each with
 * its own generator. */
static void start_groups(const s2s_model *m, const model_q8 *q, const s2s_decode_params *p, beam_bufs *b, int n,
                         int K)
{
    int row = 0;
    for (int c = 0; c < n; c += ENC_CHUNK) {
        int S = n - c < ENC_CHUNK ? n - c : ENC_CHUNK;
        for (int i = 0; i < S; i++) {
            group *g = &b->g[c + i];
            b->enc_src[i] = g->in->ids;
            b->enc_n[i] = g->n;
            b->enc_mem[i] = &g->mem;
        }
        encode_batch(m, q, b->enc_src, b->enc_n, S, b->enc_scratch, b->enc_ints, b->enc_mem);
    }
    for (int i = 0; i < n; i++) {
        group *g = &b->g[i];
        g->live = p->sampling && g->in->n_prefix == 0 ? K : 1;
        g->scores_unknown = 0;
        g->row0 = row;
        for (int j = 0; j < g->live; j++) {
            g->score[j] = 0.0;
            dec_state_init_row(m, &b->st[0], row++, &g->mem);
        }
        if (p->sampling)
            for (int k = 0; k < K; k++) {
                g->sample_of[k] = k;
                g->rng[k] = seed_for(p->seed, g->in->stream, k);
            }
    }
}

/* Sampling after a prefix: the one hypothesis that ends the prefix becomes
 * K samples (its state row copied). */
static void fan_out_samples(const s2s_model *m, group *g, int K, int t, dec_state *st, int *row, beam_bufs *b)
{
    (void)b;
    int base = *row - 1; /* the row advance_prefix just wrote */
    for (int j = 1; j < K; j++) {
        size_t at = (size_t)(t - 1) * K;
        g->par[at + j] = g->par[at];
        g->tok[at + j] = g->tok[at];
        g->lp[at + j] = g->lp[at];
        g->score[j] = g->score[0];
        dec_state_copy_row(m, st, base, st, base + j);
    }
    g->live = K;
    *row += K - 1;
}

/* Copies this step's attention rows of group g into its history. */
static void keep_alpha_rows(group *g, int K, int t, const float *alpha_step, int n_max)
{
    if (!g->alpha) return;
    for (int j = 0; j < g->live; j++)
        memcpy(g->alpha + ((size_t)(t - 1) * K + j) * g->n, alpha_step + (size_t)(g->row0 + j) * n_max,
               sizeof(float) * g->n);
}

s2s_status search_beam(const s2s_model *m, arena *ar, const search_input *in, int n, const s2s_decode_params *p,
                       s2s_result *results, s2s_error *err)
{
    int K = rows_per_input(p), n_max = 1, T_max = 1;
    for (int i = 0; i < n; i++) {
        n_max = in[i].n > n_max ? in[i].n : n_max;
        int T = max_length_for(m, p, in[i].n);
        T_max = T > T_max ? T : T_max;
    }
    int Vx = logp_width(m, n_max);
    const model_q8 *q = NULL;
    if (p->compute == S2S_COMPUTE_INT8 && !(q = model_q8_get(m)))
        return s2s_fail(err, S2S_ERR_NOMEM, "out of memory for the int8 weights");
    const shortlist *sl = NULL;
    if (q && p->shortlist && m->shortlist_text) {
        s2s_error e;
        if (!(sl = model_shortlist_get(m, &e))) return s2s_fail(err, e.status, "%s", e.message);
    }
    int numbers_max = 0;
    if (p->keep_numbers && !p->sampling)
        for (int i = 0; i < n; i++) numbers_max = in[i].n_numbers > numbers_max ? in[i].n_numbers : numbers_max;
    beam_plan pl = {m, in, n, K, n * K, n_max, Vx, T_max, numbers_max, p, q, sl};
    beam_bufs b;
    if (!arena_carve(ar, carve_beam, &pl, &b)) return s2s_fail(err, S2S_ERR_NOMEM, "out of memory for decoding buffers");
    if (sl) select_shortlist(m, sl, q, in, n, &b);
    start_groups(m, q, p, &b, n, K);
    /* Greedy decoding whose scores nobody reads: the decoder leaves logits and
     * advance_beam picks from them when it can (top_two_of_logits). */
    int logits = !p->want_scores && K == 1 && p->n_best == 1 && !p->sampling && p->length_penalty == 0.0f &&
                 p->coverage_penalty == 0.0f && p->no_repeat_ngram == 0 && !m->cfg.copy && !b.sub.k;
    /* Otherwise, where nothing rewrites the rows first (n-gram blocking) and
     * sampling is not drawing from them, each row gets its log-softmax when
     * it is read, while it is in cache, from the maximum the output
     * projection kept (decoder_step's row_max). */
    int lazy = !logits && !q && !p->sampling && p->no_repeat_ngram == 0 && !m->cfg.copy && !b.sub.k;
    int cur = 0;
    for (int t = 1;; t++) {
        if (p->abort_callback && p->abort_callback(p->abort_user_data))
            return s2s_fail(err, S2S_ERR_ABORTED, "decoding aborted by the caller");
        int R = gather_rows(&b, n, t, m, K);
        if (R == 0) break;
        decoder_step(m, q, b.sub.k ? &b.sub : NULL, R, t, b.prev, b.rowmem, &b.st[cur], b.step_scratch, n_max,
                     b.alpha_step, n_max, b.logp, Vx, !logits && !lazy, lazy ? b.row_max : NULL);
        int out_row = 0;
        for (int i = 0; i < n; i++) {
            group *g = &b.g[i];
            if (g->done) continue;
            keep_alpha_rows(g, K, t, b.alpha_step, n_max);
            float *logp = b.logp + (size_t)g->row0 * Vx;
            if (t <= g->in->n_prefix) {
                if (logits || lazy) log_softmax(logp, vocab_size(m->vocab[S2S_TARGET])); /* the decoder left logits */
                advance_prefix(m, K, g, t, logp, &b.st[cur], &b.st[1 - cur], &out_row);
                if (p->sampling && t == g->in->n_prefix) fan_out_samples(m, g, K, t, &b.st[1 - cur], &out_row, &b);
                check_done(g, p, t);
            } else if (p->sampling) {
                advance_sampling(m, p, K, g, t, logp, Vx, &b, &b.st[cur], &b.st[1 - cur], &out_row);
            } else {
                advance_beam(m, p, K, g, t, logp, Vx, logits, lazy ? b.row_max + g->row0 : NULL, &b, &b.st[cur],
                             &b.st[1 - cur], &out_row);
            }
            if (g->done) out_row -= g->live; /* its rows are not carried on */
        }
        cur = 1 - cur;
    }
    for (int i = 0; i < n; i++) {
        if (!collect_results(&b.g[i], K, p, &results[i])) {
            for (int j = 0; j <= i; j++) s2s_result_free(&results[j]);
            return s2s_fail(err, S2S_ERR_NOMEM, "out of memory for results");
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
    f->step_scratch = arena_take(a, sizeof(float) * step_scratch_floats(m, 1, n));
    f->logp = arena_take(a, sizeof(float) * (size_t)logp_width(m, n));
    f->alpha_step = arena_take(a, sizeof(float) * (size_t)n);
    f->state = arena_take(a, sizeof(float) * dec_state_floats(m, 1, n));
}

s2s_status search_forced(const s2s_model *m, arena *ar, const search_input *in, const int *tgt, int n_tgt,
                         int want_attention, s2s_result *res, s2s_error *err)
{
    forced_bufs f;
    int n_src = in->n;
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
    mem.copy_ids = in->copy_ids;
    mem.copy_same_as = in->copy_same_as;
    mem.n_ext = in->n_ext;
    encode(m, in->ids, n_src, f.enc_scratch, &mem);
    dec_state_bind(m, 1, n_src, f.state, &st);
    dec_state_init_row(m, &st, 0, &mem);
    const enc_memory *rowmem[1] = {&mem};
    int prev = m->sos_id, width = logp_width(m, n_src);
    double score = 0.0;
    for (int s = 0; s < steps; s++) {
        int y = s < n_tgt ? tgt[s] : m->eos_id;
        decoder_step(m, NULL, NULL, 1, s + 1, &prev, rowmem, &st, f.step_scratch, n_src, f.alpha_step, n_src, f.logp, width,
                     1, NULL);
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
    return s2s_fail(err, S2S_ERR_NOMEM, "out of memory for forced decoding");
}
