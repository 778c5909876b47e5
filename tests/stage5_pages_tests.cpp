// Chapter 5's small pages (size_class_pages.hpp, small_page.hpp,
// page_map.hpp): the size classes and their table, the reciprocal that
// replaces division, pages taken and given back, untouched slots that cost
// nothing, the page map, and misuse of a slot reported once with nothing
// changed.
#include <doctest/doctest.h>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/misuse.hpp"
#include "stage5_real_malloc/page_map.hpp"
#include "stage5_real_malloc/size_class_pages.hpp"
#include "stage5_real_malloc/small_page.hpp"
#include "tests/support/aligned_region.hpp"
#include "tests/support/blocks.hpp"
#include "tests/support/recording_handler.hpp"

namespace {

using namespace heaplab;
using heaplab::testing::AlignedRegion;
using heaplab::testing::RecordingHandler;

/// Small pages in front of two-level fits, on a 2 MiB region of its own.
struct PagedHeap {
  explicit PagedHeap(std::size_t bytes = std::size_t{2} * 1024 * 1024)
      : region(bytes, 4096), heap(region.bytes(), Upstream{}) {}
  AlignedRegion region;      ///< The memory (declared first: it must outlive the allocator).
  SmallPagesAllocator heap;  ///< The allocator under test.
};

/// The page that holds \p p, as the heap sees it.
SmallPage& page_holding(const SmallPagesAllocator& heap, const void* p) {
  SmallPage* const page = heap.page_of(p);
  REQUIRE(page != nullptr);
  return *page;
}

}  // namespace

TEST_CASE("stage5: small pages: every size maps to the smallest class that holds it, by table and by arithmetic") {
  for (std::size_t size = 0; size <= SmallClasses::kLargest; ++size) {
    CAPTURE(size);
    const std::size_t c = SmallClasses::class_of(size);
    REQUIRE(c < SmallClasses::kCount);
    CHECK(c == SmallClasses::computed_class_of(size));
    CHECK(SmallClasses::size_of(c) >= size);
    if (c > 0) CHECK(SmallClasses::size_of(c - 1) < size);
  }
  for (std::size_t c = 0; c < SmallClasses::kCount; ++c) {
    CAPTURE(c);
    CHECK(SmallClasses::size_of(c) % SmallClasses::kAlignment == 0);
    CHECK(SmallClasses::class_of(SmallClasses::size_of(c)) == c);  // a class's own size round-trips
    if (c >= SmallClasses::kStepClasses) {
      // Four per doubling: each step is a quarter of the doubling below it.
      CHECK(SmallClasses::size_of(c) - SmallClasses::size_of(c - 1) ==
            std::bit_floor(SmallClasses::size_of(c) - 1) / 4);
    }
  }
}

TEST_CASE("stage5: small pages: the reciprocal finds the slot of every offset of every class without a division") {
  for (std::size_t c = 0; c < SmallClasses::kCount; ++c) {
    CAPTURE(c);
    const SmallPage::Geometry g = SmallPage::geometry(c);
    SmallPage page{};
    page.reciprocal = g.reciprocal;
    std::size_t wrong = 0;
    for (std::size_t offset = 0; offset < SmallPage::kBytes; ++offset) {
      wrong += page.index_at(offset) != offset / g.block_size ? 1 : 0;
    }
    CHECK(wrong == 0);
  }
}

TEST_CASE("stage5: small pages: a page holds as many slots as fit after its header and records") {
  for (std::size_t c = 0; c < SmallClasses::kCount; ++c) {
    CAPTURE(c);
    const SmallPage::Geometry g = SmallPage::geometry(c);
    CHECK(g.first % SmallClasses::kAlignment == 0);
    CHECK(g.first >= sizeof(SmallPage) + g.slots * sizeof(std::uint16_t));
    CHECK(g.first + std::size_t{g.slots} * g.block_size <= SmallPage::kBytes);
    const std::size_t one_more = g.slots + std::size_t{1};
    CHECK(SmallPage::front_bytes(one_more) + one_more * g.block_size > SmallPage::kBytes);
    CHECK(g.slots >= 7);  // even the largest class gets a handful
  }
}

TEST_CASE("stage5: small pages: only the touched part of a page counts as used") {
  PagedHeap paged;
  auto& heap = paged.heap;
  const MallocStats before = heap.stats();
  const MallocStats inner_before = heap.inner().stats();
  void* const first = heap.allocate(16);
  REQUIRE(first != nullptr);
  const MallocStats one = heap.stats();
  // The heap behind spent the page's block (and its own tags and gap); of
  // the page's 64 KiB only the header, one slot's record and the slot count.
  const std::size_t around_page = heap.inner().stats().used - inner_before.used - SmallPage::kBytes;
  CHECK(one.used - before.used == around_page + sizeof(SmallPage) + sizeof(std::uint16_t) + 16);
  CHECK(one.requested - before.requested == 16);
  CHECK(one.live_allocations == before.live_allocations + 1);
  void* const second = heap.allocate(10);
  REQUIRE(second != nullptr);
  const MallocStats two = heap.stats();
  CHECK(two.used - one.used == 16 + sizeof(std::uint16_t));  // one more slot touched, and its record
  CHECK(two.requested - one.requested == 10);
  CHECK(two.high_water == two.used);
  heap.deallocate(first);
  const MallocStats freed = heap.stats();
  CHECK(freed.used == two.used);  // touched stays touched
  CHECK(freed.free_blocks == two.free_blocks + 1);
  CHECK(freed.free_bytes == two.free_bytes + 16);
  CHECK(freed.peak_requested == two.requested);
  CHECK(heap.check());
  heap.deallocate(second);
}

TEST_CASE("stage5: small pages: a page whose last block is freed goes back, but for one empty page per class") {
  PagedHeap paged;
  auto& heap = paged.heap;
  const std::size_t slots = SmallPage::geometry(SmallClasses::kCount - 1).slots;
  const MallocStats inner_before = heap.inner().stats();
  std::vector<void*> blocks;
  for (std::size_t i = 0; i < 2 * slots + 1; ++i) blocks.push_back(heap.allocate(SmallClasses::kLargest));
  for (void* p : blocks) REQUIRE(p != nullptr);
  CHECK(heap.pages() == 3);
  CHECK(heap.inner().stats().live_allocations == inner_before.live_allocations + 3);
  for (void* p : blocks) heap.deallocate(p);
  CHECK(heap.check());
  CHECK(heap.pages() == 1);  // the class keeps one empty page
  CHECK(heap.inner().stats().live_allocations == inner_before.live_allocations + 1);
  CHECK(heap.stats().live_allocations == 0);
  // The kept page serves the next request of its class without a new one.
  void* const again = heap.allocate(SmallClasses::kLargest);
  CHECK(heap.pages() == 1);
  heap.deallocate(again);
}

TEST_CASE("stage5: small pages: the page map finds each page and no other address") {
  PagedHeap paged;
  PagedHeap other;
  void* const p = paged.heap.allocate(100);
  REQUIRE(p != nullptr);
  const SmallPage& page = page_holding(paged.heap, p);
  CHECK(page.owner == &paged.heap);
  for (std::size_t at = 0; at < SmallPage::kBytes; at += 512) CHECK(PageMap::find(page.begin() + at) == &page);
  int on_the_stack = 0;
  std::vector<std::byte> elsewhere(64);
  CHECK(PageMap::find(&on_the_stack) == nullptr);
  CHECK(PageMap::find(elsewhere.data()) == nullptr);
  CHECK(PageMap::find(paged.region.bytes().data()) == nullptr);  // the heap behind's own blocks
  CHECK(other.heap.page_of(p) == nullptr);                        // another heap's page is not its own
  const SmallPage* const where = &page;
  paged.heap.deallocate(p);  // the page stays: its class's one empty page
  CHECK(PageMap::find(where) == where);
  // A second empty page of the class goes back, and out of the map.
  std::vector<void*> blocks;
  for (std::uint32_t i = 0; i <= page.slots; ++i) blocks.push_back(paged.heap.allocate(100));
  const SmallPage* const second = paged.heap.page_of(blocks.back());
  REQUIRE(second != where);
  for (void* b : blocks) paged.heap.deallocate(b);
  CHECK(paged.heap.pages() == 1);
  // The first page emptied is kept; the second one emptied goes back.
  CHECK(PageMap::find(where) == where);
  CHECK(PageMap::find(second) == nullptr);
}

TEST_CASE("stage5: small pages: a freed slot, an interior pointer, the header: reported once, nothing changed") {
  PagedHeap paged;
  auto& heap = paged.heap;
  RecordingHandler misuse;
  auto* const victim = static_cast<std::byte*>(heap.allocate(32));
  auto* const neighbour = static_cast<std::byte*>(heap.allocate(32));
  REQUIRE(victim != nullptr);
  REQUIRE(neighbour != nullptr);
  SmallPage& page = page_holding(heap, victim);
  std::byte* const untouched = page.begin() + page.first + std::size_t{page.bump} * page.block_size;
  std::memset(victim, 0x5a, 32);
  heap.deallocate(neighbour);
  const MallocStats before = heap.stats();
  struct Row {
    std::byte* p;
    Misuse kind;
  };
  const Row rows[] = {{neighbour, Misuse::double_free},
                      {untouched, Misuse::double_free},  // never handed out: free
                      {victim + 1, Misuse::interior_pointer},
                      {victim + 16, Misuse::interior_pointer},
                      {page.begin(), Misuse::interior_pointer},  // the page's header
                      {page.begin() + page.first - 16, Misuse::interior_pointer}};
  for (const Row& row : rows) {
    CAPTURE(static_cast<void*>(row.p));
    for (int verb = 0; verb < 3; ++verb) {
      const std::size_t reports = misuse.reports().size();
      if (verb == 0) heap.deallocate(row.p);
      if (verb == 1) CHECK(heap.reallocate(row.p, 64) == nullptr);
      if (verb == 2) CHECK(heap.usable_size(row.p) == 0);
      REQUIRE(misuse.reports().size() == reports + 1);
      CHECK(misuse.reports().back().kind == row.kind);
      CHECK(misuse.reports().back().pointer == row.p);
      heaplab::testing::check_same_stats(before, heap.stats());
    }
  }
  CHECK(heap.check());
  for (std::size_t i = 0; i < 32; ++i) CHECK(victim[i] == std::byte{0x5a});
  heap.deallocate(victim);
  CHECK(misuse.reports().size() == std::size(rows) * 3);
}

TEST_CASE("stage5: small pages: a pointer of another heap's page is foreign to this one, which changes nothing") {
  PagedHeap paged;
  PagedHeap other;
  RecordingHandler misuse;
  void* const p = other.heap.allocate(48);
  REQUIRE(p != nullptr);
  const MallocStats before = paged.heap.stats();
  const MallocStats other_before = other.heap.stats();
  paged.heap.deallocate(p);
  REQUIRE(misuse.reports().size() == 1);
  CHECK(misuse.reports()[0].kind == Misuse::foreign_pointer);
  heaplab::testing::check_same_stats(before, paged.heap.stats());
  heaplab::testing::check_same_stats(other_before, other.heap.stats());
  other.heap.deallocate(p);
  CHECK(other.heap.check());
}

TEST_CASE("stage5: small pages: realloc stays in its slot within its class and moves across classes") {
  PagedHeap paged;
  auto& heap = paged.heap;
  auto* const p = static_cast<unsigned char*>(heap.allocate(20));
  REQUIRE(p != nullptr);
  for (unsigned char i = 0; i < 20; ++i) p[i] = i;
  CHECK(heap.reallocate(p, 32) == p);  // class 32 holds 20 and 32
  CHECK(heap.stats().requested == 32);
  CHECK(heap.usable_size(p) == 32);
  auto* const moved = static_cast<unsigned char*>(heap.reallocate(p, 500));
  REQUIRE(moved != nullptr);
  CHECK(moved != p);
  for (unsigned char i = 0; i < 20; ++i) CHECK(moved[i] == i);
  CHECK(heap.stats().requested == 500);
  CHECK(heap.stats().live_allocations == 1);
  auto* const large = static_cast<unsigned char*>(heap.reallocate(moved, 20000));  // to the heap behind
  REQUIRE(large != nullptr);
  CHECK(heap.page_of(large) == nullptr);
  for (unsigned char i = 0; i < 20; ++i) CHECK(large[i] == i);
  CHECK(heap.stats().requested == 20000);
  CHECK(heap.check());
  heap.deallocate(large);
  CHECK(heap.stats().live_allocations == 0);
}

TEST_CASE("stage5: small pages: calloc clears a reused slot") {
  PagedHeap paged;
  auto& heap = paged.heap;
  auto* const p = static_cast<unsigned char*>(heap.allocate(64));
  REQUIRE(p != nullptr);
  std::memset(p, 0xff, 64);
  heap.deallocate(p);
  auto* const q = static_cast<unsigned char*>(heap.allocate_zeroed(8, 8));
  REQUIRE(q == p);  // the freed slot, first on its page's free list
  for (std::size_t i = 0; i < 64; ++i) CHECK(q[i] == 0);
  heap.deallocate(q);
}

TEST_CASE("stage5: small pages: the checker catches a record that disagrees with the free list") {
  PagedHeap paged;
  auto& heap = paged.heap;
  void* const live = heap.allocate(64);
  void* const freed = heap.allocate(64);
  heap.deallocate(freed);
  REQUIRE(heap.check());
  SmallPage& page = *heap.page_of(freed);
  const std::uint32_t i = page.slot_starting_at(freed);
  page.set_record(i, 65);  // a free slot made to look live
  const CheckResult broken = heap.check();
  CHECK_FALSE(broken);
  CHECK(broken.failed_invariant == "a page's free list links its touched slots whose record is 0");
  page.set_record(i, 0);
  CHECK(heap.check());
  heap.deallocate(live);
}

TEST_CASE("stage5: small pages: the peak of requested bytes counts both blocks of a move in the heap behind") {
  PagedHeap paged;
  auto& heap = paged.heap;
  void* const moving = heap.allocate(20000);
  void* const guard = heap.allocate(9000);  // right after it, so that it cannot grow in place
  REQUIRE(moving != nullptr);
  REQUIRE(guard != nullptr);
  void* const moved = heap.reallocate(moving, 40000);
  REQUIRE(moved != nullptr);
  REQUIRE(moved != moving);
  // For a moment the old block and the new one were both live.
  CHECK(heap.stats().peak_requested == 20000 + 9000 + 40000);
  CHECK(heap.stats().peak_requested == heap.inner().stats().peak_requested);
  heap.deallocate(moved);
  heap.deallocate(guard);
}

TEST_CASE("stage5: small pages: the block walk shows a page once, as its header and slots, not also as a block behind") {
  PagedHeap paged;
  auto& heap = paged.heap;
  void* const small = heap.allocate(16);
  void* const large = heap.allocate(20000);  // a block of the heap behind, walked as it is
  REQUIRE(small != nullptr);
  REQUIRE(large != nullptr);
  const std::size_t behind_regions = heap.inner().stats().regions;
  std::size_t large_blocks_behind = 0;
  std::size_t page_headers = 0;
  heap.for_each_block([&](const BlockView& view) {
    if (view.state != BlockState::allocated) return;
    if (view.region < behind_regions) {
      CHECK(view.size < SmallPage::kBytes);  // no page's 64 KiB block among the heap behind's
      if (view.size >= 20000) ++large_blocks_behind;
    } else if (view.offset == 0) {
      ++page_headers;
    }
  });
  CHECK(large_blocks_behind == 1);  // the large block is still walked
  CHECK(page_headers == heap.pages());
  heap.deallocate(small);
  heap.deallocate(large);
}
