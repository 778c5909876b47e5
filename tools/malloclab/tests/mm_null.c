/* Broken on purpose: the fourth call returns NULL, with the heap far from
 * full. The lab answers "mm_malloc returned NULL at line N (X bytes
 * requested, Y bytes of the heap never used)". */
#include "broken.h"

static unsigned long calls; /* to mm_malloc, so far */

void *mm_malloc(size_t size) { return ++calls == 4 ? NULL : example_malloc(size); }

int mm_checkheap(int verbose) { return example_checkheap(verbose); }
