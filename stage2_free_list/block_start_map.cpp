#include "stage2_free_list/block_start_map.hpp"

#include <bit>

namespace heaplab {

std::size_t BlockStartMap::count() const noexcept {
  std::size_t starts = 0;
  for (const std::uint64_t word : words_) starts += static_cast<std::size_t>(std::popcount(word));
  return starts;
}

}  // namespace heaplab
