/*
 * search.h - decoding strategies (model-format.md section 6) over the model math of
 * compute.h: beam search (greedy is width 1) for a batch of sentences, and
 * forced decoding. Separate from the model so strategies can be added
 * without touching the math.
 */
#ifndef S2S_SEARCH_H
#define S2S_SEARCH_H

#include "arena.h"
#include "compute.h"

/* Beam search (width params->beam_size; 1 is greedy) of n sentences at
 * once. srcs[i] (n_srcs[i] ids, valid) -> results[i]. Fails only with
 * S2S_ERR_NOMEM or S2S_ERR_ABORTED; results are untouched then. */
s2s_status search_beam(const s2s_model *m, arena *ar, const int *const *srcs, const int *n_srcs, int n,
                       const s2s_decode_params *params, s2s_result *results, s2s_error *err);

/* Forced decoding of tgt (n_tgt ids) followed by eos, given src. */
s2s_status search_forced(const s2s_model *m, arena *ar, const int *src, int n_src, const int *tgt,
                         int n_tgt, int want_attention, s2s_result *result, s2s_error *err);

#endif
