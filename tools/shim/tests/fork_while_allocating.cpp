/// \file
/// The shim's fork test: fork() while other threads are inside malloc.
///
/// fork() copies only the thread that called it. If another thread held the
/// allocator's lock at that moment, the child's copy of the lock stays
/// locked forever, with nobody left to unlock it: the child's first malloc
/// deadlocks. A malloc that serves threads must therefore take its lock
/// before fork() and release it on both sides afterwards (pthread_atfork),
/// as glibc does for its own arenas.
///
/// Four threads allocate and free without pause while the main thread forks
/// kChildren times. Each child allocates, checks and frees blocks of every
/// size class, then leaves with _exit(0) (no atexit handlers: the parent's
/// report is the only one). An alarm kills a child that deadlocks, so the
/// parent sees SIGALRM instead of waiting forever, and stops forking. The
/// program prints two deterministic lines and exits with 0 only if every
/// child exited with 0.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

constexpr int kThreads = 4;
constexpr int kChildren = 100;
constexpr unsigned kChildAlarmSeconds = 5;  // far above a child's run time (milliseconds)

/// True when \p size bytes at \p p hold \p value.
bool holds(const unsigned char* p, std::size_t size, unsigned char value) noexcept {
  for (std::size_t i = 0; i < size; ++i) {
    if (p[i] != value) return false;
  }
  return true;
}

/// One allocating thread: blocks of varied sizes, each filled and checked,
/// freed in a different order than allocated, until \p stop. Returns the
/// number of blocks that came back wrong.
int churn(int index, const std::atomic<bool>& stop) {
  int damaged = 0;
  std::vector<unsigned char*> live(32, nullptr);
  std::vector<std::size_t> sizes(32, 0);
  std::size_t step = static_cast<std::size_t>(index);
  while (!stop.load(std::memory_order_relaxed)) {
    const std::size_t slot = (step * 7) % live.size();
    if (live[slot] != nullptr) {
      if (!holds(live[slot], sizes[slot], static_cast<unsigned char>(slot))) ++damaged;
      std::free(live[slot]);
    }
    // Mostly small blocks, with a mapped one (> 128 KiB) now and then.
    sizes[slot] = step % 97 == 0 ? 200 * 1024 : 1 + (step * 131) % 2000;
    live[slot] = static_cast<unsigned char*>(std::malloc(sizes[slot]));
    if (live[slot] == nullptr) return damaged + 1;
    std::memset(live[slot], static_cast<int>(slot), sizes[slot]);
    ++step;
  }
  for (std::size_t slot = 0; slot < live.size(); ++slot) {
    if (live[slot] != nullptr && !holds(live[slot], sizes[slot], static_cast<unsigned char>(slot))) {
      ++damaged;
    }
    std::free(live[slot]);
  }
  return damaged;
}

/// What a child does: the allocator must work in it, whatever the other
/// threads were doing at the fork. Returns the child's exit code.
int child_work() {
  alarm(kChildAlarmSeconds);
  const std::size_t sizes[] = {0, 16, 100, 1000, 5000, 70'000, 300 * 1024};
  void* blocks[std::size(sizes)];
  for (std::size_t i = 0; i < std::size(sizes); ++i) {
    blocks[i] = std::malloc(sizes[i]);
    if (blocks[i] == nullptr) return 2;
    std::memset(blocks[i], 0x5a, sizes[i]);
  }
  auto* grown = static_cast<unsigned char*>(std::realloc(blocks[2], 10'000));
  if (grown == nullptr || !holds(grown, 100, 0x5a)) return 3;
  blocks[2] = grown;
  auto* zeroed = static_cast<unsigned char*>(std::calloc(100, 10));
  if (zeroed == nullptr || !holds(zeroed, 1000, 0)) return 4;
  std::free(zeroed);
  for (void* block : blocks) std::free(block);
  return 0;
}

/// Describes how the child behind \p status ended, into \p text.
void describe(int status, char* text, std::size_t size) {
  if (WIFEXITED(status)) {
    std::snprintf(text, size, "exited with %d", WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    std::snprintf(text, size, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
  } else {
    std::snprintf(text, size, "ended with status %d", status);
  }
}

}  // namespace

int main() {
  std::atomic<bool> stop{false};
  std::vector<int> damaged(kThreads, 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { damaged[static_cast<std::size_t>(i)] = churn(i, stop); });
  }

  int forked = 0;
  int clean_exits = 0;
  for (int child = 0; child < kChildren; ++child) {
    std::fflush(stdout);  // a child must not print the parent's buffered output again
    const pid_t pid = fork();
    if (pid < 0) {
      std::perror("fork");
      return 1;
    }
    if (pid == 0) _exit(child_work());
    ++forked;
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) {
      std::perror("waitpid");
      return 1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      char text[128];
      describe(status, text, sizeof text);
      std::printf("child %d %s: no more forks\n", child, text);
      break;  // one is enough; more would only repeat it, an alarm period each
    }
    ++clean_exits;
    // The parent's allocator must also work after each fork.
    void* after = std::malloc(64);
    std::free(after);
  }

  stop.store(true);
  for (std::thread& thread : threads) thread.join();
  int damaged_blocks = 0;
  for (int count : damaged) damaged_blocks += count;

  std::printf("fork test: %d children forked while %d threads allocated, %d exited with 0\n",
              forked, kThreads, clean_exits);
  std::printf("fork test: %d damaged or failed blocks in the allocating threads\n", damaged_blocks);
  return clean_exits == kChildren && damaged_blocks == 0 ? 0 : 1;
}
