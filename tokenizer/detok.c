/*
 * detok.c - tokenizer_join: target tokens back to text (docs/tokenizer.md).
 */
#include <stdlib.h>
#include <string.h>

#include "tok_internal.h"


/* Joins `n` tokens (see docs/tokenizer.md section 2): level "char"
 * concatenates; with joiner marks (normalizer "text" or level "bpe") a
 * space goes between neighbours unless a mark ends the left token or starts
 * the right one, and the marks are removed; otherwise single spaces.
 * Returns a malloc'd string the caller frees, or NULL when out of memory. */
char *tokenizer_join(const s2s_tokenizer *tok, const char *const *pieces, int n)
{
    int chars = tok && tok->level == LEVEL_CHAR;
    int marks = tok && (tok->normalizer == NORM_TEXT || tok->level == LEVEL_BPE);
    size_t total = 1;
    for (int i = 0; i < n; i++) total += strlen(pieces[i]) + 1;
    char *s = malloc(total), *p = s;
    if (!s) return NULL;
    int glue = 1; /* nothing before the first token */
    for (int i = 0; i < n; i++) {
        const char *t = pieces[i];
        size_t l = strlen(t);
        int left = 0, right = 0;
        if (marks) {
            if (l >= S2S_JOINER_LEN && memcmp(t, S2S_JOINER, S2S_JOINER_LEN) == 0) {
                left = 1;
                t += S2S_JOINER_LEN;
                l -= S2S_JOINER_LEN;
            }
            if (l >= S2S_JOINER_LEN && memcmp(t + l - S2S_JOINER_LEN, S2S_JOINER, S2S_JOINER_LEN) == 0) {
                right = 1;
                l -= S2S_JOINER_LEN;
            }
        }
        if (!chars && !glue && !left) *p++ = ' ';
        memcpy(p, t, l);
        p += l;
        glue = right;
    }
    *p = 0;
    return s;
}
