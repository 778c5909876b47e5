/// \file
/// Your turn, chapter 3: the four placement policies, and the split.
///
/// Chapter 3's allocator is chapter 2's, over a free list (FitFreeList)
/// that asks a *policy* which free block serves a request, then *splits*
/// that block to the size asked for. Both pieces are template arguments of
/// the course's heaplab::FitAllocator, so yours run inside the course's
/// own allocator, with its statistics, check() and diagrams:
///
///     free list:  head -> [ 64 ] -> [ 200 ] -> [ 48 ] -> [ 128 ] -> null
///     a request that needs a 48-byte block:
///       first fit   takes [ 64 ]   the first block that fits
///       next fit    the first that fits after the rover, wrapping round
///       best fit    takes [ 48 ]   the smallest that fits (an exact fit ends the search)
///       worst fit   takes [ 200 ]  the largest that fits
///
///     chosen free block, cut by the split:
///     +-------------+---------------------------+--------------------+
///     |  front gap  |  needed: header + payload |  tail              |
///     +-------------+---------------------------+--------------------+
///      stays free      handed out                 free if >= min_block,
///      (0 or >= min)                              else kept by the allocation
///
/// The chapter's sections "Splitting and the minimum block" and "Four
/// placement policies" walk through the steps below. Use the course's
/// place_block() (where a request goes in one block) and Choice; the
/// concepts FreeBlockList and PlacementPolicy (placement.hpp) say what a
/// list offers and what a policy must.
///
/// Grade it with `cmake --workflow --preset yourturn3`.
#pragma once

#include <cstddef>

#include "stage1_static_bump/your_turn.hpp"
#include "stage2_free_list/block.hpp"
#include "stage2_free_list/free_list_allocator_impl.hpp"
#include "stage3_fit_strategies/fit_allocators.hpp"
#include "stage3_fit_strategies/fit_free_list.hpp"
#include "stage3_fit_strategies/placement.hpp"

namespace heaplab::yours {

/// Your first fit: the first block on the list that fits.
struct FirstFit {
  /// Chooses the block of \p list that \p request goes in; counts the
  /// blocks looked at in \p visited.
  template <FreeBlockList List>
  [[nodiscard]] Choice choose([[maybe_unused]] const List& list, [[maybe_unused]] const BlockRequest& request,
                              [[maybe_unused]] std::size_t& visited) noexcept {
    // 1. Walk the list from list.head(), one List::next(*block) at a time,
    //    keeping the block before the current one (null at the head): the
    //    list is singly linked, and unlinking the chosen block needs it.
    // 2. Count every block you look at: ++visited.
    // 3. Ask place_block(*block, request) where the request would go; the
    //    first block whose Placement fits is the choice:
    //    return {previous, block, placement}.
    // 4. At the end of the list nothing fits: return {} (no block).
    HEAPLAB_NOT_WRITTEN_YET("FirstFit::choose(): the first block that fits");
  }
  /// Nothing to forget: first fit keeps no position.
  void forget(BlockHeader* /*previous*/, BlockHeader& /*block*/) noexcept {}
};

/// Your next fit: first fit that starts after the *rover*, where the last
/// search stopped, and wraps round to the head.
class NextFit {
 public:
  /// Chooses the block of \p list that \p request goes in; counts the
  /// blocks looked at in \p visited.
  template <FreeBlockList List>
  [[nodiscard]] Choice choose([[maybe_unused]] const List& list, [[maybe_unused]] const BlockRequest& request,
                              [[maybe_unused]] std::size_t& visited) noexcept {
    // 1. Search as first fit does, from the block after the rover (from
    //    the head when the rover is null) to the end of the list.
    // 2. If the first walk began at the head, it saw every block: nothing
    //    fits, return {}.
    // 3. Otherwise walk again from the head, and stop after the rover
    //    itself: every block is looked at once, never twice (a loop that
    //    never ends is the classic next-fit bug).
    // 4. When a block fits, set the rover to the block *before* it (the
    //    chosen block is about to leave the list, and the rover must stay
    //    on it), then return {previous, block, placement}.
    HEAPLAB_NOT_WRITTEN_YET("NextFit::choose(): first fit from the rover, wrapping round");
  }

  /// Keeps the rover on the list when \p block, which follows \p previous,
  /// leaves it.
  void forget([[maybe_unused]] BlockHeader* previous, [[maybe_unused]] BlockHeader& block) noexcept {
    // 1. A rover on `block` steps back to `previous`; any other rover stays.
    HEAPLAB_NOT_WRITTEN_YET("NextFit::forget(): a rover on the block steps back");
  }

  /// The block after which the next search starts (null: at the head).
  /// check() fails when it is not on the list.
  [[nodiscard]] BlockHeader* rover() const noexcept { return rover_; }

 private:
  BlockHeader* rover_ = nullptr;  ///< Invariant: null, or a block on the list.
};

/// Your best fit: the smallest block that fits; an exact fit ends the search.
struct BestFit {
  /// Chooses the block of \p list that \p request goes in; counts the
  /// blocks looked at in \p visited.
  template <FreeBlockList List>
  [[nodiscard]] Choice choose([[maybe_unused]] const List& list, [[maybe_unused]] const BlockRequest& request,
                              [[maybe_unused]] std::size_t& visited) noexcept {
    // 1. Walk the whole list, counting each block in `visited`, and keep
    //    the best choice so far: a block that fits and is strictly smaller
    //    than the one kept replaces it (so ties go to the block met first).
    // 2. An exact fit (placement.leftover(block_size(*block)) == 0) cannot
    //    be beaten: stop there.
    // 3. Return the choice kept ({} when no block fits).
    //    Worst fit is the same scan with the comparison turned round: you
    //    may write the scan once, as the chapter's choose_by_size() does.
    HEAPLAB_NOT_WRITTEN_YET("BestFit::choose(): the smallest block that fits");
  }
  /// Nothing to forget: best fit keeps no position.
  void forget(BlockHeader* /*previous*/, BlockHeader& /*block*/) noexcept {}
};

/// Your worst fit: the largest block that fits.
struct WorstFit {
  /// Chooses the block of \p list that \p request goes in; counts the
  /// blocks looked at in \p visited.
  template <FreeBlockList List>
  [[nodiscard]] Choice choose([[maybe_unused]] const List& list, [[maybe_unused]] const BlockRequest& request,
                              [[maybe_unused]] std::size_t& visited) noexcept {
    // 1. Best fit's scan, keeping a block that is strictly *larger* than
    //    the one kept (ties still go to the block met first).
    // 2. No early stop: an exact fit may be smaller than a block further on.
    HEAPLAB_NOT_WRITTEN_YET("WorstFit::choose(): the largest block that fits");
  }
  /// Nothing to forget: worst fit keeps no position.
  void forget(BlockHeader* /*previous*/, BlockHeader& /*block*/) noexcept {}
};

/// Your split, to heaplab::split_to_fit()'s contract: FitFreeList calls
/// cut() with the chosen block, off its list.
struct SplitToFit {
  /// Cuts the block to hand out from \p chosen as \p placement says, and
  /// returns it. \p split cuts a block in two and returns the second piece
  /// (`split(block, first_size)`); \p keep_free puts a piece back on the
  /// free list; no piece may be smaller than \p min_block.
  template <class Split, class KeepFree>
  static BlockHeader* cut([[maybe_unused]] BlockHeader& chosen, [[maybe_unused]] const Placement& placement,
                          [[maybe_unused]] std::size_t min_block, [[maybe_unused]] Split split,
                          [[maybe_unused]] KeepFree keep_free) noexcept {
    // 1. A front gap (placement.front_gap != 0) stays free: split `chosen`
    //    after the gap; the second piece is the block to hand out, and
    //    `chosen`, now just the gap, goes back with keep_free().
    // 2. A tail of at least `min_block` bytes past placement.needed becomes
    //    a free block of its own: split the block to hand out after
    //    `needed` bytes and keep_free() the rest.
    // 3. A smaller tail cannot hold a header and a link: it stays with the
    //    allocation (internal fragmentation).
    // 4. Return the block to hand out.
    HEAPLAB_NOT_WRITTEN_YET("SplitToFit::cut(): keep the front gap and a large enough tail free");
  }
};

/// The course's allocator with your first fit and your split.
using FirstFitAllocator = heaplab::FitAllocator<yours::FirstFit, yours::SplitToFit>;
/// The course's allocator with your next fit and your split.
using NextFitAllocator = heaplab::FitAllocator<yours::NextFit, yours::SplitToFit>;
/// The course's allocator with your best fit and your split.
using BestFitAllocator = heaplab::FitAllocator<yours::BestFit, yours::SplitToFit>;
/// The course's allocator with your worst fit and your split.
using WorstFitAllocator = heaplab::FitAllocator<yours::WorstFit, yours::SplitToFit>;

}  // namespace heaplab::yours
