/// \file
/// fork() from a signal handler that interrupted malloc or free: the
/// scenario of glibc's tst-mallocfork2, which glibc survives.
///
/// POSIX counts fork() among the functions a signal handler may call, and
/// programs do call it there (a supervisor that forks a worker when a
/// signal comes, a crash handler that forks a reporter). The handler runs
/// on top of whatever its thread was doing, inside malloc too; a malloc
/// whose pthread_atfork handler takes the heap's lock then waits for its
/// own thread, which holds that lock below the handler: forever. glibc
/// makes fork() safe there in a single-threaded process, and this program
/// is one (its signals come from another process, signal_sender.hpp).
///
///     fork_in_signal_handler <forks> <largest size>
///
/// The main thread frees and allocates blocks of up to <largest size> bytes
/// in a loop, in 1009 slots, while SIGUSR1 arrives without pause. The
/// handler forks a child that exits at once with 0 and waits for it (once
/// per turn of the loop: the next signal is already pending when the
/// handler returns). The program counts the forks whose signal came while
/// the loop was in free() or malloc(), stops at <forks> of them, and prints
/// one line. It ends with 0 only if every child exited with 0.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "signal_sender.hpp"

namespace {

/// Blocks kept alive at once (a prime, as glibc's test keeps).
constexpr std::size_t kSlots = 1009;

/// Set by the handler, cleared by the loop before each free and malloc:
/// whether a signal came during them, and whether this turn forked already.
volatile sig_atomic_t signalled = 0;
/// Children that did not exit with 0, or forks that failed.
volatile sig_atomic_t failed_children = 0;

/// SIGUSR1: one fork per turn of the loop, and a child that only exits.
void on_signal(int) {
  if (signalled != 0) return;
  signalled = 1;
  const int saved_errno = errno;
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  pid_t waited = -1;
  do {
    waited = child < 0 ? -1 : ::waitpid(child, &status, 0);
  } while (waited < 0 && child >= 0 && errno == EINTR);
  if (waited != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) failed_children = failed_children + 1;
  errno = saved_errno;
}

/// Reads a positive count from \p text, or 0.
std::size_t count_from(const char* text) {
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text, &end, 10);
  return *text != '\0' && *end == '\0' ? static_cast<std::size_t>(value) : 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t forks = argc == 3 ? count_from(argv[1]) : 0;
  const std::size_t largest = argc == 3 ? count_from(argv[2]) : 0;
  if (forks == 0 || largest == 0) {
    std::fprintf(stderr, "usage: fork_in_signal_handler <forks> <largest size>\n");
    return 2;
  }
  struct sigaction action {};
  action.sa_handler = &on_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGUSR1, &action, nullptr);

  static void* blocks[kSlots];
  std::minstd_rand random(1);  // a fixed start: the same sizes every run
  std::size_t counted = 0;
  bool out_of_memory = false;
  {
    const heaplab::shim::test::SignalSender sender(SIGUSR1);
    while (counted < forks && !out_of_memory) {
      const std::size_t slot = random() % kSlots;
      const std::size_t size = random() % (largest + 1);
      signalled = 0;
      std::free(blocks[slot]);
      blocks[slot] = std::malloc(size);
      if (signalled != 0) ++counted;
      out_of_memory = blocks[slot] == nullptr;
    }
  }  // the sender stops here
  for (void* block : blocks) std::free(block);

  if (out_of_memory) {
    std::printf("malloc failed after %zu forks\n", counted);
    return 1;
  }
  std::printf("%zu forks from signal handlers that interrupted free or malloc; children that failed: %d\n",
              counted, static_cast<int>(failed_children));
  return failed_children == 0 ? 0 : 1;
}
