// Chapter 2's two allocators, instantiated once here (the member functions
// are in free_list_allocator_impl.hpp).
#include "stage2_free_list/free_list_allocator.hpp"

#include "stage2_free_list/free_list_allocator_impl.hpp"

namespace heaplab {

template class FreeListAllocator<ExplicitFreeList>;
template class FreeListAllocator<ImplicitFreeList>;

}  // namespace heaplab
