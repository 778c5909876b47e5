#include "stage4_coalescing/address_ordered.hpp"
#include "stage4_coalescing/coalescing_allocator_impl.hpp"
#include "stage4_coalescing/deferred_coalescing.hpp"
#include "stage4_coalescing/footer_elision.hpp"

namespace heaplab {

template class CoalescingAllocator<FitList<FirstFit>>;
template class CoalescingAllocator<FitList<NextFit>>;
template class CoalescingAllocator<FitList<BestFit>>;
template class CoalescingAllocator<FitList<WorstFit>>;
template class CoalescingAllocator<FitList<FirstFit, AddressOrderedList>>;
template class CoalescingAllocator<FitList<FirstFit>, FooterTags, DeferredCoalescing>;
template class CoalescingAllocator<FitList<FirstFit>, ElidedFooters>;

}  // namespace heaplab
