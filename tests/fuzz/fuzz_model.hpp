/// \file
/// The reference model of the fuzz targets: the live blocks, as the caller
/// knows them, kept independently of the allocator.
///
/// The same idea as the model-based random test (tests/model_tests.cpp),
/// written without doctest so that a failure can stop a fuzzer: every block
/// the allocator hands out is recorded with where it starts, how many bytes
/// were asked for and which pattern fills it. The harness compares the
/// allocator with this record after every operation.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <vector>

#include "stage1_static_bump/align.hpp"

namespace heaplab::fuzzing {

/// One live block as the model knows it.
struct LiveBlock {
  std::byte* start = nullptr;  ///< What the allocator returned.
  std::size_t size = 0;        ///< Bytes asked for: the pattern covers exactly these.
  std::size_t pattern = 0;     ///< Which pattern fills it (unique per block).
};

/// Byte \p offset of pattern number \p pattern. It varies along the block,
/// so a shifted copy or two blocks swapped are caught too.
[[nodiscard]] constexpr std::byte pattern_byte(std::size_t pattern, std::size_t offset) noexcept {
  return static_cast<std::byte>((pattern * 131 + offset * 7 + 1) & 0xff);
}

/// Fills bytes [from, to) of \p block with its pattern.
inline void fill_pattern(const LiveBlock& block, std::size_t from, std::size_t to) noexcept {
  for (std::size_t i = from; i < to; ++i) block.start[i] = pattern_byte(block.pattern, i);
}

/// The first of the first \p bytes of \p block that does not hold its
/// pattern, or nothing when they all do.
[[nodiscard]] inline std::optional<std::size_t> pattern_mismatch(const LiveBlock& block,
                                                                 std::size_t bytes) noexcept {
  for (std::size_t i = 0; i < bytes; ++i) {
    if (block.start[i] != pattern_byte(block.pattern, i)) return i;
  }
  return std::nullopt;
}

/// What the allocator must hold: every live block, in the order they were
/// allocated (until a block is removed: removal moves the newest block
/// into the gap), and an index by address for the overlap check.
class Model {
 public:
  /// The live blocks.
  [[nodiscard]] const std::vector<LiveBlock>& blocks() const noexcept { return blocks_; }
  /// Number of live blocks.
  [[nodiscard]] std::size_t size() const noexcept { return blocks_.size(); }
  /// True when no block is live.
  [[nodiscard]] bool empty() const noexcept { return blocks_.empty(); }
  /// Bytes asked for, summed over the live blocks.
  [[nodiscard]] std::size_t requested() const noexcept { return requested_; }
  /// A pattern number no block has had yet.
  std::size_t next_pattern() noexcept { return next_pattern_++; }

  /// The start of a live block that shares a byte with \p block, if any:
  /// only its neighbours in address order can.
  [[nodiscard]] std::optional<std::uintptr_t> overlap(const LiveBlock& block) const {
    const std::uintptr_t start = address_of(block.start);
    const std::uintptr_t end = start + extent(block.size);
    const auto next = by_address_.lower_bound(start);
    if (next != by_address_.end() && next->first < end) return next->first;
    if (next != by_address_.begin()) {
      const auto previous = std::prev(next);
      if (previous->first + previous->second.bytes > start) return previous->first;
    }
    return std::nullopt;
  }

  /// Adds \p block, which overlaps no live block (see overlap()).
  void insert(const LiveBlock& block) {
    by_address_.emplace(address_of(block.start), Extent{block.start, extent(block.size)});
    blocks_.push_back(block);
    requested_ += block.size;
  }

  /// Removes and returns live block number \p index.
  LiveBlock remove(std::size_t index) {
    const LiveBlock block = blocks_[index];
    blocks_[index] = blocks_.back();
    blocks_.pop_back();
    forget(block);
    return block;
  }

  /// Removes the blocks allocated after the first \p count, which must
  /// still be in allocation order (a bump heap's: nothing was removed).
  /// Returns them, for the harness's list of stale pointers.
  std::vector<LiveBlock> truncate(std::size_t count) {
    std::vector<LiveBlock> released(blocks_.begin() + static_cast<std::ptrdiff_t>(count), blocks_.end());
    blocks_.resize(count);
    for (const LiveBlock& block : released) forget(block);
    return released;
  }

  /// The index of the live block starting at \p start, if any.
  [[nodiscard]] std::optional<std::size_t> index_of(const std::byte* start) const noexcept {
    const auto found = std::find_if(blocks_.begin(), blocks_.end(),
                                    [start](const LiveBlock& block) { return block.start == start; });
    if (found == blocks_.end()) return std::nullopt;
    return static_cast<std::size_t>(found - blocks_.begin());
  }

  /// True when the byte at \p p belongs to a live block.
  [[nodiscard]] bool in_live_block(const void* p) const {
    const std::uintptr_t at = address_of(p);
    const auto next = by_address_.upper_bound(at);
    if (next == by_address_.begin()) return false;
    const auto candidate = std::prev(next);
    return at < candidate->first + candidate->second.bytes;
  }

  /// Up to \p count live block starts in address order, from the
  /// \p first-th block (modulo their number), going down when \p downwards.
  [[nodiscard]] std::vector<std::byte*> neighbours(std::size_t first, std::size_t count,
                                                   bool downwards) const {
    std::vector<std::byte*> starts;
    if (by_address_.empty()) return starts;
    auto at = std::next(by_address_.begin(), static_cast<std::ptrdiff_t>(first % by_address_.size()));
    while (starts.size() < count) {
      starts.push_back(at->second.start);
      if (downwards) {
        if (at == by_address_.begin()) break;
        --at;
      } else {
        if (++at == by_address_.end()) break;
      }
    }
    return starts;
  }

 private:
  /// Where a live block starts and how many bytes it occupies.
  struct Extent {
    std::byte* start;    ///< The block's start.
    std::size_t bytes;   ///< Its size, at least 1 (see extent()).
  };

  /// Bytes a block occupies for the overlap check: allocate(0) must return a
  /// unique pointer, so a zero-byte block counts as one byte.
  static std::size_t extent(std::size_t size) noexcept { return std::max<std::size_t>(size, 1); }

  void forget(const LiveBlock& block) {
    by_address_.erase(address_of(block.start));
    requested_ -= block.size;
  }

  std::vector<LiveBlock> blocks_;                     ///< Every live block.
  std::map<std::uintptr_t, Extent> by_address_;       ///< Every live block, by start address.
  std::size_t requested_ = 0;                         ///< Sum of blocks_[i].size.
  std::size_t next_pattern_ = 0;                      ///< The next unused pattern number.
};

}  // namespace heaplab::fuzzing
