/*
 * arena.c - measure-then-carve scratch memory (see arena.h).
 */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define ARENA_ALIGN 64

void *arena_take(arena *a, size_t bytes)
{
    size_t at = a->used;
    a->used += (bytes + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    return a->measuring ? NULL : a->base + at;
}

/* Arenas of a megabyte or more are aligned to 2 MB and asked for as huge
 * pages (a hint the kernel may refuse): the decoder's logits rows alone are
 * megabytes, and touching them 4 KB page by 4 KB page costs a fault each
 * the first time. */
#define ARENA_HUGE ((size_t)2 << 20)

/* Grows the arena to at least `need` bytes (contents are not kept). It grows
 * by half again at least, so a run of calls that each need a little more
 * (longer sentences) does not reallocate, and fault in, every time. */
static int arena_reserve(arena *a, size_t need)
{
    if (need <= a->cap) return 1;
    size_t grown = a->cap <= SIZE_MAX / 3 * 2 ? a->cap + a->cap / 2 : SIZE_MAX;
    size_t want = grown > need ? grown : need;
    size_t align = want >= ARENA_HUGE / 2 ? ARENA_HUGE : ARENA_ALIGN;
    if (want > SIZE_MAX - align) return 0;
    want = (want + align - 1) / align * align;
    void *p = NULL;
    if (posix_memalign(&p, align, want) != 0) return 0;
#ifdef MADV_HUGEPAGE
    if (align == ARENA_HUGE) (void)madvise(p, want, MADV_HUGEPAGE);
#endif
    free(a->base);
    a->base = p;
    a->cap = want;
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
