/// \file
/// libFuzzer target for the coalescing allocators of chapters 4 and 5: the
/// seven of chapter 4 and chapter 5's segregated fits, quick fit and
/// two-level fits over a region of their own, the same three of chapter 5
/// growing from a chunk source, with large blocks in mappings of their own
/// (quick fit so was the drop-in malloc's configuration), and small pages
/// in front of two-level fits over a region. (Not with this file's
/// upstream: its mapping threshold, 8 KiB, maps every 64 KiB page, and the
/// empty page a class keeps is a mapping the harness finds left over.)
///
/// Coalescing, footer elision, deferred merging, the quick lists and the
/// upstream are where boundary tags can go wrong; the harness frees runs of
/// neighbours in both directions to reach every case of coalesce(), and
/// checks after the run that every region and mapping went back to the
/// source. See docs/fuzzing.md.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "stage1_static_bump/growing_arena.hpp"
#include "stage4_coalescing/address_ordered.hpp"
#include "stage4_coalescing/coalescing_allocator.hpp"
#include "stage4_coalescing/deferred_coalescing.hpp"
#include "stage4_coalescing/footer_elision.hpp"
#include "stage5_real_malloc/real_malloc.hpp"
#include "stage5_real_malloc/size_class_pages.hpp"
#include "tests/fuzz/fuzz_harness.hpp"
#include "tests/fuzz/fuzz_input.hpp"
#include "tests/support/aligned_region.hpp"

namespace {

using heaplab::fuzzing::kPageBytes;
using heaplab::testing::TestChunkSource;
using heaplab::fuzzing::Configuration;
using heaplab::fuzzing::FuzzInput;
using heaplab::fuzzing::fuzz_over_region;
using heaplab::fuzzing::HeapShape;

/// Requests of at least this many bytes get a mapping of their own in the
/// growing configurations (small, so that mappings are frequent).
constexpr std::size_t kMmapThreshold = std::size_t{8} * 1024;

/// \p Coalescing on a quarter of the shape's capacity, growing into the
/// rest from a source that lends it (the contract suite's
/// SegregatedWithUpstream, with a page-aligned source of its own). With an
/// odd start offset the source resizes a mapping by moving it (the path of
/// mremap); with an even one it cannot, and a mapped block grows by a copy.
template <class Coalescing>
void fuzz_with_upstream(std::string_view name, const HeapShape& shape, FuzzInput& input) {
  const std::size_t capacity = shape.capacity();
  const std::size_t region_bytes = capacity / 4;
  const std::size_t budget = capacity - region_bytes;
  const heaplab::testing::AlignedRegion memory(shape.offset + region_bytes, kPageBytes);
  TestChunkSource source(budget, kPageBytes, kPageBytes);
  if (shape.offset % 2 == 1) source.allow_resize();
  {
    const heaplab::GrowthPolicy growth{.first_chunk = capacity / 16, .max_chunk = capacity / 4, .limit = budget};
    const heaplab::Upstream upstream{.source = &source, .mmap_threshold = kMmapThreshold, .growth = growth};
    Coalescing heap(memory.bytes().subspan(shape.offset), upstream);
    heaplab::fuzzing::Harness<Coalescing>(heap, capacity, name).run(input);
  }
  heaplab::fuzzing::expect_all_returned(source, name);
}

/// The family, in the order the first input byte picks them.
constexpr std::array<Configuration, 14> kConfigurations{{
    {"CoalescingFirstFit", &fuzz_over_region<heaplab::CoalescingFirstFit>},
    {"CoalescingNextFit", &fuzz_over_region<heaplab::CoalescingNextFit>},
    {"CoalescingBestFit", &fuzz_over_region<heaplab::CoalescingBestFit>},
    {"CoalescingWorstFit", &fuzz_over_region<heaplab::CoalescingWorstFit>},
    {"AddressOrderedFirstFit", &fuzz_over_region<heaplab::AddressOrderedFirstFit>},
    {"DeferredFirstFit", &fuzz_over_region<heaplab::DeferredFirstFit>},
    {"ElidedFirstFit", &fuzz_over_region<heaplab::ElidedFirstFit>},
    {"SegregatedFitAllocator", &fuzz_over_region<heaplab::SegregatedFitAllocator>},
    {"QuickFitAllocator", &fuzz_over_region<heaplab::QuickFitAllocator>},
    {"SegregatedFitAllocator with upstream", &fuzz_with_upstream<heaplab::SegregatedFitAllocator>},
    {"QuickFitAllocator with upstream", &fuzz_with_upstream<heaplab::QuickFitAllocator>},
    {"TwoLevelFitAllocator", &fuzz_over_region<heaplab::TwoLevelFitAllocator>},
    {"TwoLevelFitAllocator with upstream", &fuzz_with_upstream<heaplab::TwoLevelFitAllocator>},
    {"SmallPagesAllocator", &fuzz_over_region<heaplab::SmallPagesAllocator>},
}};

}  // namespace

/// libFuzzer's entry point: one input, one fresh allocator.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return heaplab::fuzzing::run_input(kConfigurations, data, size);
}
