/* Broken on purpose: a request of more than 1000 bytes writes through a
 * null pointer. The lab answers "crashed (SIGSEGV) at line N of ..." and
 * goes on with the other allocators. */
#include "broken.h"

void *mm_malloc(size_t size) {
  if (size > 1000) {
    char *volatile nowhere = NULL; /* volatile: the compiler cannot see it is null and trap instead */
    *nowhere = 1;
  }
  return example_malloc(size);
}

int mm_checkheap(int verbose) { return example_checkheap(verbose); }
