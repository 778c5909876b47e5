/// \file
/// The trace family of the free-list chapters' benchmarks, written once:
/// every operation of a shipped trace, replayed through the lab engine's
/// run_op() on a fresh contender per iteration.
///
///   replay/<contender>/<trace>   one item is one operation of the trace.
///
/// How a trace is timed (the general rules are in bench_support.hpp and
/// free_list_bench.hpp):
/// - The traces are read once, from the source tree's traces/
///   (HEAPLAB_TRACES_DIR, set in bench/CMakeLists.txt), in the order of
///   traces/MANIFEST. The tiny ones (chapter examples of ten operations)
///   are left out: they are not workloads. A trace that cannot be read
///   stops the program with the parser's message.
/// - Before the clock starts, each benchmark replays its trace once with the
///   engine's careful replay() (tools/lab/replay.hpp): every block filled
///   with a pattern and verified, check() at the end. A contender that
///   cannot serve the trace, or damages a block, is reported as an error and
///   never timed. For our allocators that replay also measures the heap the
///   trace needs (its high-water mark), and the timed heap is sized to it,
///   and replayed carefully once more.
/// - Every timed iteration replays every operation with run_op() on a fresh
///   contender: ours over the sized region, whose pages the careful replays
///   have already touched; a fresh std::pmr pool; and glibc, whose heap is
///   the process's own and stays warm, as any program finds it. Making and
///   dropping the contender is timed, on purpose: it is cheap next to
///   thousands of operations (chapter 3's file says how cheap).
/// - No keep() is needed: the replay keeps every pointer in its slots, and
///   later operations read them back.
/// - The counter "visited/search" comes from the careful replay: a replay
///   is deterministic, so every timed iteration makes the same searches.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_support.hpp"
#include "bench/free_list_bench.hpp"
#include "tools/lab/lab_allocators.hpp"
#include "tools/lab/replay.hpp"
#include "tools/trace/trace.hpp"

namespace heaplab::bench {

/// The family name of trace replays.
inline constexpr const char* kReplayFamily = "replay";

/// A shipped trace that the replay family times.
struct TimedTrace {
  std::string name;  ///< Its file name without ".rep", e.g. "random-sizes".
  Trace trace;       ///< Its header and operations.
};

/// Traces with fewer operations are the chapters' tiny examples, not
/// workloads; the shipped workloads have thousands.
inline constexpr std::size_t kMinTimedOps = 1000;

/// Prints \p why and ends the program with \p exit_code: the benchmarks
/// cannot run without their traces.
[[noreturn]] inline void stop_loading(const std::string& why, int exit_code) {
  std::fprintf(stderr, "heaplab_bench: %s\n", why.c_str());
  std::exit(exit_code);
}

/// The trace files \p manifest lists, in order: the first word of each
/// line that is not blank or a comment.
[[nodiscard]] inline std::vector<std::string> manifest_files(const std::filesystem::path& manifest) {
  std::ifstream in(manifest);
  if (!in) stop_loading("cannot read " + manifest.string() + ", the list of shipped traces", EXIT_FAILURE);
  std::vector<std::string> files;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string file;
    if (words >> file && file.front() != '#') files.push_back(file);
  }
  return files;
}

/// How many blocks \p trace leaves allocated at its end.
[[nodiscard]] inline std::size_t blocks_left_live(const Trace& trace) {
  std::size_t live = 0;
  for (const TraceOp& op : trace.ops) {
    if (op.kind == OpKind::allocate) ++live;
    if (op.kind == OpKind::free && op.id != kNullId) --live;
  }
  return live;
}

/// Reads every workload traces/MANIFEST lists; stops the program when one
/// cannot be read.
[[nodiscard]] inline std::vector<TimedTrace> load_timed_traces() {
  const std::filesystem::path directory = HEAPLAB_TRACES_DIR;
  std::vector<TimedTrace> traces;
  for (const std::string& file : manifest_files(directory / "MANIFEST")) {
    const TraceResult parsed = parse_trace_file(directory / file);
    if (!parsed) {
      stop_loading("cannot load a shipped trace: " + format_error(parsed.error()), kExitMalformedTrace);
    }
    const Trace& trace = parsed.value();
    if (trace.ops.size() < kMinTimedOps) continue;
    // Every iteration reuses one set of slots, which must be empty again
    // when the trace ends (every pattern of trace_gen frees every block).
    if (const std::size_t live = blocks_left_live(trace); live != 0) {
      stop_loading((directory / file).string() + " leaves " + std::to_string(live) +
                       " of its blocks allocated; the trace benchmarks need traces that free them all",
                   EXIT_FAILURE);
    }
    traces.push_back({std::filesystem::path(file).stem().string(), trace});
  }
  return traces;
}

/// The timed traces, loaded on first use; they live as long as the
/// program, as the benchmarks that replay them do.
[[nodiscard]] inline const std::vector<TimedTrace>& shipped_workloads() {
  static const std::vector<TimedTrace> traces = load_timed_traces();
  return traces;
}

/// Address space reserved for our heaps while a trace is replayed (a
/// LabHeap): enough for any shipped trace on any policy, and committed
/// only as far as a replay touches it.
inline constexpr std::size_t kTraceHeapReserve = std::size_t{64} << 20;

/// The region a heap of ours needs to replay a trace that took its heap
/// to \p high_water bytes: the blocks, the start map in front of them
/// (1/64 of the region: the 1/32 added covers it twice over) and a page
/// of slack. The careful replay on the region confirms it is enough.
[[nodiscard]] constexpr std::size_t trace_region_bytes_for(std::size_t high_water) noexcept {
  constexpr std::size_t kSlack = 4096;
  return high_water + high_water / 32 + kSlack;
}

/// Replays \p trace carefully on a fresh \p Allocator over \p region (the
/// engine's replay(), then check()). Returns its report, or marks the run
/// broken and returns nothing when the replay did not complete.
template <class Allocator>
[[nodiscard]] std::optional<ReplayReport> replay_carefully(benchmark::State& state, const Trace& trace,
                                                           std::span<std::byte> region) {
  Allocator contender = make_heap<Allocator>(region);
  ReplayReport report = replay(trace, contender);
  if (report.outcome != ReplayOutcome::completed) {
    state.SkipWithError(("the careful replay failed: " + report.what).c_str());
    return std::nullopt;
  }
  if constexpr (FreeListHeap<Allocator>) {
    if (!contender.check()) {
      state.SkipWithError("the heap fails check() after the careful replay");
      return std::nullopt;
    }
  }
  return report;
}

/// Runs every operation of \p trace on \p allocator, through the engine's
/// run_op(). Returns false as soon as one is refused.
template <class Allocator>
[[nodiscard]] bool run_every_op(Allocator& allocator, ReplaySlots& slots, const Trace& trace) noexcept {
  for (const TraceOp& op : trace.ops) {
    if (!run_op(allocator, slots, op)) return false;
  }
  return true;
}

/// Measures every operation of \p timed on a fresh \p Allocator per
/// iteration (see the file comment); one item is one operation.
template <class Allocator>
void replay_trace(benchmark::State& state, const TimedTrace& timed) {
  const Trace& trace = timed.trace;
  const LabHeap heap(kTraceHeapReserve);  // The references ignore it.
  std::span<std::byte> region = heap.bytes();
  const std::optional<ReplayReport> first = replay_carefully<Allocator>(state, trace, region);
  if (!first) return;
  if constexpr (FreeListHeap<Allocator>) {
    const std::size_t needed = trace_region_bytes_for(first->space.peak_heap.value_or(0));
    region = region.first(std::min(needed, region.size()));
    if (!replay_carefully<Allocator>(state, trace, region)) return;
    state.counters[kVisitedPerSearch] = first->space.visited_per_allocation.value_or(0.0);
  }
  ReplaySlots slots(trace.id_count);
  for (auto _ : state) {
    Allocator contender = make_heap<Allocator>(region);
    if (!run_every_op(contender, slots, trace)) {
      // The careful replay served every operation, and a replay is
      // deterministic: only a broken allocator gets here.
      state.SkipWithError("a timed replay ran out of memory where the careful one did not");
      break;
    }
  }
  count_items(state, static_cast<std::int64_t>(trace.ops.size()));
}

/// The name of \p contender's replay of \p trace: "replay/<contender>/<trace>".
[[nodiscard]] inline std::string trace_replay_name(const std::string& contender, const TimedTrace& trace) {
  return std::string(kReplayFamily) + "/" + contender + "/" + trace.name;
}

/// Registers the replay of \p trace (which must outlive the benchmark) on
/// \p Allocator, named after \p contender.
template <class Allocator>
void register_trace_replay(const std::string& contender, const TimedTrace& trace) {
  benchmark::RegisterBenchmark(trace_replay_name(contender, trace).c_str(),
                               [&trace](benchmark::State& state) { replay_trace<Allocator>(state, trace); });
}

}  // namespace heaplab::bench
