/// \file
/// HeapLock: the one lock of a heap that C programs call (the malloc shim's,
/// and ThreadCaches' in front of the pages), a mutex that knows which
/// thread holds it.
///
/// A malloc is entered in ways an ordinary mutex is not made for. A signal
/// handler runs on top of whatever its thread was doing, inside malloc
/// too, and may itself allocate, free or fork; a misuse report ends in
/// abort(), whose SIGABRT handler (a crash reporter's) may allocate. What
/// the shim must do then depends on one question: does *this* thread hold
/// the heap? An ordinary mutex cannot answer it, and a flag set next to it
/// answers wrong for an instant, between taking the mutex and setting the
/// flag, which a signal can hit. HeapLock's lock word is the holder itself:
///
///     0            free
///     pthread_self()  of the thread that holds it
///
/// set by the compare-and-swap that takes the lock and cleared by the store
/// that releases it, so held_by_this_thread() is exact at every instant, in
/// a signal handler too. A thread that finds the lock taken sleeps in the
/// kernel until it changes (C++20's std::atomic::wait, a futex on Linux).
///
/// With the answer, the shim does what glibc does where it can, and says
/// so where it cannot (\ref real_programs_pitfalls):
/// - fork() from a signal handler that interrupted malloc on its thread:
///   the fork handlers do not wait for the lock this thread holds
///   (lock_for_fork());
/// - malloc from such a handler: the heap is halfway through a change below
///   it, and no answer is safe; lock() writes one line and aborts, instead
///   of waiting for itself forever.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

#include "stage1_static_bump/misuse.hpp"

namespace heaplab {

/// A mutex whose word names the thread that holds it (see the file
/// comment). Not recursive: the heap it guards is never entered twice by
/// one thread on purpose.
class HeapLock {
 public:
  HeapLock() noexcept = default;
  HeapLock(const HeapLock&) = delete;
  HeapLock& operator=(const HeapLock&) = delete;

  /// Takes the lock, sleeping while another thread holds it. A thread
  /// that holds it already would wait for itself forever: it gets one line
  /// on standard error and abort() instead (abort_reentered()).
  void lock() noexcept {
    const std::uintptr_t me = this_thread();
    if (word_.load(std::memory_order_relaxed) == me) abort_reentered();
    std::uintptr_t seen = kFree;
    while (!word_.compare_exchange_weak(seen, me, std::memory_order_acquire, std::memory_order_relaxed)) {
      if (seen != kFree) word_.wait(seen, std::memory_order_relaxed);  // until the holder changes
      seen = kFree;
    }
  }

  /// Releases the lock and wakes a thread waiting for it.
  /// Precondition: this thread holds it.
  void unlock() noexcept {
    word_.store(kFree, std::memory_order_release);
    word_.notify_one();
  }

  /// True when the calling thread holds the lock, exactly, at any instant:
  /// only this thread puts its own id into the word and takes it out again,
  /// a thread always reads its own last write or a later one, and whatever
  /// another thread writes there is not this thread's id.
  [[nodiscard]] bool held_by_this_thread() const noexcept {
    return word_.load(std::memory_order_relaxed) == this_thread();
  }

  // [fork]
  /// fork()'s prepare step (pthread_atfork): takes the lock, so that the
  /// child gets a heap that no thread is changing. Unless this thread holds
  /// it already: then fork() was called from a signal handler that
  /// interrupted this thread inside the heap (glibc's tst-mallocfork2 does
  /// this, and glibc survives it), and taking the lock would wait for the
  /// interrupted call below the handler, forever. The lock is left as it
  /// is: in each process, the interrupted call finishes its change and
  /// releases the lock when the handler returns.
  void lock_for_fork() noexcept {
    if (held_by_this_thread()) {
      ++forks_over_held_lock_;
      return;
    }
    lock();
  }

  /// fork()'s parent and child steps: undoes lock_for_fork(). In the child,
  /// releasing is what resetting the lock is for glibc's arenas: its word
  /// names the thread that forked, which is the child's only thread.
  void unlock_after_fork() noexcept {
    if (forks_over_held_lock_ > 0) {
      --forks_over_held_lock_;
      return;
    }
    unlock();
  }
  // [fork]

  /// Writes the one line for a thread that enters the heap while inside
  /// it, and aborts (also for a heap's lock-free path that finds itself
  /// entered twice: ThreadCaches).
  [[noreturn]] static void abort_reentered() noexcept;

 private:
  /// The word of a free lock: no thread's pthread_self() is 0.
  static constexpr std::uintptr_t kFree = 0;

  /// The calling thread as the lock word holds it: pthread_self(), unique
  /// among the threads alive, the same in a child after fork(), and safe to
  /// read in a signal handler (glibc reads it from the thread pointer).
  [[nodiscard]] static std::uintptr_t this_thread() noexcept {
    return static_cast<std::uintptr_t>(::pthread_self());
  }

  std::atomic<std::uintptr_t> word_{kFree};  ///< kFree, or the holder's this_thread().
  /// Forks under way whose prepare step found the lock held by its own
  /// thread (lock_for_fork()); only the thread holding the lock touches it.
  std::size_t forks_over_held_lock_ = 0;
};

/// The lock around every call into a heap that C programs call, and the
/// misuse report a call made while holding it, delivered only once the
/// lock is released: the shim's MallocHeap and ThreadCaches keep their
/// lock in one (MallocHeap::hold_misuse() says why).
template <class Lock = HeapLock>
class HeapCalls {
 public:
  /// One call into the heap: holds the lock from construction to
  /// destruction, and makes a report held meanwhile (hold_misuse()) again
  /// once the lock is released.
  class Call {
   public:
    /// Takes \p calls' lock.
    explicit Call(const HeapCalls& calls) noexcept : calls_(calls) { calls_.lock_.lock(); }
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;
    /// Releases the lock, then delivers the held report, if any.
    ~Call() {
      const std::optional<MisuseReport> held = std::exchange(calls_.held_report_, std::nullopt);
      calls_.lock_.unlock();
      if (held) report_misuse(*held);
    }

   private:
    const HeapCalls& calls_;  ///< Whose lock is held.
  };

  /// Keeps \p report, made while this thread holds the lock, until the
  /// lock is released; false, keeping nothing, when it does not hold it.
  [[nodiscard]] bool hold_misuse(const MisuseReport& report) noexcept {
    if (!lock_.held_by_this_thread()) return false;
    if (!held_report_) held_report_ = report;  // one call makes one report; the first is kept
    return true;
  }
  /// fork()'s prepare step: the lock (Lock::lock_for_fork()).
  void lock_for_fork() noexcept { lock_.lock_for_fork(); }
  /// fork()'s parent and child steps: undoes lock_for_fork().
  void unlock_after_fork() noexcept { lock_.unlock_after_fork(); }
  /// The lock itself (for tests).
  [[nodiscard]] const Lock& lock() const noexcept { return lock_; }

 private:
  mutable Lock lock_;                                ///< Held for every call.
  mutable std::optional<MisuseReport> held_report_;  ///< A report waiting for lock_'s release (under lock_).
};

}  // namespace heaplab
