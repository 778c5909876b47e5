/// \file
/// The page map: which small page (size_class_pages.hpp) an address lies
/// in, for any address of the process, in O(1) and without a lock.
///
/// free() and malloc_usable_size() get a bare pointer. A heap whose blocks
/// carry no header must find the block's page from the address alone, and
/// must tell a pointer that lies in none of its pages from one that does
/// without reading the memory behind it: that memory may be another heap's,
/// a stack, or not mapped at all. The map answers both with two loads:
///
///     address (48 bits)
///     +------------------+------------------+--------------+
///     |  root index (18) |  leaf index (18) | in granule (12)
///     +------------------+------------------+--------------+
///            |                   |
///            v                   v
///     root[2^18] ------> leaf[2^18] ------> SmallPage* (or null)
///     (static, zero)     (2 MiB, mapped the first time a page
///                         lies in its 1 GiB of addresses)
///
/// One entry per 4 KiB granule. A page is a whole number of granules at a
/// granule boundary, so each granule belongs to one page at most, and a
/// page registers by writing its pointer into each of its granules' entries.
/// The entries are atomics: a reader on another thread sees null or a
/// whole pointer, never half of one (relaxed stores of a header that was
/// written before, published with release; acquire loads). Leaves are
/// never given back, so a load never meets a leaf being unmapped.
///
/// tcmalloc's pagemap (a radix tree over page numbers) and jemalloc's
/// rtree (its radix tree from address to extent) are maps of this kind;
/// mimalloc finds a page by masking instead, as its segments are aligned
/// to their size.
///
/// One map serves the whole process: every SmallPages heap registers its
/// pages in it, and each page records which heap owns it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "stage1_static_bump/align.hpp"

namespace heaplab {

struct SmallPage;

/// The process-wide map from address to small page (see the file comment).
/// Every member is static: there is one map.
class PageMap {
 public:
  /// Bytes per entry: pages start and end at multiples of this.
  static constexpr std::size_t kGranuleBytes = 4096;
  /// Addresses the map covers: below 2^48 (x86-64 and AArch64 user space).
  static constexpr unsigned kAddressBits = 48;

  PageMap() = delete;

  /// Records \p page as the page of the \p bytes bytes at \p begin (both
  /// multiples of kGranuleBytes). False, with nothing recorded, when the
  /// range lies above the covered addresses or a leaf cannot be mapped.
  [[nodiscard]] static bool insert(const void* begin, std::size_t bytes, SmallPage* page) noexcept;
  /// Forgets the page of the \p bytes bytes at \p begin (recorded before).
  static void erase(const void* begin, std::size_t bytes) noexcept;
  /// The page \p p lies in, or null when it lies in none (any address:
  /// nothing at \p p is read). Inline: every free asks it.
  [[nodiscard, gnu::always_inline]] static SmallPage* find(const void* p) noexcept;

  /// log2 of kGranuleBytes.
  static constexpr unsigned kGranuleBits = 12;
  /// Address bits a leaf covers, above the granule's.
  static constexpr unsigned kLeafBits = 18;
  /// Address bits the root covers, above a leaf's.
  static constexpr unsigned kRootBits = kAddressBits - kGranuleBits - kLeafBits;
  /// Entries of a leaf.
  static constexpr std::size_t kLeafEntries = std::size_t{1} << kLeafBits;
  /// Entries of the root.
  static constexpr std::size_t kRootEntries = std::size_t{1} << kRootBits;

  /// One leaf: the pages of 2^18 granules (1 GiB of addresses).
  struct Leaf {
    std::atomic<SmallPage*> entries[kLeafEntries];  ///< One per granule; null: no page.
  };

  /// Entry \p i of the root (for the map's own functions).
  [[nodiscard]] static std::atomic<Leaf*>& root_slot(std::size_t i) noexcept { return root_[i]; }

 private:
  /// The root: zero-initialized static memory, so it costs no memory until
  /// an entry is written, and is ready before any constructor runs (a heap
  /// may be built during static initialization).
  static std::atomic<Leaf*> root_[kRootEntries];
};
static_assert(std::size_t{1} << PageMap::kGranuleBits == PageMap::kGranuleBytes);

// [find]
inline SmallPage* PageMap::find(const void* p) noexcept {
  const std::uintptr_t address = address_of(p);
  if (address >> kAddressBits != 0) [[unlikely]] return nullptr;
  const std::uintptr_t granule = address >> kGranuleBits;
  const Leaf* const leaf = root_[granule >> kLeafBits].load(std::memory_order_acquire);
  if (leaf == nullptr) [[unlikely]] return nullptr;
  return leaf->entries[granule & (kLeafEntries - 1)].load(std::memory_order_acquire);
}
// [find]

}  // namespace heaplab
