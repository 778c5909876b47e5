// Chapter 5's invariant suite for segregated fits, growth and mappings:
// size classes and their lists, P bits under segregated fits, large blocks
// in mappings of their own, growth past the first region, the checker's
// chapter-5 invariants, and misuse with mapped blocks. Quick fit's own
// tests are in stage5_quick_tests.cpp.
//
// The allocators are SegregatedFitAllocator and QuickFitAllocator
// (stage5_real_malloc/real_malloc.hpp), built from a region and an
// Upstream. How a test reaches a region, its lists and its blocks through
// the layers is written once, in the helpers below.
//
// Heaps are built by hand on page-aligned regions, as in stage4_tests.cpp:
// blocks carved one after the other at the break, freed in a chosen order,
// so every block offset, merge and list follows from what the test did.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/misuse.hpp"
#include "stage2_free_list/block.hpp"
#include "stage2_free_list/block_heap.hpp"
#include "stage4_coalescing/boundary_tags.hpp"
#include "stage4_coalescing/coalescing_allocator_impl.hpp"
#include "stage4_coalescing/footer_elision.hpp"
#include "stage4_coalescing/linked_free_list.hpp"
#include "stage5_real_malloc/real_malloc.hpp"
#include "tests/support/aligned_region.hpp"
#include "tests/support/block_walk.hpp"
#include "tests/support/blocks.hpp"
#include "tests/support/free_list_stats.hpp"
#include "tests/support/recording_handler.hpp"
#include "tests/support/served_alike.hpp"
#include "tests/support/tagged_blocks.hpp"
#include "tests/support/test_chunk_source.hpp"

// ---- Reaching through the layers ---------------------------------------------
// Chapter 5 stacks layers over chapter 4's allocator: RealMalloc is
// LargeBlocks<GrowingHeap<Region>>, where Region is SegregatedFitRegion (a
// CoalescingAllocator over SegregatedLists) or QuickFitRegion (a QuickCache
// in front of a ParkingHeap over SegregatedLists). The shared helpers of
// tests/support/tagged_blocks.hpp reach a region through RegionAccess,
// specialized here; everything else about a region follows from it.

namespace heaplab::testing {

/// The chapter-4 allocator at the bottom of \p layer: \p layer itself, or
/// what its inner() layers lead to (QuickCache in front of a region).
template <class Layer>
const auto& coalescing_of(const Layer& layer) {
  if constexpr (requires { layer.free_blocks(); }) {
    return layer;
  } else {
    return coalescing_of(layer.inner());
  }
}

/// Chapter 5's regions: LargeBlocks -> GrowingHeap -> each region, and in
/// each region one list per size class.
template <class Region>
struct RegionAccess<RealMalloc<Region>> {
  /// Regions grow, and large blocks are mapped past them.
  static constexpr bool kGrows = true;

  /// Calls \p visit with each region's chapter-4 allocator, oldest first.
  template <class Visitor>
  static void for_each_region(const RealMalloc<Region>& heap, Visitor&& visit) {
    heap.inner().for_each_region([&](const Region& region) { visit(coalescing_of(region)); });  // LargeBlocks -> GrowingHeap
  }

  /// The chapter-4 allocator of the first region (the region given to the constructor).
  static const auto& first(const RealMalloc<Region>& heap) {
    const Region* first = nullptr;
    heap.inner().for_each_region([&](const Region& region) {
      if (first == nullptr) first = &region;
    });
    return coalescing_of(*first);
  }

  /// Calls \p visit with each free block of \p region: list by list,
  /// smallest class first, each head first.
  template <class Allocator, class Visitor>
  static void for_each_free_block(const Allocator& region, Visitor&& visit) {
    for (std::size_t i = 0; i < SegregatedLists<FirstFit>::kLists; ++i) region.free_blocks().list(i).for_each(visit);
  }
};

}  // namespace heaplab::testing

namespace {

using namespace heaplab;
using namespace heaplab::testing;

/// How many size-class lists a region keeps.
template <class A>
constexpr std::size_t kListsOf = SegregatedLists<FirstFit>::kLists;

/// The first region's list of size class \p index.
template <class A>
const LinkedFreeList& size_class_list(const A& heap, std::size_t index) {
  return RegionAccess<A>::first(heap).free_blocks().list(index);
}

/// The size class of a block of \p size bytes (segregated_fits.hpp).
constexpr std::size_t size_class_of(std::size_t size) { return SizeClasses::of(size); }

/// What stats() returns: chapter 4's CoalescingStats plus regions,
/// mapped_blocks, mapped_bytes and quick_blocks (malloc_stats.hpp).
template <class A>
using StatsOf = decltype(std::declval<const A&>().stats());

/// The course's size classes under another name, counting the blocks they
/// file: size classes of their own in SegregatedLists' slot, the one a
/// learner's take (stage5_real_malloc/your_turn/size_classes.hpp).
struct CountedClasses : SizeClasses {
  /// Counts the call, then maps as SizeClasses does.
  static std::size_t of(std::size_t size) noexcept {
    ++calls;
    return SizeClasses::of(size);
  }
  static inline std::size_t calls = 0;  ///< of() calls, over the whole test program.
};

/// Wrong size classes: of() is right, but the way back says every class
/// starts one cell higher than it does.
struct OneCellTooHigh : SizeClasses {
  static constexpr std::size_t smallest_block(std::size_t index) noexcept {
    return SizeClasses::smallest_block(index) + kBlockGranularity;
  }
};

// ---- Helpers ---------------------------------------------------------------------

constexpr std::size_t kKiB = 1024;
/// A page, as the test source rounds chunks (mmap does the same).
constexpr std::size_t kPage = 4096;

/// A source that records every chunk, with page-sized rounding as mmap does.
using PageSource = TestChunkSource;

/// The system's mappings (MmapChunkSource, whose resize() is mremap), with
/// each call counted.
class CountingMmapSource final : public ChunkSource {
 public:
  [[nodiscard]] std::span<std::byte> acquire(std::size_t bytes) noexcept override {
    ++acquires;
    return system_.acquire(bytes);
  }
  void release(std::span<std::byte> chunk) noexcept override {
    ++releases;
    system_.release(chunk);
  }
  [[nodiscard]] std::span<std::byte> resize(std::span<std::byte> chunk, std::size_t bytes) noexcept override {
    ++resizes;
    return system_.resize(chunk, bytes);
  }
  int acquires = 0;  ///< acquire() calls.
  int releases = 0;  ///< release() calls.
  int resizes = 0;   ///< resize() calls.

 private:
  MmapChunkSource system_;
};

/// The index of the first region's list that holds \p block, or
/// kListsOf<A> if none does.
template <class A>
std::size_t list_holding(const A& heap, const BlockHeader* block) {
  for (std::size_t i = 0; i < kListsOf<A>; ++i) {
    bool found = false;
    size_class_list(heap, i).for_each([&](const BlockHeader& b) { found = found || &b == block; });
    if (found) return i;
  }
  return kListsOf<A>;
}

/// Checks that stats() agrees with a block walk (count_walk()): live
/// allocations, free blocks and bytes, regions, mapped blocks, and every
/// used byte.
template <class A>
void check_counts_against_walk(const A& heap) {
  const StatsOf<A> s = heap.stats();
  check_stats_identities(s);
  const WalkCounts walked = count_walk(heap);
  std::size_t region_bytes = 0;
  RegionAccess<A>::for_each_region(heap, [&](const auto& region) { region_bytes += region.heap().blocks().used(); });
  CHECK(walked.bytes == region_bytes);  // each region's blocks end at its break
  CHECK(s.regions == walked.regions);
  CHECK(s.mapped_blocks == walked.mapped);
  CHECK(s.mapped_bytes == walked.mapped_bytes);
  CHECK(s.live_allocations == walked.allocated + walked.mapped);
  CHECK(s.free_blocks == walked.free_blocks);
  CHECK(s.free_bytes == walked.free_bytes);
  CHECK(s.used == region_bytes + walked.mapped_bytes);
  CHECK(listed(heap).size() + s.quick_blocks == walked.free_blocks);  // parked blocks are free to their users
}

/// Checks that every number of \p after equals \p before's.
template <class Stats>
void check_same_real_malloc_stats(const Stats& before, const Stats& after) {
  check_same_coalescing_stats(before, after);
  CHECK(after.regions == before.regions);
  CHECK(after.mapped_blocks == before.mapped_blocks);
  CHECK(after.mapped_bytes == before.mapped_bytes);
}

}  // namespace

TYPE_TO_STRING_AS("SegregatedFitAllocator", heaplab::SegregatedFitAllocator);
TYPE_TO_STRING_AS("QuickFitAllocator", heaplab::QuickFitAllocator);

// Every allocator of chapter 5 that came from chapter 4.
#define HEAPLAB_STAGE5_CONFIGS heaplab::SegregatedFitAllocator, heaplab::QuickFitAllocator

TEST_SUITE("stage5") {

// ---- Segregated fits -----------------------------------------------------------

TEST_CASE("segregated fits: each free block is on the list of its size class") {
  using A = SegregatedFitAllocator;
  RegionHeap<A> t;
  auto& heap = t.heap;
  const std::vector<std::size_t> sizes{48, 96, 256, 600, 2000};
  const HandBuiltList built = build_free_list(heap, sizes);
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    CAPTURE(sizes[i]);
    const std::size_t index = size_class_of(sizes[i]);
    CHECK(list_holding(heap, header(built.blocks[i])) == index);
    CHECK(size_class_list(heap, index).head() == header(built.blocks[i]));
    CHECK(size_class_list(heap, index).tally().blocks == 1);
  }
  CHECK(size_class_of(48) == 1);
  CHECK(size_class_of(504) == SizeClasses::kExactClasses - 1);
  CHECK(size_class_of(600) == size_class_of(1016));  // one class per power of two from 512 up
  CHECK(size_class_of(1024) == size_class_of(600) + 1);
  CHECK(heap.check());
  // A merge moves the block to the class of its new size. Memory runs
  // [2000][sp][600][sp][256][sp][96][sp][48][sp]: freeing the spacer after
  // the 96-byte block is case 4, 96 + 40 + 48 = 184 bytes.
  heap.deallocate(built.spacers[1]);
  CHECK(list_holding(heap, header(built.blocks[1])) == size_class_of(184));
  CHECK(size_class_list(heap, size_class_of(96)).empty());
  CHECK(size_class_list(heap, size_class_of(48)).empty());
  CHECK(heap.check());
}

TEST_CASE("segregated fits: a small request is served from the smallest non-empty class that fits") {
  using A = SegregatedFitAllocator;
  RegionHeap<A> t;
  auto& heap = t.heap;
  const HandBuiltList built = build_free_list(heap, {48, 96, 256, 600, 2000});
  // 72 bytes need an 88-byte block: no block of that class; the 96-byte
  // block is the smallest above it (the 256 one would do too), and only it
  // is looked at.
  REQUIRE(block_for<A>(72) == 88);
  std::size_t visited = heap.stats().blocks_visited;
  CHECK(heap.allocate(72) == built.blocks[1]);
  CHECK(heap.stats().blocks_visited - visited == 1);
  CHECK(block_size(*header(built.blocks[1])) == 96);  // the 8-byte tail is too small to split
  // From 512 up a class spans a power of two: 704 bytes' class holds the
  // 600-byte block, which is too small, so the search moves on to the 2000.
  REQUIRE(size_class_of(704) == size_class_of(600));
  visited = heap.stats().blocks_visited;
  CHECK(heap.allocate(request_for<A>(704)) == built.blocks[4]);
  CHECK(heap.stats().blocks_visited - visited == 2);
  CHECK(list_holding(heap, header_at(block_start(header(built.blocks[4])) + 704)) == size_class_of(1296));
  CHECK(heap.check());
}

TEST_CASE("segregated fits: the four cases of coalescing merge across size classes") {
  using A = SegregatedFitAllocator;
  RegionHeap<A> t;
  auto& heap = t.heap;
  const std::size_t s = block_for<A>(kRequest);
  const std::vector<void*> b = carve(heap, 5);
  heap.deallocate(b[1]);
  heap.deallocate(b[3]);
  CHECK(list_holding(heap, header(b[1])) == size_class_of(s));
  heap.deallocate(b[2]);  // case 4: one block of 3s, on the class of its size
  CHECK(heap.stats().merges == 2);
  CHECK(listed(heap) == std::vector<const BlockHeader*>{header(b[1])});
  CHECK(list_holding(heap, header(b[1])) == size_class_of(3 * s));
  CHECK(size_class_list(heap, size_class_of(s)).empty());
  check_counts_against_walk(heap);
  CHECK(heap.check());
  CHECK(heap.allocate(request_for<A>(3 * s)) == b[1]);
  CHECK(heap.check());
}

TEST_CASE("segregated fits: the P bits follow the state of the block in front") {
  using A = SegregatedFitAllocator;
  REQUIRE(kElidedOf<A>);
  check_p_bits_follow_frees<A>();
}

// ---- Large blocks --------------------------------------------------------------

TEST_CASE_TEMPLATE("a large request gets a mapping of its own and freeing it gives the mapping back", A,
                   HEAPLAB_STAGE5_CONFIGS) {
  PageSource source(kMaxRequest, kPage);
  {
    RegionHeap<A> t(4 * kRegionBytes, Upstream{.source = &source, .mmap_threshold = 64 * kKiB});
    auto& heap = t.heap;
    void* const small = heap.allocate(64 * kKiB - 1);  // just below the threshold: a heap block
    REQUIRE(small != nullptr);
    CHECK(heap.stats().mapped_blocks == 0);
    CHECK(blocks_of(heap).contains(small));
    const std::size_t used_in_region = blocks_of(heap).used();

    void* const p = heap.allocate(100 * kKiB);
    REQUIRE(p != nullptr);
    CHECK(source.acquires() == 1);
    auto s = heap.stats();
    CHECK(s.mapped_blocks == 1);
    CHECK(s.mapped_bytes == source.outstanding());
    CHECK(s.mapped_bytes >= 100 * kKiB);
    CHECK(s.mapped_bytes % kPage == 0);
    CHECK(s.live_allocations == 2);
    CHECK(s.requested == 64 * kKiB - 1 + 100 * kKiB);
    CHECK(blocks_of(heap).used() == used_in_region);  // the heap did not move
    CHECK_FALSE(blocks_of(heap).contains(p));
    CHECK(heap.owns(p));
    CHECK(heap.owns(static_cast<std::byte*>(p) + 100 * kKiB - 1));
    const std::vector<BlockView> views = walk(heap);
    REQUIRE_FALSE(views.empty());
    CHECK(views.back().region == 1);  // after the one region
    CHECK(views.back().offset == 0);
    CHECK(views.back().size == s.mapped_bytes);
    CHECK(views.back().state == BlockState::allocated);
    check_counts_against_walk(heap);
    CHECK(heap.check());

    heap.deallocate(p);
    CHECK(source.releases() == 1);
    CHECK(source.outstanding() == 0);
    CHECK(source.bad_releases() == 0);
    s = heap.stats();
    CHECK(s.mapped_blocks == 0);
    CHECK(s.mapped_bytes == 0);
    CHECK(s.live_allocations == 1);
    CHECK_FALSE(heap.owns(p));
    CHECK(heap.check());

    // A mapped block still live when the allocator is destroyed goes back with it.
    REQUIRE(heap.allocate(200 * kKiB) != nullptr);
    CHECK(source.outstanding() > 0);
  }
  CHECK(source.outstanding() == 0);
  CHECK(source.bad_releases() == 0);
}

TEST_CASE_TEMPLATE("the peak of requested bytes never falls when a heap block is freed while a block is mapped", A,
                   HEAPLAB_STAGE5_CONFIGS) {
  PageSource source(kMaxRequest, kPage);
  RegionHeap<A> t(4 * kRegionBytes, Upstream{.source = &source, .mmap_threshold = 64 * kKiB});
  auto& heap = t.heap;
  void* const mapped = heap.allocate(100 * kKiB);
  void* const small = heap.allocate(10 * kKiB);
  REQUIRE(mapped != nullptr);
  REQUIRE(small != nullptr);
  REQUIRE(heap.stats().mapped_blocks == 1);
  const std::size_t both = 100 * kKiB + 10 * kKiB;
  CHECK(heap.stats().peak_requested == both);
  // The heap's requested bytes fall while the mapping stays: the peak seen stays.
  heap.deallocate(small);
  CHECK(heap.stats().requested == 100 * kKiB);
  CHECK(heap.stats().peak_requested == both);
  heap.deallocate(mapped);
  CHECK(heap.stats().peak_requested == both);
}

TEST_CASE_TEMPLATE("realloc of a mapped block: in place within its pages and moved beyond them", A,
                   HEAPLAB_STAGE5_CONFIGS) {
  PageSource source(kMaxRequest, kPage);
  RegionHeap<A> t(kRegionBytes, Upstream{.source = &source, .mmap_threshold = 64 * kKiB});
  auto& heap = t.heap;
  std::size_t size = 100 * kKiB;  // 25 pages: the record and header in front take a 26th
  void* p = heap.allocate(size);
  REQUIRE(p != nullptr);
  fill_pattern(block_at(p, size), 1);
  // Less than a page more: the mapping, rounded up to pages, has the room.
  CHECK(heap.reallocate(p, size + 1000) == p);
  CHECK(source.acquires() == 1);
  CHECK(heap.stats().requested == size + 1000);
  CHECK(holds_pattern(block_at(p, size), 1));
  size += 1000;
  fill_pattern(block_at(p, size), 1);
  CHECK(heap.check());
  // Three times as much: a new mapping, the bytes copied, the old one given back.
  void* const moved = heap.reallocate(p, 3 * size);
  REQUIRE(moved != nullptr);
  CHECK(moved != p);
  CHECK(source.acquires() == 2);
  CHECK(source.releases() == 1);
  CHECK(heap.stats().mapped_blocks == 1);
  CHECK(heap.stats().mapped_bytes == source.outstanding());
  CHECK(holds_pattern(block_at(moved, size), 1));
  CHECK(heap.check());
  // Below the threshold: into the heap, and the mapping goes back.
  void* const in_heap = heap.reallocate(moved, 1000);
  REQUIRE(in_heap != nullptr);
  CHECK(blocks_of(heap).contains(in_heap));
  CHECK(holds_pattern(block_at(in_heap, 1000), 1));
  CHECK(heap.stats().mapped_blocks == 0);
  CHECK(source.outstanding() == 0);
  // And a heap block that grows past the threshold moves into a mapping.
  void* const mapped_again = heap.reallocate(in_heap, 80 * kKiB);
  REQUIRE(mapped_again != nullptr);
  CHECK_FALSE(blocks_of(heap).contains(mapped_again));
  CHECK(heap.stats().mapped_blocks == 1);
  CHECK(holds_pattern(block_at(mapped_again, 1000), 1));
  CHECK_FALSE(is_allocated(*header(in_heap)));
  check_counts_against_walk(heap);
  CHECK(heap.check());
  heap.deallocate(mapped_again);
  CHECK(source.outstanding() == 0);
  CHECK(source.bad_releases() == 0);
}

TEST_CASE_TEMPLATE("realloc of a mapped block grows its mapping where the source resizes it: nothing copied", A,
                   HEAPLAB_STAGE5_CONFIGS) {
  CountingMmapSource source;
  {
    RegionHeap<A> t(kRegionBytes, Upstream{.source = &source, .mmap_threshold = 64 * kKiB});
    auto& heap = t.heap;
    void* const first = heap.allocate(100 * kKiB);
    void* const second = heap.allocate(200 * kKiB);  // newer: first in the list of mappings
    REQUIRE(first != nullptr);
    REQUIRE(second != nullptr);
    fill_pattern(block_at(first, 100 * kKiB), 1);
    fill_pattern(block_at(second, 200 * kKiB), 2);
    // The older block grows eightyfold: its mapping is resized, not copied.
    void* const grown = heap.reallocate(first, 8000 * kKiB);
    REQUIRE(grown != nullptr);
    CHECK(source.acquires == 2);
    CHECK(source.resizes == 1);
    CHECK(source.releases == 0);
    CHECK(address_of(grown) % kPage == address_of(first) % kPage);  // same offset, same alignment
    CHECK(holds_pattern(block_at(grown, 100 * kKiB), 1));
    fill_pattern(block_at(grown, 8000 * kKiB), 3);
    CHECK(heap.usable_size(grown) >= 8000 * kKiB);
    auto s = heap.stats();
    CHECK(s.mapped_blocks == 2);
    CHECK(s.requested == 8000 * kKiB + 200 * kKiB);
    CHECK(s.mapped_bytes >= 8200 * kKiB);
    CHECK(s.peak_requested == 8200 * kKiB);
    check_counts_against_walk(heap);
    CHECK(heap.check());
    // The newer one too: the list's head moves with its record.
    void* const also_grown = heap.reallocate(second, 4000 * kKiB);
    REQUIRE(also_grown != nullptr);
    CHECK(source.resizes == 2);
    CHECK(holds_pattern(block_at(also_grown, 200 * kKiB), 2));
    CHECK(holds_pattern(block_at(grown, 8000 * kKiB), 3));
    CHECK(heap.check());
    heap.deallocate(grown);
    heap.deallocate(also_grown);
    CHECK(source.releases == 2);
    s = heap.stats();
    CHECK(s.mapped_blocks == 0);
    CHECK(s.mapped_bytes == 0);
    CHECK(heap.check());
  }
  CHECK(source.acquires == 2);
}

TEST_CASE("a budget lets a chunk grow by resize() only within its limit") {
  MmapChunkSource system;
  ChunkBudget budget(&system, 64 * kPage);
  std::span<std::byte> chunk = budget.acquire(16 * kPage);
  REQUIRE(chunk.size() == 16 * kPage);
  std::memset(chunk.data(), 7, chunk.size());
  CHECK(budget.resize(chunk, 64 * kPage + 1).empty());  // past the limit once rounded: refused, nothing moved
  CHECK(budget.held() == 16 * kPage);
  chunk = budget.resize(chunk, 48 * kPage - 100);
  REQUIRE(chunk.size() == 48 * kPage);
  CHECK(budget.held() == 48 * kPage);
  CHECK(std::all_of(chunk.begin(), chunk.begin() + 16 * kPage, [](std::byte b) { return b == std::byte{7}; }));
  chunk = budget.resize(chunk, 8 * kPage);  // a shrink gives bytes back to the budget
  REQUIRE(chunk.size() == 8 * kPage);
  CHECK(budget.held() == 8 * kPage);
  budget.release(chunk);
  CHECK(budget.held() == 0);
}

TEST_CASE_TEMPLATE("a 16-aligned large request has all its bytes, wherever the page boundary falls", A,
                   HEAPLAB_STAGE5_CONFIGS) {
  // The record and header in front of a mapped payload were 56 bytes in
  // chapter 4, a multiple of 8 but not of 16: a 16-aligned payload starts 8
  // bytes later, and the mapping must have room for that shift too, or a
  // size that ends right on a page boundary is left 8 bytes short.
  PageSource source(kMaxRequest, kPage);
  RegionHeap<A> t(kRegionBytes, Upstream{.source = &source, .mmap_threshold = 64 * kKiB});
  auto& heap = t.heap;
  for (std::size_t size = 40 * kPage - 96; size <= 40 * kPage + 32; size += 8) {
    CAPTURE(size);
    void* const p = heap.allocate(size, kMallocAlignment);
    REQUIRE(p != nullptr);
    CHECK(is_aligned(p, kMallocAlignment));
    CHECK(heap.usable_size(p) >= size);
    CHECK(heap.owns(static_cast<std::byte*>(p) + size - 1));
    fill_pattern(block_at(p, size), size);
    CHECK(holds_pattern(block_at(p, size), size));
    CHECK(heap.check());
    heap.deallocate(p);
  }
  CHECK(source.outstanding() == 0);
  CHECK(source.bad_releases() == 0);
}

TEST_CASE("an aligned large request is mapped with its payload aligned as asked") {
  PageSource source(kMaxRequest, kPage);
  RegionHeap<SegregatedFitAllocator> t(kRegionBytes, Upstream{.source = &source, .mmap_threshold = 64 * kKiB});
  auto& heap = t.heap;
  std::vector<void*> blocks;
  for (const std::size_t align : {kPage, kMiB}) {
    CAPTURE(align);
    void* const p = heap.allocate(200 * kKiB, align);
    REQUIRE(p != nullptr);
    CHECK(is_aligned(p, align));
    CHECK(heap.owns(p));
    CHECK(heap.owns(static_cast<std::byte*>(p) + 200 * kKiB - 1));
    fill_pattern(block_at(p, 200 * kKiB), blocks.size());
    blocks.push_back(p);
    CHECK(heap.check());
  }
  CHECK(heap.stats().mapped_blocks == 2);
  check_counts_against_walk(heap);
  for (std::size_t i = 0; i < blocks.size(); ++i) CHECK(holds_pattern(block_at(blocks[i], 200 * kKiB), i));
  for (void* p : blocks) heap.deallocate(p);
  CHECK(source.outstanding() == 0);
  CHECK(source.bad_releases() == 0);
  CHECK(heap.check());
}

TEST_CASE("a large request the source refuses returns nullptr and changes nothing") {
  PageSource source(64 * kKiB, kPage);  // too small for the request
  RegionHeap<SegregatedFitAllocator> t(kRegionBytes, Upstream{.source = &source, .mmap_threshold = 64 * kKiB});
  auto& heap = t.heap;
  REQUIRE(heap.allocate(100) != nullptr);
  const auto before = heap.stats();
  CHECK(heap.allocate(100 * kKiB) == nullptr);
  const auto after = heap.stats();
  heaplab::testing::check_same_live_state(before, after);
  CHECK(after.exhausted == before.exhausted + 1);
  CHECK(after.mapped_blocks == 0);
  CHECK(source.outstanding() == 0);
  CHECK(heap.check());
}

// ---- Growth past the first region ----------------------------------------------

TEST_CASE_TEMPLATE("the heap grows past a first region of 10 MiB and keeps every byte", A,
                   HEAPLAB_STAGE5_CONFIGS) {
  constexpr std::size_t kBlock = kMiB;
  constexpr std::size_t kBlocks = 14;  // 14 MiB live: more than the first region
  const auto fill = [](void* p, std::size_t id) { std::memset(p, static_cast<int>(id + 1), kBlock); };
  const auto holds = [](void* p, std::size_t id) {
    const auto* const bytes = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < kBlock; ++i) {
      if (bytes[i] != static_cast<unsigned char>(id + 1)) return false;
    }
    return true;
  };
  TestChunkSource source;
  {
    // Large blocks stay in the heap here (no threshold), so it must grow.
    RegionHeap<A> t(10 * kMiB, Upstream{.source = &source, .mmap_threshold = kMaxRequest});
    auto& heap = t.heap;
    std::vector<void*> blocks;
    for (std::size_t i = 0; i < kBlocks; ++i) {
      CAPTURE(i);
      blocks.push_back(heap.allocate(kBlock));
      REQUIRE(blocks.back() != nullptr);
      fill(blocks.back(), i);
    }
    const auto s = heap.stats();
    CHECK(s.requested == kBlocks * kBlock);
    CHECK(s.requested > 10 * kMiB);
    CHECK(s.regions > 1);
    CHECK(s.regions == 1 + source.live_chunks());
    CHECK(s.mapped_blocks == 0);
    CHECK(s.capacity > 10 * kMiB);
    for (std::size_t i = 0; i < kBlocks; ++i) {
      CAPTURE(i);
      CHECK(holds(blocks[i], i));
      CHECK(heap.owns(blocks[i]));
    }
    check_counts_against_walk(heap);
    CHECK(heap.check());
    for (void* p : blocks) heap.deallocate(p);
    CHECK(heap.stats().live_allocations == 0);
    CHECK(heap.stats().requested == 0);
    // Each region's blocks merged back into one free block (regions never
    // merge with each other: they are not adjacent).
    CHECK(heap.stats().free_blocks == heap.stats().regions);
    check_counts_against_walk(heap);
    CHECK(heap.check());
  }
  CHECK(source.outstanding() == 0);  // every region went back
  CHECK(source.bad_releases() == 0);
}

TEST_CASE_TEMPLATE("with no source the same sequence ends in nullptr and changes nothing", A,
                   HEAPLAB_STAGE5_CONFIGS) {
  RegionHeap<A> t(10 * kMiB);
  auto& heap = t.heap;
  std::vector<void*> blocks;
  bool was_refused = false;
  for (std::size_t i = 0; i < 14 && !was_refused; ++i) {
    const auto before = heap.stats();
    const std::string before_layout = layout(heap);
    void* const p = heap.allocate(kMiB);
    if (p == nullptr) {
      was_refused = true;
      const auto after = heap.stats();
      heaplab::testing::check_same_live_state(before, after);
      CHECK(after.exhausted == before.exhausted + 1);
      CHECK(after.regions == 1);
      CHECK(layout(heap) == before_layout);
      CHECK(heap.allocate(kMiB) == nullptr);  // refused again, just the same
      break;
    }
    std::memset(p, static_cast<int>(i + 1), kMiB);
    blocks.push_back(p);
  }
  CHECK(was_refused);
  CHECK(blocks.size() < 10);
  CHECK(blocks.size() >= 9);  // the region's 10 MiB, less its start map, holds nine
  CHECK(heap.check());
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    CHECK(static_cast<unsigned char*>(blocks[i])[kMiB - 1] == static_cast<unsigned char>(i + 1));
  }
}

// ---- Memory given back ------------------------------------------------------------

namespace {

/// The index, oldest first, of the region of \p heap that holds \p p.
template <class A>
std::size_t region_index_of(const A& heap, const void* p) {
  std::size_t index = 0;
  std::size_t found = SIZE_MAX;
  heap.inner().for_each_region([&](const auto& region) {
    if (region.owns(p)) found = index;
    ++index;
  });
  return found;
}

/// The free block of \p heap's first region that holds \p p: its first
/// byte and one past its last, or nulls when \p p is in none.
template <class A>
std::pair<std::byte*, std::byte*> free_block_holding(const A& heap, const void* p) {
  const BlockHeap& blocks = RegionAccess<A>::first(heap).heap().blocks();
  std::pair<std::byte*, std::byte*> found{nullptr, nullptr};
  heap.for_each_block([&](const BlockView& view) {
    std::byte* const begin = blocks.begin() + view.offset;
    if (view.region == 0 && view.state == BlockState::free && address_in(p, begin, begin + view.size)) {
      found = {begin, begin + view.size};
    }
  });
  return found;
}

/// True when every byte of \p bytes is \p value.
bool all_bytes_are(std::span<const std::byte> bytes, unsigned char value) {
  return std::all_of(bytes.begin(), bytes.end(), [value](std::byte b) { return b == std::byte{value}; });
}

/// A block of \p size bytes from \p heap, with an allocated block of 1000
/// bytes on each side (too large to be parked), so that it merges with
/// nothing when it is freed.
template <class A>
void* fenced_block(A& heap, std::size_t size) {
  REQUIRE(heap.allocate(1000) != nullptr);
  void* const block = heap.allocate(size);
  REQUIRE(block != nullptr);
  REQUIRE(heap.allocate(1000) != nullptr);
  return block;
}

/// A heap of \p A on a region of its own, growing from a page source that
/// records every range it is told to discard; no block is mapped.
template <class A>
struct DiscardRecordingHeap {
  /// On a region of \p bytes.
  explicit DiscardRecordingHeap(std::size_t bytes)
      : t(bytes, Upstream{.source = &source, .mmap_threshold = kMaxRequest}) {}
  PageSource source{kMaxRequest, kPage};  ///< Declared first: the heap takes from it.
  RegionHeap<A> t;                        ///< The heap.
};

}  // namespace

TEST_CASE_TEMPLATE("a grown region whose blocks are all freed goes back to the source, but one empty region is kept",
                   A, HEAPLAB_STAGE5_CONFIGS) {
  PageSource source(kMaxRequest, kPage);
  // Regions of 2 MiB, blocks of 256 KiB kept in the heap: seven or so a region.
  const Upstream upstream{.source = &source,
                          .mmap_threshold = kMaxRequest,
                          .growth = {.first_chunk = 2 * kMiB, .max_chunk = 2 * kMiB, .limit = kMaxRequest}};
  RegionHeap<A> t(kMiB, upstream);
  auto& heap = t.heap;
  std::vector<std::vector<void*>> by_region;
  for (int i = 0; i < 40; ++i) {
    void* const p = heap.allocate(256 * kKiB);
    REQUIRE(p != nullptr);
    const std::size_t index = region_index_of(heap, p);
    REQUIRE(index != SIZE_MAX);
    if (by_region.size() <= index) by_region.resize(index + 1);
    by_region[index].push_back(p);
  }
  const std::size_t grown = by_region.size() - 1;
  REQUIRE(grown >= 3);
  REQUIRE(source.live_chunks() == grown);
  const std::size_t chunk_bytes = source.acquired_sizes().back();

  // The newest region empties first: it is the only empty one, so it stays.
  for (void* p : by_region[grown]) heap.deallocate(p);
  CHECK(heap.check());
  CHECK(source.releases() == 0);
  CHECK(heap.stats().regions == grown + 1);
  // Every other grown region that empties goes back, one by one.
  for (std::size_t index = 1; index < grown; ++index) {
    CAPTURE(index);
    const auto before = heap.stats();
    for (void* p : by_region[index]) heap.deallocate(p);
    CHECK(heap.check());
    CHECK(source.releases() == index);
    CHECK(source.bad_releases() == 0);
    const auto after = heap.stats();
    CHECK(after.regions == before.regions - 1);
    CHECK(after.returned_bytes >= before.returned_bytes + chunk_bytes);
    // The region's lifetime counts stay counted when its numbers go with it.
    CHECK(after.allocations == before.allocations);
    CHECK(after.searches == before.searches);
    CHECK(after.high_water >= before.high_water);
    CHECK(after.peak_requested >= before.peak_requested);
    check_counts_against_walk(heap);
  }
  CHECK(source.live_chunks() == 1);  // the one kept
  // The first region stays, whatever it holds.
  for (void* p : by_region[0]) heap.deallocate(p);
  CHECK(heap.stats().regions == 2);
  CHECK(heap.stats().live_allocations == 0);
  CHECK(heap.check());
  // And the heap serves from what is left, growing again when it must.
  std::vector<void*> again;
  for (int i = 0; i < 40; ++i) {
    again.push_back(heap.allocate(256 * kKiB));
    REQUIRE(again.back() != nullptr);
  }
  CHECK(heap.check());
  check_counts_against_walk(heap);
  for (void* p : again) heap.deallocate(p);
  CHECK(heap.check());
}

TEST_CASE("a grown region of quick fit whose users freed every block goes back, its parked blocks merged first") {
  PageSource source(kMaxRequest, kPage);
  const Upstream upstream{.source = &source,
                          .mmap_threshold = kMaxRequest,
                          .growth = {.first_chunk = 256 * kKiB, .max_chunk = 256 * kKiB, .limit = kMaxRequest}};
  RegionHeap<QuickFitAllocator> t(64 * kKiB, upstream);
  auto& heap = t.heap;
  // Small blocks, of the sizes quick lists park: the last frees of each
  // size wait on a list, still allocated to their region.
  std::vector<std::vector<void*>> by_region;
  for (std::size_t i = 0; source.live_chunks() < 3; ++i) {
    void* const p = heap.allocate(16 + 8 * (i % 27));
    REQUIRE(p != nullptr);
    const std::size_t index = region_index_of(heap, p);
    if (by_region.size() <= index) by_region.resize(index + 1);
    by_region[index].push_back(p);
  }
  for (std::size_t index = 1; index <= 2; ++index) {
    for (void* p : by_region[index]) heap.deallocate(p);
    CHECK(heap.check());
  }
  CHECK(source.releases() == 1);  // one of the two emptied regions; the other is kept
  CHECK(heap.stats().quick_blocks <= 7 * 27 * 2);  // what the first and the newest regions may park
  check_counts_against_walk(heap);
  for (void* p : by_region[0]) heap.deallocate(p);
  if (by_region.size() > 3) {
    for (void* p : by_region[3]) heap.deallocate(p);
  }
  CHECK(heap.stats().live_allocations == 0);
  CHECK(source.live_chunks() == 1);
  CHECK(heap.check());
}

TEST_CASE_TEMPLATE("a free that leaves a free block of 64 KiB or more discards the whole pages inside it, no more",
                   A, HEAPLAB_STAGE5_CONFIGS) {
  DiscardRecordingHeap<A> recorded(4 * kMiB);
  auto& heap = recorded.t.heap;
  const PageSource& source = recorded.source;
  constexpr std::size_t kGuard = 1000;  // too large to be parked: quick lists end at 256 bytes
  constexpr std::size_t kHalf = 40 * kKiB;
  void* const before = heap.allocate(kGuard);
  void* const first = heap.allocate(kHalf);
  void* const second = heap.allocate(kHalf);
  void* const after = heap.allocate(kGuard);
  REQUIRE((before != nullptr && first != nullptr && second != nullptr && after != nullptr));
  std::memset(before, 0x5a, kGuard);
  std::memset(first, 0x11, kHalf);
  std::memset(second, 0x22, kHalf);
  std::memset(after, 0xa5, kGuard);

  // 40 KiB free: below the threshold, nothing is discarded.
  heap.deallocate(first);
  CHECK(source.discarded().empty());
  CHECK(heap.stats().returned_bytes == 0);
  // 80 KiB free, merged: every whole page inside it, past its header and
  // links and before its footer, and nothing outside it.
  heap.deallocate(second);
  const auto [begin, end] = free_block_holding(heap, first);
  REQUIRE(begin != nullptr);
  REQUIRE(static_cast<std::size_t>(end - begin) >= 2 * kHalf);
  std::byte* const inside_begin = begin + round_up(address_of(begin) + kMinTaggedBlockSize - kFooterSize, kPage) -
                                  address_of(begin);
  std::byte* const inside_end = end - (address_of(end) - kFooterSize) % kPage - kFooterSize;
  REQUIRE(source.discarded().size() == 1);  // 80 KiB covers no whole page of the start map
  const std::span<std::byte> pages = source.discarded().front();
  CHECK(pages.data() == inside_begin);
  CHECK(pages.data() + pages.size() == inside_end);
  CHECK(address_of(pages.data()) % kPage == 0);
  CHECK(pages.size() % kPage == 0);
  CHECK(heap.stats().returned_bytes == pages.size());
  // The neighbours are untouched, and the heap is whole (the source zeroed
  // the pages, as the kernel does).
  CHECK(all_bytes_are({static_cast<std::byte*>(before), kGuard}, 0x5a));
  CHECK(all_bytes_are({static_cast<std::byte*>(after), kGuard}, 0xa5));
  CHECK(heap.check());
  check_counts_against_walk(heap);

  // The block serves again, discarded pages and all.
  void* const reused = heap.allocate(2 * kHalf - kKiB);
  REQUIRE(reused != nullptr);
  CHECK(address_in(reused, begin, end));
  std::memset(reused, 0x33, 2 * kHalf - kKiB);
  CHECK(heap.check());
  CHECK(all_bytes_are({static_cast<std::byte*>(before), kGuard}, 0x5a));
  CHECK(all_bytes_are({static_cast<std::byte*>(after), kGuard}, 0xa5));
  heap.deallocate(reused);
  CHECK(heap.check());
}

TEST_CASE_TEMPLATE("malloc and free of the same large block discard its pages once, not on every free", A,
                   HEAPLAB_STAGE5_CONFIGS) {
  DiscardRecordingHeap<A> recorded(4 * kMiB);
  auto& heap = recorded.t.heap;
  const PageSource& source = recorded.source;
  constexpr std::size_t kBlock = 100 * kKiB;
  void* const block = fenced_block(heap, kBlock);
  heap.deallocate(block);
  REQUIRE(source.discarded().size() == 1);
  for (int i = 0; i < 10; ++i) {
    void* const again = heap.allocate(kBlock);
    REQUIRE(again == block);  // the same place, every time
    std::memset(again, i, kBlock);
    heap.deallocate(again);
    CHECK(heap.check());
  }
  CHECK(source.discarded().size() == 1);
}

TEST_CASE_TEMPLATE("a large free block gives back the pages of the start map over it too", A,
                   HEAPLAB_STAGE5_CONFIGS) {
  constexpr std::size_t kBig = 2 * kMiB;  // a quarter of the region
  DiscardRecordingHeap<A> recorded(4 * kBig);
  auto& heap = recorded.t.heap;
  const PageSource& source = recorded.source;
  void* const big = fenced_block(heap, kBig);
  std::memset(big, 0x77, kBig);
  heap.deallocate(big);
  const auto [begin, end] = free_block_holding(heap, big);
  REQUIRE(begin != nullptr);
  // The block's pages, then the map's: one bit per 8 bytes, so 2 MiB of
  // heap is 32 KiB of map, of which at least 7 whole pages.
  REQUIRE(source.discarded().size() == 2);
  const std::span<std::byte> map_pages = source.discarded()[1];
  CHECK(map_pages.size() >= 7 * kPage);
  CHECK(address_of(map_pages.data()) % kPage == 0);
  CHECK(!address_in(map_pages.data(), begin, end));  // the map lies before the blocks
  CHECK(heap.stats().returned_bytes == source.discarded_bytes());
  CHECK(heap.check());  // the map, zeroed, still marks exactly the block starts
  void* const again = heap.allocate(kBig);
  REQUIRE(again != nullptr);
  std::memset(again, 0x78, kBig);
  CHECK(heap.check());
  heap.deallocate(again);
  CHECK(heap.check());
}

// ---- check() catches corruption --------------------------------------------------
// As in stage4_tests.cpp: each test breaks one invariant by hand, checks that
// check() names it (and, where one block breaks it, that block's offset),
// and restores the heap.

TEST_CASE("check() reports a free block on the list of another size class") {
  using A = SegregatedFitAllocator;
  RegionHeap<A> t;
  auto& heap = t.heap;
  // x (40 bytes) and y (56 bytes) stay allocated, each before a spacer;
  // then three free 48-byte blocks h -> a -> b on their class's list.
  void* const x = heap.allocate(request_for<A>(40));
  REQUIRE(heap.allocate(0) != nullptr);
  void* const y = heap.allocate(request_for<A>(56));
  REQUIRE(heap.allocate(0) != nullptr);
  REQUIRE((x && y));
  const HandBuiltList built = build_free_list(heap, {48, 48, 48});
  BlockHeader* const h = header(built.blocks[0]);
  BlockHeader* const a = header(built.blocks[1]);
  REQUIRE(size_class_list(heap, size_class_of(48)).head() == h);
  REQUIRE(LinkedFreeList::next(*h) == a);
  CHECK(heap.check());
  // x and y made to look free (tags and all) and linked in after h in place
  // of a and b: three blocks of 144 bytes, as the list's tally says, and
  // prev links that agree. x, of the 40-byte class, is the one out of place.
  BlockHeader& fx = *header(x);
  BlockHeader& fy = *header(y);
  const BlockHeader saved_x = fx;
  const BlockHeader saved_y = fy;
  check_corruption(
      heap,
      [&] {
        for (BlockHeader* fake : {&fx, &fy}) {
          mark_free(*fake);
          TagsOf<A>::seal(*fake);
        }
        set_next_link(h, &fx);
        set_prev_link(&fx, h);
        set_next_link(&fx, &fy);
        set_prev_link(&fy, &fx);
        set_next_link(&fy, nullptr);
      },
      "every free block is on the list of its size class", offset_of_block(heap, x),
      [&] {
        fx = saved_x;
        fy = saved_y;
        TagsOf<A>::seal(fx);
        TagsOf<A>::seal(fy);
        set_next_link(h, a);
      });
}

TEST_CASE("check() reports a mapped block that is not an allocated block") {
  PageSource source(kMaxRequest, kPage);
  RegionHeap<SegregatedFitAllocator> t(kRegionBytes, Upstream{.source = &source, .mmap_threshold = 64 * kKiB});
  auto& heap = t.heap;
  void* const p = heap.allocate(100 * kKiB);
  REQUIRE(p != nullptr);
  // (Which offset and region a mapped block's failure reports is for
  // chapter 5 to say: add CHECKs on result.offset and result.region here.)
  header(p)->size_and_flags &= ~kAllocatedBit;
  CHECK(heap.check().failed_invariant == "each mapped block is an allocated block inside its mapping");
  header(p)->size_and_flags |= kAllocatedBit;
  CHECK(heap.check());
  header(p)->requested = 2 * source.outstanding();  // more than its mapping holds
  CHECK(heap.check().failed_invariant == "each mapped block is an allocated block inside its mapping");
  header(p)->requested = 100 * kKiB;
  CHECK(heap.check());
}

// ---- Misuse ------------------------------------------------------------------------

TEST_CASE("misuse with mapped blocks is reported and changes nothing") {
  using A = SegregatedFitAllocator;
  RecordingHandler misuse;
  PageSource source(kMaxRequest, kPage);
  RegionHeap<A> t(kRegionBytes, Upstream{.source = &source, .mmap_threshold = 64 * kKiB});
  auto& heap = t.heap;
  const std::vector<void*> b = carve_and_free_for_misuse(heap);
  void* const mapped = heap.allocate(100 * kKiB);
  REQUIRE(mapped != nullptr);
  int on_the_stack = 0;
  std::vector<MisuseCase> cases = stale_pointer_cases(b);
  cases.insert(cases.end(),
               {
                   {static_cast<std::byte*>(mapped) + 16, Misuse::interior_pointer,
                    "interior pointer in a mapped block"},
                   {&on_the_stack, Misuse::foreign_pointer, "foreign pointer"},
                   {blocks_of(heap).begin() + kHeaderSize, Misuse::foreign_pointer, "the prologue's payload"},
               });
  check_misuse_changes_nothing(heap, misuse, cases, /*with_usable_size=*/false,
                               check_same_real_malloc_stats<StatsOf<A>>);
  CHECK(misuse.reports().size() == 2 * cases.size());
  CHECK(source.releases() == 0);  // the mapped block is still there
  heap.deallocate(mapped);
  CHECK(source.outstanding() == 0);
}

// ---- The size classes as a template argument ----------------------------------

TEST_CASE("size classes plugged into SegregatedLists are the ones it files blocks by, and serve as the course's do") {
  RegionHeap<SegregatedFitAllocator> course;
  RegionHeap<BasicSegregatedFitAllocator<CountedClasses>> slot;
  const std::size_t calls_before = CountedClasses::calls;
  check_served_alike(course.heap, course.region.bytes(), slot.heap, slot.region.bytes(), 600);
  CHECK(CountedClasses::calls - calls_before >= slot.heap.stats().allocations);
  CHECK(slot.heap.stats().blocks_visited == course.heap.stats().blocks_visited);
  // The same blocks on the same lists.
  for (std::size_t index = 0; index < kListsOf<SegregatedFitAllocator>; ++index) {
    CAPTURE(index);
    CHECK(size_class_list(slot.heap, index).tally().blocks == size_class_list(course.heap, index).tally().blocks);
  }
}

TEST_CASE("size classes whose way back disagrees with of() are caught by check()") {
  RegionHeap<BasicSegregatedFitAllocator<OneCellTooHigh>> t;
  void* const smallest = t.heap.allocate(8);  // the smallest block, class 0
  REQUIRE(t.heap.allocate(8) != nullptr);     // keeps it from merging with the rest
  REQUIRE(t.heap.check());
  t.heap.deallocate(smallest);
  check_fails(t.heap.check(), "every free block is on the list of its size class", offset_of_block(t.heap, smallest));
}

}  // TEST_SUITE("stage5")

