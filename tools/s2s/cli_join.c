/*
 * cli_join.c - the result of a line split into sentences, made from the
 * sentences' results (see cli_join.h).
 */
#include <stdlib.h>
#include <string.h>

#include "cli_join.h"

/* A partial combination: the first u sentences chosen. */
typedef struct partial {
    int unfinished;  /* how many chosen hypotheses are unfinished */
    double sum;      /* sum of their ranking scores */
    int parent;      /* its rank among the partials of u - 1 sentences */
    int hyp;         /* the hypothesis chosen for sentence u - 1 */
} partial;

/* Order of partials: fewer unfinished, higher sum, then earlier parent and
 * hypothesis. */
static int partial_cmp(const void *pa, const void *pb)
{
    const partial *a = pa, *b = pb;
    if (a->unfinished != b->unfinished) return a->unfinished < b->unfinished ? -1 : 1;
    if (a->sum != b->sum) return a->sum > b->sum ? -1 : 1;
    if (a->parent != b->parent) return a->parent < b->parent ? -1 : 1;
    return (a->hyp > b->hyp) - (a->hyp < b->hyp);
}

int cli_join_best(const s2s_result *const *res, int n_units, int n_best, int *combo)
{
    if (n_units <= 0 || n_best <= 0) return 0;
    int max_h = 1;
    for (int u = 0; u < n_units; u++)
        if (res[u]->n_hyps > max_h) max_h = res[u]->n_hyps;
    partial *stages = calloc((size_t)n_units * (size_t)n_best, sizeof *stages); /* kept partials of each stage */
    partial *cand = malloc((size_t)n_best * (size_t)max_h * sizeof *cand);
    int *kept = calloc((size_t)n_units, sizeof *kept);
    if (!stages || !cand || !kept) {
        free(stages), free(cand), free(kept);
        return -1;
    }
    int n_prev = 1; /* the empty combination */
    for (int u = 0; u < n_units; u++) {
        const partial *prev = u ? stages + (size_t)(u - 1) * n_best : NULL;
        int nc = 0;
        for (int p = 0; p < n_prev; p++)
            for (int k = 0; k < res[u]->n_hyps; k++) {
                const s2s_hypothesis *h = &res[u]->hyps[k];
                cand[nc++] = (partial){(prev ? prev[p].unfinished : 0) + !h->finished,
                                       (prev ? prev[p].sum : 0) + h->ranking_score, p, k};
            }
        qsort(cand, (size_t)nc, sizeof *cand, partial_cmp);
        kept[u] = nc < n_best ? nc : n_best;
        memcpy(stages + (size_t)u * n_best, cand, (size_t)kept[u] * sizeof *cand);
        n_prev = kept[u];
    }
    int n = kept[n_units - 1];
    for (int k = 0; k < n; k++) { /* walk back through the parents */
        int at = k;
        for (int u = n_units - 1; u >= 0; u--) {
            const partial *p = stages + (size_t)u * n_best + at;
            combo[(size_t)k * n_units + u] = p->hyp;
            at = p->parent;
        }
    }
    free(stages), free(cand), free(kept);
    return n;
}

int cli_join_hypothesis(const s2s_hypothesis *const *hyps, const int *col0, const int *ext0, int n_units,
                        int n_source, int n_target, int want_attention, s2s_hypothesis *out)
{
    memset(out, 0, sizeof *out);
    int n_tokens = 0, n_steps = 0, have_lp = 1, have_att = want_attention;
    out->finished = 1;
    for (int u = 0; u < n_units; u++) {
        const s2s_hypothesis *h = hyps[u];
        n_tokens += h->n_tokens;
        n_steps += h->n_steps;
        out->score += h->score;
        out->ranking_score += h->ranking_score;
        out->finished &= h->finished != 0;
        if (h->n_steps && !h->token_logprobs) have_lp = 0;
        if (h->n_steps && !h->attention) have_att = 0;
    }
    out->n_tokens = n_tokens;
    out->n_steps = n_steps;
    out->tokens = malloc((size_t)(n_tokens ? n_tokens : 1) * sizeof *out->tokens);
    if (have_lp) out->token_logprobs = malloc((size_t)(n_steps ? n_steps : 1) * sizeof *out->token_logprobs);
    if (have_att && n_steps) out->attention = calloc((size_t)n_steps * (size_t)n_source, sizeof *out->attention);
    if (!out->tokens || (have_lp && !out->token_logprobs) || (have_att && n_steps && !out->attention)) {
        cli_join_free(out);
        return -1;
    }
    int t = 0, s = 0;
    for (int u = 0; u < n_units; u++) {
        const s2s_hypothesis *h = hyps[u];
        for (int i = 0; i < h->n_tokens; i++)
            out->tokens[t + i] = h->tokens[i] >= n_target ? h->tokens[i] + ext0[u] : h->tokens[i];
        if (have_lp && h->n_steps) memcpy(out->token_logprobs + s, h->token_logprobs, (size_t)h->n_steps * sizeof(float));
        int cols = (u + 1 < n_units ? col0[u + 1] : n_source) - col0[u];
        for (int i = 0; out->attention && i < h->n_steps; i++)
            memcpy(out->attention + (size_t)(s + i) * n_source + col0[u], h->attention + (size_t)i * cols,
                   (size_t)cols * sizeof(float));
        t += h->n_tokens;
        s += h->n_steps;
    }
    return 0;
}

void cli_join_free(s2s_hypothesis *h)
{
    free(h->tokens);
    free(h->token_logprobs);
    free(h->attention);
    memset(h, 0, sizeof *h);
}

int cli_join_source(const s2s_token_seq *const *src, int n_units, s2s_token_seq *out)
{
    memset(out, 0, sizeof *out);
    int n = 0;
    for (int u = 0; u < n_units; u++) {
        n += src[u]->n;
        out->truncated |= src[u]->truncated;
    }
    out->ids = malloc((size_t)(n ? n : 1) * sizeof *out->ids);
    out->pieces = malloc((size_t)(n ? n : 1) * sizeof *out->pieces);
    if (!out->ids || !out->pieces) {
        free(out->ids), free(out->pieces);
        memset(out, 0, sizeof *out);
        return -1;
    }
    for (int u = 0; u < n_units; u++) {
        if (src[u]->n == 0) continue; /* (its arrays may be NULL) */
        memcpy(out->ids + out->n, src[u]->ids, (size_t)src[u]->n * sizeof *out->ids);
        memcpy(out->pieces + out->n, src[u]->pieces, (size_t)src[u]->n * sizeof *out->pieces);
        out->n += src[u]->n;
    }
    return 0;
}

char **cli_join_extended(const s2s_result *const *res, int n_units, int *ext0, int *n)
{
    *n = 0;
    for (int u = 0; u < n_units; u++) {
        ext0[u] = *n;
        *n += res[u]->n_extended;
    }
    if (*n == 0) return NULL;
    char **ext = malloc((size_t)*n * sizeof *ext);
    if (!ext) {
        *n = -1;
        return NULL;
    }
    for (int u = 0; u < n_units; u++)
        if (res[u]->n_extended > 0) memcpy(ext + ext0[u], res[u]->extended, (size_t)res[u]->n_extended * sizeof *ext);
    return ext;
}
