/// \file
/// The shim's multi-threaded stress test: eight threads share one malloc.
///
/// Four producer threads each run a fixed, seeded sequence of operations on
/// blocks of every size class (tiny, small, medium, and more than 128 KiB, so
/// that mapped blocks are exercised too): malloc, calloc, realloc, the three
/// aligned allocators, and free. Every block is filled with a pattern drawn
/// from its own seed, and the pattern is verified before the block is
/// reallocated or freed, so a byte handed to two threads at once, or a
/// realloc that copies the wrong bytes, is caught. Some blocks are handed
/// through a shared queue to four consumer threads, which verify them,
/// sometimes reallocate them, and free them: frees across threads.
///
/// Each producer's sequence depends only on its seed, never on timing, so
/// the summary this program prints is the same on every run and on every
/// malloc; it exits with 1 on any corruption, failed allocation or broken
/// promise (alignment, usable size, zeroing).
///
/// The program calls malloc and friends through HEAP(name). Built plainly,
/// HEAP(malloc) is malloc, which the test runs under LD_PRELOAD with a shim.
/// Built with HEAPLAB_STRESS_PREFIXED (the ThreadSanitizer build), it is
/// heaplab_malloc from the shim's static library, so that ThreadSanitizer
/// watches the shim's own locking while its runtime keeps the real malloc.
#include <malloc.h>  // memalign, malloc_usable_size (glibc)

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "seeded_random.hpp"

#if defined(HEAPLAB_STRESS_PREFIXED)
#include "tools/shim/heaplab_malloc.h"
/// The allocation function \p name, by the shim's prefixed name.
#define HEAP(name) heaplab_##name
#else
/// The allocation function \p name: the C library's, or a preloaded shim's.
#define HEAP(name) name
#endif

namespace {

constexpr int kProducers = 4;
constexpr int kConsumers = 4;
constexpr int kOperationsPerProducer = 25'000;
constexpr std::size_t kSlotsPerProducer = 64;  // blocks a producer keeps alive at once
constexpr std::size_t kQueueCapacity = 1024;   // blocks in flight between threads
constexpr std::size_t kMappedThreshold = 128 * 1024;

using heaplab::shim::test::Random;

/// A request size: mostly tiny (0 included), some small and medium, and one
/// in two hundred above the mapped threshold.
std::size_t pick_size(Random& random) noexcept {
  const std::size_t tier = random.below(1000);
  if (tier < 700) return random.below(65);
  if (tier < 920) return 65 + random.below(4032);
  if (tier < 995) return 4097 + random.below(60'000);
  return kMappedThreshold + 1 + random.below(768 * 1024);
}

/// One live block: where it is, how many bytes were asked for, and the seed
/// of the pattern it holds.
struct Block {
  std::byte* start = nullptr;
  std::size_t size = 0;
  std::uint64_t seed = 0;
};

/// Word \p index of the pattern of seed \p seed: every word differs, so a
/// block copied with an offset does not verify.
std::uint64_t pattern_word(std::uint64_t seed, std::size_t index) noexcept {
  return (seed + index) * 0x2545f4914f6cdd1dULL;
}

/// Fills the first \p size bytes at \p start with the pattern of \p seed.
void fill(std::byte* start, std::size_t size, std::uint64_t seed) noexcept {
  for (std::size_t offset = 0; offset < size; offset += sizeof(std::uint64_t)) {
    const std::uint64_t word = pattern_word(seed, offset / sizeof word);
    std::memcpy(start + offset, &word, std::min(sizeof word, size - offset));
  }
}

/// True when the first \p size bytes at \p start hold the pattern of \p seed.
bool holds_pattern(const std::byte* start, std::size_t size, std::uint64_t seed) noexcept {
  for (std::size_t offset = 0; offset < size; offset += sizeof(std::uint64_t)) {
    const std::uint64_t word = pattern_word(seed, offset / sizeof word);
    if (std::memcmp(start + offset, &word, std::min(sizeof word, size - offset)) != 0) return false;
  }
  return true;
}

/// True when the \p size bytes at \p start are all zero.
bool all_zero(const std::byte* start, std::size_t size) noexcept {
  for (std::size_t i = 0; i < size; ++i) {
    if (start[i] != std::byte{0}) return false;
  }
  return true;
}

/// What one thread did and what it found wrong. The first part depends only
/// on the thread's seed; the second part must stay all zero.
struct Tally {
  std::size_t allocated = 0;    ///< Blocks received from malloc, calloc or an aligned allocator.
  std::size_t mapped = 0;       ///< ... of which above the mapped threshold.
  std::size_t zeroed = 0;       ///< ... of which from calloc.
  std::size_t aligned = 0;      ///< ... of which from posix_memalign, aligned_alloc or memalign.
  std::size_t reallocated = 0;  ///< Successful realloc calls.
  std::size_t freed = 0;        ///< Blocks verified and freed.
  std::size_t handed = 0;       ///< Blocks a producer put on the queue.
  std::size_t received = 0;     ///< Blocks a consumer took from the queue.

  std::size_t failed = 0;       ///< Allocations that returned NULL.
  std::size_t corrupt = 0;      ///< Blocks whose pattern did not verify.
  std::size_t broken = 0;       ///< Misaligned blocks, short usable sizes, dirty calloc blocks.

  /// Adds \p other's counts to this tally.
  void add(const Tally& other) noexcept {
    allocated += other.allocated;
    mapped += other.mapped;
    zeroed += other.zeroed;
    aligned += other.aligned;
    reallocated += other.reallocated;
    freed += other.freed;
    handed += other.handed;
    received += other.received;
    failed += other.failed;
    corrupt += other.corrupt;
    broken += other.broken;
  }
};

/// The blocks in flight from producers to consumers. push() waits while
/// the queue is full, pop() while it is empty; pop() returns nothing once
/// every producer has finished and the queue is drained.
class HandoffQueue {
 public:
  explicit HandoffQueue(int producers) noexcept : producers_left_(producers) {}

  /// Appends \p block, waiting for room.
  void push(const Block& block) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return items_.size() < kQueueCapacity; });
    items_.push_back(block);
    changed_.notify_all();
  }
  /// The oldest block, or nothing when no more will come.
  std::optional<Block> pop() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !items_.empty() || producers_left_ == 0; });
    if (items_.empty()) return std::nullopt;
    const Block block = items_.front();
    items_.pop_front();
    changed_.notify_all();
    return block;
  }
  /// Called once by each producer when it has pushed its last block.
  void producer_done() {
    const std::lock_guard lock(mutex_);
    --producers_left_;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Block> items_;  // the queue's own nodes come from malloc too
  int producers_left_;
};

/// Checks the promises every new block of \p size bytes comes with: not
/// NULL, 16-byte aligned (glibc's alignment on x86-64), at least \p size
/// usable bytes. Counts the new block, or the failure.
bool accept_new_block(void* p, std::size_t size, Tally& tally) noexcept {
  if (p == nullptr) {
    ++tally.failed;
    return false;
  }
  ++tally.allocated;
  if (size > kMappedThreshold) ++tally.mapped;
  if (reinterpret_cast<std::uintptr_t>(p) % 16 != 0) ++tally.broken;
  if (HEAP(malloc_usable_size)(p) < size) ++tally.broken;
  return true;
}

/// Verifies \p block's pattern and frees it.
void verify_and_free(const Block& block, Tally& tally) noexcept {
  if (!holds_pattern(block.start, block.size, block.seed)) ++tally.corrupt;
  HEAP(free)(block.start);
  ++tally.freed;
}

/// malloc: a new block of \p size bytes, filled with the pattern of \p seed.
std::optional<Block> new_block(std::size_t size, std::uint64_t seed, Tally& tally) noexcept {
  void* p = HEAP(malloc)(size);
  if (!accept_new_block(p, size, tally)) return std::nullopt;
  Block block{static_cast<std::byte*>(p), size, seed};
  fill(block.start, size, seed);
  return block;
}

/// calloc: a block of about \p size bytes that must arrive zeroed (it is
/// likely to reuse a freed block that held a pattern).
std::optional<Block> new_zeroed_block(std::size_t size, std::uint64_t seed, Random& random,
                                      Tally& tally) noexcept {
  const std::size_t count = 1 + random.below(16);
  const std::size_t element = size / count + 1;
  void* p = HEAP(calloc)(count, element);
  if (!accept_new_block(p, count * element, tally)) return std::nullopt;
  ++tally.zeroed;
  Block block{static_cast<std::byte*>(p), count * element, seed};
  if (!all_zero(block.start, block.size)) ++tally.broken;
  fill(block.start, block.size, seed);
  return block;
}

/// posix_memalign, aligned_alloc or memalign, with an alignment from 16 to
/// 4096 bytes that the block must honour.
std::optional<Block> new_aligned_block(std::size_t size, std::uint64_t seed, Random& random,
                                       Tally& tally) noexcept {
  const std::size_t alignment = std::size_t{16} << random.below(9);
  void* p = nullptr;
  switch (random.below(3)) {
    case 0:
      if (HEAP(posix_memalign)(&p, alignment, size) != 0) p = nullptr;
      break;
    case 1: p = HEAP(aligned_alloc)(alignment, size); break;
    default: p = HEAP(memalign)(alignment, size); break;
  }
  if (!accept_new_block(p, size, tally)) return std::nullopt;
  ++tally.aligned;
  if (reinterpret_cast<std::uintptr_t>(p) % alignment != 0) ++tally.broken;
  Block block{static_cast<std::byte*>(p), size, seed};
  fill(block.start, size, seed);
  return block;
}

/// realloc \p block to \p size bytes (never 0: realloc(p, 0) is another
/// test's business): the common prefix must survive the move; the block
/// then holds the pattern of \p seed. On failure the old block stays valid,
/// as realloc promises.
void reallocate(Block& block, std::size_t size, std::uint64_t seed, Tally& tally) noexcept {
  if (!holds_pattern(block.start, block.size, block.seed)) ++tally.corrupt;
  void* p = HEAP(realloc)(block.start, size);
  if (p == nullptr) {
    ++tally.failed;
    return;
  }
  ++tally.reallocated;
  auto* start = static_cast<std::byte*>(p);
  if (!holds_pattern(start, std::min(block.size, size), block.seed)) ++tally.corrupt;
  if (reinterpret_cast<std::uintptr_t>(p) % 16 != 0 || HEAP(malloc_usable_size)(p) < size) {
    ++tally.broken;
  }
  block = Block{start, size, seed};
  fill(start, size, seed);
}

/// One producer: kOperationsPerProducer seeded operations on its own slots,
/// handing one new block in five to the consumers.
Tally produce(int index, HandoffQueue& queue) {
  Tally tally;
  Random random(0x5eed0000u + static_cast<std::uint64_t>(index));
  std::vector<Block> slots(kSlotsPerProducer);
  for (int operation = 0; operation < kOperationsPerProducer; ++operation) {
    const std::uint64_t seed = random.next();
    const std::size_t size = pick_size(random);
    Block& slot = slots[random.below(kSlotsPerProducer)];
    const std::size_t kind = random.below(100);
    if (kind < 20) {
      if (auto block = new_block(size, seed, tally)) {
        queue.push(*block);
        ++tally.handed;
      }
      continue;
    }
    if (kind < 35 && slot.start != nullptr) {
      reallocate(slot, size + 1, seed, tally);
      continue;
    }
    std::optional<Block> block;
    if (kind < 50) {
      block = new_zeroed_block(size, seed, random, tally);
    } else if (kind < 60) {
      block = new_aligned_block(size, seed, random, tally);
    } else {
      block = new_block(size, seed, tally);
    }
    if (!block) continue;
    if (slot.start != nullptr) verify_and_free(slot, tally);
    slot = *block;
  }
  for (const Block& slot : slots) {
    if (slot.start != nullptr) verify_and_free(slot, tally);
  }
  queue.producer_done();
  return tally;
}

/// One consumer: verifies and frees the blocks other threads made, after
/// moving one in four with realloc (a realloc on another thread's block).
Tally consume(int index, HandoffQueue& queue) {
  Tally tally;
  Random random(0xc0de0000u + static_cast<std::uint64_t>(index));
  while (const std::optional<Block> taken = queue.pop()) {
    ++tally.received;
    Block block = *taken;
    if (random.below(4) == 0) reallocate(block, block.size * 2 + 16, random.next(), tally);
    verify_and_free(block, tally);
  }
  return tally;
}

}  // namespace

int main() {
  HandoffQueue queue(kProducers);
  std::vector<Tally> tallies(kProducers + kConsumers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kProducers; ++i) {
    threads.emplace_back([&, i] { tallies[static_cast<std::size_t>(i)] = produce(i, queue); });
  }
  for (int i = 0; i < kConsumers; ++i) {
    threads.emplace_back([&, i] { tallies[static_cast<std::size_t>(kProducers + i)] = consume(i, queue); });
  }
  for (std::thread& thread : threads) thread.join();

  Tally producers;
  Tally consumers;
  for (int i = 0; i < kProducers + kConsumers; ++i) {
    (i < kProducers ? producers : consumers).add(tallies[static_cast<std::size_t>(i)]);
  }
  Tally all = producers;
  all.add(consumers);

  // Only the first part of the tallies is printed: it is the same on every
  // run. The consumers' share of the frees and reallocs depends on timing.
  std::printf("shim stress: %d producer and %d consumer threads, %d operations each producer\n",
              kProducers, kConsumers, kOperationsPerProducer);
  std::printf("  %zu blocks allocated (%zu above 128 KiB, %zu by calloc, %zu aligned)\n",
              all.allocated, all.mapped, all.zeroed, all.aligned);
  std::printf("  %zu reallocated by their producer\n", producers.reallocated);
  std::printf("  %zu handed to another thread, %zu received there\n", producers.handed,
              consumers.received);
  std::printf("  %zu failed allocations, %zu corrupt blocks, %zu broken promises\n", all.failed,
              all.corrupt, all.broken);

  const bool every_block_freed = all.freed == all.allocated;
  if (!every_block_freed) std::printf("  %zu blocks were never freed\n", all.allocated - all.freed);
  const bool clean = all.failed == 0 && all.corrupt == 0 && all.broken == 0;
  return clean && every_block_freed && producers.handed == consumers.received ? 0 : 1;
}
