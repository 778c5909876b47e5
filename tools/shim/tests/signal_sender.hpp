/// \file
/// A process that sends one signal to this one, over and over: how the
/// signal tests make a handler run at every point of a loop of malloc and
/// free calls, inside them included.
///
/// The sender is a process, not a thread, so that the program under test
/// stays single-threaded (glibc makes fork() safe in a signal handler only
/// then). It sends as fast as the scheduler lets it, and dies with this
/// process: when this one ends, it stops, whatever the way this one ended
/// (abort() included).
#pragma once

#include <signal.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace heaplab::shim::test {

/// A process that sends a signal to this one from construction to
/// destruction (or to this process's end).
class SignalSender {
 public:
  /// Starts a process that sends \p signal to this one without pause.
  /// The handler for \p signal must be installed first.
  explicit SignalSender(int signal) noexcept {
    const pid_t target = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) {
      std::perror("fork");
      std::exit(1);
    }
    if (pid_ == 0) send_until_parent_ends(target, signal);
  }
  SignalSender(const SignalSender&) = delete;
  SignalSender& operator=(const SignalSender&) = delete;
  /// Stops the sender and waits for it.
  ~SignalSender() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }

 private:
  /// The sender's life: the kernel kills it when its parent ends
  /// (PR_SET_PDEATHSIG), and it checks its parent once more after asking,
  /// in case the parent ended first.
  [[noreturn]] static void send_until_parent_ends(pid_t target, int signal) noexcept {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    while (::getppid() == target && ::kill(target, signal) == 0) ::sched_yield();
    ::_exit(0);
  }

  pid_t pid_ = -1;  ///< The sender's process id.
};

}  // namespace heaplab::shim::test
