/*
 * numbers.h - keep numbers (docs/model-format.md section 9.5, an s2s
 * addition): how a piece joins the piece before it, so that a number the
 * source writes alone is only counted where the output writes it alone
 * too, not as the start of a longer number or word ("2" in "21st", "100"
 * in "100,000"), and the digits after a separator ("4" in "23,4") are
 * part of a longer number, not a number of their own.
 */
#ifndef S2S_NUMBERS_H
#define S2S_NUMBERS_H

/* Bits of a piece's glue class. */
enum {
    GLUE_WORD = 1,      /* joined to the piece before, and begins with a letter or digit ("￭st", "￭1") */
    GLUE_SEPARATOR = 2, /* a ",", "." or ":" joined on both sides ("￭,￭", "￭.￭", "￭:￭") */
    GLUE_DIGIT = 4      /* begins with a digit 0-9, after a joiner if it has one ("000", "￭5") */
};

/* The glue class of `piece` (NUL-terminated UTF-8; NULL is class 0). */
unsigned char piece_glue(const char *piece);

/* 1 when the number at position s of tokens[0..n) (glue classes
 * glue[0..n)) is continued by what follows it: the next piece is GLUE_WORD,
 * or is GLUE_SEPARATOR followed by a GLUE_DIGIT piece. */
int number_continued(const unsigned char *glue, int n, int s);

/* 1 when the piece at position s of a sequence (glue classes glue[0..s])
 * ends a longer number: it follows a GLUE_SEPARATOR piece that follows a
 * GLUE_DIGIT piece (the "4" of "23 ￭,￭ 4", the "30" of "10 ￭:￭ 30"). */
int number_after_separator(const unsigned char *glue, int s);

#endif
