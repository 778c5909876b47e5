/// \file
/// Your turn, chapter 2: the explicit free list. Free blocks linked LIFO
/// through their payloads, and first fit over them.
///
///     head ──> [hdr F | next ─]──> [hdr F | next ─]──> [hdr F | null]
///               freed last                              freed first
///
/// What you write, and why that part: the chapter is about three things,
/// the block header, free(), and the search of the free list. The header's
/// functions (block.hpp: block_size(), is_allocated(), mark_allocated(),
/// mark_free(), ...) are read by every part of every later chapter, the
/// heap walk, the checker and the pictures included, so they stay the
/// course's: a slip there would be reported far from its cause. So does
/// the first half of free(): FreeListAllocator::deallocate() finds the
/// header, detects every misuse (a double free, a foreign or interior
/// pointer) and marks the block free. What is left is the list itself,
/// which FreeListAllocator takes as a template parameter:
///
/// - insert(): the second half of free(), giving the block to the list;
/// - take(): the first-fit search, which allocate() runs before it grows
///   the heap;
/// - unlink(): taking a block off the list, for take().
///
/// yours::ExplicitListAllocator is the course's own FreeListAllocator
/// running your list, with its statistics, check() and misuse reports.
/// The link a free block keeps lives where the course keeps it (FreeLink,
/// in stage2_free_list/explicit_free_list.hpp), so check() and the
/// pictures (draw_blocks(), draw_free_list()) can follow your links. The
/// chapter's section "The explicit list" walks through it.
///
/// Grade it with `cmake --workflow --preset yourturn2`.
#pragma once

#include <cstddef>

#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/your_turn.hpp"
#include "stage2_free_list/block.hpp"
#include "stage2_free_list/block_heap.hpp"
#include "stage2_free_list/explicit_free_list.hpp"
#include "stage2_free_list/free_list_allocator.hpp"
#include "stage2_free_list/free_list_allocator_impl.hpp"

namespace heaplab::yours {

/// Your explicit free list: the free blocks of a BlockHeap, linked LIFO
/// through their payloads, searched first fit. It stands where
/// heaplab::ExplicitFreeList stands in the course's allocator.
class ExplicitFreeList {
 public:
  /// Bytes of links a free block holds: one FreeLink (given; pictures only).
  static constexpr std::size_t kLinkBytes = sizeof(FreeLink);

  /// Puts the free block \p block (just marked free by deallocate(), or a
  /// filler the heap carved) on the list, at the head: the block freed
  /// last is found first.
  void insert([[maybe_unused]] BlockHeader& block) noexcept {
    // 1. Write the block's link so that it points at the current head:
    //    write_free_link(block, head_). The link lives in the first word
    //    of the payload, which is no longer the caller's.
    // 2. The block becomes the head.
    // 3. Count it in: tally_.add(block). check() compares the tally with
    //    a walk of the heap.
    HEAPLAB_NOT_WRITTEN_YET("ExplicitFreeList::insert(): link the block in at the head");
  }

  /// First fit: unlinks and returns the first block on the list that can
  /// serve \p request bytes aligned to \p align, taken whole; null if none
  /// can. Adds the number of blocks looked at to \p visited.
  [[nodiscard]] BlockHeader* take([[maybe_unused]] BlockHeap& heap, [[maybe_unused]] std::size_t request,
                                  [[maybe_unused]] std::size_t align,
                                  [[maybe_unused]] std::size_t& visited) noexcept {
    // 1. Walk the list from head_, one block after another (next()),
    //    keeping the block before the current one in `previous` (null
    //    while at the head): unlink() needs it, and a list with one link
    //    per block can only be walked forwards.
    // 2. Count every block you look at: ++visited.
    // 3. A block can serve the request when its payload holds `request`
    //    bytes (payload_capacity(), which reads the size from the header)
    //    and is already aligned to `align` (is_aligned(payload_of(block),
    //    align)): nothing moves, the block is taken whole. can_serve()
    //    says both at once.
    // 4. The first block that can serve: unlink(previous, *block) and
    //    return it. It is still marked free; allocate() marks it.
    // 5. None can: return nullptr, and allocate() carves a new block at
    //    the break.
    HEAPLAB_NOT_WRITTEN_YET("ExplicitFreeList::take(): first fit over the list");
  }

  /// Takes \p block, which follows \p previous on the list (null: \p block
  /// is the head), off the list.
  void unlink([[maybe_unused]] BlockHeader* previous, [[maybe_unused]] BlockHeader& block) noexcept {
    // 1. At the head (`previous` is null): the head becomes next(block).
    // 2. Otherwise `previous` must skip over the block:
    //    free_link(*previous).next = next(block).
    // 3. Count it out: tally_.remove(block).
    HEAPLAB_NOT_WRITTEN_YET("ExplicitFreeList::unlink(): take a block off the list");
  }

  /// The block after \p block on the list (null at the end): its link.
  [[nodiscard]] static BlockHeader* next(BlockHeader& block) noexcept { return free_link(block).next; }
  /// The block at the head of the list (null when empty).
  [[nodiscard]] BlockHeader* head() const noexcept { return head_; }
  /// How many blocks, and bytes, the list holds.
  [[nodiscard]] const FreeTally& tally() const noexcept { return tally_; }
  /// The course's check of an explicit list (check_free_list()): exactly
  /// the \p free_blocks blocks of \p heap marked free, each once, no cycle.
  [[nodiscard]] CheckResult check(const BlockHeap& heap, std::size_t free_blocks) const noexcept {
    return check_free_list(heap, head_, free_blocks);
  }

 private:
  BlockHeader* head_ = nullptr;  ///< The most recently freed block; null when the list is empty.
  FreeTally tally_;              ///< The number and bytes of the blocks on the list.
};

/// The course's free-list allocator running your explicit list.
using ExplicitListAllocator = FreeListAllocator<ExplicitFreeList>;

}  // namespace heaplab::yours
