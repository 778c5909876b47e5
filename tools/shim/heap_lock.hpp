/// \file
/// The shim's lock is chapter 5's HeapLock (stage5_real_malloc/heap_lock.hpp),
/// named here as the shim's own.
#pragma once

#include "stage5_real_malloc/heap_lock.hpp"

namespace heaplab::shim {

/// The malloc shim's one lock: heaplab::HeapLock.
using HeapLock = heaplab::HeapLock;

}  // namespace heaplab::shim
