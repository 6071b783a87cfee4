/*
 * test_sentences.c - the sentence splitter of the command
 * (tools/s2s/sentences.c) on hard cases whose splits were written by hand.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "../tools/s2s/sentences.h"

/* One case: the line, then the sentences it must give (NULL-terminated). */
typedef struct split_case {
    const char *line;
    const char *want[8];
} split_case;

static const split_case CASES[] = {
    /* plain */
    {"Il pleut. Je reste à la maison.", {"Il pleut.", "Je reste à la maison.", NULL}},
    {"It rains! Does it? Yes.", {"It rains!", "Does it?", "Yes.", NULL}},
    {"One sentence only", {"One sentence only", NULL}},
    {"  Leading and trailing space.   Second one.  ", {"Leading and trailing space.", "Second one.", NULL}},
    /* abbreviations and titles */
    {"Mr. Smith went to Washington. He arrived late.", {"Mr. Smith went to Washington.", "He arrived late.", NULL}},
    {"Mrs. Brown and Dr. Jones met St. Peter.", {"Mrs. Brown and Dr. Jones met St. Peter.", NULL}},
    {"M. Dupont est arrivé. Mme. Martin aussi.", {"M. Dupont est arrivé.", "Mme. Martin aussi.", NULL}},
    {"Il a vu M. Durand hier. Il était content.", {"Il a vu M. Durand hier.", "Il était content.", NULL}},
    {"Prof. Martin et Dr. Lee ont parlé.", {"Prof. Martin et Dr. Lee ont parlé.", NULL}},
    {"Fruits, e.g. Apples, are sweet.", {"Fruits, e.g. Apples, are sweet.", NULL}},
    {"That is, i.e. Paris, the capital.", {"That is, i.e. Paris, the capital.", NULL}},
    {"The U.S. Senate voted. It passed.", {"The U.S. Senate voted.", "It passed.", NULL}},
    {"He bought apples, pears, etc. Then he left.", {"He bought apples, pears, etc.", "Then he left.", NULL}},
    {"We met at 9 a.m. The talk began.", {"We met at 9 a.m.", "The talk began.", NULL}},
    {"César est mort en 44 av. J.-C. Son fils lui succède.", {"César est mort en 44 av. J.-C. Son fils lui succède.", NULL}},
    /* initials */
    {"John F. Kennedy was president. He died in 1963.", {"John F. Kennedy was president.", "He died in 1963.", NULL}},
    {"J. K. Rowling wrote it.", {"J. K. Rowling wrote it.", NULL}},
    /* numbers and times */
    {"Pi is about 3.14. It is irrational.", {"Pi is about 3.14.", "It is irrational.", NULL}},
    {"Le train part à 12.30. Il est en retard.", {"Le train part à 12.30.", "Il est en retard.", NULL}},
    {"Il est né en 1999. Elle est née en 2001.", {"Il est né en 1999.", "Elle est née en 2001.", NULL}},
    {"Prices rose 2.5 percent in March.", {"Prices rose 2.5 percent in March.", NULL}},
    {"1. Introduction", {"1. Introduction", NULL}},
    {"Il a vendu 3 voitures. 12 sont restées.", {"Il a vendu 3 voitures. 12 sont restées.", NULL}},
    /* ellipses */
    {"Je ne sais pas... Peut-être demain.", {"Je ne sais pas...", "Peut-être demain.", NULL}},
    {"Il hésita... puis il partit.", {"Il hésita... puis il partit.", NULL}},
    {"Attends\xE2\x80\xA6 Non, rien.", {"Attends\xE2\x80\xA6", "Non, rien.", NULL}},
    /* quotes and guillemets, closers after the stop */
    {"He said \"Go home.\" Then he left.", {"He said \"Go home.\"", "Then he left.", NULL}},
    {"Il a dit : « Je viens. » Puis il est parti.", {"Il a dit : « Je viens. »", "Puis il est parti.", NULL}},
    {"« Je viens. Tu viens ? » Il part.", {"« Je viens. Tu viens ? »", "Il part.", NULL}},
    {"« Quoi ? » demanda-t-il. Personne ne répondit.", {"« Quoi ? » demanda-t-il.", "Personne ne répondit.", NULL}},
    {"She asked \xE2\x80\x9CWhy?\xE2\x80\x9D She got no answer.", {"She asked \xE2\x80\x9CWhy?\xE2\x80\x9D", "She got no answer.", NULL}},
    {"He left. \"Why?\" she asked.", {"He left.", "\"Why?\" she asked.", NULL}},
    {"C'est fini. « Enfin ! » dit-elle.", {"C'est fini.", "« Enfin ! » dit-elle.", NULL}},
    {"(This is aside.) The text goes on.", {"(This is aside.)", "The text goes on.", NULL}},
    {"Il a dit\xC2\xA0: «\xC2\xA0Non.\xC2\xA0» Elle a ri.", {"Il a dit\xC2\xA0: «\xC2\xA0Non.\xC2\xA0»", "Elle a ri.", NULL}},
    /* French spacing before ; : ! ? */
    {"Vraiment ? Oui ! C'est vrai.", {"Vraiment ?", "Oui !", "C'est vrai.", NULL}},
    {"Attention : il pleut ; prends un parapluie.", {"Attention : il pleut ; prends un parapluie.", NULL}},
    {"Quoi\xE2\x80\xAF?\xC2\xA0Non\xE2\x80\xAF!", {"Quoi\xE2\x80\xAF?", "Non\xE2\x80\xAF!", NULL}},
    {"Really?! Yes.", {"Really?!", "Yes.", NULL}},
    /* a lowercase word after the stop is no new sentence */
    {"Voir p. 12 et la fig. suivante.", {"Voir p. 12 et la fig. suivante.", NULL}},
    {"The model works. it is small.", {"The model works. it is small.", NULL}},
    /* no white space after the stop */
    {"Visit www.example.com today.", {"Visit www.example.com today.", NULL}},
    /* dialogue dashes and Spanish marks */
    {"Il entra. — Bonjour, dit-il.", {"Il entra.", "— Bonjour, dit-il.", NULL}},
    {"Hola. ¿Qué tal? Bien.", {"Hola.", "¿Qué tal?", "Bien.", NULL}},
    /* capitals with accents start a sentence */
    {"Il est parti. À demain. Écoute.", {"Il est parti.", "À demain.", "Écoute.", NULL}},
    /* an unbalanced quote does not stop the splitting */
    {"He said \"no. She left. They cried.", {"He said \"no.", "She left.", "They cried.", NULL}},
    /* all caps */
    {"LE PRÉSIDENT EST ARRIVÉ. IL A PARLÉ.", {"LE PRÉSIDENT EST ARRIVÉ.", "IL A PARLÉ.", NULL}},
};

/* The sentences of `line` joined with " | ". */
static void split_joined(const char *line, char *buf, size_t cap)
{
    sent_span sp[SENT_MAX];
    int n = sent_split(line, strlen(line), sp, SENT_MAX);
    buf[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (i) strncat(buf, " | ", cap - strlen(buf) - 1);
        size_t room = cap - strlen(buf) - 1, k = sp[i].len < room ? sp[i].len : room;
        strncat(buf, line + sp[i].start, k);
    }
}

Test(sentences, hand_written_cases)
{
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        char got[1024], want[1024] = "";
        split_joined(CASES[c].line, got, sizeof got);
        for (int i = 0; CASES[c].want[i]; i++) {
            if (i) strcat(want, " | ");
            strcat(want, CASES[c].want[i]);
        }
        cr_expect_str_eq(got, want, "case %zu: %s", c, CASES[c].line);
    }
}

Test(sentences, blank_lines_have_no_sentence)
{
    sent_span sp[4];
    cr_expect_eq(sent_split("", 0, sp, 4), 0);
    cr_expect_eq(sent_split("   \t ", 5, sp, 4), 0);
    cr_expect_eq(sent_split("\xC2\xA0\xE2\x80\xAF", 5, sp, 4), 0);
}

Test(sentences, spans_point_into_the_line)
{
    const char *s = "  Un. Deux.  ";
    sent_span sp[4];
    cr_assert_eq(sent_split(s, strlen(s), sp, 4), 2);
    cr_expect_eq(sp[0].start, 2);
    cr_expect_eq(sp[0].len, 3);
    cr_expect_eq(sp[1].start, 6);
    cr_expect_eq(sp[1].len, 5);
}

Test(sentences, at_most_SENT_MAX_sentences_the_rest_in_the_last)
{
    static char line[SENT_MAX * 8 + 16];
    size_t n = 0;
    for (int i = 0; i < SENT_MAX + 10; i++) n += (size_t)sprintf(line + n, "Ab. ");
    sent_span sp[SENT_MAX];
    cr_assert_eq(sent_split(line, n, sp, SENT_MAX), SENT_MAX);
    cr_expect_eq(sp[0].len, 3);
    cr_expect_eq(sp[SENT_MAX - 1].start, (size_t)(SENT_MAX - 1) * 4);
    cr_expect_eq(sp[SENT_MAX - 1].start + sp[SENT_MAX - 1].len, n - 1, "the last span runs to the end");
}

Test(sentences, fewer_slots_than_sentences)
{
    const char *s = "A a. B b. C c.";
    sent_span sp[2];
    cr_expect_eq(sent_split(s, strlen(s), sp, 2), 3, "the count is all sentences");
    cr_expect_eq(sp[1].start, 5);
}

Test(sentences, invalid_utf8_is_text)
{
    const char *s = "Bad \xff byte. Next one.";
    sent_span sp[4];
    cr_expect_eq(sent_split(s, strlen(s), sp, 4), 2);
    const char *t = "\xe2\x80"; /* a cut-off character at the end */
    cr_expect_eq(sent_split(t, 2, sp, 4), 1);
}
