/// \file
/// The member functions of heaplab::FreeListAllocator, in a header so that
/// every chapter can instantiate the allocator over its own free list:
/// chapter 2 over its two lists (free_list_allocator.cpp), chapter 3 over
/// its placement policies. Include it only where the allocator is
/// instantiated; everyone else includes free_list_allocator.hpp.
#pragma once

#include <algorithm>
#include <cstring>

#include "stage1_static_bump/bump_allocator.hpp"
#include "stage2_free_list/free_list_allocator.hpp"

namespace heaplab {

// [allocate]
template <class FreeBlocks>
void* FreeListAllocator<FreeBlocks>::allocate(std::size_t size, std::size_t align) noexcept {
  if (!is_valid_request(size, align)) {
    ++lifetime_.rejected;
    return nullptr;
  }
  BlockHeader* const block = find_block(size, std::max(align, kDefaultAlignment));
  if (block == nullptr) {
    ++lifetime_.exhausted;
    return nullptr;
  }
  return hand_out(*block, size);
}

template <class FreeBlocks>
BlockHeader* FreeListAllocator<FreeBlocks>::find_block(std::size_t size, std::size_t align) noexcept {
  if (BlockHeader* const reused = take_free_block(size, align)) return reused;
  return carve_block(size, align);
}
// [allocate]

template <class FreeBlocks>
BlockHeader* FreeListAllocator<FreeBlocks>::take_free_block(std::size_t size, std::size_t align) noexcept {
  ++lifetime_.searches;
  return free_.take(heap_, size, align, lifetime_.blocks_visited);
}

template <class FreeBlocks>
BlockHeader* FreeListAllocator<FreeBlocks>::carve_block(std::size_t size, std::size_t align) noexcept {
  const Extension grown = heap_.extend(block_size_for(size), align);
  if (grown.filler != nullptr) {
    free_.insert(*grown.filler);
    poison_free_payload(*grown.filler);
  }
  return grown.block;
}

template <class FreeBlocks>
void* FreeListAllocator<FreeBlocks>::hand_out(BlockHeader& block, std::size_t size) noexcept {
  mark_allocated(block, size);
  live_.count_in(size, payload_capacity(block));
  lifetime_.note_allocation(live_.requested);
  return payload_of(&block);
}

// [deallocate]
template <class FreeBlocks>
void FreeListAllocator<FreeBlocks>::deallocate(void* p) noexcept {
  if (p == nullptr) return;
  if (BlockHeader* const block = heap_.allocated_block(p, "FreeListAllocator::deallocate")) {
    release(*block);
  }
}

template <class FreeBlocks>
void FreeListAllocator<FreeBlocks>::release(BlockHeader& block) noexcept {
  live_.count_out(block.requested, payload_capacity(block));
  mark_free(block);
  free_.insert(block);
  poison_free_payload(block);  // a use after free is reported (tracking.hpp)
}
// [deallocate]

// [reallocate]
template <class FreeBlocks>
void* FreeListAllocator<FreeBlocks>::reallocate(void* p, std::size_t size, std::size_t align) noexcept {
  if (p == nullptr) return allocate(size, align);
  BlockHeader* const block = heap_.allocated_block(p, "FreeListAllocator::reallocate");
  if (block == nullptr) return nullptr;  // misuse, reported
  if (!is_valid_request(size, align)) {
    ++lifetime_.rejected;
    return nullptr;
  }
  // Chapter 2 resizes in place only when the payload is already big enough.
  const auto big_enough = [](BlockHeader& b, std::size_t bytes) { return bytes <= payload_capacity(b); };
  const auto allocate_moved = [this](std::size_t bytes, std::size_t a) { return allocate(bytes, a); };
  const auto release_old = [this](BlockHeader& b) { release(b); };
  return resize_or_move(*block, size, align, live_, lifetime_, big_enough, allocate_moved, release_old);
}
// [reallocate]

template <class FreeBlocks>
void* FreeListAllocator<FreeBlocks>::allocate_zeroed(std::size_t count, std::size_t size) noexcept {
  const auto allocate_bytes = [this](std::size_t bytes) { return allocate(bytes); };
  return allocate_zeroed_with(count, size, lifetime_.rejected, allocate_bytes);
}

template <class FreeBlocks>
std::size_t FreeListAllocator<FreeBlocks>::usable_size(void* p) noexcept {
  if (p == nullptr) return 0;
  const BlockHeader* const block = heap_.allocated_block(p, "FreeListAllocator::usable_size");
  return block == nullptr ? 0 : payload_capacity(*block);
}

template <class FreeBlocks>
FreeListStats FreeListAllocator<FreeBlocks>::stats() const noexcept {
  FreeListStats s;
  s.capacity = heap_.capacity();
  s.used = heap_.used();
  s.requested = live_.requested;
  s.padding = s.used - s.requested;
  s.live_allocations = live_.allocated_blocks;
  s.high_water = s.used;  // the break never moves back in this chapter
  lifetime_.fill(s);
  s.free_blocks = free_.tally().blocks;
  s.free_bytes = free_.tally().bytes;
  s.payload_bytes = live_.payload_bytes;
  s.header_bytes = live_.allocated_blocks * kHeaderSize;
  return s;
}

template <class FreeBlocks>
CheckResult FreeListAllocator<FreeBlocks>::check() const noexcept {
  BlockCensus census;
  if (const CheckResult blocks = heap_.check(census); !blocks) return blocks;
  if (const CheckResult list = free_.check(heap_, census.free_blocks); !list) return list;
  // The counters kept on the way must match what the walk found.
  const bool stats_agree = live_.agree_with(census) && census.free_blocks == free_.tally().blocks &&
                           census.free_bytes == free_.tally().bytes;
  if (!stats_agree) return CheckResult::fail("stats agree with the walk", heap_.used());
  return CheckResult::pass();
}

}  // namespace heaplab
