/// \file
/// The explicit free list: only the free blocks, linked to each other
/// through a pointer stored in their own (unused) payloads.
///
///     head ──────────────────────────────┐
///                                        v
///     +--------+------+--------+------+--------+------+--------+------+
///     | hdr  A | data | hdr  F | next | hdr  A | data | hdr  F | next |
///     +--------+------+--------+--|---+--------+------+--------+--|---+
///                         ^       |                               |
///                         └───────┼───────────────────────────────┘
///                                 v
///                               null
///
/// A search visits free blocks only, however many allocated blocks lie
/// between them. The order here is LIFO: deallocate() pushes at the head,
/// so the block freed last is found first (still warm in the cache).
/// Chapter 4 compares it with address order.
///
/// "Explicit" and "implicit" are CS:APP's words: an implicit list reaches
/// every block through the size fields (see ImplicitFreeList); an explicit
/// list links the free blocks. Some texts use the words the other way round.
#pragma once

#include <cstddef>
#include <new>

#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/tracking.hpp"
#include "stage2_free_list/block.hpp"
#include "stage2_free_list/block_heap.hpp"

namespace heaplab {

/// What a free block on an explicit list keeps in the first word of its
/// payload: the next free block. Every singly linked list of the course
/// keeps it there, so that check_free_list() and the pictures can follow
/// any of them.
struct FreeLink {
  BlockHeader* next;  ///< The next block on the list, or null.
};
static_assert(sizeof(FreeLink) <= kFreeLinkBytes, "a free block's link stays accessible (poison_free_payload)");

/// Writes the link of the free block \p block: from now on it points at
/// \p next. The payload may lie in poisoned memory (tracking.hpp), so its
/// first word is exposed first; placement new begins the link's lifetime.
inline void write_free_link(BlockHeader& block, BlockHeader* next) noexcept {
  track::expose(payload_of(&block), sizeof(FreeLink));
  ::new (payload_of(&block)) FreeLink{next};
}

/// The link of \p block, written earlier by write_free_link(): read it,
/// or change where it points.
[[nodiscard]] inline FreeLink& free_link(BlockHeader& block) noexcept {
  return *std::launder(reinterpret_cast<FreeLink*>(payload_of(&block)));
}

/// Verifies that the list of FreeLinks from \p head holds exactly the
/// \p free_blocks blocks of \p heap marked free, each once, with no
/// cycle. (Run it after BlockHeap::check(), which counts the free blocks.)
[[nodiscard]] CheckResult check_free_list(const BlockHeap& heap, BlockHeader* head,
                                          std::size_t free_blocks) noexcept;

/// The free blocks of a BlockHeap, linked LIFO through their payloads.
class ExplicitFreeList {
 public:
  /// Bytes of links a free block holds: one FreeLink.
  static constexpr std::size_t kLinkBytes = sizeof(FreeLink);

  /// Links the free block \p block in at the head.
  void insert(BlockHeader& block) noexcept {
    write_free_link(block, head_);
    head_ = &block;
    tally_.add(block);
  }

  /// First fit: unlinks and returns the first free block on the list that
  /// can serve \p request bytes aligned to \p align, whole; null if none
  /// can. Adds the number of blocks looked at to \p visited.
  [[nodiscard]] BlockHeader* take(BlockHeap& heap, std::size_t request, std::size_t align,
                                  std::size_t& visited) noexcept;

  /// Unlinks \p block, which follows \p previous on the list (null:
  /// \p block is the head). With one link per block, only a walk from the
  /// head knows `previous`, which is why take() keeps it as it goes.
  void unlink(BlockHeader* previous, BlockHeader& block) noexcept {
    if (previous == nullptr) {
      head_ = next(block);
    } else {
      free_link(*previous).next = next(block);
    }
    tally_.remove(block);
  }

  /// How many blocks, and bytes, the list holds.
  [[nodiscard]] const FreeTally& tally() const noexcept { return tally_; }
  /// The block at the head of the list (null when empty).
  [[nodiscard]] BlockHeader* head() const noexcept { return head_; }
  /// The block after \p block on the list (null at the end).
  /// Precondition: \p block is on the list.
  [[nodiscard]] static BlockHeader* next(BlockHeader& block) noexcept { return free_link(block).next; }

  /// Calls \p visit with each block on the list, in list order.
  template <class Visitor>
  void for_each(Visitor&& visit) const {
    for (BlockHeader* block = head_; block != nullptr; block = next(*block)) visit(*block);
  }

  /// Verifies that the list holds exactly the \p free_blocks blocks of
  /// \p heap marked free, each once, with no cycle (check_free_list()).
  [[nodiscard]] CheckResult check(const BlockHeap& heap, std::size_t free_blocks) const noexcept {
    return check_free_list(heap, head_, free_blocks);
  }

 private:
  BlockHeader* head_ = nullptr;  ///< The most recently freed block. Invariant: every block on the list is free.
  FreeTally tally_;              ///< Invariant: the number and bytes of the blocks on the list.
};

}  // namespace heaplab
