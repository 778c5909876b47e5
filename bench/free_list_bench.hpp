/// \file
/// The benchmark families that every free-list chapter runs (chapter 2's
/// lists, chapter 3's placement policies, ...), written once so that each
/// chapter measures its allocators with the very same loops and layouts.
///
///   pair16/*               allocate + free 16 bytes, over and over, on an
///                          empty heap: a free list holds one block.
///   ..._behind_holes/*/N   allocate + free 64 bytes, over and over, when
///                          the only free block that fits lies behind N free
///                          16-byte holes (lay_out_holes() draws the heap).
///
/// Each chapter registers these templates for its allocators, under its
/// own names, and says in its file what each allocator pays.
///
/// How the comparisons are kept fair (the general rules are in
/// bench_support.hpp):
/// - Every contender runs the very same loop: glibc and std::pmr enter it
///   through the lab engine's adapters (GlibcMalloc, PmrPool in
///   tools/lab/replay.hpp), which give them the course's allocate() and
///   deallocate(), so no side gets a hand-tuned loop. Our allocators' calls go
///   into another file (their code is instantiated in the stage library),
///   exactly as malloc and free are calls into libc; the adapters add one
///   jump to that.
/// - Every pointer goes through keep() (rule 1): no allocate + free pair can
///   be deleted. keep() also makes every side keep its state in memory
///   (rule 3). For these allocators that costs nothing extra: none of them
///   could keep its state in registers across a call anyway. That is why
///   the free-list chapters have no rows without the barrier, as chapter 1 has.
/// - Pairs time kBatch pairs per iteration (rule 4), and one item is one
///   block allocated and freed.
/// - Hole layouts are built before the timed loop. Every timed loop must
///   leave the heap's blocks as it found them (no new block, no refused
///   request); each benchmark checks that after the loop, runs check() on
///   the heap, and reports an error otherwise. The counter
///   "visited/search" is read from stats() over the timed loop alone.
/// - The heaps carve free_list_region(), where a hole and its spacer fill
///   exactly one 64-byte cache line: every allocator touches the same
///   lines, and they differ only in how many blocks they look at.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "bench/bench_support.hpp"
#include "stage2_free_list/block.hpp"
#include "stage2_free_list/free_list_allocator.hpp"
#include "tools/lab/replay.hpp"

namespace heaplab::bench {

/// The name of glibc's pair16 row. Chapter 2 registers it; every chapter
/// compares its own pair16 rows with it.
inline constexpr const char* kPair16Glibc = "pair16/glibc_malloc_free";

/// The request size of pairs and batches: a small object, as in chapter 1.
/// (With one live block a free list holds one block whatever its size, so
/// a second size would show nothing new about the lists.)
inline constexpr std::size_t kSmall = 16;
/// Blocks per timed iteration of pairs and batches: as chapter 1's batch.
inline constexpr int kBatch = 1024;
/// The payload of a hole: too small for kRequest, so a search must pass it.
inline constexpr std::size_t kHole = 16;
/// What the hole benchmarks ask for: more than any hole holds.
inline constexpr std::size_t kRequest = 64;
/// The payload of a near fit: its block is one cell larger than kRequest
/// needs. One cell is less than kMinBlockSize, so the block is handed out
/// whole (nothing is split off, the heap's blocks stay the same), yet it
/// is no exact fit either, which best fit would stop at.
inline constexpr std::size_t kNearFitSize = kRequest + kBlockGranularity;
static_assert(block_size_for(kNearFitSize) - block_size_for(kRequest) < kMinBlockSize);
/// The numbers of free holes the search benchmarks lay out. The largest
/// keeps the implicit list's setup (whose every allocate walks the whole
/// heap first, O(N^2) in all) to a few tens of milliseconds, so a quick
/// smoke run stays quick.
inline constexpr std::array<std::int64_t, 5> kHoleCounts = {16, 64, 256, 1024, 4096};
/// The largest of kHoleCounts.
inline constexpr std::int64_t kMostHoles = kHoleCounts.back();

/// Size of free_list_region(): room for the largest hole layout (N holes,
/// N spacers and a fitting block) and for a batch, with the start map.
inline constexpr std::size_t kRegionSize = std::size_t{512} * 1024;
static_assert(kMostHoles * 2 * block_size_for(kHole) + block_size_for(kNearFitSize) +
                  kRegionSize / 64 <=
              kRegionSize);
static_assert(kBatch * block_size_for(kSmall) + kRegionSize / 64 <= kRegionSize);
// A hole and its spacer fill one cache line (see the file comment).
static_assert(2 * block_size_for(kHole) == 64);

/// The memory every free-list benchmark carves, aligned to a cache line.
/// Benchmarks run one at a time, so they can all use it. It is larger than
/// bench_support's shared_buffer(): a batch of 1024 blocks with headers
/// needs 32 KiB, and the search layouts up to 256 KiB.
[[nodiscard]] inline std::span<std::byte> free_list_region() noexcept {
  alignas(64) static std::array<std::byte, kRegionSize> region{};
  return region;
}

/// The allocators of the free-list chapters: they keep the counters these
/// benchmarks check (chapter 4's CoalescingStats adds some of its own).
template <class A>
concept FreeListHeap = requires(const A& heap) {
  { heap.stats() } -> std::convertible_to<FreeListStats>;
};

/// A fresh contender: one of our allocators over \p region, or a reference
/// adapter (glibc's heap is the process's own; std::pmr's pool takes its
/// memory from `operator new`), which ignores \p region.
template <class Allocator>
[[nodiscard]] Allocator make_heap(std::span<std::byte> region = free_list_region()) {
  if constexpr (std::constructible_from<Allocator, std::span<std::byte>>) {
    return Allocator(region);
  } else {
    return Allocator{};
  }
}

// ---------------------------------------------------------------------------
// Checks made after a timed loop, outside it.

/// The counter of blocks a search looked at, on average: the table's main
/// number for the hole families, and what explains the policies' speeds.
inline constexpr const char* kVisitedPerSearch = "visited/search";

/// Blocks looked at per search between \p before and \p after, shown as the
/// counter kVisitedPerSearch.
inline void report_visits(benchmark::State& state, const FreeListStats& before,
                          const FreeListStats& after) {
  const std::size_t searches = after.searches - before.searches;
  const std::size_t visited = after.blocks_visited - before.blocks_visited;
  state.counters[kVisitedPerSearch] =
      searches == 0 ? 0.0 : static_cast<double>(visited) / static_cast<double>(searches);
}

/// True when \p after describes the same blocks as \p before: the same
/// break, the same live blocks and the same free blocks.
[[nodiscard]] inline bool same_blocks(const FreeListStats& before, const FreeListStats& after) noexcept {
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
    state.SkipWithError("a free-list heap refused a request; refusals were timed");
  } else if (!same_blocks(before, after)) {
    state.SkipWithError("the timed loop changed the heap's blocks (did the break move?)");
  } else if (!heap.check()) {
    state.SkipWithError("the free-list heap fails check() after the timed loop");
  }
}

// ---------------------------------------------------------------------------
// Pairs: allocate 16 bytes, free them, kBatch times per iteration.

/// Measures one allocate + free pair of 16 bytes on an empty heap. A free
/// list then holds a single block, and every search finds it first,
/// whatever the list or the policy: this row shows the fixed cost of a
/// free-list allocator (header, start-map check on free, counters) next to
/// glibc's per-thread cache.
template <class Allocator>
void pair16(benchmark::State& state) {
  Allocator heap = make_heap<Allocator>();
  escape(&heap);
  // The first allocate carves the block; every timed one reuses it.
  release_block(heap, heap.allocate(kSmall), kSmall);
  FreeListStats before;
  if constexpr (FreeListHeap<Allocator>) before = heap.stats();
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) {
      void* const block = heap.allocate(kSmall);
      keep(block);
      release_block(heap, block, kSmall);  // std::pmr needs the size back
    }
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
// The hole families lay out this heap before the clock starts:
//
//     | hole | spacer | hole | spacer | ... | hole | spacer | tail ...
//       free   alloc    free   alloc          free   alloc
//     \_______ N times: one 64-byte cache line each ______/
//
// Every hole is a free 16-byte block that cannot serve kRequest (64 bytes);
// the allocated spacers keep the holes apart, so they stay N separate
// blocks here and in the coalescing chapters. An implicit list walks holes
// and spacers alike (2N blocks); an explicit list only the holes (N).

/// What follows the N hole pairs.
enum class Tail {
  /// An allocated block filling the rest of the region: no free block fits,
  /// and the heap cannot grow.
  full,
  /// A free block of exactly kRequest bytes, freed before the holes, so
  /// that it is last in address order and last on a LIFO list.
  fitting,
  /// As `fitting`, but of kNearFitSize bytes: it serves kRequest whole, and is
  /// no exact fit.
  near_fit,
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
  if (tail != Tail::full) {
    void* const fitting = heap.allocate(tail == Tail::fitting ? kRequest : kNearFitSize);
    if (fitting == nullptr) return {};
    heap.deallocate(fitting);
  } else if constexpr (FreeListHeap<Allocator>) {
    // One allocated block takes the whole rest of the region (a block of
    // `room` bytes asks for `room - header` bytes).
    const FreeListStats now = heap.stats();
    const std::size_t room = now.capacity - now.used;
    if (room >= kMinBlockSize && heap.allocate(room - kHeaderSize) == nullptr) return {};
  }
  for (void* hole : hole_blocks) heap.deallocate(hole);  // In address order.
  return spacers;
}

/// Measures allocate + free of kRequest bytes when the only free block that
/// fits, the \p tail (`fitting` or `near_fit`), comes after N holes, both
/// in address order and on a LIFO list. One item is one pair. What each
/// allocator pays is told where it is registered: it depends on where its
/// search starts, whether it stops at the first fit, and where free() puts
/// the block back.
template <class Allocator, Tail tail>
void pair_behind_holes(benchmark::State& state) {
  static_assert(tail != Tail::full, "a pair needs a free block that fits");
  Allocator heap = make_heap<Allocator>();
  escape(&heap);
  const auto holes = static_cast<std::size_t>(state.range(0));
  const std::vector<void*> spacers = lay_out_holes(heap, holes, tail);
  if (spacers.size() != holes) {
    state.SkipWithError("the hole layout does not fit the free-list region");
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
    // glibc's chunks are real heap memory: give the spacers back. (Our
    // heaps are simply dropped with the region.)
    for (void* spacer : spacers) heap.deallocate(spacer);
  }
}

/// Adds \p holes to \p benchmark for every count in kHoleCounts.
inline void hole_counts(benchmark::internal::Benchmark* benchmark) {
  for (const std::int64_t holes : kHoleCounts) benchmark->Arg(holes);
}

/// The name Google Benchmark gives \p family run with \p holes.
[[nodiscard]] inline std::string with_holes(const std::string& family, std::int64_t holes) {
  return family + "/" + std::to_string(holes);
}

}  // namespace heaplab::bench
