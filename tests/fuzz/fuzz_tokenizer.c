/*
 * fuzz_tokenizer.c - libFuzzer target over the tokenizer: UTF-8 decoding
 * (strict and lenient), the three normalizers, the three levels, BPE
 * encoding and merges-file parsing, and join.
 *
 * Input layout: byte 0 picks the configuration (normalizer = b % 3,
 * level = b / 3 % 3, lowercase = b / 9 % 2, lenient = b / 18 % 2,
 * whole_numbers = b / 36 % 2 and whole_names = b / 72 % 2, used by level
 * "bpe");
 * byte 1 is the length L of a merges text that follows (parsed with
 * bpe_parse; a fixed merges table is used when it is refused); the rest is
 * the text to tokenize.
 *
 * Checked: lenient splitting never fails; strict splitting fails only with
 * TOK_ERR_UTF8 and exactly when utf8proc finds the text invalid; every
 * token is non-empty valid UTF-8; join never fails; with level "bpe", the
 * join of the BPE tokens equals the join of the word tokens (with or
 * without whole numbers and names).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "tok_internal.h"

static const char FIXED_MERGES[] = "#version: 0.2\nt h\ne r\ni n\na n\nth e\no n\ne n\nr e\ne s\nin g\n"
                                   "\xc3\xa9 t\nl o\nlo w\n\xef\xbf\xad \xef\xbf\xad\n, \xef\xbf\xad\na a\n";

static int valid_utf8(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &c);
        if (k <= 0) return 0;
        i += (size_t)k;
    }
    return 1;
}

static char *joined(const s2s_tokenizer *t, const piece_list *pl)
{
    char *j = tokenizer_join(t, (const char *const *)pl->pieces, pl->n);
    if (!j) abort();
    return j;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    unsigned sel = data[0];
    size_t ml = data[1];
    if (ml > size - 2) ml = size - 2;
    const char *mtext = (const char *)data + 2;
    const char *text = mtext + ml;
    size_t len = size - 2 - ml;

    tok_error err;
    bpe_merges *m = bpe_parse(mtext, ml, "fuzz-merges", &err);
    if (!m) {
        if (err.status != TOK_ERR_MERGES || !err.message[0]) abort();
        m = bpe_parse(FIXED_MERGES, sizeof FIXED_MERGES - 1, "fixed", &err);
        if (!m) abort();
    }

    struct s2s_tokenizer t;
    memset(&t, 0, sizeof t);
    t.normalizer = (normalizer_kind)(sel % 3);
    t.level = (level_kind)(sel / 3 % 3);
    t.lowercase = (int)(sel / 9 % 2);
    t.whole_numbers = t.level == LEVEL_BPE && sel / 36 % 2;
    t.whole_names = t.level == LEVEL_BPE && sel / 72 % 2;
    t.merges = t.level == LEVEL_BPE ? m : NULL;
    int lenient = (int)(sel / 18 % 2);

    piece_list pl = {0};
    tok_status st = tokenizer_split(&t, text, len, lenient, NULL, &pl, &err);
    int valid = valid_utf8((const uint8_t *)text, len);
    if (st != TOK_OK) {
        if (lenient || st != TOK_ERR_UTF8 || valid || pl.n != 0) abort();
    } else {
        if (!lenient && !valid) abort();
        for (int i = 0; i < pl.n; i++) {
            size_t l = strlen(pl.pieces[i]);
            if (l == 0 || !valid_utf8((const uint8_t *)pl.pieces[i], l)) abort();
        }
        char *j = joined(&t, &pl);
        if (t.level == LEVEL_BPE) {
            /* BPE only subdivides words: joining gives the word-level text,
             * unless the raw input itself holds joiner marks */
            struct s2s_tokenizer w = t;
            w.level = LEVEL_WORD;
            w.merges = NULL;
            w.whole_numbers = 0;
            w.whole_names = 0;
            piece_list wl = {0};
            if (tokenizer_split(&w, text, len, lenient, NULL, &wl, &err) != TOK_OK) abort();
            char *wj = joined(&w, &wl);
            if (t.normalizer == NORM_TEXT || !memmem(text, len, S2S_JOINER, S2S_JOINER_LEN))
                if (strcmp(j, wj) != 0) abort();
            free(wj);
            piece_list_free(&wl);
        }
        if (t.normalizer == NORM_TEXT && strstr(j, S2S_JOINER)) abort(); /* NFKC removed them all */
        free(j);
    }
    piece_list_free(&pl);
    bpe_free(m);
    return 0;
}
