/// \file
/// Chapter 2's allocators: blocks with headers, given back with
/// deallocate() and reused through a free list.
///
///     allocate(size, align)                 deallocate(p)
///       1. search the free blocks:            1. check that p is the payload
///          the first that fits is taken          of an allocated block
///          whole (no splitting yet)           2. clear its allocated bit
///       2. none fits: carve a new block       3. insert it in the free list
///          at the break (stage 1's bump)
///
/// FreeListAllocator is written once; the free list is a parameter, so the
/// chapter can measure the two classic ones side by side:
/// - ExplicitListAllocator links the free blocks (ExplicitFreeList);
/// - ImplicitListAllocator walks every block by size (ImplicitFreeList).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <span>

#include "stage1_static_bump/contract.hpp"
#include "stage2_free_list/block.hpp"
#include "stage2_free_list/block_heap.hpp"
#include "stage2_free_list/explicit_free_list.hpp"
#include "stage2_free_list/implicit_free_list.hpp"

namespace heaplab {

/// The numbers of a heap of blocks: HeapStats plus where the bytes are and
/// what searching costs.
///
/// Of the chapter's list, "heap bytes" is HeapStats::used (every block,
/// from the heap start to the break), "live blocks" is
/// HeapStats::live_allocations and the high-water mark is
/// HeapStats::high_water. At any moment
/// `used == header_bytes + payload_bytes + free_bytes`.
struct FreeListStats : HeapStats {
  std::size_t free_blocks = 0;     ///< Live: free blocks.
  std::size_t free_bytes = 0;      ///< Live: bytes of free blocks, their headers included.
  std::size_t payload_bytes = 0;   ///< Live: payload capacity of allocated blocks (>= requested).
  std::size_t header_bytes = 0;    ///< Live: header bytes of allocated blocks.
  std::size_t searches = 0;        ///< Lifetime: free-block searches (one per valid allocate()).
  std::size_t blocks_visited = 0;  ///< Lifetime: blocks those searches looked at.

  /// Blocks looked at per search, on average (0 before the first search).
  [[nodiscard]] double visited_per_search() const noexcept {
    return searches == 0 ? 0.0 : static_cast<double>(blocks_visited) / static_cast<double>(searches);
  }
};

/// The live numbers of a heap of blocks, kept by every hand-out and free,
/// which check() compares with a walk (BlockCensus). Chapter 4's
/// allocators keep the same three.
struct LiveBlocks {
  std::size_t allocated_blocks = 0;  ///< Blocks handed out.
  std::size_t requested = 0;         ///< Requested bytes of those blocks.
  std::size_t payload_bytes = 0;     ///< Payload capacity of those blocks.

  /// Counts in a block handed out for \p requested_bytes, whose payload
  /// holds \p capacity bytes.
  void count_in(std::size_t requested_bytes, std::size_t capacity) noexcept {
    ++allocated_blocks;
    requested += requested_bytes;
    payload_bytes += capacity;
  }
  /// Counts out a block that was handed out for \p requested_bytes, whose
  /// payload holds \p capacity bytes.
  void count_out(std::size_t requested_bytes, std::size_t capacity) noexcept {
    --allocated_blocks;
    requested -= requested_bytes;
    payload_bytes -= capacity;
  }
  /// True when these numbers are what a walk of the allocated blocks found.
  [[nodiscard]] bool agree_with(const BlockCensus& census) const noexcept {
    return census.allocated_blocks == allocated_blocks && census.requested == requested &&
           census.payload_bytes == payload_bytes;
  }
};

/// The numbers of a free-list allocator that only ever grow, kept by
/// every operation; chapter 4's allocator keeps them too, and a few more.
struct FreeListLifetime {
  std::size_t peak_requested = 0;  ///< Largest live requested bytes so far.
  std::size_t allocations = 0;     ///< Successful allocations.
  std::size_t exhausted = 0;       ///< Requests refused for lack of room.
  std::size_t rejected = 0;        ///< Requests refused for a bad size or alignment.
  std::size_t searches = 0;        ///< Free-block searches.
  std::size_t blocks_visited = 0;  ///< Blocks those searches looked at.

  /// Counts one successful allocation, after which \p live_requested
  /// bytes are requested.
  void note_allocation(std::size_t live_requested) noexcept {
    ++allocations;
    note_requested(live_requested);
  }
  /// Folds \p live_requested, the bytes now requested, into the peak.
  void note_requested(std::size_t live_requested) noexcept {
    peak_requested = std::max(peak_requested, live_requested);
  }

  /// Copies these counters into their fields of \p stats.
  void fill(FreeListStats& stats) const noexcept {
    stats.peak_requested = peak_requested;
    stats.allocations = allocations;
    stats.exhausted = exhausted;
    stats.rejected = rejected;
    stats.searches = searches;
    stats.blocks_visited = blocks_visited;
  }
};

/// calloc's arithmetic, written once for every allocator from chapter 2
/// on: \p count * \p size bytes from \p allocate (a callable taking the
/// byte count), zeroed; nullptr, with \p rejected counted, when the
/// product would overflow.
template <class Allocate>
[[nodiscard]] void* allocate_zeroed_with(std::size_t count, std::size_t size, std::size_t& rejected,
                                         Allocate allocate) noexcept {
  // count * size must not wrap around: calloc(2^33, 2^33) is a bug, not 0.
  if (count != 0 && size > kMaxRequest / count) {
    ++rejected;
    return nullptr;
  }
  const std::size_t bytes = count * size;
  void* const p = allocate(bytes);
  // A reused block holds old data; a fresh one may too (a caller's region).
  if (p != nullptr) std::memset(p, 0, bytes);
  return p;
}

// [resize_or_move]
/// realloc's rule, written once for every allocator from chapter 2 on. The
/// allocated \p block (its pointer already checked, the request already
/// valid) stays where it is when its payload is aligned to \p align and
/// \p resize_in_place (a callable taking the block and \p size) makes it
/// hold \p size bytes: only its request changes. Otherwise it moves:
/// \p allocate (taking the size and the alignment) first, so that a failure
/// leaves the old block intact, copy what both blocks hold, then
/// \p release the old block. Chapter 2 resizes in place only when the
/// payload is already large enough; chapter 4 grows into a free neighbour.
template <class ResizeInPlace, class Allocate, class Release>
[[nodiscard]] void* resize_or_move(BlockHeader& block, std::size_t size, std::size_t align, LiveBlocks& live,
                                   FreeListLifetime& lifetime, ResizeInPlace resize_in_place,
                                   Allocate allocate, Release release) noexcept {
  void* const p = payload_of(&block);
  if (is_aligned(p, align) && resize_in_place(block, size)) {
    live.requested = live.requested - block.requested + size;
    lifetime.note_requested(live.requested);
    block.requested = size;
    return p;
  }
  void* const moved = allocate(size, align);
  if (moved == nullptr) return nullptr;
  std::memcpy(moved, p, std::min(block.requested, size));
  release(block);
  return moved;
}
// [resize_or_move]

/// A free-list allocator over a BlockHeap; \p FreeBlocks is the free list
/// (ExplicitFreeList or ImplicitFreeList).
///
/// The contract of contract.hpp, plus reallocate() and allocate_zeroed().
/// Misuse (double free, foreign or interior pointer) is reported through
/// the misuse handler and changes nothing. Not thread-safe: wrap it in
/// Synchronized.
template <class FreeBlocks>
class FreeListAllocator {
 public:
  /// An allocator on the static 10 MiB heap.
  FreeListAllocator() noexcept = default;
  /// An allocator on \p region, which the caller keeps alive.
  explicit FreeListAllocator(std::span<std::byte> region) noexcept : heap_(region) {}

  /// Returns \p size bytes aligned to `max(align, 8)`, or nullptr (see the
  /// contract). Reuses the first free block that fits, else grows the heap.
  [[nodiscard]] void* allocate(std::size_t size, std::size_t align = kDefaultAlignment) noexcept;
  /// Gives the block at \p p back (nullptr: nothing happens).
  void deallocate(void* p) noexcept;
  /// Resizes the block at \p p to \p size bytes: in place when its payload
  /// is large enough (and aligned to \p align), else moved to a new block
  /// aligned to \p align (8 unless asked, as realloc promises only the
  /// default alignment; the malloc shim asks for 16) with the first
  /// `min(old requested, size)` bytes copied, and the old block freed.
  /// `reallocate(nullptr, n)` is `allocate(n)`; `reallocate(p, 0)` keeps a
  /// minimal block, as `allocate(0)` would. Returns nullptr, leaving the
  /// block as it was, when no block can hold \p size, \p align is not a
  /// power of two, or \p p is misuse.
  [[nodiscard]] void* reallocate(void* p, std::size_t size, std::size_t align = kDefaultAlignment) noexcept;
  /// Returns \p count * \p size zeroed bytes, or nullptr when the product
  /// overflows (counted as rejected) or cannot be served, like calloc.
  [[nodiscard]] void* allocate_zeroed(std::size_t count, std::size_t size) noexcept;
  /// Bytes the caller may use at \p p (what `malloc_usable_size` answers):
  /// the whole payload of its block, at least what was asked for. 0 for
  /// null, and for misuse (a pointer that is not a live allocation), which
  /// is reported like a bad free(). Not const: it runs free()'s checks.
  [[nodiscard]] std::size_t usable_size(void* p) noexcept;

  /// The numbers of the chapter (see FreeListStats).
  [[nodiscard]] FreeListStats stats() const noexcept;
  /// Verifies every invariant of the chapter: the blocks tile the heap,
  /// every header is sane, the free list holds exactly the free blocks, and
  /// the stats agree with a walk.
  [[nodiscard]] CheckResult check() const noexcept;
  /// True when \p p points into a block (allocated or free) of this heap.
  [[nodiscard]] bool owns(const void* p) const noexcept { return heap_.contains(p); }

  /// Calls \p visit with every block, in address order: whole blocks,
  /// header included, as allocated or free, with the bytes of its header
  /// and, when free, of its links.
  template <class Visitor>
  void for_each_block(Visitor&& visit) const {
    heap_.for_each_header([&](BlockHeader& header) {
      const bool allocated = is_allocated(header);
      visit(BlockView{.region = 0,
                      .offset = heap_.offset_of(&header),
                      .size = block_size(header),
                      .state = allocated ? BlockState::allocated : BlockState::free,
                      .header = kHeaderSize,
                      .footer = 0,
                      .links = allocated ? 0 : link_bytes_of<FreeBlocks>()});
    });
  }

  /// The heap of blocks (for diagrams and tools).
  [[nodiscard]] const BlockHeap& heap() const noexcept { return heap_; }
  /// The free list (for diagrams and tools).
  [[nodiscard]] const FreeBlocks& free_list() const noexcept { return free_; }

 private:
  /// Finds a free block for the request, or carves one; null if neither works.
  BlockHeader* find_block(std::size_t size, std::size_t align) noexcept;
  /// Takes a free block that fits off the free list (or null).
  BlockHeader* take_free_block(std::size_t size, std::size_t align) noexcept;
  /// Carves a block at the break (or null); a filler in front becomes free.
  BlockHeader* carve_block(std::size_t size, std::size_t align) noexcept;
  /// Marks \p block allocated for \p size bytes and returns its payload.
  void* hand_out(BlockHeader& block, std::size_t size) noexcept;
  /// Marks the allocated \p block free and puts it on the free list.
  void release(BlockHeader& block) noexcept;

  BlockHeap heap_;           ///< The blocks and the break.
  FreeBlocks free_;          ///< The free blocks and their tally. Invariant: exactly the blocks not marked allocated.
  LiveBlocks live_;          ///< Invariant: equal to a census of heap_'s allocated blocks (see check()).
  FreeListLifetime lifetime_;  ///< Never decrease.
};

/// First fit over a LIFO list that links the free blocks.
using ExplicitListAllocator = FreeListAllocator<ExplicitFreeList>;
/// First fit over every block in address order, found by size.
using ImplicitListAllocator = FreeListAllocator<ImplicitFreeList>;

extern template class FreeListAllocator<ExplicitFreeList>;
extern template class FreeListAllocator<ImplicitFreeList>;

static_assert(Reallocating<ExplicitListAllocator>);
static_assert(Reallocating<ImplicitListAllocator>);

}  // namespace heaplab
