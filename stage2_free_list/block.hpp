/// \file
/// Block metadata: the header in front of every block of a stage-2 heap.
///
///     block                           payload: what allocate() returns
///       |                               |
///       v                               v
///       +---------------+---------------+---------------------------------+
///       | size    | . A |   requested   |  payload (size - 16 bytes)      |
///       +---------------+---------------+---------------------------------+
///       <----------- header ----------->
///       <----------------------------- size ------------------------------>
///
/// - `size` counts the whole block, header included. It is a multiple of 8,
///   so its three low bits are always zero and can hold flags: bit 0 is the
///   allocated bit (A). Reading the size means masking the flags off.
/// - `requested` is the number of bytes the caller asked for (0 in a free
///   block). The allocator itself never needs it; the course keeps it so
///   that stats() can report live requested bytes, and with them
///   utilization, exactly. CS:APP's header is the size word alone.
/// - A free block keeps its free-list link in the first word of its payload
///   (see ExplicitFreeList), so every payload has room for one pointer.
///
/// Memory is handed out in blocks and read back as headers, so headers are
/// created with placement new (create_header()) and found again with
/// std::launder (header_at()): the C++ way of saying "there is a
/// BlockHeader object at this address".
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <new>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/tracking.hpp"

namespace heaplab {

/// Granularity of block sizes: every block is a whole number of 8-byte cells.
inline constexpr std::size_t kBlockGranularity = kDefaultAlignment;
/// The low bits of `size_and_flags` that are not part of the size.
inline constexpr std::size_t kFlagMask = kBlockGranularity - 1;
/// Bit 0 of `size_and_flags`: set while the block is handed out.
inline constexpr std::size_t kAllocatedBit = 1;

/// The header at the start of every block (see the diagram above).
struct BlockHeader {
  std::size_t size_and_flags;  ///< Block size in bytes (a multiple of 8) | flag bits.
  std::size_t requested;       ///< Bytes the caller asked for; 0 while the block is free.
};

/// Bytes of metadata in front of every payload.
inline constexpr std::size_t kHeaderSize = sizeof(BlockHeader);
/// The smallest payload: room for the free-list link a free block holds.
inline constexpr std::size_t kMinPayload = sizeof(void*);
/// The smallest block: a header and the smallest payload.
inline constexpr std::size_t kMinBlockSize = kHeaderSize + kMinPayload;

static_assert(kHeaderSize % kBlockGranularity == 0, "payloads must stay 8-aligned");
static_assert(kMinPayload % kBlockGranularity == 0);

/// The size of the block that serves a request of \p request bytes: the
/// payload rounded up to whole cells (at least kMinPayload), plus the header.
/// Precondition: `request <= kMaxRequest`, so nothing here can wrap.
[[nodiscard]] constexpr std::size_t block_size_for(std::size_t request) noexcept {
  return kHeaderSize + std::max(round_up(request, kBlockGranularity), kMinPayload);
}

/// Bytes to leave in front of a block that starts at \p block_address so
/// that its payload is aligned to \p align (a power of two, at least 8):
/// 0 when it already is. A gap is never smaller than a block (\p min_block
/// bytes), because it must become a free block of its own for the heap to
/// keep tiling, so a gap that would be too small grows by whole alignment
/// steps until it is large enough. (Chapter 4's free blocks also carry a
/// second link and a footer, so its minimum is larger.)
[[nodiscard]] constexpr std::size_t front_gap(std::uintptr_t block_address, std::size_t align,
                                              std::size_t min_block = kMinBlockSize) noexcept {
  std::size_t gap = padding_to_align(block_address + kHeaderSize, align);
  if (gap != 0 && gap < min_block) gap += round_up(min_block - gap, align);
  return gap;
}

/// The block size recorded in \p header, without its flag bits.
[[nodiscard]] constexpr std::size_t block_size(const BlockHeader& header) noexcept {
  return header.size_and_flags & ~kFlagMask;
}

/// True when the block of \p header is handed out.
[[nodiscard]] constexpr bool is_allocated(const BlockHeader& header) noexcept {
  return (header.size_and_flags & kAllocatedBit) != 0;
}

/// Bytes the payload of a block of \p header can hold.
[[nodiscard]] constexpr std::size_t payload_capacity(const BlockHeader& header) noexcept {
  return block_size(header) - kHeaderSize;
}

/// Begins the lifetime of a free block of \p size bytes at \p at. The
/// header may land inside a free block's poisoned payload (a split), so its
/// bytes are exposed first (tracking.hpp).
inline BlockHeader* create_header(std::byte* at, std::size_t size) noexcept {
  track::expose(at, kHeaderSize);
  return ::new (at) BlockHeader{size, 0};
}

/// The header of the block that starts at \p at (created earlier by
/// create_header()).
[[nodiscard]] inline BlockHeader* header_at(std::byte* at) noexcept {
  return std::launder(reinterpret_cast<BlockHeader*>(at));
}

/// The first byte of \p header's block.
[[nodiscard]] inline std::byte* block_start(BlockHeader* header) noexcept {
  return reinterpret_cast<std::byte*>(header);
}

/// The payload of \p header's block: the pointer allocate() hands out.
[[nodiscard]] inline std::byte* payload_of(BlockHeader* header) noexcept {
  return block_start(header) + kHeaderSize;
}

/// How free() finds its header: it sits right in front of the payload.
/// Precondition: \p payload came from payload_of().
[[nodiscard]] inline BlockHeader* header_of(void* payload) noexcept {
  return header_at(static_cast<std::byte*>(payload) - kHeaderSize);
}

/// The block that follows \p header's block in memory: the step of the
/// implicit list, which reaches every block through the size fields.
[[nodiscard]] inline std::byte* next_in_memory(BlockHeader* header) noexcept {
  return block_start(header) + block_size(*header);
}

/// True when the whole block of \p header can serve a request of \p request
/// bytes aligned to \p align: its payload is large enough, and already
/// aligned (a block is taken whole in this chapter, so nothing can move).
[[nodiscard]] inline bool can_serve(BlockHeader& header, std::size_t request,
                                    std::size_t align) noexcept {
  return payload_capacity(header) >= request && is_aligned(payload_of(&header), align);
}

/// Makes the whole payload of \p header's block accessible (tracking.hpp):
/// every byte of it is the user's, as `malloc_usable_size` promises.
inline void expose_payload(BlockHeader& header) noexcept {
  track::expose(payload_of(&header), payload_capacity(header));
}

/// Marks \p header's block as handed out for a request of \p requested
/// bytes. Other flag bits are kept (chapter 4 adds one).
inline void mark_allocated(BlockHeader& header, std::size_t requested) noexcept {
  header.size_and_flags |= kAllocatedBit;
  header.requested = requested;
  expose_payload(header);
}

/// Marks \p header's block as free. Other flag bits are kept.
inline void mark_free(BlockHeader& header) noexcept {
  header.size_and_flags &= ~kAllocatedBit;
  header.requested = 0;
}

/// Bytes at the start of a free block's payload that stay accessible under
/// tracking: the free-list links kept there (one in chapters 2 and 3, two
/// in chapter 4, one on chapter 5's quick lists).
inline constexpr std::size_t kFreeLinkBytes = 2 * sizeof(void*);
/// Bytes at the end of a free block that stay accessible under tracking:
/// chapter 4 keeps a free block's footer there.
inline constexpr std::size_t kFreeFooterBytes = sizeof(std::size_t);

/// Bytes of free-list links a free block on a list of type \p FreeBlocks
/// holds just after its header: the list's `kLinkBytes`, or 0 for a list
/// that does not say (a block walk then shows no links). Pictures only:
/// no operation depends on it.
template <class FreeBlocks>
[[nodiscard]] constexpr std::size_t link_bytes_of() noexcept {
  if constexpr (requires { FreeBlocks::kLinkBytes; }) {
    return FreeBlocks::kLinkBytes;
  } else {
    return 0;
  }
}

/// Poisons the bytes of \p header's free block that no metadata uses
/// (tracking.hpp), so that a program that still reads or writes the block
/// after freeing it is reported:
///
///     +--------+-----------+---------------------------------+--------+
///     | header | links  16 |            poisoned             | foot 8 |
///     +--------+-----------+---------------------------------+--------+
///      <------ accessible ->                                  <-acc.->
///
/// The allocator reads the header, the links and the footer of a free block
/// while it is free, and it is instrumented too, so those stay accessible.
/// One rule for every chapter: 16 bytes of links even where a chapter keeps
/// 8, and the footer's 8 bytes even where there is none, so the same
/// conservative picture is right for all of them. A block whose payload has
/// no room beyond them (24 bytes or fewer) has nothing poisoned.
///
/// Splitting a free block (chapter 3) needs no call: what the rule poisons
/// in each free piece lies inside what it poisoned in the whole block, and
/// the pieces' new headers and links are exposed as they are written.
/// Merging (chapter 4) does: the merged block holds its parts' old metadata.
inline void poison_free_payload(BlockHeader& header) noexcept {
  const std::size_t capacity = payload_capacity(header);
  if (capacity <= kFreeLinkBytes + kFreeFooterBytes) return;
  track::poison(payload_of(&header) + kFreeLinkBytes, capacity - kFreeLinkBytes - kFreeFooterBytes);
}

}  // namespace heaplab
