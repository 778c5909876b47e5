/// \file
/// The member functions of heaplab::CoalescingAllocator, in a header so
/// that any free list, tag layout and merging can be instantiated (the
/// chapter's own are, in coalescing_allocator.cpp). Everyone else includes
/// coalescing_allocator.hpp.
#pragma once

#include <algorithm>

#include "stage1_static_bump/align.hpp"
#include "stage4_coalescing/coalescing_allocator.hpp"
#include "stage4_coalescing/resize_in_place.hpp"

namespace heaplab {

// ---------------------------------------------------------------- allocate
// [allocate]
template <CoalescingFreeBlocks FreeBlocks, TagLayout Tags, class Merging>
void* CoalescingAllocator<FreeBlocks, Tags, Merging>::allocate(std::size_t size, std::size_t align) noexcept {
  if (!valid_or_counted(size, align)) return nullptr;
  const BlockRequest request = request_for(size, align);
  BlockHeader* block = find_free_block(request);
  if (block == nullptr) block = grow(request);
  return hand_out_or_count(block, size);
}

/// A free block cut to \p request, off the list; if none fits and
/// \p Merging had put merges off, they are done and the search runs again.
template <CoalescingFreeBlocks FreeBlocks, TagLayout Tags, class Merging>
BlockHeader* CoalescingAllocator<FreeBlocks, Tags, Merging>::find_free_block(const BlockRequest& request) noexcept {
  if (BlockHeader* const block = take_free_block(request)) return block;
  return merging_.merge_put_off(heap_, free_) ? take_free_block(request) : nullptr;
}

/// The block to hand out: header, payload and the footer an allocated
/// block keeps under \p Tags; every piece at least the smallest block.
template <CoalescingFreeBlocks FreeBlocks, TagLayout Tags, class Merging>
BlockRequest CoalescingAllocator<FreeBlocks, Tags, Merging>::request_for(std::size_t size,
                                                                         std::size_t align) const noexcept {
  return {tagged_block_size_for<Tags>(size), std::max(align, kDefaultAlignment), kMinTaggedBlockSize};
}

template <CoalescingFreeBlocks FreeBlocks, TagLayout Tags, class Merging>
BlockHeader* CoalescingAllocator<FreeBlocks, Tags, Merging>::take_free_block(const BlockRequest& request) noexcept {
  ++lifetime_.searches;
  const Choice choice = free_.choose(request, lifetime_.blocks_visited);
  if (choice.block == nullptr) return nullptr;
  free_.remove(*choice.block);
  return carve(*choice.block, choice.placement);
}
// [allocate]

// [carve]
/// Cuts the block to hand out from the free, off-list \p block: chapter
/// 3's split_to_fit(), with this chapter's split (it writes the tags) and
/// the pieces kept free as \p Merging lists them.
template <CoalescingFreeBlocks FreeBlocks, TagLayout Tags, class Merging>
BlockHeader* CoalescingAllocator<FreeBlocks, Tags, Merging>::carve(BlockHeader& block,
                                                                   const Placement& placement) noexcept {
  const auto split = [this](BlockHeader& whole, std::size_t first_size) -> BlockHeader& {
    return heap_.split(whole, first_size);
  };
  const auto keep_free = [this](BlockHeader& piece) { merging_.list_piece(heap_, free_, piece); };
  return split_to_fit(block, placement, kMinTaggedBlockSize, split, keep_free);
}
// [carve]

// [grow]
/// No free block fits: moves the break (chapter 2's sbrk). A free block at
/// the end of the heap is grown rather than left behind, as CS:APP's
/// extend_heap does: the new bytes merge with it.
template <CoalescingFreeBlocks FreeBlocks, TagLayout Tags, class Merging>
BlockHeader* CoalescingAllocator<FreeBlocks, Tags, Merging>::grow(const BlockRequest& request) noexcept {
  // Room for the block, and for an alignment gap in front if one is asked.
  std::size_t want = request.needed;
  if (request.align > kDefaultAlignment) {
    // Compare before adding: needed and align can each be close to 2^63,
    // and a sum that wraps around would look small enough to carve.
    if (want > kMaxRequest || request.align + kMinTaggedBlockSize > kMaxRequest - want) return nullptr;
    want += request.align + kMinTaggedBlockSize;
  }
  const BlockHeader* const last = heap_.last_free_block();
  const std::size_t reused = last == nullptr ? 0 : block_size(*last);
  BlockHeader* const fresh = heap_.extend(std::max(want > reused ? want - reused : 0, kMinTaggedBlockSize));
  if (fresh == nullptr) return nullptr;
  BlockHeader& block = heap_.coalesce(free_, *fresh);
  return carve(block, place_block(block, request));  // fits: the block has `want` bytes or more
}
// [grow]

template <CoalescingFreeBlocks FreeBlocks, TagLayout Tags, class Merging>
void* CoalescingAllocator<FreeBlocks, Tags, Merging>::hand_out(BlockHeader& block, std::size_t size) noexcept {
  mark_allocated(block, size);
  Tags::seal(block);
  live_.count_in(size, tagged_payload_capacity<Tags>(block));
  lifetime_.note_allocation(live_.requested);
  return payload_of(&block);
}

/// True when \p size and \p align make a valid request; otherwise counts
/// it as rejected.
template <CoalescingFreeBlocks FreeBlocks, TagLayout Tags, class Merging>
bool CoalescingAllocator<FreeBlocks, Tags, Merging>::valid_or_counted(std::size_t size, std::size_t align) noexcept {
  if (is_valid_request(size, align)) return true;
  ++lifetime_.rejected;
  return false;
}

/// Hands out \p block for \p size bytes; when there is none (the region
/// is full), counts the request as exhausted and returns nullptr.
template <CoalescingFreeBlocks FreeBlocks, TagLayout Tags, class Merging>
void* CoalescingAllocator<FreeBlocks, Tags, Merging>::hand_out_or_count(BlockHeader* block, std::size_t size) noexcept {
  if (block != nullptr) return hand_out(*block, size);
  ++lifetime_.exhausted;
  return nullptr;
}

// ---------------------------------------------------------------- deallocate
// [deallocate]
template <CoalescingFreeBlocks FreeBlocks, TagLayout Tags, class Merging>
void CoalescingAllocator<FreeBlocks, Tags, Merging>::deallocate(void* p) noexcept {
  if (p == nullptr) return;
  if (BlockHeader* const block = heap_.allocated_block(p, "CoalescingAllocator::deallocate")) release(*block);
}

template <CoalescingFreeBlocks FreeBlocks, TagLayout Tags, class Merging>
void CoalescingAllocator<FreeBlocks, Tags, Merging>::release(BlockHeader& block) noexcept {
  live_.count_out(block.requested, tagged_payload_capacity<Tags>(block));
  mark_free(block);
  Tags::seal(block);
  give_back(block);
}

/// Puts the free, off-list \p block back: merged with its free neighbours
/// first (the four cases of TaggedHeap::coalesce()), unless \p Merging puts
/// the merge off.
template <CoalescingFreeBlocks FreeBlocks, TagLayout Tags, class Merging>
void CoalescingAllocator<FreeBlocks, Tags, Merging>::give_back(BlockHeader& block) noexcept {
  merging_.give_back(heap_, free_, block);
}
// [deallocate]

// ---------------------------------------------------------------- reallocate
// [reallocate]
template <CoalescingFreeBlocks FreeBlocks, TagLayout Tags, class Merging>
void* CoalescingAllocator<FreeBlocks, Tags, Merging>::reallocate(void* p, std::size_t size, std::size_t align) noexcept {
  if (p == nullptr) return allocate(size, align);
  BlockHeader* const block = heap_.allocated_block(p, "CoalescingAllocator::reallocate");
  if (block == nullptr) return nullptr;  // misuse, reported
  if (!valid_or_counted(size, align)) return nullptr;
  // Chapter 2's rule; what is new is how far a block can resize in place.
  const auto in_place = [this](BlockHeader& b, std::size_t bytes) { return resize_in_place(b, bytes); };
  const auto allocate_moved = [this](std::size_t bytes, std::size_t a) { return allocate(bytes, a); };
  const auto release_old = [this](BlockHeader& b) { release(b); };
  return resize_or_move(*block, size, align, live_, lifetime_, in_place, allocate_moved, release_old);
}
// [reallocate]

template <CoalescingFreeBlocks FreeBlocks, TagLayout Tags, class Merging>
void* CoalescingAllocator<FreeBlocks, Tags, Merging>::allocate_zeroed(std::size_t count, std::size_t size) noexcept {
  const auto allocate_bytes = [this](std::size_t bytes) { return allocate(bytes); };
  return allocate_zeroed_with(count, size, lifetime_.rejected, allocate_bytes);
}

template <CoalescingFreeBlocks FreeBlocks, TagLayout Tags, class Merging>
std::size_t CoalescingAllocator<FreeBlocks, Tags, Merging>::usable_size(void* p) noexcept {
  if (p == nullptr) return 0;
  const BlockHeader* const block = heap_.allocated_block(p, "CoalescingAllocator::usable_size");
  return block == nullptr ? 0 : tagged_payload_capacity<Tags>(*block);
}

// ---------------------------------------------------------------- numbers
template <CoalescingFreeBlocks FreeBlocks, TagLayout Tags, class Merging>
CoalescingStats CoalescingAllocator<FreeBlocks, Tags, Merging>::stats() const noexcept {
  CoalescingStats s;
  s.capacity = heap_.blocks().capacity();
  s.used = heap_.blocks().used();
  s.requested = live_.requested;
  s.padding = s.used - s.requested;
  s.live_allocations = live_.allocated_blocks;
  s.high_water = s.used;  // one region whose break never moves back
  lifetime_.fill(s);
  s.free_blocks = free_.tally().blocks;
  s.free_bytes = free_.tally().bytes;
  s.payload_bytes = live_.payload_bytes;
  s.header_bytes = live_.allocated_blocks * (kHeaderSize + Tags::kAllocatedFooterBytes);
  s.merges = heap_.merges();
  s.merge_passes = merging_.passes();
  return s;
}

// [check]
template <CoalescingFreeBlocks FreeBlocks, TagLayout Tags, class Merging>
CheckResult CoalescingAllocator<FreeBlocks, Tags, Merging>::check() const noexcept {
  BlockCensus census;
  if (const CheckResult blocks = check_blocks(census); !blocks) return blocks;
  // The counters kept on the way must match what the walk found.
  const FreeTally listed = free_.tally();
  if (!live_.agree_with(census) || census.free_blocks != listed.blocks || census.free_bytes != listed.bytes) {
    return CheckResult::fail("stats agree with the walk", heap_.blocks().used());
  }
  return CheckResult::pass();
}

template <CoalescingFreeBlocks FreeBlocks, TagLayout Tags, class Merging>
CheckResult CoalescingAllocator<FreeBlocks, Tags, Merging>::check_blocks(BlockCensus& census) const noexcept {
  if (const CheckResult region = heap_.check(census, Merging::kNeighboursAlwaysMerged); !region) return region;
  const BlockHeap& blocks = heap_.blocks();
  const auto owned = [&](BlockHeader& block) {
    return blocks.contains(&block) && blocks.starts().is_start(block_start(&block));
  };
  const auto offset_of = [&](const BlockHeader& block) { return blocks.offset_of(&block); };
  return free_.check(owned, offset_of);
}
// [check]

}  // namespace heaplab
