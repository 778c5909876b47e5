#include "tools/shim/live_block_map.hpp"

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>

namespace heaplab::shim {
namespace {

constexpr unsigned kGranuleBits = 4;   // 16 bytes a bit
constexpr unsigned kLeafSpanBits = 30;  // 1 GiB of addresses a leaf
constexpr unsigned kAddressBits = 48;   // the addresses the map covers
static_assert(std::size_t{1} << kGranuleBits == LiveBlockMap::kGranule);

/// Leaf pointers in the root.
constexpr std::size_t kLeaves = std::size_t{1} << (kAddressBits - kLeafSpanBits);
/// 64-bit words in a leaf.
constexpr std::size_t kLeafWords = (std::size_t{1} << (kLeafSpanBits - kGranuleBits)) / 64;

/// \p bytes of zeroed memory of the map's own, committed page by page as
/// it is touched, or null.
void* map_zeroed(std::size_t bytes) noexcept {
  void* const memory = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return memory == MAP_FAILED ? nullptr : memory;
}

/// The bit of \p address within its leaf: the word, and the mask in it.
struct LeafBit {
  std::size_t word;     ///< Index of the word in the leaf.
  std::uint64_t mask;   ///< The bit in that word.
};

/// Where the bit of \p address is in its leaf.
LeafBit leaf_bit(std::uintptr_t address) noexcept {
  const std::size_t bit = (address & ((std::uintptr_t{1} << kLeafSpanBits) - 1)) >> kGranuleBits;
  return {bit / 64, std::uint64_t{1} << (bit % 64)};
}

/// True when \p address lies in the part of the address space the map covers.
bool covered(std::uintptr_t address) noexcept { return address >> kAddressBits == 0; }

}  // namespace

LiveBlockMap::~LiveBlockMap() {
  if (leaves_ == nullptr) return;
  for (std::size_t i = 0; i < kLeaves; ++i) {
    if (leaves_[i] != nullptr) ::munmap(leaves_[i], kLeafWords * sizeof(std::uint64_t));
  }
  ::munmap(static_cast<void*>(leaves_), kLeaves * sizeof(std::uint64_t*));
}

std::uint64_t* LiveBlockMap::leaf_of(std::uintptr_t address) const noexcept {
  return leaves_ == nullptr ? nullptr : leaves_[address >> kLeafSpanBits];
}

std::uint64_t* LiveBlockMap::mapped_leaf_of(std::uintptr_t address) noexcept {
  if (leaves_ == nullptr) {
    leaves_ = static_cast<std::uint64_t**>(map_zeroed(kLeaves * sizeof(std::uint64_t*)));
    if (leaves_ == nullptr) return nullptr;
  }
  std::uint64_t*& leaf = leaves_[address >> kLeafSpanBits];
  if (leaf == nullptr) leaf = static_cast<std::uint64_t*>(map_zeroed(kLeafWords * sizeof(std::uint64_t)));
  return leaf;
}

bool LiveBlockMap::insert(const void* payload) noexcept {
  const auto address = reinterpret_cast<std::uintptr_t>(payload);
  if (!covered(address)) return false;
  std::uint64_t* const leaf = mapped_leaf_of(address);
  if (leaf == nullptr) return false;
  const LeafBit at = leaf_bit(address);
  leaf[at.word] |= at.mask;
  return true;
}

void LiveBlockMap::erase(const void* payload) noexcept {
  const auto address = reinterpret_cast<std::uintptr_t>(payload);
  const LeafBit at = leaf_bit(address);
  leaf_of(address)[at.word] &= ~at.mask;
}

bool LiveBlockMap::contains(const void* p) const noexcept {
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  if (!covered(address) || address % kGranule != 0) return false;
  const std::uint64_t* const leaf = leaf_of(address);
  if (leaf == nullptr) return false;
  const LeafBit at = leaf_bit(address);
  return (leaf[at.word] & at.mask) != 0;
}

}  // namespace heaplab::shim
