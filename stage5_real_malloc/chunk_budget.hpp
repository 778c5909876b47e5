/// \file
/// A limit on the memory a heap holds from upstream, shared by every layer
/// that takes some: ChunkBudget is a ChunkSource in front of another that
/// refuses a chunk which would take what it has handed out, and not yet
/// been given back, past the limit.
///
///     GrowingHeap: new regions ----+
///                                  +--> ChunkBudget --> upstream ChunkSource
///     LargeBlocks: mappings -------+    held <= limit    (mmap)
///
/// The layers only know "a source"; the limit on the two together is the
/// budget's. Chapter 1's GrowingArena keeps the same limit for itself
/// (GrowthPolicy::limit); here two layers share it, so it moves out of
/// them.
#pragma once

#include <cstddef>
#include <span>

#include "stage1_static_bump/chunk_source.hpp"

namespace heaplab {

/// A ChunkSource that passes requests on to \p upstream while what it holds
/// stays within a limit (see the file comment).
class ChunkBudget final : public ChunkSource {
 public:
  /// A budget of \p limit bytes over \p upstream (null: a source with
  /// nothing to give).
  ChunkBudget(ChunkSource* upstream, std::size_t limit) noexcept : upstream_(upstream), limit_(limit) {}
  ChunkBudget(const ChunkBudget&) = delete;
  ChunkBudget& operator=(const ChunkBudget&) = delete;
  ~ChunkBudget() override = default;

  /// The upstream's chunk of at least \p bytes, or an empty span when the
  /// upstream refuses or the chunk (as the upstream rounded it) would take
  /// the bytes held past the limit.
  [[nodiscard]] std::span<std::byte> acquire(std::size_t bytes) noexcept override;
  /// Gives \p chunk back upstream, and its bytes back to the budget.
  void release(std::span<std::byte> chunk) noexcept override;
  /// Passes \p pages on upstream. The chunk stays held: the budget counts
  /// what is mapped, not what is resident.
  void discard(std::span<std::byte> pages) noexcept override {
    if (upstream_ != nullptr) upstream_->discard(pages);
  }

  /// The upstream's resize() of \p chunk to \p bytes, or an empty span
  /// when the upstream cannot or a growth (to whole pages) would take the
  /// bytes held past the limit.
  [[nodiscard]] std::span<std::byte> resize(std::span<std::byte> chunk, std::size_t bytes) noexcept override;

  /// Bytes handed out and not yet given back. Invariant: at most the limit.
  [[nodiscard]] std::size_t held() const noexcept { return held_; }

 private:
  ChunkSource* upstream_;  ///< Where the chunks come from, or null.
  std::size_t limit_;      ///< The most bytes held at once.
  std::size_t held_ = 0;   ///< Bytes handed out and not given back.
};

}  // namespace heaplab
