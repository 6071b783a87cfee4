/*
 * fuzz_shortlist.c - libFuzzer target: shortlist.txt parsing on arbitrary
 * bytes, for a model of 40 source and 30 target tokens. On success every id
 * is in range, the candidate spans are ordered, and a selection over every
 * source id stays within the target vocabulary without repeats.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shortlist.h"

enum { V_SRC = 40, V_TGT = 30 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    shortlist *sl = NULL;
    s2s_error err;
    if (shortlist_parse((const char *)data, size, "shortlist.txt", V_SRC, V_TGT, &sl, &err) != S2S_OK) {
        if (sl || !strstr(err.message, "shortlist.txt")) abort();
        return 0;
    }
    if (sl->n_src != V_SRC || sl->n_tgt != V_TGT || sl->first[0] != 0) abort();
    for (int s = 0; s < V_SRC; s++)
        if (sl->first[s] > sl->first[s + 1]) abort();
    for (int i = 0; i < sl->first[V_SRC]; i++)
        if (sl->cand[i] < 0 || sl->cand[i] >= V_TGT) abort();
    for (int i = 0; i < sl->n_frequent; i++)
        if (sl->frequent[i] < 0 || sl->frequent[i] >= V_TGT) abort();
    unsigned char mark[V_TGT] = {0};
    int ids[V_TGT], k = 0, src[V_SRC];
    for (int s = 0; s < V_SRC; s++) src[s] = s;
    shortlist_add_targets(sl->frequent, sl->n_frequent, V_TGT, mark, ids, &k);
    shortlist_add_source(sl, src, V_SRC, mark, ids, &k);
    if (k > V_TGT) abort();
    for (int i = 0; i < k; i++)
        if (!mark[ids[i]]) abort();
    shortlist_free(sl);
    return 0;
}
