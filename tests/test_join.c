/*
 * test_join.c - the result of a line split into sentences, made from the
 * sentences' results (tools/s2s/cli_join.c): the best combinations against
 * an exhaustive search, and a joined hypothesis checked entry by entry.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/s2s/cli_join.h"

/* Three lists of hypotheses with hand-picked ranking scores (ties and an
 * unfinished one included). */
static s2s_hypothesis H0[] = {{.ranking_score = -1.0f, .finished = 1}, {.ranking_score = -2.0f, .finished = 1},
                              {.ranking_score = -0.5f, .finished = 0}};
static s2s_hypothesis H1[] = {{.ranking_score = -0.25f, .finished = 1}, {.ranking_score = -1.25f, .finished = 1}};
static s2s_hypothesis H2[] = {{.ranking_score = -3.0f, .finished = 1}, {.ranking_score = -3.0f, .finished = 1},
                              {.ranking_score = -4.5f, .finished = 1}, {.ranking_score = -9.0f, .finished = 1}};

/* Key of a combination: (unfinished count, -sum), smaller is better. */
static void key_of(const s2s_result *const *res, const int *c, int *unf, double *sum)
{
    *unf = 0;
    *sum = 0;
    for (int u = 0; u < 3; u++) {
        *unf += !res[u]->hyps[c[u]].finished;
        *sum += res[u]->hyps[c[u]].ranking_score;
    }
}

Test(join, best_combinations_equal_exhaustive_search)
{
    s2s_result r0 = {.hyps = H0, .n_hyps = 3}, r1 = {.hyps = H1, .n_hyps = 2}, r2 = {.hyps = H2, .n_hyps = 4};
    const s2s_result *res[3] = {&r0, &r1, &r2};
    for (int nb = 1; nb <= 30; nb++) {
        int combo[30 * 3];
        int n = cli_join_best(res, 3, nb, combo);
        cr_assert_eq(n, nb < 24 ? nb : 24, "n_best %d gave %d", nb, n);
        /* every combination listed is distinct; none missing is better than the last listed */
        for (int k = 0; k < n; k++) {
            int unf, unf_prev;
            double sum, sum_prev;
            key_of(res, combo + 3 * k, &unf, &sum);
            if (k) {
                key_of(res, combo + 3 * (k - 1), &unf_prev, &sum_prev);
                cr_expect(unf_prev < unf || (unf_prev == unf && sum_prev >= sum), "order at %d", k);
            }
            for (int j = 0; j < k; j++) cr_expect(memcmp(combo + 3 * j, combo + 3 * k, 3 * sizeof(int)) != 0);
        }
        int unf_last;
        double sum_last;
        key_of(res, combo + 3 * (n - 1), &unf_last, &sum_last);
        int better = 0;
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 2; b++)
                for (int c = 0; c < 4; c++) {
                    int t[3] = {a, b, c}, unf;
                    double sum;
                    key_of(res, t, &unf, &sum);
                    better += unf < unf_last || (unf == unf_last && sum > sum_last);
                }
        cr_expect(better <= n - 1, "n_best %d: %d combinations beat the last listed", nb, better);
    }
    /* by hand: the best is (0, 0, 0) = -4.25; the unfinished hypothesis H0[2]
       (-3.75 with the others' best) comes after every finished combination */
    int combo[3 * 3];
    cli_join_best(res, 3, 3, combo);
    int want[9] = {0, 0, 0, 0, 0, 1, 0, 1, 0};
    cr_expect_arr_eq(combo, want, sizeof want);
}

Test(join, joined_hypothesis)
{
    /* sentence 0: 2 tokens (one an extended id 10 of a copy model with a
       target vocabulary of 10), finished, 3 steps over 3 source tokens;
       sentence 1: 1 token, unfinished, 1 step over 2 source tokens */
    int t0[] = {4, 10}, t1[] = {11};
    float lp0[] = {-0.5f, -0.25f, -0.125f}, lp1[] = {-1.0f};
    float a0[] = {0.5f, 0.25f, 0.25f, 0.0f, 1.0f, 0.0f, 0.1f, 0.2f, 0.7f};
    float a1[] = {0.75f, 0.25f};
    s2s_hypothesis h0 = {t0, 2, -0.875f, -0.5f, lp0, a0, 3, 1}, h1 = {t1, 1, -1.0f, -1.5f, lp1, a1, 1, 0};
    const s2s_hypothesis *hyps[2] = {&h0, &h1};
    int col0[2] = {0, 3}, ext0[2] = {0, 1};
    s2s_hypothesis j;
    cr_assert_eq(cli_join_hypothesis(hyps, col0, ext0, 2, 5, 10, 1, &j), 0);
    int want_tokens[] = {4, 10, 12}; /* sentence 1's extended id 11 moves past sentence 0's one entry */
    cr_expect_eq(j.n_tokens, 3);
    cr_expect_arr_eq(j.tokens, want_tokens, sizeof want_tokens);
    cr_expect_eq(j.n_steps, 4);
    cr_expect_float_eq(j.score, -1.875f, 1e-6);
    cr_expect_float_eq(j.ranking_score, -2.0f, 1e-6);
    cr_expect_eq(j.finished, 0);
    float want_lp[] = {-0.5f, -0.25f, -0.125f, -1.0f};
    cr_expect_arr_eq(j.token_logprobs, want_lp, sizeof want_lp);
    float want_att[] = {0.5f, 0.25f, 0.25f, 0, 0, 0, 1, 0, 0, 0, 0.1f, 0.2f, 0.7f, 0, 0, 0, 0, 0, 0.75f, 0.25f};
    cr_expect_arr_eq(j.attention, want_att, sizeof want_att);
    cli_join_free(&j);
    cr_assert_eq(cli_join_hypothesis(hyps, col0, ext0, 2, 5, 10, 0, &j), 0);
    cr_expect_null(j.attention, "no attention unless asked");
    cli_join_free(&j);
}

Test(join, joined_source_and_extended_table)
{
    int i0[] = {1, 2, 3}, i1[] = {4, 3};
    char *p0[] = {"a", "b", "</s>"}, *p1[] = {"c", "</s>"};
    s2s_token_seq s0 = {i0, p0, 3, 0}, s1 = {i1, p1, 2, 1};
    const s2s_token_seq *src[2] = {&s0, &s1};
    s2s_token_seq j;
    cr_assert_eq(cli_join_source(src, 2, &j), 0);
    int want[] = {1, 2, 3, 4, 3};
    cr_expect_eq(j.n, 5);
    cr_expect_arr_eq(j.ids, want, sizeof want);
    cr_expect_str_eq(j.pieces[3], "c");
    cr_expect_eq(j.truncated, 1);
    free(j.ids);
    free(j.pieces);

    char *e0[] = {"Zürich"}, *e1[] = {"Tom", "42"};
    s2s_result r0 = {.extended = e0, .n_extended = 1}, r1 = {.extended = NULL, .n_extended = 0},
               r2 = {.extended = e1, .n_extended = 2};
    const s2s_result *res[3] = {&r0, &r1, &r2};
    int ext0[3], n;
    char **ext = cli_join_extended(res, 3, ext0, &n);
    cr_assert_eq(n, 3);
    cr_expect_eq(ext0[0], 0);
    cr_expect_eq(ext0[1], 1);
    cr_expect_eq(ext0[2], 1);
    cr_expect_str_eq(ext[2], "42");
    free(ext);
    const s2s_result *none[1] = {&r1};
    cr_expect_null(cli_join_extended(none, 1, ext0, &n));
    cr_expect_eq(n, 0);
}
