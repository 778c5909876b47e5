/// \file
/// Block walks for the free-list suites (chapter 2 on): the blocks an
/// allocator reports, and the check that its counters agree with them.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <set>
#include <span>
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

/// A live block as a test holds it: its payload and the bytes it asked for.
struct LiveBlock {
  const std::byte* payload;  ///< What allocate() returned.
  std::size_t requested;     ///< The bytes asked for.
};

/// Checks that the layout fields of \p heap's block walk (header, footer,
/// links) describe its real bytes, \p base being where the walk's offsets
/// start: each \p live payload lies right after the header of the
/// allocated block that holds it and ends before that block's footer; a
/// footer repeats its block's header word (chapter 4's boundary tag); a
/// free block holds its header, links and footer, and each word of its
/// links is null or the start of a block the walk shows free. A picture
/// drawn from the walk (`heaplab map --html`) is then right to the byte.
template <class A>
void check_walk_layout(const A& heap, const std::byte* base, std::span<const LiveBlock> live) {
  const std::vector<BlockView> views = walk(heap);
  std::set<const std::byte*> free_starts;
  for (const BlockView& view : views) {
    if (view.state == BlockState::free) free_starts.insert(base + view.offset);
  }
  for (const BlockView& view : views) {
    const std::byte* const start = base + view.offset;
    CHECK(view.header + view.links + view.footer <= view.size);
    if (view.footer != 0) {
      REQUIRE(view.footer == sizeof(std::size_t));
      CHECK(std::memcmp(start + view.size - view.footer, start, view.footer) == 0);
    }
    for (std::size_t word = 0; word < view.links / sizeof(void*); ++word) {
      const std::byte* link = nullptr;
      std::memcpy(&link, start + view.header + word * sizeof(void*), sizeof link);
      INFO("the link word " << word << " of the free block at offset " << view.offset);
      CHECK((link == nullptr || free_starts.contains(link)));
    }
  }
  for (const LiveBlock& block : live) {
    const auto holds = [&](const BlockView& view) {
      return view.state == BlockState::allocated && block.payload >= base + view.offset &&
             block.payload < base + view.offset + view.size;
    };
    const auto view = std::ranges::find_if(views, holds);
    REQUIRE(view != views.end());
    CHECK(block.payload == base + view->offset + view->header);
    CHECK(block.payload + block.requested <= base + view->offset + view->size - view->footer);
  }
}

/// Runs a fixed mix of allocations and frees on \p heap (each live block
/// kept in \p live) and checks the walk's layout (check_walk_layout())
/// after every step; \p base is where the walk's offsets start.
template <class A>
void exercise_walk_layout(A& heap, const std::byte* base) {
  std::vector<LiveBlock> live;
  for (std::size_t step = 0; step < 60; ++step) {
    if (step % 3 == 2 && !live.empty()) {
      const std::size_t victim = (step * 7) % live.size();
      heap.deallocate(const_cast<std::byte*>(live[victim].payload));
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(victim));
    } else {
      const std::size_t size = (step * 37) % 200;
      auto* const p = static_cast<const std::byte*>(heap.allocate(size));
      REQUIRE(p != nullptr);
      live.push_back({p, size});
    }
    check_walk_layout(heap, base, live);
  }
}

}  // namespace heaplab::testing
