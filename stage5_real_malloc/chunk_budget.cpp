#include "stage5_real_malloc/chunk_budget.hpp"

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/assert.hpp"
#include "stage1_static_bump/contract.hpp"

namespace heaplab {

// [acquire]
std::span<std::byte> ChunkBudget::acquire(std::size_t bytes) noexcept {
  // Compare with what is left rather than add: held_ + bytes could wrap.
  if (upstream_ == nullptr || bytes > limit_ - held_) return {};
  const std::span<std::byte> chunk = upstream_->acquire(bytes);
  if (chunk.size() > limit_ - held_) {
    // Rounded up (to whole pages) past the limit: straight back.
    if (!chunk.empty()) upstream_->release(chunk);
    return {};
  }
  held_ += chunk.size();
  return chunk;
}
// [acquire]

std::span<std::byte> ChunkBudget::resize(std::span<std::byte> chunk, std::size_t bytes) noexcept {
  if (upstream_ == nullptr || bytes > kMaxRequest) return {};
  // A source rounds to whole pages, as acquire() does: the growth is asked
  // of the budget at that size, before the upstream moves anything (a
  // chunk already moved could not be given back as it was).
  const std::size_t rounded = round_up(bytes, system_page_size());
  if (rounded > chunk.size() && rounded - chunk.size() > limit_ - held_) return {};
  const std::span<std::byte> resized = upstream_->resize(chunk, bytes);
  if (resized.empty()) return {};
  held_ = held_ - chunk.size() + resized.size();
  HEAPLAB_ASSERT(held_ <= limit_, "a source rounds a resized chunk to whole pages");
  return resized;
}

void ChunkBudget::release(std::span<std::byte> chunk) noexcept {
  held_ -= chunk.size();
  upstream_->release(chunk);
}

}  // namespace heaplab
