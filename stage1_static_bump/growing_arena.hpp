/// \file
/// A bump allocator that never runs out while its upstream has memory: when
/// the current chunk is full it asks a ChunkSource for a bigger one.
///
///     chunk 0 (64 KiB)       chunk 1 (128 KiB)            chunk 2 (256 KiB)  <- current
///     +----+-----------+     +----+-------------------+   +----+---------------------+
///     |hdr | used |pad |  <--|hdr | used              |<--|hdr | used |   free       |
///     +----+-----------+     +----+-------------------+   +----+---------------------+
///
/// Each chunk starts with a small header (its size, a link to the previous
/// chunk, and a stage-1 BumpAllocator over the rest of the chunk), so the
/// arena needs no memory of its own for bookkeeping. Allocation bumps in the
/// current (newest regular) chunk; the tail left in an older chunk is not
/// revisited. A request too big for a regular chunk gets a chunk of its own,
/// linked behind the current one so that the current chunk's room is not
/// abandoned.
#pragma once

#include <cstddef>

#include "stage1_static_bump/bump_allocator.hpp"
#include "stage1_static_bump/chunk_source.hpp"
#include "stage1_static_bump/contract.hpp"

namespace heaplab {

/// How a GrowingArena sizes its chunks.
///
/// Chunk sizes double, starting at `first_chunk`, until they reach
/// `max_chunk` (doubling keeps the number of chunks logarithmic in the total;
/// the cap keeps one chunk from reserving far more than will be used). A
/// request too big for a regular chunk gets a chunk of its own. The arena
/// never holds more than `limit` bytes from upstream: past it, allocate()
/// returns nullptr.
struct GrowthPolicy {
  std::size_t first_chunk = std::size_t{64} * 1024;          ///< Size of the first chunk.
  std::size_t max_chunk = std::size_t{16} * 1024 * 1024;     ///< Doubling stops at this size.
  std::size_t limit = std::size_t{1024} * 1024 * 1024;       ///< Most bytes held from upstream at once.
};

/// A chunked, growing bump arena (what Go bump allocators call "automatically
/// allocates new chunks"). Not thread-safe; wrap it in Synchronized to share it.
class GrowingArena {
 public:
  /// An arena that takes chunks from \p upstream (the process's mmap source
  /// by default) and grows by \p policy. No chunk is taken until the first
  /// allocation.
  explicit GrowingArena(ChunkSource& upstream = default_chunk_source(),
                        GrowthPolicy policy = {}) noexcept;
  GrowingArena(const GrowingArena&) = delete;
  GrowingArena& operator=(const GrowingArena&) = delete;
  ~GrowingArena();  ///< Returns every chunk to the upstream source.

  /// As BumpAllocator::allocate(), growing the arena when the current chunk is full.
  [[nodiscard]] void* allocate(std::size_t size, std::size_t align = kDefaultAlignment) noexcept;
  /// A no-op for our blocks; foreign pointers are reported (see BumpAllocator::deallocate()).
  void deallocate(void* p) noexcept;
  /// Releases every allocation and every chunk but the largest, which is kept
  /// (emptied) so the next round of work does not start from nothing.
  void reset() noexcept;

  /// The numbers of the contract, summed over all chunks.
  [[nodiscard]] HeapStats stats() const noexcept;
  /// Checks each chunk's bump heap and the arena's own accounting.
  [[nodiscard]] CheckResult check() const noexcept;
  /// True when \p p points into a block handed out from any chunk.
  [[nodiscard]] bool owns(const void* p) const noexcept;

  /// Walks every chunk, from the far end of the chunk list to the current
  /// chunk; BlockView::region is the chunk's position in that order.
  template <class Visitor>
  void for_each_block(Visitor&& visit) const {
    for (std::size_t i = 0; i < chunk_count_; ++i) {
      const Chunk* chunk = chunk_in_walk_order(i);
      chunk->bump.for_each_block([&](BlockView block) {
        block.region = i;
        visit(block);
      });
    }
  }

  /// Number of chunks held from upstream.
  [[nodiscard]] std::size_t chunk_count() const noexcept { return chunk_count_; }
  /// Bytes held from upstream, chunk headers included.
  [[nodiscard]] std::size_t reserved() const noexcept { return reserved_; }
  /// The growth policy in force.
  [[nodiscard]] const GrowthPolicy& policy() const noexcept { return policy_; }

 private:
  /// The header at the start of every chunk.
  struct Chunk {
    Chunk* previous;     ///< The next older chunk, or nullptr.
    std::size_t bytes;   ///< Bytes acquired from upstream for this chunk, header included.
    BumpAllocator bump;  ///< Bumps through the bytes after this header.
  };

  [[gnu::cold]] void* grow_and_allocate(std::size_t size, std::size_t align) noexcept;
  /// Chunk size for a request that needs \p needed bytes, or 0 if over the limit.
  [[nodiscard]] std::size_t next_chunk_bytes(std::size_t needed) const noexcept;
  /// The \p index-th chunk of for_each_block()'s order: from the far end of the list to current_.
  [[nodiscard]] const Chunk* chunk_in_walk_order(std::size_t index) const noexcept;
  void release_chunk(Chunk* chunk) noexcept;

  ChunkSource& upstream_;        ///< Where chunks come from and go back to.
  GrowthPolicy policy_;          ///< Chunk sizing rules.
  Chunk* current_ = nullptr;     ///< Newest regular chunk (allocations bump here), or nullptr.
  std::size_t chunk_count_ = 0;  ///< Chunks in the list from current_.
  std::size_t reserved_ = 0;     ///< Sum of Chunk::bytes. Invariant: <= policy_.limit.
  std::size_t next_regular_ = 0; ///< Size of the next regular chunk (doubles up to max_chunk).
  LifetimeStats lifetime_;       ///< Peaks and totals; updated by reset().
  std::size_t exhausted_ = 0;    ///< Requests refused for lack of room or upstream memory.
  std::size_t rejected_ = 0;     ///< Requests refused for a bad size or alignment.
};

static_assert(Allocator<GrowingArena>);

}  // namespace heaplab
