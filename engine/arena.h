/*
 * arena.h - the scratch memory of a session. Every buffer a decoding call
 * needs is carved from one arena before its loop starts, so nothing is
 * allocated while decoding; the arena grows only between calls.
 */
#ifndef S2S_ARENA_H
#define S2S_ARENA_H

#include <stddef.h>

typedef struct arena {
    unsigned char *base;
    size_t cap;    /* bytes allocated */
    size_t used;   /* bytes carved in this pass */
    int measuring; /* 1: only count, base is not touched */
} arena;

/* Returns `bytes` (rounded up to 64, 64-byte aligned) from the arena, or
 * NULL while measuring. */
void *arena_take(arena *a, size_t bytes);

/* A function that takes every buffer of one call from `a` with arena_take()
 * and stores the pointers in `bufs`, following `plan`. It must take the same
 * sizes in the same order each time it runs, and must not use the pointers
 * while a->measuring (they are NULL then). */
typedef void (*arena_carve_fn)(arena *a, const void *plan, void *bufs);

/* Runs `carve` once to measure, grows the arena to fit (its old contents are
 * not kept), then runs it again for real. Returns 1, or 0 when out of memory
 * (the arena is unchanged then). */
int arena_carve(arena *a, arena_carve_fn carve, const void *plan, void *bufs);

/* Frees the arena's memory and zeroes it. */
void arena_release(arena *a);

#endif
