#include "tools/lab/score.hpp"

#include <algorithm>
#include <ostream>

#include "tools/lab/text_report.hpp"

namespace heaplab {
namespace {

/// Seconds in \p time.
double seconds(std::chrono::nanoseconds time) noexcept { return std::chrono::duration<double>(time).count(); }

/// Operations per second: \p ops in \p time (a time too short for the
/// clock counts as one nanosecond).
double per_second(std::size_t ops, std::chrono::nanoseconds time) noexcept {
  return static_cast<double>(ops) / seconds(std::max(time, std::chrono::nanoseconds(1)));
}

/// The part of the index of \p result, the scored allocator on one trace.
TraceScore score_of(const TraceComparison& trace, const AllocatorResult& result) {
  TraceScore score{.trace = trace.trace, .invalid_because = {}, .utilization = {},
                   .ops = trace.trace->trace.ops.size(), .time = {}};
  if (!result.completed()) {
    score.invalid_because = result.report.what;
  } else if (!result.report.space.utilization || !result.best_time) {
    score.invalid_because = "no utilization or time was measured";
  } else {
    score.utilization = result.report.space.utilization;
    score.time = result.best_time;
  }
  return score;
}

/// "1234" thousands of operations per second, or a dash.
std::string kops(std::size_t ops, const std::optional<std::chrono::nanoseconds>& time) {
  return time ? fixed(per_second(ops, *time) / 1000.0, 0) : std::string(kNoValue);
}

/// "0.001234" seconds, or a dash.
std::string secs(const std::optional<std::chrono::nanoseconds>& time) {
  return time ? fixed(seconds(*time), 6) : std::string(kNoValue);
}

}  // namespace

PerformanceIndex performance_index(const Comparison& comparison) {
  PerformanceIndex index;
  double utilization_sum = 0.0;
  std::size_t ops = 0;
  std::size_t glibc_ops = 0;
  std::chrono::nanoseconds time{0};
  std::chrono::nanoseconds glibc_time{0};
  for (const TraceComparison& trace : comparison.traces) {
    TraceScore score = score_of(trace, trace.results.front());
    if (score.valid()) {
      utilization_sum += *score.utilization;
      ops += score.ops;
      time += *score.time;
      if (const AllocatorResult& glibc = trace.results.back(); glibc.best_time) {
        glibc_ops += score.ops;
        glibc_time += *glibc.best_time;
      }
    } else {
      ++index.invalid;
    }
    index.traces.push_back(std::move(score));
  }
  if (index.invalid > 0 || index.traces.empty()) return index;
  index.mean_utilization = utilization_sum / static_cast<double>(index.traces.size());
  index.throughput = per_second(ops, time);
  index.glibc_throughput = per_second(glibc_ops, glibc_time);
  index.value = kUtilizationWeight * *index.mean_utilization +
                (1.0 - kUtilizationWeight) * std::min(1.0, *index.throughput / *index.glibc_throughput);
  return index;
}

void write_score(std::ostream& out, const Comparison& comparison, const PerformanceIndex& index) {
  const std::string_view name = comparison.allocators.front()->name;
  out << "The malloc lab's performance index of " << name << " over " << counted(index.traces.size(), "trace")
      << " (heap " << format_bytes(comparison.heap_size) << ", the fastest of " << comparison.repeat
      << " timed runs each)\n\n";
  TextTable table({{"trace", Align::left},
                   {"valid", Align::left},
                   {"util", Align::right},
                   {"ops", Align::right},
                   {"secs", Align::right},
                   {"Kops", Align::right}});
  for (const TraceScore& score : index.traces) {
    if (!score.valid()) {
      table.add_row({score.trace->name, "no", score.invalid_because});
      continue;
    }
    table.add_row({score.trace->name, "yes", format_percent(*score.utilization), std::to_string(score.ops),
                   secs(score.time), kops(score.ops, score.time)});
  }
  table.write(out, "  ");
  out << '\n';
  if (!index.value) {
    out << "No index: " << index.invalid << " of " << counted(index.traces.size(), "trace")
        << (index.invalid == 1 ? " is" : " are")
        << " invalid (the index scores only an allocator that runs every trace correctly).\n";
    return;
  }
  out << "P = " << fixed(kUtilizationWeight, 1) << " * mean(U) + " << fixed(1.0 - kUtilizationWeight, 1)
      << " * min(1, T / T_glibc)\n"
      << "  = " << fixed(kUtilizationWeight, 1) << " * " << format_percent(*index.mean_utilization) << " + "
      << fixed(1.0 - kUtilizationWeight, 1) << " * min(1, " << fixed(*index.throughput / 1000.0, 0) << " / "
      << fixed(*index.glibc_throughput / 1000.0, 0) << " Kops)\n"
      << "Performance index: " << fixed(*index.value * 100.0, 1) << " / 100\n";
}

}  // namespace heaplab
