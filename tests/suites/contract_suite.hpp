/// \file
/// The shared contract suite: every allocator must pass these tests (the
/// contract is heaplab::Allocator, in stage1_static_bump/contract.hpp, and
/// heaplab::Reallocating for the cases after the line below).
///
/// The cases are defined here and applied to fixtures elsewhere, so the
/// same cases run over the course's allocators (contract_tests.cpp) and
/// over anyone's (the tests heaplab_add_allocator() generates):
///
///     #include "tests/suites/contract_suite.hpp"
///     HEAPLAB_APPLY_CONTRACT_SUITE(MyFixtures, MyReallocatingFixtures);
///
/// A fixture is as in tests/allocator_fixtures.hpp: `allocator_type`,
/// `capacity` and `allocator()`, and a display name (TYPE_TO_STRING_AS).
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

#include "stage1_static_bump/contract.hpp"
#include "tests/support/blocks.hpp"
#include "tests/support/grader_report.hpp"
#include "tests/support/recording_handler.hpp"

/// The contract suite's cases and their helpers.
namespace heaplab::testing::contract_suite {

using heaplab::HeapStats;
using heaplab::kMaxRequest;
using heaplab::testing::Block;
using heaplab::testing::block_at;
using heaplab::testing::RecordingHandler;
using heaplab::testing::varied_size;

constexpr std::size_t kSizeMax = std::numeric_limits<std::size_t>::max();
/// The largest power of two a std::size_t holds: no user-space address is a
/// multiple of it except 0, so no heap can ever serve it.
constexpr std::size_t kTopBitAlignment = kSizeMax / 2 + 1;

/// Releases every block the test holds, the way the allocator supports:
/// deallocate() each one, then reset() if the allocator has it (a bump heap
/// only gets memory back that way).
template <class A>
void release_all(A& heap, std::vector<void*>& blocks) {
  for (void* p : blocks) heap.deallocate(p);
  blocks.clear();
  if constexpr (heaplab::Resettable<A>) heap.reset();
}

/// How a refused request must be counted.
enum class Refusal { rejected, exhausted };

/// A request no allocator may serve, and why.
struct BadRequest {
  std::size_t size;
  std::size_t align;
  Refusal counted_as;
  std::string_view why;  ///< Shown on failure (doctest would print a const char* as an address).
};

/// Every kind of request the contract says must come back as nullptr.
template <class F>
std::vector<BadRequest> bad_requests() {
  return {
      {kSizeMax, 8, Refusal::rejected, "SIZE_MAX"},
      {kSizeMax - 7, 8, Refusal::rejected, "SIZE_MAX - 7"},
      {kSizeMax - 8, 8, Refusal::rejected, "SIZE_MAX - 8"},
      {kSizeMax - 3, 8, Refusal::rejected, "a size whose rounding up to 8 would wrap"},
      {kMaxRequest + 1, 8, Refusal::rejected, "PTRDIFF_MAX + 1"},
      {kSizeMax, 3, Refusal::rejected, "a bad size and a bad alignment"},
      {8, 0, Refusal::rejected, "alignment 0"},
      {8, 3, Refusal::rejected, "alignment 3"},
      {8, 6, Refusal::rejected, "alignment 6"},
      {8, 24, Refusal::rejected, "alignment 24"},
      {8, 1000, Refusal::rejected, "alignment 1000"},
      {0, 0, Refusal::rejected, "allocate(0) with alignment 0"},
      {kMaxRequest, 8, Refusal::exhausted, "PTRDIFF_MAX, a valid size no heap has room for"},
      {F::capacity + 1, 8, Refusal::exhausted, "one byte more than the heap has"},
      {8, kTopBitAlignment, Refusal::exhausted, "the largest power-of-two alignment"},
      {8, kTopBitAlignment / 2, Refusal::exhausted, "a huge power-of-two alignment"},
      // Padding plus footprint add up to exactly 2^64 here: a bounds check
      // written as `next + padding + footprint > end` wraps to 0 and passes.
      {kMaxRequest, kTopBitAlignment, Refusal::exhausted, "the largest size at the largest alignment"},
  };
}



TEST_CASE_TEMPLATE_DEFINE("every block is aligned as asked and to at least 8 bytes", F,
                          aligned_blocks) {
  F fixture;
  auto& heap = fixture.allocator();
  for (std::size_t align = 1; align <= 4096; align *= 2) {
    for (const std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{13}, align}) {
      CAPTURE(align);
      CAPTURE(size);
      // A one-byte block first, so that the heap is never aligned by accident.
      REQUIRE(heap.allocate(1, 1) != nullptr);
      void* p = heap.allocate(size, align);
      REQUIRE(p != nullptr);
      CHECK(heaplab::is_aligned(p, align));
      CHECK(heaplab::is_aligned(p, heaplab::kDefaultAlignment));
    }
  }
  heaplab::testing::check_sound(heap);
}

TEST_CASE_TEMPLATE_DEFINE("blocks handed out after others were given back are aligned as asked", F,
                          aligned_after_release) {
  F fixture;
  auto& heap = fixture.allocator();
  RecordingHandler misuse;
  // Blocks of many sizes at the default alignment, all given back: a heap
  // that reuses blocks now has free ones at many addresses.
  std::vector<void*> released;
  for (std::size_t i = 0; i < 64; ++i) {
    released.push_back(heap.allocate(varied_size(i, 600)));
    REQUIRE(released.back() != nullptr);
  }
  for (void* p : released) heap.deallocate(p);
  for (std::size_t align = 16; align <= 4096; align *= 2) {
    for (const std::size_t size : {std::size_t{8}, std::size_t{100}, std::size_t{500}}) {
      CAPTURE(align);
      CAPTURE(size);
      void* p = heap.allocate(size, align);
      REQUIRE(p != nullptr);
      CHECK(heaplab::is_aligned(p, align));
    }
  }
  CHECK(misuse.reports().empty());
  heaplab::testing::check_sound(heap);
}

TEST_CASE_TEMPLATE_DEFINE("blocks never overlap and each one is owned by the heap", F,
                          disjoint_blocks) {
  F fixture;
  auto& heap = fixture.allocator();
  std::vector<Block> blocks;
  for (std::size_t i = 0; i < 400; ++i) {
    const std::size_t size = varied_size(i);
    const std::size_t align = std::size_t{1} << (i % 8);  // 1 .. 128
    void* p = heap.allocate(size, align);
    REQUIRE(p != nullptr);
    blocks.push_back(block_at(p, size));
  }
  CHECK(heaplab::testing::blocks_disjoint(blocks));
  for (const Block& block : blocks) {
    CHECK(heap.owns(block.start));
    if (block.size > 0) CHECK(heap.owns(block.start + block.size - 1));
  }
  heaplab::testing::check_sound(heap);
}

TEST_CASE_TEMPLATE_DEFINE("owns() is false for memory the heap did not hand out", F,
                          owns_foreign) {
  F fixture;
  auto& heap = fixture.allocator();
  REQUIRE(heap.allocate(64) != nullptr);
  int on_the_stack = 0;
  std::vector<std::byte> elsewhere(64);
  CHECK_FALSE(heap.owns(&on_the_stack));
  CHECK_FALSE(heap.owns(elsewhere.data()));
  CHECK_FALSE(heap.owns(nullptr));
}

TEST_CASE_TEMPLATE_DEFINE("payloads of live blocks survive deallocations and later allocations", F,
                          payload_integrity) {
  F fixture;
  auto& heap = fixture.allocator();
  RecordingHandler misuse;
  std::vector<Block> blocks;
  const auto allocate_filled = [&](std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t size = varied_size(blocks.size());
      void* p = heap.allocate(size);
      REQUIRE(p != nullptr);
      blocks.push_back(block_at(p, size));
      heaplab::testing::fill_pattern(blocks.back(), blocks.size() - 1);
    }
  };
  allocate_filled(200);
  // Give back every other block; the others must keep their bytes.
  std::vector<std::size_t> kept;
  for (std::size_t id = 0; id < blocks.size(); ++id) {
    if (id % 2 == 1) {
      heap.deallocate(blocks[id].start);
    } else {
      kept.push_back(id);
    }
  }
  allocate_filled(200);
  for (std::size_t id = 200; id < blocks.size(); ++id) kept.push_back(id);
  for (const std::size_t id : kept) {
    CAPTURE(id);
    CHECK(heaplab::testing::holds_pattern(blocks[id], id));
  }
  CHECK(misuse.reports().empty());
  heaplab::testing::check_sound(heap);
}

TEST_CASE_TEMPLATE_DEFINE("an exhausted heap refuses and stays sound until emptied and then serves again", F,
                          exhaustion_and_recovery) {
  F fixture;
  auto& heap = fixture.allocator();
  RecordingHandler misuse;
  const std::size_t block_size = F::capacity / 32;
  const HeapStats before = heap.stats();

  std::vector<void*> blocks;
  while (void* p = heap.allocate(block_size)) {
    blocks.push_back(p);
    REQUIRE(blocks.size() * block_size <= F::capacity);  // more would mean bytes from nowhere
  }
  const HeapStats full = heap.stats();
  CHECK_FALSE(blocks.empty());
  CHECK(full.exhausted == before.exhausted + 1);
  CHECK(full.rejected == before.rejected);
  CHECK(full.allocations == before.allocations + blocks.size());
  heaplab::testing::check_sound(heap);

  release_all(heap, blocks);
  const HeapStats emptied = heap.stats();
  CHECK(emptied.live_allocations == 0);
  CHECK(emptied.requested == 0);
  CHECK(emptied.exhausted == full.exhausted);  // lifetime counters survive the release
  CHECK(emptied.allocations == full.allocations);
  heaplab::testing::check_sound(heap);

  CHECK(heap.allocate(block_size) != nullptr);
  heaplab::testing::check_sound(heap);
  CHECK(misuse.reports().empty());
}

TEST_CASE_TEMPLATE_DEFINE("a bad request returns nullptr and changes nothing but its refusal counter",
                          F, bad_requests_refused) {
  F fixture;
  auto& heap = fixture.allocator();
  // A heap with something in it, so that "unchanged" is not trivially true.
  for (std::size_t i = 0; i < 10; ++i) REQUIRE(heap.allocate(varied_size(i)) != nullptr);

  for (const BadRequest& request : bad_requests<F>()) {
    INFO(request.why);
    CAPTURE(request.size);
    CAPTURE(request.align);
    const HeapStats before = heap.stats();
    CHECK(heap.allocate(request.size, request.align) == nullptr);
    const HeapStats after = heap.stats();
    heaplab::testing::check_same_live_state(before, after);
    CHECK(after.allocations == before.allocations);
    CHECK(after.rejected == before.rejected + (request.counted_as == Refusal::rejected ? 1 : 0));
    CHECK(after.exhausted == before.exhausted + (request.counted_as == Refusal::exhausted ? 1 : 0));
    heaplab::testing::check_sound(heap);
  }
  CHECK(heap.allocate(8) != nullptr);  // still serving
}

TEST_CASE_TEMPLATE_DEFINE("allocate(0) returns a unique pointer that can be deallocated", F,
                          allocate_zero) {
  F fixture;
  auto& heap = fixture.allocator();
  RecordingHandler misuse;
  void* first = heap.allocate(0);
  void* second = heap.allocate(0);
  REQUIRE(first != nullptr);
  REQUIRE(second != nullptr);
  CHECK(first != second);
  CHECK(heap.owns(first));
  CHECK(heap.owns(second));
  heap.deallocate(first);
  heap.deallocate(second);
  CHECK(misuse.reports().empty());
  heaplab::testing::check_sound(heap);
}

TEST_CASE_TEMPLATE_DEFINE("deallocate(nullptr) does nothing", F, deallocate_null) {
  F fixture;
  auto& heap = fixture.allocator();
  RecordingHandler misuse;
  REQUIRE(heap.allocate(24) != nullptr);
  const HeapStats before = heap.stats();
  heap.deallocate(nullptr);
  heaplab::testing::check_same_stats(before, heap.stats());
  CHECK(misuse.reports().empty());
  heaplab::testing::check_sound(heap);
}

TEST_CASE_TEMPLATE_DEFINE("check() and the stats identities hold after every operation", F,
                          mixed_sequence) {
  F fixture;
  auto& heap = fixture.allocator();
  RecordingHandler misuse;
  const HeapStats start = heap.stats();
  HeapStats previous = start;
  std::vector<void*> live;
  std::size_t successes = 0;

  for (std::size_t step = 0; step < 300; ++step) {
    CAPTURE(step);
    switch (step % 6) {
      case 0:
      case 1:
      case 2: {  // an ordinary request of varied size and alignment
        const std::size_t align = std::size_t{1} << (step % 7);
        if (void* p = heap.allocate(varied_size(step), align)) {
          ++successes;
          live.push_back(p);
        }
        break;
      }
      case 3:  // give back the oldest live block
        if (!live.empty()) {
          heap.deallocate(live.front());
          live.erase(live.begin());
        }
        break;
      case 4:  // requests that must be refused
        CHECK(heap.allocate(16, 24) == nullptr);
        CHECK(heap.allocate(F::capacity + 1) == nullptr);
        break;
      case 5:  // the edge cases of the contract
        heap.deallocate(nullptr);
        if (void* p = heap.allocate(0)) {
          ++successes;
          live.push_back(p);
        }
        break;
    }
    if constexpr (heaplab::Resettable<typename F::allocator_type>) {
      if (step == 150) {  // once, halfway: everything goes back at once
        heap.reset();
        live.clear();
      }
    }

    heaplab::testing::require_sound(heap);
    const HeapStats now = heap.stats();
    heaplab::testing::check_stats_identities(now);
    CHECK(now.allocations - start.allocations == successes);
    // Lifetime counters never go down.
    CHECK(now.high_water >= previous.high_water);
    CHECK(now.peak_requested >= previous.peak_requested);
    CHECK(now.exhausted >= previous.exhausted);
    CHECK(now.rejected >= previous.rejected);
    previous = now;
  }
  CHECK(misuse.reports().empty());
}

// ---- Allocators that give single blocks back (stage 2 on) -------------------
// The part of the contract that heaplab::Reallocating adds; these run over
// ReallocatingAllocators.

TEST_CASE_TEMPLATE_DEFINE("reallocate keeps the bytes both sizes share as the block grows and shrinks", F,
                          reallocate_keeps_bytes) {
  F fixture;
  auto& heap = fixture.allocator();
  RecordingHandler misuse;
  void* p = heap.reallocate(nullptr, 100);  // reallocate(nullptr, n) is allocate(n)
  REQUIRE(p != nullptr);
  CHECK(heap.stats().live_allocations == 1);
  std::size_t size = 100;
  heaplab::testing::fill_pattern(block_at(p, size), 1);
  for (const std::size_t new_size : {std::size_t{1000}, std::size_t{5000}, std::size_t{10}, std::size_t{0},
                                     std::size_t{300}}) {
    CAPTURE(new_size);
    p = heap.reallocate(p, new_size);
    REQUIRE(p != nullptr);
    CHECK(heaplab::is_aligned(p, heaplab::kDefaultAlignment));
    CHECK(heaplab::testing::holds_pattern(block_at(p, std::min(size, new_size)), 1));
    size = new_size;
    heaplab::testing::fill_pattern(block_at(p, size), 1);
    const HeapStats now = heap.stats();
    CHECK(now.live_allocations == 1);
    CHECK(now.requested == size);
    heaplab::testing::check_sound(heap);
  }
  heap.deallocate(p);
  CHECK(heap.stats().live_allocations == 0);
  CHECK(misuse.reports().empty());
}

TEST_CASE_TEMPLATE_DEFINE("a reallocate that cannot be served returns nullptr and leaves the block as it was",
                          F, reallocate_refused) {
  F fixture;
  auto& heap = fixture.allocator();
  RecordingHandler misuse;
  void* p = heap.allocate(64);
  REQUIRE(p != nullptr);
  heaplab::testing::fill_pattern(block_at(p, 64), 2);
  const std::vector<BadRequest> requests = {
      {F::capacity + 1, 8, Refusal::exhausted, "larger than the heap"},
      {kMaxRequest + 1, 8, Refusal::rejected, "PTRDIFF_MAX + 1"},
      {kSizeMax, 8, Refusal::rejected, "SIZE_MAX"},
  };
  for (const BadRequest& request : requests) {
    INFO(request.why);
    const HeapStats before = heap.stats();
    CHECK(heap.reallocate(p, request.size) == nullptr);
    const HeapStats after = heap.stats();
    heaplab::testing::check_same_live_state(before, after);
    CHECK(after.rejected == before.rejected + (request.counted_as == Refusal::rejected ? 1 : 0));
    CHECK(after.exhausted == before.exhausted + (request.counted_as == Refusal::exhausted ? 1 : 0));
    CHECK(heaplab::testing::holds_pattern(block_at(p, 64), 2));
    heaplab::testing::check_sound(heap);
  }
  heap.deallocate(p);  // still the caller's block
  CHECK(misuse.reports().empty());
  CHECK(heap.stats().live_allocations == 0);
}

TEST_CASE_TEMPLATE_DEFINE("allocate_zeroed returns zeroed bytes and refuses a product that overflows", F,
                          allocate_zeroed_contract) {
  F fixture;
  auto& heap = fixture.allocator();
  // Dirty blocks given back first, so that zeroes must have been written.
  std::vector<void*> dirty;
  for (std::size_t i = 0; i < 8; ++i) {
    dirty.push_back(heap.allocate(512));
    REQUIRE(dirty.back() != nullptr);
    heaplab::testing::fill_pattern(block_at(dirty.back(), 512), i);
  }
  for (void* p : dirty) heap.deallocate(p);
  for (std::size_t i = 0; i < 8; ++i) {
    const auto* const p = static_cast<const std::byte*>(heap.allocate_zeroed(64, 8));
    REQUIRE(p != nullptr);
    CHECK(std::all_of(p, p + 512, [](std::byte b) { return b == std::byte{0}; }));
  }
  // count * size wraps around (to 0, and to 2), or exceeds PTRDIFF_MAX.
  // A struct rather than a pair taken apart: CAPTURE() is a lambda, and
  // clang 14 cannot capture a structured binding.
  struct Product {
    std::size_t count;
    std::size_t size;
  };
  for (const Product& product :
       {Product{kTopBitAlignment, 2}, Product{3, kSizeMax / 3 + 1}, Product{kTopBitAlignment / 2, 2}}) {
    CAPTURE(product.count);
    CAPTURE(product.size);
    const HeapStats before = heap.stats();
    CHECK(heap.allocate_zeroed(product.count, product.size) == nullptr);
    const HeapStats after = heap.stats();
    heaplab::testing::check_same_live_state(before, after);
    CHECK(after.rejected == before.rejected + 1);
  }
  heaplab::testing::check_sound(heap);
}

}  // namespace heaplab::testing::contract_suite

/// Registers every case of the contract suite (doctest suite "contract")
/// for each fixture of the std::tuple \p All, and the heaplab::Reallocating
/// cases for each fixture of \p Reallocating (a part of \p All).
#define HEAPLAB_APPLY_CONTRACT_SUITE(All, Reallocating)                                \
  namespace heaplab::testing::contract_suite {                                          \
  TEST_SUITE_BEGIN("contract");                                                         \
  TEST_CASE_TEMPLATE_APPLY(aligned_blocks, All);                                        \
  TEST_CASE_TEMPLATE_APPLY(aligned_after_release, All);                                 \
  TEST_CASE_TEMPLATE_APPLY(disjoint_blocks, All);                                       \
  TEST_CASE_TEMPLATE_APPLY(owns_foreign, All);                                          \
  TEST_CASE_TEMPLATE_APPLY(payload_integrity, All);                                     \
  TEST_CASE_TEMPLATE_APPLY(exhaustion_and_recovery, All);                               \
  TEST_CASE_TEMPLATE_APPLY(bad_requests_refused, All);                                  \
  TEST_CASE_TEMPLATE_APPLY(allocate_zero, All);                                         \
  TEST_CASE_TEMPLATE_APPLY(deallocate_null, All);                                       \
  TEST_CASE_TEMPLATE_APPLY(mixed_sequence, All);                                        \
  TEST_CASE_TEMPLATE_APPLY(reallocate_keeps_bytes, Reallocating);                       \
  TEST_CASE_TEMPLATE_APPLY(reallocate_refused, Reallocating);                           \
  TEST_CASE_TEMPLATE_APPLY(allocate_zeroed_contract, Reallocating);                     \
  TEST_SUITE_END();                                                                     \
  }                                                                                     \
  static_assert(true, "")
