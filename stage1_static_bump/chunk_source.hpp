/// \file
/// Where a growing arena gets more memory: an upstream "chunk source".
///
/// A bump allocator over one region stops when the region is full. A growing
/// arena asks an upstream source for another chunk instead. The course's
/// default source maps fresh pages from the kernel with `mmap`; tests plug in
/// sources with a budget so that exhaustion is reached in a few steps.
///
/// A third verb, discard(), is for a heap that keeps a chunk but no longer
/// needs what some of its pages hold (a large free block inside it): the
/// kernel may take those pages back while the chunk stays mapped. A source
/// that cannot do that ignores it.
#pragma once

#include <cstddef>
#include <span>

namespace heaplab {

/// An upstream that hands out large chunks of memory and takes them back.
class ChunkSource {
 public:
  virtual ~ChunkSource() = default;
  /// A chunk of at least \p bytes, aligned to `alignof(std::max_align_t)`,
  /// or an empty span if the source cannot serve.
  [[nodiscard]] virtual std::span<std::byte> acquire(std::size_t bytes) noexcept = 0;
  /// Gives back a chunk exactly as acquire() returned it.
  virtual void release(std::span<std::byte> chunk) noexcept = 0;
  /// Says that the whole pages \p pages (page-aligned, inside a chunk this
  /// source handed out, or inside any mapping of its kind) hold nothing
  /// their owner needs any more: the source may give their memory back,
  /// after which they read as zeros, or as they were. By default it keeps
  /// them: nothing happens.
  virtual void discard(std::span<std::byte> pages) noexcept { static_cast<void>(pages); }
  /// \p chunk (as acquire() or resize() returned it) grown or shrunk to at
  /// least \p bytes, its contents kept up to the smaller size: in place or
  /// moved, after which \p chunk is no longer valid. Empty when the source
  /// cannot, \p chunk then untouched. By default it cannot: the caller takes
  /// a new chunk and copies.
  [[nodiscard]] virtual std::span<std::byte> resize(std::span<std::byte> chunk, std::size_t bytes) noexcept {
    static_cast<void>(chunk);
    static_cast<void>(bytes);
    return {};
  }
};

/// Chunks straight from the kernel: anonymous, private `mmap` mappings,
/// rounded up to whole pages.
///
/// The kernel only reserves address space here; a page is committed (given
/// a physical frame) the first time it is touched. That is why sheredom's
/// Rust `bump_alloc` crate can reserve 1 GiB and use only what the program touches.
class MmapChunkSource final : public ChunkSource {
 public:
  /// A page-aligned mapping of at least \p bytes, or empty if `mmap` fails.
  [[nodiscard]] std::span<std::byte> acquire(std::size_t bytes) noexcept override;
  /// `munmap`s the chunk.
  void release(std::span<std::byte> chunk) noexcept override;
  /// `madvise(MADV_DONTNEED)`s the pages: the kernel frees their frames at
  /// once, and a later touch maps a fresh zeroed page (glibc's free does the
  /// same inside its heaps, jemalloc and mimalloc when they purge).
  void discard(std::span<std::byte> pages) noexcept override;
  /// `mremap(MREMAP_MAYMOVE)`s the chunk to whole pages of at least
  /// \p bytes: the kernel moves the page tables, not the bytes, so a
  /// growth costs no copy however large the chunk (glibc's realloc of a
  /// mapped chunk does the same).
  [[nodiscard]] std::span<std::byte> resize(std::span<std::byte> chunk, std::size_t bytes) noexcept override;
};

/// The size of a page of memory, as the kernel maps it (4096 on x86-64).
[[nodiscard]] std::size_t system_page_size() noexcept;

/// The process-wide mmap source every growing arena uses by default.
[[nodiscard]] ChunkSource& default_chunk_source() noexcept;

}  // namespace heaplab
