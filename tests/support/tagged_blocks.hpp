/// \file
/// Hand-built heaps of tagged blocks for the suites of chapters 4 and 5
/// (tests/stage4_tests.cpp, tests/stage5_tests.cpp): a page-aligned region
/// per test, blocks carved one after the other at the break, free lists
/// built by hand, the region's layout as text, a free block's links written
/// by hand, and the checker's failures broken on purpose and restored.
///
/// Chapter 4's allocators are one region each; chapter 5 reaches its
/// regions through the layers (LargeBlocks -> GrowingHeap -> region). What
/// differs is said once, in RegionAccess: the primary template is chapter
/// 4's, and tests/stage5_tests.cpp specializes it for RealMalloc.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
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
#include "stage4_coalescing/footer_elision.hpp"
#include "tests/support/aligned_region.hpp"
#include "tests/support/block_walk.hpp"
#include "tests/support/free_list_stats.hpp"
#include "tests/support/recording_handler.hpp"

namespace heaplab::testing {

/// Bytes of the region most tests use.
inline constexpr std::size_t kRegionBytes = 64 * 1024;
/// Alignment of every test region: a page.
inline constexpr std::size_t kRegionAlignment = 4096;
/// Offset of the first block of a region: the prologue (chapter 2's
/// smallest block) comes first.
inline constexpr std::size_t kFirstBlock = kMinBlockSize;
/// The request most hand-built heaps use.
inline constexpr std::size_t kRequest = 64;
/// A mebibyte.
inline constexpr std::size_t kMiB = 1024 * 1024;

// ---- The customization point
// --------------------------------------------------

/// How the helpers below reach the chapter-4 allocators ("regions") inside
/// an allocator \p A. This primary template is chapter 4's: \p A is a
/// chapter-4 allocator, its own one region, with one free list. A suite
/// whose allocators hold their regions behind layers specializes it.
template <class A>
struct RegionAccess {
  /// False: the block walk never leaves region 0 (layout() checks so).
  /// True: the walk shows more regions and mapped blocks (layout() skips them).
  static constexpr bool kGrows = false;

  /// Calls \p visit with each region's chapter-4 allocator, oldest first.
  template <class Visitor>
  static void for_each_region(const A &heap, Visitor &&visit) {
    visit(heap);
  }

  /// The chapter-4 allocator of the first region.
  static const A &first(const A &heap) { return heap; }

  /// Calls \p visit with each free block on the lists of \p region (one of
  /// the allocators for_each_region() visits), head first.
  template <class Region, class Visitor>
  static void for_each_free_block(const Region &region, Visitor &&visit) {
    region.free_blocks().for_each(visit);
  }
};

// ---- Regions and sizes
// ---------------------------------------------------------

/// An allocator of type \p A over its own page-aligned region of \p bytes;
/// \p args go to A's constructor after the region (chapter 5: an Upstream).
template <class A>
struct RegionHeap {
  template <class... Args>
  explicit RegionHeap(std::size_t bytes = kRegionBytes, Args &&...args)
      : region(bytes, kRegionAlignment), heap(region.bytes(), std::forward<Args>(args)...) {}
  AlignedRegion region;  ///< The memory (declared first: it must outlive the allocator).
  A heap;                ///< The allocator under test.
};

/// The tag layout of \p A's blocks.
template <class A>
using TagsOf = typename A::tags_type;
/// True when \p A elides the footers of allocated blocks (and keeps P bits).
template <class A>
inline constexpr bool kElidedOf = std::is_same_v<TagsOf<A>, ElidedFooters>;

/// The block \p A hands out for \p request bytes.
template <class A>
constexpr std::size_t block_for(std::size_t request) {
  return tagged_block_size_for<TagsOf<A>>(request);
}
/// The request that gets a block of exactly \p size bytes (size >= 40) from \p
/// A.
template <class A>
constexpr std::size_t request_for(std::size_t size) {
  return size - kHeaderSize - TagsOf<A>::kAllocatedFooterBytes;
}

/// The header of the block whose payload is \p payload.
inline BlockHeader *header(void *payload) { return header_of(payload); }

/// \p heap's first (in chapter 4: only) region: its blocks and its break.
template <class A>
const BlockHeap &blocks_of(const A &heap) {
  return RegionAccess<A>::first(heap).heap().blocks();
}

/// Offset of \p p's block in \p heap's first region.
template <class A>
std::size_t offset_of_block(const A &heap, void *p) {
  return blocks_of(heap).offset_of(header(p));
}

/// The epilogue header of \p heap's first region.
template <class A>
BlockHeader &epilogue(const A &heap) {
  return *header_at(blocks_of(heap).brk());
}

// ---- Layouts and lists
// -----------------------------------------------------------

/// The first region's blocks as text, "A88@24 F176@112 ...": state, size
/// and offset of each, the prologue left out. With one region, checks that
/// the walk stays in it; where regions grow, grown regions and mapped
/// blocks are not shown.
template <class A>
std::string layout(const A &heap) {
  std::string text;
  for (const BlockView &view : walk(heap)) {
    if constexpr (RegionAccess<A>::kGrows) {
      if (view.region != 0) continue;
    } else {
      CHECK(view.region == 0);  // one region
    }
    if (!text.empty()) text += ' ';
    text += (view.state == BlockState::allocated ? 'A' : 'F') + std::to_string(view.size) + '@' +
            std::to_string(view.offset);
  }
  return text;
}

/// Every free block on \p heap's lists: region by region, list by list
/// (in chapter 5: smallest class first), each head first.
template <class A>
std::vector<const BlockHeader *> listed(const A &heap) {
  std::vector<const BlockHeader *> blocks;
  RegionAccess<A>::for_each_region(heap, [&blocks](const auto &region) {
    RegionAccess<A>::for_each_free_block(region, [&blocks](const BlockHeader &block) { blocks.push_back(&block); });
  });
  return blocks;
}

/// What a block walk counts, region by region (see count_walk()).
struct WalkCounts {
  std::size_t regions = 0;       ///< Regions for_each_region() visits.
  std::size_t allocated = 0;     ///< Allocated blocks in the regions.
  std::size_t payload = 0;       ///< Their bytes less their tags.
  std::size_t free_blocks = 0;   ///< Free blocks in the regions.
  std::size_t free_bytes = 0;    ///< Their bytes.
  std::size_t bytes = 0;         ///< Bytes the regions use, prologues included.
  std::size_t mapped = 0;        ///< Blocks past the regions: mapped ones.
  std::size_t mapped_bytes = 0;  ///< Their bytes.
};

/// Walks \p heap's blocks and counts them, checking on the way that each
/// region's blocks tile it from its prologue to its break.
template <class A>
WalkCounts count_walk(const A &heap) {
  constexpr std::size_t tags = kHeaderSize + TagsOf<A>::kAllocatedFooterBytes;
  WalkCounts counts;
  std::vector<std::size_t> ends;  // where each region's next block starts
  RegionAccess<A>::for_each_region(heap, [&](const auto &) { ends.push_back(kFirstBlock); });
  counts.regions = ends.size();
  for (const BlockView &view : walk(heap)) {
    if (view.region >= counts.regions) {
      ++counts.mapped;
      counts.mapped_bytes += view.size;
      continue;
    }
    CHECK(view.offset == ends[view.region]);  // blocks tile the region
    ends[view.region] += view.size;
    if (view.state == BlockState::allocated) {
      ++counts.allocated;
      counts.payload += view.size - tags;
    } else {
      ++counts.free_blocks;
      counts.free_bytes += view.size;
    }
  }
  for (const std::size_t end : ends) counts.bytes += end;
  return counts;
}

/// Checks that every number of \p after equals \p before's: the free-list
/// numbers and the merge counters.
template <class Stats>
void check_same_coalescing_stats(const Stats &before, const Stats &after) {
  check_same_free_list_stats(before, after);
  CHECK(after.merges == before.merges);
  CHECK(after.merge_passes == before.merge_passes);
}

// ---- Building heaps by hand
// --------------------------------------------------------

/// Carves \p count blocks for \p request bytes each, one after the other
/// at the break of a fresh heap.
template <class A>
std::vector<void *> carve(A &heap, std::size_t count, std::size_t request = kRequest) {
  std::vector<void *> blocks;
  for (std::size_t i = 0; i < count; ++i) {
    blocks.push_back(heap.allocate(request));
    REQUIRE(blocks.back() != nullptr);
    REQUIRE(offset_of_block(heap, blocks.back()) == kFirstBlock + i * block_for<A>(request));
  }
  return blocks;
}

/// A free list built by hand: blocks of the sizes asked, each followed by
/// an allocated spacer, freed so that the first block ends at the head.
struct HandBuiltList {
  std::vector<void *> blocks;   ///< Payloads, in the order asked (on one list: head first).
  std::vector<void *> spacers;  ///< spacers[i] follows blocks[i] in memory.
};

/// Builds free blocks of \p block_sizes (tags included) on the fresh
/// allocator \p heap, head first. The blocks are carved tail first, each
/// followed by an allocated spacer (so nothing merges), and freed tail
/// first: a LIFO list then runs against address order, so a policy that
/// walked memory instead of the list would be caught.
template <class A>
HandBuiltList build_free_list(A &heap, const std::vector<std::size_t> &block_sizes) {
  HandBuiltList built{std::vector<void *>(block_sizes.size()), std::vector<void *>(block_sizes.size())};
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

// ---- Footer elision
// ------------------------------------------------------------------

/// On a fresh allocator \p A that elides footers: carves three blocks and
/// frees them one by one (case 1, case 2, case 3), checking after each
/// step that every P bit, the epilogue's too, says whether the block in
/// front is allocated, and that a free block's footer leads back to it;
/// then allocates the whole again and checks the epilogue's P bit follows.
template <class A>
void check_p_bits_follow_frees() {
  static_assert(kElidedOf<A>, "P bits are kept under footer elision");
  RegionHeap<A> t;
  auto &heap = t.heap;
  const std::vector<void *> b = carve(heap, 3);
  for (void *p : b) CHECK(prev_allocated_bit(*header(p)));  // the prologue, then allocated blocks
  CHECK(prev_allocated_bit(epilogue(heap)));
  heap.deallocate(b[1]);
  CHECK(prev_allocated_bit(*header(b[1])));
  CHECK_FALSE(prev_allocated_bit(*header(b[2])));
  CHECK(footer_of(*header(b[1])).size_and_flags == header(b[1])->size_and_flags);
  CHECK(&prev_block(*header(b[2])) == header(b[1]));  // through the free block's footer
  CHECK(heap.check());
  heap.deallocate(b[0]);                     // case 2
  CHECK(prev_allocated_bit(*header(b[0])));  // the prologue
  CHECK_FALSE(prev_allocated_bit(*header(b[2])));
  heap.deallocate(b[2]);  // case 3: the whole heap is one free block
  CHECK_FALSE(prev_allocated_bit(epilogue(heap)));
  CHECK(heap.check());
  // Allocated again (whole): the epilogue's P bit follows.
  void *const p = heap.allocate(request_for<A>(3 * block_for<A>(kRequest)));
  CHECK(p == b[0]);
  CHECK(prev_allocated_bit(epilogue(heap)));
  CHECK(heap.check());
}

// ---- Breaking a heap on purpose (the checker tests)
// -------------------------------- A free block keeps its list links at the
// start of its payload, next then prev (the diagram of linked_free_list.hpp).
// The checker tests rewrite them to break a list on purpose, and restore them
// afterwards.

/// Writes \p next as \p block's next link.
inline void set_next_link(BlockHeader *block, BlockHeader *next) { std::memcpy(payload_of(block), &next, sizeof next); }
/// Writes \p prev as \p block's prev link.
inline void set_prev_link(BlockHeader *block, BlockHeader *prev) {
  std::memcpy(payload_of(block) + sizeof(BlockHeader *), &prev, sizeof prev);
}

/// Checks that \p result is a failure naming \p invariant at \p offset of
/// the first (in chapter 4: only) region.
inline void check_fails(const CheckResult &result, std::string_view invariant, std::size_t offset) {
  CHECK_FALSE(result.ok());
  CHECK(result.failed_invariant == invariant);
  CHECK(result.offset == offset);
  CHECK(result.region == 0);
}

/// Breaks \p heap with \p corrupt, checks that check() fails naming
/// \p invariant at \p offset (check_fails()), undoes the damage with
/// \p restore and checks that check() passes again: the corruption was
/// the only fault.
template <class A, class Corrupt, class Restore>
void check_corruption(const A &heap, Corrupt &&corrupt, std::string_view invariant, std::size_t offset,
                      Restore &&restore) {
  std::forward<Corrupt>(corrupt)();
  check_fails(heap.check(), invariant, offset);
  std::forward<Restore>(restore)();
  CHECK(heap.check());
}

// ---- Misuse
// ------------------------------------------------------------------------

/// One misuse a test commits: the pointer passed, the report it must get,
/// and what it is (for INFO()).
struct MisuseCase {
  void *p;
  Misuse kind;
  std::string_view what;
};

/// Carves 7 blocks a..g on the fresh allocator \p heap and frees b, d,
/// then c (case 4: the starts of c and d are forgotten) and f (case 1:
/// still a block, and free). Returns the 7 payloads.
template <class A>
std::vector<void *> carve_and_free_for_misuse(A &heap) {
  const std::vector<void *> b = carve(heap, 7);
  heap.deallocate(b[1]);
  heap.deallocate(b[3]);
  heap.deallocate(b[2]);  // case 4: the starts of c and d are forgotten
  heap.deallocate(b[5]);  // case 1: still a block, and free
  REQUIRE(heap.stats().merges == 2);
  return b;
}

/// The stale and interior pointers that carve_and_free_for_misuse()'s
/// blocks \p b make: double frees, before and after a merge, and a
/// pointer into a live block.
inline std::vector<MisuseCase> stale_pointer_cases(const std::vector<void *> &b) {
  return {
      {b[5], Misuse::double_free, "double free"},
      {b[1], Misuse::double_free, "double free of a block that absorbed its neighbours"},
      {b[2], Misuse::interior_pointer, "double free of a block absorbed by the one in front"},
      {b[3], Misuse::interior_pointer, "double free of a block absorbed by the one in front"},
      {static_cast<std::byte *>(b[0]) + 8, Misuse::interior_pointer, "interior pointer in a heap block"},
  };
}

/// Passes each of \p cases to deallocate(), reallocate() and, when
/// \p with_usable_size, usable_size(); checks that each call is reported
/// to \p misuse as its case's kind, and that nothing changed:
/// \p same_stats(before, after), the layout, check().
template <class A, class SameStats>
void check_misuse_changes_nothing(A &heap, const RecordingHandler &misuse, const std::vector<MisuseCase> &cases,
                                  bool with_usable_size, SameStats same_stats) {
  for (const MisuseCase &c : cases) {
    INFO(c.what);
    const auto before = heap.stats();
    const std::string before_layout = layout(heap);
    const std::size_t reported = misuse.count(c.kind);
    heap.deallocate(c.p);
    CHECK(misuse.count(c.kind) == reported + 1);
    CHECK(heap.reallocate(c.p, 10) == nullptr);
    CHECK(misuse.count(c.kind) == reported + 2);
    if (with_usable_size) {
      CHECK(heap.usable_size(c.p) == 0);
      CHECK(misuse.count(c.kind) == reported + 3);
    }
    same_stats(before, heap.stats());
    CHECK(layout(heap) == before_layout);
    CHECK(heap.check());
  }
}

}  // namespace heaplab::testing
