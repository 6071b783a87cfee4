/*
 * test_numbers.c - keep numbers' glue classes (engine/numbers.h): which
 * pieces join the piece before them as a word, a separator or a digit,
 * when a number is continued by the pieces after it, and when digits are
 * the end of a longer number. Expected values follow
 * from the definitions in docs/model-format.md section 9.5.
 */
#include <criterion/criterion.h>

#include "numbers.h"

#define J "\xef\xbf\xad" /* the joiner U+FFED */

Test(numbers, glue_classes)
{
    cr_assert_eq(piece_glue(NULL), 0);
    cr_assert_eq(piece_glue(""), 0);
    cr_assert_eq(piece_glue("days"), 0);
    cr_assert_eq(piece_glue("100"), GLUE_DIGIT);
    cr_assert_eq(piece_glue(J "st"), GLUE_WORD);
    cr_assert_eq(piece_glue(J "1"), GLUE_WORD | GLUE_DIGIT);
    cr_assert_eq(piece_glue(J "\xc3\xa8me"), GLUE_WORD, "a joined letter outside ASCII (è)");
    cr_assert_eq(piece_glue(J "," J), GLUE_SEPARATOR);
    cr_assert_eq(piece_glue(J "." J), GLUE_SEPARATOR);
    cr_assert_eq(piece_glue(J ","), 0, "a comma joined on the left only separates nothing");
    cr_assert_eq(piece_glue(J ":" J), GLUE_SEPARATOR, "the colon of a time (10:30)");
    cr_assert_eq(piece_glue(J "-" J), 0, "a hyphen joins two numbers, each a number of its own");
    cr_assert_eq(piece_glue(J ",," J), 0);
    cr_assert_eq(piece_glue(J "%"), 0);
    cr_assert_eq(piece_glue(J), 0);
}

Test(numbers, continued_by_a_joined_word_or_a_separator_and_digits)
{
    /* "2 ￭1 ￭st": 2 is continued */
    unsigned char ordinal[] = {GLUE_DIGIT, GLUE_WORD | GLUE_DIGIT, GLUE_WORD};
    cr_assert(number_continued(ordinal, 3, 0));
    /* "100 ￭,￭ 000": continued; "100 ￭,￭" at the end is not yet */
    unsigned char thousands[] = {GLUE_DIGIT, GLUE_SEPARATOR, GLUE_DIGIT};
    cr_assert(number_continued(thousands, 3, 0));
    cr_assert_not(number_continued(thousands, 2, 0));
    /* "100 ￭%", "2 days", "7 ￭." and a number at the end: not continued */
    unsigned char percent[] = {GLUE_DIGIT, 0};
    cr_assert_not(number_continued(percent, 2, 0));
    cr_assert_not(number_continued(percent, 1, 0));
    /* "1 ￭,￭ and": a separator before a word does not continue it */
    unsigned char list[] = {GLUE_DIGIT, GLUE_SEPARATOR, 0};
    cr_assert_not(number_continued(list, 3, 0));
}

Test(numbers, digits_after_a_separator_end_a_longer_number)
{
    /* "23 ￭,￭ 4" and "10 ￭:￭ 30": the digits after the separator */
    unsigned char decimal[] = {GLUE_DIGIT, GLUE_SEPARATOR, GLUE_DIGIT};
    cr_assert(number_after_separator(decimal, 2));
    cr_assert_not(number_after_separator(decimal, 0), "the first part is a number of its own");
    /* "and ￭,￭ 4": no digits before the separator */
    unsigned char after_word[] = {0, GLUE_SEPARATOR, GLUE_DIGIT};
    cr_assert_not(number_after_separator(after_word, 2));
    /* "4 5": two numbers */
    unsigned char apart[] = {GLUE_DIGIT, GLUE_DIGIT};
    cr_assert_not(number_after_separator(apart, 1));
}
