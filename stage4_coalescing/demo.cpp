// Chapter 4 demo: boundary tags, the four cases of coalescing, and the
// steps toward a real malloc.
//
// Run it with `cmake --workflow --preset tour` (all chapters) or build the
// `stage4_demo` target and run it alone. Every number it prints is measured
// on the allocators, not written in by hand, and nothing depends on where
// the memory lies: offsets count from each heap's start.
#include <array>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stage1_static_bump/chunk_source.hpp"
#include "stage1_static_bump/demo_output.hpp"
#include "stage1_static_bump/heap_diagram.hpp"
#include "stage2_free_list/block.hpp"
#include "stage3_fit_strategies/fit_allocators.hpp"
#include "stage3_fit_strategies/measures.hpp"
#include "stage4_coalescing/boundary_tags.hpp"
#include "stage4_coalescing/coalescing_allocator.hpp"
#include "stage4_coalescing/free_lists.hpp"
#include "stage4_coalescing/tag_diagram.hpp"

namespace {

using namespace heaplab;

/// Bytes of each small heap: a 16-byte start map and room for a few
/// hundred bytes of blocks.
constexpr std::size_t kSmallRegion = 1024;

/// An allocator of type \p A on a small region of its own. The region is
/// aligned as malloc's memory is, so that the heap's blocks lie at the
/// same offsets on every run.
template <class A>
struct SmallHeap {
  alignas(16) std::array<std::byte, kSmallRegion> region{};
  A heap{region};
};

/// False once any heap of the demo has failed its check(); main() returns 1.
bool all_checks_passed = true;

/// Runs \p heap's check() and says so only when it fails: a demo whose
/// pictures come from a broken heap must not pass the tour quietly.
template <class A>
void verify(const A& heap, std::string_view where) {
  const CheckResult result = heap.check();
  if (result) return;
  all_checks_passed = false;
  std::printf("check() FAILED in %.*s: \"%.*s\" at offset %zu\n", static_cast<int>(where.size()), where.data(),
              static_cast<int>(result.failed_invariant.size()), result.failed_invariant.data(), result.offset);
}

/// "$058": where the block whose payload is \p p starts, in \p heap's
/// first region, as the pictures name it.
template <class A>
std::string block_offset(const A& heap, void* p) {
  return format_offset(heap.first_region().offset_of(header_of(p)));
}

// ---------------------------------------------------------------- 1. layout

// [layout]
/// allocate(24), allocate(8), allocate(32), then free the middle one: a
/// free block between two allocated ones.
template <class A>
void free_block_between_two(A& heap) {
  (void)heap.allocate(24);
  void* const middle = heap.allocate(8);
  (void)heap.allocate(32);
  heap.deallocate(middle);
}
// [layout]

void block_layout() {
  print_heading("1. The block of chapter 4: header, payload, footer");
  std::printf("Chapter 2's header stays: the size word (size | flags) and the requested bytes.\n"
              "Chapter 4 adds a footer, a copy of the size word in the block's last %zu bytes:\n"
              "the block after it reads the footer just in front of its own header and finds\n"
              "where its neighbour starts, in O(1). A free block also keeps two links, next and\n"
              "prev, so that any block can leave its list in O(1). The smallest block is\n"
              "header %zu + links %zu + footer %zu = %zu bytes.\n\n",
              kFooterSize, kHeaderSize, 2 * sizeof(void*), kFooterSize, kMinTaggedBlockSize);
  SmallHeap<CoalescingFirstFit> tagged;
  free_block_between_two(tagged.heap);
  say("allocate(24), allocate(8), allocate(32), free the second (CoalescingFirstFit):");
  say(draw_tagged_blocks(tagged.heap));
  say("$000 is the prologue and the two cells past the break (the arrow) the epilogue:");
  say("allocated blocks that are never handed out, so every block has a block on each");
  say("side to ask \"are you free?\", and coalescing has no edge case.");

  SmallHeap<ElidedFirstFit> elided;
  free_block_between_two(elided.heap);
  say("\nThe same requests with footer elision (ElidedFirstFit): only a free block is ever");
  say("merged into from behind, so only free blocks keep a footer. Bit 1 of each size word,");
  say("P, says whether the block in front is allocated; when P=0 the footer in front is");
  say("there to read (the prologue's P bit is never read, so it is not shown):");
  say(draw_tagged_blocks(elided.heap));
  std::printf("allocate(24) now takes a block of %zu bytes instead of %zu, allocate(32) %zu\n"
              "instead of %zu; allocate(8) takes %zu either way, the smallest block.\n",
              tagged_block_size_for(24, Footers::free_blocks_only), tagged_block_size_for(24, Footers::everywhere),
              tagged_block_size_for(32, Footers::free_blocks_only), tagged_block_size_for(32, Footers::everywhere),
              tagged_block_size_for(8, Footers::everywhere));
  verify(tagged.heap, "section 1");
  verify(elided.heap, "section 1");
}

// ---------------------------------------------------------------- 2. the four cases

// [four_cases]
/// One case of coalescing: which neighbours of x are free when x is freed.
struct Case {
  const char* name;  ///< "Case 2: [A][x][F]".
  const char* what;  ///< What deallocate(x) does in this case.
  bool left_free;    ///< The block in front of x is free.
  bool right_free;   ///< The block after x is free.
};

/// The requests of the three blocks: left, x and right.
constexpr std::size_t kLeftRequest = 16;
constexpr std::size_t kXRequest = 24;
constexpr std::size_t kRightRequest = 32;

constexpr Case kCases[] = {
    {"Case 1: [A][x][A]", "nothing to merge; x goes on the list as it is", false, false},
    {"Case 2: [A][x][F]", "x absorbs the free block after it", false, true},
    {"Case 3: [F][x][A]", "the free block in front absorbs x", true, false},
    {"Case 4: [F][x][F]", "the block in front absorbs x and the block after", true, true},
};

/// Three blocks, left, x and right, with the neighbours of x freed as
/// \p c says; then x is freed. Returns the heap before and after, with its
/// free list and merges counter, as two columns.
std::array<std::string, 2> free_x_between(const Case& c) {
  SmallHeap<CoalescingFirstFit> small;
  CoalescingFirstFit& heap = small.heap;
  void* const left = heap.allocate(kLeftRequest);
  void* const x = heap.allocate(kXRequest);
  void* const right = heap.allocate(kRightRequest);
  if (c.left_free) heap.deallocate(left);
  if (c.right_free) heap.deallocate(right);
  const auto picture = [&heap](std::string_view title) {
    return std::string(title) + '\n' + draw_tag_lines(heap) + '\n' + draw_free_lists(heap) +
           "\nmerges: " + std::to_string(heap.stats().merges);
  };
  const std::string before = picture("before deallocate(x)");
  heap.deallocate(x);
  verify(heap, c.name);
  return {before, picture("after")};
}
// [four_cases]

void four_cases() {
  print_heading("2. The four cases of coalescing");
  say("deallocate(x) reads the footer in front of x (under elision: x's P bit) and the");
  say("header after x, and merges x with whichever neighbours are free: four cases, as in");
  say("CS:APP's coalesce().");
  std::printf("Three blocks, left (%zu B), x (%zu B) and right (%zu B), on a fresh heap each time;\n"
              "each line is [header word]  payload  [footer word]:\n",
              tagged_block_size_for(kLeftRequest, Footers::everywhere),
              tagged_block_size_for(kXRequest, Footers::everywhere),
              tagged_block_size_for(kRightRequest, Footers::everywhere));
  for (const Case& c : kCases) {
    std::printf("\n%s: %s\n", c.name, c.what);
    say(side_by_side(free_x_between(c), 4));
  }
  say("\nThe merged block takes over the start of the first block and the footer of the");
  say("last; the blocks it absorbed stop being blocks (their headers are just bytes now).");
  say("No two free blocks are ever side by side: check() verifies it after every free.");
}

// ---------------------------------------------------------------- 3. fragmentation

// [runs_then_large]
/// Section 3's sequence: kRuns runs of kRunLength small objects, each run
/// followed by one long-lived object; every run is freed; then one large
/// request per run, a little smaller than the run was.
constexpr std::size_t kRuns = 8;
constexpr std::size_t kRunLength = 8;
constexpr std::size_t kSmallRequest = 48;
constexpr std::size_t kLongLivedRequest = 8;
constexpr std::size_t kLargeRequest = 544;

/// Runs the sequence on \p heap; returns how many large requests were
/// served in place, in memory a freed run had held, rather than by
/// growing the heap.
template <class A>
std::size_t runs_then_large(A& heap) {
  struct Run {
    std::array<void*, kRunLength> small{};  ///< Allocated one after the other...
    void* long_lived = nullptr;             ///< ...and this one right after them.
  };
  std::array<Run, kRuns> runs{};
  for (Run& run : runs) {
    for (void*& p : run.small) p = heap.allocate(kSmallRequest);
    run.long_lived = heap.allocate(kLongLivedRequest);
  }
  for (const Run& run : runs) {
    for (void* const p : run.small) heap.deallocate(p);
  }
  std::size_t in_place = 0;
  for (std::size_t i = 0; i < kRuns; ++i) {
    const void* const large = heap.allocate(kLargeRequest);
    for (const Run& run : runs) {
      if (address_in(large, run.small.front(), run.long_lived)) ++in_place;
    }
  }
  return in_place;
}
// [runs_then_large]

/// Bytes of section 3's regions: room for the sequence without merging.
constexpr std::size_t kSequenceRegion = 16 * 1024;

/// What section 3 prints below its table for one allocator.
struct SequenceEnd {
  std::string walk;              ///< Its name and the start of its block walk.
  std::size_t merge_passes = 0;  ///< Whole-heap merge passes (deferred coalescing).
};

/// Runs section 3's sequence on a fresh \p A and prints its row of the
/// table.
template <class A>
SequenceEnd run_sequence_and_print(std::string_view name) {
  std::vector<std::byte> region(kSequenceRegion);
  A heap(region);
  const std::size_t in_place = runs_then_large(heap);
  const auto s = heap.stats();
  const Measures m = measure(heap);
  std::size_t merges = 0;
  std::size_t merge_passes = 0;
  if constexpr (requires { s.merges; }) {  // chapter 4's counters
    merges = s.merges;
    merge_passes = s.merge_passes;
  }
  std::printf("  %-18.*s  %4zu of %zu  %10.1f%%  %10s  %9s  %12s  %7.1f%%  %6zu\n", static_cast<int>(name.size()),
              name.data(), in_place, kRuns, 100.0 * m.utilization, format_bytes(s.high_water).c_str(),
              format_bytes(m.free_bytes).c_str(), format_bytes(m.largest_free_block).c_str(),
              100.0 * m.external_fragmentation, merges);
  verify(heap, name);
  return {"  " + std::string(name) + ":\n    " + draw_block_walk(heap, 9), merge_passes};
}

void fragmentation() {
  print_heading("3. Fragmentation with and without coalescing");
  std::printf("One sequence on three allocators: %zu runs of %zu x allocate(%zu), each run followed\n"
              "by an allocate(%zu) that stays; every run is freed; then %zu x allocate(%zu), each a\n"
              "little smaller than a run. In place: the large block lies where a run was.\n\n",
              kRuns, kRunLength, kSmallRequest, kLongLivedRequest, kRuns, kLargeRequest);
  say("  allocator           in place  utilization  high-water       free  largest free  ext frag  merges");
  const SequenceEnd ends[] = {run_sequence_and_print<FirstFitAllocator>("FirstFitAllocator"),
                              run_sequence_and_print<CoalescingFirstFit>("CoalescingFirstFit"),
                              run_sequence_and_print<DeferredFirstFit>("DeferredFirstFit")};
  say("\nThe first blocks of each heap at the end:");
  for (const SequenceEnd& end : ends) say(end.walk);
  say("\nChapter 3's allocator keeps every freed run as small blocks that no large request");
  say("fits, so each large request grows the heap. With coalescing each freed run is one");
  say("block again, and the large request takes it. Deferred coalescing leaves the small");
  say("blocks alone until the first large request finds none that fits; a pass over the");
  say("heap then merges every run, with the same result.");
  const std::size_t passes = ends[2].merge_passes;
  if (passes > 1) {
    // Each allocation that grows the heap runs a pass first, even when
    // nothing was freed since the last one: worth knowing before choosing it.
    std::printf("DeferredFirstFit ran %zu such passes, not one: every allocation that found no\n"
                "free block passed over the heap before growing it, with nothing to merge.\n",
                passes);
  }
}

// ---------------------------------------------------------------- 4. realloc in place

/// Prints one step of section 4: what was done, the heap after it, whether
/// p still holds \p text and, for a reallocate() of \p old_p, whether p
/// kept its address.
void show_step(const CoalescingFirstFit& heap, std::string_view step, const void* p, std::string_view text,
               const void* old_p = nullptr) {
  const bool kept = p != nullptr && std::memcmp(p, text.data(), text.size()) == 0;
  std::printf("  %-45.*s  %-20s  %-3s", static_cast<int>(step.size()), step.data(), draw_block_walk(heap).c_str(),
              kept ? "yes" : "no");
  if (old_p != nullptr) std::printf("         %s", p == old_p ? "yes" : "no");
  std::printf("\n");
}

void realloc_in_place() {
  print_heading("4. reallocate() in place: the pointer does not move");
  say("Chapter 2's reallocate() moved the block whenever it grew. With boundary tags a");
  say("block can shrink by splitting its tail off, or grow into a free block after it, or,");
  say("as the last block of the heap, move the break (CoalescingFirstFit, a 1 KiB heap).");
  say("p holds 16 bytes of text throughout:");
  say("");
  say("  step                                           blocks after          bytes kept  same pointer");
  // [realloc_in_place]
  SmallHeap<CoalescingFirstFit> small;
  CoalescingFirstFit& heap = small.heap;
  constexpr std::string_view kText = "sixteen bytes...";
  void* p = heap.allocate(64);
  std::memcpy(p, kText.data(), kText.size());
  void* const q = heap.allocate(32);
  show_step(heap, "p = allocate(64); q = allocate(32)", p, kText);
  void* old_p = p;
  p = heap.reallocate(p, 16);
  show_step(heap, "reallocate(p, 16): shrink, the tail is freed", p, kText, old_p);
  heap.deallocate(q);
  show_step(heap, "deallocate(q): merges with that tail", p, kText);
  old_p = p;
  p = heap.reallocate(p, 64);
  show_step(heap, "reallocate(p, 64): grow into the free block", p, kText, old_p);
  old_p = p;
  p = heap.reallocate(p, 200);
  show_step(heap, "reallocate(p, 200): grow at the end", p, kText, old_p);
  (void)heap.allocate(8);
  old_p = p;
  p = heap.reallocate(p, 400);
  show_step(heap, "allocate(8); reallocate(p, 400): must move", p, kText, old_p);
  // [realloc_in_place]
  verify(heap, "section 4");
  say("\nWhen neither is possible (here the block after p is allocated) reallocate() moves");
  say("p, copies the bytes and frees the old block, as chapter 2 always did.");
}

// ---------------------------------------------------------------- 5. footer elision

/// Bytes of the region the random workload of section 5 runs on.
constexpr std::size_t kWorkloadRegion = 256 * 1024;
/// Objects the random workload keeps alive, about: below this it only allocates.
constexpr std::size_t kLiveObjects = 300;
/// Operations of the random workload.
constexpr std::size_t kOperations = 4000;

/// What a run of the workload left: the allocator's numbers and measures.
struct Outcome {
  CoalescingStats stats;  ///< The allocator's own counters.
  Measures measures;      ///< measure() of its heap.
};

// [small_objects]
/// Runs \p kOperations random allocations and frees of small objects (16
/// to 128 bytes) on a fresh \p A and prints its row. As in chapter 3, the
/// sizes are the engine's raw output reduced with `%`, and depend only on
/// the seed and the number of live objects, so every allocator serves the
/// same requests.
template <class A>
Outcome run_small_objects(std::string_view name) {
  std::vector<std::byte> region(kWorkloadRegion);
  A heap(region);
  std::mt19937 random(4);
  std::vector<void*> live;
  for (std::size_t i = 0; i < kOperations; ++i) {
    if (live.size() < kLiveObjects || random() % 2 == 0) {
      live.push_back(heap.allocate(16 + random() % 113));
    } else {
      // Free a random live object; the last one takes its place.
      const std::size_t victim = random() % live.size();
      heap.deallocate(live[victim]);
      live[victim] = live.back();
      live.pop_back();
    }
  }
  const CoalescingStats s = heap.stats();
  const Measures m = measure(heap);
  std::printf("  %-22.*s  %10s  %13s  %11.1f%%  %13.1f\n", static_cast<int>(name.size()), name.data(),
              format_bytes(s.high_water).c_str(), format_bytes(s.header_bytes).c_str(), 100.0 * m.utilization,
              m.visited_per_allocation);
  verify(heap, name);
  return {s, m};
}
// [small_objects]

/// Section 5's workload on one list with footers, on one list with footer
/// elision, and with segregated fits (section 6 quotes the last).
struct ElisionResults {
  Outcome footers;    ///< CoalescingFirstFit.
  Outcome elided;     ///< ElidedFirstFit.
  Outcome segregated; ///< SegregatedFitAllocator.
};

ElisionResults footer_elision() {
  print_heading("5. Footer elision: the bytes it saves");
  std::printf("%zu random allocations and frees of 16 to 128 bytes, about %zu objects live;\n"
              "tags: header and footer bytes inside the live blocks at the end.\n\n",
              kOperations, kLiveObjects);
  say("  allocator               high-water  tags in blocks  utilization  visited/alloc");
  ElisionResults r;
  r.footers = run_small_objects<CoalescingFirstFit>("CoalescingFirstFit");
  r.elided = run_small_objects<ElidedFirstFit>("ElidedFirstFit");
  r.segregated = run_small_objects<SegregatedFitAllocator>("SegregatedFitAllocator");
  const std::size_t saved = r.footers.stats.high_water - r.elided.stats.high_water;
  std::printf("\nFooter elision saved %zu bytes of heap (%.1f%%) on the same requests: %zu bytes\n"
              "for each allocated block whose payload needs more than the links' %zu bytes.\n",
              saved,
              100.0 * static_cast<double>(saved) / static_cast<double>(r.footers.stats.high_water),
              kFooterSize, 2 * sizeof(void*));
  return r;
}

// ---------------------------------------------------------------- 6. segregated fits

/// Bytes of section 6's heap.
constexpr std::size_t kClassesRegion = 4 * 1024;

// [size_classes]
/// Allocates a block for each of \p requests, each followed by a small
/// block that stays (so that the freed blocks cannot merge), frees them,
/// and prints which class's list each freed block went on.
void free_blocks_of_several_sizes(SegregatedFitAllocator& heap, std::span<const std::size_t> requests) {
  std::vector<void*> blocks;
  for (const std::size_t request : requests) {
    blocks.push_back(heap.allocate(request));
    (void)heap.allocate(8);  // the block that keeps its neighbours apart
  }
  say("  request  block  at    freed, it goes on");
  for (void* const p : blocks) {
    const std::size_t size = block_size(*header_of(p));
    const std::size_t index = SizeClasses::of(size);
    std::printf("  %7zu  %5zu  %s  class %zu (%s)\n", header_of(p)->requested, size,
                block_offset(heap, p).c_str(), index, describe_size_class(index).c_str());
    heap.deallocate(p);
  }
}
// [size_classes]

void segregated_fits(const ElisionResults& measured) {
  print_heading("6. Segregated fits: one list per size class");
  std::printf("SegregatedFitAllocator keeps %zu lists: one per block size below %zu bytes (40, 48,\n"
              "..., 504), then one per power of two. A bitmap marks the non-empty lists.\n\n",
              SizeClasses::kCount, SizeClasses::kExactLimit);
  std::vector<std::byte> region(kClassesRegion);
  SegregatedFitAllocator heap(region);
  // The 616-byte block is freed last, so it heads class 59's list.
  constexpr std::size_t kRequests[] = {24, 40, 100, 1000, 600};
  free_blocks_of_several_sizes(heap, kRequests);
  say("");
  say(draw_free_lists(heap));

  const auto take = [&heap](std::size_t request, std::string_view why) {
    const std::size_t needed = tagged_block_size_for(request, Footers::free_blocks_only);
    void* const p = heap.allocate(request);
    std::printf("\nallocate(%zu) needs a %zu-byte block, class %zu, and gets the %zu-byte block at %s.\n",
                request, needed, SizeClasses::of(needed), block_size(*header_of(p)),
                block_offset(heap, p).c_str());
    say(why);
    say(draw_free_lists(heap));
  };
  take(32, "Its class is empty, so the bitmap finds the next class with a block; any block of\n"
           "a larger exact class fits, and what is left of this one is too small to split off.");
  take(700, "A power-of-two class: its blocks may be too small, as the head of the list is.\n"
            "First fit passes it and takes the next, whose rest goes on the class of its size.");
  verify(heap, "section 6");
  std::printf("\nOn section 5's workload a search looked at %.1f blocks on average on one list,\n"
              "%.1f with segregated fits.\n",
              measured.footers.measures.visited_per_allocation, measured.segregated.measures.visited_per_allocation);
}

// ---------------------------------------------------------------- 7. growth and large blocks

// [growth]
/// Where section 7's allocator grows from: the process's mmap source, in
/// regions of 64 KiB, doubling up to 256 KiB.
Upstream small_regions_from_mmap() {
  return Upstream{.source = &default_chunk_source(),
                  .mmap_threshold = std::size_t{128} * 1024,
                  .growth = {.first_chunk = std::size_t{64} * 1024,
                             .max_chunk = std::size_t{256} * 1024,
                             .limit = std::size_t{64} * 1024 * 1024}};
}
// [growth]

/// Bytes of section 7's first region, which the caller provides.
constexpr std::size_t kFirstRegion = 4 * 1024;
/// The objects of section 7, and how many of them.
constexpr std::size_t kObjectSize = 1024;
constexpr std::size_t kObjects = 300;

/// What section 8 quotes of section 7: the memory held once every block
/// has been freed.
struct HeldAfterFree {
  std::size_t regions = 0;   ///< Regions still held.
  std::size_t capacity = 0;  ///< Their bytes (no mapping is left).
};

/// Prints one row of section 7's table.
void print_growth_row(std::string_view step, const CoalescingStats& s) {
  std::printf("  %-30.*s  %7zu  %13zu  %12s  %9s\n", static_cast<int>(step.size()), step.data(), s.regions,
              s.mapped_blocks, format_bytes(s.capacity).c_str(), format_bytes(s.used).c_str());
}

HeldAfterFree growth_and_large_blocks() {
  print_heading("7. Growing past the first region; large blocks in mappings of their own");
  std::printf("CoalescingFirstFit on a %s region of the caller's, growing from the process's\n"
              "mmap source (default_chunk_source()) in regions of 64 KiB, then 128 and 256 KiB;\n"
              "requests of 128 KiB or more get a mapping of their own. %zu blocks of 1 KiB, then\n"
              "one of 1 MiB; capacity counts every region and mapping, used up to each break.\n\n",
              format_bytes(kFirstRegion).c_str(), kObjects);
  std::vector<std::byte> region(kFirstRegion);
  CoalescingFirstFit heap(region, small_regions_from_mmap());
  say("  step                            regions  mapped blocks      capacity       used");
  print_growth_row("a fresh heap", heap.stats());
  std::vector<void*> objects;
  std::size_t regions = heap.stats().regions;
  for (std::size_t i = 0; i < kObjects; ++i) {
    objects.push_back(heap.allocate(kObjectSize));
    if (heap.stats().regions != regions) {  // this allocation opened a region
      regions = heap.stats().regions;
      print_growth_row("1 KiB block #" + std::to_string(i + 1) + ": a new region", heap.stats());
    }
  }
  print_growth_row("1 KiB block #" + std::to_string(kObjects), heap.stats());
  void* const large = heap.allocate(std::size_t{1024} * 1024);
  print_growth_row("allocate(1 MiB)", heap.stats());
  verify(heap, "section 7");
  heap.deallocate(large);
  print_growth_row("free the 1 MiB block", heap.stats());
  for (void* const p : objects) heap.deallocate(p);
  const CoalescingStats s = heap.stats();
  print_growth_row("free every 1 KiB block", s);
  verify(heap, "section 7");
  say("\nThe old region's tail stays unused when a new one opens, and region sizes double,");
  say("so a heap of n bytes has O(log n) regions. The 1 MiB block never touched the heap:");
  say("its mapping went straight back to the kernel when it was freed.");
  return {s.regions, s.capacity};
}

// ---------------------------------------------------------------- 8. what breaks next

void what_breaks_next(const HeldAfterFree& held) {
  print_heading("8. What breaks next: toward a real allocator");
  std::printf("Returning memory. After section 7 freed every block, the heap still holds %zu\n"
              "regions, %s, and the break of each stays where it was: only the mapped block\n"
              "went back. glibc trims the top of its heap and hands free pages back with\n"
              "madvise; mimalloc returns whole empty segments to the operating system.\n\n",
              held.regions, format_bytes(held.capacity).c_str());
  say("Threads. One heap behind one lock (Synchronized) makes every thread wait for every");
  say("other one's malloc. Real allocators give each thread a cache of free blocks (glibc's");
  say("tcache) or a heap of its own (mimalloc, jemalloc's arenas), and lock only to share.");
  say("");
  say("Many size classes. Our classes are exact only below 512 bytes, and every block still");
  say("pays a header. TLSF splits every power of two into finer classes, so any search is");
  say("O(1); mimalloc and jemalloc keep each small size in pages of its own and drop the");
  say("header altogether: the page says what size its blocks are.");
}

}  // namespace

int main() {
  say("heaplab, chapter 4: boundary tags, coalescing, toward a real malloc");
  block_layout();
  four_cases();
  fragmentation();
  realloc_in_place();
  const ElisionResults measured = footer_elision();
  segregated_fits(measured);
  const HeldAfterFree held = growth_and_large_blocks();
  what_breaks_next(held);
  return all_checks_passed ? 0 : 1;
}
