/// \file
/// Boundary tags (Knuth, 1973): a copy of the header at the *end* of a
/// block, so that the block after it can find it, and merge with it, in
/// O(1).
///
///     previous block                          this block
///     +--------+---------------+--------+     +--------+----------------
///     | header |    payload    | footer |     | header |  ...
///     +--------+---------------+--------+     +--------+----------------
///                                   ^               |
///                                   +---------------+
///                 header - 8 bytes: the previous block's size and state
///
/// Chapter 2's header is kept as it is (size | flags, requested); chapter 4
/// adds the footer. A free block also holds two list links (the doubly
/// linked list of linked_free_list.hpp), so the smallest block of this
/// chapter is header (16) + two links (16) + footer (8) = 40 bytes.
///
/// Words used in every chapter from here on:
/// - the *next block* and the *previous block* are the neighbours **in
///   memory** (next_block(), prev_block());
/// - the *next* and *previous* on a list are the neighbours **on a free
///   list** (`List::next()`, `List::prev()`), which can be anywhere.
///
/// The tag layout is a type with four verbs (the TagLayout concept), so that
/// footer elision (footer_elision.hpp) can replace FooterTags without the
/// allocator knowing which it has.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <new>
#include <string_view>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/tracking.hpp"
#include "stage2_free_list/block.hpp"

namespace heaplab {

/// The footer at the end of a block: a copy of its header's first word.
struct BlockFooter {
  std::size_t size_and_flags;  ///< Equal to the header's while the footer is kept.
};

/// Bytes of a footer.
inline constexpr std::size_t kFooterSize = sizeof(BlockFooter);
/// The smallest block of this chapter: a header, the two links a free block
/// holds, and its footer.
inline constexpr std::size_t kMinTaggedBlockSize = kHeaderSize + 2 * sizeof(void*) + kFooterSize;

static_assert(kMinTaggedBlockSize % kBlockGranularity == 0);
static_assert(kFooterSize <= kFreeFooterBytes, "a free block's footer stays accessible (poison_free_payload)");

/// The footer of \p block: its last 8 bytes.
[[nodiscard]] inline BlockFooter& footer_of(BlockHeader& block) noexcept {
  return *std::launder(reinterpret_cast<BlockFooter*>(next_in_memory(&block) - kFooterSize));
}

/// Copies \p block's size and flags into its footer. The footer may land
/// in poisoned memory (a free block's payload, after a split or a merge),
/// so its bytes are exposed first (tracking.hpp).
inline void write_footer(BlockHeader& block) noexcept {
  std::byte* const at = next_in_memory(&block) - kFooterSize;
  track::expose(at, kFooterSize);
  ::new (at) BlockFooter{block.size_and_flags};
}

// [neighbours]
/// The next block: the header right after \p block. Never missing, which
/// is the point of the epilogue (tagged_heap.hpp).
[[nodiscard]] inline BlockHeader& next_block(BlockHeader& block) noexcept {
  return *header_at(next_in_memory(&block));
}

/// The footer of the previous block: the 8 bytes just before \p block's
/// header (the boundary tag). Precondition: the previous block keeps a
/// footer.
[[nodiscard]] inline const BlockFooter& footer_in_front(BlockHeader& block) noexcept {
  return *std::launder(reinterpret_cast<const BlockFooter*>(block_start(&block) - kFooterSize));
}

/// The previous block, found through its footer in O(1). Precondition: the
/// previous block keeps a footer (every free block does).
[[nodiscard]] inline BlockHeader& prev_block(BlockHeader& block) noexcept {
  const std::size_t size = footer_in_front(block).size_and_flags & ~kFlagMask;
  return *header_at(block_start(&block) - size);
}
// [neighbours]

/// What a tag layout provides (FooterTags here, ElidedFooters in
/// footer_elision.hpp): the flags its headers use, what an allocated block
/// spends on tags, how tags are written after a block changes, how the
/// previous block's state is read, and, for check(), which invariant of its
/// own a block breaks (an empty name when none).
template <class Tags>
concept TagLayout = requires(BlockHeader& block) {
  { Tags::kHeaderFlags } -> std::convertible_to<std::size_t>;
  { Tags::kAllocatedFooterBytes } -> std::convertible_to<std::size_t>;
  { Tags::seal(block) } noexcept;
  { Tags::prev_is_free(block) } noexcept -> std::same_as<bool>;
  { Tags::broken_tag(block) } noexcept -> std::same_as<std::string_view>;
  { Tags::broken_prev_record(block, true) } noexcept -> std::same_as<std::string_view>;
};

// [footer_tags]
/// Knuth's boundary tags, as CS:APP teaches them: every block, allocated
/// or free, ends with a footer. An allocated block pays 8 bytes for it.
struct FooterTags {
  /// The flags a header carries: the allocated bit only.
  static constexpr std::size_t kHeaderFlags = kAllocatedBit;
  /// Bytes of tag at the end of an allocated block.
  static constexpr std::size_t kAllocatedFooterBytes = kFooterSize;

  /// Brings \p block's tags up to date after its size or state changed.
  static void seal(BlockHeader& block) noexcept { write_footer(block); }

  /// True when the block before \p block is free: its footer says so.
  [[nodiscard]] static bool prev_is_free(BlockHeader& block) noexcept {
    return (footer_in_front(block).size_and_flags & kAllocatedBit) == 0;
  }

  /// The invariant \p block's footer breaks (empty when none).
  [[nodiscard]] static std::string_view broken_tag(BlockHeader& block) noexcept {
    return footer_of(block).size_and_flags == block.size_and_flags ? std::string_view{}
                                                                   : "the footer equals the header";
  }
  /// Nothing to break: a header here records nothing of the previous block.
  [[nodiscard]] static std::string_view broken_prev_record(BlockHeader& /*block*/, bool /*prev_allocated*/) noexcept {
    return {};
  }
};
// [footer_tags]
static_assert(TagLayout<FooterTags>);

// [tagged_block_size_for]
/// The size of the block that serves \p request bytes under \p Tags:
/// header, payload rounded up to whole cells, the footer if allocated
/// blocks keep one, and never less than the smallest block.
/// Precondition: `request <= kMaxRequest`, so nothing here can wrap.
template <TagLayout Tags>
[[nodiscard]] constexpr std::size_t tagged_block_size_for(std::size_t request) noexcept {
  return std::max(kHeaderSize + round_up(request, kBlockGranularity) + Tags::kAllocatedFooterBytes,
                  kMinTaggedBlockSize);
}
// [tagged_block_size_for]

/// Bytes an allocated block of \p block can hand out under \p Tags: its
/// payload, less the footer it keeps.
template <TagLayout Tags>
[[nodiscard]] constexpr std::size_t tagged_payload_capacity(const BlockHeader& block) noexcept {
  return payload_capacity(block) - Tags::kAllocatedFooterBytes;
}

}  // namespace heaplab
