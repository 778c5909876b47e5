/// \file
/// The fixture heaplab_add_allocator() gives any allocator: a fresh \p A
/// over a page-aligned region of \p Capacity bytes, so that, as with the
/// course's own fixtures (tests/allocator_fixtures.hpp), a seed of the
/// model test replays the same run in every process. An allocator that
/// cannot be constructed from a span is default-constructed instead (it
/// brings its own memory) and the region is left unused.
#pragma once

#include <concepts>
#include <cstddef>
#include <span>
#include <tuple>

#include "stage1_static_bump/contract.hpp"
#include "tests/support/aligned_region.hpp"

namespace heaplab::testing {

/// Alignment of a RegionFixture's region: a page.
inline constexpr std::size_t kRegionFixtureAlignment = 4096;

/// A fresh \p A over \p Capacity bytes (see the file comment).
template <class A, std::size_t Capacity>
struct RegionFixture {
  using allocator_type = A;
  static constexpr std::size_t capacity = Capacity;
  allocator_type& allocator() noexcept { return heap; }

  AlignedRegion memory{capacity, kRegionFixtureAlignment};
  A heap = make();

 private:
  A make() {
    if constexpr (std::constructible_from<A, std::span<std::byte>>) {
      return A(memory.bytes());
    } else {
      return A();
    }
  }
};

/// std::tuple<F> when fixture \p F's allocator models heaplab::Reallocating,
/// else std::tuple<>: the fixtures the reallocation cases run over.
template <class F>
using IfReallocating =
    std::conditional_t<Reallocating<typename F::allocator_type>, std::tuple<F>, std::tuple<>>;

/// The fixtures of \p Fs whose allocator models heaplab::Reallocating, as a std::tuple.
template <class... Fs>
using ReallocatingOf = decltype(std::tuple_cat(std::declval<IfReallocating<Fs>>()...));

}  // namespace heaplab::testing
