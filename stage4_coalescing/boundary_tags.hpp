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
/// adds the footer, and a second flag for footer elision:
///
///     size_and_flags:  [ size ........................ | 0 | P | A ]
///                        A (bit 0): this block is allocated   (chapter 2)
///                        P (bit 1): the previous block is allocated
///
/// - Footers everywhere (Footers::everywhere): every block ends with a
///   footer, the classic form. An allocated block pays 8 bytes for it.
/// - Footer elision (Footers::free_blocks_only): only free blocks carry a
///   footer, since only a free block is ever merged into from behind; the
///   P bit of the next header says whether the footer is there to read.
///   Allocated blocks get their 8 bytes back ("reduce allocator overhead",
///   seed 003).
///
/// A free block also holds two links (the doubly linked list of
/// linked_free_list.hpp), so the smallest block of this chapter is
/// header (16) + two links (16) + footer (8) = 40 bytes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <new>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/tracking.hpp"
#include "stage2_free_list/block.hpp"

namespace heaplab {

/// Bit 1 of `size_and_flags`: set when the block in front is allocated.
/// Only kept under footer elision.
inline constexpr std::size_t kPrevAllocatedBit = 2;
/// Every flag a chapter-4 header may carry.
inline constexpr std::size_t kBoundaryTagFlags = kAllocatedBit | kPrevAllocatedBit;

/// Where footers are kept.
enum class Footers {
  everywhere,        ///< Every block ends with a footer (Knuth's boundary tags).
  free_blocks_only,  ///< Footer elision: allocated blocks drop theirs; the P bit replaces it.
};

/// The footer at the end of a block: a copy of its header's first word.
struct BlockFooter {
  std::size_t size_and_flags;  ///< Equal to the header's while the footer is kept.
};

/// Bytes of a footer.
inline constexpr std::size_t kFooterSize = sizeof(BlockFooter);
/// The smallest block of this chapter: a header, the two links a free block
/// holds, and its footer.
inline constexpr std::size_t kMinTaggedBlockSize = kHeaderSize + 2 * sizeof(void*) + kFooterSize;
/// The bytes an allocated block spends on its footer under \p footers.
[[nodiscard]] constexpr std::size_t allocated_footer_bytes(Footers footers) noexcept {
  return footers == Footers::everywhere ? kFooterSize : 0;
}

static_assert(kMinTaggedBlockSize % kBlockGranularity == 0);
static_assert(kFooterSize <= kFreeFooterBytes, "a free block's footer stays accessible (poison_free_payload)");

// [tagged_block_size_for]
/// The size of the block that serves \p request bytes under \p footers:
/// header, payload rounded up to whole cells, the footer if allocated
/// blocks keep one, and never less than the smallest block.
/// Precondition: `request <= kMaxRequest`, so nothing here can wrap.
[[nodiscard]] constexpr std::size_t tagged_block_size_for(std::size_t request, Footers footers) noexcept {
  return std::max(kHeaderSize + round_up(request, kBlockGranularity) + allocated_footer_bytes(footers),
                  kMinTaggedBlockSize);
}
// [tagged_block_size_for]

/// Bytes an allocated block of \p header can hand out under \p footers.
[[nodiscard]] constexpr std::size_t tagged_payload_capacity(const BlockHeader& header,
                                                            Footers footers) noexcept {
  return payload_capacity(header) - allocated_footer_bytes(footers);
}

/// True when the P bit of \p header says the block in front is allocated.
[[nodiscard]] constexpr bool previous_allocated_bit(const BlockHeader& header) noexcept {
  return (header.size_and_flags & kPrevAllocatedBit) != 0;
}

/// Sets or clears the P bit of \p header.
constexpr void set_previous_allocated_bit(BlockHeader& header, bool allocated) noexcept {
  header.size_and_flags = allocated ? header.size_and_flags | kPrevAllocatedBit
                                    : header.size_and_flags & ~kPrevAllocatedBit;
}

/// The footer of \p header's block: its last 8 bytes.
[[nodiscard]] inline BlockFooter* footer_of(BlockHeader& header) noexcept {
  return std::launder(reinterpret_cast<BlockFooter*>(next_in_memory(&header) - kFooterSize));
}

/// Copies \p header's size and flags into its footer. The footer may land
/// in poisoned memory (a free block's payload, after a split or a merge),
/// so its bytes are exposed first (tracking.hpp).
inline void write_footer(BlockHeader& header) noexcept {
  std::byte* const at = next_in_memory(&header) - kFooterSize;
  track::expose(at, kFooterSize);
  ::new (at) BlockFooter{header.size_and_flags};
}

// [block_in_front]
/// The footer of the block in front of \p header's block: the 8 bytes just
/// before the header (the boundary tag). Precondition: that block keeps a
/// footer (always under Footers::everywhere; only when free under elision).
[[nodiscard]] inline const BlockFooter& footer_in_front(BlockHeader& header) noexcept {
  return *std::launder(reinterpret_cast<const BlockFooter*>(block_start(&header) - kFooterSize));
}

/// The block in front of \p header's block, found through its footer in O(1).
/// Precondition: as for footer_in_front().
[[nodiscard]] inline BlockHeader* block_in_front(BlockHeader& header) noexcept {
  const std::size_t size = footer_in_front(header).size_and_flags & ~kFlagMask;
  return header_at(block_start(&header) - size);
}
// [block_in_front]

/// The header right after \p header's block: the next block, or the
/// epilogue at the end of the heap. Never null, which is the point of the
/// epilogue.
[[nodiscard]] inline BlockHeader* block_after(BlockHeader& header) noexcept {
  return header_at(next_in_memory(&header));
}

}  // namespace heaplab
