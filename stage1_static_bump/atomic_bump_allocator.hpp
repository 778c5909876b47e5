/// \file
/// A lock-free bump allocator: the bump pointer is a `std::atomic` moved with
/// compare-and-swap, so any number of threads allocate without a lock.
///
///     thread A: load next ──► compute step ──► CAS(next: old → new) ✓
///     thread B: load next ──► compute step ──► CAS fails (A moved next)
///                             └─ retry with the value the CAS returned
///
/// Each thread's CAS either moves the pointer from exactly the value it
/// computed from, or fails and retries; two threads can never get the same
/// bytes. The step arithmetic is the one in bump_step(), shared with
/// BumpAllocator.
#pragma once

#include <atomic>
#include <cstddef>
#include <span>

#include "stage1_static_bump/bump_allocator.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/static_heap.hpp"

namespace heaplab {

/// Bump allocation from many threads at once, without a lock.
///
/// allocate(), deallocate(), owns() and stats() may run concurrently.
/// reset() and check() need quiescence: no allocate() running at the same
/// time (check() would otherwise see counters a moment behind the pointer).
class AtomicBumpAllocator {
 public:
  /// Uses the static 10 MiB heap; reports Misuse::static_heap_taken if another allocator holds it.
  AtomicBumpAllocator() noexcept;
  /// Uses \p region, which the caller keeps alive, trimmed to whole 8-byte cells (see whole_cells()).
  explicit AtomicBumpAllocator(std::span<std::byte> region) noexcept;
  AtomicBumpAllocator(const AtomicBumpAllocator&) = delete;
  AtomicBumpAllocator& operator=(const AtomicBumpAllocator&) = delete;
  ~AtomicBumpAllocator() = default;  ///< Gives the static heap back if this allocator held it.

  /// As BumpAllocator::allocate(), safe to call from many threads.
  [[nodiscard]] void* allocate(std::size_t size, std::size_t align = kDefaultAlignment) noexcept;
  /// A no-op for our blocks; foreign pointers are reported (see BumpAllocator::deallocate()).
  void deallocate(void* p) noexcept;
  /// Releases everything. Requires that no other thread is allocating.
  void reset() noexcept;

  /// The numbers of the contract; a consistent snapshot only when quiescent.
  [[nodiscard]] HeapStats stats() const noexcept;
  /// Verifies the bump heap's invariants. Requires quiescence.
  [[nodiscard]] CheckResult check() const noexcept;
  /// True when \p p points into a block already handed out.
  [[nodiscard]] bool owns(const void* p) const noexcept;

  /// Calls \p visit with the used part, then the free part, of the region.
  template <class Visitor>
  void for_each_block(Visitor&& visit) const {
    const std::size_t used_now = used();
    if (used_now > 0) visit(BlockView{0, 0, used_now, BlockState::allocated});
    if (used_now < capacity()) visit(BlockView{0, used_now, capacity() - used_now, BlockState::free});
  }

  /// Bytes consumed so far.
  [[nodiscard]] std::size_t used() const noexcept {
    return static_cast<std::size_t>(next_.load(std::memory_order_acquire) - begin_);
  }
  /// Size of the region in bytes.
  [[nodiscard]] std::size_t capacity() const noexcept { return static_cast<std::size_t>(end_ - begin_); }

 private:
  StaticHeapClaim claim_;                  ///< Holds the static heap when default-constructed.
  std::byte* begin_ = nullptr;             ///< Start of the region; never changes.
  std::byte* end_ = nullptr;               ///< One past the region; never changes.
  std::atomic<std::byte*> next_{nullptr};  ///< The bump pointer. Invariant: begin_ <= next_ <= end_.
  // Counters are updated with relaxed atomics after the pointer moves: they
  // are statistics, not synchronisation, and agree with it once quiescent.
  std::atomic<std::size_t> requested_{0};         ///< Bytes asked for since reset.
  std::atomic<std::size_t> live_allocations_{0};  ///< Allocations since reset.
  std::atomic<std::size_t> exhausted_{0};         ///< Requests refused for lack of room.
  std::atomic<std::size_t> rejected_{0};          ///< Requests refused for bad size or alignment.
  LifetimeStats lifetime_;                        ///< Peaks and totals; updated by reset().
};

static_assert(Allocator<AtomicBumpAllocator>);

}  // namespace heaplab
