/*
 * cli_join.h - a line split into sentences is decoded sentence by
 * sentence; these functions make the line's own result out of the
 * sentences' results: the best combinations of their hypotheses, each
 * joined into one hypothesis (tokens, scores, steps, attention) over the
 * line's joined source tokens.
 */
#ifndef S2S_CLI_JOIN_H
#define S2S_CLI_JOIN_H

#include "cli.h"

/* Finds the `n_best` best ways of taking one hypothesis from each of
 * res[0..n_units) (each list non-empty, in the engine's order). A
 * combination ranks by its number of unfinished hypotheses (fewer first,
 * as the engine ranks unfinished ones last), then by the sum of the
 * ranking scores (higher first); ties go to the combination that comes
 * first taking the sentences in order. Writes combination k's hypothesis
 * indices to combo[k * n_units .. k * n_units + n_units) (room for
 * n_best * n_units ints) and returns how many there are (at most n_best,
 * at most the product of the list sizes), or -1 when out of memory. */
int cli_join_best(const s2s_result *const *res, int n_units, int n_best, int *combo);

/* Makes `out` the hypothesis of a line from one hypothesis per sentence
 * (hyps[u] of res[u], u < n_units): tokens and steps one after the other,
 * score and ranking score summed, finished when all are, and with
 * `want_attention` an attention matrix of all steps over all the line's
 * source tokens (n_source in all; sentence u's columns start at col0[u])
 * that is each sentence's matrix on its own rows and columns and 0
 * elsewhere. Token log-probabilities are kept when every sentence has
 * them. A copy model's extended ids (>= n_target, the target vocabulary
 * size) of sentence u become n_target + ext0[u] + (id - n_target), their
 * place in the line's extended table (cli_join_extended). 0, or -1 when
 * out of memory. Free with cli_join_free. */
int cli_join_hypothesis(const s2s_hypothesis *const *hyps, const int *col0, const int *ext0, int n_units,
                        int n_source, int n_target, int want_attention, s2s_hypothesis *out);

/* The line's extended table: the sentences' tables one after the other,
 * ext0[u] the start of sentence u's. The strings stay the sentences';
 * returns a malloc'd array of *n pointers (NULL with *n == 0 when no
 * sentence has any), or NULL with *n == -1 when out of memory. */
char **cli_join_extended(const s2s_result *const *res, int n_units, int *ext0, int *n);

/* Frees what cli_join_hypothesis allocated and zeroes `h`. */
void cli_join_free(s2s_hypothesis *h);

/* Makes `out` the concatenation of the sentences' source tokens (ids and
 * pieces, each sentence with its appended eos); the pieces point into the
 * sentences' sequences, which must outlive `out`. `truncated` when any
 * sentence was cut. 0, or -1 when out of memory. Free out->ids and
 * out->pieces with free() (not s2s_token_seq_free). */
int cli_join_source(const s2s_token_seq *const *src, int n_units, s2s_token_seq *out);

#endif
