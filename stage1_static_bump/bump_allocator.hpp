/// \file
/// Chapter 1's allocator: a bump pointer over one contiguous region.
///
///     begin_                 next                               end_
///       |                      |                                  |
///       v                      v                                  v
///       +------+----+----------+----------------------------------+
///       | blk0 |pad | blk1     |              free                |
///       +------+----+----------+----------------------------------+
///       <------- used -------->  <----------- remaining ---------->
///
/// Allocation moves `next` forward; nothing ever moves it back except
/// reset() and rewind(). That is the whole allocator, and the reason it is
/// the fastest one in the course.
///
/// The arithmetic of one bump, bump_step(), is a template argument of
/// BasicBumpAllocator: BumpAllocator runs the course's, and a learner's
/// own step (stage1_static_bump/your_turn/bump_step.hpp) runs inside the
/// same allocator, with its statistics, check() and misuse reports. The
/// step is known at compile time, so it is inlined all the same.
///
/// Under AddressSanitizer or memcheck (tracking.hpp), everything from `next`
/// to the end is poisoned, and each allocation exposes exactly the bytes
/// asked for: a program that overruns a block, or uses one after reset(),
/// is reported.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <utility>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/static_heap.hpp"
#include "stage1_static_bump/tracking.hpp"

namespace heaplab {

/// True when a request can be served by *some* heap: the size is at most
/// kMaxRequest and the alignment is a power of two.
[[nodiscard]] constexpr bool is_valid_request(std::size_t size, std::size_t align) noexcept {
  return size <= kMaxRequest && is_power_of_two(align);
}

/// Bytes a bump allocation of \p size occupies: the size rounded up to whole
/// 8-byte cells, and at least one cell so that `allocate(0)` is unique.
/// Precondition: `size <= kMaxRequest`, so the rounding cannot wrap.
[[nodiscard]] constexpr std::size_t bump_footprint(std::size_t size) noexcept {
  return std::max(round_up(size, kDefaultAlignment), kDefaultAlignment);
}

/// Trims \p region to whole 8-byte cells starting on an 8-byte boundary
/// (an empty span if none fits). Every bump heap of the course runs on a
/// trimmed region, so its bump pointer is always 8-aligned and requests for
/// alignments up to 8 never need padding.
[[nodiscard]] std::span<std::byte> whole_cells(std::span<std::byte> region) noexcept;

/// The outcome of one bump: whether the block fits, where it starts, and
/// where the bump pointer goes next.
struct BumpStep {
  bool fits = false;              ///< False when the room left is too small.
  std::byte* block = nullptr;     ///< Start of the new block (when it fits).
  std::byte* new_next = nullptr;  ///< The bump pointer after the allocation (when it fits).
};

/// Computes one bump from \p next (8-aligned) within a region ending at
/// \p end, for a valid request (see is_valid_request()). Shared by every
/// bump allocator in the course so the arithmetic is written, and proven
/// overflow-free, once.
[[nodiscard]] [[gnu::always_inline]] inline BumpStep bump_step(std::byte* next, std::byte* end,
                                                               std::size_t size,
                                                               std::size_t align) noexcept {
  // [bump_step]
  // 1. Align the size: every block is a whole number of 8-byte cells.
  const std::size_t footprint = bump_footprint(size);
  // 2. Make sure the heap can hold it. `next` is always on an 8-byte
  //    boundary, so only alignments above 8 can need padding. Comparing
  //    against the room left (never computing next + padding + footprint)
  //    means no addition can wrap around, whatever the size or alignment.
  const std::size_t padding = align > kDefaultAlignment ? padding_to_align(address_of(next), align) : 0;
  const auto room = static_cast<std::size_t>(end - next);
  if (padding > room || footprint > room - padding) return {};
  // 3. Return the current pointer (past the padding) ...
  std::byte* const block = next + padding;
  // 4. ... and move the pointer forward.
  return {true, block, block + footprint};
  // [bump_step]
}

/// The type of a bump step: bump_step(), or a function written to its
/// contract (the same parameters, the same BumpStep answer).
using BumpStepFunction = BumpStep (*)(std::byte* next, std::byte* end, std::size_t size,
                                      std::size_t align) noexcept;

/// The state of a bump heap that its invariants speak about, read at one
/// moment. Both bump allocators check themselves through check_bump_heap().
struct BumpSnapshot {
  const std::byte* begin = nullptr;   ///< Start of the region.
  const std::byte* next = nullptr;    ///< The bump pointer.
  const std::byte* end = nullptr;     ///< One past the end of the region.
  std::size_t requested = 0;          ///< Live requested bytes.
  std::size_t live_allocations = 0;   ///< Live allocations.
};

/// Verifies the invariants of a bump heap (chapter 1 lists them):
/// start <= next <= end, next on an 8-byte boundary, requested <= used, and
/// every live allocation using at least one 8-byte cell.
[[nodiscard]] CheckResult check_bump_heap(const BumpSnapshot& heap) noexcept;

/// A bump allocator over any caller-provided region, or over the static
/// 10 MiB heap by default.
///
/// - allocate() is a handful of instructions (always inlined); refusals take
///   a separate cold path that only counts them.
/// - deallocate() is a no-op: a bump allocator cannot give one block back,
///   because nothing records where blocks begin or end. Memory is recovered
///   all at once with reset(), or back to a mark() with rewind().
/// - Not thread-safe; wrap it in Synchronized, or use AtomicBumpAllocator.
///
/// The allocator is neither copyable nor movable: pointers it handed out and
/// adapters referring to it must stay attached to one object.
///
/// \tparam Step computes each bump (bump_step() unless told); everything
///   else (validity, counters, reset, rewind, check) is the allocator's.
///   Use the alias BumpAllocator for the course's own.
template <BumpStepFunction Step = &bump_step>
class BasicBumpAllocator {
 public:
  /// A saved position, for rewind(). Taken by mark().
  struct Marker {
    const BasicBumpAllocator* owner = nullptr;  ///< The allocator the marker belongs to.
    std::size_t offset = 0;                ///< Bump pointer offset from the region start.
    std::size_t requested = 0;             ///< Live requested bytes at the time of the mark.
    std::size_t live_allocations = 0;      ///< Live allocations at the time of the mark.
    std::size_t resets = 0;                ///< reset() count at the time; older markers are stale.
  };

  /// Bump-allocates from the static 10 MiB heap. If another allocator holds
  /// it, reports Misuse::static_heap_taken and serves nothing.
  BasicBumpAllocator() noexcept;
  /// Bump-allocates from \p region, which the caller keeps alive. A region
  /// that does not start on an 8-byte boundary loses its first few bytes
  /// (see whole_cells()).
  explicit BasicBumpAllocator(std::span<std::byte> region) noexcept;

  BasicBumpAllocator(const BasicBumpAllocator&) = delete;
  BasicBumpAllocator& operator=(const BasicBumpAllocator&) = delete;
  /// Gives the static heap back if this allocator held it, and the whole
  /// region back to its owner accessible again (tracking.hpp): the region
  /// outlives the allocator, and its owner may use it for anything.
  ~BasicBumpAllocator() { track::expose(begin_, region().size()); }

  /// Returns \p size bytes aligned to `max(align, 8)`, or nullptr (see the
  /// contract in contract.hpp). Alignments below 8 get 8: the bump pointer
  /// always stays on an 8-byte boundary.
  [[nodiscard]] [[gnu::always_inline]] inline void* allocate(
      std::size_t size, std::size_t align = kDefaultAlignment) noexcept;

  /// A no-op for blocks of this heap (see the class comment); a pointer this
  /// allocator did not hand out is reported as Misuse::foreign_pointer.
  void deallocate(void* p) noexcept;

  /// Releases every allocation: the bump pointer goes back to the start.
  /// Inline, like allocate(): a bump heap that serves one request, one frame
  /// or one round of work resets as often as it allocates a few times.
  void reset() noexcept {
    lifetime_.before_release(used(), requested_bytes(), live_.allocations);
    live_ = {begin_, 0, 0};
    ++resets_;
    poison_unused();
  }
  /// Saves the current position for a later rewind().
  [[nodiscard]] Marker mark() const noexcept;
  /// Releases everything allocated since \p marker was taken, restoring the
  /// exact live state of that moment. A marker from another allocator, from
  /// before a reset(), or beyond the current position is reported as
  /// Misuse::bad_marker and changes nothing.
  ///
  /// Markers form a stack: rewinding to a marker also invalidates every
  /// marker taken after it. One such erased marker cannot be detected: once
  /// the heap has grown past its position again, it looks like a marker from
  /// the present, and rewinding to it would release live blocks. Telling the
  /// two apart needs a record per allocation, which a bump heap does not
  /// keep. ScopedRewind, whose guards nest with the scopes, cannot make
  /// this mistake.
  void rewind(const Marker& marker) noexcept;

  /// The numbers of the contract (see HeapStats).
  [[nodiscard]] HeapStats stats() const noexcept;
  /// Verifies every invariant of the bump heap (see chapter 1).
  [[nodiscard]] CheckResult check() const noexcept;
  /// True when \p p points into a block this allocator has handed out.
  [[nodiscard]] bool owns(const void* p) const noexcept;

  /// Calls \p visit with the used part, then the free part, of the region
  /// (each only if non-empty). A bump heap keeps no per-block records, so
  /// this is the finest walk it can offer.
  template <class Visitor>
  void for_each_block(Visitor&& visit) const {
    if (used() > 0) visit(BlockView{0, 0, used(), BlockState::allocated});
    if (remaining() > 0) visit(BlockView{0, used(), remaining(), BlockState::free});
  }

  /// The region this allocator bumps through.
  [[nodiscard]] std::span<std::byte> region() const noexcept {
    return {begin_, static_cast<std::size_t>(end_ - begin_)};
  }
  /// Bytes consumed so far (the bump pointer's offset).
  [[nodiscard]] std::size_t used() const noexcept { return static_cast<std::size_t>(live_.next - begin_); }
  /// Bytes left between the bump pointer and the end of the region.
  [[nodiscard]] std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - live_.next); }

 private:
  /// Live bytes the callers asked for: everything used but the padding.
  [[nodiscard]] std::size_t requested_bytes() const noexcept { return used() - live_.padding; }
  /// The live fields of stats() (the lifetime ones are left at zero).
  [[nodiscard]] HeapStats live_stats() const noexcept;
  /// Poisons [next, end): no block lives there (tracking.hpp).
  void poison_unused() const noexcept { track::poison(live_.next, remaining()); }

  StaticHeapClaim claim_;          ///< Holds the static heap when default-constructed.
  std::byte* begin_ = nullptr;     ///< Start of the region; never changes.
  std::byte* end_ = nullptr;       ///< One past the region's last byte; never changes.

  /// Everything allocate() changes, kept together so that it can be read
  /// and written as one value (see allocate()).
  struct LiveState {
    std::byte* next = nullptr;    ///< The bump pointer. Invariant: begin_ <= next <= end_, 8-aligned.
    std::size_t padding = 0;      ///< Used bytes nobody asked for (alignment, rounding). Invariant: <= used().
    std::size_t allocations = 0;  ///< Allocations since reset. Invariant: 8 * this <= used().
  };
  LiveState live_;                 ///< The live state; only reset() and rewind() move it back.
  LifetimeStats lifetime_;         ///< Peaks and totals; updated by reset() and rewind().
  std::size_t resets_ = 0;         ///< reset() calls; markers from before one are stale.
  std::size_t exhausted_ = 0;      ///< Requests refused for lack of room.
  std::size_t rejected_ = 0;       ///< Requests refused for a bad size or alignment.
};

// [allocate]
template <BumpStepFunction Step>
inline void* BasicBumpAllocator<Step>::allocate(std::size_t size, std::size_t align) noexcept {
  // Three habits keep this fast in a hot loop, where the compiler can keep
  // the allocator's state in registers from one call to the next:
  // - refusals are counted inline: a call here, even on a path never
  //   taken, would force the state back to memory around every allocation;
  // - the live state is read whole at the start and written whole at the
  //   end. Incrementing the counters in place (`++live_.allocations`)
  //   made GCC 12 add to memory on every call: about 2x slower;
  // - the statistics count the bytes nobody asked for, not the bytes asked
  //   for (stats() gets one from the other). For the usual request, a
  //   multiple of 8 at the default alignment, that number is a
  //   compile-time zero and its update vanishes: one addition fewer per
  //   allocation than `requested += size` (chapter 1, "Measurements").
  if (!is_valid_request(size, align)) [[unlikely]] {
    ++rejected_;
    return nullptr;
  }
  const LiveState now = live_;
  const BumpStep step = Step(now.next, end_, size, align);
  if (!step.fits) [[unlikely]] {
    ++exhausted_;
    return nullptr;
  }
  // The bytes this block takes that nobody asked for: padding and rounding.
  const auto unrequested = static_cast<std::size_t>(step.new_next - now.next) - size;
  live_ = {step.new_next, now.padding + unrequested, now.allocations + 1};
  track::expose(step.block, size);  // nothing in a release build (tracking.hpp)
  return step.block;
}
// [allocate]

/// Rewinds an allocator to the position it had when the guard was made, at
/// the end of a scope: `{ ScopedRewind scratch(arena); ...temporary work... }`.
template <class A>
  requires requires(A& a) { a.rewind(a.mark()); }
class ScopedRewind {
 public:
  /// Marks \p allocator's current position.
  explicit ScopedRewind(A& allocator) noexcept : allocator_(allocator), marker_(allocator.mark()) {}
  ScopedRewind(const ScopedRewind&) = delete;
  ScopedRewind& operator=(const ScopedRewind&) = delete;
  /// Releases everything allocated since construction.
  ~ScopedRewind() { allocator_.rewind(marker_); }

 private:
  A& allocator_;                               ///< The allocator to rewind.
  decltype(std::declval<A&>().mark()) marker_;  ///< Where to rewind to.
};

/// The course's bump allocator: BasicBumpAllocator with bump_step(). Its
/// member functions are compiled once, in bump_allocator.cpp; another step
/// instantiates them from bump_allocator_impl.hpp.
using BumpAllocator = BasicBumpAllocator<>;

extern template class BasicBumpAllocator<&bump_step>;

static_assert(Allocator<BumpAllocator>);

}  // namespace heaplab
