#include "stage2_free_list/implicit_free_list.hpp"

namespace heaplab {

// [implicit_first_fit]
BlockHeader* ImplicitFreeList::take(BlockHeap& heap, std::size_t request, std::size_t align,
                                    std::size_t& visited) noexcept {
  for (BlockHeader* block = heap.first(); block != nullptr; block = heap.after(block)) {
    ++visited;
    if (!is_allocated(*block) && can_serve(*block, request, align)) {
      tally_.remove(*block);
      return block;
    }
  }
  return nullptr;
}
// [implicit_first_fit]

}  // namespace heaplab
