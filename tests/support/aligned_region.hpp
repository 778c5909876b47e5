/// \file
/// A caller-provided region with a known alignment, for tests that predict
/// block addresses: where the heap starts, how large an alignment gap is.
#pragma once

#include <cstddef>
#include <new>
#include <span>

namespace heaplab::testing {

/// \p size bytes on the free store, starting on an \p alignment boundary
/// (a power of two) and filled with \p fill, so that a test can tell bytes
/// an allocator wrote (zeroes, headers) from bytes it never touched.
class AlignedRegion {
 public:
  AlignedRegion(std::size_t size, std::size_t alignment, std::byte fill = std::byte{0xA5})
      : alignment_(static_cast<std::align_val_t>(alignment)),
        bytes_(static_cast<std::byte*>(::operator new(size, alignment_)), size) {
    for (std::byte& b : bytes_) b = fill;
  }
  AlignedRegion(const AlignedRegion&) = delete;
  AlignedRegion& operator=(const AlignedRegion&) = delete;
  ~AlignedRegion() { ::operator delete(bytes_.data(), alignment_); }

  /// The whole region, to hand to an allocator.
  [[nodiscard]] std::span<std::byte> bytes() const noexcept { return bytes_; }
  /// The first byte of the region.
  [[nodiscard]] std::byte* begin() const noexcept { return bytes_.data(); }
  /// One past the last byte of the region.
  [[nodiscard]] std::byte* end() const noexcept { return bytes_.data() + bytes_.size(); }

 private:
  std::align_val_t alignment_;   ///< The alignment the region was allocated with (needed to free it).
  std::span<std::byte> bytes_;   ///< The region itself.
};

}  // namespace heaplab::testing
