/// \file
/// The few rules every heaplab benchmark follows, written once so that no
/// comparison can quietly favour one side.
///
/// 1. Every pointer an allocator returns is observed (keep(), or
///    keep_pointer_only()). Without that the optimiser may delete a
///    `malloc` + `free` pair whose block is never used, or fold a whole loop
///    of bump allocations into one addition.
/// 2. Whatever a benchmark writes into its blocks is observed before the
///    blocks are released (observe_memory(), or keep(), which includes it),
///    so that no write into a block that is freed unread can be deleted.
/// 3. An allocator's state lives in memory the rest of the program can see
///    (escape()), as any real allocator's does. Between observations the
///    compiler keeps it wherever the allocator's own code lets it, as it
///    does in a real program. keep() adds a barrier ("any memory may have
///    been read or written here") that forces every contender to store and
///    reload its state: free for an allocator behind a call (chapters 2 to
///    4, glibc, `std::pmr`), which does that anyway, but a distortion for an
///    inlined one (chapter 1), whose judged rows therefore use
///    keep_pointer_only() and show the barrier's price in rows of their own.
/// 4. Tiny operations are timed in batches: many per timed iteration, then
///    one release (reset, release, free), so the release is spread thin.
///    count_items() makes the table report a rate per operation, which the
///    ratio table turns into time per operation.
/// 5. The single-allocation comparisons carve one shared buffer, so bump,
///    raw bump and `std::pmr` work on the same (cache-warm) bytes.
/// 6. Where two contenders differ by less than the machine's noise, they
///    are measured in turns inside one benchmark (Interleaved), not as two
///    benchmarks seconds apart.
#pragma once

#include <benchmark/benchmark.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "bench/ratio_reporter.hpp"

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

/// A lighter keep(): the compiler must compute \p p, and \p p escapes (the
/// compiler must assume the program keeps it), but no memory is read or
/// written here, so allocator state may stay in registers from one
/// allocation to the next, as it does in real code that inlines the
/// allocator. Blocks written before this must still be observed before
/// they are released (observe_memory()).
[[gnu::always_inline]] inline void keep_pointer_only(const void* const p) noexcept {
  __asm__ __volatile__("" : : "r"(p));
}

/// Tells the compiler that any memory may be read here, so that every write
/// into a block made so far really happens (rule 2). Called once before a
/// batch of blocks is released; it emits no instruction of its own.
[[gnu::always_inline]] inline void observe_memory() noexcept { benchmark::ClobberMemory(); }

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

/// Several contenders measured in turns inside one benchmark (rule 6).
///
/// Separate benchmarks run seconds apart, and on a shared machine a burst
/// of noise that lasts a second lands on one of them only: two contenders
/// a tenth apart then came out anywhere from 0.75x to 1.6x (chapter 1,
/// "Measurements"). Taking turns a few microseconds long, in an order that
/// rotates every iteration, puts the same noise on every side. Each turn
/// is timed with `steady_clock`; the turns are long enough that the
/// clock's own cost is small, and it is the same for every side.
///
/// Each side's time per item is reported as the counter `ns/<side>`,
/// which the ratio table knows as `<benchmark>:<side>` (ratio_reporter.hpp).
/// The benchmark's own time, in Google Benchmark's table, covers every
/// side's turns together and means nothing alone.
template <std::size_t Sides>
class Interleaved {
 public:
  /// Sides named \p names, each doing \p items_per_turn operations per turn.
  Interleaved(std::array<const char*, Sides> names, std::int64_t items_per_turn) noexcept
      : names_(names), items_per_turn_(items_per_turn) {}

  /// Gives every side one turn: side `i` runs `work[i]`, timed. The first
  /// side moves up by one at every call, so no side always runs first
  /// (after another side's work has warmed or cooled the caches).
  template <class... Work>
    requires(sizeof...(Work) == Sides)
  void take_turns(Work&&... work) {
    for (std::size_t k = 0; k < Sides; ++k) {
      const std::size_t side = (first_ + k) % Sides;
      // Runs the one piece of work whose position in the pack is `side`.
      std::size_t index = 0;
      ((index++ == side ? time_turn(side, work) : void()), ...);
    }
    first_ = (first_ + 1) % Sides;
    ++turns_;
  }

  /// Reports every side's nanoseconds per item as a counter of \p state.
  void report(benchmark::State& state) const {
    const double items = static_cast<double>(turns_) * static_cast<double>(items_per_turn_);
    if (items == 0.0) return;
    for (std::size_t side = 0; side < Sides; ++side) {
      const double ns = std::chrono::duration<double, std::nano>(spent_[side]).count();
      state.counters[std::string(kSideCounterPrefix) + names_[side]] = benchmark::Counter(ns / items);
    }
  }

 private:
  /// Runs \p work and adds the time it took to side \p side.
  template <class Work>
  [[gnu::always_inline]] void time_turn(std::size_t side, Work& work) {
    const auto start = std::chrono::steady_clock::now();
    work();
    spent_[side] += std::chrono::steady_clock::now() - start;
  }

  std::array<const char*, Sides> names_;                   ///< Counter names, without the prefix.
  std::int64_t items_per_turn_;                            ///< Operations in one turn of one side.
  std::array<std::chrono::steady_clock::duration, Sides> spent_{};  ///< Time in each side's turns.
  std::size_t first_ = 0;                                  ///< The side that runs first next time.
  std::int64_t turns_ = 0;                                 ///< Turns each side has taken.
};

/// Reports \p per_iteration operations for every timed iteration, so the
/// table shows operations per second and the ratio table can divide
/// per-operation times.
inline void count_items(benchmark::State& state, std::int64_t per_iteration) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * per_iteration);
}

}  // namespace heaplab::bench
