#include "stage5_real_malloc/size_class_pages.hpp"

namespace heaplab {

// Compiled once here, so that every program over it shares one copy.
template class SmallPages<TwoLevelFitAllocator>;

}  // namespace heaplab
