#include "tools/lab/lab_allocators.hpp"

#include <new>

#include "stage1_static_bump/atomic_bump_allocator.hpp"
#include "stage1_static_bump/bump_allocator.hpp"
#include "stage1_static_bump/chunk_source.hpp"
#include "stage1_static_bump/growing_arena.hpp"
#include "stage2_free_list/free_list_allocator.hpp"
#include "stage3_fit_strategies/fit_allocators.hpp"
#include "stage4_coalescing/address_ordered.hpp"
#include "stage4_coalescing/coalescing_allocator.hpp"
#include "stage4_coalescing/deferred_coalescing.hpp"
#include "stage4_coalescing/footer_elision.hpp"
#include "stage5_real_malloc/real_malloc.hpp"
#include "stage5_real_malloc/size_class_pages.hpp"
#include "stage5_real_malloc/thread_caches.hpp"
#include "tools/lab/lab_entry.hpp"

namespace heaplab {
namespace {

// [lab_allocators]
constexpr LabAllocator kAllocators[] = {
    lab_entry<BumpAllocator>("bump", "stage 1", "BumpAllocator",
                             "bump pointer over one region; free is a no-op"),
    lab_entry<AtomicBumpAllocator>("atomic-bump", "stage 1", "AtomicBumpAllocator",
                                   "lock-free bump pointer (compare-and-swap); free is a no-op"),
    lab_entry<GrowingArena>("growing-arena", "stage 1", "GrowingArena",
                            "bump pointer over chunks mapped on demand; free is a no-op"),
    lab_entry<ImplicitListAllocator>("implicit-list", "stage 2", "ImplicitListAllocator",
                                     "first fit over every block in address order; whole blocks"),
    lab_entry<ExplicitListAllocator>("explicit-list", "stage 2", "ExplicitListAllocator",
                                     "first fit over a LIFO list of the free blocks; whole blocks"),
    lab_entry<FirstFitAllocator>("first-fit", "stage 3", "FirstFitAllocator",
                                 "the first free block that fits, split to size"),
    lab_entry<NextFitAllocator>("next-fit", "stage 3", "NextFitAllocator",
                                "the first that fits after the last stop (a roving pointer), split"),
    lab_entry<BestFitAllocator>("best-fit", "stage 3", "BestFitAllocator",
                                "the smallest free block that fits, split to size"),
    lab_entry<WorstFitAllocator>("worst-fit", "stage 3", "WorstFitAllocator",
                                 "the largest free block, split to size"),
    lab_entry<CoalescingFirstFit>("coalesce-first-fit", "stage 4", "CoalescingFirstFit",
                                  "boundary tags: first fit, free neighbours merge at once (LIFO list)"),
    lab_entry<CoalescingNextFit>("coalesce-next-fit", "stage 4", "CoalescingNextFit",
                                 "boundary tags: next fit, free neighbours merge at once"),
    lab_entry<CoalescingBestFit>("coalesce-best-fit", "stage 4", "CoalescingBestFit",
                                 "boundary tags: best fit, free neighbours merge at once"),
    lab_entry<CoalescingWorstFit>("coalesce-worst-fit", "stage 4", "CoalescingWorstFit",
                                  "boundary tags: worst fit, free neighbours merge at once"),
    lab_entry<AddressOrderedFirstFit>("coalesce-address-order", "stage 4", "AddressOrderedFirstFit",
                                      "boundary tags: first fit over a list kept in address order"),
    lab_entry<DeferredFirstFit>("coalesce-deferred", "stage 4", "DeferredFirstFit",
                                "boundary tags: first fit, merging only when a request would fail"),
    lab_entry<ElidedFirstFit>("coalesce-elided", "stage 4", "ElidedFirstFit",
                              "boundary tags: first fit, footers on free blocks only"),
    lab_entry<SegregatedFitAllocator>("segregated-fit", "stage 5", "SegregatedFitAllocator",
                                      "size classes with a bitmap (good fit), merging, footer elision"),
    lab_entry<QuickFitAllocator>("quick-fit", "stage 5", "QuickFitAllocator",
                                 "segregated fits with quick lists in front (glibc's tcache idea)"),
    lab_entry<TwoLevelFitAllocator>("two-level-fit", "stage 5", "TwoLevelFitAllocator",
                                    "two-level size classes with two bitmaps: O(1) good fit (TLSF)"),
    lab_entry<SmallPagesAllocator>("size-class-pages", "stage 5", "SmallPagesAllocator",
                                   "blocks <= 8 KiB in 64 KiB pages of one size class, no header; the rest two-level fits"),
    lab_entry<ThreadCachesAllocator>("thread-caches", "stage 5", "ThreadCachesAllocator",
                                     "size-class pages with a lock-free cache per thread in front (tcmalloc's idea)"),
    // The references bring their own memory; HeapLimited holds them to the
    // lab's heap size, as the heap holds every allocator above.
    lab_entry<HeapLimited<PmrPool>>("pmr-pool", "reference", "std::pmr::unsynchronized_pool_resource",
                                    "the standard library's pooling resource (size-class pools)"),
    lab_entry<HeapLimited<GlibcMalloc>>("glibc", "reference", "malloc",
                                        "the C library's malloc, measured in the same run"),
};
// [lab_allocators]

}  // namespace

std::span<const LabAllocator> lab_allocators() noexcept { return kAllocators; }

const LabAllocator* find_lab_allocator(std::string_view name) noexcept {
  for (const LabAllocator& allocator : kAllocators) {
    if (allocator.name == name) return &allocator;
  }
  return nullptr;
}

const LabAllocator& glibc_allocator() noexcept { return *find_lab_allocator("glibc"); }

LabHeap::LabHeap(std::size_t bytes) : bytes_(default_chunk_source().acquire(bytes)) {
  if (bytes_.empty()) throw std::bad_alloc();
}

LabHeap::~LabHeap() { default_chunk_source().release(bytes_); }

}  // namespace heaplab
