// Chapter 5's two-level segregated fits (two_level_lists.hpp): the class
// mapping and its way back, one block looked at per search whatever the
// number of free blocks, good fit's choice, aligned requests, quick lists
// on top, and check() catching a block on the wrong list or a wrong bit.
//
// Heaps are built on page-aligned regions, as in stage5_tests.cpp: blocks
// carved one after the other at the break with an allocated spacer after
// each one to be freed, so that no two freed blocks merge and every free
// block's size follows from what the test asked.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <random>
#include <vector>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage2_free_list/block.hpp"
#include "stage4_coalescing/boundary_tags.hpp"
#include "stage4_coalescing/coalescing_allocator_impl.hpp"
#include "stage4_coalescing/footer_elision.hpp"
#include "stage5_real_malloc/real_malloc.hpp"
#include "stage5_real_malloc/two_level_lists.hpp"
#include "tests/support/aligned_region.hpp"

namespace heaplab {

/// The suite's way into TwoLevelLists (declared a friend there): moves a
/// block between lists and flips bitmap bits, leaving the rest as it is,
/// so that check() can be shown each broken invariant.
struct TwoLevelListsProbe {
  /// Moves the free \p block from list \p from to list \p to, bits untouched.
  static void move(TwoLevelLists& lists, BlockHeader& block, std::size_t from, std::size_t to) {
    lists.lists_[from].remove(block);
    lists.lists_[to].insert(block);
  }
  /// Flips the second-level bit of class \p index.
  static void flip_class_bit(TwoLevelLists& lists, std::size_t index) {
    lists.second_level_[TwoLevelClasses::row_of(index)] ^= std::uint64_t{1} << TwoLevelClasses::column_of(index);
  }
  /// Flips the first-level bit of \p row.
  static void flip_row_bit(TwoLevelLists& lists, std::size_t row) { lists.first_level_ ^= std::uint64_t{1} << row; }
};

}  // namespace heaplab

namespace {

using namespace heaplab;
using heaplab::testing::AlignedRegion;
using Classes = TwoLevelClasses;

constexpr std::size_t kPage = 4096;
constexpr std::size_t kMiB = std::size_t{1024} * 1024;

/// The block a request of \p size bytes takes in a two-level region.
constexpr std::size_t block_for(std::size_t size) { return tagged_block_size_for<ElidedFooters>(size); }
/// The request that takes a block of exactly \p block bytes.
constexpr std::size_t request_for_block(std::size_t block) { return block - kHeaderSize; }
static_assert(block_for(request_for_block(1000)) == 1000);

/// A chapter-4 allocator over a page-aligned region of its own.
template <class Region>
struct OnRegion {
  explicit OnRegion(std::size_t bytes) : memory(bytes, kPage), heap(memory.bytes()) {}
  AlignedRegion memory;
  Region heap;
};

/// Blocks visited by \p heap's searches so far.
template <class Heap>
std::size_t visited(const Heap& heap) {
  return heap.stats().blocks_visited;
}

/// Carves one block of each size of \p blocks, each with an allocated
/// 40-byte spacer after it, then frees them: each stays free on its own.
/// Returns their payloads.
template <class Heap>
std::vector<void*> free_blocks_of(Heap& heap, std::initializer_list<std::size_t> blocks) {
  std::vector<void*> freed;
  for (const std::size_t block : blocks) {
    freed.push_back(heap.allocate(request_for_block(block)));
    REQUIRE(freed.back() != nullptr);
    REQUIRE(heap.allocate(0) != nullptr);  // the spacer
  }
  for (void* const p : freed) heap.deallocate(p);
  return freed;
}

/// Many free blocks of assorted sizes (8 to 4,096-byte requests, fixed
/// seed) in \p heap, each between allocated neighbours.
template <class Heap>
std::size_t fill_with_free_blocks(Heap& heap, std::size_t count) {
  std::mt19937_64 random(20'040'701);
  std::uniform_int_distribution<std::size_t> size(8, 4096);
  std::vector<void*> kept;
  for (std::size_t i = 0; i < 2 * count; ++i) {
    void* const p = heap.allocate(size(random));
    REQUIRE(p != nullptr);
    kept.push_back(p);
  }
  for (std::size_t i = 0; i < kept.size(); i += 2) heap.deallocate(kept[i]);  // every other one
  return heap.stats().free_blocks;
}

}  // namespace

// ---- The classes ------------------------------------------------------------------

TEST_CASE("two-level classes: of() and smallest_block() agree, and every size maps into its class") {
  for (std::size_t index = 0; index < Classes::kCount; ++index) {
    CAPTURE(index);
    const std::size_t smallest = Classes::smallest_block(index);
    CHECK(Classes::of(smallest) == index);
    CHECK(Classes::index_of(Classes::row_of(index), Classes::column_of(index)) == index);
    if (index + 1 < Classes::kCount) {
      const std::size_t next = Classes::smallest_block(index + 1);
      CHECK(smallest < next);
      CHECK(Classes::of(next - kBlockGranularity) == index);  // the class's largest block
      // The waste bound of the file comment: a class is at most 1/32 of its
      // smallest block wide (exact classes: one cell).
      CHECK(next - smallest <= std::max(kBlockGranularity, smallest / Classes::kColumns));
    }
  }
  // Every block size up to 1 MiB, and sizes around each power of two above.
  std::vector<std::size_t> sizes;
  for (std::size_t size = kMinTaggedBlockSize; size <= kMiB; size += kBlockGranularity) sizes.push_back(size);
  for (unsigned power = 20; power < 64; ++power) {
    const std::size_t two = std::size_t{1} << power;
    for (const std::size_t size : {two - 8, two, two + 8, two + two / 3 * 2 / 8 * 8}) sizes.push_back(size);
  }
  for (const std::size_t size : sizes) {
    CAPTURE(size);
    const std::size_t index = Classes::of(size);
    REQUIRE(index < Classes::kCount);
    CHECK(Classes::smallest_block(index) <= size);
    if (index + 1 < Classes::kCount) CHECK(size < Classes::smallest_block(index + 1));
    // good_fit(): the first class whose every block is at least `size`.
    const std::size_t good = Classes::good_fit(size);
    if (good < Classes::kCount) CHECK(Classes::smallest_block(good) >= size);
    if (good > 0) CHECK(Classes::smallest_block(good - 1) < size);
  }
}

// ---- Searches -----------------------------------------------------------------------

TEST_CASE("two-level fits: a search looks at one block at most, whatever the number of free blocks") {
  // The same heap under segregated fits, whose power-of-two classes are
  // searched first fit: proof that this heap makes searches long.
  OnRegion<SegregatedFitRegion> segregated(64 * kMiB);
  OnRegion<TwoLevelRegion> two_level(64 * kMiB);
  REQUIRE(fill_with_free_blocks(segregated.heap, 4000) > 3000);
  REQUIRE(fill_with_free_blocks(two_level.heap, 4000) > 3000);

  std::mt19937_64 random(19'920'611);
  std::uniform_int_distribution<std::size_t> size(8, 4096);
  std::size_t longest_segregated = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::size_t request = size(random);
    const std::size_t before_segregated = visited(segregated.heap);
    const std::size_t before = visited(two_level.heap);
    REQUIRE(segregated.heap.allocate(request) != nullptr);
    void* const p = two_level.heap.allocate(request);
    REQUIRE(p != nullptr);
    CHECK(visited(two_level.heap) - before <= 1);
    longest_segregated = std::max(longest_segregated, visited(segregated.heap) - before_segregated);
    if (i % 3 == 0) two_level.heap.deallocate(p);  // some go back, merged
  }
  CHECK(longest_segregated > 10);
  CHECK(two_level.heap.check());
}

TEST_CASE("two-level fits: good fit takes the first non-empty class whose every block fits") {
  OnRegion<TwoLevelRegion> t(kMiB);
  auto& heap = t.heap;
  // From 512 bytes classes are 16 bytes wide at first: [992, 1008) and
  // [1088, 1104) hold these two.
  const std::size_t small = 1000;
  const std::size_t large = 1096;
  REQUIRE(Classes::of(small) + 1 < Classes::of(large));
  const std::vector<void*> freed = free_blocks_of(heap, {small, large});
  void* const in_small = freed[0];
  void* const in_large = freed[1];
  const std::size_t used = heap.stats().used;

  // A 1,000-byte block request: its own class may hold smaller blocks, so
  // the search starts one class up and takes the 1,096-byte block.
  void* const p = heap.allocate(request_for_block(small));
  CHECK(p == in_large);
  // A 992-byte block request starts its class: the 1,000-byte block fits.
  void* const q = heap.allocate(request_for_block(992));
  CHECK(q == in_small);
  CHECK(heap.stats().used == used);  // neither moved the break
  CHECK(heap.check());
}

TEST_CASE("two-level fits: with no class above, the head of the request's own class serves if it fits") {
  OnRegion<TwoLevelRegion> t(kMiB);
  auto& heap = t.heap;
  void* const only = free_blocks_of(heap, {1000})[0];
  const std::size_t used = heap.stats().used;
  const std::size_t before = visited(heap);
  CHECK(heap.allocate(request_for_block(1000)) == only);
  CHECK(visited(heap) - before == 1);
  CHECK(heap.stats().used == used);
  // A 992-byte block alone in the class of [992, 1008): a 1,000-byte block
  // request looks at it, it does not fit, and the break moves.
  void* const smaller = free_blocks_of(heap, {992})[0];
  REQUIRE(Classes::of(992) == Classes::of(1000));
  const std::size_t used_before = heap.stats().used;
  const std::size_t visited_before = visited(heap);
  void* const grown = heap.allocate(request_for_block(1000));
  CHECK(grown != smaller);
  CHECK(visited(heap) - visited_before == 1);
  CHECK(heap.stats().used > used_before);
  CHECK(heap.check());
}

TEST_CASE("two-level fits: a block handed out is never smaller than the request") {
  OnRegion<TwoLevelRegion> t(32 * kMiB);
  auto& heap = t.heap;
  fill_with_free_blocks(heap, 3000);
  std::mt19937_64 random(19'890'101);
  std::uniform_int_distribution<std::size_t> size(1, 6000);
  for (int i = 0; i < 3000; ++i) {
    const std::size_t request = size(random);
    auto* const p = static_cast<unsigned char*>(heap.allocate(request));
    REQUIRE(p != nullptr);
    REQUIRE(heap.usable_size(p) >= request);
    std::memset(p, 0x5A, request);  // a block too small would spill into its neighbour's tags
  }
  CHECK(heap.check());
}

TEST_CASE("two-level fits: aligned requests are served aligned, looking at one block at most") {
  OnRegion<TwoLevelRegion> t(32 * kMiB);
  auto& heap = t.heap;
  fill_with_free_blocks(heap, 3000);
  std::size_t from_free_blocks = 0;
  for (const std::size_t align : {16, 64, 256, 4096}) {
    for (const std::size_t request : {1, 100, 500, 2000}) {
      CAPTURE(align);
      CAPTURE(request);
      const std::size_t before = visited(heap);
      const std::size_t used = heap.stats().used;
      auto* const p = static_cast<unsigned char*>(heap.allocate(request, align));
      REQUIRE(p != nullptr);
      CHECK(is_aligned(p, align));
      CHECK(heap.usable_size(p) >= request);
      CHECK(visited(heap) - before <= 1);
      std::memset(p, 0x5A, request);
      if (heap.stats().used == used) ++from_free_blocks;  // the break did not move
    }
  }
  CHECK(from_free_blocks >= 12);  // all but the largest alignment at least
  CHECK(heap.check());
}

TEST_CASE("two-level fits: quick lists sit on two-level lists as on segregated fits") {
  using QuickTwoLevel = RealMalloc<QuickCache<ParkingHeap<TwoLevelLists>>>;
  const AlignedRegion memory(4 * kMiB, kPage);
  QuickTwoLevel heap(memory.bytes(), Upstream{});
  std::mt19937_64 random(20'240'229);
  std::uniform_int_distribution<std::size_t> size(1, 3000);
  std::vector<void*> live;
  for (int i = 0; i < 4000; ++i) {
    if (live.size() > 200 || (i % 3 == 2 && !live.empty())) {
      heap.deallocate(live.back());
      live.pop_back();
    } else {
      live.push_back(heap.allocate(size(random)));
      REQUIRE(live.back() != nullptr);
    }
  }
  CHECK(heap.stats().quick_blocks > 0);  // some blocks were parked
  CHECK(heap.check());
}

// ---- check() catches corruption -------------------------------------------------------
// Each test breaks one invariant in a copy of a region's lists (the links
// live in the blocks, so the region is not used again), and checks that
// check() names it.

namespace {

/// A region with two free blocks of 1,000 bytes and one of 2,000, and the
/// verbs to check a copy of its lists as the region's check() would.
struct ThreeFreeBlocks {
  ThreeFreeBlocks() : t(kMiB), freed(free_blocks_of(t.heap, {1000, 1000, 2000})), a(freed[0]) {}

  /// check() of \p lists, with the region's idea of its blocks.
  [[nodiscard]] CheckResult check(const TwoLevelLists& lists) const {
    const BlockHeap& blocks = t.heap.heap().blocks();
    const auto owned = [&](BlockHeader& block) {
      return blocks.contains(&block) && blocks.starts().is_start(block_start(&block));
    };
    const auto offset_of = [&](const BlockHeader& block) { return blocks.offset_of(&block); };
    return lists.check(owned, offset_of);
  }
  [[nodiscard]] std::size_t offset_of(void* p) const { return t.heap.heap().blocks().offset_of(header_of(p)); }

  OnRegion<TwoLevelRegion> t;
  std::vector<void*> freed;  ///< The three blocks, in address order.
  void* a;                   ///< The first of the two 1,000-byte blocks.
};

}  // namespace

TEST_CASE("check() reports a free block on the list of another two-level class") {
  ThreeFreeBlocks heap;
  TwoLevelLists lists = heap.t.heap.free_blocks();
  REQUIRE(heap.check(lists));
  TwoLevelListsProbe::move(lists, *header_of(heap.a), TwoLevelLists::list_for(1000), TwoLevelLists::list_for(2000));
  const CheckResult result = heap.check(lists);
  CHECK(result.failed_invariant == "every free block is on the list of its size class");
  CHECK(result.offset == heap.offset_of(heap.a));
}

TEST_CASE("check() reports a second-level bit set for an empty two-level class") {
  ThreeFreeBlocks heap;
  TwoLevelLists lists = heap.t.heap.free_blocks();
  REQUIRE(heap.check(lists));
  const std::size_t empty = TwoLevelLists::list_for(1500);
  REQUIRE(lists.list(empty).empty());
  TwoLevelListsProbe::flip_class_bit(lists, empty);
  CHECK(heap.check(lists).failed_invariant == "the second-level bitmap marks exactly the non-empty classes");
}

TEST_CASE("check() reports a second-level bit clear for a non-empty two-level class") {
  ThreeFreeBlocks heap;
  TwoLevelLists lists = heap.t.heap.free_blocks();
  REQUIRE(heap.check(lists));
  TwoLevelListsProbe::flip_class_bit(lists, TwoLevelLists::list_for(2000));
  CHECK(heap.check(lists).failed_invariant == "the second-level bitmap marks exactly the non-empty classes");
}

TEST_CASE("check() reports a first-level bit that disagrees with its row") {
  ThreeFreeBlocks heap;
  TwoLevelLists lists = heap.t.heap.free_blocks();
  REQUIRE(heap.check(lists));
  const std::size_t empty_row = Classes::row_of(TwoLevelLists::list_for(100'000));
  TwoLevelListsProbe::flip_row_bit(lists, empty_row);
  CHECK(heap.check(lists).failed_invariant == "the first-level bitmap marks exactly the rows with a non-empty class");
  TwoLevelListsProbe::flip_row_bit(lists, empty_row);
  TwoLevelListsProbe::flip_row_bit(lists, Classes::row_of(TwoLevelLists::list_for(1000)));
  CHECK(heap.check(lists).failed_invariant == "the first-level bitmap marks exactly the rows with a non-empty class");
}
