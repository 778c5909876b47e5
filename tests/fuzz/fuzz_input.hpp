/// \file
/// The fuzz targets' byte-code: how the bytes libFuzzer invents become a
/// run of allocator operations.
///
/// libFuzzer knows nothing about allocators: it mutates byte strings and
/// keeps those that reach new code. So every byte string must be a valid
/// program, and a small change of bytes should make a small change of
/// program. The code is read front to back:
///
///     input:  [configuration] [heap shape] op op op ...
///     op:     [kind] operands...            (operands: 0 to 4 bytes)
///
/// - configuration: which allocator of the family (the target takes it
///   modulo its number of configurations);
/// - heap shape: the size of the region and how far its start is moved off
///   a page boundary (HeapShape);
/// - kind: the operation, `byte % 32` through kOpTable; operands are decoded
///   by the functions below (request_size(), request_alignment(), ...).
///
/// Reading past the end gives zeroes, so a truncated input is still a
/// program (its last operation gets zero operands), and the run stops when
/// the input is used up. The decoders favour the sizes programs use (tiny
/// and small ones) but reach every edge the contract speaks of: 0, exactly
/// the heap, just over it, kMaxRequest, kMaxRequest + 1 (PTRDIFF_MAX + 1),
/// SIZE_MAX - 7, SIZE_MAX, alignments that are no power of two, and
/// calloc products that wrap around.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string_view>

#include "stage1_static_bump/contract.hpp"

namespace heaplab::fuzzing {

/// The largest std::size_t.
inline constexpr std::size_t kSizeMax = std::numeric_limits<std::size_t>::max();

/// The bytes of one fuzz input, read front to back.
class FuzzInput {
 public:
  /// Reads \p bytes, which the caller keeps alive.
  explicit FuzzInput(std::span<const std::uint8_t> bytes) noexcept : bytes_(bytes) {}

  /// True when every byte has been read.
  [[nodiscard]] bool empty() const noexcept { return next_ == bytes_.size(); }
  /// The next byte, or 0 past the end.
  std::uint8_t byte() noexcept { return empty() ? std::uint8_t{0} : bytes_[next_++]; }
  /// The next two bytes as a little-endian number (0 past the end).
  std::uint16_t u16() noexcept {
    const std::uint8_t low = byte();
    const std::uint8_t high = byte();
    return static_cast<std::uint16_t>(low | (high << 8));
  }
  /// A number in [0, n), n > 0, from the next two bytes.
  std::size_t below(std::size_t n) noexcept { return u16() % n; }

 private:
  std::span<const std::uint8_t> bytes_;  ///< The input.
  std::size_t next_ = 0;                 ///< Index of the next unread byte. Invariant: <= bytes_.size().
};

/// One element of \p table chosen by \p selector (taken modulo its size).
template <class T, std::size_t N>
[[nodiscard]] constexpr T pick(const std::array<T, N>& table, std::size_t selector) noexcept {
  return table[selector % N];
}

// ---- The heap ------------------------------------------------------------

/// The region an input's allocator runs on: \p bytes long from a page
/// boundary, of which the first \p offset bytes are left out. A start off
/// the 8- and 16-byte grid and an odd end test the allocators' trimming;
/// small sizes reach exhaustion, splitting and merging in a few operations.
struct HeapShape {
  std::size_t bytes = 0;   ///< Bytes to allocate (page-aligned), offset included.
  std::size_t offset = 0;  ///< Bytes left out at the start.

  /// Bytes the allocator gets.
  [[nodiscard]] constexpr std::size_t capacity() const noexcept { return bytes - offset; }
};

/// The region sizes a shape byte chooses from (bits 0-1): a tiny heap
/// where almost everything is refused, and small heaps where exhaustion
/// and growth still come within a few large requests.
inline constexpr std::array<std::size_t, 4> kHeapSizes{4 * 1024, 64 * 1024, 64 * 1024, 256 * 1024};

/// Decodes a shape byte: bits 0-1 the size (kHeapSizes), bits 2-5 the start
/// offset (0-15 bytes), bits 6-7 how many bytes shorter the end is (0-3).
[[nodiscard]] constexpr HeapShape heap_shape(std::uint8_t shape) noexcept {
  const std::size_t size = pick(kHeapSizes, shape & 3u);
  const std::size_t offset = (shape >> 2) & 15u;
  const std::size_t shorter = (shape >> 6) & 3u;
  return {size - shorter, offset};
}

// ---- Operations ------------------------------------------------------------

/// What one operation does. The harness (fuzz_harness.hpp) documents each.
enum class OpKind : std::uint8_t {
  allocate,         ///< allocate(size, align): operands size, alignment.
  allocate_zeroed,  ///< allocate_zeroed(count, size): operands zeroed_request().
  deallocate,       ///< deallocate() of a live block: operand block index (2 bytes).
  reallocate,       ///< reallocate() of a live block, or nullptr: index (2 bytes), size, alignment.
  usable_size,      ///< usable_size() of a live block, then writes to every usable byte: index.
  misuse,           ///< A misuse the allocator must report and survive: kind byte, then its operands.
  free_run,         ///< deallocate() of up to 16 neighbours in address order: start (2 bytes), count byte.
  mark,             ///< mark() (bump heaps): no operand.
  rewind,           ///< rewind() to a saved marker (bump heaps): marker index byte.
  release_all,      ///< reset() (stage 1), or deallocate() of every live block: no operand.
};

/// The operation of each value of `kind % 32`: allocation most often, so
/// that heaps fill up, and releasing everything rarely, so that they stay
/// full for a while. An operation an allocator lacks (allocate_zeroed,
/// reallocate and usable_size before chapter 2, mark and rewind after
/// chapter 1) is an allocate instead.
// [op_table]
inline constexpr std::array<OpKind, 32> kOpTable{
    // 0-8
    OpKind::allocate, OpKind::allocate, OpKind::allocate, OpKind::allocate, OpKind::allocate,
    OpKind::allocate, OpKind::allocate, OpKind::allocate, OpKind::allocate,
    // 9-10
    OpKind::allocate_zeroed, OpKind::allocate_zeroed,
    // 11-16
    OpKind::deallocate, OpKind::deallocate, OpKind::deallocate, OpKind::deallocate, OpKind::deallocate,
    OpKind::deallocate,
    // 17-20
    OpKind::reallocate, OpKind::reallocate, OpKind::reallocate, OpKind::reallocate,
    // 21-22
    OpKind::usable_size, OpKind::usable_size,
    // 23-25
    OpKind::misuse, OpKind::misuse, OpKind::misuse,
    // 26-27
    OpKind::free_run, OpKind::free_run,
    // 28, 29-30, 31
    OpKind::mark, OpKind::rewind, OpKind::rewind, OpKind::release_all,
};
// [op_table]

/// A readable name for \p kind, for failure messages.
[[nodiscard]] constexpr std::string_view to_string(OpKind kind) noexcept {
  switch (kind) {
    case OpKind::allocate: return "allocate";
    case OpKind::allocate_zeroed: return "allocate_zeroed";
    case OpKind::deallocate: return "deallocate";
    case OpKind::reallocate: return "reallocate";
    case OpKind::usable_size: return "usable_size";
    case OpKind::misuse: return "misuse";
    case OpKind::free_run: return "free_run";
    case OpKind::mark: return "mark";
    case OpKind::rewind: return "rewind";
    case OpKind::release_all: return "release_all";
  }
  return "?";
}

/// The misuse an OpKind::misuse operation commits (its kind byte, modulo 6).
enum class MisuseOp : std::uint8_t {
  free_foreign,    ///< deallocate() of a pointer into no heap.
  free_interior,   ///< deallocate() of a pointer inside a live block.
  free_stale,      ///< deallocate() of a pointer freed before: a double free.
  realloc_bad,     ///< reallocate() of a foreign, interior or stale pointer; bump heaps: a bad rewind().
  usable_bad,      ///< usable_size() of a foreign, interior or stale pointer; bump heaps: a bad rewind().
  free_null,       ///< deallocate(nullptr): not misuse at all, and nothing may happen.
};

/// Number of MisuseOp values.
inline constexpr std::size_t kMisuseOps = 6;

// ---- Operands --------------------------------------------------------------

/// Sizes at the edges: around cells, pages and the mapping thresholds the
/// configurations use (8 KiB, 128 KiB), and the sizes no heap may accept
/// (above kMaxRequest, which is PTRDIFF_MAX).
inline constexpr std::array<std::size_t, 32> kEdgeSizes{
    0, 1, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 4095, 4096, 4097, 8191, 8192, 8193,
    128 * 1024 - 1, 128 * 1024, 128 * 1024 + 1,
    std::size_t{1} << 32, std::size_t{1} << 40,
    kMaxRequest - 4096, kMaxRequest - 7, kMaxRequest, kMaxRequest + 1,  // PTRDIFF_MAX + 1
    kSizeMax / 2 + 2, kSizeMax - 4095, kSizeMax - 7, kSizeMax - 1, kSizeMax};

/// A request size, for a heap of \p capacity bytes. One selector byte; its
/// top 3 bits pick the class, its low 5 bits (`low`) take part:
///
/// | class | size                                             | operands |
/// |-------|--------------------------------------------------|----------|
/// | 0, 7  | tiny: `low` (0-31)                               | none     |
/// | 1     | small: 32 + the next byte (32-287)               | 1 byte   |
/// | 2     | medium: the next 2 bytes modulo 8 KiB            | 2 bytes  |
/// | 3     | `2^(low & 15)`, minus 1 when bit 4 of `low` is set | none   |
/// | 4     | a share of the heap: `capacity * (b + 1) / 256 + low`, b the next byte | 1 byte |
/// | 5     | around the whole heap: `capacity + low - 16`     | none     |
/// | 6     | kEdgeSizes[low]                                  | none     |
// [request_size]
[[nodiscard]] inline std::size_t request_size(FuzzInput& input, std::size_t capacity) noexcept {
  const std::uint8_t selector = input.byte();
  const std::size_t low = selector & 31u;
  switch (selector >> 5) {
    case 1: return 32 + input.byte();
    case 2: return input.below(8 * 1024);
    case 3: return (std::size_t{1} << (low & 15u)) - (low >> 4);
    case 4: return capacity * (std::size_t{input.byte()} + 1) / 256 + low;
    case 5: return capacity + low - 16;  // capacity is at least 4 KiB - 3 - 15
    case 6: return pick(kEdgeSizes, low);
    default: return low;
  }
}
// [request_size]

/// Alignments a request may ask for: powers of two from 1 to 2^63 (the
/// large ones can never be served, but are valid), and values that are no
/// power of two, which must be rejected.
inline constexpr std::array<std::size_t, 32> kAlignments{
    1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 64 * 1024,
    std::size_t{1} << 20, std::size_t{1} << 32, std::size_t{1} << 62, std::size_t{1} << 63,
    0, 3, 6, 7, 12, 24, 48, 100, 4097, (std::size_t{1} << 63) + 1, kSizeMax - 7, kSizeMax, 16};

/// The alignment of a request: nothing (call `allocate(size)`, with the
/// default alignment) when the byte is below 160, else kAlignments[byte - 160].
[[nodiscard]] inline std::optional<std::size_t> request_alignment(FuzzInput& input) noexcept {
  const std::uint8_t selector = input.byte();
  if (selector < 160) return std::nullopt;
  return pick(kAlignments, selector - 160u);
}

/// The operands of calloc: `count` elements of `size` bytes.
struct ZeroedRequest {
  std::size_t count = 0;  ///< Number of elements.
  std::size_t size = 0;   ///< Bytes per element.
};

/// Element sizes of small calloc requests.
inline constexpr std::array<std::size_t, 8> kElementSizes{0, 1, 2, 3, 4, 8, 12, 16};
/// Counts of calloc requests whose product overflows with most sizes.
inline constexpr std::array<std::size_t, 8> kHugeCounts{
    kMaxRequest / 2 + 1, kMaxRequest, kSizeMax, std::size_t{1} << 32,
    std::size_t{1} << 33, kSizeMax / 3 + 1, 3, 2};
/// Element sizes that make those products overflow (or not: 0 and 16).
inline constexpr std::array<std::size_t, 8> kHugeSizes{
    2, 3, std::size_t{1} << 31, std::size_t{1} << 32, kSizeMax, kMaxRequest, 16, 0};

/// A calloc request, for a heap of \p capacity bytes. One selector byte;
/// its top 2 bits pick the class:
///
/// | class | count                     | size                     |
/// |-------|---------------------------|--------------------------|
/// | 0     | low 6 bits (0-63)         | kElementSizes[next byte] |
/// | 1     | request_size()            | 1                        |
/// | 2     | low 6 bits                | request_size()           |
/// | 3     | kHugeCounts[next byte]    | kHugeSizes[its top bits] |
[[nodiscard]] inline ZeroedRequest zeroed_request(FuzzInput& input, std::size_t capacity) noexcept {
  const std::uint8_t selector = input.byte();
  const std::size_t low = selector & 63u;
  switch (selector >> 6) {
    case 0: return {low, pick(kElementSizes, input.byte())};
    case 1: return {request_size(input, capacity), 1};
    case 2: return {low, request_size(input, capacity)};
    default: {
      const std::uint8_t huge = input.byte();
      return {pick(kHugeCounts, huge), pick(kHugeSizes, huge >> 3)};
    }
  }
}

}  // namespace heaplab::fuzzing
