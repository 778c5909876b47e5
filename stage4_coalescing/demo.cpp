// Chapter 4 demo: boundary tags, the four cases of coalescing, and the
// chapter's refinements: realloc in place, footer elision, the free list in
// address order, deferred coalescing. (Segregated fits, quick fit, growth
// past the region and mapped large blocks are chapter 5's demo.)
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
#include <string>
#include <string_view>
#include <vector>

#include "stage1_static_bump/demo_output.hpp"
#include "stage1_static_bump/heap_diagram.hpp"
#include "stage2_free_list/block.hpp"
#include "stage3_fit_strategies/fit_allocators.hpp"
#include "stage3_fit_strategies/measures.hpp"
#include "stage4_coalescing/address_ordered.hpp"
#include "stage4_coalescing/boundary_tags.hpp"
#include "stage4_coalescing/coalescing_allocator.hpp"
#include "stage4_coalescing/deferred_coalescing.hpp"
#include "stage4_coalescing/footer_elision.hpp"
#include "stage4_coalescing/tag_diagram.hpp"

namespace {

using namespace heaplab;

/// "$058": where the block whose payload is \p p starts, in \p heap's
/// region, as the pictures name it.
template <class A>
std::string block_offset(const A& heap, void* p) {
  return format_offset(heap.heap().blocks().offset_of(header_of(p)));
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
  DemoHeap<CoalescingFirstFit> tagged;
  free_block_between_two(tagged.heap);
  say("allocate(24), allocate(8), allocate(32), free the second (CoalescingFirstFit):");
  say(draw_tagged_blocks(tagged.heap));
  say("$000 is the prologue and the two cells past the break (the arrow) the epilogue:");
  say("allocated blocks that are never handed out, so every block has a block on each");
  say("side to ask \"are you free?\", and coalescing has no edge case.");

  DemoHeap<ElidedFirstFit> elided;
  free_block_between_two(elided.heap);
  say("\nThe same requests with footer elision (ElidedFirstFit): only a free block is ever");
  say("merged into from behind, so only free blocks keep a footer. Bit 1 of each size word,");
  say("P, says whether the block in front is allocated; when P=0 the footer in front is");
  say("there to read (the prologue's P bit is never read, so it is not shown):");
  say(draw_tagged_blocks(elided.heap));
  std::printf("allocate(24) now takes a block of %zu bytes instead of %zu, allocate(32) %zu\n"
              "instead of %zu; allocate(8) takes %zu either way, the smallest block.\n",
              tagged_block_size_for<ElidedFooters>(24), tagged_block_size_for<FooterTags>(24),
              tagged_block_size_for<ElidedFooters>(32), tagged_block_size_for<FooterTags>(32),
              tagged_block_size_for<FooterTags>(8));
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
  DemoHeap<CoalescingFirstFit> small;
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
              tagged_block_size_for<FooterTags>(kLeftRequest), tagged_block_size_for<FooterTags>(kXRequest),
              tagged_block_size_for<FooterTags>(kRightRequest));
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
  // Measured, not assumed: a pass runs only when an allocation finds no
  // block and something was freed (or split off) since the last pass.
  const std::size_t passes = ends[2].merge_passes;
  if (passes == 1) {
    say("DeferredFirstFit ran one merge pass: the first large request found no free block");
    say("and merged every run at once; the later ones found a merged run waiting.");
  } else {
    std::printf("DeferredFirstFit ran %zu merge passes: one each time an allocation found no free\n"
                "block with something freed or split off since the last pass.\n",
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
  DemoHeap<CoalescingFirstFit> small;
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

/// Section 5's workload with footers everywhere and with footer elision
/// (section 8 quotes the search lengths).
struct ElisionResults {
  Outcome footers;  ///< CoalescingFirstFit.
  Outcome elided;   ///< ElidedFirstFit.
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
  const std::size_t saved = r.footers.stats.high_water - r.elided.stats.high_water;
  std::printf("\nFooter elision saved %zu bytes of heap (%.1f%%) on the same requests: %zu bytes\n"
              "for each allocated block whose payload needs more than the links' %zu bytes.\n",
              saved,
              100.0 * static_cast<double>(saved) / static_cast<double>(r.footers.stats.high_water),
              kFooterSize, 2 * sizeof(void*));
  return r;
}

// ---------------------------------------------------------------- 6. address order

// [address_order]
/// Six blocks of 24 bytes; the first, third and fifth are freed in the
/// order 5, 1, 3 (their neighbours stay, so nothing merges). Prints the
/// free list \p A keeps, and which block allocate(24) takes from it.
template <class A>
void free_out_of_order(std::string_view name) {
  DemoHeap<A> small;
  A& heap = small.heap;
  std::array<void*, 6> blocks{};
  for (void*& p : blocks) p = heap.allocate(24);
  for (void* const p : {blocks[4], blocks[0], blocks[2]}) heap.deallocate(p);
  std::printf("%.*s:\n  %s\n", static_cast<int>(name.size()), name.data(), draw_free_lists(heap).c_str());
  void* const taken = heap.allocate(24);
  std::printf("  allocate(24) takes the block at %s\n", block_offset(heap, taken).c_str());
  verify(heap, name);
}
// [address_order]

void address_order() {
  print_heading("6. The free list in address order");
  say("A LIFO list puts a freed block at its head, in O(1): the last block freed is the");
  say("first reused. AddressOrderedFirstFit keeps the list sorted by address instead, so");
  say("first fit takes the lowest block that fits and the top of the heap stays free to");
  say("merge; an insertion walks the list to its place. The same frees on both:\n");
  free_out_of_order<CoalescingFirstFit>("CoalescingFirstFit (LIFO)");
  free_out_of_order<AddressOrderedFirstFit>("AddressOrderedFirstFit");
}

// ---------------------------------------------------------------- 7. deferred coalescing

void deferred_coalescing() {
  print_heading("7. Deferred coalescing: merge only when stuck");
  say("DeferredFirstFit lists a freed block as it is. Free neighbours merge only when an");
  say("allocation finds no block that fits: one pass over the heap merges every run of");
  say("free blocks, and the search runs again, before the break would move.\n");
  // [deferred_pass]
  DemoHeap<DeferredFirstFit> small;
  DeferredFirstFit& heap = small.heap;
  void* const left = heap.allocate(kLeftRequest);
  void* const x = heap.allocate(kXRequest);
  void* const right = heap.allocate(kRightRequest);
  (void)heap.allocate(8);  // stays: the run of free blocks ends here
  heap.deallocate(left);
  heap.deallocate(x);
  heap.deallocate(right);
  const auto picture = [&heap](std::string_view title) {
    const CoalescingStats s = heap.stats();
    return std::string(title) + '\n' + draw_tag_lines(heap) + '\n' + draw_free_lists(heap) +
           "\nmerges: " + std::to_string(s.merges) + ", passes: " + std::to_string(s.merge_passes);
  };
  const std::string before = picture("free left, x, right");
  const std::size_t used_before = heap.stats().used;
  // Only the three blocks together can hold this request.
  const std::size_t run = tagged_block_size_for<FooterTags>(kLeftRequest) +
                          tagged_block_size_for<FooterTags>(kXRequest) +
                          tagged_block_size_for<FooterTags>(kRightRequest);
  void* const whole = heap.allocate(run - kHeaderSize - kFooterSize);
  const std::string after = picture("allocate(" + std::to_string(run - kHeaderSize - kFooterSize) + ")");
  // [deferred_pass]
  const std::array<std::string, 2> columns{before, after};
  say(side_by_side(columns, 4));
  const std::size_t used_after = heap.stats().used;
  std::printf("\nThe request took the merged block at %s, where left was: the pass ran before the\n"
              "break would have moved (used: %zu bytes before, %zu after).\n",
              block_offset(heap, whole).c_str(), used_before, used_after);
  verify(heap, "section 7");
}

// ---------------------------------------------------------------- 8. what breaks next

void what_breaks_next(const ElisionResults& measured) {
  print_heading("8. What breaks next: toward a real malloc");
  DemoHeap<CoalescingFirstFit> small;
  void* const refused = small.heap.allocate(2 * kDemoRegionBytes);
  std::printf("One region. A chapter-4 heap is the region it was given: a %s heap answers\n"
              "allocate(%zu) with %s, and the break never moves back. glibc grows its heap\n"
              "and maps large blocks on their own, and gives memory back to the kernel.\n\n",
              format_bytes(kDemoRegionBytes).c_str(), 2 * kDemoRegionBytes, refused == nullptr ? "nullptr" : "a block");
  std::printf("One list. On section 5's workload a search looked at %.1f blocks on average. Real\n"
              "allocators keep one list per size class (segregated fits) and small freed blocks\n"
              "on quick lists of their exact size (glibc's tcache), so most searches look at one.\n\n",
              measured.footers.measures.visited_per_allocation);
  say("Threads. One heap behind one lock (Synchronized) makes every thread wait for every");
  say("other one's malloc. Real allocators give each thread a cache of free blocks (glibc's");
  say("tcache) or a heap of its own (mimalloc, jemalloc's arenas), and lock only to share.");
  say("");
  say("Chapter 5 builds the first two on this chapter's blocks: segregated fits, quick");
  say("lists, growth past the first region, and mappings for large blocks.");
  verify(small.heap, "section 8");
}

}  // namespace

int main() {
  say("heaplab, chapter 4: boundary tags and coalescing");
  block_layout();
  four_cases();
  fragmentation();
  realloc_in_place();
  const ElisionResults measured = footer_elision();
  address_order();
  deferred_coalescing();
  what_breaks_next(measured);
  return demo_checks_passed() ? 0 : 1;
}
