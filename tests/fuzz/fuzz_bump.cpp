/// \file
/// libFuzzer target for chapter 1's bump heaps: BumpAllocator,
/// AtomicBumpAllocator, GrowingArena and Synchronized<BumpAllocator>.
///
/// A bump heap gives nothing back one block at a time: its deallocate()
/// is a no-op that can only tell a pointer outside the used heap (reported
/// as foreign). So the harness checks here that deallocate() changes
/// nothing, that rewind() and reset() release exactly what they should,
/// that a marker from another allocator, from before a reset, or erased
/// past the current position is reported, and that every request (sizes
/// and alignments at every edge) is served correctly or refused cleanly.
/// See docs/fuzzing.md.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "stage1_static_bump/atomic_bump_allocator.hpp"
#include "stage1_static_bump/bump_allocator.hpp"
#include "stage1_static_bump/growing_arena.hpp"
#include "stage1_static_bump/synchronized.hpp"
#include "tests/fuzz/fuzz_harness.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

using heaplab::fuzzing::kPageBytes;
using heaplab::testing::TestChunkSource;
using heaplab::fuzzing::Configuration;
using heaplab::fuzzing::FuzzInput;
using heaplab::fuzzing::fuzz_over_region;
using heaplab::fuzzing::HeapShape;

/// A GrowingArena whose source lends the shape's capacity, in chunks that
/// double from a sixteenth of it to a quarter (the contract suite's
/// ArenaOverBudget): growth, the oversized chunk of its own and the limit
/// all come within a few requests.
void fuzz_growing_arena(std::string_view name, const HeapShape& shape, FuzzInput& input) {
  const std::size_t budget = shape.capacity();
  TestChunkSource source(budget, kPageBytes, kPageBytes);
  {
    heaplab::GrowingArena arena(
        source, heaplab::GrowthPolicy{.first_chunk = budget / 16, .max_chunk = budget / 4, .limit = budget});
    heaplab::fuzzing::Harness<heaplab::GrowingArena>(arena, budget, name).run(input);
  }
  heaplab::fuzzing::expect_all_returned(source, name);
}

/// The family, in the order the first input byte picks them.
constexpr std::array<Configuration, 4> kConfigurations{{
    {"BumpAllocator", &fuzz_over_region<heaplab::BumpAllocator>},
    {"AtomicBumpAllocator", &fuzz_over_region<heaplab::AtomicBumpAllocator>},
    {"GrowingArena", &fuzz_growing_arena},
    {"Synchronized<BumpAllocator>", &fuzz_over_region<heaplab::Synchronized<heaplab::BumpAllocator>>},
}};

}  // namespace

/// libFuzzer's entry point: one input, one fresh allocator.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return heaplab::fuzzing::run_input(kConfigurations, data, size);
}
