/// \file
/// A side table with one bit per 8-byte cell of the heap: set where a block
/// starts. It is how deallocate() tells a pointer to a payload from a
/// pointer into the middle of one, exactly and in O(1).
///
///     cells:   $000 $008 $010 $018 $020 $028 $030 $038 $040 $048 ...
///     blocks:  [hdr  hdr  pay  pay ][hdr  hdr  pay ][hdr  hdr  pay ...
///     bits:     1    0    0    0    1    0    0    1    0    0   ...
///
/// Why not just look at the header in front of the pointer? For a pointer
/// into the middle of a payload, the 16 bytes in front of it are the
/// caller's data, and data can look like any header at all. The map costs
/// 1 bit per 8 bytes (1/64 of the heap) and cannot be fooled by data.
/// glibc checks only that the size it reads is plausible; allocators with
/// exact checks keep a side table like this one (mimalloc's segment map,
/// jemalloc's radix tree of extents).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace heaplab {

/// One bit per 8-byte cell of a heap: set where a block starts.
class BlockStartMap {
 public:
  /// Cells covered by one word of the map.
  static constexpr std::size_t kCellsPerWord = 64;

  /// Bytes of map needed to cover \p heap_bytes bytes of heap (a whole
  /// number of 64-bit words).
  [[nodiscard]] static constexpr std::size_t bytes_for(std::size_t heap_bytes) noexcept {
    const std::size_t cells = heap_bytes / kCell;
    return (cells + kCellsPerWord - 1) / kCellsPerWord * sizeof(std::uint64_t);
  }

  /// An empty map (covers nothing).
  BlockStartMap() noexcept = default;
  /// A map over the heap starting at \p heap_begin, stored in \p words,
  /// which may hold anything: claim() clears each word when the heap first
  /// reaches its cells, and no word is read before that.
  BlockStartMap(std::span<std::uint64_t> words, const std::byte* heap_begin) noexcept
      : words_(words), heap_begin_(heap_begin) {}
  /// Readies every cell before \p end (one past the break, which has just
  /// moved forward) for use: the words not claimed yet are cleared, so the
  /// cells the break moved over hold no block start. Clearing a word only
  /// when the heap first reaches it costs the map just the pages the heap
  /// really uses: a fresh 1 GiB reservation would otherwise have its 16 MiB
  /// map written at start-up, all of it committed memory.
  void claim(const std::byte* end) noexcept;

  /// Records that a block starts at \p block.
  void mark(const std::byte* block) noexcept { words_[word(block)] |= bit(block); }
  /// Records that no block starts at \p block any more (coalescing, later).
  void unmark(const std::byte* block) noexcept { words_[word(block)] &= ~bit(block); }
  /// True when a block starts at \p at. Precondition: \p at is an 8-aligned
  /// address inside the covered heap.
  [[nodiscard]] bool is_start(const std::byte* at) const noexcept {
    return (words_[word(at)] & bit(at)) != 0;
  }
  /// The words of the map whose cells all lie between \p from and \p to
  /// (8-aligned addresses of the covered heap, \p to excluded); empty when
  /// no word lies wholly there. For a heap that gives back the pages of a
  /// free block's inside, where no block starts: the map's words there are
  /// zeros, which pages given back read as too.
  [[nodiscard]] std::span<std::uint64_t> words_within(const std::byte* from, const std::byte* to) const noexcept {
    const std::size_t first = (cell(from) + kCellsPerWord - 1) / kCellsPerWord;
    const std::size_t last = cell(to) / kCellsPerWord;
    return first < last ? words_.subspan(first, last - first) : std::span<std::uint64_t>{};
  }
  /// How many block starts are recorded (in the claimed words).
  [[nodiscard]] std::size_t count() const noexcept;
  /// How many block starts are recorded in the cells before \p end, an
  /// 8-aligned address from the heap's first cell to one past its last.
  /// check() compares it with a walk up to the break, so a check costs the
  /// used part of the heap, not the whole region: no operation reads a bit
  /// past the break, and a stray one is counted once the break passes it.
  [[nodiscard]] std::size_t count_before(const std::byte* end) const noexcept;

 private:
  static constexpr std::size_t kCell = 8;  ///< Bytes per cell.

  [[nodiscard]] std::size_t cell(const std::byte* at) const noexcept {
    return static_cast<std::size_t>(at - heap_begin_) / kCell;
  }
  [[nodiscard]] std::size_t word(const std::byte* at) const noexcept { return cell(at) / kCellsPerWord; }
  [[nodiscard]] std::uint64_t bit(const std::byte* at) const noexcept {
    return std::uint64_t{1} << (cell(at) % kCellsPerWord);
  }

  std::span<std::uint64_t> words_;        ///< One bit per cell, cell 0 in bit 0 of word 0.
  std::size_t claimed_ = 0;                ///< Invariant: words_[0, claimed_) are cleared or marked; the rest are never read.
  const std::byte* heap_begin_ = nullptr;  ///< The address of cell 0.
};

}  // namespace heaplab
