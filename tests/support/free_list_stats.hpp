/// \file
/// Stats comparisons for the free-list chapters (2 on): misuse must leave
/// no trace at all, not even in the search counters.
#pragma once

#include <doctest/doctest.h>

#include "stage2_free_list/free_list_allocator.hpp"
#include "tests/support/blocks.hpp"

namespace heaplab::testing {

/// Checks that every field of \p before and \p after is the same.
inline void check_same_free_list_stats(const FreeListStats& before, const FreeListStats& after) {
  check_same_stats(before, after);
  CHECK(after.free_blocks == before.free_blocks);
  CHECK(after.free_bytes == before.free_bytes);
  CHECK(after.payload_bytes == before.payload_bytes);
  CHECK(after.header_bytes == before.header_bytes);
  CHECK(after.searches == before.searches);
  CHECK(after.blocks_visited == before.blocks_visited);
}

}  // namespace heaplab::testing
