// Chapter 3 benchmarks: the four placement policies (first, next, best and
// worst fit, all splitting their blocks) on the shipped traces and on
// pairs, next to chapter 2's explicit list, glibc malloc and std::pmr's
// pool, side by side in one run. Chapter 3 sets itself no speed targets,
// so every row of the ratio table is "info": glibc's time per
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
// How a trace is timed is written once, for chapters 3 and 4, in
// bench/trace_bench.hpp. One cost it leaves out: a fresh heap of ours zeroes
// its start map, 1/64 of its region, from tens of bytes to some 200 KiB for
// these traces (the heap of growing-realloc grows to 12 MiB), a few
// microseconds at most, under 1% of any replay here; PauseTiming() and
// ResumeTiming() would cost more than that, so making and dropping the
// contender is timed.
#include <algorithm>
#include <array>
#include <cstddef>
#include <string>

#include "bench/bench_support.hpp"
#include "bench/free_list_bench.hpp"
#include "bench/ratio_reporter.hpp"
#include "bench/trace_bench.hpp"
#include "stage2_free_list/free_list_allocator.hpp"
#include "stage3_fit_strategies/fit_allocators.hpp"
#include "tools/lab/lab_allocators.hpp"

namespace {

using heaplab::BestFitAllocator;
using heaplab::ExplicitListAllocator;
using heaplab::FirstFitAllocator;
using heaplab::GlibcMalloc;
using heaplab::NextFitAllocator;
using heaplab::PmrPool;
using heaplab::WorstFitAllocator;
using heaplab::bench::Comparison;
using heaplab::bench::hole_counts;
using heaplab::bench::kHoleCounts;
using heaplab::bench::make_heap;
using heaplab::bench::register_trace_replay;
using heaplab::bench::shipped_workloads;
using heaplab::bench::TimedTrace;
using heaplab::bench::trace_replay_name;
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
constexpr const char* kPair = "pair16";
constexpr const char* kHoles = "near_fit_behind_holes";

/// The name of \p contender's benchmark in \p family.
[[nodiscard]] std::string benchmark_name(const char* family, const char* contender) {
  return std::string(family) + "/" + contender;
}

/// Everything compared with glibc, in the order of the ratio table.
constexpr std::array<const char*, 6> kVersusGlibc = {kFirstFit, kNextFit, kBestFit,
                                                     kWorstFit, kExplicit, kPmrPool};
/// The policies of the chapter.
constexpr std::array<const char*, 4> kPolicies = {kFirstFit, kNextFit, kBestFit, kWorstFit};

/// Registers the replay family for every timed trace, and its ratio rows:
/// glibc over every contender on the same trace.
bool register_replays() {
  for (const TimedTrace& trace : shipped_workloads()) {
    register_trace_replay<FirstFitAllocator>(kFirstFit, trace);
    register_trace_replay<NextFitAllocator>(kNextFit, trace);
    register_trace_replay<BestFitAllocator>(kBestFit, trace);
    register_trace_replay<WorstFitAllocator>(kWorstFit, trace);
    register_trace_replay<ExplicitListAllocator>(kExplicit, trace);
    register_trace_replay<PmrPool>(kPmrPool, trace);
    register_trace_replay<GlibcMalloc>(kGlibc, trace);
    for (const char* contender : kVersusGlibc) {
      heaplab::bench::register_comparisons({
          Comparison{"replay " + trace.name + ": glibc / " + contender,
                     trace_replay_name(kGlibc, trace), trace_replay_name(contender, trace)},
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
