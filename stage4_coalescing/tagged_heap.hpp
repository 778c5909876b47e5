/// \file
/// The toolkit of chapter 4: one region of tagged blocks and the verbs that
/// act on them. The allocator (coalescing_allocator.hpp) decides *when*;
/// these verbs know *how*, and are the only code that rewrites tags.
///
///     region (from the caller, or the static 10 MiB heap)
///     +-----------+----------+-------+-------+-----+-------+----------+------------+
///     | start map | prologue | block | block | ... | block | epilogue |  not used  |
///     +-----------+----------+-------+-------+-----+-------+----------+------------+
///                  24 bytes,                                 16 bytes,  ^
///                  allocated                                 size 0,    room(): where
///                                                            allocated  the break can go
///
/// The prologue and the epilogue are allocated blocks that are never handed
/// out (CS:APP's mm.c has the same two): every block has an allocated block
/// somewhere before it and one after it, so the four cases of coalesce()
/// need no test for "is there a neighbour at all?".
///
/// The verbs, one per action:
///
/// | verb           | what it does                                                |
/// |----------------|-------------------------------------------------------------|
/// | split()        | cuts a block in two, both pieces tagged                     |
/// | absorb()       | a block takes in the next block (the one merge primitive)   |
/// | merge_next()   | a free block absorbs the free next block, off its list      |
/// | merge_prev()   | the free previous block absorbs a free block                |
/// | coalesce()     | the four cases: whichever neighbours are free merge         |
/// | extend()       | moves the break: a new free block where the epilogue was    |
#pragma once

#include <cstddef>
#include <new>
#include <span>
#include <string_view>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/assert.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/misuse.hpp"
#include "stage1_static_bump/tracking.hpp"
#include "stage2_free_list/block.hpp"
#include "stage2_free_list/block_heap.hpp"
#include "stage3_fit_strategies/fit_free_list.hpp"
#include "stage4_coalescing/boundary_tags.hpp"

namespace heaplab {

/// A free list chapter 4's verbs can take blocks off: coalescing removes
/// neighbours that no search has visited, so removal must be O(1).
template <class List>
concept RemovableFreeList = requires(List& list, BlockHeader& block) {
  list.insert(block);
  list.remove(block);
};

/// One region of blocks with boundary tags in layout \p Tags, between a
/// prologue and an epilogue, and the verbs that split and merge them.
template <TagLayout Tags>
class TaggedHeap {
 public:
  /// Bytes of the prologue: chapter 2's smallest block, room for a footer.
  static constexpr std::size_t kPrologueSize = kMinBlockSize;
  /// Bytes of the epilogue: a header alone, past the break.
  static constexpr std::size_t kEpilogueSize = kHeaderSize;

  /// A heap on the static 10 MiB heap.
  TaggedHeap() noexcept { open(); }
  /// A heap on \p region, which the caller keeps alive. A region too small
  /// for the prologue, one block and the epilogue never serves.
  explicit TaggedHeap(std::span<std::byte> region) noexcept : blocks_(region) { open(); }
  TaggedHeap(const TaggedHeap&) = delete;
  TaggedHeap& operator=(const TaggedHeap&) = delete;
  ~TaggedHeap() = default;

  /// The header of the allocated block whose payload is \p p, after
  /// chapter 2's checks (and the prologue is nobody's); otherwise reports
  /// the misuse on behalf of \p where and returns null.
  [[nodiscard, gnu::always_inline]] BlockHeader* allocated_block(void* p, std::string_view where) noexcept {
    BlockHeader* const block = blocks_.allocated_block(p, where);
    if (block != nullptr && block_start(block) == blocks_.begin()) [[unlikely]] {
      report_misuse({Misuse::foreign_pointer, p, where});
      return nullptr;
    }
    return block;
  }

  // [split]
  /// Cuts \p block into its first \p first_size bytes, which stay \p block
  /// (and its state), and a free block with the rest, which is returned.
  /// Both get their tags. Precondition: both pieces are whole cells of at
  /// least kMinTaggedBlockSize.
  BlockHeader& split(BlockHeader& block, std::size_t first_size) noexcept {
    HEAPLAB_ASSERT(first_size >= kMinTaggedBlockSize && block_size(block) - first_size >= kMinTaggedBlockSize,
                   "both pieces of a split can hold a free block's links and footer");
    BlockHeader& rest = split_block(blocks_, block, first_size);  // chapter 3's split
    Tags::seal(block);
    Tags::seal(rest);
    return rest;
  }
  // [split]

  // [absorb]
  /// Merges \p next, the block right after \p block, into \p block: the
  /// sizes add up, next stops being a block, the tags are rewritten.
  /// \p block keeps its state. Precondition: next is free and off its list.
  void absorb(BlockHeader& block, BlockHeader& next) noexcept {
    HEAPLAB_ASSERT(&next_block(block) == &next, "a block absorbs only the block right after it");
    HEAPLAB_ASSERT(!is_allocated(next), "only a free block is absorbed: an allocated one has a user");
    block.size_and_flags += block_size(next);  // sizes are whole cells: the flags are untouched
    blocks_.forget_block(next);
    Tags::seal(block);
    ++merges_;
  }
  // [absorb]

  // [merge]
  /// The free \p block, off its list, absorbs the next block, which is
  /// free and on \p free; returns \p block.
  template <RemovableFreeList FreeBlocks>
  BlockHeader& merge_next(FreeBlocks& free, BlockHeader& block) noexcept {
    BlockHeader& next = next_block(block);
    free.remove(next);
    absorb(block, next);
    return block;
  }

  /// The previous block, free and on \p free, absorbs the free \p block,
  /// which is off its list; returns the previous block, now off its list.
  template <RemovableFreeList FreeBlocks>
  BlockHeader& merge_prev(FreeBlocks& free, BlockHeader& block) noexcept {
    BlockHeader& prev = prev_block(block);
    free.remove(prev);
    absorb(prev, block);
    return prev;
  }
  // [merge]

  // [coalesce]
  /// Merges the free \p block, which is off its list, with whichever of
  /// its neighbours are free (and on \p free), and returns the merged block,
  /// off the list, tags written. The prologue and epilogue are allocated, so
  /// every block has two neighbours to ask and there are exactly four cases.
  template <RemovableFreeList FreeBlocks>
  BlockHeader& coalesce(FreeBlocks& free, BlockHeader& block) noexcept {
    const bool prev_free = Tags::prev_is_free(block);
    const bool next_free = !is_allocated(next_block(block));
    if (!prev_free && !next_free) return block;                    // Case 1: [A][block][A]
    if (!prev_free && next_free) return merge_next(free, block);   // Case 2: [A][block][F]
    if (prev_free && !next_free) return merge_prev(free, block);   // Case 3: [F][block][A]
    return merge_next(free, merge_prev(free, block));              // Case 4: [F][block][F]
  }
  // [coalesce]

  // [extend]
  /// Moves the break by \p bytes (a whole number of cells, at least
  /// kMinTaggedBlockSize) and returns the new bytes as one free block, not
  /// on any list and not merged, where the epilogue was; the epilogue moves
  /// past it. Null, with nothing changed, when the region has no room.
  [[nodiscard]] BlockHeader* extend(std::size_t bytes) noexcept {
    if (bytes > room()) return nullptr;
    // The new block starts where the epilogue was, and takes over its
    // flags (the P bit, under footer elision) before it is marked free.
    const std::size_t flags = epilogue().size_and_flags & kFlagMask;
    BlockHeader& block = *blocks_.extend(bytes, kDefaultAlignment).block;
    block.size_and_flags = bytes | flags;
    write_epilogue();
    mark_free(block);
    Tags::seal(block);
    return &block;
  }
  // [extend]

  /// The last block before the epilogue if it is free, else null: growing
  /// the heap extends it rather than leaving it behind (CS:APP's extend_heap).
  [[nodiscard]] BlockHeader* last_free_block() const noexcept {
    if (!is_open()) return nullptr;
    BlockHeader& end = epilogue();
    return Tags::prev_is_free(end) ? &prev_block(end) : nullptr;
  }
  /// True when \p block is the last block before the epilogue.
  [[nodiscard]] bool is_last(BlockHeader& block) const noexcept { return next_in_memory(&block) == blocks_.brk(); }
  /// Bytes the break can still move: up to the region's end, less the epilogue.
  [[nodiscard]] std::size_t room() const noexcept {
    if (!is_open()) return 0;  // a region too small: no prologue, no room
    return static_cast<std::size_t>(blocks_.end() - blocks_.brk()) - kEpilogueSize;
  }
  /// True when \p p points into a block (allocated or free) of this heap:
  /// past the prologue, which is nobody's, and before the break.
  [[nodiscard]] bool holds(const void* p) const noexcept {
    return is_open() && address_in(p, blocks_.begin() + kPrologueSize, blocks_.brk());
  }
  /// True once the prologue and the epilogue are in place.
  [[nodiscard]] bool is_open() const noexcept { return blocks_.first() != nullptr; }

  /// Calls \p visit with the header of every block in address order, the
  /// prologue left out.
  template <class Visitor>
  void for_each_header(Visitor&& visit) const {
    if (!is_open()) return;
    for (BlockHeader* block = blocks_.after(blocks_.first()); block != nullptr; block = blocks_.after(block)) {
      visit(*block);
    }
  }

  /// Verifies the region (tagged_heap_check.hpp) and fills \p census with
  /// its blocks, the prologue left out. With \p neighbours_merged, no two
  /// free blocks may be adjacent.
  [[nodiscard]] CheckResult check(BlockCensus& census, bool neighbours_merged) const noexcept;

  /// The blocks and the break (chapter 2's heap of blocks).
  [[nodiscard]] const BlockHeap& blocks() const noexcept { return blocks_; }
  /// Blocks absorbed into a neighbour so far.
  [[nodiscard]] std::size_t merges() const noexcept { return merges_; }

 private:
  // [open]
  /// Carves the prologue, an allocated block that is never handed out,
  /// and writes the epilogue after it.
  void open() noexcept {
    if (blocks_.capacity() < kPrologueSize + kMinTaggedBlockSize + kEpilogueSize) return;
    BlockHeader& prologue = *blocks_.extend(kPrologueSize, kDefaultAlignment).block;
    mark_allocated(prologue, 0);
    write_epilogue();
    write_footer(prologue);  // the first block's boundary tag, "allocated", whatever the layout
    Tags::seal(prologue);
  }
  // [open]

  /// The epilogue: the header at the break.
  [[nodiscard]] BlockHeader& epilogue() const noexcept { return *header_at(blocks_.brk()); }
  /// Writes an allocated header of size 0 at the break. It lies past the
  /// break, in bytes the tracking layer has poisoned, so they are exposed.
  void write_epilogue() noexcept {
    track::expose(blocks_.brk(), kEpilogueSize);
    ::new (blocks_.brk()) BlockHeader{0 | kAllocatedBit, 0};
  }

  BlockHeap blocks_;         ///< The blocks, the break and the start map (chapter 2).
  std::size_t merges_ = 0;   ///< Lifetime: blocks absorbed into a neighbour.
};

}  // namespace heaplab

#include "stage4_coalescing/tagged_heap_check.hpp"
