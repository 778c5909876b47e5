/// \file
/// libFuzzer target for chapter 3's placement policies: first, next, best
/// and worst fit, with splitting.
///
/// Splitting is where a size computation can go wrong by a header or a
/// cell: the harness's pattern checks catch a split that cuts into a live
/// block, and check() one that leaves a block too small to be one. See
/// docs/fuzzing.md.
#include <array>
#include <cstddef>
#include <cstdint>

#include "stage3_fit_strategies/fit_allocators.hpp"
#include "tests/fuzz/fuzz_harness.hpp"

namespace {

using heaplab::fuzzing::Configuration;
using heaplab::fuzzing::fuzz_over_region;

/// The family, in the order the first input byte picks them.
constexpr std::array<Configuration, 4> kConfigurations{{
    {"FirstFitAllocator", &fuzz_over_region<heaplab::FirstFitAllocator>},
    {"NextFitAllocator", &fuzz_over_region<heaplab::NextFitAllocator>},
    {"BestFitAllocator", &fuzz_over_region<heaplab::BestFitAllocator>},
    {"WorstFitAllocator", &fuzz_over_region<heaplab::WorstFitAllocator>},
}};

}  // namespace

/// libFuzzer's entry point: one input, one fresh allocator.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return heaplab::fuzzing::run_input(kConfigurations, data, size);
}
