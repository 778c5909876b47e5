#include "stage1_static_bump/chunk_source.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/contract.hpp"

namespace heaplab {

std::size_t system_page_size() noexcept {
  static const auto size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

std::span<std::byte> MmapChunkSource::acquire(std::size_t bytes) noexcept {
  if (bytes == 0 || bytes > kMaxRequest) return {};
  const std::size_t length = round_up(bytes, system_page_size());
  // MAP_NORESERVE: reserve address space only; pages are committed on first touch.
  void* mapping = ::mmap(nullptr, length, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mapping == MAP_FAILED) return {};
  return {static_cast<std::byte*>(mapping), length};
}

void MmapChunkSource::release(std::span<std::byte> chunk) noexcept {
  if (!chunk.empty()) ::munmap(chunk.data(), chunk.size());
}

void MmapChunkSource::discard(std::span<std::byte> pages) noexcept {
  if (!pages.empty()) ::madvise(pages.data(), pages.size(), MADV_DONTNEED);
}

std::span<std::byte> MmapChunkSource::resize(std::span<std::byte> chunk, std::size_t bytes) noexcept {
  if (chunk.empty() || bytes == 0 || bytes > kMaxRequest) return {};
  const std::size_t length = round_up(bytes, system_page_size());
  void* const moved = ::mremap(chunk.data(), chunk.size(), length, MREMAP_MAYMOVE);
  if (moved == MAP_FAILED) return {};
  return {static_cast<std::byte*>(moved), length};
}

ChunkSource& default_chunk_source() noexcept {
  static MmapChunkSource source;
  return source;
}

}  // namespace heaplab
