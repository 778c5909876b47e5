#include "stage3_fit_strategies/fit_free_list.hpp"

namespace heaplab {

// [split_block]
BlockHeader& split_block(BlockHeap& heap, BlockHeader& block, std::size_t first_size) noexcept {
  std::byte* const rest = block_start(&block) + first_size;
  const std::size_t rest_size = block_size(block) - first_size;
  block.size_and_flags = first_size | (block.size_and_flags & kFlagMask);
  return *heap.start_block(rest, rest_size);
}
// [split_block]

}  // namespace heaplab
