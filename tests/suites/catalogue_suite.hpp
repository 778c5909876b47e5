/// \file
/// The bad-input catalogue (docs/bad_input.md), for any allocator: each
/// input a C program may hand to malloc, calloc, realloc, free,
/// aligned_alloc and malloc_usable_size, sent through the C++ contract. (The
/// drop-in shim answers the same inputs the C way, with errno, NULL and
/// abort; its own catalogue test is in tools/shim/tests/.)
///
/// One test case per row of the page, named after its input, so a failure
/// says which input broke which allocator. Each runs on a heap with a
/// history (live blocks and, where the heap gives blocks back, freed ones)
/// and checks:
/// - the documented answer: a pointer, nullptr, a size;
/// - the stats: unchanged but for the documented counter (rejected,
///   exhausted) or the documented allocation;
/// - the misuse handler: exactly the documented report, or none;
/// - the heap: check() passes, and every block allocated before still
///   holds its bytes.
///
/// usable_size() (malloc_usable_size) is covered here rather than in the
/// contract suite: it is not part of the heaplab::Reallocating concept, and
/// what it answers for a freed, foreign or interior pointer is a row of the
/// catalogue like free()'s.
///
/// The cases are defined here and applied to fixtures elsewhere
/// (catalogue_tests.cpp for the course's, heaplab_add_allocator()'s
/// generated tests for anyone's) with HEAPLAB_APPLY_CATALOGUE_SUITE.
#pragma once

#include <doctest/doctest.h>

#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <limits>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/misuse.hpp"
#include "tests/support/blocks.hpp"
#include "tests/support/grader_report.hpp"
#include "tests/support/recording_handler.hpp"

/// Prints a misuse kind by its name ("double free", ...).
template <>
struct doctest::StringMaker<heaplab::Misuse> {
  static doctest::String convert(heaplab::Misuse kind) {
    const std::string name(heaplab::to_string(kind));
    return name.c_str();
  }
};

/// The catalogue's cases and their helpers.
namespace heaplab::testing::catalogue_suite {

using heaplab::HeapStats;
using heaplab::kMaxRequest;
using heaplab::Misuse;
using heaplab::testing::Block;
using heaplab::testing::block_at;
using heaplab::testing::RecordingHandler;

constexpr std::size_t kSizeMax = std::numeric_limits<std::size_t>::max();
/// The largest power of two a std::size_t holds (2^63 on 64-bit machines).
constexpr std::size_t kTopBit = kSizeMax / 2 + 1;
/// A page on the machines the course targets.
constexpr std::size_t kPage = 4096;
/// One mebibyte, an alignment far above a page.
constexpr std::size_t kMebibyte = std::size_t{1024} * 1024;

/// The size of the blocks a test misuses on purpose: larger than any block
/// the scene's history freed, so they are carved next to each other, and
/// each one's neighbours are allocated: a freed one cannot merge away.
constexpr std::size_t kVictimSize = 512;

/// Blocks the scene's history allocates, and their largest size.
constexpr std::size_t kHistoryBlocks = 12;
constexpr std::size_t kHistoryLargest = 300;
static_assert(kVictimSize > kHistoryLargest + 64, "a victim must not fit where a history block was");

/// True for the allocators that give single blocks back (chapter 2 on). On
/// the others (chapter 1's bump heaps) deallocate() of their own block is a
/// documented no-op.
template <class F>
constexpr bool kGivesBlocksBack = heaplab::Reallocating<typename F::allocator_type>;

/// Fixtures whose allocator gives requests of at least
/// `F::mmap_threshold` bytes a mapping of their own.
template <class F>
concept MapsLargeBlocks = requires { F::mmap_threshold; };

/// Allocators that answer malloc_usable_size().
template <class A>
concept HasUsableSize = requires(A& a, void* p) {
  { a.usable_size(p) } -> std::same_as<std::size_t>;
};

/// How a refused request must be counted.
enum class Refusal { rejected, exhausted };

/// A block the test filled, and the number of the pattern it holds.
struct Filled {
  Block block;
  std::size_t id = 0;
};

/// A fresh allocator of fixture \p F with a history, a recording misuse
/// handler, and the blocks whose bytes must survive whatever the test does.
template <class F>
class Scene {
 public:
  /// The history: blocks of varied sizes, filled, and (where the heap gives
  /// blocks back) every third one freed, so the heap has free blocks too.
  Scene() {
    for (std::size_t i = 0; i < kHistoryBlocks; ++i) {
      std::byte* const p = allocate_kept(heaplab::testing::varied_size(i, kHistoryLargest));
      if (kGivesBlocksBack<F> && i % 3 == 1) {
        forget(p);
        heap().deallocate(p);
      }
    }
    REQUIRE(misuse_.reports().empty());
  }
  Scene(const Scene&) = delete;
  Scene& operator=(const Scene&) = delete;
  ~Scene() = default;

  /// The allocator under test.
  auto& heap() noexcept { return fixture_.allocator(); }
  /// Every misuse reported since the scene was made.
  [[nodiscard]] const std::vector<heaplab::MisuseReport>& reports() const noexcept { return misuse_.reports(); }

  /// Allocates \p size bytes at \p align, which must succeed, and fills
  /// them with a pattern that check_heap_intact() looks for.
  std::byte* allocate_kept(std::size_t size, std::size_t align = heaplab::kDefaultAlignment) {
    void* const p = heap().allocate(size, align);
    REQUIRE(p != nullptr);
    keep(block_at(p, size));
    return static_cast<std::byte*>(p);
  }
  /// Fills \p block with a pattern of its own and remembers it.
  void keep(const Block& block) {
    kept_.push_back({block, next_id_++});
    heaplab::testing::fill_pattern(block, kept_.back().id);
  }
  /// Stops checking the block at \p p (the test frees or moves it).
  void forget(const void* p) {
    std::erase_if(kept_, [p](const Filled& f) { return f.block.start == p; });
  }
  /// Three blocks side by side; returns the middle one, whose neighbours
  /// are allocated.
  std::byte* block_between_neighbours() {
    allocate_kept(kVictimSize);
    std::byte* const middle = allocate_kept(kVictimSize);
    allocate_kept(kVictimSize);
    return middle;
  }

  /// Checks that the heap passes check() and that every kept block still
  /// holds its pattern.
  void check_heap_intact() {
    heaplab::testing::check_sound(heap());
    for (const Filled& f : kept_) {
      CAPTURE(f.id);
      CHECK(heaplab::testing::holds_pattern(f.block, f.id));
    }
  }

 private:
  F fixture_;
  RecordingHandler misuse_;
  std::vector<Filled> kept_;
  std::size_t next_id_ = 0;
};

/// Checks a refused request: every field of the stats as before, but the
/// counter it is \p counted as.
inline void check_refused(const HeapStats& before, const HeapStats& after, Refusal counted) {
  heaplab::testing::check_same_live_state(before, after);
  CHECK(after.allocations == before.allocations);
  CHECK(after.high_water == before.high_water);
  CHECK(after.peak_requested == before.peak_requested);
  CHECK(after.rejected == before.rejected + (counted == Refusal::rejected ? 1 : 0));
  CHECK(after.exhausted == before.exhausted + (counted == Refusal::exhausted ? 1 : 0));
}

/// Checks that \p blocks new allocations of \p bytes requested bytes in
/// all were made between \p before and \p after, and nothing was refused.
inline void check_served(const HeapStats& before, const HeapStats& after, std::size_t blocks, std::size_t bytes) {
  CHECK(after.live_allocations == before.live_allocations + blocks);
  CHECK(after.allocations == before.allocations + blocks);
  CHECK(after.requested == before.requested + bytes);
  CHECK(after.rejected == before.rejected);
  CHECK(after.exhausted == before.exhausted);
}

/// Checks that exactly one report of \p kind per pointer of \p pointers,
/// in that order, was made.
inline void check_reports(const std::vector<heaplab::MisuseReport>& reports, Misuse kind,
                   std::initializer_list<const void*> pointers) {
  REQUIRE(reports.size() == pointers.size());
  std::size_t i = 0;
  for (const void* p : pointers) {
    CAPTURE(i);
    CHECK(reports[i].kind == kind);
    CHECK(reports[i].pointer == p);
    ++i;
  }
}

/// The rows for a size no heap serves: allocate(size), and reallocate() of
/// a live block to it where the allocator has one, both nullptr.
template <class F>
void check_size_refused(std::size_t size, Refusal counted) {
  Scene<F> scene;
  auto& heap = scene.heap();
  HeapStats before = heap.stats();
  CHECK(heap.allocate(size) == nullptr);
  check_refused(before, heap.stats(), counted);
  if constexpr (kGivesBlocksBack<F>) {
    // realloc(p, size): nullptr, and p is still the caller's, unchanged.
    std::byte* const p = scene.allocate_kept(100);
    before = heap.stats();
    CHECK(heap.reallocate(p, size) == nullptr);
    check_refused(before, heap.stats(), counted);
  }
  CHECK(scene.reports().empty());
  scene.check_heap_intact();
}

/// The rows for alignments no heap serves: allocate() at each of
/// \p alignments, with sizes 0, 8 and a page, is nullptr, counted rejected.
template <class F>
void check_alignments_rejected(std::initializer_list<std::size_t> alignments) {
  Scene<F> scene;
  auto& heap = scene.heap();
  for (const std::size_t align : alignments) {
    for (const std::size_t size : {std::size_t{0}, std::size_t{8}, kPage}) {
      CAPTURE(align);
      CAPTURE(size);
      const HeapStats before = heap.stats();
      CHECK(heap.allocate(size, align) == nullptr);
      check_refused(before, heap.stats(), Refusal::rejected);
    }
  }
  CHECK(scene.reports().empty());
  scene.check_heap_intact();
}



// ---- Sizes -------------------------------------------------------------------

/// Bytes on the stack for the foreign-pointer cases: a block's worth, not
/// a lone int, so that an allocator whose inlined fast path reads or writes
/// a link's worth at the pointer, behind a check the optimiser cannot see
/// through (GCC's -Warray-bounds at -O3), stays inside the object.
struct StackBytes {
  alignas(16) std::byte bytes[64]{};  ///< Never a block of any heap.
};

TEST_CASE_TEMPLATE_DEFINE("catalogue: size 0 gives a unique pointer that can be freed", F, size_zero) {
  Scene<F> scene;
  auto& heap = scene.heap();
  const HeapStats before = heap.stats();
  void* const first = heap.allocate(0);
  void* const second = heap.allocate(0);
  REQUIRE(first != nullptr);
  REQUIRE(second != nullptr);
  CHECK(first != second);
  CHECK(heaplab::is_aligned(first, heaplab::kDefaultAlignment));
  CHECK(heaplab::is_aligned(second, heaplab::kDefaultAlignment));
  CHECK(heap.owns(first));
  CHECK(heap.owns(second));
  check_served(before, heap.stats(), 2, 0);
  heap.deallocate(first);
  heap.deallocate(second);
  if constexpr (kGivesBlocksBack<F>) CHECK(heap.stats().live_allocations == before.live_allocations);
  CHECK(scene.reports().empty());
  scene.check_heap_intact();
}

TEST_CASE_TEMPLATE_DEFINE("catalogue: size SIZE_MAX is refused as rejected", F, size_max) {
  check_size_refused<F>(kSizeMax, Refusal::rejected);
}

TEST_CASE_TEMPLATE_DEFINE("catalogue: size SIZE_MAX - 7 is refused as rejected", F, size_max_minus_7) {
  // Rounding it up to a multiple of 8 would wrap around to 0.
  check_size_refused<F>(kSizeMax - 7, Refusal::rejected);
}

TEST_CASE_TEMPLATE_DEFINE("catalogue: size PTRDIFF_MAX + 1 is refused as rejected", F, size_ptrdiff_max_plus_1) {
  check_size_refused<F>(kMaxRequest + 1, Refusal::rejected);
}

TEST_CASE_TEMPLATE_DEFINE("catalogue: size PTRDIFF_MAX is refused as exhausted", F, size_ptrdiff_max) {
  // A valid size (an object may be that large) that no heap has room for.
  check_size_refused<F>(kMaxRequest, Refusal::exhausted);
}

// ---- Alignments ------------------------------------------------------------

TEST_CASE_TEMPLATE_DEFINE("catalogue: alignment 0 is refused as rejected", F, alignment_zero) {
  check_alignments_rejected<F>({0});
}

TEST_CASE_TEMPLATE_DEFINE("catalogue: alignment 3 is refused as rejected", F, alignment_three) {
  check_alignments_rejected<F>({3});
}

TEST_CASE_TEMPLATE_DEFINE("catalogue: alignments that are not powers of two are refused as rejected", F,
                          alignment_not_power_of_two) {
  // SIZE_MAX and 2^63 + 2^62: every value above 2^63 has two bits set.
  check_alignments_rejected<F>({6, 12, 24, 48, 1000, kPage + 1, 3 * kPage, kTopBit + kTopBit / 2, kSizeMax});
}

TEST_CASE_TEMPLATE_DEFINE("catalogue: alignment 2^63 is refused as exhausted", F, alignment_top_bit) {
  // A power of two, so a valid request; but no address but 0 is a multiple of it.
  Scene<F> scene;
  auto& heap = scene.heap();
  const HeapStats before = heap.stats();
  CHECK(heap.allocate(8, kTopBit) == nullptr);
  check_refused(before, heap.stats(), Refusal::exhausted);
  CHECK(scene.reports().empty());
  scene.check_heap_intact();
}

TEST_CASE_TEMPLATE_DEFINE("catalogue: alignments 1 and 2 and 4 give a block aligned to 8", F, alignment_below_8) {
  // Powers of two, so valid; every block of the course is 8-aligned anyway.
  Scene<F> scene;
  auto& heap = scene.heap();
  for (const std::size_t align : {std::size_t{1}, std::size_t{2}, std::size_t{4}}) {
    CAPTURE(align);
    const HeapStats before = heap.stats();
    const std::byte* const p = scene.allocate_kept(13, align);
    CHECK(heaplab::is_aligned(p, heaplab::kDefaultAlignment));
    check_served(before, heap.stats(), 1, 13);
  }
  CHECK(scene.reports().empty());
  scene.check_heap_intact();
}

TEST_CASE_TEMPLATE_DEFINE("catalogue: alignment 8192 above a page gives an aligned block", F, alignment_two_pages) {
  Scene<F> scene;
  auto& heap = scene.heap();
  for (const std::size_t size : {std::size_t{1}, std::size_t{100}, 2 * kPage}) {
    CAPTURE(size);
    const HeapStats before = heap.stats();
    const std::byte* const p = scene.allocate_kept(size, 2 * kPage);
    CHECK(heaplab::is_aligned(p, 2 * kPage));
    CHECK(heap.owns(p));
    CHECK(heap.owns(p + size - 1));
    check_served(before, heap.stats(), 1, size);
  }
  CHECK(scene.reports().empty());
  scene.check_heap_intact();
}

TEST_CASE_TEMPLATE_DEFINE("catalogue: alignment 1 MiB gives an aligned block or nullptr when the heap cannot hold it",
                          F, alignment_mebibyte) {
  Scene<F> scene;
  auto& heap = scene.heap();
  const HeapStats before = heap.stats();
  void* const p = heap.allocate(100, kMebibyte);
  // A heap of a few MiB (the static heap) always has a 1 MiB boundary with
  // room after it; a smaller one may or may not.
  if (F::capacity >= 4 * kMebibyte) REQUIRE(p != nullptr);
  if (p != nullptr) {
    CHECK(heaplab::is_aligned(p, kMebibyte));
    CHECK(heap.owns(p));
    check_served(before, heap.stats(), 1, 100);
    scene.keep(block_at(p, 100));
  } else {
    check_refused(before, heap.stats(), Refusal::exhausted);
  }
  CHECK(scene.reports().empty());
  scene.check_heap_intact();
}

// ---- free() ------------------------------------------------------------------

TEST_CASE_TEMPLATE_DEFINE("catalogue: free(NULL) does nothing", F, free_null) {
  Scene<F> scene;
  auto& heap = scene.heap();
  const HeapStats before = heap.stats();
  heap.deallocate(nullptr);
  heaplab::testing::check_same_stats(before, heap.stats());
  CHECK(scene.reports().empty());
  scene.check_heap_intact();
}

TEST_CASE_TEMPLATE_DEFINE("catalogue: double free is reported as a double free (stage 1: a no-op)", F,
                          double_free) {
  Scene<F> scene;
  auto& heap = scene.heap();
  std::byte* const victim = scene.block_between_neighbours();
  scene.forget(victim);
  heap.deallocate(victim);
  REQUIRE(scene.reports().empty());  // the first free is a free
  const HeapStats before = heap.stats();
  heap.deallocate(victim);
  heaplab::testing::check_same_stats(before, heap.stats());
  if constexpr (kGivesBlocksBack<F>) {
    check_reports(scene.reports(), Misuse::double_free, {victim});
  } else {
    // A bump heap keeps no record of single blocks: a freed block is still
    // one of its own, and freeing it again does what the first free did.
    CHECK(scene.reports().empty());
  }
  scene.check_heap_intact();
}

TEST_CASE_TEMPLATE_DEFINE("catalogue: free of a stack pointer is reported as a foreign pointer", F,
                          free_stack_pointer) {
  Scene<F> scene;
  auto& heap = scene.heap();
  StackBytes stack;  // see StackBytes
  void* const on_the_stack = stack.bytes;
  const HeapStats before = heap.stats();
  heap.deallocate(on_the_stack);
  heaplab::testing::check_same_stats(before, heap.stats());
  check_reports(scene.reports(), Misuse::foreign_pointer, {on_the_stack});
  scene.check_heap_intact();
}

TEST_CASE_TEMPLATE_DEFINE("catalogue: free of a pointer from another heap is reported as a foreign pointer", F,
                          free_other_heap_pointer) {
  Scene<F> scene;
  auto& heap = scene.heap();
  std::vector<std::byte> elsewhere(64);  // from the process's malloc
  const HeapStats before = heap.stats();
  heap.deallocate(elsewhere.data());
  heaplab::testing::check_same_stats(before, heap.stats());
  check_reports(scene.reports(), Misuse::foreign_pointer, {elsewhere.data()});
  scene.check_heap_intact();
}

TEST_CASE_TEMPLATE_DEFINE("catalogue: free of an interior pointer is reported as an interior pointer (stage 1: a no-op)",
                          F, free_interior_pointer) {
  Scene<F> scene;
  auto& heap = scene.heap();
  std::byte* const victim = scene.block_between_neighbours();
  const HeapStats before = heap.stats();
  // One byte in, and one header's length in (where a careless check that
  // only looks 16 bytes back would find a block).
  heap.deallocate(victim + 1);
  heap.deallocate(victim + 16);
  heaplab::testing::check_same_stats(before, heap.stats());
  if constexpr (kGivesBlocksBack<F>) {
    check_reports(scene.reports(), Misuse::interior_pointer, {victim + 1, victim + 16});
  } else {
    // Inside a block the bump heap handed out: its own memory, and nothing
    // records where the block starts.
    CHECK(scene.reports().empty());
  }
  scene.check_heap_intact();
  // The block is still the caller's, whole.
  scene.forget(victim);
  heap.deallocate(victim);
  if constexpr (kGivesBlocksBack<F>) CHECK(heap.stats().live_allocations == before.live_allocations - 1);
  CHECK(scene.reports().size() == (kGivesBlocksBack<F> ? std::size_t{2} : std::size_t{0}));
}

// ---- calloc() ----------------------------------------------------------------

/// A calloc() request: count elements of size bytes each. (A struct rather
/// than a pair taken apart: CAPTURE() is a lambda, and clang 14 cannot
/// capture a structured binding.)
struct Product {
  std::size_t count;  ///< Elements.
  std::size_t size;   ///< Bytes per element.
};

TEST_CASE_TEMPLATE_DEFINE("catalogue: calloc overflow is refused as rejected", F, calloc_overflow) {
  Scene<F> scene;
  auto& heap = scene.heap();
  // The first four wrap around (to 0, 2, 0 and 1); the last does not, but
  // is PTRDIFF_MAX + 1.
  for (const Product& product : {Product{kTopBit, 2}, Product{3, kSizeMax / 3 + 1},
                                 Product{std::size_t{1} << 32, std::size_t{1} << 32}, Product{kSizeMax, kSizeMax},
                                 Product{kTopBit / 2, 2}}) {
    CAPTURE(product.count);
    CAPTURE(product.size);
    const HeapStats before = heap.stats();
    CHECK(heap.allocate_zeroed(product.count, product.size) == nullptr);
    check_refused(before, heap.stats(), Refusal::rejected);
  }
  CHECK(scene.reports().empty());
  scene.check_heap_intact();
}

TEST_CASE_TEMPLATE_DEFINE("catalogue: calloc with a zero count or size gives a unique pointer", F, calloc_zero) {
  Scene<F> scene;
  auto& heap = scene.heap();
  const HeapStats before = heap.stats();
  std::vector<void*> blocks;
  for (const Product& product : {Product{0, 8}, Product{8, 0}, Product{0, kSizeMax}, Product{kSizeMax, 0}}) {
    CAPTURE(product.count);
    CAPTURE(product.size);
    void* const p = heap.allocate_zeroed(product.count, product.size);
    REQUIRE(p != nullptr);
    CHECK(heap.owns(p));
    for (void* q : blocks) CHECK(p != q);
    blocks.push_back(p);
  }
  check_served(before, heap.stats(), blocks.size(), 0);
  for (void* p : blocks) heap.deallocate(p);
  CHECK(heap.stats().live_allocations == before.live_allocations);
  CHECK(scene.reports().empty());
  scene.check_heap_intact();
}

// ---- realloc() ---------------------------------------------------------------

TEST_CASE_TEMPLATE_DEFINE("catalogue: realloc of NULL allocates like malloc", F, realloc_null) {
  Scene<F> scene;
  auto& heap = scene.heap();
  for (const std::size_t size : {std::size_t{0}, std::size_t{100}, std::size_t{5000}}) {
    CAPTURE(size);
    const HeapStats before = heap.stats();
    void* const p = heap.reallocate(nullptr, size);
    REQUIRE(p != nullptr);
    CHECK(heaplab::is_aligned(p, heaplab::kDefaultAlignment));
    CHECK(heap.owns(p));
    check_served(before, heap.stats(), 1, size);
    scene.keep(block_at(p, size));
  }
  // And it refuses what allocate() refuses.
  const HeapStats before = heap.stats();
  CHECK(heap.reallocate(nullptr, kSizeMax) == nullptr);
  check_refused(before, heap.stats(), Refusal::rejected);
  CHECK(scene.reports().empty());
  scene.check_heap_intact();
}

TEST_CASE_TEMPLATE_DEFINE("catalogue: realloc to size 0 keeps a minimal block", F, realloc_to_zero) {
  Scene<F> scene;
  auto& heap = scene.heap();
  std::vector<std::size_t> sizes = {100};
  if constexpr (MapsLargeBlocks<F>) sizes.push_back(2 * F::mmap_threshold);  // a mapped block too
  for (const std::size_t size : sizes) {
    CAPTURE(size);
    std::byte* const p = scene.allocate_kept(size);
    scene.forget(p);
    const HeapStats before = heap.stats();
    void* const q = heap.reallocate(p, 0);
    REQUIRE(q != nullptr);  // not freed: a block of size 0, as allocate(0) gives
    CHECK(heap.owns(q));
    const HeapStats after = heap.stats();
    CHECK(after.live_allocations == before.live_allocations);
    CHECK(after.requested == before.requested - size);
    CHECK(after.allocations == before.allocations + (q != p ? 1 : 0));  // a move allocates
    CHECK(after.rejected == before.rejected);
    CHECK(after.exhausted == before.exhausted);
    heap.deallocate(q);
    CHECK(heap.stats().live_allocations == before.live_allocations - 1);
  }
  CHECK(scene.reports().empty());
  scene.check_heap_intact();
}

TEST_CASE_TEMPLATE_DEFINE("catalogue: realloc of a freed pointer is reported as a double free", F,
                          realloc_freed_pointer) {
  Scene<F> scene;
  auto& heap = scene.heap();
  std::byte* const victim = scene.block_between_neighbours();
  scene.forget(victim);
  heap.deallocate(victim);
  const HeapStats before = heap.stats();
  CHECK(heap.reallocate(victim, 100) == nullptr);
  heaplab::testing::check_same_stats(before, heap.stats());
  check_reports(scene.reports(), Misuse::double_free, {victim});
  scene.check_heap_intact();
}

TEST_CASE_TEMPLATE_DEFINE("catalogue: realloc of a stack pointer is reported as a foreign pointer", F,
                          realloc_stack_pointer) {
  Scene<F> scene;
  auto& heap = scene.heap();
  StackBytes stack;  // see StackBytes
  void* const on_the_stack = stack.bytes;
  const HeapStats before = heap.stats();
  CHECK(heap.reallocate(on_the_stack, 100) == nullptr);
  heaplab::testing::check_same_stats(before, heap.stats());
  check_reports(scene.reports(), Misuse::foreign_pointer, {on_the_stack});
  scene.check_heap_intact();
}

TEST_CASE_TEMPLATE_DEFINE("catalogue: realloc of an interior pointer is reported as an interior pointer", F,
                          realloc_interior_pointer) {
  Scene<F> scene;
  auto& heap = scene.heap();
  std::byte* const victim = scene.block_between_neighbours();
  const HeapStats before = heap.stats();
  CHECK(heap.reallocate(victim + 16, 100) == nullptr);
  heaplab::testing::check_same_stats(before, heap.stats());
  check_reports(scene.reports(), Misuse::interior_pointer, {victim + 16});
  scene.check_heap_intact();
}

TEST_CASE_TEMPLATE_DEFINE("catalogue: a bad pointer is reported even when realloc asks for a size no heap serves",
                          F, realloc_bad_pointer_huge_size) {
  // The pointer is the caller's mistake whatever size comes with it, so it is
  // checked first: rejecting the size alone would hide the misuse.
  Scene<F> scene;
  auto& heap = scene.heap();
  std::byte* const victim = scene.block_between_neighbours();
  scene.forget(victim);
  heap.deallocate(victim);
  StackBytes stack;  // see StackBytes
  void* const on_the_stack = stack.bytes;
  const HeapStats before = heap.stats();
  CHECK(heap.reallocate(victim, kSizeMax) == nullptr);
  CHECK(heap.reallocate(on_the_stack, kSizeMax) == nullptr);
  heaplab::testing::check_same_stats(before, heap.stats());
  const std::vector<MisuseReport> reports = scene.reports();
  REQUIRE(reports.size() == 2);
  CHECK(reports[0].kind == Misuse::double_free);
  CHECK(reports[0].pointer == victim);
  CHECK(reports[1].kind == Misuse::foreign_pointer);
  CHECK(reports[1].pointer == on_the_stack);
  scene.check_heap_intact();
}

// ---- malloc_usable_size() ------------------------------------------------------

TEST_CASE_TEMPLATE_DEFINE("catalogue: usable_size covers the request and every usable byte keeps its value", F,
                          usable_size_live) {
  static_assert(HasUsableSize<typename F::allocator_type>,
                "every allocator that gives blocks back answers usable_size");
  Scene<F> scene;
  auto& heap = scene.heap();
  std::vector<std::size_t> sizes = {0, 1, 13, 100, 1000, 5000};
  if constexpr (MapsLargeBlocks<F>) sizes.push_back(F::mmap_threshold + 1000);  // the rest of a mapping
  std::vector<Block> usable;
  for (const std::size_t size : sizes) {
    CAPTURE(size);
    void* const p = heap.allocate(size);
    REQUIRE(p != nullptr);
    const HeapStats before = heap.stats();
    const std::size_t bytes = heap.usable_size(p);
    heaplab::testing::check_same_stats(before, heap.stats());  // a question, not a change
    CHECK(bytes >= size);
    usable.push_back(block_at(p, bytes));
    scene.keep(usable.back());  // the caller may write every usable byte
  }
  // Blocks the usable bytes border on change state: freed, and reused.
  scene.forget(usable[2].start);
  heap.deallocate(usable[2].start);
  scene.allocate_kept(13);
  usable.erase(usable.begin() + 2);
  CHECK(heaplab::testing::blocks_disjoint(usable));
  CHECK(scene.reports().empty());
  scene.check_heap_intact();  // no usable byte was a header or a footer
}

TEST_CASE_TEMPLATE_DEFINE("catalogue: usable_size(NULL) is 0", F, usable_size_null) {
  Scene<F> scene;
  auto& heap = scene.heap();
  const HeapStats before = heap.stats();
  CHECK(heap.usable_size(nullptr) == 0);
  heaplab::testing::check_same_stats(before, heap.stats());
  CHECK(scene.reports().empty());
  scene.check_heap_intact();
}

TEST_CASE_TEMPLATE_DEFINE("catalogue: usable_size of a freed pointer is reported as a double free and is 0", F,
                          usable_size_freed_pointer) {
  Scene<F> scene;
  auto& heap = scene.heap();
  std::byte* const victim = scene.block_between_neighbours();
  scene.forget(victim);
  heap.deallocate(victim);
  const HeapStats before = heap.stats();
  CHECK(heap.usable_size(victim) == 0);
  heaplab::testing::check_same_stats(before, heap.stats());
  check_reports(scene.reports(), Misuse::double_free, {victim});
  scene.check_heap_intact();
}

TEST_CASE_TEMPLATE_DEFINE("catalogue: usable_size of a stack pointer is reported as a foreign pointer and is 0", F,
                          usable_size_stack_pointer) {
  Scene<F> scene;
  auto& heap = scene.heap();
  StackBytes stack;  // see StackBytes
  void* const on_the_stack = stack.bytes;
  const HeapStats before = heap.stats();
  CHECK(heap.usable_size(on_the_stack) == 0);
  heaplab::testing::check_same_stats(before, heap.stats());
  check_reports(scene.reports(), Misuse::foreign_pointer, {on_the_stack});
  scene.check_heap_intact();
}

TEST_CASE_TEMPLATE_DEFINE("catalogue: usable_size of an interior pointer is reported as an interior pointer and is 0",
                          F, usable_size_interior_pointer) {
  Scene<F> scene;
  auto& heap = scene.heap();
  std::byte* const victim = scene.block_between_neighbours();
  const HeapStats before = heap.stats();
  CHECK(heap.usable_size(victim + 16) == 0);
  heaplab::testing::check_same_stats(before, heap.stats());
  check_reports(scene.reports(), Misuse::interior_pointer, {victim + 16});
  scene.check_heap_intact();
}

// ---- Large blocks in mappings of their own (chapter 4 with an upstream) -------

TEST_CASE_TEMPLATE_DEFINE("catalogue: double free of a mapped block is reported as a foreign pointer", F,
                          double_free_mapped) {
  Scene<F> scene;
  auto& heap = scene.heap();
  const std::size_t mapped_before = heap.stats().mapped_blocks;
  void* const p = heap.allocate(2 * F::mmap_threshold);
  REQUIRE(p != nullptr);
  REQUIRE(heap.stats().mapped_blocks == mapped_before + 1);
  heap.deallocate(p);  // the mapping goes back to the source
  REQUIRE(scene.reports().empty());
  const HeapStats before = heap.stats();
  heap.deallocate(p);
  heaplab::testing::check_same_stats(before, heap.stats());
  // Its mapping is gone: nothing in the heap holds that address any more.
  check_reports(scene.reports(), Misuse::foreign_pointer, {p});
  scene.check_heap_intact();
}

TEST_CASE_TEMPLATE_DEFINE("catalogue: free of an interior pointer into a mapped block is reported as an interior pointer",
                          F, free_interior_mapped) {
  Scene<F> scene;
  auto& heap = scene.heap();
  const std::size_t size = 2 * F::mmap_threshold;
  const std::size_t mapped_before = heap.stats().mapped_blocks;
  std::byte* const p = scene.allocate_kept(size);
  REQUIRE(heap.stats().mapped_blocks == mapped_before + 1);
  const HeapStats before = heap.stats();
  heap.deallocate(p + 16);
  heap.deallocate(p + size / 2);
  heaplab::testing::check_same_stats(before, heap.stats());
  check_reports(scene.reports(), Misuse::interior_pointer, {p + 16, p + size / 2});
  scene.check_heap_intact();
  scene.forget(p);
  heap.deallocate(p);
  CHECK(heap.stats().mapped_blocks == mapped_before);
}

}  // namespace heaplab::testing::catalogue_suite

/// Registers every row of the catalogue (doctest suite "catalogue") for
/// each fixture of the std::tuple \p All; the rows of realloc, calloc and
/// usable_size for each fixture of \p Reallocating (those modelling
/// heaplab::Reallocating); and the rows of mapped blocks for each fixture
/// of \p Mapping (those with an `mmap_threshold`).
#define HEAPLAB_APPLY_CATALOGUE_SUITE(All, Reallocating, Mapping)                       \
  namespace heaplab::testing::catalogue_suite {                                         \
  TEST_SUITE_BEGIN("catalogue");                                                        \
  TEST_CASE_TEMPLATE_APPLY(size_zero, All);                                             \
  TEST_CASE_TEMPLATE_APPLY(size_max, All);                                              \
  TEST_CASE_TEMPLATE_APPLY(size_max_minus_7, All);                                      \
  TEST_CASE_TEMPLATE_APPLY(size_ptrdiff_max_plus_1, All);                               \
  TEST_CASE_TEMPLATE_APPLY(size_ptrdiff_max, All);                                      \
  TEST_CASE_TEMPLATE_APPLY(alignment_zero, All);                                        \
  TEST_CASE_TEMPLATE_APPLY(alignment_three, All);                                       \
  TEST_CASE_TEMPLATE_APPLY(alignment_not_power_of_two, All);                            \
  TEST_CASE_TEMPLATE_APPLY(alignment_top_bit, All);                                     \
  TEST_CASE_TEMPLATE_APPLY(alignment_below_8, All);                                     \
  TEST_CASE_TEMPLATE_APPLY(alignment_two_pages, All);                                   \
  TEST_CASE_TEMPLATE_APPLY(alignment_mebibyte, All);                                    \
  TEST_CASE_TEMPLATE_APPLY(free_null, All);                                             \
  TEST_CASE_TEMPLATE_APPLY(double_free, All);                                           \
  TEST_CASE_TEMPLATE_APPLY(free_stack_pointer, All);                                    \
  TEST_CASE_TEMPLATE_APPLY(free_other_heap_pointer, All);                               \
  TEST_CASE_TEMPLATE_APPLY(free_interior_pointer, All);                                 \
  TEST_CASE_TEMPLATE_APPLY(calloc_overflow, Reallocating);                              \
  TEST_CASE_TEMPLATE_APPLY(calloc_zero, Reallocating);                                  \
  TEST_CASE_TEMPLATE_APPLY(realloc_null, Reallocating);                                 \
  TEST_CASE_TEMPLATE_APPLY(realloc_to_zero, Reallocating);                              \
  TEST_CASE_TEMPLATE_APPLY(realloc_freed_pointer, Reallocating);                        \
  TEST_CASE_TEMPLATE_APPLY(realloc_stack_pointer, Reallocating);                        \
  TEST_CASE_TEMPLATE_APPLY(realloc_interior_pointer, Reallocating);                     \
  TEST_CASE_TEMPLATE_APPLY(realloc_bad_pointer_huge_size, Reallocating);                \
  TEST_CASE_TEMPLATE_APPLY(usable_size_live, Reallocating);                             \
  TEST_CASE_TEMPLATE_APPLY(usable_size_null, Reallocating);                             \
  TEST_CASE_TEMPLATE_APPLY(usable_size_freed_pointer, Reallocating);                    \
  TEST_CASE_TEMPLATE_APPLY(usable_size_stack_pointer, Reallocating);                    \
  TEST_CASE_TEMPLATE_APPLY(usable_size_interior_pointer, Reallocating);                 \
  TEST_CASE_TEMPLATE_APPLY(double_free_mapped, Mapping);                                \
  TEST_CASE_TEMPLATE_APPLY(free_interior_mapped, Mapping);                              \
  TEST_SUITE_END();                                                                     \
  }                                                                                     \
  static_assert(true, "")
