// Chapter 3's four allocators, instantiated once here (the member functions
// are chapter 2's, in free_list_allocator_impl.hpp).
#include "stage3_fit_strategies/fit_allocators.hpp"

#include "stage2_free_list/free_list_allocator_impl.hpp"

namespace heaplab {

template class FreeListAllocator<FitFreeList<FirstFit>>;
template class FreeListAllocator<FitFreeList<NextFit>>;
template class FreeListAllocator<FitFreeList<BestFit>>;
template class FreeListAllocator<FitFreeList<WorstFit>>;

}  // namespace heaplab
