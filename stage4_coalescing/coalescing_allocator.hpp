/// \file
/// Chapter 4's allocator: chapter 3's placement and splitting over blocks
/// with boundary tags, so that a freed block merges with its free
/// neighbours (coalescing) in O(1).
///
///     deallocate(p)                            allocate(size, align)
///       1. check p (chapter 2's start map)       1. reuse: the policy picks a
///       2. release: mark it free, then             free block, split to size
///          give_back: coalesce() merges it        (chapter 3's splitting)
///          with its free neighbours, the        2. none fits: extend_heap
///          four cases, and the merged block       moves the break, merging
///          goes on the free list                  with a free last block
///
/// Three pieces are parameters, each a type with a few verbs, so that each
/// refinement of the chapter is a small file that replaces one piece:
/// - \p FreeBlocks: the free list and the policy that searches it:
///   FitList<FirstFit> (LIFO), or AddressOrderedList (address_ordered.hpp);
///   chapter 5 adds size classes.
/// - \p Tags: FooterTags (every block has a footer), or ElidedFooters
///   (footer_elision.hpp: footers on free blocks only).
/// - \p Merging: ImmediateCoalescing (every free merges), or
///   DeferredCoalescing (deferred_coalescing.hpp: merge only when stuck).
///
/// What is reused, not copied: chapter 2's headers, heap of blocks (the
/// break, the start map, the misuse checks), live numbers and realloc rule
/// (resize_or_move); chapter 3's placement policies and split_block();
/// the verbs of this chapter's TaggedHeap (tagged_heap.hpp).
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "stage1_static_bump/contract.hpp"
#include "stage2_free_list/block.hpp"
#include "stage2_free_list/block_heap.hpp"
#include "stage2_free_list/free_list_allocator.hpp"
#include "stage3_fit_strategies/placement.hpp"
#include "stage4_coalescing/boundary_tags.hpp"
#include "stage4_coalescing/linked_free_list.hpp"
#include "stage4_coalescing/tagged_heap.hpp"

namespace heaplab {

/// The numbers of chapter 4: chapter 2's, plus how often blocks merged.
struct CoalescingStats : FreeListStats {
  std::size_t merges = 0;        ///< Lifetime: blocks absorbed into a free neighbour.
  std::size_t merge_passes = 0;  ///< Lifetime: whole-heap merge passes (deferred coalescing).
};

/// The free blocks chapter 4's allocator works with: a chapter-3 search
/// (choose), O(1) removal for coalescing, a tally and a check.
template <class FreeBlocks>
concept CoalescingFreeBlocks = RemovableFreeList<FreeBlocks> &&
    requires(FreeBlocks& free, const FreeBlocks& cfree, const BlockRequest& request, std::size_t& visited) {
      { free.choose(request, visited) } -> std::same_as<Choice>;
      { cfree.tally() } -> std::convertible_to<FreeTally>;
    };

/// The four cases of coalescing as a type, the way ImmediateCoalescing
/// takes them: TaggedHeap::coalesce(). A learner's own four cases
/// (stage4_coalescing/your_turn/coalesce.hpp) are another type with the
/// same coalesce(), built on the same verbs (merge_prev(), merge_next()),
/// and run on every free. (Moving the break, grow() merges the new bytes
/// with a free last block through TaggedHeap::coalesce() itself: next to
/// the epilogue only cases 1 and 3 can arise.)
struct FourCases {
  /// Merges the free, off-list \p block of \p heap with its free
  /// neighbours on \p free, and returns the merged block, off the list.
  template <TagLayout Tags, RemovableFreeList FreeBlocks>
  static BlockHeader& coalesce(TaggedHeap<Tags>& heap, FreeBlocks& free, BlockHeader& block) noexcept {
    return heap.coalesce(free, block);
  }
};

// [immediate]
/// When free neighbours merge: at once, on every free (CS:APP's mm.c). No
/// two free blocks are ever adjacent, so nothing is left to merge later.
/// \p Cases merges a block with its neighbours (FourCases unless told).
template <class Cases = FourCases>
struct BasicImmediateCoalescing {
  /// check() may require that no two free blocks are adjacent.
  static constexpr bool kNeighboursAlwaysMerged = true;

  /// Gives the free, off-list \p block back: merged, then listed.
  template <class Heap, class FreeBlocks>
  void give_back(Heap& heap, FreeBlocks& free, BlockHeader& block) noexcept {
    free.insert(Cases::coalesce(heap, free, block));
  }
  /// Lists \p piece, a free block cut off by a split. Its neighbours are
  /// allocated (the block it came from had no free neighbour), so it needs
  /// no merge.
  template <class Heap, class FreeBlocks>
  void list_piece(Heap& /*heap*/, FreeBlocks& free, BlockHeader& piece) noexcept {
    free.insert(piece);
  }
  /// Nothing was put off, so nothing merges now.
  template <class Heap, class FreeBlocks>
  [[nodiscard]] bool merge_put_off(Heap& /*heap*/, FreeBlocks& /*free*/) noexcept {
    return false;
  }
  /// Whole-heap merge passes: never.
  [[nodiscard]] std::size_t passes() const noexcept { return 0; }
};
// [immediate]

/// Every free merges at once, by the course's four cases.
using ImmediateCoalescing = BasicImmediateCoalescing<>;

/// A coalescing free-list allocator over one region: boundary tags in
/// layout \p Tags, free blocks in \p FreeBlocks, merged as \p Merging says.
///
/// The contract of contract.hpp, plus reallocate() in place and
/// allocate_zeroed(). Misuse (double free, foreign or interior pointer) is
/// reported through the misuse handler and changes nothing. Not
/// thread-safe: wrap it in Synchronized.
template <CoalescingFreeBlocks FreeBlocks, TagLayout Tags = FooterTags, class Merging = ImmediateCoalescing>
class CoalescingAllocator {
 public:
  /// The tag layout (for layers, tools and tests).
  using tags_type = Tags;

  /// An allocator on the static 10 MiB heap.
  CoalescingAllocator() noexcept = default;
  /// An allocator on \p region, which the caller keeps alive.
  explicit CoalescingAllocator(std::span<std::byte> region) noexcept : heap_(region) {}
  CoalescingAllocator(const CoalescingAllocator&) = delete;
  CoalescingAllocator& operator=(const CoalescingAllocator&) = delete;
  ~CoalescingAllocator() = default;

  /// Returns \p size bytes aligned to `max(align, 8)`, or nullptr (see the
  /// contract): a free block if one fits, else the break moves.
  [[nodiscard]] void* allocate(std::size_t size, std::size_t align = kDefaultAlignment) noexcept;
  /// Gives the block at \p p back, merged with its free neighbours
  /// (nullptr: nothing happens).
  void deallocate(void* p) noexcept;
  /// Resizes the block at \p p to \p size bytes, in place when it can
  /// (resize_in_place.hpp: a shrink splits the tail off, a grow takes in
  /// a free next block or moves the break), else moves it as chapter 2
  /// does (resize_or_move), aligned to \p align.
  [[nodiscard]] void* reallocate(void* p, std::size_t size, std::size_t align = kDefaultAlignment) noexcept;
  /// Returns \p count * \p size zeroed bytes, or nullptr when the product
  /// overflows (counted as rejected) or cannot be served, like calloc.
  [[nodiscard]] void* allocate_zeroed(std::size_t count, std::size_t size) noexcept;
  /// Bytes the caller may use at \p p (what `malloc_usable_size` answers):
  /// the payload, less the footer an allocated block keeps. 0 for null and
  /// for misuse, which is reported like a bad free().
  [[nodiscard]] std::size_t usable_size(void* p) noexcept;

  /// The numbers of the chapter (see CoalescingStats).
  [[nodiscard]] CoalescingStats stats() const noexcept;
  /// Verifies every invariant (tagged_heap_check.hpp, the free list, the
  /// counters); on failure names it, with the offset of the block.
  [[nodiscard]] CheckResult check() const noexcept;
  /// True when \p p points into a block (allocated or free) of this heap.
  [[nodiscard]] bool owns(const void* p) const noexcept { return heap_.holds(p); }
  /// Calls \p visit with every block in address order (the prologue, which
  /// nobody can use, left out), with the bytes of its header, its footer
  /// (an allocated block keeps one unless Tags elides it) and, when free,
  /// its links.
  template <class Visitor>
  void for_each_block(Visitor&& visit) const {
    heap_.for_each_header([&](BlockHeader& block) {
      const bool allocated = is_allocated(block);
      visit(BlockView{.region = 0,
                      .offset = heap_.blocks().offset_of(&block),
                      .size = block_size(block),
                      .state = allocated ? BlockState::allocated : BlockState::free,
                      .header = kHeaderSize,
                      .footer = allocated ? Tags::kAllocatedFooterBytes : kFooterSize,
                      .links = allocated ? 0 : link_bytes_of<FreeBlocks>()});
    });
  }

  /// The region and its verbs (for diagrams, layers and tests).
  [[nodiscard]] const TaggedHeap<Tags>& heap() const noexcept { return heap_; }
  /// The free blocks (for diagrams, layers and tests).
  [[nodiscard]] const FreeBlocks& free_blocks() const noexcept { return free_; }

  /// The header of the allocated block at \p p, after chapter 2's checks
  /// (the ones deallocate() runs), or null after reporting the misuse on
  /// behalf of \p where. Chapter 5's layers ask it which block a pointer is.
  [[nodiscard, gnu::always_inline]] BlockHeader* allocated_block(void* p, std::string_view where) noexcept {
    return heap_.allocated_block(p, where);
  }

 protected:
  // The steps of the operations above, and the state, for chapter 5's
  // layers to build on (quick fit parks blocks through them).

  /// The block a request of \p size bytes aligned to \p align needs.
  [[nodiscard]] BlockRequest request_for(std::size_t size, std::size_t align) const noexcept;
  /// True for a valid request; a bad one is counted as rejected.
  [[nodiscard]] bool valid_or_counted(std::size_t size, std::size_t align) noexcept;
  /// A free block cut to \p request and off its list (merging put-off
  /// merges first if none fits), or null.
  [[nodiscard]] BlockHeader* find_free_block(const BlockRequest& request) noexcept;
  /// The block the free list chooses for \p request, off the list and cut
  /// to size, or null.
  [[nodiscard]] BlockHeader* take_free_block(const BlockRequest& request) noexcept;
  /// A block for \p request made by moving the break, or null when the
  /// region has no room.
  [[nodiscard]] BlockHeader* grow(const BlockRequest& request) noexcept;
  /// The block to hand out, cut from the free, off-list \p block as
  /// \p placement says; the pieces cut off stay free.
  [[nodiscard]] BlockHeader* carve(BlockHeader& block, const Placement& placement) noexcept;
  /// Marks \p block allocated for \p size bytes, counts it in, returns its payload.
  [[nodiscard]] void* hand_out(BlockHeader& block, std::size_t size) noexcept;
  /// hand_out(), or nullptr counted as exhausted when \p block is null.
  [[nodiscard]] void* hand_out_or_count(BlockHeader* block, std::size_t size) noexcept;
  /// Frees the allocated \p block (its pointer already checked): counted
  /// out, marked free, given back.
  void release(BlockHeader& block) noexcept;
  /// Puts the free, off-list \p block back, merged as \p Merging says.
  void give_back(BlockHeader& block) noexcept;
  /// Makes the allocated \p block hold \p size bytes where it is; false,
  /// with nothing changed, when it cannot (resize_in_place.hpp).
  [[nodiscard]] bool resize_in_place(BlockHeader& block, std::size_t size) noexcept;
  /// Gives the tail of the allocated \p block back beyond \p needed bytes,
  /// when the tail can be a block (resize_in_place.hpp).
  void trim(BlockHeader& block, std::size_t needed) noexcept;
  /// Verifies the region and the free list, and counts the blocks into
  /// \p census (check() compares the counters with it).
  [[nodiscard]] CheckResult check_blocks(BlockCensus& census) const noexcept;

  TaggedHeap<Tags> heap_;        ///< The region: blocks, tags, the break, the verbs.
  FreeBlocks free_;              ///< Invariant: exactly the free blocks of the region.
  Merging merging_;              ///< When free neighbours merge.
  LiveBlocks live_;              ///< Invariant: equal to a census of the allocated blocks (see check()).
  FreeListLifetime lifetime_;    ///< Never decrease.
};

/// Boundary tags with first fit: the chapter's starting point.
using CoalescingFirstFit = CoalescingAllocator<FitList<FirstFit>>;
/// Boundary tags with next fit (its rover survives merges).
using CoalescingNextFit = CoalescingAllocator<FitList<NextFit>>;
/// Boundary tags with best fit.
using CoalescingBestFit = CoalescingAllocator<FitList<BestFit>>;
/// Boundary tags with worst fit.
using CoalescingWorstFit = CoalescingAllocator<FitList<WorstFit>>;

extern template class CoalescingAllocator<FitList<FirstFit>>;
extern template class CoalescingAllocator<FitList<NextFit>>;
extern template class CoalescingAllocator<FitList<BestFit>>;
extern template class CoalescingAllocator<FitList<WorstFit>>;

static_assert(Reallocating<CoalescingFirstFit>);

}  // namespace heaplab
