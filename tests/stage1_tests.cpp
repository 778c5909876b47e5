// Chapter 1's invariant suite: what the static bump heap, its markers, the
// growing arena, the typed helpers, the pmr adapter, the diagrams and the
// misuse reports promise beyond the shared contract.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cinttypes>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory_resource>
#include <new>
#include <numeric>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/assert.hpp"
#include "stage1_static_bump/atomic_bump_allocator.hpp"
#include "stage1_static_bump/bump_allocator.hpp"
#include "stage1_static_bump/bump_allocator_impl.hpp"
#include "stage1_static_bump/chunk_source.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/growing_arena.hpp"
#include "stage1_static_bump/heap_diagram.hpp"
#include "stage1_static_bump/line.hpp"
#include "stage1_static_bump/make.hpp"
#include "stage1_static_bump/misuse.hpp"
#include "stage1_static_bump/pmr_adapter.hpp"
#include "stage1_static_bump/static_heap.hpp"
#include "stage1_static_bump/synchronized.hpp"
#include "tests/support/blocks.hpp"
#include "tests/support/recording_handler.hpp"
#include "tests/support/test_chunk_source.hpp"

namespace {

using namespace heaplab;
using heaplab::testing::Block;
using heaplab::testing::block_at;
using heaplab::testing::RecordingHandler;
using heaplab::testing::TestChunkSource;

/// A small region on the stack, aligned to 64 so that the padding a test
/// expects depends only on what it allocates.
template <std::size_t N>
struct Region {
  alignas(64) std::array<std::byte, N> bytes{};
  [[nodiscard]] std::byte* begin() noexcept { return bytes.data(); }
  [[nodiscard]] std::byte* end() noexcept { return bytes.data() + N; }
};

/// The largest power of two a std::size_t holds.
constexpr std::size_t kTopBit = std::numeric_limits<std::size_t>::max() / 2 + 1;

/// Byte offset of \p p from \p base.
std::size_t offset_of(const void* p, const void* base) noexcept {
  return static_cast<std::size_t>(address_of(p) - address_of(base));
}

/// A GrowthPolicy small enough that growth is visible after a few blocks.
constexpr GrowthPolicy kSmallGrowth{.first_chunk = 4096, .max_chunk = 32 * 1024, .limit = 1024 * 1024};

/// Allocates \p size-byte blocks until \p source has handed out \p chunks chunks.
void grow_to(GrowingArena& arena, const TestChunkSource& source, std::size_t chunks,
             std::size_t size = 256) {
  while (source.acquires() < chunks) REQUIRE(arena.allocate(size) != nullptr);
}

/// The lines of \p text, without their newlines.
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    lines.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

/// Index of the first line of \p lines that contains \p needle.
std::optional<std::size_t> line_with(const std::vector<std::string_view>& lines, std::string_view needle) {
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find(needle) != std::string_view::npos) return i;
  }
  return std::nullopt;
}

/// A small type with a constructor, so make<T> must forward its arguments.
struct Point {
  double x = 0.0;
  double y = 0.0;
  constexpr Point() noexcept = default;
  constexpr Point(double at_x, double at_y) noexcept : x(at_x), y(at_y) {}
};

/// An over-aligned type: make<T> must honour alignof(T), not just 8.
struct alignas(64) CacheLine {
  int value = 0;
  constexpr explicit CacheLine(int initial) noexcept : value(initial) {}
};

/// True when the helpers can place a T (a type they refuse is a compile error
/// at the call, so this is how a test can observe the refusal).
template <class T>
concept CanMake = requires(BumpAllocator& heap) { make<T>(heap); };

static_assert(Placeable<Point> && CanMake<Point>);
static_assert(!Placeable<std::string> && !CanMake<std::string>);

// The bump step is BasicBumpAllocator's template argument: the course's
// allocator is that template with the course's step, and a learner's is the
// same template with theirs (stage1_static_bump/your_turn/bump_step.hpp).
static_assert(std::is_same_v<BumpAllocator, BasicBumpAllocator<&bump_step>>);

/// How many times counting_step() ran.
std::size_t counted_steps = 0;

/// The course's bump step, counted: a step of its own in the slot, which
/// shows that the allocator runs the step it is given.
BumpStep counting_step(std::byte* next, std::byte* end, std::size_t size, std::size_t align) noexcept {
  ++counted_steps;
  return bump_step(next, end, size, align);
}

/// A wrong step: the bump pointer moves by the bytes asked for, not by
/// whole 8-byte cells.
BumpStep unrounded_step(std::byte* next, std::byte* end, std::size_t size, std::size_t align) noexcept {
  const BumpStep right = bump_step(next, end, size, align);
  if (!right.fits) return right;
  return {true, right.block, right.block + size};
}

/// A wrong step: it never pads, so every block starts at the bump pointer
/// whatever alignment was asked for.
BumpStep unpadded_step(std::byte* next, std::byte* end, std::size_t size, std::size_t /*align*/) noexcept {
  return bump_step(next, end, size, kDefaultAlignment);
}

}  // namespace

TYPE_TO_STRING_AS("BumpAllocator", heaplab::BumpAllocator);
TYPE_TO_STRING_AS("AtomicBumpAllocator", heaplab::AtomicBumpAllocator);
TYPE_TO_STRING_AS("Synchronized BumpAllocator", heaplab::Synchronized<heaplab::BumpAllocator>);

TEST_SUITE("stage1") {

// ---- Alignment arithmetic ---------------------------------------------------

TEST_CASE("is_power_of_two is true exactly for numbers with one bit set") {
  for (std::size_t x = 0; x <= 4096; ++x) {
    CAPTURE(x);
    CHECK(is_power_of_two(x) == std::has_single_bit(x));
  }
  CHECK(is_power_of_two(kTopBit));
  CHECK_FALSE(is_power_of_two(std::numeric_limits<std::size_t>::max()));
}

TEST_CASE("padding_to_align reaches the next multiple without overflow even at the top of memory") {
  constexpr std::uintptr_t top = std::numeric_limits<std::uintptr_t>::max();
  for (const std::uintptr_t address : {std::uintptr_t{0}, std::uintptr_t{1}, std::uintptr_t{4095},
                                       std::uintptr_t{4097}, top - 8, top - 1, top}) {
    for (std::size_t align = 1; align <= 4096; align *= 2) {
      CAPTURE(address);
      CAPTURE(align);
      const std::size_t padding = padding_to_align(address, align);
      CHECK(padding < align);
      CHECK((address + padding) % align == 0);  // unsigned: wraps to 0 at the very top
    }
  }
}

TEST_CASE("bump_footprint rounds up to whole 8-byte cells and gives size 0 one cell") {
  for (std::size_t size = 0; size <= 100; ++size) {
    CAPTURE(size);
    const std::size_t footprint = bump_footprint(size);
    CHECK(footprint % kDefaultAlignment == 0);
    CHECK(footprint >= std::max(size, kDefaultAlignment));
    CHECK(footprint < std::max(size, std::size_t{1}) + kDefaultAlignment);
  }
  CHECK(bump_footprint(kMaxRequest) >= kMaxRequest);  // the largest valid size does not wrap
}

// ---- Bounds and the bump pointer -------------------------------------------

TEST_CASE("each block starts at the bump pointer which then moves by exactly the rounded size") {
  Region<4096> region;
  BumpAllocator heap(region.bytes);
  for (std::size_t size = 0; size <= 40; ++size) {
    CAPTURE(size);
    const std::size_t used_before = heap.used();
    void* p = heap.allocate(size);
    REQUIRE(p != nullptr);
    CHECK(p == region.begin() + used_before);
    CHECK(heap.used() - used_before == bump_footprint(size));
  }
  CHECK(heap.check());
}

TEST_CASE("every block lies inside the region up to its last byte") {
  Region<512> region;
  BumpAllocator heap(region.bytes);
  std::vector<Block> blocks;
  std::size_t refused_size = 0;
  for (std::size_t i = 0;; ++i) {
    const std::size_t size = heaplab::testing::varied_size(i, 48);
    void* p = heap.allocate(size);
    if (p == nullptr) {
      refused_size = size;
      break;
    }
    blocks.push_back(block_at(p, size));
  }
  REQUIRE_FALSE(blocks.empty());
  for (const Block& block : blocks) {
    CHECK(address_of(block.start) >= address_of(region.begin()));
    CHECK(address_of(block.start) + bump_footprint(block.size) <= address_of(region.end()));
  }
  // The refused request did not fit in what was left.
  CHECK(bump_footprint(refused_size) > heap.remaining());
  CHECK(heap.used() + heap.remaining() == region.bytes.size());
}

TEST_CASE("a region fills to its exact last byte and then refuses even allocate(0)") {
  Region<64> region;
  BumpAllocator heap(region.bytes);
  CHECK(heap.allocate(region.bytes.size()) == region.begin());
  CHECK(heap.remaining() == 0);
  CHECK(heap.allocate(0) == nullptr);
  CHECK(heap.stats().exhausted == 1);
  CHECK(heap.check());
}

TEST_CASE("padding skipped for a large alignment is counted in used and padding") {
  Region<1024> region;
  BumpAllocator heap(region.bytes);
  REQUIRE(heap.allocate(8) != nullptr);
  const HeapStats before = heap.stats();
  void* p = heap.allocate(8, 64);
  REQUIRE(p != nullptr);
  CHECK(is_aligned(p, 64));
  const std::size_t gap = offset_of(p, region.begin()) - before.used;
  CHECK(gap > 0);  // the region is 64-aligned and 8 bytes were in use
  const HeapStats after = heap.stats();
  CHECK(after.used == before.used + gap + 8);
  CHECK(after.requested == before.requested + 8);
  CHECK(after.padding == before.padding + gap);
}

TEST_CASE("an unaligned region is trimmed to whole 8-byte cells, so no block needs a lead-in") {
  Region<256> region;
  const std::span<std::byte> unaligned = std::span(region.bytes).subspan(1, 250);
  BumpAllocator heap(unaligned);
  const std::span<std::byte> trimmed = heap.region();
  CHECK(is_aligned(trimmed.data(), kDefaultAlignment));
  CHECK(trimmed.size() % kDefaultAlignment == 0);
  CHECK(trimmed.data() > unaligned.data());
  CHECK(trimmed.data() + trimmed.size() <= unaligned.data() + unaligned.size());
  CHECK(trimmed.size() > unaligned.size() - 2 * kDefaultAlignment);  // lost less than a cell at each end
  void* p = heap.allocate(1);
  REQUIRE(p != nullptr);
  CHECK(p == trimmed.data());
  CHECK(heap.used() == bump_footprint(1));
  CHECK(heap.stats().padding == bump_footprint(1) - 1);
  CHECK(heap.check());
}

TEST_CASE("a region smaller than one aligned cell serves nothing") {
  Region<16> region;
  BumpAllocator heap(std::span(region.bytes).subspan(1, 8));
  CHECK(heap.region().empty());
  CHECK(heap.allocate(0) == nullptr);
  CHECK(heap.stats().exhausted == 1);
  CHECK(heap.check());
}

TEST_CASE("the block walk shows the used part then the free part covering the region") {
  Region<256> region;
  BumpAllocator heap(region.bytes);
  const auto walk = [&heap] {
    std::vector<BlockView> views;
    heap.for_each_block([&views](const BlockView& view) { views.push_back(view); });
    return views;
  };
  SUBCASE("fresh: one free block") {
    const auto views = walk();
    REQUIRE(views.size() == 1);
    CHECK(views[0].state == BlockState::free);
    CHECK(views[0].size == region.bytes.size());
  }
  SUBCASE("partly used: allocated then free, back to back") {
    REQUIRE(heap.allocate(40) != nullptr);
    const auto views = walk();
    REQUIRE(views.size() == 2);
    CHECK(views[0].state == BlockState::allocated);
    CHECK(views[0].offset == 0);
    CHECK(views[0].size == heap.used());
    CHECK(views[1].state == BlockState::free);
    CHECK(views[1].offset == views[0].size);
    CHECK(views[0].size + views[1].size == region.bytes.size());
  }
  SUBCASE("full: one allocated block") {
    REQUIRE(heap.allocate(region.bytes.size()) != nullptr);
    const auto views = walk();
    REQUIRE(views.size() == 1);
    CHECK(views[0].state == BlockState::allocated);
    CHECK(views[0].size == region.bytes.size());
  }
}

TEST_CASE("bump_step fits a block ending exactly at the region's end and refuses one byte more") {
  Region<64> region;
  std::byte* const next = region.begin() + 48;
  const BumpStep fits = bump_step(next, region.end(), 16, 8);
  CHECK(fits.block == next);
  CHECK(fits.new_next == region.end());
  CHECK(bump_step(next, region.end(), 17, 8).block == nullptr);
  CHECK(bump_step(next, region.end(), kMaxRequest, 8).block == nullptr);
  CHECK(bump_step(next, region.end(), 8, kTopBit).block == nullptr);
}

// ---- The bump step as a template argument ----------------------------------

TEST_CASE("a step plugged into BasicBumpAllocator runs once per valid request and serves as BumpAllocator does") {
  Region<512> course_region;
  Region<512> slot_region;
  BumpAllocator course(course_region.bytes);
  BasicBumpAllocator<&counting_step> slot(slot_region.bytes);
  struct Request {
    std::size_t size;
    std::size_t align;
  };
  // Rounding, padding, a zero size, a refusal for room and one for a bad
  // alignment (which never reaches the step).
  const Request requests[] = {{3, 8}, {8, 32}, {0, 8}, {40, 64}, {16, 16}, {1000, 8}, {8, 3}, {24, 8}};
  counted_steps = 0;
  for (const Request& request : requests) {
    CAPTURE(request.size);
    CAPTURE(request.align);
    void* const expected = course.allocate(request.size, request.align);
    void* const got = slot.allocate(request.size, request.align);
    REQUIRE((expected == nullptr) == (got == nullptr));
    if (expected != nullptr) CHECK(offset_of(got, slot_region.begin()) == offset_of(expected, course_region.begin()));
    CHECK(slot.check());
  }
  CHECK(counted_steps == std::size(requests) - 1);
  heaplab::testing::check_same_stats(course.stats(), slot.stats());
  CHECK(draw_heap(slot, 0, 24) == draw_heap(course, 0, 24));
}

TEST_CASE("a step that does not round sizes to whole cells is caught by check()") {
  Region<256> region;
  BasicBumpAllocator<&unrounded_step> heap(region.bytes);
  REQUIRE(heap.allocate(3) != nullptr);
  const CheckResult result = heap.check();
  CHECK_FALSE(result.ok());
  CHECK(result.failed_invariant == std::string_view("next is 8-byte aligned"));
  CHECK(result.offset == 3);
}

TEST_CASE("a step that ignores the alignment breaks the contract's promise of aligned blocks") {
  Region<256> course_region;
  Region<256> slot_region;
  BumpAllocator course(course_region.bytes);
  BasicBumpAllocator<&unpadded_step> heap(slot_region.bytes);
  // As the contract suite does: one block first, so that the bump pointer
  // is not aligned by accident.
  REQUIRE(course.allocate(1) != nullptr);
  REQUIRE(heap.allocate(1) != nullptr);
  void* const right = course.allocate(8, 64);
  void* const wrong = heap.allocate(8, 64);
  REQUIRE(right != nullptr);
  REQUIRE(wrong != nullptr);
  CHECK(is_aligned(right, 64));
  CHECK_FALSE(is_aligned(wrong, 64));
  CHECK(heap.check());  // the heap itself stays sound: only the caller can tell
}

// ---- check() ----------------------------------------------------------------

TEST_CASE("check_bump_heap names each broken invariant and where it broke") {
  Region<64> region;
  const std::byte* begin = region.begin();
  const BumpSnapshot sound{begin, begin + 16, begin + 32, 10, 2};
  REQUIRE(check_bump_heap(sound).ok());

  struct Broken {
    std::string_view why;
    BumpSnapshot snapshot;
  };
  const std::vector<Broken> broken = {
      {"next past the end", {begin, begin + 40, begin + 32, 10, 2}},
      {"next not on an 8-byte boundary", {begin, begin + 12, begin + 32, 10, 1}},
      {"more requested than used", {begin, begin + 16, begin + 32, 17, 2}},
      {"more allocations than 8-byte cells", {begin, begin + 16, begin + 32, 10, 3}},
      {"bytes used by no allocation", {begin, begin + 16, begin + 32, 0, 0}},
  };
  std::vector<std::string_view> names;
  for (const Broken& bad : broken) {
    INFO(bad.why);
    const CheckResult result = check_bump_heap(bad.snapshot);
    CHECK_FALSE(result.ok());
    CHECK_FALSE(static_cast<bool>(result));
    CHECK(result.offset == offset_of(bad.snapshot.next, bad.snapshot.begin));
    names.push_back(result.failed_invariant);
  }
  // Each broken invariant is named differently, so a learner can tell them apart.
  std::sort(names.begin(), names.end());
  CHECK(std::adjacent_find(names.begin(), names.end()) == names.end());
}

// ---- mark and rewind ---------------------------------------------------------

TEST_CASE("rewind restores the exact state of its mark and keeps the lifetime counters") {
  Region<1024> region;
  BumpAllocator heap(region.bytes);
  REQUIRE(heap.allocate(24) != nullptr);
  REQUIRE(heap.allocate(5) != nullptr);
  const BumpAllocator::Marker marker = heap.mark();
  const HeapStats at_mark = heap.stats();

  void* first_after_mark = heap.allocate(40);
  REQUIRE(first_after_mark != nullptr);
  REQUIRE(heap.allocate(100) != nullptr);
  REQUIRE(heap.allocate(3, 64) != nullptr);
  const HeapStats before_rewind = heap.stats();

  heap.rewind(marker);
  const HeapStats after = heap.stats();
  heaplab::testing::check_same_live_state(at_mark, after);
  CHECK(after.allocations == before_rewind.allocations);
  CHECK(after.high_water == before_rewind.high_water);
  CHECK(after.peak_requested == before_rewind.peak_requested);
  CHECK(heap.check());
  // Same bump pointer: the next block is where the first one after the mark was.
  CHECK(heap.allocate(40) == first_after_mark);
}

TEST_CASE("nested markers rewind from the inner one to the outer one") {
  Region<1024> region;
  BumpAllocator heap(region.bytes);
  RecordingHandler misuse;
  REQUIRE(heap.allocate(16) != nullptr);
  const auto outer = heap.mark();
  const HeapStats at_outer = heap.stats();
  REQUIRE(heap.allocate(32) != nullptr);
  const auto inner = heap.mark();
  const HeapStats at_inner = heap.stats();
  REQUIRE(heap.allocate(64) != nullptr);

  heap.rewind(inner);
  heaplab::testing::check_same_live_state(at_inner, heap.stats());
  heap.rewind(outer);
  heaplab::testing::check_same_live_state(at_outer, heap.stats());
  CHECK(misuse.reports().empty());
  CHECK(heap.check());
}

TEST_CASE("rewinding to one marker again and again hands out the same block each round") {
  Region<1024> region;
  BumpAllocator heap(region.bytes);
  RecordingHandler misuse;
  REQUIRE(heap.allocate(8) != nullptr);
  const auto marker = heap.mark();
  const std::size_t used_at_mark = heap.used();
  void* first_round = nullptr;
  for (int round = 0; round < 5; ++round) {
    CAPTURE(round);
    void* p = heap.allocate(32);
    REQUIRE(p != nullptr);
    if (round == 0) first_round = p;
    CHECK(p == first_round);
    REQUIRE(heap.allocate(100) != nullptr);
    heap.rewind(marker);
    CHECK(heap.used() == used_at_mark);
  }
  CHECK(misuse.reports().empty());
}

TEST_CASE_TEMPLATE("ScopedRewind releases what the scope allocated", A, heaplab::BumpAllocator,
                   heaplab::Synchronized<heaplab::BumpAllocator>) {
  Region<1024> region;
  A heap{std::span<std::byte>(region.bytes)};
  REQUIRE(heap.allocate(24) != nullptr);
  const HeapStats before = heap.stats();
  void* inside = nullptr;
  {
    ScopedRewind scratch(heap);
    inside = heap.allocate(200);
    REQUIRE(inside != nullptr);
    REQUIRE(heap.stats().used > before.used);
  }
  heaplab::testing::check_same_live_state(before, heap.stats());
  CHECK(heap.allocate(200) == inside);
}

TEST_CASE("a bad marker reaches the misuse handler and changes nothing") {
  Region<1024> region;
  BumpAllocator heap(region.bytes);
  RecordingHandler misuse;
  REQUIRE(heap.allocate(16) != nullptr);
  BumpAllocator::Marker bad;

  // Each marker below is wrong for exactly one reason.
  SUBCASE("a marker of another allocator") {
    Region<64> other_region;
    BumpAllocator other(other_region.bytes);
    bad = other.mark();  // offset 0: only its owner is wrong
  }
  SUBCASE("a marker from before reset()") {
    bad = heap.mark();
    heap.reset();
    REQUIRE(heap.allocate(64) != nullptr);  // the stale marker's offset is behind the pointer again
  }
  SUBCASE("a marker beyond the current position after a rewind") {
    const auto outer = heap.mark();
    REQUIRE(heap.allocate(32) != nullptr);
    bad = heap.mark();
    heap.rewind(outer);
  }
  SUBCASE("a marker claiming more requested bytes than its position holds") {
    REQUIRE(heap.allocate(40) != nullptr);
    bad = heap.mark();
    bad.offset = 16;     // a real past position ...
    bad.requested = 24;  // ... that cannot hold 24 requested bytes
    REQUIRE(bad.requested <= heap.stats().requested);  // so only this field is wrong
  }

  const HeapStats before = heap.stats();
  heap.rewind(bad);
  REQUIRE(misuse.reports().size() == 1);
  CHECK(misuse.reports()[0].kind == Misuse::bad_marker);
  CHECK(misuse.reports()[0].where.find("rewind") != std::string_view::npos);
  heaplab::testing::check_same_stats(before, heap.stats());
  CHECK(heap.check());
}

// ---- Foreign pointers --------------------------------------------------------

TEST_CASE_TEMPLATE("deallocate of a pointer the heap never handed out reports a foreign pointer", A,
                   heaplab::BumpAllocator, heaplab::AtomicBumpAllocator) {
  Region<256> region;
  A heap(region.bytes);
  RecordingHandler misuse;
  void* block = heap.allocate(8);
  REQUIRE(block != nullptr);
  int on_the_stack = 0;
  void* foreign = nullptr;

  SUBCASE("a stack variable") { foreign = &on_the_stack; }
  SUBCASE("the bump pointer, just past the last block") { foreign = static_cast<std::byte*>(block) + 8; }
  SUBCASE("the region's last byte, not handed out yet") { foreign = region.end() - 1; }

  const HeapStats before = heap.stats();
  heap.deallocate(foreign);
  REQUIRE(misuse.reports().size() == 1);
  CHECK(misuse.reports()[0].kind == Misuse::foreign_pointer);
  CHECK(misuse.reports()[0].pointer == foreign);
  CHECK(misuse.reports()[0].where.find("deallocate") != std::string_view::npos);
  heaplab::testing::check_same_stats(before, heap.stats());
  CHECK(heap.owns(block));
}

TEST_CASE("the growing arena reports a foreign pointer even inside its current chunk") {
  TestChunkSource source;
  GrowingArena arena(source, kSmallGrowth);
  RecordingHandler misuse;
  auto* block = static_cast<std::byte*>(arena.allocate(8));
  REQUIRE(block != nullptr);
  int on_the_stack = 0;
  void* foreign = nullptr;

  SUBCASE("a stack variable") { foreign = &on_the_stack; }
  SUBCASE("the bump pointer, just past the last block") { foreign = block + 8; }

  const HeapStats before = arena.stats();
  arena.deallocate(foreign);
  REQUIRE(misuse.reports().size() == 1);
  CHECK(misuse.reports()[0].kind == Misuse::foreign_pointer);
  CHECK(misuse.reports()[0].pointer == foreign);
  heaplab::testing::check_same_stats(before, arena.stats());
}

TEST_CASE("a block released by rewind is no longer owned and deallocating it is reported") {
  Region<256> region;
  BumpAllocator heap(region.bytes);
  RecordingHandler misuse;
  const auto marker = heap.mark();
  void* released = heap.allocate(16);
  REQUIRE(heap.owns(released));
  heap.rewind(marker);
  CHECK_FALSE(heap.owns(released));
  heap.deallocate(released);
  CHECK(misuse.count(Misuse::foreign_pointer) == 1);
}

// ---- The static heap ---------------------------------------------------------

TEST_CASE("a second allocator on the static heap is reported and serves nothing") {
  RecordingHandler misuse;
  BumpAllocator holder;
  REQUIRE(misuse.reports().empty());
  REQUIRE(holder.stats().capacity == kStaticHeapSize);
  {
    BumpAllocator second;
    AtomicBumpAllocator third;
    CHECK(misuse.count(Misuse::static_heap_taken) == 2);
    CHECK(misuse.reports().size() == 2);
    CHECK(second.allocate(8) == nullptr);
    CHECK(second.allocate(0) == nullptr);
    CHECK(third.allocate(8) == nullptr);
    CHECK(second.stats().capacity == 0);
    CHECK(third.stats().capacity == 0);
    CHECK(second.check());
    CHECK(third.check());
  }
  // The refused allocators did not take the heap from its holder on destruction.
  CHECK(holder.allocate(8) != nullptr);
  const StaticHeapClaim claim = StaticHeapClaim::try_take();
  CHECK_FALSE(claim.held());
}

TEST_CASE("the static heap can be taken again once its holder is destroyed") {
  RecordingHandler misuse;
  void* first_block = nullptr;
  {
    BumpAllocator holder;
    first_block = holder.allocate(8);
    REQUIRE(first_block != nullptr);
  }
  AtomicBumpAllocator next;
  CHECK(misuse.reports().empty());
  CHECK(next.stats().capacity == kStaticHeapSize);
  void* p = next.allocate(8);
  CHECK(p == first_block);  // the same 10 MiB, from its start again
  CHECK(is_aligned(p, alignof(std::max_align_t)));
}

TEST_CASE("a static heap claim is exclusive and moves with its holder") {
  StaticHeapClaim claim = StaticHeapClaim::try_take();
  REQUIRE(claim.held());
  CHECK(claim.region().size() == kStaticHeapSize);
  CHECK(is_aligned(claim.region().data(), alignof(std::max_align_t)));
  {
    const StaticHeapClaim refused = StaticHeapClaim::try_take();
    CHECK_FALSE(refused.held());
    CHECK(refused.region().empty());
  }
  StaticHeapClaim moved(std::move(claim));
  CHECK(moved.held());
  CHECK_FALSE(claim.held());  // a moved-from claim holds nothing
  StaticHeapClaim assigned;
  assigned = std::move(moved);
  CHECK(assigned.held());
  CHECK_FALSE(StaticHeapClaim::try_take().held());
  assigned = StaticHeapClaim{};  // assigning an empty claim releases the heap
  CHECK_FALSE(assigned.held());
  CHECK(StaticHeapClaim::try_take().held());
}

// ---- reset -------------------------------------------------------------------

TEST_CASE_TEMPLATE("reset restores the full capacity and keeps the lifetime counters", A,
                   heaplab::BumpAllocator, heaplab::AtomicBumpAllocator) {
  Region<512> region;
  A heap(region.bytes);
  std::size_t served = 0;
  while (heap.allocate(heaplab::testing::varied_size(served, 60)) != nullptr) ++served;
  REQUIRE(heap.allocate(8, 3) == nullptr);  // one rejected request too
  const HeapStats before = heap.stats();

  heap.reset();
  const HeapStats after = heap.stats();
  CHECK(after.capacity == region.bytes.size());
  CHECK(after.used == 0);
  CHECK(after.requested == 0);
  CHECK(after.padding == 0);
  CHECK(after.live_allocations == 0);
  heaplab::testing::check_same_lifetime_counters(before, after);
  CHECK(heap.check());
  // All of it is free again: one block can take the whole region.
  CHECK(heap.allocate(region.bytes.size()) == region.begin());
}

// ---- The growing arena -------------------------------------------------------

TEST_CASE("a fresh arena holds no chunk until its first allocation") {
  TestChunkSource source;
  GrowingArena arena(source, kSmallGrowth);
  CHECK(source.acquires() == 0);
  CHECK(arena.chunk_count() == 0);
  CHECK(arena.stats().capacity == 0);
  CHECK(arena.check());
  REQUIRE(arena.allocate(8) != nullptr);
  CHECK(source.acquires() == 1);
  CHECK(arena.chunk_count() == 1);
}

TEST_CASE("regular chunks double from first_chunk up to max_chunk") {
  TestChunkSource source;
  GrowingArena arena(source, kSmallGrowth);
  grow_to(arena, source, 6);
  const std::vector<std::size_t>& sizes = source.acquired_sizes();
  CHECK(sizes.front() == kSmallGrowth.first_chunk);
  for (std::size_t i = 1; i < sizes.size(); ++i) {
    CAPTURE(i);
    CHECK(sizes[i] == std::min(2 * sizes[i - 1], kSmallGrowth.max_chunk));
  }
  CHECK(sizes.back() == kSmallGrowth.max_chunk);
  CHECK(arena.chunk_count() == sizes.size());
  CHECK(arena.reserved() == std::accumulate(sizes.begin(), sizes.end(), std::size_t{0}));
  CHECK(arena.check());
}

TEST_CASE("an oversized request gets a chunk of its own and the current chunk keeps serving") {
  TestChunkSource source;
  GrowingArena arena(source, kSmallGrowth);
  void* first = arena.allocate(8);  // the first regular chunk
  REQUIRE(first != nullptr);
  const std::size_t oversized = 3 * kSmallGrowth.first_chunk;  // more than the next regular chunk
  void* big = arena.allocate(oversized);
  REQUIRE(big != nullptr);
  REQUIRE(source.acquires() == 2);
  CHECK(source.acquired_sizes()[1] >= oversized);
  CHECK(arena.owns(big));
  CHECK(arena.owns(static_cast<std::byte*>(big) + oversized - 1));
  // The first chunk's room is not abandoned: the next small block lands
  // right after the first one, without asking upstream for more.
  void* next = arena.allocate(8);
  CHECK(next == static_cast<std::byte*>(first) + 8);
  CHECK(source.acquires() == 2);
  // When the first chunk is full, the regular chunk that was due comes next.
  while (source.acquires() == 2) REQUIRE(arena.allocate(1024) != nullptr);
  CHECK(source.acquired_sizes()[2] == 2 * kSmallGrowth.first_chunk);
  CHECK(arena.check());
}

TEST_CASE("the arena never holds more than its limit and refuses past it") {
  TestChunkSource source;
  const GrowthPolicy policy{.first_chunk = 4096, .max_chunk = 16 * 1024, .limit = 40 * 1024};
  GrowingArena arena(source, policy);
  std::size_t served = 0;
  while (arena.allocate(1000) != nullptr) {
    ++served;
    REQUIRE(source.outstanding() <= policy.limit);
  }
  CHECK(served > 0);
  CHECK(source.acquires() > 1);
  CHECK(arena.reserved() == source.outstanding());
  CHECK(arena.reserved() <= policy.limit);
  CHECK(arena.stats().exhausted == 1);
  CHECK(arena.check());
}

TEST_CASE("a request larger than the limit is refused without asking upstream") {
  TestChunkSource source;
  GrowingArena arena(source, kSmallGrowth);
  CHECK(arena.allocate(kSmallGrowth.limit + 1) == nullptr);
  CHECK(source.acquires() == 0);
  CHECK(arena.stats().exhausted == 1);
}

TEST_CASE("an upstream that runs dry makes allocate return nullptr") {
  TestChunkSource source(/*budget=*/8 * 1024);
  GrowingArena arena(source, kSmallGrowth);  // its own limit is far above the budget
  while (arena.allocate(512) != nullptr) REQUIRE(source.outstanding() <= 8 * 1024);
  CHECK(arena.stats().exhausted == 1);
  CHECK(arena.reserved() == source.outstanding());
  CHECK(arena.check());
}

TEST_CASE("a chunk rounded up past the limit goes straight back upstream") {
  // The source rounds chunks up to 4 KiB "pages"; the limit leaves room for
  // only half a page once the first chunk is held.
  TestChunkSource source(kMaxRequest, /*granularity=*/4096);
  const GrowthPolicy policy{.first_chunk = 4096, .max_chunk = 4096, .limit = 6 * 1024};
  GrowingArena arena(source, policy);
  while (source.acquires() < 2) {
    if (arena.allocate(64) == nullptr) break;
  }
  CHECK(source.acquires() == 2);
  CHECK(source.releases() == 1);  // the rounded-up chunk
  CHECK(source.bad_releases() == 0);
  CHECK(arena.chunk_count() == 1);
  CHECK(arena.reserved() == source.outstanding());
  CHECK(arena.reserved() <= policy.limit);
  CHECK(arena.stats().exhausted == 1);
  CHECK(arena.check());
}

TEST_CASE("reset keeps exactly one chunk (the largest) and gives the others back") {
  // The limit leaves room for four regular chunks and a little more, so the
  // newest chunks are small ones cut to fit: the largest is in the middle.
  TestChunkSource source;
  const GrowthPolicy policy{.first_chunk = 4096, .max_chunk = 32 * 1024, .limit = 62 * 1024};
  GrowingArena arena(source, policy);
  std::size_t served = 0;
  while (arena.allocate(256) != nullptr) ++served;
  REQUIRE(served > 0);
  const std::size_t chunks = arena.chunk_count();
  const std::size_t acquired = source.acquires();
  const std::vector<std::size_t> sizes = source.acquired_sizes();
  const std::size_t largest = *std::max_element(sizes.begin(), sizes.end());
  REQUIRE(sizes.back() < largest);
  const HeapStats before = arena.stats();

  arena.reset();
  CHECK(arena.chunk_count() == 1);
  CHECK(source.releases() == chunks - 1);
  CHECK(source.live_chunks() == 1);
  CHECK(source.bad_releases() == 0);
  CHECK(arena.reserved() == largest);
  CHECK(source.outstanding() == largest);
  const HeapStats after = arena.stats();
  CHECK(after.used == 0);
  CHECK(after.live_allocations == 0);
  CHECK(after.allocations == before.allocations);
  CHECK(after.high_water == before.high_water);
  CHECK(after.exhausted == before.exhausted);
  CHECK(arena.check());
  // The kept chunk serves the next allocation: no new chunk is needed.
  REQUIRE(arena.allocate(256) != nullptr);
  CHECK(source.acquires() == acquired);
}

TEST_CASE("the arena's destructor gives every chunk back") {
  TestChunkSource source;
  {
    GrowingArena arena(source, kSmallGrowth);
    grow_to(arena, source, 4);
    arena.reset();
    grow_to(arena, source, 6);
  }
  CHECK(source.live_chunks() == 0);
  CHECK(source.outstanding() == 0);
  CHECK(source.releases() == source.acquires());
  CHECK(source.bad_releases() == 0);
}

TEST_CASE("the arena's block walk visits every chunk oldest first") {
  TestChunkSource source;
  GrowingArena arena(source, kSmallGrowth);
  grow_to(arena, source, 3);
  std::vector<BlockView> views;
  arena.for_each_block([&views](const BlockView& view) { views.push_back(view); });
  REQUIRE_FALSE(views.empty());
  CHECK(views.front().region == 0);
  CHECK(views.back().region == arena.chunk_count() - 1);
  std::size_t allocated = 0;
  std::size_t total = 0;
  for (std::size_t i = 0; i < views.size(); ++i) {
    if (i > 0) CHECK(views[i].region >= views[i - 1].region);
    if (views[i].state == BlockState::allocated) allocated += views[i].size;
    total += views[i].size;
  }
  CHECK(allocated == arena.stats().used);
  CHECK(total == arena.stats().capacity);
}

TEST_CASE("the mmap chunk source hands out whole page-aligned pages and refuses impossible sizes") {
  MmapChunkSource source;
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::span<std::byte> chunk = source.acquire(page + 1);
  REQUIRE_FALSE(chunk.empty());
  CHECK(chunk.size() % page == 0);
  CHECK(chunk.size() >= page + 1);
  CHECK(is_aligned(chunk.data(), page));
  chunk.front() = std::byte{1};  // the pages are ours to write
  chunk.back() = std::byte{2};
  source.release(chunk);
  CHECK(source.acquire(0).empty());
  CHECK(source.acquire(kMaxRequest + 1).empty());
}

TEST_CASE("a growing arena on the default mmap source grows beyond its first chunk") {
  GrowingArena arena;
  const std::size_t count = 2 * arena.policy().first_chunk / 100;  // twice the first chunk's bytes
  std::vector<Block> blocks;
  for (std::size_t i = 0; i < count; ++i) {
    void* p = arena.allocate(100);
    REQUIRE(p != nullptr);
    blocks.push_back(block_at(p, 100));
    heaplab::testing::fill_pattern(blocks.back(), i);
  }
  CHECK(arena.chunk_count() > 1);
  for (std::size_t i = 0; i < blocks.size(); ++i) CHECK(heaplab::testing::holds_pattern(blocks[i], i));
  CHECK(arena.check());
}

// ---- Typed helpers -----------------------------------------------------------

TEST_CASE("make<T> constructs a T from its arguments aligned for T") {
  Region<1024> region;
  BumpAllocator heap(region.bytes);
  REQUIRE(heap.allocate(8) != nullptr);  // so that 64-byte alignment is not free
  const Point* point = make<Point>(heap, 1.5, -2.0);
  REQUIRE(point != nullptr);
  CHECK(point->x == 1.5);
  CHECK(point->y == -2.0);
  CHECK(is_aligned(point, alignof(Point)));
  const CacheLine* line = make<CacheLine>(heap, 7);
  REQUIRE(line != nullptr);
  CHECK(line->value == 7);
  CHECK(is_aligned(line, alignof(CacheLine)));
  CHECK(heap.owns(line));
}

TEST_CASE("make<T> returns nullptr when the heap cannot hold a T") {
  Region<32> region;
  BumpAllocator heap(region.bytes);
  CHECK(make<CacheLine>(heap, 7) == nullptr);
  CHECK(heap.stats().exhausted == 1);
}

TEST_CASE("make_array value-initialises every element") {
  Region<1024> region;
  region.bytes.fill(std::byte{0xAB});  // garbage, so that zeroes must have been written
  BumpAllocator heap(region.bytes);
  const std::span<int> numbers = make_array<int>(heap, 100);
  REQUIRE(numbers.size() == 100);
  CHECK(heap.owns(numbers.data()));
  CHECK(std::all_of(numbers.begin(), numbers.end(), [](int n) { return n == 0; }));
  const std::span<Point> points = make_array<Point>(heap, 10);
  REQUIRE(points.size() == 10);
  CHECK(std::all_of(points.begin(), points.end(), [](Point p) { return p.x == 0.0 && p.y == 0.0; }));
}

TEST_CASE("make_array with a count whose byte size overflows gives an empty span with null data") {
  Region<256> region;
  BumpAllocator heap(region.bytes);
  const HeapStats before = heap.stats();
  for (const std::size_t count : {kMaxRequest / sizeof(Point) + 1, std::numeric_limits<std::size_t>::max()}) {
    CAPTURE(count);
    const std::span<Point> points = make_array<Point>(heap, count);
    CHECK(points.data() == nullptr);
    CHECK(points.empty());
  }
  heaplab::testing::check_same_live_state(before, heap.stats());
}

TEST_CASE("make_array of zero elements gives a unique non-null pointer") {
  Region<256> region;
  BumpAllocator heap(region.bytes);
  const std::span<int> first = make_array<int>(heap, 0);
  const std::span<int> second = make_array<int>(heap, 0);
  CHECK(first.empty());
  CHECK(first.data() != nullptr);
  CHECK(second.data() != nullptr);
  CHECK(first.data() != second.data());
}

TEST_CASE("make_string copies the text into the heap and ends it with a NUL") {
  Region<256> region;
  region.bytes.fill(std::byte{0xAB});  // garbage, so that the NUL must have been written
  BumpAllocator heap(region.bytes);
  const std::string original = "a string that outlives its source";
  std::string source = original;
  const std::string_view copy = make_string(heap, source);
  source.assign(source.size(), 'x');  // the copy must not depend on its source
  CHECK(copy == original);
  CHECK(heap.owns(copy.data()));
  CHECK(copy.data()[copy.size()] == '\0');
}

TEST_CASE("make_string of an empty string gives an empty NUL-terminated string") {
  Region<64> region;
  region.bytes.fill(std::byte{0xAB});
  BumpAllocator heap(region.bytes);
  const std::string_view copy = make_string(heap, "");
  REQUIRE(copy.data() != nullptr);
  CHECK(copy.empty());
  CHECK(copy.data()[0] == '\0');
  CHECK(heap.owns(copy.data()));
}

TEST_CASE("make_string returns a view with null data when the heap is full") {
  Region<16> region;
  BumpAllocator heap(region.bytes);
  REQUIRE(heap.allocate(16) != nullptr);
  CHECK(make_string(heap, "x").data() == nullptr);
}

TEST_CASE("the helpers accept trivially destructible types and refuse the rest") {
  // A destructor that never runs must lose nothing (see make.hpp).
  CHECK(Placeable<Point>);
  CHECK(Placeable<CacheLine>);
  CHECK(Placeable<int>);
  CHECK_FALSE(Placeable<std::string>);
  CHECK_FALSE(Placeable<std::vector<int>>);
  CHECK_FALSE(Placeable<int[4]>);
  CHECK(CanMake<Point>);
  CHECK_FALSE(CanMake<std::string>);
}

// ---- The pmr adapter ---------------------------------------------------------

TEST_CASE("standard containers keep their elements in the heap through the pmr adapter") {
  std::vector<std::byte> memory(64 * 1024);
  BumpAllocator heap(memory);
  PmrAdapter resource(heap);

  std::pmr::vector<int> squares(&resource);
  for (int i = 0; i < 1000; ++i) squares.push_back(i * i);
  CHECK(heap.owns(squares.data()));
  CHECK(heap.owns(&squares.back()));
  bool all_right = true;
  for (int i = 0; i < 1000; ++i) all_right = all_right && squares[static_cast<std::size_t>(i)] == i * i;
  CHECK(all_right);

  const std::string text(200, 'q');  // too long for the small-string buffer
  const std::pmr::string copy(text, &resource);
  CHECK(heap.owns(copy.data()));
  CHECK(std::string_view(copy) == text);
  CHECK(heap.check());
}

TEST_CASE("the pmr adapter throws std::bad_alloc when the heap cannot serve") {
  Region<256> region;
  BumpAllocator heap(region.bytes);
  PmrAdapter resource(heap);
  CHECK_THROWS_AS((void)resource.allocate(region.bytes.size() + 1), std::bad_alloc);
  std::pmr::vector<double> values(&resource);
  CHECK_THROWS_AS(values.reserve(region.bytes.size()), std::bad_alloc);
  CHECK(heap.stats().exhausted == 2);
  CHECK(heap.check());
}

TEST_CASE("pmr adapters are equal exactly when they front the same allocator") {
  Region<256> first_region;
  Region<256> second_region;
  BumpAllocator first(first_region.bytes);
  BumpAllocator second(second_region.bytes);
  AtomicBumpAllocator atomic(second_region.bytes);
  PmrAdapter a(first);
  PmrAdapter also_a(first);
  PmrAdapter b(second);
  PmrAdapter other_kind(atomic);

  CHECK(a.is_equal(also_a));
  CHECK(a == also_a);
  CHECK_FALSE(a.is_equal(b));
  CHECK_FALSE(a.is_equal(other_kind));
  CHECK_FALSE(a.is_equal(*std::pmr::new_delete_resource()));
  CHECK(&a.allocator() == &first);

  // Memory from one adapter can go back through an equal one, not another.
  RecordingHandler misuse;
  void* p = a.allocate(16);
  also_a.deallocate(p, 16);
  CHECK(misuse.reports().empty());
  b.deallocate(p, 16);
  CHECK(misuse.count(Misuse::foreign_pointer) == 1);
}

// ---- Heap diagrams -----------------------------------------------------------

// The one golden test: the drawing format is the primer's picture (see
// heap_diagram.hpp), so the expected text is written out in full.
TEST_CASE("draw_heap reproduces the primer's picture of a 40-byte region after allocate(8)") {
  Region<40> region;
  BumpAllocator heap(region.bytes);
  REQUIRE(heap.allocate(8) != nullptr);
  const std::string expected =
      "  $000             $008             $010             $018             $020\n"
      "  +----------------+----------------+----------------+----------------+----------------+\n"
      "  |                |                |                |                |                |\n"
      "  |   Allocated    |      Free      |      Free      |      Free      |      Free      |\n"
      "  |                |                |                |                |                |\n"
      "  +----------------+----------------+----------------+----------------+----------------+\n"
      "                   ^\n"
      "                   |\n"
      "                   |\n";
  CHECK(draw_heap(heap) == expected);
}

TEST_CASE("after a second allocate(8) the arrow points under $010") {
  Region<40> region;
  BumpAllocator heap(region.bytes);
  REQUIRE(heap.allocate(8) != nullptr);
  REQUIRE(heap.allocate(8) != nullptr);
  const std::vector<std::string_view> expected_labels = {
      cell_label(BlockState::allocated), cell_label(BlockState::allocated), cell_label(BlockState::free),
      cell_label(BlockState::free), cell_label(BlockState::free)};
  CHECK(cell_labels(heap, 0, 5) == expected_labels);

  const std::string picture = draw_heap(heap);
  const std::vector<std::string_view> lines = lines_of(picture);
  const auto arrow_line = line_with(lines, "^");
  REQUIRE(arrow_line.has_value());
  CHECK(lines[*arrow_line].find('^') == lines.front().find("$010"));
}

TEST_CASE("draw_cells wraps rows and an arrow at the end of a full row starts the next one") {
  const std::vector<std::string_view> labels(8, cell_label(BlockState::free));
  const std::string picture = draw_cells(labels, 0, 4 * kCellBytes, 4);
  const std::vector<std::string_view> lines = lines_of(picture);
  const auto second_row = line_with(lines, "$020");
  const auto arrow_line = line_with(lines, "^");
  REQUIRE(second_row.has_value());
  REQUIRE(arrow_line.has_value());
  CHECK(*arrow_line > *second_row);
  CHECK(lines[*arrow_line].find('^') == lines[*second_row].find("$020"));
  CHECK(lines[*second_row].find("$028") != std::string_view::npos);  // the row goes on from there
}

TEST_CASE("draw_cells leaves out an arrow that points outside the picture") {
  const std::vector<std::string_view> labels(3, cell_label(BlockState::allocated));
  CHECK(draw_cells(labels, 0x100, 0x8).find('^') == std::string::npos);
  CHECK(draw_cells(labels, 0x100, std::nullopt).find('^') == std::string::npos);
}

TEST_CASE("format_bytes prints bytes below 1 KiB exactly and larger sizes with one decimal") {
  CHECK(format_bytes(0) == "0 B");
  CHECK(format_bytes(40) == "40 B");
  CHECK(format_bytes(1023) == "1023 B");
  CHECK(format_bytes(1024) == "1.0 KiB");
  CHECK(format_bytes(1536) == "1.5 KiB");
  CHECK(format_bytes(kStaticHeapSize) == "10.0 MiB");
  CHECK(format_bytes(std::size_t{3} << 30) == "3.0 GiB");
}

TEST_CASE("draw_usage fills the gauge in proportion to the bytes used") {
  HeapStats stats;
  stats.capacity = 4096;
  stats.used = stats.capacity / 4;
  constexpr std::size_t width = 40;
  const std::string gauge = draw_usage(stats, width);
  CHECK(gauge.find('[') == 0);
  CHECK(gauge.find(']') == width + 1);
  CHECK(static_cast<std::size_t>(std::count(gauge.begin(), gauge.end(), '#')) == width / 4);
  CHECK(gauge.find(format_bytes(stats.used) + " of " + format_bytes(stats.capacity)) != std::string::npos);
  CHECK(gauge.find("25.0%") != std::string::npos);
  // An empty allocator (capacity 0) draws an empty gauge rather than dividing by zero.
  CHECK(draw_usage(HeapStats{}, width).find('#') == std::string::npos);
}

TEST_CASE("draw_block_map shows each block's state and size, and counts what it leaves out") {
  const std::vector<BlockView> blocks = {{0, 0, 32, BlockState::allocated},
                                         {0, 32, 48, BlockState::free},
                                         {0, 80, 24, BlockState::allocated}};
  CHECK(draw_block_map(blocks) == "[A 32][F 48][A 24]");
  CHECK(draw_block_map(blocks, 2) == "[A 32][F 48] ... and 1 more block");
  CHECK(draw_block_map(blocks, 1) == "[A 32] ... and 2 more blocks");
  CHECK(draw_block_map({}) == "(no blocks yet)");
}

TEST_CASE("draw_block_walk draws any allocator through its block walk") {
  alignas(16) std::array<std::byte, 64> region{};
  BumpAllocator bump(region);
  (void)bump.allocate(8);
  (void)bump.allocate(12);  // 16 with its rounding
  // A bump heap keeps no block boundaries: its walk is the used part and the rest.
  CHECK(draw_block_walk(bump) == "[A 24][F 40]");
}

TEST_CASE("side_by_side pads each column to its widest line and continues a short one with blanks") {
  const std::string columns[] = {"first\n[A 32]\n[F 48]", "best\n[A 32]", "x"};
  CHECK(side_by_side(columns, 2) ==
        "first   best    x\n"
        "[A 32]  [A 32]\n"
        "[F 48]");
}

TEST_CASE("side_by_side keeps a column in place past an empty line and adds no trailing spaces") {
  const std::string columns[] = {"a\n\nccc\n", "1\n2\n3\n4"};
  const std::string joined = side_by_side(columns);
  CHECK(joined ==
        "a     1\n"
        "      2\n"
        "ccc   3\n"
        "      4");
  for (const std::string_view line : lines_of(joined)) CHECK(line.back() != ' ');
  // A column's final newline ends its last line: it adds no row.
  const std::string one_line[] = {"left\n", "right\n"};
  CHECK(side_by_side(one_line, 1) == "left right");
  CHECK(side_by_side({}).empty());
}

// ---- Misuse reports ----------------------------------------------------------

TEST_CASE("format_misuse writes one line naming the kind and the pointer in hex and the operation") {
  int object = 0;
  const std::string_view where = "FreeList::deallocate";
  char hex[32];
  std::snprintf(hex, sizeof hex, "0x%" PRIxPTR, address_of(&object));
  for (const Misuse kind : {Misuse::foreign_pointer, Misuse::double_free, Misuse::interior_pointer,
                            Misuse::bad_marker, Misuse::static_heap_taken}) {
    CAPTURE(to_string(kind));
    char buffer[256];
    const std::string_view line = format_misuse({kind, &object, where}, buffer, sizeof buffer);
    CHECK(line.starts_with("heaplab: "));
    CHECK(line.find(to_string(kind)) != std::string_view::npos);
    CHECK(line.find(hex) != std::string_view::npos);
    CHECK(line.find(where) != std::string_view::npos);
    CHECK(line.find('\n') == line.size() - 1);  // exactly one line, newline-terminated
  }
}

TEST_CASE("every misuse kind has its own name") {
  std::vector<std::string_view> names;
  for (const Misuse kind : {Misuse::foreign_pointer, Misuse::double_free, Misuse::interior_pointer,
                            Misuse::bad_marker, Misuse::static_heap_taken}) {
    names.push_back(to_string(kind));
    CHECK_FALSE(names.back().empty());
  }
  std::sort(names.begin(), names.end());
  CHECK(std::adjacent_find(names.begin(), names.end()) == names.end());
}

TEST_CASE("format_misuse truncates at the end of a short buffer") {
  std::array<char, 32> buffer{};
  buffer.fill('#');
  constexpr std::size_t offered = 12;
  const std::string_view line =
      format_misuse({Misuse::double_free, nullptr, "Somewhere::deallocate"}, buffer.data(), offered);
  CHECK(line.size() == offered);
  CHECK(std::all_of(buffer.begin() + offered, buffer.end(), [](char c) { return c == '#'; }));
}

TEST_CASE("Line appends text, decimal and hexadecimal numbers, and cuts off at its capacity") {
  heaplab::Line line;
  line << "n=" << std::size_t{0} << " max=" << std::numeric_limits<std::size_t>::max() << " at ";
  line.append_hex(0).append_hex(0xdeadbeef);
  CHECK(line.view() == "n=0 max=18446744073709551615 at 0x00xdeadbeef");

  heaplab::Line full;
  const std::string long_text(heaplab::Line::kCapacity - 3, 'x');
  full << long_text << std::size_t{123456};  // only "123" fits
  CHECK(full.view().size() == heaplab::Line::kCapacity);
  CHECK(full.view().substr(long_text.size()) == "123");
  full << "more";
  CHECK(full.view().size() == heaplab::Line::kCapacity);
}

TEST_CASE("set_misuse_handler returns the previous handler and nullptr restores the default") {
  const MisuseHandler original = set_misuse_handler(nullptr);
  const bool original_was_default = original == &abort_on_misuse;  // nobody installed one yet
  CHECK(original_was_default);
  {
    RecordingHandler recording;
    report_misuse({Misuse::double_free, nullptr, "test"});
    CHECK(recording.count(Misuse::double_free) == 1);
  }
  // The recording handler put the default back when it went out of scope.
  const bool default_restored = set_misuse_handler(original) == &abort_on_misuse;
  CHECK(default_restored);
}

/// Runs \p body in a child process with its standard error on a pipe;
/// returns what it wrote, and its wait status in \p status.
template <class Body>
std::string run_in_child(Body body, int& status) {
  int pipe_ends[2];
  REQUIRE(::pipe(pipe_ends) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::dup2(pipe_ends[1], STDERR_FILENO);
    ::close(pipe_ends[0]);
    body();
    ::_exit(0);
  }
  ::close(pipe_ends[1]);
  std::string output;
  char chunk[256];
  for (ssize_t n; (n = ::read(pipe_ends[0], chunk, sizeof chunk)) > 0;) {
    output.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(pipe_ends[0]);
  REQUIRE(::waitpid(child, &status, 0) == child);
  return output;
}

TEST_CASE("the default handler writes the formatted line to stderr and aborts") {
  int object = 0;
  const MisuseReport report{Misuse::foreign_pointer, &object, "Test::deallocate"};
  int status = 0;
  // The child misuses the heap and should die of it.
  const std::string output = run_in_child(
      [&report] {
        set_misuse_handler(nullptr);
        report_misuse(report);
      },
      status);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);
  char expected[256];
  CHECK(output == format_misuse(report, expected, sizeof expected));
}

TEST_CASE("a failed assertion names its condition, its reason and its place in one line, then aborts") {
  int status = 0;
  const std::string output = run_in_child([] { HEAPLAB_ASSERT(1 + 1 == 3, "arithmetic still works"); }, status);
#if defined(HEAPLAB_ASSERTIONS)
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);
  CHECK(output.starts_with("heaplab: assertion failed: 1 + 1 == 3 (arithmetic still works) at "));
  CHECK(output.find("stage1_tests.cpp:") != std::string::npos);
  CHECK(output.ends_with("\n"));
  CHECK(std::count(output.begin(), output.end(), '\n') == 1);
#else
  // Release builds compile assertions out: the child runs on and exits 0.
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(output.empty());
#endif
}

TEST_CASE("a holding assertion changes nothing") {
  int evaluated = 0;
  HEAPLAB_ASSERT(++evaluated == 1, "the condition is evaluated once where assertions are on");
#if defined(HEAPLAB_ASSERTIONS)
  CHECK(evaluated == 1);
#else
  CHECK(evaluated == 0);  // compiled out: not even evaluated
#endif
}

TEST_CASE("a check result names the region of its offset") {
  const CheckResult one_region = CheckResult::fail("some invariant", 48);
  CHECK(one_region.region == 0);
  const CheckResult moved = one_region.in_region(3);
  CHECK(moved.failed_invariant == "some invariant");
  CHECK(moved.offset == 48);
  CHECK(moved.region == 3);
  CHECK_FALSE(moved.ok());
  CHECK(CheckResult::pass().in_region(2).ok());
}

}  // TEST_SUITE("stage1")
