// Chapter 2 demo: block metadata, free() and free lists, step by step.
//
// Run it with `cmake --workflow --preset tour` (all chapters) or build the
// `stage2_demo` target and run it alone. Every number it prints is measured
// on the allocators, not written in by hand.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "stage1_static_bump/demo_output.hpp"
#include "stage1_static_bump/heap_diagram.hpp"
#include "stage1_static_bump/misuse.hpp"
#include "stage2_free_list/block.hpp"
#include "stage2_free_list/block_diagram.hpp"
#include "stage2_free_list/free_list_allocator.hpp"

namespace {

using namespace heaplab;

/// "$030": where \p p lies in \p heap, as the pictures label it.
std::string offset(const BlockHeap& heap, const void* p) { return format_offset(heap.offset_of(p)); }

/// Where the block of \p payload starts: the offset the pictures and the
/// free list show for it (the payload itself is 16 bytes further).
std::string block_offset(const BlockHeap& heap, void* payload) { return offset(heap, header_of(payload)); }

/// The low 8 bits of \p value, "0010'1001": enough to see a small size and its flags.
std::string low_byte_bits(std::size_t value) {
  std::string bits;
  for (int bit = 7; bit >= 0; --bit) {
    bits += ((value >> bit) & 1) != 0 ? '1' : '0';
    if (bit == 4) bits += '\'';
  }
  return bits;
}

void print_check(const CheckResult& result) {
  if (result) {
    say("check(): every invariant holds");
  } else {
    std::printf("check(): FAILED: \"%.*s\" at offset %zu\n", static_cast<int>(result.failed_invariant.size()),
                result.failed_invariant.data(), result.offset);
  }
}

// [header_bits]
void header_layout() {
  print_heading("1. The header in front of every block");
  alignas(8) std::byte region[64];
  ExplicitListAllocator heap(region);
  void* const p = heap.allocate(20);
  const BlockHeader& header = *header_of(p);  // the 16 bytes in front of p
  const std::size_t word = header.size_and_flags;
  std::printf("allocate(20) returns the payload at %s; its header is the 16 bytes in front.\n"
              "Sizes are multiples of 8, so the low 3 bits of the size word are free for flags:\n",
              offset(heap.heap(), p).c_str());
  std::printf("  size_and_flags           = %#04zx = 0b%s\n", word, low_byte_bits(word).c_str());
  std::printf("  size_and_flags & ~0b111  = %#04zx = 0b%s  -> block size %zu (16 header + %zu payload)\n",
              word & ~kFlagMask, low_byte_bits(word & ~kFlagMask).c_str(), block_size(header),
              payload_capacity(header));
  std::printf("  size_and_flags &  0b001  = %#04zx = 0b%s  -> allocated bit: %s\n", word & kAllocatedBit,
              low_byte_bits(word & kAllocatedBit).c_str(), is_allocated(header) ? "set" : "clear");
  std::printf("  requested                = %zu\n", header.requested);
  say(draw_blocks(heap));
  heap.deallocate(p);
  std::printf("After deallocate: size_and_flags = %#04zx = 0b%s, allocated bit clear, requested %zu.\n",
              header.size_and_flags, low_byte_bits(header.size_and_flags).c_str(), header.requested);
}
// [header_bits]

void metadata_cost() {
  print_heading("2. What the metadata costs");
  say("Each request below is allocated alone on a fresh heap; the numbers are that");
  say("heap's stats(). Overhead = block bytes - requested bytes.");
  say("");
  say("  request   block   header   rounding   overhead");
  constexpr std::size_t kRequests[] = {0, 1, 8, 16, 20, 24, 100, 1000};
  std::vector<std::byte> memory(4096);
  for (const std::size_t request : kRequests) {
    ExplicitListAllocator heap(memory);
    (void)heap.allocate(request);
    const FreeListStats s = heap.stats();
    const std::size_t overhead = s.used - s.requested;
    std::printf("  %7zu  %6zu  %7zu  %9zu   %4zu B = %3.0f%% of the block\n", request, s.used,
                s.header_bytes, s.payload_bytes - s.requested, overhead,
                100.0 * static_cast<double>(overhead) / static_cast<double>(s.used));
  }
  say("");
  say("Every block pays 16 bytes of header, and a payload is at least 8 bytes (room for");
  say("the free-list link), so the smallest block is 24 bytes whatever you ask for.");
}

// [three_blocks]
void three_blocks(ExplicitListAllocator& heap, void*& a, void*& b, void*& c) {
  print_heading("3. Three blocks; free the middle one");
  a = heap.allocate(16);  // a 32-byte block: 16 header + 16 payload
  b = heap.allocate(32);  // a 48-byte block
  c = heap.allocate(8);   // a 24-byte block, the smallest there is
  say("allocate(16), allocate(32), allocate(8):");
  say(draw_blocks(heap));
  heap.deallocate(b);
  say("\ndeallocate(b): its allocated bit is cleared and the block goes on the free list;");
  say("the first payload cell, no longer the caller's, now holds the list's link:");
  say(draw_blocks(heap));
  say(draw_free_list(heap));
}
// [three_blocks]

// [lifo_reuse]
void free_and_reuse(ExplicitListAllocator& heap, void*& a, void*& b, void*& c) {
  print_heading("4. Free blocks are reused, last freed first (LIFO)");
  const void* const old_b = b;
  b = heap.allocate(32);
  std::printf("allocate(32) again gets the block at %s, b's old block (same pointer: %s);\n"
              "the heap did not grow.\n",
              block_offset(heap.heap(), b).c_str(), b == old_b ? "yes" : "no");
  const std::string c_block = block_offset(heap.heap(), c);  // named before c is freed
  heap.deallocate(c);
  heap.deallocate(a);
  say("deallocate(c), then deallocate(a): each is pushed at the head of the list.");
  say(draw_free_list(heap));
  a = heap.allocate(8);
  std::printf("allocate(8) takes the head, the 32-byte block at %s (freed last), although\n"
              "the 24-byte block at %s would fit exactly: first fit takes the first block\n"
              "on the list that is big enough, not the best one.\n",
              block_offset(heap.heap(), a).c_str(), c_block.c_str());
  say(draw_blocks(heap));
  say(draw_free_list(heap));
}
// [lifo_reuse]

/// The misuse reports of section 5. A handler must not allocate from the
/// heap that reported, so this one keeps them in a fixed array.
struct MisuseLog {
  static constexpr std::size_t kCapacity = 8;  ///< Reports kept; later ones are dropped.
  std::array<MisuseReport, kCapacity> reports{};
  std::size_t count = 0;  ///< Reports kept so far.
};
MisuseLog misuse_log;

void record_misuse(const MisuseReport& report) noexcept {
  if (misuse_log.count < MisuseLog::kCapacity) misuse_log.reports[misuse_log.count++] = report;
}

void finding_the_header_and_misuse(ExplicitListAllocator& heap, void* b, void* c) {
  print_heading("5. How free() finds its header, and what misuse looks like");
  const BlockHeap& blocks = heap.heap();
  const BlockHeader& header = *header_of(b);
  std::printf("b = %s. deallocate(b) finds its header 16 bytes in front, at %s: size %zu, %s.\n",
              offset(blocks, b).c_str(), block_offset(blocks, b).c_str(), block_size(header),
              is_allocated(header) ? "allocated" : "free");
  // [misuse]
  // The caller writes data into b that looks exactly like a header...
  const BlockHeader fake{32 | kAllocatedBit, 8};
  std::memcpy(b, &fake, sizeof fake);
  // ...so the 16 bytes in front of b + 16 (b itself) read as "size 32 | A".
  void* const interior = static_cast<std::byte*>(b) + kHeaderSize;
  const bool real_start = blocks.starts().is_start(block_start(header_of(b)));
  const bool fake_start = blocks.starts().is_start(static_cast<std::byte*>(b));

  const std::string picture_before = draw_blocks(heap);
  const FreeListStats stats_before = heap.stats();
  const MisuseHandler previous = set_misuse_handler(&record_misuse);
  int not_from_the_heap = 0;
  heap.deallocate(c);                   // c is already free: a double free
  heap.deallocate(interior);            // inside b's payload: an interior pointer
  heap.deallocate(&not_from_the_heap);  // a local variable: a foreign pointer
  set_misuse_handler(previous);
  // [misuse]

  std::printf("b's payload now starts with the bytes of a header, \"size 32 | A\", so the\n"
              "16 bytes in front of b + 16 = %s look like a real header. The start map knows\n"
              "better: a block starts at %s: %s; a block starts at %s: %s.\n",
              offset(blocks, interior).c_str(), block_offset(blocks, b).c_str(), real_start ? "yes" : "no",
              offset(blocks, b).c_str(), fake_start ? "yes" : "no");
  say("\ndeallocate(c) (already free), deallocate(b + 16), deallocate(&a_local_int):");
  for (std::size_t i = 0; i < misuse_log.count; ++i) {
    char line[256];
    const std::string_view text = format_misuse(misuse_log.reports[i], line, sizeof line);
    std::printf("  %.*s", static_cast<int>(text.size()), text.data());  // the line ends in '\n'
  }
  const FreeListStats after = heap.stats();
  const bool stats_unchanged = after.used == stats_before.used && after.requested == stats_before.requested &&
                               after.live_allocations == stats_before.live_allocations &&
                               after.free_blocks == stats_before.free_blocks &&
                               after.free_bytes == stats_before.free_bytes;
  std::printf("Each was reported and refused. Picture unchanged: %s; stats unchanged: %s.\n",
              draw_blocks(heap) == picture_before ? "yes" : "no", stats_unchanged ? "yes" : "no");
  print_check(heap.check());
}

// [realloc_calloc]
void resizing_and_zeroing() {
  print_heading("6. reallocate() and allocate_zeroed()");
  alignas(8) std::byte region[256];  // room for every request below
  ExplicitListAllocator heap(region);
  auto* const text = static_cast<char*>(heap.allocate(20));  // a 40-byte block: 24 bytes of payload
  std::strcpy(text, "nineteen characters");
  void* const same = heap.reallocate(text, 24);
  std::printf("reallocate(p, 24) on a 24-byte payload: in place (same pointer: %s)\n",
              same == text ? "yes" : "no");
  const std::string old_block = block_offset(heap.heap(), same);  // named before it moves
  auto* const moved = static_cast<char*>(heap.reallocate(same, 100));
  std::printf("reallocate(p, 100): moved from the block at %s to a new one at %s, contents\n"
              "kept (\"%s\"), the old block freed:\n",
              old_block.c_str(), block_offset(heap.heap(), moved).c_str(), moved);
  say(draw_block_map(heap.heap()));
  const void* const refused = heap.allocate_zeroed(SIZE_MAX / 2, 4);  // the product overflows
  std::printf("allocate_zeroed(SIZE_MAX / 2, 4): %s, counted as rejected (%zu)\n",
              refused == nullptr ? "nullptr" : "a pointer?!", heap.stats().rejected);
  auto* const zeros = static_cast<unsigned char*>(heap.allocate_zeroed(4, 4));
  std::printf("allocate_zeroed(4, 4) reuses the old block at %s, which still held old bytes\n"
              "(the free-list link, then the text); its first bytes now read %d %d %d %d:\n"
              "calloc must zero reused memory.\n",
              block_offset(heap.heap(), zeros).c_str(), zeros[0], zeros[1], zeros[2], zeros[3]);
  say(draw_block_map(heap.heap()));
}
// [realloc_calloc]

// [no_splitting]
void no_splitting() {
  print_heading("7. No splitting: a small request takes a whole block");
  std::vector<std::byte> memory(4096);
  ExplicitListAllocator heap(memory);
  void* const buffer = heap.allocate(1024);
  void* const neighbour = heap.allocate(16);
  heap.deallocate(buffer);
  say("allocate(1024), allocate(16), free the 1 KiB buffer:");
  say(draw_block_map(heap.heap()));
  void* const small = heap.allocate(16);
  FreeListStats s = heap.stats();
  std::printf("allocate(16) gets the block at %s: all 1040 bytes of it.\n",
              block_offset(heap.heap(), small).c_str());
  say(draw_block_map(heap.heap()));
  std::printf("payload bytes %zu - requested %zu = %zu bytes handed out but never asked for;\n"
              "live requested / heap bytes = %zu / %zu = %.1f%%.\n",
              s.payload_bytes, s.requested, s.payload_bytes - s.requested, s.requested, s.used,
              100.0 * static_cast<double>(s.requested) / static_cast<double>(s.used));
  void* const another = heap.allocate(16);
  s = heap.stats();
  std::printf("One more allocate(16) grows the heap to %zu bytes, with %zu bytes unused inside\n"
              "the first block. Splitting it (chapter 3) would have served both from it.\n",
              s.used, s.payload_bytes - s.requested);
  say(draw_block_map(heap.heap()));
  heap.deallocate(another);
  heap.deallocate(small);
  heap.deallocate(neighbour);
}
// [no_splitting]

// [search_length]
/// Builds a heap of \p n 32-byte blocks, frees every other one, then asks
/// for 64 bytes, which no free block can hold. Returns the blocks that one
/// search looked at before giving up and growing the heap.
template <class Heap>
std::size_t visits_when_nothing_fits(std::size_t n) {
  std::vector<std::byte> memory(n * 40 + 4096);  // the blocks, the start map, room to grow
  Heap heap(memory);
  std::vector<void*> blocks(n);
  for (void*& p : blocks) p = heap.allocate(16);
  for (std::size_t i = 0; i < n; i += 2) heap.deallocate(blocks[i]);
  const std::size_t before = heap.stats().blocks_visited;
  void* const big = heap.allocate(64);
  const std::size_t visited = heap.stats().blocks_visited - before;
  heap.deallocate(big);
  return visited;
}

void search_length() {
  print_heading("8. The cost of a search: implicit versus explicit list");
  say("N blocks of 32 bytes, every other one freed, then allocate(64), which no");
  say("free block can serve: the search looks at every candidate and gives up.");
  say("");
  say("  blocks in heap   free blocks   visited: implicit list   explicit list");
  constexpr std::size_t kBlockCounts[] = {100, 1000, 10000};
  for (const std::size_t n : kBlockCounts) {
    std::printf("  %14zu  %12zu  %23zu  %14zu\n", n, n / 2, visits_when_nothing_fits<ImplicitListAllocator>(n),
                visits_when_nothing_fits<ExplicitListAllocator>(n));
  }
  say("");
  say("The implicit list steps through every block by its size field; the explicit list");
  say("visits only the free ones. Both still grow with the heap.");
}
// [search_length]

// [workload]
/// One step of a workload: allocate `size` bytes, or free live object
/// number `victim`.
struct Step {
  bool frees = false;      ///< True: free object `victim`; false: allocate `size` bytes.
  std::size_t size = 0;    ///< Bytes to allocate.
  std::size_t victim = 0;  ///< Index of the live object to free.
};

/// A program that keeps about 1000 objects alive: most of them small
/// (16 to 64 bytes), one in eight a buffer of 256 to 1024 bytes. After the
/// first 1000 allocations it frees a random object and allocates a new one,
/// in turn. The random numbers come from a seeded std::mt19937, so every run
/// makes the same workload.
std::vector<Step> mixed_workload(std::size_t steps) {
  std::mt19937 generator(2024);
  std::vector<Step> workload;
  std::size_t live = 0;
  for (std::size_t i = 0; i < steps; ++i) {
    if (live < 1000 || i % 2 == 1) {
      const bool buffer = generator() % 8 == 0;
      workload.push_back({false, buffer ? 256 + generator() % 769 : 16 + generator() % 49, 0});
      ++live;
    } else {
      workload.push_back({true, 0, generator() % live});
      --live;
    }
  }
  return workload;
}
// [workload]

/// What one run of the workload left behind.
struct WorkloadResult {
  std::size_t high_water = 0;       ///< The heap's high-water mark.
  double utilization = 0.0;         ///< Peak requested / high-water.
  double visited_per_search = 0.0;  ///< Over the whole run.
};

template <class Heap>
WorkloadResult run_workload(const std::vector<Step>& workload, std::string_view name) {
  Heap heap;  // the static 10 MiB heap: no other allocator of this demo holds it
  std::vector<void*> live;
  std::size_t searches = 0;
  std::size_t visited = 0;
  std::printf("%.*s:\n", static_cast<int>(name.size()), name.data());
  say("     ops   heap (high-water)   peak requested   utilization   free blocks   visited per search");
  for (std::size_t i = 0; i < workload.size(); ++i) {
    const Step& step = workload[i];
    if (!step.frees) {
      // A refused request is kept as nullptr, whose later free is a no-op
      // (as with malloc), so the workload's object numbers stay valid.
      live.push_back(heap.allocate(step.size));
    } else {
      heap.deallocate(live[step.victim]);
      live[step.victim] = live.back();
      live.pop_back();
    }
    if ((i + 1) % 5000 == 0) {
      const FreeListStats s = heap.stats();
      // Visits per search over the last 5000 operations, not since the start.
      const std::size_t new_searches = s.searches - searches;
      const double per_search = new_searches == 0 ? 0.0
                                                  : static_cast<double>(s.blocks_visited - visited) /
                                                        static_cast<double>(new_searches);
      std::printf("  %6zu  %18s  %15s  %11.1f%%  %12zu  %19.1f\n", i + 1, format_bytes(s.high_water).c_str(),
                  format_bytes(s.peak_requested).c_str(), 100.0 * utilization(s), s.free_blocks, per_search);
      searches = s.searches;
      visited = s.blocks_visited;
    }
  }
  const FreeListStats s = heap.stats();
  std::printf("  live at the end: %zu objects, %s requested, in %s of blocks; %s\n", s.live_allocations,
              format_bytes(s.requested).c_str(), format_bytes(s.used).c_str(),
              heap.check() ? "check ok" : "check FAILED");
  for (void* p : live) heap.deallocate(p);
  return {s.high_water, utilization(s), s.visited_per_search()};
}

void what_breaks_next() {
  print_heading("9. What breaks next: blocks of the wrong size");
  say("About 1000 live objects, mostly 16-64 B with one 256-1024 B buffer in eight;");
  say("after the first 1000, every other operation frees a random object.");
  say("");
  const std::vector<Step> workload = mixed_workload(40000);
  const WorkloadResult lifo = run_workload<ExplicitListAllocator>(workload, "Explicit list (LIFO, first fit)");
  say("");
  const WorkloadResult by_address =
      run_workload<ImplicitListAllocator>(workload, "Implicit list (address order, first fit)");
  std::printf("\nSame requests, same live data. The LIFO list's heap reached %s (utilization\n"
              "%.1f%%), the address-ordered list's %s (%.1f%%); but a search looked at %.1f\n"
              "blocks on average on the implicit list, %.1f on the explicit one.\n",
              format_bytes(lifo.high_water).c_str(), 100.0 * lifo.utilization,
              format_bytes(by_address.high_water).c_str(), 100.0 * by_address.utilization,
              by_address.visited_per_search, lifo.visited_per_search);
  say("Either way, whole blocks are the wrong size: a small request takes a freed buffer");
  say("whole, and a buffer request finds only small free blocks, so the heap must hold");
  say("much more than the live data.");
  say("Chapter 3 splits blocks and compares fit strategies (first, next, best, worst).");
}

}  // namespace

int main() {
  say("heaplab, chapter 2: block metadata and free lists");
  header_layout();
  metadata_cost();
  {
    alignas(8) std::byte region[136];  // 8 bytes of start map, then 16 cells for blocks
    ExplicitListAllocator heap(region);
    void* a = nullptr;
    void* b = nullptr;
    void* c = nullptr;
    three_blocks(heap, a, b, c);
    free_and_reuse(heap, a, b, c);
    finding_the_header_and_misuse(heap, b, c);
  }
  resizing_and_zeroing();
  no_splitting();
  search_length();
  what_breaks_next();
  return 0;
}
