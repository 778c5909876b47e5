/*
 * memlib.h: the memory a malloc-lab allocator grows its heap into, in the
 * manner of CS:APP's memlib: a break that only moves up, over one region.
 *
 *     mem_heap_lo()            mem_heap_hi()   (last byte of the heap)
 *     |                        |
 *     [ bytes handed out by mem_sbrk ][ not yet handed out ............]
 *     ^ region start                  ^ the break          region end ^
 *
 * The region is not memlib's own (CS:APP's mem_init mallocs one): the lab
 * hands it the heap it runs every allocator on, so `--heap-size` bounds a
 * malloc-lab allocator as it bounds the course's.
 */
#ifndef HEAPLAB_MALLOCLAB_MEMLIB_H
#define HEAPLAB_MALLOCLAB_MEMLIB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Makes the size bytes at start the region, with an empty heap (the break
 * at start). The lab calls it before every mm_init(). */
void mem_init_region(void *start, size_t size);

/* Moves the break up by incr bytes and returns the old break: the start of
 * the incr new bytes. Refuses, with errno set to ENOMEM and (void *)-1, a
 * negative incr (the break never moves down) or one beyond the region. */
void *mem_sbrk(intptr_t incr);

/* Moves the break back to the region's start: an empty heap. */
void mem_reset_brk(void);

/* The first byte of the heap. */
void *mem_heap_lo(void);

/* The last byte of the heap (one below mem_heap_lo() when it is empty). */
void *mem_heap_hi(void);

/* Bytes of the heap: the break's distance from the region's start. */
size_t mem_heapsize(void);

/* The system's page size, in bytes. */
size_t mem_pagesize(void);

/* Bytes of the region: the most the heap can grow to. */
size_t mem_capacity(void);

/* How many times mem_sbrk() has refused to grow the heap beyond the region
 * since mem_init_region(): the lab tells a full heap from a NULL returned
 * with room to spare by it. */
size_t mem_sbrk_refusals(void);

#ifdef __cplusplus
}
#endif

#endif
