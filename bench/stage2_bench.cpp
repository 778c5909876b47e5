// Chapter 2 benchmarks: the two free lists of the chapter (explicit LIFO
// and implicit, both first fit, blocks taken whole) against glibc malloc,
// side by side in one run. Chapter 2 sets itself no speed targets, so
// every row of the ratio table is "info": the chapter reads the numbers,
// nothing judges them.
//
// Four families:
//
//   pair16/*                 allocate + free 16 bytes, over and over, on an
//                            empty heap: the free list holds one block.
//   batch1024/*              allocate 1024 blocks of 16 bytes, then free them
//                            all, in allocation order or reversed.
//   search_miss/*/N          one allocate that walks past N free blocks (with
//                            N allocated blocks between them) and finds none:
//                            the search cost, alone, as N grows.
//   pair_behind_holes/*/N    allocate + free 64 bytes, over and over, when
//                            the only free block that fits lies behind N free
//                            16-byte holes: the implicit list pays the walk on
//                            every pair, the LIFO list only on the first.
//
// The pair and hole families are shared with the later chapters
// (free_list_bench.hpp, which also says how the comparisons are kept fair);
// batches and search misses are chapter 2's own, and follow the same rules.
// Pairs and batches time 1024 blocks per iteration, and one item is one
// block allocated and freed, so a pair and a batch item compare.
//
// What each allocator pays behind the holes:
// - Implicit: every search walks 2N blocks before reaching the fitting
//   block, and free() leaves it where it is, so every pair pays the walk.
// - Explicit: the first search visits N + 1 blocks; free() then pushes the
//   block at the head, and every later search finds it first. The blocks
//   are the same after each pair (checked), but the list order is not the
//   one laid out: LIFO turns a repeated pair into O(1), whatever N is.
// - glibc: its bins are segregated by size, so a 64-byte request never
//   looks at the 16-byte holes.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "bench/bench_support.hpp"
#include "bench/free_list_bench.hpp"
#include "bench/ratio_reporter.hpp"
#include "stage2_free_list/block.hpp"
#include "stage2_free_list/free_list_allocator.hpp"
#include "tools/lab/replay.hpp"

namespace {

using heaplab::ExplicitListAllocator;
using heaplab::FreeListStats;
using heaplab::GlibcMalloc;
using heaplab::ImplicitListAllocator;
using heaplab::bench::count_items;
using heaplab::bench::escape;
using heaplab::bench::expect_restored;
using heaplab::bench::FreeListHeap;
using heaplab::bench::free_list_region;
using heaplab::bench::hole_counts;
using heaplab::bench::kBatch;
using heaplab::bench::keep;
using heaplab::bench::kHoleCounts;
using heaplab::bench::kMostHoles;
using heaplab::bench::kRequest;
using heaplab::bench::kSmall;
using heaplab::bench::lay_out_holes;
using heaplab::bench::make_heap;
using heaplab::bench::pair16;
using heaplab::bench::pair_behind_holes;
using heaplab::bench::report_visits;
using heaplab::bench::same_blocks;
using heaplab::bench::Tail;
using heaplab::bench::with_holes;

// Benchmark names, used both to register the benchmarks and to name the
// two sides of each comparison. The two hole families add "/N".
constexpr const char* kPairExplicit = "pair16/explicit";
constexpr const char* kPairImplicit = "pair16/implicit";
constexpr const char* kPairMalloc = heaplab::bench::kPair16Glibc;
constexpr const char* kBatchExplicitInOrder = "batch1024/explicit_free_in_order";
constexpr const char* kBatchExplicitReversed = "batch1024/explicit_free_reversed";
constexpr const char* kBatchImplicitInOrder = "batch1024/implicit_free_in_order";
constexpr const char* kBatchImplicitReversed = "batch1024/implicit_free_reversed";
constexpr const char* kBatchMallocInOrder = "batch1024/glibc_free_in_order";
constexpr const char* kBatchMallocReversed = "batch1024/glibc_free_reversed";
constexpr const char* kMissImplicit = "search_miss/implicit";
constexpr const char* kMissExplicit = "search_miss/explicit";
constexpr const char* kHolesImplicit = "pair_behind_holes/implicit";
constexpr const char* kHolesExplicit = "pair_behind_holes/explicit";
constexpr const char* kHolesMalloc = "pair_behind_holes/glibc";

// ---------------------------------------------------------------------------
// Batches: allocate kBatch blocks, keep them all, then free them all.

/// The order in which a batch is freed.
enum class FreeOrder {
  in_order,  ///< First allocated, first freed (a queue of lifetimes).
  reversed,  ///< Last allocated, first freed (a stack of lifetimes).
};

/// Frees every block of \p blocks in \p order.
template <FreeOrder order, class Allocator>
[[gnu::always_inline]] inline void free_all(Allocator& heap, std::array<void*, kBatch>& blocks) noexcept {
  if constexpr (order == FreeOrder::in_order) {
    for (void* block : blocks) heap.deallocate(block);
  } else {
    for (auto block = blocks.rbegin(); block != blocks.rend(); ++block) heap.deallocate(*block);
  }
}

/// Measures 1024 blocks of 16 bytes allocated, then freed in \p order; one
/// item is one block allocated and freed.
///
/// What the order changes:
/// - Explicit (LIFO): every allocate takes the head in O(1) either way, but
///   the order decides which blocks come back. Freed in order, the last
///   block freed (the batch's last) heads the list, so the next batch gets
///   the same blocks in the opposite address order, and the direction
///   flips every batch. Freed reversed, the first block heads the list and
///   every batch walks the blocks in the same ascending order.
/// - Implicit: the order changes nothing. The list is the address order,
///   and the k-th allocate of a batch walks past the k - 1 blocks already
///   taken: O(n^2) per batch, about n / 2 blocks visited per search.
/// - glibc: its per-thread cache and fast bins are LIFO stacks per size, so
///   it behaves like the explicit list.
template <class Allocator, FreeOrder order>
void batch1024(benchmark::State& state) {
  Allocator heap = make_heap<Allocator>();
  escape(&heap);
  std::array<void*, kBatch> blocks{};
  // One batch before the clock starts: the timed batches then reuse the
  // blocks it carved (or, for glibc, the chunks its heap grew for).
  for (void*& block : blocks) block = heap.allocate(kSmall);
  free_all<order>(heap, blocks);
  FreeListStats before;
  if constexpr (FreeListHeap<Allocator>) before = heap.stats();
  for (auto _ : state) {
    for (void*& block : blocks) keep(block = heap.allocate(kSmall));
    free_all<order>(heap, blocks);
  }
  count_items(state, kBatch);
  if constexpr (FreeListHeap<Allocator>) {
    report_visits(state, before, heap.stats());
    expect_restored(state, heap, before, static_cast<std::size_t>(state.iterations()) * kBatch);
  }
}

// ---------------------------------------------------------------------------
// Search cost as the number of free blocks grows (the heap layout is drawn
// in free_list_bench.hpp).

/// Measures one allocate of kRequest bytes that finds no free block: the
/// search walks the whole list (N free holes, and for the implicit list the
/// N spacers and the tail too) and, the region being full, allocate()
/// returns null. This is the search on its own, at its longest, and it
/// changes nothing but the counters, so every iteration times the same
/// walk. (A served request cannot do that for the explicit list: free()
/// puts the block at the head, and the next search finds it at once; see
/// pair_behind_holes.) One item is one search.
template <FreeListHeap Allocator>
void search_miss(benchmark::State& state) {
  Allocator heap(free_list_region());
  escape(&heap);
  const auto holes = static_cast<std::size_t>(state.range(0));
  if (lay_out_holes(heap, holes, Tail::full).size() != holes) {
    state.SkipWithError("the hole layout does not fit the free-list region");
    return;
  }
  const FreeListStats before = heap.stats();
  if (before.capacity - before.used >= heaplab::block_size_for(kRequest)) {
    state.SkipWithError("the region still has room: a miss would carve instead of failing");
    return;
  }
  for (auto _ : state) keep(heap.allocate(kRequest));
  count_items(state, 1);
  const FreeListStats after = heap.stats();
  report_visits(state, before, after);
  const auto refused = static_cast<std::size_t>(state.iterations());
  if (after.allocations != before.allocations || after.exhausted - before.exhausted != refused) {
    state.SkipWithError("a search that should find nothing found a block");
  } else if (!same_blocks(before, after) || !heap.check()) {
    state.SkipWithError("a failed search changed the heap");
  }
}

// ---------------------------------------------------------------------------
// Registration, in the order the table prints them.

constexpr FreeOrder kInOrder = FreeOrder::in_order;
constexpr FreeOrder kReversed = FreeOrder::reversed;
BENCHMARK(pair16<ExplicitListAllocator>)->Name(kPairExplicit);
BENCHMARK(pair16<ImplicitListAllocator>)->Name(kPairImplicit);
BENCHMARK(pair16<GlibcMalloc>)->Name(kPairMalloc);
BENCHMARK(batch1024<ExplicitListAllocator, kInOrder>)->Name(kBatchExplicitInOrder);
BENCHMARK(batch1024<ExplicitListAllocator, kReversed>)->Name(kBatchExplicitReversed);
BENCHMARK(batch1024<ImplicitListAllocator, kInOrder>)->Name(kBatchImplicitInOrder);
BENCHMARK(batch1024<ImplicitListAllocator, kReversed>)->Name(kBatchImplicitReversed);
BENCHMARK(batch1024<GlibcMalloc, kInOrder>)->Name(kBatchMallocInOrder);
BENCHMARK(batch1024<GlibcMalloc, kReversed>)->Name(kBatchMallocReversed);
BENCHMARK(search_miss<ImplicitListAllocator>)->Name(kMissImplicit)->Apply(hole_counts);
BENCHMARK(search_miss<ExplicitListAllocator>)->Name(kMissExplicit)->Apply(hole_counts);
BENCHMARK(pair_behind_holes<ImplicitListAllocator, Tail::fitting>)->Name(kHolesImplicit)->Apply(hole_counts);
BENCHMARK(pair_behind_holes<ExplicitListAllocator, Tail::fitting>)->Name(kHolesExplicit)->Apply(hole_counts);
BENCHMARK(pair_behind_holes<GlibcMalloc, Tail::fitting>)->Name(kHolesMalloc)->Apply(hole_counts);

using heaplab::bench::Comparison;

/// The ratio rows of chapter 2, all for information: the chapter sets
/// itself no targets.
bool register_stage2_ratios() {
  heaplab::bench::register_comparisons({
      {"pair (16 B): glibc malloc+free / explicit", kPairMalloc, kPairExplicit},
      {"pair (16 B): implicit / explicit", kPairImplicit, kPairExplicit},
      {"batch of 1024, freed in order: glibc / explicit", kBatchMallocInOrder, kBatchExplicitInOrder},
      {"batch of 1024, freed reversed: glibc / explicit", kBatchMallocReversed,
       kBatchExplicitReversed},
      {"batch of 1024, freed in order: implicit / explicit", kBatchImplicitInOrder,
       kBatchExplicitInOrder},
  });
  for (const std::int64_t holes : kHoleCounts) {
    const std::string n = std::to_string(holes);
    heaplab::bench::register_comparisons({
        Comparison{"search miss past " + n + " free blocks: implicit / explicit",
                   with_holes(kMissImplicit, holes), with_holes(kMissExplicit, holes)},
    });
  }
  for (const std::int64_t holes : kHoleCounts) {
    const std::string n = std::to_string(holes);
    heaplab::bench::register_comparisons({
        Comparison{"pair (64 B) behind " + n + " holes: implicit / explicit",
                   with_holes(kHolesImplicit, holes), with_holes(kHolesExplicit, holes)},
    });
  }
  heaplab::bench::register_comparisons({
      Comparison{"pair (64 B) behind " + std::to_string(kMostHoles) + " holes: glibc / explicit",
                 with_holes(kHolesMalloc, kMostHoles), with_holes(kHolesExplicit, kMostHoles)},
  });
  return true;
}

[[maybe_unused]] const bool kStage2Ratios = register_stage2_ratios();

}  // namespace
