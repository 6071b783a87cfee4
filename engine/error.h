/*
 * error.h - the one internal way to report an error: status plus a
 * printf-formatted one-line message in the caller's s2s_error.
 */
#ifndef S2S_ERROR_H
#define S2S_ERROR_H

#include "s2s.h"
#include "tokenizer.h"

/* Sets `err` (which may be NULL) to `status` and the formatted message,
 * truncated to S2S_ERROR_MAX - 1 bytes, newlines turned into spaces so it
 * stays one line. Returns `status`. */
s2s_status s2s_fail(s2s_error *err, s2s_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Turns the tokenizer's error `terr` into `err` (same message, the matching
 * s2s_status). Returns that status. */
s2s_status s2s_fail_from_tokenizer(s2s_error *err, const tok_error *terr);

#endif
