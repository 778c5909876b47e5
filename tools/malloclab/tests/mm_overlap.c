/* Broken on purpose: the third block handed out is the second one again,
 * while the second is still live. The lab answers "the block overlaps block
 * N, which is still live" at the line of the third allocation. */
#include "broken.h"

static unsigned long calls; /* to mm_malloc, so far */

void *mm_malloc(size_t size) {
  static void *second;
  ++calls;
  if (calls == 3) return second;
  void *p = example_malloc(size);
  if (calls == 2) second = p;
  return p;
}

int mm_checkheap(int verbose) { return example_checkheap(verbose); }
