// Chapter 2 benchmarks: the two free lists of the chapter (explicit LIFO
// and implicit, both first fit, blocks taken whole) against glibc malloc,
// side by side in one run. The issue sets no speed targets for stage 2, so
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
// How the comparisons are kept fair (the general rules are in
// bench_support.hpp):
// - Every contender runs the very same loop: glibc enters it through a
//   two-line adapter (GlibcMalloc) with the stage-2 allocators' allocate()
//   and deallocate(), so no side gets a hand-tuned loop.
// - Every pointer goes through keep() (rule 1): no allocate + free pair can
//   be deleted. keep() also makes every side keep its state in memory
//   (rule 2). For these allocators that costs nothing extra: allocate() and
//   deallocate() are calls into another file (free_list_allocator.cpp
//   instantiates them), exactly as malloc and free are calls into libc, so
//   none of them could keep its state in registers across a call anyway.
//   That is why stage 2 has no "tight loop" rows.
// - Pairs and batches time 1024 blocks per iteration (rule 3), and one item
//   is one block allocated and freed, so a pair and a batch item compare.
// - Batches and hole layouts are built before the timed loop. Every timed
//   loop must leave the heap's blocks as it found them (no new block, no
//   refused request); each benchmark checks that after the loop, runs
//   check() on the heap, and reports an error otherwise. The counter
//   "visited/search" is read from stats() over the timed loop alone.
// - The stage-2 heaps carve stage2_region(), where a hole and its spacer
//   fill exactly one 64-byte cache line: both lists touch the same lines,
//   and differ only in how many blocks they look at.
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "bench/bench_support.hpp"
#include "bench/ratio_reporter.hpp"
#include "stage2_free_list/block.hpp"
#include "stage2_free_list/free_list_allocator.hpp"

namespace {

using heaplab::ExplicitListAllocator;
using heaplab::FreeListStats;
using heaplab::ImplicitListAllocator;
using heaplab::bench::count_items;
using heaplab::bench::escape;
using heaplab::bench::keep;

// Benchmark names, used both to register the benchmarks and to name the
// two sides of each comparison. The two hole families add "/N".
constexpr const char* kPairExplicit = "pair16/explicit";
constexpr const char* kPairImplicit = "pair16/implicit";
constexpr const char* kPairMalloc = "pair16/glibc_malloc_free";
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

/// The request size of pairs and batches: a small object, as in chapter 1.
/// (With one live block a free list holds one block whatever its size, so
/// a second size would show nothing new about the lists.)
constexpr std::size_t kSmall = 16;
/// Blocks per timed iteration of pairs and batches: as chapter 1's batch.
constexpr int kBatch = 1024;
/// The payload of a hole: too small for kRequest, so a search must pass it.
constexpr std::size_t kHole = 16;
/// What the hole benchmarks ask for: more than any hole holds.
constexpr std::size_t kRequest = 64;
/// The numbers of free holes the search benchmarks lay out. The largest
/// keeps the implicit list's setup (whose every allocate walks the whole
/// heap first, O(N^2) in all) to a few tens of milliseconds, so a quick
/// smoke run stays quick.
constexpr std::array<std::int64_t, 5> kHoleCounts = {16, 64, 256, 1024, 4096};
constexpr std::int64_t kMostHoles = kHoleCounts.back();

/// Size of stage2_region(): room for the largest hole layout (N holes, N
/// spacers and a fitting block) and for a batch, with the start map.
constexpr std::size_t kRegionSize = std::size_t{512} * 1024;
static_assert(kMostHoles * 2 * heaplab::block_size_for(kHole) + heaplab::block_size_for(kRequest) +
                  kRegionSize / 64 <=
              kRegionSize);
static_assert(kBatch * heaplab::block_size_for(kSmall) + kRegionSize / 64 <= kRegionSize);
// A hole and its spacer fill one cache line (see the file comment).
static_assert(2 * heaplab::block_size_for(kHole) == 64);

/// The memory every stage-2 benchmark carves, aligned to a cache line.
/// Benchmarks run one at a time, so they can all use it. It is larger than
/// bench_support's shared_buffer(): a batch of 1024 blocks with headers
/// needs 32 KiB, and the search layouts up to 256 KiB.
[[nodiscard]] std::span<std::byte> stage2_region() noexcept {
  alignas(64) static std::array<std::byte, kRegionSize> region{};
  return region;
}

/// glibc malloc with the stage-2 allocators' names, so that every contender
/// runs the same loop. Both calls are the plain libc calls.
struct GlibcMalloc {
  [[gnu::always_inline]] static void* allocate(std::size_t size) noexcept { return std::malloc(size); }
  [[gnu::always_inline]] static void deallocate(void* p) noexcept { std::free(p); }
};

/// The stage-2 allocators: they keep the counters these benchmarks check.
template <class A>
concept FreeListHeap = requires(const A& heap) {
  { heap.stats() } -> std::same_as<FreeListStats>;
};

/// A fresh contender: a stage-2 allocator over stage2_region(), or the
/// glibc adapter (glibc's heap is the process's own).
template <class Allocator>
[[nodiscard]] Allocator make_heap() {
  if constexpr (FreeListHeap<Allocator>) {
    return Allocator(stage2_region());
  } else {
    return Allocator{};
  }
}

// ---------------------------------------------------------------------------
// Checks made after a timed loop, outside it.

/// Blocks looked at per search between \p before and \p after, shown as the
/// counter "visited/search" (the table's main number for the hole families).
void report_visits(benchmark::State& state, const FreeListStats& before, const FreeListStats& after) {
  const std::size_t searches = after.searches - before.searches;
  const std::size_t visited = after.blocks_visited - before.blocks_visited;
  state.counters["visited/search"] =
      searches == 0 ? 0.0 : static_cast<double>(visited) / static_cast<double>(searches);
}

/// True when \p after describes the same blocks as \p before: the same
/// break, the same live blocks and the same free blocks.
[[nodiscard]] bool same_blocks(const FreeListStats& before, const FreeListStats& after) noexcept {
  return after.used == before.used && after.live_allocations == before.live_allocations &&
         after.requested == before.requested && after.free_blocks == before.free_blocks &&
         after.free_bytes == before.free_bytes;
}

/// Marks the run as broken unless the timed loop served every request
/// (\p served of them) from blocks that already existed, left the blocks as
/// they were, and left a heap that passes check().
template <FreeListHeap Allocator>
void expect_restored(benchmark::State& state, const Allocator& heap, const FreeListStats& before,
                     std::size_t served) {
  const FreeListStats after = heap.stats();
  if (after.exhausted != before.exhausted || after.rejected != before.rejected ||
      after.allocations - before.allocations != served) {
    state.SkipWithError("a stage-2 heap refused a request; refusals were timed");
  } else if (!same_blocks(before, after)) {
    state.SkipWithError("the timed loop changed the heap's blocks (did the break move?)");
  } else if (!heap.check()) {
    state.SkipWithError("the stage-2 heap fails check() after the timed loop");
  }
}

// ---------------------------------------------------------------------------
// Pairs: allocate 16 bytes, free them, kBatch times per iteration.

/// Measures one allocate + free pair of 16 bytes on an empty heap. The
/// stage-2 lists then hold a single block: the explicit list finds it at
/// its head, the implicit list as the heap's first block, so both pairs
/// are O(1) and this row shows the fixed cost of a free-list allocator
/// (header, start-map check on free, counters) next to glibc's tcache.
template <class Allocator>
void pair16(benchmark::State& state) {
  Allocator heap = make_heap<Allocator>();
  escape(&heap);
  // The first allocate carves the block; every timed one reuses it.
  heap.deallocate(heap.allocate(kSmall));
  FreeListStats before;
  if constexpr (FreeListHeap<Allocator>) before = heap.stats();
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) {
      void* const block = heap.allocate(kSmall);
      keep(block);
      heap.deallocate(block);
    }
  }
  count_items(state, kBatch);
  if constexpr (FreeListHeap<Allocator>) {
    report_visits(state, before, heap.stats());
    expect_restored(state, heap, before, static_cast<std::size_t>(state.iterations()) * kBatch);
  }
}

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
// Search cost as the number of free blocks grows.
//
// Both families lay out the same heap before the clock starts:
//
//     | hole | spacer | hole | spacer | ... | hole | spacer | tail ...
//       free   alloc    free   alloc          free   alloc
//     \_______ N times: one 64-byte cache line each ______/
//
// Every hole is a free 16-byte block that cannot serve kRequest (64 bytes);
// the allocated spacers keep the holes apart, so they stay N separate
// blocks here and in the coalescing chapters. The implicit list walks
// holes and spacers alike (2N blocks); the explicit list only the holes (N).

/// What follows the N hole pairs.
enum class Tail {
  /// An allocated block filling the rest of the region: no free block fits,
  /// and the heap cannot grow.
  full,
  /// A free block of kRequest bytes, freed before the holes, so that it is
  /// last in address order and last on the LIFO list.
  fitting,
};

/// Lays out \p holes hole pairs and \p tail in \p heap (see the diagram);
/// returns the spacers, or an empty vector if a request was refused.
template <class Allocator>
[[nodiscard]] std::vector<void*> lay_out_holes(Allocator& heap, std::size_t holes, Tail tail) {
  std::vector<void*> hole_blocks(holes);
  std::vector<void*> spacers(holes);
  for (std::size_t i = 0; i < holes; ++i) {
    hole_blocks[i] = heap.allocate(kHole);
    spacers[i] = heap.allocate(kHole);
    if (hole_blocks[i] == nullptr || spacers[i] == nullptr) return {};
  }
  if (tail == Tail::fitting) {
    void* const fitting = heap.allocate(kRequest);
    if (fitting == nullptr) return {};
    heap.deallocate(fitting);
  } else if constexpr (FreeListHeap<Allocator>) {
    // One allocated block takes the whole rest of the region (a block of
    // `room` bytes asks for `room - header` bytes).
    const FreeListStats now = heap.stats();
    const std::size_t room = now.capacity - now.used;
    if (room >= heaplab::kMinBlockSize && heap.allocate(room - heaplab::kHeaderSize) == nullptr) return {};
  }
  for (void* hole : hole_blocks) heap.deallocate(hole);  // In address order.
  return spacers;
}

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
  Allocator heap(stage2_region());
  escape(&heap);
  const auto holes = static_cast<std::size_t>(state.range(0));
  if (lay_out_holes(heap, holes, Tail::full).size() != holes) {
    state.SkipWithError("the hole layout does not fit the stage-2 region");
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

/// Measures allocate + free of kRequest bytes when the only free block that
/// fits comes after N holes, both in address order and on the LIFO list.
/// One item is one pair.
/// - Implicit: every search walks 2N blocks before reaching it, and free()
///   leaves it where it is, so every pair pays the whole walk.
/// - Explicit: the first search visits N + 1 blocks; free() then pushes the
///   block at the head, and every later search finds it first. The blocks
///   are the same after each pair (checked), but the list order is not the
///   one laid out: LIFO turns a repeated pair into O(1), whatever N is.
/// - glibc: its bins are segregated by size, so a 64-byte request never
///   looks at the 16-byte holes.
template <class Allocator>
void pair_behind_holes(benchmark::State& state) {
  Allocator heap = make_heap<Allocator>();
  escape(&heap);
  const auto holes = static_cast<std::size_t>(state.range(0));
  const std::vector<void*> spacers = lay_out_holes(heap, holes, Tail::fitting);
  if (spacers.size() != holes) {
    state.SkipWithError("the hole layout does not fit the stage-2 region");
    return;
  }
  FreeListStats before;
  if constexpr (FreeListHeap<Allocator>) before = heap.stats();
  for (auto _ : state) {
    void* const block = heap.allocate(kRequest);
    keep(block);
    heap.deallocate(block);
  }
  count_items(state, 1);
  if constexpr (FreeListHeap<Allocator>) {
    report_visits(state, before, heap.stats());
    expect_restored(state, heap, before, static_cast<std::size_t>(state.iterations()));
  } else {
    // glibc's chunks are real heap memory: give the spacers back. (The
    // stage-2 heaps are simply dropped with the region.)
    for (void* spacer : spacers) heap.deallocate(spacer);
  }
}

// ---------------------------------------------------------------------------
// Registration, in the order the table prints them.

/// Adds \p holes to \p benchmark for every count in kHoleCounts.
void hole_counts(benchmark::internal::Benchmark* benchmark) {
  for (const std::int64_t holes : kHoleCounts) benchmark->Arg(holes);
}

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
BENCHMARK(pair_behind_holes<ImplicitListAllocator>)->Name(kHolesImplicit)->Apply(hole_counts);
BENCHMARK(pair_behind_holes<ExplicitListAllocator>)->Name(kHolesExplicit)->Apply(hole_counts);
BENCHMARK(pair_behind_holes<GlibcMalloc>)->Name(kHolesMalloc)->Apply(hole_counts);

using heaplab::bench::Comparison;

/// The name Google Benchmark gives \p family run with \p holes.
std::string with_holes(const char* family, std::int64_t holes) {
  return std::string(family) + "/" + std::to_string(holes);
}

/// The ratio rows of chapter 2, all for information: the issue sets no
/// targets for stage 2.
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
