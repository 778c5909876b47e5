#include "stage2_free_list/explicit_free_list.hpp"

namespace heaplab {

// [explicit_first_fit]
BlockHeader* ExplicitFreeList::take(BlockHeap& /*heap*/, std::size_t request, std::size_t align,
                                    std::size_t& visited) noexcept {
  BlockHeader* previous = nullptr;
  for (BlockHeader* block = head_; block != nullptr; block = next(*block)) {
    ++visited;
    if (can_serve(*block, request, align)) {
      unlink(previous, *block);
      return block;
    }
    previous = block;
  }
  return nullptr;
}
// [explicit_first_fit]

CheckResult check_free_list(const BlockHeap& heap, BlockHeader* head, std::size_t free_blocks) noexcept {
  std::size_t on_list = 0;
  for (BlockHeader* block = head; block != nullptr; block = free_link(*block).next) {
    // Test the node before reading its link: a stray pointer must be
    // reported, not followed.
    const std::byte* const at = block_start(block);
    if (!heap.contains(at)) return CheckResult::fail("every free-list node is a block of the heap", heap.used());
    const std::size_t offset = heap.offset_of(at);
    if (!is_aligned(at, kBlockGranularity) || !heap.starts().is_start(at)) {
      return CheckResult::fail("every free-list node is a block of the heap", offset);
    }
    if (is_allocated(*block)) return CheckResult::fail("every free-list node is marked free", offset);
    // A list that terminates cannot hold a block twice (the second visit
    // would repeat the walk forever), so counting is enough: more nodes
    // than free blocks means a cycle or a duplicate.
    if (++on_list > free_blocks) return CheckResult::fail("the free list has no cycle", offset);
  }
  if (on_list != free_blocks) {
    return CheckResult::fail("the free list holds every free block", heap.used());
  }
  return CheckResult::pass();
}

}  // namespace heaplab
