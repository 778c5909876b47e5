/// \file
/// ASCII pictures of live heap state, in the style of the classic bump-allocator primers:
///
///       $000             $008             $010             $018             $020
///       +----------------+----------------+----------------+----------------+----------------+
///       |                |                |                |                |                |
///       |   Allocated    |      Free      |      Free      |      Free      |      Free      |
///       |                |                |                |                |                |
///       +----------------+----------------+----------------+----------------+----------------+
///                        ^
///                        |
///                        |
///
/// One box is one 8-byte cell, labelled with its hexadecimal offset; the arrow
/// marks a position of interest, usually the bump pointer. Later chapters
/// draw their own cell labels ("Header", ...) with the same draw_cells().
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stage1_static_bump/bump_allocator.hpp"
#include "stage1_static_bump/contract.hpp"

namespace heaplab {

/// Bytes per cell in every heap picture of the course.
inline constexpr std::size_t kCellBytes = 8;

/// "$000", "$018", "$A00000": a byte offset in the primer's hexadecimal
/// style, as the pictures label their cells.
[[nodiscard]] std::string format_offset(std::size_t offset);

/// Label of a cell in a block of state \p state: "Allocated" or "Free".
[[nodiscard]] std::string_view cell_label(BlockState state) noexcept;

/// Draws one box per label, \p cells_per_row boxes per row. The first box
/// is at byte \p first_offset; an arrow points at the cell boundary at byte
/// \p arrow_offset when it falls inside the picture.
[[nodiscard]] std::string draw_cells(std::span<const std::string_view> labels,
                                     std::size_t first_offset,
                                     std::optional<std::size_t> arrow_offset,
                                     std::size_t cells_per_row = 5);

/// Labels of \p count cells of region 0 of \p allocator, starting at cell
/// \p first_cell, read from its block walk. A cell takes the label of the
/// block its first byte lies in; cells past the region's end are left out.
template <Allocator A>
[[nodiscard]] std::vector<std::string_view> cell_labels(const A& allocator, std::size_t first_cell,
                                                        std::size_t count) {
  std::vector<std::string_view> labels;
  allocator.for_each_block([&](const BlockView& block) {
    if (block.region != 0) return;
    for (std::size_t cell = first_cell + labels.size(); cell < first_cell + count; ++cell) {
      const std::size_t at = cell * kCellBytes;
      if (at < block.offset || at >= block.offset + block.size) break;
      labels.push_back(cell_label(block.state));
    }
  });
  return labels;
}

/// The picture of a bump heap: \p count cells from \p first_cell, drawn
/// \p cells_per_row to a row, with the arrow under the bump pointer. Any
/// bump step: the course's BumpAllocator, or one with a step of your own.
template <BumpStepFunction Step>
[[nodiscard]] std::string draw_heap(const BasicBumpAllocator<Step>& heap, std::size_t first_cell = 0,
                                    std::size_t count = 5, std::size_t cells_per_row = 5) {
  const std::vector<std::string_view> labels = cell_labels(heap, first_cell, count);
  return draw_cells(labels, first_cell * kCellBytes, heap.used(), cells_per_row);
}

/// "40 B", "1.5 KiB", "10.0 MiB": a byte count for people.
[[nodiscard]] std::string format_bytes(std::size_t bytes);

/// Sets multi-line pictures side by side, one column each, so that the
/// same heap under several allocators can be compared line by line. Each
/// column is as wide as its longest line; columns are \p gap spaces apart;
/// a shorter column is continued with blank lines. No padding is added at
/// the end of a line, and the result ends without a newline. Widths count
/// bytes: meant for ASCII pictures.
///
/// Example:
///
///     const std::string columns[] = {"first\n[A 32]\n[F 48]", "best\n[A 32]"};
///     std::puts(side_by_side(columns, 2).c_str());
///     // first   best
///     // [A 32]  [A 32]
///     // [F 48]
[[nodiscard]] std::string side_by_side(std::span<const std::string> columns, std::size_t gap = 3);

/// \p blocks on one line, in order: `[A 32]` for an allocated block of 32
/// bytes, `[F 48]` for a free one; after \p max_blocks blocks the rest is
/// summarised (" ... and 97 more blocks"); "(no blocks yet)" for none.
[[nodiscard]] std::string draw_block_map(std::span<const BlockView> blocks, std::size_t max_blocks = 16);

/// draw_block_map() of \p allocator's block walk: the one-line picture of
/// any allocator of the course (`heaplab map` draws one after each step).
/// A bump heap, which keeps no block boundaries, shows its used part as
/// one allocated stretch and the rest of its region as one free block.
template <Allocator A>
[[nodiscard]] std::string draw_block_walk(const A& allocator, std::size_t max_blocks = 16) {
  std::vector<BlockView> blocks;
  allocator.for_each_block([&blocks](const BlockView& block) { blocks.push_back(block); });
  return draw_block_map(blocks, max_blocks);
}

/// A one-line gauge of a large heap, e.g.
/// `[#######.............................]  2.0 MiB of 10.0 MiB used (20.0%)`.
[[nodiscard]] std::string draw_usage(const HeapStats& stats, std::size_t width = 40);

}  // namespace heaplab
