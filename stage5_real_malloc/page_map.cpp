#include "stage5_real_malloc/page_map.hpp"

#include <sys/mman.h>

#include <atomic>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/assert.hpp"

namespace heaplab {

constinit std::atomic<PageMap::Leaf*> PageMap::root_[PageMap::kRootEntries] = {};

namespace {

using Leaf = PageMap::Leaf;
constexpr unsigned kGranuleBits = PageMap::kGranuleBits;
constexpr unsigned kLeafBits = PageMap::kLeafBits;
constexpr std::size_t kLeafEntries = PageMap::kLeafEntries;
constexpr std::size_t kRootEntries = PageMap::kRootEntries;
// A leaf is mapped, so zero bytes must read as null pointers.
static_assert(std::atomic<SmallPage*>::is_always_lock_free);

/// The granule number of \p p, or kRootEntries * kLeafEntries when \p p
/// lies above the covered addresses.
[[nodiscard]] std::uintptr_t granule_of(const void* p) noexcept {
  const std::uintptr_t address = address_of(p);
  return address >> PageMap::kAddressBits != 0 ? kRootEntries * kLeafEntries : address >> kGranuleBits;
}

/// The leaf of granule \p g, mapped now if it is not yet; null when the
/// kernel refuses. Two threads may race to map it: the loser unmaps its copy.
[[nodiscard]] Leaf* leaf_for(std::uintptr_t g) noexcept {
  std::atomic<Leaf*>& slot = PageMap::root_slot(g >> kLeafBits);
  if (Leaf* const leaf = slot.load(std::memory_order_acquire)) return leaf;
  void* const bytes = ::mmap(nullptr, sizeof(Leaf), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (bytes == MAP_FAILED) return nullptr;
  auto* const fresh = static_cast<Leaf*>(bytes);  // zero pages: every entry null
  Leaf* expected = nullptr;
  if (slot.compare_exchange_strong(expected, fresh, std::memory_order_acq_rel, std::memory_order_acquire)) {
    return fresh;
  }
  ::munmap(bytes, sizeof(Leaf));
  return expected;
}

/// The entry of granule \p g, whose leaf is mapped.
[[nodiscard]] std::atomic<SmallPage*>& entry(std::uintptr_t g) noexcept {
  return PageMap::root_slot(g >> kLeafBits).load(std::memory_order_acquire)->entries[g & (kLeafEntries - 1)];
}

}  // namespace

bool PageMap::insert(const void* begin, std::size_t bytes, SmallPage* page) noexcept {
  HEAPLAB_ASSERT(is_aligned(begin, kGranuleBytes) && bytes % kGranuleBytes == 0, "pages are whole granules");
  const std::uintptr_t first = granule_of(begin);
  const std::uintptr_t count = bytes >> kGranuleBits;
  if (first + count > kRootEntries * kLeafEntries) return false;
  for (std::uintptr_t g = first; g < first + count; ++g) {
    if (leaf_for(g) == nullptr) return false;  // leaves already mapped stay: they hold nothing
  }
  // Release: a reader that finds the page finds its header written.
  for (std::uintptr_t g = first; g < first + count; ++g) entry(g).store(page, std::memory_order_release);
  return true;
}

void PageMap::erase(const void* begin, std::size_t bytes) noexcept {
  const std::uintptr_t first = granule_of(begin);
  for (std::uintptr_t g = first; g < first + (bytes >> kGranuleBits); ++g) {
    entry(g).store(nullptr, std::memory_order_relaxed);
  }
}

}  // namespace heaplab
