/* Engine API tests that need no PyTorch: batch == single, argument checks,
 * abort, min_length, attention rows, forced scores of n-best lists.
 * Uses the committed fixture models (tests/fixtures/models). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s2s.h"
#include "support/fixture_models.h"


static int same_hyp(const s2s_hypothesis *a, const s2s_hypothesis *b, int n_src)
{
    if (a->n_tokens != b->n_tokens || a->n_steps != b->n_steps || a->finished != b->finished) return 0;
    if (a->score != b->score) return 0;
    if (memcmp(a->tokens, b->tokens, sizeof(int) * a->n_tokens)) return 0;
    return memcmp(a->attention, b->attention, sizeof(float) * a->n_steps * n_src) == 0;
}

/* Every fixture model directory (each architecture of the family), sorted;
 * returns how many, at most `cap`. */
static int all_fixtures(char names[][128], int cap)
{
    const char *root = getenv("S2S_ROOT");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/models", root ? root : ".");
    DIR *d = opendir(path);
    cr_assert_not_null(d, "cannot list %s", path);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < cap) {
        char cfg[1400];
        snprintf(cfg, sizeof cfg, "%s/%s/config.json", path, e->d_name);
        FILE *f = e->d_name[0] != '.' ? fopen(cfg, "r") : NULL;
        if (!f) continue;
        fclose(f);
        snprintf(names[n++], 128, "%.127s", e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, 128, (int (*)(const void *, const void *))strcmp);
    return n;
}

/* Sentences of lengths 4, 2, 8, 2, 4 (ties and a long one, so the batched
 * encoder's sorted order and its running prefix are both exercised),
 * decoded together and one by one: every hypothesis equal bit for bit
 * (tokens, score, attention), greedy and beam 4, on every fixture model. */
Test(engine, batch_equals_single_bit_for_bit)
{
    static char names[256][128];
    int n_fix = all_fixtures(names, 256);
    cr_assert(n_fix >= 30, "only %d fixture models found", n_fix);
    for (int f = 0; f < n_fix; f++) {
        int srcs_data[5][8] = {{1, 2, 3, 0}, {4, 0}, {5, 6, 7, 8, 9, 2, 1, 0}, {3, 0}, {2, 2, 2, 0}};
        int lens[5] = {4, 2, 8, 2, 4};
        s2s_model *m = load_fixture(names[f]);
        s2s_model_info info;
        s2s_model_get_info(m, &info);
        int eos = s2s_model_token_id(m, S2S_SOURCE, info.eos, strlen(info.eos));
        const int *srcs[5];
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < lens[i] - 1; j++) srcs_data[i][j] %= info.source_vocab_size;
            if (info.append_eos && eos >= 0)
                srcs_data[i][lens[i] - 1] = eos; /* last is the source eos */
            else
                srcs_data[i][lens[i] - 1] %= info.source_vocab_size;
            srcs[i] = srcs_data[i];
        }
        s2s_session *s = s2s_session_new(m, NULL);
        for (int beam = 1; beam <= 4; beam += 3) {
            s2s_decode_params p = s2s_decode_default_params();
            p.beam_size = beam;
            p.n_best = beam;
            p.max_length = 12;
            s2s_result batch[5], single;
            s2s_error err = {0};
            cr_assert_eq(s2s_translate_batch(s, srcs, lens, 5, &p, batch, &err), S2S_OK, "%s: %s", names[f],
                         err.message);
            for (int i = 0; i < 5; i++) {
                cr_assert_eq(s2s_translate_ids(s, srcs[i], lens[i], &p, &single, &err), S2S_OK);
                cr_assert_eq(single.n_hyps, batch[i].n_hyps);
                for (int h = 0; h < single.n_hyps; h++)
                    cr_assert(same_hyp(&single.hyps[h], &batch[i].hyps[h], lens[i]),
                              "%s beam %d sentence %d hyp %d: batch differs from single", names[f], beam, i, h);
                s2s_result_free(&single);
                s2s_result_free(&batch[i]);
            }
        }
        s2s_session_free(s);
        s2s_model_free(m);
    }
}

/* want_scores 0 (greedy picking from the logits where they decide): the
 * same tokens, steps and attention as with scores on every fixture model,
 * greedy, with and without a minimum length, alone and in a batch; a score
 * is either NaN (a step was taken from the logits) or the exact one, and
 * the NaN case happens. */
Test(engine, greedy_without_scores_picks_the_same_tokens)
{
    static char names[256][128];
    int n_fix = all_fixtures(names, 256), nan_seen = 0;
    for (int f = 0; f < n_fix; f++) {
        int srcs_data[3][8] = {{1, 2, 3, 0}, {5, 6, 7, 8, 9, 2, 1, 0}, {4, 0}};
        int lens[3] = {4, 8, 2};
        s2s_model *m = load_fixture(names[f]);
        s2s_model_info info;
        s2s_model_get_info(m, &info);
        const int *srcs[3];
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < lens[i]; j++) srcs_data[i][j] %= info.source_vocab_size;
            srcs[i] = srcs_data[i];
        }
        s2s_session *s = s2s_session_new(m, NULL);
        for (int min_len = 0; min_len <= 3; min_len += 3) {
            s2s_decode_params p = s2s_decode_default_params();
            p.max_length = 12;
            p.min_length = min_len;
            s2s_result want[3], got[3];
            s2s_error err = {0};
            cr_assert_eq(s2s_translate_batch(s, srcs, lens, 3, &p, want, &err), S2S_OK, "%s", err.message);
            p.want_scores = 0;
            cr_assert_eq(s2s_translate_batch(s, srcs, lens, 3, &p, got, &err), S2S_OK, "%s", err.message);
            for (int i = 0; i < 3; i++) {
                const s2s_hypothesis *a = &want[i].hyps[0], *b = &got[i].hyps[0];
                cr_assert(a->n_tokens == b->n_tokens && a->n_steps == b->n_steps && a->finished == b->finished &&
                              !memcmp(a->tokens, b->tokens, sizeof(int) * (size_t)a->n_tokens) &&
                              !memcmp(a->attention, b->attention, sizeof(float) * (size_t)a->n_steps * (size_t)lens[i]),
                          "%s min_length %d sentence %d: other tokens without scores", names[f], min_len, i);
                cr_assert(isnan(b->score) || b->score == a->score, "%s: score %g, not NaN nor %g", names[f],
                          (double)b->score, (double)a->score);
                nan_seen += isnan(b->score) && isnan(b->ranking_score);
                s2s_result single;
                cr_assert_eq(s2s_translate_ids(s, srcs[i], lens[i], &p, &single, &err), S2S_OK);
                cr_assert(!memcmp(single.hyps[0].tokens, b->tokens, sizeof(int) * (size_t)b->n_tokens),
                          "%s: batch differs from single without scores", names[f]);
                s2s_result_free(&single);
                s2s_result_free(&want[i]);
                s2s_result_free(&got[i]);
            }
        }
        s2s_session_free(s);
        s2s_model_free(m);
    }
    cr_assert(nan_seen > 0, "no hypothesis was decoded from the logits");
}

/* The fast mode: batch == single bit for bit as in F32 (integer sums),
 * greedy close to F32 (the best hypothesis' score within 0.05 per step of
 * F32's own for the tokens int8 chose, scored exactly), and forced scoring exact
 * whatever the mode. */
Test(engine, int8_batch_equals_single_and_stays_close_to_f32)
{
    const char *names[] = {"gru_bi_bahdanau_before", "lstm_bi2_gru_meantanh_bahdanau_after_feed",
                           "gru3_general_after_nobias", "lstm_meantanh_general_after_feed_nobias"};
    for (size_t f = 0; f < sizeof names / sizeof names[0]; f++) {
        int srcs_data[3][6] = {{1, 2, 3, 0}, {4, 5, 0}, {5, 6, 7, 8, 9, 0}};
        int lens[3] = {4, 3, 6};
        s2s_model *m = load_fixture(names[f]);
        s2s_model_info info;
        s2s_model_get_info(m, &info);
        int eos = s2s_model_token_id(m, S2S_SOURCE, info.eos, strlen(info.eos));
        const int *srcs[3];
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < lens[i] - 1; j++) srcs_data[i][j] %= info.source_vocab_size;
            srcs_data[i][lens[i] - 1] = eos;
            srcs[i] = srcs_data[i];
        }
        s2s_session *s = s2s_session_new(m, NULL);
        s2s_decode_params p = s2s_decode_default_params();
        p.max_length = 10;
        p.compute = S2S_COMPUTE_INT8;
        s2s_result batch[3], single, exact;
        s2s_error err = {0};
        cr_assert_eq(s2s_translate_batch(s, srcs, lens, 3, &p, batch, &err), S2S_OK, "%s", err.message);
        for (int i = 0; i < 3; i++) {
            cr_assert_eq(s2s_translate_ids(s, srcs[i], lens[i], &p, &single, &err), S2S_OK);
            cr_assert(same_hyp(&single.hyps[0], &batch[i].hyps[0], lens[i]), "%s sentence %d: int8 batch differs",
                      names[f], i);
            const s2s_hypothesis *h = &single.hyps[0];
            cr_assert_eq(s2s_score_ids(s, srcs[i], lens[i], h->tokens, h->n_tokens, 0, &exact, &err), S2S_OK);
            if (h->finished)
                cr_assert(fabsf(exact.hyps[0].score - h->score) <= 0.05f * h->n_steps, "%s sentence %d: int8 score %g, exact %g",
                          names[f], i, h->score, exact.hyps[0].score);
            s2s_result_free(&exact);
            s2s_result_free(&single);
            s2s_result_free(&batch[i]);
        }
        p.compute = (s2s_compute)7;
        cr_assert_eq(s2s_translate_ids(s, srcs[0], lens[0], &p, &single, &err), S2S_ERR_INVALID_ARG);
        s2s_session_free(s);
        s2s_model_free(m);
    }
}

Test(engine, nbest_scores_equal_forced_scores_and_rows_sum_to_one)
{
    s2s_model *m = load_fixture("gru_bi_bahdanau_before");
    s2s_session *s = s2s_session_new(m, NULL);
    int src[] = {1, 2, 3, 4, 0};
    s2s_model_info info;
    s2s_model_get_info(m, &info);
    src[4] = s2s_model_token_id(m, S2S_SOURCE, info.eos, strlen(info.eos));
    s2s_decode_params p = s2s_decode_default_params();
    p.beam_size = 5;
    p.n_best = 5;
    p.length_penalty = 0.6f;
    s2s_result r;
    cr_assert_eq(s2s_translate_ids(s, src, 5, &p, &r, NULL), S2S_OK);
    cr_assert(r.n_hyps >= 1);
    for (int h = 0; h < r.n_hyps; h++) {
        const s2s_hypothesis *hy = &r.hyps[h];
        if (h > 0 && hy->finished == r.hyps[h - 1].finished)
            cr_assert(hy->ranking_score <= r.hyps[h - 1].ranking_score, "n-best not ordered at %d", h);
        double sum = 0;
        for (int t = 0; t < hy->n_steps; t++) {
            sum += hy->token_logprobs[t];
            double row = 0;
            for (int j = 0; j < 5; j++) row += hy->attention[t * 5 + j];
            cr_assert_float_eq(row, 1.0, 1e-5, "attention row %d of hyp %d sums to %g", t, h, row);
        }
        cr_assert_float_eq(sum, hy->score, 1e-4);
        if (!hy->finished) continue;
        s2s_result f;
        cr_assert_eq(s2s_score_ids(s, src, 5, hy->tokens, hy->n_tokens, 1, &f, NULL), S2S_OK);
        cr_assert_float_eq(f.hyps[0].score, hy->score, 1e-4, "hyp %d: forced %g vs beam %g", h, f.hyps[0].score,
                           hy->score);
        for (int t = 0; t < hy->n_steps * 5; t++) cr_assert_float_eq(f.hyps[0].attention[t], hy->attention[t], 1e-6);
        s2s_result_free(&f);
    }
    s2s_result_free(&r);
    s2s_session_free(s);
    s2s_model_free(m);
}

static int abort_after(void *user)
{
    int *calls = user;
    return ++*calls > 2;
}

Test(engine, bad_arguments_abort_min_length_no_attention)
{
    s2s_model *m = load_fixture("gru_bahdanau_before");
    s2s_model_info info;
    s2s_model_get_info(m, &info);
    s2s_session *s = s2s_session_new(m, NULL);
    int src[] = {1, 2, 0};
    src[2] = s2s_model_token_id(m, S2S_SOURCE, info.eos, strlen(info.eos));
    s2s_result r;
    s2s_error err = {0};
    s2s_decode_params p = s2s_decode_default_params();

    p.beam_size = 0;
    cr_assert_eq(s2s_translate_ids(s, src, 3, &p, &r, &err), S2S_ERR_INVALID_ARG);
    cr_assert(strstr(err.message, "beam size 0"), "%s", err.message);
    p = s2s_decode_default_params();
    p.beam_size = 2;
    p.n_best = 3;
    cr_assert_eq(s2s_translate_ids(s, src, 3, &p, &r, &err), S2S_ERR_INVALID_ARG);
    cr_assert(strstr(err.message, "n-best 3"), "%s", err.message);
    p = s2s_decode_default_params();
    cr_assert_eq(s2s_translate_ids(s, src, 0, &p, &r, &err), S2S_ERR_INVALID_ARG);
    cr_assert(strstr(err.message, "empty source"), "%s", err.message);
    int badsrc[] = {1, info.source_vocab_size};
    cr_assert_eq(s2s_translate_ids(s, badsrc, 2, &p, &r, &err), S2S_ERR_INVALID_ARG);
    cr_assert(strstr(err.message, "position 1"), "%s", err.message);
    int badtgt[] = {-1};
    cr_assert_eq(s2s_score_ids(s, src, 3, badtgt, 1, 1, &r, &err), S2S_ERR_INVALID_ARG);
    cr_assert(strstr(err.message, "target id -1"), "%s", err.message);

    int calls = 0;
    p.abort_callback = abort_after;
    p.abort_user_data = &calls;
    p.max_length = 50;
    p.min_length = 50; /* no eos before 50 tokens, so the search runs until the abort */
    cr_assert_eq(s2s_translate_ids(s, src, 3, &p, &r, &err), S2S_ERR_ABORTED);
    cr_assert_eq(calls, 3);

    p = s2s_decode_default_params();
    p.max_length = 7;
    p.min_length = 7;
    p.want_attention = 0;
    cr_assert_eq(s2s_translate_ids(s, src, 3, &p, &r, &err), S2S_OK, "%s", err.message);
    cr_assert_eq(r.hyps[0].n_tokens, 7, "min_length 7 with max_length 7 leaves no room for eos");
    cr_assert_eq(r.hyps[0].finished, 0);
    cr_assert_null(r.hyps[0].attention);
    s2s_result_free(&r);
    s2s_session_free(s);
    s2s_model_free(m);
}

Test(engine, greedy_takes_the_strict_argmax_however_long_the_score)
{
    /* tests/fixtures/engine/argmax_by_1e-6: token 7 beats every other token
     * by 1e-6 at every step (see tools/make_engine_fixtures.py), a margin a
     * float32 running score of ~-117 cannot resolve */
    const char *root = getenv("S2S_ROOT");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/engine/argmax_by_1e-6", root ? root : ".");
    s2s_error err = {0};
    s2s_model *m = s2s_model_load(path, &err);
    cr_assert_not_null(m, "%s", err.message);
    s2s_session *s = s2s_session_new(m, NULL);
    int src[] = {2, 1};
    s2s_decode_params p = s2s_decode_default_params();
    p.max_length = 30;
    for (int beam = 1; beam <= 3; beam += 2) {
        p.beam_size = beam;
        p.want_scores = beam == 3; /* greedy from the logits: a margin of 1e-6 is left to the log-softmax */
        s2s_result r;
        cr_assert_eq(s2s_translate_ids(s, src, 2, &p, &r, &err), S2S_OK, "%s", err.message);
        cr_assert_eq(r.hyps[0].n_tokens, 30);
        for (int t = 0; t < 30; t++) cr_assert_eq(r.hyps[0].tokens[t], 7, "beam %d step %d: token %d", beam, t, r.hyps[0].tokens[t]);
        s2s_result_free(&r);
    }
    s2s_session_free(s);
    s2s_model_free(m);
}

Test(engine, results_are_zeroed_on_failure)
{
    s2s_model *m = load_fixture("gru_bahdanau_before");
    s2s_session *s = s2s_session_new(m, NULL);
    s2s_result r;
    memset(&r, 0xab, sizeof r); /* garbage, as an uninitialized caller struct */
    int src[] = {1};
    cr_assert_eq(s2s_score_ids(s, src, 0, src, 1, 1, &r, NULL), S2S_ERR_INVALID_ARG);
    cr_assert_eq(r.n_hyps, 0);
    cr_assert_null(r.hyps);
    s2s_result_free(&r);
    memset(&r, 0xab, sizeof r);
    s2s_decode_params p = s2s_decode_default_params();
    p.beam_size = 0;
    cr_assert_eq(s2s_translate_ids(s, src, 1, &p, &r, NULL), S2S_ERR_INVALID_ARG);
    cr_assert_null(r.hyps);
    s2s_result_free(&r);
    s2s_session_free(s);
    s2s_model_free(m);
}

/* Misuse of s2s_translate_batch is refused before anything is written into
 * `results`: a caller that got n, srcs or n_srcs wrong must not see its
 * memory overwritten (the array here has room for 4, on the heap so that
 * AddressSanitizer also sees a write past it). */
Test(engine, batch_checks_every_argument_before_writing_results)
{
    s2s_model *m = load_fixture("gru_bahdanau_before");
    s2s_session *s = s2s_session_new(m, NULL);
    s2s_result *res = malloc(4 * sizeof *res);
    unsigned char pattern[4 * sizeof *res];
    memset(pattern, 0x5a, sizeof pattern);
    int src[] = {1, 2}, lens[4] = {2, 2, 2, 2};
    const int *srcs[4] = {src, src, src, src};
    struct {
        const int *const *srcs;
        const int *lens;
        int n;
        const char *what;
    } bad[] = {
        {srcs, lens, S2S_MAX_BATCH + 1, "n above S2S_MAX_BATCH"},
        {srcs, lens, -1, "negative n"},
        {srcs, lens, INT32_MIN, "INT_MIN"},
        {NULL, lens, 5, "srcs NULL"},
        {srcs, NULL, 5, "n_srcs NULL"},
        {NULL, NULL, 7, "both NULL"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(res, 0x5a, 4 * sizeof *res);
        s2s_error err = {0};
        cr_expect_eq(s2s_translate_batch(s, bad[i].srcs, bad[i].lens, bad[i].n, NULL, res, &err), S2S_ERR_INVALID_ARG,
                     "%s: accepted", bad[i].what);
        cr_expect_neq(err.message[0], '\0', "%s: no message", bad[i].what);
        cr_expect_eq(memcmp(res, pattern, sizeof pattern), 0, "%s: results were written", bad[i].what);
    }
    /* a NULL session is refused without writing too */
    memset(res, 0x5a, 4 * sizeof *res);
    cr_expect_eq(s2s_translate_batch(NULL, srcs, lens, 4, NULL, res, NULL), S2S_ERR_INVALID_ARG);
    cr_expect_eq(memcmp(res, pattern, sizeof pattern), 0, "NULL session: results were written");
    /* good arguments still decode */
    cr_assert_eq(s2s_translate_batch(s, srcs, lens, 4, NULL, res, NULL), S2S_OK);
    for (int i = 0; i < 4; i++) s2s_result_free(&res[i]);
    free(res);
    s2s_session_free(s);
    s2s_model_free(m);
}

/* s2s_model_get_info accepts a NULL info (nothing to fill) and a NULL model
 * (info zeroed). */
Test(engine, model_get_info_accepts_null)
{
    s2s_model *m = load_fixture("gru_bahdanau_before");
    s2s_model_get_info(m, NULL);
    s2s_model_get_info(NULL, NULL);
    s2s_model_info info;
    memset(&info, 0x5a, sizeof info);
    s2s_model_get_info(NULL, &info);
    cr_expect_null(info.dir);
    cr_expect_eq(info.n_tensors, 0);
    s2s_model_free(m);
}
