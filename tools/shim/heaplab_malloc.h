/** \file
 * The C interface of the course's malloc shims: the C library's allocation
 * functions under `heaplab_` names, and a look at the heap behind them.
 *
 * Every shim (`heaplab_add_malloc_shim()` in tools/shim/CMakeLists.txt)
 * is built twice:
 * - `libheaplab-malloc-<name>.so`, for `LD_PRELOAD`: it defines these
 *   functions *and* the standard names (`malloc`, `free`, ...) as the same
 *   functions, so every allocation of the program lands in the course's
 *   allocator;
 * - a static library defining only the `heaplab_` names, for programs and
 *   tests that call the shim next to the C library's malloc.
 *
 * The functions follow the GNU C Library 2.36 (Debian 12), function by
 * function below, with two course-wide promises: every pointer is aligned
 * to 16 bytes (`alignof(max_align_t)`), and misuse (a double free, a
 * pointer that is not from this heap) is reported with one line on
 * standard error and stops the program, as glibc does.
 *
 * The heap starts as one reservation of `HEAPLAB_HEAP_SIZE` bytes (1 GiB
 * by default; a suffix K, M or G may follow the number), taken at the first
 * call and committed page by page as it is touched. Chapter 5's shims grow
 * past it while the system gives memory, unless `HEAPLAB_HEAP_SIZE` is
 * set: then it is a cap, past which malloc fails with ENOMEM. The other
 * shims' heap is the reservation alone. With `HEAPLAB_REPORT`
 * set to anything but "" or "0", one line is written to standard error
 * when the program exits (see heaplab_malloc_report()).
 */
#ifndef HEAPLAB_MALLOC_H
#define HEAPLAB_MALLOC_H

#include <stddef.h>

/** Exports a function from the shim's shared library, which hides every
 *  other name (the allocators inside cannot clash with a program's). */
#define HEAPLAB_MALLOC_API __attribute__((visibility("default")))

#ifdef __cplusplus
/** "Throws no exception": `noexcept` in C++, as the C library declares
 *  its own functions. */
#define HEAPLAB_MALLOC_NOTHROW noexcept
extern "C" {
#else
/** Nothing in C, which has no exceptions. */
#define HEAPLAB_MALLOC_NOTHROW
#endif

/** `size` bytes, or NULL with errno = ENOMEM. `size` 0 gives a unique
 *  pointer that free() accepts; a size above PTRDIFF_MAX gives NULL. */
HEAPLAB_MALLOC_API void* heaplab_malloc(size_t size) HEAPLAB_MALLOC_NOTHROW;

/** Gives back a block from any function of this heap; NULL does nothing.
 *  errno is the same after the call as before it. */
HEAPLAB_MALLOC_API void heaplab_free(void* ptr) HEAPLAB_MALLOC_NOTHROW;

/** `count` * `size` zeroed bytes, or NULL with errno = ENOMEM, also when
 *  the product overflows. */
HEAPLAB_MALLOC_API void* heaplab_calloc(size_t count, size_t size) HEAPLAB_MALLOC_NOTHROW;

/** Resizes the block at `ptr` to `size` bytes, keeping its contents up to
 *  the smaller size; the block may move. `ptr` NULL: as malloc(size).
 *  `size` 0 with `ptr` not NULL: frees `ptr` and returns NULL (glibc's
 *  documented behaviour). On failure returns NULL with errno = ENOMEM and
 *  leaves the block as it was. */
HEAPLAB_MALLOC_API void* heaplab_realloc(void* ptr, size_t size) HEAPLAB_MALLOC_NOTHROW;

/** realloc(ptr, count * size), except that a product that overflows gives
 *  NULL with errno = ENOMEM and leaves the block as it was. */
HEAPLAB_MALLOC_API void* heaplab_reallocarray(void* ptr, size_t count, size_t size) HEAPLAB_MALLOC_NOTHROW;

/** `size` bytes aligned to `alignment`, as glibc 2.36 reads it: an
 *  alignment of 16 or less is malloc's (16); one that is not a power of
 *  two is rounded up to the next power of two; one above SIZE_MAX / 2 + 1
 *  (which no power of two is) gives NULL with errno = EINVAL. Otherwise
 *  NULL with errno = ENOMEM when there is no room. */
HEAPLAB_MALLOC_API void* heaplab_memalign(size_t alignment, size_t size) HEAPLAB_MALLOC_NOTHROW;

/** Stores in `*memptr` `size` bytes aligned to `alignment` and returns 0.
 *  Returns EINVAL, storing nothing, when `alignment` is not a power of two
 *  multiple of sizeof(void*); ENOMEM, storing nothing, when there is no
 *  room. errno is never changed. */
HEAPLAB_MALLOC_API int heaplab_posix_memalign(void** memptr, size_t alignment, size_t size) HEAPLAB_MALLOC_NOTHROW;

/** As heaplab_memalign(): in glibc 2.36, aligned_alloc is memalign (it
 *  accepts any alignment and any size, by the rules above). */
HEAPLAB_MALLOC_API void* heaplab_aligned_alloc(size_t alignment, size_t size) HEAPLAB_MALLOC_NOTHROW;

/** heaplab_memalign(page size, `size`). */
HEAPLAB_MALLOC_API void* heaplab_valloc(size_t size) HEAPLAB_MALLOC_NOTHROW;

/** heaplab_memalign(page size, `size` rounded up to whole pages); a size
 *  that overflows when rounded gives NULL with errno = ENOMEM. */
HEAPLAB_MALLOC_API void* heaplab_pvalloc(size_t size) HEAPLAB_MALLOC_NOTHROW;

/** Bytes the caller may use at `ptr`: at least what was asked for (the
 *  block's whole payload). 0 for NULL. */
HEAPLAB_MALLOC_API size_t heaplab_malloc_usable_size(void* ptr) HEAPLAB_MALLOC_NOTHROW;

/** The shim's name, e.g. "quick-fit" or "bump": the `<name>` of its library. */
HEAPLAB_MALLOC_API const char* heaplab_malloc_name(void) HEAPLAB_MALLOC_NOTHROW;

/** The numbers behind the report line, read in-process. */
struct heaplab_malloc_stats {
  /** Blocks handed out: malloc, calloc, the memalign family, and realloc
   *  when it returns a new block (from NULL, or moved). The report's N. */
  size_t allocations;
  /** Non-null pointers given back: free, realloc(ptr, 0), and the old
   *  block of a realloc that moved. The report's F. With no misuse,
   *  `allocations - frees` blocks are live. */
  size_t frees;
  /** Bytes of heap in use now, headers and padding included. */
  size_t used_bytes;
  /** Bytes asked for by the live blocks, as the shim asks its allocator:
   *  for chapter 2 to 4's allocators, each request rounded up so that its
   *  block is a multiple of 16 bytes (MallocHeap::request_size()). */
  size_t requested_bytes;
  /** The largest `used_bytes` so far: the report's peak heap. */
  size_t peak_heap_bytes;
  /** The largest `requested_bytes` so far; divided by `peak_heap_bytes`,
   *  the report's utilization. */
  size_t peak_requested_bytes;
  /** Bytes of the heap's reservation: HEAPLAB_HEAP_SIZE, in whole pages. */
  size_t reserved_bytes;
};

/** Fills `*stats` with the heap's numbers now (one consistent snapshot). */
HEAPLAB_MALLOC_API void heaplab_malloc_read_stats(struct heaplab_malloc_stats* stats) HEAPLAB_MALLOC_NOTHROW;

/** Runs the allocator's check(): 1 when every invariant of the heap holds,
 *  0 (after one line naming the broken one on standard error) otherwise. */
HEAPLAB_MALLOC_API int heaplab_malloc_check(void) HEAPLAB_MALLOC_NOTHROW;

/** Writes the report line to the file descriptor `fd`, with write(2):
 *
 *      heaplab malloc (<name>): <N> allocations served, <F> frees, peak heap <B> bytes, utilization <U>%
 *
 *  N, F and B as in heaplab_malloc_stats; U is peak_requested_bytes /
 *  peak_heap_bytes in percent, with one decimal. Both builds of a shim
 *  write it to standard error at exit when HEAPLAB_REPORT asks for it. */
HEAPLAB_MALLOC_API void heaplab_malloc_report(int fd) HEAPLAB_MALLOC_NOTHROW;

#ifdef __cplusplus
}
#endif

#endif /* HEAPLAB_MALLOC_H */
