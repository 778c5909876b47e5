/// \file
/// The free blocks of chapter 4: one doubly linked list, or one per size
/// class (segregated fits), each searched by a chapter-3 placement policy.
///
/// Segregated fits, the step toward real allocators:
///
///     class:   0     1     2    ...   58      59          60           ...
///     sizes:   40    48    56   ...   504     512-1023    1024-2047    ...
///              [ ]   [x]   [ ]        [ ]     [x]         [ ]
///               |     |                        |
///              (empty) block -> block         block -> block -> block
///     bitmap:  0     1     0    ...   0       1           0            ...
///
/// - Below 512 bytes each class holds one block size, so any block of the
///   request's class fits, and so does any block of a larger class.
/// - From 512 bytes up a class spans a power of two; the policy searches
///   the request's own class, where a block may still be too small.
/// - A bitmap has one bit per class, set while its list is not empty, so
///   the next class with a block is one count-trailing-zeros away. With the
///   exact small classes this is *good fit* in O(1) for small requests: the
///   block taken is the smallest size class that has one (TLSF does the
///   same with finer classes for every size).
///
/// With one class (`Segregated = false`) this is a single list, searched
/// by the policy from end to end: first, next, best or worst fit.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "stage1_static_bump/contract.hpp"
#include "stage2_free_list/block.hpp"
#include "stage3_fit_strategies/placement.hpp"
#include "stage4_coalescing/boundary_tags.hpp"
#include "stage4_coalescing/linked_free_list.hpp"

namespace heaplab {

// [size_classes]
/// The size classes of segregated fits (see the diagram above).
struct SizeClasses {
  /// Blocks below this size have a class of their own size.
  static constexpr std::size_t kExactLimit = 512;
  /// Classes of one block size each: 40, 48, ..., 504.
  static constexpr std::size_t kExactClasses = (kExactLimit - kMinTaggedBlockSize) / kBlockGranularity;
  /// Every class: the exact ones, then one per power of two up to 2^63.
  static constexpr std::size_t kCount = kExactClasses + (64 - std::bit_width(kExactLimit)) + 1;

  /// The class of a block of \p size bytes (at least kMinTaggedBlockSize).
  [[nodiscard]] static constexpr std::size_t of(std::size_t size) noexcept {
    if (size < kExactLimit) return (size - kMinTaggedBlockSize) / kBlockGranularity;
    return kExactClasses + static_cast<std::size_t>(std::bit_width(size) - std::bit_width(kExactLimit));
  }
};
// [size_classes]

static_assert(SizeClasses::of(SizeClasses::kExactLimit - 8) == SizeClasses::kExactClasses - 1);
static_assert(SizeClasses::of(SizeClasses::kExactLimit) == SizeClasses::kExactClasses);
static_assert(SizeClasses::of(~std::size_t{0} & ~kFlagMask) == SizeClasses::kCount - 1);

/// The free blocks, on one list or one list per size class (\p Segregated),
/// each list searched by its own \p Policy (so next fit keeps one rover per
/// list).
template <class Policy, bool Segregated>
class FreeLists {
 public:
  /// How many lists there are.
  static constexpr std::size_t kLists = Segregated ? SizeClasses::kCount : 1;

  /// The list a block of \p size bytes belongs on.
  [[nodiscard]] static constexpr std::size_t list_for(std::size_t size) noexcept {
    if constexpr (Segregated) {
      return SizeClasses::of(size);
    } else {
      return 0;
    }
  }

  /// Puts the free block \p block on its list, in \p order.
  void insert(BlockHeader& block, InsertionOrder order) noexcept {
    const std::size_t index = list_for(block_size(block));
    lists_[index].list.insert(block, order);
    mark_nonempty(index);
  }

  /// Takes \p block off its list in O(1). Precondition: it is on it, and
  /// its size has not changed since it was inserted.
  void remove(BlockHeader& block) noexcept {
    const std::size_t index = list_for(block_size(block));
    Class& of = lists_[index];
    of.policy.forget(LinkedFreeList::prev(block), block);
    of.list.remove(block);
    if (of.list.empty()) mark_empty(index);
  }

  // [take_exact]
  /// Good fit's O(1) case: below SizeClasses::kExactLimit a class holds
  /// blocks of exactly one size, so the head of \p needed's own list fits
  /// a request with the default alignment with no search at all, and
  /// without a split. Takes it off the list and returns it; null when the
  /// class is not exact or its list is empty (then choose() searches).
  [[nodiscard]] BlockHeader* take_exact(std::size_t needed) noexcept {
    if constexpr (Segregated) {
      if (needed >= SizeClasses::kExactLimit) return nullptr;
      BlockHeader* const head = lists_[list_for(needed)].list.head();
      if (head != nullptr) remove(*head);
      return head;
    } else {
      return nullptr;
    }
  }
  // [take_exact]

  // [choose]
  /// The block the policy chooses for a block of \p needed bytes, where
  /// \p place says how the request would go in a block: from the list of
  /// \p needed's class up, skipping empty lists. The block stays on its
  /// list. Adds the blocks looked at to \p visited.
  template <class Place>
  [[nodiscard]] Choice choose(std::size_t needed, Place place, std::size_t& visited) noexcept {
    for (std::size_t index = first_nonempty(list_for(needed)); index < kLists;
         index = first_nonempty(index + 1)) {
      const Choice choice = lists_[index].policy.choose(lists_[index].list, place, visited);
      if (choice.block != nullptr) return choice;
    }
    return {};
  }
  // [choose]

  /// How many blocks, and bytes, all the lists hold: the sum of their
  /// tallies (each list keeps its own).
  [[nodiscard]] FreeTally tally() const noexcept {
    FreeTally sum;
    for (const Class& of : lists_) {
      sum.blocks += of.list.tally().blocks;
      sum.bytes += of.list.tally().bytes;
    }
    return sum;
  }
  /// List \p index (for diagrams, tools and tests).
  [[nodiscard]] const LinkedFreeList& list(std::size_t index) const noexcept { return lists_[index].list; }
  /// The policy searching list \p index (tests look at the next-fit rover).
  [[nodiscard]] const Policy& policy(std::size_t index) const noexcept { return lists_[index].policy; }

  /// Verifies every list (see LinkedFreeList::check()), that each block
  /// is on the list of its class, that the bitmap marks exactly the
  /// non-empty lists, and that a next-fit rover is on its list. \p owned
  /// says which blocks are the heap's.
  template <class Owned>
  [[nodiscard]] CheckResult check(InsertionOrder order, Owned owned) const noexcept {
    for (std::size_t index = 0; index < kLists; ++index) {
      const LinkedFreeList& list = lists_[index].list;
      const auto on_its_list = [index](const BlockHeader& block) {
        return list_for(block_size(block)) == index
                   ? CheckResult::pass()
                   : CheckResult::fail("every free block is on the list of its size class", 0);
      };
      if (const CheckResult ok = list.check(order, owned, on_its_list); !ok) return ok;
      if (is_nonempty(index) == list.empty()) {
        return CheckResult::fail("the bitmap marks exactly the non-empty lists", 0);
      }
      if (!rover_on_list(index)) return CheckResult::fail("the rover is on its free list", 0);
    }
    return CheckResult::pass();
  }

 private:
  /// One list and the policy that searches it.
  struct Class {
    LinkedFreeList list;  ///< The free blocks of the class.
    Policy policy;        ///< Searches `list`; next fit keeps its rover here.
  };
  /// Bits per bitmap word.
  static constexpr std::size_t kWordBits = 64;

  void mark_nonempty(std::size_t index) noexcept { bitmap_[index / kWordBits] |= bit(index); }
  void mark_empty(std::size_t index) noexcept { bitmap_[index / kWordBits] &= ~bit(index); }
  [[nodiscard]] bool is_nonempty(std::size_t index) const noexcept {
    return (bitmap_[index / kWordBits] & bit(index)) != 0;
  }
  [[nodiscard]] static constexpr std::uint64_t bit(std::size_t index) noexcept {
    return std::uint64_t{1} << (index % kWordBits);
  }

  // [first_nonempty]
  /// The first non-empty list at \p index or above; kLists if none.
  [[nodiscard]] std::size_t first_nonempty(std::size_t index) const noexcept {
    for (std::size_t word = index / kWordBits; word < bitmap_.size(); ++word) {
      // Ignore the bits below `index` in its own word.
      const std::uint64_t below = word == index / kWordBits ? bit(index) - 1 : 0;
      const std::uint64_t bits = bitmap_[word] & ~below;
      if (bits != 0) return word * kWordBits + static_cast<std::size_t>(std::countr_zero(bits));
    }
    return kLists;
  }
  // [first_nonempty]

  /// True unless the policy keeps a rover that is not on list \p index.
  [[nodiscard]] bool rover_on_list(std::size_t index) const noexcept {
    if constexpr (requires(const Policy& p) { p.rover(); }) {
      const BlockHeader* const rover = lists_[index].policy.rover();
      bool found = rover == nullptr;
      lists_[index].list.for_each([&](const BlockHeader& block) { found = found || &block == rover; });
      return found;
    } else {
      return true;
    }
  }

  std::array<Class, kLists> lists_{};                                   ///< The lists, smallest class first.
  std::array<std::uint64_t, (kLists + kWordBits - 1) / kWordBits> bitmap_{};  ///< Invariant: bit i set iff list i is not empty.
};

}  // namespace heaplab
