#include "stage1_static_bump/atomic_bump_allocator.hpp"

#include <algorithm>

#include "stage1_static_bump/misuse.hpp"

namespace heaplab {

AtomicBumpAllocator::AtomicBumpAllocator() noexcept : claim_(StaticHeapClaim::try_take()) {
  if (!claim_.held()) {
    report_misuse({Misuse::static_heap_taken, nullptr, "AtomicBumpAllocator::AtomicBumpAllocator"});
    return;
  }
  const std::span<std::byte> heap = claim_.region();
  begin_ = heap.data();
  end_ = heap.data() + heap.size();
  next_.store(begin_, std::memory_order_relaxed);
}

AtomicBumpAllocator::AtomicBumpAllocator(std::span<std::byte> region) noexcept {
  const std::span<std::byte> cells = whole_cells(region);
  begin_ = cells.data();
  end_ = cells.data() + cells.size();
  next_.store(begin_, std::memory_order_relaxed);
}

// [atomic_allocate]
void* AtomicBumpAllocator::allocate(std::size_t size, std::size_t align) noexcept {
  if (!is_valid_request(size, align)) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  std::byte* seen = next_.load(std::memory_order_relaxed);
  BumpStep step;
  do {
    step = bump_step(seen, end_, size, align);
    if (!step.fits) {
      exhausted_.fetch_add(1, std::memory_order_relaxed);
      return nullptr;
    }
    // On failure the CAS stores the pointer another thread just published
    // into `seen`, and the loop recomputes the step from there.
  } while (!next_.compare_exchange_weak(seen, step.new_next, std::memory_order_acq_rel,
                                        std::memory_order_relaxed));
  requested_.fetch_add(size, std::memory_order_relaxed);
  live_allocations_.fetch_add(1, std::memory_order_relaxed);
  return step.block;
}
// [atomic_allocate]

void AtomicBumpAllocator::deallocate(void* p) noexcept {
  if (p != nullptr && !owns(p)) {
    report_misuse({Misuse::foreign_pointer, p, "AtomicBumpAllocator::deallocate"});
  }
}

void AtomicBumpAllocator::reset() noexcept {
  lifetime_.before_release(used(), requested_.load(std::memory_order_relaxed),
                           live_allocations_.load(std::memory_order_relaxed));
  live_allocations_.store(0, std::memory_order_relaxed);
  requested_.store(0, std::memory_order_relaxed);
  next_.store(begin_, std::memory_order_release);
}

HeapStats AtomicBumpAllocator::stats() const noexcept {
  HeapStats s;
  s.capacity = capacity();
  s.used = used();
  s.requested = std::min(requested_.load(std::memory_order_relaxed), s.used);
  s.padding = s.used - s.requested;
  s.live_allocations = live_allocations_.load(std::memory_order_relaxed);
  s.exhausted = exhausted_.load(std::memory_order_relaxed);
  s.rejected = rejected_.load(std::memory_order_relaxed);
  return lifetime_.complete(s);
}

CheckResult AtomicBumpAllocator::check() const noexcept {
  return check_bump_heap({begin_, next_.load(std::memory_order_acquire), end_,
                          requested_.load(std::memory_order_relaxed),
                          live_allocations_.load(std::memory_order_relaxed)});
}

bool AtomicBumpAllocator::owns(const void* p) const noexcept {
  return address_in(p, begin_, next_.load(std::memory_order_acquire));
}

}  // namespace heaplab
