/// \file
/// A cache per thread in front of the small pages: ThreadCaches keeps, for
/// each thread and size class, a short list of free slots, so that most
/// mallocs and frees of small blocks take no lock at all. Everything else
/// goes to the pages (and the heap behind them) under one lock.
///
///     thread 0's cache               thread 1's cache
///     class 0: [] -> [] -> []  (3)   class 0: []  (1)
///     class 1: (empty)               class 1: [] -> []  (2)
///     ...                            ...
///        |  refill: up to half, one lock       ^
///        v  flush: half a list, one lock       |
///     +----------------------------------------+---------------+
///     |  lock  | SmallPages (pages, page map) | heap behind    |
///     +----------------------------------------+---------------+
///
///     malloc (small, this thread has a slot)    free (a slot of a page of ours)
///       1. pop the class's list: no lock          1. the page map finds the page: no lock
///       2. set the slot's record to size + 1      2. the page's check (record != 0, a
///       3. empty list: refill a batch from           slot start): shared with SmallPages
///          the pages, under the lock, once        3. record to 0, push: no lock
///                                                 4. list past its capacity: flush
///                                                    half back, under the lock, once
///
/// A list links its free slots through their first word (glibc's tcache,
/// tcmalloc's per-thread free lists). A free pushes onto the *freeing*
/// thread's list, whichever thread allocated the block (tcmalloc does the
/// same): a producer thread's blocks end in the consumer's cache, and the
/// flushes take them back to their pages. The record is the one truth about
/// a slot in either place, so a double free is caught the same way whether
/// the block went to a cache or to its page.
///
/// A cache is found from the thread's slot (thread_slots.hpp) in an array
/// per heap; it is made on the thread's first small call, from the process's
/// chunk source (not from the heap: the user's numbers do not see it), and
/// emptied back into the pages when the thread exits.
///
/// Thread-safe by itself: the lock (\p Lock, HeapLock by default) guards the
/// pages and the heap behind; a cache is touched by its own thread only,
/// but for its counters, which stats() reads under the lock from any thread
/// (relaxed atomics with one writer each). A misuse report made under the
/// lock is delivered after the lock is released (hold_misuse()), as
/// MallocHeap does in the malloc shim.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <optional>
#include <span>
#include <utility>

#include "stage1_static_bump/chunk_source.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/misuse.hpp"
#include "stage2_free_list/free_list_allocator.hpp"
#include "stage5_real_malloc/heap_lock.hpp"
#include "stage5_real_malloc/malloc_stats.hpp"
#include "stage5_real_malloc/page_map.hpp"
#include "stage5_real_malloc/size_class_pages.hpp"
#include "stage5_real_malloc/small_page.hpp"
#include "stage5_real_malloc/thread_slots.hpp"

namespace heaplab {

/// A cache per thread in front of \p Pages, a SmallPages heap, with \p Lock
/// around the pages (see the file comment). Models Reallocating; its
/// stats() are MallocStats: exact while one thread uses the heap; with
/// several, each thread's counts are summed when stats() runs, and the
/// peaks are noted when a thread takes the lock, so a peak reached by
/// several threads between two such moments may be missed.
template <class Pages, class Lock = HeapLock>
class ThreadCaches final : private CacheOwner {
 public:
  /// Builds the pages (and the heap behind them) from \p args.
  template <class... Args>
  explicit ThreadCaches(Args&&... args) noexcept : pages_(std::forward<Args>(args)...) {
    register_cache_owner(*this);
  }
  ThreadCaches(const ThreadCaches&) = delete;
  ThreadCaches& operator=(const ThreadCaches&) = delete;
  /// Takes every cache's slots back into the pages, and gives the caches'
  /// memory back. No other thread may use the heap any more.
  ~ThreadCaches();

  /// The most slots a thread's list of class \p c holds: 32 KiB of them,
  /// at most 64 and at least 2.
  [[nodiscard]] static constexpr std::size_t capacity(std::size_t c) noexcept { return kCapacities[c]; }

  /// Returns \p size bytes aligned to `max(align, 8)`, or nullptr (see the
  /// contract): a small request from this thread's cache, anything else
  /// from the pages under the lock.
  [[nodiscard, gnu::always_inline]] inline void* allocate(std::size_t size,
                                                          std::size_t align = kDefaultAlignment) noexcept;
  /// Gives the block at \p p back: a small block to this thread's cache,
  /// anything else to the pages under the lock (nullptr: nothing happens).
  [[gnu::always_inline]] inline void deallocate(void* p) noexcept;
  /// allocate()'s lock-free path alone: a block popped from this thread's
  /// list of the request's class; null, with nothing done, when that path
  /// cannot serve it (not small, no cache, an empty list, the cache in use:
  /// allocate() then does what it must). It makes no system call, so a
  /// malloc() it serves needs no errno handling.
  [[nodiscard, gnu::always_inline]] inline void* allocate_cached(std::size_t size,
                                                                 std::size_t align = kDefaultAlignment) noexcept;
  /// deallocate()'s lock-free path alone: true when \p p was a live slot
  /// of ours, now in this thread's cache, whose list had room; false, with
  /// nothing done, for any other pointer (deallocate() then does what it
  /// must). That path makes no system call, so a free() that it serves
  /// leaves errno alone without saving it.
  [[nodiscard, gnu::always_inline]] inline bool deallocate_cached(void* p) noexcept;
  /// Resizes the block at \p p: a small block to a small size without the
  /// lock (in place within its class, else moved through this thread's
  /// cache), anything else as the pages do, under the lock.
  [[nodiscard]] void* reallocate(void* p, std::size_t size, std::size_t align = kDefaultAlignment) noexcept;
  /// Returns \p count * \p size zeroed bytes, or nullptr when the product
  /// overflows (counted as rejected) or cannot be served, like calloc.
  [[nodiscard]] void* allocate_zeroed(std::size_t count, std::size_t size) noexcept;
  /// Bytes the caller may use at \p p (0 for null and for misuse, reported).
  [[nodiscard]] std::size_t usable_size(void* p) noexcept;

  /// The pages' numbers, with every cache's counts summed in; cached slots
  /// are free to their users (MallocStats::quick_blocks, free_blocks).
  [[nodiscard]] MallocStats stats() const noexcept;
  /// Verifies the pages, then every cache: each listed block a slot of a
  /// page of its class with record 0, as many as counted. While other
  /// threads hold slots, only what the lock guards and the calling
  /// thread's own cache are verified (the other lists are their threads').
  [[nodiscard]] CheckResult check() const noexcept;
  /// True when \p p points into a block of the pages or the heap behind.
  [[nodiscard]] bool owns(const void* p) const noexcept {
    const Call call(*this);
    return pages_.owns(p);
  }
  /// The pages' block walk (a cached slot is free), under the lock.
  template <class Visitor>
  void for_each_block(Visitor&& visit) const {
    const Call call(*this);
    pages_.for_each_block(std::forward<Visitor>(visit));
  }

  /// For a misuse handler: keeps \p report, made while this thread holds
  /// the lock, until the lock is released, and then makes it again; false,
  /// keeping nothing, when this thread does not hold the lock (see
  /// MallocHeap::hold_misuse(): abort()'s SIGABRT handler may call malloc).
  [[nodiscard]] bool hold_misuse(const MisuseReport& report) noexcept { return calls_.hold_misuse(report); }
  /// fork()'s prepare step: the lock, so that the child does not inherit
  /// pages another thread is changing (HeapLock::lock_for_fork()).
  void lock_for_fork() noexcept { calls_.lock_for_fork(); }
  /// fork()'s parent and child steps: undoes lock_for_fork().
  void unlock_after_fork() noexcept { calls_.unlock_after_fork(); }

  /// The pages (for tests; take no lock: use while no other thread runs).
  [[nodiscard]] const Pages& pages() const noexcept { return pages_; }
  /// The lock (for tests that count its acquisitions).
  [[nodiscard]] const Lock& lock() const noexcept { return calls_.lock(); }
  /// Slots in the calling thread's list of class \p c (for tests).
  [[nodiscard]] std::size_t cached(std::size_t c) const noexcept;

 private:
  /// What a cache has done, as the pages count it (SmallPages::InFront);
  /// each field written by the cache's thread only, read by any under the lock.
  struct Counts {
    std::atomic<std::size_t> allocations{0};     ///< Lifetime: blocks handed out.
    std::atomic<std::size_t> frees{0};           ///< Lifetime: blocks taken back (live: allocations - frees).
    std::atomic<std::ptrdiff_t> requested{0};    ///< Requests handed out less requests taken back.
    std::atomic<std::ptrdiff_t> peak{0};         ///< The largest `requested` since the last sync.
  };
  /// One class's list.
  struct Bin {
    void* head = nullptr;               ///< The first free slot; each links the next in its first word.
    std::atomic<std::uint32_t> count{0};  ///< Slots on the list (written by its thread, read by stats()).
    std::uint16_t next_refill = 1;      ///< Slots the next refill asks for (refill()'s slow start).
    std::uint16_t capacity = 0;         ///< capacity() of its class, here so that a free reads one line.
  };
  // [slot_place]
  /// Where a free slot on a list lies: its page, and its index there. A
  /// slot on a list keeps it in its second word (every class holds two
  /// words), the page's address with the index in its low 12 bits (pages
  /// start at 4 KiB boundaries and hold fewer than 4,096 slots):
  ///
  ///     a free slot on a cache's list
  ///     +--------------------+----------------------+------------------+
  ///     | next slot (8)      | page | index (8)     | (rest of slot)   |
  ///     +--------------------+----------------------+------------------+
  ///
  /// so that a pop writes the slot's record with no page-map lookup and no
  /// multiply: the free that pushed the slot knew both already.
  struct Place {
    SmallPage* page;      ///< The slot's page.
    std::uint32_t index;  ///< Its index in the page.

    /// Keeps \p page and \p index in the second word of the free \p slot.
    [[gnu::always_inline]] static void write(void* slot, SmallPage& page, std::uint32_t index) noexcept {
      const std::uintptr_t word = reinterpret_cast<std::uintptr_t>(&page) | index;
      std::memcpy(static_cast<std::byte*>(slot) + sizeof(void*), &word, sizeof word);
    }
    /// The place kept in the second word of the free \p slot.
    [[nodiscard, gnu::always_inline]] static Place read(const void* slot) noexcept {
      std::uintptr_t word = 0;
      std::memcpy(&word, static_cast<const std::byte*>(slot) + sizeof(void*), sizeof word);
      return {reinterpret_cast<SmallPage*>(word & ~kIndexMask), static_cast<std::uint32_t>(word & kIndexMask)};
    }
    /// The low bits of a page's address, which are zero.
    static constexpr std::uintptr_t kIndexMask = PageMap::kGranuleBytes - 1;
  };
  static_assert(SmallClasses::size_of(0) >= 2 * sizeof(void*), "a slot holds its link and its place");
  static_assert(SmallPage::geometry(0).slots <= Place::kIndexMask, "an index fits below the page's address");
  // [slot_place]
  /// One thread's cache.
  struct Cache {
    /// Empty lists, each with its class's capacity.
    Cache() noexcept {
      for (std::size_t c = 0; c < SmallClasses::kCount; ++c) bins[c].capacity = static_cast<std::uint16_t>(capacity(c));
    }
    std::array<Bin, SmallClasses::kCount> bins{};  ///< A list per class.
    Counts now;                                     ///< Its counts.
    typename Pages::InFront synced{};              ///< Its counts as last added to the heap's (under the lock).
    std::atomic<bool> busy{false};                  ///< True while its thread is inside a use (InCache).
  };
  // [in_cache]
  /// One use of the calling thread's cache, which marks it busy from
  /// construction to destruction. A signal handler that calls malloc while
  /// its thread is inside a use would find a list halfway through a change;
  /// it finds the mark instead, and gets the lock's one line and abort(),
  /// as a handler that interrupts a call under the lock does. The signal
  /// fences keep the compiler from moving the lists' changes outside the
  /// mark; no other thread ever reads it.
  class InCache {
   public:
    /// Says that the caller has seen the cache's mark clear.
    struct Idle {};
    /// Marks \p cache busy; aborts when it is already.
    [[gnu::always_inline]] explicit InCache(Cache& cache) noexcept : cache_(cache) {
      if (cache_.busy.load(std::memory_order_relaxed)) [[unlikely]] HeapLock::abort_reentered();
      mark();
    }
    /// Marks \p cache busy, which the fast path found idle (it leaves for
    /// the slow path, which aborts, when it is not).
    [[gnu::always_inline]] InCache(Cache& cache, Idle /*seen*/) noexcept : cache_(cache) { mark(); }
    InCache(const InCache&) = delete;
    InCache& operator=(const InCache&) = delete;
    /// Clears the mark.
    [[gnu::always_inline]] ~InCache() {
      std::atomic_signal_fence(std::memory_order_seq_cst);
      cache_.busy.store(false, std::memory_order_relaxed);
    }

   private:
    [[gnu::always_inline]] void mark() noexcept {
      cache_.busy.store(true, std::memory_order_relaxed);
      std::atomic_signal_fence(std::memory_order_seq_cst);
    }
    Cache& cache_;  ///< The cache in use.
  };
  // [in_cache]
  /// One call under the lock: a held misuse report is delivered after the
  /// lock is released.
  class Call : HeapCalls<Lock>::Call {
   public:
    /// Takes \p heap's lock.
    explicit Call(const ThreadCaches& heap) noexcept : HeapCalls<Lock>::Call(heap.calls_) {}
  };
  /// capacity() of every class, computed once (each list keeps its own
  /// copy, Bin::capacity, for the free's fast path).
  static constexpr std::array<std::uint8_t, SmallClasses::kCount> kCapacities = [] {
    std::array<std::uint8_t, SmallClasses::kCount> capacities{};
    for (std::size_t c = 0; c < capacities.size(); ++c) {
      const std::size_t fit = std::size_t{32} * 1024 / SmallClasses::size_of(c);
      capacities[c] = static_cast<std::uint8_t>(std::clamp<std::size_t>(fit, 2, 64));
    }
    return capacities;
  }();
  /// Bytes of a cache's chunk from the source.
  static constexpr std::size_t kCacheBytes = sizeof(Cache);

  void release_thread(std::size_t slot) noexcept override;
  [[nodiscard]] Cache* this_thread_cache() noexcept;
  [[nodiscard, gnu::always_inline]] inline Cache* own_cache() const noexcept;
  [[nodiscard]] Cache* make_cache(std::size_t slot) noexcept;
  /// The entry of caches_ for \p slot.
  [[nodiscard]] Cache*& cache_of(std::size_t slot) noexcept { return caches_[slot + 1]; }
  [[nodiscard, gnu::always_inline]] inline void* pop(Cache& cache, std::size_t c, std::size_t size) noexcept;
  [[gnu::always_inline]] inline void push(Cache& cache, Bin& bin, SmallPage& page, std::uint32_t i,
                                          std::uint16_t record, void* p) noexcept;
  [[gnu::always_inline]] inline void free_to_cache(Cache& cache, SmallPage& page, void* p) noexcept;
  [[gnu::always_inline]] static inline void note_request(Counts& now, std::ptrdiff_t delta) noexcept;
  [[nodiscard]] void* reallocate_small(Cache& cache, SmallPage& page, void* p, std::size_t size,
                                       std::size_t align) noexcept;
  [[nodiscard, gnu::noinline]] void* allocate_slow(std::size_t size, std::size_t align) noexcept;
  [[gnu::noinline]] void deallocate_slow(void* p) noexcept;
  [[gnu::noinline]] void flush_half(Cache& cache, std::size_t c) noexcept;
  [[nodiscard]] bool refill(Cache& cache, std::size_t c) noexcept;
  void flush(Cache& cache, std::size_t c, std::size_t keep) noexcept;
  void sync(Cache& cache) const noexcept;
  void add_counts(Cache& cache) const noexcept;
  void add_lists(Cache& cache) const noexcept;
  void sync_all() const noexcept;
  [[nodiscard]] CheckResult check_cache(const Cache& cache) const noexcept;

  HeapCalls<Lock> calls_;                               ///< The lock, held for every call to pages_, and a held report.
  mutable Pages pages_;                                 ///< The pages; touched only under the lock (but for records).
  /// Each slot's cache (at slot + 1; cache_of()), or null; set under the
  /// lock. Indexed by the thread's slot + 1, as the thread keeps it, with
  /// both ends always null: entry 0 for a thread with no slot yet, the last
  /// for a thread that has none to have (kNoThreadSlot). So own_cache() is
  /// one load, with no test.
  std::array<Cache*, kThreadSlots + 2> caches_{};
  mutable typename Pages::InFront totals_{};           ///< The caches' counts as last synced (under the lock).
  std::atomic<std::size_t> overflows_{0};               ///< Lifetime: calloc products that overflowed (rejected).
};

}  // namespace heaplab

#include "stage5_real_malloc/thread_caches_impl.hpp"

namespace heaplab {

/// Chapter 5's malloc: small pages in front of two-level fits, with a
/// cache per thread in front of the pages; thread-safe by itself.
using ThreadCachesAllocator = ThreadCaches<SmallPagesAllocator>;

extern template class ThreadCaches<SmallPagesAllocator>;
static_assert(Reallocating<ThreadCachesAllocator>);

}  // namespace heaplab
