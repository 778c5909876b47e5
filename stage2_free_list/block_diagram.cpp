#include "stage2_free_list/block_diagram.hpp"

#include <algorithm>
#include <cstdio>
#include <string_view>
#include <vector>

#include "stage1_static_bump/heap_diagram.hpp"

namespace heaplab {
namespace {

static_assert(kBlockGranularity == kCellBytes, "every block is a whole number of picture cells");
static_assert(kHeaderSize == 2 * kCellBytes, "a header is drawn as two cells: size, requested");

/// The first header cell: "size 32 | A" or "size 48 | F".
std::string size_cell(const BlockHeader& header) {
  return "size " + std::to_string(block_size(header)) + (is_allocated(header) ? " | A" : " | F");
}

/// The second header cell: "req 20".
std::string requested_cell(const BlockHeader& header) {
  return "req " + std::to_string(header.requested);
}

/// The link a free block keeps on an explicit list: "next $040" or "next null".
std::string link_cell(const BlockHeap& heap, BlockHeader& block) {
  const BlockHeader* const next = ExplicitFreeList::next(block);
  return next == nullptr ? "next null" : "next " + format_offset(heap.offset_of(next));
}

/// One label per cell from begin() to the break; \p shows_links says whether
/// free blocks carry an explicit-list link in their first payload cell.
std::vector<std::string> block_cells(const BlockHeap& heap, bool shows_links) {
  std::vector<std::string> cells;
  heap.for_each_header([&](BlockHeader& header) {
    const bool allocated = is_allocated(header);
    cells.push_back(size_cell(header));
    cells.push_back(requested_cell(header));
    const std::size_t payload_cells = payload_capacity(header) / kCellBytes;
    for (std::size_t cell = 0; cell < payload_cells; ++cell) {
      if (cell == 0 && shows_links && !allocated) {
        cells.push_back(link_cell(heap, header));
      } else {
        cells.emplace_back(cell_label(allocated ? BlockState::allocated : BlockState::free));
      }
    }
  });
  return cells;
}

std::string draw(const BlockHeap& heap, bool shows_links, std::size_t cells_per_row) {
  cells_per_row = std::max<std::size_t>(cells_per_row, 1);
  std::vector<std::string> cells = block_cells(heap, shows_links);
  // Complete the last row (or, with no block yet, draw one) with cells past
  // the break, as far as the heap reaches.
  const std::size_t to_row_end =
      cells.empty() ? cells_per_row : (cells_per_row - cells.size() % cells_per_row) % cells_per_row;
  const std::size_t past_break = (heap.capacity() - heap.used()) / kCellBytes;
  cells.resize(cells.size() + std::min(to_row_end, past_break), "not yet used");
  if (cells.empty()) return "(an empty heap: no room for a single block)";
  const std::vector<std::string_view> labels(cells.begin(), cells.end());
  return draw_cells(labels, 0, heap.used(), cells_per_row);
}

}  // namespace

std::string draw_linked_blocks(const BlockHeap& heap, std::size_t cells_per_row) {
  return draw(heap, true, cells_per_row);
}

std::string draw_blocks(const ExplicitListAllocator& allocator, std::size_t cells_per_row) {
  return draw_linked_blocks(allocator.heap(), cells_per_row);
}

std::string draw_blocks(const ImplicitListAllocator& allocator, std::size_t cells_per_row) {
  return draw(allocator.heap(), false, cells_per_row);
}

std::string draw_free_list(const BlockHeap& heap, BlockHeader* head) {
  std::string line = "free list: head";
  for (BlockHeader* block = head; block != nullptr; block = free_link(*block).next) {
    line += " -> " + format_offset(heap.offset_of(block));
  }
  return line + " -> null";
}

std::string draw_free_list(const BlockHeap& heap, const ExplicitFreeList& list) {
  return draw_free_list(heap, list.head());
}

std::string draw_free_list(const ExplicitListAllocator& allocator) {
  return draw_free_list(allocator.heap(), allocator.free_list());
}

std::string draw_block_map(const BlockHeap& heap, std::size_t max_blocks) {
  std::vector<BlockView> blocks;
  heap.for_each_header([&](const BlockHeader& header) {
    blocks.push_back({0, heap.offset_of(&header), block_size(header),
                      is_allocated(header) ? BlockState::allocated : BlockState::free});
  });
  return heaplab::draw_block_map(blocks, max_blocks);  // stage 1's picture of a block walk
}

std::string draw_block_lines(const BlockHeap& heap) {
  // Sizes are right-aligned to the widest one, so the columns line up.
  std::size_t widest = 0;
  heap.for_each_header([&](const BlockHeader& header) { widest = std::max(widest, block_size(header)); });
  const int size_width = static_cast<int>(std::to_string(widest).size());
  std::string lines;
  heap.for_each_header([&](const BlockHeader& header) {
    char line[96];
    std::snprintf(line, sizeof line, "%s  %c  %*zu", format_offset(heap.offset_of(&header)).c_str(),
                  is_allocated(header) ? 'A' : 'F', size_width, block_size(header));
    if (!lines.empty()) lines += '\n';
    lines += line;
    if (is_allocated(header)) lines += "  req " + std::to_string(header.requested);
  });
  return lines.empty() ? "(no blocks yet)" : lines;
}

}  // namespace heaplab
