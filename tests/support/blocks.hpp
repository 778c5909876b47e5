/// \file
/// Helpers the suites share: blocks as byte ranges, payload patterns,
/// overlap detection, stats comparisons, and readable check() failures.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/contract.hpp"

/// Prints a failed check() as the invariant it names and where.
template <>
struct doctest::StringMaker<heaplab::CheckResult> {
  static doctest::String convert(const heaplab::CheckResult& result) {
    if (result.ok()) return "check passed";
    const std::string text = "check failed: \"" + std::string(result.failed_invariant) +
                             "\" at offset " + std::to_string(result.offset);
    return text.c_str();
  }
};

namespace heaplab::testing {

/// One allocation, as the caller sees it: where it starts and how many bytes
/// were asked for.
struct Block {
  std::byte* start = nullptr;
  std::size_t size = 0;
};

/// A block from an allocate() result.
[[nodiscard]] inline Block block_at(void* p, std::size_t size) noexcept {
  return {static_cast<std::byte*>(p), size};
}

/// A varied, repeatable request size in [0, limit) for the \p i-th request:
/// small and odd sizes, zero, and sizes that are not multiples of 8.
[[nodiscard]] constexpr std::size_t varied_size(std::size_t i, std::size_t limit = 300) noexcept {
  return (i * 37 + i / 7) % limit;
}

/// True when no two blocks share a byte. A zero-size block counts as one
/// byte, because allocate(0) must return a unique pointer.
[[nodiscard]] inline bool blocks_disjoint(std::vector<Block> blocks) {
  std::sort(blocks.begin(), blocks.end(),
            [](const Block& a, const Block& b) { return address_of(a.start) < address_of(b.start); });
  for (std::size_t i = 1; i < blocks.size(); ++i) {
    const Block& before = blocks[i - 1];
    const std::size_t extent = std::max<std::size_t>(before.size, 1);
    if (address_of(before.start) + extent > address_of(blocks[i].start)) return false;
  }
  return true;
}

/// Byte \p offset of the pattern that block number \p id is filled with.
/// It varies along the block, so a shifted or swapped copy is also caught.
[[nodiscard]] constexpr std::byte pattern_byte(std::size_t id, std::size_t offset) noexcept {
  return static_cast<std::byte>((id * 131 + offset * 7 + 1) & 0xff);
}

/// Fills \p block with the pattern of block number \p id.
inline void fill_pattern(const Block& block, std::size_t id) noexcept {
  for (std::size_t i = 0; i < block.size; ++i) block.start[i] = pattern_byte(id, i);
}

/// True when \p block still holds the pattern of block number \p id.
[[nodiscard]] inline bool holds_pattern(const Block& block, std::size_t id) noexcept {
  for (std::size_t i = 0; i < block.size; ++i) {
    if (block.start[i] != pattern_byte(id, i)) return false;
  }
  return true;
}

/// Checks that the live part of the stats (what the heap holds now) is the
/// same in \p before and \p after.
inline void check_same_live_state(const HeapStats& before, const HeapStats& after) {
  CHECK(after.capacity == before.capacity);
  CHECK(after.used == before.used);
  CHECK(after.requested == before.requested);
  CHECK(after.padding == before.padding);
  CHECK(after.live_allocations == before.live_allocations);
}

/// Checks that the lifetime counters are the same in \p before and \p after.
inline void check_same_lifetime_counters(const HeapStats& before, const HeapStats& after) {
  CHECK(after.high_water == before.high_water);
  CHECK(after.peak_requested == before.peak_requested);
  CHECK(after.allocations == before.allocations);
  CHECK(after.exhausted == before.exhausted);
  CHECK(after.rejected == before.rejected);
}

/// Checks that every field of the stats is the same in \p before and \p after.
inline void check_same_stats(const HeapStats& before, const HeapStats& after) {
  check_same_live_state(before, after);
  check_same_lifetime_counters(before, after);
}

/// Checks the identities every HeapStats must satisfy at any moment.
inline void check_stats_identities(const HeapStats& s) {
  CHECK(s.used == s.requested + s.padding);
  CHECK(s.used <= s.capacity);
  CHECK(s.high_water >= s.used);
  CHECK(s.peak_requested >= s.requested);
  CHECK(s.live_allocations <= s.allocations);
}

}  // namespace heaplab::testing
