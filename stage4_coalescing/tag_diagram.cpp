#include "stage4_coalescing/tag_diagram.hpp"

#include <algorithm>
#include <string_view>
#include <utility>

#include "stage1_static_bump/heap_diagram.hpp"

namespace heaplab {
namespace {

static_assert(kFooterSize == kCellBytes, "a footer is drawn as one cell");
static_assert(2 * sizeof(void*) == 2 * kCellBytes, "a free block's two links are drawn as two cells");

/// The flags of a header or footer word: "A" or "F", with the P bit in
/// front under footer elision ("P=1 A").
std::string flags_text(std::size_t size_and_flags, Footers footers) {
  std::string flags;
  if (footers == Footers::free_blocks_only) flags = (size_and_flags & kPrevAllocatedBit) != 0 ? "P=1 " : "P=0 ";
  return flags + ((size_and_flags & kAllocatedBit) != 0 ? 'A' : 'F');
}

/// A header or footer cell, as chapter 2's pictures write the size word:
/// "size 40 | A", "foot 40 | P=1 F".
std::string tag_cell(std::string_view name, std::size_t size_and_flags, Footers footers) {
  return std::string(name) + ' ' + std::to_string(size_and_flags & ~kFlagMask) + " | " +
         flags_text(size_and_flags, footers);
}

/// The link cell of a free block: "next $040", "prev null".
std::string link_cell(std::string_view name, const BlockHeap& heap, const BlockHeader* link) {
  std::string cell(name);
  cell += ' ';
  cell += link == nullptr ? std::string("null") : format_offset(heap.offset_of(link));
  return cell;
}

/// True when \p block ends with a footer: every block under
/// Footers::everywhere, only free ones under elision, and the prologue,
/// which open_region() gives a footer in either case.
bool keeps_footer(const BlockHeap& heap, BlockHeader& block, Footers footers) {
  return footers == Footers::everywhere || !is_allocated(block) || &block == heap.first();
}

/// The prologue's P bit is never read (no block lies in front of it), so
/// the pictures show its words without one.
Footers tag_style(const BlockHeap& heap, const BlockHeader& block, Footers footers) {
  return &block == heap.first() ? Footers::everywhere : footers;
}

/// Appends the labels of \p block's cells to \p cells.
void add_block_cells(std::vector<std::string>& cells, const BlockHeap& heap, BlockHeader& block,
                     Footers footers) {
  const Footers style = tag_style(heap, block, footers);
  const bool allocated = is_allocated(block);
  const bool footer = keeps_footer(heap, block, footers);
  cells.push_back(tag_cell("size", block.size_and_flags, style));
  cells.push_back("req " + std::to_string(block.requested));
  const std::size_t payload_cells = (payload_capacity(block) - (footer ? kFooterSize : 0)) / kCellBytes;
  for (std::size_t cell = 0; cell < payload_cells; ++cell) {
    if (!allocated && cell == 0) {
      cells.push_back(link_cell("next", heap, LinkedFreeList::next(block)));
    } else if (!allocated && cell == 1) {
      cells.push_back(link_cell("prev", heap, LinkedFreeList::prev(block)));
    } else {
      cells.emplace_back(cell_label(allocated ? BlockState::allocated : BlockState::free));
    }
  }
  if (footer) cells.push_back(tag_cell("foot", footer_of(block).size_and_flags, style));
}

/// The epilogue: the header past the break.
BlockHeader& epilogue_of(const BlockHeap& heap) { return *header_at(heap.brk()); }

}  // namespace

std::string format_tag(std::size_t size_and_flags, Footers footers) {
  return std::to_string(size_and_flags & ~kFlagMask) + ' ' + flags_text(size_and_flags, footers);
}

// [draw_tagged_blocks]
std::string draw_tagged_blocks(const BlockHeap& heap, Footers footers, std::size_t cells_per_row) {
  if (heap.first() == nullptr) return "(an empty region: no room for a prologue and a block)";
  cells_per_row = std::max<std::size_t>(cells_per_row, 1);
  std::vector<std::string> cells;
  // A region's walk starts at its prologue.
  heap.for_each_header([&](BlockHeader& block) { add_block_cells(cells, heap, block, footers); });
  // The epilogue: a header only, past the break.
  const BlockHeader& epilogue = epilogue_of(heap);
  cells.push_back(tag_cell("size", epilogue.size_and_flags, footers));
  cells.push_back("req " + std::to_string(epilogue.requested));
  // Complete the last row with the bytes past the epilogue, as far as the
  // heap reaches.
  const std::size_t to_row_end = (cells_per_row - cells.size() % cells_per_row) % cells_per_row;
  const std::size_t past_epilogue = (heap.capacity() - heap.used() - kHeaderSize) / kCellBytes;
  cells.resize(cells.size() + std::min(to_row_end, past_epilogue), "not yet used");
  const std::vector<std::string_view> labels(cells.begin(), cells.end());
  return draw_cells(labels, 0, heap.used(), cells_per_row);
}
// [draw_tagged_blocks]

std::string draw_tag_lines(const BlockHeap& heap, Footers footers) {
  if (heap.first() == nullptr) return "(an empty region: no room for a prologue and a block)";
  // One row per block: offset, header word, payload, footer word (or none).
  struct Row {
    std::string offset, header, payload, footer;
  };
  std::vector<Row> rows;
  heap.for_each_header([&](BlockHeader& block) {  // the prologue first
    const Footers style = tag_style(heap, block, footers);
    Row row{format_offset(heap.offset_of(&block)), format_tag(block.size_and_flags, style), "", ""};
    if (&block == heap.first()) {
      row.payload = "prologue";
    } else if (is_allocated(block)) {
      row.payload = "req " + std::to_string(block.requested);
    } else {
      row.payload = link_cell("next", heap, LinkedFreeList::next(block)) + ' ' +
                    link_cell("prev", heap, LinkedFreeList::prev(block));
    }
    if (keeps_footer(heap, block, footers)) row.footer = format_tag(footer_of(block).size_and_flags, style);
    rows.push_back(std::move(row));
  });
  rows.push_back({format_offset(heap.used()), format_tag(epilogue_of(heap).size_and_flags, footers), "epilogue", ""});
  // Header words right-aligned, so that the sizes line up; payloads padded.
  std::size_t header_width = 0;
  std::size_t payload_width = 0;
  for (const Row& row : rows) {
    header_width = std::max(header_width, row.header.size());
    payload_width = std::max(payload_width, row.payload.size());
  }
  std::string out;
  for (const Row& row : rows) {
    if (!out.empty()) out += '\n';
    out += row.offset + "  [" + std::string(header_width - row.header.size(), ' ') + row.header + "]  " + row.payload;
    if (!row.footer.empty()) {
      out += std::string(payload_width - row.payload.size(), ' ') + "  [" +
             std::string(header_width - row.footer.size(), ' ') + row.footer + ']';
    }
  }
  return out;
}

std::string format_block_offset(std::span<const BlockHeap* const> regions, const BlockHeader& block) {
  for (std::size_t index = 0; index < regions.size(); ++index) {
    if (!regions[index]->contains(&block)) continue;
    const std::string offset = format_offset(regions[index]->offset_of(&block));
    return index == 0 ? offset : offset + " in region " + std::to_string(index);
  }
  return "(not in this heap)";
}

std::string draw_free_list(std::span<const BlockHeap* const> regions, const LinkedFreeList& list) {
  std::string line = "free list: head";
  list.for_each([&](const BlockHeader& block) { line += " -> " + format_block_offset(regions, block); });
  return line + " -> null";
}

}  // namespace heaplab
