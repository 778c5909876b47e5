/// \file
/// The fuzz harness: runs the operations of one input (the byte-code of
/// fuzz_input.hpp) on an allocator and on the reference model
/// (fuzz_model.hpp) side by side, and stops the fuzzer at the first
/// disagreement.
///
/// After every operation:
///   - check() passes: the allocator's own invariants hold;
///   - stats() agrees with the model: live allocations, requested bytes,
///     and used <= capacity;
///   - no misuse was reported, except by a misuse operation, which must be
///     reported exactly once, with the right kind and pointer;
/// and, operation by operation:
///   - a new block is aligned as asked, owned by the heap (its first and
///     last byte), and overlaps no live block;
///   - allocate_zeroed() returns zeroes; reallocate() keeps the first
///     min(old, new) bytes, aligned as asked; usable_size() is at least
///     the request, and every usable byte may be written;
///   - a request no heap may serve (size above kMaxRequest, an alignment
///     that is no power of two, a calloc product that overflows) returns
///     nullptr and changes nothing but the `rejected` counter; a refusal
///     for lack of room changes nothing live and counts as `exhausted`;
///   - misuse, deallocate(nullptr), usable_size() and a bump heap's
///     deallocate() change no field of the stats at all;
///   - a block about to be freed or resized still holds its pattern, and
///     every live block is verified in full every kFullVerifyInterval
///     operations and at the end.
/// At the end of the input everything is released and checked once more.
///
/// With the environment variable HEAPLAB_FUZZ_TRACE set, every call to the
/// allocator is printed as it happens: replaying a crash file that way
/// shows the operations that led to the failure.
///
/// A disagreement prints one line, naming the configuration, the operation
/// and what went wrong, and aborts: libFuzzer saves the input as a crash
/// file, which replays it.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/misuse.hpp"
#include "tests/fuzz/fuzz_input.hpp"
#include "tests/support/test_chunk_source.hpp"
#include "tests/fuzz/fuzz_model.hpp"
#include "tests/fuzz/fuzz_stats.hpp"
#include "tests/support/aligned_region.hpp"
#include "tests/support/recording_handler.hpp"

namespace heaplab::fuzzing {

/// Every region and chunk of the fuzz targets starts on a page boundary, as
/// mmap's do. An allocator's answers depend on its memory's address modulo
/// the alignments asked for (the gap in front of an aligned block), and a
/// crash that libFuzzer found in a long-running process must replay in a
/// fresh one, where the C++ heap hands out other addresses: page-aligned
/// memory makes a run depend on the input alone. (The growing heaps' chunks
/// come from the tests' TestChunkSource, asked for whole, page-aligned pages.)
inline constexpr std::size_t kPageBytes = 4096;

// ---- What an allocator offers ----------------------------------------------

/// Allocators whose deallocate() gives one block back and checks the
/// pointer first (chapter 2 on): their double, interior and foreign frees
/// are misuse to report.
template <class A>
concept FreesBlocks = Reallocating<A>;

/// Allocators that answer malloc_usable_size.
template <class A>
concept HasUsableSize = requires(A& a, void* p) {
  { a.usable_size(p) } -> std::same_as<std::size_t>;
};

/// Allocators whose reallocate() also takes the alignment a moved block
/// needs (the malloc shim asks for 16).
template <class A>
concept ReallocatesAligned = requires(A& a, void* p, std::size_t n) {
  { a.reallocate(p, n, n) } -> std::same_as<void*>;
};

/// Bump heaps with markers (mark() and rewind()).
template <class A>
concept HasMarkers = requires(A& a) { a.rewind(a.mark()); };

/// The marker type of \p A, or an empty stand-in when it has none.
template <class A>
struct MarkerOf {
  using type = std::monostate;  ///< No markers.
};
/// The marker type of an allocator with markers.
template <HasMarkers A>
struct MarkerOf<A> {
  using type = std::remove_cvref_t<decltype(std::declval<A&>().mark())>;  ///< What mark() returns.
};

// ---- Failure ---------------------------------------------------------------

/// A failure message being put together: text as it is, numbers in
/// decimal, pointers in hexadecimal. Built only once something failed.
class Message {
 public:
  /// Appends \p text.
  Message& operator<<(std::string_view text) {
    text_ += text;
    return *this;
  }
  /// Appends \p text (a literal: not a pointer to print).
  Message& operator<<(const char* text) { return *this << std::string_view(text); }
  /// Appends \p n in decimal.
  Message& operator<<(std::size_t n) {
    text_ += std::to_string(n);
    return *this;
  }
  /// Appends \p p in hexadecimal.
  Message& operator<<(const void* p) {
    char hex[2 + 2 * sizeof(void*) + 1];
    std::snprintf(hex, sizeof hex, "%#zx", static_cast<std::size_t>(address_of(p)));
    return *this << std::string_view(hex);
  }
  /// The text so far.
  [[nodiscard]] const std::string& text() const noexcept { return text_; }

 private:
  std::string text_;  ///< The message.
};

/// Prints `heaplab fuzz: <where>: <why>` on one line of stderr and aborts,
/// so that libFuzzer records the input as a crash.
[[noreturn]] inline void fail(std::string_view where, std::string_view why) {
  std::fprintf(stderr, "heaplab fuzz: %.*s: %.*s\n", static_cast<int>(where.size()), where.data(),
               static_cast<int>(why.size()), why.data());
  std::abort();
}

/// Fails unless every chunk \p source lent to \p name's allocator came back,
/// each exactly once (checked after the allocator is destroyed).
inline void expect_all_returned(const heaplab::testing::TestChunkSource& source, std::string_view name) {
  if (source.live_chunks() != 0) {
    fail(name, (Message() << source.live_chunks() << " chunk(s) never given back to the source").text());
  }
  if (source.bad_releases() != 0) {
    fail(name, (Message() << source.bad_releases() << " chunk(s) given back that were not out").text());
  }
}

// ---- The harness -----------------------------------------------------------

/// Every this many operations, every live block is verified byte by byte.
inline constexpr std::size_t kFullVerifyInterval = 32;
/// Freed pointers kept for double frees (the most recent ones).
inline constexpr std::size_t kStaleKept = 32;
/// Markers kept at once: live ones, and erased or stale ones for misuse.
inline constexpr std::size_t kMarkersKept = 32;
/// What usable_size() operations write past the request.
inline constexpr std::byte kScribble{0x5a};

/// True when a request of \p size bytes aligned to \p align is one some
/// heap may serve: the contract's rule, written out again here, because
/// the harness must not take its answers from the code it checks.
[[nodiscard]] constexpr bool acceptable_request(std::size_t size, std::size_t align) noexcept {
  return size <= kMaxRequest && align != 0 && (align & (align - 1)) == 0;
}

/// One input's run of operations on one allocator, checked against the model.
template <Allocator A>
class Harness {
 public:
  /// A harness for \p heap, a fresh allocator with \p capacity bytes behind
  /// it (which scales the "share of the heap" sizes), called \p name in
  /// failure messages.
  Harness(A& heap, std::size_t capacity, std::string_view name) noexcept
      : heap_(heap), capacity_(capacity), name_(name) {}
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  /// Runs every operation of \p input, then releases everything.
  void run(FuzzInput& input) {
    check_heap();
    while (!input.empty()) {
      kind_ = pick(kOpTable, input.byte());
      step(input);
      check_heap();
      if (++operation_ % kFullVerifyInterval == 0) verify_all();
    }
    kind_ = OpKind::release_all;
    verify_all();
    release_all();
    check_heap();
    expect_nothing_mapped();
  }

 private:
  using Stats = std::remove_cvref_t<decltype(std::declval<const A&>().stats())>;
  using Marker = typename MarkerOf<A>::type;

  /// A marker as mark() returned it, with the state it will rewind to.
  struct SavedMarker {
    Marker marker;            ///< The marker.
    std::size_t live_blocks;  ///< Live blocks when it was taken (the model's size).
    std::size_t used;         ///< stats().used when it was taken.
  };

  /// A pointer a misuse operation passes, and the report it must cause.
  struct BadPointer {
    void* pointer;                    ///< The pointer.
    std::optional<Misuse> expected;   ///< The kind it must be reported as; nothing: any kind.
  };

  // ---- Operations ----------------------------------------------------------

  /// One operation of kind_; one the allocator lacks is an allocate.
  void step(FuzzInput& input) {
    switch (kind_) {
      case OpKind::allocate:
        allocate(input);
        return;
      case OpKind::allocate_zeroed:
        if constexpr (FreesBlocks<A>) {
          allocate_zeroed(input);
          return;
        }
        break;
      case OpKind::deallocate:
        deallocate(input);
        return;
      case OpKind::reallocate:
        if constexpr (FreesBlocks<A>) {
          reallocate(input);
          return;
        }
        break;
      case OpKind::usable_size:
        if constexpr (HasUsableSize<A>) {
          usable_size(input);
          return;
        }
        break;
      case OpKind::misuse:
        misuse(input);
        return;
      case OpKind::free_run:
        free_run(input);
        return;
      case OpKind::mark:
        if constexpr (HasMarkers<A>) {
          mark();
          return;
        }
        break;
      case OpKind::rewind:
        if constexpr (HasMarkers<A>) {
          rewind(input);
          return;
        }
        break;
      case OpKind::release_all:
        release_all();
        return;
    }
    kind_ = OpKind::allocate;
    allocate(input);
  }

  /// allocate(size) or allocate(size, align): a fresh block, or a refusal
  /// counted as rejected (a request no heap may serve) or exhausted.
  void allocate(FuzzInput& input) {
    const std::size_t size = request_size(input, capacity_);
    const std::optional<std::size_t> align = request_alignment(input);
    const Stats before = heap_.stats();
    void* const p = align ? heap_.allocate(size, *align) : heap_.allocate(size);
    const std::size_t asked = align.value_or(kDefaultAlignment);
    if (tracing_) {
      trace(Message() << "allocate(" << size << (align ? ", " : ", default ") << asked << ") = " << p);
    }
    if (!acceptable_request(size, asked)) {
      expect_rejected(p, before);
    } else if (p == nullptr) {
      expect_exhausted(before);
    } else {
      expect_new_block(p, size, std::max(asked, kDefaultAlignment), before);
      add(p, size, 0, model_.next_pattern());
    }
  }

  /// allocate_zeroed(count, size): zeroes, or a refusal; a product that
  /// overflows (past SIZE_MAX, or past kMaxRequest) must be rejected.
  void allocate_zeroed(FuzzInput& input)
    requires FreesBlocks<A>
  {
    const ZeroedRequest request = zeroed_request(input, capacity_);
    const Stats before = heap_.stats();
    void* const p = heap_.allocate_zeroed(request.count, request.size);
    if (tracing_) {
      trace(Message() << "allocate_zeroed(" << request.count << ", " << request.size << ") = " << p);
    }
    // The exact product, with the compiler's overflow check: the allocator
    // divides instead, so the two computations check each other.
    std::size_t bytes = 0;
    const bool overflows = __builtin_mul_overflow(request.count, request.size, &bytes) || bytes > kMaxRequest;
    if (overflows) {
      expect_rejected(p, before);
      return;
    }
    if (p == nullptr) {
      expect_exhausted(before);
      return;
    }
    expect_new_block(p, bytes, kDefaultAlignment, before);
    const std::span<const std::byte> zeroed(static_cast<const std::byte*>(p), bytes);
    const auto dirty = std::find_if(zeroed.begin(), zeroed.end(), [](std::byte b) { return b != std::byte{}; });
    if (dirty != zeroed.end()) {
      fail(Message() << "allocate_zeroed(" << request.count << ", " << request.size << ") left byte "
                     << static_cast<std::size_t>(dirty - zeroed.begin()) << " non-zero");
    }
    add(p, bytes, 0, model_.next_pattern());
  }

  /// deallocate() of a live block (chosen by a 2-byte index), or of
  /// nullptr when none is live.
  void deallocate(FuzzInput& input) {
    if (model_.empty()) {
      free_null();
      return;
    }
    deallocate_block(input.below(model_.size()));
  }

  /// reallocate() of a live block, or of nullptr (which is allocate): a
  /// 2-byte index modulo the live blocks + 1, the last value meaning
  /// nullptr, then the new size and the alignment a moved block needs
  /// (nothing: `reallocate(p, size)`, the default).
  void reallocate(FuzzInput& input)
    requires FreesBlocks<A>
  {
    const std::size_t index = input.below(model_.size() + 1);
    const std::size_t size = request_size(input, capacity_);
    const std::optional<std::size_t> align = request_alignment(input);
    if (index == model_.size()) {
      reallocate_null(size, align);
    } else {
      reallocate_block(index, size, align);
    }
  }

  /// usable_size() of a live block, which must cover the request; then
  /// every usable byte past the request is written, as a program that
  /// asked malloc_usable_size may. check() after the operation catches a
  /// usable size that reaches into the heap's own metadata.
  void usable_size(FuzzInput& input)
    requires HasUsableSize<A>
  {
    const Stats before = heap_.stats();
    if (model_.empty()) {
      if (heap_.usable_size(nullptr) != 0) fail(Message() << "usable_size(nullptr) is not 0");
      expect_unchanged(before, "usable_size(nullptr)");
      return;
    }
    const LiveBlock block = model_.blocks()[input.below(model_.size())];
    const std::size_t usable = heap_.usable_size(block.start);
    if (tracing_) {
      trace(Message() << "usable_size(" << block.start << ") = " << usable << " (asked " << block.size << ")");
    }
    if (usable < block.size) {
      fail(Message() << "usable_size() of a block of " << block.size << " bytes is " << usable);
    }
    expect_unchanged(before, "usable_size()");
    std::fill(block.start + block.size, block.start + usable, kScribble);
  }

  /// A misuse (the kind byte, modulo kMisuseOps, picks a MisuseOp): it
  /// must be reported once and change nothing.
  void misuse(FuzzInput& input) {
    const auto op = static_cast<MisuseOp>(input.byte() % kMisuseOps);
    if (op == MisuseOp::free_null) {
      free_null();
    } else if constexpr (FreesBlocks<A>) {
      misuse_blocks(op, input);
    } else {
      misuse_bump(op, input);
    }
  }

  /// deallocate() of up to 16 live blocks that are neighbours in address
  /// order (2 bytes: the first, by address rank; 1 byte: bits 0-3 the
  /// count - 1, bit 4 downwards), checking the heap after each: freeing
  /// neighbours in both directions reaches every case of coalescing.
  void free_run(FuzzInput& input) {
    const std::size_t first = input.u16();
    const std::uint8_t shape = input.byte();
    const std::size_t count = 1 + (shape & 15u);
    const bool downwards = (shape & 16u) != 0;
    for (std::byte* const start : model_.neighbours(first, count, downwards)) {
      deallocate_block(*model_.index_of(start));
      check_heap();
    }
  }

  /// mark(): saved, with the state a rewind to it must restore.
  void mark()
    requires HasMarkers<A>
  {
    const Stats before = heap_.stats();
    if (markers_.size() < kMarkersKept) {
      markers_.push_back({heap_.mark(), model_.size(), before.used});
      if (tracing_) trace(Message() << "mark() at " << before.used << " bytes used: #" << markers_.size() - 1);
    }
    expect_unchanged(before, "mark()");
  }

  /// rewind() to a saved marker (1 byte: which one); with none saved, a
  /// mark(). Markers taken after it are erased (markers form a stack).
  void rewind(FuzzInput& input)
    requires HasMarkers<A>
  {
    if (markers_.empty()) {
      kind_ = OpKind::mark;
      mark();
      return;
    }
    const std::size_t index = input.byte() % markers_.size();
    const SavedMarker saved = markers_[index];
    heap_.rewind(saved.marker);
    if (tracing_) trace(Message() << "rewind(#" << index << ") to " << saved.used << " bytes used");
    for (const LiveBlock& block : model_.truncate(saved.live_blocks)) remember_stale(block.start);
    for (std::size_t i = index + 1; i < markers_.size(); ++i) keep_bad_marker(erased_markers_, markers_[i]);
    markers_.resize(index + 1);
    const std::size_t used = heap_.stats().used;
    if (used != saved.used) {
      fail(Message() << "rewind() left " << used << " bytes used, not the " << saved.used << " of its mark");
    }
  }

  /// Stage 1: reset(), after which nothing is used and every marker is
  /// stale. Later stages: deallocate() of every live block.
  void release_all() {
    if constexpr (Resettable<A>) {
      heap_.reset();
      if (tracing_) trace(Message() << "reset()");
      for (const LiveBlock& block : model_.truncate(0)) remember_stale(block.start);
      if constexpr (HasMarkers<A>) {
        // Every marker taken so far is from before this reset: stale.
        for (const SavedMarker& saved : erased_markers_) keep_bad_marker(stale_markers_, saved);
        for (const SavedMarker& saved : markers_) keep_bad_marker(stale_markers_, saved);
        erased_markers_.clear();
        markers_.clear();
      }
      const std::size_t used = heap_.stats().used;
      if (used != 0) fail(Message() << "reset() left " << used << " bytes used");
    } else {
      while (!model_.empty()) deallocate_block(model_.size() - 1);
    }
  }

  // ---- The steps behind them -------------------------------------------------

  /// deallocate() of live block number \p index, after verifying its
  /// pattern. A bump heap's deallocate() must change nothing (the block
  /// stays live); later chapters' gives the block back.
  void deallocate_block(std::size_t index) {
    const LiveBlock block = model_.blocks()[index];
    verify(block, block.size);
    const Stats before = heap_.stats();
    heap_.deallocate(block.start);
    if (tracing_) trace(Message() << "deallocate(" << block.start << ") of " << block.size << " bytes");
    if constexpr (FreesBlocks<A>) {
      model_.remove(index);
      remember_stale(block.start);
      const Stats after = heap_.stats();
      for (const auto& [name, count_before, count_after] :
           {std::tuple{"allocations", before.allocations, after.allocations},
            std::tuple{"exhausted", before.exhausted, after.exhausted},
            std::tuple{"rejected", before.rejected, after.rejected}}) {
        if (count_after != count_before) {
          fail(Message() << "deallocate() changed the count of requests " << name << " from " << count_before
                         << " to " << count_after);
        }
      }
    } else {
      expect_unchanged(before, "a bump heap's deallocate()");
    }
  }

  /// reallocate(nullptr, size[, align]), which is allocate(size[, align]).
  void reallocate_null(std::size_t size, std::optional<std::size_t> align)
    requires FreesBlocks<A>
  {
    const Stats before = heap_.stats();
    void* const p = call_reallocate(nullptr, size, align);
    const std::size_t asked = realloc_alignment(align);
    if (tracing_) trace(Message() << "reallocate(nullptr, " << size << ", " << asked << ") = " << p);
    if (!acceptable_request(size, asked)) {
      expect_rejected(p, before);
    } else if (p == nullptr) {
      expect_exhausted(before);
    } else {
      expect_new_block(p, size, std::max(asked, kDefaultAlignment), before);
      add(p, size, 0, model_.next_pattern());
    }
  }

  /// reallocate() of live block number \p index to \p size bytes: the first
  /// min(old, new) bytes survive, in place or moved, aligned as asked; a
  /// refusal leaves the block as it was.
  void reallocate_block(std::size_t index, std::size_t size, std::optional<std::size_t> align)
    requires FreesBlocks<A>
  {
    const LiveBlock old = model_.blocks()[index];
    verify(old, old.size);
    const Stats before = heap_.stats();
    void* const p = call_reallocate(old.start, size, align);
    const std::size_t asked = realloc_alignment(align);
    if (tracing_) {
      trace(Message() << "reallocate(" << old.start << " of " << old.size << " bytes, " << size << ", "
                      << asked << ") = " << p);
    }
    if (!acceptable_request(size, asked)) {
      expect_rejected(p, before);
      verify(old, old.size);
      return;
    }
    if (p == nullptr) {
      expect_exhausted(before);
      verify(old, old.size);  // intact, and still the caller's
      return;
    }
    expect_aligned_and_owned(p, size, std::max(asked, kDefaultAlignment));
    model_.remove(index);
    const std::size_t kept = std::min(old.size, size);
    const LiveBlock resized{static_cast<std::byte*>(p), kept, old.pattern};
    if (const std::optional<std::size_t> lost = pattern_mismatch(resized, kept)) {
      fail(Message() << "reallocate(" << old.size << " bytes -> " << size << ") lost byte " << *lost
                     << (p == old.start ? " in place" : " in the move"));
    }
    if (p != old.start) remember_stale(old.start);
    add(p, size, kept, old.pattern);
  }

  /// reallocate(p, size, align) when \p align is given and the allocator
  /// takes one, else reallocate(p, size).
  void* call_reallocate(void* p, std::size_t size, std::optional<std::size_t> align) noexcept
    requires FreesBlocks<A>
  {
    if constexpr (ReallocatesAligned<A>) {
      if (align) return heap_.reallocate(p, size, *align);
    }
    return heap_.reallocate(p, size);
  }

  /// The alignment call_reallocate() asks for with \p align.
  [[nodiscard]] static constexpr std::size_t realloc_alignment(std::optional<std::size_t> align) noexcept {
    return ReallocatesAligned<A> ? align.value_or(kDefaultAlignment) : kDefaultAlignment;
  }

  /// deallocate(nullptr): nothing may happen.
  void free_null() {
    const Stats before = heap_.stats();
    heap_.deallocate(nullptr);
    if (tracing_) trace(Message() << "deallocate(nullptr)");
    expect_unchanged(before, "deallocate(nullptr)");
  }

  // ---- Misuse --------------------------------------------------------------

  /// Chapter 2 on: every bad pointer is reported, by every operation that
  /// takes one, and nothing changes.
  void misuse_blocks(MisuseOp op, FuzzInput& input)
    requires FreesBlocks<A>
  {
    switch (op) {
      case MisuseOp::free_foreign:
        bad_free(foreign_pointer(input));
        return;
      case MisuseOp::free_interior:
        bad_free(interior_pointer(input));
        return;
      case MisuseOp::free_stale:
        bad_free(stale_pointer(input));
        return;
      case MisuseOp::realloc_bad: {
        const BadPointer bad = bad_pointer(input);
        const std::size_t size = request_size(input, capacity_);
        expect_reported(bad, [&] {
          if (heap_.reallocate(bad.pointer, size) != nullptr) {
            fail(Message() << "reallocate() of a bad pointer succeeded");
          }
        });
        return;
      }
      case MisuseOp::usable_bad:
        if constexpr (HasUsableSize<A>) {
          const BadPointer bad = bad_pointer(input);
          expect_reported(bad, [&] {
            if (heap_.usable_size(bad.pointer) != 0) {
              fail(Message() << "usable_size() of a bad pointer is not 0");
            }
          });
        } else {
          bad_free(foreign_pointer(input));
        }
        return;
      case MisuseOp::free_null:
        free_null();
        return;
    }
  }

  /// Stage 1: deallocate() can only tell a pointer outside the used heap
  /// (reported as foreign); inside it, any pointer is a silent no-op. A
  /// heap with markers also gets rewinds to bad markers.
  void misuse_bump(MisuseOp op, FuzzInput& input) {
    switch (op) {
      case MisuseOp::free_interior:
      case MisuseOp::free_stale: {
        const BadPointer bad = op == MisuseOp::free_interior ? interior_pointer(input) : stale_pointer(input);
        if (heap_.owns(bad.pointer)) {
          const Stats before = heap_.stats();
          heap_.deallocate(bad.pointer);
          if (tracing_) trace(Message() << "deallocate(" << bad.pointer << "), inside the used heap");
          expect_unchanged(before, "a bump heap's deallocate() of a pointer it owns");
        } else {
          bad_free({bad.pointer, Misuse::foreign_pointer});
        }
        return;
      }
      case MisuseOp::realloc_bad:
      case MisuseOp::usable_bad:
        if constexpr (HasMarkers<A>) {
          rewind_to_bad_marker(input);
        } else {
          bad_free(foreign_pointer(input));
        }
        return;
      case MisuseOp::free_foreign:
        bad_free(foreign_pointer(input));
        return;
      case MisuseOp::free_null:
        free_null();
        return;
    }
  }

  /// deallocate(bad.pointer), which must be reported.
  void bad_free(const BadPointer& bad) {
    expect_reported(bad, [&] { heap_.deallocate(bad.pointer); });
  }

  /// A pointer into the harness's own bytes (1 byte: which 16-byte slot),
  /// which no heap holds: reported as a foreign pointer.
  BadPointer foreign_pointer(FuzzInput& input) noexcept {
    const std::size_t slot = input.byte() % (foreign_.size() / 16);
    return {foreign_.data() + 16 * slot, Misuse::foreign_pointer};
  }

  /// A pointer 1 to size - 1 bytes into a live block (2 bytes: which
  /// block; 2 bytes: how far in): an interior pointer. A foreign pointer
  /// when no live block is large enough to have an inside.
  BadPointer interior_pointer(FuzzInput& input) noexcept {
    if (model_.empty()) return foreign_pointer(input);
    const LiveBlock block = model_.blocks()[input.below(model_.size())];
    if (block.size < 2) return foreign_pointer(input);
    return {block.start + 1 + input.below(block.size - 1), Misuse::interior_pointer};
  }

  /// A pointer freed earlier (1 byte: which of the last kStaleKept): a
  /// double free. Its block may since have merged or been carved anew, so
  /// the allocator may see a free block, an interior or a foreign pointer;
  /// any of those reports will do. A pointer into a live block again would
  /// be a legal free: a foreign pointer instead.
  BadPointer stale_pointer(FuzzInput& input) noexcept {
    const std::size_t kept = std::min(stale_count_, kStaleKept);
    if (kept == 0) return foreign_pointer(input);
    void* const p = stale_[input.byte() % kept];
    if (model_.in_live_block(p)) return foreign_pointer(input);
    return {p, std::nullopt};
  }

  /// A foreign, interior or stale pointer (1 byte: which).
  BadPointer bad_pointer(FuzzInput& input) noexcept {
    switch (input.byte() % 3) {
      case 0: return foreign_pointer(input);
      case 1: return interior_pointer(input);
      default: return stale_pointer(input);
    }
  }

  /// rewind() to a marker no rewind may accept (1 byte: which): one from
  /// another allocator, one from before a reset(), or one that a rewind
  /// erased and that lies beyond the current position. (An erased marker
  /// within the used heap looks like a marker of the present: the chapter
  /// documents that it cannot be told apart.)
  void rewind_to_bad_marker(FuzzInput& input)
    requires HasMarkers<A>
  {
    A other{std::span<std::byte>(other_region_)};
    Marker bad = other.mark();
    const std::uint8_t choice = input.byte();
    const std::size_t used = heap_.stats().used;
    if (choice % 3 == 1 && !stale_markers_.empty()) {
      bad = stale_markers_[(choice / 3) % stale_markers_.size()].marker;
    } else if (choice % 3 == 2) {
      for (const SavedMarker& erased : erased_markers_) {
        if (erased.used > used) bad = erased.marker;
      }
    }
    const Stats before = heap_.stats();
    const std::size_t reports = misuse_.reports().size();
    if (tracing_) trace(Message() << "rewind(a bad marker)");
    heap_.rewind(bad);
    expect_one_report(reports, Misuse::bad_marker, std::nullopt);
    expect_unchanged(before, "rewind() to a bad marker");
  }

  /// Runs \p action, which passes \p bad to the allocator: it must be
  /// reported exactly once, as the kind expected, naming the pointer, and
  /// change no field of the stats.
  template <class Action>
  void expect_reported(const BadPointer& bad, Action action) {
    const Stats before = heap_.stats();
    const std::size_t reports = misuse_.reports().size();
    if (tracing_) trace(Message() << "misuse with " << bad.pointer);
    action();
    expect_one_report(reports, bad.expected, bad.pointer);
    expect_unchanged(before, "misuse");
  }

  /// Fails unless exactly one report came after the first \p reports, of
  /// kind \p kind (if given) and naming \p pointer (if given).
  void expect_one_report(std::size_t reports, std::optional<Misuse> kind,
                         std::optional<const void*> pointer) {
    const std::size_t now = misuse_.reports().size();
    if (now != reports + 1) fail(Message() << "misuse reported " << now - reports << " times, not once");
    const MisuseReport& report = misuse_.reports().back();
    if (kind && report.kind != *kind) {
      fail(Message() << "misuse reported as " << heaplab::to_string(report.kind) << ", not as "
                     << heaplab::to_string(*kind));
    }
    if (pointer && report.pointer != *pointer) {
      fail(Message() << "the report names " << report.pointer << ", not the pointer passed, " << *pointer);
    }
    reports_seen_ = now;
  }

  // ---- Checks --------------------------------------------------------------

  /// A request no heap may serve: nullptr, and only `rejected` moved, by one.
  void expect_rejected(void* p, const Stats& before) {
    if (p != nullptr) fail(Message() << "a request no heap may serve returned " << p);
    const Stats after = heap_.stats();
    if (after.rejected != before.rejected + 1) fail(Message() << "a bad request was not counted as rejected");
    const std::string_view changed = first_difference(StatsFields(before), StatsFields(after), "rejected");
    if (!changed.empty()) fail(Message() << "a rejected request changed stats field " << changed);
  }

  /// A refusal for lack of room: nothing live changed, counted as exhausted.
  /// (Other fields may move: a failed search may merge or flush free blocks.)
  void expect_exhausted(const Stats& before) {
    const Stats after = heap_.stats();
    if (after.used != before.used || after.live_allocations != before.live_allocations ||
        after.requested != before.requested || after.allocations != before.allocations) {
      fail(Message() << "a refused request changed the live state (used " << before.used << " -> "
                     << after.used << ")");
    }
    if (after.exhausted != before.exhausted + 1 || after.rejected != before.rejected) {
      fail(Message() << "a refusal for lack of room was not counted as exhausted (only)");
    }
  }

  /// Fails unless no field of the stats moved since \p before.
  void expect_unchanged(const Stats& before, std::string_view what) {
    const std::string_view changed = first_difference(StatsFields(before), StatsFields(heap_.stats()));
    if (!changed.empty()) fail(Message() << what << " changed stats field " << changed);
  }

  /// A fresh block of \p size bytes at \p p: aligned to \p align, owned,
  /// and counted as one more allocation.
  void expect_new_block(void* p, std::size_t size, std::size_t align, const Stats& before) {
    expect_aligned_and_owned(p, size, align);
    if (heap_.stats().allocations != before.allocations + 1) fail(Message() << "a success was not counted");
  }

  /// \p p is aligned to \p align and owns() its first and last byte.
  void expect_aligned_and_owned(void* p, std::size_t size, std::size_t align) {
    if (!is_aligned(p, align)) fail(Message() << "block " << p << " is not aligned to " << align);
    const auto* const start = static_cast<const std::byte*>(p);
    if (!heap_.owns(start)) fail(Message() << "owns() denies the block it returned, " << p);
    if (size > 0 && !heap_.owns(start + size - 1)) {
      fail(Message() << "owns() denies the last byte of the " << size << "-byte block at " << p);
    }
  }

  /// Records the block at \p p of \p size bytes, whose first \p valid bytes
  /// already hold pattern \p pattern, and fills in the rest.
  void add(void* p, std::size_t size, std::size_t valid, std::size_t pattern) {
    const LiveBlock block{static_cast<std::byte*>(p), size, pattern};
    if (const std::optional<std::uintptr_t> other = model_.overlap(block)) {
      fail(Message() << "the " << size << "-byte block at " << p << " overlaps the live block at "
                     << reinterpret_cast<const void*>(*other));
    }
    model_.insert(block);
    fill_pattern(block, valid, size);
  }

  /// The first \p bytes of \p block still hold its pattern: the allocator
  /// wrote into no live block (a link, a header, a block handed out twice).
  void verify(const LiveBlock& block, std::size_t bytes) {
    if (const std::optional<std::size_t> at = pattern_mismatch(block, bytes)) {
      fail(Message() << "byte " << *at << " of the live " << block.size << "-byte block at "
                     << static_cast<const void*>(block.start) << " was overwritten");
    }
  }

  /// Every live block holds its pattern.
  void verify_all() {
    for (const LiveBlock& block : model_.blocks()) verify(block, block.size);
  }

  /// The checks after every operation: the heap's own invariants, its
  /// numbers against the model's, and no unexpected misuse report.
  void check_heap() {
    if (const CheckResult result = heap_.check(); !result) {
      fail(Message() << "check() failed: \"" << result.failed_invariant << "\" at offset " << result.offset);
    }
    const Stats s = heap_.stats();
    if (s.live_allocations != model_.size()) {
      fail(Message() << "stats() counts " << s.live_allocations << " live allocations, the model "
                     << model_.size());
    }
    if (s.requested != model_.requested()) {
      fail(Message() << "stats() counts " << s.requested << " requested bytes, the model "
                     << model_.requested());
    }
    if (s.used > s.capacity) fail(Message() << "used " << s.used << " > capacity " << s.capacity);
    if (const auto fallen = first_fallen_lifetime_field(StatsFields(last_stats_), StatsFields(s))) {
      fail(Message() << "the lifetime count " << fallen->first.name << " fell from " << fallen->first.value
                     << " to " << fallen->second.value);
    }
    last_stats_ = s;
    if (misuse_.reports().size() != reports_seen_) {
      const MisuseReport& report = misuse_.reports()[reports_seen_];
      fail(Message() << "unexpected misuse report: " << heaplab::to_string(report.kind) << " ("
                     << report.pointer << ") in " << report.where);
    }
  }

  /// After everything was released, no large block may still be mapped.
  void expect_nothing_mapped() {
    if constexpr (requires(const Stats& s) { s.mapped_blocks; }) {
      const Stats s = heap_.stats();
      if (s.mapped_blocks != 0 || s.mapped_bytes != 0) {
        fail(Message() << s.mapped_blocks << " mapped block(s) left after every block was freed");
      }
    }
  }

  // ---- Bookkeeping -------------------------------------------------------------

  /// Keeps \p p, just freed, for double frees.
  void remember_stale(void* p) noexcept { stale_[stale_count_++ % kStaleKept] = p; }

  /// Keeps \p saved in \p list (for bad-marker misuse), dropping the oldest past kMarkersKept.
  static void keep_bad_marker(std::vector<SavedMarker>& list, const SavedMarker& saved) {
    if (list.size() == kMarkersKept) list.erase(list.begin());
    list.push_back(saved);
  }

  /// Prints \p what, one call to the allocator, as part of the trace.
  void trace(const Message& what) const {
    std::fprintf(stderr, "heaplab fuzz trace: operation %zu (%.*s): %s\n", operation_,
                 static_cast<int>(to_string(kind_).size()), to_string(kind_).data(), what.text().c_str());
  }

  /// Fails with the configuration and the operation in the message.
  [[noreturn]] void fail(const Message& why) const {
    const Message where =
        Message() << name_ << ", operation " << operation_ << " (" << to_string(kind_) << ")";
    fuzzing::fail(where.text(), why.text());
  }

  testing::RecordingHandler misuse_;         ///< Records every misuse report while the run lasts.
  A& heap_;                                  ///< The allocator under test.
  std::size_t capacity_;                     ///< Bytes behind it.
  std::string_view name_;                    ///< The configuration, for messages.
  Model model_;                              ///< What the heap must hold.
  std::size_t operation_ = 0;                ///< Operations done so far.
  OpKind kind_ = OpKind::allocate;           ///< The operation under way.
  std::size_t reports_seen_ = 0;             ///< Misuse reports expected so far.
  Stats last_stats_{};                       ///< stats() at the last check_heap(): lifetime counts only grow.
  /// Prints every call to the allocator when the environment variable
  /// HEAPLAB_FUZZ_TRACE is set: for replaying a crash file, not for fuzzing.
  bool tracing_ = std::getenv("HEAPLAB_FUZZ_TRACE") != nullptr;
  std::array<void*, kStaleKept> stale_{};    ///< Recently freed pointers (a ring).
  std::size_t stale_count_ = 0;              ///< Pointers ever put in stale_.
  std::vector<SavedMarker> markers_;         ///< Live markers, oldest first (a stack).
  std::vector<SavedMarker> erased_markers_;  ///< Markers erased by a rewind past them.
  std::vector<SavedMarker> stale_markers_;   ///< Markers from before a reset().
  alignas(16) std::array<std::byte, 256> foreign_{};       ///< Bytes of no heap.
  alignas(16) std::array<std::byte, 256> other_region_{};  ///< Another heap's region (for foreign markers).
};

/// One configuration of a family: its name, and how to run an input on a
/// fresh allocator of it (a fresh heap per input: libFuzzer replays a
/// crash from its input alone).
struct Configuration {
  std::string_view name;  ///< The allocator, as failure messages name it.
  void (*run)(std::string_view name, const HeapShape& shape, FuzzInput& input);  ///< Runs one input.
};

/// The body of a target's LLVMFuzzerTestOneInput(): the first byte of
/// \p data picks one of \p configurations, the second the heap's shape,
/// and the rest are operations.
template <std::size_t N>
int run_input(const std::array<Configuration, N>& configurations, const std::uint8_t* data,
              std::size_t size) {
  FuzzInput input({data, size});
  const Configuration configuration = pick(configurations, input.byte());
  const HeapShape shape = heap_shape(input.byte());
  configuration.run(configuration.name, shape, input);
  return 0;  // libFuzzer's convention: the input was run (a failure never returns)
}

/// Runs \p input on a fresh \p A over a region of \p shape: from a page
/// boundary (so the run depends on the input alone, see kPageBytes),
/// ending exactly where the region's allocation
/// ends, so that AddressSanitizer catches a write past it.
template <class A>
void fuzz_over_region(std::string_view name, const HeapShape& shape, FuzzInput& input) {
  const heaplab::testing::AlignedRegion memory(shape.bytes, kPageBytes);
  A heap(memory.bytes().subspan(shape.offset));
  Harness<A>(heap, shape.capacity(), name).run(input);
}

}  // namespace heaplab::fuzzing
