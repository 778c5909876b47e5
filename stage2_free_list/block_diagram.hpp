/// \file
/// Pictures of a stage-2 heap, in the style of the bump primer: one box per
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

#include <cstddef>
#include <string>

#include "stage2_free_list/block_heap.hpp"
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

/// The explicit free list of \p allocator on one line, in list order (the
/// order a search visits the blocks), each block by its offset.
///
/// Example, after freeing the block at $000 and then the one at $058:
///
///     std::puts(draw_free_list(heap).c_str());
///     // free list: head -> $058 -> $000 -> null
///
/// Assumes a sound list (check() passes): a cycle would never end.
[[nodiscard]] std::string draw_free_list(const ExplicitListAllocator& allocator);

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

}  // namespace heaplab
