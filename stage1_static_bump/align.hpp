/// \file
/// Alignment arithmetic, written once and overflow-safe.
///
/// Alignments in the course are powers of two, so "round up to a multiple of
/// `align`" is a mask operation:
///
///     round_up(13, 8):   13 = 0b0'1101
///                      + 7  = 0b1'0100   (20)
///                      & ~7 = 0b1'0000   (16)
#pragma once

#include <cstddef>
#include <cstdint>

namespace heaplab {

/// True for 1, 2, 4, 8, ...; false for 0 and every other number.
[[nodiscard]] constexpr bool is_power_of_two(std::size_t x) noexcept {
  return x != 0 && (x & (x - 1)) == 0;
}

/// Rounds \p size up to a multiple of \p align (a power of two).
///
/// Precondition: `size <= SIZE_MAX - (align - 1)`, which every caller
/// guarantees by rejecting sizes above kMaxRequest first.
// [round_up]
[[nodiscard]] constexpr std::size_t round_up(std::size_t size, std::size_t align) noexcept {
  return (size + (align - 1)) & ~(align - 1);
}
// [round_up]

/// Bytes to skip from \p address to reach the next multiple of \p align.
///
/// Computed as `(-address) mod align`, which cannot overflow, unlike the
/// tempting `round_up(address, align) - address` near the top of memory.
[[nodiscard]] constexpr std::size_t padding_to_align(std::uintptr_t address,
                                                     std::size_t align) noexcept {
  return static_cast<std::size_t>((std::uintptr_t{0} - address) & (align - 1));
}

/// True when \p p is a multiple of \p align.
[[nodiscard]] inline bool is_aligned(const void* p, std::size_t align) noexcept {
  return padding_to_align(reinterpret_cast<std::uintptr_t>(p), align) == 0;
}

}  // namespace heaplab

namespace heaplab {

/// The address of \p p as an integer, for alignment arithmetic.
[[nodiscard]] inline std::uintptr_t address_of(const void* p) noexcept {
  return reinterpret_cast<std::uintptr_t>(p);
}

/// True when \p p lies in `[begin, end)`.
///
/// Compares addresses as integers: `<` between pointers into different
/// objects is unspecified in C++, and a foreign pointer is exactly that.
[[nodiscard]] inline bool address_in(const void* p, const void* begin, const void* end) noexcept {
  return address_of(begin) <= address_of(p) && address_of(p) < address_of(end);
}

}  // namespace heaplab
