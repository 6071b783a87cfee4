/*
 * sentences.c - the sentence splitter of `s2s translate --split-sentences`
 * (see sentences.h for the rules). One left-to-right pass over the line;
 * at each run of sentence-final punctuation the text around it decides.
 */
#include <string.h>
#include <utf8proc.h>

#include "sentences.h"

#define QUOTE_DEPTH 8 /* open quotations tracked at once */

/* The code point at s[i] (an invalid byte stands for itself, as U+FFFD)
 * and the offset after it in *next; 0 at the end. */
static unsigned cp_at(const char *s, size_t len, size_t i, size_t *next)
{
    if (i >= len) {
        *next = len;
        return 0;
    }
    utf8proc_int32_t cp;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &cp);
    if (k <= 0) {
        *next = i + 1;
        return 0xFFFD;
    }
    *next = i + (size_t)k;
    return (unsigned)cp;
}

/* The code point that ends just before s[i], its start in *start; 0 at 0. */
static unsigned cp_before(const char *s, size_t len, size_t i, size_t *start)
{
    if (i == 0) {
        *start = 0;
        return 0;
    }
    size_t b = i - 1;
    while (b > 0 && i - b < 4 && ((unsigned char)s[b] & 0xC0) == 0x80) b--;
    size_t next;
    unsigned cp = cp_at(s, len, b, &next);
    if (next != i) { /* not one well-formed character: step one byte */
        b = i - 1;
        cp = 0xFFFD;
    }
    *start = b;
    return cp;
}

/* White space: ASCII, NEL, no-break and other Unicode spaces, separators. */
static int is_space(unsigned c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
           c == 0x3000;
}

/* The narrow spaces French puts before ; : ! ? and inside « ». */
static int is_french_space(unsigned c)
{
    return c == ' ' || c == 0xA0 || c == 0x202F || c == 0x2009;
}

/* Sentence-final punctuation: . ! ? … ‼ ⁇ ⁈ ⁉ */
static int is_final(unsigned c)
{
    return c == '.' || c == '!' || c == '?' || c == 0x2026 || c == 0x203C || (c >= 0x2047 && c <= 0x2049);
}

/* What may close a sentence after its final punctuation: quotes, brackets. */
static int is_closer(unsigned c)
{
    return c == '"' || c == '\'' || c == ')' || c == ']' || c == '}' || c == 0x201D || c == 0x2019 ||
           c == 0xBB || c == 0x203A;
}

/* What may open a sentence before its first letter: quotes, brackets,
 * dialogue dashes, Spanish ¿ ¡. */
static int is_opener(unsigned c)
{
    return c == '"' || c == '\'' || c == '(' || c == '[' || c == '{' || c == 0x201C || c == 0x2018 ||
           c == 0xAB || c == 0x2039 || c == 0xBF || c == 0xA1 || c == 0x2014 || c == 0x2013 || c == '-';
}

static int is_upper(unsigned c)
{
    utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);
    return k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LT;
}

static int is_letter(unsigned c)
{
    utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);
    return k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO;
}

/* Words after which a single full stop never ends a sentence: titles
 * before a name, and abbreviations that are followed by more of the
 * sentence. ("etc." is not here: it ends a list, and often a sentence.) */
static const char *const ABBREVIATIONS[] = {
    /* English */
    "Mr", "Mrs", "Ms", "Mx", "Messrs", "Dr", "Drs", "Prof", "Sr", "Jr", "St", "Mt", "Gen", "Col", "Lt", "Capt",
    "Sgt", "Maj", "Adm", "Cmdr", "Gov", "Sen", "Rep", "Rev", "Hon", "Pres", "Insp", "Supt", "Fr", "vs", "cf",
    "Cf", "viz", "approx", "ca", "Fig", "fig", "Figs", "figs", "Eq", "eq", "Ref", "ref", "Vol", "vol", "pp",
    "Nos", "nos",
    /* French */
    "M", "MM", "Mme", "Mmes", "Mlle", "Mlles", "Me", "Mes", "Mgr", "Pr", "Ste", "Sts", "Vve", "av", "Av", "bd",
    "Bd", "boul", "apr", "chap", "éd", "env", "hab", "tél", "Tél", "ex", "resp", "vers", "coll", "dir",
    NULL,
};

/* Dotted initialisms that often end a sentence. */
static const char *const INITIALISMS_THAT_END[] = {"a.m", "p.m", NULL};

/* 1 when w[0..n) is one of `list`. */
static int in_list(const char *w, size_t n, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (strlen(list[i]) == n && memcmp(list[i], w, n) == 0) return 1;
    return 0;
}

/* 1 for a dotted initialism (U.S, e.g, J.-C, Ph.D): pieces of one or two
 * letters joined by dots (or dot and hyphen), with at least one dot. */
static int is_initialism(const char *w, size_t n)
{
    int dots = 0, run = 0;
    for (size_t i = 0; i < n;) {
        size_t next;
        unsigned c = cp_at(w, n, i, &next);
        if (c == '.' || c == '-') {
            if (c == '.') dots++;
            if (run > 2) return 0;
            run = 0;
        } else if (is_letter(c)) {
            run++;
        } else {
            return 0;
        }
        i = next;
    }
    return dots > 0 && run >= 1 && run <= 2;
}

/* 1 when w[0..n) is one capital letter (an initial: John F. Kennedy). */
static int is_initial(const char *w, size_t n)
{
    size_t next;
    unsigned c = cp_at(w, n, 0, &next);
    return n > 0 && next == n && is_upper(c);
}

/* 1 when w[0..n) is a list number of 1 to 3 digits ("2. Results"). */
static int is_list_number(const char *w, size_t n)
{
    if (n < 1 || n > 3) return 0;
    for (size_t i = 0; i < n; i++)
        if (w[i] < '0' || w[i] > '9') return 0;
    return 1;
}

/* 1 when the single full stop at s[dot] may end a sentence, judging by the
 * word before it; `first` is where the current sentence starts. */
static int stop_may_end(const char *s, size_t len, size_t dot, size_t first)
{
    size_t ws = dot, b;
    while (ws > first) {
        unsigned c = cp_before(s, len, ws, &b);
        if (is_space(c) || c == '(' || c == '[' || c == '{' || c == 0xAB || c == 0x201C || c == 0x2018 || c == '"')
            break;
        ws = b;
    }
    const char *w = s + ws;
    size_t n = dot - ws;
    if (n == 0) return 1;
    if (in_list(w, n, ABBREVIATIONS) || is_initial(w, n)) return 0;
    if (is_initialism(w, n)) return in_list(w, n, INITIALISMS_THAT_END);
    if (ws == first && is_list_number(w, n)) return 0;
    return 1;
}

/* Open quotations at a point of the line: innermost last. */
typedef struct quotes {
    unsigned closer[QUOTE_DEPTH]; /* the mark that closes each */
    size_t at[QUOTE_DEPTH];       /* where each opened */
    int n;
} quotes;

/* Updates the open quotations for character c at offset i. Straight
 * double quotes alternate between opening and closing. */
static void quotes_step(quotes *q, unsigned c, size_t i)
{
    unsigned close = c == 0xAB ? 0xBB : c == 0x201C ? 0x201D : 0;
    if (c == '"' && q->n > 0 && q->closer[q->n - 1] == '"') {
        q->n--;
        return;
    }
    if (c == '"') close = '"';
    if (close) {
        if (q->n == QUOTE_DEPTH) { /* forget the outermost */
            memmove(q->closer, q->closer + 1, (QUOTE_DEPTH - 1) * sizeof q->closer[0]);
            memmove(q->at, q->at + 1, (QUOTE_DEPTH - 1) * sizeof q->at[0]);
            q->n--;
        }
        q->closer[q->n] = close;
        q->at[q->n++] = i;
        return;
    }
    for (int k = q->n - 1; k >= 0; k--) /* a closer ends the innermost quotation it matches */
        if (q->closer[k] == c) {
            q->n = k;
            return;
        }
}

/* 1 when offset `b` lies inside a short quotation: the innermost one open
 * at b closes within SENT_QUOTE_MAX bytes of where it opened. */
static int inside_short_quote(const char *s, size_t len, const quotes *open, size_t b)
{
    if (open->n == 0) return 0;
    quotes q = *open;
    int depth = q.n;
    size_t limit = q.at[depth - 1] + SENT_QUOTE_MAX;
    for (size_t i = b, next; i < len && i < limit; i = next) {
        unsigned c = cp_at(s, len, i, &next);
        quotes_step(&q, c, i);
        if (q.n < depth) return 1;
    }
    return 0;
}

/* Skips white space from i; returns the first offset that is not. */
static size_t skip_space(const char *s, size_t len, size_t i)
{
    size_t next;
    while (i < len && is_space(cp_at(s, len, i, &next))) i = next;
    return i;
}

/* After the final punctuation ending at `i`: the closing quotes and
 * brackets (with French spacing before » or ”) that belong to the
 * sentence; returns where the sentence ends. */
static size_t skip_closers(const char *s, size_t len, size_t i)
{
    for (;;) {
        size_t next, j = i;
        unsigned c = cp_at(s, len, j, &next);
        while (is_french_space(c)) { /* "fin. »" */
            j = next;
            c = cp_at(s, len, j, &next);
        }
        if (!is_closer(c) || (j != i && c != 0xBB && c != 0x203A && c != 0x201D)) return i;
        i = next;
    }
}

/* 1 when a sentence starts at s[i]: opening marks (and spaces after them),
 * then a capital letter. */
static int starts_sentence(const char *s, size_t len, size_t i)
{
    for (int k = 0; k < 8 && i < len; k++) {
        size_t next;
        unsigned c = cp_at(s, len, i, &next);
        if (is_upper(c)) return 1;
        if (!is_opener(c)) return 0;
        i = skip_space(s, len, next);
    }
    return 0;
}

/* Records the sentence s[a..b) trimmed of white space, when not empty. */
static void emit(const char *s, size_t a, size_t b, sent_span *out, int max, int *n)
{
    a = skip_space(s, b, a);
    while (b > a) {
        size_t start;
        if (!is_space(cp_before(s, b, b, &start))) break;
        b = start;
    }
    if (b <= a) return;
    if (*n < max) out[*n] = (sent_span){a, b - a};
    (*n)++;
}

int sent_split(const char *s, size_t len, sent_span *out, int max)
{
    int n = 0;
    quotes q = {{0}, {0}, 0};
    size_t first = skip_space(s, len, 0); /* start of the current sentence */
    for (size_t i = first, next; i < len && n < SENT_MAX - 1; i = next) {
        unsigned c = cp_at(s, len, i, &next);
        if (!is_final(c)) {
            quotes_step(&q, c, i);
            continue;
        }
        size_t run_end = next, k; /* the run of final punctuation */
        int single_stop = c == '.';
        while (is_final(cp_at(s, len, run_end, &k))) {
            run_end = k;
            single_stop = 0;
        }
        next = run_end;
        size_t end = skip_closers(s, len, run_end);
        size_t after = skip_space(s, len, end);
        if (after == end || after >= len || !starts_sentence(s, len, after)) continue;
        if (single_stop && !stop_may_end(s, len, i, first)) continue;
        quotes upto = q; /* the closers of this sentence are inside it */
        for (size_t j = run_end, jn; j < end; j = jn) quotes_step(&upto, cp_at(s, len, j, &jn), j);
        if (inside_short_quote(s, len, &upto, end)) continue;
        emit(s, first, end, out, max, &n);
        first = after;
    }
    emit(s, first, len, out, max, &n);
    return n;
}
