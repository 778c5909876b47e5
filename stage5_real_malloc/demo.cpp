// Chapter 5 demo: a real malloc, one layer at a time: size classes, quick
// lists in front, growth into new regions, and a large block in a mapping
// of its own.
//
// Run it with `cmake --workflow --preset tour` (all chapters) or build the
// `stage5_demo` target and run it alone. Every number it prints is measured
// on the allocators, and nothing depends on where the memory lies: offsets
// count from each region's start.
#include <array>
#include <cstddef>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>

#include "stage1_static_bump/chunk_source.hpp"
#include "stage1_static_bump/demo_output.hpp"
#include "stage1_static_bump/heap_diagram.hpp"
#include "stage2_free_list/block.hpp"
#include "stage4_coalescing/tag_diagram.hpp"
#include "stage5_real_malloc/malloc_diagram.hpp"
#include "stage5_real_malloc/real_malloc.hpp"

namespace {

using namespace heaplab;

/// "$058": where the block whose payload is \p p starts in \p region.
std::string block_offset(const BlockHeap& region, void* p) { return format_offset(region.offset_of(header_of(p))); }

// ---------------------------------------------------------------- 1. size classes

void size_classes() {
  print_heading("1. Size classes: one free list per block size (segregated fits)");
  DemoHeap<SegregatedFitRegion> small;
  SegregatedFitRegion& heap = small.heap;
  // [size_classes]
  // Three blocks of different sizes freed between allocated ones, so that
  // none merges: each goes on the list of its own class.
  void* const a = heap.allocate(24);
  (void)heap.allocate(8);
  void* const b = heap.allocate(100);
  (void)heap.allocate(8);
  void* const c = heap.allocate(600);
  (void)heap.allocate(8);
  for (void* p : {a, b, c}) heap.deallocate(p);
  // [size_classes]
  std::printf("allocate(24), (100) and (600), each followed by allocate(8), then the three freed.\n"
              "SegregatedFitRegion keeps %zu lists: one per block size below %zu bytes, then one per\n"
              "power of two, and a bitmap of the lists that have a block:\n\n",
              SegregatedLists<FirstFit>::kLists, SizeClasses::kExactLimit);
  say(draw_tag_lines(heap));
  say("");
  say(draw_free_lists(heap));
  const std::size_t visited = heap.stats().blocks_visited;
  void* const again = heap.allocate(100);
  std::printf("\nallocate(100) needs a block of %zu bytes: the head of its own class, taken with %zu\n"
              "block looked at (%s, where b was) and no split. Below %zu bytes every class holds one\n"
              "size, so the search is one look at the bitmap: good fit in O(1), as TLSF does.\n",
              tagged_block_size_for<ElidedFooters>(100), heap.stats().blocks_visited - visited,
              block_offset(heap.heap().blocks(), again).c_str(), SizeClasses::kExactLimit);
  verify(heap, "section 1");
}

// ---------------------------------------------------------------- 2. quick lists

void quick_lists() {
  print_heading("2. Quick lists: small freed blocks kept aside (quick fit, glibc's tcache)");
  DemoHeap<QuickFitRegion> small;
  QuickFitRegion& cache = small.heap;
  const BlockHeap& blocks = cache.heap().blocks();
  // [quick_lists]
  void* const a = cache.allocate(24);
  void* const b = cache.allocate(24);
  (void)cache.allocate(24);
  // Fill the region but for 40 bytes, so that the break cannot serve what follows.
  const std::size_t room = cache.heap().room();
  (void)cache.allocate(room - kHeaderSize - kMinTaggedBlockSize);
  cache.deallocate(a);  // both parked: still allocated to the heap
  cache.deallocate(b);
  const std::string parked = draw_tag_lines(cache.inner()) + "\n\n" + draw_quick_lists(cache);
  void* const reused = cache.allocate(24);  // b, popped
  cache.deallocate(reused);                 // parked again
  void* const merged = cache.allocate(64);  // fits only a and b merged: the flush
  // [quick_lists]
  std::printf("allocate(24) three times, the rest of the region taken, then a and b freed. To\n"
              "the heap they stay allocated (A, no request, and a Q bit the picture does not show),\n"
              "so nothing merges; they wait on the quick list of their size:\n\n");
  say(parked);
  std::printf("\nallocate(24) pops the list's head, %s (b, freed last): no search, no split, no tag\n"
              "written; freeing it pushes it back. That pair is quick fit's fast path.\n",
              block_offset(blocks, reused).c_str());
  std::printf("\nallocate(64) needs a block of %zu bytes. No free block fits and the break has no\n"
              "room, so the parked blocks are freed into the heap first (glibc's malloc_consolidate):\n"
              "a and b merge, and the request takes them at %s, where a was.\n\n",
              tagged_block_size_for<ElidedFooters>(64), block_offset(blocks, merged).c_str());
  say(draw_tag_lines(cache.inner()));
  verify(cache, "section 2");
}

// ---------------------------------------------------------------- 3. growth and a mapped block

/// The growing heap's first region: small, so that it fills in a few steps.
constexpr std::size_t kFirstRegion = std::size_t{64} * 1024;

/// Where the growing heap takes more: the process's mmap source, regions
/// of 64 KiB doubling up to 256 KiB, large blocks from 128 KiB.
Upstream small_regions_from_mmap() {
  return Upstream{.source = &default_chunk_source(),
                  .mmap_threshold = std::size_t{128} * 1024,
                  .growth = GrowthPolicy{.first_chunk = std::size_t{64} * 1024,
                                         .max_chunk = std::size_t{256} * 1024,
                                         .limit = std::size_t{16} * 1024 * 1024}};
}

/// One row of the growth table: \p step, then \p s's regions, mapped
/// blocks, capacity and used bytes.
void print_row(std::string_view step, const MallocStats& s) {
  std::printf("  %-26.*s  %7zu  %13zu  %10s  %10s\n", static_cast<int>(step.size()), step.data(), s.regions,
              s.mapped_blocks, format_bytes(s.capacity).c_str(), format_bytes(s.used).c_str());
}

void growth_and_mappings() {
  print_heading("3. Growth: new regions, and large blocks in mappings of their own");
  alignas(16) static std::array<std::byte, kFirstRegion> first{};
  SegregatedFitAllocator heap(first, small_regions_from_mmap());
  say("SegregatedFitAllocator on a 64 KiB region, growing from the mmap source in regions");
  say("of 64 KiB doubling up to 256 KiB; requests of 128 KiB or more are mapped.");
  say("");
  say("  step                        regions  mapped blocks    capacity        used");
  print_row("start", heap.stats());
  // [growth]
  constexpr std::size_t kBlock = std::size_t{16} * 1024;
  std::array<void*, 24> blocks{};
  std::size_t regions = heap.stats().regions;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    blocks[i] = heap.allocate(kBlock);
    if (heap.stats().regions != regions) {  // this allocation opened a region
      regions = heap.stats().regions;
      print_row("allocate(16 KiB) #" + std::to_string(i + 1), heap.stats());
    }
  }
  print_row("24 blocks of 16 KiB", heap.stats());
  void* const large = heap.allocate(std::size_t{1} << 20);
  print_row("allocate(1 MiB)", heap.stats());
  const std::size_t usable = heap.usable_size(large);
  heap.deallocate(large);
  print_row("free the 1 MiB block", heap.stats());
  for (void* p : blocks) heap.deallocate(p);
  print_row("free every 16 KiB block", heap.stats());
  // [growth]
  std::printf("\nEach region is a heap of its own, asked oldest first; sizes double, so a heap of n\n"
              "bytes has O(log n) regions. The 1 MiB block never touched them: its mapping (%zu\n"
              "usable bytes, whole pages) went back to the kernel on free, as glibc does above\n"
              "M_MMAP_THRESHOLD. Once every block is freed, the emptied grown regions go back\n"
              "too, but one: the first region stays, and one empty region is kept for the\n"
              "next allocations.\n",
              usable);
  verify(heap, "section 3");
}

}  // namespace

int main() {
  say("heaplab, chapter 5: a real malloc, in layers");
  size_classes();
  quick_lists();
  growth_and_mappings();
  return demo_checks_passed() ? 0 : 1;
}
