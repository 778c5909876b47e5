/// \file
/// Thread safety the simple way (a mutex, as Go bump allocators take): one lock around any
/// allocator of the course.
#pragma once

#include <cstddef>
#include <mutex>
#include <utility>

#include "stage1_static_bump/contract.hpp"

namespace heaplab {

/// Wraps any Allocator so that every call holds one mutex.
///
/// Correct for every allocator, whatever its internals, because no two calls
/// ever run at the same time. The price is that threads queue on the lock;
/// AtomicBumpAllocator shows the lock-free alternative for a bump heap.
/// Operations the wrapped allocator offers beyond the contract (reset, mark,
/// rewind, ...) are forwarded too, or reached all at once with with_lock().
template <Allocator A>
class Synchronized {
 public:
  /// Constructs the wrapped allocator from \p args.
  template <class... Args>
  explicit Synchronized(Args&&... args) noexcept(noexcept(A(std::forward<Args>(args)...)))
      : inner_(std::forward<Args>(args)...) {}

  /// The wrapped allocate(), under the lock.
  [[nodiscard]] void* allocate(std::size_t size, std::size_t align = kDefaultAlignment) noexcept {
    const std::lock_guard lock(mutex_);
    return inner_.allocate(size, align);
  }
  /// The wrapped deallocate(), under the lock.
  void deallocate(void* p) noexcept {
    const std::lock_guard lock(mutex_);
    inner_.deallocate(p);
  }
  /// The wrapped reallocate(), under the lock, for allocators that have one.
  [[nodiscard]] void* reallocate(void* p, std::size_t size) noexcept
    requires Reallocating<A>
  {
    const std::lock_guard lock(mutex_);
    return inner_.reallocate(p, size);
  }
  /// The wrapped reallocate() with an alignment for a moved block, under
  /// the lock, for allocators that have one (the malloc shim asks for 16).
  [[nodiscard]] void* reallocate(void* p, std::size_t size, std::size_t align) noexcept
    requires requires(A& a) { a.reallocate(p, size, align); }
  {
    const std::lock_guard lock(mutex_);
    return inner_.reallocate(p, size, align);
  }
  /// The wrapped allocate_zeroed(), under the lock, for allocators that have one.
  [[nodiscard]] void* allocate_zeroed(std::size_t count, std::size_t size) noexcept
    requires Reallocating<A>
  {
    const std::lock_guard lock(mutex_);
    return inner_.allocate_zeroed(count, size);
  }
  /// The wrapped usable_size(), under the lock, for allocators that have one.
  [[nodiscard]] std::size_t usable_size(void* p) noexcept
    requires requires(A& a) { a.usable_size(p); }
  {
    const std::lock_guard lock(mutex_);
    return inner_.usable_size(p);
  }
  /// The wrapped stats(), under the lock (a consistent snapshot).
  [[nodiscard]] auto stats() const noexcept {
    const std::lock_guard lock(mutex_);
    return inner_.stats();
  }
  /// The wrapped check(), under the lock.
  [[nodiscard]] CheckResult check() const noexcept {
    const std::lock_guard lock(mutex_);
    return inner_.check();
  }
  /// The wrapped owns(), under the lock.
  [[nodiscard]] bool owns(const void* p) const noexcept {
    const std::lock_guard lock(mutex_);
    return inner_.owns(p);
  }
  /// The wrapped block walk, under the lock; \p visit must not call back into this allocator.
  template <class Visitor>
  void for_each_block(Visitor&& visit) const {
    const std::lock_guard lock(mutex_);
    inner_.for_each_block(std::forward<Visitor>(visit));
  }

  /// The wrapped reset(), under the lock, for allocators that have one.
  void reset() noexcept
    requires Resettable<A>
  {
    const std::lock_guard lock(mutex_);
    inner_.reset();
  }
  /// The wrapped mark(), under the lock, for allocators that have one.
  [[nodiscard]] auto mark() const noexcept
    requires requires(const A& a) { a.mark(); }
  {
    const std::lock_guard lock(mutex_);
    return inner_.mark();
  }
  /// The wrapped rewind(), under the lock, for allocators that have one.
  template <class Marker>
    requires requires(A& a, const Marker& m) { a.rewind(m); }
  void rewind(const Marker& marker) noexcept {
    const std::lock_guard lock(mutex_);
    inner_.rewind(marker);
  }

  /// Takes the lock and keeps it until unlock(): for a fork() handler
  /// (pthread_atfork), which must hold the lock across the fork so that
  /// the child never inherits a heap that another thread was changing.
  /// With unlock(), this makes Synchronized a BasicLockable.
  void lock() noexcept { mutex_.lock(); }
  /// Releases the lock taken by lock().
  void unlock() noexcept { mutex_.unlock(); }

  /// Runs \p action with exclusive access to the wrapped allocator, for a
  /// sequence of calls that must not interleave with other threads.
  template <class Action>
  decltype(auto) with_lock(Action&& action) {
    const std::lock_guard lock(mutex_);
    return std::forward<Action>(action)(inner_);
  }

 private:
  mutable std::mutex mutex_;  ///< Held for the duration of every call.
  A inner_;                   ///< The wrapped allocator; only touched under mutex_.
};

}  // namespace heaplab
