#include "tools/lab/compare.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace heaplab {
namespace {

/// Times every allocator of \p results that completed its replay, in
/// \p repeat rounds of one run each, and keeps each one's fastest run.
void time_round_robin(const NamedTrace& trace, std::span<std::byte> heap, std::size_t repeat,
                      const LabRunner& runner, std::vector<AllocatorResult>& results) {
  for (std::size_t round = 0; round < repeat; ++round) {
    for (AllocatorResult& result : results) {
      if (!result.completed()) continue;  // it cannot serve the trace: there is nothing to time
      const std::optional<std::chrono::nanoseconds> time = runner.time(*result.allocator, trace, heap);
      if (time && (!result.best_time || *time < *result.best_time)) result.best_time = time;
    }
  }
}

/// Fills in every speed_vs_glibc of \p results from the best times.
void relate_to_glibc(std::vector<AllocatorResult>& results) {
  const auto glibc = std::ranges::find(results, &glibc_allocator(), &AllocatorResult::allocator);
  assert(glibc != results.end() && "with_glibc() puts glibc among the allocators");
  // A run too short for the clock to see cannot be divided by.
  const auto measurable = [](const AllocatorResult& result) {
    return result.best_time && result.best_time->count() > 0;
  };
  if (!measurable(*glibc)) return;
  for (AllocatorResult& result : results) {
    if (measurable(result)) {
      result.speed_vs_glibc =
          static_cast<double>(glibc->best_time->count()) / static_cast<double>(result.best_time->count());
    }
  }
}

/// Every allocator of \p allocators on \p trace: replayed once, then timed,
/// each by \p runner.
TraceComparison compare_on(const NamedTrace& trace, std::span<const LabAllocator* const> allocators,
                           std::span<std::byte> heap, std::size_t repeat, const LabRunner& runner) {
  TraceComparison comparison{.trace = &trace, .results = {}};
  for (const LabAllocator* allocator : allocators) {
    comparison.results.push_back({.allocator = allocator,
                                  .report = runner.replay(*allocator, trace, heap, {}),
                                  .best_time = {},
                                  .speed_vs_glibc = {}});
  }
  time_round_robin(trace, heap, repeat, runner, comparison.results);
  relate_to_glibc(comparison.results);
  return comparison;
}

/// A running mean: arithmetic of the values added, or geometric.
class Mean {
 public:
  /// Adds \p value.
  void add(double value) noexcept {
    sum_ += value;
    log_sum_ += std::log(value);
    ++count_;
  }
  /// The arithmetic mean, or empty when nothing was added.
  [[nodiscard]] std::optional<double> arithmetic() const noexcept {
    if (count_ == 0) return std::nullopt;
    return sum_ / static_cast<double>(count_);
  }
  /// The geometric mean (every value must have been positive), or empty.
  [[nodiscard]] std::optional<double> geometric() const noexcept {
    if (count_ == 0) return std::nullopt;
    return std::exp(log_sum_ / static_cast<double>(count_));
  }

 private:
  double sum_ = 0.0;       ///< Sum of the values.
  double log_sum_ = 0.0;   ///< Sum of their natural logarithms.
  std::size_t count_ = 0;  ///< How many were added.
};

/// The summary of the allocator in column \p column of \p comparison.
AllocatorSummary summarize_column(const Comparison& comparison, std::size_t column) {
  AllocatorSummary summary{.allocator = comparison.allocators[column],
                           .completed = 0,
                           .traces = comparison.traces.size(),
                           .mean_utilization = {},
                           .speed_vs_glibc = {}};
  Mean utilization;
  Mean speed;
  for (const TraceComparison& trace : comparison.traces) {
    const AllocatorResult& result = trace.results[column];
    if (result.completed()) ++summary.completed;
    // Both are measured only on a completed replay.
    if (result.report.space.utilization) utilization.add(*result.report.space.utilization);
    if (result.speed_vs_glibc) speed.add(*result.speed_vs_glibc);
  }
  summary.mean_utilization = utilization.arithmetic();
  summary.speed_vs_glibc = speed.geometric();
  return summary;
}

}  // namespace

std::vector<const LabAllocator*> with_glibc(std::vector<const LabAllocator*> allocators) {
  if (std::ranges::find(allocators, &glibc_allocator()) == allocators.end()) {
    allocators.push_back(&glibc_allocator());
  }
  return allocators;
}

Comparison compare(std::span<const NamedTrace> traces, std::vector<const LabAllocator*> allocators,
                   std::span<std::byte> heap, std::size_t repeat, const LabRunner& runner) {
  assert(repeat >= 1 && "speed needs at least one timed run");
  Comparison comparison{
      .allocators = with_glibc(std::move(allocators)), .heap_size = heap.size(), .repeat = repeat, .traces = {}};
  for (const NamedTrace& trace : traces) {
    comparison.traces.push_back(compare_on(trace, comparison.allocators, heap, repeat, runner));
  }
  return comparison;
}

std::vector<AllocatorSummary> summarize(const Comparison& comparison) {
  std::vector<AllocatorSummary> summaries;
  for (std::size_t column = 0; column < comparison.allocators.size(); ++column) {
    summaries.push_back(summarize_column(comparison, column));
  }
  return summaries;
}

}  // namespace heaplab
