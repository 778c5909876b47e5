/// \file
/// The chapter's own check of a learner's piece: an allocator registered
/// with `heaplab_add_allocator(... SAME_AS <type>)` must serve every request
/// of a script exactly as the course's allocator \p Reference does, block
/// for block, with check() after every step (check_served_alike()). The
/// contract suite and the model test accept any correct allocator; this
/// one accepts only the chapter's decisions: a "best fit" that takes the
/// first block that fits, a split that keeps a tail too small to list, a
/// free that merges one neighbour of two, or size classes one cell off
/// serve correctly and still fail here, at the first step they differ.
#pragma once

#include <doctest/doctest.h>

#include <cstddef>

#include "tests/suites/region_fixture.hpp"
#include "tests/support/served_alike.hpp"

namespace heaplab::testing {

/// Steps of the script the reference suite runs.
inline constexpr std::size_t kReferenceSteps = 600;

/// Runs the reference suite's script on a fresh \p Fixture (the learner's
/// allocator over its region) and on the course's \p Reference over an
/// equal region.
template <class Fixture, class Reference>
void check_served_as_reference() {
  Fixture yours;
  RegionFixture<Reference, Fixture::capacity> course;
  check_served_alike(course.heap, course.memory.bytes(), yours.heap, yours.memory.bytes(), kReferenceSteps);
}

}  // namespace heaplab::testing
