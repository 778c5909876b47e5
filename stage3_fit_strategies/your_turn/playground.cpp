// Your playground for chapter 3: a heap with holes, one request, drawn.
// Change it as you like; it is yours. The chapter's exercises that ask you
// to *check* where a policy puts a request can be checked here:
//
//   cmake --build --preset dev --target playground3
//   ./build/dev/stage3_fit_strategies/your_turn/playground3
//
// It runs the course's FirstFitAllocator. Once your policies and split are
// written, write `yours::FirstFitAllocator` (or yours::BestFitAllocator, ...)
// below instead, and see your code draw the same heap.
#include <array>
#include <cstddef>
#include <cstdio>

#include "stage2_free_list/block_diagram.hpp"
#include "stage3_fit_strategies/fit_allocators.hpp"
#include "stage3_fit_strategies/your_turn/placement.hpp"

int main() {
  using namespace heaplab;
  using Heap = FirstFitAllocator;  // or yours::FirstFitAllocator, yours::BestFitAllocator, ...

  alignas(16) std::array<std::byte, 1024> region{};
  Heap heap(region);
  // Holes of 64, 200, 32 and 120 bytes, each followed by an allocated spacer.
  const std::array<std::size_t, 4> hole_sizes{64, 200, 32, 120};
  std::array<void*, 4> holes{};
  for (std::size_t i = 0; i < holes.size(); ++i) {
    holes[i] = heap.allocate(hole_sizes[i]);
    (void)heap.allocate(8);
  }
  for (void* const hole : holes) heap.deallocate(hole);

  void* const p = heap.allocate(40);
  std::printf("allocate(40) at offset %zu\n", heap.heap().offset_of(header_of(p)));
  std::puts(draw_block_lines(heap.heap()).c_str());  // draw_blocks(heap) draws every cell
  std::puts(draw_free_list(heap.heap(), heap.free_list().list()).c_str());
  std::printf("check: %s\n", heap.check() ? "ok" : "FAILED");
}
