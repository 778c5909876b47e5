/// \file
/// Chapter 3's free list: chapter 2's explicit list, searched by a
/// placement policy, with the chosen block split to the size asked for.
///
///     before:  [ hdr F |            free block of 200 bytes              ]
///     take 48: [ hdr A | 32 payload ][ hdr F |   152 bytes, back on the list ]
///                 handed out            the remainder: a free block of its own
///
/// A remainder smaller than the smallest block (kMinBlockSize, 24 bytes)
/// cannot hold a header and a link, so it stays with the allocation: those
/// bytes are *internal fragmentation*, handed out but never asked for.
#pragma once

#include <cstddef>
#include <string_view>

#include "stage1_static_bump/contract.hpp"
#include "stage2_free_list/block.hpp"
#include "stage2_free_list/block_heap.hpp"
#include "stage2_free_list/explicit_free_list.hpp"
#include "stage3_fit_strategies/placement.hpp"

namespace heaplab {

/// Splits the free \p block into its first \p first_size bytes, which stay
/// \p block, and a new free block with the rest, which is returned.
/// Precondition: both parts are whole cells of at least kMinBlockSize.
BlockHeader& split_block(BlockHeap& heap, BlockHeader& block, std::size_t first_size) noexcept;

/// The free blocks of a BlockHeap on an explicit LIFO list, searched by
/// \p Policy (FirstFit, NextFit, BestFit or WorstFit) and split to fit.
template <class Policy>
class FitFreeList {
 public:
  /// The name of the allocator built on this list.
  static constexpr std::string_view kAllocatorName = Policy::kAllocatorName;

  /// Puts the free block \p block on the list.
  void insert(BlockHeader& block) noexcept { list_.insert(block); }

  /// Takes the block \p Policy chooses off the list and splits it: a front
  /// gap kept for alignment and a large enough tail go back on the list.
  /// Returns the block to hand out (still marked free), or null when no
  /// block fits. Adds the blocks looked at to \p visited.
  // [take]
  [[nodiscard]] BlockHeader* take(BlockHeap& heap, std::size_t request, std::size_t align,
                                  std::size_t& visited) noexcept {
    const auto place = [&](BlockHeader& block) { return place_in(block, request, align); };
    const Choice choice = policy_.choose(list_, place, visited);
    if (choice.block == nullptr) return nullptr;
    policy_.forget(choice.previous, *choice.block);
    list_.unlink(choice.previous, *choice.block);
    return split_to_fit(heap, *choice.block, choice.placement);
  }
  // [take]

  /// How many blocks, and bytes, the list holds.
  [[nodiscard]] const FreeTally& tally() const noexcept { return list_.tally(); }

  /// Verifies the list (see ExplicitFreeList::check()) and, for next fit,
  /// that the rover is on it.
  [[nodiscard]] CheckResult check(const BlockHeap& heap, std::size_t free_blocks) const noexcept {
    if (const CheckResult listed = list_.check(heap, free_blocks); !listed) return listed;
    if constexpr (requires { policy_.rover(); }) {
      if (!rover_on_list()) return CheckResult::fail("the rover is on the free list", heap.used());
    }
    return CheckResult::pass();
  }

  /// The list itself (for diagrams and tools).
  [[nodiscard]] const ExplicitFreeList& list() const noexcept { return list_; }
  /// The policy (for diagrams and tests: the next-fit rover).
  [[nodiscard]] const Policy& policy() const noexcept { return policy_; }

 private:
  // [split_to_fit]
  /// Cuts the block handed out from \p chosen, which is off the list.
  BlockHeader* split_to_fit(BlockHeap& heap, BlockHeader& chosen, const Placement& placement) noexcept {
    BlockHeader* block = &chosen;
    if (placement.front_gap != 0) {
      // The gap in front stays free: `chosen` keeps it, and the block to
      // hand out begins where the payload is aligned.
      block = &split_block(heap, chosen, placement.front_gap);
      list_.insert(chosen);
    }
    if (block_size(*block) - placement.needed >= kMinBlockSize) {
      list_.insert(split_block(heap, *block, placement.needed));
    }
    // Otherwise the tail is too small to be a block: it stays with the
    // allocation, as internal fragmentation.
    return block;
  }
  // [split_to_fit]

  /// True when the next-fit rover is null or a block on the list.
  [[nodiscard]] bool rover_on_list() const noexcept {
    const BlockHeader* const rover = policy_.rover();
    if (rover == nullptr) return true;
    bool found = false;
    list_.for_each([&](const BlockHeader& block) { found = found || &block == rover; });
    return found;
  }

  ExplicitFreeList list_;  ///< The free blocks, LIFO. Invariant: exactly the blocks not marked allocated.
  Policy policy_;          ///< Chooses the block; next fit keeps its rover here.
};

}  // namespace heaplab
