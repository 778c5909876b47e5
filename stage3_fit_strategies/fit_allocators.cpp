// Chapter 3's four allocators, instantiated once here (the member functions
// are chapter 2's, in free_list_allocator_impl.hpp), and block splitting.
#include "stage3_fit_strategies/fit_allocators.hpp"

#include "stage2_free_list/free_list_allocator_impl.hpp"

namespace heaplab {

// [split_block]
BlockHeader& split_block(BlockHeap& heap, BlockHeader& block, std::size_t first_size) noexcept {
  std::byte* const rest = block_start(&block) + first_size;
  const std::size_t rest_size = block_size(block) - first_size;
  block.size_and_flags = first_size | (block.size_and_flags & kFlagMask);
  return *heap.start_block(rest, rest_size);
}
// [split_block]

template class FreeListAllocator<FitFreeList<FirstFit>>;
template class FreeListAllocator<FitFreeList<NextFit>>;
template class FreeListAllocator<FitFreeList<BestFit>>;
template class FreeListAllocator<FitFreeList<WorstFit>>;

}  // namespace heaplab
