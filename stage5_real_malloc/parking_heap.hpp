/// \file
/// What quick fit needs of the heap behind it: chapter 4's allocator, plus
/// the verbs to keep a block aside (*park* it) and to take it back.
///
///     user frees p           set_aside(): counted out of the live
///                            numbers, still allocated to the heap, its
///                            header marked with the Q bit (QuickTags)
///     a request fits it      take_back(): counted in again
///     a request fits nothing release_set_aside(): freed into the heap,
///                            where it merges (glibc's malloc_consolidate)
///
/// allocate() is split into its two halves, reuse_free_block() and
/// extend_heap(), so that the cache can flush its parked blocks between
/// them: parked blocks merge before the heap grows past them. And realloc
/// moves a block through the cache's allocate() (reallocate_through()), so
/// that a parked block of the right size serves the move.
///
/// Nothing of chapter 4 changes: this is a subclass that uses its
/// protected steps and state.
#pragma once

#include <cstddef>

#include "stage2_free_list/block.hpp"
#include "stage2_free_list/free_list_allocator.hpp"
#include "stage4_coalescing/boundary_tags.hpp"
#include "stage4_coalescing/coalescing_allocator.hpp"
#include "stage4_coalescing/footer_elision.hpp"
#include "stage5_real_malloc/quick_lists.hpp"

namespace heaplab {

// [quick_tags]
/// Quick fit's tag layout: footer elision, and a third header flag, the
/// Q bit, on the blocks that wait on a quick list.
struct QuickTags : ElidedFooters {
  /// The flags a header carries: A, P and Q.
  static constexpr std::size_t kHeaderFlags = ElidedFooters::kHeaderFlags | kQuickBit;
};
// [quick_tags]
static_assert(TagLayout<QuickTags>);

/// Chapter 4's CoalescingAllocator with the verbs a cache in front needs
/// (see the file comment). \p Tags must give headers the Q bit.
template <CoalescingFreeBlocks FreeBlocks, TagLayout Tags = QuickTags, class Merging = ImmediateCoalescing>
class ParkingHeap : public CoalescingAllocator<FreeBlocks, Tags, Merging> {
  using Base = CoalescingAllocator<FreeBlocks, Tags, Merging>;
  static_assert((Tags::kHeaderFlags & kQuickBit) != 0, "parked blocks carry the Q bit in their headers");

 public:
  using Base::Base;
  /// Frees the allocated \p block, its pointer already checked by
  /// allocated_block(): what deallocate() does after the check.
  using Base::release;

  /// allocate()'s first half: a free block, never moving the break;
  /// nullptr when none fits (not counted as exhausted: extend_heap() may
  /// still serve).
  [[nodiscard]] void* reuse_free_block(std::size_t size, std::size_t align = kDefaultAlignment) noexcept {
    if (!this->valid_or_counted(size, align)) return nullptr;
    BlockHeader* const block = this->find_free_block(this->request_for(size, align));
    return block == nullptr ? nullptr : this->hand_out(*block, size);
  }
  /// allocate()'s second half: the break moves; nullptr, counted as
  /// exhausted, when the region has no room.
  [[nodiscard]] void* extend_heap(std::size_t size, std::size_t align = kDefaultAlignment) noexcept {
    if (!this->valid_or_counted(size, align)) return nullptr;
    return this->hand_out_or_count(this->grow(this->request_for(size, align)), size);
  }

  // [park]
  /// Counts the allocated \p block out of the live numbers: its user freed
  /// it, and the cache keeps it, still allocated here.
  void set_aside(BlockHeader& block) noexcept {
    this->live_.count_out(block.requested, tagged_payload_capacity<Tags>(block));
    block.requested = 0;  // no live request: the block is free to its user
  }
  /// Counts the parked \p block back in, handed out for \p size bytes, and
  /// returns its payload.
  [[nodiscard]] void* take_back(BlockHeader& block, std::size_t size) noexcept {
    block.requested = size;
    this->live_.count_in(size, tagged_payload_capacity<Tags>(block));
    this->lifetime_.note_allocation(this->live_.requested);
    return payload_of(&block);
  }
  /// Frees the parked \p block into the heap, merged with its free
  /// neighbours. (It was counted out when it was set aside.)
  void release_set_aside(BlockHeader& block) noexcept {
    mark_free(block);
    Tags::seal(block);
    this->give_back(block);
  }
  // [park]

  /// Chapter 4's reallocate of the checked \p block, except that a move
  /// gets its new block from \p allocate (the cache's allocate(), taking
  /// the size and the alignment).
  template <class Allocate>
  [[nodiscard]] void* reallocate_through(BlockHeader& block, std::size_t size, std::size_t align,
                                         Allocate allocate) noexcept {
    if (!this->valid_or_counted(size, align)) return nullptr;
    const auto in_place = [this](BlockHeader& b, std::size_t bytes) { return this->resize_in_place(b, bytes); };
    const auto release_old = [this](BlockHeader& b) { this->release(b); };
    return resize_or_move(block, size, align, this->live_, this->lifetime_, in_place, allocate, release_old);
  }

  /// Blocks handed out and not freed by their users: parked blocks are
  /// not counted (a layer asks it on every free, so it is one load).
  [[nodiscard]] std::size_t live_allocations() const noexcept { return this->live_.allocated_blocks; }

  /// Chapter 4's check(), for a heap with no block parked.
  using Base::check;
  /// Chapter 4's check(), where the blocks with the Q bit are parked: each
  /// is allocated, with no request, and \p is_parked (the cache's lists)
  /// knows it; they are counted out of the live numbers.
  template <class IsParked>
  [[nodiscard]] CheckResult check(IsParked is_parked) const noexcept;
};

// [check_parked]
template <CoalescingFreeBlocks FreeBlocks, TagLayout Tags, class Merging>
template <class IsParked>
CheckResult ParkingHeap<FreeBlocks, Tags, Merging>::check(IsParked is_parked) const noexcept {
  BlockCensus census;
  if (const CheckResult blocks = this->check_blocks(census); !blocks) return blocks;
  const BlockHeap& blocks = this->heap_.blocks();
  LiveBlocks expected = this->live_;  // the walk counts a parked block as allocated
  CheckResult result = CheckResult::pass();
  this->heap_.for_each_header([&](BlockHeader& block) {
    if (!result || !is_quick(block)) return;
    if (!is_allocated(block) || block.requested != 0 || !is_parked(block)) {
      result = CheckResult::fail("a block has the Q bit exactly while it waits on its quick list",
                                 blocks.offset_of(&block));
    }
    expected.count_in(0, tagged_payload_capacity<Tags>(block));
  });
  if (!result) return result;
  const FreeTally listed = this->free_.tally();
  if (!expected.agree_with(census) || census.free_blocks != listed.blocks || census.free_bytes != listed.bytes) {
    return CheckResult::fail("stats agree with the walk", blocks.used());
  }
  return CheckResult::pass();
}
// [check_parked]

}  // namespace heaplab
