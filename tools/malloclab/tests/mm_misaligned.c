/* Broken on purpose: the second block starts 4 bytes into the one mm_malloc
 * found. The lab answers "block is not 8-byte aligned". */
#include "broken.h"

static unsigned long calls; /* to mm_malloc, so far */

void *mm_malloc(size_t size) {
  char *p = example_malloc(size + 4);
  return ++calls == 2 && p != NULL ? p + 4 : p;
}

int mm_checkheap(int verbose) { return example_checkheap(verbose); }
