// Your playground for chapter 5: one region of segregated fits, three
// blocks freed onto the lists of their classes, drawn. Change it as you
// like; it is yours. The chapter's exercises that ask you to *check* which
// class a block goes on can be checked here:
//
//   cmake --build --preset dev --target playground5
//   ./build/dev/stage5_real_malloc/your_turn/playground5
//
// It runs the course's size classes. Once yours are written, write
// `BasicSegregatedFitRegion<yours::SizeClasses>` below instead, and see
// your classes sort the same blocks (the labels are the course's).
#include <array>
#include <cstddef>
#include <cstdio>

#include "stage4_coalescing/tag_diagram.hpp"
#include "stage5_real_malloc/malloc_diagram.hpp"
#include "stage5_real_malloc/segregated_fits.hpp"
#include "stage5_real_malloc/your_turn/size_classes.hpp"

int main() {
  using namespace heaplab;
  using Heap = BasicSegregatedFitRegion<SizeClasses>;  // or BasicSegregatedFitRegion<yours::SizeClasses>

  alignas(16) static std::array<std::byte, 4096> region{};
  Heap heap(region);
  // Blocks for 24, 100 and 600 bytes, each followed by an allocated
  // spacer so that none merges when they are freed.
  const std::array<std::size_t, 3> sizes{24, 100, 600};
  std::array<void*, 3> freed{};
  for (std::size_t i = 0; i < freed.size(); ++i) {
    freed[i] = heap.allocate(sizes[i]);
    (void)heap.allocate(8);
  }
  for (void* const p : freed) heap.deallocate(p);

  std::puts(draw_tag_lines(heap).c_str());
  std::puts(draw_free_lists(heap).c_str());
  std::printf("check: %s\n", heap.check() ? "ok" : "FAILED");
}
