/* Broken on purpose: a request of more than 1000 bytes writes through a
 * null pointer. The lab answers "crashed (SIGSEGV) at line N of ..." and
 * goes on with the other allocators. */
#include "broken.h"

/* Not checked for null by UBSan (the sanitize builds): it would report the
 * write and end the process itself, where a learner's build crashes with
 * SIGSEGV, which is what the lab's tests are about. */
__attribute__((no_sanitize("null"))) static void write_through_null(void) {
  /* The pointer volatile: the compiler cannot see it is null and trap
   * instead. The byte volatile too: an optimising GCC drops a plain store
   * whose address it traces back to no object, and nothing would crash. */
  volatile char *volatile nowhere = NULL;
  *nowhere = 1;
}

void *mm_malloc(size_t size) {
  if (size > 1000) write_through_null();
  return example_malloc(size);
}

int mm_checkheap(int verbose) { return example_checkheap(verbose); }
