// Your playground for chapter 1: a small heap, drawn. Change it as you like;
// it is yours. The chapter's exercises that ask you to *check* something
// (the padding of exercise 1, say) can be checked here:
//
//   cmake --build --preset dev --target playground1
//   ./build/dev/stage1_static_bump/your_turn/playground1
//
// It runs the course's BumpAllocator. Once your bump step is written, write
// `yours::BumpAllocator` below instead, and see your step draw the same heap.
#include <cstddef>
#include <cstdio>

#include "stage1_static_bump/bump_allocator.hpp"
#include "stage1_static_bump/heap_diagram.hpp"
#include "stage1_static_bump/your_turn/bump_step.hpp"

int main() {
  using namespace heaplab;
  using Heap = BumpAllocator;  // or yours::BumpAllocator

  alignas(64) std::byte region[64];  // 64-aligned, so the padding depends only on the requests
  Heap heap(region);
  void* const small = heap.allocate(5);
  void* const aligned = heap.allocate(8, 16);
  std::printf("allocate(5) at offset %td, allocate(8, 16) at offset %td\n",
              static_cast<std::byte*>(small) - region, static_cast<std::byte*>(aligned) - region);

  std::puts(draw_heap(heap, 0, 8, 4).c_str());
  const HeapStats stats = heap.stats();
  std::printf("used %zu, requested %zu, padding %zu, check: %s\n", stats.used, stats.requested,
              stats.padding, heap.check() ? "ok" : "FAILED");
}
