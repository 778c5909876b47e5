/// \file
/// Placement policies: which free block serves a request.
///
///     free list:  head -> [ 64 ] -> [ 200 ] -> [ 48 ] -> [ 128 ] -> null
///     a request that needs a 48-byte block:
///       first fit   takes [ 64 ]   the first block that fits
///       next fit    takes the first that fits *after the block where the
///                   last search stopped*, wrapping round to the head
///       best fit    takes [ 48 ]   the smallest that fits (and stops at once:
///                                  an exact fit cannot be beaten)
///       worst fit   takes [ 200 ]  the largest, so that what is left over
///                                  is large enough to be useful
///
/// Each policy walks a free list and returns its choice with the block
/// before it (unlinking chapter 2's explicit list needs it: that list has
/// one link per block). Ties go to the block met first. The splitting that
/// follows the choice is the same for every policy (fit_free_list.hpp).
///
/// A policy is only a way of searching. The request reaches it as plain
/// values (a BlockRequest: the block size, the alignment, the smallest
/// block), and the list as anything with a head and a next (FreeBlockList),
/// so chapter 4 reuses every policy unchanged over its own list, whose
/// blocks also carry a footer. Nor does a policy carry a name: a name
/// belongs to the allocator built on it.
#pragma once

#include <concepts>
#include <cstddef>
#include <functional>

#include "stage1_static_bump/align.hpp"
#include "stage2_free_list/block.hpp"

namespace heaplab {

/// How a free block would serve a request: the gap it keeps in front of the
/// handed-out block (for alignment) and the size of the block handed out.
///
///     chosen free block
///     +-------------+-------------------------+--------------------+
///     |  front gap  |  needed: header+payload |  tail              |
///     +-------------+-------------------------+--------------------+
///     stays free      handed out                free if >= min_block,
///     (0 or >=                                  else kept by the
///      min_block)                               allocation
struct Placement {
  bool fits = false;          ///< The block is large enough.
  std::size_t front_gap = 0;  ///< Bytes in front of the handed-out block: 0 or at least the request's min_block.
  std::size_t needed = 0;     ///< Size of the block handed out, before an unsplittable tail joins it.

  /// Bytes of the free block of \p block_bytes left over: 0 for an exact fit.
  /// Precondition: fits.
  [[nodiscard]] constexpr std::size_t leftover(std::size_t block_bytes) const noexcept {
    return block_bytes - front_gap - needed;
  }
};

/// What a search places: plain values, so one policy serves any chapter's blocks.
struct BlockRequest {
  std::size_t needed;     ///< Size of the block to hand out (header + payload, + footer in chapter 4).
  std::size_t align;      ///< Payload alignment: a power of two, at least 8.
  std::size_t min_block;  ///< The smallest block any piece (front gap, tail) may be.
};

// [place_block]
/// Where `request` would go in the free `block`.
[[nodiscard]] inline Placement place_block(BlockHeader& block, const BlockRequest& request) noexcept {
  const std::size_t size = block_size(block);
  const std::size_t gap = front_gap(address_of(block_start(&block)), request.align, request.min_block);
  // Compare with what is left rather than add: for an absurd alignment the
  // gap alone can be close to 2^63, and gap + needed could wrap around.
  const bool fits = gap <= size && request.needed <= size - gap;
  return {fits, gap, request.needed};
}
// [place_block]

/// A search's answer: the chosen block, the block before it on the list
/// (null when the chosen block is the head), and where the request goes in
/// it, so that splitting need not work it out again. No block: nothing fits.
struct Choice {
  BlockHeader* previous = nullptr;  ///< The block before `block` on the list, or null.
  BlockHeader* block = nullptr;     ///< The chosen block, or null.
  Placement placement;              ///< Where the request goes in `block`.
};

// [concepts]
/// A list of free blocks a policy can walk: head() and a static next().
template <class List>
concept FreeBlockList = requires(const List& list, BlockHeader& block) {
  { list.head() } -> std::convertible_to<BlockHeader*>;
  { List::next(block) } -> std::convertible_to<BlockHeader*>;
};
/// A placement policy over free-block list `List`.
template <class Policy, class List>
concept PlacementPolicy = FreeBlockList<List> &&
    requires(Policy& policy, const List& list, const BlockRequest& request, std::size_t& visited,
             BlockHeader* previous, BlockHeader& block) {
      { policy.choose(list, request, visited) } -> std::same_as<Choice>;
      policy.forget(previous, block);
    };
// [concepts]

// [first_fit]
/// First fit: the first block on the list that fits.
struct FirstFit {
  /// Chooses the block of \p list that \p request goes in; counts the
  /// blocks looked at in \p visited.
  template <FreeBlockList List>
  [[nodiscard]] Choice choose(const List& list, const BlockRequest& request, std::size_t& visited) noexcept {
    BlockHeader* previous = nullptr;
    for (BlockHeader* block = list.head(); block != nullptr; previous = block, block = List::next(*block)) {
      ++visited;
      if (const Placement placement = place_block(*block, request); placement.fits) {
        return {previous, block, placement};
      }
    }
    return {};
  }
  /// Nothing to forget: first fit keeps no position.
  void forget(BlockHeader* /*previous*/, BlockHeader& /*block*/) noexcept {}
};
// [first_fit]

// [next_fit]
/// Next fit: first fit that starts where the last search stopped (the
/// *rover*), wrapping round to the head, so that searches spread over the
/// list instead of crowding its front.
class NextFit {
 public:
  /// Chooses the block of \p list that \p request goes in; counts the
  /// blocks looked at in \p visited.
  template <FreeBlockList List>
  [[nodiscard]] Choice choose(const List& list, const BlockRequest& request, std::size_t& visited) noexcept {
    // From the block after the rover to the end of the list ...
    BlockHeader* previous = rover_;
    for (BlockHeader* block = rover_ == nullptr ? list.head() : List::next(*rover_); block != nullptr;
         previous = block, block = List::next(*block)) {
      ++visited;
      if (const Placement placement = place_block(*block, request); placement.fits) {
        return stop_at({previous, block, placement});
      }
    }
    if (rover_ == nullptr) return {};  // the first loop began at the head: it saw every block
    // ... then from the head round to the rover itself.
    previous = nullptr;
    for (BlockHeader* block = list.head(); block != nullptr; previous = block, block = List::next(*block)) {
      ++visited;
      if (const Placement placement = place_block(*block, request); placement.fits) {
        return stop_at({previous, block, placement});
      }
      if (block == rover_) break;
    }
    return {};
  }

  /// Keeps the rover valid when \p block, which follows \p previous, leaves
  /// the list: a rover on \p block steps back to \p previous. A search
  /// already leaves the rover before the block it chose; this is for blocks
  /// that leave the list any other way (chapter 4 merges free neighbours).
  void forget(BlockHeader* previous, BlockHeader& block) noexcept {
    if (rover_ == &block) rover_ = previous;
  }

  /// The block after which the next search starts (null: at the head).
  [[nodiscard]] BlockHeader* rover() const noexcept { return rover_; }

 private:
  /// Records where this search stopped and returns \p choice. The chosen
  /// block is about to leave the list, so the rover stays on the block
  /// before it: the next search starts with the chosen block's successor.
  Choice stop_at(Choice choice) noexcept {
    rover_ = choice.previous;
    return choice;
  }

  BlockHeader* rover_ = nullptr;  ///< Invariant: null, or a block on the list.
};
// [next_fit]

// [size_fit]
/// The scan best fit and worst fit share: of the blocks of \p list that
/// \p request fits in, the one whose size \p prefer ranks first (ties go
/// to the block met first, since only a strictly preferred block replaces
/// the choice). With \p stop_at_exact_fit, an exact fit ends the scan.
/// Counts the blocks looked at in \p visited.
template <FreeBlockList List, class Prefer>
[[nodiscard]] Choice choose_by_size(const List& list, const BlockRequest& request, std::size_t& visited,
                                    Prefer prefer, bool stop_at_exact_fit) noexcept {
  Choice chosen;
  BlockHeader* previous = nullptr;
  for (BlockHeader* block = list.head(); block != nullptr; previous = block, block = List::next(*block)) {
    ++visited;
    const Placement placement = place_block(*block, request);
    if (!placement.fits) continue;
    if (chosen.block == nullptr || prefer(block_size(*block), block_size(*chosen.block))) {
      chosen = {previous, block, placement};
      if (stop_at_exact_fit && placement.leftover(block_size(*block)) == 0) break;
    }
  }
  return chosen;
}
// [size_fit]

// [best_fit]
/// Best fit: the smallest block that fits; an exact fit ends the search.
struct BestFit {
  /// Chooses the block of \p list that \p request goes in; counts the
  /// blocks looked at in \p visited.
  template <FreeBlockList List>
  [[nodiscard]] Choice choose(const List& list, const BlockRequest& request, std::size_t& visited) noexcept {
    // Nothing beats an exact fit, so the scan may stop there.
    return choose_by_size(list, request, visited, std::less<>{}, /*stop_at_exact_fit=*/true);
  }
  /// Nothing to forget: best fit keeps no position.
  void forget(BlockHeader* /*previous*/, BlockHeader& /*block*/) noexcept {}
};
// [best_fit]

/// Worst fit: the largest block that fits.
struct WorstFit {
  /// Chooses the block of \p list that \p request goes in; counts the
  /// blocks looked at in \p visited.
  template <FreeBlockList List>
  [[nodiscard]] Choice choose(const List& list, const BlockRequest& request, std::size_t& visited) noexcept {
    // An exact fit may still be smaller than a block further on: no early stop.
    return choose_by_size(list, request, visited, std::greater<>{}, /*stop_at_exact_fit=*/false);
  }
  /// Nothing to forget: worst fit keeps no position.
  void forget(BlockHeader* /*previous*/, BlockHeader& /*block*/) noexcept {}
};

}  // namespace heaplab
