#include "stage5_real_malloc/thread_slots.hpp"

#include <pthread.h>

#include <bitset>
#include <cstdint>
#include <mutex>

namespace heaplab {

constinit thread_local std::size_t detail::thread_slot_plus_one __attribute__((tls_model("initial-exec"))) = 0;

/// The registry's access to a CacheOwner's links.
struct CacheOwnerLinks {
  /// The next owner after \p owner.
  static CacheOwner*& next(CacheOwner& owner) noexcept { return owner.next_; }
  /// The owner before \p owner.
  static CacheOwner*& prev(CacheOwner& owner) noexcept { return owner.prev_; }
};

namespace {

/// The slots and the heaps, under one mutex. Constant-initialized, so that
/// a heap built during static initialization finds it ready.
struct Registry {
  std::mutex mutex;                     ///< Guards everything below.
  std::bitset<kThreadSlots> taken;      ///< Slots held by live threads.
  CacheOwner* owners = nullptr;         ///< The live heaps with caches.
  pthread_key_t exit_key{};             ///< Its destructor runs at each slot holder's exit.
  bool key_made = false;                ///< exit_key and the fork handlers are set up.
};
constinit Registry registry;

/// No thread holds the registry's mutex in a child: a thread that held it
/// at fork() does not exist there.
void lock_registry_for_fork() noexcept { registry.mutex.lock(); }
void unlock_registry_after_fork() noexcept { registry.mutex.unlock(); }

/// At a slot holder's exit: every heap takes back its cache, and the slot
/// is free again. Later calls of the exiting thread (another key's
/// destructor may allocate) take the heaps' locked paths.
void release_slot(void* value) noexcept {
  const std::size_t slot = reinterpret_cast<std::uintptr_t>(value) - 1;
  detail::thread_slot_plus_one = kNoThreadSlot + 1;
  const std::lock_guard lock(registry.mutex);
  for (CacheOwner* owner = registry.owners; owner != nullptr; owner = CacheOwnerLinks::next(*owner)) {
    owner->release_thread(slot);
  }
  registry.taken.reset(slot);
}

/// The lowest free slot, or kNoThreadSlot. Under the mutex.
std::size_t take_free_slot() noexcept {
  for (std::size_t slot = 0; slot < kThreadSlots; ++slot) {
    if (!registry.taken.test(slot)) {
      registry.taken.set(slot);
      return slot;
    }
  }
  return kNoThreadSlot;
}

}  // namespace

std::size_t detail::assign_thread_slot() noexcept {
  std::size_t slot = kNoThreadSlot;
  {
    const std::lock_guard lock(registry.mutex);
    if (!registry.key_made) {
      registry.key_made = pthread_key_create(&registry.exit_key, release_slot) == 0;
      if (registry.key_made) {
        pthread_atfork(lock_registry_for_fork, unlock_registry_after_fork, unlock_registry_after_fork);
      }
    }
    if (registry.key_made) slot = take_free_slot();
  }
  // Outside the mutex: with many keys, glibc's pthread_setspecific may call
  // calloc, which may come back here (a preloaded malloc).
  thread_slot_plus_one = slot + 1;
  if (slot != kNoThreadSlot &&
      pthread_setspecific(registry.exit_key, reinterpret_cast<void*>(static_cast<std::uintptr_t>(slot + 1))) != 0) {
    const std::lock_guard lock(registry.mutex);
    registry.taken.reset(slot);
    thread_slot_plus_one = kNoThreadSlot + 1;
    return kNoThreadSlot;
  }
  return slot;
}

void register_cache_owner(CacheOwner& owner) noexcept {
  const std::lock_guard lock(registry.mutex);
  CacheOwnerLinks::next(owner) = registry.owners;
  CacheOwnerLinks::prev(owner) = nullptr;
  if (registry.owners != nullptr) CacheOwnerLinks::prev(*registry.owners) = &owner;
  registry.owners = &owner;
}

void unregister_cache_owner(CacheOwner& owner) noexcept {
  const std::lock_guard lock(registry.mutex);
  CacheOwner* const next = CacheOwnerLinks::next(owner);
  CacheOwner* const prev = CacheOwnerLinks::prev(owner);
  (prev == nullptr ? registry.owners : CacheOwnerLinks::next(*prev)) = next;
  if (next != nullptr) CacheOwnerLinks::prev(*next) = prev;
}

std::size_t thread_slots_taken() noexcept {
  const std::lock_guard lock(registry.mutex);
  return registry.taken.count();
}

}  // namespace heaplab
