/*
 * mm.c: an example malloc-lab allocator of the course's own: an implicit
 * free list with boundary tags, first fit, and immediate coalescing (the
 * ideas of chapters 2 to 4, in C over memlib).
 *
 * Every block has a one-word header and a one-word footer holding its size
 * (a multiple of 8) and, in bit 0, whether it is allocated:
 *
 *     | header: size|a |  payload (8-aligned) ...    | footer: size|a |
 *     ^ block start                                                   ^ block end
 *
 * The footer is what lets a block find the start of the one before it in
 * constant time, so that freeing merges with both neighbours at once. The
 * heap begins with a prologue (an allocated block of header and footer
 * only) and ends with an epilogue (a header of size 0, allocated), so the
 * merging never needs to ask whether a neighbour exists:
 *
 *     [prologue hdr][prologue ftr][ block ][ block ] ... [epilogue hdr]
 *
 * Words are 8 bytes (size_t), which also makes every payload 8-aligned: the
 * heap starts 8-aligned and every block size is a multiple of 8.
 */
#include "mm.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "memlib.h"

enum {
  WORD = sizeof(size_t),   /* a header or a footer */
  ALIGN = 8,               /* the malloc lab's alignment */
  MIN_BLOCK = 3 * WORD,    /* header, 8 bytes of payload, footer */
  GROW = 4096              /* the least the heap grows by: few mem_sbrk calls */
};

/* The first block after the prologue: where every search starts. */
static char *first_block;

/* --- words and tags ------------------------------------------------- */

static size_t get(const char *at) { size_t w; memcpy(&w, at, WORD); return w; }
static void put(char *at, size_t w) { memcpy(at, &w, WORD); }
static size_t pack(size_t size, int allocated) { return size | (size_t)(allocated != 0); }

/* A block is named by its payload pointer bp, as mm_malloc returns it. */
static char *header(char *bp) { return bp - WORD; }
static size_t size_of(char *bp) { return get(header(bp)) & ~(size_t)7; }
static int is_allocated(char *bp) { return (int)(get(header(bp)) & 1); }
static char *footer(char *bp) { return bp + size_of(bp) - 2 * WORD; }
static char *next_block(char *bp) { return bp + size_of(bp); }
/* The previous block's footer is the word before this block's header. */
static char *prev_block(char *bp) { return bp - (get(bp - 2 * WORD) & ~(size_t)7); }

/* Writes the same tag in the header and the footer of a block. */
static void tag(char *bp, size_t size, int allocated) {
  put(header(bp), pack(size, allocated));
  put(bp + size - 2 * WORD, pack(size, allocated));
}

/* The block size that holds a payload of size bytes, or 0 if none can. */
static size_t block_size_for(size_t size) {
  if (size > SIZE_MAX - 2 * WORD - ALIGN) return 0;
  size_t needed = (size + 2 * WORD + ALIGN - 1) / ALIGN * ALIGN;
  return needed < MIN_BLOCK ? MIN_BLOCK : needed;
}

/* --- coalescing ----------------------------------------------------- */

/* Merges the free block bp with whichever neighbours are free, at once,
 * so that no two free blocks are ever next to each other. Returns the
 * merged block. */
static char *coalesce(char *bp) {
  size_t size = size_of(bp);
  if (!is_allocated(next_block(bp))) size += size_of(next_block(bp));
  if (!is_allocated(prev_block(bp))) {
    bp = prev_block(bp);
    size += size_of(bp);
  }
  tag(bp, size, 0);
  return bp;
}

/* Grows the heap by at least bytes (a multiple of 8): the old epilogue
 * becomes the new free block's header, and a new epilogue follows it.
 * Returns the new block, merged with a free block before it, or NULL. */
static char *grow_heap(size_t bytes) {
  char *bp = mem_sbrk((intptr_t)bytes);
  if (bp == (void *)-1) return NULL;
  tag(bp, bytes, 0);
  put(header(next_block(bp)), pack(0, 1));
  return coalesce(bp);
}

/* --- placing -------------------------------------------------------- */

/* The first free block of at least size bytes, or NULL. */
static char *find_fit(size_t size) {
  for (char *bp = first_block; size_of(bp) > 0; bp = next_block(bp)) {
    if (!is_allocated(bp) && size_of(bp) >= size) return bp;
  }
  return NULL;
}

/* Makes the first size bytes of block bp (free, or allocated and being
 * resized) an allocated block, and the rest a free block when it is big
 * enough to be one; the rest merges with a free block after it (only a
 * shrinking realloc can leave one there). */
static void place(char *bp, size_t size) {
  size_t whole = size_of(bp);
  if (whole - size >= MIN_BLOCK) {
    tag(bp, size, 1);
    tag(next_block(bp), whole - size, 0);
    coalesce(next_block(bp));
  } else {
    tag(bp, whole, 1);
  }
}

/* --- the interface -------------------------------------------------- */

int mm_init(void) {
  char *start = mem_sbrk(3 * WORD);
  if (start == (void *)-1) return -1;
  put(start, pack(2 * WORD, 1));         /* prologue header */
  put(start + WORD, pack(2 * WORD, 1));  /* prologue footer */
  put(start + 2 * WORD, pack(0, 1));     /* epilogue header */
  first_block = start + 3 * WORD;        /* after the epilogue, once the heap grows */
  return 0;
}

void *mm_malloc(size_t size) {
  size_t needed = block_size_for(size);
  if (needed == 0) return NULL;
  char *bp = find_fit(needed);
  if (bp == NULL) {
    /* A free block at the end of the heap is merged with the new bytes,
     * so growing by what is missing would do; growing by at least GROW
     * keeps the number of mem_sbrk calls down. */
    bp = grow_heap(needed > GROW ? needed : GROW);
    if (bp == NULL) {
      /* Not a whole GROW left: try exactly what this request needs. */
      bp = needed < GROW ? grow_heap(needed) : NULL;
      if (bp == NULL) return NULL;
    }
    if (size_of(bp) < needed) return NULL;
  }
  place(bp, needed);
  return bp;
}

void mm_free(void *ptr) {
  if (ptr == NULL) return;
  char *bp = ptr;
  tag(bp, size_of(bp), 0);
  coalesce(bp);
}

void *mm_realloc(void *ptr, size_t size) {
  if (ptr == NULL) return mm_malloc(size);
  char *bp = ptr;
  size_t needed = block_size_for(size);
  if (needed == 0) return NULL;
  size_t have = size_of(bp);
  /* Growing into a free next block saves the copy. */
  if (needed > have && !is_allocated(next_block(bp)) && have + size_of(next_block(bp)) >= needed) {
    have += size_of(next_block(bp));
    tag(bp, have, 1);
  }
  if (needed <= have) {
    place(bp, needed);  /* it fits where it is: what is left over is freed */
    return bp;
  }
  char *moved = mm_malloc(size);
  if (moved == NULL) return NULL;
  memcpy(moved, bp, have - 2 * WORD);
  mm_free(bp);
  return moved;
}

/* Checks what the boundary tags promise: every header equals its footer,
 * every payload is 8-aligned, no two free blocks are neighbours, and the
 * blocks tile the heap up to the epilogue. */
int mm_checkheap(int verbose) {
  int previous_free = 0;
  char *bp = first_block;
  for (; size_of(bp) > 0; bp = next_block(bp)) {
    const char *problem = NULL;
    if ((uintptr_t)bp % ALIGN != 0) problem = "a payload is not 8-aligned";
    else if (get(header(bp)) != get(footer(bp))) problem = "a header differs from its footer";
    else if (previous_free && !is_allocated(bp)) problem = "two free blocks are neighbours";
    if (problem != NULL) {
      if (verbose) fprintf(stderr, "mm_checkheap: %s (block at %p)\n", problem, (void *)bp);
      return 0;
    }
    previous_free = !is_allocated(bp);
  }
  if (bp - 1 != (char *)mem_heap_hi()) {
    if (verbose) fprintf(stderr, "mm_checkheap: the epilogue is not at the end of the heap\n");
    return 0;
  }
  return 1;
}
