/*
 * fuzz_line_reader.c - libFuzzer target over the command's line reader
 * (tools/s2s/cli_io.c), built with tiny limits so that overlong lines,
 * buffer growth and compaction happen on small inputs: lines over 64 bytes
 * are skipped, and reads ask for at most 7 bytes at a time.
 *
 * Input layout: byte 0 (bit 0: ask without blocking; bit 1: treat the file
 * as a pipe, polling it); the rest is the input, written to a memory file.
 *
 * Checked against an independent splitter: the lines come out in order,
 * one per '\n' plus a last line without one; each has one trailing '\r'
 * removed, NUL bytes kept, and is NUL-terminated; a line of more than 64
 * bytes (its '\r' included) is LR_TOO_LONG; nothing follows LR_EOF; the
 * bytes consumed add up to the input size.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    unsigned sel = data[0];
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    int fd = memfd_create("fuzz-input", MFD_CLOEXEC);
    if (fd < 0) abort();
    if (len && write(fd, in, len) != (ssize_t)len) abort();
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    line_reader r;
    if (lr_open(&r, path) != 0) abort();
    if (sel & 2) r.regular = 0;

    size_t pos = 0; /* the independent splitter's position */
    for (;;) {
        char *line;
        size_t n;
        int k = lr_next(&r, !(sel & 1), &line, &n);
        if (k == LR_WOULD_BLOCK) continue; /* a memory file is always readable: only retry */
        if (k == LR_ERROR) abort();
        if (k == LR_EOF) {
            if (pos != len) abort(); /* input left over */
            break;
        }
        if (pos >= len) abort(); /* a line after the end */
        const char *nl = memchr(in + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - in) : len;
        size_t raw = end - pos;
        if (raw > CLI_MAX_LINE_BYTES) {
            if (k != LR_TOO_LONG) abort();
        } else {
            size_t want = raw;
            if (want > 0 && in[pos + want - 1] == '\r') want--;
            if (k != LR_LINE || n != want || memcmp(line, in + pos, want) != 0 || line[n] != '\0') abort();
        }
        pos = nl ? end + 1 : end;
    }
    if (r.consumed != (off_t)len) abort();
    /* further calls keep saying end of input */
    char *line;
    size_t n;
    if (lr_next(&r, 1, &line, &n) != LR_EOF) abort();
    lr_close(&r);
    close(fd);
    return 0;
}
