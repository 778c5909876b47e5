/* Broken on purpose: the third call to mm_malloc writes a byte into the
 * block the second call handed out, which is still live (as an allocator
 * that writes a free-list link into the wrong block would). The lab
 * answers "the block's bytes changed while it was live" at the line that
 * next names that block. */
#include "broken.h"

static unsigned long calls; /* to mm_malloc, so far */

void *mm_malloc(size_t size) {
  static unsigned char *second;
  ++calls;
  void *p = example_malloc(size);
  if (calls == 2) second = p;
  if (calls == 3) second[0] ^= 0xff;
  return p;
}

int mm_checkheap(int verbose) { return example_checkheap(verbose); }
