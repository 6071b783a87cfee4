/*
 * sentences.h - splitting a line of prose into sentences, for
 * `s2s translate --split-sentences`. Knows English and French usage:
 * abbreviations (Mr., Mme., M., Dr., etc.), dotted initialisms (U.S.,
 * e.g., J.-C.), initials (John F. Kennedy), numbers and times (3.14,
 * 12.30), ellipses, quotes and « » guillemets, closing quotes and brackets
 * after the full stop, and French spacing before ; : ! ? ». Pure text
 * work: no model, no allocation but the result.
 */
#ifndef S2S_SENTENCES_H
#define S2S_SENTENCES_H

#include <stddef.h>

/* Most sentences one line is split into; the rest of a longer line stays
 * in the last one. */
#define SENT_MAX 256

/* Longest quotation (bytes, marks included) kept whole: no split inside a
 * matched « », “ ” or " " pair shorter than this. */
#define SENT_QUOTE_MAX 400

/* One sentence: text[start .. start + len), without surrounding white space. */
typedef struct sent_span {
    size_t start;
    size_t len;
} sent_span;

/* Splits text[0..len) (UTF-8; invalid bytes are ordinary characters) into
 * sentences. A sentence ends after a run of . ! ? or … and any closing
 * quotes or brackets after it (French spacing before » allowed), when white
 * space follows and the next sentence starts with a capital letter (after
 * any opening quote, bracket, dash, ¿ or ¡). A single full stop does not end
 * a sentence after a known abbreviation, a dotted initialism, a single
 * capital (an initial), or a list number opening the sentence. No split
 * happens inside a short matched quotation.
 * Writes up to `max` spans (at most SENT_MAX are ever produced) to `out`
 * and returns how many sentences there are: 0 for a line of white space
 * only, else 1..SENT_MAX. */
int sent_split(const char *text, size_t len, sent_span *out, int max);

#endif
