/// \file
/// Pictures of a chapter-4 heap: every block with its boundary tags, drawn
/// with stage 1's draw_cells() as chapter 2's pictures are. A block shows
/// its header (the size word, then the requested bytes), its payload and,
/// where this configuration keeps one, its footer:
///
///       $000             $008             $010             $018             $020
///       +----------------+----------------+----------------+----------------+----------------+
///       |                |                |                |                |                |
///       |  size 24 | A   |     req 0      |  foot 24 | A   |  size 40 | F   |     req 0      |
///       |                |                |                |                |                |
///       +----------------+----------------+----------------+----------------+----------------+
///
///       $028             $030             $038             $040             $048
///       +----------------+----------------+----------------+----------------+----------------+
///       |                |                |                |                |                |
///       |   next null    |   prev null    |  foot 40 | F   |   size 0 | A   |     req 0      |
///       |                |                |                |                |                |
///       +----------------+----------------+----------------+----------------+----------------+
///                                                          ^
///                                                          |
///                                                          |
///
/// The first block is the prologue (24 bytes, allocated, never handed out);
/// a free block keeps its two list links in its first payload cells; the
/// arrow marks the break, and the two cells past it are the epilogue's
/// header (size 0, allocated). Under footer elision the size word also
/// shows the P bit: `size 40 | P=1 A` (the block in front is allocated) or
/// `P=0`, and an allocated block ends without a footer.
///
/// Offsets count from BlockHeap::begin(), as check() reports them.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "stage2_free_list/block_heap.hpp"
#include "stage4_coalescing/boundary_tags.hpp"
#include "stage4_coalescing/coalescing_allocator.hpp"
#include "stage4_coalescing/footer_elision.hpp"
#include "stage4_coalescing/linked_free_list.hpp"

namespace heaplab {

/// Where a heap keeps footers, as the pictures draw them.
enum class Footers {
  everywhere,        ///< Every block ends with a footer (FooterTags).
  free_blocks_only,  ///< Footer elision: allocated blocks have none (ElidedFooters).
};

/// How the pictures draw blocks kept in tag layout \p Tags.
template <TagLayout Tags>
[[nodiscard]] constexpr Footers footers_of() noexcept {
  return Tags::kAllocatedFooterBytes == 0 ? Footers::free_blocks_only : Footers::everywhere;
}

/// A header or footer word as the pictures write it: its size and state,
/// "40 A" or "40 F"; under footer elision with the P bit in front,
/// "40 P=1 A" (the block in front is allocated) or "40 P=0 A".
[[nodiscard]] std::string format_tag(std::size_t size_and_flags, Footers footers);

/// Draws every block of \p heap, cell by cell (see the picture above): the
/// prologue, each block's header, payload (a free block's links first) and
/// footer where \p footers keeps one, then the epilogue past the break and
/// the rest of the last row ("not yet used"), as far as the heap reaches.
///
/// Example:
///
///     alignas(16) std::byte region[512];
///     CoalescingFirstFit heap(region);
///     heap.deallocate(heap.allocate(8));
///     std::puts(draw_tagged_blocks(heap.heap().blocks(), Footers::everywhere).c_str());
///
/// Precondition: \p heap is a region of a CoalescingAllocator kept with
/// \p footers, and sound (check() passes). Meant for heaps of a few
/// hundred bytes: every 8 bytes take a box.
[[nodiscard]] std::string draw_tagged_blocks(const BlockHeap& heap, Footers footers,
                                             std::size_t cells_per_row = 5);

/// Every block of \p heap on a line of its own, as memory holds it: the
/// offset, the header word, what the payload holds (the request, or the
/// links of a free block) and the footer word, prologue and epilogue
/// included. Narrow, so that two can stand side by side (side_by_side()):
///
///     $000  [24 A]  prologue             [24 A]
///     $018  [40 F]  next null prev null  [40 F]
///     $040  [48 A]  req 24               [48 A]
///     $070  [ 0 A]  epilogue
///
/// The header word is on the left, the footer word on the right; under
/// footer elision an allocated block has none there.
/// Precondition: as for draw_tagged_blocks().
[[nodiscard]] std::string draw_tag_lines(const BlockHeap& heap, Footers footers);

/// "$040" for a block of the first of \p regions, "$040 in region 1" for
/// one of a later region: where \p block lies, as the pictures name it.
/// Precondition: one of \p regions holds \p block.
[[nodiscard]] std::string format_block_offset(std::span<const BlockHeap* const> regions,
                                              const BlockHeader& block);

/// The doubly linked free list \p list on one line, in list order (the
/// order a search visits it), each block named by format_block_offset():
/// `free list: head -> $0B8 -> $018 -> null`, as chapter 2's
/// draw_free_list() writes its singly linked one.
[[nodiscard]] std::string draw_free_list(std::span<const BlockHeap* const> regions, const LinkedFreeList& list);

/// draw_tagged_blocks() of \p allocator's region, drawn as its tag
/// layout keeps footers.
template <class FreeBlocks, class Tags, class Merging>
[[nodiscard]] std::string draw_tagged_blocks(const CoalescingAllocator<FreeBlocks, Tags, Merging>& allocator,
                                             std::size_t cells_per_row = 5) {
  return draw_tagged_blocks(allocator.heap().blocks(), footers_of<Tags>(), cells_per_row);
}

/// draw_tag_lines() of \p allocator's region, drawn as its tag layout
/// keeps footers.
template <class FreeBlocks, class Tags, class Merging>
[[nodiscard]] std::string draw_tag_lines(const CoalescingAllocator<FreeBlocks, Tags, Merging>& allocator) {
  return draw_tag_lines(allocator.heap().blocks(), footers_of<Tags>());
}

/// The free list of \p allocator on one line (see draw_free_list()).
template <class FreeBlocks, class Tags, class Merging>
[[nodiscard]] std::string draw_free_lists(const CoalescingAllocator<FreeBlocks, Tags, Merging>& allocator) {
  const BlockHeap* const regions[] = {&allocator.heap().blocks()};
  return draw_free_list(regions, allocator.free_blocks());
}

}  // namespace heaplab
