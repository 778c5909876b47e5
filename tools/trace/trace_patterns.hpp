/// \file
/// The workload patterns of the trace generator (`trace_gen`): one
/// documented distribution per pattern, deterministic by seed on every
/// platform.
///
/// Why not `std::uniform_int_distribution`? The standard fixes the output of
/// `std::mt19937_64` bit for bit, but leaves the algorithms of its
/// distributions (and of `std::shuffle`) to each library, so the same seed
/// gives different traces with libstdc++ and libc++. TraceRandom draws every
/// number from the raw engine output with integer arithmetic written out
/// here, so a seed names one trace everywhere.
///
/// Every pattern gives each allocation a fresh id (ids count up from 0),
/// frees every block it allocated before it ends, and makes at most the
/// number of operations it is asked for. The header's suggested heap size is
/// the trace's peak of live requested bytes (peak_live_bytes()) and its
/// weight is 1. traces/README.md describes the shipped traces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string_view>
#include <vector>

#include "tools/trace/trace.hpp"

namespace heaplab {

/// Random numbers that are the same on every platform for the same seed.
class TraceRandom {
 public:
  /// A source seeded with \p seed.
  explicit TraceRandom(std::uint64_t seed) : engine_(seed) {}

  /// A whole number in `[lo, hi]`, every value equally likely.
  [[nodiscard]] std::size_t uniform(std::size_t lo, std::size_t hi);

  /// A whole number in `[lo, hi]` (`1 <= lo <= hi`) spread evenly over
  /// magnitudes: each power-of-two band `[2^k, 2^(k+1))` that meets the
  /// range is equally likely, and values are uniform inside a band. Sizes
  /// 16 to 31 come up as often as sizes 1024 to 2047, as in real programs,
  /// where small requests are far more common than large ones.
  [[nodiscard]] std::size_t log_uniform(std::size_t lo, std::size_t hi);

  /// True with probability \p percent / 100.
  [[nodiscard]] bool chance(std::size_t percent) { return uniform(0, 99) < percent; }

  /// Puts \p items in a random order, every order equally likely
  /// (Fisher-Yates).
  void shuffle(std::vector<std::size_t>& items);

 private:
  std::mt19937_64 engine_;  ///< Its output is fixed by the standard; the only source of randomness.
};

/// The workloads trace_gen can make.
enum class TracePattern {
  small_short_lived,   ///< Many small blocks, each freed a few operations later.
  buildup_teardown,    ///< Rounds of allocating many blocks, then freeing them all in random order.
  binary_small_large,  ///< Small and large blocks alternate; the large ones are freed, the small ones kept.
  random_sizes,        ///< Allocate or free at random, sizes spread over magnitudes.
  growing_realloc,     ///< A few buffers reallocated ever larger, with small blocks landing between them.
  coalesce_friendly,   ///< Runs of neighbours freed in address order, then requests only their merged space serves.
  tiny,                ///< A handful of operations, for the examples in the chapters.
};

/// A pattern's name on the command line, its default number of operations
/// and a one-line summary of its distribution.
struct PatternInfo {
  TracePattern pattern;      ///< The pattern.
  std::string_view name;     ///< Its name for trace_gen, e.g. "small-short-lived".
  std::size_t default_ops;   ///< Operations it makes when not told otherwise.
  std::string_view summary;  ///< What it models, for `trace_gen --list`.
};

/// Every pattern, in the order of TracePattern.
[[nodiscard]] std::span<const PatternInfo> trace_patterns() noexcept;

/// The pattern called \p name, if there is one.
[[nodiscard]] std::optional<TracePattern> find_pattern(std::string_view name) noexcept;

/// The largest number of operations generate_trace() accepts: one million.
/// Every allocation takes a fresh id, so this keeps the ids of any pattern
/// under kMaxTraceIds.
inline constexpr std::size_t kMaxGeneratedOps = 1'000'000;

/// Makes a trace of \p pattern from \p seed with at most \p max_ops
/// (at most kMaxGeneratedOps) operations. The same arguments give the same
/// trace on every platform.
[[nodiscard]] Trace generate_trace(TracePattern pattern, std::uint64_t seed, std::size_t max_ops);

}  // namespace heaplab
