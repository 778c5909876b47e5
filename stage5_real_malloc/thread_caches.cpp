#include "stage5_real_malloc/thread_caches.hpp"

namespace heaplab {

// Compiled once here, so that every program over it shares one copy.
template class ThreadCaches<SmallPagesAllocator>;

}  // namespace heaplab
