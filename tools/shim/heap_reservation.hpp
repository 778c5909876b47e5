/// \file
/// Where a malloc shim's heap comes from: one `mmap` reservation, committed
/// lazily, whose size the environment may choose.
///
///     HEAPLAB_HEAP_SIZE=256M   ->   mmap(256 MiB, PROT_READ|PROT_WRITE,
///                                        MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE)
///
///     +-----------------------------------------------------------------+
///     | touched pages: committed |    reserved address space only ...   |
///     +-----------------------------------------------------------------+
///
/// The kernel hands out address space, not memory: a page gets a physical
/// frame the first time it is touched, so a program that uses 3 MiB of a
/// 1 GiB reservation costs 3 MiB (sheredom's Rust `bump_alloc` works the same
/// way). MAP_NORESERVE also keeps the reservation from counting against
/// the commit limit when the kernel's overcommit policy is strict.
///
/// The reservation is a chapter-5 shim's first region: past it the heap
/// grows new regions from `mmap` (growing_without_cap()), unless
/// HEAPLAB_HEAP_SIZE is set, which makes it a cap (large_blocks_only()).
/// The other shims' heap is the reservation alone.
///
/// Everything here runs inside the first malloc() call of a process, so it
/// allocates nothing: getenv(), our own number parser, mmap(), and
/// diagnostics written with write(2).
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include "stage1_static_bump/chunk_source.hpp"
#include "stage5_real_malloc/real_malloc.hpp"

namespace heaplab::shim {

/// The heap's size when HEAPLAB_HEAP_SIZE is not set: 1 GiB, as the
/// `bump_alloc` crate's global allocator reserves.
inline constexpr std::size_t kDefaultHeapSize = std::size_t{1} << 30;

/// Requests of this many bytes or more get a mapping of their own (glibc's
/// default M_MMAP_THRESHOLD), for the allocators that can do that.
inline constexpr std::size_t kLargeBlockThreshold = std::size_t{128} * 1024;

/// Reads a byte count as HEAPLAB_HEAP_SIZE spells it: decimal digits,
/// optionally followed by one suffix K, M or G (KiB, MiB, GiB; lower case
/// too), nothing else (no sign, no spaces). Returns nothing for any other
/// text, for 0, and for a value above kMaxRequest.
[[nodiscard]] std::optional<std::size_t> parse_byte_size(std::string_view text) noexcept;

/// The heap size the environment asks for: HEAPLAB_HEAP_SIZE parsed by
/// parse_byte_size(), or kDefaultHeapSize when the variable is unset or
/// empty. An invalid value gets a one-line warning on standard error and
/// the default.
[[nodiscard]] std::size_t heap_size_from_environment() noexcept;

/// Reserves \p bytes of address space (rounded up to whole pages) for a
/// heap: readable, writable, committed page by page as it is touched.
/// If the kernel refuses, writes a one-line warning and tries again with
/// kDefaultHeapSize (when smaller); returns an empty span if that fails
/// too, and the heap then serves only what it maps on its own.
[[nodiscard]] std::span<std::byte> reserve_heap(std::size_t bytes) noexcept;

/// What a chapter-5 allocator gets upstream in a shim when HEAPLAB_HEAP_SIZE
/// sets a cap: a mapping of its own, from \p source, for every request of
/// kLargeBlockThreshold bytes or more, unmapped again by free(), as glibc
/// does; and no other growth. The reservation of \p heap_bytes is the whole
/// heap: HEAPLAB_HEAP_SIZE means what it says.
///
/// How "no other growth" is said: a new region would be `SIZE_MAX` bytes
/// (GrowthPolicy::first_chunk), more than the limit can ever allow, so
/// none is ever taken. The limit itself caps the large blocks' mappings,
/// together, at \p heap_bytes: a program never holds more than twice
/// HEAPLAB_HEAP_SIZE from the allocator.
[[nodiscard]] Upstream large_blocks_only(ChunkSource& source, std::size_t heap_bytes) noexcept;

/// True when HEAPLAB_HEAP_SIZE is set to a non-empty value (valid or not):
/// the heap's size is then a cap, for the shims that could grow past it.
[[nodiscard]] bool heap_size_capped() noexcept;

/// What a chapter-5 allocator gets upstream in a shim when
/// HEAPLAB_HEAP_SIZE is not set: as large_blocks_only(), a mapping of its
/// own from \p source for every request of kLargeBlockThreshold bytes or
/// more; and, once the reservation is full, new regions from \p source,
/// doubling from 10 MiB up to 256 MiB (Upstream's own growth), for as long
/// as the system gives memory. Regions emptied and large free blocks give
/// memory back (growing_heap.hpp), so that an idle program holds about what
/// it uses.
[[nodiscard]] Upstream growing_without_cap(ChunkSource& source) noexcept;

/// True when the environment asks for the report at exit: HEAPLAB_REPORT
/// is set to a non-empty value other than "0".
[[nodiscard]] bool report_requested() noexcept;

}  // namespace heaplab::shim
