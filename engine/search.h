/*
 * search.h - decoding strategies (docs/model-format.md sections 6 and 9.5)
 * over the model math of compute.h: beam search (greedy is width 1) and
 * sampling for a batch of sentences, and forced decoding. Separate from the
 * model so strategies can be added without touching the math.
 */
#ifndef S2S_SEARCH_H
#define S2S_SEARCH_H

#include <stdint.h>

#include "arena.h"
#include "compute.h"

/* One input of a search, checked and resolved by the caller (session.c). */
typedef struct search_input {
    const int *ids;       /* n source ids, valid */
    int n;
    const int *copy_ids;  /* copy models: (n) extended-vocabulary id of each
                             source position; else NULL */
    const int *copy_same_as; /* copy models: (n) first position with the same
                             id (copy_same_as in copy.h); else NULL */
    int n_ext;            /* copy models: extended ids in use */
    const int *prefix;    /* target prefix ids (extended ids allowed), or NULL */
    int n_prefix;
    const int *numbers;   /* keep_numbers: target ids a hypothesis must hold
                             before it may end (distinct), or NULL */
    const unsigned char *number_alone; /* keep_numbers: (n_numbers) 1 when the source
                             writes numbers[k] alone somewhere (numbers.h) */
    const unsigned char *ext_glue; /* keep_numbers, copy models: (n_ext) the glue class
                             of each extended id's piece */
    int n_numbers;
    uint64_t stream;      /* sampling stream number (the input's line number) */
} search_input;

/* Beam search (width params->beam_size; 1 is greedy), or sampling when
 * params->sampling, of n inputs at once -> results[i]. Fails only with
 * S2S_ERR_NOMEM or S2S_ERR_ABORTED; results are empty then. */
s2s_status search_beam(const s2s_model *m, arena *ar, const search_input *in, int n,
                       const s2s_decode_params *params, s2s_result *results, s2s_error *err);

/* Forced decoding of tgt (n_tgt ids, extended ids allowed for a copy model)
 * followed by eos, given the input's source. */
s2s_status search_forced(const s2s_model *m, arena *ar, const search_input *in, const int *tgt, int n_tgt,
                         int want_attention, s2s_result *result, s2s_error *err);

#endif
