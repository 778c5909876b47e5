// Chapter 3 benchmarks: the four placement policies (first, next, best and
// worst fit, all splitting their blocks) on the shipped traces and on
// pairs, next to chapter 2's explicit list, glibc malloc and std::pmr's
// pool, side by side in one run. The issue sets no speed targets for
// stage 3, so every row of the ratio table is "info": glibc's time per
// operation over each of our allocators' on the same workload, that is our
// speed relative to glibc's (above 1x: faster than glibc), as chapter 2's
// rows and `heaplab compare` report it.
//
// Three families:
//
//   replay/<allocator>/<trace>   every operation of a shipped trace, on a
//                                fresh allocator each iteration; one item
//                                is one operation of the trace.
//   pair16/<allocator>           allocate + free 16 bytes on an empty heap
//                                (free_list_bench.hpp); glibc's row is
//                                chapter 2's pair16/glibc_malloc_free.
//   near_fit_behind_holes/<allocator>/N
//                                allocate + free 64 bytes when the only free
//                                block that fits, a near fit of 72 bytes (no
//                                exact fit), lies behind N free 16-byte holes
//                                (free_list_bench.hpp draws the heap).
//
// The counter "visited/search" (blocks a search looked at, on average)
// explains most of the differences between the policies. Space
// (utilization, fragmentation) is not measured here: `heaplab compare`
// reports it for the same traces.
//
// What each allocator pays behind the holes. The list is LIFO: after the
// first pair, free() has put the near fit at the head, in front of the N
// holes.
// - first fit: the first search walks past the N holes; every later one
//   takes the near fit at the head: about one block per search, whatever N.
// - next fit: the same, from its rover. The first search stops with the
//   rover on the last hole of the list, which the near fit then leaves for
//   the head; the next search finds nothing after the rover, wraps round
//   to the head and takes the near fit, leaving the rover at the head for
//   good. About one block per search.
// - best fit: looks at every block, because a smaller fit could come
//   later, and none is exact (an exact fit would stop it at the head):
//   N + 1 blocks per search.
// - worst fit: looks at every block, always: N + 1.
// - glibc: its bins are segregated by size, so a 64-byte request never
//   looks at the 16-byte holes.
//
// How a trace is timed (the general rules are in bench_support.hpp and
// free_list_bench.hpp):
// - The traces are read when the program starts, from the source tree's
//   traces/ (HEAPLAB_TRACES_DIR, set in bench/CMakeLists.txt), in the order
//   of traces/MANIFEST. The tiny ones (chapter examples of ten operations)
//   are left out: they are not workloads. A trace that cannot be read
//   stops the program with the parser's message.
// - Before the clock starts, each benchmark replays its trace once with the
//   engine's careful replay() (tools/lab/replay.hpp): every block filled
//   with a pattern and verified, check() at the end. A contender that
//   cannot serve the trace, or damages a block, is reported as an error and
//   never timed. For our allocators that replay also measures the heap the
//   trace needs (its high-water mark), and the timed heap is sized to it,
//   and replayed carefully once more.
// - Every timed iteration replays every operation with the engine's
//   run_op() (the operations of `heaplab replay` and `heaplab compare`) on
//   a fresh contender: ours over the sized region, whose pages the careful
//   replays have already touched; a fresh std::pmr pool; and glibc, whose
//   heap is the process's own and stays warm, as any program finds it.
// - Making and dropping the contender is timed, on purpose: it is cheap
//   next to thousands of operations, and stopping the clock is not free
//   either. A fresh heap of ours zeroes its start map, 1/64 of its region:
//   from tens of bytes to some 200 KiB for these traces (the heap of
//   growing-realloc grows to 12 MiB), a few microseconds at most, under 1%
//   of any replay here. A fresh pool asks `operator new` for its first
//   chunks and gives them back when it dies, which is part of what a fresh
//   pool costs. PauseTiming() and ResumeTiming() read the thread's CPU
//   clock, a system call each: a few hundred nanoseconds per iteration,
//   more than most fresh heaps cost, and noise of their own.
// - No keep() is needed: the replay keeps every pointer in its slots, and
//   later operations read them back.
// - "visited/search" comes from the careful replay: a replay is
//   deterministic, so every timed iteration makes the same searches.
#include <algorithm>
#include <array>
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
#include "bench/ratio_reporter.hpp"
#include "stage2_free_list/free_list_allocator.hpp"
#include "stage3_fit_strategies/fit_allocators.hpp"
#include "tools/lab/lab_allocators.hpp"
#include "tools/lab/replay.hpp"
#include "tools/trace/trace.hpp"

namespace {

using heaplab::BestFitAllocator;
using heaplab::ExplicitListAllocator;
using heaplab::FirstFitAllocator;
using heaplab::GlibcMalloc;
using heaplab::LabHeap;
using heaplab::NextFitAllocator;
using heaplab::PmrPool;
using heaplab::ReplayOutcome;
using heaplab::ReplayReport;
using heaplab::ReplaySlots;
using heaplab::Trace;
using heaplab::TraceOp;
using heaplab::WorstFitAllocator;
using heaplab::bench::Comparison;
using heaplab::bench::count_items;
using heaplab::bench::FreeListHeap;
using heaplab::bench::hole_counts;
using heaplab::bench::kHoleCounts;
using heaplab::bench::kVisitedPerSearch;
using heaplab::bench::make_heap;
using heaplab::bench::pair16;
using heaplab::bench::pair_behind_holes;
using heaplab::bench::Tail;
using heaplab::bench::with_holes;

// The contenders, as benchmark names and ratio labels call them.
constexpr const char* kFirstFit = "first_fit";
constexpr const char* kNextFit = "next_fit";
constexpr const char* kBestFit = "best_fit";
constexpr const char* kWorstFit = "worst_fit";
constexpr const char* kExplicit = "explicit";
constexpr const char* kPmrPool = "pmr_pool";
constexpr const char* kGlibc = "glibc";

// The families; a benchmark's name is "<family>/<contender>", and the
// replay and hole families add "/<trace>" and "/N".
constexpr const char* kReplay = "replay";
constexpr const char* kPair = "pair16";
constexpr const char* kHoles = "near_fit_behind_holes";

/// The name of \p contender's benchmark in \p family.
[[nodiscard]] std::string benchmark_name(const char* family, const char* contender) {
  return std::string(family) + "/" + contender;
}

// ---------------------------------------------------------------------------
// The shipped traces, read once when the program starts.

/// A shipped trace that the replay family times.
struct TimedTrace {
  std::string name;  ///< Its file name without ".rep", e.g. "random-sizes".
  Trace trace;       ///< Its header and operations.
};

/// Traces with fewer operations are the chapters' tiny examples, not
/// workloads; the shipped workloads have thousands.
constexpr std::size_t kMinTimedOps = 1000;

/// Prints \p why and ends the program with \p exit_code: the benchmarks
/// cannot run without their traces.
[[noreturn]] void stop_loading(const std::string& why, int exit_code) {
  std::fprintf(stderr, "heaplab_bench: %s\n", why.c_str());
  std::exit(exit_code);
}

/// The trace files \p manifest lists, in order: the first word of each
/// line that is not blank or a comment.
[[nodiscard]] std::vector<std::string> manifest_files(const std::filesystem::path& manifest) {
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
[[nodiscard]] std::size_t blocks_left_live(const Trace& trace) {
  std::size_t live = 0;
  for (const TraceOp& op : trace.ops) {
    if (op.kind == heaplab::OpKind::allocate) ++live;
    if (op.kind == heaplab::OpKind::free && op.id != heaplab::kNullId) --live;
  }
  return live;
}

/// Reads every workload traces/MANIFEST lists; stops the program when one
/// cannot be read.
[[nodiscard]] std::vector<TimedTrace> load_timed_traces() {
  const std::filesystem::path directory = HEAPLAB_TRACES_DIR;
  std::vector<TimedTrace> traces;
  for (const std::string& file : manifest_files(directory / "MANIFEST")) {
    const heaplab::TraceResult parsed = heaplab::parse_trace_file(directory / file);
    if (!parsed) {
      stop_loading("cannot load a shipped trace: " + heaplab::format_error(parsed.error()),
                   heaplab::kExitMalformedTrace);
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
[[nodiscard]] const std::vector<TimedTrace>& timed_traces() {
  static const std::vector<TimedTrace> traces = load_timed_traces();
  return traces;
}

// ---------------------------------------------------------------------------
// Replaying a trace.

/// Address space reserved for our heaps while a trace is replayed (a
/// LabHeap): enough for any shipped trace on any policy, and committed
/// only as far as a replay touches it.
constexpr std::size_t kTraceHeapReserve = std::size_t{64} << 20;

/// The region a heap of ours needs to replay a trace that took its heap
/// to \p high_water bytes: the blocks, the start map in front of them
/// (1/64 of the region: the 1/32 added covers it twice over) and a page
/// of slack. The careful replay on the region confirms it is enough.
[[nodiscard]] constexpr std::size_t region_bytes_for(std::size_t high_water) noexcept {
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
  ReplayReport report = heaplab::replay(trace, contender);
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
[[nodiscard]] bool run_ops(Allocator& allocator, ReplaySlots& slots, const Trace& trace) noexcept {
  for (const TraceOp& op : trace.ops) {
    if (!heaplab::run_op(allocator, slots, op)) return false;
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
    const std::size_t needed = region_bytes_for(first->space.peak_heap.value_or(0));
    region = region.first(std::min(needed, region.size()));
    if (!replay_carefully<Allocator>(state, trace, region)) return;
    state.counters[kVisitedPerSearch] = first->space.visited_per_allocation.value_or(0.0);
  }
  ReplaySlots slots(trace.id_count);
  for (auto _ : state) {
    Allocator contender = make_heap<Allocator>(region);
    if (!run_ops(contender, slots, trace)) {
      // The careful replay served every operation, and a replay is
      // deterministic: only a broken allocator gets here.
      state.SkipWithError("a timed replay ran out of memory where the careful one did not");
      break;
    }
  }
  count_items(state, static_cast<std::int64_t>(trace.ops.size()));
}

/// The name of \p contender's replay of \p trace.
[[nodiscard]] std::string replay_name(const char* contender, const TimedTrace& trace) {
  return benchmark_name(kReplay, contender) + "/" + trace.name;
}

/// Registers the replay of \p trace on \p Allocator, named after \p contender.
template <class Allocator>
void register_replay(const char* contender, const TimedTrace& trace) {
  benchmark::RegisterBenchmark(replay_name(contender, trace).c_str(),
                               [&trace](benchmark::State& state) { replay_trace<Allocator>(state, trace); });
}

/// Everything compared with glibc, in the order of the ratio table.
constexpr std::array<const char*, 6> kVersusGlibc = {kFirstFit, kNextFit, kBestFit,
                                                     kWorstFit, kExplicit, kPmrPool};
/// The policies of the chapter.
constexpr std::array<const char*, 4> kPolicies = {kFirstFit, kNextFit, kBestFit, kWorstFit};

/// Registers the replay family for every timed trace, and its ratio rows:
/// glibc over every contender on the same trace.
bool register_replays() {
  for (const TimedTrace& trace : timed_traces()) {
    register_replay<FirstFitAllocator>(kFirstFit, trace);
    register_replay<NextFitAllocator>(kNextFit, trace);
    register_replay<BestFitAllocator>(kBestFit, trace);
    register_replay<WorstFitAllocator>(kWorstFit, trace);
    register_replay<ExplicitListAllocator>(kExplicit, trace);
    register_replay<PmrPool>(kPmrPool, trace);
    register_replay<GlibcMalloc>(kGlibc, trace);
    for (const char* contender : kVersusGlibc) {
      heaplab::bench::register_comparisons({
          Comparison{"replay " + trace.name + ": glibc / " + contender,
                     replay_name(kGlibc, trace), replay_name(contender, trace)},
      });
    }
  }
  return true;
}

[[maybe_unused]] const bool kStage3Replays = register_replays();

// ---------------------------------------------------------------------------
// Pairs, in registration order after the replays.

BENCHMARK(pair16<FirstFitAllocator>)->Name(benchmark_name(kPair, kFirstFit));
BENCHMARK(pair16<NextFitAllocator>)->Name(benchmark_name(kPair, kNextFit));
BENCHMARK(pair16<BestFitAllocator>)->Name(benchmark_name(kPair, kBestFit));
BENCHMARK(pair16<WorstFitAllocator>)->Name(benchmark_name(kPair, kWorstFit));
BENCHMARK(pair16<PmrPool>)->Name(benchmark_name(kPair, kPmrPool));
BENCHMARK(pair_behind_holes<FirstFitAllocator, Tail::near_fit>)
    ->Name(benchmark_name(kHoles, kFirstFit))
    ->Apply(hole_counts);
BENCHMARK(pair_behind_holes<NextFitAllocator, Tail::near_fit>)
    ->Name(benchmark_name(kHoles, kNextFit))
    ->Apply(hole_counts);
BENCHMARK(pair_behind_holes<BestFitAllocator, Tail::near_fit>)
    ->Name(benchmark_name(kHoles, kBestFit))
    ->Apply(hole_counts);
BENCHMARK(pair_behind_holes<WorstFitAllocator, Tail::near_fit>)
    ->Name(benchmark_name(kHoles, kWorstFit))
    ->Apply(hole_counts);
BENCHMARK(pair_behind_holes<GlibcMalloc, Tail::near_fit>)
    ->Name(benchmark_name(kHoles, kGlibc))
    ->Apply(hole_counts);

/// The pair rows of the ratio table: glibc over every policy (and std::pmr's
/// pool), for the 16-byte pair and behind the fewest and the most holes.
bool register_pair_ratios() {
  for (const char* contender : {kFirstFit, kNextFit, kBestFit, kWorstFit, kPmrPool}) {
    heaplab::bench::register_comparisons({
        Comparison{std::string("pair (16 B): glibc / ") + contender,
                   heaplab::bench::kPair16Glibc, benchmark_name(kPair, contender)},
    });
  }
  for (const std::int64_t holes : {kHoleCounts.front(), kHoleCounts.back()}) {
    for (const char* policy : kPolicies) {
      heaplab::bench::register_comparisons({
          Comparison{"pair (64 B) behind " + std::to_string(holes) + " holes, near fit: glibc / " +
                         policy,
                     with_holes(benchmark_name(kHoles, kGlibc), holes),
                     with_holes(benchmark_name(kHoles, policy), holes)},
      });
    }
  }
  return true;
}

[[maybe_unused]] const bool kStage3PairRatios = register_pair_ratios();

}  // namespace
