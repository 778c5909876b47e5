/// \file
/// Pictures of chapter 5's lists, one line per list, as chapter 4's
/// draw_free_list() writes one:
///
///     class  1 (48 B):        free list: head -> $0B8 -> null
///     class 59 (512-1023 B):  free list: head -> $1A0 -> $018 -> null
///
///     quick list 48 B (2 of 7):  $0E8 -> $0B8
///
/// The blocks of a region are drawn with chapter 4's draw_tagged_blocks()
/// and draw_tag_lines() (tag_diagram.hpp), on the region's allocator.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>

#include "stage2_free_list/block_heap.hpp"
#include "stage4_coalescing/coalescing_allocator.hpp"
#include "stage4_coalescing/linked_free_list.hpp"
#include "stage4_coalescing/tag_diagram.hpp"
#include "stage5_real_malloc/quick_fit.hpp"
#include "stage5_real_malloc/quick_lists.hpp"
#include "stage5_real_malloc/segregated_fits.hpp"

namespace heaplab {

/// The block sizes that size class \p index of segregated fits holds:
/// "48 B" for an exact class, "512-1023 B" for a power-of-two class.
/// Precondition: `index < SizeClasses::kCount`.
[[nodiscard]] std::string describe_size_class(std::size_t index);

/// The non-empty lists of \p lists (list i holds size class i) of a region
/// of blocks \p heap, one line each, with the sizes the class holds (see
/// the picture above); "free lists: every class empty" when all are.
[[nodiscard]] std::string draw_class_lists(const BlockHeap& heap, std::span<const LinkedFreeList* const> lists);

/// The non-empty quick lists of \p quick, whose blocks lie in \p heap, one
/// line each, head first; "quick lists: all empty" when all are.
[[nodiscard]] std::string draw_quick_lists(const BlockHeap& heap, const QuickLists& quick);

/// The free lists of a region of segregated fits, one line per non-empty
/// class (see draw_class_lists()). Chosen over chapter 4's
/// draw_free_lists(), which draws a region's one list.
/// The classes are labelled as SizeClasses describes them.
template <class Policy, class Classes, class Tags, class Merging>
[[nodiscard]] std::string draw_free_lists(
    const CoalescingAllocator<SegregatedLists<Policy, Classes>, Tags, Merging>& allocator) {
  std::array<const LinkedFreeList*, SegregatedLists<Policy, Classes>::kLists> lists{};
  for (std::size_t index = 0; index < lists.size(); ++index) lists[index] = &allocator.free_blocks().list(index);
  return draw_class_lists(allocator.heap().blocks(), lists);
}

/// The quick lists of \p cache (see draw_quick_lists()).
template <class Inner>
[[nodiscard]] std::string draw_quick_lists(const QuickCache<Inner>& cache) {
  return draw_quick_lists(cache.inner().heap().blocks(), cache.quick_lists());
}

}  // namespace heaplab
