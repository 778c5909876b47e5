/// \file
/// Chapter 4's allocator: free neighbours merge (coalescing), found in O(1)
/// through boundary tags, and the heap grows like a real malloc's.
///
///     a region (the static 10 MiB heap first, then mapped ones)
///     +-----------+----------+-------+-------+-----+-------+----------+-----------+
///     | start map | prologue | block | block | ... | block | epilogue | not used  |
///     +-----------+----------+-------+-------+-----+-------+----------+-----------+
///                  24 bytes,                                 16 bytes,
///                  allocated                                 size 0, allocated
///
///     deallocate(p)                          allocate(size, align)
///       1. check p (chapter 2's start map)     1. large: a mapping of its own
///       2. merge with free neighbours:         2. else the policy picks a free
///          the four cases of coalesce()           block from the size class up,
///       3. insert the merged block                and it is split (chapter 3)
///                                              3. none: (deferred: merge all,
///                                                 then search again) grow the
///                                                 heap, or map a new region
///
/// The prologue and epilogue are allocated blocks that are never handed
/// out: the first block always has an allocated block in front and the last
/// one an allocated block after, so coalescing has no edge case to test.
///
/// With quick lists (CoalescingConfig::quick_lists, quick_lists.hpp), a
/// small block skips steps 2 and 3 of deallocate: it is parked, still
/// marked allocated, on the list of its exact size, and allocate takes it
/// back before any search. Step 3 of allocate first flushes the parked
/// blocks through the normal path, so they merge, and searches again.
///
/// What is reused, not copied: chapter 2's headers, heap of blocks (the
/// break, the start map, the misuse checks), chapter 3's placement policies
/// and splitting, chapter 1's chunk source for growth.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <string_view>
#include <type_traits>

#include "stage1_static_bump/chunk_source.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/growing_arena.hpp"
#include "stage2_free_list/block.hpp"
#include "stage2_free_list/block_heap.hpp"
#include "stage2_free_list/free_list_allocator.hpp"
#include "stage3_fit_strategies/placement.hpp"
#include "stage4_coalescing/boundary_tags.hpp"
#include "stage4_coalescing/free_lists.hpp"
#include "stage4_coalescing/linked_free_list.hpp"
#include "stage4_coalescing/quick_lists.hpp"

namespace heaplab {

/// When free neighbours merge.
enum class Coalescing {
  immediate,  ///< On every deallocate(): no two free blocks are ever adjacent.
  deferred,   ///< Only when an allocation finds no block: one pass over the heap.
};

/// The compile-time choices of a CoalescingAllocator: each one is a
/// trade the chapter measures.
struct CoalescingConfig {
  Footers footers = Footers::everywhere;        ///< Footers on every block, or on free ones only.
  InsertionOrder order = InsertionOrder::lifo;  ///< Where a freed block goes on its list.
  Coalescing coalescing = Coalescing::immediate;  ///< When free neighbours merge.
  bool segregated = false;                      ///< One list per size class, or one list.
  bool quick_lists = false;                     ///< Small freed blocks wait on quick lists, unmerged (quick_lists.hpp).
};

/// Knuth's boundary tags, as CS:APP teaches them: footers everywhere, LIFO,
/// immediate coalescing, one list.
inline constexpr CoalescingConfig kBoundaryTags{};
/// As kBoundaryTags, with the list kept in address order.
inline constexpr CoalescingConfig kAddressOrdered{.order = InsertionOrder::address};
/// As kBoundaryTags, merging only when an allocation would fail.
inline constexpr CoalescingConfig kDeferredCoalescing{.coalescing = Coalescing::deferred};
/// As kBoundaryTags, with footers on free blocks only.
inline constexpr CoalescingConfig kFooterElision{.footers = Footers::free_blocks_only};
/// The chapter's last step: footer elision and segregated size classes.
inline constexpr CoalescingConfig kSegregatedFits{.footers = Footers::free_blocks_only, .segregated = true};
/// Segregated fits with quick lists in front (quick fit; glibc's tcache).
inline constexpr CoalescingConfig kQuickFits{
    .footers = Footers::free_blocks_only, .segregated = true, .quick_lists = true};

/// Where more memory comes from when the first region is full, and which
/// requests get a mapping of their own.
struct Upstream {
  /// Source of new regions and of large blocks' mappings; null: the first
  /// region is all there is, and every block lives in it.
  ChunkSource* source = nullptr;
  /// Requests of at least this many bytes get a mapping of their own,
  /// unmapped again on free (glibc's M_MMAP_THRESHOLD, 128 KiB by default).
  std::size_t mmap_threshold = std::size_t{128} * 1024;
  /// How regions grow: doubling from `first_chunk` up to `max_chunk`, at
  /// most `limit` bytes held from the source (regions and mappings).
  GrowthPolicy growth{.first_chunk = std::size_t{10} * 1024 * 1024,
                      .max_chunk = std::size_t{256} * 1024 * 1024,
                      .limit = std::size_t{64} * 1024 * 1024 * 1024};
};

/// The numbers of chapter 4: chapter 2's, plus where the bytes came from
/// and how often blocks merged.
///
/// HeapStats::used counts every region's blocks (prologues included) and
/// every mapping; HeapStats::high_water is the largest it has been (it can
/// fall now: mappings are given back).
struct CoalescingStats : FreeListStats {
  std::size_t regions = 0;        ///< Live: regions of blocks (the first one and the grown ones).
  std::size_t mapped_blocks = 0;  ///< Live: large blocks in mappings of their own.
  std::size_t mapped_bytes = 0;   ///< Live: bytes of those mappings.
  std::size_t merges = 0;         ///< Lifetime: blocks absorbed into a free neighbour.
  std::size_t merge_passes = 0;   ///< Lifetime: whole-heap merge passes (deferred coalescing).
  /// Live: blocks waiting on the quick lists (CoalescingConfig::quick_lists).
  /// Free to their users, so they are counted in FreeListStats::free_blocks
  /// and free_bytes too, not in live_allocations.
  std::size_t quick_blocks = 0;
};

/// What a CoalescingAllocator without quick lists keeps in their place:
/// nothing (it takes no room, see `[[no_unique_address]]`).
struct NoQuickLists {};

/// A coalescing free-list allocator: boundary tags, a doubly linked list
/// (or segregated lists) searched by \p Policy (FirstFit, NextFit, BestFit,
/// WorstFit from chapter 3), configured by \p Config.
///
/// The contract of contract.hpp, plus reallocate() in place and
/// allocate_zeroed(). Misuse (double free, foreign or interior pointer) is
/// reported through the misuse handler and changes nothing. Not
/// thread-safe: wrap it in Synchronized.
template <class Policy, CoalescingConfig Config = kBoundaryTags>
class CoalescingAllocator {
 public:
  /// The configuration (for tools and tests).
  static constexpr CoalescingConfig kConfig = Config;

  /// An allocator on the static 10 MiB heap that grows, and maps large
  /// blocks, from the process's mmap source.
  CoalescingAllocator() noexcept;
  /// An allocator on \p region, which the caller keeps alive, taking more
  /// memory from \p upstream (by default: none).
  explicit CoalescingAllocator(std::span<std::byte> region, Upstream upstream = {}) noexcept;
  CoalescingAllocator(const CoalescingAllocator&) = delete;
  CoalescingAllocator& operator=(const CoalescingAllocator&) = delete;
  /// Gives every grown region and every mapping back to the source.
  ~CoalescingAllocator();

  /// Returns \p size bytes aligned to `max(align, 8)`, or nullptr (see the
  /// contract).
  [[nodiscard]] void* allocate(std::size_t size, std::size_t align = kDefaultAlignment) noexcept;
  /// Gives the block at \p p back, merging it with free neighbours
  /// (nullptr: nothing happens).
  void deallocate(void* p) noexcept;
  /// Resizes the block at \p p to \p size bytes, in place when it can:
  /// a shrink splits the tail off; a grow takes in a free next neighbour,
  /// or moves the break when the block is the last one. Otherwise the
  /// block moves (aligned to \p align: 8 unless asked, as realloc promises
  /// only the default alignment; the malloc shim asks for 16) with the
  /// first `min(old requested, size)` bytes copied. A block that does not
  /// have the alignment \p align moves too. `reallocate(nullptr, n)` is
  /// `allocate(n)`; `reallocate(p, 0)` keeps a minimal block. Returns
  /// nullptr, leaving the block as it was, when no block can hold \p size,
  /// \p align is not a power of two, or \p p is misuse.
  [[nodiscard]] void* reallocate(void* p, std::size_t size, std::size_t align = kDefaultAlignment) noexcept;
  /// Returns \p count * \p size zeroed bytes, or nullptr when the product
  /// overflows (counted as rejected) or cannot be served, like calloc.
  [[nodiscard]] void* allocate_zeroed(std::size_t count, std::size_t size) noexcept;
  /// Bytes the caller may use at \p p (what `malloc_usable_size` answers):
  /// the payload of its block, without the footer an allocated block keeps,
  /// or the rest of its mapping. 0 for null, and for misuse (a pointer that
  /// is not a live allocation), which is reported like a bad free(). Not
  /// const: it runs free()'s checks.
  [[nodiscard]] std::size_t usable_size(void* p) noexcept;

  /// The numbers of the chapter (see CoalescingStats).
  [[nodiscard]] CoalescingStats stats() const noexcept;
  /// Verifies every invariant of the configuration (see the chapter's
  /// list); on failure names it, with the offset in its region.
  [[nodiscard]] CheckResult check() const noexcept;
  /// True when \p p points into a block (allocated or free) of this heap,
  /// or into a mapped block.
  [[nodiscard]] bool owns(const void* p) const noexcept;

  /// Calls \p visit with every block, region by region in address order,
  /// then every mapped block (a region of its own, offset 0). The prologue
  /// is not shown: it is not a block anyone can use.
  template <class Visitor>
  void for_each_block(Visitor&& visit) const {
    std::size_t index = 0;
    for_each_region([&](const BlockHeap& heap) {
      for_each_header(heap, [&](BlockHeader& header) {
        visit(BlockView{index, heap.offset_of(&header), block_size(header),
                        is_in_use(header) ? BlockState::allocated : BlockState::free});
      });
      ++index;
    });
    for (const MappedBlock* mapped = mapped_; mapped != nullptr; mapped = mapped->next) {
      visit(BlockView{index++, 0, mapped->mapping.size(), BlockState::allocated});
    }
  }

  /// Calls \p visit with each region's heap of blocks, oldest first.
  template <class Visitor>
  void for_each_region(Visitor&& visit) const {
    visit(static_cast<const BlockHeap&>(first_));
    for (const GrownRegion* grown = grown_; grown != nullptr; grown = grown->next) visit(grown->heap);
  }

  /// Calls \p visit with the header of every block of \p heap (one of this
  /// allocator's regions), in address order, the prologue left out.
  template <class Visitor>
  static void for_each_header(const BlockHeap& heap, Visitor&& visit) {
    BlockHeader* const prologue = heap.first();
    if (prologue == nullptr) return;
    for (BlockHeader* block = heap.after(prologue); block != nullptr; block = heap.after(block)) visit(*block);
  }

  /// The free lists (for diagrams, tools and tests).
  [[nodiscard]] const FreeLists<Policy, Config.segregated>& free_lists() const noexcept { return free_; }
  /// The first region's heap of blocks (for diagrams and tests).
  [[nodiscard]] const BlockHeap& first_region() const noexcept { return first_; }

 private:
  /// A region grown from the source. It lives at the start of its own
  /// chunk, so the allocator needs no memory for its bookkeeping:
  ///
  ///     chunk: [ GrownRegion | start map | prologue | blocks ... | epilogue | ... ]
  struct GrownRegion {
    std::span<std::byte> chunk;  ///< The chunk as the source gave it.
    GrownRegion* next;           ///< The next (newer) region, or null.
    BlockHeap heap;              ///< The blocks, on the rest of the chunk.
  };
  /// A large block in a mapping of its own, with this record in front:
  ///
  ///     mapping: [ MappedBlock | ... | header | payload .................. ]
  ///                                            ^ aligned as asked
  struct MappedBlock {
    std::span<std::byte> mapping;  ///< The mapping as the source gave it.
    MappedBlock* next;             ///< The next mapped block, or null.
    MappedBlock* prev;             ///< The previous mapped block, or null.
    BlockHeader* header;           ///< The block's header, right before its payload.
  };
  /// The live numbers, kept up to date by every operation; check()
  /// compares them with a walk.
  struct LiveCounts {
    std::size_t allocated_blocks = 0;  ///< Blocks handed out from the regions.
    std::size_t requested = 0;         ///< Requested bytes of every live allocation.
    std::size_t payload_bytes = 0;     ///< Payload capacity of the regions' allocated blocks.
    std::size_t mapped_blocks = 0;     ///< Live mapped blocks.
    std::size_t mapped_bytes = 0;      ///< Bytes of their mappings.
    std::size_t region_bytes = 0;      ///< Bytes of the grown regions' chunks.
  };
  /// The numbers that only ever grow: chapter 2's, and three more.
  struct LifetimeCounts : FreeListLifetime {
    std::size_t high_water = 0;    ///< Largest used() so far.
    std::size_t merges = 0;        ///< Blocks absorbed into a neighbour.
    std::size_t merge_passes = 0;  ///< Whole-heap merge passes.
  };

  static constexpr Footers kFooters = Config.footers;
  static constexpr bool kElided = Config.footers == Footers::free_blocks_only;
  /// Bytes of the epilogue header kept past each region's break.
  static constexpr std::size_t kEpilogueSize = kHeaderSize;
  /// The prologue: chapter 2's smallest block, which has room for a footer.
  static constexpr std::size_t kPrologueSize = kMinBlockSize;

  // Allocation.
  [[nodiscard]] BlockHeader* find_block(std::size_t needed, std::size_t align) noexcept;
  [[nodiscard]] BlockHeader* take_free_block(std::size_t needed, std::size_t align) noexcept;
  [[nodiscard]] BlockHeader* grow_heap(std::size_t needed, std::size_t align) noexcept;
  [[nodiscard]] BlockHeader* carve(BlockHeap& heap, BlockHeader& block, const Placement& placement) noexcept;
  void* hand_out(BlockHeader& block, std::size_t size) noexcept;
  void* hand_out_quick(BlockHeader& block, std::size_t size) noexcept;

  /// Where an allocated block was found: in a region, or in a mapping.
  struct Found {
    BlockHeap* heap = nullptr;      ///< The region, for a heap block.
    BlockHeader* block = nullptr;   ///< The block; null when the pointer was misuse.
    MappedBlock* mapped = nullptr;  ///< The mapping, for a mapped block.
  };
  [[nodiscard, gnu::always_inline]] inline Found allocated_block_at(void* p, std::string_view where) noexcept;
  [[nodiscard]] bool stays_in_place(const Found& found, std::size_t size) noexcept;

  // Freeing and merging.
  void release(BlockHeap& heap, BlockHeader& block) noexcept;
  void free_block(BlockHeap& heap, BlockHeader& block) noexcept;
  void list_unmerged(BlockHeader& block) noexcept;
  [[nodiscard]] BlockHeader& coalesce(BlockHeap& heap, BlockHeader& block) noexcept;
  void absorb(BlockHeap& heap, BlockHeader& block, BlockHeader& next) noexcept;
  void give_back(BlockHeap& heap, BlockHeader& block) noexcept;
  void merge_free_neighbours() noexcept;
  [[nodiscard]] bool previous_is_free(BlockHeader& block) const noexcept;
  static void seal(BlockHeader& block) noexcept;

  // Quick lists.
  [[nodiscard]] bool park(BlockHeader& block) noexcept;
  void flush_quick_lists() noexcept;
  /// True when \p header's block is handed out to a user: allocated, and
  /// not waiting on a quick list.
  [[nodiscard]] static bool is_in_use(const BlockHeader& header) noexcept {
    if constexpr (Config.quick_lists) {
      return is_allocated(header) && !is_quick(header);
    } else {
      return is_allocated(header);
    }
  }

  // Resizing in place.
  [[nodiscard]] bool resize_in_place(BlockHeap& heap, BlockHeader& block, std::size_t needed) noexcept;
  void trim(BlockHeap& heap, BlockHeader& block, std::size_t needed) noexcept;

  // Regions.
  void open_region(BlockHeap& heap) noexcept;
  [[nodiscard]] BlockHeap* add_region(std::size_t needed) noexcept;
  [[nodiscard]] BlockHeap* region_of(const void* p) noexcept;
  [[nodiscard]] static BlockHeader* last_block_if_free(const BlockHeap& heap) noexcept;
  [[nodiscard]] static std::size_t room_in(const BlockHeap& heap) noexcept;
  [[nodiscard]] static bool extend_region(BlockHeap& heap, std::size_t bytes) noexcept;
  [[nodiscard]] static bool is_prologue(const BlockHeap& heap, const BlockHeader& block) noexcept;

  /// The quick path's bound on request sizes for \p upstream (see
  /// quick_request_limit_): computed once, so the path tests one number.
  [[nodiscard]] static constexpr std::size_t quick_request_limit(const Upstream& upstream) noexcept {
    const std::size_t limit = QuickLists::kLimit;
    return upstream.source == nullptr ? limit : std::min(limit, upstream.mmap_threshold);
  }

  // Large blocks.
  [[nodiscard]] bool wants_mapping(std::size_t size) const noexcept;
  [[nodiscard]] void* map_large(std::size_t size, std::size_t align) noexcept;
  void unmap_large(MappedBlock& mapped) noexcept;
  [[nodiscard]] MappedBlock* mapping_of(const void* p) const noexcept;
  [[nodiscard]] bool may_take_from_source(std::size_t bytes) const noexcept;

  // Bookkeeping.
  void count_allocation(std::size_t size) noexcept;
  void* count_in(BlockHeader& block) noexcept;
  void count_out(const BlockHeader& block) noexcept;
  void note_growth() noexcept;
  [[nodiscard]] std::size_t used() const noexcept;
  [[nodiscard]] CheckResult check_region(const BlockHeap& heap, BlockCensus& census) const noexcept;
  [[nodiscard]] CheckResult check_mappings(std::size_t& requested) const noexcept;
  [[nodiscard]] bool check_quick_bit(const BlockHeader& block) const noexcept;

  BlockHeap first_;                           ///< The first region: the static heap or the caller's.
  GrownRegion* grown_ = nullptr;              ///< Grown regions, oldest first.
  BlockHeap* current_ = &first_;              ///< Where the heap grows: the newest region.
  MappedBlock* mapped_ = nullptr;             ///< Live mapped blocks, newest first.
  Upstream upstream_;                         ///< Where more memory comes from.
  /// Quick fit: requests below this many bytes may take a parked block
  /// (below the quick lists' limit, and never one the upstream would map).
  std::size_t quick_request_limit_ = quick_request_limit(upstream_);
  std::size_t next_region_size_ = upstream_.growth.first_chunk;  ///< Size of the next grown region's chunk.
  FreeLists<Policy, Config.segregated> free_; ///< Invariant: exactly the free blocks of every region.
  std::size_t unmerged_frees_ = 0;            ///< Deferred coalescing: blocks listed without merging since the last pass.
  /// Quick fit: exactly the blocks with the Q bit (an empty stand-in otherwise).
  [[no_unique_address]] std::conditional_t<Config.quick_lists, QuickLists, NoQuickLists> quick_;
  LiveCounts live_;                           ///< Invariant: equal to a census of the heap (see check()).
  LifetimeCounts lifetime_;                   ///< Never decrease.
};

/// Boundary tags with first fit: the chapter's starting point.
using CoalescingFirstFit = CoalescingAllocator<FirstFit>;
/// Boundary tags with next fit (its rover survives merges).
using CoalescingNextFit = CoalescingAllocator<NextFit>;
/// Boundary tags with best fit.
using CoalescingBestFit = CoalescingAllocator<BestFit>;
/// Boundary tags with worst fit.
using CoalescingWorstFit = CoalescingAllocator<WorstFit>;
/// First fit over an address-ordered list.
using AddressOrderedFirstFit = CoalescingAllocator<FirstFit, kAddressOrdered>;
/// First fit, merging only when an allocation would fail.
using DeferredFirstFit = CoalescingAllocator<FirstFit, kDeferredCoalescing>;
/// First fit with footers on free blocks only.
using ElidedFirstFit = CoalescingAllocator<FirstFit, kFooterElision>;
/// Segregated fits: size classes, a bitmap, footer elision (good fit).
using SegregatedFitAllocator = CoalescingAllocator<FirstFit, kSegregatedFits>;
/// Quick fit: segregated fits with quick lists in front (glibc's tcache idea).
using QuickFitAllocator = CoalescingAllocator<FirstFit, kQuickFits>;

extern template class CoalescingAllocator<FirstFit>;
extern template class CoalescingAllocator<NextFit>;
extern template class CoalescingAllocator<BestFit>;
extern template class CoalescingAllocator<WorstFit>;
extern template class CoalescingAllocator<FirstFit, kAddressOrdered>;
extern template class CoalescingAllocator<FirstFit, kDeferredCoalescing>;
extern template class CoalescingAllocator<FirstFit, kFooterElision>;
extern template class CoalescingAllocator<FirstFit, kSegregatedFits>;
extern template class CoalescingAllocator<FirstFit, kQuickFits>;

static_assert(Reallocating<CoalescingFirstFit>);
static_assert(Reallocating<SegregatedFitAllocator>);
static_assert(Reallocating<QuickFitAllocator>);

}  // namespace heaplab
