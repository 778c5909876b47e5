/// \file
/// The words and numbers of the strategy lab's reports: an aligned text
/// table, and one way to write each kind of value in it, so `heaplab
/// replay` and `heaplab compare` print every measure alike.
///
///     allocator      utilization  peak heap
///     -------------  -----------  ---------
///     first-fit            87.3%    1.4 MiB
///     bump           line 1238: r 2 4000: the allocator returned nullptr (out of memory)
///
/// A row with fewer cells than the table has columns lets its last cell run
/// on over the rest (the reason a replay failed, in place of its numbers).
#pragma once

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stage1_static_bump/heap_diagram.hpp"  // format_bytes(): byte counts as every chapter writes them
#include "tools/lab/replay.hpp"
#include "tools/trace/trace.hpp"

namespace heaplab {

/// Where a column's cells sit: words to the left, numbers to the right.
enum class Align : unsigned char {
  left,   ///< Padded after the text.
  right,  ///< Padded before the text, so digits line up.
};

/// A table of text, written with every column as wide as its widest cell.
class TextTable {
 public:
  /// One column: its heading and its alignment.
  struct Column {
    std::string heading;  ///< Written above a rule of dashes as wide as the column.
    Align align;          ///< How its cells are padded.
  };

  /// A table with \p columns and no rows yet.
  explicit TextTable(std::vector<Column> columns) : columns_(std::move(columns)) {}

  /// Adds a row of at most as many cells as there are columns. With fewer,
  /// the last cell runs on over the columns left, and does not widen them.
  void add_row(std::vector<std::string> cells);

  /// Writes the headings, a rule, and the rows, each line starting with
  /// \p indent; two spaces between columns, no spaces at the ends of lines.
  void write(std::ostream& out, std::string_view indent = "") const;

 private:
  /// True when cell \p column of \p row runs on over the columns after it.
  [[nodiscard]] bool runs_on(const std::vector<std::string>& row, std::size_t column) const noexcept;
  /// The width of every column: its widest heading or cell (run-on cells aside).
  [[nodiscard]] std::vector<std::size_t> widths() const;
  /// Writes one line of \p cells, padded to \p widths.
  void write_line(std::ostream& out, std::string_view indent, const std::vector<std::string>& cells,
                  const std::vector<std::size_t>& widths) const;

  std::vector<Column> columns_;                 ///< The columns, left to right.
  std::vector<std::vector<std::string>> rows_;  ///< Every row: at most columns_.size() cells.
};

/// What the lab writes for a missing measure.
inline constexpr std::string_view kNoValue = "-";

/// \p value with exactly \p decimals digits after the point ("0.42"),
/// the same in every locale.
[[nodiscard]] std::string fixed(double value, int decimals);

/// \p value in the shortest form that reads back to the same double
/// ("0.873046875"): for machine-readable output.
[[nodiscard]] std::string exact(double value);

/// "1 trace", "9 traces": \p count and \p noun, in the plural unless \p count is 1.
[[nodiscard]] std::string counted(std::size_t count, std::string_view noun);

/// A ratio as a percentage with one decimal: 0.873 is "87.3%".
[[nodiscard]] std::string format_percent(double ratio);

/// A speed relative to glibc: 0.4213 is "0.42x"; below 0.1, two
/// significant digits: 0.004213 is "0.0042x".
[[nodiscard]] std::string format_speed(double speed);

/// \p format applied to \p value, or kNoValue when it is empty.
template <class T, class Format>
[[nodiscard]] std::string format_or_dash(const std::optional<T>& value, Format format) {
  return value ? std::string(format(*value)) : std::string(kNoValue);
}

/// The line that introduces \p trace, read from \p name: "traces/x.rep:
/// 4000 operations, peak of live requests 1.2 MiB".
[[nodiscard]] std::string trace_heading(std::string_view name, const Trace& trace);

/// How a replay ended, in words: "completed", "out of memory", "check
/// failed", "payload damaged".
[[nodiscard]] std::string_view outcome_name(ReplayOutcome outcome) noexcept;

/// The headings of the space measures both `replay` and `compare` show, in
/// the order of space_cells().
[[nodiscard]] std::vector<TextTable::Column> space_columns();

/// \p space as table cells: utilization, peak heap, internal
/// fragmentation, external fragmentation, visited per allocation (kNoValue
/// for each measure the allocator cannot report).
[[nodiscard]] std::vector<std::string> space_cells(const SpaceMeasures& space);

/// One line of a legend: a column heading and what it means.
struct LegendEntry {
  std::string term;     ///< As the table shows it.
  std::string meaning;  ///< One sentence; a `\n` in it starts an indented line.
};

/// What each of space_columns() means, in its order.
[[nodiscard]] std::vector<LegendEntry> space_legend();

/// The legend entry for kNoValue: why glibc and pmr-pool have no numbers
/// in some columns.
[[nodiscard]] LegendEntry no_value_legend();

/// Writes "Legend" and \p entries, terms in one column, meanings beside.
void write_legend(std::ostream& out, const std::vector<LegendEntry>& entries);

}  // namespace heaplab
