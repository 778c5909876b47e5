/// \file
/// The implicit free list: no links at all. Every block's size field says
/// where the next block starts, so a search walks the whole heap from the
/// start, allocated blocks included, reading the allocated bit of each.
///
///     start                                                          break
///       v                                                              v
///       +--------+------+--------+------+--------+------+--------+------+
///       | hdr  A | data | hdr  F |      | hdr  A | data | hdr  F |      |
///       +--------+------+--------+------+--------+------+--------+------+
///       \______________/\______________/\______________/\______________/
///        + size          + size          + size          + size
///
/// It costs nothing to keep (freeing only clears a bit) and a search costs
/// one step per block in the heap. ExplicitFreeList pays a link per free
/// block to visit free blocks only; chapter 2's benchmark measures the two.
#pragma once

#include <cstddef>

#include "stage1_static_bump/contract.hpp"
#include "stage2_free_list/block.hpp"
#include "stage2_free_list/block_heap.hpp"

namespace heaplab {

/// The free blocks of a BlockHeap, found by walking every block.
class ImplicitFreeList {
 public:
  /// Bytes of links a free block holds: none.
  static constexpr std::size_t kLinkBytes = 0;

  /// Nothing to link: the cleared allocated bit is all the list there is.
  /// Only the tally changes.
  void insert(BlockHeader& block) noexcept { tally_.add(block); }

  /// First fit: returns the first block in address order that is free and
  /// can serve \p request bytes aligned to \p align, whole; null if none
  /// can. Adds the number of blocks looked at, allocated ones included, to
  /// \p visited.
  [[nodiscard]] BlockHeader* take(BlockHeap& heap, std::size_t request, std::size_t align,
                                  std::size_t& visited) noexcept;

  /// How many blocks, and bytes, are free.
  [[nodiscard]] const FreeTally& tally() const noexcept { return tally_; }

  /// Always passes: the heap walk of BlockHeap::check() already verifies
  /// everything this list consists of.
  [[nodiscard]] CheckResult check(const BlockHeap& /*heap*/, std::size_t /*free_blocks*/) const noexcept {
    return CheckResult::pass();
  }

 private:
  FreeTally tally_;  ///< Invariant: the number and bytes of the free blocks.
};

}  // namespace heaplab
