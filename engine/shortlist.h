/*
 * shortlist.h - the lexical shortlist of the fast mode (S2S_COMPUTE_INT8):
 * for each source id the target ids worth computing, plus target ids always
 * computed. When a model directory holds `shortlist.txt`, a fast-mode
 * decoding computes the output projection only for the union of the lists
 * of its inputs' source ids (docs/engine.md, "Lexical shortlist").
 *
 * File format, a text file of decimal ids:
 *   s2s-shortlist 1 V_SRC V_TGT          the header: version, vocabulary sizes
 *   frequent T T T ...                   target ids always in the list
 *   S T T T ...                          a source id and its target ids
 * Lines starting with '#' are comments. Each source id appears at most once;
 * source ids without a line contribute nothing.
 */
#ifndef S2S_SHORTLIST_H
#define S2S_SHORTLIST_H

#include <stddef.h>

#include "s2s.h"

#define SHORTLIST_FILE "shortlist.txt" /* its name in a model directory */

typedef struct shortlist {
    int n_src, n_tgt;  /* vocabulary sizes the file was made for */
    int n_frequent;
    int *frequent;     /* (n_frequent) target ids always computed */
    int *first;        /* (n_src + 1): source id s owns cand[first[s] .. first[s + 1]) */
    int *cand;         /* target ids, by source id */
} shortlist;

/* Parses the shortlist text (len bytes, named `file` in errors) of a model
 * with vocabularies of v_src and v_tgt tokens into *out (caller frees with
 * shortlist_free). Every malformed line, out-of-range id, repeated source id
 * or vocabulary-size mismatch is S2S_ERR_VOCAB naming the file and line. */
s2s_status shortlist_parse(const char *text, size_t len, const char *file, int v_src, int v_tgt,
                           shortlist **out, s2s_error *err);
void shortlist_free(shortlist *sl);

/* Checks only the header line of the text (cheap: done when the model is
 * loaded; the rest is parsed on first use), with shortlist_parse's errors. */
s2s_status shortlist_check_header(const char *text, size_t len, const char *file, int v_src, int v_tgt,
                                  s2s_error *err);

/* At most how many ids one input's list can hold: the frequent ids, the
 * candidates of its n source ids, and `extra` more (eos, unk, a prefix). */
int shortlist_bound(const shortlist *sl, const int *src, int n, int extra);

/* Adds to the selection the target ids of source ids src[0..n): marks them
 * in `mark` (n_tgt bytes, 1 = selected) and appends newly marked ones to
 * ids[*k], ++*k. */
void shortlist_add_source(const shortlist *sl, const int *src, int n, unsigned char *mark, int *ids, int *k);
/* Adds target ids ids_in[0..n) themselves (frequent ones, eos, a prefix). */
void shortlist_add_targets(const int *ids_in, int n, int n_tgt, unsigned char *mark, int *ids, int *k);

#endif
