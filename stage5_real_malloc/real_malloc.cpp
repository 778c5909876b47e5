#include "stage5_real_malloc/real_malloc.hpp"

#include "stage4_coalescing/coalescing_allocator_impl.hpp"

namespace heaplab {

template class CoalescingAllocator<SegregatedLists<FirstFit>, ElidedFooters>;
template class CoalescingAllocator<SegregatedLists<FirstFit>, QuickTags>;
template class ParkingHeap<SegregatedLists<FirstFit>>;
template class QuickCache<ParkingHeap<SegregatedLists<FirstFit>>>;
template class GrowingHeap<SegregatedFitRegion>;
template class GrowingHeap<QuickFitRegion>;
template class LargeBlocks<GrowingHeap<SegregatedFitRegion>>;
template class LargeBlocks<GrowingHeap<QuickFitRegion>>;
template class CoalescingAllocator<TwoLevelLists, ElidedFooters>;
// Quick fit can sit on two-level lists as it sits on segregated fits.
template class CoalescingAllocator<TwoLevelLists, QuickTags>;
template class ParkingHeap<TwoLevelLists>;
template class QuickCache<ParkingHeap<TwoLevelLists>>;
template class GrowingHeap<TwoLevelRegion>;
template class LargeBlocks<GrowingHeap<TwoLevelRegion>>;

}  // namespace heaplab
