/// \file
/// The space measures of the course (docs: "Measures"), computed for any
/// allocator from its stats() and its block walk, so that the demos, the
/// strategy lab and the tests compare every stage with the same numbers.
///
///     heap:  [A 32 ][F 200 ][A 48 ][F 64 ][A 24 ]
///             <--->          <--->         <--->   allocated blocks: 104 bytes
///                                                  requested:         72 bytes
///     internal fragmentation = 104 - 72 = 32 bytes (headers, rounding, kept tails)
///     external fragmentation = 1 - largest free / free = 1 - 200 / 264 = 24%
#pragma once

#include <algorithm>
#include <cstddef>

#include "stage1_static_bump/contract.hpp"

namespace heaplab {

/// The space measures of one heap at one moment (plus its search cost).
struct Measures {
  double utilization = 0.0;                ///< Peak live requested bytes / heap high-water mark.
  std::size_t allocated_bytes = 0;         ///< Bytes of allocated blocks, headers included.
  std::size_t internal_fragmentation = 0;  ///< allocated_bytes - live requested bytes.
  std::size_t free_bytes = 0;              ///< Bytes of free blocks.
  std::size_t largest_free_block = 0;      ///< The largest free block, in bytes.
  double external_fragmentation = 0.0;     ///< 1 - largest free block / free bytes (0 with no free bytes).
  double visited_per_allocation = 0.0;     ///< Blocks a search looked at, on average (0 if it keeps no count).
};

/// Measures \p allocator now. Internal fragmentation counts everything an
/// allocated block holds beyond the request (header, rounding, a tail too
/// small to split off); external fragmentation says how much of the free
/// memory is out of reach of the largest request it could serve.
template <Allocator A>
[[nodiscard]] Measures measure(const A& allocator) {
  const auto stats = allocator.stats();
  Measures m;
  m.utilization = utilization(stats);
  allocator.for_each_block([&](const BlockView& block) {
    if (block.state == BlockState::allocated) {
      m.allocated_bytes += block.size;
    } else {
      m.free_bytes += block.size;
      m.largest_free_block = std::max(m.largest_free_block, block.size);
    }
  });
  m.internal_fragmentation = m.allocated_bytes - stats.requested;
  if (m.free_bytes != 0) {
    m.external_fragmentation =
        1.0 - static_cast<double>(m.largest_free_block) / static_cast<double>(m.free_bytes);
  }
  if constexpr (requires { stats.visited_per_search(); }) {
    m.visited_per_allocation = stats.visited_per_search();
  }
  return m;
}

}  // namespace heaplab
