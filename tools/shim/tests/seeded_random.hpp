/// \file
/// The seeded generator of the shim's threaded test programs (stress.cpp,
/// malloc_mix.cpp): each thread draws its sizes and choices from its own
/// seed, so what the program prints depends on the seeds alone, never on
/// the timing or the malloc, and a run can be compared with glibc's.
#pragma once

#include <cstddef>
#include <cstdint>

namespace heaplab::shim::test {

/// A small, fast, seeded generator (splitmix64): the same seed gives the
/// same sequence on every run.
class Random {
 public:
  /// A generator whose sequence is that of \p seed.
  explicit Random(std::uint64_t seed) noexcept : state_(seed) {}

  /// The next 64 random bits.
  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// A number in [0, bound).
  std::size_t below(std::size_t bound) noexcept { return static_cast<std::size_t>(next() % bound); }

 private:
  std::uint64_t state_;  ///< Advanced by a fixed odd step on every draw.
};

}  // namespace heaplab::shim::test
