/// \file
/// The malloc lab's performance index (CS:APP, the malloc lab): one number
/// for an allocator over a set of traces, weighing how well it uses its
/// heap against how fast it runs (`heaplab score`).
///
/// Per trace, U is its utilization, the peak of live requested bytes over
/// the heap's high-water mark (for a malloc-lab allocator, the size of
/// the heap `mem_sbrk` grew to; for the course's, their own footprint),
/// and its throughput is operations per second. Over all the traces:
///
///     P = w * mean(U) + (1 - w) * min(1, T / T_glibc),   w = 0.6
///
/// where T is the allocator's throughput over every trace (all operations
/// / all seconds) and T_glibc glibc's over the same traces, measured in
/// the same run. CS:APP's driver divides by a fixed figure of the libc of
/// its day instead; the lab measures the libc at hand, so the index means
/// the same on a fast machine and a slow one. A trace the allocator fails
/// on is invalid, and then there is no index (as in CS:APP).
#pragma once

#include <chrono>
#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "tools/lab/compare.hpp"

namespace heaplab {

/// The weight of utilization in the index; throughput has the rest.
inline constexpr double kUtilizationWeight = 0.6;

/// One trace's part of the index.
struct TraceScore {
  const NamedTrace* trace = nullptr;       ///< The trace.
  std::string invalid_because;             ///< Why it is invalid (the replay's report); empty when valid.
  std::optional<double> utilization;       ///< U, when valid.
  std::size_t ops = 0;                     ///< Operations in the trace.
  std::optional<std::chrono::nanoseconds> time;  ///< The fastest timed run, when valid.

  /// True when the allocator ran the trace correctly and was timed.
  [[nodiscard]] bool valid() const noexcept { return invalid_because.empty(); }
};

/// The performance index of one allocator, and its parts.
struct PerformanceIndex {
  std::vector<TraceScore> traces;          ///< One per trace, in order.
  std::size_t invalid = 0;                 ///< Traces that are not valid.
  std::optional<double> mean_utilization;  ///< mean(U) over the traces, when all are valid.
  std::optional<double> throughput;        ///< T, operations per second, when all are valid.
  std::optional<double> glibc_throughput;  ///< T_glibc over the same traces.
  std::optional<double> value;             ///< P, from 0 to 1; empty when a trace is invalid.
};

/// The index of the first allocator of \p comparison (made by compare()
/// with that allocator alone: glibc comes second).
[[nodiscard]] PerformanceIndex performance_index(const Comparison& comparison);

/// Writes the table of \p index (valid, util, ops, secs, Kops per trace)
/// and the index itself, with its formula and numbers.
void write_score(std::ostream& out, const Comparison& comparison, const PerformanceIndex& index);

}  // namespace heaplab
