/// \file
/// The table that matters on a noisy machine: ratios between benchmarks of
/// the same run, each next to the course's target for it.
///
/// Absolute times drift by tens of percent between runs on a shared or
/// frequency-scaling machine, but two benchmarks measured minutes apart in
/// one process drift together. So each benchmark file registers the
/// comparisons it was written for, and RatioReporter prints them after the
/// usual Google Benchmark table.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace heaplab::bench {

/// How a comparison's ratio is judged.
enum class Goal {
  none,      ///< Shown for information; no target.
  at_most,   ///< Met when ratio <= target.
  at_least,  ///< Met when ratio >= target.
};

/// One line of the ratio table: how many times longer one operation of
/// benchmark `slower` takes than one operation of benchmark `faster`.
///
/// A name may also be a side of an interleaved benchmark (see
/// interleaved_side()): `<benchmark>:<side>`. Two sides of the same
/// interleaved benchmark were measured in turns, slice by slice, so the
/// machine's noise falls on both alike.
struct Comparison {
  std::string label;      ///< What is compared, in words.
  std::string slower;     ///< Benchmark name whose per-item time is the numerator.
  std::string faster;     ///< Benchmark name whose per-item time is the denominator.
  Goal goal = Goal::none; ///< How the ratio is judged.
  double target = 0.0;    ///< The bound the goal refers to.
};

/// Adds \p comparisons to the ratio table, in order. Returns true, so a
/// benchmark file can register at static-initialisation time, the way
/// BENCHMARK() registers the benchmarks themselves.
bool register_comparisons(std::initializer_list<Comparison> comparisons);

/// Every comparison registered so far, in registration order.
[[nodiscard]] const std::vector<Comparison>& registered_comparisons();

/// The prefix of the counters by which an interleaved benchmark reports
/// each side's nanoseconds per item: `ns/<side>`.
inline constexpr std::string_view kSideCounterPrefix = "ns/";

/// The name under which the ratio table knows side \p side of the
/// interleaved benchmark \p benchmark: `<benchmark>:<side>`.
[[nodiscard]] std::string interleaved_side(std::string_view benchmark, std::string_view side);

/// Google Benchmark's console table, followed by the "Ratios (same run)"
/// table of every registered comparison.
///
/// With --benchmark_repetitions=N the console table shows one line per
/// benchmark, its median; the ratio table adds the spread of each ratio
/// over the repetitions.
///
/// Missed targets are reported, never turned into a failure: speed is a
/// measurement, and a noisy machine must not break a build.
class RatioReporter final : public benchmark::ConsoleReporter {
 public:
  /// A console reporter with \p options (colour, tabular counters).
  explicit RatioReporter(OutputOptions options) : ConsoleReporter(options) {}

  /// Prints the runs as the console reporter does, and keeps their
  /// per-item times for the ratio table.
  void ReportRuns(const std::vector<Run>& runs) override;
  /// Prints the ratio table, once every benchmark has run.
  void Finalize() override;

  /// True if some benchmark reported an error (SkipWithError): the program
  /// then exits non-zero, so the smoke test catches a broken benchmark.
  [[nodiscard]] bool any_errors() const noexcept { return any_errors_; }

 private:
  /// Keeps \p ns under \p name: one repetition's value, or the median.
  void record(const std::string& name, const Run& run, double ns);

  /// What one benchmark (or one side of one) measured: nanoseconds per item.
  struct Timing {
    std::vector<double> repetitions;  ///< One value per repetition, in run order.
    double median = 0.0;              ///< The "median" aggregate, when repetitions ran.
  };
  /// Median per-item time of \p name, or 0 if it did not run.
  [[nodiscard]] double typical_ns(const std::string& name) const;
  /// Lowest and highest ratio over repetitions paired by index ({0, 0} if
  /// fewer than two).
  [[nodiscard]] std::pair<double, double> spread(const Comparison& comparison) const;
  void print_ratio_table();

  std::map<std::string, Timing> timings_;  ///< Keyed by benchmark name.
  std::vector<Run> held_back_;             ///< Median lines of repeated runs, printed last.
  std::size_t most_repetitions_ = 1;       ///< For the table's legend.
  bool any_errors_ = false;                ///< See any_errors().
};

}  // namespace heaplab::bench
