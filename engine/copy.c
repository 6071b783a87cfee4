/*
 * copy.c - the extended vocabulary of a copy model (see copy.h).
 */
#include "copy.h"

#include <string.h>

int copy_map(const s2s_model *m, const char *const *pieces, int n, int *copy_ids, int *first_of)
{
    const s2s_vocab *tgt = m->vocab[S2S_TARGET];
    int V = vocab_size(tgt), n_ext = 0;
    for (int j = 0; j < n; j++) {
        int id = vocab_id(tgt, pieces[j], strlen(pieces[j]));
        if (id < 0) {
            int e = 0;
            while (e < n_ext && strcmp(pieces[first_of[e]], pieces[j]) != 0) e++;
            if (e == n_ext) first_of[n_ext++] = j;
            id = V + e;
        }
        copy_ids[j] = id;
    }
    return n_ext;
}

void copy_same_as(const int *copy_ids, int n, int *same_as)
{
    for (int j = 0; j < n; j++) {
        int k = 0;
        while (copy_ids[k] != copy_ids[j]) k++;
        same_as[j] = k;
    }
}

int copy_find(const s2s_model *m, const char *const *pieces, const int *copy_ids, int n, const char *piece)
{
    int V = vocab_size(m->vocab[S2S_TARGET]);
    for (int j = 0; j < n; j++)
        if (copy_ids[j] >= V && strcmp(pieces[j], piece) == 0) return copy_ids[j];
    return -1;
}
