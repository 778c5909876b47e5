#include "tools/lab/compare_report.hpp"

#include <algorithm>
#include <array>
#include <iterator>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tools/lab/text_report.hpp"

namespace heaplab {
namespace {

// ---------------------------------------------------------------- text ---

/// The table of one trace: a row per allocator.
TextTable trace_table(const TraceComparison& trace) {
  std::vector<TextTable::Column> columns = {{"allocator", Align::left}};
  std::ranges::move(space_columns(), std::back_inserter(columns));
  columns.push_back({"speed vs glibc", Align::right});
  TextTable table(std::move(columns));
  for (const AllocatorResult& result : trace.results) {
    std::vector<std::string> row = {std::string(result.allocator->name)};
    if (result.completed()) {
      std::ranges::move(space_cells(result.report.space), std::back_inserter(row));
      row.push_back(format_or_dash(result.speed_vs_glibc, format_speed));
    } else {
      row.push_back(result.report.what);  // runs on over the numbers it replaces
    }
    table.add_row(std::move(row));
  }
  return table;
}

/// The summary table: a row per allocator, over every trace.
TextTable summary_table(const Comparison& comparison) {
  TextTable table({{"allocator", Align::left},
                   {"completed", Align::right},
                   {"mean utilization", Align::right},
                   {"speed vs glibc (geometric mean)", Align::right}});
  for (const AllocatorSummary& summary : summarize(comparison)) {
    table.add_row({std::string(summary.allocator->name),
                   std::to_string(summary.completed) + " of " + std::to_string(summary.traces),
                   format_or_dash(summary.mean_utilization, format_percent),
                   format_or_dash(summary.speed_vs_glibc, format_speed)});
  }
  return table;
}

/// What each column of the tables means, and why some cells are empty.
std::vector<LegendEntry> compare_legend(std::size_t repeat) {
  std::vector<LegendEntry> entries = space_legend();
  entries.push_back({"speed vs glibc", "glibc's time / the allocator's on the same trace, the fastest of " +
                                           std::to_string(repeat) + " runs each,\ninterleaved with glibc's: "
                                           "2.00x is twice as fast as glibc, 0.50x half as fast"});
  entries.push_back(no_value_legend());
  return entries;
}

// ----------------------------------------------------------------- CSV ---

/// \p text as one CSV field: quoted, with its quotes doubled, when it holds
/// a comma, a quote or a line break (RFC 4180).
std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string field = "\"";
  for (const char c : text) {
    if (c == '"') field += '"';
    field += c;
  }
  return field + '"';
}

/// A whole number as a CSV field, or an empty field.
std::string csv_number(const std::optional<std::size_t>& value) {
  return value ? std::to_string(*value) : std::string();
}

/// A ratio as a CSV field, in full precision, or an empty field.
std::string csv_number(const std::optional<double>& value) { return value ? exact(*value) : std::string(); }

/// The CSV row of \p result on \p trace, without its line end.
std::string csv_row(const NamedTrace& trace, const AllocatorResult& result) {
  const SpaceMeasures& space = result.report.space;
  const std::array<std::string, 12> fields = {
      csv_field(trace.name),
      csv_field(result.allocator->name),
      std::string(outcome_name(result.report.outcome)),
      csv_field(result.report.what),
      std::to_string(trace.trace.ops.size()),
      std::to_string(space.peak_live_bytes),
      csv_number(space.utilization),
      csv_number(space.peak_heap),
      csv_number(space.internal_fragmentation),
      csv_number(space.external_fragmentation),
      csv_number(space.visited_per_allocation),
      csv_number(result.speed_vs_glibc),
  };
  std::string row;
  for (const std::string& field : fields) row += (row.empty() ? "" : ",") + field;
  return row;
}

}  // namespace

void write_compare_table(std::ostream& out, const Comparison& comparison) {
  out << "Comparing " << counted(comparison.allocators.size(), "allocator") << " on "
      << counted(comparison.traces.size(), "trace") << "; heap " << format_bytes(comparison.heap_size) << ", speed from the fastest of "
      << comparison.repeat << " timed runs, interleaved with glibc's.\n";
  for (const TraceComparison& trace : comparison.traces) {
    out << '\n' << trace_heading(trace.trace->name, trace.trace->trace) << '\n';
    trace_table(trace).write(out, "  ");
  }
  out << "\nSummary over " << counted(comparison.traces.size(), "trace") << '\n';
  summary_table(comparison).write(out, "  ");
  out << '\n';
  write_legend(out, compare_legend(comparison.repeat));
}

void write_compare_csv(std::ostream& out, const Comparison& comparison) {
  out << "trace,allocator,outcome,reason,operations,peak_live_bytes,utilization,peak_heap_bytes,"
         "internal_fragmentation_bytes,external_fragmentation,visited_per_allocation,speed_vs_glibc\n";
  for (const TraceComparison& trace : comparison.traces) {
    for (const AllocatorResult& result : trace.results) out << csv_row(*trace.trace, result) << '\n';
  }
}

}  // namespace heaplab
