/*
 * test_decoding.c - the decoding options of docs/model-format.md section 9.5
 * on the committed fixture models: n-gram blocking, the coverage penalty,
 * target prefixes and sampling; and s2s's keep_numbers on the shipped dates
 * model. Expected values come from the formulas of the model format applied
 * to what the engine returns for other calls (forced scores, attention rows,
 * the output without the option), never from the option's own output.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s2s.h"
#include "support/fixture_models.h"


/* Source ids: `n` tokens cycling through the vocabulary from `start`, then eos. */
static int make_source(const s2s_model *m, int start, int n, int *out)
{
    s2s_model_info info;
    s2s_model_get_info(m, &info);
    int eos = s2s_model_token_id(m, S2S_SOURCE, info.eos, strlen(info.eos));
    for (int i = 0; i < n; i++) {
        int id = (start + 3 * i) % info.source_vocab_size;
        out[i] = id == eos ? (id + 1) % info.source_vocab_size : id;
    }
    out[n] = eos;
    return n + 1;
}

/* 1 when tokens[0..n) hold the same N-gram twice. */
static int has_repeated_ngram(const int *t, int n, int N)
{
    for (int a = 0; a + N <= n; a++)
        for (int b = a + 1; b + N <= n; b++)
            if (memcmp(t + a, t + b, sizeof(int) * (size_t)N) == 0) return 1;
    return 0;
}

static const char *MODELS[] = {"gru_bi_bahdanau_before", "lstm_bi2_dot_after_feed", "gru_big",
                               "lstm3_bi_final_bahdanau_after_feed"};
#define N_MODELS (sizeof MODELS / sizeof MODELS[0])

Test(decoding, no_repeat_ngram_never_repeats)
{
    int repeats_without = 0;
    for (size_t f = 0; f < N_MODELS; f++) {
        s2s_model *m = load_fixture(MODELS[f]);
        s2s_session *s = s2s_session_new(m, NULL);
        for (int start = 0; start < 6; start++) {
            int src[16];
            int n = make_source(m, start, 6, src);
            for (int N = 1; N <= 3; N++)
                for (int beam = 1; beam <= 4; beam += 3) {
                    s2s_decode_params p = s2s_decode_default_params();
                    p.beam_size = beam;
                    p.n_best = beam;
                    p.max_length = 30;
                    s2s_result r;
                    s2s_error err = {0};
                    cr_assert_eq(s2s_translate_ids(s, src, n, &p, &r, &err), S2S_OK, "%s", err.message);
                    for (int h = 0; h < r.n_hyps; h++)
                        repeats_without += has_repeated_ngram(r.hyps[h].tokens, r.hyps[h].n_tokens, N);
                    s2s_result_free(&r);
                    p.no_repeat_ngram = N;
                    cr_assert_eq(s2s_translate_ids(s, src, n, &p, &r, &err), S2S_OK, "%s", err.message);
                    cr_assert_gt(r.n_hyps, 0);
                    for (int h = 0; h < r.n_hyps; h++)
                        cr_assert(!has_repeated_ngram(r.hyps[h].tokens, r.hyps[h].n_tokens, N),
                                  "%s: hypothesis %d repeats a %d-gram with no_repeat_ngram %d", MODELS[f], h, N, N);
                    s2s_result_free(&r);
                }
        }
        s2s_session_free(s);
        s2s_model_free(m);
    }
    /* the check means something: without blocking, these random models repeat */
    cr_assert_gt(repeats_without, 10, "only %d repeated n-grams without blocking", repeats_without);
}

/* GNMT lp and cp of a finished hypothesis, from its own attention rows. */
static double ranking_by_formula(const s2s_hypothesis *h, int n_src, float alpha, float beta)
{
    double lp = pow((5.0 + h->n_steps) / 6.0, (double)alpha), cp = 0.0;
    for (int j = 0; j < n_src; j++) {
        double sum = 0.0;
        for (int t = 0; t < h->n_steps; t++) sum += h->attention[(size_t)t * n_src + j];
        cp += log(sum < 1.0 ? sum : 1.0);
    }
    return h->score / lp + beta * cp;
}

Test(decoding, coverage_penalty_ranks_by_the_formula)
{
    int reordered = 0;
    for (size_t f = 0; f < N_MODELS; f++) {
        s2s_model *m = load_fixture(MODELS[f]);
        s2s_session *s = s2s_session_new(m, NULL);
        for (int start = 0; start < 5; start++) {
            int src[16];
            int n = make_source(m, start, 5, src);
            s2s_decode_params p = s2s_decode_default_params();
            p.beam_size = 6;
            p.n_best = 6;
            p.length_penalty = 0.6f;
            p.max_length = 25;
            s2s_result plain, pen;
            s2s_error err = {0};
            cr_assert_eq(s2s_translate_ids(s, src, n, &p, &plain, &err), S2S_OK, "%s", err.message);
            p.coverage_penalty = 0.4f;
            cr_assert_eq(s2s_translate_ids(s, src, n, &p, &pen, &err), S2S_OK, "%s", err.message);
            double prev = INFINITY;
            for (int h = 0; h < pen.n_hyps; h++) {
                const s2s_hypothesis *hy = &pen.hyps[h];
                if (!hy->finished) continue;
                double want = ranking_by_formula(hy, pen.n_source, p.length_penalty, p.coverage_penalty);
                cr_assert(fabs(want - hy->ranking_score) < 1e-3 * (1.0 + fabs(want)),
                          "%s: ranking %g, formula %g", MODELS[f], (double)hy->ranking_score, want);
                cr_assert(want <= prev + 1e-4, "%s: n-best list not sorted by the penalized score", MODELS[f]);
                prev = want;
            }
            for (int h = 0; h < plain.n_hyps && h < pen.n_hyps; h++)
                if (plain.hyps[h].n_tokens != pen.hyps[h].n_tokens ||
                    memcmp(plain.hyps[h].tokens, pen.hyps[h].tokens, sizeof(int) * (size_t)pen.hyps[h].n_tokens))
                    reordered = 1;
            s2s_result_free(&plain);
            s2s_result_free(&pen);
        }
        s2s_session_free(s);
        s2s_model_free(m);
    }
    cr_assert(reordered, "the penalty never changed an n-best list");
}

Test(decoding, prefix_is_kept_and_scored)
{
    for (size_t f = 0; f < N_MODELS; f++) {
        s2s_model *m = load_fixture(MODELS[f]);
        s2s_session *s = s2s_session_new(m, NULL);
        s2s_model_info info;
        s2s_model_get_info(m, &info);
        int eos = s2s_model_token_id(m, S2S_TARGET, info.eos, strlen(info.eos));
        int src[16], prefix_ids[3];
        int n = make_source(m, 2, 5, src);
        for (int i = 0, id = 3; i < 3; i++, id = (id + 5) % info.target_vocab_size)
            prefix_ids[i] = id == eos ? (id + 1) % info.target_vocab_size : id;
        s2s_token_seq source = {src, NULL, n, 0}, prefix = {prefix_ids, NULL, 3, 0};
        for (int beam = 1; beam <= 4; beam += 3) {
            s2s_decode_params p = s2s_decode_default_params();
            p.beam_size = beam;
            p.n_best = beam;
            p.max_length = 20;
            s2s_input in = {&source, &prefix, 0};
            s2s_result r;
            s2s_error err = {0};
            cr_assert_eq(s2s_translate_inputs(s, &in, 1, &p, &r, &err), S2S_OK, "%s", err.message);
            for (int h = 0; h < r.n_hyps; h++) {
                const s2s_hypothesis *hy = &r.hyps[h];
                cr_assert_geq(hy->n_tokens, 3);
                cr_assert(!memcmp(hy->tokens, prefix_ids, sizeof prefix_ids), "%s: prefix not kept", MODELS[f]);
                if (!hy->finished) continue;
                s2s_result forced;
                cr_assert_eq(s2s_score_ids(s, src, n, hy->tokens, hy->n_tokens, 1, &forced, &err), S2S_OK);
                cr_assert(fabsf(forced.hyps[0].score - hy->score) < 1e-4f,
                          "%s: prefixed hypothesis scores %g, forced decoding %g", MODELS[f], (double)hy->score,
                          (double)forced.hyps[0].score);
                for (int t = 0; t < 3; t++)
                    cr_assert(fabsf(forced.hyps[0].token_logprobs[t] - hy->token_logprobs[t]) < 1e-5f);
                for (int k = 0; k < 3 * r.n_source; k++)
                    cr_assert(fabsf(forced.hyps[0].attention[k] - hy->attention[k]) < 1e-6f);
                s2s_result_free(&forced);
            }
            s2s_result_free(&r);
        }
        s2s_session_free(s);
        s2s_model_free(m);
    }
}

Test(decoding, prefix_with_eos_is_refused)
{
    s2s_model *m = load_fixture("gru_bahdanau_before");
    s2s_session *s = s2s_session_new(m, NULL);
    s2s_model_info info;
    s2s_model_get_info(m, &info);
    int src[8], pre[2] = {2, s2s_model_token_id(m, S2S_TARGET, info.eos, strlen(info.eos))};
    int n = make_source(m, 1, 3, src);
    s2s_token_seq source = {src, NULL, n, 0}, prefix = {pre, NULL, 2, 0};
    s2s_input in = {&source, &prefix, 0};
    s2s_decode_params p = s2s_decode_default_params();
    s2s_result r;
    s2s_error err = {0};
    cr_assert_eq(s2s_translate_inputs(s, &in, 1, &p, &r, &err), S2S_ERR_INVALID_ARG);
    cr_assert(strstr(err.message, "eos"), "%s", err.message);
    s2s_session_free(s);
    s2s_model_free(m);
}

/* The sampling parameters of the seed tests: k samples, top-k 50, top-p 0.95. */
static s2s_decode_params sampling_params(uint64_t seed, int k)
{
    s2s_decode_params p = s2s_decode_default_params();
    p.sampling = 1;
    p.num_samples = k;
    p.seed = seed;
    p.top_k = 50;
    p.top_p = 0.95f;
    p.max_length = 20;
    return p;
}

/* Decodes inputs 0..n-1 (stream = index) with sampling, in one batch. */
static void sample_batch(s2s_session *s, const s2s_model *m, int n, uint64_t seed, int k, s2s_result *out)
{
    static int srcs[8][16];
    s2s_token_seq seqs[8];
    s2s_input in[8];
    for (int i = 0; i < n; i++) {
        int len = make_source(m, i, 4 + i % 3, srcs[i]);
        seqs[i] = (s2s_token_seq){srcs[i], NULL, len, 0};
        in[i] = (s2s_input){&seqs[i], NULL, (uint64_t)i};
    }
    s2s_decode_params p = sampling_params(seed, k);
    s2s_error err = {0};
    cr_assert_eq(s2s_translate_inputs(s, in, n, &p, out, &err), S2S_OK, "%s", err.message);
}

static int same_tokens(const s2s_hypothesis *a, const s2s_hypothesis *b)
{
    return a->n_tokens == b->n_tokens && !memcmp(a->tokens, b->tokens, sizeof(int) * (size_t)a->n_tokens) &&
           a->score == b->score;
}

Test(decoding, sampling_depends_on_seed_and_stream_only)
{
    s2s_model *m = load_fixture("gru_big");
    s2s_session *s = s2s_session_new(m, NULL);
    s2s_result all[8], alone[1], other[8];
    sample_batch(s, m, 8, 42, 3, all);
    sample_batch(s, m, 8, 43, 3, other);
    int differ = 0;
    for (int i = 0; i < 8; i++) {
        cr_assert_eq(all[i].n_hyps, 3);
        /* input i alone in a batch (stream i) gives the same samples */
        int srcs[16];
        int len = make_source(m, i, 4 + i % 3, srcs);
        s2s_token_seq seq = {srcs, NULL, len, 0};
        s2s_input in = {&seq, NULL, (uint64_t)i};
        s2s_decode_params p = sampling_params(42, 3);
        s2s_error err = {0};
        cr_assert_eq(s2s_translate_inputs(s, &in, 1, &p, alone, &err), S2S_OK);
        for (int h = 0; h < 3; h++) cr_assert(same_tokens(&all[i].hyps[h], &alone[0].hyps[h]), "input %d sample %d", i, h);
        for (int h = 0; h < 3; h++) differ += !same_tokens(&all[i].hyps[h], &other[i].hyps[h]);
        s2s_result_free(&alone[0]);
        s2s_result_free(&all[i]);
        s2s_result_free(&other[i]);
    }
    cr_assert_gt(differ, 0, "seeds 42 and 43 gave the same samples everywhere");
    s2s_session_free(s);
    s2s_model_free(m);
}

Test(decoding, sampling_at_low_temperature_is_greedy_and_scores_are_forced_scores)
{
    s2s_model *m = load_fixture("gru_bi_bahdanau_before");
    s2s_session *s = s2s_session_new(m, NULL);
    int src[16];
    int n = make_source(m, 1, 5, src);
    s2s_token_seq seq = {src, NULL, n, 0};
    s2s_input in = {&seq, NULL, 7};
    s2s_decode_params p = s2s_decode_default_params();
    p.max_length = 20;
    s2s_result greedy, cold, hot;
    s2s_error err = {0};
    cr_assert_eq(s2s_translate_inputs(s, &in, 1, &p, &greedy, &err), S2S_OK);
    p.sampling = 1;
    p.temperature = 1e-4f;
    cr_assert_eq(s2s_translate_inputs(s, &in, 1, &p, &cold, &err), S2S_OK, "%s", err.message);
    cr_assert(same_tokens(&greedy.hyps[0], &cold.hyps[0]), "temperature 1e-4 differs from greedy");
    p.temperature = 1.5f;
    p.num_samples = 4;
    cr_assert_eq(s2s_translate_inputs(s, &in, 1, &p, &hot, &err), S2S_OK);
    for (int h = 0; h < hot.n_hyps; h++) {
        if (!hot.hyps[h].finished) continue;
        s2s_result forced;
        cr_assert_eq(s2s_score_ids(s, src, n, hot.hyps[h].tokens, hot.hyps[h].n_tokens, 0, &forced, &err), S2S_OK);
        cr_assert(fabsf(forced.hyps[0].score - hot.hyps[h].score) < 1e-4f, "sample %d: %g vs forced %g", h,
                  (double)hot.hyps[h].score, (double)forced.hyps[0].score);
        s2s_result_free(&forced);
    }
    s2s_result_free(&greedy);
    s2s_result_free(&cold);
    s2s_result_free(&hot);
    s2s_session_free(s);
    s2s_model_free(m);
}

Test(decoding, bad_option_values_are_refused)
{
    s2s_model *m = load_fixture("gru_bahdanau_before");
    s2s_session *s = s2s_session_new(m, NULL);
    int src[8];
    int n = make_source(m, 1, 3, src);
    s2s_decode_params p = s2s_decode_default_params();
    s2s_result r;
    s2s_error err = {0};
    p.sampling = 1;
    p.beam_size = 2;
    cr_assert_eq(s2s_translate_ids(s, src, n, &p, &r, &err), S2S_ERR_INVALID_ARG);
    cr_assert(strstr(err.message, "beam"), "%s", err.message);
    p = s2s_decode_default_params();
    p.sampling = 1;
    p.temperature = 0.0f;
    cr_assert_eq(s2s_translate_ids(s, src, n, &p, &r, &err), S2S_ERR_INVALID_ARG);
    cr_assert(strstr(err.message, "temperature"), "%s", err.message);
    p.temperature = 1.0f;
    p.top_p = 0.0f;
    cr_assert_eq(s2s_translate_ids(s, src, n, &p, &r, &err), S2S_ERR_INVALID_ARG);
    cr_assert(strstr(err.message, "top-p"), "%s", err.message);
    p = s2s_decode_default_params();
    p.no_repeat_ngram = -1;
    cr_assert_eq(s2s_translate_ids(s, src, n, &p, &r, &err), S2S_ERR_INVALID_ARG);
    p = s2s_decode_default_params();
    p.coverage_penalty = -0.5f;
    cr_assert_eq(s2s_translate_ids(s, src, n, &p, &r, &err), S2S_ERR_INVALID_ARG);
    cr_assert(strstr(err.message, "coverage"), "%s", err.message);
    s2s_session_free(s);
    s2s_model_free(m);
}

/* ---- keep_numbers (an s2s option) on the shipped dates model ------------- */

/* 1 when every digit character of `text` is (as a target id) among the
 * tokens of h: the dates model reads and writes one character per token. */
static int holds_every_digit(const s2s_model *m, const char *text, const s2s_hypothesis *h)
{
    for (const char *c = text; *c; c++) {
        if (*c < '0' || *c > '9') continue;
        int id = s2s_model_token_id(m, S2S_TARGET, c, 1), found = 0;
        for (int i = 0; i < h->n_tokens && !found; i++) found = h->tokens[i] == id;
        if (!found) return 0;
    }
    return 1;
}

Test(decoding, keep_numbers_keeps_every_number_or_changes_nothing)
{
    s2s_model *m = load_shipped("dates");
    s2s_session *s = s2s_session_new(m, NULL);
    /* a date cannot hold all of "5 6 7 8": greedy drops one, keep_numbers
     * must place it; the others are ordinary dates */
    const char *texts[] = {"5 6 7 8", "le 2 et le 3 mai 2001", "12 mars 2021", "3/4/21"};
    int changed = 0;
    for (int beam = 1; beam <= 3; beam += 2) {
        for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
            s2s_token_seq src = {0};
            s2s_error err = {0};
            cr_assert_eq(s2s_tokenize(m, S2S_SOURCE, texts[k], strlen(texts[k]), NULL, &src, &err), S2S_OK, "%s",
                         err.message);
            s2s_decode_params p = s2s_decode_default_params();
            p.beam_size = beam;
            s2s_result plain, kept;
            cr_assert_eq(s2s_translate_ids(s, src.ids, src.n, &p, &plain, &err), S2S_OK, "%s", err.message);
            p.keep_numbers = 1;
            cr_assert_eq(s2s_translate_ids(s, src.ids, src.n, &p, &kept, &err), S2S_OK, "%s", err.message);
            const s2s_hypothesis *h = &kept.hyps[0];
            cr_assert((h->finished && holds_every_digit(m, texts[k], h)) || same_tokens(h, &plain.hyps[0]),
                      "beam %d, '%s': neither finished with every digit nor the plain output", beam, texts[k]);
            changed += !same_tokens(h, &plain.hyps[0]);
            if (k == 0) cr_assert(!same_tokens(h, &plain.hyps[0]), "beam %d: '%s' unchanged", beam, texts[k]);
            s2s_result_free(&plain);
            s2s_result_free(&kept);
            s2s_token_seq_free(&src);
        }
    }
    cr_assert(changed >= 2);
    /* sampling ignores it; a value other than 0 or 1 is refused */
    s2s_token_seq src = {0};
    s2s_error err = {0};
    cr_assert_eq(s2s_tokenize(m, S2S_SOURCE, texts[0], strlen(texts[0]), NULL, &src, &err), S2S_OK);
    s2s_decode_params p = s2s_decode_default_params();
    p.sampling = 1;
    p.seed = 5;
    s2s_result a, b;
    cr_assert_eq(s2s_translate_ids(s, src.ids, src.n, &p, &a, &err), S2S_OK, "%s", err.message);
    p.keep_numbers = 1;
    cr_assert_eq(s2s_translate_ids(s, src.ids, src.n, &p, &b, &err), S2S_OK, "%s", err.message);
    cr_assert(same_tokens(&a.hyps[0], &b.hyps[0]), "sampling changed with keep_numbers");
    s2s_result_free(&a);
    s2s_result_free(&b);
    p = s2s_decode_default_params();
    p.keep_numbers = 2;
    cr_assert_eq(s2s_translate_ids(s, src.ids, src.n, &p, &a, &err), S2S_ERR_INVALID_ARG);
    cr_assert(strstr(err.message, "keep_numbers"), "%s", err.message);
    s2s_token_seq_free(&src);
    s2s_session_free(s);
    s2s_model_free(m);
}

/* Beam search shares its slots among hypotheses holding 0, 1, ... of the
 * numbers, so a hypothesis that holds them all is found even where the
 * model would not place them itself: "1 2 3 4 5 6" is no date, and beam 3
 * without the sharing ends in the plain output (a date lacking 3, 4 and 5). */
Test(decoding, keep_numbers_beam_search_finds_room_for_every_number)
{
    s2s_model *m = load_shipped("dates");
    s2s_session *s = s2s_session_new(m, NULL);
    const char *text = "1 2 3 4 5 6";
    s2s_token_seq src = {0};
    s2s_error err = {0};
    cr_assert_eq(s2s_tokenize(m, S2S_SOURCE, text, strlen(text), NULL, &src, &err), S2S_OK, "%s", err.message);
    s2s_decode_params p = s2s_decode_default_params();
    p.beam_size = 3;
    s2s_result plain, kept;
    cr_assert_eq(s2s_translate_ids(s, src.ids, src.n, &p, &plain, &err), S2S_OK, "%s", err.message);
    cr_assert(!holds_every_digit(m, text, &plain.hyps[0]), "the plain output already holds every digit");
    p.keep_numbers = 1;
    cr_assert_eq(s2s_translate_ids(s, src.ids, src.n, &p, &kept, &err), S2S_OK, "%s", err.message);
    cr_assert(kept.hyps[0].finished && holds_every_digit(m, text, &kept.hyps[0]),
              "beam 3 with keep_numbers: the output lacks a digit of '%s'", text);
    s2s_result_free(&plain);
    s2s_result_free(&kept);
    s2s_token_seq_free(&src);
    s2s_session_free(s);
    s2s_model_free(m);
}
