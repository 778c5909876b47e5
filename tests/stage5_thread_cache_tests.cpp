// Chapter 5's caches per thread (thread_caches.hpp, thread_slots.hpp): a
// small malloc and free take no lock, a batch takes the lock once, blocks
// freed by another thread are counted right, a thread's cache goes back
// when it exits, a double free of a cached block is caught, and a child
// forked from a threaded process can allocate.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/misuse.hpp"
#include "stage5_real_malloc/heap_lock.hpp"
#include "stage5_real_malloc/size_class_pages.hpp"
#include "stage5_real_malloc/thread_caches.hpp"
#include "stage5_real_malloc/thread_slots.hpp"
#include "tests/support/aligned_region.hpp"
#include "tests/support/blocks.hpp"
#include "tests/support/recording_handler.hpp"

namespace {

using namespace heaplab;
using heaplab::testing::AlignedRegion;
using heaplab::testing::RecordingHandler;

/// HeapLock that counts how often it is taken.
class CountingLock {
 public:
  /// Takes the lock, counted.
  void lock() noexcept {
    taken_.fetch_add(1, std::memory_order_relaxed);
    lock_.lock();
  }
  /// Releases it.
  void unlock() noexcept { lock_.unlock(); }
  /// HeapLock::held_by_this_thread().
  [[nodiscard]] bool held_by_this_thread() const noexcept { return lock_.held_by_this_thread(); }
  /// HeapLock::lock_for_fork().
  void lock_for_fork() noexcept { lock_.lock_for_fork(); }
  /// HeapLock::unlock_after_fork().
  void unlock_after_fork() noexcept { lock_.unlock_after_fork(); }
  /// Acquisitions so far.
  [[nodiscard]] std::size_t taken() const noexcept { return taken_.load(std::memory_order_relaxed); }

 private:
  HeapLock lock_;
  std::atomic<std::size_t> taken_{0};
};

/// Caches per thread over small pages over two-level fits, with a lock
/// that counts, on a 2 MiB region of its own.
struct CachedHeap {
  /// On \p bytes of memory.
  explicit CachedHeap(std::size_t bytes = std::size_t{2} * 1024 * 1024)
      : region(bytes, 4096), heap(region.bytes(), Upstream{}) {}
  AlignedRegion region;                                  ///< The memory (declared first: it outlives the heap).
  ThreadCaches<SmallPagesAllocator, CountingLock> heap;  ///< The heap under test.
};

/// A request of class 3 (64 bytes), whose lists hold 64 slots.
constexpr std::size_t kSize = 64;
constexpr std::size_t kClass = 3;
static_assert(SmallClasses::size_of(kClass) == kSize);

}  // namespace

TEST_CASE("stage5: thread caches: a malloc and a free of a small block take no lock once the cache has blocks") {
  CachedHeap cached;
  auto& heap = cached.heap;
  heap.deallocate(heap.allocate(kSize));  // the cache made, and filled
  const std::size_t before = heap.lock().taken();
  for (int i = 0; i < 1000; ++i) heap.deallocate(heap.allocate(kSize));
  CHECK(heap.lock().taken() == before);
  CHECK(heap.check());
}

TEST_CASE("stage5: thread caches: a refill and a flush each take the lock once; refills start at one slot and "
          "double up to half a list") {
  CachedHeap cached;
  auto& heap = cached.heap;
  using Heap = decltype(cached.heap);
  constexpr std::size_t kCapacity = Heap::capacity(kClass);
  static_assert(kCapacity == 64);
  heap.deallocate(heap.allocate(kSize));  // the first refill: one slot, back in the cache
  std::vector<void*> blocks;
  std::size_t refills = 0;
  std::size_t batch = 2;  // what the second refill asks for
  for (std::size_t i = 0; i < 5 * kCapacity; ++i) {
    const bool empty = heap.cached(kClass) == 0;
    const std::size_t taken = heap.lock().taken();
    blocks.push_back(heap.allocate(kSize));
    REQUIRE(blocks.back() != nullptr);
    CHECK(heap.lock().taken() - taken == (empty ? 1U : 0U));
    if (empty) {
      ++refills;
      CHECK(heap.cached(kClass) == batch - 1);  // a batch came, one went out
      batch = std::min(2 * batch, kCapacity / 2);
    }
  }
  CHECK(batch == kCapacity / 2);  // the slow start reached whole batches
  CHECK(refills >= 5 * kCapacity / (kCapacity / 2));
  std::size_t flushes = 0;
  for (void* p : blocks) {
    const bool full = heap.cached(kClass) == kCapacity;
    const std::size_t taken = heap.lock().taken();
    heap.deallocate(p);
    CHECK(heap.lock().taken() - taken == (full ? 1U : 0U));
    if (full) {
      ++flushes;
      CHECK(heap.cached(kClass) == kCapacity / 2);
    }
  }
  CHECK(flushes > 0);
  CHECK(heap.check());
  CHECK(heap.stats().live_allocations == 0);
}

TEST_CASE("stage5: thread caches: the numbers count cached blocks as free and are exact on one thread") {
  CachedHeap cached;
  auto& heap = cached.heap;
  const MallocStats before = heap.stats();
  void* const a = heap.allocate(40);
  void* const b = heap.allocate(100);
  MallocStats s = heap.stats();
  CHECK(s.live_allocations == before.live_allocations + 2);
  CHECK(s.requested == before.requested + 140);
  CHECK(s.allocations == before.allocations + 2);
  CHECK(s.peak_requested == 140);
  heap.deallocate(a);
  s = heap.stats();
  CHECK(s.requested == 100);
  CHECK(s.peak_requested == 140);
  CHECK(s.quick_blocks > 0);  // refills left blocks in the cache
  heaplab::testing::check_stats_identities(s);
  // A peak between two calls that take the lock is still noted.
  void* const c = heap.allocate(200);
  heap.deallocate(c);
  CHECK(heap.stats().peak_requested == 300);
  heap.deallocate(b);
  CHECK(heap.stats().requested == 0);
  CHECK(heap.check());
}

TEST_CASE("stage5: thread caches: a double free of a cached block is reported once and changes nothing") {
  CachedHeap cached;
  auto& heap = cached.heap;
  RecordingHandler misuse;
  auto* const p = static_cast<std::byte*>(heap.allocate(kSize));
  void* const kept = heap.allocate(kSize);
  heap.deallocate(p);  // into this thread's cache
  const MallocStats before = heap.stats();
  const std::size_t cached_before = heap.cached(kClass);
  heap.deallocate(p);
  CHECK(heap.usable_size(p) == 0);
  CHECK(heap.reallocate(p, 10) == nullptr);
  heap.deallocate(p + 16);
  REQUIRE(misuse.reports().size() == 4);
  CHECK(misuse.reports()[0].kind == Misuse::double_free);
  CHECK(misuse.reports()[1].kind == Misuse::double_free);
  CHECK(misuse.reports()[2].kind == Misuse::double_free);
  CHECK(misuse.reports()[3].kind == Misuse::interior_pointer);
  CHECK(heap.cached(kClass) == cached_before);
  heaplab::testing::check_same_stats(before, heap.stats());
  CHECK(heap.check());
  heap.deallocate(kept);
}

TEST_CASE("stage5: thread caches: blocks freed by another thread go to its cache and the numbers stay right") {
  CachedHeap cached;
  auto& heap = cached.heap;
  constexpr std::size_t kBlocks = 1000;
  std::vector<void*> made;
  std::mutex handed_over;
  std::thread producer([&] {
    for (std::size_t i = 0; i < kBlocks; ++i) {
      void* const p = heap.allocate(16 + (i % 50) * 16);
      const std::lock_guard lock(handed_over);
      made.push_back(p);
    }
  });
  producer.join();
  std::size_t null_blocks = 0;
  for (void* p : made) null_blocks += p == nullptr ? 1 : 0;
  REQUIRE(null_blocks == 0);
  CHECK(heap.stats().live_allocations == kBlocks);
  std::thread consumer([&] {
    for (void* p : made) heap.deallocate(p);
  });
  consumer.join();
  const MallocStats s = heap.stats();
  CHECK(s.live_allocations == 0);
  CHECK(s.requested == 0);
  CHECK(s.allocations == kBlocks);
  CHECK(heap.check());
}

TEST_CASE("stage5: thread caches: a thread's exit gives its cache back to the pages") {
  CachedHeap cached;
  auto& heap = cached.heap;
  const std::size_t slots_before = thread_slots_taken();
  std::size_t cached_in_thread = 0;
  std::thread worker([&] {
    std::vector<void*> blocks;
    for (int i = 0; i < 100; ++i) blocks.push_back(heap.allocate(kSize));
    for (void* p : blocks) heap.deallocate(p);
    cached_in_thread = heap.cached(kClass);
  });
  worker.join();
  CHECK(cached_in_thread > 0);
  const MallocStats s = heap.stats();
  CHECK(s.quick_blocks == 0);  // nothing left in any cache: the worker's went back to the pages
  CHECK(s.live_allocations == 0);
  CHECK(thread_slots_taken() == slots_before);  // its slot is free again
  CHECK(heap.pages().pages() == 1);             // one empty page kept for the class, the rest given back
  CHECK(heap.check());
}

TEST_CASE("stage5: thread caches: a child forked while threads allocate can allocate and free") {
  CachedHeap cached(std::size_t{16} * 1024 * 1024);  // room for the threads' blocks and the child's
  auto& heap = cached.heap;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&heap, &stop, t] {
      std::vector<void*> blocks;
      for (std::size_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        blocks.push_back(heap.allocate(16 + ((i * 7 + static_cast<std::size_t>(t)) % 256) * 16));
        if (blocks.size() > 64) {
          for (void* p : blocks) heap.deallocate(p);
          blocks.clear();
        }
      }
      for (void* p : blocks) heap.deallocate(p);
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  heap.lock_for_fork();  // as the shim's pthread_atfork handlers do
  const pid_t child = fork();
  if (child == 0) {
    heap.unlock_after_fork();
    alarm(10);  // a hang fails the test instead of stalling it
    bool ok = true;
    for (int i = 0; i < 1000 && ok; ++i) {
      void* const p = heap.allocate(static_cast<std::size_t>(i % 300) * 8);
      void* const q = heap.allocate(20000);
      ok = p != nullptr && q != nullptr;
      heap.deallocate(p);
      heap.deallocate(q);
    }
    _exit(!ok ? 2 : heap.check() ? 0 : 1);
  }
  heap.unlock_after_fork();
  stop = true;
  for (std::thread& thread : threads) thread.join();
  REQUIRE(child > 0);
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(heap.stats().live_allocations == 0);
  CHECK(heap.check());
}
