/// \file
/// Comparing allocators on traces: the measurements under `heaplab compare`.
///
/// Every allocator runs every trace twice over:
/// - once with replay(), for the space measures (and to be sure it can
///   serve the trace at all);
/// - several times with time_replay(), for speed. The timed runs go round
///   robin, one of each allocator per round, glibc among them:
///
///       round 1:  first-fit  best-fit  glibc
///       round 2:  first-fit  best-fit  glibc     ...
///
///   so whatever else the machine does in the meantime slows every
///   contender alike, and the fastest run of each is kept (noise only ever
///   adds time). Speed is glibc's time over the allocator's: 2.00x is twice
///   as fast as glibc, 0.50x half as fast.
///
/// A LabRunner runs each allocator where it belongs: a learner's in a child
/// process, whose crash makes its result "crashed" and leaves the others
/// measured.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tools/lab/lab_allocators.hpp"
#include "tools/lab/replay.hpp"
#include "tools/lab/runner.hpp"
#include "tools/trace/trace.hpp"

namespace heaplab {

/// One allocator's result on one trace.
struct AllocatorResult {
  const LabAllocator* allocator = nullptr;  ///< Who ran.
  ReplayReport report;                      ///< What replay() found: outcome and space measures.
  std::optional<std::chrono::nanoseconds> best_time;  ///< The fastest timed run; empty when it did not complete.
  std::optional<double> speed_vs_glibc;     ///< glibc's best time / #best_time.

  /// True when replay() ran the whole trace.
  [[nodiscard]] bool completed() const noexcept { return report.outcome == ReplayOutcome::completed; }
};

/// Every allocator's result on one trace.
struct TraceComparison {
  const NamedTrace* trace = nullptr;     ///< The trace (owned by the caller of compare()).
  std::vector<AllocatorResult> results;  ///< One per allocator, in Comparison::allocators order.
};

/// A whole comparison: traces x allocators.
struct Comparison {
  std::vector<const LabAllocator*> allocators;  ///< The allocators compared, glibc among them.
  std::size_t heap_size = 0;                    ///< Bytes of the heap every lab allocator ran on.
  std::size_t repeat = 0;                       ///< Timed runs per allocator and trace.
  std::vector<TraceComparison> traces;          ///< One per trace, in the order given.
};

/// \p allocators, with glibc added at the end unless it is already among
/// them: every comparison measures glibc in the same run.
[[nodiscard]] std::vector<const LabAllocator*> with_glibc(std::vector<const LabAllocator*> allocators);

/// Runs every trace of \p traces on every allocator of \p allocators (glibc
/// is added if missing) over \p heap, with \p repeat timed runs (at least
/// 1) of each, as the file comment describes, each run by \p runner.
/// \p traces must outlive the result.
[[nodiscard]] Comparison compare(std::span<const NamedTrace> traces, std::vector<const LabAllocator*> allocators,
                                 std::span<std::byte> heap, std::size_t repeat, const LabRunner& runner = LabRunner());

/// One allocator over a whole comparison.
struct AllocatorSummary {
  const LabAllocator* allocator = nullptr;  ///< Whose summary.
  std::size_t completed = 0;                ///< Traces it ran to the end.
  std::size_t traces = 0;                   ///< Traces it was given.
  std::optional<double> mean_utilization;   ///< Mean over the traces it completed (empty when it reports none).
  std::optional<double> speed_vs_glibc;     ///< Geometric mean over the traces it was timed on.
};

/// One summary per allocator of \p comparison, in its order. Speeds are
/// averaged geometrically: ratios multiply, so 2x on one trace and 0.5x on
/// another average to 1x, as they should.
[[nodiscard]] std::vector<AllocatorSummary> summarize(const Comparison& comparison);

}  // namespace heaplab
