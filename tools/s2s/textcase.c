/*
 * textcase.c - ALL-CAPS and Title Case sentences (see textcase.h): found
 * by counting letters, decoded in ordinary case, given their case back.
 */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "textcase.h"

const char *cli_case_name(int casing)
{
    return casing == CLI_CASE_UPPER ? "upper" : casing == CLI_CASE_TITLE ? "title" : NULL;
}

/* The code point at s[*i] (an invalid byte gives U+FFFD), advancing *i. */
static utf8proc_int32_t next_cp(const char *s, size_t n, size_t *i)
{
    utf8proc_int32_t cp;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + *i, (utf8proc_ssize_t)(n - *i), &cp);
    if (k <= 0) {
        (*i)++;
        return 0xFFFD;
    }
    *i += (size_t)k;
    return cp;
}

static int is_letter(utf8proc_int32_t c)
{
    utf8proc_category_t k = utf8proc_category(c);
    return k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO;
}

/* A letter or a combining mark: what a word is made of. */
static int in_word(utf8proc_int32_t c)
{
    utf8proc_category_t k = utf8proc_category(c);
    return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) ||
           (k >= UTF8PROC_CATEGORY_MN && k <= UTF8PROC_CATEGORY_ME);
}

static int is_upper(utf8proc_int32_t c)
{
    utf8proc_category_t k = utf8proc_category(c);
    return k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LT;
}

static int is_lower(utf8proc_int32_t c)
{
    return utf8proc_category(c) == UTF8PROC_CATEGORY_LL;
}

/* Letter counts of one word (a run of letters and marks). */
typedef struct word_case {
    int letters, upper, lower;
    int first_upper; /* its first letter is a capital */
} word_case;

/* Reads the word starting at s[*i] (a letter) and counts its letters. */
static word_case read_word(const char *s, size_t n, size_t *i)
{
    word_case w = {0, 0, 0, 0};
    while (*i < n) {
        size_t at = *i;
        utf8proc_int32_t c = next_cp(s, n, i);
        if (!in_word(c)) {
            *i = at;
            break;
        }
        if (!is_letter(c)) continue;
        if (w.letters == 0) w.first_upper = is_upper(c);
        w.letters++;
        w.upper += is_upper(c);
        w.lower += is_lower(c);
    }
    return w;
}

/* Finds the next word at or after s[*i]: 1 with its start in *start, its
 * end in *i and its letter counts in *w; 0 when no letter is left. */
static int next_word(const char *s, size_t n, size_t *i, size_t *start, word_case *w)
{
    while (*i < n) {
        size_t at = *i;
        if (!is_letter(next_cp(s, n, i))) continue;
        *i = *start = at;
        *w = read_word(s, n, i);
        return 1;
    }
    return 0;
}

static int capitalizes_a_known_word(const char *s, size_t n, cli_known_fn known, void *ctx);

int cli_case_detect(const char *s, size_t n, cli_known_fn known, void *ctx)
{
    int upper = 0, lower = 0, title_words = 0, other_long = 0;
    size_t i = 0, at;
    word_case w;
    while (next_word(s, n, &i, &at, &w)) {
        upper += w.upper;
        lower += w.lower;
        int title = w.letters >= 2 && w.first_upper && w.upper == 1 && w.lower == w.letters - 1;
        title_words += title;
        if (w.letters >= 4 && !title && w.upper != w.letters) other_long++;
    }
    if (upper >= CASE_UPPER_MIN_LETTERS && lower * 20 <= upper) return CLI_CASE_UPPER;
    if (title_words < CASE_TITLE_MIN_WORDS || other_long > 0) return CLI_CASE_NONE;
    return !known || capitalizes_a_known_word(s, n, known, ctx) ? CLI_CASE_TITLE : CLI_CASE_NONE;
}

/* A growing output string. */
typedef struct sbuf {
    char *s;
    size_t n, cap;
    int bad; /* out of memory */
} sbuf;

static void put_bytes(sbuf *b, const char *p, size_t k)
{
    if (b->bad) return;
    if (b->n + k + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 64) + k;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->bad = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->n, p, k);
    b->n += k;
    b->s[b->n] = '\0';
}

static void put_cp(sbuf *b, utf8proc_int32_t c)
{
    utf8proc_uint8_t tmp[4];
    utf8proc_ssize_t k = utf8proc_encode_char(c, tmp);
    put_bytes(b, (const char *)tmp, (size_t)k);
}

/* Forms of a word: all lower case, capitalized, all capitals. */
enum { FORM_LOWER, FORM_CAPITAL, FORM_UPPER };

/* Writes word s[a..e) in `form` to `b`. */
static void put_word(sbuf *b, const char *s, size_t a, size_t e, int form)
{
    int first = 1;
    for (size_t i = a; i < e;) {
        utf8proc_int32_t c = next_cp(s, e, &i);
        if (is_letter(c)) {
            c = form == FORM_UPPER || (form == FORM_CAPITAL && first) ? utf8proc_toupper(c) : utf8proc_tolower(c);
            first = 0;
        }
        put_cp(b, c);
    }
}

/* 1 when `known` holds word s[a..e) written in `form`. */
static int knows(cli_known_fn known, void *ctx, const char *s, size_t a, size_t e, int form)
{
    sbuf w = {0};
    put_word(&w, s, a, e, form);
    int k = !w.bad && w.s && known(ctx, w.s, w.n);
    free(w.s);
    return k;
}

/* 1 when a capitalized word of s[0..n), past the first word, is known in
 * lower case: an ordinary word written with a capital. */
static int capitalizes_a_known_word(const char *s, size_t n, cli_known_fn known, void *ctx)
{
    size_t i = 0, at;
    word_case w;
    for (int seen_word = 0; next_word(s, n, &i, &at, &w); seen_word = 1)
        if (seen_word && w.first_upper && w.upper == 1 && knows(known, ctx, s, at, i, FORM_LOWER)) return 1;
    return 0;
}

/* The form word s[a..e) takes in the folded text. */
static int word_form(const char *s, size_t a, size_t e, int letters, int opens_sentence, cli_known_fn known,
                     void *ctx)
{
    int lower = knows(known, ctx, s, a, e, FORM_LOWER), capital = knows(known, ctx, s, a, e, FORM_CAPITAL);
    int upper_ok = letters >= 2 && !lower && !capital && knows(known, ctx, s, a, e, FORM_UPPER);
    if (upper_ok) return FORM_UPPER;
    if (opens_sentence) return FORM_CAPITAL;
    return !lower && capital ? FORM_CAPITAL : FORM_LOWER;
}

char *cli_case_fold(const char *s, size_t n, cli_known_fn known, void *ctx)
{
    sbuf b = {0};
    put_bytes(&b, "", 0);
    int seen_word = 0, seen_digit = 0;
    for (size_t i = 0; i < n;) {
        size_t at = i;
        utf8proc_int32_t c = next_cp(s, n, &i);
        if (!is_letter(c)) {
            if (utf8proc_category(c) == UTF8PROC_CATEGORY_ND) seen_digit = 1;
            put_bytes(&b, s + at, i - at);
            continue;
        }
        i = at;
        word_case w = read_word(s, n, &i);
        put_word(&b, s, at, i, word_form(s, at, i, w.letters, !seen_word && !seen_digit, known, ctx));
        seen_word = 1;
    }
    if (b.bad) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

char *cli_case_restore(const char *s, int casing)
{
    sbuf b = {0};
    size_t n = strlen(s);
    int word_start = 1; /* no letter yet in this white-space separated word */
    put_bytes(&b, "", 0);
    for (size_t i = 0; i < n;) {
        utf8proc_int32_t c = next_cp(s, n, &i);
        if (utf8proc_category(c) == UTF8PROC_CATEGORY_ZS || c == '\t' || c == '\n') {
            word_start = 1;
        } else if (is_letter(c)) {
            if (casing == CLI_CASE_UPPER) c = utf8proc_toupper(c);
            else if (casing == CLI_CASE_TITLE && word_start) c = utf8proc_totitle(c);
            word_start = 0;
        }
        put_cp(&b, c);
    }
    if (b.bad) {
        free(b.s);
        return NULL;
    }
    return b.s;
}
