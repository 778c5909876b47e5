/*
 * memlib.c: a break over a region the lab hands in (see memlib.h).
 */
#include "memlib.h"

#include <errno.h>
#include <unistd.h>

/* The region and the break: the heap is [region_start, heap_break). */
static char *region_start;
static char *region_end;
static char *heap_break; /* the first byte not yet handed out */
static size_t refusals;

void mem_init_region(void *start, size_t size) {
  region_start = (char *)start;
  region_end = region_start + size;
  heap_break = region_start;
  refusals = 0;
}

void *mem_sbrk(intptr_t incr) {
  /* Compared as sizes, so that no pointer past the region is ever formed. */
  if (incr < 0 || (uintptr_t)incr > (uintptr_t)(region_end - heap_break)) {
    if (incr > 0) ++refusals;
    errno = ENOMEM;
    return (void *)-1;
  }
  char *const old_brk = heap_break;
  heap_break += incr;
  return old_brk;
}

void mem_reset_brk(void) { heap_break = region_start; }

void *mem_heap_lo(void) { return region_start; }

void *mem_heap_hi(void) { return heap_break - 1; }

size_t mem_heapsize(void) { return (size_t)(heap_break - region_start); }

size_t mem_pagesize(void) { return (size_t)sysconf(_SC_PAGESIZE); }

size_t mem_capacity(void) { return (size_t)(region_end - region_start); }

size_t mem_sbrk_refusals(void) { return refusals; }
