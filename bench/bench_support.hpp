/// \file
/// The few rules every heaplab benchmark follows, written once so that no
/// comparison can quietly favour one side.
///
/// 1. Every pointer an allocator returns goes through keep(). Without it the
///    optimiser may delete a `malloc` + `free` pair whose block is never used,
///    or fold a whole loop of bump allocations into one addition.
/// 2. An allocator's state lives in memory the rest of the program can see
///    (escape()), as any real allocator's does. keep() also tells the
///    compiler "any memory may have been read or written here", so every
///    contender stores and reloads its state around each allocation, and
///    a bump allocator's cost is one store-to-load round trip of its bump
///    pointer. The tight-loop benchmarks use keep_pointer_only() instead,
///    to show what the allocators cost when that state may stay in
///    registers (and what stops it from staying there).
/// 3. Tiny operations are timed in batches: many per timed iteration, then
///    one release (reset, release, free), so the release is spread thin.
///    count_items() makes the table report a rate per operation, which the
///    ratio table turns into time per operation.
/// 4. The single-allocation comparisons carve one shared buffer, so bump,
///    raw bump and `std::pmr` work on the same (cache-warm) bytes.
#pragma once

#include <benchmark/benchmark.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace heaplab::bench {

/// Makes \p p observable: the compiler must compute it, and must assume the
/// memory it points to (and any other memory) is read here. It emits no
/// instruction of its own.
[[gnu::always_inline]] inline void keep(const void* const p) noexcept {
  // The argument is const, so this picks DoNotOptimize's `const&` overload,
  // which lets the pointer stay in a register (the non-const overload makes
  // GCC store it to the stack first: an extra store on every side).
  benchmark::DoNotOptimize(p);
}

/// A lighter keep() for benchmarks with no payload: the compiler must
/// still compute \p p, but may assume no memory was touched. Allocator
/// state can then stay in registers across a whole loop of allocations,
/// as it does in real code whose loop the compiler sees entirely. (Never
/// use it where blocks are written: stores into a block that is freed
/// unread may legally be deleted.)
[[gnu::always_inline]] inline void keep_pointer_only(const void* const p) noexcept {
  __asm__ __volatile__("" : : "r"(p));
}

/// Publishes the address of \p object, so the compiler must treat it like
/// an allocator reachable from anywhere: its fields are stored to memory
/// before every keep() and reloaded after it.
template <class T>
[[gnu::always_inline]] inline void escape(T* const object) noexcept {
  benchmark::DoNotOptimize(object);
}

/// Size of shared_buffer(): room for every batch (the largest takes 16 KiB),
/// and small enough to stay in the level-1 data cache of common cores, as
/// the few blocks glibc recycles do.
inline constexpr std::size_t kSharedBufferSize = std::size_t{32} * 1024;

/// The buffer the bump-style benchmarks share, aligned to a cache line.
/// Benchmarks run one at a time, so they can all carve it.
[[nodiscard]] inline std::span<std::byte> shared_buffer() noexcept {
  alignas(64) static std::array<std::byte, kSharedBufferSize> buffer{};
  return buffer;
}

/// Reports \p per_iteration operations for every timed iteration, so the
/// table shows operations per second and the ratio table can divide
/// per-operation times.
inline void count_items(benchmark::State& state, std::int64_t per_iteration) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * per_iteration);
}

}  // namespace heaplab::bench
