/// \file
/// Your turn, chapter 1: the bump step.
///
/// The whole of chapter 1's allocator is one computation, heaplab::bump_step():
/// given the bump pointer `next`, the end of the region and a request, where
/// does the block start, and where does the pointer go next? Write it here.
///
///     next                        new_next = block + footprint
///       |                            |
///       v                            v
///       +---------+------------------+------------------------------+
///       | padding | block: footprint |             room             |
///       +---------+------------------+------------------------------+
///                 ^                                                 ^
///               block                                              end
///
/// Everything else is the course's: yours::BumpAllocator is the course's own
/// heaplab::BasicBumpAllocator running your step, so it validates requests,
/// keeps its statistics, checks itself and draws itself as BumpAllocator
/// does. The chapter's sections "Allocation" and "Bounds and overflow" walk
/// through the four steps below; align.hpp has the arithmetic you need.
///
/// Grade it with `cmake --workflow --preset yourturn1`.
#pragma once

#include <cstddef>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/bump_allocator.hpp"
#include "stage1_static_bump/bump_allocator_impl.hpp"
#include "stage1_static_bump/your_turn.hpp"

namespace heaplab::yours {

/// Your bump step, to heaplab::bump_step()'s contract: one bump from
/// \p next (on an 8-byte boundary) within a region ending at \p end (also
/// on one), for a valid request of \p size bytes aligned to \p align (a
/// power of two; the allocator has already refused the rest). Returns
/// `{true, block, new_next}` when the block fits, and `{}` (fits false)
/// when it does not.
[[nodiscard]] inline BumpStep bump_step([[maybe_unused]] std::byte* next, [[maybe_unused]] std::byte* end,
                                        [[maybe_unused]] std::size_t size,
                                        [[maybe_unused]] std::size_t align) noexcept {
  // 1. Align the size: the block's footprint is `size` rounded up to whole
  //    8-byte cells (round_up() with kDefaultAlignment), and at least one
  //    cell, so that allocate(0) still gets a pointer of its own.
  // 2. The padding: the bytes from `next` up to the next multiple of
  //    `align` (padding_to_align() of address_of(next)). `next` is always
  //    on an 8-byte boundary, so only alignments above 8 can need any.
  // 3. Make sure the heap can hold padding + footprint. Compare them with
  //    the room left, `end - next`, one at a time; never compute
  //    `next + padding + footprint`, which can wrap around for a huge
  //    alignment (chapter 1, "Bounds and overflow", and its exercise 2).
  //    When it does not fit, return {}.
  // 4. Return {true, block, new_next}: the block starts past the padding,
  //    and the bump pointer moves to the end of its footprint.
  HEAPLAB_NOT_WRITTEN_YET("bump_step(): align the size, pad, check the room, bump");
}

/// The course's bump allocator running your bump step.
using BumpAllocator = BasicBumpAllocator<&bump_step>;

}  // namespace heaplab::yours
