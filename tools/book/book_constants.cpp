// book_constants: prints the course's constants, one "name value" per line,
// for tools/book/check_prose_numbers.py: a page that states a constant in a
// sentence ("a 16-byte header") names it, and the checker compares.
#include <cstddef>
#include <cstdio>

#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/growing_arena.hpp"
#include "stage1_static_bump/static_heap.hpp"
#include "stage2_free_list/block.hpp"
#include "stage2_free_list/block_start_map.hpp"
#include "stage2_free_list/explicit_free_list.hpp"
#include "stage4_coalescing/boundary_tags.hpp"
#include "stage4_coalescing/linked_free_list.hpp"
#include "stage4_coalescing/tagged_heap.hpp"
#include "stage5_real_malloc/quick_lists.hpp"
#include "stage5_real_malloc/real_malloc.hpp"
#include "tools/shim/heap_reservation.hpp"

namespace {

/// One constant of the book: its name in the pages and its value.
struct Constant {
  const char* name;   ///< As a page names it in `<!-- constants: ... -->`.
  std::size_t value;  ///< Bytes for a size, else a count.
};

/// Every constant a page may state; the names are the code's own.
constexpr Constant kConstants[] = {
    {"kStaticHeapSize", heaplab::kStaticHeapSize},
    {"kDefaultAlignment", heaplab::kDefaultAlignment},
    {"kMallocAlignment", heaplab::kMallocAlignment},
    {"kHeaderSize", heaplab::kHeaderSize},
    {"kMinBlockSize", heaplab::kMinBlockSize},
    {"kFooterSize", heaplab::kFooterSize},
    {"kMinTaggedBlockSize", heaplab::kMinTaggedBlockSize},
    {"ExplicitFreeList::kLinkBytes", heaplab::ExplicitFreeList::kLinkBytes},
    {"LinkedFreeList::kLinkBytes", heaplab::LinkedFreeList::kLinkBytes},
    {"QuickLists::kLimit", heaplab::QuickLists::kLimit},
    {"QuickLists::kCap", heaplab::QuickLists::kCap},
    {"kDefaultHeapSize", heaplab::shim::kDefaultHeapSize},
    {"kLargeBlockThreshold", heaplab::shim::kLargeBlockThreshold},
    {"GrowthPolicy::first_chunk", heaplab::GrowthPolicy{}.first_chunk},
    {"GrowthPolicy::max_chunk", heaplab::GrowthPolicy{}.max_chunk},
    {"GrowthPolicy::limit", heaplab::GrowthPolicy{}.limit},
    // The start map of the static heap: what chapter 2's allocators keep
    // out of the 10 MiB for it.
    {"BlockStartMap::bytes_for(kStaticHeapSize)", heaplab::BlockStartMap::bytes_for(heaplab::kStaticHeapSize)},
    {"TaggedHeap::kPrologueSize", heaplab::TaggedHeap<heaplab::FooterTags>::kPrologueSize},
    // The block size of the last quick list: the largest block parked.
    {"QuickLists::size_of_list(kLists-1)", heaplab::QuickLists::size_of_list(heaplab::QuickLists::kLists - 1)},
    {"LargeBlocks::front_bytes()", heaplab::SegregatedFitAllocator::front_bytes()},
};

}  // namespace

int main() {
  for (const Constant& constant : kConstants) std::printf("%s %zu\n", constant.name, constant.value);
  return 0;
}
