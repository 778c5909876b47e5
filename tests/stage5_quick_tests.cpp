// Chapter 5's quick lists (quick fit: quick_fit.hpp, quick_lists.hpp,
// parking_heap.hpp), on one region (QuickFitRegion): a small freed block
// is parked on the list of its exact size, still marked allocated, and the
// next request of that size gets it back; the cap sends more blocks down
// the normal path; an allocation that finds nothing flushes the lists
// (coalescing) before the heap grows; misuse of a parked block is
// reported; the checker catches a Q bit and a list that disagree.
//
// Heaps are built by hand on page-aligned regions, as in stage4_tests.cpp:
// a fresh heap has no free block, so blocks are carved one after the other
// at the break, the first one after the 24-byte prologue.
#include <doctest/doctest.h>

#include <cstddef>
#include <vector>

#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/misuse.hpp"
#include "stage2_free_list/block.hpp"
#include "stage4_coalescing/boundary_tags.hpp"
#include "stage5_real_malloc/quick_lists.hpp"
#include "stage5_real_malloc/real_malloc.hpp"
#include "tests/support/aligned_region.hpp"
#include "tests/support/block_walk.hpp"
#include "tests/support/blocks.hpp"
#include "tests/support/recording_handler.hpp"

namespace {

using namespace heaplab;
using heaplab::testing::AlignedRegion;
using heaplab::testing::RecordingHandler;
using heaplab::testing::walk;

/// One region of quick fit (quick lists in front of segregated fits) over
/// its own page-aligned region.
struct QuickHeap {
  explicit QuickHeap(std::size_t bytes = 64 * 1024) : region(bytes, 4096), heap(region.bytes()) {}
  AlignedRegion region;  ///< The memory (declared first: it must outlive the allocator).
  QuickFitRegion heap;   ///< The allocator under test.
};

/// A small request: its block (48 bytes under footer elision) has a quick list.
constexpr std::size_t kSmall = 32;
/// The block that serves kSmall.
constexpr std::size_t kSmallBlock = tagged_block_size_for<QuickTags>(kSmall);
static_assert(QuickLists::has_list(kSmallBlock));

BlockHeader& header(void* p) { return *header_of(p); }

/// How many of \p heap's blocks the walk shows as free.
std::size_t free_in_walk(const QuickFitRegion& heap) {
  std::size_t count = 0;
  for (const BlockView& view : walk(heap)) count += view.state == BlockState::free ? 1 : 0;
  return count;
}

}  // namespace

TEST_CASE("stage5: quick fit: the block walk shows a parked block's link where it lies") {
  QuickHeap h;
  heaplab::testing::exercise_walk_layout(h.heap, h.heap.heap().blocks().begin());
  std::size_t parked = 0;
  for (const BlockView& view : walk(h.heap)) {
    if (view.state == BlockState::free && view.links == QuickLists::kLinkBytes) ++parked;
  }
  CHECK(parked == h.heap.stats().quick_blocks);
  CHECK(parked > 0);
}

TEST_CASE("stage5: quick fit: a freed small block is parked and comes back for the same size") {
  QuickHeap h;
  void* const a = h.heap.allocate(kSmall);
  void* const guard = h.heap.allocate(kSmall);  // keeps `a` from touching the break
  REQUIRE(a != nullptr);
  REQUIRE(guard != nullptr);
  h.heap.deallocate(a);
  CHECK(is_allocated(header(a)));
  CHECK(is_quick(header(a)));
  CHECK(h.heap.stats().quick_blocks == 1);
  CHECK(h.heap.stats().live_allocations == 1);
  CHECK(h.heap.stats().requested == kSmall);
  CHECK(h.heap.check());

  void* const again = h.heap.allocate(kSmall - 8);  // same block size
  CHECK(again == a);
  CHECK_FALSE(is_quick(header(a)));
  CHECK(h.heap.stats().quick_blocks == 0);
  CHECK(h.heap.stats().merges == 0);
  CHECK(h.heap.stats().requested == kSmall + kSmall - 8);
  CHECK(h.heap.check());
}

TEST_CASE("stage5: quick fit: the cap sends the next block down the normal path, merged") {
  QuickHeap h;
  // Two blocks per parked one, so the eighth one's neighbour can be free.
  std::vector<void*> blocks;
  for (std::size_t i = 0; i < 2 * (QuickLists::kCap + 1) + 1; ++i) blocks.push_back(h.heap.allocate(kSmall));
  for (std::size_t i = 0; i < QuickLists::kCap; ++i) h.heap.deallocate(blocks[2 * i]);
  CHECK(h.heap.stats().quick_blocks == QuickLists::kCap);
  CHECK(h.heap.inner().free_blocks().tally().blocks == 0);

  // The list is full: the next two blocks of this size are really freed,
  // and being neighbours they merge.
  void* const first = blocks[2 * QuickLists::kCap];
  void* const second = blocks[2 * QuickLists::kCap + 1];
  h.heap.deallocate(first);
  h.heap.deallocate(second);
  CHECK_FALSE(is_allocated(header(first)));
  CHECK(block_size(header(first)) == 2 * kSmallBlock);
  CHECK(h.heap.stats().merges == 1);
  CHECK(h.heap.stats().quick_blocks == QuickLists::kCap);
  CHECK(h.heap.stats().free_blocks == QuickLists::kCap + 1);
  CHECK(h.heap.check());
}

TEST_CASE("stage5: quick fit: a second free of a parked block is a double free and changes nothing") {
  RecordingHandler handler;
  QuickHeap h;
  void* const a = h.heap.allocate(kSmall);
  REQUIRE(h.heap.allocate(kSmall) != nullptr);
  h.heap.deallocate(a);
  const MallocStats before = h.heap.stats();
  h.heap.deallocate(a);
  CHECK(handler.count(Misuse::double_free) == 1);
  CHECK(h.heap.stats().quick_blocks == before.quick_blocks);
  CHECK(h.heap.stats().live_allocations == before.live_allocations);
  CHECK(h.heap.check());
  // The block is on its list once: one request gets it, the next does not.
  CHECK(h.heap.allocate(kSmall) == a);
  CHECK(h.heap.allocate(kSmall) != a);
  CHECK(h.heap.check());
}

TEST_CASE("stage5: quick fit: reallocating a parked block is misuse") {
  RecordingHandler handler;
  QuickHeap h;
  void* const a = h.heap.allocate(kSmall);
  REQUIRE(h.heap.allocate(kSmall) != nullptr);
  h.heap.deallocate(a);
  CHECK(h.heap.reallocate(a, 2 * kSmall) == nullptr);
  CHECK(handler.count(Misuse::double_free) == 1);
  CHECK(is_quick(header(a)));
  CHECK(h.heap.check());
}

TEST_CASE("stage5: quick fit: an allocation that finds nothing flushes the lists and merges them") {
  // A region with room for about ten small blocks: once they are carved, a
  // request of three blocks' worth can only be served by merging parked
  // blocks, and the heap cannot grow (no upstream).
  QuickHeap h(512 + 64);
  std::vector<void*> blocks;
  while (void* const p = h.heap.allocate(kSmall)) blocks.push_back(p);
  constexpr std::size_t kParked = 6;  // within the cap: all of them wait, unmerged
  REQUIRE(blocks.size() > kParked);
  for (std::size_t i = 0; i < kParked; ++i) h.heap.deallocate(blocks[i]);
  CHECK(h.heap.stats().quick_blocks == kParked);
  CHECK(h.heap.stats().merges == 0);
  const std::size_t used_before = h.heap.stats().used;

  void* const big = h.heap.allocate(3 * kSmallBlock - kHeaderSize);
  REQUIRE(big != nullptr);
  CHECK(big == blocks[0]);  // the merged block starts where the first one did
  CHECK(h.heap.stats().quick_blocks == 0);
  CHECK(h.heap.stats().merges == kParked - 1);
  CHECK(h.heap.stats().used == used_before);  // no growth
  CHECK(h.heap.check());
}

TEST_CASE("stage5: quick fit: the walk shows parked blocks as free") {
  QuickHeap h;
  void* const a = h.heap.allocate(kSmall);
  REQUIRE(h.heap.allocate(kSmall) != nullptr);
  const std::size_t free_before = free_in_walk(h.heap);
  h.heap.deallocate(a);
  CHECK(free_in_walk(h.heap) == free_before + 1);
  CHECK(h.heap.stats().free_blocks == free_in_walk(h.heap));
}

TEST_CASE("stage5: quick fit: larger blocks bypass the quick lists") {
  QuickHeap h;
  const std::size_t large = QuickLists::kLimit;  // its block is above the limit
  void* const a = h.heap.allocate(large);
  REQUIRE(h.heap.allocate(kSmall) != nullptr);
  h.heap.deallocate(a);
  CHECK_FALSE(is_allocated(header(a)));
  CHECK(h.heap.stats().quick_blocks == 0);
  // Over-aligned requests do not take parked blocks either.
  void* const b = h.heap.allocate(kSmall);
  REQUIRE(h.heap.allocate(kSmall) != nullptr);
  h.heap.deallocate(b);
  void* const aligned = h.heap.allocate(kSmall, 64);
  CHECK(aligned != b);
  CHECK(h.heap.stats().quick_blocks == 1);
  CHECK(h.heap.check());
}

TEST_CASE("stage5: quick fit: the checker catches a Q bit and a list that disagree") {
  QuickHeap h;
  void* const a = h.heap.allocate(kSmall);
  void* const b = h.heap.allocate(kSmall);
  REQUIRE(h.heap.allocate(kSmall) != nullptr);
  h.heap.deallocate(a);
  REQUIRE(h.heap.check());

  SUBCASE("a Q bit on a block that is not on a list") {
    const std::size_t requested = header(b).requested;
    header(b).size_and_flags |= kQuickBit;
    header(b).requested = 0;  // as park() leaves it: only the list is missing
    const CheckResult result = h.heap.check();
    CHECK_FALSE(result);
    CHECK(result.failed_invariant == "a block has the Q bit exactly while it waits on its quick list");
    CHECK(result.offset == h.heap.heap().blocks().offset_of(&header(b)));
    header(b).size_and_flags &= ~kQuickBit;
    header(b).requested = requested;
  }
  SUBCASE("a listed block without its Q bit") {
    header(a).size_and_flags &= ~kQuickBit;
    const CheckResult result = h.heap.check();
    CHECK_FALSE(result);
    CHECK(result.failed_invariant == "every block on a quick list is allocated with the Q bit");
    header(a).size_and_flags |= kQuickBit;
  }
  SUBCASE("a Q bit on a free block") {
    h.heap.deallocate(b);  // parked too
    void* const c = h.heap.allocate(QuickLists::kLimit);
    REQUIRE(c != nullptr);
    h.heap.deallocate(c);  // really free
    header(c).size_and_flags |= kQuickBit;
    CHECK_FALSE(h.heap.check());
    header(c).size_and_flags &= ~kQuickBit;
  }
  CHECK(h.heap.check());
}

TEST_CASE("stage5: the Q bit is refused without quick lists") {
  AlignedRegion region(64 * 1024, 4096);
  SegregatedFitRegion heap(region.bytes());
  void* const a = heap.allocate(kSmall);
  REQUIRE(heap.allocate(kSmall) != nullptr);
  header(a).size_and_flags |= kQuickBit;
  CHECK_FALSE(heap.check());
  header(a).size_and_flags &= ~kQuickBit;
  CHECK(heap.check());
}

TEST_CASE("stage5: quick fit: a block that reallocate moves away is merged, not parked") {
  QuickHeap h;
  void* const a = h.heap.allocate(kSmall);
  REQUIRE(h.heap.allocate(kSmall) != nullptr);  // `a` cannot grow in place
  void* const moved = h.heap.reallocate(a, 4 * kSmall);
  REQUIRE(moved != nullptr);
  CHECK(moved != a);
  CHECK_FALSE(is_allocated(header(a)));
  CHECK(h.heap.stats().quick_blocks == 0);
  CHECK(h.heap.check());
}

TEST_CASE("stage5: quick fit: a block that reallocate moves gets a parked block of the new size") {
  QuickHeap h;
  void* const parked = h.heap.allocate(2 * kSmall);
  REQUIRE(h.heap.allocate(kSmall) != nullptr);  // keeps `parked` from merging with the next one
  void* const a = h.heap.allocate(kSmall);
  REQUIRE(h.heap.allocate(kSmall) != nullptr);  // `a` cannot grow in place
  h.heap.deallocate(parked);
  REQUIRE(h.heap.stats().quick_blocks == 1);
  heaplab::testing::fill_pattern({static_cast<std::byte*>(a), kSmall}, 7);
  void* const moved = h.heap.reallocate(a, 2 * kSmall);
  CHECK(moved == parked);  // the move took the parked block, not a new one at the break
  CHECK(heaplab::testing::holds_pattern({static_cast<std::byte*>(moved), kSmall}, 7));
  CHECK(h.heap.stats().quick_blocks == 0);
  CHECK_FALSE(is_allocated(header(a)));  // the old block was freed, merged, not parked
  CHECK(h.heap.check());
}

// ---- The parking heap behind the cache -------------------------------------------

namespace {

/// The heap behind quick fit's cache, alone, over its own region.
struct ParkingRegion {
  AlignedRegion region{64 * 1024, 4096};                   ///< The memory.
  ParkingHeap<SegregatedLists<FirstFit>> heap{region.bytes()};  ///< The heap under test.
};

}  // namespace

TEST_CASE("stage5: reuse_free_block never moves the break and extend_heap always does") {
  ParkingRegion t;
  auto& heap = t.heap;
  // A fresh heap has no free block: reuse refuses, and that is no exhaustion.
  CHECK(heap.reuse_free_block(kSmall) == nullptr);
  CHECK(heap.stats().exhausted == 0);
  auto* const a = static_cast<std::byte*>(heap.extend_heap(kSmall));
  auto* const b = static_cast<std::byte*>(heap.extend_heap(kSmall));
  REQUIRE((a != nullptr && b != nullptr));
  CHECK(b == a + kSmallBlock);
  heap.deallocate(a);
  // A free block fits, but extend_heap carves a new one at the break.
  auto* const c = static_cast<std::byte*>(heap.extend_heap(kSmall));
  CHECK(c == b + kSmallBlock);
  // reuse_free_block takes the free one.
  CHECK(heap.reuse_free_block(kSmall) == a);
  CHECK(heap.stats().free_blocks == 0);
  CHECK(heap.stats().live_allocations == 3);
  // Bad requests are counted as rejected by both.
  CHECK(heap.reuse_free_block(kSmall, 3) == nullptr);
  CHECK(heap.extend_heap(kMaxRequest + 1) == nullptr);
  CHECK(heap.stats().rejected == 2);
  CHECK(heap.check());
}

TEST_CASE("stage5: a parked block is counted out, checked as parked, taken back, or freed and merged") {
  RecordingHandler misuse;
  ParkingRegion t;
  auto& heap = t.heap;
  void* const a = heap.allocate(kSmall);
  void* const b = heap.allocate(kSmall);
  REQUIRE(heap.allocate(kSmall) != nullptr);
  BlockHeader& block = *heap.allocated_block(b, "a cache");
  // Parked, as the cache does it: out of the live numbers, still allocated
  // here, with the Q bit.
  heap.set_aside(block);
  block.size_and_flags |= kQuickBit;
  CHECK(is_allocated(block));
  CHECK(block.requested == 0);
  CHECK(heap.stats().live_allocations == 2);
  CHECK(heap.stats().requested == 2 * kSmall);
  const auto parked_here = [&](const BlockHeader& at) { return &at == &block; };
  const auto parked_nowhere = [](const BlockHeader&) { return false; };
  CHECK(heap.check(parked_here));
  // A Q bit the cache does not know of is reported at its block.
  const CheckResult stray = heap.check(parked_nowhere);
  CHECK(stray.failed_invariant == "a block has the Q bit exactly while it waits on its quick list");
  CHECK(stray.offset == heap.heap().blocks().offset_of(&block));
  // A parked block has no request.
  block.requested = 8;
  CHECK_FALSE(heap.check(parked_here));
  block.requested = 0;
  // Taken back, for a new request.
  block.size_and_flags &= ~kQuickBit;
  CHECK(heap.take_back(block, 10) == b);
  CHECK(heap.stats().live_allocations == 3);
  CHECK(heap.stats().requested == 2 * kSmall + 10);
  CHECK(heap.check());
  // Parked again, then freed into the heap: it merges with a free block in front.
  heap.deallocate(a);
  heap.set_aside(block);
  heap.release_set_aside(block);
  CHECK_FALSE(is_allocated(*header_of(a)));
  CHECK(block_size(*header_of(a)) == 2 * kSmallBlock);
  CHECK(heap.stats().merges == 1);
  CHECK(heap.stats().live_allocations == 1);
  CHECK(heap.check());
  CHECK(misuse.reports().empty());
}
