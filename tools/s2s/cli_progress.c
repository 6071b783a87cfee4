/*
 * cli_progress.c - a one-line progress display on standard error: lines
 * done, lines per second, and the time left when the input size is known.
 * Shown only when standard error is a terminal and --quiet is not given.
 */
#include <time.h>
#include <unistd.h>

#include "cli.h"

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void cli_progress_start(cli_progress *p, const line_reader *r, int quiet)
{
    p->enabled = !quiet && isatty(STDERR_FILENO);
    p->t0 = cli_now();
    p->last = p->t0 - CLI_PROGRESS_MIN_INTERVAL; /* first update draws at once */
    p->done = 0;
    p->reader = r;
}

/* Draws the bar: done, rate, and when the size is known percent and ETA. */
static void draw(const cli_progress *p, double now)
{
    double dt = now - p->t0;
    double rate = dt > 0 ? p->done / dt : 0;
    fprintf(stderr, "\r\033[K%ld lines, %.1f lines/s", p->done, rate);
    const line_reader *r = p->reader;
    if (r && r->size > 0 && r->consumed > 0) {
        double frac = (double)r->consumed / (double)r->size;
        if (frac > 1) frac = 1;
        double left = dt * (1 - frac) / frac;
        fprintf(stderr, ", %3.0f%%, %.0fs left", 100 * frac, left);
    }
    fflush(stderr);
}

void cli_progress_add(cli_progress *p, long lines)
{
    p->done += lines;
    if (!p->enabled) return;
    double now = cli_now();
    if (now - p->last < CLI_PROGRESS_MIN_INTERVAL) return;
    p->last = now;
    draw(p, now);
}

void cli_progress_end(cli_progress *p)
{
    if (!p->enabled) return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
}
