// Chapter 3 demo: four placement policies, splitting and fragmentation.
//
// Run it with `cmake --workflow --preset tour` (all chapters) or build the
// `stage3_demo` target and run it alone. Every number it prints is measured
// on the allocators, not written in by hand.
#include <array>
#include <cstddef>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "stage1_static_bump/demo_output.hpp"
#include "stage1_static_bump/heap_diagram.hpp"
#include "stage2_free_list/block.hpp"
#include "stage2_free_list/block_diagram.hpp"
#include "stage3_fit_strategies/fit_allocators.hpp"
#include "stage3_fit_strategies/measures.hpp"

namespace {

using namespace heaplab;

/// How the demo names a policy, and the rule by which it picks a block.
struct Words {
  const char* name;  ///< "first fit".
  const char* rule;  ///< "first on the list that fits".
};
constexpr Words about(FirstFit) { return {"first fit", "first on the list that fits"}; }
constexpr Words about(NextFit) { return {"next fit", "first that fits after the rover"}; }
constexpr Words about(BestFit) { return {"best fit", "smallest that fits"}; }
constexpr Words about(WorstFit) { return {"worst fit", "largest"}; }

/// Bytes of each small heap: a 16-byte start map and room for a few
/// hundred bytes of blocks.
constexpr std::size_t kSmallRegion = 1024;

/// One policy's heap, on a region of its own. The region is aligned as
/// malloc's memory is, so that the bump allocator under the heap trims
/// nothing and every lane's blocks lie at the same offsets.
template <class Policy>
struct Lane {
  alignas(16) std::array<std::byte, kSmallRegion> region{};
  FitAllocator<Policy> heap{region};
};

/// The four policies' heaps, to run the same requests on each.
struct Lanes {
  Lane<FirstFit> first;
  Lane<NextFit> next;
  Lane<BestFit> best;
  Lane<WorstFit> worst;

  /// Calls \p visit with each heap, in the chapter's order.
  template <class Visitor>
  void for_each(Visitor&& visit) {
    visit(first.heap);
    visit(next.heap);
    visit(best.heap);
    visit(worst.heap);
  }
};

/// Next fit's rover, the block after which its next search starts: "$158",
/// or "" when it has none and the next search starts at the head.
std::string rover_offset(const NextFitAllocator& heap) {
  const BlockHeader* const rover = heap.free_list().policy().rover();
  return rover == nullptr ? "" : format_offset(heap.heap().offset_of(rover));
}

// [holes]
/// The requests that make the holes, and the order they are freed in.
constexpr std::size_t kHoleRequests[] = {64, 200, 32, 120};
constexpr std::size_t kFreeOrder[] = {1, 0, 3, 2};

/// Carves one block per hole request, each followed by a small spacer that
/// stays allocated (the live data between the holes), then frees the holes.
/// Nothing is reused on the way, so every policy ends with the same heap.
template <class Heap>
void make_holes(Heap& heap) {
  std::array<void*, std::size(kHoleRequests)> holes{};
  for (std::size_t i = 0; i < holes.size(); ++i) {
    holes[i] = heap.allocate(kHoleRequests[i]);
    (void)heap.allocate(8);  // the spacer
  }
  for (const std::size_t hole : kFreeOrder) heap.deallocate(holes[hole]);
}
// [holes]

void the_holes(Lanes& lanes) {
  print_heading("1. One heap with holes of four sizes");
  lanes.for_each([](auto& heap) { make_holes(heap); });
  say("Four blocks, each followed by a small spacer that stays allocated; then the four");
  say("are freed. Every policy's heap starts out like this (address order):");
  say("");
  say(draw_block_lines(lanes.first.heap.heap()));
  say("");
  say("The list is LIFO, so a search meets the holes in the reverse order of the frees:");
  say(draw_free_list(lanes.first.heap));
}

// [serve]
/// What one allocation did: the block handed out, and the free block it was
/// cut from (none when the heap grew instead).
struct Taken {
  std::size_t offset = 0;     ///< Where the block handed out starts.
  std::size_t size = 0;       ///< Its size, a tail too small to split included.
  std::size_t from_size = 0;  ///< The free block it was cut from; 0 when carved at the break.
};

/// Serves allocate(\p request) on \p heap and finds out where it came from.
/// Precondition: the heap has room (the small heaps here always do).
template <class Policy>
Taken allocate_and_see(FitAllocator<Policy>& heap, std::size_t request) {
  std::vector<BlockView> free_before;
  heap.for_each_block([&](const BlockView& block) {
    if (block.state == BlockState::free) free_before.push_back(block);
  });
  const BlockHeader& block = *header_of(heap.allocate(request));
  Taken taken{heap.heap().offset_of(&block), block_size(block), 0};
  // An 8-aligned request is cut from the front of a free block, so the
  // block handed out starts where that free block started.
  for (const BlockView& free : free_before) {
    if (free.offset == taken.offset) taken.from_size = free.size;
  }
  return taken;
}

/// What became of the rest of the free block: a block of its own, a tail
/// kept by the allocation, or nothing.
std::string what_is_left(const Taken& taken, std::size_t request) {
  if (taken.from_size == 0) return "carved at the break: the heap grows";
  if (taken.size < taken.from_size) {
    return "split: " + std::to_string(taken.from_size - taken.size) + " B stay free at " +
           format_offset(taken.offset + taken.size);
  }
  const std::size_t tail = taken.size - block_size_for(request);
  if (tail != 0) return std::to_string(tail) + " B tail kept: too small to split";
  return "exact fit: nothing left";
}

/// Serves allocate(\p request) on \p heap and prints the block it took, by
/// which rule, and what was left of that block.
template <class Policy>
void serve_and_explain(FitAllocator<Policy>& heap, std::size_t request) {
  const Taken taken = allocate_and_see(heap, request);
  const bool reused = taken.from_size != 0;
  std::printf("  %-9s  %-5s  %5zu B  %-31s  %s\n", about(Policy{}).name, format_offset(taken.offset).c_str(),
              reused ? taken.from_size : taken.size, reused ? about(Policy{}).rule : "none fits",
              what_is_left(taken, request).c_str());
}
// [serve]

/// The requests of section 2, in order.
constexpr std::size_t kRequests[] = {64, 24, 88, 40, 120};

void same_requests(Lanes& lanes) {
  print_heading("2. The same requests under each policy");
  std::printf("A request takes a block of header + payload. The chosen free block is split when\n"
              "the rest can be a block of its own (kMinBlockSize, %zu B); a smaller tail stays\n"
              "with the allocation, as internal fragmentation. Next fit's rover marks where\n"
              "its last search stopped: its next search starts after that block.\n",
              kMinBlockSize);
  for (const std::size_t request : kRequests) {
    const std::string rover = rover_offset(lanes.next.heap);
    std::printf("\nallocate(%zu) needs a block of %zu bytes; next fit's rover: %s\n", request,
                block_size_for(request), rover.empty() ? "none (it starts at the head)" : rover.c_str());
    say("  policy     takes  of size  rule                             what is left");
    lanes.for_each([&](auto& heap) { serve_and_explain(heap, request); });
  }
}

// [four_heaps]
/// One heap as a column: the allocator's \p name, its blocks, its size and,
/// for next fit, where the next search starts (its rover). The name is the
/// allocator's, not the policy's: chapter 4 builds other allocators on the
/// same policies.
template <class Policy>
std::string column(std::string_view name, const FitAllocator<Policy>& heap) {
  std::string text(name);
  text += '\n' + std::string(text.size(), '-') + '\n' + draw_block_lines(heap.heap());
  text += "\nheap: " + std::to_string(heap.stats().used) + " B";
  if constexpr (std::is_same_v<Policy, NextFit>) {
    const std::string rover = rover_offset(heap);
    text += "\nrover: " + (rover.empty() ? "none (head)" : rover);
  }
  return text;
}

void four_heaps(Lanes& lanes) {
  print_heading("3. The four heaps side by side");
  const std::vector<std::string> columns{column("FirstFitAllocator", lanes.first.heap),
                                         column("NextFitAllocator", lanes.next.heap),
                                         column("BestFitAllocator", lanes.best.heap),
                                         column("WorstFitAllocator", lanes.worst.heap)};
  say(side_by_side(columns));
}
// [four_heaps]

constexpr std::string_view kMeasuresHeader =
    "  policy     utilization  high-water  internal       free  largest free  ext frag  visited/alloc";

/// One policy's numbers at the end of a run.
struct Outcome {
  FreeListStats stats;  ///< The allocator's own counters.
  Measures measures;    ///< measure() of its heap.
};

/// Measures \p heap and prints its row of a measures table.
template <class Policy>
Outcome measure_and_print(const FitAllocator<Policy>& heap) {
  const FreeListStats s = heap.stats();
  const Measures m = measure(heap);
  std::printf("  %-9s  %10.1f%%  %10s  %8s  %9s  %12s  %7.1f%%  %13.1f\n", about(Policy{}).name,
              100.0 * m.utilization, format_bytes(s.high_water).c_str(),
              format_bytes(m.internal_fragmentation).c_str(), format_bytes(m.free_bytes).c_str(),
              format_bytes(m.largest_free_block).c_str(), 100.0 * m.external_fragmentation,
              m.visited_per_allocation);
  if (s.exhausted != 0) std::printf("             (%zu requests refused)\n", s.exhausted);
  return {s, m};
}

// [workload]
/// Bytes of the region the random workload runs on.
constexpr std::size_t kWorkloadRegion = 256 * 1024;
/// Objects the random workload keeps alive, about: below this it only allocates.
constexpr std::size_t kLiveObjects = 300;

/// A request size of a program with objects of very different sizes: most
/// small (16 to 128 bytes), one in eight a buffer of 512 bytes to 2 KiB.
/// The numbers are the engine's raw output reduced with `%`:
/// std::uniform_int_distribution may differ from one standard library to
/// another, a seeded std::mt19937's output may not.
std::size_t random_size(std::mt19937& random) {
  const bool buffer = random() % 8 == 0;
  return buffer ? 512 + random() % 1537 : 16 + random() % 113;
}

/// Runs \p operations random allocations and frees on a fresh heap placed
/// by \p Policy and prints its row. The random numbers depend only on the
/// seed and on how many objects are live, never on where the allocator put
/// them, so every policy serves exactly the same requests.
template <class Policy>
Outcome run_random_workload(std::size_t operations) {
  std::vector<std::byte> region(kWorkloadRegion);
  FitAllocator<Policy> heap(region);
  std::mt19937 random(3);
  std::vector<void*> live;  // a refused request is kept as nullptr: freeing it is a no-op
  for (std::size_t i = 0; i < operations; ++i) {
    if (live.size() < kLiveObjects || random() % 2 == 0) {
      live.push_back(heap.allocate(random_size(random)));
    } else {
      // Free a random live object; the last one takes its place.
      const std::size_t victim = random() % live.size();
      heap.deallocate(live[victim]);
      live[victim] = live.back();
      live.pop_back();
    }
  }
  return measure_and_print(heap);
}
// [workload]

void measured(Lanes& lanes) {
  print_heading("4. Measured: the small heaps, then a larger workload");
  say("internal: allocated block bytes - requested bytes (headers, rounding, kept tails);");
  say("ext frag: 1 - largest free block / free bytes. The four heaps of section 3:");
  say("");
  say(kMeasuresHeader);
  lanes.for_each([](const auto& heap) { (void)measure_and_print(heap); });

  constexpr std::size_t kOperations = 4000;
  std::printf("\n%zu random allocations and frees on a %s region, the same for each policy:\n\n",
              kOperations, format_bytes(kWorkloadRegion).c_str());
  say(kMeasuresHeader);
  const Outcome first = run_random_workload<FirstFit>(kOperations);
  (void)run_random_workload<NextFit>(kOperations);
  const Outcome best = run_random_workload<BestFit>(kOperations);
  const Outcome worst = run_random_workload<WorstFit>(kOperations);
  std::printf("\nThe same requests needed a heap of %s under best fit, %s under first fit\n"
              "and %s under worst fit. Worst fit looks at every free block on every search\n"
              "(%.1f per allocation) and cuts up the largest blocks first: its %zu refused\n"
              "requests found %s free, but in pieces of %s at most.\n",
              format_bytes(best.stats.high_water).c_str(), format_bytes(first.stats.high_water).c_str(),
              format_bytes(worst.stats.high_water).c_str(), worst.measures.visited_per_allocation,
              worst.stats.exhausted, format_bytes(worst.measures.free_bytes).c_str(),
              format_bytes(worst.measures.largest_free_block).c_str());
}

// [no_merging]
/// Two small blocks side by side, then a neighbour that stays; the two are
/// freed. Nothing is reused on the way, so every policy ends with the same heap.
template <class Policy>
void free_two_neighbours(FitAllocator<Policy>& heap) {
  void* const left = heap.allocate(8);
  void* const right = heap.allocate(8);
  (void)heap.allocate(8);  // the neighbour
  heap.deallocate(left);
  heap.deallocate(right);
}

/// Asks \p heap for one block as large as its free blocks together (one
/// header for the whole), and prints where it came from. Precondition: the
/// heap has room to grow (the small heaps here always do).
template <class Policy>
void ask_for_both(FitAllocator<Policy>& heap) {
  const FreeListStats before = heap.stats();
  const std::size_t request = before.free_bytes - kHeaderSize;
  void* const p = heap.allocate(request);
  std::printf("  %-9s  allocate(%zu) gets the block at %s; the heap grows from %zu B to %zu B\n",
              about(Policy{}).name, request, format_offset(heap.heap().offset_of(header_of(p))).c_str(),
              before.used, heap.stats().used);
}
// [no_merging]

void what_breaks_next() {
  print_heading("5. What breaks next: free neighbours are never merged");
  Lanes lanes;
  lanes.for_each([](auto& heap) { free_two_neighbours(heap); });
  say("Two small blocks side by side and a neighbour; free the two (the same heap under");
  say("every policy):");
  say(draw_blocks(lanes.first.heap));
  const FreeListStats s = lanes.first.heap.stats();
  std::printf("%zu free bytes side by side, but as %zu blocks. A request for one block of\n"
              "%zu bytes fits neither, so every policy grows the heap:\n",
              s.free_bytes, s.free_blocks, s.free_bytes);
  lanes.for_each([](auto& heap) { ask_for_both(heap); });
  say("");
  say("Splitting only ever cuts blocks smaller and nothing puts them back together, so a");
  say("long run chops the heap into ever smaller pieces. Chapter 4 adds coalescing: free()");
  say("merges a block with its free neighbours, found in O(1) through boundary tags.");
}

}  // namespace

int main() {
  say("heaplab, chapter 3: placement policies, splitting and fragmentation");
  Lanes lanes;
  the_holes(lanes);
  same_requests(lanes);
  four_heaps(lanes);
  measured(lanes);
  what_breaks_next();
  return 0;
}
