#include "stage1_static_bump/static_heap.hpp"

#include <atomic>
#include <utility>

namespace heaplab {
namespace {

// [static_heap]
// 10 MiB of static storage. alignas(std::max_align_t) makes its start
// suitable for any fundamental type, so the first allocation needs no padding.
alignas(std::max_align_t) std::byte g_static_heap[kStaticHeapSize];
// [static_heap]

std::atomic<bool> g_static_heap_taken{false};

}  // namespace

StaticHeapClaim StaticHeapClaim::try_take() noexcept {
  bool expected = false;
  const bool won = g_static_heap_taken.compare_exchange_strong(expected, true);
  return StaticHeapClaim{won};
}

StaticHeapClaim::StaticHeapClaim(StaticHeapClaim&& other) noexcept
    : held_(std::exchange(other.held_, false)) {}

StaticHeapClaim& StaticHeapClaim::operator=(StaticHeapClaim&& other) noexcept {
  if (this != &other) {
    if (held_) g_static_heap_taken.store(false);
    held_ = std::exchange(other.held_, false);
  }
  return *this;
}

StaticHeapClaim::~StaticHeapClaim() {
  if (held_) g_static_heap_taken.store(false);
}

std::span<std::byte> StaticHeapClaim::region() const noexcept {
  if (!held_) return {};
  return {g_static_heap, kStaticHeapSize};
}

}  // namespace heaplab
