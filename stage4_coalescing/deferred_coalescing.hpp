/// \file
/// Refinement: deferred coalescing. A freed block goes on the list as it
/// is, and free neighbours merge only when an allocation finds no block
/// that fits: one pass over the heap merges every run of free blocks, and
/// the search runs again.
///
///     free(b):   [A][F][b][A]  ->  [A][F][F][A]     b listed, not merged
///     stuck:     [A][F][F][A]  ->  [A][  F  ][A]    one pass, then search again
///
/// A free costs a list insertion and nothing more, and a block that is
/// freed and soon asked for again at the same size (the common case) was
/// never merged only to be split again. The price: the list holds more,
/// smaller blocks, so searches are longer, and a pass costs O(blocks).
/// What is new is the Merging piece; the allocator is unchanged.
#pragma once

#include <cstddef>

#include "stage4_coalescing/coalescing_allocator.hpp"
#include "stage4_coalescing/tagged_heap.hpp"

namespace heaplab {

// [deferred]
/// When free neighbours merge: only when an allocation would otherwise
/// fail (or move the break).
class DeferredCoalescing {
 public:
  /// Free blocks may lie side by side until the next pass.
  static constexpr bool kNeighboursAlwaysMerged = false;

  /// Lists the free \p block unmerged.
  template <class Heap, class FreeBlocks>
  void give_back(Heap& /*heap*/, FreeBlocks& free, BlockHeader& block) noexcept {
    free.insert(block);
    ++unmerged_;
  }
  /// Lists \p piece, cut off by a split, unmerged like any freed block.
  template <class Heap, class FreeBlocks>
  void list_piece(Heap& heap, FreeBlocks& free, BlockHeader& piece) noexcept {
    give_back(heap, free, piece);
  }
  /// The merging put off, done now that it pays: every run of adjacent
  /// free blocks of \p heap becomes one block. False when no block was
  /// listed since the last pass (nothing can have become mergeable).
  template <class Heap, class FreeBlocks>
  [[nodiscard]] bool merge_put_off(Heap& heap, FreeBlocks& free) noexcept {
    if (unmerged_ == 0) return false;
    unmerged_ = 0;
    ++passes_;
    heap.for_each_header([&](BlockHeader& block) {
      if (is_allocated(block) || is_allocated(next_block(block))) return;
      free.remove(block);
      while (!is_allocated(next_block(block))) heap.merge_next(free, block);
      free.insert(block);
    });
    return true;
  }
  /// Whole-heap merge passes so far.
  [[nodiscard]] std::size_t passes() const noexcept { return passes_; }

 private:
  std::size_t unmerged_ = 0;  ///< Blocks listed without merging since the last pass.
  std::size_t passes_ = 0;    ///< Lifetime: merge passes.
};
// [deferred]

/// First fit, merging only when an allocation would fail.
using DeferredFirstFit = CoalescingAllocator<FitList<FirstFit>, FooterTags, DeferredCoalescing>;
extern template class CoalescingAllocator<FitList<FirstFit>, FooterTags, DeferredCoalescing>;

}  // namespace heaplab
