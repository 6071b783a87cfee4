/*
 * tok_internal.h - helpers shared by the tokenizer's C files (utf8.c,
 * normalize.c, bpe.c, tokenizer.c, detok.c). Not installed.
 * The behaviour is specified in docs/tokenizer.md; tools/python/s2s_tools/tokenizer.py is
 * the Python twin that must give the same tokens.
 */
#ifndef S2S_TOK_INTERNAL_H
#define S2S_TOK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "tokenizer.h"

/* Joiner mark U+FFED HALFWIDTH BLACK SQUARE, UTF-8. NFKC maps U+FFED to
 * U+25A0, so text normalized by "text" never contains it. */
#define S2S_JOINER "\xef\xbf\xad"
#define S2S_JOINER_LEN 3

/* Words longer than this many code points are not merged by BPE: each code
 * point is one piece (Python: BPE_MAX_WORD_CHARS). Bounds the cost of the
 * quadratic rank-priority loop. */
#define S2S_BPE_MAX_WORD_CHARS 64

/* Unicode replacement character, used by lenient decoding. */
#define S2S_REPLACEMENT_CHAR 0xFFFD


/* ---- growable buffers --------------------------------------------------- */

/* Code points; owned array `cp` of `n` used / `cap` allocated. */
typedef struct cp_buf {
    int32_t *cp;
    size_t n, cap;
} cp_buf;

/* Bytes; owned array `s` of `n` used / `cap` allocated (not NUL-terminated
 * unless the user appends a 0). */
typedef struct byte_buf {
    char *s;
    size_t n, cap;
} byte_buf;

int cp_push(cp_buf *b, int32_t cp);          /* 0, or -1 when out of memory */
void cp_buf_free(cp_buf *b);
int bytes_push(byte_buf *b, const char *s, size_t n);  /* 0 or -1 */
int bytes_push_cp(byte_buf *b, int32_t cp);  /* appends the UTF-8 of cp; 0 or -1 */
void byte_buf_free(byte_buf *b);


/* ---- UTF-8 (utf8.c) ------------------------------------------------------ */

/* Decodes `len` bytes of UTF-8 into code points appended to `out`.
 * Strict mode: the first invalid sequence fails with TOK_ERR_UTF8,
 * "invalid UTF-8 at byte N" (N = 0-based offset of its first byte).
 * Lenient mode: each maximal ill-formed subpart becomes U+FFFD (the same
 * substitution as Python's bytes.decode("utf-8", "replace")). */
tok_status utf8_decode(const char *s, size_t len, int lenient, cp_buf *out, tok_error *err);
/* Offset of the first byte of `text` (`len` bytes) where strict decoding
 * fails, or `len` when it is all valid UTF-8. Allocates nothing. */
size_t utf8_first_invalid(const char *text, size_t len);

/* Writes the UTF-8 of `cp` (a scalar value) to dst[0..3]; returns 1..4. */
size_t utf8_encode(int32_t cp, char *dst);

/* Number of code points in valid UTF-8 `s` of `len` bytes. */
size_t utf8_count(const char *s, size_t len);

/* ---- normalizers (normalize.c) -------------------------------------------- */

/* One normalized unit: a word ('w') or one punctuation/symbol code point with
 * its combining marks ('p'). Bytes [off, off+len) of the owning buffer.
 * `attached`: touches the previous unit (no white space between). */
typedef struct tok_unit {
    size_t off, len;
    char kind;        /* 'w' or 'p' */
    char attached;
} tok_unit;

typedef struct unit_list {
    tok_unit *u;
    size_t n, cap;
} unit_list;

int unit_push(unit_list *l, size_t off, size_t len, char kind, int attached);
void unit_list_free(unit_list *l);

/* Lowercases code point `c` as Python's str.lower() does for that single
 * character: writes 1 or 2 code points to dst and returns the count.
 * U+0130 gives U+0069 U+0307; everything else is utf8proc_tolower(). */
int tok_lower(int32_t c, int32_t dst[2]);

/* Python's str.isspace() for one code point: category Zs, or bidirectional
 * class WS, B or S. */
int tok_isspace(int32_t c);

/* Runs normalizer `kind` over `cps` (valid code points) and appends its
 * units to `units`, their UTF-8 to `buf`. `lowercase` applies to
 * NORM_TEXT. Returns TOK_OK or TOK_ERR_NOMEM. */
tok_status normalize_units(normalizer_kind kind, int lowercase, const cp_buf *cps,
                           byte_buf *buf, unit_list *units, tok_error *err);

/* The normalized text that level "char" splits, as code points appended to
 * `out`: "none" gives `cps` unchanged, "tutorial" the tutorial's
 * normalizeString, "text" its chunks joined by single spaces. */
tok_status normalize_text(normalizer_kind kind, int lowercase, const cp_buf *cps, cp_buf *out,
                          tok_error *err);

/* NFKC of `cps` (valid code points) into `out` (cleared first), via utf8proc. */
tok_status nfkc(const cp_buf *cps, cp_buf *out, tok_error *err);

/* ---- BPE (bpe.c) ----------------------------------------------------------- */

typedef struct bpe_merges bpe_merges;

/* The tokenizer object (tokenizer.h's opaque s2s_tokenizer). */
struct s2s_tokenizer {
    normalizer_kind normalizer;
    level_kind level;
    int lowercase;
    int whole_numbers;  /* level BPE: digit-only words stay one piece */
    int whole_names;    /* level BPE: capitalized words stay one piece */
    bpe_merges *merges; /* owned; NULL unless level is LEVEL_BPE */
};

/* Parses the text of a merges file (`len` bytes: one "a b" per line, rank =
 * order; a first line starting with "#version" is skipped; "\r\n"
 * accepted). Errors: TOK_ERR_MERGES naming `name` and the line. Duplicate
 * pairs keep their first rank. Free with bpe_free(). */
bpe_merges *bpe_parse(const char *text, size_t len, const char *name, tok_error *err);
void bpe_free(bpe_merges *m);
size_t bpe_count(const bpe_merges *m);

/* Splits the word `w` (`len` bytes of valid UTF-8, no white space) into
 * pieces with the rank-priority loop (see tools/python/s2s_tools/tokenizer.py
 * bpe_encode). Writes piece boundaries to `bnd`: bnd[0] = 0 < bnd[1] < ... <
 * bnd[k] = len, and returns k (>= 1 for a non-empty word). `bnd` must hold
 * utf8_count(w, len) + 1 entries. */
size_t bpe_encode(const bpe_merges *m, const char *w, size_t len, size_t *bnd);

#endif
