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
  const std::span<std::byte> heap = claim_.region();  // max_align_t-aligned: nothing to trim
  begin_ = live_.next = heap.data();
  end_ = heap.data() + heap.size();
  poison_unused();
}

BumpAllocator::BumpAllocator(std::span<std::byte> region) noexcept {
  const std::span<std::byte> cells = whole_cells(region);
  begin_ = live_.next = cells.data();
  end_ = cells.data() + cells.size();
  poison_unused();
}

std::span<std::byte> whole_cells(std::span<std::byte> region) noexcept {
  const std::size_t lead_in = padding_to_align(address_of(region.data()), kDefaultAlignment);
  if (lead_in >= region.size()) return {};
  const std::size_t cells = (region.size() - lead_in) / kDefaultAlignment;
  return region.subspan(lead_in, cells * kDefaultAlignment);
}

void BumpAllocator::deallocate(void* p) noexcept {
  // Nothing to do for our own blocks: a bump heap reclaims memory only in
  // bulk. A pointer we never handed out is a bug in the caller, and cheap to
  // catch: it lies outside [begin_, next).
  if (p != nullptr && !owns(p)) {
    report_misuse({Misuse::foreign_pointer, p, "BumpAllocator::deallocate"});
  }
}

BumpAllocator::Marker BumpAllocator::mark() const noexcept {
  return {this, used(), requested_bytes(), live_.allocations, resets_};
}

void BumpAllocator::rewind(const Marker& marker) noexcept {
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

HeapStats BumpAllocator::live_stats() const noexcept {
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

HeapStats BumpAllocator::stats() const noexcept { return lifetime_.complete(live_stats()); }

CheckResult BumpAllocator::check() const noexcept {
  // A padding count larger than the heap wraps requested_bytes() around to
  // a huge number, which the "requested <= used" invariant then reports.
  return check_bump_heap({begin_, live_.next, end_, requested_bytes(), live_.allocations});
}

// [check]
CheckResult check_bump_heap(const BumpSnapshot& heap) noexcept {
  const std::uintptr_t begin = address_of(heap.begin);
  const std::uintptr_t next = address_of(heap.next);
  if (next < begin || address_of(heap.end) < next) {
    return CheckResult::fail("start <= next <= end", next - begin);
  }
  const std::size_t used = next - begin;
  if (!is_aligned(heap.begin, kDefaultAlignment) || !is_aligned(heap.end, kDefaultAlignment)) {
    return CheckResult::fail("the region is whole 8-byte cells", 0);
  }
  if (!is_aligned(heap.next, kDefaultAlignment)) {
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
  return address_in(p, begin_, live_.next);
}

}  // namespace heaplab
