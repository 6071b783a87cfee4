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

static int detect(const char *s) { return cli_case_detect(s, strlen(s)); }

Test(textcase, detects_all_caps)
{
    cr_expect_eq(detect("MARIE N'A PAS VOULU RÉPONDRE."), CLI_CASE_UPPER);
    cr_expect_eq(detect("« OÙ ES-TU ? »"), CLI_CASE_UPPER);
    cr_expect_eq(detect("BONJOUR"), CLI_CASE_UPPER);
    cr_expect_eq(detect("ÇA VA TRÈS BIEN, MERCI"), CLI_CASE_UPPER);
    /* too few letters: an acronym alone stays */
    cr_expect_eq(detect("USA"), CLI_CASE_NONE);
    cr_expect_eq(detect("OK !"), CLI_CASE_NONE);
    /* one stray lower-case letter in 20 capitals is still all caps */
    cr_expect_eq(detect("LE PRIX EST DE 12 EUROS LE kILO"), CLI_CASE_UPPER);
    cr_expect_eq(detect("LE PRIX EST DE 12 EUROS le kilo"), CLI_CASE_NONE);
}

Test(textcase, detects_title_case)
{
    cr_expect_eq(detect("Marie N'a Pas Voulu Répondre Aux Questions."), CLI_CASE_TITLE);
    cr_expect_eq(detect("Le Président de la République Arrive"), CLI_CASE_TITLE);
    cr_expect_eq(detect("The Lord of the Rings"), CLI_CASE_TITLE);
    cr_expect_eq(detect("La NASA Lance Une Fusée"), CLI_CASE_TITLE);
}

Test(textcase, ordinary_sentences_are_left_alone)
{
    cr_expect_eq(detect("Marie n'a pas voulu répondre aux questions."), CLI_CASE_NONE);
    cr_expect_eq(detect("Marie et Pierre sont à Paris."), CLI_CASE_NONE);
    cr_expect_eq(detect("La NASA a lancé une fusée depuis la Floride."), CLI_CASE_NONE);
    cr_expect_eq(detect("Il a 3 ans."), CLI_CASE_NONE);
    cr_expect_eq(detect(""), CLI_CASE_NONE);
    cr_expect_eq(detect("12/03/2021"), CLI_CASE_NONE);
    cr_expect_eq(detect("Jean Dupont"), CLI_CASE_NONE); /* two words are not a title */
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
    /* the first word capitalized, the rest lower case */
    expect_fold("MARIE N'A PAS VOULU RÉPONDRE.", "Marie n'a pas voulu répondre.");
    expect_fold("IL EST À PARIS.", "Il est à Paris."); /* "paris" unknown, "Paris" known */
    expect_fold("LA NASA DORT.", "La NASA dort.");      /* only the capitals form is known */
    expect_fold("Le Chat Dort À Paris", "Le chat dort à Paris");
    /* nothing known: plain lower case after the first word */
    expect_fold("ÉCOUTE BIEN DUPONT", "Écoute bien dupont");
    /* opening marks before the first word; a digit first means no capital */
    expect_fold("« OÙ ES-TU ? »", "« Où es-tu ? »");
    expect_fold("12 MARS 2021", "12 mars 2021");
    expect_fold("", "");
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
    expect_restore("Mary didn't want to answer.", CLI_CASE_UPPER, "MARY DIDN'T WANT TO ANSWER.");
    expect_restore("où est l'été ?", CLI_CASE_UPPER, "OÙ EST L'ÉTÉ ?");
    expect_restore("Mary didn't want to answer.", CLI_CASE_TITLE, "Mary Didn't Want To Answer.");
    expect_restore("the cat (asleep) is «here»", CLI_CASE_TITLE, "The Cat (Asleep) Is «Here»");
    expect_restore("no change", CLI_CASE_NONE, "no change");
    expect_restore("", CLI_CASE_UPPER, "");
}

Test(textcase, names)
{
    cr_expect_str_eq(cli_case_name(CLI_CASE_UPPER), "upper");
    cr_expect_str_eq(cli_case_name(CLI_CASE_TITLE), "title");
    cr_expect_null(cli_case_name(CLI_CASE_NONE));
}
