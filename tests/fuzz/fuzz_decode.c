/*
 * fuzz_decode.c - libFuzzer target over the decoding path as a user drives
 * it: arbitrary text lines through s2s_tokenize, then greedy and beam
 * search, a batch of all the lines, and forced scoring, on tiny real models
 * loaded once (tests/fixtures/models/unk_gru, which maps unknown words to
 * unk, and lstm_bi2_gru_meantanh_bahdanau_after_feed, which has no unk).
 *
 * Input layout: byte 0 picks the model (bit 0), the beam size (bits 1-2:
 * 1..4), lenient UTF-8 (bit 3) and want_attention (bit 4); the rest is up
 * to 4 lines separated by '\n'.
 *
 * Checked: tokenization fails only with S2S_ERR_UTF8 (strict mode) or
 * S2S_ERR_UNKNOWN_TOKEN (no unk), always with a message; every decode
 * succeeds; hypotheses hold valid target ids and finite scores, the
 * finished ones first, best first; the batch of all lines equals each line decoded alone, bit for
 * bit; forced scoring of the greedy output gives the greedy score (within
 * 1e-3) when greedy finished with eos.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s2s.h"

#define MAX_LINES 4

static const char *MODELS[2] = {"unk_gru", "lstm_bi2_gru_meantanh_bahdanau_after_feed"};
static s2s_model *model[2];
static s2s_session *session[2];

/* Loads both models once; aborts when they cannot be loaded (a broken
 * checkout must not look like a clean fuzz run). */
static void load_models(void)
{
    const char *root = getenv("S2S_ROOT");
    for (int i = 0; i < 2; i++) {
        if (model[i]) continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/tests/fixtures/models/%s", root ? root : ".", MODELS[i]);
        s2s_error err = {0};
        model[i] = s2s_model_load(path, &err);
        if (!model[i]) {
            fprintf(stderr, "fuzz_decode: cannot load %s: %s\n", path, err.message);
            abort();
        }
        session[i] = s2s_session_new(model[i], &err);
        if (!session[i]) abort();
    }
}

static int same_hyp(const s2s_hypothesis *a, const s2s_hypothesis *b)
{
    return a->n_tokens == b->n_tokens && a->n_steps == b->n_steps && a->finished == b->finished &&
           a->score == b->score && memcmp(a->tokens, b->tokens, sizeof(int) * (size_t)a->n_tokens) == 0;
}

/* Invariants of one result. */
static void check_result(const s2s_model *m, const s2s_result *r, int n_best)
{
    s2s_model_info info;
    s2s_model_get_info(m, &info);
    if (r->n_hyps < 1 || r->n_hyps > n_best) abort();
    for (int k = 0; k < r->n_hyps; k++) {
        const s2s_hypothesis *h = &r->hyps[k];
        if (!isfinite(h->score) || h->score > 0.0f) abort();
        /* finished hypotheses first, best first by ranking score; then the live ones */
        if (k > 0 && h->finished && !r->hyps[k - 1].finished) abort();
        if (k > 0 && h->finished && h->ranking_score > r->hyps[k - 1].ranking_score) abort();
        if (h->n_steps != h->n_tokens + (h->finished ? 1 : 0)) abort();
        for (int i = 0; i < h->n_tokens; i++)
            if (h->tokens[i] < 0 || h->tokens[i] >= info.target_vocab_size) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    load_models();
    unsigned sel = data[0];
    int mi = sel & 1, beam = 1 + (int)((sel >> 1) & 3), lenient = (sel >> 3) & 1, attn = (sel >> 4) & 1;
    const s2s_model *m = model[mi];
    s2s_session *s = session[mi];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;

    s2s_token_seq seq[MAX_LINES];
    int n = 0;
    size_t pos = 0;
    while (n < MAX_LINES && pos <= len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        s2s_tokenize_params tp = s2s_tokenize_default_params();
        tp.lenient = lenient;
        tp.max_tokens = 24; /* keeps each execution short */
        s2s_error err = {0};
        s2s_status st = s2s_tokenize(m, S2S_SOURCE, text + pos, end - pos, &tp, &seq[n], &err);
        if (st != S2S_OK) {
            if (!err.message[0]) abort();
            if (st == S2S_ERR_UTF8 && lenient) abort();
            if (st != S2S_ERR_UTF8 && st != S2S_ERR_UNKNOWN_TOKEN) abort();
        } else if (seq[n].n > 0) {
            n++;
        } else {
            s2s_token_seq_free(&seq[n]);
        }
        if (!nl) break;
        pos = end + 1;
    }

    s2s_decode_params p = s2s_decode_default_params();
    p.want_attention = attn;
    p.max_length = 30;
    s2s_result greedy[MAX_LINES], beamr[MAX_LINES], batch[MAX_LINES];
    s2s_error err = {0};
    for (int i = 0; i < n; i++) {
        p.beam_size = p.n_best = 1;
        if (s2s_translate_ids(s, seq[i].ids, seq[i].n, &p, &greedy[i], &err) != S2S_OK) abort();
        check_result(m, &greedy[i], 1);
        p.beam_size = p.n_best = beam;
        if (s2s_translate_ids(s, seq[i].ids, seq[i].n, &p, &beamr[i], &err) != S2S_OK) abort();
        check_result(m, &beamr[i], beam);
        /* forced decoding of the greedy output: the same score */
        const s2s_hypothesis *g = &greedy[i].hyps[0];
        if (g->finished) {
            s2s_result f;
            if (s2s_score_ids(s, seq[i].ids, seq[i].n, g->tokens, g->n_tokens, attn, &f, &err) != S2S_OK) abort();
            if (f.n_hyps != 1 || fabsf(f.hyps[0].score - g->score) > 1e-3f) abort();
            s2s_result_free(&f);
        }
    }
    if (n > 0) {
        const int *ids[MAX_LINES];
        int lens[MAX_LINES];
        for (int i = 0; i < n; i++) {
            ids[i] = seq[i].ids;
            lens[i] = seq[i].n;
        }
        p.beam_size = p.n_best = beam;
        if (s2s_translate_batch(s, ids, lens, n, &p, batch, &err) != S2S_OK) abort();
        for (int i = 0; i < n; i++) {
            if (batch[i].n_hyps != beamr[i].n_hyps) abort();
            for (int k = 0; k < batch[i].n_hyps; k++)
                if (!same_hyp(&batch[i].hyps[k], &beamr[i].hyps[k])) abort();
            s2s_result_free(&batch[i]);
        }
    }
    for (int i = 0; i < n; i++) {
        s2s_result_free(&greedy[i]);
        s2s_result_free(&beamr[i]);
        s2s_token_seq_free(&seq[i]);
    }
    return 0;
}
