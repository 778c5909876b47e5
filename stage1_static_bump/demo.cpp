// Chapter 1 demo: the static bump heap, step by step.
//
// Run it with `cmake --workflow --preset tour` (all chapters) or build the
// `stage1_demo` target and run it alone. Every number it prints is measured
// on the allocator, not written in by hand.
#include <cstdint>
#include <cstdio>
#include <memory_resource>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "stage1_static_bump/atomic_bump_allocator.hpp"
#include "stage1_static_bump/bump_allocator.hpp"
#include "stage1_static_bump/growing_arena.hpp"
#include "stage1_static_bump/demo_output.hpp"
#include "stage1_static_bump/heap_diagram.hpp"
#include "stage1_static_bump/make.hpp"
#include "stage1_static_bump/pmr_adapter.hpp"
#include "stage1_static_bump/synchronized.hpp"

namespace {

using namespace heaplab;

void print_stats(const HeapStats& s) {
  std::printf("  used %zu B (requested %zu + padding %zu), %zu live allocations, "
              "%zu refused for room, %zu rejected\n",
              s.used, s.requested, s.padding, s.live_allocations, s.exhausted, s.rejected);
}

// [primer]
void primer_pictures() {
  print_heading("1. The primer's pictures: a 40-byte region");
  alignas(8) std::byte region[40];
  BumpAllocator heap(region);
  (void)heap.allocate(8);
  say("Allocating 8 bytes in a 40-byte region:");
  say(draw_heap(heap));
  (void)heap.allocate(8);
  say("Allocating another 8 bytes in the same region:");
  say(draw_heap(heap));
}
// [primer]

void alignment_padding() {
  print_heading("2. Sizes round up to 8; alignment may leave padding");
  alignas(64) std::byte region[64];
  BumpAllocator heap(region);
  (void)heap.allocate(3);
  std::printf("allocate(3) takes one whole 8-byte cell: %zu B used, %zu B of it rounding\n",
              heap.used(), heap.stats().padding);
  const std::size_t padding_before = heap.stats().padding;
  (void)heap.allocate(8, 32);
  std::printf("allocate(8, align 32) skips %zu B of padding to reach offset 32:\n",
              heap.stats().padding - padding_before);
  say(draw_heap(heap, 0, 8, 4));
  print_stats(heap.stats());
}

struct Point {
  double x;
  double y;
};

void static_heap_tour(BumpAllocator& heap) {
  print_heading("3. The static 10 MiB heap and the typed helpers");
  std::printf("Region: %s of static storage at %p\n", format_bytes(heap.region().size()).c_str(),
              static_cast<void*>(heap.region().data()));
  Point* p = make<Point>(heap, 1.5, -2.0);
  std::span<int> numbers = make_array<int>(heap, 100);
  std::string_view name = make_string(heap, "heaplab: a bump-allocated string");
  std::printf("make<Point>(1.5, -2.0)  -> {%g, %g}\n", p->x, p->y);
  std::printf("make_array<int>(100)    -> %zu ints, all zero: %s\n", numbers.size(),
              numbers[0] == 0 && numbers[99] == 0 ? "yes" : "no");
  std::printf("make_string(...)        -> \"%s\"\n", name.data());
  print_stats(heap.stats());
  say(draw_usage(heap.stats()));
}

void exhaustion_and_bad_requests(BumpAllocator& heap) {
  print_heading("4. Exhaustion returns nullptr; bad requests are refused");
  std::size_t served = 0;
  while (heap.allocate(std::size_t{1} << 20) != nullptr) ++served;
  std::printf("1 MiB blocks served before nullptr: %zu\n", served);
  say(draw_usage(heap.stats()));
  const void* too_big = heap.allocate(SIZE_MAX);
  const void* bad_align = heap.allocate(16, 3);
  std::printf("allocate(SIZE_MAX) -> %p, allocate(16, align 3) -> %p\n", too_big, bad_align);
  print_stats(heap.stats());
  say(heap.check() ? "check(): every invariant holds" : "check(): FAILED");
}

void reset_and_rewind(BumpAllocator& heap) {
  print_heading("5. reset() and mark()/rewind()");
  heap.reset();
  say("After reset():");
  say(draw_usage(heap.stats()));
  (void)make_string(heap, "kept");
  const std::size_t before = heap.used();
  {
    ScopedRewind scratch(heap);  // temporary work below is released at the brace
    (void)make_array<double>(heap, 1000);
    std::printf("inside the scope: %zu B used\n", heap.used());
  }
  std::printf("after the scope:  %zu B used (was %zu before it)\n", heap.used(), before);
}

void pmr_containers(BumpAllocator& heap) {
  print_heading("6. Standard containers on the bump heap (std::pmr)");
  heap.reset();
  PmrAdapter resource(heap);
  std::pmr::string text("a pmr string, too long for the small-string buffer", &resource);
  std::printf("a %zu-char std::pmr::string lives in the heap: %zu B used\n", text.size(), heap.used());
  const std::size_t before = heap.used();
  std::pmr::vector<int> squares(&resource);
  for (int i = 0; i < 1000; ++i) squares.push_back(i * i);
  std::printf("a std::pmr::vector of %zu ints needs %zu B, but the heap spent %zu B on it:\n"
              "each time the vector grew it 'freed' its old buffer, and a bump heap\n"
              "never reuses freed memory.\n",
              squares.size(), squares.capacity() * sizeof(int), heap.used() - before);
}

// [what_breaks_next]
void what_breaks_next(BumpAllocator& heap) {
  print_heading("7. What breaks next: memory is never reused");
  heap.reset();
  // A program that only ever holds one 1 KiB buffer at a time...
  std::size_t rounds = 0;
  while (void* buffer = heap.allocate(1024)) {
    heap.deallocate(buffer);  // ...and frees it every round.
    ++rounds;
  }
  std::printf("live data never exceeds 1 KiB, yet the 10 MiB heap ran out after %zu rounds.\n"
              "Chapter 2 keeps a record of each block so that free() can give it back.\n",
              rounds);
}
// [what_breaks_next]

void growing_and_threads() {
  print_heading("8. Beyond one region: a growing arena, and threads");
  GrowingArena arena;  // chunks from mmap: 64 KiB, 128 KiB, 256 KiB, ...
  for (int i = 0; i < 20000; ++i) (void)arena.allocate(48);
  std::printf("20000 x 48 B in a growing arena: %zu chunks, %s reserved from mmap\n",
              arena.chunk_count(), format_bytes(arena.reserved()).c_str());
  arena.reset();
  std::printf("after reset(): %zu chunk kept (%s)\n", arena.chunk_count(),
              format_bytes(arena.reserved()).c_str());

  std::vector<std::byte> buffer(std::size_t{1} << 20);
  AtomicBumpAllocator shared(buffer);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&shared] {
      for (int i = 0; i < 1000; ++i) (void)shared.allocate(16);
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::printf("4 threads x 1000 x 16 B, lock-free: %zu allocations, %zu B used, check %s\n",
              shared.stats().live_allocations, shared.used(), shared.check() ? "ok" : "FAILED");
}

}  // namespace

int main() {
  say("heaplab, chapter 1: the static bump heap");
  primer_pictures();
  alignment_padding();
  {
    BumpAllocator heap;  // the static 10 MiB heap; one allocator may hold it at a time
    static_heap_tour(heap);
    exhaustion_and_bad_requests(heap);
    reset_and_rewind(heap);
    pmr_containers(heap);
    what_breaks_next(heap);
  }
  growing_and_threads();
  return 0;
}
