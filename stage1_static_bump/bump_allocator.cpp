// Chapter 1's bump allocator, instantiated once here over the course's
// bump step (the member functions are in bump_allocator_impl.hpp), and the
// functions every bump heap of the course shares.
#include "stage1_static_bump/bump_allocator.hpp"

#include "stage1_static_bump/bump_allocator_impl.hpp"

namespace heaplab {

template class BasicBumpAllocator<&bump_step>;

std::span<std::byte> whole_cells(std::span<std::byte> region) noexcept {
  const std::size_t lead_in = padding_to_align(address_of(region.data()), kDefaultAlignment);
  if (lead_in >= region.size()) return {};
  const std::size_t cells = (region.size() - lead_in) / kDefaultAlignment;
  return region.subspan(lead_in, cells * kDefaultAlignment);
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

}  // namespace heaplab
