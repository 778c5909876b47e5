// Chapter 4's invariant suite: the four cases of coalescing, the prologue
// and epilogue, deferred coalescing, list orders, the chapter-3 policies
// over the new list, splitting, footer elision, realloc in place, a full
// or too small region, the block verbs chapter 5's layers use, the checker
// (each invariant broken on purpose, and the offset it reports), and
// misuse, beyond the shared contract.
//
// Heaps are built by hand on page-aligned regions: blocks are carved one
// after the other at the break (a fresh heap has no free block, so the
// n-th allocation starts where the (n-1)-th ended), and freed in a chosen
// order, so that every block offset, every merge and every list follows
// from what the test did. A region starts with its prologue (chapter 2's
// smallest block, 24 bytes), so the first block is at offset 24.
//
// Segregated fits, quick lists, mapped large blocks and growth past the
// region are chapter 5's (tests/stage5_tests.cpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/misuse.hpp"
#include "stage2_free_list/block.hpp"
#include "stage2_free_list/block_heap.hpp"
#include "stage3_fit_strategies/placement.hpp"
#include "stage4_coalescing/address_ordered.hpp"
#include "stage4_coalescing/boundary_tags.hpp"
#include "stage4_coalescing/coalescing_allocator.hpp"
#include "stage4_coalescing/coalescing_allocator_impl.hpp"
#include "stage4_coalescing/deferred_coalescing.hpp"
#include "stage4_coalescing/footer_elision.hpp"
#include "stage4_coalescing/linked_free_list.hpp"
#include "stage4_coalescing/tagged_heap.hpp"
#include "tests/support/aligned_region.hpp"
#include "tests/support/block_walk.hpp"
#include "tests/support/blocks.hpp"
#include "tests/support/free_list_stats.hpp"
#include "tests/support/recording_handler.hpp"
#include "tests/support/served_alike.hpp"
#include "tests/support/tagged_blocks.hpp"

namespace {

using namespace heaplab;
using namespace heaplab::testing;

static_assert(kFirstBlock == TaggedHeap<FooterTags>::kPrologueSize, "the prologue is chapter 2's smallest block");

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

/// True when \p block is on \p heap's free list.
template <class A>
bool on_list(const A& heap, const BlockHeader* block) {
  const std::vector<const BlockHeader*> blocks = listed(heap);
  return std::find(blocks.begin(), blocks.end(), block) != blocks.end();
}

/// Allocates the rest of the region (up to the epilogue) as one block, so
/// that nothing can grow. Precondition: the last block is allocated.
template <class A>
void* fill_rest(A& heap) {
  const std::size_t room = heap.heap().room();
  REQUIRE(room >= kMinTaggedBlockSize);
  void* const p = heap.allocate(request_for<A>(room));
  REQUIRE(p != nullptr);
  REQUIRE(heap.heap().room() == 0);
  return p;
}

/// Checks the tags of the free block \p block of \p size bytes by hand
/// (not through check()): its footer mirrors its header and, under footer
/// elision, the P bits around it say "allocated in front, free here".
template <class A>
void check_free_block_tags(BlockHeader* block, std::size_t size) {
  CHECK(block_size(*block) == size);
  CHECK_FALSE(is_allocated(*block));
  CHECK(footer_of(*block).size_and_flags == block->size_and_flags);
  if constexpr (kElidedOf<A>) {
    CHECK(prev_allocated_bit(*block));  // immediate coalescing: the block in front is allocated
    CHECK_FALSE(prev_allocated_bit(next_block(*block)));
  }
}

/// Checks that stats() agrees with a block walk (count_walk()): live
/// allocations, free blocks and bytes, payload and tag bytes, and every
/// used byte accounted for (the prologue's included).
template <class A>
void check_counts_against_walk(const A& heap) {
  const CoalescingStats s = heap.stats();
  check_stats_identities(s);
  const WalkCounts walked = count_walk(heap);
  CHECK(s.live_allocations == walked.allocated);
  CHECK(s.payload_bytes == walked.payload);
  CHECK(s.header_bytes == walked.allocated * (kHeaderSize + TagsOf<A>::kAllocatedFooterBytes));
  CHECK(s.free_blocks == walked.free_blocks);
  CHECK(s.free_bytes == walked.free_bytes);
  CHECK(s.used == walked.bytes);
  CHECK(s.used == blocks_of(heap).used());
  CHECK(s.used == kFirstBlock + s.header_bytes + s.payload_bytes + s.free_bytes);
  CHECK(s.capacity == blocks_of(heap).capacity());
  CHECK(s.high_water == s.used);  // the break never moves back
  CHECK(s.merges == heap.heap().merges());
  CHECK(listed(heap).size() == walked.free_blocks);
}

/// The course's tags under another name, counting their seals: a tag
/// layout of its own in CoalescingAllocator's slot, the one a learner's
/// takes (stage4_coalescing/your_turn/coalesce.hpp).
struct CountedTags : FooterTags {
  /// Counts the seal, then writes the footer as FooterTags does.
  static void seal(BlockHeader& block) noexcept {
    ++seals;
    FooterTags::seal(block);
  }
  static inline std::size_t seals = 0;  ///< seal() calls, over the whole test program.
};

/// The course's four cases under another name, counting the blocks they
/// merge: four cases of their own in ImmediateCoalescing's slot.
struct CountedCases {
  /// Counts the call, then merges as FourCases does.
  template <TagLayout Tags, RemovableFreeList FreeBlocks>
  static BlockHeader& coalesce(TaggedHeap<Tags>& heap, FreeBlocks& free, BlockHeader& block) noexcept {
    ++calls;
    return FourCases::coalesce(heap, free, block);
  }
  static inline std::size_t calls = 0;  ///< coalesce() calls, over the whole test program.
};

/// The course's allocator with a tag layout and four cases of its own.
using SlotFirstFit = CoalescingAllocator<FitList<FirstFit>, CountedTags, BasicImmediateCoalescing<CountedCases>>;

/// Wrong four cases: only the next block is ever merged; a free block in
/// front is forgotten (cases 3 and 4 lose their first merge).
struct ForgetsThePrevious {
  template <TagLayout Tags, RemovableFreeList FreeBlocks>
  static BlockHeader& coalesce(TaggedHeap<Tags>& heap, FreeBlocks& free, BlockHeader& block) noexcept {
    return is_allocated(next_block(block)) ? block : heap.merge_next(free, block);
  }
};

/// A wrong tag layout: seal() writes nothing, so no block gets a footer.
struct ForgetsTheFooter : FooterTags {
  static void seal(BlockHeader& /*block*/) noexcept {}
};

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

}  // namespace

TYPE_TO_STRING_AS("CoalescingFirstFit", heaplab::CoalescingFirstFit);
TYPE_TO_STRING_AS("CoalescingNextFit", heaplab::CoalescingNextFit);
TYPE_TO_STRING_AS("CoalescingBestFit", heaplab::CoalescingBestFit);
TYPE_TO_STRING_AS("CoalescingWorstFit", heaplab::CoalescingWorstFit);
TYPE_TO_STRING_AS("AddressOrderedFirstFit", heaplab::AddressOrderedFirstFit);
TYPE_TO_STRING_AS("DeferredFirstFit", heaplab::DeferredFirstFit);
TYPE_TO_STRING_AS("ElidedFirstFit", heaplab::ElidedFirstFit);

// Every allocator of the chapter.
#define HEAPLAB_ALL_CONFIGS                                                                        \
  heaplab::CoalescingFirstFit, heaplab::CoalescingNextFit, heaplab::CoalescingBestFit,             \
      heaplab::CoalescingWorstFit, heaplab::AddressOrderedFirstFit, heaplab::DeferredFirstFit,     \
      heaplab::ElidedFirstFit
// Every allocator that merges on deallocate(): all but DeferredFirstFit.
#define HEAPLAB_IMMEDIATE_CONFIGS                                                                  \
  heaplab::CoalescingFirstFit, heaplab::CoalescingNextFit, heaplab::CoalescingBestFit,             \
      heaplab::CoalescingWorstFit, heaplab::AddressOrderedFirstFit, heaplab::ElidedFirstFit
// One allocator of each tag layout: footers everywhere (FooterTags) and
// footer elision (ElidedFooters).
#define HEAPLAB_LAYOUT_CONFIGS heaplab::CoalescingFirstFit, heaplab::ElidedFirstFit

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
  CHECK_FALSE(blocks_of(heap).starts().is_start(block_start(header(b[2]))));  // c is no block any more
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
  CHECK_FALSE(blocks_of(heap).starts().is_start(block_start(header(b[2]))));
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
  CHECK(listed(heap) == std::vector<const BlockHeader*>{header(b[1])});
  check_free_block_tags<A>(header(b[1]), 3 * s);
  CHECK_FALSE(blocks_of(heap).starts().is_start(block_start(header(b[2]))));
  CHECK_FALSE(blocks_of(heap).starts().is_start(block_start(header(b[3]))));
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
  CHECK(next_in_memory(header(b[2])) == blocks_of(heap).brk());
  CHECK(heap.heap().is_last(*header(b[2])));
  check_free_block_tags<A>(header(b[2]), s);
  CHECK(is_allocated(epilogue(heap)));
  CHECK(block_size(epilogue(heap)) == 0);
  if constexpr (kElidedOf<A>) CHECK_FALSE(prev_allocated_bit(epilogue(heap)));
  CHECK(heap.check());
  // The middle one joins both: one free block from the prologue to the epilogue.
  heap.deallocate(b[1]);
  CHECK(layout(heap) == expected_layout({{'F', 3 * s}}));
  CHECK(heap.stats().merges == 2);
  CHECK(blocks_of(heap).used() == kFirstBlock + 3 * s);  // the break never moves back
  check_counts_against_walk(heap);
  CHECK(heap.check());
  CHECK(heap.allocate(request_for<A>(3 * s)) == b[0]);
  CHECK(heap.check());
}

TEST_CASE_TEMPLATE("a request no free block fits grows the free last block instead of leaving it behind", A,
                   HEAPLAB_ALL_CONFIGS) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  const std::size_t s = block_for<A>(kRequest);
  const std::vector<void*> b = carve(heap, 2);
  heap.deallocate(b[1]);  // the last block is free
  const std::size_t used = blocks_of(heap).used();
  // Three blocks' worth: the free last block takes in 2s new bytes, and the
  // whole serves the request where the free block was.
  void* const p = heap.allocate(request_for<A>(3 * s));
  CHECK(p == b[1]);
  CHECK(blocks_of(heap).used() == used + 2 * s);
  CHECK(layout(heap) == expected_layout({{'A', s}, {'A', 3 * s}}));
  CHECK(heap.stats().free_blocks == 0);
  CHECK(heap.stats().merges == 1);  // the new bytes were absorbed
  if constexpr (kElidedOf<A>) CHECK(prev_allocated_bit(epilogue(heap)));
  check_counts_against_walk(heap);
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
  // Nothing was freed since that pass: the next refusal runs none.
  CHECK(heap.allocate(request_for<A>(5 * s)) == nullptr);
  CHECK(heap.stats().merge_passes == before.merge_passes + 2);
  CHECK(heap.stats().exhausted == before.exhausted + 2);
  check_counts_against_walk(heap);
  CHECK(heap.check());
}

TEST_CASE("deferred coalescing: a pass merges every run of free blocks, however long, and only those") {
  using A = DeferredFirstFit;
  RegionHeap<A> t;
  auto& heap = t.heap;
  const std::size_t s = block_for<A>(kRequest);
  const std::vector<void*> b = carve(heap, 9);
  void* const rest = fill_rest(heap);
  const std::size_t rest_size = block_size(*header(rest));
  // Runs of one, three and two free blocks, the last one up to the rest.
  for (void* const p : {b[1], b[3], b[4], b[5], b[7], b[8]}) heap.deallocate(p);
  CHECK(heap.stats().free_blocks == 6);
  CHECK(heap.check());
  // Four blocks' worth fits nowhere, even after the pass, which leaves
  // each run one block and every allocated block where it was.
  CHECK(heap.allocate(request_for<A>(4 * s)) == nullptr);
  CHECK(heap.stats().merge_passes == 1);
  CHECK(heap.stats().merges == 3);
  CHECK(heap.stats().free_blocks == 3);
  CHECK(layout(heap) == expected_layout({{'A', s},
                                         {'F', s},
                                         {'A', s},
                                         {'F', 3 * s},
                                         {'A', s},
                                         {'F', 2 * s},
                                         {'A', rest_size}}));
  const std::vector<const BlockHeader*> merged{header(b[1]), header(b[3]), header(b[7])};
  for (const BlockHeader* block : merged) CHECK(on_list(heap, block));
  check_counts_against_walk(heap);
  CHECK(heap.check());
  // The merged run of three now serves three blocks' worth, with no pass.
  CHECK(heap.allocate(request_for<A>(3 * s)) == b[3]);
  CHECK(heap.stats().merge_passes == 1);
  CHECK(heap.check());
}

TEST_CASE("deferred coalescing: realloc in place takes in the free block after it all the same") {
  using A = DeferredFirstFit;
  RegionHeap<A> t;
  auto& heap = t.heap;
  void* const p = heap.allocate(400);
  void* const r = heap.allocate(200);
  void* const q = heap.allocate(8);
  REQUIRE((p && r && q));
  heap.deallocate(r);  // listed, not merged (nothing to merge with)
  fill_pattern(block_at(p, 100), 1);
  const std::size_t big = block_for<A>(400);
  const std::size_t small = block_for<A>(100);
  const std::size_t r_size = block_for<A>(200);
  // Shrinking: p takes in r, then gives back one tail, r's bytes included.
  CHECK(heap.reallocate(p, 100) == p);
  CHECK(layout(heap) == expected_layout({{'A', small}, {'F', big + r_size - small}, {'A', block_for<A>(8)}}));
  CHECK(heap.stats().merges == 1);
  CHECK(heap.stats().merge_passes == 0);
  CHECK(heap.stats().free_blocks == 1);
  CHECK(holds_pattern(block_at(p, 100), 1));
  CHECK(heap.check());
  // Growing back takes in the free block after it and splits the rest off.
  CHECK(heap.reallocate(p, 400) == p);
  CHECK(layout(heap) == expected_layout({{'A', big}, {'F', r_size}, {'A', block_for<A>(8)}}));
  CHECK(heap.stats().merges == 2);
  CHECK(heap.stats().merge_passes == 0);
  CHECK(holds_pattern(block_at(p, 100), 1));
  check_counts_against_walk(heap);
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
  for (void* const p : {blocks[3], blocks[0], blocks[4], blocks[1], blocks[2]}) heap.deallocate(p);
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
  check_counts_against_walk(heap);
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
  for (void* const p : {blocks[2], blocks[0], blocks[3], blocks[1]}) {
    heap.deallocate(p);
    CHECK(heap.free_blocks().head() == header(p));
  }
  const std::vector<const BlockHeader*> expected{header(blocks[1]), header(blocks[3]), header(blocks[0]),
                                                 header(blocks[2])};
  CHECK(listed(heap) == expected);
  // Each prev link names the block before on the list.
  CHECK(LinkedFreeList::prev(*header(blocks[1])) == nullptr);
  CHECK(LinkedFreeList::prev(*header(blocks[3])) == header(blocks[1]));
  CHECK(LinkedFreeList::prev(*header(blocks[2])) == header(blocks[0]));
  // A merged block goes to the head too.
  heap.deallocate(static_cast<std::byte*>(blocks[2]) + block_for<A>(kRequest));  // the spacer after block 2
  // (Case 4: it took in block 3 too, so the list holds three blocks.)
  CHECK(heap.free_blocks().head() == header(blocks[2]));
  CHECK(heap.free_blocks().tally().blocks == 3);
  CHECK_FALSE(on_list(heap, header(blocks[3])));
  CHECK(heap.check());
}

// ---- The policies of chapter 3 over chapter 4's list ---------------------------

TEST_CASE("each chapter-3 policy picks its own block from the same list") {
  REQUIRE(block_for<CoalescingFirstFit>(kRequest) == 88);
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
    // A block kept whole hands its tail to the caller too.
    CHECK(heap.usable_size(p) == tagged_payload_capacity<TagsOf<A>>(*header(p)));
    if (split) check_free_block_tags<A>(header_at(block_start(header(p)) + needed), tail);
    check_counts_against_walk(heap);
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
  REQUIRE(heap.free_blocks().policy().rover() == header(r));  // the search stopped after r
  // Memory: [t][sp][c][sp][r][sp][h][sp]. Freeing c's spacer is case 2: the
  // spacer absorbs r, the rover's block, which leaves the list.
  heap.deallocate(built.spacers[2]);
  CHECK(heap.stats().merges == 1);
  CHECK(heap.free_blocks().policy().rover() == header(h));  // stepped back to the block before r
  CHECK(heap.check());                                       // includes: the rover is on the list
  const std::vector<const BlockHeader*> expected{header(built.spacers[2]), header(h), header(tl)};
  CHECK(listed(heap) == expected);
  // The next search starts after the rover: it passes over the merged block
  // at the head (which first fit would take) and takes t.
  const std::size_t visited = heap.stats().blocks_visited;
  CHECK(heap.allocate(kRequest) == tl);
  CHECK(heap.stats().blocks_visited - visited == 1);
  CHECK(heap.check());
}

// ---- Footer elision ------------------------------------------------------------

TEST_CASE_TEMPLATE("the block walk tells each block's header, footer and links apart, as they lie in memory", A,
                   HEAPLAB_ALL_CONFIGS) {
  RegionHeap<A> t;
  exercise_walk_layout(t.heap, t.heap.heap().blocks().begin());
  for (const BlockView& view : walk(t.heap)) {
    CHECK(view.header == kHeaderSize);
    if (view.state == BlockState::free) {
      CHECK(view.footer == kFooterSize);
      CHECK(view.links == 2 * sizeof(void*));
    } else {
      CHECK(view.footer == (kElidedOf<A> ? 0 : kFooterSize));
      CHECK(view.links == 0);
    }
  }
}

TEST_CASE("footer elision: an allocated block holds 8 bytes more than with footers everywhere") {
  RegionHeap<CoalescingFirstFit> everywhere;
  RegionHeap<ElidedFirstFit> elided;
  // The same request: an 8-byte smaller block.
  CHECK(block_for<CoalescingFirstFit>(kRequest) == 88);
  CHECK(block_for<ElidedFirstFit>(kRequest) == 80);
  // The smallest block is the same: a free block keeps its links and footer.
  CHECK(block_for<CoalescingFirstFit>(0) == kMinTaggedBlockSize);
  CHECK(block_for<ElidedFirstFit>(0) == kMinTaggedBlockSize);
  // The same 88-byte block: 64 bytes of payload with a footer, 72 without.
  void* const with_footer = everywhere.heap.allocate(64);
  void* const without = elided.heap.allocate(72);
  REQUIRE((with_footer && without));
  CHECK(block_size(*header(with_footer)) == 88);
  CHECK(block_size(*header(without)) == 88);
  CHECK(tagged_payload_capacity<ElidedFooters>(*header(without)) ==
        tagged_payload_capacity<FooterTags>(*header(with_footer)) + 8);
  CHECK(everywhere.heap.usable_size(with_footer) == 64);
  CHECK(elided.heap.usable_size(without) == 72);
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
  CHECK(prev_allocated_bit(*header(next)));
  CHECK(elided.heap.check());
  // Growing to 72 bytes stays in place only where the footer is elided.
  REQUIRE(everywhere.heap.allocate(8) != nullptr);
  CHECK(elided.heap.reallocate(without, 72) == without);
  CHECK(everywhere.heap.reallocate(with_footer, 72) != with_footer);
  CHECK(everywhere.heap.check());
}

TEST_CASE("footer elision: the P bits follow the state of the block in front") {
  using A = ElidedFirstFit;
  check_p_bits_follow_frees<A>();
}

TEST_CASE("footer elision: a split sets the P bits of both pieces and of the block after") {
  using A = ElidedFirstFit;
  RegionHeap<A> t;
  auto& heap = t.heap;
  const std::size_t s = block_for<A>(kRequest);
  void* const big = heap.allocate(request_for<A>(4 * s));
  void* const after = heap.allocate(kRequest);
  REQUIRE((big && after));
  heap.deallocate(big);
  CHECK_FALSE(prev_allocated_bit(*header(after)));
  // The front piece is handed out, the tail stays free: the tail's P bit
  // says "allocated in front", the block after still sees a free block.
  void* const p = heap.allocate(kRequest);
  REQUIRE(p == big);
  BlockHeader& tail = next_block(*header(p));
  CHECK(block_size(tail) == 3 * s);
  CHECK_FALSE(is_allocated(tail));
  CHECK(prev_allocated_bit(tail));
  CHECK(footer_of(tail).size_and_flags == tail.size_and_flags);
  CHECK_FALSE(prev_allocated_bit(*header(after)));
  CHECK(heap.check());
  // The tail taken whole: the block after sees an allocated block again.
  CHECK(heap.allocate(request_for<A>(3 * s)) == payload_of(&tail));
  CHECK(prev_allocated_bit(*header(after)));
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
  CHECK(heap.usable_size(p) == tagged_payload_capacity<TagsOf<A>>(*header(p)));
  check_free_block_tags<A>(header_at(block_start(header(p)) + small), big - small);
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
  CHECK(heap.stats().free_blocks == 0);
  CHECK(heap.check());

  // At the end of the region: the break moves, the block stays.
  fill_pattern(block_at(q, 8), 2);
  const std::size_t used = blocks_of(heap).used();
  const std::size_t room = heap.heap().room();
  CHECK(heap.reallocate(q, 5000) == q);
  CHECK(blocks_of(heap).used() == used - block_for<A>(8) + block_for<A>(5000));
  CHECK(heap.heap().room() == room - (block_for<A>(5000) - block_for<A>(8)));
  CHECK(next_in_memory(header(q)) == blocks_of(heap).brk());
  CHECK(holds_pattern(block_at(q, 8), 2));
  CHECK(heap.stats().free_blocks == 0);
  if constexpr (kElidedOf<A>) CHECK(prev_allocated_bit(epilogue(heap)));
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
  CHECK(blocks_of(heap).brk() == next_in_memory(header(p)));
  CHECK(holds_pattern(block_at(p, 100), 1));
  if constexpr (kElidedOf<A>) CHECK(prev_allocated_bit(epilogue(heap)));
  check_counts_against_walk(heap);
  CHECK(heap.check());
}

TEST_CASE_TEMPLATE("realloc grows the last block up to the very end of the region and no further", A,
                   HEAPLAB_LAYOUT_CONFIGS) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  void* const p = heap.allocate(100);
  REQUIRE(p != nullptr);
  fill_pattern(block_at(p, 100), 1);
  // Every byte up to the epilogue.
  const std::size_t whole = block_size(*header(p)) + heap.heap().room();
  CHECK(heap.reallocate(p, request_for<A>(whole)) == p);
  CHECK(heap.heap().room() == 0);
  CHECK(block_size(*header(p)) == whole);
  CHECK(blocks_of(heap).brk() + kHeaderSize == blocks_of(heap).end());  // the epilogue's header still fits
  CHECK(holds_pattern(block_at(p, 100), 1));
  CHECK(heap.check());
  // One cell more: no room to grow, nowhere to move; the block stays as it is.
  const CoalescingStats before = heap.stats();
  CHECK(heap.reallocate(p, request_for<A>(whole) + 8) == nullptr);
  heaplab::testing::check_same_live_state(before, heap.stats());
  CHECK(heap.stats().exhausted == before.exhausted + 1);
  CHECK(block_size(*header(p)) == whole);
  CHECK(holds_pattern(block_at(p, 100), 1));
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
  CHECK_FALSE(is_allocated(*header(p)));  // the old block is free, and on the list
  CHECK(on_list(heap, header(p)));
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
  CHECK(is_aligned(aligned, kMallocAlignment));
  fill_pattern(block_at(aligned, 96), 1);
  // The break follows it: it grows in place, as malloc's realloc would,
  // because its payload already has the alignment.
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
  CHECK(after.merges == before.merges);
  CHECK(layout(heap) == before_layout);
  CHECK(holds_pattern(block_at(p, 100), 1));
  CHECK(header(p)->requested == 100);
  CHECK(heap.check());
  heap.deallocate(p);  // still the caller's
  CHECK(misuse.reports().empty());
  CHECK(heap.check());
}

// ---- The toolkit alone: TaggedHeap's verbs ------------------------------------------

TEST_CASE_TEMPLATE("TaggedHeap alone: extend, coalesce, split and the last free block", Tags, heaplab::FooterTags,
                   heaplab::ElidedFooters) {
  AlignedRegion region(4096, kRegionAlignment);
  TaggedHeap<Tags> heap(region.bytes());
  LinkedFreeList free;
  REQUIRE(heap.is_open());
  const BlockHeap& blocks = heap.blocks();
  CHECK(blocks.used() == TaggedHeap<Tags>::kPrologueSize);
  const std::size_t room = heap.room();
  CHECK(room == blocks.capacity() - TaggedHeap<Tags>::kPrologueSize - TaggedHeap<Tags>::kEpilogueSize);
  CHECK(heap.last_free_block() == nullptr);  // only the prologue, allocated
  // extend() hands out a free block where the epilogue was, on no list, unmerged.
  BlockHeader* const a = heap.extend(80);
  REQUIRE(a != nullptr);
  CHECK(blocks.offset_of(a) == kFirstBlock);
  CHECK(block_size(*a) == 80);
  CHECK_FALSE(is_allocated(*a));
  CHECK(footer_of(*a).size_and_flags == a->size_and_flags);
  CHECK(heap.room() == room - 80);
  CHECK(heap.is_last(*a));
  CHECK(heap.last_free_block() == a);
  CHECK(heap.merges() == 0);
  free.insert(*a);
  BlockHeader* const b = heap.extend(kMinTaggedBlockSize);
  REQUIRE(b != nullptr);
  CHECK(heap.last_free_block() == b);
  CHECK(heap.merges() == 0);  // extend never merges: that is the caller's to do
  BlockCensus census;
  CHECK(heap.check(census, /*neighbours_merged=*/false));
  CHECK(census.free_blocks == 2);
  check_fails(heap.check(census, /*neighbours_merged=*/true),
              "no two free blocks are adjacent (immediate coalescing)", kFirstBlock + 80);
  // coalesce(): case 3, the free a (on the list) absorbs b.
  BlockHeader& merged = heap.coalesce(free, *b);
  CHECK(&merged == a);
  CHECK(block_size(merged) == 80 + kMinTaggedBlockSize);
  CHECK(footer_of(merged).size_and_flags == merged.size_and_flags);
  CHECK(heap.merges() == 1);
  CHECK(free.empty());  // the merged block is off the list
  CHECK(heap.last_free_block() == a);
  CHECK_FALSE(blocks.starts().is_start(block_start(b)));
  CHECK(heap.check(census, /*neighbours_merged=*/true));
  CHECK(census.blocks == 1);
  // split(): two tagged pieces; the first keeps the block's state.
  BlockHeader& rest = heap.split(merged, 48);
  CHECK(block_size(merged) == 48);
  CHECK(block_size(rest) == 80 + kMinTaggedBlockSize - 48);
  CHECK(&next_block(merged) == &rest);
  CHECK(&prev_block(rest) == &merged);
  CHECK(footer_of(merged).size_and_flags == merged.size_and_flags);
  CHECK(footer_of(rest).size_and_flags == rest.size_and_flags);
  CHECK(heap.last_free_block() == &rest);
  CHECK(heap.check(census, /*neighbours_merged=*/false));
  CHECK(census.blocks == 2);
  // No room: extend() refuses and changes nothing.
  const std::size_t used = blocks.used();
  CHECK(heap.extend(heap.room() + kBlockGranularity) == nullptr);
  CHECK(blocks.used() == used);
  CHECK(heap.extend(heap.room()) != nullptr);
  CHECK(heap.room() == 0);
  CHECK(blocks.end() - blocks.brk() == static_cast<std::ptrdiff_t>(TaggedHeap<Tags>::kEpilogueSize));
  CHECK(heap.check(census, /*neighbours_merged=*/false));
}

TEST_CASE("TaggedHeap alone: a region too small opens nothing") {
  AlignedRegion region(64, kRegionAlignment);
  TaggedHeap<FooterTags> heap(region.bytes());
  CHECK_FALSE(heap.is_open());
  CHECK(heap.room() == 0);
  CHECK(heap.last_free_block() == nullptr);
  CHECK(heap.extend(kMinTaggedBlockSize) == nullptr);
  BlockCensus census;
  CHECK(heap.check(census, true));
  CHECK(census.blocks == 0);
}

// ---- One region, and nothing past it ---------------------------------------------

TEST_CASE_TEMPLATE("a full region refuses a request and changes nothing", A, HEAPLAB_LAYOUT_CONFIGS,
                   heaplab::DeferredFirstFit) {
  RegionHeap<A> t(10 * kMiB);
  auto& heap = t.heap;
  std::vector<void*> blocks;
  void* refused = nullptr;
  bool was_refused = false;
  for (std::size_t i = 0; i < 14 && !was_refused; ++i) {
    const CoalescingStats before = heap.stats();
    const std::string before_layout = layout(heap);
    void* const p = heap.allocate(kMiB);
    if (p == nullptr) {
      was_refused = true;
      const CoalescingStats after = heap.stats();
      heaplab::testing::check_same_live_state(before, after);
      CHECK(after.exhausted == before.exhausted + 1);
      CHECK(layout(heap) == before_layout);
      CHECK(heap.heap().room() < block_for<A>(kMiB));
      refused = heap.allocate(kMiB);  // refused again, just the same
      CHECK(heap.stats().exhausted == before.exhausted + 2);
      break;
    }
    std::memset(p, static_cast<int>(i + 1), kMiB);
    blocks.push_back(p);
  }
  CHECK(was_refused);
  CHECK(refused == nullptr);
  CHECK(blocks.size() < 10);
  CHECK(blocks.size() >= 9);  // the region's 10 MiB, less its start map, holds nine
  // A smaller request still fits in what is left.
  void* const small = heap.allocate(heap.heap().room() / 2);
  CHECK(small != nullptr);
  CHECK(heap.check());
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    CHECK(static_cast<unsigned char*>(blocks[i])[kMiB - 1] == static_cast<unsigned char>(i + 1));
  }
}

TEST_CASE_TEMPLATE("a region too small for the prologue, a block and the epilogue never serves", A,
                   HEAPLAB_ALL_CONFIGS) {
  RecordingHandler misuse;
  AlignedRegion region(64, kRegionAlignment);
  A heap(region.bytes());
  CHECK_FALSE(heap.heap().is_open());
  CHECK(heap.heap().room() == 0);
  CHECK(heap.allocate(0) == nullptr);
  CHECK(heap.allocate(8) == nullptr);
  CHECK(heap.reallocate(nullptr, 8) == nullptr);
  const CoalescingStats s = heap.stats();
  CHECK(s.exhausted == 3);
  CHECK(s.live_allocations == 0);
  CHECK(s.used == 0);
  CHECK(walk(heap).empty());
  CHECK(heap.check());
  heap.deallocate(nullptr);
  CHECK(misuse.reports().empty());
}

// ---- The pointer check that chapter 5's layers ask --------------------------------

TEST_CASE_TEMPLATE("allocated_block is deallocate's check: the block of a live pointer, else a report", A,
                   HEAPLAB_LAYOUT_CONFIGS) {
  RecordingHandler misuse;
  RegionHeap<A> t;
  auto& heap = t.heap;
  const std::vector<void*> b = carve(heap, 3);
  CHECK(heap.allocated_block(b[1], "a layer") == header(b[1]));
  CHECK(misuse.reports().empty());
  heap.deallocate(b[1]);
  // A pointer that is no allocated block is reported, in the caller's name.
  CHECK(heap.allocated_block(b[1], "a layer") == nullptr);
  REQUIRE(misuse.reports().size() == 1);
  CHECK(misuse.reports().back().kind == Misuse::double_free);
  CHECK(misuse.reports().back().where == "a layer");
  CHECK(heap.allocated_block(blocks_of(heap).begin() + kHeaderSize, "a layer") == nullptr);  // the prologue
  CHECK(misuse.count(Misuse::foreign_pointer) == 1);
  CHECK(heap.check());
}

// ---- check() catches corruption --------------------------------------------------
// Each test breaks one invariant by hand, checks that check() names it and
// the offset of the block that breaks it, and restores the heap (check()
// passes again: the corruption was the only fault): check_corruption().
//
// Not reached from here: "block size >= the smallest tagged block" (a
// smaller block needs a start in the start map, which only the heap's own
// verbs mark) and "the epilogue fits in the region" (the break moves only
// through extend(), which keeps room for it).

TEST_CASE_TEMPLATE("check() reports two adjacent free blocks under immediate coalescing", A,
                   HEAPLAB_IMMEDIATE_CONFIGS) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  const std::vector<void*> b = carve(heap, 3);
  heap.deallocate(b[0]);
  BlockHeader& middle = *header(b[1]);
  const BlockHeader saved = middle;
  // b looks free (header and footer agree), next to the free a.
  check_corruption(
      heap,
      [&] {
        mark_free(middle);
        write_footer(middle);
      },
      "no two free blocks are adjacent (immediate coalescing)", offset_of_block(heap, b[1]),
      [&] {
        middle = saved;
        if constexpr (!kElidedOf<A>) write_footer(middle);
      });
}

TEST_CASE("check() allows adjacent free blocks under deferred coalescing") {
  RegionHeap<DeferredFirstFit> t;
  const std::vector<void*> b = carve(t.heap, 3);
  t.heap.deallocate(b[0]);
  t.heap.deallocate(b[1]);
  CHECK(t.heap.stats().free_blocks == 2);
  CHECK(t.heap.stats().merges == 0);
  CHECK(t.heap.check());
}

TEST_CASE_TEMPLATE("check() reports a footer that differs from its header", A, HEAPLAB_LAYOUT_CONFIGS) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  const std::vector<void*> b = carve(heap, 3);
  // Footers everywhere: an allocated block's. Elision: a free block's, the only kind kept.
  if constexpr (kElidedOf<A>) heap.deallocate(b[1]);
  BlockFooter& footer = footer_of(*header(b[1]));
  const BlockFooter saved = footer;
  check_corruption(
      heap, [&] { footer.size_and_flags += kBlockGranularity; }, "the footer equals the header",
      offset_of_block(heap, b[1]), [&] { footer = saved; });
}

TEST_CASE("check() reports a P bit that disagrees with the block in front") {
  RegionHeap<ElidedFirstFit> t;
  auto& heap = t.heap;
  const std::vector<void*> b = carve(heap, 3);
  constexpr std::string_view kPBit = "the P bit says whether the previous block is allocated";
  // Sets \p block's P bit to \p wrong, then back to \p right.
  const auto flip = [&heap, kPBit](BlockHeader& block, bool wrong, bool right, std::size_t offset) {
    check_corruption(
        heap, [&] { set_prev_allocated_bit(block, wrong); }, kPBit, offset,
        [&] { set_prev_allocated_bit(block, right); });
  };
  // An allocated block says its allocated neighbour in front is free.
  flip(*header(b[2]), false, true, offset_of_block(heap, b[2]));
  // A free block's neighbour says "allocated" (its footer would then be skipped).
  heap.deallocate(b[1]);
  flip(*header(b[2]), true, false, offset_of_block(heap, b[2]));
  // The epilogue's P bit counts too.
  flip(epilogue(heap), false, true, blocks_of(heap).used());
}

TEST_CASE_TEMPLATE("check() reports an allocated block whose request does not fit its payload", A,
                   HEAPLAB_LAYOUT_CONFIGS) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  const std::vector<void*> b = carve(heap, 3);
  BlockHeader& block = *header(b[1]);
  // One byte more than the caller may use: with footers everywhere it
  // would run into the footer.
  check_corruption(
      heap, [&] { block.requested = tagged_payload_capacity<TagsOf<A>>(block) + 1; },
      "requested bytes fit the payload", offset_of_block(heap, b[1]), [&] { block.requested = kRequest; });
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
  // Links \p order into a list by hand, next and prev links agreeing.
  const auto link = [](std::initializer_list<BlockHeader*> order) {
    BlockHeader* before = nullptr;
    for (BlockHeader* block : order) {
      if (before != nullptr) {
        set_next_link(before, block);
        set_prev_link(block, before);
      }
      before = block;
    }
    set_next_link(before, nullptr);
  };
  // low -> high -> mid, with prev links that agree: only the order is
  // wrong, and mid is the block out of place.
  check_corruption(
      heap, [&] { link({low, high, mid}); }, "an address-ordered list is sorted by address",
      offset_of_block(heap, built.blocks[1]), [&] { link({low, mid, high}); });
}

TEST_CASE("check() reports a prev link that does not name the block before") {
  RegionHeap<CoalescingFirstFit> t;
  auto& heap = t.heap;
  const HandBuiltList built = build_free_list(heap, {88, 88});
  BlockHeader* const second = header(built.blocks[1]);
  REQUIRE(LinkedFreeList::prev(*second) == header(built.blocks[0]));
  check_corruption(
      heap, [&] { set_prev_link(second, nullptr); }, "each prev link names the block before",
      offset_of_block(heap, built.blocks[1]), [&] { set_prev_link(second, header(built.blocks[0])); });
}

TEST_CASE("check() reports a free list that runs in a cycle") {
  RegionHeap<CoalescingFirstFit> t;
  auto& heap = t.heap;
  const HandBuiltList built = build_free_list(heap, {88, 88});
  BlockHeader* const first = header(built.blocks[0]);
  BlockHeader* const second = header(built.blocks[1]);
  // head -> first -> second -> first -> ...: the walk comes back to first
  // once it has seen as many blocks as the list holds.
  check_corruption(
      heap, [&] { set_next_link(second, first); }, "the free list ends (no cycle)",
      offset_of_block(heap, built.blocks[0]), [&] { set_next_link(second, nullptr); });
}

TEST_CASE("check() reports an allocated block on a free list") {
  RegionHeap<CoalescingFirstFit> t;
  auto& heap = t.heap;
  const HandBuiltList built = build_free_list(heap, {88});
  BlockHeader& block = *header(built.blocks[0]);
  check_corruption(
      heap,
      [&] {
        block.size_and_flags |= kAllocatedBit;
        write_footer(block);
      },
      "the free list holds only free blocks", offset_of_block(heap, built.blocks[0]),
      [&] {
        block.size_and_flags &= ~kAllocatedBit;
        write_footer(block);
      });
}

TEST_CASE("check() reports a free list that leads out of the heap") {
  RegionHeap<CoalescingFirstFit> t;
  auto& heap = t.heap;
  const HandBuiltList built = build_free_list(heap, {88, 88});
  BlockHeader* const first = header(built.blocks[0]);
  BlockHeader* const second = header(built.blocks[1]);
  // A free block of the same size elsewhere, linked in second's place: the
  // list still holds two blocks of the right sizes, one of them foreign.
  AlignedRegion elsewhere(256, kRegionAlignment);
  BlockHeader* const foreign = create_header(elsewhere.begin(), 88);
  set_next_link(foreign, nullptr);
  set_prev_link(foreign, first);
  write_footer(*foreign);
  // Outside the region: there is no offset to name, and 0 says so.
  check_corruption(
      heap, [&] { set_next_link(first, foreign); }, "the free list holds only blocks of this heap", 0,
      [&] { set_next_link(first, second); });
}

TEST_CASE("check() reports a next-fit rover that is not on the list") {
  using A = CoalescingNextFit;
  RegionHeap<A> t;
  auto& heap = t.heap;
  // x, carved first, stays allocated; then h -> r -> c -> t on the list.
  void* const x = heap.allocate(request_for<A>(72));
  REQUIRE(x != nullptr);
  REQUIRE(heap.allocate(0) != nullptr);  // a spacer
  const HandBuiltList built = build_free_list(heap, {72, 72, 88, 136});
  BlockHeader* const h = header(built.blocks[0]);
  BlockHeader* const r = header(built.blocks[1]);
  BlockHeader* const tl = header(built.blocks[3]);
  REQUIRE(heap.allocate(kRequest) == built.blocks[2]);
  REQUIRE(heap.free_blocks().policy().rover() == r);
  REQUIRE(listed(heap) == std::vector<const BlockHeader*>{h, r, tl});
  CHECK(heap.check());
  // x, made to look free, takes r's place on the list (same size, so the
  // list's tally still matches): the rover is left on a block off the list.
  BlockHeader& fake = *header(x);
  const BlockHeader saved = fake;
  check_corruption(
      heap,
      [&] {
        mark_free(fake);
        write_footer(fake);
        set_next_link(&fake, tl);
        set_prev_link(&fake, h);
        set_next_link(h, &fake);
        set_prev_link(tl, &fake);
      },
      "the rover is on the free list", offset_of_block(heap, built.blocks[1]),
      [&] {
        fake = saved;
        write_footer(fake);
        set_next_link(h, r);
        set_prev_link(tl, r);
      });
}

TEST_CASE("check() reports a free list whose tally does not match its blocks") {
  RegionHeap<CoalescingFirstFit> t;
  auto& heap = t.heap;
  const HandBuiltList built = build_free_list(heap, {88, 88, 88});
  BlockHeader* const first = header(built.blocks[0]);
  BlockHeader* const second = header(built.blocks[1]);
  BlockHeader* const third = header(built.blocks[2]);
  // second unlinked by hand: the list walks two blocks, its tally says three.
  set_next_link(first, third);
  set_prev_link(third, first);
  const CheckResult result = heap.check();
  CHECK_FALSE(result.ok());
  CHECK(result.failed_invariant == "the free list's tally matches its blocks");
  set_next_link(first, second);
  set_prev_link(third, second);
  CHECK(heap.check());
}

TEST_CASE("check() reports stats that disagree with the walk") {
  RegionHeap<CoalescingFirstFit> t;
  auto& heap = t.heap;
  void* const p = heap.allocate(64);
  REQUIRE(p != nullptr);
  // The counters say 64 bytes were asked for; the block now says 60. No
  // one block is at fault: the offset is where the walk ended, the break.
  check_corruption(
      heap, [&] { header(p)->requested = 60; }, "stats agree with the walk", blocks_of(heap).used(),
      [&] { header(p)->requested = 64; });
}

TEST_CASE_TEMPLATE("check() reports a broken prologue or epilogue", A, HEAPLAB_LAYOUT_CONFIGS) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  (void)carve(heap, 2);
  // The prologue: 24 bytes at offset 0, its footer in its last 8.
  BlockHeader& prologue = *blocks_of(heap).first();
  REQUIRE(block_start(&prologue) == blocks_of(heap).begin());
  REQUIRE(block_size(prologue) == kMinBlockSize);
  BlockFooter& footer = footer_of(prologue);
  const BlockFooter saved_footer = footer;
  check_corruption(
      heap, [&] { footer.size_and_flags = 0; }, "the prologue is an allocated block with its footer", 0,
      [&] { footer = saved_footer; });
  // The epilogue: a header of size 0 past the break.
  BlockHeader& end = epilogue(heap);
  const BlockHeader saved_end = end;
  const auto restore_end = [&] { end = saved_end; };
  constexpr std::string_view kEpilogue = "the epilogue is an allocated header of size 0";
  check_corruption(
      heap, [&] { end.size_and_flags += kMinTaggedBlockSize; }, kEpilogue, blocks_of(heap).used(), restore_end);
  check_corruption(
      heap, [&] { end.size_and_flags &= ~kAllocatedBit; }, kEpilogue, blocks_of(heap).used(), restore_end);
}

TEST_CASE_TEMPLATE("check() reports the offset of a broken block far into the region", A, HEAPLAB_LAYOUT_CONFIGS) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  const std::vector<void*> b = carve(heap, 40);
  for (std::size_t i = 0; i < b.size(); i += 2) heap.deallocate(b[i]);  // every other block free
  CHECK(heap.check());
  // A free block's footer, the 31st block of the region.
  BlockFooter& footer = footer_of(*header(b[30]));
  const BlockFooter saved = footer;
  check_corruption(
      heap, [&] { footer.size_and_flags ^= kAllocatedBit; }, "the footer equals the header",
      kFirstBlock + 30 * block_for<A>(kRequest), [&] { footer = saved; });
}

// ---- Misuse ------------------------------------------------------------------------

TEST_CASE_TEMPLATE("misuse is reported and changes nothing", A, HEAPLAB_LAYOUT_CONFIGS) {
  RecordingHandler misuse;
  RegionHeap<A> t;
  auto& heap = t.heap;
  const std::vector<void*> b = carve_and_free_for_misuse(heap);
  int on_the_stack = 0;
  std::vector<MisuseCase> cases = stale_pointer_cases(b);
  cases.insert(cases.end(),
               {
                   {&on_the_stack, Misuse::foreign_pointer, "foreign pointer"},
                   {blocks_of(heap).begin() + kHeaderSize, Misuse::foreign_pointer, "the prologue's payload"},
                   {blocks_of(heap).brk() + kHeaderSize, Misuse::foreign_pointer,
                    "past the break: the epilogue's payload"},
               });
  check_misuse_changes_nothing(heap, misuse, cases, /*with_usable_size=*/true,
                               check_same_coalescing_stats<CoalescingStats>);
  CHECK(misuse.reports().size() == 3 * cases.size());
}

// ---- The tags and the four cases as template arguments ------------------------

TEST_CASE("tags and four cases plugged into CoalescingAllocator are the ones it runs, and serve as the course's do") {
  RegionHeap<CoalescingFirstFit> course;
  const std::size_t seals_before = CountedTags::seals;
  const std::size_t calls_before = CountedCases::calls;
  RegionHeap<SlotFirstFit> slot;
  CHECK(CountedTags::seals - seals_before == 1);  // the prologue's
  check_served_alike(course.heap, course.region.bytes(), slot.heap, slot.region.bytes(), 600);
  const CoalescingStats stats = slot.heap.stats();
  CHECK(stats.merges == course.heap.stats().merges);
  CHECK(stats.merges > 0);
  // Every free, and every move of the break, went through the four cases given.
  CHECK(CountedCases::calls - calls_before >= stats.allocations - stats.live_allocations);
  CHECK(CountedTags::seals - seals_before > stats.allocations);
  check_counts_against_walk(slot.heap);
}

TEST_CASE("four cases that forget the previous block leave two free blocks side by side, and check() says so") {
  RegionHeap<CoalescingAllocator<FitList<FirstFit>, FooterTags, BasicImmediateCoalescing<ForgetsThePrevious>>> t;
  auto& heap = t.heap;
  void* const left = heap.allocate(16);
  void* const x = heap.allocate(24);
  REQUIRE(heap.allocate(32) != nullptr);
  heap.deallocate(left);
  REQUIRE(heap.check());
  heap.deallocate(x);  // case 3: [F][x][A], x is not merged into the block in front
  check_fails(heap.check(), "no two free blocks are adjacent (immediate coalescing)", offset_of_block(heap, x));
}

TEST_CASE("tags that never write a footer are caught by check()") {
  RegionHeap<CoalescingAllocator<FitList<FirstFit>, ForgetsTheFooter>> t;
  void* const p = t.heap.allocate(24);
  REQUIRE(p != nullptr);
  check_fails(t.heap.check(), "the footer equals the header", offset_of_block(t.heap, p));
}

}  // TEST_SUITE("stage4")
