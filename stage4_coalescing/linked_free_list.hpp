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
/// block before it on the list. Coalescing takes the *next and previous
/// blocks in memory* off the list, blocks no search has visited, so each
/// block must know its predecessor on the list.
///
/// A freed block goes to the head (LIFO), in O(1): recently freed memory is
/// reused first, which is kind to the cache. address_ordered.hpp keeps the
/// list sorted by address instead.
#pragma once

#include <cstddef>
#include <new>
#include <string_view>

#include "stage1_static_bump/assert.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/tracking.hpp"
#include "stage2_free_list/block.hpp"
#include "stage2_free_list/block_heap.hpp"
#include "stage3_fit_strategies/placement.hpp"

namespace heaplab {

/// Free blocks linked both ways through their payloads, LIFO.
class LinkedFreeList {
 public:
  /// Bytes of links a free block holds: next and prev.
  static constexpr std::size_t kLinkBytes = 2 * sizeof(BlockHeader*);

  // [insert_remove]
  /// Puts the free block \p block at the head of the list.
  void insert(BlockHeader& block) noexcept { link_after(nullptr, block); }

  /// Takes \p block off the list in O(1). Precondition: it is on the list.
  void remove(BlockHeader& block) noexcept {
    HEAPLAB_ASSERT(!is_allocated(block), "only free blocks are on a free list");
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

  /// The invariant of list order that \p block, listed after \p before,
  /// breaks: none, since any order is a LIFO list's.
  [[nodiscard]] static std::string_view broken_order(const BlockHeader* /*before*/, const BlockHeader& /*block*/) noexcept {
    return {};
  }

  /// Calls \p visit with each block on the list, in list order.
  template <class Visitor>
  void for_each(Visitor&& visit) const {
    for (BlockHeader* block = head_; block != nullptr; block = next(*block)) visit(*block);
  }

  /// Verifies the links: the walk ends within the tally's count (no
  /// cycle), every block is one of the heap's (\p owned says which are)
  /// and free, each prev link names the block before, and the tally
  /// matches. Calls \p listed with each block and the one before it, for
  /// the checks of the caller (the right size class, address order).
  /// \p offset_of says where a block is, for the report.
  template <class Owned, class Listed, class OffsetOf>
  [[nodiscard]] CheckResult check(Owned owned, Listed listed, OffsetOf offset_of) const noexcept {
    FreeTally seen;
    BlockHeader* before = nullptr;
    for (BlockHeader* block = head_; block != nullptr; before = block, block = next(*block)) {
      const auto fail = [&](std::string_view invariant) { return CheckResult::fail(invariant, offset_of(*block)); };
      if (seen.blocks == tally_.blocks) return fail("the free list ends (no cycle)");
      if (!owned(*block)) return CheckResult::fail("the free list holds only blocks of this heap", 0);
      if (is_allocated(*block)) return fail("the free list holds only free blocks");
      if (prev(*block) != before) return fail("each prev link names the block before");
      if (const CheckResult ok = listed(before, *block); !ok) return ok;
      seen.add(*block);
    }
    if (seen.blocks != tally_.blocks || seen.bytes != tally_.bytes) {
      return CheckResult::fail("the free list's tally matches its blocks", 0);
    }
    return CheckResult::pass();
  }

 protected:
  /// Links \p block in after \p before (at the head when null).
  void link_after(BlockHeader* before, BlockHeader& block) noexcept {
    BlockHeader*& slot = before == nullptr ? head_ : links_of(*before).next;
    track::expose(payload_of(&block), sizeof(Links));  // it may lie in poisoned memory
    ::new (payload_of(&block)) Links{slot, before};
    if (slot != nullptr) links_of(*slot).prev = &block;
    slot = &block;
    tally_.add(block);
    // Every free block of the chapter comes through here after each merge
    // or split: the one place to poison its payload (tracking.hpp).
    poison_free_payload(block);
  }

 private:
  /// What a free block stores at the start of its payload.
  struct Links {
    BlockHeader* next;  ///< The next block on the list, or null.
    BlockHeader* prev;  ///< The block before on the list, or null at the head.
  };
  static_assert(sizeof(Links) <= kFreeLinkBytes, "a free block's links stay accessible (poison_free_payload)");
  static_assert(sizeof(Links) == kLinkBytes, "kLinkBytes tells the block walk where the links end");

  [[nodiscard]] static Links& links_of(BlockHeader& block) noexcept {
    return *std::launder(reinterpret_cast<Links*>(payload_of(&block)));
  }

  BlockHeader* head_ = nullptr;  ///< The first block. Invariant: every block on the list is free.
  FreeTally tally_;              ///< Invariant: the number and bytes of the blocks on the list.
};
static_assert(FreeBlockList<LinkedFreeList>);

// [fit_list]
/// Chapter 4's free blocks: one doubly linked list (\p List: LIFO, or
/// address-ordered) searched by a chapter-3 placement policy.
template <class Policy, class List = LinkedFreeList>
  requires PlacementPolicy<Policy, List>
class FitList : public List {
 public:
  /// The block \p Policy chooses for \p request; it stays on the list.
  /// Adds the blocks looked at to \p visited.
  [[nodiscard]] Choice choose(const BlockRequest& request, std::size_t& visited) noexcept {
    return policy_.choose(static_cast<const List&>(*this), request, visited);
  }
  /// Takes \p block off the list in O(1); a next-fit rover on it steps back.
  void remove(BlockHeader& block) noexcept {
    policy_.forget(List::prev(block), block);
    List::remove(block);
  }
  /// Verifies the list (see LinkedFreeList::check()), its order, and that
  /// a next-fit rover is on it.
  template <class Owned, class OffsetOf>
  [[nodiscard]] CheckResult check(Owned owned, OffsetOf offset_of) const noexcept {
    const auto listed = [&](const BlockHeader* before, BlockHeader& block) {
      const std::string_view broken = List::broken_order(before, block);
      return broken.empty() ? CheckResult::pass() : CheckResult::fail(broken, offset_of(block));
    };
    if (const CheckResult links = List::check(owned, listed, offset_of); !links) return links;
    if constexpr (requires { policy_.rover(); }) {
      bool found = policy_.rover() == nullptr;
      List::for_each([&](const BlockHeader& block) { found = found || &block == policy_.rover(); });
      if (!found) return CheckResult::fail("the rover is on the free list", offset_of(*policy_.rover()));
    }
    return CheckResult::pass();
  }
  /// The policy (tests look at the next-fit rover).
  [[nodiscard]] const Policy& policy() const noexcept { return policy_; }

 private:
  Policy policy_;  ///< Chooses the block; next fit keeps its rover here.
};
// [fit_list]

}  // namespace heaplab
