/// \file
/// The heap of blocks that chapters 2 to 4 build on: a stage-1 bump
/// allocator plays the program break (sbrk), and every block it hands out
/// starts with a header (block.hpp).
///
///     region (from the caller, or the static 10 MiB heap)
///     +-----------+----------------------------------------+------------------+
///     | start map | blk | blk | blk | ... | blk            |   not yet used   |
///     +-----------+----------------------------------------+------------------+
///                 ^                                        ^                  ^
///               begin()                                  brk()              end()
///                 <------------- used() ------------------->
///                 <----------------------- capacity() ------------------------->
///
/// - The first thing the break hands out is the block start map
///   (block_start_map.hpp); every block after it is carved at the break.
/// - Blocks tile [begin(), brk()) exactly: from any block, adding its size
///   reaches the next one. Walking that way is the *implicit list*.
/// - The break only moves forward in this chapter; memory comes back through
///   free lists, never to the bump allocator.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/bump_allocator.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage2_free_list/block.hpp"
#include "stage2_free_list/block_start_map.hpp"

namespace heaplab {

/// Totals of one walk over every block, which check() compares with the
/// counters an allocator keeps as it goes.
struct BlockCensus {
  std::size_t blocks = 0;            ///< Blocks of either state.
  std::size_t allocated_blocks = 0;  ///< Blocks handed out.
  std::size_t requested = 0;         ///< Requested bytes, summed over allocated blocks.
  std::size_t payload_bytes = 0;     ///< Payload capacity, summed over allocated blocks.
  std::size_t free_blocks = 0;       ///< Free blocks.
  std::size_t free_bytes = 0;        ///< Sizes of free blocks, headers included.
};

/// What a free list holds: how many free blocks, and their bytes. Each free
/// list keeps one, updated by its own insert and take, so the allocator
/// never has to guess what a take did to the list.
struct FreeTally {
  std::size_t blocks = 0;  ///< Free blocks on the list.
  std::size_t bytes = 0;   ///< Their sizes, headers included.

  /// Counts \p block in.
  void add(const BlockHeader& block) noexcept {
    ++blocks;
    bytes += block_size(block);
  }
  /// Counts \p block out.
  void remove(const BlockHeader& block) noexcept {
    --blocks;
    bytes -= block_size(block);
  }
};

/// A fresh block carved at the break, and the free filler block in front of
/// it when its payload needed more alignment than the break had.
struct Extension {
  BlockHeader* block = nullptr;   ///< The new block (free, not yet marked allocated); null if no room.
  BlockHeader* filler = nullptr;  ///< A new free block before it, or null.
};

/// Blocks with headers, carved from a stage-1 bump allocator.
///
/// Not copyable or movable: blocks point into it, and the allocator that
/// holds it hands out pointers into its region.
class BlockHeap {
 public:
  /// A heap on the static 10 MiB heap. If another allocator holds it, the
  /// heap is empty (the bump allocator has reported the misuse).
  BlockHeap() noexcept;
  /// A heap on \p region, which the caller keeps alive. A region too small
  /// for the start map gives an empty heap.
  explicit BlockHeap(std::span<std::byte> region) noexcept;

  BlockHeap(const BlockHeap&) = delete;
  BlockHeap& operator=(const BlockHeap&) = delete;
  ~BlockHeap() = default;

  /// Carves a free block of \p size bytes at the break whose payload is
  /// aligned to \p align (a power of two, at least 8). When the break is not
  /// aligned enough, the gap in front becomes a free filler block, made
  /// large enough to be a block of its own. Returns no block if the region
  /// cannot hold both; nothing changes then.
  /// Precondition: \p size is a whole number of cells, at least kMinBlockSize.
  [[nodiscard]] Extension extend(std::size_t size, std::size_t align) noexcept;

  /// The header of the allocated block whose payload starts at \p p, after
  /// checking that \p p is one. Otherwise reports the misuse (a pointer
  /// outside the used heap, a pointer that is not the start of a payload,
  /// a block that is already free) on behalf of \p where, and returns null.
  /// Nothing changes either way.
  // [allocated_block]
  [[nodiscard, gnu::always_inline]] BlockHeader* allocated_block(void* p, std::string_view where) noexcept {
    // The fast path, inline: every free() takes it. The misuse reports
    // are the cold path, out of line.
    if (!contains(p) || !is_aligned(p, kBlockGranularity) || offset_of(p) < kHeaderSize) {
      return reject_pointer(p, where);
    }
    std::byte* const at = static_cast<std::byte*>(p) - kHeaderSize;
    if (!starts_.is_start(at) || !is_allocated(*header_at(at))) return reject_pointer(p, where);
    return header_at(at);
  }
  // [allocated_block]

  /// The first block, or null when no block has been carved yet.
  [[nodiscard]] BlockHeader* first() const noexcept { return used() == 0 ? nullptr : header_at(begin_); }
  /// The block after \p block in memory, or null when \p block is the last.
  /// Inline: the implicit list's search takes this step once per block.
  [[nodiscard]] BlockHeader* after(BlockHeader* block) const noexcept {
    std::byte* const next = next_in_memory(block);
    return next == brk() ? nullptr : header_at(next);
  }

  /// Walks every block in address order, calling \p visit with its header.
  /// Assumes a sound heap (check() does its own, careful walk).
  template <class Visitor>
  void for_each_header(Visitor&& visit) const {
    for (BlockHeader* block = first(); block != nullptr; block = after(block)) visit(*block);
  }

  /// Verifies the invariants every block heap has: blocks tile
  /// [begin(), brk()) exactly, every header is sane (no flag bits beyond
  /// \p flag_bits: chapter 4 uses one more), the start map marks exactly
  /// the block starts. Fills \p census while walking.
  [[nodiscard]] CheckResult check(BlockCensus& census, std::size_t flag_bits = kAllocatedBit) const noexcept;

  /// The first byte blocks may occupy (null for an empty heap).
  [[nodiscard]] std::byte* begin() const noexcept { return begin_; }
  /// The break: one past the last block.
  [[nodiscard]] std::byte* brk() const noexcept { return begin_ + used(); }
  /// One past the last byte blocks may occupy.
  [[nodiscard]] std::byte* end() const noexcept { return begin_ + capacity(); }
  /// Bytes between begin() and brk(): every block, allocated or free.
  [[nodiscard]] std::size_t used() const noexcept { return capacity_ - break_.remaining(); }
  /// Bytes between begin() and end(): what blocks could ever occupy.
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  /// Byte offset of \p p from begin(), as check() and the diagrams report it.
  [[nodiscard]] std::size_t offset_of(const void* p) const noexcept {
    return static_cast<std::size_t>(static_cast<const std::byte*>(p) - begin_);
  }
  /// True when \p p points into a block (allocated or free) of this heap.
  [[nodiscard]] bool contains(const void* p) const noexcept { return address_in(p, begin_, brk()); }
  /// The start map (for check() and the chapter's demo).
  [[nodiscard]] const BlockStartMap& starts() const noexcept { return starts_; }

  /// Begins a free block of \p size bytes at \p at and records its start.
  /// extend() uses it at the break; from chapter 3 on, splitting uses it to
  /// begin a block inside an old one. Precondition: [at, at + size) lies in
  /// [begin(), brk()) or is being carved at the break.
  BlockHeader* start_block(std::byte* at, std::size_t size) noexcept;
  /// Records that no block starts at \p block any more: from chapter 4 on,
  /// a block merged into the one in front of it stops being a block.
  void forget_block(BlockHeader& block) noexcept { starts_.unmark(block_start(&block)); }

 private:
  /// Carves the start map, the break's first allocation.
  void carve_start_map() noexcept;
  /// Reports why \p p is not the payload of an allocated block (a foreign,
  /// interior or already freed pointer) on behalf of \p where; returns null.
  [[gnu::cold]] BlockHeader* reject_pointer(void* p, std::string_view where) const noexcept;

  BumpAllocator break_;          ///< The program break: hands out the map, then every block.
  BlockStartMap starts_;         ///< One bit per cell: set where a block starts.
  std::byte* begin_ = nullptr;   ///< First block byte (right after the map); null if the map did not fit.
  std::size_t capacity_ = 0;     ///< Bytes from begin_ to the region's end; 0 if the map did not fit.
};

}  // namespace heaplab
