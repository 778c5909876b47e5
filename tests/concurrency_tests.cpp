// Threads allocating from one heap at the same time: the mutex wrapper and
// the lock-free bump allocator must hand every byte to exactly one thread,
// and account for every byte afterwards.
//
// Worker threads only allocate and write; every doctest assertion runs on
// the main thread after they are joined.
#include <doctest/doctest.h>

#include <cstddef>
#include <latch>
#include <span>
#include <thread>
#include <vector>

#include "stage1_static_bump/atomic_bump_allocator.hpp"
#include "stage1_static_bump/bump_allocator.hpp"
#include "stage1_static_bump/synchronized.hpp"
#include "tests/support/blocks.hpp"

namespace {

using heaplab::testing::Block;
using heaplab::testing::block_at;

constexpr std::size_t kThreads = 4;
constexpr std::size_t kBlocksPerThread = 1000;
constexpr std::size_t kLargestRequest = 96;

/// The \p i-th request size of thread \p thread: varied, 0 included.
constexpr std::size_t request_size(std::size_t thread, std::size_t i) noexcept {
  return heaplab::testing::varied_size(i + thread * 11, kLargestRequest + 1);
}

/// What one worker did.
struct WorkerLog {
  std::vector<Block> blocks;          ///< Blocks it received, filled with its id.
  std::size_t refused = 0;            ///< allocate() calls that returned nullptr.
  std::size_t refused_size = 0;       ///< The size of the last refused request.
};

/// Runs \p work(thread_index, log) on kThreads threads that start together,
/// so that their allocations really interleave.
template <class Work>
std::vector<WorkerLog> run_workers(Work work) {
  std::vector<WorkerLog> logs(kThreads);
  std::latch start(static_cast<std::ptrdiff_t>(kThreads));
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      work(t, logs[t]);
    });
  }
  for (std::thread& thread : threads) thread.join();
  return logs;
}

/// Thread \p t's pattern: every byte of its blocks holds t + 1.
void fill_with_id(const Block& block, std::size_t t) noexcept {
  for (std::size_t i = 0; i < block.size; ++i) block.start[i] = static_cast<std::byte>(t + 1);
}

bool holds_id(const Block& block, std::size_t t) noexcept {
  for (std::size_t i = 0; i < block.size; ++i) {
    if (block.start[i] != static_cast<std::byte>(t + 1)) return false;
  }
  return true;
}

/// Checks what every concurrent run must leave behind: disjoint blocks with
/// their owner's pattern, and stats that account for every byte (all
/// requests use alignment 8 on an 8-aligned region, so there is no padding
/// beyond each block's rounding).
template <class A>
void check_every_byte_accounted_for(const A& heap, const std::vector<WorkerLog>& logs) {
  std::vector<Block> all;
  std::size_t requested = 0;
  std::size_t footprints = 0;
  for (std::size_t t = 0; t < logs.size(); ++t) {
    for (const Block& block : logs[t].blocks) {
      CHECK(holds_id(block, t));
      CHECK(heap.owns(block.start));
      all.push_back(block);
      requested += block.size;
      footprints += heaplab::bump_footprint(block.size);
    }
  }
  CHECK(heaplab::testing::blocks_disjoint(all));
  const heaplab::HeapStats stats = heap.stats();
  CHECK(stats.live_allocations == all.size());
  CHECK(stats.allocations == all.size());
  CHECK(stats.requested == requested);
  CHECK(stats.used == footprints);
  CHECK(heap.check());
}

}  // namespace

TYPE_TO_STRING_AS("Synchronized BumpAllocator", heaplab::Synchronized<heaplab::BumpAllocator>);
TYPE_TO_STRING_AS("AtomicBumpAllocator", heaplab::AtomicBumpAllocator);

TEST_SUITE("concurrency") {

TEST_CASE_TEMPLATE("threads allocating together get disjoint blocks and every byte is accounted for",
                   A, heaplab::Synchronized<heaplab::BumpAllocator>, heaplab::AtomicBumpAllocator) {
  // Room for every request, so no thread is ever refused.
  std::vector<std::byte> memory(kThreads * kBlocksPerThread * heaplab::bump_footprint(kLargestRequest));
  A heap{std::span<std::byte>(memory)};

  const std::vector<WorkerLog> logs = run_workers([&heap](std::size_t t, WorkerLog& log) {
    for (std::size_t i = 0; i < kBlocksPerThread; ++i) {
      const std::size_t size = request_size(t, i);
      void* p = heap.allocate(size);
      if (p == nullptr) {
        ++log.refused;
        continue;
      }
      log.blocks.push_back(block_at(p, size));
      fill_with_id(log.blocks.back(), t);
    }
  });

  for (const WorkerLog& log : logs) {
    CHECK(log.refused == 0);
    CHECK(log.blocks.size() == kBlocksPerThread);
  }
  check_every_byte_accounted_for(heap, logs);
}

TEST_CASE_TEMPLATE("threads racing to exhaustion never overrun the region", A,
                   heaplab::Synchronized<heaplab::BumpAllocator>, heaplab::AtomicBumpAllocator) {
  // Room for about a quarter of what the threads ask for.
  std::vector<std::byte> memory(kBlocksPerThread * heaplab::bump_footprint(kLargestRequest) / 4);
  A heap{std::span<std::byte>(memory)};

  // Each thread allocates until its first refusal.
  const std::vector<WorkerLog> logs = run_workers([&heap](std::size_t t, WorkerLog& log) {
    for (std::size_t i = 0; i < kBlocksPerThread; ++i) {
      const std::size_t size = request_size(t, i);
      void* p = heap.allocate(size);
      if (p == nullptr) {
        ++log.refused;
        log.refused_size = size;
        return;
      }
      log.blocks.push_back(block_at(p, size));
      fill_with_id(log.blocks.back(), t);
    }
  });

  const heaplab::HeapStats stats = heap.stats();
  CHECK(stats.used <= memory.size());
  CHECK(stats.exhausted == kThreads);  // one refusal per thread, then it stopped
  for (const WorkerLog& log : logs) {
    CHECK(log.refused == 1);
    // The refused request did not fit in what was left at the time, and
    // nothing was freed since.
    CHECK(heaplab::bump_footprint(log.refused_size) > memory.size() - stats.used);
  }
  check_every_byte_accounted_for(heap, logs);
}

}  // TEST_SUITE("concurrency")
