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

// [split_to_fit]
/// Cuts the block to hand out from \p chosen, a free block off its list,
/// as \p placement says: a front gap kept for alignment, and a tail of at
/// least \p min_block bytes, are cut off with \p split (which cuts a block
/// in two and returns the second piece) and stay free: \p keep_free takes
/// each. Written once for every chapter that splits; chapter 4 passes its
/// own split (which writes boundary tags) and its own way to keep a piece.
template <class Split, class KeepFree>
BlockHeader* split_to_fit(BlockHeader& chosen, const Placement& placement, std::size_t min_block, Split split,
                          KeepFree keep_free) noexcept {
  BlockHeader* block = &chosen;
  if (placement.front_gap != 0) {
    // The gap in front stays free: `chosen` keeps it, and the block to
    // hand out begins where the payload is aligned.
    block = &split(chosen, placement.front_gap);
    keep_free(chosen);
  }
  if (block_size(*block) - placement.needed >= min_block) keep_free(split(*block, placement.needed));
  // Otherwise the tail is too small to be a block: it stays with the
  // allocation, as internal fragmentation.
  return block;
}
// [split_to_fit]

/// split_to_fit() as a type, the way FitFreeList takes its split: a
/// learner's own split (stage3_fit_strategies/your_turn/placement.hpp) is
/// another type with the same cut(), known at compile time and inlined.
struct SplitToFit {
  /// Cuts the block to hand out from \p chosen: split_to_fit().
  template <class Split, class KeepFree>
  static BlockHeader* cut(BlockHeader& chosen, const Placement& placement, std::size_t min_block, Split split,
                          KeepFree keep_free) noexcept {
    return split_to_fit(chosen, placement, min_block, split, keep_free);
  }
};

/// The free blocks of a BlockHeap on an explicit LIFO list, searched by
/// \p Policy (FirstFit, NextFit, BestFit or WorstFit) and split to fit by
/// \p Splitter (SplitToFit unless told). The constraint names what a
/// policy lacks (a choose() over this list, a forget()) where the error is
/// made, not deep inside take().
template <PlacementPolicy<ExplicitFreeList> Policy, class Splitter = SplitToFit>
class FitFreeList {
 public:
  /// Bytes of links a free block holds: those of the explicit list.
  static constexpr std::size_t kLinkBytes = ExplicitFreeList::kLinkBytes;

  /// Puts the free block \p block on the list.
  void insert(BlockHeader& block) noexcept { list_.insert(block); }

  /// Takes the block \p Policy chooses off the list and splits it: a front
  /// gap kept for alignment and a large enough tail go back on the list.
  /// Returns the block to hand out (still marked free), or null when no
  /// block fits. Adds the blocks looked at to \p visited.
  // [take]
  [[nodiscard]] BlockHeader* take(BlockHeap& heap, std::size_t request, std::size_t align,
                                  std::size_t& visited) noexcept {
    const BlockRequest wanted{block_size_for(request), align, kMinBlockSize};
    const Choice choice = policy_.choose(list_, wanted, visited);
    if (choice.block == nullptr) return nullptr;
    policy_.forget(choice.previous, *choice.block);
    list_.unlink(choice.previous, *choice.block);
    const auto split = [&heap](BlockHeader& block, std::size_t first_size) -> BlockHeader& {
      return split_block(heap, block, first_size);
    };
    const auto keep_free = [this](BlockHeader& piece) { list_.insert(piece); };
    return Splitter::cut(*choice.block, choice.placement, kMinBlockSize, split, keep_free);
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

// Each of the chapter's policies searches chapter 2's list.
static_assert(PlacementPolicy<FirstFit, ExplicitFreeList>);
static_assert(PlacementPolicy<NextFit, ExplicitFreeList>);
static_assert(PlacementPolicy<BestFit, ExplicitFreeList>);
static_assert(PlacementPolicy<WorstFit, ExplicitFreeList>);

}  // namespace heaplab
