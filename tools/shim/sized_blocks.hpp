/// \file
/// SizedBlocks: a 16-byte header in front of every block, for allocators
/// that do not know how large their blocks are (chapter 1's bump heaps).
///
/// C's `realloc` and `malloc_usable_size` are given a bare pointer and must
/// find the block's size from it. Rust's `GlobalAlloc` (sheredom's `bump_alloc` crate implements it) never
/// has to: every call passes the `Layout`, so a bump allocator can serve it
/// with no per-block record at all. From chapter 2 on every block carries
/// a header and the allocators answer `usable_size()` themselves; chapter 1's
/// do not, so the C shim puts this adapter in between:
///
///     what A handed out                      what the caller gets
///     |                                      |
///     v                                      v
///     +-------------------------+------+------+------------------------+
///     | lead-in: only when the  | size | lead | payload: usable_bytes  |
///     | alignment is above 16   |      |      | (size rounded up to 16)|
///     +-------------------------+------+------+------------------------+
///                               <- SizeHeader->
///     <----------------- lead ---------------->
///
/// - `size` is what the caller asked for; it becomes kFreed when the block
///   is freed, which is how a second free of it is told from a free of an
///   interior pointer.
/// - `lead` is how far the payload lies from the start of A's block: 16, or
///   the alignment when more than 16 is asked (the block is then aligned
///   to it, and so is the payload, `lead` bytes further).
/// - The payload is rounded up to whole 16-byte units, so every block ends
///   where the next 16-aligned one may start, and usable_size() of a live
///   block is never 0 (which is how MallocHeap tells it from misuse).
///
/// Freeing gives the block back to A, which for a bump heap means nothing
/// happens: the `bump_alloc` crate's global allocator never frees either.
///
/// The header is not what tells a block from any other pointer: it lies in
/// memory the program writes, and the bytes in front of an interior pointer
/// may read as a header (a program may even write one there). SizedBlocks
/// keeps its own record of the payloads it has handed out, a LiveBlockMap,
/// and reads a header only for a pointer the record says is a live block.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <new>
#include <string_view>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/misuse.hpp"
#include "tools/shim/live_block_map.hpp"

namespace heaplab::shim {

/// The header SizedBlocks keeps right in front of each payload.
struct SizeHeader {
  std::size_t size;  ///< Bytes the caller asked for; SizedBlocks::kFreed once freed.
  std::size_t lead;  ///< Bytes from the start of the wrapped block to the payload (16 or the alignment).
};

/// Gives any allocator of the course block sizes (`usable_size()`), by
/// keeping each block's size in a header in front of it (see the diagram
/// above). Models heaplab::Allocator; the wrapped allocator \p A is built in
/// place from the constructor's arguments.
///
/// Every pointer that is not a live block's payload is reported through
/// report_misuse(), exactly, whatever bytes lie in front of it: a pointer
/// outside A's blocks as foreign, one whose header is marked freed as a
/// double free, and any other as an interior pointer. The live payloads are
/// the ones in a LiveBlockMap, SizedBlocks' own record, which the program
/// cannot write to (chapter 2's start map does the same for chapter 2's
/// blocks). Only the word of a report reads the program's memory: bytes
/// marked as a freed header in front of an interior pointer make it read
/// "double free".
///
/// Not thread-safe: wrap it in a lock (MallocHeap does).
template <Allocator A>
class SizedBlocks {
 public:
  /// Bytes of the header, and the alignment every payload gets at least
  /// (`alignof(std::max_align_t)`, malloc's promise).
  static constexpr std::size_t kHeaderSize = sizeof(SizeHeader);
  /// The `size` of a freed block: larger than any request can be.
  static constexpr std::size_t kFreed = SIZE_MAX;

  static_assert(kHeaderSize == alignof(std::max_align_t), "the header keeps payloads max_align_t-aligned");

  /// Builds the wrapped allocator from \p args.
  template <class... Args>
  explicit SizedBlocks(Args&&... args) noexcept(noexcept(A(std::forward<Args>(args)...)))
      : inner_(std::forward<Args>(args)...) {}
  SizedBlocks(const SizedBlocks&) = delete;
  SizedBlocks& operator=(const SizedBlocks&) = delete;

  /// Bytes the caller may use in a block asked for with \p size bytes:
  /// \p size rounded up to whole 16-byte units, at least one.
  /// Precondition: `size <= kMaxRequest` (the rounding cannot wrap).
  [[nodiscard]] static constexpr std::size_t usable_bytes_for(std::size_t size) noexcept {
    return std::max(round_up(size, kHeaderSize), kHeaderSize);
  }

  /// Returns \p size bytes aligned to `max(align, 16)`, or nullptr. An
  /// invalid request is passed to A as it is, so that A refuses it and
  /// counts it as it counts its own.
  [[nodiscard]] void* allocate(std::size_t size, std::size_t align = kDefaultAlignment) noexcept {
    if (size > kMaxRequest || !is_power_of_two(align)) return inner_.allocate(size, align);
    const std::size_t lead = std::max(align, kHeaderSize);
    const std::size_t payload = usable_bytes_for(size);
    // lead and payload can each be 2^63: a sum that would wrap saturates
    // instead, and A refuses it like any request above kMaxRequest.
    const std::size_t total = payload > SIZE_MAX - lead ? SIZE_MAX : lead + payload;
    auto* const block = static_cast<std::byte*>(inner_.allocate(total, lead));
    if (block == nullptr) return nullptr;
    std::byte* const payload_start = block + lead;
    if (!live_.insert(payload_start)) {  // no memory to record it: not handed out
      inner_.deallocate(block);
      return nullptr;
    }
    ::new (static_cast<void*>(payload_start - kHeaderSize)) SizeHeader{size, lead};
    count_in(size);
    return payload_start;
  }

  /// Marks the block at \p p freed and gives it back to A (nullptr: nothing
  /// happens). Misuse is reported and changes nothing.
  void deallocate(void* p) noexcept {
    if (p == nullptr) return;
    SizeHeader* const header = live_header(p, "SizedBlocks::deallocate");
    if (header == nullptr) return;  // misuse, reported
    live_.erase(p);
    count_out(header->size);
    header->size = kFreed;
    inner_.deallocate(static_cast<std::byte*>(p) - header->lead);
  }

  /// Bytes the caller may use at \p p: usable_bytes_for() its size, so
  /// never 0 for a live block. 0 for null, and for misuse (reported).
  [[nodiscard]] std::size_t usable_size(void* p) noexcept {
    if (p == nullptr) return 0;
    const SizeHeader* const header = live_header(p, "SizedBlocks::usable_size");
    return header == nullptr ? 0 : usable_bytes_for(header->size);
  }

  /// A's numbers, with the caller's view of the requests: `requested`,
  /// `peak_requested` and `live_allocations` count what callers asked for
  /// and have not freed, headers and rounding excluded, so utilization
  /// charges the headers to the heap, as it should.
  [[nodiscard]] auto stats() const noexcept {
    auto s = inner_.stats();
    s.requested = requested_;
    s.peak_requested = std::max(peak_requested_, requested_);
    s.padding = s.used - requested_;
    s.live_allocations = live_allocations_;
    return s;
  }

  /// A's invariants, and this adapter's: the live requested bytes fit in
  /// the bytes A has handed out.
  [[nodiscard]] CheckResult check() const noexcept {
    if (const CheckResult inner = inner_.check(); !inner) return inner;
    if (requested_ > inner_.stats().used) return CheckResult::fail("requested bytes <= used bytes", 0);
    return CheckResult::pass();
  }

  /// True when \p p points into a block A has handed out.
  [[nodiscard]] bool owns(const void* p) const noexcept { return inner_.owns(p); }

  /// A's block walk (headers included in the blocks).
  template <class Visitor>
  void for_each_block(Visitor&& visit) const {
    inner_.for_each_block(std::forward<Visitor>(visit));
  }

  /// The wrapped allocator (for tools and tests).
  [[nodiscard]] const A& inner() const noexcept { return inner_; }

 private:
  // [live_header]
  /// The header of the live block whose payload is \p p, or null after
  /// reporting misuse on behalf of \p where. The record says which
  /// pointers are live blocks; the header is read only for those.
  [[nodiscard]] SizeHeader* live_header(void* p, std::string_view where) noexcept {
    auto* const payload = static_cast<std::byte*>(p);
    if (live_.contains(payload)) return header_of(payload);
    if (!inner_.owns(payload)) {
      report_misuse({Misuse::foreign_pointer, p, where});
    } else {
      report_misuse({was_freed(payload) ? Misuse::double_free : Misuse::interior_pointer, p, where});
    }
    return nullptr;
  }
  // [live_header]

  /// For the word of a report only: true when \p payload, inside A's
  /// blocks but no live block's payload, has a header marked freed in
  /// front of it, as a block freed before has. Read only when the header
  /// is aligned and lies in A's blocks, where there is memory to read.
  [[nodiscard]] bool was_freed(std::byte* payload) const noexcept {
    return is_aligned(payload, kHeaderSize) && inner_.owns(payload - kHeaderSize) &&
           header_of(payload)->size == kFreed;
  }

  /// The header in front of \p payload. Precondition: there is memory to
  /// read there, 16-aligned.
  [[nodiscard]] static SizeHeader* header_of(std::byte* payload) noexcept {
    return std::launder(reinterpret_cast<SizeHeader*>(payload - kHeaderSize));
  }

  /// Counts a new live block of \p size requested bytes.
  void count_in(std::size_t size) noexcept {
    requested_ += size;
    peak_requested_ = std::max(peak_requested_, requested_);
    ++live_allocations_;
  }

  /// Counts out a live block of \p size requested bytes, being freed.
  void count_out(std::size_t size) noexcept {
    requested_ -= size;
    --live_allocations_;
  }

  A inner_;                            ///< The wrapped allocator.
  LiveBlockMap live_;                  ///< The payloads of the live blocks: the record the checks trust.
  std::size_t requested_ = 0;          ///< Bytes asked for by live blocks. Invariant: <= A's used bytes.
  std::size_t peak_requested_ = 0;     ///< The largest requested_ so far.
  std::size_t live_allocations_ = 0;   ///< Blocks handed out and not freed.
};

/// Allocators that can tell how large a block is from its pointer alone
/// (`usable_size()`, chapter 2 on): MallocHeap uses them as they are, and
/// wraps every other allocator in SizedBlocks.
template <class A>
concept KnowsBlockSizes = requires(A& a, void* p) {
  { a.usable_size(p) } -> std::same_as<std::size_t>;
};

}  // namespace heaplab::shim
