/*
 * result.h - building the public s2s_result / s2s_hypothesis (s2s.h) that
 * the decoding strategies return. Results are the only memory a decoding
 * call allocates outside the session's arena; the caller frees them with
 * s2s_result_free().
 */
#ifndef S2S_RESULT_H
#define S2S_RESULT_H

#include "s2s.h"

/* Zeroes `res` and gives it `n_hyps` zeroed hypotheses over `n_source`
 * source positions. Returns 1, or 0 when out of memory (res stays empty). */
int result_alloc(s2s_result *res, int n_source, int n_hyps);

/* Allocates the arrays of hypothesis `h` (zeroed first): n_tokens tokens,
 * n_steps log-probabilities and, when `want_attention`, an n_steps x
 * n_source attention matrix; sets n_tokens, n_steps and finished. Returns
 * 1, or 0 when out of memory (what was allocated stays in h for
 * s2s_result_free to release). */
int hypothesis_alloc(s2s_hypothesis *h, int n_tokens, int n_steps, int n_source, int want_attention,
                     int finished);

#endif
