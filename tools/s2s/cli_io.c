/*
 * cli_io.c - a line reader over a file descriptor (or a memory text) that
 * can tell "no complete line available yet" from "end of input", so that a
 * pipe is processed as it arrives, and that keeps memory bounded by the
 * longest accepted line.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

int lr_open(line_reader *r, const char *path)
{
    memset(r, 0, sizeof *r);
    r->size = -1;
    if (!path || strcmp(path, "-") == 0) {
        r->fd = STDIN_FILENO;
    } else {
        r->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (r->fd < 0) return -1;
    }
    struct stat st;
    if (fstat(r->fd, &st) == 0 && S_ISREG(st.st_mode)) {
        r->regular = 1;
        r->size = st.st_size;
    }
    return 0;
}

int lr_open_text(line_reader *r, const char *text)
{
    memset(r, 0, sizeof *r);
    size_t n = strlen(text);
    r->fd = -1;
    r->buf = malloc(n + 2);
    if (!r->buf) return -1;
    memcpy(r->buf, text, n);
    if (n == 0 || text[n - 1] != '\n') r->buf[n++] = '\n';
    r->cap = n + 1;
    r->end = n;
    r->eof = 1;
    r->regular = 1;
    r->size = (off_t)n;
    return 0;
}

void lr_close(line_reader *r)
{
    if (r->fd > STDIN_FILENO) close(r->fd);
    free(r->buf);
    memset(r, 0, sizeof *r);
}

/* 1 when a read(2) on the reader would not wait. */
static int readable_now(const line_reader *r)
{
    if (r->regular) return 1;
    struct pollfd p = {.fd = r->fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0;
}

/* Makes room for CLI_READ_BYTES more bytes after end; 0 or -1 (ENOMEM). */
static int make_room(line_reader *r)
{
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    if (r->cap - r->end >= CLI_READ_BYTES) return 0;
    size_t cap = r->cap ? r->cap * 2 : 2 * CLI_READ_BYTES;
    while (cap - r->end < CLI_READ_BYTES) cap *= 2;
    char *b = realloc(r->buf, cap);
    if (!b) return -1;
    r->buf = b;
    r->cap = cap;
    return 0;
}

/* Reads more bytes into the buffer; 1 read, 0 at end of input, -1 error. */
static int fill(line_reader *r)
{
    if (r->fd < 0) return 0;
    if (make_room(r) < 0) return -1;
    for (;;) {
        size_t room = r->cap - r->end;
        ssize_t k = read(r->fd, r->buf + r->end, room < CLI_READ_MAX ? room : CLI_READ_MAX);
        if (k > 0) { r->end += (size_t)k; return 1; }
        if (k == 0) return 0;
        if (errno != EINTR) return -1;
    }
}

/* Hands out the line of `n` bytes at start (the newline, if any, follows). */
static int take_line(line_reader *r, size_t n, size_t skip, char **line, size_t *len)
{
    *line = r->buf + r->start;
    *len = n;
    if (n > 0 && (*line)[n - 1] == '\r') (*len)--;
    (*line)[*len] = '\0';
    r->start += n + skip;
    r->consumed += (off_t)(n + skip);
    r->scanned = 0;
    if (r->skipping) { r->skipping = 0; return LR_TOO_LONG; }
    return LR_LINE;
}

/* While a too-long line is being skipped, drops what is buffered of it. */
static void drop_skipped(line_reader *r)
{
    r->consumed += (off_t)(r->end - r->start);
    r->start = r->end = 0;
    r->scanned = 0;
}

int lr_next(line_reader *r, int may_block, char **line, size_t *len)
{
    for (;;) {
        size_t unscanned = r->end - r->start - r->scanned;
        char *nl = unscanned ? memchr(r->buf + r->start + r->scanned, '\n', unscanned) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - (r->buf + r->start));
            if (n > CLI_MAX_LINE_BYTES) r->skipping = 1;
            return take_line(r, n, 1, line, len);
        }
        r->scanned = r->end - r->start;
        if (r->scanned > CLI_MAX_LINE_BYTES) {
            r->skipping = 1;
            drop_skipped(r);
        }
        if (r->eof) {
            if (r->end > r->start || r->skipping) {
                if (make_room(r) < 0) return LR_ERROR;
                return take_line(r, r->end - r->start, 0, line, len);
            }
            return LR_EOF;
        }
        if (!may_block && !readable_now(r)) return LR_WOULD_BLOCK;
        int k = fill(r);
        if (k < 0) return LR_ERROR;
        if (k == 0) r->eof = 1;
    }
}
