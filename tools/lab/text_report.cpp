#include "tools/lab/text_report.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <charconv>
#include <cmath>
#include <ostream>
#include <sstream>

namespace heaplab {

void TextTable::add_row(std::vector<std::string> cells) {
  assert(cells.size() <= columns_.size() && "a row has at most one cell per column");
  rows_.push_back(std::move(cells));
}

void TextTable::write(std::ostream& out, std::string_view indent) const {
  const std::vector<std::size_t> width = widths();
  std::vector<std::string> headings;
  std::vector<std::string> rules;
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    headings.push_back(columns_[i].heading);
    rules.emplace_back(width[i], '-');
  }
  write_line(out, indent, headings, width);
  write_line(out, indent, rules, width);
  for (const std::vector<std::string>& row : rows_) write_line(out, indent, row, width);
}

bool TextTable::runs_on(const std::vector<std::string>& row, std::size_t column) const noexcept {
  return row.size() < columns_.size() && column + 1 == row.size();
}

std::vector<std::size_t> TextTable::widths() const {
  std::vector<std::size_t> width;
  for (const Column& column : columns_) width.push_back(column.heading.size());
  for (const std::vector<std::string>& row : rows_) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (!runs_on(row, i)) width[i] = std::max(width[i], row[i].size());
    }
  }
  return width;
}

void TextTable::write_line(std::ostream& out, std::string_view indent, const std::vector<std::string>& cells,
                           const std::vector<std::size_t>& widths) const {
  std::string line(indent);
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i != 0) line += "  ";
    // widths() made every column at least as wide as its cells, run-on ones aside.
    const std::size_t padding = runs_on(cells, i) ? 0 : widths[i] - cells[i].size();
    if (columns_[i].align == Align::right) line.append(padding, ' ');
    line += cells[i];
    if (columns_[i].align == Align::left) line.append(padding, ' ');
  }
  line.erase(line.find_last_not_of(' ') + 1);  // a left-aligned last column pads nothing
  out << line << '\n';
}

std::string fixed(double value, int decimals) {
  // Large enough for any double in fixed notation (at most 309 digits before the point).
  std::array<char, 512> buffer{};
  const auto result =
      std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::fixed, decimals);
  assert(result.ec == std::errc{} && "the buffer holds any double with a few decimals");
  return std::string(buffer.data(), result.ptr);
}

std::string exact(double value) {
  std::array<char, 64> buffer{};  // the shortest round-trip form is at most 24 characters
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  assert(result.ec == std::errc{} && "the buffer holds any double's shortest form");
  return std::string(buffer.data(), result.ptr);
}

std::string counted(std::size_t count, std::string_view noun) {
  return std::to_string(count) + ' ' + std::string(noun) + (count == 1 ? "" : "s");
}

std::string format_percent(double ratio) { return fixed(ratio * 100, 1) + '%'; }

std::string format_speed(double speed) {
  // Two decimals, or two significant digits below 0.1, so that a slow
  // allocator reads 0.0042x rather than 0.00x.
  int decimals = 2;
  if (speed > 0 && speed < 0.1) decimals = std::min(1 - static_cast<int>(std::floor(std::log10(speed))), 9);
  return fixed(speed, decimals) + 'x';
}

std::string trace_heading(std::string_view name, const Trace& trace) {
  return std::string(name) + ": " + std::to_string(trace.ops.size()) + " operations, peak of live requests " +
         format_bytes(peak_live_bytes(trace));
}

std::string_view outcome_name(ReplayOutcome outcome) noexcept {
  switch (outcome) {
    case ReplayOutcome::completed: return "completed";
    case ReplayOutcome::out_of_memory: return "out of memory";
    case ReplayOutcome::check_failed: return "check failed";
    case ReplayOutcome::payload_damaged: return "payload damaged";
    case ReplayOutcome::refused_with_room: return "refused with room";
    case ReplayOutcome::crashed: return "crashed";
  }
  return "?";  // unreachable: every outcome is named above
}

std::vector<TextTable::Column> space_columns() {
  return {{"utilization", Align::right},
          {"peak heap", Align::right},
          {"internal frag.", Align::right},
          {"external frag.", Align::right},
          {"visited/alloc", Align::right}};
}

std::vector<std::string> space_cells(const SpaceMeasures& space) {
  return {format_or_dash(space.utilization, format_percent),
          format_or_dash(space.peak_heap, format_bytes),
          format_or_dash(space.internal_fragmentation, format_bytes),
          format_or_dash(space.external_fragmentation, format_percent),
          format_or_dash(space.visited_per_allocation, [](double visited) { return fixed(visited, 2); })};
}

std::vector<LegendEntry> space_legend() {
  return {
      {"utilization", "peak live requested bytes / peak heap (CS:APP's measure); higher is better"},
      {"peak heap", "the heap's high-water mark: the most bytes it ever spanned"},
      {"internal frag.", "bytes of live blocks beyond their requests (headers, rounding), at the trace's peak"},
      {"external frag.", "1 - largest free block / free bytes, at the trace's peak"},
      {"visited/alloc", "blocks a search looked at per allocation, on average (stage 1 searches none)"},
  };
}

LegendEntry no_value_legend() {
  return {std::string(kNoValue),
          "not measurable: glibc and pmr-pool run on the process heap, not the lab's, and keep\n"
          "no statistics the lab can read (glibc's internal frag. comes from malloc_usable_size)"};
}

void write_legend(std::ostream& out, const std::vector<LegendEntry>& entries) {
  std::size_t term_width = 0;
  for (const LegendEntry& entry : entries) term_width = std::max(term_width, entry.term.size());
  out << "Legend\n";
  for (const LegendEntry& entry : entries) {
    // The term on the meaning's first line only; every line in the same column.
    std::string_view term = entry.term;
    std::istringstream meaning(entry.meaning);
    for (std::string line; std::getline(meaning, line); term = {}) {
      out << "  " << term << std::string(term_width - term.size() + 2, ' ') << line << '\n';
    }
  }
}

}  // namespace heaplab
