/// \file
/// One line of text built without allocating, and written with write(2):
/// how an allocator says anything at all.
///
/// printf and iostreams may call malloc (stdio allocates its buffers on
/// first use), and an allocator that reports misuse, possibly from inside
/// malloc itself (the drop-in shim of tools/shim), or writes at exit after
/// the C library has begun to shut down, must not depend on them. A Line
/// is a fixed array with a length; text that does not fit is cut off.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace heaplab {

/// A line of at most kCapacity characters, built in place.
class Line {
 public:
  /// The most characters a Line holds; more are dropped.
  static constexpr std::size_t kCapacity = 512;

  /// Appends \p text.
  Line& operator<<(std::string_view text) noexcept;
  /// Appends \p value in decimal.
  Line& operator<<(std::size_t value) noexcept;
  /// Appends \p value in hexadecimal, with a `0x` prefix (for addresses).
  Line& append_hex(std::uintptr_t value) noexcept;

  /// The characters so far.
  [[nodiscard]] std::string_view view() const noexcept { return {chars_, length_}; }

  /// Writes the line to the file descriptor \p fd with write(2), retrying
  /// after a partial write or a signal, giving up on any other error.
  void write_to(int fd) const noexcept;

 private:
  /// Appends the \p count digits in \p digits, which hold them last first.
  void append_reversed(const char* digits, std::size_t count) noexcept;

  char chars_[kCapacity] = {};  ///< The characters; the first length_ are used.
  std::size_t length_ = 0;      ///< Characters used. Invariant: <= kCapacity.
};

}  // namespace heaplab
