/*
 * copy.h - the extended vocabulary of a copy model (docs/model-format.md
 * section 9.4): every distinct source piece the target vocabulary lacks gets
 * an id after the target vocabulary, so the pointer-generator can emit it.
 */
#ifndef S2S_COPY_H
#define S2S_COPY_H

#include "model.h"

/* For the n source pieces: copy_ids[j] = the target id of pieces[j] when the
 * target vocabulary holds that string, else V + e, where e numbers the
 * distinct missing pieces in order of first occurrence and first_of[e] is the
 * position of that first occurrence. Returns the number of extended ids. */
int copy_map(const s2s_model *m, const char *const *pieces, int n, int *copy_ids, int *first_of);

/* same_as[j] = the first position k <= j with copy_ids[k] == copy_ids[j], for
 * the n positions: the copy distribution adds up the attention of repeated
 * pieces there. */
void copy_same_as(const int *copy_ids, int n, int *same_as);

/* The extended id of the source piece equal to `piece`, or -1 when no source
 * piece spells it (same arguments as copy_map's results). */
int copy_find(const s2s_model *m, const char *const *pieces, const int *copy_ids, int n, const char *piece);

#endif
