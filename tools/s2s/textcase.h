/*
 * textcase.h - case handling of `s2s translate --case auto`: a sentence in
 * ALL CAPS or in Title Case is decoded in the case a model trained on
 * ordinary text knows (lower case, a capital to start the sentence, and
 * the capitals that the model's vocabulary keeps: names, acronyms), and
 * the output gets the input's case back. Text only: the vocabulary is
 * asked through a callback.
 */
#ifndef S2S_TEXTCASE_H
#define S2S_TEXTCASE_H

#include <stddef.h>

/* What was found and done. */
enum cli_case { CLI_CASE_NONE = 0, CLI_CASE_UPPER, CLI_CASE_TITLE };

/* Least letters for a sentence to count as ALL CAPS (so that "USA" or "OK"
 * alone stay as they are). */
#define CASE_UPPER_MIN_LETTERS 4
/* Least words of two letters or more, all capitalized, for Title Case. */
#define CASE_TITLE_MIN_WORDS 3

/* Tells whether `word` (len bytes, UTF-8) is a whole token of the model's
 * source vocabulary; ctx is the caller's. */
typedef int (*cli_known_fn)(void *ctx, const char *word, size_t len);

/* "upper", "title", or NULL for CLI_CASE_NONE (static strings). */
const char *cli_case_name(int casing);

/* The case of text[0..len) (UTF-8):
 *  CLI_CASE_UPPER: at least CASE_UPPER_MIN_LETTERS cased letters and at
 *    most one lower-case letter for every 20 capitals;
 *  CLI_CASE_TITLE: at least CASE_TITLE_MIN_WORDS words (runs of two
 *    letters or more) that are a capital followed by lower case, every
 *    word of four letters or more is such a word or all capitals, and,
 *    when `known` is not NULL, a capitalized word past the first word has
 *    a lower-case form `known` holds: a sentence whose capitals are all on
 *    names the model knows in no lower-case form ("Tom met Kowalski in
 *    Warsaw.") is ordinary text, and its names stay as they are;
 *  else CLI_CASE_NONE. */
int cli_case_detect(const char *text, size_t len, cli_known_fn known, void *ctx);

/* The text to decode for a sentence detected as upper or title case:
 * every word (run of letters) in lower case, except the first word when
 * no digit comes before it (capitalized), and a word whose lower-case form
 * `known` does not hold but whose capitalized form (else its all-capitals
 * form, two letters or more) it does. Returns a malloc'd NUL-terminated
 * string, NULL when out of memory. */
char *cli_case_fold(const char *text, size_t len, cli_known_fn known, void *ctx);

/* The output text given the case `casing` back: CLI_CASE_UPPER puts every
 * letter in capitals, CLI_CASE_TITLE capitalizes the first letter of every
 * white-space separated word; CLI_CASE_NONE copies. malloc'd, NULL when out
 * of memory. */
char *cli_case_restore(const char *text, int casing);

#endif
