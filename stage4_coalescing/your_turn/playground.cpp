// Your playground for chapter 4: three blocks, the middle one freed
// between two free neighbours (case 4), drawn before and after. Change it
// as you like; it is yours. The chapter's exercises that ask you to
// *check* a case, a block size or a merge count can be checked here:
//
//   cmake --build --preset dev --target playground4
//   ./build/dev/stage4_coalescing/your_turn/playground4
//
// It runs the course's CoalescingFirstFit. Once your tags and four cases
// are written, write `yours::CoalescingFirstFit` below instead, and see
// your code draw the same heap.
#include <array>
#include <cstddef>
#include <cstdio>

#include "stage4_coalescing/coalescing_allocator.hpp"
#include "stage4_coalescing/tag_diagram.hpp"
#include "stage4_coalescing/your_turn/coalesce.hpp"

int main() {
  using namespace heaplab;
  using Heap = CoalescingFirstFit;  // or yours::CoalescingFirstFit

  alignas(16) std::array<std::byte, 1024> region{};
  Heap heap(region);
  void* const left = heap.allocate(16);
  void* const x = heap.allocate(24);
  void* const right = heap.allocate(32);
  heap.deallocate(left);
  heap.deallocate(right);
  std::puts("before deallocate(x): each line is [header word]  payload  [footer word]");
  std::puts(draw_tag_lines(heap).c_str());
  std::puts(draw_free_lists(heap).c_str());

  heap.deallocate(x);  // case 4: [F][x][F]
  std::puts("\nafter:");
  std::puts(draw_tag_lines(heap).c_str());
  std::puts(draw_free_lists(heap).c_str());
  std::printf("merges: %zu, check: %s\n", heap.stats().merges, heap.check() ? "ok" : "FAILED");
}
