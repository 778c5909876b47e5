// The default misuse handler's one line, for real: a program that makes one
// misuse on one of the course's allocators, under the handler every program
// gets (one line on standard error, then abort()). The pages that quote
// that line (chapter 1's "Misuse", the bad-input catalogue) name it, and a
// test runs it (tools/book/check_outputs.py).
//
//   misuse_report bump-foreign         frees a pointer a bump heap never gave
//   misuse_report coalescing-double    frees a coalescing heap's block twice
#include <cstddef>
#include <cstdio>
#include <string_view>

#include "stage1_static_bump/bump_allocator.hpp"
#include "stage4_coalescing/coalescing_allocator.hpp"

int main(int argc, char** argv) {
  const std::string_view which = argc == 2 ? argv[1] : "";
  alignas(64) static std::byte region[4096];
  if (which == "bump-foreign") {
    heaplab::BumpAllocator heap(region);
    int not_from_the_heap = 0;
    heap.deallocate(&not_from_the_heap);
  } else if (which == "coalescing-double") {
    heaplab::CoalescingFirstFit heap(region);
    void* const block = heap.allocate(24);
    heap.deallocate(block);
    heap.deallocate(block);
  }
  std::fputs("usage: misuse_report bump-foreign|coalescing-double\n", stderr);
  return 2;
}
