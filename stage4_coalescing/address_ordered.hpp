/// \file
/// Refinement: the free list kept in address order.
///
///     LIFO:           head -> [ $900 ] -> [ $100 ] -> [ $500 ] -> null   (last freed first)
///     address order:  head -> [ $100 ] -> [ $500 ] -> [ $900 ] -> null
///
/// First fit over an address-ordered list takes the lowest block that fits,
/// which behaves like best fit on real workloads (Johnstone & Wilson, 1998)
/// and keeps the low end of the heap dense, so the high end stays free to
/// merge. The price: an insertion walks the list to its place, O(n) where
/// LIFO is O(1). What is new is insert() and the order check; everything
/// else is LinkedFreeList.
#pragma once

#include <string_view>

#include "stage1_static_bump/align.hpp"
#include "stage4_coalescing/coalescing_allocator.hpp"
#include "stage4_coalescing/linked_free_list.hpp"

namespace heaplab {

// [address_ordered]
/// A doubly linked free list sorted by address.
class AddressOrderedList : public LinkedFreeList {
 public:
  /// Puts the free block \p block where it keeps the list sorted.
  void insert(BlockHeader& block) noexcept { link_after(last_below(block), block); }

  /// The invariant of list order that \p block, listed after \p before,
  /// breaks (empty when none).
  [[nodiscard]] static std::string_view broken_order(const BlockHeader* before, const BlockHeader& block) noexcept {
    return before == nullptr || address_of(before) < address_of(&block) ? std::string_view{}
                                                                          : "an address-ordered list is sorted by address";
  }

 private:
  /// The last block on the list below \p block's address, or null.
  [[nodiscard]] BlockHeader* last_below(const BlockHeader& block) const noexcept {
    BlockHeader* before = nullptr;
    for (BlockHeader* at = head(); at != nullptr && address_of(at) < address_of(&block); at = next(*at)) before = at;
    return before;
  }
};
// [address_ordered]

/// First fit over an address-ordered list.
using AddressOrderedFirstFit = CoalescingAllocator<FitList<FirstFit, AddressOrderedList>>;
extern template class CoalescingAllocator<FitList<FirstFit, AddressOrderedList>>;

}  // namespace heaplab
