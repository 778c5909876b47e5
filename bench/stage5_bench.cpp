// Chapter 5's benchmark of search cost against heap size: a malloc + free
// step on a heap that keeps a live set of n blocks of random sizes (8 to
// 4,096 bytes, fixed seed), each step freeing a random live block and
// allocating a new one in its place. One item is one step.
//
//   live_set/<contender>/<n>   n = 4,096, 8,192, 16,384, 32,768, 65,536
//
// The contenders: two-level fits (two_level_fit, two_level_lists.hpp: one
// block looked at per search), segregated fits (segregated_fit: its
// power-of-two classes from 512 bytes are searched first fit, so a search
// can walk many blocks of a class as the heap grows), quick fit
// (quick_fit: segregated fits with quick lists in front, for blocks below
// 256 bytes), the chapter's malloc (thread_caches, thread_caches.hpp: every
// size here is a small one, served from size-class pages through this
// thread's cache), glibc's malloc, and memory_floor (no allocator: the
// memory's share of a step, below), in the same run.
//
// The chapter's target: two-level fits' and the chapter's malloc's time per
// step is flat in the live set's size, within 1.5x from 4,096 blocks to
// 65,536 (the ratio table's "growth" rows). A step's time still grows
// with any allocator: the live set's blocks leave the processor's caches
// (65,536 blocks of 2 KiB on average are 128 MiB), which is the memory's
// cost, not the search's. The memory_floor contender measures that cost
// in the same run: no allocator at all, only the step's own bookkeeping
// and one write to a random live block, so its growth is the least any
// allocator's can be.
//
// Ours carve one 1 GiB region (a lazily committed mapping), with no
// upstream: every block stays in it, and nothing is mapped.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "bench/bench_support.hpp"
#include "bench/free_list_bench.hpp"
#include "bench/ratio_reporter.hpp"
#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage5_real_malloc/real_malloc.hpp"
#include "stage5_real_malloc/thread_caches.hpp"
#include "tools/lab/lab_allocators.hpp"
#include "tools/lab/replay.hpp"

namespace {

using heaplab::GlibcMalloc;
using heaplab::LabHeap;
using heaplab::QuickFitAllocator;
using heaplab::SegregatedFitAllocator;
using heaplab::ThreadCachesAllocator;
using heaplab::TwoLevelFitAllocator;
using heaplab::bench::Comparison;
using heaplab::bench::count_items;
using heaplab::bench::escape;
using heaplab::bench::keep;
using heaplab::bench::make_heap;
using heaplab::bench::register_comparisons;

// The contenders, as benchmark names and ratio labels call them.
constexpr const char* kTwoLevel = "two_level_fit";
constexpr const char* kSegregated = "segregated_fit";
constexpr const char* kQuick = "quick_fit";
constexpr const char* kThreadCaches = "thread_caches";
constexpr const char* kGlibc = "glibc";
constexpr const char* kFloor = "memory_floor";

/// Ours, in the order of the ratio table.
constexpr std::array<const char*, 4> kOurs = {kTwoLevel, kSegregated, kQuick, kThreadCaches};

constexpr const char* kFamily = "live_set";

/// The live-set sizes, smallest first.
constexpr std::array<std::int64_t, 5> kLiveSets = {4096, 8192, 16384, 32768, 65536};
/// Request sizes: uniform in [kSmallest, kLargest].
constexpr std::size_t kSmallest = 8;
constexpr std::size_t kLargest = 4096;
/// Steps drawn in advance and replayed in a cycle, so that the timed loop
/// draws no random numbers.
constexpr std::size_t kSteps = std::size_t{1} << 16;
/// The region ours carve: twice the largest live set at its largest
/// blocks, room for the holes between them.
constexpr std::size_t kRegionBytes = std::size_t{1} << 30;
static_assert(kLiveSets.back() * (kLargest + 64) * 2 <= kRegionBytes);

/// The region every heap of ours carves, mapped once, committed as used.
[[nodiscard]] std::span<std::byte> live_set_region() {
  static const LabHeap heap(kRegionBytes);
  return heap.bytes();
}

/// The floor under every contender: no allocator. The first blocks are
/// laid out one after another, as a packed heap lays them out; after
/// that a free keeps its block and the next allocation hands the same
/// block back, whatever its size (the benchmark never writes into its
/// blocks). Each writes the block's first word, as a free list writes its
/// link. What a step costs here is the memory's share of every
/// contender's step.
class MemoryFloor {
 public:
  /// Lays its first blocks out in \p region.
  explicit MemoryFloor(std::span<std::byte> region) noexcept : region_(region) {}

  /// The block the last free kept, or the next bytes of the region.
  [[nodiscard]] void* allocate(std::size_t size) noexcept {
    void* const p = kept_ != nullptr ? kept_ : next_bytes(size);
    kept_ = nullptr;
    if (p != nullptr) write_link(p);
    return p;
  }
  /// Keeps \p p for the next allocation.
  void deallocate(void* p) noexcept {
    write_link(p);
    kept_ = p;
  }

 private:
  [[nodiscard]] void* next_bytes(std::size_t size) noexcept {
    const std::size_t bytes = heaplab::round_up(size, heaplab::kMallocAlignment);
    if (region_.size() - used_ < bytes) return nullptr;
    void* const p = region_.data() + used_;
    used_ += bytes;
    return p;
  }
  void write_link(void* p) noexcept {
    std::memcpy(p, &kept_, sizeof kept_);
    escape(p);
  }

  std::span<std::byte> region_;  ///< Where the first blocks lie.
  std::size_t used_ = 0;         ///< Bytes of it laid out.
  void* kept_ = nullptr;         ///< The block the last free kept, or null.
};

/// One step: which live block goes, and the size of the one that comes.
struct Step {
  std::uint32_t victim;  ///< Index into the live set.
  std::uint32_t size;    ///< Bytes of the new block.
};

/// The sizes of the first live set and the steps after it, the same for
/// every contender at \p live blocks.
struct Workload {
  std::vector<std::size_t> initial;  ///< One size per live block.
  std::vector<Step> steps;           ///< kSteps steps, replayed in a cycle.
};

[[nodiscard]] Workload make_workload(std::size_t live) {
  std::mt19937_64 random(0x7151F5);  // fixed: every contender and run sees the same sizes
  std::uniform_int_distribution<std::size_t> size(kSmallest, kLargest);
  std::uniform_int_distribution<std::size_t> victim(0, live - 1);
  Workload workload;
  workload.initial.reserve(live);
  for (std::size_t i = 0; i < live; ++i) workload.initial.push_back(size(random));
  workload.steps.reserve(kSteps);
  for (std::size_t i = 0; i < kSteps; ++i) {
    workload.steps.push_back({static_cast<std::uint32_t>(victim(random)), static_cast<std::uint32_t>(size(random))});
  }
  return workload;
}

/// Measures one step (free a random live block, allocate another) with
/// state.range(0) blocks live; one item is one step.
template <class Allocator>
void live_set(benchmark::State& state) {
  const auto live = static_cast<std::size_t>(state.range(0));
  const Workload workload = make_workload(live);
  Allocator heap = make_heap<Allocator>(live_set_region());
  escape(&heap);
  std::vector<void*> blocks(live);
  std::vector<std::size_t> sizes = workload.initial;
  for (std::size_t i = 0; i < live; ++i) {
    blocks[i] = heap.allocate(sizes[i]);
    if (blocks[i] == nullptr) {
      state.SkipWithError("the live set does not fit the region");
      return;
    }
  }
  // One cycle of steps before the clock starts: the heap reaches its
  // steady mix of holes and live blocks.
  std::size_t next = 0;
  const auto step = [&] {
    const Step& s = workload.steps[next];
    next = (next + 1) % kSteps;
    heaplab::release_block(heap, blocks[s.victim], sizes[s.victim]);
    void* const block = heap.allocate(s.size);
    keep(block);
    blocks[s.victim] = block;
    sizes[s.victim] = s.size;
  };
  for (std::size_t i = 0; i < kSteps; ++i) step();
  for (auto _ : state) {
    for (int i = 0; i < heaplab::bench::kBatch; ++i) step();
  }
  count_items(state, heaplab::bench::kBatch);
  if constexpr (requires { heap.stats().blocks_visited; }) {
    const auto s = heap.stats();
    state.counters["visited/search"] = s.searches == 0 ? 0.0 : static_cast<double>(s.blocks_visited) /
                                                                   static_cast<double>(s.searches);
  }
  for (std::size_t i = 0; i < live; ++i) heaplab::release_block(heap, blocks[i], sizes[i]);
}

/// "live_set/<contender>/<n>", as Google Benchmark names an Arg().
[[nodiscard]] std::string live_set_name(const char* contender, std::int64_t live) {
  return std::string(kFamily) + "/" + contender + "/" + std::to_string(live);
}

template <class Allocator>
void register_live_set(const char* contender) {
  benchmark::RegisterBenchmark((std::string(kFamily) + "/" + contender).c_str(), live_set<Allocator>)
      ->Apply([](benchmark::internal::Benchmark* b) {
        for (const std::int64_t live : kLiveSets) b->Arg(live);
      });
}

/// Registers the family for every contender, and its ratio rows: each
/// contender's growth from the smallest live set to each larger one (the
/// target: two-level fits and the chapter's malloc within 1.5x at 65,536),
/// then glibc over ours.
bool register_live_sets() {
  register_live_set<TwoLevelFitAllocator>(kTwoLevel);
  register_live_set<SegregatedFitAllocator>(kSegregated);
  register_live_set<QuickFitAllocator>(kQuick);
  register_live_set<ThreadCachesAllocator>(kThreadCaches);
  register_live_set<GlibcMalloc>(kGlibc);
  register_live_set<MemoryFloor>(kFloor);
  for (const char* contender : {kTwoLevel, kSegregated, kQuick, kThreadCaches, kGlibc, kFloor}) {
    for (std::size_t i = 1; i < kLiveSets.size(); ++i) {
      const bool flat = contender == kTwoLevel || contender == kThreadCaches;
      const bool judged = flat && i + 1 == kLiveSets.size();
      register_comparisons({Comparison{"growth " + std::to_string(kLiveSets[i]) + " / " +
                                           std::to_string(kLiveSets.front()) + " live: " + contender,
                                       live_set_name(contender, kLiveSets[i]),
                                       live_set_name(contender, kLiveSets.front()),
                                       judged ? heaplab::bench::Goal::at_most : heaplab::bench::Goal::none,
                                       judged ? 1.5 : 0.0}});
    }
  }
  for (const std::int64_t live : kLiveSets) {
    for (const char* ours : kOurs) {
      register_comparisons({Comparison{"live set " + std::to_string(live) + ": glibc / " + ours,
                                       live_set_name(kGlibc, live), live_set_name(ours, live)}});
    }
  }
  return true;
}

[[maybe_unused]] const bool kStage5LiveSets = register_live_sets();

}  // namespace
