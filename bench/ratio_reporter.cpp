#include "bench/ratio_reporter.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string_view>

namespace heaplab::bench {
namespace {

std::vector<Comparison>& registry() {
  static std::vector<Comparison> comparisons;  // Built on first use: safe during static init.
  return comparisons;
}

/// Nanoseconds per item of one run. Every heaplab benchmark reports items
/// (count_items()); a run without them counts one item per iteration.
double ns_per_item(const benchmark::BenchmarkReporter::Run& run) {
  const auto rate = run.counters.find("items_per_second");
  if (rate != run.counters.end() && rate->second.value > 0.0) return 1e9 / rate->second.value;
  return run.GetAdjustedCPUTime() * 1e9 / benchmark::GetTimeUnitMultiplier(run.time_unit);
}

double median_of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2.0;
}

/// "1.07x" below ten, "14.2x" above, "0.0042x" below 0.1: about two
/// significant digits, all the precision a noisy machine gives, and never
/// a "0.00x" that hides how small a ratio is.
std::string format_ratio(double ratio) {
  int decimals = ratio < 10.0 ? 2 : 1;
  if (ratio > 0.0 && ratio < 0.1) decimals = std::min(1 - static_cast<int>(std::floor(std::log10(ratio))), 9);
  std::array<char, 32> text{};
  std::snprintf(text.data(), text.size(), "%.*fx", decimals, ratio);
  return text.data();
}

std::string format_target(const Comparison& comparison) {
  if (comparison.goal == Goal::none) return "-";
  std::array<char, 32> text{};
  std::snprintf(text.data(), text.size(), "%s %gx",
                comparison.goal == Goal::at_most ? "<=" : ">=", comparison.target);
  return text.data();
}

bool target_met(const Comparison& comparison, double ratio) {
  switch (comparison.goal) {
    case Goal::at_most: return ratio <= comparison.target;
    case Goal::at_least: return ratio >= comparison.target;
    case Goal::none: break;
  }
  return true;
}

/// A table row: comparison, ratio, spread, target, verdict.
using Row = std::array<std::string, 5>;

/// Prints \p rows as a Markdown pipe table: readable in a terminal, and
/// ready to paste into a chapter.
void print_markdown_table(std::ostream& out, const std::vector<Row>& rows) {
  std::array<std::size_t, 5> width{};
  for (const Row& row : rows) {
    for (std::size_t column = 0; column < row.size(); ++column) {
      width[column] = std::max(width[column], row[column].size());
    }
  }
  const auto print_row = [&](const Row& row) {
    out << '|';
    for (std::size_t column = 0; column < row.size(); ++column) {
      const std::string padding(width[column] - row[column].size(), ' ');
      const bool right_aligned = column == 1 || column == 2;  // The numbers.
      out << ' ' << (right_aligned ? padding + row[column] : row[column] + padding) << " |";
    }
    out << '\n';
  };
  print_row(rows.front());
  out << '|';
  for (std::size_t column = 0; column < width.size(); ++column) {
    const bool right_aligned = column == 1 || column == 2;
    out << ' ' << std::string(width[column] - (right_aligned ? 1 : 0), '-')
        << (right_aligned ? ":" : "") << " |";
  }
  out << '\n';
  std::for_each(rows.begin() + 1, rows.end(), print_row);
}

}  // namespace

bool register_comparisons(std::initializer_list<Comparison> comparisons) {
  registry().insert(registry().end(), comparisons.begin(), comparisons.end());
  return true;
}

const std::vector<Comparison>& registered_comparisons() { return registry(); }

std::string interleaved_side(std::string_view benchmark, std::string_view side) {
  std::string name(benchmark);
  name += ':';
  name += side;
  return name;
}

void RatioReporter::record(const std::string& name, const Run& run, double ns) {
  Timing& timing = timings_[name];
  if (run.run_type == Run::RT_Iteration) {
    timing.repetitions.push_back(ns);
  } else if (run.aggregate_name == "median") {
    timing.median = ns;
  }
}

void RatioReporter::ReportRuns(const std::vector<Run>& runs) {
  std::vector<Run> shown;
  for (const Run& run : runs) {
    if (run.error_occurred) {  // A broken benchmark has no time to compare.
      any_errors_ = true;
      shown.push_back(run);
      continue;
    }
    most_repetitions_ = std::max(most_repetitions_, static_cast<std::size_t>(run.repetitions));
    record(run.run_name.str(), run, ns_per_item(run));
    for (const auto& [counter, value] : run.counters) {
      if (!counter.starts_with(kSideCounterPrefix)) continue;
      const std::string_view side = std::string_view(counter).substr(kSideCounterPrefix.size());
      record(interleaved_side(run.run_name.str(), side), run, value.value);
    }
    const bool is_median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
    if ((run.run_type == Run::RT_Iteration && run.repetitions <= 1) || is_median) shown.push_back(run);
  }
  // Repeated benchmarks show one line each, their median: the ratio table
  // carries the spread (and --benchmark_out=FILE keeps every line). Their
  // lines are held back to the end, because shuffled repetitions
  // (--benchmark_enable_random_interleaving) finish in shuffled order.
  if (most_repetitions_ > 1) {
    held_back_.insert(held_back_.end(), shown.begin(), shown.end());
  } else if (!shown.empty()) {
    ConsoleReporter::ReportRuns(shown);
  }
}

void RatioReporter::Finalize() {
  // Registration order, so that rivals stand side by side.
  std::stable_sort(held_back_.begin(), held_back_.end(), [](const Run& a, const Run& b) {
    return std::pair(a.family_index, a.per_family_instance_index) <
           std::pair(b.family_index, b.per_family_instance_index);
  });
  if (!held_back_.empty()) ConsoleReporter::ReportRuns(held_back_);
  ConsoleReporter::Finalize();
  print_ratio_table();
}

double RatioReporter::typical_ns(const std::string& name) const {
  const auto found = timings_.find(name);
  if (found == timings_.end()) return 0.0;
  const Timing& timing = found->second;
  // With --benchmark_display_aggregates_only only the aggregates reach us.
  if (timing.repetitions.empty()) return timing.median;
  return median_of(timing.repetitions);
}

std::pair<double, double> RatioReporter::spread(const Comparison& comparison) const {
  const auto slower = timings_.find(comparison.slower);
  const auto faster = timings_.find(comparison.faster);
  if (slower == timings_.end() || faster == timings_.end()) return {0.0, 0.0};
  const std::vector<double>& numerators = slower->second.repetitions;
  const std::vector<double>& denominators = faster->second.repetitions;
  const std::size_t pairs = std::min(numerators.size(), denominators.size());
  if (pairs < 2) return {0.0, 0.0};
  double lowest = numerators[0] / denominators[0];
  double highest = lowest;
  for (std::size_t i = 1; i < pairs; ++i) {
    const double ratio = numerators[i] / denominators[i];
    lowest = std::min(lowest, ratio);
    highest = std::max(highest, ratio);
  }
  return {lowest, highest};
}

void RatioReporter::print_ratio_table() {
  std::vector<Row> rows{{"Comparison (per-item time, first / second)", "Ratio", "Spread",
                         "Target", "Verdict"}};
  for (const Comparison& comparison : registered_comparisons()) {
    const double slower_ns = typical_ns(comparison.slower);
    const double faster_ns = typical_ns(comparison.faster);
    if (slower_ns <= 0.0 && faster_ns <= 0.0) continue;  // Filtered out (--benchmark_filter).
    if (slower_ns <= 0.0 || faster_ns <= 0.0) {
      rows.push_back({comparison.label, "-", "-", format_target(comparison), "not run"});
      continue;
    }
    const double ratio = slower_ns / faster_ns;
    const auto [lowest, highest] = spread(comparison);
    const std::string spread_text =
        highest > 0.0 ? format_ratio(lowest) + " - " + format_ratio(highest) : "-";
    const std::string verdict = comparison.goal == Goal::none ? "info"
                                : target_met(comparison, ratio) ? "met"
                                                                : "missed";
    rows.push_back({comparison.label, format_ratio(ratio), spread_text,
                    format_target(comparison), verdict});
  }

  if (rows.size() == 1) return;  // Nothing to compare in this run.
  std::ostream& out = GetOutputStream();
  out << "\nRatios (same run)\n\n";
  print_markdown_table(out, rows);
  out << "\nRatio: per-item time of the first over the second (a benchmark's CPU time, or\n"
         "for a side of an interleaved benchmark, benchmark:side, the time of its own turns)";
  if (most_repetitions_ > 1) {
    out << ";\nmedians of " << most_repetitions_ << " repetitions; "
        << "spread: lowest and highest ratio over the repetitions, paired in run order";
  } else {
    out << ", one repetition\n(--benchmark_repetitions=5 gives medians and a spread)";
  }
  out << ".\nTargets are the course's goals, not tests: a missed target is reported, "
         "never an error.\n";
}

}  // namespace heaplab::bench
