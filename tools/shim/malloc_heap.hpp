/// \file
/// MallocHeap: what any allocator of the course needs to become a C heap.
///
/// The course's allocators already refuse bad sizes, return unique
/// pointers for size 0 and report misuse. C's malloc promises three more
/// things, and MallocHeap adds them, once, for every allocator:
///
/// 1. Every pointer is aligned to `alignof(std::max_align_t)` (16 on
///    x86-64), because the caller may store a `long double` in it; the
///    course's default alignment is 8.
/// 2. The size of a block can be found from the pointer alone (for
///    realloc and malloc_usable_size): allocators that cannot tell are
///    wrapped in SizedBlocks.
/// 3. Any thread may call at any time: one lock (HeapLock) around the
///    allocator, unless the allocator locks what it shares itself
///    (SelfLockingHeap: chapter 5's thread caches).
///
/// The copying of realloc and the zeroing of calloc run outside the lock:
/// the bytes being copied or cleared belong to the calling thread alone.
/// So does a misuse report, when the shim asks for it (hold_misuse()): the
/// default one ends in abort(), whose SIGABRT handler may call malloc.
///
/// One more thing is about speed, not correctness: requests are rounded up
/// to whole 16-byte units, so that the heap stays in 16-byte steps (see
/// request_size()).
///
/// C's own rules, errno, `realloc(p, 0)` and glibc's treatment of odd
/// alignments, are the entry points' business (malloc_api.cpp); MallocHeap
/// keeps the course's contract, so that it is one more allocator.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <optional>
#include <type_traits>
#include <utility>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/misuse.hpp"
#include "stage2_free_list/block.hpp"
#include "stage2_free_list/free_list_allocator.hpp"
#include "tools/shim/heap_lock.hpp"
#include "tools/shim/sized_blocks.hpp"

namespace heaplab::shim {

/// What a MallocHeap has served, counted as blocks change hands.
struct MallocCounts {
  /// Blocks handed out: by allocate(), allocate_zeroed(), and reallocate()
  /// when it returns a new block (from null, or moved).
  std::size_t allocations = 0;
  /// Non-null pointers given back: by deallocate(), and by reallocate()
  /// for the old block of a move. With no misuse, `allocations - frees`
  /// is the number of live blocks.
  std::size_t frees = 0;
};

/// Bytes an allocated block of \p A keeps after its payload: the footer
/// of chapter 4's tag layout (A::tags_type) where allocated blocks keep
/// one; none for every other allocator.
template <class A>
[[nodiscard]] constexpr std::size_t allocated_block_footer() noexcept {
  if constexpr (requires { A::tags_type::kAllocatedFooterBytes; }) {
    return A::tags_type::kAllocatedFooterBytes;
  } else {
    return 0;
  }
}

// [self_locking]
/// An allocator that is safe to call from any thread by itself (chapter
/// 5's ThreadCaches): it locks what its threads share, keeps a misuse
/// report made under its lock until the lock is released (hold_misuse()),
/// and holds its lock across fork(). MallocHeap adds no lock of its own
/// in front of one: a second lock would put back the cost its thread
/// caches take away.
template <class A>
concept SelfLockingHeap = requires(A& a, const MisuseReport& report) {
  { a.hold_misuse(report) } -> std::same_as<bool>;
  a.lock_for_fork();
  a.unlock_after_fork();
};
// [self_locking]

/// A C heap over the allocator \p A: malloc's alignment, block sizes from
/// a pointer, one lock (none for a SelfLockingHeap), and the counts of the
/// report (see the file comment).
/// Models heaplab::Allocator and heaplab::Reallocating. \p A is built in
/// place from the constructor's arguments.
template <Allocator A>
class MallocHeap {
 public:
  /// The allocator that holds the blocks: \p A itself when it knows its
  /// block sizes (chapter 2 on), else \p A behind SizedBlocks (chapter 1).
  using Blocks = std::conditional_t<KnowsBlockSizes<A>, A, SizedBlocks<A>>;
  /// The least alignment of every block: malloc's.
  static constexpr std::size_t kMinAlignment = kMallocAlignment;

  /// Builds the allocator from \p args.
  template <class... Args>
  explicit MallocHeap(Args&&... args) noexcept(noexcept(Blocks(std::forward<Args>(args)...)))
      : blocks_(std::forward<Args>(args)...) {}
  MallocHeap(const MallocHeap&) = delete;
  MallocHeap& operator=(const MallocHeap&) = delete;

  // [request_size]
  /// What MallocHeap asks its allocator for when the caller asks for
  /// \p size bytes: enough whole 16-byte units that the block, with its
  /// header (and footer), is a multiple of 16 bytes, and at least 48 bytes.
  ///
  /// Why: the course's allocators cut blocks in 8-byte cells behind a
  /// 16-byte header. With sizes as they come, about half of the blocks, and
  /// so half of the free ones, have payloads on an odd multiple of 8, which
  /// no 16-aligned request can use as they are: each one must be skipped,
  /// or cut with a gap in front. On an allocation-heavy program (python3
  /// with PYTHONMALLOC=malloc), chapter 5's segregated fits then ran for
  /// more than two minutes; with the rounding they take about as long as
  /// glibc, three seconds. With blocks in multiples of 16, a block that
  /// starts where an aligned one ended is aligned too, and the heap stays
  /// aligned from one block to the next. The price: up to 15 bytes more
  /// per block, which the allocator counts as requested.
  ///
  /// Not for SizedBlocks, which rounds its payloads itself and counts the
  /// caller's sizes; nor for a SelfLockingHeap, whose size classes are
  /// whole 16-byte units already; nor for sizes above kMaxRequest, which
  /// the allocator refuses as they are.
  [[nodiscard]] static constexpr std::size_t request_size(std::size_t size) noexcept {
    if constexpr (!KnowsBlockSizes<A> || SelfLockingHeap<A>) {  // they round their blocks themselves
      return size;
    } else {
      // Chapter 2's header, and chapter 4's footer where allocated blocks
      // keep one; 48 is the first multiple of 16 above chapter 4's
      // smallest block (40 bytes).
      constexpr std::size_t kOverhead = kHeaderSize + allocated_block_footer<A>();
      constexpr std::size_t kSmallestBlock = 3 * kMinAlignment;
      if (size > kMaxRequest) return size;
      return std::max(round_up(size + kOverhead, kMinAlignment), kSmallestBlock) - kOverhead;
    }
  }
  // [request_size]

  /// Returns \p size bytes aligned to `max(align, kMinAlignment)`, or
  /// nullptr (the contract: a size above kMaxRequest, an alignment that is
  /// not a power of two, or no room).
  [[nodiscard]] void* allocate(std::size_t size, std::size_t align = kMinAlignment) noexcept {
    const Call call(*this);
    void* const p = blocks_.allocate(request_size(size), std::max(align, kMinAlignment));
    if (p != nullptr) count_allocation();
    return p;
  }

  /// Returns \p count * \p size zeroed bytes, or nullptr when the product
  /// overflows or cannot be served, like calloc.
  [[nodiscard]] void* allocate_zeroed(std::size_t count, std::size_t size) noexcept {
    // Chapter 2's calloc arithmetic, over this heap's allocate() (malloc's
    // alignment, and the counts); the zeroing runs outside the lock. An
    // overflow is the caller's to see (NULL, and errno in the C entry
    // points), not one of the allocator's counters.
    std::size_t overflows = 0;
    const auto allocate_bytes = [this](std::size_t bytes) { return allocate(bytes); };
    return allocate_zeroed_with(count, size, overflows, allocate_bytes);
  }

  // [reallocate]
  /// Resizes the block at \p p to \p size bytes, keeping its contents up
  /// to the smaller size. `reallocate(nullptr, n)` is `allocate(n)`;
  /// `reallocate(p, 0)` keeps a block. Returns nullptr, with the block
  /// untouched, when no block can hold \p size bytes or \p p is misuse
  /// (reported).
  ///
  /// Chapters 2 to 5 resize in place where they can (chapter 4 grows into
  /// a free neighbour, shrinks by splitting the tail off) and move the
  /// block otherwise; they are asked to move it with malloc's alignment,
  /// since C promises 16 for every pointer realloc returns.
  [[nodiscard]] void* reallocate(void* p, std::size_t size) noexcept {
    if constexpr (requires(A& a, void* q, std::size_t n) { a.reallocate(q, n, n); }) {
      const Call call(*this);
      void* const resized = blocks_.reallocate(p, request_size(size), kMinAlignment);
      if (resized != nullptr && resized != p) {
        count_allocation();
        if (p != nullptr) count_free();
      }
      return resized;
    } else {
      return move_to_larger_block(p, size);
    }
  }
  // [reallocate]

  /// reallocate() for an allocator with no resizing of its own (chapter
  /// 1's bump heap behind SizedBlocks): the block stays where it is when it
  /// already holds \p size bytes (its usable size); otherwise it moves to a
  /// new block, copied outside the lock, and the old one is freed.
  [[nodiscard]] void* move_to_larger_block(void* p, std::size_t size) noexcept {
    if (p == nullptr) return allocate(size);
    const std::size_t usable = usable_size(p);
    if (usable == 0) return nullptr;  // misuse, reported: no live block has 0 usable bytes
    if (size <= usable) return p;
    void* const moved = allocate(size);  // first, so that a failure leaves p intact
    if (moved == nullptr) return nullptr;
    std::memcpy(moved, p, usable);
    deallocate(p);
    return moved;
  }

  /// Gives the block at \p p back (nullptr: nothing happens). Misuse is
  /// reported by the allocator and changes nothing.
  void deallocate(void* p) noexcept {
    if (p == nullptr) return;
    const Call call(*this);
    count_free();
    blocks_.deallocate(p);
  }

  /// malloc()'s first try: the block when the allocator served \p size
  /// bytes on a path that makes no system call (chapter 5's thread caches:
  /// ThreadCaches::allocate_cached()), so that errno needs no handling;
  /// null, with nothing done, when allocate() must be called, and always
  /// for an allocator without such a path. Only a SelfLockingHeap has one:
  /// it takes no lock here and counts nothing, as allocate() does for it.
  [[nodiscard, gnu::always_inline]] void* allocate_cached(std::size_t size) noexcept {
    if constexpr (SelfLockingHeap<A> && requires { blocks_.allocate_cached(size, kMinAlignment); }) {
      return blocks_.allocate_cached(request_size(size), kMinAlignment);
    } else {
      return nullptr;
    }
  }

  /// free()'s first try: true when the allocator gave the block at \p p
  /// back on a path that makes no system call (chapter 5's thread caches:
  /// ThreadCaches::deallocate_cached()), so that errno needs no saving;
  /// false, with nothing done, when deallocate() must be called, and
  /// always for an allocator without such a path (as allocate_cached()).
  [[nodiscard, gnu::always_inline]] bool deallocate_cached(void* p) noexcept {
    if constexpr (SelfLockingHeap<A> && requires { blocks_.deallocate_cached(p); }) {
      return blocks_.deallocate_cached(p);
    } else {
      return false;
    }
  }

  /// Bytes the caller may use at \p p (malloc_usable_size): at least what
  /// was asked for, never 0 for a live block. 0 for null, and for misuse
  /// (reported).
  [[nodiscard]] std::size_t usable_size(void* p) noexcept {
    if (p == nullptr) return 0;
    const Call call(*this);
    return blocks_.usable_size(p);
  }

  /// Blocks handed out and given back so far.
  [[nodiscard]] MallocCounts counts() const noexcept {
    if constexpr (SelfLockingHeap<A>) {
      // Its own lifetime count, and the blocks no longer live: a shared
      // counter, touched by every thread's every call, would be the one
      // cache line all threads fight over.
      const auto s = blocks_.stats();
      return {s.allocations, s.allocations - s.live_allocations};
    } else {
      return {allocations_.load(std::memory_order_relaxed), frees_.load(std::memory_order_relaxed)};
    }
  }

  /// The allocator's numbers (a consistent snapshot, under the lock).
  [[nodiscard]] auto stats() const noexcept {
    const Call call(*this);
    return blocks_.stats();
  }
  /// The allocator's check(), under the lock.
  [[nodiscard]] CheckResult check() const noexcept {
    const Call call(*this);
    return blocks_.check();
  }
  /// The allocator's owns(), under the lock.
  [[nodiscard]] bool owns(const void* p) const noexcept {
    const Call call(*this);
    return blocks_.owns(p);
  }
  /// The allocator's block walk, under the lock; \p visit must not
  /// allocate from this heap.
  template <class Visitor>
  void for_each_block(Visitor&& visit) const {
    const Call call(*this);
    blocks_.for_each_block(std::forward<Visitor>(visit));
  }

  // [hold_misuse]
  /// For a misuse handler: keeps \p report, made by the allocator while
  /// this thread holds the heap's lock, until the lock is released, and
  /// then makes it again (report_misuse()), on a heap nobody holds. Returns
  /// false, keeping nothing, when this thread does not hold the lock: the
  /// handler must then deal with the report itself.
  ///
  /// Why: the default handler aborts, and abort() runs the program's
  /// SIGABRT handler, which may allocate (a crash reporter's
  /// backtrace_symbols() does); with the lock still held, that malloc
  /// would wait for it forever. glibc runs the handler; so must a shim.
  /// The allocator still returns as the contract says a reported misuse
  /// returns, with the heap unchanged, before the report is delivered.
  [[nodiscard]] bool hold_misuse(const MisuseReport& report) noexcept {
    if constexpr (SelfLockingHeap<A>) {
      return blocks_.hold_misuse(report);
    } else {
      return calls_.hold_misuse(report);
    }
  }
  // [hold_misuse]

  /// fork()'s prepare step: the heap's lock, so that the child does not
  /// inherit a heap another thread is changing (HeapLock::lock_for_fork()).
  /// No other call may be made before unlock_after_fork().
  void lock_for_fork() noexcept {
    if constexpr (SelfLockingHeap<A>) {
      blocks_.lock_for_fork();
    } else {
      calls_.lock_for_fork();
    }
  }
  /// fork()'s parent and child steps: undoes lock_for_fork().
  void unlock_after_fork() noexcept {
    if constexpr (SelfLockingHeap<A>) {
      blocks_.unlock_after_fork();
    } else {
      calls_.unlock_after_fork();
    }
  }

 private:
  /// One call into the heap, under the lock (HeapCalls::Call).
  class LockedCall : HeapCalls<HeapLock>::Call {
   public:
    /// Takes \p heap's lock.
    explicit LockedCall(const MallocHeap& heap) noexcept : HeapCalls<HeapLock>::Call(heap.calls_) {}
  };
  /// One call into a SelfLockingHeap: nothing to take, the allocator
  /// locks what it shares.
  struct UnlockedCall {
    /// Takes nothing.
    explicit UnlockedCall(const MallocHeap& /*heap*/) noexcept {}
  };
  /// What each call into the heap holds while it runs.
  using Call = std::conditional_t<SelfLockingHeap<A>, UnlockedCall, LockedCall>;

  HeapCalls<HeapLock> calls_;                            ///< The lock, held for every call to blocks_, and a held report.
  Blocks blocks_;                                        ///< The blocks; only touched under the lock.
  std::atomic<std::size_t> allocations_ = 0;             ///< MallocCounts::allocations.
  std::atomic<std::size_t> frees_ = 0;                   ///< MallocCounts::frees.

  /// Counts a block handed out (not for a SelfLockingHeap: see counts()).
  void count_allocation() noexcept {
    if constexpr (!SelfLockingHeap<A>) allocations_.fetch_add(1, std::memory_order_relaxed);
  }
  /// Counts a block given back (not for a SelfLockingHeap: see counts()).
  void count_free() noexcept {
    if constexpr (!SelfLockingHeap<A>) frees_.fetch_add(1, std::memory_order_relaxed);
  }
};

}  // namespace heaplab::shim
