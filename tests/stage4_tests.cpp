// Chapter 4's invariant suite: the four cases of coalescing, the prologue
// and epilogue, deferred coalescing, list orders, the chapter-3 policies
// over the new lists, segregated fits, footer elision, realloc in place,
// large blocks in mappings of their own, growth past the first region, the
// checker (each invariant broken on purpose), and misuse, beyond the
// shared contract.
//
// Heaps are built by hand on page-aligned regions: blocks are carved one
// after the other at the break (a fresh heap has no free block, so the
// n-th allocation starts where the (n-1)-th ended), and freed in a chosen
// order, so that every block offset, every merge and every list follows
// from what the test did. A region starts with its prologue (chapter 2's
// smallest block, 24 bytes), so the first block is at offset 24.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/misuse.hpp"
#include "stage2_free_list/block.hpp"
#include "stage4_coalescing/boundary_tags.hpp"
#include "stage4_coalescing/coalescing_allocator.hpp"
#include "stage4_coalescing/free_lists.hpp"
#include "tests/support/aligned_region.hpp"
#include "tests/support/block_walk.hpp"
#include "tests/support/blocks.hpp"
#include "tests/support/free_list_stats.hpp"
#include "tests/support/recording_handler.hpp"
#include "tests/support/test_chunk_source.hpp"

namespace {

using namespace heaplab;
using heaplab::testing::AlignedRegion;
using heaplab::testing::block_at;
using heaplab::testing::fill_pattern;
using heaplab::testing::holds_pattern;
using heaplab::testing::RecordingHandler;
using heaplab::testing::TestChunkSource;
using heaplab::testing::walk;

/// Bytes of the region most tests use.
constexpr std::size_t kRegionBytes = 64 * 1024;
/// Alignment of every test region: a page.
constexpr std::size_t kRegionAlignment = 4096;
/// Offset of the first block of a region: the prologue comes first.
constexpr std::size_t kFirstBlock = kMinBlockSize;
/// The request most hand-built heaps use.
constexpr std::size_t kRequest = 64;
constexpr std::size_t kKiB = 1024;
constexpr std::size_t kMiB = 1024 * 1024;

/// An allocator of type \p A over its own page-aligned region.
template <class A>
struct RegionHeap {
  explicit RegionHeap(std::size_t bytes = kRegionBytes, Upstream upstream = {})
      : region(bytes, kRegionAlignment), heap(region.bytes(), upstream) {}
  AlignedRegion region;  ///< The memory (declared first: it must outlive the allocator).
  A heap;                ///< The allocator under test.
};

/// Where footers are kept in \p A.
template <class A>
constexpr Footers kFootersOf = A::kConfig.footers;
/// True when \p A elides the footers of allocated blocks (and keeps P bits).
template <class A>
constexpr bool kElidedOf = kFootersOf<A> == Footers::free_blocks_only;

/// The block \p A hands out for \p request bytes.
template <class A>
constexpr std::size_t block_for(std::size_t request) {
  return tagged_block_size_for(request, kFootersOf<A>);
}
/// The request that gets a block of exactly \p size bytes (size >= 40) from \p A.
template <class A>
constexpr std::size_t request_for(std::size_t size) {
  return size - kHeaderSize - allocated_footer_bytes(kFootersOf<A>);
}

BlockHeader* header(void* payload) { return header_of(payload); }

/// Offset of \p p's block in \p heap's first region.
template <class A>
std::size_t offset_of_block(const A& heap, void* p) {
  return heap.first_region().offset_of(header(p));
}

/// The first region's blocks as text, "A88@24 F176@112 ...": state, size
/// and offset of each, the prologue left out. Mapped blocks and grown
/// regions are not shown.
template <class A>
std::string layout(const A& heap) {
  std::string text;
  for (const BlockView& view : walk(heap)) {
    if (view.region != 0) continue;
    if (!text.empty()) text += ' ';
    text += (view.state == BlockState::allocated ? 'A' : 'F') + std::to_string(view.size) + '@' +
            std::to_string(view.offset);
  }
  return text;
}

/// One block of an expected layout.
struct Expected {
  char state;  ///< 'A' or 'F'.
  std::size_t size;
};

/// The layout() text of blocks \p blocks, in order from the first block.
std::string expected_layout(const std::vector<Expected>& blocks) {
  std::string text;
  std::size_t offset = kFirstBlock;
  for (const Expected& block : blocks) {
    if (!text.empty()) text += ' ';
    text += block.state + std::to_string(block.size) + '@' + std::to_string(offset);
    offset += block.size;
  }
  return text;
}

/// Every free block on \p heap's lists: list by list (smallest class
/// first), each head first.
template <class A>
std::vector<const BlockHeader*> listed(const A& heap) {
  using Lists = std::remove_cvref_t<decltype(heap.free_lists())>;
  std::vector<const BlockHeader*> blocks;
  for (std::size_t i = 0; i < Lists::kLists; ++i) {
    heap.free_lists().list(i).for_each([&blocks](const BlockHeader& block) { blocks.push_back(&block); });
  }
  return blocks;
}

/// The index of the list that holds \p block, or kLists if none does.
template <class A>
std::size_t list_holding(const A& heap, const BlockHeader* block) {
  using Lists = std::remove_cvref_t<decltype(heap.free_lists())>;
  for (std::size_t i = 0; i < Lists::kLists; ++i) {
    bool found = false;
    heap.free_lists().list(i).for_each([&](const BlockHeader& b) { found = found || &b == block; });
    if (found) return i;
  }
  return Lists::kLists;
}

/// Carves \p count blocks for \p request bytes each, one after the other
/// at the break of a fresh heap.
template <class A>
std::vector<void*> carve(A& heap, std::size_t count, std::size_t request = kRequest) {
  std::vector<void*> blocks;
  for (std::size_t i = 0; i < count; ++i) {
    blocks.push_back(heap.allocate(request));
    REQUIRE(blocks.back() != nullptr);
    REQUIRE(offset_of_block(heap, blocks.back()) == kFirstBlock + i * block_for<A>(request));
  }
  return blocks;
}

/// Allocates the rest of the first region (up to the epilogue) as one
/// block, so that nothing can grow. Precondition: the last block is allocated.
template <class A>
void* fill_rest(A& heap) {
  const BlockHeap& region = heap.first_region();
  const auto room = static_cast<std::size_t>(region.end() - region.brk()) - kHeaderSize;  // the epilogue stays
  REQUIRE(room >= kMinTaggedBlockSize);
  void* const p = heap.allocate(request_for<A>(room));
  REQUIRE(p != nullptr);
  REQUIRE(static_cast<std::size_t>(region.end() - region.brk()) == kHeaderSize);
  return p;
}

/// The epilogue header of \p heap's first region.
template <class A>
BlockHeader& epilogue(const A& heap) {
  return *header_at(heap.first_region().brk());
}

/// Checks the tags of the free block \p block of \p size bytes by hand
/// (not through check()): its footer mirrors its header and, under footer
/// elision, the P bits around it say "allocated in front, free here".
template <class A>
void check_free_block_tags(BlockHeader* block, std::size_t size) {
  CHECK(block_size(*block) == size);
  CHECK_FALSE(is_allocated(*block));
  CHECK(footer_of(*block)->size_and_flags == block->size_and_flags);
  if constexpr (kElidedOf<A>) {
    CHECK(previous_allocated_bit(*block));  // immediate coalescing: the block in front is allocated
    CHECK_FALSE(previous_allocated_bit(*block_after(*block)));
  }
}

/// Checks that stats() agrees with a block walk: live allocations, free
/// blocks and bytes, mapped blocks, and every used byte accounted for.
template <class A>
void check_counts_against_walk(const A& heap) {
  const CoalescingStats s = heap.stats();
  heaplab::testing::check_stats_identities(s);
  std::size_t allocated = 0;
  std::size_t free_blocks = 0;
  std::size_t free_bytes = 0;
  std::size_t bytes = 0;
  std::size_t regions = 0;
  heap.for_each_region([&](const BlockHeap& region) {
    ++regions;
    bytes += region.used();
  });
  std::size_t mapped = 0;
  std::size_t mapped_bytes = 0;
  for (const BlockView& view : walk(heap)) {
    if (view.region >= regions) {
      ++mapped;
      mapped_bytes += view.size;
    } else if (view.state == BlockState::allocated) {
      ++allocated;
    } else {
      ++free_blocks;
      free_bytes += view.size;
    }
  }
  CHECK(s.regions == regions);
  CHECK(s.mapped_blocks == mapped);
  CHECK(s.mapped_bytes == mapped_bytes);
  CHECK(s.live_allocations == allocated + mapped);
  CHECK(s.free_blocks == free_blocks);
  CHECK(s.free_bytes == free_bytes);
  CHECK(s.used == bytes + mapped_bytes);
  CHECK(listed(heap).size() == free_blocks);
}

/// Checks that every number of \p after equals \p before's.
void check_same_coalescing_stats(const CoalescingStats& before, const CoalescingStats& after) {
  heaplab::testing::check_same_free_list_stats(before, after);
  CHECK(after.regions == before.regions);
  CHECK(after.mapped_blocks == before.mapped_blocks);
  CHECK(after.mapped_bytes == before.mapped_bytes);
  CHECK(after.merges == before.merges);
  CHECK(after.merge_passes == before.merge_passes);
}

/// A free list built by hand: blocks of the sizes asked, each followed by
/// an allocated spacer, freed so that the first block ends at the head.
struct HandBuiltList {
  std::vector<void*> blocks;   ///< Payloads, in list order (head first).
  std::vector<void*> spacers;  ///< spacers[i] follows blocks[i] in memory.
};

/// Builds a free list of blocks of \p block_sizes (tags included), head
/// first, on the fresh allocator \p heap. The blocks are carved tail
/// first, each followed by an allocated spacer (so nothing merges), and
/// freed tail first: a LIFO list then runs against address order, so a
/// policy that walked memory instead of the list would be caught.
template <class A>
HandBuiltList build_free_list(A& heap, const std::vector<std::size_t>& block_sizes) {
  HandBuiltList built{std::vector<void*>(block_sizes.size()), std::vector<void*>(block_sizes.size())};
  for (std::size_t i = block_sizes.size(); i-- > 0;) {
    built.blocks[i] = heap.allocate(request_for<A>(block_sizes[i]));
    REQUIRE(built.blocks[i] != nullptr);
    REQUIRE(block_size(*header(built.blocks[i])) == block_sizes[i]);
    built.spacers[i] = heap.allocate(0);
    REQUIRE(built.spacers[i] != nullptr);
  }
  for (std::size_t i = block_sizes.size(); i-- > 0;) heap.deallocate(built.blocks[i]);
  REQUIRE(heap.stats().merges == 0);
  return built;
}

/// Which block of a hand-built list a request got, and how many blocks
/// the search looked at.
struct Pick {
  std::size_t position = 0;  ///< Position on the list, head = 0 (the list size: elsewhere).
  std::size_t visited = 0;   ///< Blocks the search looked at.
};

/// What allocator \p A picks for kRequest bytes from a fresh free list of
/// blocks of \p block_sizes, head first.
template <class A>
Pick pick(const std::vector<std::size_t>& block_sizes) {
  RegionHeap<A> t;
  const HandBuiltList built = build_free_list(t.heap, block_sizes);
  const std::size_t visited_before = t.heap.stats().blocks_visited;
  void* const p = t.heap.allocate(kRequest);
  REQUIRE(p != nullptr);
  CHECK(t.heap.check());
  const auto found = std::find(built.blocks.begin(), built.blocks.end(), p);
  return {static_cast<std::size_t>(found - built.blocks.begin()), t.heap.stats().blocks_visited - visited_before};
}

// ---- Writing a free block's links by hand (the checker tests) -----------------
// A free block keeps its list links at the start of its payload, next
// then prev (the diagram of linked_free_list.hpp). The checker tests
// rewrite them to break a list on purpose, and restore them afterwards.

void set_next_link(BlockHeader* block, BlockHeader* next) { std::memcpy(payload_of(block), &next, sizeof next); }
void set_prev_link(BlockHeader* block, BlockHeader* prev) {
  std::memcpy(payload_of(block) + sizeof(BlockHeader*), &prev, sizeof prev);
}

/// Checks that \p result is a failure naming \p invariant at \p offset.
void check_fails(const CheckResult& result, std::string_view invariant, std::size_t offset) {
  CHECK_FALSE(result.ok());
  CHECK(result.failed_invariant == invariant);
  CHECK(result.offset == offset);
}

/// A source that records every chunk, with page-sized rounding as mmap does.
using PageSource = TestChunkSource;
constexpr std::size_t kPage = 4096;

}  // namespace

TYPE_TO_STRING_AS("CoalescingFirstFit", heaplab::CoalescingFirstFit);
TYPE_TO_STRING_AS("CoalescingNextFit", heaplab::CoalescingNextFit);
TYPE_TO_STRING_AS("CoalescingBestFit", heaplab::CoalescingBestFit);
TYPE_TO_STRING_AS("CoalescingWorstFit", heaplab::CoalescingWorstFit);
TYPE_TO_STRING_AS("AddressOrderedFirstFit", heaplab::AddressOrderedFirstFit);
TYPE_TO_STRING_AS("DeferredFirstFit", heaplab::DeferredFirstFit);
TYPE_TO_STRING_AS("ElidedFirstFit", heaplab::ElidedFirstFit);
TYPE_TO_STRING_AS("SegregatedFitAllocator", heaplab::SegregatedFitAllocator);

// Every configuration that merges on deallocate().
#define HEAPLAB_IMMEDIATE_CONFIGS                                                                  \
  heaplab::CoalescingFirstFit, heaplab::CoalescingNextFit, heaplab::CoalescingBestFit,             \
      heaplab::CoalescingWorstFit, heaplab::AddressOrderedFirstFit, heaplab::ElidedFirstFit,       \
      heaplab::SegregatedFitAllocator
// One configuration of each block layout: footers everywhere, footer
// elision, and segregated fits (which elides footers too).
#define HEAPLAB_LAYOUT_CONFIGS heaplab::CoalescingFirstFit, heaplab::ElidedFirstFit, heaplab::SegregatedFitAllocator

TEST_SUITE("stage4") {

// ---- The four cases of coalescing ----------------------------------------------

TEST_CASE_TEMPLATE("case 1: a block freed between two allocated blocks stays as it is", A,
                   HEAPLAB_IMMEDIATE_CONFIGS) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  const std::size_t s = block_for<A>(kRequest);
  const std::vector<void*> b = carve(heap, 5);  // [a][b][c][d][e]
  heap.deallocate(b[1]);
  CHECK(layout(heap) == expected_layout({{'A', s}, {'F', s}, {'A', s}, {'A', s}, {'A', s}}));
  CHECK(heap.stats().merges == 0);
  CHECK(listed(heap) == std::vector<const BlockHeader*>{header(b[1])});
  check_free_block_tags<A>(header(b[1]), s);
  check_counts_against_walk(heap);
  CHECK(heap.check());
}

TEST_CASE_TEMPLATE("case 2: a block freed in front of a free block absorbs it", A, HEAPLAB_IMMEDIATE_CONFIGS) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  const std::size_t s = block_for<A>(kRequest);
  const std::vector<void*> b = carve(heap, 5);
  fill_pattern(block_at(b[0], kRequest), 1);
  fill_pattern(block_at(b[3], kRequest), 4);
  heap.deallocate(b[2]);  // case 1
  heap.deallocate(b[1]);  // case 2: [a][b][c free][d]
  CHECK(layout(heap) == expected_layout({{'A', s}, {'F', 2 * s}, {'A', s}, {'A', s}}));
  CHECK(heap.stats().merges == 1);
  CHECK(heap.stats().free_blocks == 1);
  CHECK(listed(heap) == std::vector<const BlockHeader*>{header(b[1])});
  check_free_block_tags<A>(header(b[1]), 2 * s);
  CHECK_FALSE(heap.first_region().starts().is_start(block_start(header(b[2]))));  // c is no block any more
  CHECK(holds_pattern(block_at(b[0], kRequest), 1));
  CHECK(holds_pattern(block_at(b[3], kRequest), 4));
  check_counts_against_walk(heap);
  CHECK(heap.check());
}

TEST_CASE_TEMPLATE("case 3: a block freed after a free block is absorbed by it", A, HEAPLAB_IMMEDIATE_CONFIGS) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  const std::size_t s = block_for<A>(kRequest);
  const std::vector<void*> b = carve(heap, 5);
  fill_pattern(block_at(b[0], kRequest), 1);
  fill_pattern(block_at(b[3], kRequest), 4);
  heap.deallocate(b[1]);  // case 1
  heap.deallocate(b[2]);  // case 3: [a][b free][c][d]
  CHECK(layout(heap) == expected_layout({{'A', s}, {'F', 2 * s}, {'A', s}, {'A', s}}));
  CHECK(heap.stats().merges == 1);
  CHECK(listed(heap) == std::vector<const BlockHeader*>{header(b[1])});
  check_free_block_tags<A>(header(b[1]), 2 * s);
  CHECK_FALSE(heap.first_region().starts().is_start(block_start(header(b[2]))));
  CHECK(holds_pattern(block_at(b[0], kRequest), 1));
  CHECK(holds_pattern(block_at(b[3], kRequest), 4));
  check_counts_against_walk(heap);
  CHECK(heap.check());
}

TEST_CASE_TEMPLATE("case 4: a block freed between two free blocks joins both into one", A,
                   HEAPLAB_IMMEDIATE_CONFIGS) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  const std::size_t s = block_for<A>(kRequest);
  const std::vector<void*> b = carve(heap, 5);
  fill_pattern(block_at(b[0], kRequest), 1);
  fill_pattern(block_at(b[4], kRequest), 5);
  heap.deallocate(b[1]);
  heap.deallocate(b[3]);
  CHECK(heap.stats().free_blocks == 2);
  heap.deallocate(b[2]);  // case 4: [a][b free][c][d free][e]
  CHECK(layout(heap) == expected_layout({{'A', s}, {'F', 3 * s}, {'A', s}}));
  CHECK(heap.stats().merges == 2);
  CHECK(heap.stats().free_blocks == 1);
  CHECK(heap.stats().free_bytes == 3 * s);
  const std::vector<const BlockHeader*> expected{header(b[1])};
  CHECK(listed(heap) == expected);
  check_free_block_tags<A>(header(b[1]), 3 * s);
  CHECK(holds_pattern(block_at(b[0], kRequest), 1));
  CHECK(holds_pattern(block_at(b[4], kRequest), 5));
  check_counts_against_walk(heap);
  CHECK(heap.check());
  // The merged block serves a request of its whole size, where it is.
  CHECK(heap.allocate(request_for<A>(3 * s)) == b[1]);
  CHECK(heap.stats().free_blocks == 0);
  CHECK(heap.check());
}

TEST_CASE_TEMPLATE("the first and the last block are freed with no edge case", A, HEAPLAB_IMMEDIATE_CONFIGS) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  const std::size_t s = block_for<A>(kRequest);
  const std::vector<void*> b = carve(heap, 3);
  // The first block: the prologue in front is allocated, so nothing merges.
  heap.deallocate(b[0]);
  CHECK(layout(heap) == expected_layout({{'F', s}, {'A', s}, {'A', s}}));
  CHECK(heap.stats().merges == 0);
  check_free_block_tags<A>(header(b[0]), s);
  CHECK(heap.check());
  // The last block: the epilogue after it is allocated, so nothing merges.
  heap.deallocate(b[2]);
  CHECK(layout(heap) == expected_layout({{'F', s}, {'A', s}, {'F', s}}));
  CHECK(heap.stats().merges == 0);
  CHECK(next_in_memory(header(b[2])) == heap.first_region().brk());
  check_free_block_tags<A>(header(b[2]), s);
  CHECK(is_allocated(epilogue(heap)));
  CHECK(block_size(epilogue(heap)) == 0);
  if constexpr (kElidedOf<A>) CHECK_FALSE(previous_allocated_bit(epilogue(heap)));
  CHECK(heap.check());
  // The middle one joins both: one free block from the prologue to the epilogue.
  heap.deallocate(b[1]);
  CHECK(layout(heap) == expected_layout({{'F', 3 * s}}));
  CHECK(heap.stats().merges == 2);
  CHECK(heap.first_region().used() == kFirstBlock + 3 * s);  // the break never moves back
  check_counts_against_walk(heap);
  CHECK(heap.check());
  CHECK(heap.allocate(request_for<A>(3 * s)) == b[0]);
  CHECK(heap.check());
}

// ---- Deferred coalescing -------------------------------------------------------

TEST_CASE("deferred coalescing: free neighbours stay apart until an allocation fails and one pass merges them") {
  using A = DeferredFirstFit;
  RegionHeap<A> t;
  auto& heap = t.heap;
  const std::size_t s = block_for<A>(kRequest);
  const std::vector<void*> b = carve(heap, 5);
  void* const rest = fill_rest(heap);
  const std::size_t rest_size = block_size(*header(rest));
  heap.deallocate(b[1]);
  heap.deallocate(b[2]);
  heap.deallocate(b[3]);
  CHECK(layout(heap) ==
        expected_layout({{'A', s}, {'F', s}, {'F', s}, {'F', s}, {'A', s}, {'A', rest_size}}));
  CHECK(heap.stats().merges == 0);
  CHECK(heap.stats().free_blocks == 3);
  CHECK(heap.check());  // adjacent free blocks are no fault here
  const std::size_t passes = heap.stats().merge_passes;

  // A request one of them fits is served without a pass (LIFO: the last freed).
  void* const small = heap.allocate(kRequest);
  CHECK(small == b[3]);
  CHECK(heap.stats().merge_passes == passes);
  heap.deallocate(small);
  CHECK(heap.stats().merges == 0);
  CHECK(heap.stats().free_blocks == 3);

  // Three blocks' worth: no free block fits, so one pass merges the run
  // (before the heap would grow, which it cannot here) and the request is
  // served from the merged block.
  const CoalescingStats before = heap.stats();
  void* const big = heap.allocate(request_for<A>(3 * s));
  CHECK(big == b[1]);
  const CoalescingStats after = heap.stats();
  CHECK(after.merge_passes == before.merge_passes + 1);
  CHECK(after.merges == before.merges + 2);
  CHECK(after.exhausted == before.exhausted);
  CHECK(layout(heap) == expected_layout({{'A', s}, {'A', 3 * s}, {'A', s}, {'A', rest_size}}));
  CHECK(heap.stats().free_blocks == 0);
  check_counts_against_walk(heap);
  CHECK(heap.check());

  // A pass that still finds no room refuses the request and leaves the heap sound.
  heap.deallocate(b[0]);
  heap.deallocate(big);  // [a free][big free]: still apart
  CHECK(heap.stats().free_blocks == 2);
  CHECK(heap.allocate(request_for<A>(5 * s)) == nullptr);
  CHECK(heap.stats().merge_passes == before.merge_passes + 2);
  CHECK(heap.stats().exhausted == before.exhausted + 1);
  CHECK(layout(heap) == expected_layout({{'F', 4 * s}, {'A', s}, {'A', rest_size}}));
  CHECK(heap.check());
}

// ---- List orders ---------------------------------------------------------------

TEST_CASE("address order: the list stays sorted however blocks are freed and merged") {
  using A = AddressOrderedFirstFit;
  RegionHeap<A> t;
  auto& heap = t.heap;
  std::vector<void*> blocks;
  std::vector<void*> spacers;
  for (std::size_t i = 0; i < 5; ++i) {
    blocks.push_back(heap.allocate(kRequest));
    spacers.push_back(heap.allocate(kRequest));
    REQUIRE((blocks.back() && spacers.back()));
  }
  for (const std::size_t i : {3, 0, 4, 1, 2}) heap.deallocate(blocks[i]);
  std::vector<const BlockHeader*> expected;
  for (void* p : blocks) expected.push_back(header(p));
  CHECK(listed(heap) == expected);
  CHECK(heap.check());
  // A merge (case 4: blocks 1, its spacer and 2) keeps the list sorted.
  heap.deallocate(spacers[1]);
  expected = {header(blocks[0]), header(blocks[1]), header(blocks[3]), header(blocks[4])};
  CHECK(listed(heap) == expected);
  CHECK(heap.stats().merges == 2);
  // First fit over an address-ordered list takes the lowest block that fits;
  // the tail of a split goes back in its place.
  const std::size_t s = block_for<A>(kRequest);
  void* const p = heap.allocate(request_for<A>(2 * s));
  CHECK(p == blocks[1]);
  expected = {header(blocks[0]), header_at(block_start(header(blocks[1])) + 2 * s), header(blocks[3]),
              header(blocks[4])};
  CHECK(listed(heap) == expected);
  CHECK(heap.check());
}

TEST_CASE("LIFO: the last block freed is the head of the list") {
  using A = CoalescingFirstFit;
  RegionHeap<A> t;
  auto& heap = t.heap;
  std::vector<void*> blocks;
  for (std::size_t i = 0; i < 4; ++i) {
    blocks.push_back(heap.allocate(kRequest));
    REQUIRE(blocks.back() != nullptr);
    REQUIRE(heap.allocate(kRequest) != nullptr);  // a spacer
  }
  for (const std::size_t i : {2, 0, 3, 1}) {
    heap.deallocate(blocks[i]);
    CHECK(heap.free_lists().list(0).head() == header(blocks[i]));
  }
  const std::vector<const BlockHeader*> expected{header(blocks[1]), header(blocks[3]), header(blocks[0]),
                                                 header(blocks[2])};
  CHECK(listed(heap) == expected);
  // A merged block goes to the head too.
  heap.deallocate(static_cast<std::byte*>(blocks[2]) + block_for<A>(kRequest));  // the spacer after block 2
  CHECK(heap.free_lists().list(0).head() == header(blocks[2]));
  CHECK(heap.check());
}

// ---- The policies of chapter 3 over chapter 4's list ---------------------------

TEST_CASE("each chapter-3 policy picks its own block from the same list") {
  using Everywhere = CoalescingFirstFit;
  REQUIRE(block_for<Everywhere>(kRequest) == 88);
  // Head first: too small, fits with a tail, fits with a tail too small to
  // split (32 < 40), exact fit, the largest.
  const std::vector<std::size_t> list{72, 256, 120, 88, 456};
  const auto check_pick = [](Pick got, std::size_t position, std::size_t visited) {
    CHECK(got.position == position);
    CHECK(got.visited == visited);
  };
  check_pick(pick<CoalescingFirstFit>(list), 1, 2);  // the first that fits
  check_pick(pick<CoalescingNextFit>(list), 1, 2);   // a fresh rover starts at the head
  check_pick(pick<CoalescingBestFit>(list), 3, 4);   // the exact fit, and the search stops there
  check_pick(pick<CoalescingWorstFit>(list), 4, 5);  // the largest; every block looked at
}

TEST_CASE_TEMPLATE("a chosen block is split when its tail can be a tagged block and kept whole otherwise", A,
                   HEAPLAB_LAYOUT_CONFIGS) {
  const std::size_t needed = block_for<A>(kRequest);
  // Tails of 40 (the smallest tagged block: split) and 32 (kept).
  for (const std::size_t tail : {kMinTaggedBlockSize, kMinTaggedBlockSize - kBlockGranularity}) {
    CAPTURE(tail);
    RegionHeap<A> t;
    auto& heap = t.heap;
    void* const victim = heap.allocate(request_for<A>(needed + tail));
    REQUIRE(heap.allocate(0) != nullptr);  // a spacer
    heap.deallocate(victim);
    void* const p = heap.allocate(kRequest);
    REQUIRE(p == victim);
    const bool split = tail >= kMinTaggedBlockSize;
    CHECK(block_size(*header(p)) == (split ? needed : needed + tail));
    CHECK(heap.stats().free_blocks == (split ? 1U : 0U));
    if (split) check_free_block_tags<A>(header_at(block_start(header(p)) + needed), tail);
    CHECK(heap.check());
  }
}

TEST_CASE("next fit: the rover survives a merge that takes its block off the list") {
  using A = CoalescingNextFit;
  RegionHeap<A> t;
  auto& heap = t.heap;
  // h and r are too small for kRequest; c fits exactly; t fits with a tail.
  const HandBuiltList built = build_free_list(heap, {72, 72, 88, 136});
  void* const h = built.blocks[0];
  void* const r = built.blocks[1];
  void* const c = built.blocks[2];
  void* const tl = built.blocks[3];
  REQUIRE(heap.allocate(kRequest) == c);
  REQUIRE(heap.free_lists().policy(0).rover() == header(r));  // the search stopped after r
  // Memory: [t][sp][c][sp][r][sp][h][sp]. Freeing c's spacer is case 2: the
  // spacer absorbs r, the rover's block, which leaves the list.
  heap.deallocate(built.spacers[2]);
  CHECK(heap.stats().merges == 1);
  CHECK(heap.free_lists().policy(0).rover() == header(h));  // stepped back to the block before r
  CHECK(heap.check());                                      // includes: the rover is on its list
  const std::vector<const BlockHeader*> expected{header(built.spacers[2]), header(h), header(tl)};
  CHECK(listed(heap) == expected);
  // The next search starts after the rover: it passes over the merged block
  // at the head (which first fit would take) and takes t.
  const std::size_t visited = heap.stats().blocks_visited;
  CHECK(heap.allocate(kRequest) == tl);
  CHECK(heap.stats().blocks_visited - visited == 1);
  CHECK(heap.check());
}

// ---- Segregated fits -----------------------------------------------------------

TEST_CASE("segregated fits: each free block is on the list of its size class") {
  using A = SegregatedFitAllocator;
  RegionHeap<A> t;
  auto& heap = t.heap;
  const std::vector<std::size_t> sizes{48, 96, 256, 600, 2000};
  const HandBuiltList built = build_free_list(heap, sizes);
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    CAPTURE(sizes[i]);
    const std::size_t index = SizeClasses::of(sizes[i]);
    CHECK(list_holding(heap, header(built.blocks[i])) == index);
    CHECK(heap.free_lists().list(index).head() == header(built.blocks[i]));
    CHECK(heap.free_lists().list(index).tally().blocks == 1);
  }
  CHECK(SizeClasses::of(48) == 1);
  CHECK(SizeClasses::of(504) == SizeClasses::kExactClasses - 1);
  CHECK(SizeClasses::of(600) == SizeClasses::of(1016));  // one class per power of two from 512 up
  CHECK(SizeClasses::of(1024) == SizeClasses::of(600) + 1);
  CHECK(heap.check());
  // A merge moves the block to the class of its new size. Memory runs
  // [2000][sp][600][sp][256][sp][96][sp][48][sp]: freeing the spacer after
  // the 96-byte block is case 4, 96 + 40 + 48 = 184 bytes.
  heap.deallocate(built.spacers[1]);
  CHECK(list_holding(heap, header(built.blocks[1])) == SizeClasses::of(184));
  CHECK(heap.free_lists().list(SizeClasses::of(96)).empty());
  CHECK(heap.free_lists().list(SizeClasses::of(48)).empty());
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
  REQUIRE(SizeClasses::of(704) == SizeClasses::of(600));
  visited = heap.stats().blocks_visited;
  CHECK(heap.allocate(request_for<A>(704)) == built.blocks[4]);
  CHECK(heap.stats().blocks_visited - visited == 2);
  CHECK(list_holding(heap, header_at(block_start(header(built.blocks[4])) + 704)) == SizeClasses::of(1296));
  CHECK(heap.check());
}

// ---- Footer elision ------------------------------------------------------------

TEST_CASE("footer elision: an allocated block holds 8 bytes more than with footers everywhere") {
  RegionHeap<CoalescingFirstFit> everywhere;
  RegionHeap<ElidedFirstFit> elided;
  // The same request: an 8-byte smaller block.
  CHECK(block_for<CoalescingFirstFit>(kRequest) == 88);
  CHECK(block_for<ElidedFirstFit>(kRequest) == 80);
  // The same 88-byte block: 64 bytes of payload with a footer, 72 without.
  void* const with_footer = everywhere.heap.allocate(64);
  void* const without = elided.heap.allocate(72);
  REQUIRE((with_footer && without));
  CHECK(block_size(*header(with_footer)) == 88);
  CHECK(block_size(*header(without)) == 88);
  CHECK(tagged_payload_capacity(*header(without), Footers::free_blocks_only) ==
        tagged_payload_capacity(*header(with_footer), Footers::everywhere) + 8);
  CHECK(everywhere.heap.stats().header_bytes == kHeaderSize + kFooterSize);
  CHECK(elided.heap.stats().header_bytes == kHeaderSize);
  CHECK(everywhere.heap.stats().payload_bytes == 64);
  CHECK(elided.heap.stats().payload_bytes == 72);
  // The elided block's last 8 bytes are the caller's: filling them breaks nothing.
  void* const next = elided.heap.allocate(8);
  REQUIRE(next != nullptr);
  fill_pattern(block_at(next, 8), 2);
  fill_pattern(block_at(without, 72), 1);
  CHECK(holds_pattern(block_at(next, 8), 2));
  CHECK(elided.heap.check());
  // Growing to 72 bytes stays in place only where the footer is elided.
  REQUIRE(everywhere.heap.allocate(8) != nullptr);
  CHECK(elided.heap.reallocate(without, 72) == without);
  CHECK(everywhere.heap.reallocate(with_footer, 72) != with_footer);
  CHECK(everywhere.heap.check());
}

TEST_CASE_TEMPLATE("footer elision: the P bits follow the state of the block in front", A,
                   heaplab::ElidedFirstFit, heaplab::SegregatedFitAllocator) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  const std::vector<void*> b = carve(heap, 3);
  for (void* p : b) CHECK(previous_allocated_bit(*header(p)));  // the prologue, then allocated blocks
  CHECK(previous_allocated_bit(epilogue(heap)));
  heap.deallocate(b[1]);
  CHECK(previous_allocated_bit(*header(b[1])));
  CHECK_FALSE(previous_allocated_bit(*header(b[2])));
  CHECK(footer_of(*header(b[1]))->size_and_flags == header(b[1])->size_and_flags);
  CHECK(heap.check());
  heap.deallocate(b[0]);  // case 2
  CHECK(previous_allocated_bit(*header(b[0])));  // the prologue
  CHECK_FALSE(previous_allocated_bit(*header(b[2])));
  heap.deallocate(b[2]);  // case 3: the whole heap is one free block
  CHECK_FALSE(previous_allocated_bit(epilogue(heap)));
  CHECK(heap.check());
  // Allocated again (whole): the epilogue's P bit follows.
  void* const p = heap.allocate(request_for<A>(3 * block_for<A>(kRequest)));
  CHECK(p == b[0]);
  CHECK(previous_allocated_bit(epilogue(heap)));
  CHECK(heap.check());
}

// ---- Realloc in place ----------------------------------------------------------

TEST_CASE_TEMPLATE("realloc shrinks in place: the tail is split off and merged with a free next block", A,
                   HEAPLAB_LAYOUT_CONFIGS) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  void* const p = heap.allocate(400);
  void* const r = heap.allocate(200);
  void* const q = heap.allocate(8);
  REQUIRE((p && r && q));
  fill_pattern(block_at(p, 400), 1);
  const std::size_t big = block_for<A>(400);
  const std::size_t small = block_for<A>(100);
  // An allocated block after: the tail becomes a free block of its own.
  CHECK(heap.reallocate(p, 100) == p);
  CHECK(holds_pattern(block_at(p, 100), 1));
  CHECK(layout(heap) == expected_layout({{'A', small},
                                         {'F', big - small},
                                         {'A', block_for<A>(200)},
                                         {'A', block_for<A>(8)}}));
  CHECK(heap.stats().requested == 100 + 200 + 8);
  CHECK(heap.check());
  // Shrunk further with a free block after: the tail merges with it.
  fill_pattern(block_at(p, 100), 1);
  CHECK(heap.reallocate(p, 0) == p);
  const std::size_t least = block_for<A>(0);
  CHECK(layout(heap) == expected_layout({{'A', least},
                                         {'F', big - least},
                                         {'A', block_for<A>(200)},
                                         {'A', block_for<A>(8)}}));
  CHECK(heap.stats().merges == 1);
  CHECK(heap.stats().free_blocks == 1);
  check_counts_against_walk(heap);
  CHECK(heap.check());
}

TEST_CASE_TEMPLATE("realloc grows in place into a free next block and at the end of the region", A,
                   HEAPLAB_LAYOUT_CONFIGS) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  void* const p = heap.allocate(100);
  void* const r = heap.allocate(400);
  void* const q = heap.allocate(8);
  REQUIRE((p && r && q));
  heap.deallocate(r);
  fill_pattern(block_at(p, 100), 1);
  const std::size_t span = block_for<A>(100) + block_for<A>(400);
  // Into the free next block: what the block does not need stays free.
  CHECK(heap.reallocate(p, 300) == p);
  CHECK(holds_pattern(block_at(p, 100), 1));
  CHECK(layout(heap) == expected_layout({{'A', block_for<A>(300)},
                                         {'F', span - block_for<A>(300)},
                                         {'A', block_for<A>(8)}}));
  CHECK(heap.check());
  // All of it, and a few bytes of tail too small to split stay with the block.
  fill_pattern(block_at(p, 300), 1);
  CHECK(heap.reallocate(p, request_for<A>(span) - 8) == p);
  CHECK(layout(heap) == expected_layout({{'A', span}, {'A', block_for<A>(8)}}));
  CHECK(holds_pattern(block_at(p, 300), 1));
  CHECK(heap.check());

  // At the end of the region: the break moves, the block stays.
  fill_pattern(block_at(q, 8), 2);
  const std::size_t used = heap.first_region().used();
  CHECK(heap.reallocate(q, 5000) == q);
  CHECK(heap.first_region().used() == used - block_for<A>(8) + block_for<A>(5000));
  CHECK(next_in_memory(header(q)) == heap.first_region().brk());
  CHECK(holds_pattern(block_at(q, 8), 2));
  CHECK(heap.stats().free_blocks == 0);
  check_counts_against_walk(heap);
  CHECK(heap.check());
}

TEST_CASE_TEMPLATE("realloc grows the last block through a free block after it and the break", A,
                   HEAPLAB_LAYOUT_CONFIGS) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  void* const p = heap.allocate(100);
  void* const r = heap.allocate(400);
  REQUIRE((p && r));
  heap.deallocate(r);  // the last block is free
  fill_pattern(block_at(p, 100), 1);
  CHECK(heap.reallocate(p, 3000) == p);
  CHECK(layout(heap) == expected_layout({{'A', block_for<A>(3000)}}));
  CHECK(heap.first_region().brk() == next_in_memory(header(p)));
  CHECK(holds_pattern(block_at(p, 100), 1));
  if constexpr (kElidedOf<A>) CHECK(previous_allocated_bit(epilogue(heap)));
  check_counts_against_walk(heap);
  CHECK(heap.check());
}

TEST_CASE_TEMPLATE("realloc moves a block that cannot grow in place and frees the old one", A,
                   HEAPLAB_LAYOUT_CONFIGS) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  void* const p = heap.allocate(100);
  void* const q = heap.allocate(8);  // allocated: p cannot grow into it
  REQUIRE((p && q));
  fill_pattern(block_at(p, 100), 1);
  void* const moved = heap.reallocate(p, 1000);
  REQUIRE(moved != nullptr);
  CHECK(moved != p);
  CHECK(holds_pattern(block_at(moved, 100), 1));
  CHECK_FALSE(is_allocated(*header(p)));  // the old block is free (and on a list)
  CHECK(list_holding(heap, header(p)) < std::remove_cvref_t<decltype(heap.free_lists())>::kLists);
  CHECK(heap.stats().live_allocations == 2);
  CHECK(heap.stats().requested == 1000 + 8);
  check_counts_against_walk(heap);
  CHECK(heap.check());
}

TEST_CASE_TEMPLATE("realloc with an alignment grows an aligned block in place and moves a misaligned one", A,
                   HEAPLAB_LAYOUT_CONFIGS) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  void* const aligned = heap.allocate(96, kMallocAlignment);
  REQUIRE(aligned != nullptr);
  fill_pattern(block_at(aligned, 96), 1);
  // The free rest of the region follows it: it grows in place, as malloc's
  // realloc would, because its payload already has the alignment.
  CHECK(heap.reallocate(aligned, 400, kMallocAlignment) == aligned);
  CHECK(holds_pattern(block_at(aligned, 96), 1));
  // A block whose payload is 8 past a 16-byte boundary moves to one that is not.
  void* misaligned = nullptr;
  for (int tries = 0; tries < 4 && misaligned == nullptr; ++tries) {
    void* const p = heap.allocate(24);
    REQUIRE(p != nullptr);
    if (!is_aligned(p, kMallocAlignment)) misaligned = p;
  }
  REQUIRE(misaligned != nullptr);
  fill_pattern(block_at(misaligned, 24), 2);
  void* const moved = heap.reallocate(misaligned, 24, kMallocAlignment);
  REQUIRE(moved != nullptr);
  CHECK(moved != misaligned);
  CHECK(is_aligned(moved, kMallocAlignment));
  CHECK(holds_pattern(block_at(moved, 24), 2));
  CHECK_FALSE(is_allocated(*header(misaligned)));
  check_counts_against_walk(heap);
  CHECK(heap.check());
}

TEST_CASE_TEMPLATE("a realloc that fails leaves the block intact", A, HEAPLAB_LAYOUT_CONFIGS) {
  RecordingHandler misuse;
  RegionHeap<A> t;
  auto& heap = t.heap;
  void* const p = heap.allocate(100);
  void* const r = heap.allocate(200);
  void* const q = heap.allocate(8);
  REQUIRE((p && r && q));
  (void)fill_rest(heap);
  heap.deallocate(r);  // a free block after p, but not enough
  fill_pattern(block_at(p, 100), 1);
  const std::string before_layout = layout(heap);
  const CoalescingStats before = heap.stats();
  CHECK(heap.reallocate(p, 4000) == nullptr);
  const CoalescingStats after = heap.stats();
  heaplab::testing::check_same_live_state(before, after);
  CHECK(after.exhausted == before.exhausted + 1);
  CHECK(after.free_blocks == before.free_blocks);
  CHECK(after.free_bytes == before.free_bytes);
  CHECK(layout(heap) == before_layout);
  CHECK(holds_pattern(block_at(p, 100), 1));
  CHECK(header(p)->requested == 100);
  CHECK(heap.check());
  heap.deallocate(p);  // still the caller's
  CHECK(misuse.reports().empty());
  CHECK(heap.check());
}

// ---- Large blocks --------------------------------------------------------------

TEST_CASE_TEMPLATE("a large request gets a mapping of its own and freeing it gives the mapping back", A,
                   HEAPLAB_LAYOUT_CONFIGS) {
  PageSource source(kMaxRequest, kPage);
  {
    RegionHeap<A> t(4 * kRegionBytes, Upstream{.source = &source, .mmap_threshold = 64 * kKiB});
    auto& heap = t.heap;
    void* const small = heap.allocate(64 * kKiB - 1);  // just below the threshold: a heap block
    REQUIRE(small != nullptr);
    CHECK(heap.stats().mapped_blocks == 0);
    CHECK(heap.first_region().contains(small));
    const std::size_t used_in_region = heap.first_region().used();

    void* const p = heap.allocate(100 * kKiB);
    REQUIRE(p != nullptr);
    CHECK(source.acquires() == 1);
    CoalescingStats s = heap.stats();
    CHECK(s.mapped_blocks == 1);
    CHECK(s.mapped_bytes == source.outstanding());
    CHECK(s.mapped_bytes >= 100 * kKiB);
    CHECK(s.mapped_bytes % kPage == 0);
    CHECK(s.live_allocations == 2);
    CHECK(s.requested == 64 * kKiB - 1 + 100 * kKiB);
    CHECK(heap.first_region().used() == used_in_region);  // the heap did not move
    CHECK_FALSE(heap.first_region().contains(p));
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

TEST_CASE_TEMPLATE("realloc of a mapped block: in place within its pages and moved beyond them", A,
                   HEAPLAB_LAYOUT_CONFIGS) {
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
  CHECK(heap.first_region().contains(in_heap));
  CHECK(holds_pattern(block_at(in_heap, 1000), 1));
  CHECK(heap.stats().mapped_blocks == 0);
  CHECK(source.outstanding() == 0);
  // And a heap block that grows past the threshold moves into a mapping.
  void* const mapped_again = heap.reallocate(in_heap, 80 * kKiB);
  REQUIRE(mapped_again != nullptr);
  CHECK_FALSE(heap.first_region().contains(mapped_again));
  CHECK(heap.stats().mapped_blocks == 1);
  CHECK(holds_pattern(block_at(mapped_again, 1000), 1));
  CHECK_FALSE(is_allocated(*header(in_heap)));
  check_counts_against_walk(heap);
  CHECK(heap.check());
  heap.deallocate(mapped_again);
  CHECK(source.outstanding() == 0);
  CHECK(source.bad_releases() == 0);
}

TEST_CASE("a 16-aligned large request has all its bytes, wherever the page boundary falls") {
  // The record and header in front of a mapped payload are 56 bytes, a
  // multiple of 8 but not of 16: a 16-aligned payload starts 8 bytes
  // later, and the mapping must have room for that shift too, or a size
  // that ends right on a page boundary is left 8 bytes short.
  PageSource source(kMaxRequest, kPage);
  RegionHeap<QuickFitAllocator> t(kRegionBytes, Upstream{.source = &source, .mmap_threshold = 64 * kKiB});
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
  RegionHeap<CoalescingFirstFit> t(kRegionBytes, Upstream{.source = &source, .mmap_threshold = 64 * kKiB});
  auto& heap = t.heap;
  REQUIRE(heap.allocate(100) != nullptr);
  const CoalescingStats before = heap.stats();
  CHECK(heap.allocate(100 * kKiB) == nullptr);
  const CoalescingStats after = heap.stats();
  heaplab::testing::check_same_live_state(before, after);
  CHECK(after.exhausted == before.exhausted + 1);
  CHECK(after.mapped_blocks == 0);
  CHECK(source.outstanding() == 0);
  CHECK(heap.check());
}

// ---- Growth past the first region ----------------------------------------------

TEST_CASE_TEMPLATE("the heap grows past a first region of 10 MiB and keeps every byte", A,
                   heaplab::CoalescingFirstFit, heaplab::SegregatedFitAllocator) {
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
    const CoalescingStats s = heap.stats();
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
                   heaplab::CoalescingFirstFit, heaplab::SegregatedFitAllocator) {
  RegionHeap<A> t(10 * kMiB);
  auto& heap = t.heap;
  std::vector<void*> blocks;
  void* refused = nullptr;
  for (std::size_t i = 0; i < 14; ++i) {
    const CoalescingStats before = heap.stats();
    const std::string before_layout = layout(heap);
    void* const p = heap.allocate(kMiB);
    if (p == nullptr) {
      const CoalescingStats after = heap.stats();
      heaplab::testing::check_same_live_state(before, after);
      CHECK(after.exhausted == before.exhausted + 1);
      CHECK(after.regions == 1);
      CHECK(layout(heap) == before_layout);
      refused = heap.allocate(kMiB);  // refused again, just the same
      break;
    }
    std::memset(p, static_cast<int>(i + 1), kMiB);
    blocks.push_back(p);
  }
  CHECK(refused == nullptr);
  CHECK(blocks.size() < 10);
  CHECK(blocks.size() >= 9);  // the region's 10 MiB, less its start map, holds nine
  CHECK(heap.check());
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    CHECK(static_cast<unsigned char*>(blocks[i])[kMiB - 1] == static_cast<unsigned char>(i + 1));
  }
}

// ---- check() catches corruption --------------------------------------------------
// Each test breaks one invariant by hand, checks that check() names it, and
// restores the heap (check() passes again: the corruption was the only fault).
//
// Not reached from here: "the mapped blocks are accounted for" (it needs the
// allocator's private mapping list or counters), the tally and bitmap
// invariants of the lists (private), and "the free list ends (no cycle)"
// (a cycle whose prev links agree cannot be made by rewriting links alone
// without first failing "each prev link names the block before").

TEST_CASE_TEMPLATE("check() reports two adjacent free blocks under immediate coalescing", A,
                   heaplab::CoalescingFirstFit, heaplab::ElidedFirstFit) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  const std::vector<void*> b = carve(heap, 3);
  heap.deallocate(b[0]);
  BlockHeader& middle = *header(b[1]);
  const BlockHeader saved = middle;
  // b looks free (header and footer agree), next to the free a.
  mark_free(middle);
  write_footer(middle);
  check_fails(heap.check(), "no two free blocks are adjacent (immediate coalescing)",
              offset_of_block(heap, b[1]));
  middle = saved;
  if constexpr (!kElidedOf<A>) write_footer(middle);
  CHECK(heap.check());
}

TEST_CASE("check() allows adjacent free blocks under deferred coalescing") {
  RegionHeap<DeferredFirstFit> t;
  const std::vector<void*> b = carve(t.heap, 3);
  t.heap.deallocate(b[0]);
  t.heap.deallocate(b[1]);
  CHECK(t.heap.stats().free_blocks == 2);
  CHECK(t.heap.check());
}

TEST_CASE_TEMPLATE("check() reports a footer that differs from its header", A, HEAPLAB_LAYOUT_CONFIGS) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  const std::vector<void*> b = carve(heap, 3);
  // Footers everywhere: an allocated block's. Elision: a free block's, the only kind kept.
  if constexpr (kElidedOf<A>) heap.deallocate(b[1]);
  BlockFooter& footer = *footer_of(*header(b[1]));
  const BlockFooter saved = footer;
  footer.size_and_flags += kBlockGranularity;
  check_fails(heap.check(), "the footer equals the header", offset_of_block(heap, b[1]));
  footer = saved;
  CHECK(heap.check());
}

TEST_CASE_TEMPLATE("check() reports a P bit that disagrees with the block in front", A, heaplab::ElidedFirstFit,
                   heaplab::SegregatedFitAllocator) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  const std::vector<void*> b = carve(heap, 3);
  // An allocated block says its allocated neighbour in front is free.
  set_previous_allocated_bit(*header(b[2]), false);
  check_fails(heap.check(), "the P bit says whether the previous block is allocated", offset_of_block(heap, b[2]));
  set_previous_allocated_bit(*header(b[2]), true);
  CHECK(heap.check());
  // A free block's neighbour says "allocated" (its footer would then be skipped).
  heap.deallocate(b[1]);
  set_previous_allocated_bit(*header(b[2]), true);
  check_fails(heap.check(), "the P bit says whether the previous block is allocated", offset_of_block(heap, b[2]));
  set_previous_allocated_bit(*header(b[2]), false);
  CHECK(heap.check());
  // The epilogue's P bit counts too.
  set_previous_allocated_bit(epilogue(heap), false);
  check_fails(heap.check(), "the P bit says whether the previous block is allocated",
              heap.first_region().used());
  set_previous_allocated_bit(epilogue(heap), true);
  CHECK(heap.check());
}

TEST_CASE("check() reports an address-ordered list that is out of order") {
  RegionHeap<AddressOrderedFirstFit> t;
  auto& heap = t.heap;
  const HandBuiltList built = build_free_list(heap, {88, 88, 88});
  // Address order: the blocks were carved tail first, so the list runs
  // blocks[2], blocks[1], blocks[0].
  BlockHeader* const low = header(built.blocks[2]);
  BlockHeader* const mid = header(built.blocks[1]);
  BlockHeader* const high = header(built.blocks[0]);
  REQUIRE(listed(heap) == std::vector<const BlockHeader*>{low, mid, high});
  CHECK(heap.check());
  // low -> high -> mid, with prev links that agree: only the order is wrong.
  set_next_link(low, high);
  set_prev_link(high, low);
  set_next_link(high, mid);
  set_prev_link(mid, high);
  set_next_link(mid, nullptr);
  check_fails(heap.check(), "an address-ordered list is sorted by address", 0);
  set_next_link(low, mid);
  set_prev_link(mid, low);
  set_next_link(mid, high);
  set_prev_link(high, mid);
  set_next_link(high, nullptr);
  CHECK(heap.check());
}

TEST_CASE("check() reports a prev link that does not name the block before") {
  RegionHeap<CoalescingFirstFit> t;
  auto& heap = t.heap;
  const HandBuiltList built = build_free_list(heap, {88, 88});
  BlockHeader* const second = header(built.blocks[1]);
  REQUIRE(LinkedFreeList::prev(*second) == header(built.blocks[0]));
  set_prev_link(second, nullptr);
  check_fails(heap.check(), "each prev link names the block before", 0);
  set_prev_link(second, header(built.blocks[0]));
  CHECK(heap.check());
}

TEST_CASE("check() reports an allocated block on a free list") {
  RegionHeap<CoalescingFirstFit> t;
  auto& heap = t.heap;
  const HandBuiltList built = build_free_list(heap, {88});
  BlockHeader& block = *header(built.blocks[0]);
  block.size_and_flags |= kAllocatedBit;
  write_footer(block);
  check_fails(heap.check(), "the free list holds only free blocks", 0);
  block.size_and_flags &= ~kAllocatedBit;
  write_footer(block);
  CHECK(heap.check());
}

TEST_CASE("check() reports a free block on the list of another size class") {
  RegionHeap<SegregatedFitAllocator> t;
  auto& heap = t.heap;
  const HandBuiltList built = build_free_list(heap, {48, 48, 96});
  BlockHeader* const head = header(built.blocks[0]);
  BlockHeader* const second = header(built.blocks[1]);
  BlockHeader* const large = header(built.blocks[2]);
  REQUIRE(heap.free_lists().list(SizeClasses::of(48)).head() == head);
  REQUIRE(LinkedFreeList::next(*head) == second);
  CHECK(heap.check());
  // The 48-byte class's list now leads to the 96-byte block instead of its
  // second block (two blocks, as its tally says; the prev links agree).
  set_next_link(head, large);
  set_prev_link(large, head);
  check_fails(heap.check(), "every free block is on the list of its size class", 0);
  set_next_link(head, second);
  set_prev_link(large, nullptr);
  CHECK(heap.check());
}

TEST_CASE("check() reports stats that disagree with the walk") {
  RegionHeap<CoalescingFirstFit> t;
  auto& heap = t.heap;
  void* const p = heap.allocate(64);
  REQUIRE(p != nullptr);
  // The counters say 64 bytes were asked for; the block now says 60.
  header(p)->requested = 60;
  check_fails(heap.check(), "stats agree with the walk", 0);
  header(p)->requested = 64;
  CHECK(heap.check());
}

TEST_CASE_TEMPLATE("check() reports a broken prologue or epilogue", A, HEAPLAB_LAYOUT_CONFIGS) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  (void)carve(heap, 2);
  // The prologue: 24 bytes at the start, its footer in its last 8.
  BlockHeader& prologue = *header_at(heap.first_region().begin());
  REQUIRE(block_size(prologue) == kMinBlockSize);
  BlockFooter& footer = *footer_of(prologue);
  const BlockFooter saved_footer = footer;
  footer.size_and_flags = 0;
  check_fails(heap.check(), "the prologue is an allocated block with its footer", 0);
  footer = saved_footer;
  CHECK(heap.check());
  // The epilogue: a header of size 0 past the break.
  BlockHeader& end = epilogue(heap);
  const BlockHeader saved_end = end;
  end.size_and_flags += kMinTaggedBlockSize;
  check_fails(heap.check(), "the epilogue is an allocated header of size 0", heap.first_region().used());
  end = saved_end;
  CHECK(heap.check());
}

TEST_CASE("check() reports a mapped block that is not an allocated block") {
  PageSource source(kMaxRequest, kPage);
  RegionHeap<CoalescingFirstFit> t(kRegionBytes, Upstream{.source = &source, .mmap_threshold = 64 * kKiB});
  auto& heap = t.heap;
  void* const p = heap.allocate(100 * kKiB);
  REQUIRE(p != nullptr);
  header(p)->size_and_flags &= ~kAllocatedBit;
  check_fails(heap.check(), "each mapped block is an allocated block inside its mapping", 0);
  header(p)->size_and_flags |= kAllocatedBit;
  CHECK(heap.check());
  header(p)->requested = 2 * source.outstanding();  // more than its mapping holds
  check_fails(heap.check(), "each mapped block is an allocated block inside its mapping", 0);
  header(p)->requested = 100 * kKiB;
  CHECK(heap.check());
}

// ---- Misuse ------------------------------------------------------------------------

TEST_CASE_TEMPLATE("misuse is reported and changes nothing", A, HEAPLAB_LAYOUT_CONFIGS) {
  RecordingHandler misuse;
  PageSource source(kMaxRequest, kPage);
  RegionHeap<A> t(kRegionBytes, Upstream{.source = &source, .mmap_threshold = 64 * kKiB});
  auto& heap = t.heap;
  const std::vector<void*> b = carve(heap, 7);
  void* const mapped = heap.allocate(100 * kKiB);
  REQUIRE(mapped != nullptr);
  heap.deallocate(b[1]);
  heap.deallocate(b[3]);
  heap.deallocate(b[2]);  // case 4: the starts of c and d are forgotten
  heap.deallocate(b[5]);  // case 1: still a block, and free
  REQUIRE(heap.stats().merges == 2);
  int on_the_stack = 0;

  struct Case {
    void* p;
    Misuse kind;
    std::string_view what;
  };
  const std::vector<Case> cases{
      {b[5], Misuse::double_free, "double free"},
      {b[1], Misuse::double_free, "double free of a block that absorbed its neighbours"},
      {b[2], Misuse::interior_pointer, "double free of a block absorbed by the one in front"},
      {b[3], Misuse::interior_pointer, "double free of a block absorbed by the one in front"},
      {static_cast<std::byte*>(b[0]) + 8, Misuse::interior_pointer, "interior pointer in a heap block"},
      {static_cast<std::byte*>(mapped) + 16, Misuse::interior_pointer, "interior pointer in a mapped block"},
      {&on_the_stack, Misuse::foreign_pointer, "foreign pointer"},
      {heap.first_region().begin() + kHeaderSize, Misuse::foreign_pointer, "the prologue's payload"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    const CoalescingStats before = heap.stats();
    const std::string before_layout = layout(heap);
    const std::size_t reported = misuse.count(c.kind);
    heap.deallocate(c.p);
    CHECK(misuse.count(c.kind) == reported + 1);
    CHECK(heap.reallocate(c.p, 10) == nullptr);
    CHECK(misuse.count(c.kind) == reported + 2);
    check_same_coalescing_stats(before, heap.stats());
    CHECK(layout(heap) == before_layout);
    CHECK(heap.check());
  }
  CHECK(misuse.reports().size() == 2 * cases.size());
  CHECK(source.releases() == 0);  // the mapped block is still there
  heap.deallocate(mapped);
  CHECK(source.outstanding() == 0);
}

}  // TEST_SUITE("stage4")
