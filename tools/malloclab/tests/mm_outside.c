/* Broken on purpose: the second block is a static array, not heap memory.
 * The lab answers "block lies outside the heap". */
#include "broken.h"

static unsigned long calls; /* to mm_malloc, so far */

void *mm_malloc(size_t size) {
  static _Alignas(16) char elsewhere[1 << 16];
  return ++calls == 2 && size <= sizeof elsewhere ? elsewhere : example_malloc(size);
}

int mm_checkheap(int verbose) { return example_checkheap(verbose); }
