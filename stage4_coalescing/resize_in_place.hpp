/// \file
/// Reallocate in place: coalescing applied to a live block. A block that
/// grows takes in the free block after it, or moves the break when it is
/// the last block; a block that shrinks gives its tail back, merged with a
/// free block after it. Only when neither works does realloc move the
/// block (chapter 2's resize_or_move), paying a copy.
///
///     grow:    [ A: block ][ F: next ]      ->  [ A: block ......... ][ F ]
///     shrink:  [ A: block ............ ]    ->  [ A: block ][ F: tail ]
#pragma once

#include <algorithm>

#include "stage1_static_bump/tracking.hpp"
#include "stage4_coalescing/coalescing_allocator.hpp"

namespace heaplab {

// [resize_in_place]
/// Makes the allocated \p block hold \p size bytes without moving it;
/// false, with nothing changed, when it cannot.
template <CoalescingFreeBlocks FreeBlocks, TagLayout Tags, class Merging>
bool CoalescingAllocator<FreeBlocks, Tags, Merging>::resize_in_place(BlockHeader& block, std::size_t size) noexcept {
  const std::size_t needed = tagged_block_size_for<Tags>(size);
  const std::size_t payload_before = tagged_payload_capacity<Tags>(block);
  BlockHeader& next = next_block(block);
  const std::size_t next_free = is_allocated(next) ? 0 : block_size(next);
  // Short of bytes even with the next block: only the break can help, and
  // only if the block (with its free next block) is the last one.
  std::size_t missing = needed > block_size(block) + next_free ? needed - block_size(block) - next_free : 0;
  if (missing != 0) {
    missing = std::max(missing, kMinTaggedBlockSize);
    if (!heap_.is_last(next_free != 0 ? next : block) || missing > heap_.room()) return false;
  }
  if (next_free != 0) heap_.merge_next(free_, block);
  if (missing != 0) heap_.absorb(block, *heap_.extend(missing));
  trim(block, needed);
  // Expose only the bytes gained (tracking.hpp): the old ones hold the
  // user's data, which memcheck knows to be defined.
  const std::size_t payload_after = tagged_payload_capacity<Tags>(block);
  if (payload_after > payload_before) {
    track::expose(payload_of(&block) + payload_before, payload_after - payload_before);
  }
  live_.payload_bytes = live_.payload_bytes - payload_before + payload_after;
  return true;
}

/// Splits the tail off the allocated \p block when it can be a block of
/// its own, and gives it back (merged with a free block after it).
template <CoalescingFreeBlocks FreeBlocks, TagLayout Tags, class Merging>
void CoalescingAllocator<FreeBlocks, Tags, Merging>::trim(BlockHeader& block, std::size_t needed) noexcept {
  if (block_size(block) < needed + kMinTaggedBlockSize) return;  // the tail could not be a block
  give_back(heap_.split(block, needed));
}
// [resize_in_place]

}  // namespace heaplab
