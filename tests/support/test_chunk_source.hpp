/// \file
/// A ChunkSource for tests: a byte budget (so a growing arena reaches
/// exhaustion in a few steps), a record of every chunk it handed out, and
/// checks that each chunk comes back exactly once, exactly as it went out;
/// and a record of every range of pages it was told to discard.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <new>
#include <span>
#include <vector>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/chunk_source.hpp"
#include "stage1_static_bump/tracking.hpp"

namespace heaplab::testing {

class TestChunkSource final : public ChunkSource {
 public:
  /// A source that holds at most \p budget bytes out at once, rounds every
  /// chunk up to a multiple of \p granularity (a power of two), as mmap rounds
  /// to whole pages, and starts every chunk on a multiple of \p alignment
  /// (a power of two; a page, to be like mmap's chunks).
  explicit TestChunkSource(std::size_t budget = kMaxRequest, std::size_t granularity = 1,
                           std::size_t alignment = alignof(std::max_align_t))
      : budget_(budget), granularity_(granularity), alignment_(static_cast<std::align_val_t>(alignment)) {}
  TestChunkSource(const TestChunkSource&) = delete;
  TestChunkSource& operator=(const TestChunkSource&) = delete;
  ~TestChunkSource() override {
    for (const std::span<std::byte> chunk : live_) free(chunk);  // a leak is checked by tests, not here
  }

  [[nodiscard]] std::span<std::byte> acquire(std::size_t bytes) noexcept override {
    if (bytes == 0 || bytes > budget_ - outstanding_) return {};
    const std::size_t size = round_up(bytes, granularity_);
    if (size > budget_ - outstanding_) return {};
    void* memory = ::operator new(size, alignment_, std::nothrow);
    if (memory == nullptr) return {};
    const std::span<std::byte> chunk{static_cast<std::byte*>(memory), size};
    live_.push_back(chunk);
    acquired_sizes_.push_back(size);
    outstanding_ += size;
    return chunk;
  }

  void release(std::span<std::byte> chunk) noexcept override {
    const auto found = find_live(chunk);
    if (found == live_.end()) {
      ++bad_releases_;  // not ours, already released, or a different size
      return;
    }
    live_.erase(found);
    outstanding_ -= chunk.size();
    ++releases_;
    free(chunk);
  }

  /// Records \p pages, and zeroes them, as the kernel's fresh pages read
  /// after the mmap source's madvise, so that a heap that still needed
  /// them shows it. (Not under a tracking tool: the free bytes among them
  /// are poisoned, and the write would be reported.)
  void discard(std::span<std::byte> pages) noexcept override {
    discarded_.push_back(pages);
    discarded_bytes_ += pages.size();
#if !defined(HEAPLAB_TRACK_ASAN) && !defined(HEAPLAB_TRACK_VALGRIND)
    std::memset(pages.data(), 0, pages.size());
#endif
  }

  /// After allow_resize(): \p chunk moved to a new chunk of \p bytes
  /// (rounded as acquire() rounds), its bytes copied, as mremap may move a
  /// mapping, so that a caller that keeps a pointer into the old chunk
  /// shows it. Before: empty, as the default source answers (the caller
  /// copies). Empty too for a chunk that is not out, or past the budget.
  [[nodiscard]] std::span<std::byte> resize(std::span<std::byte> chunk, std::size_t bytes) noexcept override {
    const auto found = find_live(chunk);
    if (!resizable_ || found == live_.end() || bytes == 0 || bytes > kMaxRequest) return {};
    const std::size_t size = round_up(bytes, granularity_);
    if (size > chunk.size() && size - chunk.size() > budget_ - outstanding_) return {};
    void* memory = ::operator new(size, alignment_, std::nothrow);
    if (memory == nullptr) return {};
    const std::span<std::byte> moved{static_cast<std::byte*>(memory), size};
    track::expose(chunk.data(), chunk.size());  // the copy reads every byte, as the kernel's move keeps every page
    std::memcpy(moved.data(), chunk.data(), std::min(chunk.size(), size));
    free(chunk);
    *found = moved;
    outstanding_ = outstanding_ - chunk.size() + size;
    ++resizes_;
    return moved;
  }
  /// Lets resize() move chunks from now on.
  void allow_resize() noexcept { resizable_ = true; }
  /// Chunks resize() moved so far.
  [[nodiscard]] std::size_t resizes() const noexcept { return resizes_; }

  /// Every range discard() was given, in order.
  [[nodiscard]] const std::vector<std::span<std::byte>>& discarded() const noexcept { return discarded_; }
  /// Bytes of all of them together.
  [[nodiscard]] std::size_t discarded_bytes() const noexcept { return discarded_bytes_; }
  /// Forgets the ranges recorded so far (a test looks at what one step did).
  void forget_discarded() noexcept {
    discarded_.clear();
    discarded_bytes_ = 0;
  }
  /// Sizes of every chunk handed out, in order.
  [[nodiscard]] const std::vector<std::size_t>& acquired_sizes() const noexcept { return acquired_sizes_; }
  /// Chunks handed out so far.
  [[nodiscard]] std::size_t acquires() const noexcept { return acquired_sizes_.size(); }
  /// Chunks correctly given back so far.
  [[nodiscard]] std::size_t releases() const noexcept { return releases_; }
  /// release() calls for a chunk that was not out, or with the wrong size.
  [[nodiscard]] std::size_t bad_releases() const noexcept { return bad_releases_; }
  /// Bytes currently held by the arena.
  [[nodiscard]] std::size_t outstanding() const noexcept { return outstanding_; }
  /// Chunks currently held by the arena.
  [[nodiscard]] std::size_t live_chunks() const noexcept { return live_.size(); }

 private:
  /// \p chunk among the chunks out, exactly as handed out; live_.end() if not.
  [[nodiscard]] std::vector<std::span<std::byte>>::iterator find_live(std::span<std::byte> chunk) noexcept {
    return std::find_if(live_.begin(), live_.end(), [chunk](std::span<std::byte> c) {
      return c.data() == chunk.data() && c.size() == chunk.size();
    });
  }
  void free(std::span<std::byte> chunk) const noexcept { ::operator delete(chunk.data(), alignment_); }

  std::size_t budget_;
  std::size_t granularity_;
  std::align_val_t alignment_;
  std::size_t outstanding_ = 0;
  std::size_t releases_ = 0;
  std::size_t bad_releases_ = 0;
  std::vector<std::span<std::byte>> live_;
  std::vector<std::size_t> acquired_sizes_;
  std::vector<std::span<std::byte>> discarded_;
  std::size_t discarded_bytes_ = 0;
  bool resizable_ = false;
  std::size_t resizes_ = 0;
};

}  // namespace heaplab::testing
