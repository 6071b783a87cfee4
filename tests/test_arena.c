/* The session's scratch arena (engine/arena.c): measure, grow, carve. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"

/* A carve function taking plan[0..] byte counts until a 0, pointers to bufs. */
static void carve_list(arena *a, const void *plan, void *bufs)
{
    const size_t *sizes = plan;
    void **out = bufs;
    for (int i = 0; sizes[i]; i++) out[i] = arena_take(a, sizes[i]);
}

Test(arena, buffers_are_aligned_apart_and_writable)
{
    arena a = {0};
    size_t sizes[] = {1, 100, 64, 3000, 0};
    void *bufs[4];
    cr_assert(arena_carve(&a, carve_list, sizes, bufs));
    for (int i = 0; i < 4; i++) {
        cr_assert_eq((uintptr_t)bufs[i] % 64, 0, "buffer %d is not 64-byte aligned", i);
        memset(bufs[i], i + 1, sizes[i]);
    }
    for (int i = 0; i < 3; i++)
        cr_assert((char *)bufs[i] + sizes[i] <= (char *)bufs[i + 1], "buffers %d and %d overlap", i, i + 1);
    cr_assert(((unsigned char *)bufs[0])[0] == 1 && ((unsigned char *)bufs[3])[2999] == 4);
    arena_release(&a);
    cr_assert(a.base == NULL && a.cap == 0);
}

/* Calls that each need a little more than the last reallocate only now and
 * then: the arena grows by half again at least, and never shrinks. */
Test(arena, grows_by_half_at_least)
{
    arena a = {0};
    void *bufs[1];
    int grown = 0;
    size_t cap = 0;
    for (size_t need = 1000; need <= 100000; need += 1000) {
        size_t sizes[] = {need, 0};
        cr_assert(arena_carve(&a, carve_list, sizes, bufs));
        cr_assert_geq(a.cap, need);
        cr_assert_geq(a.cap, cap, "the arena shrank");
        if (a.cap != cap) grown++;
        cap = a.cap;
    }
    /* 100 calls from 1 KB to 100 KB: a growth by half needs about 12 */
    cr_assert_leq(grown, 13, "%d reallocations for 100 slowly growing calls", grown);
    unsigned char *base = a.base;
    size_t small[] = {10, 0};
    cr_assert(arena_carve(&a, carve_list, small, bufs));
    cr_assert(a.base == base && a.cap == cap, "a smaller call reallocated");
    arena_release(&a);
}

/* A large arena is aligned to 2 MB and a whole number of 2 MB pages (for
 * huge pages), and fully writable. */
Test(arena, large_arena_is_usable)
{
    arena a = {0};
    size_t sizes[] = {3u << 20, 5, 0};
    void *bufs[2];
    cr_assert(arena_carve(&a, carve_list, sizes, bufs));
    cr_assert_eq((uintptr_t)bufs[0] % ((size_t)2 << 20), 0, "a large arena is not aligned for huge pages");
    cr_assert_eq(a.cap % ((size_t)2 << 20), 0, "a large arena is not a whole number of huge pages");
    memset(bufs[0], 7, sizes[0]);
    memset(bufs[1], 8, sizes[1]);
    cr_assert(((unsigned char *)bufs[0])[sizes[0] - 1] == 7);
    arena_release(&a);
}
