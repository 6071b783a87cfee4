/*
 * tokenizer.h - the tokenizer module: vocabularies, normalizers, word/char/BPE
 * splitting and detokenization. It is the lowest layer of libs2s and needs
 * nothing of the engine: it reads no files (the engine's loader hands it the
 * text of vocabularies and merges files) and reports errors in its own
 * tok_error, which the engine turns into an s2s_error. Not installed; the
 * public entry points are s2s_tokenize/s2s_detokenize in s2s.h (implemented
 * by engine/tokenize.c). Nothing here prints or exits.
 */
#ifndef S2S_TOKENIZER_H
#define S2S_TOKENIZER_H

#include <stdarg.h>
#include <stddef.h>

/* ---- errors --------------------------------------------------------------- */

typedef enum tok_status {
    TOK_OK = 0,
    TOK_ERR_NOMEM,         /* out of memory */
    TOK_ERR_CONFIG,        /* tokenizer settings out of range */
    TOK_ERR_INVALID_ARG,   /* a bad argument */
    TOK_ERR_VOCAB,         /* a vocabulary text is malformed */
    TOK_ERR_MERGES,        /* a BPE merges text is malformed */
    TOK_ERR_UTF8,          /* input text is not valid UTF-8 */
} tok_status;

#define TOK_ERROR_MAX 512

/* Status plus a one-line message naming the file, line, byte or token. */
typedef struct tok_error {
    tok_status status;
    char message[TOK_ERROR_MAX];
} tok_error;

/* Formats a one-line message into dst (capacity cap, always NUL-terminated,
 * cut when longer): printf rules, newlines turned into spaces. Shared with
 * the engine's error messages. */
void tok_format_message(char *dst, size_t cap, const char *fmt, va_list ap);

/* Sets `err` (may be NULL) to `status` and the formatted message, newlines
 * turned into spaces. Returns `status`. */
tok_status tok_fail(tok_error *err, tok_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Longest token text quoted in an error message, in bytes. */
#define S2S_ERR_TOKEN_BYTES 64


/* Writes `s` (`len` bytes of UTF-8) into `dst` (capacity `cap` >= 1) for use
 * in an error message: quoted-safe, control and non-ASCII-printable bytes as
 * \xNN, cut at S2S_ERR_TOKEN_BYTES with "...". Always NUL-terminates. */
void tok_escape(const char *s, size_t len, char *dst, size_t cap);

/* ---- vocabularies (tokenizer/vocab.c) ---------------------------------- */

typedef struct s2s_vocab s2s_vocab;

/* Parses a JSON object {token: id} (`len` bytes of text). Ids must be
 * exactly 0..V-1, each once; V >= 1. Errors (TOK_ERR_VOCAB, TOK_ERR_NOMEM)
 * name `name` (the file) and the id or token at fault. Returns NULL on
 * failure. Free with vocab_free(). */
s2s_vocab *vocab_parse(const char *json, size_t len, const char *name, tok_error *err);
void vocab_free(s2s_vocab *vocab);
int vocab_size(const s2s_vocab *vocab);
/* Id of the token `tok` (`len` bytes), or -1 when absent. */
int vocab_id(const s2s_vocab *vocab, const char *tok, size_t len);
/* Token string of `id` (owned by the vocab), or NULL when out of range. */
const char *vocab_token(const s2s_vocab *vocab, int id);

/* ---- tokenizer settings: the "tokenizer" object of config.json --------- */

typedef enum { NORM_NONE = 0, NORM_TUTORIAL, NORM_TEXT } normalizer_kind;
typedef enum { LEVEL_WORD = 0, LEVEL_CHAR, LEVEL_BPE } level_kind;

#define S2S_DEFAULT_MAX_INPUT_TOKENS 1024

typedef struct tokenizer_config {
    normalizer_kind normalizer; /* "none" (default), "tutorial", "text" */
    level_kind level;           /* "word" (default), "char", "bpe" */
    int lowercase;              /* "lowercase" (bool) for "text"; default 0 */
    char *merges;               /* "merges": file name relative to the model
                                   dir; required for "bpe", else NULL. Owned. */
    int max_input_tokens;       /* "max_input_tokens"; default S2S_DEFAULT_MAX_INPUT_TOKENS */
    int whole_numbers;          /* "whole_numbers" (bool) for "bpe": a word made only of
                                   the digits 0-9 is one piece, never split by the
                                   merges; default 0 */
    int whole_names;            /* "whole_names" (bool) for "bpe": a capitalized word
                                   (Lu or Lt, then one or more Ll) is one piece; default 0 */
} tokenizer_config;

/* ---- tokenizer (tokenizer.c, normalize.c, bpe.c, detok.c, utf8.c;
 *      helpers shared by those files in tok_internal.h) ------------------ */

typedef struct s2s_tokenizer s2s_tokenizer;

/* Creates a tokenizer for `cfg`. For level "bpe", `merges` holds the text
 * of the merges file (`merges_len` bytes; `merges_name` names it in
 * messages); it is parsed, not kept. Other levels pass NULL. Returns NULL on
 * failure (TOK_ERR_CONFIG, TOK_ERR_MERGES naming file and line). Free with
 * tokenizer_free(). */
s2s_tokenizer *tokenizer_new(const tokenizer_config *cfg, const char *merges, size_t merges_len,
                             const char *merges_name, tok_error *err);
void tokenizer_free(s2s_tokenizer *tok);

/* A growable list of NUL-terminated token strings. */
typedef struct piece_list {
    char **pieces;
    int n, cap;
    int limit;   /* > 0: pieces past this many are counted, not stored */
    long dropped; /* pieces not stored because of limit */
} piece_list;
void piece_list_free(piece_list *list);
/* Appends a copy of `s` (`n` bytes) as a new NUL-terminated piece.
 * Returns 0, or -1 when out of memory (the list is unchanged). */
int piece_list_push(piece_list *list, const char *s, size_t n);


/* Normalizes and splits `text` (`len` bytes) into token strings appended to
 * `out`. `vocab` is consulted only by level "char" (the " " token rule).
 * Invalid UTF-8: TOK_ERR_UTF8 naming the byte offset, unless `lenient`, in
 * which case bad bytes become U+FFFD. */
tok_status tokenizer_split(const s2s_tokenizer *tok, const char *text, size_t len, int lenient,
                           const s2s_vocab *vocab, piece_list *out, tok_error *err);

/* Joins target token strings into text a person reads. Returns a malloc'd
 * string the caller frees, or NULL when out of memory. */
char *tokenizer_join(const s2s_tokenizer *tok, const char *const *pieces, int n);

#endif
