/// \file
/// The doubly linked free list: chapter 2's explicit list with a second
/// link, so that any block can leave it in O(1).
///
///     head
///      |
///      v
///     +-------+------+------+-----+--------+     +-------+------+------+-----+--------+
///     | hdr F | next | prev | ... | footer | --> | hdr F | next | prev | ... | footer | --> null
///     +-------+------+------+-----+--------+ <-- +-------+------+------+-----+--------+
///                null <-'                                        '-- prev
///
/// Chapter 2's list could only unlink a block if the search handed it the
/// block in front. Coalescing takes *neighbours in memory* off the list,
/// blocks no search has visited, so each block must know its predecessor.
///
/// Two insertion orders:
/// - LIFO: a freed block goes to the head, O(1). Recently freed memory is
///   reused first, which is kind to the cache.
/// - Address order: the list stays sorted by address, O(n) per insertion.
///   First fit over it behaves like best fit on real workloads
///   (Johnstone & Wilson 1998) and keeps the heap's low end dense.
#pragma once

#include <cstddef>
#include <new>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/tracking.hpp"
#include "stage2_free_list/block.hpp"
#include "stage2_free_list/block_heap.hpp"

namespace heaplab {

/// Where insert() puts a block.
enum class InsertionOrder {
  lifo,     ///< At the head: last freed, first reused.
  address,  ///< Where it keeps the list sorted by address.
};

/// Free blocks linked both ways through their payloads.
class LinkedFreeList {
 public:
  // [insert_remove]
  /// Puts the free block \p block on the list, in \p order.
  void insert(BlockHeader& block, InsertionOrder order) noexcept {
    if (order == InsertionOrder::lifo) {
      link_after(nullptr, block);
    } else {
      link_after(last_below(block), block);
    }
    // Every free block of the chapter comes through here after each merge
    // or split: the one place to poison its payload (tracking.hpp).
    poison_free_payload(block);
  }

  /// Takes \p block off the list in O(1). Precondition: it is on the list.
  void remove(BlockHeader& block) noexcept {
    Links& links = links_of(block);
    (links.prev == nullptr ? head_ : links_of(*links.prev).next) = links.next;
    if (links.next != nullptr) links_of(*links.next).prev = links.prev;
    tally_.remove(block);
  }
  // [insert_remove]

  /// The block at the head of the list (null when empty).
  [[nodiscard]] BlockHeader* head() const noexcept { return head_; }
  /// True when the list holds no block.
  [[nodiscard]] bool empty() const noexcept { return head_ == nullptr; }
  /// The block after \p block on the list (null at the end).
  [[nodiscard]] static BlockHeader* next(BlockHeader& block) noexcept { return links_of(block).next; }
  /// The block before \p block on the list (null at the head).
  [[nodiscard]] static BlockHeader* prev(BlockHeader& block) noexcept { return links_of(block).prev; }
  /// How many blocks, and bytes, the list holds.
  [[nodiscard]] const FreeTally& tally() const noexcept { return tally_; }

  /// Calls \p visit with each block on the list, in list order.
  template <class Visitor>
  void for_each(Visitor&& visit) const {
    for (BlockHeader* block = head_; block != nullptr; block = next(*block)) visit(*block);
  }

  /// Verifies the links: the walk ends within the tally's count (no
  /// cycle), every block is one of the heap's (\p owned says which are)
  /// and free, each prev link names the block before, the tally matches,
  /// and under InsertionOrder::address the addresses increase. Calls
  /// \p listed with each block, so the caller can check that the block is
  /// on the right list.
  template <class Owned, class Listed>
  [[nodiscard]] CheckResult check(InsertionOrder order, Owned owned, Listed listed) const noexcept {
    FreeTally seen;
    BlockHeader* before = nullptr;
    for (BlockHeader* block = head_; block != nullptr; before = block, block = next(*block)) {
      if (seen.blocks == tally_.blocks) return CheckResult::fail("the free list ends (no cycle)", 0);
      if (!owned(*block)) return CheckResult::fail("the free list holds only blocks of this heap", 0);
      if (is_allocated(*block)) return CheckResult::fail("the free list holds only free blocks", 0);
      if (prev(*block) != before) return CheckResult::fail("each prev link names the block before", 0);
      if (order == InsertionOrder::address && before != nullptr && address_of(before) > address_of(block)) {
        return CheckResult::fail("an address-ordered list is sorted by address", 0);
      }
      if (const CheckResult ok = listed(*block); !ok) return ok;
      seen.add(*block);
    }
    if (seen.blocks != tally_.blocks || seen.bytes != tally_.bytes) {
      return CheckResult::fail("the free list's tally matches its blocks", 0);
    }
    return CheckResult::pass();
  }

 private:
  /// What a free block stores at the start of its payload.
  struct Links {
    BlockHeader* next;  ///< The next block on the list, or null.
    BlockHeader* prev;  ///< The block before on the list, or null at the head.
  };
  static_assert(sizeof(Links) <= kFreeLinkBytes, "a free block's links stay accessible (poison_free_payload)");

  [[nodiscard]] static Links& links_of(BlockHeader& block) noexcept {
    return *std::launder(reinterpret_cast<Links*>(payload_of(&block)));
  }

  /// Links \p block in after \p before (at the head when null).
  void link_after(BlockHeader* before, BlockHeader& block) noexcept {
    BlockHeader*& slot = before == nullptr ? head_ : links_of(*before).next;
    track::expose(payload_of(&block), sizeof(Links));  // it may lie in poisoned memory
    ::new (payload_of(&block)) Links{slot, before};
    if (slot != nullptr) links_of(*slot).prev = &block;
    slot = &block;
    tally_.add(block);
  }

  /// The last block on the (sorted) list below \p block's address, or null.
  [[nodiscard]] BlockHeader* last_below(const BlockHeader& block) const noexcept {
    BlockHeader* before = nullptr;
    for (BlockHeader* at = head_; at != nullptr && address_of(at) < address_of(&block); at = next(*at)) before = at;
    return before;
  }

  BlockHeader* head_ = nullptr;  ///< The first block. Invariant: every block on the list is free.
  FreeTally tally_;              ///< Invariant: the number and bytes of the blocks on the list.
};

}  // namespace heaplab
