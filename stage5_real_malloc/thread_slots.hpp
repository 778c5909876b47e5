/// \file
/// Thread slots: a small number per thread, the same for every heap, so
/// that a heap finds the calling thread's cache with one load from the
/// thread's own storage and one from an array (ThreadCaches,
/// thread_caches.hpp).
///
///     thread A: slot 0 ---+     ThreadCaches h1: caches[0] caches[1] ... caches[127]
///     thread B: slot 1 ---+---> ThreadCaches h2: caches[0] caches[1] ... caches[127]
///     thread C: none (all 128 taken: the heaps' locked paths)
///
/// A slot is handed out on a thread's first call and taken back when the
/// thread exits. The exit runs as a destructor of a pthread key, not of a
/// C++ thread_local: glibc runs thread_local destructors through
/// __cxa_thread_atexit_impl, which calls malloc to record them, and a heap
/// that registers while serving malloc must not call malloc itself. At
/// exit, every live heap (the registry of CacheOwner) is asked to take
/// back the thread's cache.
///
/// The slot number lives in an initial-exec thread_local: a fixed offset
/// from the thread pointer, so that even in a shared library (a malloc
/// preloaded into a program) reading it is one load, not a call to
/// __tls_get_addr, which may itself allocate. (glibc's tcache pointer and
/// tcmalloc's thread cache are reached the same way.)
#pragma once

#include <cstddef>

namespace heaplab {

/// A heap with a cache per thread slot, as thread exits see it. Registered
/// while alive (register_cache_owner()).
class CacheOwner {
 public:
  /// Takes back the cache of \p slot, whose thread is exiting.
  virtual void release_thread(std::size_t slot) noexcept = 0;

 protected:
  CacheOwner() = default;
  CacheOwner(const CacheOwner&) = delete;
  CacheOwner& operator=(const CacheOwner&) = delete;
  ~CacheOwner() = default;

 private:
  friend struct CacheOwnerLinks;
  CacheOwner* next_ = nullptr;  ///< The next registered heap (the registry's list).
  CacheOwner* prev_ = nullptr;  ///< The previous registered heap.
};

/// Slots there are: threads beyond them use the heaps' locked paths.
inline constexpr std::size_t kThreadSlots = 128;
/// What this_thread_slot() answers for a thread without a slot.
inline constexpr std::size_t kNoThreadSlot = kThreadSlots;

namespace detail {
/// This thread's slot + 1; 0 before its first call. kNoThreadSlot + 1 once
/// it has none for good (slots all taken, or the thread is exiting).
/// constinit: with no initializer to run, a read is one load, with no
/// call to a thread-local wrapper first.
extern constinit thread_local std::size_t thread_slot_plus_one __attribute__((tls_model("initial-exec")));
/// Hands this thread a slot (or none), and returns it.
[[nodiscard]] std::size_t assign_thread_slot() noexcept;
}  // namespace detail

/// The calling thread's slot, handed out on its first call; kNoThreadSlot
/// when all are taken.
[[nodiscard, gnu::always_inline]] inline std::size_t this_thread_slot() noexcept {
  const std::size_t plus_one = detail::thread_slot_plus_one;
  if (plus_one != 0) [[likely]] return plus_one - 1;
  return detail::assign_thread_slot();
}

/// Adds \p owner to the heaps a thread exit visits.
void register_cache_owner(CacheOwner& owner) noexcept;
/// Removes \p owner (before it is destroyed).
void unregister_cache_owner(CacheOwner& owner) noexcept;
/// Threads that hold a slot now (for tests).
[[nodiscard]] std::size_t thread_slots_taken() noexcept;

}  // namespace heaplab
