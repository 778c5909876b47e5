/// \file
/// Refinement: footer elision. Only a free block is ever merged into from
/// behind, so only a free block needs a footer; an allocated block gets its
/// 8 bytes back. What the next block then cannot read from a footer, "is
/// the previous block free?", it reads from a second flag in its own
/// header, the P bit:
///
///     size_and_flags:  [ size ........................ | 0 | P | A ]
///                        A (bit 0): this block is allocated   (chapter 2)
///                        P (bit 1): the previous block is allocated
///
///     [ hdr A P | payload ........... ][ hdr F P | links | ... | footer ][ hdr A . | ...
///       allocated: no footer             free: a footer                   P clear: the block
///                                                                         before is free
///
/// glibc's chunks do the same (PREV_INUSE), and so does TLSF. The price is
/// one more header to write when a block changes state: the P bit of the
/// next block. What is new is the tag layout; the allocator is unchanged.
#pragma once

#include <cstddef>
#include <string_view>

#include "stage4_coalescing/boundary_tags.hpp"
#include "stage4_coalescing/coalescing_allocator.hpp"

namespace heaplab {

/// Bit 1 of `size_and_flags`: set when the previous block is allocated.
inline constexpr std::size_t kPrevAllocatedBit = 2;

/// True when the P bit of \p block says the previous block is allocated.
[[nodiscard]] constexpr bool prev_allocated_bit(const BlockHeader& block) noexcept {
  return (block.size_and_flags & kPrevAllocatedBit) != 0;
}

/// Sets or clears the P bit of \p block.
constexpr void set_prev_allocated_bit(BlockHeader& block, bool allocated) noexcept {
  block.size_and_flags = allocated ? block.size_and_flags | kPrevAllocatedBit
                                   : block.size_and_flags & ~kPrevAllocatedBit;
}

// [elided_footers]
/// Footers on free blocks only; the P bit says what the footer would have.
struct ElidedFooters {
  /// The flags a header carries: the allocated bit and the P bit.
  static constexpr std::size_t kHeaderFlags = kAllocatedBit | kPrevAllocatedBit;
  /// An allocated block keeps no footer.
  static constexpr std::size_t kAllocatedFooterBytes = 0;

  /// Brings the tags around \p block up to date after its size or state
  /// changed: its footer if it is free, and the P bit of the next block
  /// (whose own footer, if it is free, mirrors its whole header).
  static void seal(BlockHeader& block) noexcept {
    const bool allocated = is_allocated(block);
    if (!allocated) write_footer(block);
    BlockHeader& next = next_block(block);
    set_prev_allocated_bit(next, allocated);
    if (!is_allocated(next)) write_footer(next);
  }

  /// True when the block before \p block is free: its P bit is clear.
  [[nodiscard]] static bool prev_is_free(BlockHeader& block) noexcept { return !prev_allocated_bit(block); }

  /// The invariant \p block's footer breaks (empty when none): a free
  /// block's footer equals its header; an allocated block has none.
  [[nodiscard]] static std::string_view broken_tag(BlockHeader& block) noexcept {
    return is_allocated(block) ? std::string_view{} : FooterTags::broken_tag(block);
  }
  /// The invariant \p block's P bit breaks (empty when none), when the
  /// previous block is allocated exactly when \p prev_allocated.
  [[nodiscard]] static std::string_view broken_prev_record(BlockHeader& block, bool prev_allocated) noexcept {
    return prev_allocated_bit(block) == prev_allocated ? std::string_view{}
                                                       : "the P bit says whether the previous block is allocated";
  }
};
// [elided_footers]
static_assert(TagLayout<ElidedFooters>);
static_assert((kPrevAllocatedBit & kFlagMask) == kPrevAllocatedBit, "the P bit is a free flag bit of the header");

/// First fit with footers on free blocks only.
using ElidedFirstFit = CoalescingAllocator<FitList<FirstFit>, ElidedFooters>;
extern template class CoalescingAllocator<FitList<FirstFit>, ElidedFooters>;

}  // namespace heaplab
