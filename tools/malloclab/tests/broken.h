/*
 * broken.h: the example mm.c with one deliberate fault, for the tests of
 * the lab's answers. A broken mm.c includes this file, which compiles the
 * example with its mm_malloc renamed example_malloc (and its mm_checkheap
 * example_checkheap), then defines the faulty mm_malloc (or mm_checkheap)
 * around it: the fault is all a broken file holds.
 */
#ifndef HEAPLAB_MALLOCLAB_BROKEN_H
#define HEAPLAB_MALLOCLAB_BROKEN_H

#include "mm.h"

#define mm_malloc example_malloc
#define mm_checkheap example_checkheap
#include "../example/mm.c"
#undef mm_malloc
#undef mm_checkheap


#endif
