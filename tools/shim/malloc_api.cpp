// The entry points of a malloc shim: the C library's allocation functions
// over one allocator of the course, declared in heaplab_malloc.h.
//
// This file is compiled once per shim (heaplab_add_malloc_shim() in
// CMakeLists.txt), with the generated heaplab_shim_allocator.hpp naming the
// allocator. The layers, from the program down:
//
//     malloc, free, ...        the standard names (shared library only):
//       |                      the same functions as the heaplab_ ones
//     heaplab_malloc, ...      C's and glibc's rules: errno, realloc(p, 0),
//       |                      odd alignments (this file)
//     MallocHeap<A>            16-byte alignment, block sizes, one lock,
//       |                      counts, misuse reported outside the lock
//       |                      (malloc_heap.hpp)
//     [SizedBlocks<A>]         a size header, for chapter 1's allocators
//       |
//     A                        the course's allocator, on the reservation
//                              (heap_reservation.hpp)
//
// Compiled with -fno-builtin-malloc and -fno-builtin-calloc (see
// CMakeLists.txt): otherwise GCC recognises "allocate, then memset to zero"
// in calloc and turns it into a call to calloc, which is this very function.
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "heaplab_shim_allocator.hpp"
#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/chunk_source.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/misuse.hpp"
#include "tools/shim/heap_reservation.hpp"
#include "tools/shim/heaplab_malloc.h"
#include "tools/shim/immortal.hpp"
#include "tools/shim/malloc_heap.hpp"
#include "tools/shim/report_line.hpp"

namespace {

using heaplab::shim::kShimName;
using heaplab::shim::ShimAllocator;
using Heap = heaplab::shim::MallocHeap<ShimAllocator>;

static_assert(heaplab::Allocator<Heap> && heaplab::Reallocating<Heap>);

/// A heap of allocator \p A on \p region: a chapter-5 allocator also takes
/// memory from \p upstream, for its large blocks, and for new regions past
/// \p region unless the heap's size is \p capped
/// (heaplab::shim::growing_without_cap(), heaplab::shim::large_blocks_only());
/// any other allocator gets the region alone, its lesson being a heap of
/// fixed size. (A template, so that only the branch that fits \p A is
/// compiled.)
template <class A>
heaplab::shim::MallocHeap<A> heap_on(std::span<std::byte> region, [[maybe_unused]] heaplab::ChunkSource& upstream,
                                     [[maybe_unused]] bool capped) noexcept {
  if constexpr (std::is_constructible_v<A, std::span<std::byte>, heaplab::Upstream>) {
    return heaplab::shim::MallocHeap<A>(region, capped ? heaplab::shim::large_blocks_only(upstream, region.size())
                                                       : heaplab::shim::growing_without_cap(upstream));
  } else {
    return heaplab::shim::MallocHeap<A>(region);
  }
}

/// The misuse handler that was installed before the shim's: the default
/// one, which writes the report's line and aborts.
heaplab::MisuseHandler outer_misuse_handler = &heaplab::abort_on_misuse;

void report_outside_the_heap(const heaplab::MisuseReport& report) noexcept;

/// Everything a shim keeps: built by the first call, never destroyed.
struct Shim {
  /// Builds the heap on \p region, the reservation, its size a cap when
  /// \p capped, and installs the shim's misuse handler.
  Shim(std::span<std::byte> region, bool capped) noexcept
      : reserved_bytes(region.size()), heap(heap_on<ShimAllocator>(region, upstream, capped)) {
    outer_misuse_handler = heaplab::set_misuse_handler(&report_outside_the_heap);
  }

  heaplab::MmapChunkSource upstream;      ///< Mappings for large blocks, and for regions past the reservation.
  std::size_t reserved_bytes;             ///< Bytes of the reservation.
  Heap heap;                              ///< The heap on the reservation.
};

// [first_call]
/// The shim once it is built; null before.
std::atomic<Shim*> built{nullptr};

/// The shim, built by the first call from any thread (a function-local
/// static: the compiler makes concurrent first calls wait for one to
/// finish). Building it allocates nothing, so it cannot recurse into malloc.
[[gnu::noinline]] Shim& build_shim() noexcept {
  static heaplab::shim::Immortal<Shim> instance(
      heaplab::shim::reserve_heap(heaplab::shim::heap_size_from_environment()), heaplab::shim::heap_size_capped());
  built.store(&instance.get(), std::memory_order_release);
  return instance.get();
}

/// The shim: once built, one load (an acquire load is a plain load on
/// x86-64), where the function-local static alone costs a call and a check
/// of its guard on every malloc and free.
[[gnu::always_inline]] inline Shim& shim() noexcept {
  if (Shim* const s = built.load(std::memory_order_acquire)) [[likely]] return *s;
  return build_shim();
}
// [first_call]

/// The shim's misuse handler: a report the allocator makes inside a call
/// waits until the call has released the heap's lock
/// (heaplab::shim::MallocHeap::hold_misuse()); any other report, and that
/// one when it comes again, goes to the handler installed before, which
/// writes one line and aborts.
void report_outside_the_heap(const heaplab::MisuseReport& report) noexcept {
  if (!shim().heap.hold_misuse(report)) outer_misuse_handler(report);
}

/// \p p, with errno set to ENOMEM when it is null: how malloc fails.
void* or_enomem(void* p) noexcept {
  if (p == nullptr) errno = ENOMEM;
  return p;
}

/// Puts errno back as it was at construction when the scope ends: free()
/// must not change it, nor a posix_memalign() that succeeds, and munmap()
/// or mmap() inside the allocator may.
class KeepErrno {
 public:
  KeepErrno() noexcept = default;
  KeepErrno(const KeepErrno&) = delete;
  KeepErrno& operator=(const KeepErrno&) = delete;
  ~KeepErrno() { errno = saved_; }

 private:
  int saved_ = errno;  ///< errno at construction.
};

/// malloc() of a request the allocator's lock-free path does not serve
/// (every request, for most allocators; the first call, which builds the
/// shim): ENOMEM when none is left. Out of line, as free_slowly() below.
[[gnu::noinline]] void* malloc_slowly(std::size_t size) noexcept { return or_enomem(shim().heap.allocate(size)); }

/// free() of a block the allocator's lock-free path does not take (every
/// block, for most allocators): errno kept, as munmap() or a wait for the
/// lock may change it. Out of line, so that the common path before it
/// saves no register.
[[gnu::noinline]] void free_slowly(void* ptr) noexcept {
  const KeepErrno keep;
  shim().heap.deallocate(ptr);
}

// [glibc_alignment]
/// An alignment as glibc 2.36's memalign reads it (_mid_memalign in
/// malloc/malloc.c), for memalign, aligned_alloc, valloc and pvalloc.
struct MemalignRequest {
  bool valid = false;         ///< False: fail with EINVAL.
  std::size_t alignment = 0;  ///< The alignment to serve (when valid).
};

MemalignRequest glibc_memalign_alignment(std::size_t alignment) noexcept {
  // No more than malloc gives anyway: served as malloc (0 included).
  if (alignment <= Heap::kMinAlignment) return {true, Heap::kMinAlignment};
  // Above the largest power of two there is nothing to round up to.
  if (alignment > SIZE_MAX / 2 + 1) return {false, 0};
  // Not a power of two: the next one up (glibc's loop of doublings).
  return {true, std::bit_ceil(alignment)};
}

/// posix_memalign's rule (POSIX, and glibc): a power of two multiple of
/// sizeof(void*), so 0, 4, 12 and 24 are all EINVAL.
bool is_posix_memalign_alignment(std::size_t alignment) noexcept {
  return alignment % sizeof(void*) == 0 && heaplab::is_power_of_two(alignment / sizeof(void*));
}
// [glibc_alignment]

/// The page size, for valloc and pvalloc.
std::size_t page_size() noexcept { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }

/// The report line, with the numbers now.
heaplab::Line report_line() noexcept {
  const Shim& s = shim();
  const heaplab::shim::MallocCounts counts = s.heap.counts();
  const auto heap = s.heap.stats();
  return heaplab::shim::format_report(
      {kShimName, counts.allocations, counts.frees, heap.high_water, heap.peak_requested});
}

// ---------------------------------------------------------------- fork and exit

/// Whether to write the report at exit: HEAPLAB_REPORT, read at load time
/// (a program may empty its environment before it exits).
bool report_at_exit = false;
/// Where the report goes: standard error as it was at load time.
heaplab::shim::SavedStderr report_channel;

// [fork]
/// fork() copies the heap as it is at that instant. Holding the heap's lock
/// across the fork means no other thread is halfway through changing it,
/// so the child gets a whole heap, and a lock it can release (a fork from
/// a signal handler that interrupted this thread's own call is the
/// exception: see HeapLock::lock_for_fork()).
void before_fork() noexcept { shim().heap.lock_for_fork(); }
void after_fork() noexcept { shim().heap.unlock_after_fork(); }

/// Runs when the library is loaded, before main(). The fork handlers are
/// registered here, not in the first malloc: pthread_atfork() may itself
/// call malloc, which would then wait for its own first call to finish.
[[gnu::constructor]] void on_load() noexcept {
  report_at_exit = heaplab::shim::report_requested();
  if (report_at_exit) report_channel.save();
  ::pthread_atfork(&before_fork, &after_fork, &after_fork);
}
// [fork]

/// Runs when the program exits (after main() and the atexit handlers):
/// the report, if asked for. The heap itself is never destroyed, so frees
/// from later destructors still work.
[[gnu::destructor]] void on_unload() noexcept {
  if (report_at_exit) report_channel.write(report_line());
}

}  // namespace

// ---------------------------------------------------------------- the C functions

extern "C" {

void* heaplab_malloc(size_t size) noexcept {
  if (Shim* const s = built.load(std::memory_order_acquire)) [[likely]] {
    if (void* const p = s->heap.allocate_cached(size)) return p;  // no system call, no errno to set
  }
  return malloc_slowly(size);
}

void heaplab_free(void* ptr) noexcept {
  if (ptr == nullptr) return;
  if (Shim* const s = built.load(std::memory_order_acquire)) [[likely]] {
    if (s->heap.deallocate_cached(ptr)) return;  // no system call on that path: errno is as it was
  }
  free_slowly(ptr);
}

void* heaplab_calloc(size_t count, size_t size) noexcept {
  return or_enomem(shim().heap.allocate_zeroed(count, size));
}

void* heaplab_realloc(void* ptr, size_t size) noexcept {
  if (ptr == nullptr) return heaplab_malloc(size);
  if (size == 0) {  // glibc frees, and returns NULL (C17 leaves it to the library)
    heaplab_free(ptr);
    return nullptr;
  }
  return or_enomem(shim().heap.reallocate(ptr, size));
}

void* heaplab_reallocarray(void* ptr, size_t count, size_t size) noexcept {
  size_t bytes = 0;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  return heaplab_realloc(ptr, bytes);
}

void* heaplab_memalign(size_t alignment, size_t size) noexcept {
  const MemalignRequest request = glibc_memalign_alignment(alignment);
  if (!request.valid) {
    errno = EINVAL;
    return nullptr;
  }
  return or_enomem(shim().heap.allocate(size, request.alignment));
}

int heaplab_posix_memalign(void** memptr, size_t alignment, size_t size) noexcept {
  if (!is_posix_memalign_alignment(alignment)) return EINVAL;  // errno untouched, as in glibc
  void* p = nullptr;
  {
    const KeepErrno keep;
    p = shim().heap.allocate(size, alignment);
  }
  // The answer is the return value; glibc's posix_memalign also leaves
  // errno at ENOMEM when it fails, and programs may read either.
  if (p == nullptr) {
    errno = ENOMEM;
    return ENOMEM;
  }
  *memptr = p;
  return 0;
}

void* heaplab_aligned_alloc(size_t alignment, size_t size) noexcept { return heaplab_memalign(alignment, size); }

void* heaplab_valloc(size_t size) noexcept { return heaplab_memalign(page_size(), size); }

void* heaplab_pvalloc(size_t size) noexcept {
  const std::size_t page = page_size();
  if (size > SIZE_MAX - (page - 1)) {
    errno = ENOMEM;
    return nullptr;
  }
  return heaplab_memalign(page, heaplab::round_up(size, page));
}

size_t heaplab_malloc_usable_size(void* ptr) noexcept { return shim().heap.usable_size(ptr); }

const char* heaplab_malloc_name(void) noexcept { return kShimName; }

void heaplab_malloc_read_stats(struct heaplab_malloc_stats* stats) noexcept {
  const Shim& s = shim();
  const heaplab::shim::MallocCounts counts = s.heap.counts();
  const auto heap = s.heap.stats();
  *stats = {counts.allocations, counts.frees,     heap.used,        heap.requested,
            heap.high_water,    heap.peak_requested, s.reserved_bytes};
}

int heaplab_malloc_check(void) noexcept {
  const heaplab::CheckResult result = shim().heap.check();
  if (result) return 1;
  heaplab::Line line;
  line << "heaplab malloc (" << kShimName << "): check() failed: " << result.failed_invariant << " at offset "
       << result.offset << "\n";
  line.write_to(STDERR_FILENO);
  return 0;
}

void heaplab_malloc_report(int fd) noexcept { report_line().write_to(fd); }

}  // extern "C"

#if !defined(HEAPLAB_SHIM_PREFIX_ONLY)
// [standard_names]
// The standard names, for LD_PRELOAD: each one is another name for the
// heaplab_ function above (an ELF alias: one function, two symbols), so a
// program's call to malloc, and the C library's own, land in the shim.
extern "C" {
HEAPLAB_MALLOC_API void* malloc(size_t size) noexcept __attribute__((alias("heaplab_malloc")));
HEAPLAB_MALLOC_API void free(void* ptr) noexcept __attribute__((alias("heaplab_free")));
HEAPLAB_MALLOC_API void* calloc(size_t count, size_t size) noexcept __attribute__((alias("heaplab_calloc")));
HEAPLAB_MALLOC_API void* realloc(void* ptr, size_t size) noexcept __attribute__((alias("heaplab_realloc")));
HEAPLAB_MALLOC_API void* reallocarray(void* ptr, size_t count, size_t size) noexcept
    __attribute__((alias("heaplab_reallocarray")));
HEAPLAB_MALLOC_API void* memalign(size_t alignment, size_t size) noexcept __attribute__((alias("heaplab_memalign")));
HEAPLAB_MALLOC_API int posix_memalign(void** memptr, size_t alignment, size_t size) noexcept
    __attribute__((alias("heaplab_posix_memalign")));
HEAPLAB_MALLOC_API void* aligned_alloc(size_t alignment, size_t size) noexcept
    __attribute__((alias("heaplab_aligned_alloc")));
HEAPLAB_MALLOC_API void* valloc(size_t size) noexcept __attribute__((alias("heaplab_valloc")));
HEAPLAB_MALLOC_API void* pvalloc(size_t size) noexcept __attribute__((alias("heaplab_pvalloc")));
HEAPLAB_MALLOC_API size_t malloc_usable_size(void* ptr) noexcept __attribute__((alias("heaplab_malloc_usable_size")));
}
// [standard_names]
#endif
