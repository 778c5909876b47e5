/// \file
/// Your turn, chapter 4: the boundary tags, and the four cases of coalescing.
///
/// Chapter 4's allocator takes both as template arguments: the tag layout
/// (a type modelling heaplab::TagLayout, the course's is FooterTags) and,
/// through its merging piece, the four cases (the course's are FourCases,
/// which runs TaggedHeap::coalesce()). Yours run inside the course's own
/// CoalescingAllocator, with its verbs, statistics, check() and diagrams:
///
///     previous block                          this block
///     +--------+---------------+--------+     +--------+----------------
///     | header |    payload    | footer |     | header |  ...
///     +--------+---------------+--------+     +--------+----------------
///                                   ^               |
///                                   +---------------+
///                 header - 8 bytes: the previous block's size and state
///
///     Case 1   [A][x][A]   nothing to merge
///     Case 2   [A][x][F]   x absorbs the next block
///     Case 3   [F][x][A]   the previous block absorbs x
///     Case 4   [F][x][F]   the previous block absorbs x and the next block
///
/// The chapter's sections "Boundary tags" and "The four cases of
/// coalescing" walk through the steps below. The verbs are the course's:
/// TaggedHeap::merge_next() and TaggedHeap::merge_prev() do the merging
/// (they call your seal() through absorb()); next_block() finds the block
/// after one, is_allocated() reads a header's A bit.
///
/// Grade it with `cmake --workflow --preset yourturn4`.
#pragma once

#include <cstddef>
#include <string_view>

#include "stage1_static_bump/tracking.hpp"
#include "stage1_static_bump/your_turn.hpp"
#include "stage2_free_list/block.hpp"
#include "stage3_fit_strategies/placement.hpp"
#include "stage4_coalescing/boundary_tags.hpp"
#include "stage4_coalescing/coalescing_allocator.hpp"
#include "stage4_coalescing/coalescing_allocator_impl.hpp"
#include "stage4_coalescing/linked_free_list.hpp"
#include "stage4_coalescing/tagged_heap.hpp"

namespace heaplab::yours {

/// Your boundary tags: Knuth's footer at the end of every block, allocated
/// or free, as heaplab::FooterTags keeps them.
struct FooterTags {
  /// The flags a header carries: the allocated bit only.
  static constexpr std::size_t kHeaderFlags = kAllocatedBit;
  /// Bytes of tag at the end of an allocated block: its footer.
  static constexpr std::size_t kAllocatedFooterBytes = kFooterSize;

  /// Brings \p block's tags up to date after its size or state changed:
  /// writes its footer.
  static void seal([[maybe_unused]] BlockHeader& block) noexcept {
    // 1. The footer is the block's last 8 bytes: it starts kFooterSize
    //    bytes before next_in_memory(&block), where the next block begins.
    // 2. Those bytes may lie in memory the tracking layer has poisoned (a
    //    free block's payload, after a split or a merge): expose them
    //    first, with track::expose(at, kFooterSize).
    // 3. Construct a BlockFooter there (`::new (at) BlockFooter{...}`)
    //    holding a copy of the header's first word, block.size_and_flags.
    HEAPLAB_NOT_WRITTEN_YET("FooterTags::seal(): write the footer, a copy of the header's size word");
  }

  /// True when the block in front of \p block is free.
  [[nodiscard]] static bool prev_is_free([[maybe_unused]] BlockHeader& block) noexcept {
    // 1. The previous block's footer is the 8 bytes just in front of this
    //    block's header: at block_start(&block) - kFooterSize.
    // 2. Read its size_and_flags (as a BlockFooter, through std::launder,
    //    as the chapter's footer_in_front() does): the previous block is
    //    free when its allocated bit (kAllocatedBit) is clear.
    HEAPLAB_NOT_WRITTEN_YET("FooterTags::prev_is_free(): read the footer in front");
  }

  /// The invariant \p block's footer breaks, for check(); empty when none.
  [[nodiscard]] static std::string_view broken_tag([[maybe_unused]] BlockHeader& block) noexcept {
    // 1. Read the block's own footer (its last 8 bytes, as in seal()).
    // 2. It must equal the header's size_and_flags: return {} when it
    //    does, and "the footer equals the header" when it does not.
    HEAPLAB_NOT_WRITTEN_YET("FooterTags::broken_tag(): compare the footer with the header");
  }

  /// Nothing to break: a header here records nothing of the previous block
  /// (footer elision's P bit does; this layout has none).
  [[nodiscard]] static std::string_view broken_prev_record(BlockHeader& /*block*/, bool /*prev_allocated*/) noexcept {
    return {};
  }
};

/// Your four cases of coalescing, in ImmediateCoalescing's slot.
struct FourCases {
  /// Merges the free \p block of \p heap, which is off its list, with
  /// whichever of its neighbours are free (and on \p free), and returns
  /// the merged block, off the list.
  template <TagLayout Tags, RemovableFreeList FreeBlocks>
  static BlockHeader& coalesce([[maybe_unused]] TaggedHeap<Tags>& heap, [[maybe_unused]] FreeBlocks& free,
                               [[maybe_unused]] BlockHeader& block) noexcept {
    // 1. Ask the two questions: is the previous block free
    //    (Tags::prev_is_free(block), your tags), and is the next block
    //    free (its header: !is_allocated(next_block(block)))? The prologue
    //    and the epilogue are allocated, so both neighbours always exist.
    // 2. Case 1, neither free: return block as it is.
    // 3. Case 2, only the next: return heap.merge_next(free, block).
    // 4. Case 3, only the previous: return heap.merge_prev(free, block).
    // 5. Case 4, both: case 3, then case 2 on the block case 3 returned.
    HEAPLAB_NOT_WRITTEN_YET("FourCases::coalesce(): the four cases, one line each");
  }
};

/// The course's coalescing allocator, first fit, with your tags and your
/// four cases.
using CoalescingFirstFit = CoalescingAllocator<FitList<FirstFit>, yours::FooterTags,
                                               BasicImmediateCoalescing<yours::FourCases>>;

static_assert(TagLayout<yours::FooterTags>);

}  // namespace heaplab::yours
