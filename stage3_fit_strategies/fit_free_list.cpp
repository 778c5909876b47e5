#include "stage3_fit_strategies/fit_free_list.hpp"

#include "stage1_static_bump/assert.hpp"

namespace heaplab {

// [split_block]
BlockHeader& split_block(BlockHeap& heap, BlockHeader& block, std::size_t first_size) noexcept {
  HEAPLAB_ASSERT(first_size % kBlockGranularity == 0 && first_size >= kMinBlockSize,
                 "the first piece is a whole number of cells, large enough to be a block");
  HEAPLAB_ASSERT(first_size <= block_size(block) && block_size(block) - first_size >= kMinBlockSize,
                 "the rest is large enough to be a block: a header and a link");
  std::byte* const rest = block_start(&block) + first_size;
  const std::size_t rest_size = block_size(block) - first_size;
  block.size_and_flags = first_size | (block.size_and_flags & kFlagMask);
  return *heap.start_block(rest, rest_size);
}
// [split_block]

}  // namespace heaplab
