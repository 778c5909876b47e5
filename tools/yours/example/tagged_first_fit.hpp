/// \file
/// TaggedFirstFit: an allocator written outside the course's chapters, the
/// example of heaplab_add_allocator() (docs/your_own_allocator.md).
///
/// One region, cut into blocks that lie end to end; each starts with a
/// 16-byte header, and the walk from one header to the next is the whole
/// bookkeeping (an implicit list, as CS:APP's first malloc):
///
///     +------------------+------------------+-----------------------------+
///     | size | state     | requested bytes  | payload (16-byte aligned)   |
///     +------------------+------------------+-----------------------------+
///     ^ block start        8                  16
///
/// allocate() takes the first free block that fits, splits off the rest;
/// deallocate() merges the block with its free neighbours, so no two free
/// blocks ever touch: that is what check() verifies, with the sizes adding
/// up to the region. Misuse (double free, foreign or interior pointers) is
/// found by the walk too, and reported.
///
/// Built with HEAPLAB_EXAMPLE_SKIP_MERGE, deallocate() forgets to merge:
/// the broken variant whose failures the course's grader must catch.
#pragma once

#include <cstddef>
#include <span>

#include "stage1_static_bump/contract.hpp"

namespace heaplab::example {

/// First fit over an implicit list of tagged blocks (see the file comment).
class TaggedFirstFit {
 public:
  /// Bytes of a block header; also the payload alignment.
  static constexpr std::size_t kHeaderBytes = 16;
  /// The smallest block: a header and 16 bytes of payload.
  static constexpr std::size_t kMinBlock = 2 * kHeaderBytes;

  /// An allocator over \p region (its 16-byte-aligned part).
  explicit TaggedFirstFit(std::span<std::byte> region) noexcept;

  /// \p size bytes aligned to \p align, or nullptr (counted as rejected
  /// or exhausted, as heaplab::Allocator says).
  [[nodiscard]] void* allocate(std::size_t size, std::size_t align = kDefaultAlignment) noexcept;
  /// Gives \p p back; nullptr does nothing; misuse is reported.
  void deallocate(void* p) noexcept;
  /// The block at \p p resized to \p size bytes (moved if it must be).
  [[nodiscard]] void* reallocate(void* p, std::size_t size) noexcept;
  /// \p count * \p size zeroed bytes; nullptr when the product overflows.
  [[nodiscard]] void* allocate_zeroed(std::size_t count, std::size_t size) noexcept;
  /// Bytes usable at \p p (0, and a report, for a pointer that is not a live block).
  [[nodiscard]] std::size_t usable_size(void* p) noexcept;

  /// The numbers of heaplab::HeapStats.
  [[nodiscard]] HeapStats stats() const noexcept;
  /// The first broken invariant of the walk, if any.
  [[nodiscard]] CheckResult check() const noexcept;
  /// True when \p p lies in the region.
  [[nodiscard]] bool owns(const void* p) const noexcept;

  /// Calls \p visit with every block, in address order.
  template <class Visitor>
  void for_each_block(Visitor&& visit) const {
    for (std::size_t at = 0; at < region_.size(); at += size_at(at)) {
      if (size_at(at) == 0) return;  // a broken header: check() says so
      visit(BlockView{.region = 0,
                      .offset = at,
                      .size = size_at(at),
                      .state = is_free_at(at) ? BlockState::free : BlockState::allocated,
                      .header = kHeaderBytes});
    }
  }

 private:
  /// Where a pointer lands in the walk.
  struct Found {
    std::size_t block = 0;  ///< The offset of the block it is in.
    bool at_payload = false;  ///< True when it is that block's payload start.
  };

  [[nodiscard]] std::size_t size_at(std::size_t at) const noexcept;
  [[nodiscard]] bool is_free_at(std::size_t at) const noexcept;
  [[nodiscard]] std::size_t requested_at(std::size_t at) const noexcept;
  void write_header(std::size_t at, std::size_t size, bool free, std::size_t requested) noexcept;
  [[nodiscard]] Found find(const void* p) const noexcept;
  [[nodiscard]] bool live_block(const void* p, const char* where, std::size_t& block) const noexcept;
  [[nodiscard]] void* place(std::size_t at, std::size_t payload_offset, std::size_t payload,
                            std::size_t requested) noexcept;
  void split(std::size_t at, std::size_t keep) noexcept;
  void merge_free_neighbours() noexcept;
  void release(std::size_t at) noexcept;

  std::span<std::byte> region_;  ///< The 16-byte-aligned part of the caller's region.
  HeapStats stats_;              ///< Counted as blocks change hands.
};

}  // namespace heaplab::example
