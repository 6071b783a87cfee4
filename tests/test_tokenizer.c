/*
 * test_tokenizer.c - the tokenizer's rules (model-format.md section 5, docs/tokenizer.md)
 * on hand-picked inputs. Every expected value here was worked out by hand
 * from the rules, not copied from the program's output.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"
#include "tok_internal.h"
#include "support/slurp.h"

#define J "\xef\xbf\xad" /* joiner U+FFED */

/* A tokenizer for `cfg`; `merges_path` names the merges file for level "bpe". */
static s2s_tokenizer *mk_cfg(const tokenizer_config *cfg, const char *merges_path)
{
    tok_error err = {0};
    size_t len = 0;
    char *merges = merges_path ? slurp(merges_path, &len) : NULL;
    s2s_tokenizer *t = tokenizer_new(cfg, merges, len, merges_path, &err);
    free(merges);
    cr_assert(t, "tokenizer_new: %s", err.message);
    return t;
}

/* The settings of mk(): normalizer, level and lowercase; the rest default. */
static tokenizer_config cfg_of(normalizer_kind nk, level_kind lk, int lower)
{
    tokenizer_config cfg = {0};
    cfg.normalizer = nk;
    cfg.level = lk;
    cfg.lowercase = lower;
    cfg.max_input_tokens = S2S_DEFAULT_MAX_INPUT_TOKENS;
    return cfg;
}

static s2s_tokenizer *mk(normalizer_kind nk, level_kind lk, int lower, const char *merges_path)
{
    tokenizer_config cfg = cfg_of(nk, lk, lower);
    return mk_cfg(&cfg, merges_path);
}

/* A BPE tokenizer with whole_numbers and whole_names as given. */
static s2s_tokenizer *mk_whole(normalizer_kind nk, const char *merges_path, int numbers, int names)
{
    tokenizer_config cfg = cfg_of(nk, LEVEL_BPE, 0);
    cfg.whole_numbers = numbers;
    cfg.whole_names = names;
    return mk_cfg(&cfg, merges_path);
}

/* Checks split(text) == the NULL-terminated expected tokens, and, when
 * `joined` is not NULL, join(tokens) == joined. */
static void check_n(const s2s_tokenizer *t, const char *text, size_t len, const s2s_vocab *v,
                    const char *joined, ...)
{
    piece_list pl = {0};
    tok_error err = {0};
    tok_status st = tokenizer_split(t, text, len, 0, v, &pl, &err);
    cr_assert_eq(st, TOK_OK, "split '%s': %s", text, err.message);
    va_list ap;
    va_start(ap, joined);
    int i = 0;
    const char *e;
    while ((e = va_arg(ap, const char *)) != NULL) {
        cr_assert_lt(i, pl.n, "'%s': only %d tokens, expected more ('%s' next)", text, pl.n, e);
        cr_expect_str_eq(pl.pieces[i], e, "'%s': token %d is '%s', expected '%s'", text, i, pl.pieces[i], e);
        i++;
    }
    va_end(ap);
    cr_expect_eq(pl.n, i, "'%s': %d tokens, expected %d", text, pl.n, i);
    if (joined) {
        char *j = tokenizer_join(t, (const char *const *)pl.pieces, pl.n);
        cr_assert(j);
        cr_expect_str_eq(j, joined, "'%s': join gives '%s', expected '%s'", text, j, joined);
        free(j);
    }
    piece_list_free(&pl);
}
#define check(t, text, joined, ...) check_n(t, text, strlen(text), NULL, joined, __VA_ARGS__, NULL)
#define check_empty(t, text) check_n(t, text, strlen(text), NULL, "", NULL)

/* ---- "none" ------------------------------------------------------------------ */

Test(none, word_splits_on_ascii_white_space_only)
{
    s2s_tokenizer *t = mk(NORM_NONE, LEVEL_WORD, 0, NULL);
    check(t, "  hello \t world\n", "hello world", "hello", "world");
    check(t, "a\r\nb\vc\fd", "a b c d", "a", "b", "c", "d");
    check(t, "Don't,stop!", "Don't,stop!", "Don't,stop!");
    check(t, "a\xc2\xa0" "b", "a\xc2\xa0" "b", "a\xc2\xa0" "b");           /* NBSP is not ASCII */
    check(t, "x\x1cy \xe2\x80\x8b", "x\x1cy \xe2\x80\x8b", "x\x1cy", "\xe2\x80\x8b"); /* nothing else */
    check_empty(t, "");
    check_empty(t, " \t\r\n\v\f ");
    tokenizer_free(t);
}

Test(none, char_level_space_rule)
{
    s2s_tokenizer *t = mk(NORM_NONE, LEVEL_CHAR, 0, NULL);
    /* no vocabulary given: " " is kept, one per ASCII white-space character */
    check(t, " a\tb", " a b", " ", "a", " ", "b");
    check(t, "e\xcc\x81", "e\xcc\x81", "e", "\xcc\x81"); /* code points, not graphemes */
    check(t, "\xc3\xa9!", "\xc3\xa9!", "\xc3\xa9", "!");
    tok_error err = {0};
    const char *with = "{\"a\": 0, \" \": 1}", *without = "{\"a\": 0, \"b\": 1}";
    s2s_vocab *vw = vocab_parse(with, strlen(with), "with", &err);
    s2s_vocab *vo = vocab_parse(without, strlen(without), "without", &err);
    cr_assert(vw && vo, "%s", err.message);
    check_n(t, "a  b\n", 5, vw, "a  b ", "a", " ", " ", "b", " ", NULL);
    check_n(t, "a  b\n", 5, vo, "ab", "a", "b", NULL);
    vocab_free(vw);
    vocab_free(vo);
    tokenizer_free(t);
}

/* ---- "tutorial" -------------------------------------------------------------- */

Test(tutorial, words)
{
    s2s_tokenizer *t = mk(NORM_TUTORIAL, LEVEL_WORD, 0, NULL);
    check(t, "Je suis tr\xc3\xa8s content de te voir.", "je suis tres content de te voir",
          "je", "suis", "tres", "content", "de", "te", "voir");
    check(t, "Va !", "va !", "va", "!");
    check(t, "What?!", "what ? !", "what", "?", "!");
    check(t, "a?b", "a ?b", "a", "?b");                      /* space before ?, none after */
    check(t, "don't", "don t", "don", "t");
    check(t, "I have 3 dogs.", "i have dogs", "i", "have", "dogs");
    check(t, "c\xc5\x93ur", "c ur", "c", "ur");              /* oe ligature has no NFD */
    check(t, "\xef\xac\x81ne", "ne", "ne");                  /* fi ligature: compatibility only */
    check(t, "na\xc3\xafve", "naive", "naive");
    check(t, "e\xcc\x81t\xc3\xa9", "ete", "ete");            /* combining and precomposed */
    check(t, "\xc4\xb0stanbul", "istanbul", "istanbul");     /* U+0130: i + dot, dot dropped */
    check(t, "\xe2\x84\xaa" "elvin", "kelvin", "kelvin");    /* KELVIN SIGN lowercases to k */
    check(t, "\xe2\x84\xab", "a", "a");                      /* ANGSTROM SIGN -> a + ring */
    check(t, "\xce\xa3\xce\x9f\xce\xa6\xce\x9f\xce\xa3 ok", "ok", "ok"); /* final sigma is not ASCII */
    check_empty(t, "\xef\xbc\xa1\xef\xbc\xa2\xef\xbc\xa3");  /* full-width ABC: not a-z */
    check_empty(t, "...");
    check_empty(t, "");
    check(t, "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7 hi", "hi", "hi");
    tokenizer_free(t);
}

Test(tutorial, chars)
{
    s2s_tokenizer *t = mk(NORM_TUTORIAL, LEVEL_CHAR, 0, NULL);
    check(t, "Hi there!", "hi there !", "h", "i", " ", "t", "h", "e", "r", "e", " ", "!");
    tokenizer_free(t);
}

/* ---- "text" ------------------------------------------------------------------ */

Test(text, joiners_around_punctuation)
{
    s2s_tokenizer *t = mk(NORM_TEXT, LEVEL_WORD, 0, NULL);
    check(t, "I'm fine, thanks.", "I'm fine, thanks.", "I", J "'" J, "m", "fine", J ",", "thanks", J ".");
    check(t, "  Hello ,  world !  ", "Hello , world !", "Hello", ",", "world", "!");
    /* guillemets, and NFKC turns the ellipsis into three full stops */
    check(t, "\xc2\xab" "Bonjour\xc2\xbb, dit-il\xe2\x80\xa6", "\xc2\xab" "Bonjour\xc2\xbb, dit-il...",
          "\xc2\xab" J, "Bonjour", J "\xc2\xbb" J, ",", "dit", J "-" J, "il", J "." J, "." J, ".");
    check(t, "C++ & C#", "C++ & C#", "C", J "+" J, "+", "&", "C", J "#");
    /* digits are word characters */
    check(t, "3.14 1,000", "3.14 1,000", "3", J "." J, "14", "1", J "," J, "000");
    check_empty(t, "");
    check_empty(t, " \t \xc2\xa0 \xe3\x80\x80 ");
    tokenizer_free(t);
}

Test(text, nfkc_spaces_and_controls)
{
    s2s_tokenizer *t = mk(NORM_TEXT, LEVEL_WORD, 0, NULL);
    check(t, "\xef\xac\x81ne", "fine", "fine");                                  /* fi ligature */
    check(t, "\xef\xbc\xa1\xef\xbc\xa2\xef\xbc\xa3\xef\xbc\x91\xef\xbc\x92\xef\xbc\x81", "ABC12!",
          "ABC12", J "!");                                                         /* full width */
    check(t, "e\xcc\x81t\xc3\xa9", "\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9");      /* composed */
    check(t, "c\xc5\x93ur", "c\xc5\x93ur", "c\xc5\x93ur");                         /* oe stays */
    /* NBSP, EM SPACE, IDEOGRAPHIC SPACE, NARROW NBSP, LINE SEPARATOR, NEL, FS */
    check(t, "a\xc2\xa0" "b\xe2\x80\x83" "c\xe3\x80\x80" "d\xe2\x80\xaf" "e\xe2\x80\xa8" "f\xc2\x85" "g\x1ch",
          "a b c d e f g h", "a", "b", "c", "d", "e", "f", "g", "h");
    /* controls and zero-width characters vanish without splitting */
    check(t, "a\x01" "b\x7f" "c\xe2\x80\x8b" "d\xe2\x80\x8d" "e\xef\xbb\xbf" "f\xc2\xad" "g", "abcdefg", "abcdefg");
    check(t, "a\tb", "a b", "a", "b");
    /* a literal joiner mark is NFKC-mapped to U+25A0 */
    check(t, J, "\xe2\x96\xa0", "\xe2\x96\xa0");
    tokenizer_free(t);
}

Test(text, emoji_rtl_and_marks)
{
    s2s_tokenizer *t = mk(NORM_TEXT, LEVEL_WORD, 0, NULL);
    /* family: ZWJs dropped, three touching symbols */
    check(t, "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7",
          "\xf0\x9f\x91\xa8\xf0\x9f\x91\xa9\xf0\x9f\x91\xa7",
          "\xf0\x9f\x91\xa8" J, "\xf0\x9f\x91\xa9" J, "\xf0\x9f\x91\xa7");
    /* heart + VS16 (a mark) stays one token; skin tone modifier is a symbol (Sk) */
    check(t, "\xe2\x9d\xa4\xef\xb8\x8f", "\xe2\x9d\xa4\xef\xb8\x8f", "\xe2\x9d\xa4\xef\xb8\x8f");
    check(t, "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd", "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd",
          "\xf0\x9f\x91\x8d" J, "\xf0\x9f\x8f\xbd");
    /* Arabic and Hebrew: logical order, punctuation split like anywhere else */
    check(t, "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7 \xd8\xa8\xd8\xa7\xd9\x84\xd8\xb9\xd8\xa7\xd9\x84\xd9\x85!",
          "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7 \xd8\xa8\xd8\xa7\xd9\x84\xd8\xb9\xd8\xa7\xd9\x84\xd9\x85!",
          "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7", "\xd8\xa8\xd8\xa7\xd9\x84\xd8\xb9\xd8\xa7\xd9\x84\xd9\x85", J "!");
    check(t, "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d, \xd7\xa2\xd7\x95\xd7\x9c\xd7\x9d.",
          "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d, \xd7\xa2\xd7\x95\xd7\x9c\xd7\x9d.",
          "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d", J ",", "\xd7\xa2\xd7\x95\xd7\x9c\xd7\x9d", J ".");
    /* a mark opening a chunk starts a word; a mark after punctuation joins it */
    check(t, "\xcc\x81" "abc", "\xcc\x81" "abc", "\xcc\x81" "abc");
    check(t, "x,\xcc\x81y", "x,\xcc\x81y", "x", J ",\xcc\x81" J, "y");
    tokenizer_free(t);
}

Test(text, lowercase_like_python_per_code_point)
{
    s2s_tokenizer *t = mk(NORM_TEXT, LEVEL_WORD, 1, NULL);
    check(t, "Hello WORLD", "hello world", "hello", "world");
    check(t, "\xc4\xb0stanbul", "i\xcc\x87stanbul", "i\xcc\x87stanbul");                /* U+0130 -> i + U+0307 */
    check(t, "\xce\xa3\xce\x9f\xce\xa6\xce\x9f\xce\xa3", "\xcf\x83\xce\xbf\xcf\x86\xce\xbf\xcf\x83",
          "\xcf\x83\xce\xbf\xcf\x86\xce\xbf\xcf\x83");  /* no final-sigma rule: every capital sigma -> U+03C3 */
    /* U+01C5 (Dz with caron) is NFKC-decomposed to D + U+017E before lowercasing */
    check(t, "Stra\xc3\x9f" "e \xc5\x92uvre \xc7\x85", "stra\xc3\x9f" "e \xc5\x93uvre d\xc5\xbe",
          "stra\xc3\x9f" "e", "\xc5\x93uvre", "d\xc5\xbe");
    check(t, "\xef\xbc\xa1\xef\xbc\xa2", "ab", "ab");                                     /* NFKC first */
    tokenizer_free(t);
}

Test(text, char_level)
{
    s2s_tokenizer *t = mk(NORM_TEXT, LEVEL_CHAR, 1, NULL);
    check(t, " Ab,\t\xc2\xa0 c\xe2\x80\x8b" "d ", "ab, cd", "a", "b", ",", " ", "c", "d");
    tokenizer_free(t);
}

/* ---- invalid UTF-8 ----------------------------------------------------------- */

static void expect_utf8_error(const s2s_tokenizer *t, const char *s, size_t len, size_t offset)
{
    piece_list pl = {0};
    tok_error err = {0};
    cr_assert_eq(tokenizer_split(t, s, len, 0, NULL, &pl, &err), TOK_ERR_UTF8);
    char msg[64];
    snprintf(msg, sizeof msg, "invalid UTF-8 at byte %zu", offset);
    cr_expect_str_eq(err.message, msg);
    cr_expect_eq(pl.n, 0);
    piece_list_free(&pl);
}

Test(utf8, strict_offsets)
{
    for (int nk = NORM_NONE; nk <= NORM_TEXT; nk++) {
        s2s_tokenizer *t = mk((normalizer_kind)nk, LEVEL_WORD, 0, NULL);
        expect_utf8_error(t, "abc\xff", 4, 3);
        expect_utf8_error(t, "hello w\xc3\xb6rld \xc3", 14, 13);   /* truncated at the end */
        expect_utf8_error(t, "\xed\xa0\x80", 3, 0);                /* surrogate */
        expect_utf8_error(t, "ab\xc0\xaf", 4, 2);                  /* overlong '/' */
        expect_utf8_error(t, "\xf4\x90\x80\x80", 4, 0);            /* above U+10FFFF */
        expect_utf8_error(t, "0123456789abcdef\x80", 17, 16);
        expect_utf8_error(t, "\xe2\x82x", 3, 0);
        tokenizer_free(t);
    }
}

Test(utf8, lenient_replaces_maximal_subparts)
{
    s2s_tokenizer *t = mk(NORM_NONE, LEVEL_WORD, 0, NULL);
    const char *cases[][2] = {
        {"a\xff" "b", "a\xef\xbf\xbd" "b"},
        {"\xe2\x82", "\xef\xbf\xbd"},                              /* one U+FFFD for a truncated sequence */
        {"\xf0\x9f\x98x", "\xef\xbf\xbdx"},
        {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},                  /* C0 never starts a sequence */
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},  /* surrogate: three */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        piece_list pl = {0};
        tok_error err = {0};
        cr_assert_eq(tokenizer_split(t, cases[i][0], strlen(cases[i][0]), 1, NULL, &pl, &err), TOK_OK, "%s",
                     err.message);
        cr_assert_eq(pl.n, 1);
        cr_expect_str_eq(pl.pieces[0], cases[i][1], "case %zu", i);
        piece_list_free(&pl);
    }
    tokenizer_free(t);
}

Test(utf8, embedded_nul)
{
    s2s_tokenizer *t = mk(NORM_NONE, LEVEL_WORD, 0, NULL);
    check_n(t, "a\0b c \0", 7, NULL, "ab c", "ab", "c", NULL); /* "none" drops U+0000 */
    tokenizer_free(t);
    t = mk(NORM_NONE, LEVEL_CHAR, 0, NULL);
    check_n(t, "a\0b", 3, NULL, "ab", "a", "b", NULL);
    tokenizer_free(t);
    t = mk(NORM_TUTORIAL, LEVEL_WORD, 0, NULL); /* the tutorial: a separator */
    check_n(t, "a\0b", 3, NULL, "a b", "a", "b", NULL);
    tokenizer_free(t);
    t = mk(NORM_TEXT, LEVEL_WORD, 0, NULL); /* NUL is Cc: dropped */
    check_n(t, "a\0b c", 5, NULL, "ab c", "ab", "c", NULL);
    tokenizer_free(t);
}

/* ---- BPE ---------------------------------------------------------------------- */

static char *write_tmp(const char *content)
{
    char *path = strdup("/tmp/s2s_test_merges_XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    fputs(content, f);
    fclose(f);
    return path;
}

static const char *MERGES = "#version: 0.2\nl o\nlo w\ne r\nn e\nne w\nw e\na a\nx x\n";

Test(bpe, rank_priority_and_joiners)
{
    char *path = write_tmp(MERGES);
    s2s_tokenizer *t = mk(NORM_TEXT, LEVEL_BPE, 0, path);
    /* lower: (l,o) rank 0 -> lo w e r; (lo,w) 1 -> low e r; (e,r) 2 -> low er */
    check(t, "lower", "lower", "low", J "er");
    /* newer: (e,r) 2 first -> n e w er; (n,e) 3 -> ne w er; (ne,w) 4 -> new er */
    check(t, "newer", "newer", "new", J "er");
    /* every occurrence, left to right, no overlap */
    check(t, "aaa", "aaa", "aa", J "a");
    check(t, "lower. 'lower", "lower. 'lower", "low", J "er", J ".", "'" J, "low", J "er");
    check(t, "zzz", "zzz", "z", J "z", J "z");
    tokenizer_free(t);
    t = mk(NORM_NONE, LEVEL_BPE, 0, path);
    check(t, "lower, newer", "lower, newer", "low", J "er", J ",", "new", J "er"); /* ',' is a symbol of the word */
    tokenizer_free(t);
    remove(path);
    free(path);
}

Test(bpe, whole_numbers_keep_digit_words_one_piece)
{
    char *path = write_tmp("#version: 0.2\n1 9\n19 9\n0 0\nx 1\n");
    s2s_tokenizer *plain = mk(NORM_TEXT, LEVEL_BPE, 0, path), *whole = mk_whole(NORM_TEXT, path, 1, 0);
    /* without the option the merges split a number like any word */
    check(plain, "1991.", "1991.", "199", J "1", J ".");
    /* with it, a word made only of 0-9 is one piece, joiners as for any word */
    check(whole, "1991.", "1991.", "1991", J ".");
    check(whole, "a 12 b, 1 500 000 c", "a 12 b, 1 500 000 c", "a", "12", "b", J ",", "1", "500", "000", "c");
    check(whole, "3,14 (0042)", "3,14 (0042)", "3", J "," J, "14", "(" J, "0042", J ")");
    /* letters or other digits in the word: merges as usual */
    check(whole, "x1 19x", "x1 19x", "x1", "19", J "x");
    check(whole, "\xd9\xa3\xd9\xa4", "\xd9\xa3\xd9\xa4", "\xd9\xa3", J "\xd9\xa4"); /* Arabic-Indic 34 */
    /* NFKC first: full-width digits become 0-9 */
    check(whole, "\xef\xbc\x91\xef\xbc\x99\xef\xbc\x99\xef\xbc\x91", "1991", "1991");
    check(plain, "\xef\xbc\x91\xef\xbc\x99\xef\xbc\x99\xef\xbc\x91", "1991", "199", J "1");
    tokenizer_free(plain);
    tokenizer_free(whole);
    remove(path);
    free(path);
}

Test(bpe, whole_names_keep_capitalized_words_one_piece)
{
    char *path = write_tmp("#version: 0.2\no w\nK ow\na l\n");
    s2s_tokenizer *plain = mk(NORM_TEXT, LEVEL_BPE, 0, path), *whole = mk_whole(NORM_TEXT, path, 0, 1);
    s2s_tokenizer *whole_none = mk_whole(NORM_NONE, path, 0, 1);
    /* without the option the merges split a name like any word */
    check(plain, "Kowal.", "Kowal.", "Kow", J "al", J ".");
    /* with it, an upper-case letter then lower-case letters is one piece */
    check(whole, "Kowal.", "Kowal.", "Kowal", J ".");
    check(whole, "O'Kowal-Kowal", "O'Kowal-Kowal", "O", J "'" J, "Kowal", J "-" J, "Kowal");
    const char *lodz = "\xc5\x81\xc3\xb3" "d\xc5\xba", *athina = "\xce\x91\xce\xb8\xce\xae\xce\xbd\xce\xb1";
    check(whole, lodz, lodz, lodz); /* Łódź */
    check(whole, athina, athina, athina); /* Greek Αθήνα */
    /* anything else merges as usual: all caps, lower case, one letter,
     * digits, an upper-case letter later in the word */
    check(whole, "KOWAL kowal K Kow2 KoWal", "KOWAL kowal K Kow2 KoWal", "K", J "O", J "W", J "A", J "L", "k", J "ow",
          J "al", "K", "Kow", J "2", "K", J "o", J "W", J "al");
    /* a title-case letter (U+01C5, kept by "none") starts a name; a
     * combining mark (U+0300) is not a lower-case letter */
    check(whole_none, "\xc7\x85owal Kow\xcc\x80", "\xc7\x85owal Kow\xcc\x80", "\xc7\x85owal", "Kow", J "\xcc\x80");
    tokenizer_free(plain);
    tokenizer_free(whole);
    tokenizer_free(whole_none);
    remove(path);
    free(path);
}

Test(bpe, long_words_go_char_by_char)
{
    char *path = write_tmp(MERGES);
    s2s_tokenizer *t = mk(NORM_NONE, LEVEL_BPE, 0, path);
    char w[S2S_BPE_MAX_WORD_CHARS + 2];
    memset(w, 'x', sizeof w);
    w[S2S_BPE_MAX_WORD_CHARS] = 0; /* exactly the cap: merged into xx pieces */
    piece_list pl = {0};
    cr_assert_eq(tokenizer_split(t, w, strlen(w), 0, NULL, &pl, NULL), TOK_OK);
    cr_expect_eq(pl.n, S2S_BPE_MAX_WORD_CHARS / 2);
    cr_expect_str_eq(pl.pieces[0], "xx");
    piece_list_free(&pl);
    w[S2S_BPE_MAX_WORD_CHARS] = 'x';
    w[S2S_BPE_MAX_WORD_CHARS + 1] = 0; /* one more: not merged */
    cr_assert_eq(tokenizer_split(t, w, strlen(w), 0, NULL, &pl, NULL), TOK_OK);
    cr_expect_eq(pl.n, S2S_BPE_MAX_WORD_CHARS + 1);
    cr_expect_str_eq(pl.pieces[1], J "x");
    piece_list_free(&pl);
    tokenizer_free(t);
    remove(path);
    free(path);
}

static void expect_merges_error(const char *content, tok_status status, const char *needle)
{
    char *path = write_tmp(content);
    tokenizer_config cfg = {0};
    cfg.normalizer = NORM_TEXT;
    cfg.level = LEVEL_BPE;
    tok_error err = {0};
    s2s_tokenizer *t = tokenizer_new(&cfg, content, strlen(content), path, &err);
    cr_expect_null(t, "merges '%s' accepted", content);
    cr_expect_eq(err.status, status);
    cr_expect(strstr(err.message, needle) != NULL, "message '%s' lacks '%s'", err.message, needle);
    cr_expect(strstr(err.message, path) != NULL, "message '%s' does not name the file", err.message);
    tokenizer_free(t);
    remove(path);
    free(path);
}

Test(bpe, malformed_merges_files)
{
    expect_merges_error("a b\na b c\n", TOK_ERR_MERGES, "line 2");
    expect_merges_error("#version: 0.2\nab\n", TOK_ERR_MERGES, "line 2");
    expect_merges_error(" a\n", TOK_ERR_MERGES, "line 1");
    expect_merges_error("a \n", TOK_ERR_MERGES, "line 1");
    expect_merges_error("a b\n\nc d\n", TOK_ERR_MERGES, "line 2");
    expect_merges_error("a b\nc \xff\n", TOK_ERR_MERGES, "line 2: invalid UTF-8");
    tok_error err = {0};
    tokenizer_config cfg = {0};
    cfg.level = LEVEL_BPE;
    cr_expect_null(tokenizer_new(&cfg, NULL, 0, NULL, &err), "bpe without merges text accepted");
    cr_expect_eq(err.status, TOK_ERR_CONFIG);
    /* CRLF line ends are accepted (as subword-nmt strips them); a pair
     * listed twice keeps its first rank (the second line changes nothing) */
    bpe_merges *m = bpe_parse("a b\r\nc d\r\na b\r\n", 15, "crlf", &err);
    cr_assert(m, "%s", err.message);
    cr_expect_eq(bpe_count(m), 2);
    bpe_free(m);
    /* a file with no merge at all would silently split every word into
     * characters: refused, naming the file */
    expect_merges_error("", TOK_ERR_MERGES, "no merges (the file is empty)");
    expect_merges_error("\n", TOK_ERR_MERGES, "line 1: expected two symbols");
    expect_merges_error("#version: 0.2\n", TOK_ERR_MERGES, "no merges (the file is empty apart from its #version line)");
    /* a NUL byte is refused naming the line (it can never match a symbol of
     * the text, and the Python twin refuses it too) */
    m = bpe_parse("a b\nc\0 d\n", 9, "nul", &err);
    cr_expect_null(m);
    cr_expect(strstr(err.message, "nul: line 2: NUL byte at column 2"), "%s", err.message);
    m = bpe_parse("a b\n\0", 5, "nul", &err);
    cr_expect_null(m);
    cr_expect(strstr(err.message, "line 2: NUL byte"), "%s", err.message);
}

/* Duplicated and CRLF merges files give the same pieces as the clean file. */
Test(bpe, crlf_and_duplicate_lines_do_not_change_the_pieces)
{
    tok_error err = {0};
    const char *clean = "l o\nlo w\ne r\n", *odd = "l o\r\ne r\r\nlo w\r\ne r\r\nl o\r\n";
    /* odd ranks: (l,o) 0, (e,r) 1, (lo,w) 2: same relative order for these words */
    bpe_merges *a = bpe_parse(clean, strlen(clean), "clean", &err), *b = bpe_parse(odd, strlen(odd), "odd", &err);
    cr_assert(a && b, "%s", err.message);
    cr_expect_eq(bpe_count(b), 3);
    size_t ba[16], bb[16];
    const char *words[] = {"lower", "lowlow", "error", "ol"};
    for (size_t i = 0; i < 4; i++) {
        size_t ka = bpe_encode(a, words[i], strlen(words[i]), ba), kb = bpe_encode(b, words[i], strlen(words[i]), bb);
        cr_expect_eq(ka, kb, "%s", words[i]);
        cr_expect_eq(memcmp(ba, bb, (ka + 1) * sizeof ba[0]), 0, "%s", words[i]);
    }
    bpe_free(a);
    bpe_free(b);
}

/* ---- join ----------------------------------------------------------------------- */

Test(join, conventions)
{
    const char *toks[] = {"I", J "'" J, "m", "fine", J ",", "thanks", J "."};
    s2s_tokenizer *t = mk(NORM_TEXT, LEVEL_WORD, 0, NULL);
    char *s = tokenizer_join(t, toks, 7);
    cr_expect_str_eq(s, "I'm fine, thanks.");
    free(s);
    s = tokenizer_join(t, toks, 0);
    cr_expect_str_eq(s, "");
    free(s);
    const char *odd[] = {J, J J, "a", J};
    s = tokenizer_join(t, odd, 4); /* bare marks: no crash, glue only */
    cr_expect_str_eq(s, "a");
    free(s);
    tokenizer_free(t);
    t = mk(NORM_TUTORIAL, LEVEL_WORD, 0, NULL);
    s = tokenizer_join(t, toks, 3); /* word level without "text": plain spaces, marks kept */
    cr_expect_str_eq(s, "I " J "'" J " m");
    free(s);
    tokenizer_free(t);
    t = mk(NORM_NONE, LEVEL_CHAR, 0, NULL);
    const char *ch[] = {"a", " ", "b", "c"};
    s = tokenizer_join(t, ch, 4);
    cr_expect_str_eq(s, "a bc");
    free(s);
    tokenizer_free(t);
}

/* ---- big inputs ----------------------------------------------------------------- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

Test(big, one_megabyte_lines, .timeout = 120)
{
    const size_t n = 1u << 20;
    char *s = malloc(n);
    char *path = write_tmp(MERGES);
    /* 1: one 1 MB word; 2: words of 7 letters + ", "; 3: control and zero-width noise */
    for (int kind = 0; kind < 3; kind++) {
        for (size_t i = 0; i < n; i++) {
            if (kind == 0) s[i] = 'a';
            else if (kind == 1) s[i] = "lowerer, "[i % 9];
            else s[i] = (char)("a\x01\x7f" "b "[i % 5]);
        }
        for (int nk = NORM_NONE; nk <= NORM_TEXT; nk++)
            for (int lk = LEVEL_WORD; lk <= LEVEL_BPE; lk++) {
                s2s_tokenizer *t = mk((normalizer_kind)nk, (level_kind)lk, 1, lk == LEVEL_BPE ? path : NULL);
                piece_list pl = {0};
                double t0 = now();
                tok_error err = {0};
                cr_assert_eq(tokenizer_split(t, s, n, 0, NULL, &pl, &err), TOK_OK, "%s", err.message);
                double dt = now() - t0;
                cr_expect_lt(dt, 20.0, "kind %d norm %d level %d took %.1f s", kind, nk, lk, dt);
                cr_expect_gt(pl.n, 0);
                if (kind == 0 && lk == LEVEL_WORD && nk != NORM_TUTORIAL) cr_expect_eq(pl.n, 1);
                if (kind == 0 && lk == LEVEL_BPE) cr_expect_eq(pl.n, (int)n); /* over the cap: per char */
                piece_list_free(&pl);
                tokenizer_free(t);
            }
    }
    remove(path);
    free(path);
    free(s);
}

/* ---- s2s_tokenize / s2s_detokenize on a hand-built model -------------------------- */

typedef struct {
    s2s_model m;
} fake_model;

static void fake_init(fake_model *f, normalizer_kind nk, const char *unk, int max_input)
{
    memset(f, 0, sizeof *f);
    const char *src = "{\"EOS\": 0, \"UNK\": 1, \"je\": 2, \"suis\": 3, \"!\": 4}";
    const char *tgt = "{\"SOS\": 0, \"EOS\": 1, \"i\": 2, \"am\": 3, \"UNK\": 4, \"" J ",\": 5}";
    tok_error terr = {0};
    f->m.vocab[S2S_SOURCE] = vocab_parse(src, strlen(src), "source", &terr);
    f->m.vocab[S2S_TARGET] = vocab_parse(tgt, strlen(tgt), "target", &terr);
    cr_assert(f->m.vocab[0] && f->m.vocab[1], "%s", terr.message);
    f->m.cfg.tokenizer.normalizer = nk;
    f->m.cfg.tokenizer.level = LEVEL_WORD;
    f->m.cfg.tokenizer.max_input_tokens = max_input;
    f->m.tokenizer = tokenizer_new(&f->m.cfg.tokenizer, NULL, 0, NULL, &terr);
    cr_assert(f->m.tokenizer);
    f->m.cfg.eos = "EOS";
    f->m.cfg.append_eos = 1;
    f->m.src_eos_id = 0;
    f->m.eos_id = 1;
    f->m.sos_id = 0;
    f->m.unk_id[S2S_SOURCE] = unk ? 1 : -1;
    f->m.unk_id[S2S_TARGET] = unk ? 4 : -1;
}

static void fake_free(fake_model *f)
{
    vocab_free(f->m.vocab[0]);
    vocab_free(f->m.vocab[1]);
    tokenizer_free(f->m.tokenizer);
}

Test(api, tokenize_source_with_unk_and_eos)
{
    fake_model f;
    fake_init(&f, NORM_TUTORIAL, "UNK", 0);
    s2s_token_seq seq;
    s2s_error err = {0};
    cr_assert_eq(s2s_tokenize(&f.m, S2S_SOURCE, "Je suis content!", 16, NULL, &seq, &err), S2S_OK, "%s", err.message);
    int exp[] = {2, 3, 1, 4, 0};
    const char *pieces[] = {"je", "suis", "content", "!", "EOS"};
    cr_assert_eq(seq.n, 5);
    for (int i = 0; i < 5; i++) {
        cr_expect_eq(seq.ids[i], exp[i], "id %d", i);
        cr_expect_str_eq(seq.pieces[i], pieces[i]);
    }
    cr_expect_eq(seq.truncated, 0);
    s2s_token_seq_free(&seq);
    cr_expect_null(seq.ids);
    s2s_token_seq_free(NULL);
    /* empty and blank: just eos */
    cr_assert_eq(s2s_tokenize(&f.m, S2S_SOURCE, "  ", 2, NULL, &seq, &err), S2S_OK);
    cr_expect_eq(seq.n, 1);
    cr_expect_eq(seq.ids[0], 0);
    s2s_token_seq_free(&seq);
    cr_assert_eq(s2s_tokenize(&f.m, S2S_SOURCE, NULL, 0, NULL, &seq, &err), S2S_OK);
    cr_expect_eq(seq.n, 1);
    s2s_token_seq_free(&seq);
    fake_free(&f);
}

Test(api, unknown_without_unk_names_the_token)
{
    fake_model f;
    fake_init(&f, NORM_NONE, NULL, 0);
    s2s_token_seq seq;
    s2s_error err = {0};
    cr_assert_eq(s2s_tokenize(&f.m, S2S_SOURCE, "je xyzzy", 8, NULL, &seq, &err), S2S_ERR_UNKNOWN_TOKEN);
    cr_expect(strstr(err.message, "'xyzzy'") != NULL, "%s", err.message);
    cr_expect_eq(seq.n, 0);
    cr_expect_null(seq.ids);
    /* control bytes in the token are escaped so the message stays one line */
    cr_assert_eq(s2s_tokenize(&f.m, S2S_SOURCE, "a\x1b" "b", 3, NULL, &seq, &err), S2S_ERR_UNKNOWN_TOKEN);
    cr_expect(strstr(err.message, "'a\\x1bb'") != NULL, "%s", err.message);
    cr_expect(strchr(err.message, '\n') == NULL);
    fake_free(&f);
}

Test(api, target_side_has_no_eos_and_no_unk)
{
    fake_model f;
    fake_init(&f, NORM_TEXT, "UNK", 0);
    s2s_token_seq seq;
    s2s_error err = {0};
    cr_assert_eq(s2s_tokenize(&f.m, S2S_TARGET, "i am", 4, NULL, &seq, &err), S2S_OK, "%s", err.message);
    cr_assert_eq(seq.n, 2);
    cr_expect_eq(seq.ids[0], 2);
    cr_expect_eq(seq.ids[1], 3);
    s2s_token_seq_free(&seq);
    cr_assert_eq(s2s_tokenize(&f.m, S2S_TARGET, "i was", 5, NULL, &seq, &err), S2S_ERR_UNKNOWN_TOKEN);
    cr_expect(strstr(err.message, "target token 'was'") != NULL, "%s", err.message);
    fake_free(&f);
}

Test(api, truncation_and_utf8)
{
    fake_model f;
    fake_init(&f, NORM_NONE, "UNK", 3);
    s2s_token_seq seq;
    s2s_error err = {0};
    /* config max_input_tokens = 3 */
    cr_assert_eq(s2s_tokenize(&f.m, S2S_SOURCE, "je je je je je", 14, NULL, &seq, &err), S2S_OK);
    cr_expect_eq(seq.n, 4);
    cr_expect_eq(seq.truncated, 1);
    cr_expect_eq(seq.ids[3], 0);
    cr_expect_str_eq(seq.pieces[3], "EOS");
    s2s_token_seq_free(&seq);
    /* params win */
    s2s_tokenize_params p = s2s_tokenize_default_params();
    cr_expect_eq(p.lenient, 0);
    cr_expect_eq(p.max_tokens, 0);
    p.max_tokens = 1;
    cr_assert_eq(s2s_tokenize(&f.m, S2S_SOURCE, "je suis", 7, &p, &seq, &err), S2S_OK);
    cr_expect_eq(seq.n, 2);
    cr_expect_eq(seq.truncated, 1);
    s2s_token_seq_free(&seq);
    p.max_tokens = 3;
    cr_assert_eq(s2s_tokenize(&f.m, S2S_SOURCE, "je suis", 7, &p, &seq, &err), S2S_OK);
    cr_expect_eq(seq.truncated, 0);
    s2s_token_seq_free(&seq);
    /* invalid UTF-8, then lenient */
    cr_assert_eq(s2s_tokenize(&f.m, S2S_SOURCE, "je \xff", 4, NULL, &seq, &err), S2S_ERR_UTF8);
    cr_expect_str_eq(err.message, "invalid UTF-8 at byte 3");
    p.lenient = 1;
    cr_assert_eq(s2s_tokenize(&f.m, S2S_SOURCE, "je \xff", 4, &p, &seq, &err), S2S_OK);
    cr_expect_eq(seq.n, 3);
    cr_expect_eq(seq.ids[1], 1); /* U+FFFD is unknown: unk */
    cr_expect_str_eq(seq.pieces[1], "\xef\xbf\xbd");
    s2s_token_seq_free(&seq);
    fake_free(&f);
}

Test(api, detokenize)
{
    fake_model f;
    fake_init(&f, NORM_TEXT, "UNK", 0);
    int ids[] = {2, 3, 5, 1, 99};
    char *s = s2s_detokenize(&f.m, ids, 5); /* eos and out-of-range ids are skipped */
    cr_expect_str_eq(s, "i am,");
    free(s);
    s = s2s_detokenize(&f.m, ids, 0);
    cr_expect_str_eq(s, "");
    free(s);
    fake_free(&f);
}

/* A long text split with a piece limit (by prefixes, to bound memory) gives
 * exactly the first pieces of the whole text, and says that it was cut, for
 * every normalizer and level, on texts made of hostile fragments: marks
 * after white space, punctuation touching words, digits, CRLF, NUL, full-width
 * and Greek letters, lenient invalid bytes. */
Test(big, limited_split_equals_the_start_of_the_whole_split)
{
    static const char *frag[] = {"word", " ", "  ", "\r\n", "\t", ",", "l'", "a\xcc\x81", " \xcc\x81x",
                                 "x\xcc\x81 ", "12", "3.5", "\xef\xbc\xa1\xef\xbc\xa2", "\xce\xa3\xce\xb1\xcf\x82",
                                 "!", "?", "don't", "-", "\xe2\x80\x8b", "\x00", "lower", "newer", "\xff", "\xe2\x82"};
    const size_t n = 400000;
    char *s = malloc(n);
    char *path = write_tmp(MERGES);
    /* text 0: dense fragments; text 1: a fragment every 997 bytes of white
     * space, so that the first prefixes hold too few pieces */
    for (int sparse = 0; sparse <= 1; sparse++) {
    unsigned seed = 7;
    size_t len = 0;
    while (len < n - 1000) {
        seed = seed * 1103515245u + 12345u;
        const char *f = frag[(seed >> 8) % (sizeof frag / sizeof frag[0])];
        size_t fl = f[0] ? strlen(f) : 1; /* the NUL fragment is one byte */
        memcpy(s + len, f, fl);
        len += fl;
        if (sparse) {
            memset(s + len, ' ', 997);
            len += 997;
        }
    }
    for (int nk = 0; nk <= NORM_TEXT; nk++)
        for (int lk = 0; lk <= LEVEL_BPE; lk++) {
            s2s_tokenizer *t = mk((normalizer_kind)nk, (level_kind)lk, 1, lk == LEVEL_BPE ? path : NULL);
            piece_list all = {0};
            tok_error err = {0};
            cr_assert_eq(tokenizer_split(t, s, len, 1, NULL, &all, &err), TOK_OK, "%s", err.message);
            for (int limit = 1; limit <= 100001; limit = limit * 10 + 1) {
                piece_list cut = {0};
                cut.limit = limit;
                cr_assert_eq(tokenizer_split(t, s, len, 1, NULL, &cut, &err), TOK_OK, "%s", err.message);
                int want = all.n < limit ? all.n : limit;
                cr_assert_eq(cut.n, want, "normalizer %d level %d limit %d: %d pieces, want %d", nk, lk, limit, cut.n,
                             want);
                for (int i = 0; i < want; i++)
                    cr_assert_str_eq(cut.pieces[i], all.pieces[i], "normalizer %d level %d limit %d piece %d", nk, lk,
                                     limit, i);
                cr_assert_eq(cut.n == limit || cut.dropped > 0, all.n >= limit, "cut flag, limit %d", limit);
                piece_list_free(&cut);
            }
            piece_list_free(&all);
            tokenizer_free(t);
        }
    }
    /* strict: invalid UTF-8 far past the pieces kept still fails the text,
     * with the same offset */
    s2s_tokenizer *t = mk(NORM_TEXT, LEVEL_WORD, 0, NULL);
    memset(s, 'a', n);
    for (size_t i = 5; i < n; i += 6) s[i] = ' ';
    s[n - 3] = '\xff';
    piece_list pl = {0};
    pl.limit = 10;
    tok_error err = {0};
    cr_assert_eq(tokenizer_split(t, s, n, 0, NULL, &pl, &err), TOK_ERR_UTF8);
    char want_msg[64];
    snprintf(want_msg, sizeof want_msg, "invalid UTF-8 at byte %zu", n - 3);
    cr_expect_str_eq(err.message, want_msg);
    piece_list_free(&pl);
    tokenizer_free(t);
    free(path);
    free(s);
}
