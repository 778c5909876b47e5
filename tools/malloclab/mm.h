/*
 * mm.h: the interface of a malloc-lab allocator (CS:APP, the malloc lab),
 * as the strategy lab calls it. A learner's mm.c defines the four functions
 * below, and may define mm_checkheap() too.
 *
 * The heap is the one memlib.h hands out: an mm.c grows it with mem_sbrk()
 * and never calls the C library's malloc for its blocks.
 */
#ifndef HEAPLAB_MALLOCLAB_MM_H
#define HEAPLAB_MALLOCLAB_MM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Sets up a fresh, empty heap (memlib's heap starts empty). Returns 0, or -1
 * when it cannot. Called once for every fresh heap. */
int mm_init(void);

/* A block of at least size bytes, 8-byte aligned, inside the heap; NULL when
 * the heap cannot grow enough. */
void *mm_malloc(size_t size);

/* Gives back the block at ptr, which mm_malloc or mm_realloc returned and
 * which has not been freed since. */
void mm_free(void *ptr);

/* The block at ptr resized to size bytes, keeping the bytes both sizes
 * share; it may move. NULL, leaving the block as it was, when it cannot. */
void *mm_realloc(void *ptr, size_t size);

/* Optional: checks the heap's own invariants. Returns nonzero when they all
 * hold and 0 when one does not (printing what, when verbose is nonzero).
 * Declared weak, so an mm.c without it still links: its address is then
 * null, and the lab does not call it. */
int mm_checkheap(int verbose) __attribute__((weak));

#ifdef __cplusplus
}
#endif

#endif
