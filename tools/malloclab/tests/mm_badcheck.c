/* Broken on purpose: the heap is sound, but mm_checkheap says otherwise
 * from the third call on. `heaplab replay --check` answers "check() failed:
 * "mm_checkheap(0) returned 0"" at the line of the third operation. */
#include "broken.h"

static unsigned long calls; /* to mm_checkheap, so far */

void *mm_malloc(size_t size) { return example_malloc(size); }

int mm_checkheap(int verbose) {
  (void)verbose;
  return ++calls < 3;
}
