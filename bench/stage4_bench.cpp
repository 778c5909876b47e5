// Chapters 4 and 5 benchmarks: the coalescing allocators next to glibc
// malloc and std::pmr's pool, side by side in one run. The contenders are
// chapter 5's allocators, segregated fits (segregated_fit) and the same
// with quick lists in front (quick_fit, quick_fit.hpp), and for contrast
// chapter 4's first step, boundary tags with first fit over one LIFO list
// (coalesce_first_fit), the same with footer elision (coalesce_elided) and
// with deferred coalescing (coalesce_deferred).
//
// Three families:
//
//   pair_sized/<contender>/<size>    allocate + free <size> bytes, over and
//                                    over, on an empty heap; one item is
//                                    one pair.
//   batch_sized/<contender>/<size>   allocate 1024 blocks of <size> bytes,
//                                    then free them in the order they came;
//                                    one item is one block allocated and
//                                    freed.
//   replay/<contender>/<trace>       every operation of a shipped trace
//                                    (trace_bench.hpp); glibc's and std::pmr's
//                                    rows are chapter 3's replay/glibc/<trace>
//                                    and replay/pmr_pool/<trace>, measured in
//                                    the same run.
//
// The ratio table shows glibc's (and std::pmr's) time per operation over
// ours on the same workload: our speed relative to theirs (above 1x: we
// are faster). The chapter's one speed target is a trace throughput at
// least glibc's for the best configuration: those rows say
// ">= 1.00". The instruction count of a pair, the other target, is not a
// time: bench/pair_instructions.cpp counts it under callgrind.
//
// What each contender pays on a pair: allocate() finds the one free block
// at the head of its list (segregated fits: of the request's size class,
// found through the bitmap) and splits the request off the heap's rest;
// deallocate() checks the pointer in the start map, finds both neighbours
// through the boundary tags, merges the block back into the rest and puts
// the merged block on its list. glibc's per-thread cache (tcache) does
// neither split nor merge for these sizes: a pair is a push and a pop. So
// does quick_fit's for blocks below 256 bytes (its quick lists); above,
// it pays what segregated_fit pays.
//
// The heaps of ours carve one 8 MiB region (stage4_region()), as the lab's
// do: no upstream, so nothing is ever mapped, and a batch of 1024 blocks of
// 4 KiB fits.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "bench/bench_support.hpp"
#include "bench/free_list_bench.hpp"
#include "bench/ratio_reporter.hpp"
#include "bench/trace_bench.hpp"
#include "stage4_coalescing/coalescing_allocator.hpp"
#include "stage4_coalescing/deferred_coalescing.hpp"
#include "stage4_coalescing/footer_elision.hpp"
#include "stage5_real_malloc/real_malloc.hpp"
#include "tools/lab/lab_allocators.hpp"
#include "tools/lab/replay.hpp"

namespace {

using heaplab::CoalescingFirstFit;
using heaplab::DeferredFirstFit;
using heaplab::ElidedFirstFit;
using heaplab::FreeListStats;
using heaplab::GlibcMalloc;
using heaplab::LabHeap;
using heaplab::PmrPool;
using heaplab::QuickFitAllocator;
using heaplab::SegregatedFitAllocator;
using heaplab::bench::Comparison;
using heaplab::bench::count_items;
using heaplab::bench::escape;
using heaplab::bench::expect_restored;
using heaplab::bench::FreeListHeap;
using heaplab::bench::kBatch;
using heaplab::bench::keep;
using heaplab::bench::make_heap;
using heaplab::bench::register_comparisons;
using heaplab::bench::report_visits;
using heaplab::bench::TimedTrace;

// The contenders, as benchmark names and ratio labels call them.
constexpr const char* kSegregated = "segregated_fit";
constexpr const char* kQuick = "quick_fit";
constexpr const char* kFirstFit = "coalesce_first_fit";
constexpr const char* kElided = "coalesce_elided";
constexpr const char* kDeferred = "coalesce_deferred";
constexpr const char* kPmrPool = "pmr_pool";
constexpr const char* kGlibc = "glibc";

/// Our contenders, in the order of the ratio table.
constexpr std::array<const char*, 5> kOurs = {kSegregated, kQuick, kFirstFit, kElided, kDeferred};

// The families.
constexpr const char* kPair = "pair_sized";
constexpr const char* kBatchFamily = "batch_sized";

/// Request sizes of the pairs: a small object, then up to a kilobyte (all
/// in glibc's per-thread cache, which holds chunks up to 1032 bytes).
constexpr std::array<std::int64_t, 4> kPairSizes = {16, 64, 256, 1024};
/// Request sizes of the batches: the last one is past glibc's per-thread
/// cache and fast bins, so glibc too splits and merges.
constexpr std::array<std::int64_t, 4> kBatchSizes = {16, 128, 1024, 4096};

/// Size of stage4_region(): a batch of 1024 blocks of 4 KiB, with headers
/// and the start map, fits.
constexpr std::size_t kStage4RegionSize = std::size_t{8} << 20;
static_assert(kBatch * (kBatchSizes.back() + 64) + kStage4RegionSize / 64 <= kStage4RegionSize);

/// The region every pair and batch heap of ours carves: a lazily committed
/// mapping, warm after the first benchmark.
[[nodiscard]] std::span<std::byte> stage4_region() {
  static const LabHeap heap(kStage4RegionSize);
  return heap.bytes();
}

/// "<family>/<contender>/<size>", as Google Benchmark names an Arg().
[[nodiscard]] std::string sized_name(const char* family, const char* contender, std::int64_t size) {
  return std::string(family) + "/" + contender + "/" + std::to_string(size);
}

// ---------------------------------------------------------------------------
// Pairs and batches.

/// Measures one allocate + free pair of state.range(0) bytes on an empty
/// heap, kBatch pairs per iteration.
template <class Allocator>
void pair_sized(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  Allocator heap = make_heap<Allocator>(stage4_region());
  escape(&heap);
  // The first allocate carves the block; every timed one reuses it.
  heaplab::release_block(heap, heap.allocate(size), size);
  FreeListStats before;
  if constexpr (FreeListHeap<Allocator>) before = heap.stats();
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) {
      void* const block = heap.allocate(size);
      keep(block);
      heaplab::release_block(heap, block, size);  // std::pmr needs the size back
    }
  }
  count_items(state, kBatch);
  if constexpr (FreeListHeap<Allocator>) {
    report_visits(state, before, heap.stats());
    expect_restored(state, heap, before, static_cast<std::size_t>(state.iterations()) * kBatch);
  }
}

/// Measures kBatch blocks of state.range(0) bytes allocated, then freed
/// first to last; one item is one block allocated and freed. Freed in
/// order, each block merges with the one freed before it (case 3 of
/// coalesce()), so the batch ends as one free block again.
template <class Allocator>
void batch_sized(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  Allocator heap = make_heap<Allocator>(stage4_region());
  escape(&heap);
  std::array<void*, kBatch> blocks{};
  // One batch before the clock starts: the timed batches reuse its memory.
  for (void*& block : blocks) block = heap.allocate(size);
  for (void* block : blocks) heaplab::release_block(heap, block, size);
  FreeListStats before;
  if constexpr (FreeListHeap<Allocator>) before = heap.stats();
  for (auto _ : state) {
    for (void*& block : blocks) keep(block = heap.allocate(size));
    for (void* block : blocks) heaplab::release_block(heap, block, size);
  }
  count_items(state, kBatch);
  if constexpr (FreeListHeap<Allocator>) {
    report_visits(state, before, heap.stats());
    expect_restored(state, heap, before, static_cast<std::size_t>(state.iterations()) * kBatch);
  }
}

/// Registers the pair and batch families of \p Allocator under \p contender.
template <class Allocator>
void register_sized(const char* contender) {
  benchmark::RegisterBenchmark((std::string(kPair) + "/" + contender).c_str(), pair_sized<Allocator>)
      ->Apply([](benchmark::internal::Benchmark* b) {
        for (const std::int64_t size : kPairSizes) b->Arg(size);
      });
  benchmark::RegisterBenchmark((std::string(kBatchFamily) + "/" + contender).c_str(), batch_sized<Allocator>)
      ->Apply([](benchmark::internal::Benchmark* b) {
        for (const std::int64_t size : kBatchSizes) b->Arg(size);
      });
}

/// Registers pairs and batches for every contender, and their ratio rows:
/// glibc, then std::pmr, over each of ours, size by size.
bool register_pairs_and_batches() {
  register_sized<SegregatedFitAllocator>(kSegregated);
  register_sized<QuickFitAllocator>(kQuick);
  register_sized<CoalescingFirstFit>(kFirstFit);
  register_sized<ElidedFirstFit>(kElided);
  register_sized<DeferredFirstFit>(kDeferred);
  register_sized<PmrPool>(kPmrPool);
  register_sized<GlibcMalloc>(kGlibc);
  const auto rows = [](const char* family, const char* label, const auto& sizes) {
    for (const std::int64_t size : sizes) {
      for (const char* reference : {kGlibc, kPmrPool}) {
        for (const char* ours : kOurs) {
          register_comparisons({Comparison{std::string(label) + " (" + std::to_string(size) + " B): " +
                                               reference + " / " + ours,
                                           sized_name(family, reference, size), sized_name(family, ours, size)}});
        }
      }
    }
  };
  rows(kPair, "pair", kPairSizes);
  rows(kBatchFamily, "batch of 1024", kBatchSizes);
  return true;
}

[[maybe_unused]] const bool kStage4PairsAndBatches = register_pairs_and_batches();

// ---------------------------------------------------------------------------
// Traces.

/// Registers the replay family of our contenders for every shipped
/// workload, and its ratio rows: glibc over each of ours (the target, ">=
/// 1", on segregated fits and quick fit), then std::pmr over segregated fits.
bool register_stage4_replays() {
  using heaplab::bench::trace_replay_name;
  for (const TimedTrace& trace : heaplab::bench::shipped_workloads()) {
    heaplab::bench::register_trace_replay<SegregatedFitAllocator>(kSegregated, trace);
    heaplab::bench::register_trace_replay<QuickFitAllocator>(kQuick, trace);
    heaplab::bench::register_trace_replay<CoalescingFirstFit>(kFirstFit, trace);
    heaplab::bench::register_trace_replay<ElidedFirstFit>(kElided, trace);
    heaplab::bench::register_trace_replay<DeferredFirstFit>(kDeferred, trace);
    for (const char* ours : kOurs) {
      const bool judged = ours == kSegregated || ours == kQuick;
      register_comparisons({Comparison{"replay " + trace.name + ": glibc / " + ours,
                                       trace_replay_name(kGlibc, trace), trace_replay_name(ours, trace),
                                       judged ? heaplab::bench::Goal::at_least : heaplab::bench::Goal::none,
                                       judged ? 1.0 : 0.0}});
    }
    register_comparisons({Comparison{"replay " + trace.name + ": pmr_pool / " + kSegregated,
                                     trace_replay_name(kPmrPool, trace), trace_replay_name(kSegregated, trace)}});
  }
  return true;
}

[[maybe_unused]] const bool kStage4Replays = register_stage4_replays();

}  // namespace
