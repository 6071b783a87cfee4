/*
 * numbers.c - glue classes of pieces for keep numbers (numbers.h).
 */
#include "numbers.h"

#include <string.h>
#include <utf8proc.h>

/* The tokenizer's joiner mark U+FFED (docs/tokenizer.md). */
#define JOINER "\xef\xbf\xad"
#define JOINER_LEN 3

/* 1 when the UTF-8 text s starts with a letter or a digit (Unicode
 * categories L and N). */
static int starts_alnum(const char *s)
{
    utf8proc_int32_t cp;
    if (utf8proc_iterate((const utf8proc_uint8_t *)s, -1, &cp) <= 0) return 0;
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return 1;
    default:
        return 0;
    }
}

unsigned char piece_glue(const char *piece)
{
    if (!piece) return 0;
    int joined = strncmp(piece, JOINER, JOINER_LEN) == 0;
    const char *body = joined ? piece + JOINER_LEN : piece;
    unsigned char glue = 0;
    if (joined && *body && starts_alnum(body)) glue |= GLUE_WORD;
    if (joined && (body[0] == ',' || body[0] == '.' || body[0] == ':') && strcmp(body + 1, JOINER) == 0)
        glue |= GLUE_SEPARATOR;
    if (body[0] >= '0' && body[0] <= '9') glue |= GLUE_DIGIT;
    return glue;
}

int number_continued(const unsigned char *glue, int n, int s)
{
    if (s + 1 >= n) return 0;
    if (glue[s + 1] & GLUE_WORD) return 1;
    return (glue[s + 1] & GLUE_SEPARATOR) && s + 2 < n && (glue[s + 2] & GLUE_DIGIT);
}

int number_after_separator(const unsigned char *glue, int s)
{
    return s >= 2 && (glue[s - 1] & GLUE_SEPARATOR) && (glue[s - 2] & GLUE_DIGIT);
}
