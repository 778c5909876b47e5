#include "stage4_coalescing/coalescing_allocator_impl.hpp"

namespace heaplab {

template class CoalescingAllocator<FirstFit>;
template class CoalescingAllocator<NextFit>;
template class CoalescingAllocator<BestFit>;
template class CoalescingAllocator<WorstFit>;
template class CoalescingAllocator<FirstFit, kAddressOrdered>;
template class CoalescingAllocator<FirstFit, kDeferredCoalescing>;
template class CoalescingAllocator<FirstFit, kFooterElision>;
template class CoalescingAllocator<FirstFit, kSegregatedFits>;
template class CoalescingAllocator<FirstFit, kQuickFits>;

}  // namespace heaplab
