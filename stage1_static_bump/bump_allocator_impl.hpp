/// \file
/// The member functions of heaplab::BasicBumpAllocator that are not inline,
/// in a header so that any bump step can be instantiated: the course's own
/// once, in bump_allocator.cpp, and a learner's in their your_turn/ folder.
/// Include it only where the allocator is instantiated; everyone else
/// includes bump_allocator.hpp.
#pragma once

#include <algorithm>

#include "stage1_static_bump/bump_allocator.hpp"
#include "stage1_static_bump/misuse.hpp"

namespace heaplab {

template <BumpStepFunction Step>
BasicBumpAllocator<Step>::BasicBumpAllocator() noexcept : claim_(StaticHeapClaim::try_take()) {
  if (!claim_.held()) {
    // Two allocators on one static array would hand out the same bytes.
    // Serve nothing instead (every allocate returns nullptr).
    report_misuse({Misuse::static_heap_taken, nullptr, "BumpAllocator::BumpAllocator"});
    return;
  }
  const std::span<std::byte> heap = claim_.region();  // max_align_t-aligned: nothing to trim
  begin_ = live_.next = heap.data();
  end_ = heap.data() + heap.size();
  poison_unused();
}

template <BumpStepFunction Step>
BasicBumpAllocator<Step>::BasicBumpAllocator(std::span<std::byte> region) noexcept {
  const std::span<std::byte> cells = whole_cells(region);
  begin_ = live_.next = cells.data();
  end_ = cells.data() + cells.size();
  poison_unused();
}

template <BumpStepFunction Step>
void BasicBumpAllocator<Step>::deallocate(void* p) noexcept {
  // Nothing to do for our own blocks: a bump heap reclaims memory only in
  // bulk. A pointer we never handed out is a bug in the caller, and cheap to
  // catch: it lies outside [begin_, next).
  if (p != nullptr && !owns(p)) {
    report_misuse({Misuse::foreign_pointer, p, "BumpAllocator::deallocate"});
  }
}

template <BumpStepFunction Step>
typename BasicBumpAllocator<Step>::Marker BasicBumpAllocator<Step>::mark() const noexcept {
  return {this, used(), requested_bytes(), live_.allocations, resets_};
}

template <BumpStepFunction Step>
void BasicBumpAllocator<Step>::rewind(const Marker& marker) noexcept {
  // A marker can only take us back in time, within the same reset epoch.
  const bool from_our_past = marker.owner == this && marker.resets == resets_ &&
                             marker.offset <= used() && marker.requested <= marker.offset &&
                             marker.requested <= requested_bytes() &&
                             marker.live_allocations <= live_.allocations;
  if (!from_our_past) {
    report_misuse({Misuse::bad_marker, begin_ + std::min(marker.offset, region().size()),
                   "BumpAllocator::rewind"});
    return;
  }
  lifetime_.before_release(used(), requested_bytes(), live_.allocations - marker.live_allocations);
  live_ = {begin_ + marker.offset, marker.offset - marker.requested, marker.live_allocations};
  poison_unused();
}

template <BumpStepFunction Step>
HeapStats BasicBumpAllocator<Step>::live_stats() const noexcept {
  HeapStats s;
  s.capacity = region().size();
  s.used = used();
  s.requested = requested_bytes();
  s.padding = live_.padding;
  s.live_allocations = live_.allocations;
  s.exhausted = exhausted_;
  s.rejected = rejected_;
  return s;
}

template <BumpStepFunction Step>
HeapStats BasicBumpAllocator<Step>::stats() const noexcept {
  return lifetime_.complete(live_stats());
}

template <BumpStepFunction Step>
CheckResult BasicBumpAllocator<Step>::check() const noexcept {
  // A padding count larger than the heap wraps requested_bytes() around to
  // a huge number, which the "requested <= used" invariant then reports.
  return check_bump_heap({begin_, live_.next, end_, requested_bytes(), live_.allocations});
}

template <BumpStepFunction Step>
bool BasicBumpAllocator<Step>::owns(const void* p) const noexcept {
  return address_in(p, begin_, live_.next);
}

}  // namespace heaplab
