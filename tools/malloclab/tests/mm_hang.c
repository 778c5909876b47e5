/* Broken on purpose: the fourth call never returns. The lab kills it at
 * --timeout and answers "did not finish within N s, at line ...". */
#include "broken.h"

static unsigned long calls; /* to mm_malloc, so far */

void *mm_malloc(size_t size) {
  if (++calls == 4) {
    for (volatile int forever = 1; forever;) {
    }
  }
  return example_malloc(size);
}

int mm_checkheap(int verbose) { return example_checkheap(verbose); }
