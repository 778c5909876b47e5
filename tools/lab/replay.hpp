/// \file
/// Replaying a trace on an allocator: the engine under `heaplab replay`,
/// `heaplab compare` and the trace benchmarks.
///
/// A trace names its blocks by id; the replay keeps one slot per id with
/// the block's pointer and requested size:
///
///     trace         what the replay does                  slots
///     a 0 24        slot 0 = allocate(24)                 0: p  24
///     a 1 8         slot 1 = allocate(8)                  0: p  24 | 1: q  8
///     r 0 100       slot 0 = reallocate(slot 0, 100)      0: p' 100 | 1: q  8
///     f 1           deallocate(slot 1)                    0: p' 100 | 1: -
///
/// An id never allocated has an empty slot, so `r` on it reallocates
/// nullptr: `realloc(NULL, n)`, a new block, as in C.
///
/// The targets are the allocators of the course, and the two references
/// they are measured against in the same run: glibc's malloc (GlibcMalloc)
/// and the standard library's pool resource (PmrPool), each held to the
/// lab's heap size in the lab (HeapLimited).
///
/// There are three ways to run a trace, all over the same run_op():
/// - replay() runs it once, carefully: every block is filled with a pattern
///   that names it, and the pattern is verified when the block is freed or
///   reallocated (so an allocator that loses bytes when it moves a block, or
///   lets something write into a live one, is caught); every block handed
///   out must be 8-byte aligned, inside the heap (for allocators with
///   owns()), and clear of every other live block (LiveRanges); on request
///   check() runs after every operation; and the space measures are taken
///   at the trace's peak.
/// - time_replay() runs the operations alone, as fast as the allocator
///   goes, for throughput;
/// - map_replay() draws the heap after every operation (`heaplab map`).
///
/// Allocators without reallocate() (stage 1) resize by moving: allocate the
/// new size, copy, deallocate the old block, as a C program on a bump
/// allocator would have to.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <memory_resource>
#include <new>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/heap_diagram.hpp"
#include "stage3_fit_strategies/measures.hpp"
#include "tools/trace/trace.hpp"

namespace heaplab {

/// How far a run has got: the number of operations of the trace it has
/// finished. A run in a child process counts here, in memory it shares
/// with the lab, so that when the child dies the lab knows the operation it
/// died on: `trace.ops[progress]` (LabRunner).
using ReplayProgress = std::atomic<std::size_t>;

/// What replay() does besides running the operations.
struct ReplayOptions {
  bool check_every_op = false;  ///< Run the allocator's check() after every operation (`heaplab replay --check`).
  ReplayProgress* progress = nullptr;  ///< When not null, the operations finished, updated before each one.
};

/// How a replay ended.
enum class ReplayOutcome {
  completed,          ///< Every operation ran; every check and payload verification passed.
  out_of_memory,      ///< An allocate or reallocate returned nullptr: the heap could not serve the trace.
  check_failed,       ///< check() named a broken invariant.
  payload_damaged,    ///< A block's bytes changed while it was live, or a block was misplaced
                      ///< (unaligned, outside the heap, overlapping a live one).
  refused_with_room,  ///< nullptr from an allocator that still had room for the request (AccountsForNullptr).
  crashed,            ///< The allocator's process died or hung (allocators run in a child process: LabRunner).
};

/// The space measures of one replay (docs: "Measures"). A measure the
/// allocator cannot report (glibc has no block walk) is empty.
struct SpaceMeasures {
  std::size_t peak_live_bytes = 0;                    ///< The trace's peak of live requested bytes (live_peak()).
  std::optional<std::size_t> peak_heap;               ///< The heap's high-water mark, in bytes.
  std::optional<double> utilization;                  ///< peak_live_bytes / peak_heap.
  std::optional<std::size_t> internal_fragmentation;  ///< At the peak: bytes of live blocks beyond their requests.
  std::optional<std::size_t> largest_free_block;      ///< At the peak: the largest free block.
  std::optional<double> external_fragmentation;       ///< At the peak: 1 - largest free block / free bytes.
  std::optional<double> visited_per_allocation;       ///< Over the whole trace: blocks a search looked at, on average.
};

/// What replay() found.
struct ReplayReport {
  ReplayOutcome outcome = ReplayOutcome::completed;  ///< How it ended.
  std::size_t ops_done = 0;     ///< Operations that ran to completion.
  std::size_t failed_line = 0;  ///< Line of the operation that failed (0 if none, or the trace was made in code).
  std::string what;             ///< Why it stopped, one sentence (empty when completed).
  std::size_t checks = 0;       ///< check() calls made, all passed.
  SpaceMeasures space;          ///< Filled in when the replay completed.
};

/// glibc's malloc as a replay target: the reference every comparison of
/// the lab is measured against, in the same run.
///
/// It is not an Allocator of the course (glibc has no check() and no block
/// walk), so the replay measures only what glibc lets a program see: the
/// bytes each live block occupies (block_bytes()).
struct GlibcMalloc {
  /// `malloc(size)` (glibc returns a unique pointer for 0, as our contract does).
  [[nodiscard]] void* allocate(std::size_t size) noexcept;
  /// `free(p)`.
  void deallocate(void* p) noexcept;
  /// `realloc(p, size)`; a size of 0 asks for 1 byte, because glibc's
  /// `realloc(p, 0)` frees the block, where the course's contract keeps one.
  [[nodiscard]] void* reallocate(void* p, std::size_t size) noexcept;
  /// Bytes the live block at \p p occupies: `malloc_usable_size(p)` plus
  /// the 8-byte size field in front of it (glibc's chunk overhead for a
  /// block in use; see the comment on `struct malloc_chunk` in glibc's
  /// malloc.c).
  [[nodiscard]] static std::size_t block_bytes(void* p) noexcept;
};

/// `std::pmr::unsynchronized_pool_resource` as a replay target: the
/// standard library's pooling allocator (size-class pools carved from
/// chunks it gets from `operator new`), the second reference of the lab.
///
/// Like glibc it keeps no statistics the lab could read. It cannot fail
/// quietly either: a request it cannot serve throws std::bad_alloc, which
/// allocate() turns into nullptr, as the contract asks.
class PmrPool {
 public:
  /// A block of \p size bytes, 8-aligned (a pmr resource needs at least 1 byte).
  [[nodiscard]] void* allocate(std::size_t size) noexcept;
  /// Gives back the block at \p p of \p size bytes (pmr needs the size back).
  void deallocate(void* p, std::size_t size) noexcept;

 private:
  std::pmr::unsynchronized_pool_resource pool_;  ///< Its pools; they are released when the PmrPool dies.
};

/// The blocks of a replay in progress: one slot per trace id.
class ReplaySlots {
 public:
  /// Slots for ids `0 .. id_count - 1`, all empty.
  explicit ReplaySlots(std::size_t id_count) : pointer_(id_count, nullptr), size_(id_count, 0) {}

  /// The block of \p id (nullptr when it has none).
  [[nodiscard]] void* pointer(std::size_t id) const noexcept { return pointer_[id]; }
  /// The bytes requested for the block of \p id.
  [[nodiscard]] std::size_t size(std::size_t id) const noexcept { return size_[id]; }
  /// Records that \p id now names \p size bytes at \p p (nullptr, 0: no block).
  void set(std::size_t id, void* p, std::size_t size) noexcept {
    pointer_[id] = p;
    size_[id] = size;
  }
  /// Calls \p visit(id, pointer, size) for every id that names a block.
  template <class Visitor>
  void for_each_live(Visitor&& visit) const {
    for (std::size_t id = 0; id < pointer_.size(); ++id) {
      if (pointer_[id] != nullptr) visit(id, pointer_[id], size_[id]);
    }
  }

 private:
  std::vector<void*> pointer_;     ///< Per id: its block, or nullptr.
  std::vector<std::size_t> size_;  ///< Per id: bytes requested for its block (0 when none).
};

/// What the replay needs of an allocator: allocate, and deallocate with or
/// without the block's size (and, optionally, reallocate). Every allocator
/// of the course, GlibcMalloc and PmrPool.
template <class A>
concept ReplayTarget = requires(A& a, void* p, std::size_t n) {
  { a.allocate(n) } -> std::same_as<void*>;
} && (requires(A& a, void* p) { a.deallocate(p); } ||
      requires(A& a, void* p, std::size_t n) { a.deallocate(p, n); });

/// Gives the block at \p p of \p size requested bytes back to \p allocator:
/// `deallocate(p, size)` for targets that need the size (std::pmr),
/// `deallocate(p)` for the others.
template <ReplayTarget A>
void release_block(A& allocator, void* p, std::size_t size) noexcept {
  if constexpr (requires { allocator.deallocate(p, size); }) {
    allocator.deallocate(p, size);
  } else {
    (void)size;
    allocator.deallocate(p);
  }
}

/// Resizes the block at \p p from \p old_size to \p new_size bytes:
/// `reallocate_sized(p, old_size, new_size)` for targets that need the old
/// size too (HeapLimited), else `reallocate` when \p A has one, otherwise
/// by moving (allocate, copy, deallocate). A \p p of nullptr is
/// `realloc(NULL, n)`: a new block. Returns nullptr, leaving the block as
/// it was, on failure.
template <ReplayTarget A>
[[nodiscard]] void* resize_block(A& allocator, void* p, std::size_t old_size, std::size_t new_size) noexcept {
  if constexpr (requires { { allocator.reallocate_sized(p, old_size, new_size) } -> std::same_as<void*>; }) {
    return allocator.reallocate_sized(p, old_size, new_size);
  } else if constexpr (requires { { allocator.reallocate(p, new_size) } -> std::same_as<void*>; }) {
    (void)old_size;
    return allocator.reallocate(p, new_size);
  } else {
    void* const moved = allocator.allocate(new_size);
    if (moved == nullptr || p == nullptr) return moved;  // no block to copy from (memcpy must not see null)
    std::memcpy(moved, p, std::min(old_size, new_size));
    release_block(allocator, p, old_size);
    return moved;
  }
}

/// A reference (GlibcMalloc, PmrPool) held to the size of the lab's heap.
///
/// The references bring their own memory, so the lab's heap cannot bound
/// them, and a trace that keeps 4 GiB live would have glibc commit 4 GiB
/// where every allocator of the course stops at `--heap-size`. This bounds
/// them the same way: a request that would take the bytes its live blocks
/// request past the heap's size is refused with nullptr, before the
/// reference sees it, and the replay reports it as it reports the course's
/// allocators: out of memory. It counts the bytes the trace requests, not
/// the reference's own blocks (whose overhead only it knows): a reference
/// runs out exactly where the trace's live requests outgrow the heap, where
/// no allocator could serve it.
template <class R>
class HeapLimited {
 public:
  /// \p R held to the size of \p heap (its bytes are not used: \p R brings
  /// its own).
  explicit HeapLimited(std::span<std::byte> heap) noexcept : limit_(heap.size()) {}

  /// `R::allocate(size)`, or nullptr when the live blocks would then
  /// request more than the limit.
  [[nodiscard]] void* allocate(std::size_t size) noexcept {
    if (size > room()) return nullptr;
    void* const p = reference_.allocate(size);
    if (p != nullptr) live_ += size;
    return p;
  }
  /// Gives the block at \p p of \p size requested bytes back to \p R.
  void deallocate(void* p, std::size_t size) noexcept {
    if (p != nullptr) live_ -= size;
    release_block(reference_, p, size);
  }
  /// `R::reallocate(p, new_size)` of a block of \p old_size requested
  /// bytes (nullptr for none), or nullptr, the block unchanged, when the
  /// live blocks would then request more than the limit. Only for an \p R
  /// with reallocate() (glibc's realloc, which may grow a block in place).
  [[nodiscard]] void* reallocate_sized(void* p, std::size_t old_size, std::size_t new_size) noexcept
    requires requires(R& r, void* q, std::size_t n) { r.reallocate(q, n); }
  {
    if (new_size > room() + old_size) return nullptr;
    void* const moved = reference_.reallocate(p, new_size);
    if (moved != nullptr) live_ = live_ - old_size + new_size;
    return moved;
  }
  /// `R::block_bytes(p)`, for an \p R that can tell it (glibc).
  [[nodiscard]] static std::size_t block_bytes(void* p) noexcept
    requires requires(void* q) { R::block_bytes(q); }
  {
    return R::block_bytes(p);
  }

 private:
  /// The bytes a new block may still request.
  [[nodiscard]] std::size_t room() const noexcept { return limit_ - live_; }

  R reference_;            ///< The reference itself.
  std::size_t limit_;      ///< The heap's size: the most bytes live blocks may request.
  std::size_t live_ = 0;   ///< The bytes live blocks request now; never above #limit_.
};

// [run_op]
/// Runs one operation of a trace on \p allocator. Returns false, changing
/// nothing, when an allocate or reallocate returns nullptr.
template <ReplayTarget A>
[[nodiscard]] bool run_op(A& allocator, ReplaySlots& slots, const TraceOp& op) noexcept {
  switch (op.kind) {
    case OpKind::allocate: {
      void* const p = allocator.allocate(op.size);
      if (p == nullptr) return false;
      slots.set(op.id, p, op.size);
      return true;
    }
    case OpKind::free:
      if (op.id == kNullId) {
        release_block(allocator, nullptr, 0);  // `f -1`: free(NULL) must be harmless
      } else {
        release_block(allocator, slots.pointer(op.id), slots.size(op.id));
        slots.set(op.id, nullptr, 0);
      }
      return true;
    case OpKind::reallocate: {
      void* const p = resize_block(allocator, slots.pointer(op.id), slots.size(op.id), op.size);
      if (p == nullptr) return false;
      slots.set(op.id, p, op.size);
      return true;
    }
  }
  return false;  // unreachable: every OpKind is handled above
}
// [run_op]

/// Runs the operations of \p trace on \p allocator in order, calling
/// \p after_op(op) after each one, and stops at the first that fails.
/// Returns the number of operations that ran.
template <ReplayTarget A, class AfterOp>
std::size_t run_ops(const Trace& trace, A& allocator, ReplaySlots& slots, AfterOp&& after_op) {
  std::size_t done = 0;
  for (const TraceOp& op : trace.ops) {
    if (!run_op(allocator, slots, op)) break;
    after_op(op);
    ++done;
  }
  return done;
}

/// Allocators that can tell a nullptr of theirs from a full heap: the
/// malloc lab's adapter (MallocLabAllocator) knows whether `mem_sbrk`
/// ever refused to grow the heap. `explain_nullptr(line, requested)` is
/// empty when the heap was full (the replay says "out of memory"), and
/// otherwise the whole one-line report of a nullptr returned with room to
/// spare, naming the trace \p line.
template <class A>
concept AccountsForNullptr = requires(const A& a, std::size_t n) {
  { a.explain_nullptr(n, n) } -> std::convertible_to<std::string>;
};

/// Counts the operations a run has finished in a ReplayProgress: the
/// after-operation step of run_ops() for runs the lab watches from outside.
class ProgressCounter {
 public:
  /// Counts into \p progress, from 0.
  explicit ProgressCounter(ReplayProgress& progress) noexcept : progress_(&progress) {}
  /// One more operation finished. A relaxed store of a count kept here: a
  /// plain write, where an atomic increment would lock the bus every time.
  void operator()(const TraceOp&) noexcept { progress_->store(++done_, std::memory_order_relaxed); }

 private:
  ReplayProgress* progress_;  ///< Where the count is shown.
  std::size_t done_ = 0;      ///< Operations finished so far.
};

/// The live blocks of a replay by address, so that a block handed out over
/// another live one is caught the moment it is handed out; the pattern
/// would show the damage only when the older block is next touched, and
/// not at all if the newer one is freed first. Blocks of 0 bytes hold no
/// bytes, so they overlap nothing.
class LiveRanges {
 public:
  /// The id of a live block that \p size bytes at \p p would overlap, if any.
  [[nodiscard]] std::optional<std::size_t> overlapping(const void* p, std::size_t size) const;
  /// Records \p size bytes at \p p as the live block \p id.
  void add(const void* p, std::size_t size, std::size_t id);
  /// Forgets the block at \p p (nothing if none is recorded there).
  void remove(const void* p);

 private:
  /// A live block: where it ends (one past its last byte) and its id.
  struct Range {
    std::uintptr_t end;  ///< One past the last byte.
    std::size_t id;      ///< The trace id that names it.
  };
  std::map<std::uintptr_t, Range> ranges_;  ///< By start address.
};

namespace detail {

/// The byte the pattern of block \p id has at position \p i: it names the
/// block (its id) and the position, so a block overwritten by another one,
/// or shifted by a move, no longer matches.
[[nodiscard]] constexpr std::byte pattern_byte(std::size_t id, std::size_t i) noexcept {
  return static_cast<std::byte>((id * 131 + i * 7 + 1) & 0xFF);
}

/// Fills bytes \p from .. \p to of block \p id with its pattern.
inline void fill_pattern(void* p, std::size_t id, std::size_t from, std::size_t to) noexcept {
  auto* const bytes = static_cast<std::byte*>(p);
  for (std::size_t i = from; i < to; ++i) bytes[i] = pattern_byte(id, i);
}

/// True when the first \p size bytes of block \p id still hold its pattern.
[[nodiscard]] inline bool pattern_intact(const void* p, std::size_t id, std::size_t size) noexcept {
  const auto* const bytes = static_cast<const std::byte*>(p);
  for (std::size_t i = 0; i < size; ++i) {
    if (bytes[i] != pattern_byte(id, i)) return false;
  }
  return true;
}

/// "a 3 24": an operation as its trace line writes it.
[[nodiscard]] std::string op_text(const TraceOp& op);

/// "line 12: a 3 24": where an operation came from, for messages.
[[nodiscard]] std::string describe(const TraceOp& op);

/// \p text followed by spaces up to \p width characters (at least one).
[[nodiscard]] std::string padded(std::string text, std::size_t width);

/// Fills the measures of \p space taken at the trace's peak (fragmentation)
/// from \p allocator, or for glibc from the live blocks of \p slots.
template <ReplayTarget A>
void measure_at_peak(const A& allocator, const ReplaySlots& slots, SpaceMeasures& space) {
  if constexpr (Allocator<A>) {
    const Measures m = measure(allocator);
    space.internal_fragmentation = m.internal_fragmentation;
    space.largest_free_block = m.largest_free_block;
    space.external_fragmentation = m.external_fragmentation;
  } else if constexpr (requires(void* p) { A::block_bytes(p); }) {
    std::size_t block_bytes = 0;
    std::size_t requested = 0;
    slots.for_each_live([&](std::size_t, void* p, std::size_t size) {
      block_bytes += A::block_bytes(p);
      requested += size;
    });
    space.internal_fragmentation = block_bytes - requested;
  }
}

/// Fills the measures a replay takes at its end (heap size, utilization,
/// search cost).
template <ReplayTarget A>
void measure_at_end(const A& allocator, SpaceMeasures& space) {
  if constexpr (Allocator<A>) {
    const auto stats = allocator.stats();
    space.peak_heap = stats.high_water;
    if (stats.high_water != 0) {
      space.utilization =
          static_cast<double>(space.peak_live_bytes) / static_cast<double>(stats.high_water);
    }
    space.visited_per_allocation = 0.0;  // stage 1 searches nothing
    if constexpr (requires { stats.visited_per_search(); }) {
      space.visited_per_allocation = stats.visited_per_search();
    }
  }
}

/// Why the block of \p size bytes at \p p is misplaced, or empty: a block
/// must be 8-byte aligned and, for the allocators with owns(), inside the
/// heap from its first byte to its last.
template <ReplayTarget A>
[[nodiscard]] std::string misplacement(const A& allocator, const void* p, std::size_t size) {
  if (reinterpret_cast<std::uintptr_t>(p) % kDefaultAlignment != 0) return "block is not 8-byte aligned";
  if constexpr (Allocator<A>) {
    if (!allocator.owns(p)) return "block lies outside the heap";
    if (size > 0 && !allocator.owns(static_cast<const std::byte*>(p) + (size - 1))) {
      return "block runs past the end of the heap";
    }
  }
  (void)allocator;
  (void)size;
  return {};
}

/// The report of a nullptr from \p allocator at \p op: "out of memory",
/// unless the allocator accounts for it otherwise (AccountsForNullptr).
template <ReplayTarget A>
[[nodiscard]] ReplayReport nullptr_report(const A& allocator, const TraceOp& op, ReplayReport report) {
  report.failed_line = op.line;
  if constexpr (AccountsForNullptr<A>) {
    if (std::string why = allocator.explain_nullptr(op.line, op.size); !why.empty()) {
      report.outcome = ReplayOutcome::refused_with_room;
      report.what = std::move(why);
      return report;
    }
  }
  (void)allocator;
  report.outcome = ReplayOutcome::out_of_memory;
  report.what = describe(op) + ": the allocator returned nullptr (out of memory)";
  return report;
}

/// Gives every block \p slots still names back to \p allocator.
template <ReplayTarget A>
void release_live(A& allocator, const ReplaySlots& slots) noexcept {
  slots.for_each_live([&](std::size_t, void* p, std::size_t size) { release_block(allocator, p, size); });
}

/// The work of replay(), over \p slots kept by the caller, so that replay()
/// can give back the blocks left live however the run ends.
template <ReplayTarget A>
[[nodiscard]] ReplayReport replay_into(const Trace& trace, A& allocator, ReplaySlots& slots,
                                       const ReplayOptions& options) {
  ReplayReport report;
  const LivePeak peak = live_peak(trace);
  report.space.peak_live_bytes = peak.bytes;
  auto stop = [&](ReplayOutcome outcome, const TraceOp& op, std::string why) {
    report.outcome = outcome;
    report.failed_line = op.line;
    report.what = detail::describe(op) + ": " + why;
    return report;
  };
  LiveRanges ranges;
  for (std::size_t i = 0; i < trace.ops.size(); ++i) {
    const TraceOp& op = trace.ops[i];
    if (options.progress != nullptr) options.progress->store(i, std::memory_order_relaxed);
    const bool names_block = op.id != kNullId && op.kind != OpKind::allocate;
    if (names_block) {
      if (!detail::pattern_intact(slots.pointer(op.id), op.id, slots.size(op.id))) {
        return stop(ReplayOutcome::payload_damaged, op, "the block's bytes changed while it was live");
      }
    }
    const std::size_t old_size = names_block ? slots.size(op.id) : 0;
    const void* const old_pointer = names_block ? slots.pointer(op.id) : nullptr;
    if (!run_op(allocator, slots, op)) return nullptr_report(allocator, op, std::move(report));
    ranges.remove(old_pointer);
    if (op.kind != OpKind::free) {
      void* const p = slots.pointer(op.id);
      if (std::string why = detail::misplacement(allocator, p, op.size); !why.empty()) {
        return stop(ReplayOutcome::payload_damaged, op, why);
      }
      if (const std::optional<std::size_t> other = ranges.overlapping(p, op.size)) {
        return stop(ReplayOutcome::payload_damaged, op,
                    "the block overlaps block " + std::to_string(*other) + ", which is still live");
      }
      ranges.add(p, op.size, op.id);
      if (!detail::pattern_intact(p, op.id, std::min(old_size, op.size))) {
        return stop(ReplayOutcome::payload_damaged, op, "reallocate lost the block's bytes");
      }
      detail::fill_pattern(p, op.id, std::min(old_size, op.size), op.size);
    }
    ++report.ops_done;
    if constexpr (Allocator<A>) {
      if (options.check_every_op) {
        if (const CheckResult result = allocator.check(); !result) {
          return stop(ReplayOutcome::check_failed, op,
                      "check() failed: \"" + std::string(result.failed_invariant) + "\" at offset " +
                          std::to_string(result.offset));
        }
        ++report.checks;
      }
    }
    if (i == peak.after_op) detail::measure_at_peak(allocator, slots, report.space);
  }
  if (options.progress != nullptr) options.progress->store(trace.ops.size(), std::memory_order_relaxed);
  detail::measure_at_end(allocator, report.space);
  return report;
}

}  // namespace detail

/// Runs \p trace on \p allocator once, carefully (see the file comment),
/// and reports how it went. \p trace must be valid (check_trace()).
/// Blocks the trace leaves live are freed at the end, as time_replay()
/// does (glibc's would leak otherwise), unless the replay found the
/// allocator broken: a damaged block or a failed check() means its blocks
/// cannot be trusted (two ids may share one).
template <ReplayTarget A>
[[nodiscard]] ReplayReport replay(const Trace& trace, A& allocator, const ReplayOptions& options = {}) {
  ReplaySlots slots(trace.id_count);
  ReplayReport report = detail::replay_into(trace, allocator, slots, options);
  if (report.outcome == ReplayOutcome::completed || report.outcome == ReplayOutcome::out_of_memory) {
    detail::release_live(allocator, slots);
  }
  return report;
}

/// Runs the operations of \p trace on \p allocator and returns how long
/// they took: no checks, no patterns, nothing but the calls (for
/// throughput). Returns std::nullopt when the allocator ran out of memory.
/// Blocks the trace leaves live are freed after the clock stops. With a
/// \p progress, every operation finished is counted there (a run watched
/// from another process); without one the loop is the bare calls.
template <ReplayTarget A>
[[nodiscard]] std::optional<std::chrono::nanoseconds> time_replay(const Trace& trace, A& allocator,
                                                                  ReplayProgress* progress = nullptr) {
  ReplaySlots slots(trace.id_count);
  const auto start = std::chrono::steady_clock::now();
  const std::size_t done = progress == nullptr ? run_ops(trace, allocator, slots, [](const TraceOp&) {})
                                               : run_ops(trace, allocator, slots, ProgressCounter(*progress));
  const auto stop = std::chrono::steady_clock::now();
  detail::release_live(allocator, slots);
  if (done != trace.ops.size()) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(stop - start);
}

/// Runs \p trace on \p allocator and writes its block map
/// (draw_block_walk(): `[A 56][F 24]`) after every operation to \p out, one
/// line per operation: what `heaplab map` prints. Stops at an operation the
/// allocator cannot serve and says so. Returns the number of operations
/// run, and counts them in \p progress when it is not null.
template <Allocator A>
std::size_t map_replay(const Trace& trace, A& allocator, std::size_t max_blocks, std::ostream& out,
                       ReplayProgress* progress = nullptr) {
  ReplaySlots slots(trace.id_count);
  const std::size_t done =
      run_ops(trace, allocator, slots, [&, done_so_far = std::size_t{0}](const TraceOp& op) mutable {
        out << detail::padded(detail::describe(op), 24) << draw_block_walk(allocator, max_blocks) << '\n';
        if (progress != nullptr) progress->store(++done_so_far, std::memory_order_relaxed);
      });
  if (done != trace.ops.size()) {
    out << detail::describe(trace.ops[done]) << ": the allocator returned nullptr (out of memory)\n";
  }
  detail::release_live(allocator, slots);
  return done;
}

}  // namespace heaplab
