/*
 * arena.c - measure-then-carve scratch memory (see arena.h).
 */
#include "arena.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 64

void *arena_take(arena *a, size_t bytes)
{
    size_t at = a->used;
    a->used += (bytes + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    return a->measuring ? NULL : a->base + at;
}

/* Grows the arena to at least `need` bytes (contents are not kept). */
static int arena_reserve(arena *a, size_t need)
{
    if (need <= a->cap) return 1;
    void *p = NULL;
    if (posix_memalign(&p, ARENA_ALIGN, need) != 0) return 0;
    free(a->base);
    a->base = p;
    a->cap = need;
    return 1;
}

int arena_carve(arena *a, arena_carve_fn carve, const void *plan, void *bufs)
{
    a->measuring = 1;
    a->used = 0;
    carve(a, plan, bufs);
    int ok = arena_reserve(a, a->used);
    a->measuring = 0;
    a->used = 0;
    if (ok) carve(a, plan, bufs);
    return ok;
}

void arena_release(arena *a)
{
    free(a->base);
    memset(a, 0, sizeof *a);
}
