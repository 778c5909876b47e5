/// \file
/// malloc() from a signal handler that interrupted malloc or free on the
/// same thread.
///
/// POSIX does not allow it (malloc is not async-signal-safe) and glibc
/// promises nothing: the call may deadlock, damage the heap or abort. The
/// heap is halfway through a change below the handler, so no malloc can
/// serve it safely; what a shim owes the program is not to hang without a
/// word. Its lock names the thread that holds it (heap_lock.hpp), so the
/// second entry is caught and answered with one line and abort().
///
/// The main thread frees and allocates blocks in a loop while SIGUSR1
/// arrives without pause (signal_sender.hpp); the handler allocates and
/// frees a block. Handlers that land outside malloc and free are served
/// as usual; the first one that lands inside them ends the program. The
/// loop gives up after kHandlerRuns handlers, which it never reaches in
/// practice: its line then says that no signal landed inside.
#include <signal.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "signal_sender.hpp"

namespace {

/// Handlers to run before giving up, far more than it takes for one of
/// them to land inside malloc or free.
constexpr sig_atomic_t kHandlerRuns = 1'000'000;

/// Handlers run so far.
volatile sig_atomic_t handler_runs = 0;

/// SIGUSR1: what the program must not do, a block allocated and freed.
void on_signal(int) {
  void* const block = std::malloc(100);
  if (block != nullptr) std::memset(block, 0x5a, 100);
  std::free(block);
  handler_runs = handler_runs + 1;
}

}  // namespace

int main() {
  struct sigaction action {};
  action.sa_handler = &on_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGUSR1, &action, nullptr);

  constexpr std::size_t kSlots = 64;
  void* blocks[kSlots] = {};
  {
    const heaplab::shim::test::SignalSender sender(SIGUSR1);
    for (std::size_t turn = 0; handler_runs < kHandlerRuns; ++turn) {
      const std::size_t slot = turn % kSlots;
      std::free(blocks[slot]);
      blocks[slot] = std::malloc(16 + turn % 1000);
    }
  }
  for (void* block : blocks) std::free(block);
  std::printf("%d signal handlers allocated, none of them inside malloc or free\n",
              static_cast<int>(handler_runs));
  return 0;
}
