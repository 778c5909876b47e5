#include "stage5_real_malloc/heap_lock.hpp"

#include <unistd.h>

#include <cstdlib>

#include "stage1_static_bump/line.hpp"

namespace heaplab {

void HeapLock::abort_reentered() noexcept {
  // write(2) and abort(): the heap is locked, so nothing that allocates.
  Line line;
  line << "heaplab malloc: called from inside itself on one thread (a signal handler that allocates?);"
          " abort instead of a deadlock\n";
  line.write_to(STDERR_FILENO);
  std::abort();
}

}  // namespace heaplab
