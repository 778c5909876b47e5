/// \file
/// Pictures of a stage-2 heap, in the style of stage 1's: one box per
/// 8-byte cell, drawn by stage 1's draw_cells(). A block shows its header
/// (two cells: the size field with its allocated bit, and the requested
/// bytes) and then its payload:
///
///       $000             $008             $010             $018             $020
///       +----------------+----------------+----------------+----------------+----------------+
///       |                |                |                |                |                |
///       |  size 32 | A   |     req 16     |   Allocated    |   Allocated    |  size 24 | F   |
///       |                |                |                |                |                |
///       +----------------+----------------+----------------+----------------+----------------+
///
///       $028             $030             $038
///       +----------------+----------------+----------------+
///       |                |                |                |
///       |     req 0      |   next null    |  not yet used  |
///       |                |                |                |
///       +----------------+----------------+----------------+
///                                         ^
///                                         |
///                                         |
///
/// On an explicit free list the first payload cell of a free block holds its
/// link ("next $040", "next null"); the arrow marks the break. Offsets count
/// from BlockHeap::begin(), the first byte a block can occupy, as check()
/// reports them.
#pragma once

#include <concepts>
#include <cstddef>
#include <string>

#include "stage2_free_list/block_heap.hpp"
#include "stage2_free_list/explicit_free_list.hpp"
#include "stage2_free_list/free_list_allocator.hpp"

namespace heaplab {

/// Draws every block of \p allocator's heap, cell by cell, with the link
/// of each free block in its first payload cell and the arrow under the
/// break. The last row is filled up with cells past the break ("not yet
/// used"), as far as the heap reaches.
///
/// Example (the heap above):
///
///     alignas(8) std::byte region[72];  // 8 bytes of start map, 64 for blocks
///     ExplicitListAllocator heap(region);
///     void* a = heap.allocate(16);
///     void* b = heap.allocate(8);
///     heap.deallocate(b);
///     std::puts(draw_blocks(heap).c_str());
///
/// Meant for small heaps: a 1 KiB block alone takes 128 boxes (see
/// draw_block_map() for big ones). Assumes a sound heap (check() passes).
[[nodiscard]] std::string draw_blocks(const ExplicitListAllocator& allocator,
                                      std::size_t cells_per_row = 5);

/// Draws every block of \p allocator's heap as draw_blocks() does for an
/// explicit list, except that free blocks show no link: an implicit list has
/// none, so their payload cells are all "Free".
///
/// Example:
///
///     ImplicitListAllocator heap(region);
///     heap.deallocate(heap.allocate(16));
///     std::puts(draw_blocks(heap, 4).c_str());  // size 32 | F, req 0, Free, Free
[[nodiscard]] std::string draw_blocks(const ImplicitListAllocator& allocator,
                                      std::size_t cells_per_row = 5);

/// Draws every block of \p heap as draw_blocks() does for an explicit list:
/// the first payload cell of each free block shows its link. For any free
/// list that links its blocks through an ExplicitFreeList (later chapters
/// keep one inside their own free list); the draw_blocks() overloads call it.
/// Precondition: every free block of \p heap is on such a list.
[[nodiscard]] std::string draw_linked_blocks(const BlockHeap& heap, std::size_t cells_per_row = 5);

/// A free list that keeps its blocks on an ExplicitFreeList and shows it as
/// `list()`, as chapter 3's FitFreeList does: the diagrams of an explicit
/// list serve its allocator too.
template <class FreeBlocks>
concept HasExplicitList = requires(const FreeBlocks& blocks) {
  { blocks.list() } -> std::same_as<const ExplicitFreeList&>;
};

/// Draws every block of an allocator whose free list keeps an explicit list
/// inside (see HasExplicitList), links and all, like the explicit list's
/// draw_blocks().
///
/// Example (chapter 3):
///
///     FirstFitAllocator heap(region);
///     std::puts(draw_blocks(heap).c_str());
template <HasExplicitList FreeBlocks>
[[nodiscard]] std::string draw_blocks(const FreeListAllocator<FreeBlocks>& allocator,
                                      std::size_t cells_per_row = 5) {
  return draw_linked_blocks(allocator.heap(), cells_per_row);
}

/// A free list that links its own blocks through FreeLinks, as
/// ExplicitFreeList does: a head() and a static next(). A list written to
/// ExplicitFreeList's model (stage2_free_list/your_turn/) is drawn as it is.
template <class FreeBlocks>
concept LinksFreeBlocks = requires(const FreeBlocks& blocks, BlockHeader& block) {
  { blocks.head() } -> std::convertible_to<BlockHeader*>;
  { FreeBlocks::next(block) } -> std::convertible_to<BlockHeader*>;
};

/// Draws every block of an allocator whose free list links its blocks
/// itself (see LinksFreeBlocks), links and all, like the explicit list's
/// draw_blocks().
template <LinksFreeBlocks FreeBlocks>
[[nodiscard]] std::string draw_blocks(const FreeListAllocator<FreeBlocks>& allocator,
                                      std::size_t cells_per_row = 5) {
  return draw_linked_blocks(allocator.heap(), cells_per_row);
}

/// The free list of \p heap that starts at \p head, followed through the
/// FreeLinks, on one line (see the overload below).
[[nodiscard]] std::string draw_free_list(const BlockHeap& heap, BlockHeader* head);

/// The free list \p list of \p heap on one line, in list order (the order a
/// search visits the blocks), each block by its offset.
///
/// Example, after freeing the block at $000 and then the one at $058:
///
///     std::puts(draw_free_list(heap.heap(), heap.free_list()).c_str());
///     // free list: head -> $058 -> $000 -> null
///
/// Assumes a sound list (check() passes): a cycle would never end.
[[nodiscard]] std::string draw_free_list(const BlockHeap& heap, const ExplicitFreeList& list);

/// The explicit free list of \p allocator on one line (see above):
/// `draw_free_list(heap)` prints `free list: head -> $058 -> $000 -> null`.
[[nodiscard]] std::string draw_free_list(const ExplicitListAllocator& allocator);

/// The free list of \p allocator, one that links its own blocks (see
/// LinksFreeBlocks), on one line, in the order a search visits the blocks.
template <LinksFreeBlocks FreeBlocks>
[[nodiscard]] std::string draw_free_list(const FreeListAllocator<FreeBlocks>& allocator) {
  return draw_free_list(allocator.heap(), allocator.free_list().head());
}

/// The explicit list inside the free list of \p allocator (see
/// HasExplicitList) on one line, in the order a search visits the blocks.
template <HasExplicitList FreeBlocks>
[[nodiscard]] std::string draw_free_list(const FreeListAllocator<FreeBlocks>& allocator) {
  return draw_free_list(allocator.heap(), allocator.free_list().list());
}

/// Every block of \p heap on one line, in address order: `[A 32]` for an
/// allocated block of 32 bytes, `[F 48]` for a free one, with sizes that
/// include the header. After \p max_blocks blocks the rest is summarised.
/// It takes the BlockHeap (`allocator.heap()`) because the blocks do not
/// depend on the kind of free list.
///
/// Example:
///
///     std::puts(draw_block_map(heap.heap(), 3).c_str());
///     // [A 32][F 48][A 24] ... and 97 more blocks
[[nodiscard]] std::string draw_block_map(const BlockHeap& heap, std::size_t max_blocks = 16);

/// Every block of \p heap on a line of its own, in address order: its
/// offset, `A` or `F`, its size (header included) and, for an allocated
/// block, the bytes requested. A narrow picture, made to stand beside the
/// same heap under another allocator (see side_by_side()).
///
/// Example:
///
///     std::puts(draw_block_lines(heap.heap()).c_str());
///     // $000  A   48  req 24
///     // $030  F  200
///
/// Meant for heaps of a few dozen blocks at most.
[[nodiscard]] std::string draw_block_lines(const BlockHeap& heap);

}  // namespace heaplab
