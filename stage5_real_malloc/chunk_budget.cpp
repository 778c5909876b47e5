#include "stage5_real_malloc/chunk_budget.hpp"

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

void ChunkBudget::release(std::span<std::byte> chunk) noexcept {
  held_ -= chunk.size();
  upstream_->release(chunk);
}

}  // namespace heaplab
