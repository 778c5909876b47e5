/// \file
/// LiveBlockMap: which addresses are the payloads of live blocks, one bit
/// per 16 bytes of address space: SizedBlocks' own record of its blocks.
///
/// Chapter 1's bump heap keeps no record of single blocks, and the header
/// SizedBlocks puts in front of each one is no record either: it lies in
/// memory the program writes, so the bytes in front of an interior pointer
/// can look like a header, and a program can even write one there. A check
/// that reads such bytes can be fooled into freeing, or resizing to a
/// million bytes, a block that is not one. The map is kept where the
/// program never writes, so it cannot be fooled: a pointer is the payload
/// of a live block exactly when its bit is set.
///
///     address:  | leaf (bits 47..30) | bit in the leaf (bits 29..4) | 0000 |
///
/// The map covers the 48-bit address space of a Linux process (x86-64 and
/// AArch64) in leaves of 1 GiB, each 2^26 bits (8 MiB), mapped the first
/// time a block lies in its gigabyte, and found through a root of 2^18 leaf
/// pointers (2 MiB), mapped at the first block. Both are mapped like the
/// heap reservation (MAP_NORESERVE), so they cost only the pages touched:
/// about one bit per 16 bytes of heap in use, 1/128 of it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace heaplab::shim {

/// The set of live payload addresses (see the file comment). Not
/// thread-safe: its owner's lock guards it (MallocHeap's, in a shim).
class LiveBlockMap {
 public:
  /// The alignment of every address in the map: one bit stands for these
  /// many bytes.
  static constexpr std::size_t kGranule = 16;

  LiveBlockMap() noexcept = default;
  LiveBlockMap(const LiveBlockMap&) = delete;
  LiveBlockMap& operator=(const LiveBlockMap&) = delete;
  /// Unmaps the root and every leaf.
  ~LiveBlockMap();

  /// Records that a live block's payload starts at \p payload, a multiple
  /// of kGranule. Returns false, recording nothing, when the map cannot
  /// hold it: an address above the 48 bits it covers, or no memory for a
  /// new leaf. The block must then not be handed out.
  [[nodiscard]] bool insert(const void* payload) noexcept;
  /// Records that the block at \p payload is live no more.
  /// Precondition: contains(\p payload).
  void erase(const void* payload) noexcept;
  /// True when \p p is the payload of a live block; any pointer may be
  /// asked about.
  [[nodiscard]] bool contains(const void* p) const noexcept;

 private:
  /// The leaf that holds the bit of \p address, or null when none is
  /// mapped. Precondition: \p address is below 2^48.
  [[nodiscard]] std::uint64_t* leaf_of(std::uintptr_t address) const noexcept;
  /// The leaf that holds the bit of \p address, mapped (with the root) if
  /// it is not yet; null if there is no memory for it.
  [[nodiscard]] std::uint64_t* mapped_leaf_of(std::uintptr_t address) noexcept;

  std::uint64_t** leaves_ = nullptr;  ///< The root: null, or 2^18 leaf pointers, each null until mapped.
};

}  // namespace heaplab::shim
