// Your playground for chapter 2: a small heap of blocks, drawn. Change it as
// you like; it is yours. The chapter's exercises that ask you to *check*
// something (the block sizes of exercise 1, the free list of exercise 4,
// the capacity of exercise 7) can be checked here:
//
//   cmake --build --preset dev --target playground2
//   ./build/dev/stage2_free_list/your_turn/playground2
//
// It runs the course's ExplicitListAllocator. Once your list is written,
// write `yours::ExplicitListAllocator` below instead: the same pictures
// then show your links.
#include <cstddef>
#include <cstdio>

#include "stage2_free_list/block_diagram.hpp"
#include "stage2_free_list/free_list_allocator.hpp"
#include "stage2_free_list/your_turn/explicit_free_list.hpp"

int main() {
  using namespace heaplab;
  using Heap = ExplicitListAllocator;  // or yours::ExplicitListAllocator

  alignas(64) std::byte region[136];  // 8 bytes of start map, 128 for blocks
  Heap heap(region);
  void* const a = heap.allocate(16);
  void* const b = heap.allocate(8);
  void* const c = heap.allocate(24);
  heap.deallocate(a);
  heap.deallocate(c);
  std::printf("b's payload is at offset %zu, its header in the 16 bytes in front\n", heap.heap().offset_of(b));

  std::puts(draw_blocks(heap, 4).c_str());
  std::puts(draw_block_map(heap.heap()).c_str());
  std::puts(draw_free_list(heap).c_str());
  std::printf("check: %s\n", heap.check() ? "ok" : "FAILED");
}
