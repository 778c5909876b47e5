/// \file
/// A heap that grows into new regions: when none of its regions can serve a
/// request, GrowingHeap maps a new region from a ChunkSource and builds
/// another heap of its kind (Inner: one region of chapter 4's allocator,
/// or quick fit in front of one) on it.
///
///     first region (the static heap, or the caller's)
///     +-----------+----------+--------------------------------+----------+
///     | start map | prologue | blocks ...                     | epilogue |
///     +-----------+----------+--------------------------------+----------+
///     chunk 1 from the source
///     +--------+-----------+----------+-----------------------------+----------+------+
///     | Region | start map | prologue | blocks ...                  | epilogue | room |
///     +--------+-----------+----------+-----------------------------+----------+------+
///      next, the chunk, and the heap on the rest of it
///
/// A grown region's record lies at the start of its own chunk, so the
/// heap needs no memory of its own for them (chapter 1's GrowingArena keeps
/// its chunks the same way). Region sizes double, from
/// GrowthPolicy::first_chunk up to max_chunk, so a heap of n bytes has
/// O(log n) regions; a request too large for the next size gets a region
/// of its size. How much may be held in all is the source's to say: the
/// composed allocators (real_malloc.hpp) give this layer and LargeBlocks one
/// ChunkBudget, which keeps GrowthPolicy::limit over both.
///
/// allocate() asks the regions oldest first, so that the older regions'
/// holes are filled before a newer region is used; a block goes back to
/// the region it lies in. Each region is a heap of its own, with its own
/// free blocks and break: regions are not adjacent, so no block could
/// merge across two of them anyway, and keeping their free blocks apart
/// costs only a search per region once the older ones are full (glibc's
/// and jemalloc's arenas are whole heaps side by side in the same way).
///
/// Memory goes back to the source in two ways, while the heap lives:
/// - a grown region whose blocks are all freed is unmapped (release()),
///   unless it is the only empty one: one is kept, its pages discarded, so
///   that a program that frees everything and starts again does not map
///   and unmap a region each time. The first region is never given back.
///   (Under quick fit, a region whose users hold no block has its parked
///   blocks merged first: they would keep it from ever being empty.)
/// - a free that leaves a free block of at least kReleaseThreshold bytes
///   discards the whole pages strictly inside it (ChunkSource::discard()),
///   past its header and links and before its footer, so the tags stay:
///
///         free block of >= 64 KiB
///         +--------+-------+-----------------------------------+--------+
///         | header | links |  whole pages: discarded           | footer |
///         +--------+-------+-----------------------------------+--------+
///                  ^ page boundary                    page boundary ^
///
///   Only the pages the free made free are asked: the block's own, and a
///   free neighbour's below the threshold (a larger one had its pages
///   discarded when it became large), so that each page is discarded
///   about once, however many frees grow the block. The start map's pages
///   over the same bytes hold only zeros there, and go back too.
/// The rule that keeps a hot block from paying a system call per free:
/// the range discarded last is remembered, and a free that would discard
/// exactly it again (malloc and free of the same large block, which
/// always lands in the same place) does nothing. (glibc's free gives pages
/// back from the top of its heap only, past M_TRIM_THRESHOLD, 128 KiB;
/// jemalloc and mimalloc purge free pages after a delay, with a clock.)
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <span>
#include <string_view>
#include <utility>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/assert.hpp"
#include "stage1_static_bump/bump_allocator.hpp"
#include "stage1_static_bump/chunk_source.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/growing_arena.hpp"
#include "stage1_static_bump/tracking.hpp"
#include "stage2_free_list/block.hpp"
#include "stage2_free_list/block_heap.hpp"
#include "stage2_free_list/block_start_map.hpp"
#include "stage2_free_list/free_list_allocator.hpp"
#include "stage4_coalescing/boundary_tags.hpp"
#include "stage4_coalescing/tagged_heap.hpp"
#include "stage5_real_malloc/malloc_stats.hpp"
#include "stage5_real_malloc/quick_lists.hpp"

namespace heaplab {

/// Regions of \p Inner, a new one mapped whenever none can serve (see the
/// file comment). Not thread-safe: wrap it in Synchronized.
template <class Inner>
class GrowingHeap {
 public:
  /// The tag layout of the regions (for layers, tools and tests).
  using tags_type = typename Inner::tags_type;

  /// A free that leaves a free block of at least this many bytes gives the
  /// pages inside it back (see the file comment): 64 KiB, glibc's
  /// FASTBIN_CONSOLIDATION_THRESHOLD, past which glibc's free starts
  /// looking at what it can give back. Smaller blocks would cost a system
  /// call for a page or two, and they are often reused soon.
  static constexpr std::size_t kReleaseThreshold = std::size_t{64} * 1024;

  /// A heap whose first region is built from \p first_region (nothing:
  /// the static 10 MiB heap; a span: the caller's region), growing from
  /// \p source (null: never) in regions sized by \p growth.
  template <class... FirstRegion>
  GrowingHeap(ChunkSource* source, GrowthPolicy growth, FirstRegion&&... first_region) noexcept
      : first_(std::forward<FirstRegion>(first_region)...),
        source_(source),
        next_chunk_(growth.first_chunk),
        max_chunk_(growth.max_chunk) {}
  GrowingHeap(const GrowingHeap&) = delete;
  GrowingHeap& operator=(const GrowingHeap&) = delete;
  /// Gives every grown region back to the source.
  ~GrowingHeap();

  /// Returns \p size bytes aligned to `max(align, 8)`, or nullptr (see the
  /// contract): from the first region that can serve, oldest first, else
  /// from a new region.
  [[nodiscard, gnu::always_inline]] inline void* allocate(std::size_t size,
                                                          std::size_t align = kDefaultAlignment) noexcept;
  /// Gives the block at \p p back to its region (nullptr: nothing happens).
  [[gnu::always_inline]] inline void deallocate(void* p) noexcept;
  /// Resizes the block at \p p as its region does; a block its region has
  /// no room for moves to wherever allocate() finds some.
  [[nodiscard]] void* reallocate(void* p, std::size_t size, std::size_t align = kDefaultAlignment) noexcept;
  /// Returns \p count * \p size zeroed bytes, or nullptr when the product
  /// overflows (counted as rejected) or cannot be served, like calloc.
  [[nodiscard]] void* allocate_zeroed(std::size_t count, std::size_t size) noexcept;
  /// Bytes the caller may use at \p p, as its region answers (0 for null
  /// and for misuse, which is reported).
  [[nodiscard]] std::size_t usable_size(void* p) noexcept { return region_for(p).usable_size(p); }

  /// The regions' numbers added up (MallocStats::regions counts them);
  /// `exhausted` counts the requests that no region, old or new, could
  /// serve, not each region that could not.
  [[nodiscard]] MallocStats stats() const noexcept;
  /// Verifies every region; a failure says which (CheckResult::region).
  [[nodiscard]] CheckResult check() const noexcept;
  /// True when \p p points into a block of any region.
  [[nodiscard]] bool owns(const void* p) const noexcept {
    if (first_.owns(p)) return true;
    const Inner* const grown = grown_region_of(p);
    return grown != nullptr && grown->owns(p);
  }
  /// Calls \p visit with every block of every region, oldest region first;
  /// BlockView::region is the region's index in that order.
  template <class Visitor>
  void for_each_block(Visitor&& visit) const {
    std::size_t index = 0;
    for_each_region([&](const Inner& region) {
      region.for_each_block([&](BlockView view) {
        view.region = index;
        visit(view);
      });
      ++index;
    });
  }

  /// Calls \p visit with each region, oldest first (for diagrams and tests).
  template <class Visitor>
  void for_each_region(Visitor&& visit) const {
    visit(std::as_const(first_));
    for (const Region* region = grown_; region != nullptr; region = region->next) visit(region->heap);
  }

  /// The header of the allocated block at \p p, or null after its region
  /// reported the misuse on behalf of \p where (for layers).
  [[nodiscard]] BlockHeader* allocated_block(void* p, std::string_view where) noexcept {
    return region_for(p).allocated_block(p, where);
  }

 private:
  /// The record at the start of a grown region's chunk (see the diagram).
  struct Region {
    std::span<std::byte> chunk;  ///< The chunk as the source gave it.
    Region* next;                ///< The next (newer) region, or null.
    Inner heap;                  ///< The heap, on the rest of the chunk.
  };
  /// Bytes of the record, before the region's heap.
  static constexpr std::size_t kRecordBytes = round_up(sizeof(Region), alignof(std::max_align_t));

  /// True when \p p lies in \p region's bytes, where its blocks are: what
  /// a pointer is routed by. Whether it is a block there is for the
  /// region's own checks to say (its check of the pointer repeats this
  /// test, which the compiler then does once).
  [[nodiscard, gnu::always_inline]] static bool lies_in(const Inner& region, const void* p) noexcept {
    return region.heap().blocks().contains(p);
  }
  /// The region \p p lies in; the first region for a pointer that is in
  /// none (its checks then report the misuse). The first region is asked
  /// first: in most programs it holds most blocks.
  [[nodiscard, gnu::always_inline]] Inner& region_for(const void* p) noexcept {
    if (lies_in(first_, p)) [[likely]] return first_;
    Inner* const grown = grown_region_of(p);
    return grown == nullptr ? first_ : *grown;
  }
  [[nodiscard]] Inner* grown_region_of(const void* p) const noexcept;
  [[nodiscard, gnu::noinline]] void* allocate_slowly(std::size_t size, std::size_t align) noexcept;
  [[gnu::noinline]] void deallocate_elsewhere(void* p) noexcept;
  [[nodiscard]] Inner* add_region(std::size_t size, std::size_t align) noexcept;
  [[nodiscard]] static std::size_t chunk_bytes_for(std::size_t size, std::size_t align) noexcept;
  [[nodiscard]] void* move_out(Inner& region, void* p, std::size_t size, std::size_t align) noexcept;

  /// What a free will make free, read before the free: afterwards the
  /// tags of the neighbours it merges with are gone.
  struct FreedBytes {
    std::byte* merged_begin = nullptr;  ///< Where the free block the free leaves starts (null: no block to free).
    std::byte* merged_end = nullptr;    ///< Where it ends.
    /// The bytes no earlier discard covered: the block's, and a small free neighbour's.
    std::byte* fresh_begin = nullptr;
    std::byte* fresh_end = nullptr;     ///< Where they end.
    /// Bytes of the free block the free leaves.
    [[nodiscard]] std::size_t merged_bytes() const noexcept {
      return static_cast<std::size_t>(merged_end - merged_begin);
    }
    /// True when the free may give something back from \p blocks, a
    /// region's: the block it leaves is large, and it either fills the
    /// region from its prologue to its break (the region may be empty) or
    /// has a whole page of fresh bytes inside (4 KiB pages, the smallest
    /// any system has: a larger page inside means a 4 KiB one too). A test
    /// of a few instructions, so that most frees into a large free block
    /// (a small block next to the break, freed) call nothing more.
    [[nodiscard, gnu::always_inline]] bool may_give_back(const BlockHeap& blocks) const noexcept {
      if (merged_bytes() < kReleaseThreshold) return false;
      if (merged_begin == blocks.begin() + TaggedHeap<tags_type>::kPrologueSize && merged_end == blocks.brk()) {
        return true;
      }
      constexpr std::uintptr_t kSmallestPage = 4096;
      const auto down = [](const std::byte* at) { return address_of(at) & ~(kSmallestPage - 1); };
      const auto up = [&](const std::byte* at) { return down(at + kSmallestPage - 1); };
      const std::uintptr_t begin = std::max(up(merged_begin + kMinTaggedBlockSize - kFooterSize), down(fresh_begin));
      const std::uintptr_t end = std::min(down(merged_end - kFooterSize), up(fresh_end));
      return begin < end;
    }
  };
  [[gnu::always_inline]] inline void free_in(Inner& region, void* p) noexcept;
  [[nodiscard, gnu::always_inline]] static inline bool is_parkable(const Inner& region, void* p) noexcept;
  [[nodiscard, gnu::always_inline]] static inline BlockHeader* readable_header(const BlockHeap& blocks,
                                                                               void* p) noexcept;
  /// \p region's live allocations, when it counts them apart from its
  /// parked blocks (quick fit); else 1, for "not known to be empty".
  [[nodiscard, gnu::always_inline]] static std::size_t live_allocations_of(const Inner& region) noexcept {
    if constexpr (requires { region.live_allocations(); }) {
      return region.live_allocations();
    } else {
      return 1;
    }
  }
  [[nodiscard, gnu::always_inline]] static inline FreedBytes forecast_free(const Inner& region, void* p) noexcept;
  [[gnu::noinline]] void after_large_free(Inner& region, const FreedBytes& freed) noexcept;
  void discard_pages(const Inner& region, const FreedBytes& freed) noexcept;
  void discard(std::byte* begin, std::byte* end) noexcept;
  [[gnu::noinline]] void empty_region(Inner& region) noexcept;
  [[nodiscard]] static BlockHeader* only_block_if_empty(const Inner& region) noexcept;
  [[nodiscard]] static bool is_empty(const Inner& region, BlockHeader& free_block) noexcept;
  [[nodiscard]] Region* grown_record_of(const Inner& region) const noexcept;
  void give_back(Region& region) noexcept;

  Inner first_;                  ///< The first region: the static heap or the caller's.
  Region* grown_ = nullptr;      ///< Grown regions, oldest first.
  Region* newest_ = nullptr;     ///< The last of them, where a new one is linked.
  ChunkSource* source_;          ///< Where new regions come from, or null.
  std::size_t next_chunk_;       ///< Bytes of the next region's chunk.
  std::size_t max_chunk_;        ///< Chunk sizes stop doubling here.
  std::size_t exhausted_ = 0;    ///< Lifetime: requests no region could serve.
  std::size_t overflows_ = 0;    ///< Lifetime: allocate_zeroed() products that overflowed (rejected).
  std::size_t returned_ = 0;     ///< Lifetime: MallocStats::returned_bytes.
  MallocStats given_back_;       ///< Lifetime: the lifetime numbers of regions given back.
  std::span<std::byte> last_discarded_;  ///< The pages discarded last: not asked again (a hot block).
};

template <class Inner>
GrowingHeap<Inner>::~GrowingHeap() {
  for (Region* region = grown_; region != nullptr;) {
    Region* const next = region->next;
    const std::span<std::byte> chunk = region->chunk;
    region->~Region();
    source_->release(chunk);
    region = next;
  }
}

// ---------------------------------------------------------------- allocate

// [allocate]
template <class Inner>
void* GrowingHeap<Inner>::allocate(std::size_t size, std::size_t align) noexcept {
  if constexpr (requires { first_.allocate_parked(size, align); }) {
    // Quick fit's parked blocks, inline: the path most requests take,
    // which must stay short. Everything else is one call away.
    if (void* const p = first_.allocate_parked(size, align)) return p;
  }
  return allocate_slowly(size, align);
}

/// The regions in turn, oldest first, then a new region. Out of line, so
/// that the fast path before it has no registers to save. (The first
/// region's allocate() looks at quick fit's parked blocks once more: a few
/// instructions, next to what follows. A request no heap may serve is
/// refused, and counted, by the first region: nothing else is asked.)
template <class Inner>
void* GrowingHeap<Inner>::allocate_slowly(std::size_t size, std::size_t align) noexcept {
  if (void* const p = first_.allocate(size, align)) return p;
  if (!is_valid_request(size, align)) return nullptr;
  for (Region* region = grown_; region != nullptr; region = region->next) {
    if (void* const p = region->heap.allocate(size, align)) return p;
  }
  if (Inner* const fresh = add_region(size, align)) {
    void* const p = fresh->allocate(size, align);
    HEAPLAB_ASSERT(p != nullptr, "a region sized for the request serves it");
    return p;
  }
  ++exhausted_;
  return nullptr;
}
// [allocate]

// [add_region]
/// Maps a region that can serve \p size bytes aligned to \p align, and
/// links it in as the newest; null when the source has no chunk to give.
template <class Inner>
Inner* GrowingHeap<Inner>::add_region(std::size_t size, std::size_t align) noexcept {
  const std::size_t needed = chunk_bytes_for(size, align);
  if (source_ == nullptr || needed == 0) return nullptr;
  const std::span<std::byte> chunk = source_->acquire(std::max(next_chunk_, needed));
  if (chunk.empty()) return nullptr;
  auto* const region = ::new (chunk.data()) Region{chunk, nullptr, Inner(chunk.subspan(kRecordBytes))};
  (newest_ == nullptr ? grown_ : newest_->next) = region;
  newest_ = region;
  // Twice the size next time, up to max_chunk (never below first_chunk).
  if (next_chunk_ < max_chunk_) next_chunk_ = next_chunk_ > max_chunk_ / 2 ? max_chunk_ : 2 * next_chunk_;
  return &region->heap;
}

/// Bytes of a chunk whose region can serve \p size bytes aligned to
/// \p align; 0 when no chunk could (sizes near kMaxRequest). The region
/// needs the block, room for a gap in front of it when the alignment
/// asks for more than 8 (as chapter 4's grow() asks), the prologue and
/// the epilogue; the chunk adds the record, and the start map, 1/64 of
/// the rest (chapter 2's BlockStartMap), with a word of slack each.
template <class Inner>
std::size_t GrowingHeap<Inner>::chunk_bytes_for(std::size_t size, std::size_t align) noexcept {
  if (size > kMaxRequest / 4 || align > kMaxRequest / 4) return 0;  // no source has half of memory to give
  const std::size_t gap = align > kDefaultAlignment ? align + kMinTaggedBlockSize : 0;
  const std::size_t region = tagged_block_size_for<tags_type>(size) + gap + TaggedHeap<tags_type>::kPrologueSize +
                             TaggedHeap<tags_type>::kEpilogueSize + 2 * sizeof(std::uint64_t);
  return kRecordBytes + region + region / 63;
}
// [add_region]

/// The grown region whose bytes \p p lies in, or null.
template <class Inner>
Inner* GrowingHeap<Inner>::grown_region_of(const void* p) const noexcept {
  for (Region* region = grown_; region != nullptr; region = region->next) {
    if (lies_in(region->heap, p)) return &region->heap;
  }
  return nullptr;
}

// ---------------------------------------------------------------- free and resize

// [deallocate]
template <class Inner>
void GrowingHeap<Inner>::deallocate(void* p) noexcept {
  if (lies_in(first_, p)) [[likely]] {
    free_in(first_, p);  // inlined for the first region: `&region != &first_` folds away
  } else {
    deallocate_elsewhere(p);
  }
}

/// deallocate() of a pointer that is not the first region's: a grown
/// region's, or nobody's (the first region reports the misuse; null does
/// nothing). Out of line, as allocate_slowly() is.
template <class Inner>
void GrowingHeap<Inner>::deallocate_elsewhere(void* p) noexcept {
  Inner* const grown = grown_region_of(p);
  if (grown == nullptr) {
    first_.deallocate(p);
  } else {
    free_in(*grown, p);
  }
}
// [deallocate]

// [give_back]
/// Frees \p p into \p region, its own; a free that leaves a large free
/// block goes on to give memory back.
template <class Inner>
void GrowingHeap<Inner>::free_in(Inner& region, void* p) noexcept {
  // Under quick fit, a region whose users hold nothing may still hold
  // parked blocks, which would keep it from ever being empty.
  const auto emptied = [&] { return &region != &first_ && live_allocations_of(region) == 0; };
  // A block a quick list has room for is parked, not merged: nothing to
  // forecast.
  if (is_parkable(region, p)) {
    region.deallocate(p);
    if (emptied()) [[unlikely]] empty_region(region);
    return;
  }
  const FreedBytes freed = forecast_free(region, p);
  region.deallocate(p);
  if (emptied()) [[unlikely]] {
    empty_region(region);
  } else if (freed.may_give_back(region.heap().blocks())) [[unlikely]] {
    after_large_free(region, freed);
  }
}

/// A free left (or would have left) the large free block \p freed says:
/// an empty grown region goes back to the source unless it is the only
/// empty one; otherwise the pages the free made free are discarded.
template <class Inner>
void GrowingHeap<Inner>::after_large_free(Inner& region, const FreedBytes& freed) noexcept {
  if (source_ == nullptr) return;
  // The free went as forecast: a free block starts where it was to start
  // and ends where it was to end (not parked on a quick list, not refused).
  const BlockHeap& blocks = region.heap().blocks();
  if (!address_in(freed.merged_begin, blocks.begin(), blocks.brk()) ||
      !is_aligned(freed.merged_begin, kBlockGranularity) || !blocks.starts().is_start(freed.merged_begin)) {
    return;
  }
  BlockHeader& merged = *header_at(freed.merged_begin);
  if (is_allocated(merged) || next_in_memory(&merged) != freed.merged_end) return;
  if (&region != &first_ && is_empty(region, merged)) {
    empty_region(region);
  } else {
    discard_pages(region, freed);
  }
}

/// The grown \p region holds one free block and nothing else: it goes back
/// to the source, unless no other region is empty; then it is kept, with
/// every page inside its block discarded.
template <class Inner>
void GrowingHeap<Inner>::empty_region(Inner& region) noexcept {
  if (source_ == nullptr) return;
  if constexpr (requires { region.unpark_all(); }) region.unpark_all();
  Region* const emptied = grown_record_of(region);
  for (Region* other = grown_; other != nullptr; other = other->next) {
    if (other != emptied && only_block_if_empty(other->heap) != nullptr) {
      give_back(*emptied);  // another empty region is kept already
      return;
    }
  }
  BlockHeader* const only = only_block_if_empty(region);
  if (only == nullptr) return;
  std::byte* const begin = block_start(only);
  discard_pages(region, FreedBytes{begin, next_in_memory(only), begin, next_in_memory(only)});
}
// [give_back]

/// True when \p p, in \p region's bytes, has a header in front of it that
/// names a block the region's quick lists would park. The region's own
/// checks come next, in deallocate().
template <class Inner>
bool GrowingHeap<Inner>::is_parkable(const Inner& region, void* p) noexcept {
  if constexpr (requires { region.would_park(std::size_t{0}); }) {
    const BlockHeader* const block = readable_header(region.heap().blocks(), p);
    return block != nullptr && region.would_park(block_size(*block));
  } else {
    return false;  // a region that parks nothing
  }
}

/// The header in front of \p p, when it may be read: \p p is 8-aligned
/// and the header lies in \p blocks; in a build that tracks free memory,
/// a block must also start there (a freed block's old header may lie in
/// poisoned bytes, and reading them would be reported). Null otherwise.
/// Whether it is an allocated block is for the region to check.
template <class Inner>
BlockHeader* GrowingHeap<Inner>::readable_header(const BlockHeap& blocks, void* p) noexcept {
  std::byte* const start = static_cast<std::byte*>(p) - kHeaderSize;
  if (!is_aligned(p, kBlockGranularity) || !address_in(start, blocks.begin(), blocks.brk())) return nullptr;
  if constexpr (track::enabled) {
    if (!blocks.starts().is_start(start)) return nullptr;
  }
  return header_at(start);
}

/// What freeing \p p in \p region will make free, read from the tags
/// around it. Nothing is checked here but that every read stays inside the
/// region's blocks: for a pointer that is not an allocated block the region
/// reports the misuse and changes nothing, and after_large_free() checks
/// the block it was told of against the start map before it trusts it.
template <class Inner>
auto GrowingHeap<Inner>::forecast_free(const Inner& region, void* p) noexcept -> FreedBytes {
  const BlockHeap& blocks = region.heap().blocks();
  BlockHeader* const header = readable_header(blocks, p);
  if (header == nullptr) return {};
  BlockHeader& block = *header;
  std::byte* const start = block_start(&block);
  std::byte* const end = next_in_memory(&block);
  if (!address_in(end, start + 1, blocks.brk() + 1)) return {};  // the header after it is the epilogue at most
  FreedBytes freed{start, end, start, end};
  if (tags_type::prev_is_free(block) && start != blocks.begin()) {
    const std::size_t prev = footer_in_front(block).size_and_flags & ~kFlagMask;
    freed.merged_begin = start - prev;
    if (prev < kReleaseThreshold) freed.fresh_begin = freed.merged_begin;
  }
  if (const BlockHeader& next = *header_at(end); !is_allocated(next)) {
    freed.merged_end += block_size(next);
    if (block_size(next) < kReleaseThreshold) freed.fresh_end = freed.merged_end;
  }
  return freed;
}



/// The one free block of \p region, or null when it has any other block.
template <class Inner>
BlockHeader* GrowingHeap<Inner>::only_block_if_empty(const Inner& region) noexcept {
  const BlockHeap& blocks = region.heap().blocks();
  if (blocks.first() == nullptr) return nullptr;
  BlockHeader* const only = blocks.after(blocks.first());
  return only != nullptr && !is_allocated(*only) && is_empty(region, *only) ? only : nullptr;
}

// [discard_pages]
/// Discards the whole pages strictly inside the free block \p freed says
/// that hold bytes the free made free, and the start map's pages over
/// them, unless they are the pages discarded last.
template <class Inner>
void GrowingHeap<Inner>::discard_pages(const Inner& region, const FreedBytes& freed) noexcept {
  const std::size_t page = system_page_size();
  const auto down = [page](std::byte* at) { return at - address_of(at) % page; };
  const auto up = [&](std::byte* at) { return address_of(at) % page == 0 ? at : down(at) + page; };
  // Past the header and the links, before the footer: the block stays a block.
  std::byte* const inside_begin = up(freed.merged_begin + kMinTaggedBlockSize - kFooterSize);
  std::byte* const inside_end = down(freed.merged_end - kFooterSize);
  std::byte* const begin = std::max(inside_begin, down(freed.fresh_begin));
  std::byte* const end = std::min(inside_end, up(freed.fresh_end));
  if (begin >= end || (begin == last_discarded_.data() && end == last_discarded_.data() + last_discarded_.size())) {
    return;
  }
  discard(begin, end);
  last_discarded_ = {begin, end};
  // The start map's words over the inside are zeros: no block starts there.
  // Its pages that lie wholly over the inside and over the fresh bytes go too.
  const BlockStartMap& starts = region.heap().blocks().starts();
  const std::span<std::uint64_t> inside_words = starts.words_within(inside_begin, inside_end);
  const std::span<std::uint64_t> fresh_words = starts.words_within(down(freed.fresh_begin), up(freed.fresh_end));
  if (inside_words.empty() || fresh_words.empty()) return;
  const auto bytes_begin = [](std::span<std::uint64_t> words) { return reinterpret_cast<std::byte*>(words.data()); };
  const auto bytes_end = [](std::span<std::uint64_t> words) {
    return reinterpret_cast<std::byte*>(words.data() + words.size());
  };
  std::byte* const map_begin = std::max(up(bytes_begin(inside_words)), down(bytes_begin(fresh_words)));
  std::byte* const map_end = std::min(down(bytes_end(inside_words)), up(bytes_end(fresh_words)));
  if (map_begin < map_end) discard(map_begin, map_end);
}
// [discard_pages]

/// Discards the pages from \p begin to \p end, and counts them.
template <class Inner>
void GrowingHeap<Inner>::discard(std::byte* begin, std::byte* end) noexcept {
  const auto bytes = static_cast<std::size_t>(end - begin);
  source_->discard({begin, bytes});
  returned_ += bytes;
}

/// True when the free \p free_block is the only block of \p region.
template <class Inner>
bool GrowingHeap<Inner>::is_empty(const Inner& region, BlockHeader& free_block) noexcept {
  const BlockHeap& blocks = region.heap().blocks();
  return blocks.after(blocks.first()) == &free_block && next_in_memory(&free_block) == blocks.brk();
}

/// The record of the grown region \p region.
template <class Inner>
auto GrowingHeap<Inner>::grown_record_of(const Inner& region) const noexcept -> Region* {
  Region* record = grown_;
  while (&record->heap != &region) record = record->next;
  return record;
}

/// Unlinks the empty grown \p region and gives its chunk back.
template <class Inner>
void GrowingHeap<Inner>::give_back(Region& region) noexcept {
  Region* before = nullptr;
  for (Region* r = grown_; r != &region; r = r->next) before = r;
  (before == nullptr ? grown_ : before->next) = region.next;
  if (newest_ == &region) newest_ = before;
  const std::span<std::byte> chunk = region.chunk;  // the record lies in it
  given_back_ += lifetime_part(region.heap.stats());  // what it counted stays counted
  region.~Region();
  returned_ += chunk.size();
  last_discarded_ = {};  // it may have been in this chunk
  source_->release(chunk);
}

// [reallocate]
template <class Inner>
void* GrowingHeap<Inner>::reallocate(void* p, std::size_t size, std::size_t align) noexcept {
  if (p == nullptr) return allocate(size, align);
  Inner& region = region_for(p);
  if (region.allocated_block(p, "GrowingHeap::reallocate") == nullptr) return nullptr;  // misuse, reported
  void* const resized = region.reallocate(p, size, align);
  if (resized != nullptr || !is_valid_request(size, align)) return resized;  // done, or refused and counted
  return move_out(region, p, size, align);
}

/// \p region has no room for the block at \p p at \p size bytes: it moves
/// to wherever allocate() finds room (another region, a new one), keeping
/// what both blocks hold, as chapter 2's realloc moves a block. Null, with
/// the block untouched, when there is none.
template <class Inner>
void* GrowingHeap<Inner>::move_out(Inner& region, void* p, std::size_t size, std::size_t align) noexcept {
  void* const moved = allocate(size, align);
  if (moved == nullptr) return nullptr;
  std::memcpy(moved, p, std::min(header_of(p)->requested, size));
  free_in(region, p);
  return moved;
}
// [reallocate]

template <class Inner>
void* GrowingHeap<Inner>::allocate_zeroed(std::size_t count, std::size_t size) noexcept {
  const auto allocate_bytes = [this](std::size_t bytes) { return allocate(bytes); };
  return allocate_zeroed_with(count, size, overflows_, allocate_bytes);
}

// ---------------------------------------------------------------- numbers and checks


template <class Inner>
MallocStats GrowingHeap<Inner>::stats() const noexcept {
  MallocStats s;
  for_each_region([&](const Inner& region) { s += region.stats(); });
  s += given_back_;
  s.exhausted = exhausted_;
  s.rejected += overflows_;
  s.returned_bytes += returned_;
  return s;
}

template <class Inner>
CheckResult GrowingHeap<Inner>::check() const noexcept {
  CheckResult result = CheckResult::pass();
  std::size_t index = 0;
  for_each_region([&](const Inner& region) {
    if (result) result = region.check().in_region(index);
    ++index;
  });
  return result;
}

}  // namespace heaplab
