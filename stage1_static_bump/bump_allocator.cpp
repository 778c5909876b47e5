#include "stage1_static_bump/bump_allocator.hpp"

#include "stage1_static_bump/misuse.hpp"

namespace heaplab {

BumpAllocator::BumpAllocator() noexcept : claim_(StaticHeapClaim::try_take()) {
  if (!claim_.held()) {
    // Two allocators on one static array would hand out the same bytes.
    // Serve nothing instead (every allocate returns nullptr).
    report_misuse({Misuse::static_heap_taken, nullptr, "BumpAllocator::BumpAllocator"});
    return;
  }
  const std::span<std::byte> heap = claim_.region();
  begin_ = next_ = heap.data();
  end_ = heap.data() + heap.size();
}

BumpAllocator::BumpAllocator(std::span<std::byte> region) noexcept
    : begin_(region.data()), next_(region.data()), end_(region.data() + region.size()) {}

void* BumpAllocator::refuse_bad_request() noexcept {
  ++rejected_;
  return nullptr;
}

void* BumpAllocator::refuse_exhausted() noexcept {
  ++exhausted_;
  return nullptr;
}

void BumpAllocator::deallocate(void* p) noexcept {
  // Nothing to do for our own blocks: a bump heap reclaims memory only in
  // bulk. A pointer we never handed out is a bug in the caller, and cheap to
  // catch: it lies outside [begin_, next_).
  if (p != nullptr && !owns(p)) {
    report_misuse({Misuse::foreign_pointer, p, "BumpAllocator::deallocate"});
  }
}

void BumpAllocator::retire_live_state() noexcept {
  high_water_ = std::max(high_water_, used());
  peak_requested_ = std::max(peak_requested_, requested_);
}

void BumpAllocator::reset() noexcept {
  retire_live_state();
  retired_allocations_ += live_allocations_;
  next_ = begin_;
  requested_ = 0;
  live_allocations_ = 0;
  ++resets_;
}

BumpAllocator::Marker BumpAllocator::mark() const noexcept {
  return {this, used(), requested_, live_allocations_, resets_};
}

void BumpAllocator::rewind(const Marker& marker) noexcept {
  // A marker can only take us back in time, within the same reset epoch.
  const bool from_our_past = marker.owner == this && marker.resets == resets_ &&
                             marker.offset <= used() && marker.requested <= requested_ &&
                             marker.live_allocations <= live_allocations_;
  if (!from_our_past) {
    report_misuse({Misuse::bad_marker, begin_ + std::min(marker.offset, region().size()),
                   "BumpAllocator::rewind"});
    return;
  }
  retire_live_state();
  retired_allocations_ += live_allocations_ - marker.live_allocations;
  next_ = begin_ + marker.offset;
  requested_ = marker.requested;
  live_allocations_ = marker.live_allocations;
}

HeapStats BumpAllocator::stats() const noexcept {
  HeapStats s;
  s.capacity = region().size();
  s.used = used();
  s.requested = requested_;
  s.padding = used() - requested_;
  s.live_allocations = live_allocations_;
  s.high_water = std::max(high_water_, used());
  s.peak_requested = std::max(peak_requested_, requested_);
  s.allocations = retired_allocations_ + live_allocations_;
  s.exhausted = exhausted_;
  s.rejected = rejected_;
  return s;
}

CheckResult BumpAllocator::check() const noexcept {
  return check_bump_heap({begin_, next_, end_, requested_, live_allocations_});
}

// [check]
CheckResult check_bump_heap(const BumpSnapshot& heap) noexcept {
  const std::uintptr_t begin = address_of(heap.begin);
  const std::uintptr_t next = address_of(heap.next);
  if (next < begin || address_of(heap.end) < next) {
    return CheckResult::fail("start <= next <= end", next - begin);
  }
  const std::size_t used = next - begin;
  if (used != 0 && !is_aligned(heap.next, kDefaultAlignment)) {
    return CheckResult::fail("next is 8-byte aligned", used);
  }
  if (heap.requested > used) {
    return CheckResult::fail("requested bytes <= used bytes", used);
  }
  if (heap.live_allocations > used / kDefaultAlignment) {
    return CheckResult::fail("every allocation uses at least one 8-byte cell", used);
  }
  if (heap.live_allocations == 0 && used != 0) {
    return CheckResult::fail("no live allocation means nothing used", used);
  }
  return CheckResult::pass();
}
// [check]

bool BumpAllocator::owns(const void* p) const noexcept {
  return address_in(p, begin_, next_);
}

}  // namespace heaplab
