/// \file
/// The one allocator contract of the course: the C++20 concept every
/// allocator models, and the small value types it speaks in.
///
/// Every stage's allocator is checked against heaplab::Allocator, so the
/// shared test suites, the diagram renderer, the pmr adapter and the
/// thread-safe wrapper are written once and work for all of them.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <string_view>

namespace heaplab {

/// The alignment every allocation gets when the caller asks for none.
///
/// Eight bytes is enough for every scalar on the machines the course targets
/// (`double`, `std::uint64_t`, pointers). `malloc` must promise 16 (the
/// alignment of `std::max_align_t`, which covers `long double`); the drop-in
/// shim asks for that explicitly.
inline constexpr std::size_t kDefaultAlignment = 8;

/// The alignment `malloc` promises: that of `std::max_align_t` (16 on
/// x86-64 and AArch64 Linux). The drop-in shim asks for it on every call.
inline constexpr std::size_t kMallocAlignment = alignof(std::max_align_t);

/// The largest request any allocator in the course accepts.
///
/// No C++ object may be larger than `PTRDIFF_MAX` bytes (pointer subtraction
/// inside it would overflow), and glibc's malloc refuses such sizes too. Any
/// larger size is rejected up front, which also guarantees that rounding a
/// size up to a multiple of an alignment can never wrap around.
inline constexpr std::size_t kMaxRequest = static_cast<std::size_t>(PTRDIFF_MAX);

/// The numbers the tools, demos and exercises print.
///
/// Every stage reports at least these; later stages return a type derived
/// from HeapStats that adds its own fields (free blocks, search lengths, ...).
/// "Live" fields describe the heap now; "lifetime" fields only ever grow and
/// survive reset() and rewind().
struct HeapStats {
  std::size_t capacity = 0;          ///< Bytes the allocator can hand out from (all its regions).
  std::size_t used = 0;              ///< Live: bytes consumed from the regions, padding included.
  std::size_t requested = 0;         ///< Live: bytes the caller asked for, summed over live allocations.
  std::size_t padding = 0;           ///< Live: `used - requested`: alignment and rounding, and from stage 2 on headers and free blocks.
  std::size_t live_allocations = 0;  ///< Live: allocations that have not been released.
  std::size_t high_water = 0;        ///< Lifetime: the largest `used` ever seen.
  std::size_t peak_requested = 0;    ///< Lifetime: the largest `requested` ever seen.
  std::size_t allocations = 0;       ///< Lifetime: successful allocate() calls.
  std::size_t exhausted = 0;         ///< Lifetime: allocate() calls refused for lack of room.
  std::size_t rejected = 0;          ///< Lifetime: allocate() calls refused for a bad size or alignment.
};

/// Utilization as CS:APP's malloc lab defines it: the peak of live requested
/// bytes over the heap's high-water mark (1.0 is perfect; 0 for an unused
/// heap). See the measures page of the docs.
[[nodiscard]] constexpr double utilization(const HeapStats& stats) noexcept {
  return stats.high_water == 0
             ? 0.0
             : static_cast<double>(stats.peak_requested) / static_cast<double>(stats.high_water);
}

/// The lifetime fields of HeapStats (high-water mark, peak requested bytes,
/// allocations ever), kept for heaps that release in bulk (reset, rewind).
///
/// The peaks are folded in only when the live numbers are about to shrink,
/// not on every allocation: that keeps them off the allocation fast path,
/// and the live numbers themselves stand in for the peak until then.
class LifetimeStats {
 public:
  /// Records the live \p used and \p requested bytes just before
  /// \p released of the live allocations are released.
  constexpr void before_release(std::size_t used, std::size_t requested,
                                std::size_t released) noexcept {
    high_water_ = std::max(high_water_, used);
    peak_requested_ = std::max(peak_requested_, requested);
    retired_allocations_ += released;
  }
  /// \p live with its lifetime fields filled in.
  [[nodiscard]] constexpr HeapStats complete(HeapStats live) const noexcept {
    live.high_water = std::max(high_water_, live.used);
    live.peak_requested = std::max(peak_requested_, live.requested);
    live.allocations = retired_allocations_ + live.live_allocations;
    return live;
  }

 private:
  std::size_t high_water_ = 0;           ///< Largest `used` before the last release.
  std::size_t peak_requested_ = 0;       ///< Largest `requested` before the last release.
  std::size_t retired_allocations_ = 0;  ///< Allocations released so far.
};

/// The verdict of an allocator's check(): all invariants hold, or the first
/// one that does not, with the byte offset where it was found.
///
/// A failed check names its invariant in words a learner can look up in the
/// chapter, e.g. `"start <= next <= end"`.
struct CheckResult {
  std::string_view failed_invariant;  ///< Empty when every invariant holds.
  std::size_t offset = 0;             ///< Byte offset (from the region start) of the failure.
  std::size_t region = 0;             ///< Which region the offset is in (as BlockView::region); 0 for single-region heaps.

  /// A passing result.
  static constexpr CheckResult pass() noexcept { return {}; }
  /// A failing result naming \p invariant at byte \p at of region \p in.
  static constexpr CheckResult fail(std::string_view invariant, std::size_t at, std::size_t in = 0) noexcept {
    return {invariant, at, in};
  }
  /// This result, moved to region \p in (a layer with several regions
  /// says which one a region's own check() was about).
  [[nodiscard]] constexpr CheckResult in_region(std::size_t in) const noexcept {
    return {failed_invariant, offset, in};
  }
  /// True when every invariant holds.
  [[nodiscard]] constexpr bool ok() const noexcept { return failed_invariant.empty(); }
  /// Same as ok(), so `CHECK(a.check())` reads naturally.
  constexpr explicit operator bool() const noexcept { return ok(); }
};

/// What a stretch of heap is used for, as a block walk reports it.
enum class BlockState {
  allocated,  ///< Handed out to the caller (or consumed by padding next to it).
  free,       ///< Available for future allocations.
};

/// One step of a block walk: a contiguous stretch of one region.
///
/// The last three fields say how the block's bytes divide, for pictures
/// such as `heaplab map --html`; an allocator that keeps no bookkeeping in
/// its blocks (chapter 1's bump) leaves them 0:
///
///     offset                                                 offset + size
///     | header |  links (free)  |   payload or free bytes   |   footer   |
///     |<------>|<-------------->|                           |<---------->|
///       header      links                                      footer
struct BlockView {
  std::size_t region = 0;         ///< Which region (chunk) of the allocator; 0 for single-region heaps.
  std::size_t offset = 0;         ///< Byte offset of the block from its region's start.
  std::size_t size = 0;           ///< Size of the block in bytes.
  BlockState state = BlockState::free;  ///< Allocated or free.
  std::size_t header = 0;         ///< Bookkeeping bytes at the block's start, in front of its payload.
  std::size_t footer = 0;         ///< Bookkeeping bytes at its end: a boundary tag (chapter 4).
  std::size_t links = 0;          ///< Free block: bytes after the header holding its free-list links.
};

namespace detail {
/// The weakest visitor a block walk must accept (used only by the concept).
struct BlockVisitorArchetype {
  /// Accepts one block (declared only; never called).
  void operator()(const BlockView&) const;
};
}  // namespace detail

/// The contract every allocator of the course models.
///
/// - `allocate(size, align = 8)` returns `nullptr` when it cannot serve
///   (exhausted, size above kMaxRequest, alignment not a power of two) and
///   then changes nothing but a failure counter; `allocate(0)` returns a
///   unique pointer that may be deallocated.
/// - `deallocate(p)` is `noexcept`; `deallocate(nullptr)` does nothing.
/// - `stats()`, `check()`, `owns(p)` and `for_each_block(visitor)` are the
///   read-only views the tests, tools and diagrams use.
// [concept]
template <class A>
concept Allocator = requires(A& a, const A& ca, void* p, const void* cp, std::size_t n,
                             detail::BlockVisitorArchetype visit) {
  { a.allocate(n) } -> std::same_as<void*>;
  { a.allocate(n, n) } -> std::same_as<void*>;
  { a.deallocate(p) } noexcept;
  { ca.stats() } -> std::convertible_to<HeapStats>;
  { ca.check() } -> std::same_as<CheckResult>;
  { ca.owns(cp) } noexcept -> std::same_as<bool>;
  ca.for_each_block(visit);
};
// [concept]

/// Allocators that can release everything at once (every stage-1 allocator).
template <class A>
concept Resettable = Allocator<A> && requires(A& a) { a.reset(); };

/// Allocators that give single blocks back and can resize them (stage 2 on):
/// `reallocate(p, size)` keeps the first `min(old, new)` bytes and returns
/// nullptr, leaving the block intact, when it cannot serve;
/// `allocate_zeroed(count, size)` is calloc, nullptr when the product
/// overflows.
template <class A>
concept Reallocating = Allocator<A> && requires(A& a, void* p, std::size_t n) {
  { a.reallocate(p, n) } -> std::same_as<void*>;
  { a.allocate_zeroed(n, n) } -> std::same_as<void*>;
};

}  // namespace heaplab
