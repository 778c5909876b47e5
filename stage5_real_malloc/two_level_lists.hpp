/// \file
/// Two-level segregated fits: size classes fine enough that the head of the
/// first non-empty class at or above a request's *rounded-up* class always
/// fits, and two levels of bitmaps that find that class with two
/// count-trailing-zeros. A search looks at one block, whatever the number
/// of free blocks: O(1) good fit. This is the scheme of TLSF, Two-Level
/// Segregated Fit (M. Masmano, I. Ripoll, A. Crespo and J. Real, "TLSF: a
/// New Dynamic Memory Allocator for Real-Time Systems", ECRTS 2004).
///
///     first level (row):  0: exact    1: 512-1023       2: 1024-2047      ...  55: 2^63-
///     first bitmap:       1           0                 1                 ...  0
///                         |                             |
///     second level:       40 48 ... 504  (59 classes)   1024 1056 ... 2016  (32 classes, 32 B apart)
///     second bitmap:      0  1  ... 0                   0    0    ... 1
///                            |                                        |
///                            block -> block                           block -> block
///
/// - Row 0 holds the exact classes, one block size each, as segregated
///   fits has them below 512 bytes (segregated_fits.hpp): 59 classes, one
///   64-bit word of bits.
/// - Each power of two from 512 up is a row of 2^5 = 32 classes of equal
///   width (16 bytes wide from 512, 32 from 1024, ...): a block of size
///   s is in row log2(s) - 8, column the next 5 bits of s after its top bit.
/// - The first-level word has a bit per row with any non-empty class; each
///   row has a word with a bit per non-empty class. Invariant: a bit is set
///   exactly when its class (or row) has a block.
///
/// Why rounding up makes it O(1): a request's own class may hold blocks
/// both smaller and larger than it, so taking a block there needs a search.
/// Every class *above* it holds only blocks at least as large as its
/// smallest block, which is larger than the request. So choose() rounds the
/// request up to the next class boundary, and the head of the first
/// non-empty class from there fits: no search, one block looked at. Finding
/// that class is a mask and a count-trailing-zeros in the request's row,
/// and, if the row has none, one more of each in the first-level word.
///
/// What it costs: rounding up searches as if the request were up to one
/// class wider, at most 1/32 of its size larger, so a block of the
/// request's own class that would have fit is passed over while a class
/// above has one. The block chosen is split by chapter 4 anyway (the tail
/// goes back on its list), so no bytes are lost: only the choice of block
/// differs from best fit's. When no class above has a block, the head of
/// the request's own class is looked at instead (still one block), so a
/// fitting block there is used before the heap grows.
///
/// An alignment above the default asks for more: the request's size plus
/// the alignment plus the smallest block, the most any alignment gap can
/// take (as chapter 4's grow() asks of the break, and as TLSF's
/// implementations do), so the block found fits wherever its payload falls.
///
/// What is new is only the free-blocks piece of chapter 4's allocator (its
/// CoalescingFreeBlocks parameter): each class is chapter 4's doubly linked
/// list, always taken at the head, so no chapter-3 policy is needed. The
/// tags (footer elision), the merging and the allocator are chapter 4's.
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
#include "stage5_real_malloc/segregated_fits.hpp"

namespace heaplab {

// [two_level_classes]
/// The two-level size classes (see the diagram above). A class has a
/// linear index (the list it names) and a place in the two levels: its
/// row (first level) and its column (second level).
struct TwoLevelClasses {
  /// Blocks below this size have a class of their own size (row 0).
  static constexpr std::size_t kExactLimit = 512;
  /// Classes of one block size each: 40, 48, ..., 504.
  static constexpr std::size_t kExactClasses = (kExactLimit - kMinTaggedBlockSize) / kBlockGranularity;
  /// Bits of a block size, after its top bit, that name its column.
  static constexpr unsigned kColumnBits = 5;
  /// Classes per power of two: the second level's split.
  static constexpr std::size_t kColumns = std::size_t{1} << kColumnBits;
  /// The power of two of row 1: log2(kExactLimit).
  static constexpr unsigned kFirstPower = std::bit_width(kExactLimit) - 1;
  /// Rows: the exact one, then one per power of two up to 2^63.
  static constexpr std::size_t kRows = 1 + (64 - kFirstPower);
  /// Every class: the exact ones, then kColumns per power of two.
  static constexpr std::size_t kCount = kExactClasses + (kRows - 1) * kColumns;

  /// The class of a block of \p size bytes (at least kMinTaggedBlockSize).
  [[nodiscard]] static constexpr std::size_t of(std::size_t size) noexcept {
    if (size < kExactLimit) return (size - kMinTaggedBlockSize) / kBlockGranularity;
    const unsigned power = static_cast<unsigned>(std::bit_width(size)) - 1;
    const std::size_t column = (size >> (power - kColumnBits)) - kColumns;  // drop the top bit
    return index_of(power - kFirstPower + 1, column);
  }

  /// The smallest block size of class \p index (`index < kCount`), the way
  /// back from of(): the class holds blocks from smallest_block(index) up
  /// to smallest_block(index + 1), that one excluded.
  [[nodiscard]] static constexpr std::size_t smallest_block(std::size_t index) noexcept {
    if (index < kExactClasses) return kMinTaggedBlockSize + index * kBlockGranularity;
    const unsigned power = static_cast<unsigned>(row_of(index)) - 1 + kFirstPower;
    return (kColumns + column_of(index)) << (power - kColumnBits);
  }

  /// The first class whose every block is at least \p size bytes: of()
  /// when \p size starts its class (every exact class does), else the next
  /// one; kCount when no class is.
  [[nodiscard]] static constexpr std::size_t good_fit(std::size_t size) noexcept {
    const std::size_t index = of(size);
    return smallest_block(index) == size ? index : index + 1;
  }

  /// The row (first level) of class \p index.
  [[nodiscard]] static constexpr std::size_t row_of(std::size_t index) noexcept {
    return index < kExactClasses ? 0 : 1 + (index - kExactClasses) / kColumns;
  }
  /// The column (second level) of class \p index within its row.
  [[nodiscard]] static constexpr std::size_t column_of(std::size_t index) noexcept {
    return index < kExactClasses ? index : (index - kExactClasses) % kColumns;
  }
  /// The class in \p row at \p column: the way back from row_of() and column_of().
  [[nodiscard]] static constexpr std::size_t index_of(std::size_t row, std::size_t column) noexcept {
    return row == 0 ? column : kExactClasses + (row - 1) * kColumns + column;
  }
};
// [two_level_classes]

static_assert(TwoLevelClasses::kExactClasses <= 64, "row 0's classes fit in one bitmap word");
static_assert(TwoLevelClasses::kRows <= 64, "the rows fit in one bitmap word");
static_assert(TwoLevelClasses::kExactLimit >> TwoLevelClasses::kColumnBits >= kBlockGranularity,
              "the narrowest two-level class is at least one cell wide");
static_assert(TwoLevelClasses::of(TwoLevelClasses::kExactLimit - 8) == TwoLevelClasses::kExactClasses - 1);
static_assert(TwoLevelClasses::of(TwoLevelClasses::kExactLimit) == TwoLevelClasses::kExactClasses);
static_assert(TwoLevelClasses::of(~std::size_t{0} & ~kFlagMask) == TwoLevelClasses::kCount - 1);
static_assert(TwoLevelClasses::smallest_block(TwoLevelClasses::kExactClasses) == TwoLevelClasses::kExactLimit);
static_assert(TwoLevelClasses::good_fit(TwoLevelClasses::kExactLimit + 8) == TwoLevelClasses::kExactClasses + 1);

/// Reaches into TwoLevelLists' bitmaps and lists, to break them on
/// purpose: defined by the test suite only, so that it can show check()
/// catching each invariant.
struct TwoLevelListsProbe;

/// Free blocks on one chapter-4 list per two-level class, with a bitmap of
/// the non-empty rows and one of the non-empty classes per row: O(1) good
/// fit (see the file comment).
class TwoLevelLists {
 public:
  /// Bytes of links a free block holds: those of a chapter-4 list.
  static constexpr std::size_t kLinkBytes = LinkedFreeList::kLinkBytes;
  /// The size classes (for diagrams and tools).
  using classes_type = TwoLevelClasses;
  /// How many lists there are: one per class.
  static constexpr std::size_t kLists = TwoLevelClasses::kCount;

  /// The list a block of \p size bytes belongs on: its class.
  [[nodiscard]] static constexpr std::size_t list_for(std::size_t size) noexcept { return TwoLevelClasses::of(size); }

  /// Puts the free block \p block at the head of its class's list.
  void insert(BlockHeader& block) noexcept {
    const std::size_t index = list_for(block_size(block));
    lists_[index].insert(block);
    tally_.add(block);
    mark_nonempty(index);
  }

  /// Takes \p block off its list in O(1). Precondition: it is on it, and
  /// its size has not changed since it was inserted.
  void remove(BlockHeader& block) noexcept {
    const std::size_t index = list_for(block_size(block));
    lists_[index].remove(block);
    tally_.remove(block);
    if (lists_[index].empty()) mark_empty(index);
  }

  // [choose]
  /// The block for \p request: the head of the first non-empty class whose
  /// every block fits it, else the head of the request's own class if that
  /// one fits; one block looked at at most (added to \p visited). The
  /// block stays on its list.
  [[nodiscard]] Choice choose(const BlockRequest& request, std::size_t& visited) noexcept {
    const std::size_t wanted = room_for(request);
    if (wanted != 0) {
      const std::size_t from = TwoLevelClasses::good_fit(wanted);
      if (const std::size_t index = first_nonempty(from); index < kLists) {
        const Choice sure = take_head(index, request, visited);
        HEAPLAB_ASSERT(sure.placement.fits, "every block from the good-fit class up fits the request");
        return sure;
      }
    }
    // No class is sure to fit: the request's own class may still have a
    // block large enough at its head.
    const std::size_t own = list_for(request.needed);
    if (lists_[own].empty()) return {};
    const Choice head = take_head(own, request, visited);
    return head.placement.fits ? head : Choice{};
  }
  // [choose]

  /// How many blocks, and bytes, all the lists hold.
  [[nodiscard]] FreeTally tally() const noexcept { return tally_; }

  /// List \p index (for diagrams, tools and tests).
  [[nodiscard]] const LinkedFreeList& list(std::size_t index) const noexcept { return lists_[index]; }

  /// Verifies every list (LinkedFreeList::check(): links, its tally), that
  /// each block is on the list of its class, that each bitmap bit is set
  /// exactly when its class (or row) has a block, and that the tally is the
  /// lists' sum. \p owned says which blocks are the heap's, \p offset_of
  /// where a block is, for the report.
  template <class Owned, class OffsetOf>
  [[nodiscard]] CheckResult check(Owned owned, OffsetOf offset_of) const noexcept {
    FreeTally sum;
    for (std::size_t index = 0; index < kLists; ++index) {
      if (const CheckResult list = check_list(index, owned, offset_of); !list) return list;
      sum.blocks += lists_[index].tally().blocks;
      sum.bytes += lists_[index].tally().bytes;
    }
    for (std::size_t row = 0; row < TwoLevelClasses::kRows; ++row) {
      if (((first_level_ >> row) & 1) != (second_level_[row] != 0 ? 1U : 0U)) {
        return CheckResult::fail("the first-level bitmap marks exactly the rows with a non-empty class", 0);
      }
    }
    if (sum.blocks != tally_.blocks || sum.bytes != tally_.bytes) {
      return CheckResult::fail("the free blocks' tally is the sum of the lists'", 0);
    }
    return CheckResult::pass();
  }

 private:
  friend struct TwoLevelListsProbe;  // the test suite's way to break the bitmaps on purpose

  /// Bytes a block must have so that \p request fits it wherever the
  /// block lies: the request's size, plus room for any alignment gap when
  /// the alignment is above the default; 0 when that sum is beyond any
  /// block.
  [[nodiscard]] static constexpr std::size_t room_for(const BlockRequest& request) noexcept {
    if (request.align <= kDefaultAlignment) return request.needed;
    // Compare before adding, as grow() does: the sum must not wrap around.
    if (request.needed > kMaxRequest || request.align + request.min_block > kMaxRequest - request.needed) return 0;
    return request.needed + request.align + request.min_block;
  }

  /// The head of non-empty list \p index, placed for \p request, counted
  /// in \p visited.
  [[nodiscard]] Choice take_head(std::size_t index, const BlockRequest& request, std::size_t& visited) const noexcept {
    BlockHeader* const head = lists_[index].head();
    ++visited;
    return {nullptr, head, place_head(*head, request)};  // the head: nobody before it
  }

  /// Where \p request goes in \p block: place_block(), but with the
  /// default alignment every payload is aligned already, so there is no
  /// gap to work out, only the size to compare.
  [[nodiscard]] static Placement place_head(BlockHeader& block, const BlockRequest& request) noexcept {
    if (request.align <= kDefaultAlignment) return {block_size(block) >= request.needed, 0, request.needed};
    return place_block(block, request);
  }

  /// check() for list \p index: its links, its blocks' classes, its bit.
  template <class Owned, class OffsetOf>
  [[nodiscard]] CheckResult check_list(std::size_t index, Owned owned, OffsetOf offset_of) const noexcept {
    const LinkedFreeList& list = lists_[index];
    const auto listed = [&](const BlockHeader* /*before*/, const BlockHeader& block) {
      if (!in_size_class<TwoLevelClasses>(block_size(block), index)) {
        return CheckResult::fail("every free block is on the list of its size class", offset_of(block));
      }
      return CheckResult::pass();
    };
    if (const CheckResult links = list.check(owned, listed, offset_of); !links) return links;
    if (is_nonempty(index) == list.empty()) {
      return CheckResult::fail("the second-level bitmap marks exactly the non-empty classes", 0);
    }
    return CheckResult::pass();
  }

  void mark_nonempty(std::size_t index) noexcept {
    const std::size_t row = TwoLevelClasses::row_of(index);
    second_level_[row] |= bit(TwoLevelClasses::column_of(index));
    first_level_ |= bit(row);
  }
  void mark_empty(std::size_t index) noexcept {
    const std::size_t row = TwoLevelClasses::row_of(index);
    second_level_[row] &= ~bit(TwoLevelClasses::column_of(index));
    if (second_level_[row] == 0) first_level_ &= ~bit(row);
  }
  [[nodiscard]] bool is_nonempty(std::size_t index) const noexcept {
    return (second_level_[TwoLevelClasses::row_of(index)] & bit(TwoLevelClasses::column_of(index))) != 0;
  }
  [[nodiscard]] static constexpr std::uint64_t bit(std::size_t position) noexcept {
    return std::uint64_t{1} << position;
  }
  /// The bits of \p word at \p position and above.
  [[nodiscard]] static constexpr std::uint64_t from(std::uint64_t word, std::size_t position) noexcept {
    return position < 64 ? word & (~std::uint64_t{0} << position) : 0;
  }

  // [first_nonempty]
  /// The first non-empty class at \p index or above; kLists if none. Two
  /// count-trailing-zeros: in \p index's row, else in the first-level word
  /// for the next row with a block, and in that row.
  [[nodiscard]] std::size_t first_nonempty(std::size_t index) const noexcept {
    if (index >= kLists) return kLists;
    const std::size_t row = TwoLevelClasses::row_of(index);
    if (const std::uint64_t here = from(second_level_[row], TwoLevelClasses::column_of(index)); here != 0) {
      return TwoLevelClasses::index_of(row, static_cast<std::size_t>(std::countr_zero(here)));
    }
    const std::uint64_t rows = from(first_level_, row + 1);
    if (rows == 0) return kLists;
    const auto next_row = static_cast<std::size_t>(std::countr_zero(rows));
    return TwoLevelClasses::index_of(next_row, static_cast<std::size_t>(std::countr_zero(second_level_[next_row])));
  }
  // [first_nonempty]

  std::array<LinkedFreeList, kLists> lists_{};  ///< The lists, smallest class first.
  /// Invariant: bit c of word r is set iff the class in row r, column c has a block.
  std::array<std::uint64_t, TwoLevelClasses::kRows> second_level_{};
  std::uint64_t first_level_ = 0;  ///< Invariant: bit r is set iff second_level_[r] is not 0.
  FreeTally tally_;                ///< Invariant: the sum of the lists' tallies.
};

static_assert(CoalescingFreeBlocks<TwoLevelLists>);

/// One region of two-level segregated fits: chapter 4's allocator with
/// TLSF's O(1) good fit and footer elision. TwoLevelFitAllocator
/// (real_malloc.hpp) is this, growing into more regions and mapping large
/// blocks.
using TwoLevelRegion = CoalescingAllocator<TwoLevelLists, ElidedFooters>;
extern template class CoalescingAllocator<TwoLevelLists, ElidedFooters>;

}  // namespace heaplab
