/// \file
/// The course's default memory: one 10 MiB array in static storage.
///
/// Static storage lives in the program's `.bss` segment: the kernel maps it
/// zero-filled when the program starts, it never moves and never runs out
/// behind our back. It is the simplest possible "heap": no system call at all.
///
/// Only one allocator may use it at a time, or two allocators would hand out
/// the same bytes; StaticHeapClaim enforces that.
#pragma once

#include <cstddef>
#include <span>

namespace heaplab {

/// Size of the static heap: 10 MiB, the course's first heap: large enough for
/// the shipped traces, small enough to exhaust on purpose.
inline constexpr std::size_t kStaticHeapSize = std::size_t{10} * 1024 * 1024;

/// Exclusive use of the static heap, held by the allocator built on it.
///
/// A move-only token: while one is held, a second try_take() comes back
/// empty and the caller reports Misuse::static_heap_taken. Destroying the
/// token gives the heap back.
class StaticHeapClaim {
 public:
  /// Takes the static heap if nobody holds it; otherwise an empty claim.
  [[nodiscard]] static StaticHeapClaim try_take() noexcept;

  StaticHeapClaim() noexcept = default;  ///< An empty claim (holds nothing).
  StaticHeapClaim(StaticHeapClaim&& other) noexcept;             ///< Takes over \p other's claim.
  StaticHeapClaim& operator=(StaticHeapClaim&& other) noexcept;  ///< Releases ours, takes \p other's.
  StaticHeapClaim(const StaticHeapClaim&) = delete;
  StaticHeapClaim& operator=(const StaticHeapClaim&) = delete;
  ~StaticHeapClaim();  ///< Gives the static heap back if this claim holds it.

  /// The 10 MiB region (aligned to `alignof(std::max_align_t)`), or an empty
  /// span for an empty claim.
  [[nodiscard]] std::span<std::byte> region() const noexcept;
  /// True when this claim holds the static heap.
  [[nodiscard]] bool held() const noexcept { return held_; }

 private:
  explicit StaticHeapClaim(bool held) noexcept : held_(held) {}
  bool held_ = false;  ///< Invariant: at most one live claim has held_ == true.
};

}  // namespace heaplab
