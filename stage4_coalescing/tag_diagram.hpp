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
#include "stage4_coalescing/free_lists.hpp"
#include "stage4_coalescing/linked_free_list.hpp"

namespace heaplab {

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
///     std::puts(draw_tagged_blocks(heap.first_region(), Footers::everywhere).c_str());
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

/// The block sizes that size class \p index of segregated fits holds:
/// "48 B" for an exact class, "512-1023 B" for a power-of-two class.
/// Precondition: `index < SizeClasses::kCount`.
[[nodiscard]] std::string describe_size_class(std::size_t index);

/// draw_tagged_blocks() of \p allocator's first region, kept as its
/// configuration says.
template <class Policy, CoalescingConfig Config>
[[nodiscard]] std::string draw_tagged_blocks(const CoalescingAllocator<Policy, Config>& allocator,
                                             std::size_t cells_per_row = 5) {
  return draw_tagged_blocks(allocator.first_region(), Config.footers, cells_per_row);
}

/// draw_tag_lines() of \p allocator's first region, kept as its
/// configuration says.
template <class Policy, CoalescingConfig Config>
[[nodiscard]] std::string draw_tag_lines(const CoalescingAllocator<Policy, Config>& allocator) {
  return draw_tag_lines(allocator.first_region(), Config.footers);
}

/// The free lists of \p allocator, one line each: its one list, or, for
/// segregated fits, every non-empty class with the sizes it holds:
///
///     class  1 (48 B):        free list: head -> $0B8 -> null
///     class 59 (512-1023 B):  free list: head -> $1A0 -> $018 -> null
template <class Policy, CoalescingConfig Config>
[[nodiscard]] std::string draw_free_lists(const CoalescingAllocator<Policy, Config>& allocator) {
  std::vector<const BlockHeap*> regions;
  allocator.for_each_region([&regions](const BlockHeap& heap) { regions.push_back(&heap); });
  using Lists = FreeLists<Policy, Config.segregated>;
  if constexpr (!Config.segregated) {
    return draw_free_list(regions, allocator.free_lists().list(0));
  } else {
    std::vector<std::string> labels;
    std::vector<std::string> lines;
    std::size_t widest = 0;
    for (std::size_t index = 0; index < Lists::kLists; ++index) {
      const LinkedFreeList& list = allocator.free_lists().list(index);
      if (list.empty()) continue;
      labels.push_back("class " + std::to_string(index) + " (" + describe_size_class(index) + "):");
      lines.push_back(draw_free_list(regions, list));
      widest = std::max(widest, labels.back().size());
    }
    if (lines.empty()) return "free lists: every class empty";
    std::string out;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (i != 0) out += '\n';
      out += labels[i] + std::string(widest - labels[i].size() + 2, ' ') + lines[i];
    }
    return out;
  }
}

}  // namespace heaplab
