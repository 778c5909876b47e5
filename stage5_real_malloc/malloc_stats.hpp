/// \file
/// The numbers of chapter 5: chapter 4's, plus where the bytes are now that
/// a heap has several regions, mappings of its own and parked blocks.
///
/// Every layer of the chapter reports a MallocStats: a layer takes its
/// inner heap's numbers and adds what it keeps itself (QuickCache its
/// parked blocks, LargeBlocks its mappings), and GrowingHeap adds its
/// regions' numbers together (operator+=). A region of chapter 4
/// converts to one: one region, nothing mapped, nothing parked.
#pragma once

#include <cstddef>

#include "stage4_coalescing/coalescing_allocator.hpp"

namespace heaplab {

/// Chapter 4's numbers and chapter 5's.
///
/// HeapStats::used counts every region's blocks (prologues included) and
/// every mapping; it falls as regions and mappings are given back, while
/// the lifetime numbers (HeapStats::high_water among them) keep what the
/// regions given back had counted (lifetime_part()).
struct MallocStats : CoalescingStats {
  std::size_t regions = 0;        ///< Live: regions of blocks (the first one and the grown ones).
  std::size_t mapped_blocks = 0;  ///< Live: large blocks in mappings of their own.
  std::size_t mapped_bytes = 0;   ///< Live: bytes of those mappings.
  /// Live: blocks parked on quick lists. Free to their users, so they are
  /// counted in FreeListStats::free_blocks and free_bytes too, not in
  /// live_allocations.
  std::size_t quick_blocks = 0;
  /// Lifetime: bytes given back to the source while the heap lives: grown
  /// regions unmapped once empty (GrowingHeap), large blocks' mappings
  /// unmapped on free (LargeBlocks), and the pages inside large free blocks
  /// discarded (ChunkSource::discard()), which stay mapped and read as zeros
  /// when touched again. A page discarded, reused and discarded again counts
  /// twice. What a process holds is `mapped - returned`, less the pages it
  /// never touched: see real_programs.md's idle measurement.
  std::size_t returned_bytes = 0;

  /// No region, nothing counted.
  MallocStats() noexcept = default;
  /// The numbers of one chapter-4 region: one region, nothing mapped or
  /// parked. Implicit, so that a layer over a region reads its numbers as
  /// it reads a layer's.
  MallocStats(const CoalescingStats& region) noexcept : CoalescingStats(region), regions(1) {}
};

/// Adds \p more to \p total, field by field: the numbers of a heap of
/// several regions (GrowingHeap). Live numbers add up exactly, and so do
/// the high-water marks of regions whose break never moves back; the
/// peaks of requested bytes add up to an upper bound (the regions may
/// have peaked at different moments), which stays at or below the sum of
/// the high-water marks.
inline MallocStats& operator+=(MallocStats& total, const MallocStats& more) noexcept {
  total.capacity += more.capacity;
  total.used += more.used;
  total.requested += more.requested;
  total.padding += more.padding;
  total.live_allocations += more.live_allocations;
  total.high_water += more.high_water;
  total.peak_requested += more.peak_requested;
  total.allocations += more.allocations;
  total.exhausted += more.exhausted;
  total.rejected += more.rejected;
  total.free_blocks += more.free_blocks;
  total.free_bytes += more.free_bytes;
  total.payload_bytes += more.payload_bytes;
  total.header_bytes += more.header_bytes;
  total.searches += more.searches;
  total.blocks_visited += more.blocks_visited;
  total.merges += more.merges;
  total.merge_passes += more.merge_passes;
  total.regions += more.regions;
  total.mapped_blocks += more.mapped_blocks;
  total.mapped_bytes += more.mapped_bytes;
  total.quick_blocks += more.quick_blocks;
  total.returned_bytes += more.returned_bytes;
  return total;
}

/// The lifetime numbers of \p region alone (its peaks, the requests it
/// served or refused, its searches and merges, the bytes it gave back),
/// every live number zero: what a heap keeps of a region it gives back to
/// the system, so that its lifetime counts never fall (GrowingHeap).
[[nodiscard]] inline MallocStats lifetime_part(const MallocStats& region) noexcept {
  MallocStats kept;
  kept.high_water = region.high_water;
  kept.peak_requested = region.peak_requested;
  kept.allocations = region.allocations;
  kept.exhausted = region.exhausted;
  kept.rejected = region.rejected;
  kept.searches = region.searches;
  kept.blocks_visited = region.blocks_visited;
  kept.merges = region.merges;
  kept.merge_passes = region.merge_passes;
  kept.returned_bytes = region.returned_bytes;
  return kept;
}

}  // namespace heaplab
