/// \file
/// Chapter 5's allocators, each one a stack of the chapter's layers over
/// one region of chapter 4's allocator:
///
///     SegregatedFitAllocator            QuickFitAllocator
///     +---------------------------+     +---------------------------+
///     | LargeBlocks               |     | LargeBlocks               |  >= 128 KiB: a mapping of its own
///     |  GrowingHeap              |     |  GrowingHeap              |  regions, oldest first; a new one when none serves
///     |                           |     |   QuickCache (per region) |  small freed blocks parked (tcache)
///     |   SegregatedFitRegion     |     |   SegregatedFitRegion     |  chapter 4's allocator with size classes
///     +---------------------------+     +---------------------------+
///                  |                                  |
///                  +--> ChunkBudget --> upstream ChunkSource (mmap) <--+
///                       (regions and mappings together within a limit)
///
/// TwoLevelFitAllocator is SegregatedFitAllocator's stack over a
/// TwoLevelRegion (two_level_lists.hpp): TLSF's two-level classes, where a
/// search looks at one block whatever the number of free blocks.
///
/// Chapter 5's malloc, ThreadCachesAllocator (thread_caches.hpp), puts two
/// more layers in front of TwoLevelFitAllocator:
///
///     ThreadCachesAllocator
///     +---------------------------+
///     | ThreadCaches              |  a cache per thread: most small calls take no lock
///     |  SmallPages               |  <= 8 KiB: pages of one size class, no header per block
///     |   TwoLevelFitAllocator    |  the rest, and the pages themselves
///     +---------------------------+
///
/// A request goes down the stack until a layer serves it; a pointer goes
/// down to the layer that holds it. Each layer is a whole allocator of the
/// contract, and says in its own file what it adds.
///
/// Three ways to build one:
/// - `QuickFitAllocator heap;` on the static 10 MiB heap, growing and
///   mapping from the process's mmap source, as malloc does;
/// - `QuickFitAllocator heap(region);` on the caller's region alone: no
///   growth, no mappings (the lab and the tests);
/// - `QuickFitAllocator heap(region, Upstream{...});` on the caller's
///   region, taking more from the source Upstream names (the malloc shim:
///   large blocks only).
#pragma once

#include <cstddef>
#include <span>

#include "stage1_static_bump/chunk_source.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/growing_arena.hpp"
#include "stage5_real_malloc/chunk_budget.hpp"
#include "stage5_real_malloc/growing_heap.hpp"
#include "stage5_real_malloc/large_blocks.hpp"
#include "stage5_real_malloc/malloc_stats.hpp"
#include "stage5_real_malloc/parking_heap.hpp"
#include "stage5_real_malloc/quick_fit.hpp"
#include "stage5_real_malloc/segregated_fits.hpp"
#include "stage5_real_malloc/two_level_lists.hpp"

namespace heaplab {

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

/// What a composed allocator's layers take memory from: Upstream's source
/// behind the limit of Upstream::growth. A base class of RealMalloc, so
/// that it is built before the layers that point at it.
class UpstreamBudget {
 protected:
  /// The budget for \p upstream.
  explicit UpstreamBudget(const Upstream& upstream) noexcept
      : budget_(upstream.source, upstream.growth.limit), source_(upstream.source == nullptr ? nullptr : &budget_) {}
  UpstreamBudget(const UpstreamBudget&) = delete;
  UpstreamBudget& operator=(const UpstreamBudget&) = delete;
  ~UpstreamBudget() = default;

  /// The source the layers take from: the budget, or null without an upstream.
  [[nodiscard]] ChunkSource* layers_source() const noexcept { return source_; }

 private:
  ChunkBudget budget_;   ///< The limit over what the layers hold.
  ChunkSource* source_;  ///< &budget_, or null when there is no upstream.
};

/// A malloc of the course: large blocks mapped, regions of \p Region grown
/// as needed (see the file comment). Models Reallocating; its stats() are
/// MallocStats. Not thread-safe: wrap it in Synchronized.
template <class Region>
class RealMalloc : private UpstreamBudget, public LargeBlocks<GrowingHeap<Region>> {
  using Layers = LargeBlocks<GrowingHeap<Region>>;

 public:
  /// One region of this malloc (for tools and tests).
  using region_type = Region;

  /// On the static 10 MiB heap, growing and mapping large blocks from the
  /// process's mmap source (default_chunk_source()), as malloc does.
  RealMalloc() noexcept : RealMalloc(Upstream{.source = &default_chunk_source()}) {}
  /// On \p region, which the caller keeps alive, taking more memory from
  /// \p upstream (by default: none, so nothing grows or is mapped).
  explicit RealMalloc(std::span<std::byte> region, const Upstream& upstream = {}) noexcept
      : UpstreamBudget(upstream),
        Layers(layers_source(), upstream.mmap_threshold, layers_source(), upstream.growth, region) {}

 private:
  /// On the static heap, taking more memory from \p upstream.
  explicit RealMalloc(const Upstream& upstream) noexcept
      : UpstreamBudget(upstream), Layers(layers_source(), upstream.mmap_threshold, layers_source(), upstream.growth) {}
};

/// Quick fit's region: quick lists in front of a region of segregated
/// fits that can park blocks.
using QuickFitRegion = QuickCache<ParkingHeap<SegregatedLists<FirstFit>>>;

/// Segregated fits over size classes \p Classes, growing into new regions
/// and mapping large blocks: SegregatedFitAllocator with classes of its own
/// (stage5_real_malloc/your_turn/size_classes.hpp).
template <class Classes = SizeClasses>
using BasicSegregatedFitAllocator = RealMalloc<BasicSegregatedFitRegion<Classes>>;
/// Segregated fits (good fit over size classes, footer elision), growing
/// into new regions and mapping large blocks.
using SegregatedFitAllocator = BasicSegregatedFitAllocator<>;
/// Quick fit: segregated fits with quick lists in front of each region
/// (glibc's tcache idea), growing and mapping as segregated fits does.
using QuickFitAllocator = RealMalloc<QuickFitRegion>;
/// Two-level segregated fits (TLSF's O(1) good fit, footer elision),
/// growing into new regions and mapping large blocks.
using TwoLevelFitAllocator = RealMalloc<TwoLevelRegion>;

extern template class QuickCache<ParkingHeap<SegregatedLists<FirstFit>>>;
extern template class GrowingHeap<SegregatedFitRegion>;
extern template class GrowingHeap<QuickFitRegion>;
extern template class LargeBlocks<GrowingHeap<SegregatedFitRegion>>;
extern template class LargeBlocks<GrowingHeap<QuickFitRegion>>;
extern template class ParkingHeap<TwoLevelLists>;
extern template class QuickCache<ParkingHeap<TwoLevelLists>>;
extern template class GrowingHeap<TwoLevelRegion>;
extern template class LargeBlocks<GrowingHeap<TwoLevelRegion>>;

static_assert(Reallocating<SegregatedFitAllocator>);
static_assert(Reallocating<QuickFitAllocator>);
static_assert(Reallocating<TwoLevelFitAllocator>);

}  // namespace heaplab
