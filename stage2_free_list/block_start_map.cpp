#include "stage2_free_list/block_start_map.hpp"

#include <bit>

namespace heaplab {

std::size_t BlockStartMap::count() const noexcept {
  std::size_t starts = 0;
  for (const std::uint64_t word : words_.first(claimed_)) starts += static_cast<std::size_t>(std::popcount(word));
  return starts;
}

void BlockStartMap::claim(const std::byte* end) noexcept {
  const std::size_t words_reached = (cell(end) + kCellsPerWord - 1) / kCellsPerWord;
  for (; claimed_ < words_reached; ++claimed_) words_[claimed_] = 0;
}

std::size_t BlockStartMap::count_before(const std::byte* end) const noexcept {
  const std::size_t cells = cell(end);
  const std::size_t whole_words = cells / kCellsPerWord;
  std::size_t starts = 0;
  for (const std::uint64_t word : words_.first(whole_words)) {
    starts += static_cast<std::size_t>(std::popcount(word));
  }
  // The cells of a last, partly used word: only its low bits count.
  if (const std::size_t rest = cells % kCellsPerWord; rest != 0) {
    const std::uint64_t below_end = (std::uint64_t{1} << rest) - 1;
    starts += static_cast<std::size_t>(std::popcount(words_[whole_words] & below_end));
  }
  return starts;
}

}  // namespace heaplab
