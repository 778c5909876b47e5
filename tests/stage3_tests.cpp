// Chapter 3's invariant suite: which block each placement policy picks,
// what a policy is given and must offer, how a chosen block is split, what
// next fit's rover does, and the space measures, beyond the shared contract.
//
// Free lists are built by hand: blocks of known sizes are carved one after
// the other, each followed by an allocated spacer, and freed in a chosen
// order, so that the LIFO list holds exactly the blocks a test names, in the
// order it names them. (Chapter 3 never merges blocks; the spacers keep the
// tests true once a later chapter does.) Regions are page-aligned, so that
// every block address, and every alignment gap, follows from what the test
// allocated.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <ostream>
#include <vector>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/bump_allocator.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage2_free_list/block.hpp"
#include "stage2_free_list/block_diagram.hpp"
#include "stage2_free_list/block_heap.hpp"
#include "stage2_free_list/explicit_free_list.hpp"
#include "stage2_free_list/implicit_free_list.hpp"
#include "stage2_free_list/free_list_allocator.hpp"
#include "stage2_free_list/free_list_allocator_impl.hpp"
#include "stage3_fit_strategies/fit_allocators.hpp"
#include "stage3_fit_strategies/fit_free_list.hpp"
#include "stage3_fit_strategies/measures.hpp"
#include "stage3_fit_strategies/placement.hpp"
#include "tests/support/aligned_region.hpp"
#include "tests/support/block_walk.hpp"
#include "tests/support/blocks.hpp"
#include "tests/support/recording_handler.hpp"
#include "tests/support/served_alike.hpp"

namespace {

using heaplab::testing::check_stats_against_walk;
using heaplab::testing::walk;

using namespace heaplab;
using heaplab::testing::AlignedRegion;
using heaplab::testing::block_at;
using heaplab::testing::fill_pattern;
using heaplab::testing::holds_pattern;
using heaplab::testing::RecordingHandler;

/// Bytes of the region most tests use.
constexpr std::size_t kRegionBytes = 64 * 1024;
/// Alignment of every test region: a page.
constexpr std::size_t kRegionAlignment = 4096;
/// A request of 64 bytes needs a block of 80: the policy tables use it.
constexpr std::size_t kRequest = 64;
/// Position returned for a block that was not on the hand-built list.
constexpr std::size_t kNotOnList = std::numeric_limits<std::size_t>::max();

/// An allocator of type \p A over its own page-aligned region.
template <class A>
struct RegionHeap {
  explicit RegionHeap(std::size_t bytes = kRegionBytes)
      : region(bytes, kRegionAlignment), heap(region.bytes()) {}
  AlignedRegion region;  ///< The memory (declared first: it must outlive the allocator).
  A heap;                ///< The allocator under test.
};

/// The header of the block whose payload is \p payload.
const BlockHeader* header(void* payload) { return header_of(payload); }

/// The free list of \p heap, head first.
template <class A>
std::vector<const BlockHeader*> list_order(const A& heap) {
  std::vector<const BlockHeader*> order;
  heap.free_list().list().for_each([&order](const BlockHeader& block) { order.push_back(&block); });
  return order;
}


/// Builds a free list of blocks of \p block_sizes (headers included),
/// head first, on the fresh allocator \p heap; returns their payloads in
/// list order. The blocks are carved tail first, each followed by an
/// allocated spacer, and freed tail first: LIFO puts the first one at the
/// head, and the list runs against address order, so a policy that walked
/// memory instead of the list would be caught.
template <class A>
std::vector<void*> build_free_list(A& heap, const std::vector<std::size_t>& block_sizes) {
  std::vector<void*> blocks(block_sizes.size());
  for (std::size_t i = block_sizes.size(); i-- > 0;) {
    blocks[i] = heap.allocate(block_sizes[i] - kHeaderSize);
    REQUIRE(blocks[i] != nullptr);
    REQUIRE(block_size(*header(blocks[i])) == block_sizes[i]);
    REQUIRE(heap.allocate(0) != nullptr);  // the spacer
  }
  for (std::size_t i = block_sizes.size(); i-- > 0;) heap.deallocate(blocks[i]);
  std::vector<const BlockHeader*> expected;
  for (void* p : blocks) expected.push_back(header(p));
  REQUIRE(list_order(heap) == expected);
  return blocks;
}

/// Which block of a hand-built list a request got, and how many blocks the
/// search looked at.
struct Pick {
  std::size_t position = kNotOnList;  ///< Position on the list, head = 0 (kNotOnList: elsewhere).
  std::size_t visited = 0;            ///< Blocks the search looked at.
  bool operator==(const Pick&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Pick& pick) {
  return out << "{position " << pick.position << ", visited " << pick.visited << "}";
}

/// What allocator \p A picks for \p request bytes from a fresh free list of
/// blocks of \p block_sizes, head first.
template <class A>
Pick pick(const std::vector<std::size_t>& block_sizes, std::size_t request = kRequest) {
  RegionHeap<A> t;
  const std::vector<void*> blocks = build_free_list(t.heap, block_sizes);
  const std::size_t visited_before = t.heap.stats().blocks_visited;
  void* const p = t.heap.allocate(request);
  REQUIRE(p != nullptr);
  CHECK(t.heap.check());
  const auto found = std::find(blocks.begin(), blocks.end(), p);
  return {found == blocks.end() ? kNotOnList : static_cast<std::size_t>(found - blocks.begin()),
          t.heap.stats().blocks_visited - visited_before};
}

/// Carves a block of \p size bytes (header included) at the break of
/// \p heap, with nothing in front of it; it comes back free.
BlockHeader* carve(BlockHeap& heap, std::size_t size) {
  const Extension grown = heap.extend(size, kDefaultAlignment);
  REQUIRE(grown.block != nullptr);
  REQUIRE(grown.filler == nullptr);
  return grown.block;
}

/// The filler an aligned block carved at \p block needs: the smallest gap,
/// 0 or a whole minimum block, that puts the payload (kHeaderSize past the
/// block's start) on an \p align boundary. Found by trying one cell after
/// another, not with the allocator's formula, so that the formula is what
/// gets tested.
std::size_t expected_gap(const void* block, std::size_t align) {
  for (std::size_t gap = 0;; gap += kBlockGranularity) {
    if (gap != 0 && gap < kMinBlockSize) continue;
    if ((address_of(block) + gap + kHeaderSize) % align == 0) return gap;
  }
}

/// The course's policy \p Policy under another name, counting its
/// searches: a policy of its own in FitAllocator's slot, the one a
/// learner's takes (stage3_fit_strategies/your_turn/placement.hpp).
template <class Policy>
struct CountedPolicy : Policy {
  /// Counts the search, then searches as \p Policy does.
  template <FreeBlockList List>
  [[nodiscard]] Choice choose(const List& list, const BlockRequest& request, std::size_t& visited) noexcept {
    ++chooses;
    return Policy::choose(list, request, visited);
  }
  std::size_t chooses = 0;  ///< choose() calls.
};

/// The course's split under another name, counting its cuts: a split of
/// its own in FitAllocator's slot.
struct CountedSplit {
  /// Counts the cut, then cuts as split_to_fit() does.
  template <class Split, class KeepFree>
  static BlockHeader* cut(BlockHeader& chosen, const Placement& placement, std::size_t min_block, Split split,
                          KeepFree keep_free) noexcept {
    ++cuts;
    return split_to_fit(chosen, placement, min_block, split, keep_free);
  }
  static inline std::size_t cuts = 0;  ///< cut() calls, over the whole test program.
};

/// A wrong split: the tail is cut off the block handed out, and never put
/// back on the free list. (It ignores the front gap too: the test that
/// uses it asks for no alignment.)
struct LosesTheTail {
  template <class Split, class KeepFree>
  static BlockHeader* cut(BlockHeader& chosen, const Placement& placement, std::size_t min_block, Split split,
                          KeepFree /*keep_free*/) noexcept {
    if (block_size(chosen) - placement.needed >= min_block) (void)split(chosen, placement.needed);
    return &chosen;
  }
};

/// A wrong policy: first fit that leaves the alignment out of the request,
/// so that an aligned request is placed with no front gap.
struct IgnoresAlignment : FirstFit {
  template <FreeBlockList List>
  [[nodiscard]] Choice choose(const List& list, const BlockRequest& request, std::size_t& visited) noexcept {
    return FirstFit::choose(list, BlockRequest{request.needed, kDefaultAlignment, request.min_block}, visited);
  }
};

}  // namespace

TYPE_TO_STRING_AS("FirstFitAllocator", heaplab::FirstFitAllocator);
TYPE_TO_STRING_AS("NextFitAllocator", heaplab::NextFitAllocator);
TYPE_TO_STRING_AS("BestFitAllocator", heaplab::BestFitAllocator);
TYPE_TO_STRING_AS("WorstFitAllocator", heaplab::WorstFitAllocator);

TEST_SUITE("stage3") {

// ---- Which block each policy picks -------------------------------------------

TEST_CASE("each policy picks its own block from the same free list") {
  REQUIRE(block_size_for(kRequest) == 80);
  // Head first: too small, fits, fits with a tail too small to split,
  // exact fit, the largest.
  const std::vector<std::size_t> list{64, 216, 96, 80, 416};
  CHECK(pick<FirstFitAllocator>(list) == Pick{1, 2});  // the first that fits
  CHECK(pick<NextFitAllocator>(list) == Pick{1, 2});   // a fresh rover starts at the head
  CHECK(pick<BestFitAllocator>(list) == Pick{3, 4});   // the exact fit, and the search stops there
  CHECK(pick<WorstFitAllocator>(list) == Pick{4, 5});  // the largest; every block looked at
}

TEST_CASE("ties go to the block met first") {
  // Two equal blocks that fit with a tail.
  CHECK(pick<FirstFitAllocator>({96, 96}) == Pick{0, 1});
  CHECK(pick<NextFitAllocator>({96, 96}) == Pick{0, 1});
  CHECK(pick<BestFitAllocator>({416, 96, 96}) == Pick{1, 3});
  CHECK(pick<WorstFitAllocator>({96, 416, 416}) == Pick{1, 3});
  // Two exact fits: best fit takes the first and looks no further.
  CHECK(pick<BestFitAllocator>({216, 80, 80}) == Pick{1, 2});
}

TEST_CASE("best fit stops at an early exact fit and still finds an exact fit that comes last") {
  const std::vector<std::size_t> early{216, 80, 96, 120, 416, 88, 104, 1016};
  const Pick stopped = pick<BestFitAllocator>(early);
  CHECK(stopped == Pick{1, 2});
  CHECK(stopped.visited < early.size());
  // The same blocks with the exact fit last: smaller non-exact blocks (88,
  // 96) come first and must not end the search.
  const std::vector<std::size_t> late{216, 96, 120, 416, 88, 104, 1016, 80};
  CHECK(pick<BestFitAllocator>(late) == Pick{7, late.size()});
}

TEST_CASE("best fit takes the smallest block that fits even when it is not the first") {
  // A loop that never updates its best would return the 416 at the head; one
  // that compares sizes before asking whether a block fits would take the 64
  // or the 24. With no exact fit, every block is looked at exactly once: a
  // loop that never ends, or walks twice, fails the count.
  const std::vector<std::size_t> list{416, 64, 216, 88, 24, 104, 96};
  CHECK(pick<BestFitAllocator>(list) == Pick{3, list.size()});
}

TEST_CASE("worst fit takes the largest block even when it is last and looks at every block") {
  const std::vector<std::size_t> list{216, 96, 80, 24, 1016};
  CHECK(pick<WorstFitAllocator>(list) == Pick{4, list.size()});
}

TEST_CASE_TEMPLATE("a request no free block fits looks at every block once and is carved at the break", A,
                   FirstFitAllocator, NextFitAllocator, BestFitAllocator, WorstFitAllocator) {
  RegionHeap<A> t;
  const std::vector<std::size_t> list{64, 216, 96, 80, 416};
  (void)build_free_list(t.heap, list);
  const FreeListStats before = t.heap.stats();
  void* const p = t.heap.allocate(1000);
  REQUIRE(p != nullptr);
  const FreeListStats after = t.heap.stats();
  CHECK(after.blocks_visited - before.blocks_visited == list.size());
  CHECK(after.searches == before.searches + 1);
  CHECK(after.used == before.used + block_size_for(1000));
  CHECK(static_cast<std::byte*>(p) == t.heap.heap().begin() + before.used + kHeaderSize);
  CHECK(after.free_blocks == list.size());  // the list is untouched
  CHECK(t.heap.check());
}

// ---- What a policy is given --------------------------------------------------

TEST_CASE_TEMPLATE("a policy places by the request's values: a larger min_block widens the front gap", P,
                   FirstFit, NextFit, BestFit, WorstFit) {
  // One free block whose payload would sit 32 bytes short of a 64-byte
  // boundary. Chapter 3's minimum (24) lets those 32 bytes stay free as the
  // gap; a minimum of 40 (chapter 4's) does not, and the gap grows by a
  // whole alignment step, to 96.
  constexpr std::size_t kAlign = 64;
  AlignedRegion region(kRegionBytes, kRegionAlignment);
  BlockHeap heap(region.bytes());
  std::size_t lead = kMinBlockSize;  // the block in front, sized to put the payload there
  while (padding_to_align(address_of(heap.begin()) + lead + kHeaderSize, kAlign) != 32) {
    lead += kBlockGranularity;
  }
  (void)carve(heap, lead);
  BlockHeader& block = *carve(heap, 96 + 80);
  ExplicitFreeList list;
  list.insert(block);

  const auto choose = [&list](const BlockRequest& request) {
    P policy;
    std::size_t visited = 0;
    const Choice choice = policy.choose(list, request, visited);
    CHECK(visited == 1);
    return choice;
  };
  const Choice narrow = choose({80, kAlign, 24});
  CHECK(narrow.block == &block);
  CHECK(narrow.placement.front_gap == 32);
  CHECK(narrow.placement.leftover(block_size(block)) == 64);
  const Choice wide = choose({80, kAlign, 40});
  CHECK(wide.block == &block);
  CHECK(wide.placement.front_gap == 96);
  CHECK(wide.placement.leftover(block_size(block)) == 0);
  // One cell more: room with the narrow gap, none with the wide one.
  CHECK(choose({88, kAlign, 24}).block == &block);
  CHECK(choose({88, kAlign, 40}).block == nullptr);
}

/// Chooses like a policy but has no forget(): it could not keep a rover
/// valid, so FitFreeList must refuse it.
struct ChooseOnly {
  Choice choose(const ExplicitFreeList& list, const BlockRequest& request, std::size_t& visited) noexcept;
};

/// True when FitFreeList<Policy> names a type: its constraint holds.
template <class Policy>
concept MakesFitFreeList = requires { typename FitFreeList<Policy>; };

static_assert(FreeBlockList<ExplicitFreeList>);
static_assert(!FreeBlockList<ImplicitFreeList>, "no links to walk: the heap is the list");
static_assert(!PlacementPolicy<ChooseOnly, ExplicitFreeList>, "a policy without forget() is not a policy");
static_assert(!PlacementPolicy<FirstFit, ImplicitFreeList>, "a policy needs a list it can walk");
static_assert(MakesFitFreeList<BestFit> && !MakesFitFreeList<ChooseOnly>);

// ---- Next fit's rover --------------------------------------------------------

TEST_CASE("next fit: the rover moves past the chosen block and wraps round to the head") {
  RegionHeap<NextFitAllocator> t;
  auto& heap = t.heap;
  // a is too small; b splits; c keeps a 16-byte tail; d fits exactly; e splits.
  const std::vector<void*> blocks = build_free_list(heap, {64, 216, 96, 80, 416});
  void* const a = blocks[0];
  const auto take = [&heap](std::size_t expected_visits) {
    const std::size_t before = heap.stats().blocks_visited;
    void* const p = heap.allocate(kRequest);
    CHECK(heap.stats().blocks_visited - before == expected_visits);
    CHECK(heap.check());  // includes: the rover is on the list
    return p;
  };
  CHECK(heap.free_list().policy().rover() == nullptr);
  CHECK(take(2) == blocks[1]);
  CHECK(heap.free_list().policy().rover() == header(a));  // the block before b
  // b's 136-byte remainder is now the head; first fit would take it. Next
  // fit starts after the rover, with c.
  const auto* const b_rest = header_at(static_cast<std::byte*>(blocks[1]) - kHeaderSize + 80);
  CHECK(list_order(heap).front() == b_rest);
  CHECK(take(1) == blocks[2]);
  CHECK(take(1) == blocks[3]);
  CHECK(take(1) == blocks[4]);
  CHECK(heap.free_list().policy().rover() == header(a));
  // Nothing after the rover fits any more: the search wraps round to the
  // head, which is e's remainder (inserted last), and takes it.
  const std::vector<const BlockHeader*> order = list_order(heap);
  REQUIRE(order.size() == 3);
  CHECK(order[2] == header(a));
  CHECK(take(1) == static_cast<std::byte*>(blocks[4]) + 80);
  CHECK(heap.free_list().policy().rover() == nullptr);  // e's remainder was the head
}

TEST_CASE("next fit: a search that fails from the middle of the list looks at every block once") {
  RegionHeap<NextFitAllocator> t;
  auto& heap = t.heap;
  const std::vector<void*> blocks = build_free_list(heap, {24, 64, 80, 48, 216});
  REQUIRE(heap.allocate(kRequest) == blocks[2]);  // the exact fit, after two too small
  REQUIRE(heap.free_list().policy().rover() == header(blocks[1]));
  const FreeListStats before = heap.stats();
  REQUIRE(heap.allocate(1000) != nullptr);  // carved at the break
  CHECK(heap.stats().blocks_visited - before.blocks_visited == before.free_blocks);
  CHECK(heap.free_list().policy().rover() == header(blocks[1]));  // a failed search moves nothing
  CHECK(heap.check());
}

TEST_CASE("next fit: the rover survives the removal of its own block") {
  RegionHeap<NextFitAllocator> t;
  auto& heap = t.heap;
  // h fits nothing below; r fits only the second request; c fits the first
  // exactly; tl fits neither.
  const std::vector<void*> blocks = build_free_list(heap, {24, 96, 216, 64});
  void* const h = blocks[0];
  void* const r = blocks[1];
  void* const c = blocks[2];
  REQUIRE(heap.allocate(200) == c);
  REQUIRE(heap.free_list().policy().rover() == header(r));
  // The next search starts after r, finds nothing, wraps round and takes
  // the rover's own block: the rover must step back to h.
  void* const taken = heap.allocate(80);
  CHECK(taken == r);
  CHECK(heap.free_list().policy().rover() == header(h));
  CHECK(heap.check());
  // r comes back at the head; the rover stays on h, which is still listed.
  heap.deallocate(r);
  CHECK(list_order(heap).front() == header(r));
  CHECK(heap.free_list().policy().rover() == header(h));
  CHECK(heap.check());
  // Taken again, now as the head: the rover falls back to the head (null).
  CHECK(heap.allocate(80) == r);
  CHECK(heap.free_list().policy().rover() == nullptr);
  CHECK(heap.check());
  heap.deallocate(c);
  heap.deallocate(r);
  CHECK(heap.check());
}

TEST_CASE("next fit: check() reports a rover that is not on the list") {
  // A FitFreeList over a BlockHeap, driven directly. Copying the list gives
  // a second list that walks the same links with its own rover: when the
  // first list takes the block that rover names, the copy's rover is left
  // on a block its walk no longer reaches, without any undefined behaviour.
  AlignedRegion region(kRegionBytes, kRegionAlignment);
  BlockHeap heap(region.bytes());
  BlockHeader* const a = carve(heap, 24);
  BlockHeader* const b = carve(heap, 96);
  BlockHeader* const c = carve(heap, 48);
  BlockHeader* const d = carve(heap, 24);
  FitFreeList<NextFit> list;
  for (BlockHeader* block : {a, b, c, d}) list.insert(*block);  // d -> c -> b -> a
  CHECK(list.check(heap, 4));
  std::size_t visited = 0;
  REQUIRE(list.take(heap, 80, kDefaultAlignment, visited) == b);  // exact fit, after d and c
  REQUIRE(list.policy().rover() == c);
  CHECK(list.check(heap, 3));

  const FitFreeList<NextFit> stale = list;  // same links, rover on c
  // After c only a (too small); wrap round: d (too small), then c itself.
  REQUIRE(list.take(heap, 32, kDefaultAlignment, visited) == c);
  CHECK(list.policy().rover() == d);
  CHECK(list.check(heap, 2));
  const CheckResult result = stale.check(heap, 2);  // its walk: d -> a
  CHECK_FALSE(result.ok());
  CHECK(result.failed_invariant == "the rover is on the free list");
}

// ---- Splitting ---------------------------------------------------------------

TEST_CASE_TEMPLATE("a chosen block is split when the tail can be a block and kept whole otherwise", A,
                   FirstFitAllocator, NextFitAllocator, BestFitAllocator, WorstFitAllocator) {
  constexpr std::size_t kAsked = 100;
  const std::size_t needed = block_size_for(kAsked);
  REQUIRE(needed == 120);
  // Tails of 896, 24 (the smallest block: split), 16 and 8 (kept) and 0.
  for (const std::size_t victim_size : {needed + 896, needed + 24, needed + 16, needed + 8, needed}) {
    CAPTURE(victim_size);
    RegionHeap<A> t;
    auto& heap = t.heap;
    void* const victim = heap.allocate(victim_size - kHeaderSize);
    void* const spacer = heap.allocate(8);
    REQUIRE((victim && spacer));
    fill_pattern(block_at(spacer, 8), 7);
    heap.deallocate(victim);
    const FreeListStats before = heap.stats();

    void* const p = heap.allocate(kAsked);
    REQUIRE(p == victim);
    fill_pattern(block_at(p, kAsked), 8);
    const std::size_t tail = victim_size - needed;
    const bool split = tail >= kMinBlockSize;
    const std::size_t handed_out = split ? needed : victim_size;
    const BlockHeader* const block = header(p);
    CHECK(block_size(*block) == handed_out);
    CHECK(is_allocated(*block));
    CHECK(block->requested == kAsked);
    std::byte* const tail_start = static_cast<std::byte*>(p) - kHeaderSize + needed;
    const FreeListStats after = heap.stats();
    CHECK(after.used == before.used);  // nothing carved
    CHECK(after.payload_bytes == before.payload_bytes + handed_out - kHeaderSize);
    CHECK(after.free_bytes == before.free_bytes - handed_out);
    if (split) {
      CHECK(heap.heap().starts().is_start(tail_start));
      const BlockHeader* const rest = header_at(tail_start);
      CHECK(block_size(*rest) == tail);
      CHECK_FALSE(is_allocated(*rest));
      CHECK(rest->requested == 0);
      CHECK(list_order(heap) == std::vector<const BlockHeader*>{rest});
      CHECK(after.free_blocks == 1);
    } else {
      if (tail != 0) CHECK_FALSE(heap.heap().starts().is_start(tail_start));
      CHECK(payload_capacity(*block) == victim_size - kHeaderSize);
      CHECK(after.free_blocks == 0);
    }
    // Internal fragmentation: each allocated block beyond its request.
    const Measures m = measure(heap);
    CHECK(m.internal_fragmentation == (block_size_for(8) - 8) + (handed_out - kAsked));
    check_stats_against_walk(heap);
    CHECK(heap.check());
    CHECK(holds_pattern(block_at(spacer, 8), 7));
    CHECK(holds_pattern(block_at(p, kAsked), 8));
    // The whole payload is the caller's: growing into it stays in place.
    CHECK(heap.reallocate(p, payload_capacity(*block)) == p);
    CHECK(heap.check());
  }
}

TEST_CASE_TEMPLATE("an aligned request from an unaligned free block leaves the gap in front free", A,
                   FirstFitAllocator, NextFitAllocator, BestFitAllocator, WorstFitAllocator) {
  RecordingHandler misuse;
  constexpr std::size_t kAsked = 200;
  for (std::size_t align = 16; align <= 4096; align *= 2) {
    CAPTURE(align);
    RegionHeap<A> t;
    auto& heap = t.heap;
    // A 24-byte block first: the big block's payload is then 8 past a
    // 16-byte boundary, aligned to no alignment asked here.
    void* const front = heap.allocate(8);
    void* const big = heap.allocate(3 * 4096);
    void* const back = heap.allocate(8);
    REQUIRE((front && big && back));
    REQUIRE_FALSE(is_aligned(big, 16));
    fill_pattern(block_at(front, 8), 1);
    fill_pattern(block_at(back, 8), 2);
    const std::size_t big_size = block_size(*header(big));
    std::byte* const big_start = static_cast<std::byte*>(big) - kHeaderSize;
    heap.deallocate(big);

    void* const p = heap.allocate(kAsked, align);
    REQUIRE(p != nullptr);
    CHECK(is_aligned(p, align));
    const std::size_t gap = expected_gap(big_start, align);
    CHECK(gap >= kMinBlockSize);
    CHECK(static_cast<std::byte*>(p) == big_start + gap + kHeaderSize);
    // The gap is a free block of its own, on the list; so is the tail.
    const BlockHeader* const gap_block = header_at(big_start);
    CHECK(block_size(*gap_block) == gap);
    CHECK_FALSE(is_allocated(*gap_block));
    CHECK(block_size(*header(p)) == block_size_for(kAsked));
    std::byte* const tail_start = static_cast<std::byte*>(p) - kHeaderSize + block_size_for(kAsked);
    CHECK(heap.heap().starts().is_start(tail_start));
    CHECK(block_size(*header_at(tail_start)) == big_size - gap - block_size_for(kAsked));
    const std::vector<const BlockHeader*> order = list_order(heap);
    CHECK(order.size() == 2);
    CHECK(std::count(order.begin(), order.end(), gap_block) == 1);
    CHECK(std::count(order.begin(), order.end(), header_at(tail_start)) == 1);
    check_stats_against_walk(heap);
    CHECK(heap.check());

    // Later requests are served from the gap and the tail; no live byte moves.
    fill_pattern(block_at(p, kAsked), 3);
    std::vector<void*> more;
    for (std::size_t i = 0; i < 8; ++i) {
      more.push_back(heap.allocate(8));
      REQUIRE(more.back() != nullptr);
      fill_pattern(block_at(more.back(), 8), 10 + i);
    }
    CHECK(heap.stats().used == big_size + 2 * block_size_for(8));  // nothing carved
    CHECK(holds_pattern(block_at(front, 8), 1));
    CHECK(holds_pattern(block_at(back, 8), 2));
    CHECK(holds_pattern(block_at(p, kAsked), 3));
    for (std::size_t i = 0; i < more.size(); ++i) CHECK(holds_pattern(block_at(more[i], 8), 10 + i));
    CHECK(heap.check());
  }
  CHECK(misuse.reports().empty());
}

TEST_CASE_TEMPLATE("a free block fits an aligned request only with room for the gap and the block", A,
                   FirstFitAllocator, NextFitAllocator, BestFitAllocator, WorstFitAllocator) {
  constexpr std::size_t kAsked = 200;
  for (const std::size_t align : {std::size_t{64}, std::size_t{1024}}) {
    for (const bool room : {true, false}) {
      CAPTURE(align);
      CAPTURE(room);
      RegionHeap<A> t;
      auto& heap = t.heap;
      REQUIRE(heap.allocate(8) != nullptr);  // the victim starts 24 bytes in
      std::byte* const victim_start = heap.heap().begin() + block_size_for(8);
      const std::size_t gap = expected_gap(victim_start, align);
      REQUIRE(gap != 0);
      // Exactly the gap and the block, or one cell less.
      const std::size_t victim_size = gap + block_size_for(kAsked) - (room ? 0 : kBlockGranularity);
      void* const victim = heap.allocate(victim_size - kHeaderSize);
      REQUIRE(victim == victim_start + kHeaderSize);
      REQUIRE(heap.allocate(8) != nullptr);  // a spacer
      heap.deallocate(victim);
      const FreeListStats before = heap.stats();

      void* const p = heap.allocate(kAsked, align);
      REQUIRE(p != nullptr);
      CHECK(is_aligned(p, align));
      if (room) {
        CHECK(static_cast<std::byte*>(p) == victim_start + gap + kHeaderSize);
        CHECK(block_size(*header_at(victim_start)) == gap);  // the gap, free
        CHECK(block_size(*header(p)) == block_size_for(kAsked));  // no tail
        CHECK(heap.stats().used == before.used);
        CHECK(heap.stats().free_blocks == 1);
      } else {
        CHECK(static_cast<std::byte*>(p) >= victim_start + victim_size);  // carved at the break
        CHECK(block_size(*header_at(victim_start)) == victim_size);      // untouched
        CHECK_FALSE(is_allocated(*header_at(victim_start)));
        CHECK(heap.stats().used > before.used);
      }
      check_stats_against_walk(heap);
      CHECK(heap.check());
    }
  }
}

// ---- Measures ----------------------------------------------------------------

TEST_CASE("measure() of a fit allocator follows from the blocks it holds") {
  RegionHeap<FirstFitAllocator> t;
  auto& heap = t.heap;
  const std::vector<std::size_t> asked{40, 1000, 8, 200, 0};
  std::vector<void*> blocks;
  std::size_t used = 0;
  std::size_t peak = 0;
  for (const std::size_t size : asked) {
    blocks.push_back(heap.allocate(size));
    REQUIRE(blocks.back() != nullptr);
    used += block_size_for(size);
    peak += size;
  }
  heap.deallocate(blocks[1]);
  heap.deallocate(blocks[3]);  // list: the 200 block, then the 1000 block
  std::size_t allocated = block_size_for(40) + block_size_for(8) + block_size_for(0);
  std::size_t requested = 40 + 8 + 0;
  std::size_t free_bytes = block_size_for(1000) + block_size_for(200);
  const std::size_t largest = block_size_for(1000);

  Measures m = measure(heap);
  CHECK(heap.stats().used == used);
  CHECK(m.allocated_bytes == allocated);
  CHECK(m.internal_fragmentation == allocated - requested);
  CHECK(m.free_bytes == free_bytes);
  CHECK(m.largest_free_block == largest);
  CHECK(m.external_fragmentation ==
        doctest::Approx(1.0 - static_cast<double>(largest) / static_cast<double>(free_bytes)));
  CHECK(m.utilization == doctest::Approx(static_cast<double>(peak) / static_cast<double>(used)));
  CHECK(m.visited_per_allocation == 0.0);  // every search so far met an empty list

  // First fit splits the 200-byte block (the head): its remainder stays free.
  REQUIRE(heap.allocate(100) == blocks[3]);
  allocated += block_size_for(100);
  requested += 100;
  free_bytes -= block_size_for(100);
  m = measure(heap);
  CHECK(m.allocated_bytes == allocated);
  CHECK(m.internal_fragmentation == allocated - requested);
  CHECK(m.free_bytes == free_bytes);
  CHECK(m.largest_free_block == largest);
  CHECK(m.external_fragmentation ==
        doctest::Approx(1.0 - static_cast<double>(largest) / static_cast<double>(free_bytes)));
  CHECK(m.visited_per_allocation == doctest::Approx(1.0 / 6.0));

  // The remainder is 8 bytes too large for a 72-byte request: it goes whole,
  // and its 8 spare bytes are internal fragmentation.
  const std::size_t remainder = block_size_for(200) - block_size_for(100);
  REQUIRE(remainder == block_size_for(72) + 8);
  void* const kept = heap.allocate(72);
  REQUIRE(kept == static_cast<std::byte*>(blocks[3]) + block_size_for(100));
  allocated += remainder;
  requested += 72;
  free_bytes -= remainder;
  m = measure(heap);
  CHECK(m.allocated_bytes == allocated);
  CHECK(m.internal_fragmentation == allocated - requested);
  CHECK(m.free_bytes == free_bytes);
  CHECK(m.largest_free_block == free_bytes);  // one free block left
  CHECK(m.external_fragmentation == 0.0);
  CHECK(m.utilization == doctest::Approx(static_cast<double>(peak) / static_cast<double>(used)));
  CHECK(m.visited_per_allocation == doctest::Approx(2.0 / 7.0));
  CHECK(m.free_bytes == heap.stats().free_bytes);
  CHECK(m.allocated_bytes + m.free_bytes == heap.stats().used);
  CHECK(heap.check());
}

TEST_CASE("measure() of a bump allocator: one free block and no external fragmentation") {
  constexpr std::size_t kBytes = 4096;
  AlignedRegion region(kBytes, kRegionAlignment);
  BumpAllocator heap(region.bytes());
  REQUIRE(heap.allocate(13) != nullptr);
  REQUIRE(heap.allocate(100, 64) != nullptr);  // padded up to the next 64-byte boundary
  const std::size_t used = round_up(round_up(13, 8), 64) + round_up(100, 8);
  const std::size_t requested = 113;

  Measures m = measure(heap);
  CHECK(heap.stats().used == used);
  CHECK(m.allocated_bytes == used);
  CHECK(m.internal_fragmentation == used - requested);
  CHECK(m.free_bytes == kBytes - used);
  CHECK(m.largest_free_block == kBytes - used);
  CHECK(m.external_fragmentation == 0.0);
  CHECK(m.utilization == doctest::Approx(static_cast<double>(requested) / static_cast<double>(used)));
  CHECK(m.visited_per_allocation == 0.0);  // a bump allocator keeps no search count

  // Full: no free bytes at all, and still no external fragmentation.
  REQUIRE(heap.allocate(kBytes - used) != nullptr);
  m = measure(heap);
  CHECK(m.allocated_bytes == kBytes);
  CHECK(m.free_bytes == 0);
  CHECK(m.largest_free_block == 0);
  CHECK(m.external_fragmentation == 0.0);
  CHECK(m.internal_fragmentation == kBytes - (requested + kBytes - used));
}

// ---- Diagrams -------------------------------------------------------------------

static_assert(HasExplicitList<FitFreeList<FirstFit>> && HasExplicitList<FitFreeList<NextFit>>);
static_assert(!HasExplicitList<ExplicitFreeList>, "chapter 2's own overloads draw its list");

TEST_CASE_TEMPLATE("a fit allocator's heap is drawn with its links as chapter 2 draws the same heap", A,
                   FirstFitAllocator, NextFitAllocator, BestFitAllocator, WorstFitAllocator) {
  RegionHeap<A> fit;
  RegionHeap<ExplicitListAllocator> explicit_list;
  const auto two_free_neighbours = [](auto& heap) {
    void* const left = heap.allocate(16);   // the block at $000
    void* const right = heap.allocate(16);  // the block at $020
    REQUIRE(heap.allocate(16) != nullptr);
    heap.deallocate(left);
    heap.deallocate(right);
  };
  two_free_neighbours(fit.heap);
  two_free_neighbours(explicit_list.heap);
  CHECK(draw_free_list(fit.heap) == "free list: head -> $020 -> $000 -> null");
  const std::string picture = draw_blocks(fit.heap, 4);
  CHECK(picture.find("next $000") != std::string::npos);
  CHECK(picture.find("next null") != std::string::npos);
  CHECK(picture == draw_blocks(explicit_list.heap, 4));
}

// ---- The policy and the split as template arguments ---------------------------

TEST_CASE_TEMPLATE("a policy and a split plugged into FitAllocator are the ones it runs, and serve as the course's do",
                   P, FirstFit, NextFit, BestFit, WorstFit) {
  RegionHeap<FitAllocator<P>> course;
  RegionHeap<FitAllocator<CountedPolicy<P>, CountedSplit>> slot;
  const std::size_t cuts_before = CountedSplit::cuts;
  heaplab::testing::check_served_alike(course.heap, course.region.bytes(), slot.heap, slot.region.bytes(), 600);
  const FreeListStats stats = slot.heap.stats();
  CHECK(slot.heap.free_list().policy().chooses == stats.searches);
  // Every search that found a block was cut by the split given; the rest
  // were carved at the break.
  CHECK(CountedSplit::cuts - cuts_before > 0);
  CHECK(CountedSplit::cuts - cuts_before <= stats.searches);
  CHECK(stats.blocks_visited == course.heap.stats().blocks_visited);
}

TEST_CASE("a split that loses the tail is caught by check()") {
  RegionHeap<FitAllocator<FirstFit, LosesTheTail>> t;
  void* const big = t.heap.allocate(200);
  REQUIRE(t.heap.allocate(8) != nullptr);  // the spacer
  t.heap.deallocate(big);
  REQUIRE(t.heap.check());
  CHECK(t.heap.allocate(40) == big);  // cut from the 216-byte block: a 160-byte tail, lost
  const CheckResult result = t.heap.check();
  CHECK_FALSE(result);
  CHECK(result.failed_invariant == "the free list holds every free block");
}

TEST_CASE("a policy that ignores the alignment hands out a block the contract refuses") {
  RegionHeap<FitAllocator<IgnoresAlignment>> wrong;
  RegionHeap<FirstFitAllocator> course;
  const auto aligned_from_a_free_block = [](auto& heap) {
    void* const hole = heap.allocate(200);
    REQUIRE(heap.allocate(8) != nullptr);  // the spacer
    heap.deallocate(hole);
    return heap.allocate(32, 64);
  };
  // The hole's payload starts 16 bytes past a page: not 64-aligned, so the
  // block needs a front gap.
  CHECK(is_aligned(aligned_from_a_free_block(course.heap), 64));
  CHECK_FALSE(is_aligned(aligned_from_a_free_block(wrong.heap), 64));
}

}  // TEST_SUITE("stage3")
