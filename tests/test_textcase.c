/*
 * test_textcase.c - ALL-CAPS and Title Case handling of the command
 * (tools/s2s/textcase.c): detection, the text decoded instead, and the
 * case given back to the output; expected values written by hand.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/s2s/textcase.h"

/* A small vocabulary standing for a model's: whole-word tokens. */
static int known(void *ctx, const char *w, size_t n)
{
    (void)ctx;
    static const char *const VOCAB[] = {"Marie", "n", "a", "pas", "voulu", "répondre", "il", "Il", "est",
                                        "à", "Paris", "NASA", "la", "La", "le", "Le", "chat", "dort", NULL};
    for (int i = 0; VOCAB[i]; i++)
        if (strlen(VOCAB[i]) == n && memcmp(VOCAB[i], w, n) == 0) return 1;
    return 0;
}

static int detect(const char *s) { return cli_case_detect(s, strlen(s), NULL, NULL); }

/* A text and the casing cli_case_detect should find in it. */
typedef struct detect_case {
    const char *s;
    int want;
} detect_case;

/* A text and what cli_case_fold should make of it. */
typedef struct fold_case {
    const char *s, *want;
} fold_case;

/* A text, a casing, and what cli_case_restore should make of them. */
typedef struct restore_case {
    const char *s;
    int casing;
    const char *want;
} restore_case;

/* Texts in capitals, and near misses. */
static const detect_case ALL_CAPS[] = {
    {"MARIE N'A PAS VOULU RÉPONDRE.", CLI_CASE_UPPER},
    {"« OÙ ES-TU ? »", CLI_CASE_UPPER},
    {"BONJOUR", CLI_CASE_UPPER},
    {"ÇA VA TRÈS BIEN, MERCI", CLI_CASE_UPPER},
    /* too few letters: an acronym alone stays */
    {"USA", CLI_CASE_NONE},
    {"OK !", CLI_CASE_NONE},
    /* one stray lower-case letter in 20 capitals is still all caps */
    {"LE PRIX EST DE 12 EUROS LE kILO", CLI_CASE_UPPER},
    {"LE PRIX EST DE 12 EUROS le kilo", CLI_CASE_NONE},
};

/* Texts in title case. */
static const detect_case TITLE_CASE[] = {
    {"Marie N'a Pas Voulu Répondre Aux Questions.", CLI_CASE_TITLE},
    {"Le Président de la République Arrive", CLI_CASE_TITLE},
    {"The Lord of the Rings", CLI_CASE_TITLE},
    {"La NASA Lance Une Fusée", CLI_CASE_TITLE},
};

/* Ordinary sentences. */
static const detect_case ORDINARY[] = {
    {"Marie n'a pas voulu répondre aux questions.", CLI_CASE_NONE},
    {"Marie et Pierre sont à Paris.", CLI_CASE_NONE},
    {"La NASA a lancé une fusée depuis la Floride.", CLI_CASE_NONE},
    {"Il a 3 ans.", CLI_CASE_NONE},
    {"", CLI_CASE_NONE},
    {"12/03/2021", CLI_CASE_NONE},
    {"Jean Dupont", CLI_CASE_NONE}, /* two words are not a title */
};

/* Every text of `cases` detected as its casing. */
static void expect_detect(const detect_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cr_expect_eq(detect(cases[i].s), cases[i].want, "detect of '%s'", cases[i].s);
}
#define EXPECT_DETECT(cases) expect_detect(cases, sizeof cases / sizeof cases[0])

Test(textcase, detects_all_caps)
{
    EXPECT_DETECT(ALL_CAPS);
}

Test(textcase, detects_title_case)
{
    EXPECT_DETECT(TITLE_CASE);
}

Test(textcase, ordinary_sentences_are_left_alone)
{
    EXPECT_DETECT(ORDINARY);
}

Test(textcase, title_case_needs_an_ordinary_word_capitalized)
{
    static const detect_case cases[] = {
        {"Marie N'a Pas Voulu Répondre Aux Questions.", CLI_CASE_TITLE}, /* "pas" is known */
        {"Le Chat Dort À Paris", CLI_CASE_TITLE},
        /* every capital on a word known in no lower-case form: names */
        {"Marie a vu Kowalski à Varsovie", CLI_CASE_NONE},
        {"Paris, Kowalski et Varsovie", CLI_CASE_NONE},
        /* the first word does not count; capitals are found as without a vocabulary */
        {"Chat Kowalski Varsovie", CLI_CASE_NONE},
        {"MARIE A VU KOWALSKI", CLI_CASE_UPPER},
        {"Marie n'a pas voulu répondre.", CLI_CASE_NONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *s = cases[i].s;
        cr_expect_eq(cli_case_detect(s, strlen(s), known, NULL), cases[i].want, "detect with a vocabulary of '%s'", s);
    }
    /* the same names sentence is Title Case to the vocabulary-blind test */
    cr_expect_eq(detect("Marie a vu Kowalski à Varsovie"), CLI_CASE_TITLE);
}

/* cli_case_fold of `s` compared with `want`. */
static void expect_fold(const char *s, const char *want)
{
    char *got = cli_case_fold(s, strlen(s), known, NULL);
    cr_assert_not_null(got);
    cr_expect_str_eq(got, want, "fold of '%s'", s);
    free(got);
}

Test(textcase, folds_to_ordinary_case)
{
    static const fold_case cases[] = {
        /* the first word capitalized, the rest lower case */
        {"MARIE N'A PAS VOULU RÉPONDRE.", "Marie n'a pas voulu répondre."},
        {"IL EST À PARIS.", "Il est à Paris."}, /* "paris" unknown, "Paris" known */
        {"LA NASA DORT.", "La NASA dort."},      /* only the capitals form is known */
        {"Le Chat Dort À Paris", "Le chat dort à Paris"},
        /* nothing known: plain lower case after the first word */
        {"ÉCOUTE BIEN DUPONT", "Écoute bien dupont"},
        /* opening marks before the first word; a digit first means no capital */
        {"« OÙ ES-TU ? »", "« Où es-tu ? »"},
        {"12 MARS 2021", "12 mars 2021"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_fold(cases[i].s, cases[i].want);
}

/* cli_case_restore of `s` compared with `want`. */
static void expect_restore(const char *s, int casing, const char *want)
{
    char *got = cli_case_restore(s, casing);
    cr_assert_not_null(got);
    cr_expect_str_eq(got, want, "restore of '%s'", s);
    free(got);
}

Test(textcase, gives_the_case_back)
{
    static const restore_case cases[] = {
        {"Mary didn't want to answer.", CLI_CASE_UPPER, "MARY DIDN'T WANT TO ANSWER."},
        {"où est l'été ?", CLI_CASE_UPPER, "OÙ EST L'ÉTÉ ?"},
        {"Mary didn't want to answer.", CLI_CASE_TITLE, "Mary Didn't Want To Answer."},
        {"the cat (asleep) is «here»", CLI_CASE_TITLE, "The Cat (Asleep) Is «Here»"},
        {"no change", CLI_CASE_NONE, "no change"},
        {"", CLI_CASE_UPPER, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_restore(cases[i].s, cases[i].casing, cases[i].want);
}

Test(textcase, names)
{
    cr_expect_str_eq(cli_case_name(CLI_CASE_UPPER), "upper");
    cr_expect_str_eq(cli_case_name(CLI_CASE_TITLE), "title");
    cr_expect_null(cli_case_name(CLI_CASE_NONE));
}
