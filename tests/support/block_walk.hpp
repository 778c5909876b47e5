/// \file
/// Block walks for the free-list suites (chapter 2 on): the blocks an
/// allocator reports, and the check that its counters agree with them.
#pragma once

#include <doctest/doctest.h>

#include <cstddef>
#include <vector>

#include "stage1_static_bump/contract.hpp"
#include "stage2_free_list/block.hpp"
#include "stage2_free_list/free_list_allocator.hpp"
#include "tests/support/blocks.hpp"

namespace heaplab::testing {

/// Every block of \p heap, as its block walk reports them.
template <class A>
std::vector<BlockView> walk(const A& heap) {
  std::vector<BlockView> views;
  heap.for_each_block([&views](const BlockView& view) { views.push_back(view); });
  return views;
}

/// Checks the identities of FreeListStats and that each live number equals
/// what a block walk counts independently, so a counter that drifts from
/// the heap is caught at the step that made it drift.
template <class A>
void check_stats_against_walk(const A& heap) {
  const FreeListStats s = heap.stats();
  heaplab::testing::check_stats_identities(s);
  CHECK(s.used == s.header_bytes + s.payload_bytes + s.free_bytes);
  CHECK(s.header_bytes == s.live_allocations * kHeaderSize);
  CHECK(s.payload_bytes >= s.requested);
  CHECK(s.high_water == s.used);  // the break never moves back in this chapter
  std::size_t total = 0;
  std::size_t allocated_blocks = 0;
  std::size_t payload_bytes = 0;
  std::size_t free_blocks = 0;
  std::size_t free_bytes = 0;
  for (const BlockView& view : walk(heap)) {
    CHECK(view.offset == total);  // blocks tile the heap
    total += view.size;
    if (view.state == BlockState::allocated) {
      ++allocated_blocks;
      payload_bytes += view.size - kHeaderSize;
    } else {
      ++free_blocks;
      free_bytes += view.size;
    }
  }
  CHECK(total == s.used);
  CHECK(allocated_blocks == s.live_allocations);
  CHECK(payload_bytes == s.payload_bytes);
  CHECK(free_blocks == s.free_blocks);
  CHECK(free_bytes == s.free_bytes);
}

}  // namespace heaplab::testing
