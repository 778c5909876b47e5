/// \file
/// libFuzzer target for chapter 2's free lists: the explicit (LIFO) and
/// implicit lists, and the explicit one behind Synchronized.
///
/// From this chapter on, blocks come back one at a time, so the harness
/// frees, reallocates and double-frees them, and every misuse (foreign,
/// interior, stale pointer; to deallocate, reallocate and usable_size) must
/// be reported and change nothing. See docs/fuzzing.md.
#include <array>
#include <cstddef>
#include <cstdint>

#include "stage1_static_bump/synchronized.hpp"
#include "stage2_free_list/free_list_allocator.hpp"
#include "tests/fuzz/fuzz_harness.hpp"

namespace {

using heaplab::fuzzing::Configuration;
using heaplab::fuzzing::fuzz_over_region;
using SynchronizedExplicitList = heaplab::Synchronized<heaplab::ExplicitListAllocator>;

/// The family, in the order the first input byte picks them.
constexpr std::array<Configuration, 3> kConfigurations{{
    {"ExplicitListAllocator", &fuzz_over_region<heaplab::ExplicitListAllocator>},
    {"ImplicitListAllocator", &fuzz_over_region<heaplab::ImplicitListAllocator>},
    {"Synchronized<ExplicitListAllocator>", &fuzz_over_region<SynchronizedExplicitList>},
}};

}  // namespace

/// libFuzzer's entry point: one input, one fresh allocator.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return heaplab::fuzzing::run_input(kConfigurations, data, size);
}
