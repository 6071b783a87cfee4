/*
 * slurp.h - whole-file reads for the Criterion tests (the tokenizer and the
 * library read no files of their own in these tests: the test hands them text).
 */
#ifndef S2S_TEST_SLURP_H
#define S2S_TEST_SLURP_H

#include <stddef.h>

/* The whole file at `path` as a malloc'd NUL-terminated string (the caller
 * frees it); *len its size when len is not NULL. Fails the test when the file
 * cannot be opened or read. */
char *slurp(const char *path, size_t *len);

#endif
