/// \file
/// Segregated fits: the free blocks on one list per *size class*, and a
/// bitmap that says which lists have any, so that a search starts at the
/// request's own class and skips the empty ones in a few instructions.
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
/// - The next class with a block is one count-trailing-zeros away in the
///   bitmap. With the exact small classes this is *good fit*: the block
///   taken is from the smallest class that has one, and for a small request
///   with the default alignment the head of its own class is taken with no
///   search at all (TLSF does the same with finer classes for every size;
///   glibc's small bins and dlmalloc's "smallbins" hold one size each too).
///
/// What is new is the free-blocks piece of chapter 4's allocator (its
/// CoalescingFreeBlocks parameter): each class is chapter 4's FitList, a
/// doubly linked list searched by a chapter-3 policy. The tags (footer
/// elision), the merging and the allocator are chapter 4's, unchanged.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "stage1_static_bump/assert.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage2_free_list/block.hpp"
#include "stage2_free_list/block_heap.hpp"
#include "stage3_fit_strategies/placement.hpp"
#include "stage4_coalescing/boundary_tags.hpp"
#include "stage4_coalescing/coalescing_allocator.hpp"
#include "stage4_coalescing/footer_elision.hpp"
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

  /// The smallest block size of class \p index (`index < kCount`), the way
  /// back from of(): the class holds blocks from smallest_block(index) up
  /// to smallest_block(index + 1), that one excluded.
  [[nodiscard]] static constexpr std::size_t smallest_block(std::size_t index) noexcept {
    if (index < kExactClasses) return kMinTaggedBlockSize + index * kBlockGranularity;
    return kExactLimit << (index - kExactClasses);
  }
};
// [size_classes]

/// True when a block of \p size bytes belongs in class \p index of
/// \p Classes, asked both ways: of() names the class, and the size lies
/// between the class's smallest block and the next class's. The lists'
/// check() asks it, so that a class mapping that disagrees with itself is
/// caught.
template <class Classes>
[[nodiscard]] constexpr bool in_size_class(std::size_t size, std::size_t index) noexcept {
  const bool below_next = index + 1 == Classes::kCount || size < Classes::smallest_block(index + 1);
  return Classes::of(size) == index && Classes::smallest_block(index) <= size && below_next;
}

static_assert(SizeClasses::of(SizeClasses::kExactLimit - 8) == SizeClasses::kExactClasses - 1);
static_assert(SizeClasses::of(SizeClasses::kExactLimit) == SizeClasses::kExactClasses);
static_assert(SizeClasses::of(~std::size_t{0} & ~kFlagMask) == SizeClasses::kCount - 1);
static_assert(SizeClasses::smallest_block(SizeClasses::kExactClasses) == SizeClasses::kExactLimit);
static_assert(SizeClasses::of(SizeClasses::smallest_block(SizeClasses::kCount - 1)) == SizeClasses::kCount - 1);

/// Free blocks on one FitList per size class, each searched by its own
/// \p Policy (so next fit would keep one rover per class), with a bitmap
/// of the non-empty classes. \p Classes maps a block size to its class
/// and back (SizeClasses unless told; a learner's own is another type with
/// the same members, stage5_real_malloc/your_turn/size_classes.hpp).
template <class Policy, class Classes = SizeClasses>
class SegregatedLists {
 public:
  /// Bytes of links a free block holds: those of a chapter-4 list.
  static constexpr std::size_t kLinkBytes = LinkedFreeList::kLinkBytes;
  /// The size classes (for diagrams and tools).
  using classes_type = Classes;
  /// How many lists there are: one per size class.
  static constexpr std::size_t kLists = Classes::kCount;

  /// The list a block of \p size bytes belongs on: its size class.
  [[nodiscard]] static constexpr std::size_t list_for(std::size_t size) noexcept { return Classes::of(size); }

  /// Puts the free block \p block at the head of its class's list.
  void insert(BlockHeader& block) noexcept {
    const std::size_t index = list_for(block_size(block));
    lists_[index].insert(block);
    mark_nonempty(index);
  }

  /// Takes \p block off its list in O(1). Precondition: it is on it, and
  /// its size has not changed since it was inserted.
  void remove(BlockHeader& block) noexcept {
    const std::size_t index = list_for(block_size(block));
    lists_[index].remove(block);
    if (lists_[index].empty()) mark_empty(index);
  }

  // [choose]
  /// The block for \p request: good fit's O(1) case when there is one
  /// (exact_fit()), else the policy's choice in each non-empty list from
  /// the request's class up. The block stays on its list. Adds the blocks
  /// looked at to \p visited.
  [[nodiscard]] Choice choose(const BlockRequest& request, std::size_t& visited) noexcept {
    if (BlockHeader* const exact = exact_fit(request)) {
      ++visited;
      return {nullptr, exact, Placement{true, 0, request.needed}};  // the head: nobody before it
    }
    for (std::size_t index = first_nonempty(list_for(request.needed)); index < kLists;
         index = first_nonempty(index + 1)) {
      const Choice choice = lists_[index].choose(request, visited);
      if (choice.block != nullptr) return choice;
    }
    return {};
  }
  // [choose]

  /// How many blocks, and bytes, all the lists hold: the sum of their
  /// tallies (each list keeps its own).
  [[nodiscard]] FreeTally tally() const noexcept {
    FreeTally sum;
    for (const FitList<Policy>& list : lists_) {
      sum.blocks += list.tally().blocks;
      sum.bytes += list.tally().bytes;
    }
    return sum;
  }

  /// List \p index (for diagrams, tools and tests).
  [[nodiscard]] const FitList<Policy>& list(std::size_t index) const noexcept { return lists_[index]; }

  /// Verifies every list (FitList::check(): links, tally, a rover), that
  /// each block is on the list of its class, and that the bitmap marks
  /// exactly the non-empty lists. \p owned says which blocks are the
  /// heap's, \p offset_of where a block is, for the report.
  template <class Owned, class OffsetOf>
  [[nodiscard]] CheckResult check(Owned owned, OffsetOf offset_of) const noexcept {
    for (std::size_t index = 0; index < kLists; ++index) {
      const FitList<Policy>& list = lists_[index];
      if (const CheckResult links = list.check(owned, offset_of); !links) return links;
      CheckResult classes = CheckResult::pass();
      list.for_each([&](const BlockHeader& block) {
        if (classes && !in_size_class<Classes>(block_size(block), index)) {
          classes = CheckResult::fail("every free block is on the list of its size class", offset_of(block));
        }
      });
      if (!classes) return classes;
      if (is_nonempty(index) == list.empty()) return CheckResult::fail("the bitmap marks exactly the non-empty lists", 0);
    }
    return CheckResult::pass();
  }

 private:
  /// Bits per bitmap word.
  static constexpr std::size_t kWordBits = 64;

  // [exact_fit]
  /// Good fit's O(1) case: below Classes::kExactLimit a class holds
  /// blocks of exactly one size, so the head of the request's own list
  /// fits a request with the default alignment as it is: no search, and
  /// no split. Null when the request is not such a one, or the list is
  /// empty.
  [[nodiscard]] BlockHeader* exact_fit(const BlockRequest& request) const noexcept {
    if (request.align != kDefaultAlignment || request.needed >= Classes::kExactLimit) return nullptr;
    BlockHeader* const head = lists_[list_for(request.needed)].head();
    HEAPLAB_ASSERT(head == nullptr || block_size(*head) == request.needed,
                   "an exact class holds blocks of one size only");
    return head;
  }
  // [exact_fit]

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

  std::array<FitList<Policy>, kLists> lists_{};                              ///< The lists, smallest class first.
  std::array<std::uint64_t, (kLists + kWordBits - 1) / kWordBits> bitmap_{};  ///< Invariant: bit i set iff list i is not empty.
};

static_assert(CoalescingFreeBlocks<SegregatedLists<FirstFit>>);

/// One region of segregated fits over size classes \p Classes: chapter 4's
/// allocator with size classes and footer elision.
template <class Classes = SizeClasses>
using BasicSegregatedFitRegion = CoalescingAllocator<SegregatedLists<FirstFit, Classes>, ElidedFooters>;
/// One region of segregated fits: chapter 4's allocator with size classes
/// and footer elision. SegregatedFitAllocator (real_malloc.hpp) is this,
/// growing into more regions and mapping large blocks.
using SegregatedFitRegion = BasicSegregatedFitRegion<>;
extern template class CoalescingAllocator<SegregatedLists<FirstFit>, ElidedFooters>;

}  // namespace heaplab
