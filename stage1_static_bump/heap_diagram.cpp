#include "stage1_static_bump/heap_diagram.hpp"

#include <algorithm>
#include <cstdio>

namespace heaplab {
namespace {

constexpr std::size_t kBoxWidth = 16;          // characters inside one box
constexpr std::size_t kColumn = kBoxWidth + 1; // a box and its left border
constexpr std::string_view kIndent = "  ";

/// \p text centred in a box, the extra space on the right as in the primer.
std::string centred(std::string_view text) {
  const std::size_t shown = std::min(text.size(), kBoxWidth);
  const std::size_t left = (kBoxWidth - shown) / 2;
  std::string box(kBoxWidth, ' ');
  box.replace(left, shown, text.substr(0, shown));
  return box;
}

void draw_row(std::string& out, std::span<const std::string_view> labels, std::size_t first_offset,
              std::optional<std::size_t> arrow_column) {
  std::string offsets(kIndent);
  std::string border(kIndent);
  std::string blank(kIndent);
  std::string text(kIndent);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    offsets.resize(kIndent.size() + i * kColumn, ' ');
    offsets += format_offset(first_offset + i * kCellBytes);
    border += '+' + std::string(kBoxWidth, '-');
    blank += '|' + std::string(kBoxWidth, ' ');
    text += '|' + centred(labels[i]);
  }
  border += "+\n";
  blank += "|\n";
  out += offsets + '\n' + border + blank + text + "|\n" + blank + border;
  if (arrow_column) {
    const std::string under(kIndent.size() + *arrow_column * kColumn, ' ');
    out += under + "^\n" + under + "|\n" + under + "|\n";
  }
}

/// The lines of \p text, without their '\n' (a final '\n' ends the last
/// line rather than starting an empty one).
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    lines.push_back(text.substr(0, end));
    text.remove_prefix(std::min(end + 1, text.size()));
  }
  return lines;
}

}  // namespace

std::string format_offset(std::size_t offset) {
  char text[24];
  std::snprintf(text, sizeof text, "$%03zX", offset);
  return text;
}

std::string_view cell_label(BlockState state) noexcept {
  return state == BlockState::allocated ? "Allocated" : "Free";
}

// [draw_cells]
std::string draw_cells(std::span<const std::string_view> labels, std::size_t first_offset,
                       std::optional<std::size_t> arrow_offset, std::size_t cells_per_row) {
  cells_per_row = std::max<std::size_t>(cells_per_row, 1);
  const std::size_t rows = std::max<std::size_t>((labels.size() + cells_per_row - 1) / cells_per_row, 1);
  // The arrow points at a cell boundary: boundary k is the left edge of cell k.
  std::optional<std::size_t> arrow_boundary;
  if (arrow_offset && *arrow_offset >= first_offset &&
      *arrow_offset <= first_offset + labels.size() * kCellBytes) {
    arrow_boundary = (*arrow_offset - first_offset) / kCellBytes;
  }
  std::string out;
  for (std::size_t row = 0; row < rows; ++row) {
    const std::size_t first = row * cells_per_row;
    const std::size_t count = std::min(cells_per_row, labels.size() - std::min(first, labels.size()));
    std::optional<std::size_t> column;
    // A boundary at the end of a full row is drawn at the start of the next
    // row, unless this is the last row.
    if (arrow_boundary && *arrow_boundary >= first &&
        (*arrow_boundary < first + count || row + 1 == rows)) {
      column = *arrow_boundary - first;
    }
    if (row > 0) out += '\n';
    draw_row(out, labels.subspan(first, count), first_offset + first * kCellBytes, column);
  }
  return out;
}
// [draw_cells]

std::string format_bytes(std::size_t bytes) {
  constexpr std::string_view units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  auto value = static_cast<double>(bytes);
  std::size_t unit = 0;
  // Move up a unit once the value would print as 1024.0 (rounding to one
  // decimal happens after the unit is chosen).
  while (value >= 1023.95 && unit + 1 < std::size(units)) {
    value /= 1024.0;
    ++unit;
  }
  char text[32];
  if (unit == 0) {
    std::snprintf(text, sizeof text, "%zu B", bytes);
  } else {
    std::snprintf(text, sizeof text, "%.1f %.*s", value, static_cast<int>(units[unit].size()),
                  units[unit].data());
  }
  return text;
}

// [side_by_side]
std::string side_by_side(std::span<const std::string> columns, std::size_t gap) {
  std::vector<std::vector<std::string_view>> lines;
  std::vector<std::size_t> widths;
  std::size_t rows = 0;
  for (const std::string& column : columns) {
    lines.push_back(split_lines(column));
    std::size_t width = 0;
    for (const std::string_view line : lines.back()) width = std::max(width, line.size());
    widths.push_back(width);
    rows = std::max(rows, lines.back().size());
  }
  std::string out;
  for (std::size_t row = 0; row < rows; ++row) {
    if (row > 0) out += '\n';
    const std::size_t line_start = out.size();
    std::size_t column_start = 0;  // where this column begins on the line
    for (std::size_t column = 0; column < lines.size(); ++column) {
      // Pad up to a column only when it has text here: no trailing spaces.
      if (row < lines[column].size() && !lines[column][row].empty()) {
        out.resize(line_start + column_start, ' ');
        out += lines[column][row];
      }
      column_start += widths[column] + gap;
    }
  }
  return out;
}
// [side_by_side]

std::string draw_usage(const HeapStats& stats, std::size_t width) {
  const double fraction =
      stats.capacity == 0 ? 0.0 : static_cast<double>(stats.used) / static_cast<double>(stats.capacity);
  const auto filled = static_cast<std::size_t>(fraction * static_cast<double>(width) + 0.5);
  std::string bar = '[' + std::string(std::min(filled, width), '#') +
                    std::string(width - std::min(filled, width), '.') + ']';
  char percent[16];
  std::snprintf(percent, sizeof percent, "%.1f%%", 100.0 * fraction);
  return bar + "  " + format_bytes(stats.used) + " of " + format_bytes(stats.capacity) + " used (" +
         percent + ")";
}

std::string draw_block_map(std::span<const BlockView> blocks, std::size_t max_blocks) {
  if (blocks.empty()) return "(no blocks yet)";
  std::string line;
  for (const BlockView& block : blocks.first(std::min(blocks.size(), max_blocks))) {
    line += block.state == BlockState::allocated ? "[A " : "[F ";
    line += std::to_string(block.size) + ']';
  }
  if (blocks.size() > max_blocks) {
    const std::size_t rest = blocks.size() - max_blocks;
    line += " ... and " + std::to_string(rest) + (rest == 1 ? " more block" : " more blocks");
  }
  return line;
}

}  // namespace heaplab
