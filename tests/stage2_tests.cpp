// Chapter 2's invariant suite: what the free-list allocators, their block
// headers, the block start map and the block heap promise beyond the
// shared contract.
//
// Most tests run over a page-aligned region of known size, so that every
// block address follows from what the test allocates: the start map fills
// the first BlockStartMap::bytes_for(region size) bytes, and blocks are
// carved one after the other from there.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/misuse.hpp"
#include "stage1_static_bump/static_heap.hpp"
#include "stage2_free_list/block.hpp"
#include "stage2_free_list/block_diagram.hpp"
#include "stage2_free_list/block_heap.hpp"
#include "stage2_free_list/block_start_map.hpp"
#include "stage2_free_list/free_list_allocator.hpp"
#include "stage2_free_list/free_list_allocator_impl.hpp"
#include "tests/support/aligned_region.hpp"
#include "tests/support/block_walk.hpp"
#include "tests/support/blocks.hpp"
#include "tests/support/free_list_stats.hpp"
#include "tests/support/recording_handler.hpp"

namespace {

using heaplab::testing::check_stats_against_walk;
using heaplab::testing::walk;

using namespace heaplab;
using heaplab::testing::AlignedRegion;
using heaplab::testing::block_at;
using heaplab::testing::holds_pattern;
using heaplab::testing::RecordingHandler;

constexpr std::size_t kSizeMax = std::numeric_limits<std::size_t>::max();
/// The largest power of two a std::size_t holds.
constexpr std::size_t kTopBit = kSizeMax / 2 + 1;

/// Bytes of the region most tests use: room for a few hundred small blocks.
constexpr std::size_t kRegionBytes = 64 * 1024;
/// Alignment of every test region: a page, so that the alignment gaps of
/// requests up to 4096 depend only on what the test allocated before.
constexpr std::size_t kRegionAlignment = 4096;

/// Bytes from the size word to the payload (block.hpp's diagram).
constexpr std::size_t kSizeWordBack = 16;
/// Bytes from the requested word to the payload.
constexpr std::size_t kRequestedWordBack = 8;

/// An allocator of type \p A over its own page-aligned region.
template <class A>
struct RegionHeap {
  explicit RegionHeap(std::size_t bytes = kRegionBytes)
      : region(bytes, kRegionAlignment), heap(region.bytes()) {}
  AlignedRegion region;  ///< The memory (declared first: it must outlive the allocator).
  A heap;                ///< The allocator under test.
};

/// The two header words in front of a payload, read as raw memory.
struct RawHeader {
  std::size_t size_and_flags;  ///< Block size | allocated bit.
  std::size_t requested;       ///< Bytes the caller asked for.
};

/// Reads the header of \p payload byte by byte at the offsets the chapter
/// draws, so the tests check the documented layout, not only BlockHeader.
RawHeader raw_header(const void* payload) {
  const auto* const p = static_cast<const std::byte*>(payload);
  RawHeader header{};
  std::memcpy(&header.size_and_flags, p - kSizeWordBack, sizeof header.size_and_flags);
  std::memcpy(&header.requested, p - kRequestedWordBack, sizeof header.requested);
  return header;
}

/// The size word of the block whose payload is \p payload.
void* size_word(void* payload) { return static_cast<std::byte*>(payload) - kSizeWordBack; }
/// The requested word of the block whose payload is \p payload.
void* requested_word(void* payload) { return static_cast<std::byte*>(payload) - kRequestedWordBack; }

/// The \p T stored at \p at, read as raw memory.
template <class T>
T read_raw(const void* at) {
  T value{};
  std::memcpy(&value, at, sizeof value);
  return value;
}

/// Stores \p value at \p at as raw memory, behind the allocator's back.
template <class T>
void write_raw(void* at, T value) {
  std::memcpy(at, &value, sizeof value);
}

/// Overwrites the \p T at \p at behind the allocator's back and writes the
/// old bytes back when destroyed: a test corrupts the heap, looks at what
/// check() says, and the allocator is sound again before it is destroyed.
template <class T>
class ScopedPatch {
 public:
  ScopedPatch(void* at, T value) noexcept : at_(at), saved_(read_raw<T>(at)) { write_raw(at_, value); }
  ScopedPatch(const ScopedPatch&) = delete;
  ScopedPatch& operator=(const ScopedPatch&) = delete;
  ~ScopedPatch() { write_raw(at_, saved_); }

 private:
  void* at_;  ///< Where the patch is.
  T saved_;   ///< The bytes that were there before.
};


/// The filler an aligned block carved at \p brk needs: the smallest gap,
/// either 0 or a whole minimum block, that puts the payload (kHeaderSize
/// past the block's start) on an \p align boundary. Found by trying one
/// cell after another, not with the allocator's formula, so that the
/// formula is what gets tested.
std::size_t expected_filler(const void* brk, std::size_t align) {
  for (std::size_t gap = 0;; gap += kBlockGranularity) {
    if (gap != 0 && gap < kMinBlockSize) continue;
    if ((address_of(brk) + gap + kHeaderSize) % align == 0) return gap;
  }
}



/// Checks that check() fails naming exactly \p invariant (the string in the
/// source) at byte \p offset of the heap.
template <class A>
void check_fails(const A& heap, std::string_view invariant, std::size_t offset) {
  const CheckResult result = heap.check();
  CHECK_FALSE(result.ok());
  CHECK(result.failed_invariant == invariant);
  CHECK(result.offset == offset);
}

/// The course's explicit list, counted: a free list of its own in
/// FreeListAllocator's slot, the one a learner's list takes
/// (stage2_free_list/your_turn/), which shows that the allocator runs the
/// list it is given. The wrong lists below change one step of it.
class CountedList {
 public:
  void insert(BlockHeader& block) noexcept {
    ++inserts;
    list_.insert(block);
  }
  [[nodiscard]] BlockHeader* take(BlockHeap& heap, std::size_t request, std::size_t align,
                                  std::size_t& visited) noexcept {
    ++takes;
    return list_.take(heap, request, align, visited);
  }
  [[nodiscard]] BlockHeader* head() const noexcept { return list_.head(); }
  [[nodiscard]] static BlockHeader* next(BlockHeader& block) noexcept { return ExplicitFreeList::next(block); }
  [[nodiscard]] const FreeTally& tally() const noexcept { return list_.tally(); }
  [[nodiscard]] CheckResult check(const BlockHeap& heap, std::size_t free_blocks) const noexcept {
    return list_.check(heap, free_blocks);
  }

  std::size_t inserts = 0;  ///< insert() calls.
  std::size_t takes = 0;    ///< take() calls.

 protected:
  ExplicitFreeList list_;  ///< The course's list, doing the work.
};

/// A wrong search: it takes the head of the list whatever its size.
class TakesTheHead : public CountedList {
 public:
  [[nodiscard]] BlockHeader* take(BlockHeap& /*heap*/, std::size_t /*request*/, std::size_t /*align*/,
                                  std::size_t& visited) noexcept {
    BlockHeader* const block = list_.head();
    if (block == nullptr) return nullptr;
    ++visited;
    list_.unlink(nullptr, *block);
    return block;
  }
};

/// A wrong unlink: first fit, but the block found is unlinked as if it were
/// the head, forgetting the block before it.
class ForgetsThePrevious : public CountedList {
 public:
  [[nodiscard]] BlockHeader* take(BlockHeap& /*heap*/, std::size_t request, std::size_t align,
                                  std::size_t& visited) noexcept {
    for (BlockHeader* block = list_.head(); block != nullptr; block = next(*block)) {
      ++visited;
      if (can_serve(*block, request, align)) {
        list_.unlink(nullptr, *block);
        return block;
      }
    }
    return nullptr;
  }
};

}  // namespace

TYPE_TO_STRING_AS("ExplicitListAllocator", heaplab::ExplicitListAllocator);
TYPE_TO_STRING_AS("ImplicitListAllocator", heaplab::ImplicitListAllocator);

TEST_SUITE("stage2") {

// ---- Header layout -------------------------------------------------------------

TEST_CASE_TEMPLATE("the start map comes first and the first block starts right after it", A,
                   heaplab::ExplicitListAllocator, heaplab::ImplicitListAllocator) {
  RegionHeap<A> t;
  const std::size_t map_bytes = BlockStartMap::bytes_for(kRegionBytes);
  CHECK(map_bytes == kRegionBytes / 8 / 8);  // one bit per 8-byte cell
  CHECK(t.heap.heap().begin() == t.region.begin() + map_bytes);
  CHECK(t.heap.heap().capacity() == kRegionBytes - map_bytes);
  CHECK(t.heap.stats().capacity == kRegionBytes - map_bytes);
  CHECK(t.heap.stats().used == 0);
  CHECK(walk(t.heap).empty());
  CHECK(t.heap.allocate(8) == t.heap.heap().begin() + kHeaderSize);
}

TEST_CASE_TEMPLATE("a header holds the block size with the allocated bit and the requested bytes", A,
                   heaplab::ExplicitListAllocator, heaplab::ImplicitListAllocator) {
  static_assert(kHeaderSize == 16 && kMinBlockSize == 24 && kAllocatedBit == 1);
  RegionHeap<A> t;
  auto& heap = t.heap;
  // Each request's block size, worked out by hand: a 16-byte header, then the
  // request rounded up to whole 8-byte cells, at least one cell (the link).
  struct Expected {
    std::size_t request;
    std::size_t block;
  };
  const std::array<Expected, 7> table{{{0, 24}, {1, 24}, {8, 24}, {9, 32}, {16, 32}, {40, 56}, {100, 120}}};
  std::byte* expected_payload = heap.heap().begin() + kHeaderSize;
  std::vector<void*> payloads;
  for (const Expected& row : table) {
    CAPTURE(row.request);
    void* p = heap.allocate(row.request);
    REQUIRE(p != nullptr);
    CHECK(p == expected_payload);  // payload = header + 16, blocks back to back
    const RawHeader header = raw_header(p);
    CHECK(header.size_and_flags == (row.block | 1));
    CHECK(header.requested == row.request);
    CHECK(block_size_for(row.request) == row.block);
    expected_payload += row.block;
    payloads.push_back(p);
  }
  for (std::size_t i = 0; i < table.size(); ++i) {
    CAPTURE(table[i].request);
    heap.deallocate(payloads[i]);
    const RawHeader header = raw_header(payloads[i]);
    CHECK(header.size_and_flags == table[i].block);  // allocated bit clear, size kept
    CHECK(header.requested == 0);
  }
  CHECK(heap.check());
}

TEST_CASE_TEMPLATE("the block walk reports whole blocks with their headers in address order", A,
                   heaplab::ExplicitListAllocator, heaplab::ImplicitListAllocator) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  void* a = heap.allocate(40);  // 56-byte block
  void* b = heap.allocate(0);   // 24-byte block
  void* c = heap.allocate(100);  // 120-byte block
  REQUIRE((a && b && c));
  heap.deallocate(b);
  const std::vector<BlockView> views = walk(heap);
  REQUIRE(views.size() == 3);
  CHECK(views[0].offset == 0);
  CHECK(views[0].size == 56);
  CHECK(views[0].state == BlockState::allocated);
  CHECK(views[1].offset == 56);
  CHECK(views[1].size == 24);
  CHECK(views[1].state == BlockState::free);
  CHECK(views[2].offset == 80);
  CHECK(views[2].size == 120);
  CHECK(views[2].state == BlockState::allocated);
  CHECK(heap.stats().used == 200);
}

TEST_CASE_TEMPLATE("the block walk tells each block's header and links apart, as they lie in memory", A,
                   heaplab::ExplicitListAllocator, heaplab::ImplicitListAllocator) {
  RegionHeap<A> t;
  heaplab::testing::exercise_walk_layout(t.heap, t.heap.heap().begin());
  const std::vector<BlockView> views = walk(t.heap);
  const auto free_view = std::ranges::find(views, BlockState::free, &BlockView::state);
  REQUIRE(free_view != views.end());
  CHECK(free_view->header == kHeaderSize);
  CHECK(free_view->links == (std::is_same_v<A, heaplab::ExplicitListAllocator> ? sizeof(void*) : 0));
}

// ---- Reuse -----------------------------------------------------------------

TEST_CASE("explicit list: the block freed last that fits is the one reused (LIFO)") {
  RegionHeap<ExplicitListAllocator> t;
  auto& heap = t.heap;
  void* a = heap.allocate(64);
  void* b = heap.allocate(64);
  void* small = heap.allocate(8);
  REQUIRE((a && b && small));
  heap.deallocate(a);
  heap.deallocate(b);
  heap.deallocate(small);  // list: small -> b -> a
  CHECK(heap.free_list().head() == header_of(small));
  const std::size_t used = heap.stats().used;

  const FreeListStats before = heap.stats();
  CHECK(heap.allocate(64) == b);  // small does not fit; b was freed after a
  CHECK(heap.stats().blocks_visited == before.blocks_visited + 2);
  CHECK(heap.allocate(64) == a);
  CHECK(heap.allocate(8) == small);
  CHECK(heap.stats().used == used);  // all three reused: the break did not move
  CHECK(heap.stats().free_blocks == 0);
  CHECK(heap.check());
}

// ---- The free list as a template argument ---------------------------------

TEST_CASE("a list plugged into FreeListAllocator is the one it runs and serves as ExplicitListAllocator does") {
  RegionHeap<ExplicitListAllocator> course;
  RegionHeap<FreeListAllocator<CountedList>> slot;
  std::vector<void*> course_blocks;
  std::vector<void*> slot_blocks;
  std::size_t requests = 0;
  std::size_t frees = 0;
  // Both heaps get the same requests and frees; each answer must be at the
  // same offset, and the two heaps must look the same afterwards.
  const auto allocate_both = [&](std::size_t size) {
    CAPTURE(size);
    void* const expected = course.heap.allocate(size);
    void* const got = slot.heap.allocate(size);
    ++requests;
    REQUIRE(expected != nullptr);
    REQUIRE(got != nullptr);
    CHECK(slot.heap.heap().offset_of(got) == course.heap.heap().offset_of(expected));
    course_blocks.push_back(expected);
    slot_blocks.push_back(got);
  };
  for (std::size_t i = 0; i < 24; ++i) allocate_both(heaplab::testing::varied_size(i, 120));
  for (std::size_t i = 0; i < 24; ++i) {
    if (i % 3 == 2) continue;
    course.heap.deallocate(course_blocks[i]);
    slot.heap.deallocate(slot_blocks[i]);
    ++frees;
  }
  for (std::size_t i = 0; i < 16; ++i) allocate_both(heaplab::testing::varied_size(i * 7, 160));
  CHECK(slot.heap.check());
  CHECK(slot.heap.free_list().takes == requests);
  CHECK(slot.heap.free_list().inserts == frees);
  heaplab::testing::check_same_free_list_stats(course.heap.stats(), slot.heap.stats());
  CHECK(draw_free_list(slot.heap) == draw_free_list(course.heap));
  CHECK(draw_blocks(slot.heap) == draw_blocks(course.heap));
}

TEST_CASE("a search that takes a block too small for the request is caught by check()") {
  RegionHeap<FreeListAllocator<TakesTheHead>> t;
  auto& heap = t.heap;
  void* const small = heap.allocate(8);
  REQUIRE(heap.allocate(8) != nullptr);  // keeps the small block from being the last one
  heap.deallocate(small);
  REQUIRE(heap.check());
  // The 8-byte payload is handed out for 64 bytes.
  CHECK(heap.allocate(64) == small);
  check_fails(heap, "requested bytes fit the payload", heap.heap().offset_of(header_of(small)));
}

TEST_CASE("an unlink that forgets the block before the one taken loses free blocks, and check() says so") {
  RegionHeap<FreeListAllocator<ForgetsThePrevious>> t;
  auto& heap = t.heap;
  void* const big = heap.allocate(64);
  void* const between = heap.allocate(8);
  void* const small = heap.allocate(8);
  REQUIRE((big && between && small));
  heap.deallocate(big);
  heap.deallocate(small);  // list: small -> big
  REQUIRE(heap.check());
  CHECK(heap.allocate(64) == big);  // first fit skips small, then unlinks big as if it were the head
  check_fails(heap, "the free list holds every free block", heap.stats().used);
}

TEST_CASE("implicit list: the lowest-address free block that fits is reused whatever the order of frees") {
  RegionHeap<ImplicitListAllocator> t;
  auto& heap = t.heap;
  void* small = heap.allocate(8);  // the lowest block, but too small for 64
  void* a = heap.allocate(64);
  void* b = heap.allocate(64);
  void* c = heap.allocate(64);
  REQUIRE((small && a && b && c));
  heap.deallocate(c);
  heap.deallocate(a);
  heap.deallocate(b);
  heap.deallocate(small);
  const std::size_t used = heap.stats().used;

  // Each search walks from the first block to the first free one that fits.
  FreeListStats before = heap.stats();
  CHECK(heap.allocate(64) == a);  // visits small, a
  CHECK(heap.stats().blocks_visited == before.blocks_visited + 2);
  before = heap.stats();
  CHECK(heap.allocate(64) == b);  // visits small, a, b
  CHECK(heap.stats().blocks_visited == before.blocks_visited + 3);
  CHECK(heap.allocate(64) == c);
  CHECK(heap.allocate(8) == small);
  CHECK(heap.stats().used == used);
  CHECK(heap.check());
}

TEST_CASE_TEMPLATE("a block is taken whole: a 16-byte request reuses a freed 1 KiB block", A,
                   heaplab::ExplicitListAllocator, heaplab::ImplicitListAllocator) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  void* big = heap.allocate(1024);  // a 1040-byte block
  REQUIRE(big != nullptr);
  REQUIRE(heap.allocate(8) != nullptr);  // a neighbour: the big block is not the last one
  heap.deallocate(big);
  const FreeListStats before = heap.stats();

  void* p = heap.allocate(16);
  CHECK(p == big);
  CHECK(raw_header(p).size_and_flags == (1040 | 1));  // not split: the whole block
  CHECK(raw_header(p).requested == 16);
  const FreeListStats after = heap.stats();
  CHECK(after.used == before.used);
  CHECK(after.requested == before.requested + 16);
  CHECK(after.payload_bytes == before.payload_bytes + 1024);  // 1008 bytes of internal fragmentation
  CHECK(after.header_bytes == before.header_bytes + kHeaderSize);
  CHECK(after.free_blocks == before.free_blocks - 1);
  CHECK(after.free_bytes == before.free_bytes - 1040);
  CHECK(walk(heap).front().size == 1040);
  CHECK(walk(heap).front().state == BlockState::allocated);
  // The whole payload is the caller's now: growing into it stays in place.
  CHECK(heap.reallocate(p, 1024) == p);
  CHECK(heap.check());
}

TEST_CASE_TEMPLATE("freeing blocks in every order keeps check() green and ends with every block free", A,
                   heaplab::ExplicitListAllocator, heaplab::ImplicitListAllocator) {
  constexpr std::array<std::size_t, 6> kSizes{0, 8, 13, 100, 1000, 40};
  std::array<std::size_t, kSizes.size()> order{};
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::size_t permutations = 0;
  do {
    CAPTURE(permutations);
    RegionHeap<A> t(4096);
    auto& heap = t.heap;
    std::array<void*, kSizes.size()> blocks{};
    std::array<std::size_t, kSizes.size()> block_sizes{};
    for (std::size_t i = 0; i < kSizes.size(); ++i) {
      blocks[i] = heap.allocate(kSizes[i]);
      REQUIRE(blocks[i] != nullptr);
      block_sizes[i] = raw_header(blocks[i]).size_and_flags & ~kFlagMask;
    }
    const std::size_t used = heap.stats().used;
    CHECK(used == std::accumulate(block_sizes.begin(), block_sizes.end(), std::size_t{0}));

    std::size_t freed_bytes = 0;
    for (std::size_t k = 0; k < order.size(); ++k) {
      heap.deallocate(blocks[order[k]]);
      freed_bytes += block_sizes[order[k]];
      REQUIRE(heap.check());
      const FreeListStats s = heap.stats();
      CHECK(s.free_blocks == k + 1);
      CHECK(s.free_bytes == freed_bytes);
      CHECK(s.live_allocations == kSizes.size() - k - 1);
      CHECK(s.used == used);
    }
    const FreeListStats end = heap.stats();
    CHECK(end.free_bytes == end.used);
    CHECK(end.requested == 0);
    CHECK(end.payload_bytes == 0);
    CHECK(end.header_bytes == 0);
    for (const BlockView& view : walk(heap)) CHECK(view.state == BlockState::free);
    ++permutations;
  } while (std::next_permutation(order.begin(), order.end()));
  CHECK(permutations == 720);
}

// ---- Misuse ----------------------------------------------------------------

TEST_CASE_TEMPLATE("every misuse reaches the handler with its kind and changes nothing", A,
                   heaplab::ExplicitListAllocator, heaplab::ImplicitListAllocator) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  RegionHeap<A> other;
  auto* const first = static_cast<std::byte*>(heap.allocate(64));   // header at the heap's first byte
  auto* const second = static_cast<std::byte*>(heap.allocate(64));
  auto* const freed = static_cast<std::byte*>(heap.allocate(64));
  void* const elsewhere = other.heap.allocate(64);
  REQUIRE((first && second && freed && elsewhere));
  heap.deallocate(freed);
  heaplab::testing::fill_pattern(block_at(first, 64), 1);
  heaplab::testing::fill_pattern(block_at(second, 64), 2);
  std::byte* const past_break = heap.heap().brk() + 64;
  REQUIRE(address_in(past_break, t.region.begin(), t.region.end()));
  int on_the_stack = 0;

  struct Case {
    std::string_view why;
    void* pointer;
    Misuse kind;
  };
  const std::vector<Case> cases = {
      {"a block that is already free", freed, Misuse::double_free},
      {"a variable on the stack", &on_the_stack, Misuse::foreign_pointer},
      {"a block of another heap", elsewhere, Misuse::foreign_pointer},
      {"the break itself", heap.heap().brk(), Misuse::foreign_pointer},
      {"the region past the break", past_break, Misuse::foreign_pointer},
      {"the start map at the region's start", t.region.begin(), Misuse::foreign_pointer},
      {"payload + 8", second + 8, Misuse::interior_pointer},
      {"payload + 16", second + 16, Misuse::interior_pointer},
      {"a block's header", second - kHeaderSize, Misuse::interior_pointer},
      {"the first block's header", first - kHeaderSize, Misuse::interior_pointer},
      {"a block's requested word", second - 8, Misuse::interior_pointer},
      {"a misaligned pointer into a payload", second + 1, Misuse::interior_pointer},
      {"8 bytes into a free block", freed + 8, Misuse::interior_pointer},
  };
  for (const Case& misuse_case : cases) {
    for (const bool via_reallocate : {false, true}) {
      INFO(misuse_case.why);
      CAPTURE(via_reallocate);
      const FreeListStats before = heap.stats();
      const RecordingHandler misuse;
      if (via_reallocate) {
        CHECK(heap.reallocate(misuse_case.pointer, 32) == nullptr);
      } else {
        heap.deallocate(misuse_case.pointer);
      }
      REQUIRE(misuse.reports().size() == 1);
      const MisuseReport& report = misuse.reports().front();
      CHECK(report.kind == misuse_case.kind);
      CHECK(report.pointer == misuse_case.pointer);
      CHECK(report.where ==
            (via_reallocate ? "FreeListAllocator::reallocate" : "FreeListAllocator::deallocate"));
      heaplab::testing::check_same_free_list_stats(before, heap.stats());
      CHECK(heap.check());
      CHECK(holds_pattern(block_at(first, 64), 1));
      CHECK(holds_pattern(block_at(second, 64), 2));
    }
  }
  // The real blocks are still the caller's, and free normally.
  const RecordingHandler misuse;
  heap.deallocate(first);
  heap.deallocate(second);
  CHECK(misuse.reports().empty());
  CHECK(heap.stats().live_allocations == 0);
}

TEST_CASE("a second free-list allocator on the static heap is reported and serves nothing") {
  const RecordingHandler misuse;
  ExplicitListAllocator holder;
  REQUIRE(misuse.reports().empty());
  CHECK(holder.stats().capacity == kStaticHeapSize - BlockStartMap::bytes_for(kStaticHeapSize));
  {
    ImplicitListAllocator second;
    CHECK(misuse.count(Misuse::static_heap_taken) == 1);
    CHECK(second.stats().capacity == 0);
    CHECK(second.allocate(0) == nullptr);
    CHECK(second.stats().exhausted == 1);
    CHECK(second.check());
  }
  CHECK(holder.allocate(8) != nullptr);
  CHECK(holder.check());
}

// ---- Alignment -------------------------------------------------------------

TEST_CASE_TEMPLATE("a fresh block with a large alignment gets a free filler block in front of it", A,
                   heaplab::ExplicitListAllocator, heaplab::ImplicitListAllocator) {
  for (std::size_t align = 16; align <= 4096; align *= 2) {
    CAPTURE(align);
    RegionHeap<A> t;
    auto& heap = t.heap;
    REQUIRE(heap.allocate(8) != nullptr);  // one 24-byte block: the break is now off every boundary
    std::byte* const brk = heap.heap().brk();
    const std::size_t filler = expected_filler(brk, align);
    REQUIRE(filler != 0);  // the construction needs a filler for every alignment tried
    const FreeListStats before = heap.stats();

    void* p = heap.allocate(40, align);
    REQUIRE(p != nullptr);
    CHECK(is_aligned(p, align));
    CHECK(p == brk + filler + kHeaderSize);
    CHECK(raw_header(brk + kHeaderSize).size_and_flags == filler);  // a free block
    CHECK(raw_header(brk + kHeaderSize).requested == 0);
    const FreeListStats after = heap.stats();
    CHECK(after.used == before.used + filler + kHeaderSize + 40);
    CHECK(after.free_blocks == before.free_blocks + 1);
    CHECK(after.free_bytes == before.free_bytes + filler);
    const std::vector<BlockView> views = walk(heap);
    REQUIRE(views.size() == 3);
    CHECK(views[1].offset == heap.heap().offset_of(brk));
    CHECK(views[1].size == filler);
    CHECK(views[1].state == BlockState::free);
    CHECK(views[2].state == BlockState::allocated);
    check_stats_against_walk(heap);
    CHECK(heap.check());
    // The filler is an ordinary free block: a request that fits it takes it.
    CHECK(heap.allocate(filler - kHeaderSize) == brk + kHeaderSize);
  }
}

TEST_CASE_TEMPLATE("an aligned request on an already aligned break needs no filler", A,
                   heaplab::ExplicitListAllocator, heaplab::ImplicitListAllocator) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  std::byte* const begin = heap.heap().begin();
  REQUIRE(expected_filler(begin, 16) == 0);
  CHECK(heap.allocate(8, 16) == begin + kHeaderSize);
  CHECK(heap.stats().free_blocks == 0);
  CHECK(heap.stats().used == kMinBlockSize);
}

TEST_CASE_TEMPLATE("a free block is reused only when its payload already has the alignment asked for", A,
                   heaplab::ExplicitListAllocator, heaplab::ImplicitListAllocator) {
  for (std::size_t align = 16; align <= 4096; align *= 2) {
    CAPTURE(align);
    RegionHeap<A> t;
    auto& heap = t.heap;
    void* aligned = heap.allocate(200, align);
    void* unaligned = heap.allocate(200);  // 216 bytes after it: an odd multiple of 8
    REQUIRE((aligned && unaligned));
    REQUIRE(is_aligned(aligned, align));
    REQUIRE_FALSE(is_aligned(unaligned, align));
    const std::size_t unaligned_block = raw_header(unaligned).size_and_flags & ~kFlagMask;
    heap.deallocate(aligned);
    heap.deallocate(unaligned);  // for the explicit list: the head, and skipped
    FreeListStats before = heap.stats();

    CHECK(heap.allocate(200, align) == aligned);
    CHECK(heap.stats().used == before.used);  // reused, nothing carved
    // No aligned free block is left: the next one is carved, aligned.
    before = heap.stats();
    void* carved = heap.allocate(200, align);
    REQUIRE(carved != nullptr);
    CHECK(is_aligned(carved, align));
    CHECK(carved != unaligned);
    CHECK(heap.stats().used > before.used);
    CHECK(raw_header(unaligned).size_and_flags == unaligned_block);  // still free
    CHECK(heap.check());
  }
}

// ---- reallocate ----------------------------------------------------------

TEST_CASE_TEMPLATE("reallocate of nullptr is allocate", A, heaplab::ExplicitListAllocator,
                   heaplab::ImplicitListAllocator) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  const FreeListStats before = heap.stats();
  void* p = heap.reallocate(nullptr, 40);
  REQUIRE(p != nullptr);
  CHECK(raw_header(p).size_and_flags == (56 | 1));
  CHECK(raw_header(p).requested == 40);
  const FreeListStats after = heap.stats();
  CHECK(after.allocations == before.allocations + 1);
  CHECK(after.live_allocations == before.live_allocations + 1);
  CHECK(after.requested == before.requested + 40);
  void* zero = heap.reallocate(nullptr, 0);
  CHECK(zero != nullptr);
  CHECK(zero != p);
  CHECK(heap.check());
}

TEST_CASE_TEMPLATE("reallocate within the payload stays in place: shrink and same and grow and 0", A,
                   heaplab::ExplicitListAllocator, heaplab::ImplicitListAllocator) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  RecordingHandler misuse;
  auto* const p = static_cast<std::byte*>(heap.allocate(100));  // payload capacity 104
  REQUIRE(p != nullptr);
  heaplab::testing::fill_pattern(block_at(p, 100), 7);
  const FreeListStats start = heap.stats();

  CHECK(heap.reallocate(p, 50) == p);  // shrink
  CHECK(raw_header(p).requested == 50);
  CHECK(heap.stats().requested == 50);
  CHECK(holds_pattern(block_at(p, 50), 7));

  CHECK(heap.reallocate(p, 50) == p);  // same size
  CHECK(heap.stats().requested == 50);

  CHECK(heap.reallocate(p, 104) == p);  // grow up to the payload capacity
  CHECK(raw_header(p).requested == 104);
  CHECK(holds_pattern(block_at(p, 50), 7));
  CHECK(heap.stats().peak_requested == 104);

  CHECK(heap.reallocate(p, 0) == p);  // size 0 keeps the (minimal or larger) block
  CHECK(raw_header(p).size_and_flags == (120 | 1));
  CHECK(raw_header(p).requested == 0);

  const FreeListStats end = heap.stats();
  CHECK(end.live_allocations == 1);
  CHECK(end.requested == 0);
  CHECK(end.used == start.used);
  CHECK(end.payload_bytes == start.payload_bytes);
  CHECK(end.searches == start.searches);  // in place: no search at all
  CHECK(end.allocations == start.allocations);
  CHECK(heap.check());
  heap.deallocate(p);  // still an allocated block
  CHECK(misuse.reports().empty());
  CHECK(heap.stats().live_allocations == 0);
}

TEST_CASE_TEMPLATE("reallocate beyond the payload moves the block and keeps its bytes and frees the old one",
                   A, heaplab::ExplicitListAllocator, heaplab::ImplicitListAllocator) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  auto* const p = static_cast<std::byte*>(heap.allocate(100));  // a 120-byte block
  REQUIRE(p != nullptr);
  heaplab::testing::fill_pattern(block_at(p, 100), 9);
  const FreeListStats before = heap.stats();

  auto* const q = static_cast<std::byte*>(heap.reallocate(p, 500));
  REQUIRE(q != nullptr);
  CHECK(q != p);
  CHECK(holds_pattern(block_at(q, 100), 9));
  CHECK(raw_header(q).requested == 500);
  CHECK(raw_header(p).size_and_flags == 120);  // the old block is free
  const FreeListStats after = heap.stats();
  CHECK(after.live_allocations == before.live_allocations);
  CHECK(after.requested == before.requested - 100 + 500);
  CHECK(after.free_blocks == before.free_blocks + 1);
  CHECK(after.free_bytes == before.free_bytes + 120);
  CHECK(heap.check());

  const RecordingHandler misuse;
  heap.deallocate(p);  // the caller's old pointer is gone
  CHECK(misuse.count(Misuse::double_free) == 1);
}

TEST_CASE_TEMPLATE("reallocate with an alignment keeps an aligned block and moves a misaligned one", A,
                   heaplab::ExplicitListAllocator, heaplab::ImplicitListAllocator) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  auto* const aligned = static_cast<std::byte*>(heap.allocate(100, 64));
  REQUIRE(aligned != nullptr);
  heaplab::testing::fill_pattern(block_at(aligned, 100), 3);
  CHECK(heap.reallocate(aligned, 60, 64) == aligned);  // aligned already: stays, only the request changes
  CHECK(raw_header(aligned).requested == 60);
  // A block whose payload is 8 bytes past a 16-byte boundary, asked for 16.
  void* misaligned = nullptr;
  for (int tries = 0; tries < 4 && misaligned == nullptr; ++tries) {
    void* const p = heap.allocate(8);
    REQUIRE(p != nullptr);
    if (!is_aligned(p, 16)) misaligned = p;
  }
  REQUIRE(misaligned != nullptr);
  heaplab::testing::fill_pattern(block_at(misaligned, 8), 4);
  void* const moved = heap.reallocate(misaligned, 8, 16);  // fits, but not aligned enough: moves
  REQUIRE(moved != nullptr);
  CHECK(moved != misaligned);
  CHECK(is_aligned(moved, 16));
  CHECK(holds_pattern(block_at(moved, 8), 4));
  CHECK(heap.reallocate(moved, 8, 3) == nullptr);  // not a power of two: refused, nothing changes
  CHECK(holds_pattern(block_at(moved, 8), 4));
  CHECK(heap.check());
}

TEST_CASE_TEMPLATE("a reallocate that cannot be served returns nullptr and leaves the block intact", A,
                   heaplab::ExplicitListAllocator, heaplab::ImplicitListAllocator) {
  RegionHeap<A> t(4096);
  auto& heap = t.heap;
  auto* const p = static_cast<std::byte*>(heap.allocate(100));
  REQUIRE(p != nullptr);
  heaplab::testing::fill_pattern(block_at(p, 100), 3);
  const RawHeader header = raw_header(p);

  // No room: the heap would need a block of its whole capacity plus a header.
  FreeListStats before = heap.stats();
  CHECK(heap.reallocate(p, heap.heap().capacity()) == nullptr);
  FreeListStats after = heap.stats();
  heaplab::testing::check_same_live_state(before, after);
  CHECK(after.exhausted == before.exhausted + 1);
  CHECK(after.rejected == before.rejected);

  // A size no heap can serve: rejected before any search.
  for (const std::size_t bad : {kSizeMax, kMaxRequest + 1}) {
    CAPTURE(bad);
    before = heap.stats();
    CHECK(heap.reallocate(p, bad) == nullptr);
    after = heap.stats();
    heaplab::testing::check_same_live_state(before, after);
    CHECK(after.rejected == before.rejected + 1);
    CHECK(after.searches == before.searches);
  }

  CHECK(raw_header(p).size_and_flags == header.size_and_flags);
  CHECK(raw_header(p).requested == header.requested);
  CHECK(holds_pattern(block_at(p, 100), 3));
  CHECK(heap.check());
  const RecordingHandler misuse;
  heap.deallocate(p);
  CHECK(misuse.reports().empty());
}

// ---- allocate_zeroed ---------------------------------------------------------

TEST_CASE_TEMPLATE("allocate_zeroed refuses a product that overflows and counts it as rejected", A,
                   heaplab::ExplicitListAllocator, heaplab::ImplicitListAllocator) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  REQUIRE(heap.allocate(40) != nullptr);
  struct Product {
    std::size_t count;
    std::size_t size;
    std::string_view why;
  };
  const std::array<Product, 6> products{{
      {kTopBit, 2, "wraps around to 0"},
      {2, kTopBit, "wraps around to 0, the other way round"},
      {std::size_t{1} << 32, std::size_t{1} << 32, "2^32 * 2^32 wraps around to 0"},
      {3, kSizeMax / 3 + 1, "wraps around to 2, which would fit"},
      {kSizeMax, kSizeMax, "SIZE_MAX squared"},
      {kTopBit / 2, 2, "2^63: no wrap, but more than PTRDIFF_MAX"},
  }};
  for (const Product& product : products) {
    INFO(product.why);
    const FreeListStats before = heap.stats();
    CHECK(heap.allocate_zeroed(product.count, product.size) == nullptr);
    const FreeListStats after = heap.stats();
    heaplab::testing::check_same_live_state(before, after);
    CHECK(after.rejected == before.rejected + 1);
    CHECK(after.exhausted == before.exhausted);
    CHECK(after.searches == before.searches);
  }
  // The largest valid product is not an overflow: refused for lack of room.
  const FreeListStats before = heap.stats();
  CHECK(heap.allocate_zeroed(1, kMaxRequest) == nullptr);
  CHECK(heap.stats().exhausted == before.exhausted + 1);
  CHECK(heap.stats().rejected == before.rejected);
  // A zero count or size is allocate(0): a unique pointer.
  void* none = heap.allocate_zeroed(0, kSizeMax);
  void* empty = heap.allocate_zeroed(kSizeMax, 0);
  CHECK(none != nullptr);
  CHECK(empty != nullptr);
  CHECK(none != empty);
  CHECK(heap.check());
}

TEST_CASE_TEMPLATE("allocate_zeroed zeroes a reused dirty block and a fresh block of a dirty region", A,
                   heaplab::ExplicitListAllocator, heaplab::ImplicitListAllocator) {
  RegionHeap<A> t;  // AlignedRegion fills the region with 0xA5
  auto& heap = t.heap;
  const auto all_zero = [](const void* p, std::size_t bytes) {
    const auto* const b = static_cast<const std::byte*>(p);
    return std::all_of(b, b + bytes, [](std::byte x) { return x == std::byte{0}; });
  };
  void* fresh = heap.allocate_zeroed(10, 10);
  REQUIRE(fresh != nullptr);
  CHECK(all_zero(fresh, 100));

  auto* const dirty = static_cast<std::byte*>(heap.allocate(256));
  REQUIRE(dirty != nullptr);
  std::fill(dirty, dirty + 256, std::byte{0xCD});
  heap.deallocate(dirty);
  const FreeListStats before = heap.stats();
  void* reused = heap.allocate_zeroed(32, 8);
  CHECK(reused == dirty);
  CHECK(all_zero(reused, 256));
  CHECK(heap.stats().used == before.used);
  CHECK(heap.stats().requested == before.requested + 256);
  CHECK(heap.check());
}

// ---- Stats ---------------------------------------------------------------

TEST_CASE_TEMPLATE("the stats add up and agree with a block walk after every operation", A,
                   heaplab::ExplicitListAllocator, heaplab::ImplicitListAllocator) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  RecordingHandler misuse;
  std::vector<void*> live;
  FreeListStats previous = heap.stats();
  for (std::size_t step = 0; step < 300; ++step) {
    CAPTURE(step);
    const std::size_t size = heaplab::testing::varied_size(step, 500);
    switch (step % 5) {
      case 0:
      case 1:
      case 2:
        if (void* p = heap.allocate(size, std::size_t{1} << (step % 7))) live.push_back(p);
        break;
      case 3:
        if (!live.empty()) {
          const std::size_t victim = step % live.size();
          heap.deallocate(live[victim]);
          live[victim] = live.back();
          live.pop_back();
        }
        break;
      case 4:
        if (!live.empty()) {
          const std::size_t victim = step % live.size();
          if (void* q = heap.reallocate(live[victim], size)) live[victim] = q;
        }
        break;
    }
    REQUIRE(heap.check());
    check_stats_against_walk(heap);
    const FreeListStats now = heap.stats();
    CHECK(now.live_allocations == live.size());
    CHECK(now.searches >= previous.searches);
    CHECK(now.blocks_visited >= previous.blocks_visited);
    CHECK(now.allocations >= previous.allocations);
    previous = now;
  }
  CHECK(misuse.reports().empty());
}

/// What searches cost on one heap (see search_costs()).
struct SearchCosts {
  std::size_t miss_searches;  ///< Searches made by a request no block fits.
  std::size_t miss_visits;    ///< Blocks that request looked at.
  std::size_t hit_visits;     ///< Blocks a request that fits the freed blocks looked at.
};

/// Builds a heap of \p pairs pairs [kept 64-byte block, freed 64-byte
/// block] and measures one search that no free block can serve and one
/// that the freed blocks fit: the construction fixes both numbers exactly.
template <class A>
SearchCosts search_costs(std::size_t pairs) {
  RegionHeap<A> t;
  auto& heap = t.heap;
  std::vector<void*> to_free;
  for (std::size_t i = 0; i < pairs; ++i) {
    REQUIRE(heap.allocate(64) != nullptr);
    to_free.push_back(heap.allocate(64));
    REQUIRE(to_free.back() != nullptr);
  }
  for (void* p : to_free) heap.deallocate(p);
  REQUIRE(heap.stats().free_blocks == pairs);

  SearchCosts costs{};
  FreeListStats before = heap.stats();
  REQUIRE(heap.allocate(128) != nullptr);  // no 64-byte payload fits: a miss, then a fresh block
  costs.miss_searches = heap.stats().searches - before.searches;
  costs.miss_visits = heap.stats().blocks_visited - before.blocks_visited;
  before = heap.stats();
  REQUIRE(heap.allocate(64) != nullptr);
  costs.hit_visits = heap.stats().blocks_visited - before.blocks_visited;
  return costs;
}

TEST_CASE("a search visits only the free blocks on the explicit list but every block in the implicit walk") {
  constexpr std::size_t kPairs = 10;
  const SearchCosts explicit_list = search_costs<ExplicitListAllocator>(kPairs);
  const SearchCosts implicit_list = search_costs<ImplicitListAllocator>(kPairs);
  // A miss looks at every candidate: the kPairs free blocks on the list,
  // but all 2 * kPairs blocks of the heap in the walk.
  CHECK(explicit_list.miss_searches == 1);
  CHECK(implicit_list.miss_searches == 1);
  CHECK(explicit_list.miss_visits == kPairs);
  CHECK(implicit_list.miss_visits == 2 * kPairs);
  // A hit: the list's head fits at once; the walk passes the kept block
  // in front of the first freed one.
  CHECK(explicit_list.hit_visits == 1);
  CHECK(implicit_list.hit_visits == 2);
}

TEST_CASE_TEMPLATE("only valid requests search and visited_per_search is their average", A,
                   heaplab::ExplicitListAllocator, heaplab::ImplicitListAllocator) {
  RegionHeap<A> t(4096);
  auto& heap = t.heap;
  CHECK(heap.stats().visited_per_search() == 0.0);
  void* a = heap.allocate(64);
  REQUIRE(a != nullptr);
  REQUIRE(heap.allocate(64) != nullptr);
  heap.deallocate(a);
  FreeListStats before = heap.stats();
  CHECK(before.searches == 2);
  CHECK(heap.allocate(8, 3) == nullptr);        // bad alignment
  CHECK(heap.allocate(kMaxRequest + 1) == nullptr);  // bad size
  CHECK(heap.allocate_zeroed(kTopBit, 2) == nullptr);  // overflow
  CHECK(heap.stats().searches == before.searches);
  CHECK(heap.stats().rejected == before.rejected + 3);
  // A valid request the heap has no room for still searches the free blocks.
  before = heap.stats();
  CHECK(heap.allocate(heap.heap().capacity()) == nullptr);
  const FreeListStats after = heap.stats();
  CHECK(after.searches == before.searches + 1);
  CHECK(after.blocks_visited > before.blocks_visited);
  CHECK(after.visited_per_search() ==
        doctest::Approx(static_cast<double>(after.blocks_visited) / static_cast<double>(after.searches)));
}

// ---- check() catches corruption -------------------------------------------

/// A heap for corruption tests: six 40-byte requests a..f (56-byte blocks,
/// at offsets 0, 56, ..., 280), with b, d and f freed in that order, so the
/// explicit list reads f -> d -> b.
template <class A>
struct CorruptibleHeap {
  RegionHeap<A> t;
  A& heap = t.heap;
  std::array<std::byte*, 6> payload{};  ///< a, b, c, d, e, f

  CorruptibleHeap() {
    for (std::byte*& p : payload) {
      p = static_cast<std::byte*>(heap.allocate(40));
      REQUIRE(p != nullptr);
    }
    for (const std::size_t freed : {std::size_t{1}, std::size_t{3}, std::size_t{5}}) {
      heap.deallocate(payload[freed]);
    }
    REQUIRE(heap.check());
  }
  /// Offset of block \p i from the heap's start, as check() reports it.
  [[nodiscard]] std::size_t offset(std::size_t i) const {
    return heap.heap().offset_of(payload[i] - kHeaderSize);
  }
  /// The word of the start map that holds the bit of the block start at \p at,
  /// and that bit: the map is the first thing in the region (block_heap.hpp).
  [[nodiscard]] std::pair<void*, std::uint64_t> start_bit(const std::byte* at) const {
    const std::size_t cell = heap.heap().offset_of(at) / kBlockGranularity;
    return {t.region.begin() + cell / 64 * sizeof(std::uint64_t), std::uint64_t{1} << (cell % 64)};
  }
};

TEST_CASE_TEMPLATE("check() names each corrupted header or map invariant at the offset where it broke", A,
                   heaplab::ExplicitListAllocator, heaplab::ImplicitListAllocator) {
  CorruptibleHeap<A> h;
  const A& heap = h.heap;
  std::byte* const c = h.payload[2];  // an allocated block in the middle
  const std::size_t allocated_c = 56 | kAllocatedBit;

  SUBCASE("a size of 0") {
    const ScopedPatch patch(size_word(c), std::size_t{0} | kAllocatedBit);
    check_fails(heap, "block size >= minimum block size", h.offset(2));
  }
  SUBCASE("a size below the minimum block") {
    const ScopedPatch patch(size_word(c), std::size_t{16} | kAllocatedBit);
    check_fails(heap, "block size >= minimum block size", h.offset(2));
  }
  SUBCASE("a size reaching one cell past the break") {
    const std::size_t to_break = heap.stats().used - h.offset(2);
    const ScopedPatch patch(size_word(c), (to_break + 8) | kAllocatedBit);
    check_fails(heap, "blocks tile the heap from start to break", h.offset(2));
  }
  SUBCASE("a size far beyond the region") {
    const ScopedPatch patch(size_word(c), (std::size_t{1} << 40) | kAllocatedBit);
    check_fails(heap, "blocks tile the heap from start to break", h.offset(2));
  }
  SUBCASE("a size that lands inside the next block") {
    const ScopedPatch patch(size_word(c), std::size_t{64} | kAllocatedBit);
    check_fails(heap, "every block start is in the start map", h.offset(2) + 64);
  }
  SUBCASE("stray flag bits") {
    for (const std::size_t stray : {std::size_t{2}, std::size_t{4}}) {
      CAPTURE(stray);
      const ScopedPatch patch(size_word(c), allocated_c | stray);
      check_fails(heap, "unused header flag bits are zero", h.offset(2));
    }
  }
  SUBCASE("more requested bytes than the payload holds") {
    const ScopedPatch patch(requested_word(c), std::size_t{41});
    check_fails(heap, "requested bytes fit the payload", h.offset(2));
  }
  SUBCASE("requested bytes in a free block") {
    const ScopedPatch patch(requested_word(h.payload[1]), std::size_t{1});
    check_fails(heap, "a free block has no requested bytes", h.offset(1));
  }
  SUBCASE("a requested count changed behind the allocator's back") {
    const ScopedPatch patch(requested_word(c), std::size_t{8});
    check_fails(heap, "stats agree with the walk", heap.stats().used);
  }
  SUBCASE("a block start missing from the start map") {
    const auto [word, bit] = h.start_bit(c - kHeaderSize);
    const ScopedPatch patch(word, read_raw<std::uint64_t>(word) & ~bit);
    check_fails(heap, "every block start is in the start map", h.offset(2));
  }
  SUBCASE("a start map bit inside a payload") {
    const auto [word, bit] = h.start_bit(c + 8);
    const ScopedPatch patch(word, read_raw<std::uint64_t>(word) | bit);
    check_fails(heap, "the start map marks only block starts", heap.stats().used);
  }
  // Every patch has been undone: the heap is sound again.
  CHECK(heap.check());
}

TEST_CASE("check() names each corrupted explicit free list invariant at the offset where it broke") {
  CorruptibleHeap<ExplicitListAllocator> h;
  const ExplicitListAllocator& heap = h.heap;
  std::byte* const b = h.payload[1];
  std::byte* const d = h.payload[3];
  std::byte* const f = h.payload[5];
  // The link of a free block is the first word of its payload.
  REQUIRE(heap.free_list().head() == header_of(f));
  REQUIRE(read_raw<BlockHeader*>(f) == header_of(d));
  REQUIRE(read_raw<BlockHeader*>(d) == header_of(b));
  REQUIRE(read_raw<BlockHeader*>(b) == nullptr);

  SUBCASE("a free block marked allocated") {
    const ScopedPatch patch(size_word(d), std::size_t{56} | kAllocatedBit);
    check_fails(heap, "every free-list node is marked free", h.offset(3));
  }
  SUBCASE("an allocated block linked into the list") {
    const ScopedPatch patch(d, header_of(h.payload[2]));
    check_fails(heap, "every free-list node is marked free", h.offset(2));
  }
  SUBCASE("a cycle: the last node links back to the head") {
    const ScopedPatch patch(b, header_of(f));
    check_fails(heap, "the free list has no cycle", h.offset(5));  // f is met a second time
  }
  SUBCASE("a node that links to itself") {
    const ScopedPatch patch(d, header_of(d));
    check_fails(heap, "the free list has no cycle", h.offset(3));
  }
  SUBCASE("a free block unlinked from the list") {
    const ScopedPatch patch(f, header_of(b));  // f -> b: d is skipped
    check_fails(heap, "the free list holds every free block", heap.stats().used);
  }
  SUBCASE("a link into the middle of a payload") {
    std::byte* const inside_c = h.payload[2] + 8;
    const ScopedPatch patch(d, reinterpret_cast<BlockHeader*>(inside_c));
    check_fails(heap, "every free-list node is a block of the heap", heap.heap().offset_of(inside_c));
  }
  SUBCASE("a link out of the heap: no offset to report but the break") {
    BlockHeader elsewhere{56, 0};
    const ScopedPatch patch(d, &elsewhere);
    check_fails(heap, "every free-list node is a block of the heap", heap.stats().used);
  }
  CHECK(heap.check());
}

TEST_CASE("check() of the implicit list catches a free block marked allocated behind its back") {
  CorruptibleHeap<ImplicitListAllocator> h;
  const ImplicitListAllocator& heap = h.heap;
  // The walk itself is sound (an allocated block with 0 requested bytes);
  // only the counters kept on the way can tell.
  const ScopedPatch patch(size_word(h.payload[3]), std::size_t{56} | kAllocatedBit);
  check_fails(heap, "stats agree with the walk", heap.stats().used);
}

// ---- BlockStartMap -------------------------------------------------------------

TEST_CASE("BlockStartMap::bytes_for covers every 8-byte cell with whole 64-bit words") {
  CHECK(BlockStartMap::bytes_for(0) == 0);
  CHECK(BlockStartMap::bytes_for(7) == 0);  // not even one cell
  CHECK(BlockStartMap::bytes_for(8) == 8);
  CHECK(BlockStartMap::bytes_for(512) == 8);  // 64 cells: one word
  CHECK(BlockStartMap::bytes_for(520) == 16);
  CHECK(BlockStartMap::bytes_for(4096) == 64);
  CHECK(BlockStartMap::bytes_for(kStaticHeapSize) == kStaticHeapSize / 64);
  // No wrap-around for the largest sizes.
  CHECK(BlockStartMap::bytes_for(kSizeMax) == (kSizeMax / 8 + 63) / 64 * 8);
}

TEST_CASE("BlockStartMap marks and unmarks single cells across word boundaries and counts them") {
  alignas(8) std::array<std::byte, 3 * 64 * 8> heap_bytes{};
  std::array<std::uint64_t, 3> words{};
  BlockStartMap map(words, heap_bytes.data());
  const auto cell = [&heap_bytes](std::size_t i) { return heap_bytes.data() + i * 8; };
  map.claim(cell(192));
  CHECK(map.count() == 0);
  for (const std::size_t i : {std::size_t{0}, std::size_t{63}, std::size_t{64}, std::size_t{191}}) {
    map.mark(cell(i));
  }
  CHECK(map.count() == 4);
  CHECK(words[0] == ((std::uint64_t{1} << 63) | 1));
  CHECK(words[1] == 1);
  CHECK(words[2] == std::uint64_t{1} << 63);
  for (std::size_t i = 0; i < 192; ++i) {
    CAPTURE(i);
    CHECK(map.is_start(cell(i)) == (i == 0 || i == 63 || i == 64 || i == 191));
  }
  map.mark(cell(64));  // marking twice is still one start
  CHECK(map.count() == 4);
  map.unmark(cell(64));
  CHECK_FALSE(map.is_start(cell(64)));
  CHECK(map.is_start(cell(63)));
  CHECK(words[1] == 0);
  CHECK(map.count() == 3);
}

TEST_CASE("BlockStartMap::claim clears each word once, when the break first reaches its cells") {
  alignas(8) std::array<std::byte, 3 * 64 * 8> heap_bytes{};
  constexpr std::uint64_t kGarbage = ~std::uint64_t{0};  // a caller's region may hold anything
  std::array<std::uint64_t, 3> words{kGarbage, kGarbage, kGarbage};
  BlockStartMap map(words, heap_bytes.data());
  const auto cell = [&heap_bytes](std::size_t i) { return heap_bytes.data() + i * 8; };
  CHECK(map.count() == 0);  // nothing claimed: nothing read
  map.claim(cell(3));       // the break moved into word 0
  CHECK(words[0] == 0);
  CHECK(words[1] == kGarbage);  // not reached: never written, so never committed
  map.mark(cell(0));
  map.mark(cell(2));
  map.claim(cell(40));  // still word 0: claimed already, its marks stay
  CHECK(words[0] == 0b101);
  map.claim(cell(65));  // into word 1
  CHECK(words[1] == 0);
  CHECK(words[2] == kGarbage);
  CHECK(map.count() == 2);
  map.claim(cell(192));
  CHECK(words[2] == 0);
  CHECK(map.count() == 2);
}

TEST_CASE("BlockStartMap::count_before counts the starts in the cells before an address") {
  alignas(8) std::array<std::byte, 3 * 64 * 8> heap_bytes{};
  std::array<std::uint64_t, 3> words{};
  BlockStartMap map(words, heap_bytes.data());
  const auto cell = [&heap_bytes](std::size_t i) { return heap_bytes.data() + i * 8; };
  const std::array<std::size_t, 5> starts{0, 5, 63, 64, 130};
  map.claim(cell(192));
  for (const std::size_t i : starts) map.mark(cell(i));
  for (std::size_t end = 0; end <= 192; ++end) {
    CAPTURE(end);
    const auto before_end = static_cast<std::size_t>(
        std::count_if(starts.begin(), starts.end(), [end](std::size_t i) { return i < end; }));
    CHECK(map.count_before(cell(end)) == before_end);
  }
  CHECK(map.count_before(cell(192)) == map.count());
}

// ---- BlockHeap -------------------------------------------------------------------

TEST_CASE("BlockHeap::check counts start bits below the break and catches a stray one once covered") {
  AlignedRegion region(4096, kRegionAlignment);
  BlockHeap heap(region.bytes());
  REQUIRE(heap.extend(24, 8).block != nullptr);
  // A stray bit 8 bytes into where the next block will be carved. The map's
  // words are the first thing in the region; cell 0 is the heap's begin().
  // (Not a ScopedPatch: the block carved below sets a bit of the same word,
  // which restoring the old word would wipe out.)
  const std::size_t stray_cell = (heap.used() + 8) / kBlockGranularity;
  void* const word = region.begin() + stray_cell / 64 * sizeof(std::uint64_t);
  const std::uint64_t stray_bit = std::uint64_t{1} << (stray_cell % 64);
  write_raw(word, read_raw<std::uint64_t>(word) | stray_bit);
  BlockCensus census;
  CHECK(heap.check(census));  // past the break: nothing reads it yet
  REQUIRE(heap.extend(48, 8).block != nullptr);
  const CheckResult result = heap.check(census);
  CHECK(result.failed_invariant == "the start map marks only block starts");
  CHECK(result.offset == heap.used());
  write_raw(word, read_raw<std::uint64_t>(word) & ~stray_bit);
  CHECK(heap.check(census));
}


TEST_CASE("BlockHeap::extend carves free blocks back to back at the break and marks their starts") {
  AlignedRegion region(4096, kRegionAlignment);
  BlockHeap heap(region.bytes());
  CHECK(heap.begin() == region.begin() + BlockStartMap::bytes_for(4096));
  CHECK(heap.first() == nullptr);
  const Extension one = heap.extend(24, 8);
  const Extension two = heap.extend(48, 8);
  REQUIRE((one.block && two.block));
  CHECK(one.filler == nullptr);  // 8-byte alignment never needs a filler
  CHECK(two.filler == nullptr);
  CHECK(block_start(one.block) == heap.begin());
  CHECK(block_start(two.block) == heap.begin() + 24);
  CHECK(block_size(*two.block) == 48);
  CHECK_FALSE(is_allocated(*two.block));
  CHECK(two.block->requested == 0);
  CHECK(heap.used() == 72);
  CHECK(heap.starts().count() == 2);
  CHECK(heap.first() == one.block);
  CHECK(heap.after(one.block) == two.block);
  CHECK(heap.after(two.block) == nullptr);
  BlockCensus census;
  CHECK(heap.check(census));
  CHECK(census.blocks == 2);
  CHECK(census.free_blocks == 2);
  CHECK(census.free_bytes == 72);
}

TEST_CASE("BlockHeap::extend puts a filler of at least the minimum block in front of an aligned payload") {
  for (std::size_t align = 16; align <= 4096; align *= 2) {
    for (std::size_t lead = 0; lead < 4; ++lead) {  // 0 to 3 blocks in front: different gaps
      CAPTURE(align);
      CAPTURE(lead);
      AlignedRegion region(16 * 1024, kRegionAlignment);
      BlockHeap heap(region.bytes());
      for (std::size_t i = 0; i < lead; ++i) REQUIRE(heap.extend(24 + 8 * i, 8).block != nullptr);
      std::byte* const brk = heap.brk();
      const std::size_t used = heap.used();
      const std::size_t filler = expected_filler(brk, align);
      const Extension grown = heap.extend(32, align);
      REQUIRE(grown.block != nullptr);
      CHECK(is_aligned(payload_of(grown.block), align));
      CHECK(block_start(grown.block) == brk + filler);
      if (filler == 0) {
        CHECK(grown.filler == nullptr);
      } else {
        REQUIRE(grown.filler != nullptr);
        CHECK(block_start(grown.filler) == brk);
        CHECK(block_size(*grown.filler) == filler);
        CHECK(filler >= kMinBlockSize);
        CHECK(filler < align + kMinBlockSize);  // never a whole alignment step more than needed
        CHECK_FALSE(is_allocated(*grown.filler));
      }
      CHECK(heap.used() == used + filler + 32);
      BlockCensus census;
      CHECK(heap.check(census));
      CHECK(census.blocks == lead + (filler == 0 ? 1 : 2));
    }
  }
}

TEST_CASE("BlockHeap::extend refuses what does not fit and changes nothing") {
  AlignedRegion region(4096, kRegionAlignment);
  BlockHeap heap(region.bytes());
  const std::size_t capacity = heap.capacity();
  const auto unchanged = [&heap](std::size_t used, std::size_t starts) {
    CHECK(heap.used() == used);
    CHECK(heap.starts().count() == starts);
    BlockCensus census;
    CHECK(heap.check(census));
  };

  SUBCASE("one cell more than the heap holds") {
    CHECK(heap.extend(capacity + 8, 8).block == nullptr);
    unchanged(0, 0);
  }
  SUBCASE("the filler would fit but not the block: no filler is left behind") {
    const std::size_t filler = expected_filler(heap.brk(), 4096);
    REQUIRE(filler < capacity);
    REQUIRE(filler + 24 > capacity);
    const Extension refused = heap.extend(24, 4096);
    CHECK(refused.block == nullptr);
    CHECK(refused.filler == nullptr);
    unchanged(0, 0);
  }
  SUBCASE("an exact fit, and then nothing more") {
    REQUIRE(heap.extend(24, 8).block != nullptr);
    const Extension rest = heap.extend(capacity - 24, 8);
    REQUIRE(rest.block != nullptr);
    CHECK(heap.used() == capacity);
    CHECK(heap.brk() == heap.end());
    CHECK(heap.extend(24, 8).block == nullptr);
    unchanged(capacity, 2);
  }
}

TEST_CASE("BlockHeap::extend refuses sizes and alignments near SIZE_MAX without wrapping around") {
  AlignedRegion region(4096, kRegionAlignment);
  BlockHeap heap(region.bytes());
  REQUIRE(heap.extend(24, 8).block != nullptr);
  struct Huge {
    std::size_t size;
    std::size_t align;
  };
  const std::array<Huge, 6> requests{{
      {kSizeMax - 7, 8},          // the largest whole number of cells
      {kTopBit, 8},               // 2^63
      {24, kTopBit},              // the largest power-of-two alignment
      {24, kTopBit / 2},
      {kSizeMax - 7, kTopBit},    // gap + size would wrap far past 2^64
      {kSizeMax - 4095, 4096},
  }};
  for (const Huge& request : requests) {
    CAPTURE(request.size);
    CAPTURE(request.align);
    const Extension refused = heap.extend(request.size, request.align);
    CHECK(refused.block == nullptr);
    CHECK(refused.filler == nullptr);
    CHECK(heap.used() == 24);
    CHECK(heap.starts().count() == 1);
  }
}

TEST_CASE("a region too small for a start map and a block gives an empty heap that serves nothing") {
  AlignedRegion region(64, kRegionAlignment);
  for (const std::size_t size : {std::size_t{0}, std::size_t{4}, std::size_t{8}}) {
    CAPTURE(size);
    ExplicitListAllocator heap(region.bytes().first(size));
    CHECK(heap.stats().capacity == 0);
    CHECK(heap.allocate(0) == nullptr);
    CHECK(heap.stats().exhausted == 1);
    CHECK(walk(heap).empty());
    CHECK(heap.check());
    const RecordingHandler misuse;
    heap.deallocate(region.begin());
    CHECK(misuse.count(Misuse::foreign_pointer) == 1);
  }
}

// ---- Diagrams -------------------------------------------------------------------

TEST_CASE("draw_block_lines shows one block a line with its offset and state and size and request") {
  RegionHeap<ExplicitListAllocator> t;
  CHECK(draw_block_lines(t.heap.heap()) == "(no blocks yet)");
  REQUIRE(t.heap.allocate(24) != nullptr);  // a 40-byte block at $000
  void* const big = t.heap.allocate(200);   // 216 bytes at $028
  REQUIRE(t.heap.allocate(8) != nullptr);   // 24 bytes at $100
  t.heap.deallocate(big);
  CHECK(draw_block_lines(t.heap.heap()) ==
        "$000  A   40  req 24\n"
        "$028  F  216\n"
        "$100  A   24  req 8");
}

TEST_CASE("draw_free_list of a heap and its list is the allocator's free list in list order") {
  RegionHeap<ExplicitListAllocator> t;
  void* const a = t.heap.allocate(16);  // the block at $000
  void* const b = t.heap.allocate(16);  // the block at $020
  REQUIRE(t.heap.allocate(16) != nullptr);
  t.heap.deallocate(a);
  t.heap.deallocate(b);
  const std::string line = draw_free_list(t.heap.heap(), t.heap.free_list());
  CHECK(line == "free list: head -> $020 -> $000 -> null");
  CHECK(line == draw_free_list(t.heap));
  CHECK(draw_linked_blocks(t.heap.heap()) == draw_blocks(t.heap));
  CHECK(draw_blocks(t.heap).find("next $000") != std::string::npos);  // b's link, in its first payload cell
}

}  // TEST_SUITE("stage2")
