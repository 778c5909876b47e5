// Threads sharing one heap: the lock-free bump allocator, and the mutex
// wrapper (Synchronized) around an allocator of every chapter, must hand
// every byte to exactly one thread, let any thread free a block that another
// thread allocated, and account for every byte afterwards.
//
// These are the tests the tsan preset runs (CTest label `thread`). Under
// ThreadSanitizer, any access to an allocator's state that the mutex (or,
// for AtomicBumpAllocator, the atomics) does not order is reported as a data
// race and fails the test; so are two threads writing to one block, which is
// what a heap that hands the same bytes out twice would cause. Without
// ThreadSanitizer the same tests still check the results: payload patterns,
// disjoint blocks, and stats that agree with what the threads did.
//
// Blocks travel between threads through mailboxes (a mutex and a queue):
// the thread that frees a block is never the one that allocated it, as
// when a producer thread hands work to a consumer in a real program.
//
// Worker threads never run a doctest assertion: they count what went wrong
// in their log, and every assertion runs on the main thread after they are
// joined.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <latch>
#include <mutex>
#include <random>
#include <span>
#include <thread>
#include <type_traits>
#include <vector>

#include "stage1_static_bump/atomic_bump_allocator.hpp"
#include "stage1_static_bump/bump_allocator.hpp"
#include "stage1_static_bump/chunk_source.hpp"
#include "stage1_static_bump/misuse.hpp"
#include "stage1_static_bump/synchronized.hpp"
#include "stage2_free_list/free_list_allocator.hpp"
#include "stage3_fit_strategies/fit_allocators.hpp"
#include "stage4_coalescing/coalescing_allocator.hpp"
#include "stage5_real_malloc/real_malloc.hpp"
#include "stage5_real_malloc/thread_caches.hpp"
#include "tests/support/aligned_region.hpp"
#include "tests/support/blocks.hpp"
#include "tests/support/test_chunk_source.hpp"

namespace {

using heaplab::testing::AlignedRegion;
using heaplab::testing::Block;
using heaplab::testing::block_at;
using heaplab::testing::fill_pattern;
using heaplab::testing::holds_pattern;

/// Threads per test: more than the machine's cores, so that threads are
/// also preempted in the middle of an operation, not only interleaved.
constexpr std::size_t kThreads = 8;

/// Runs \p work(thread_index, log) on kThreads threads that start together,
/// so that their operations really interleave, and returns their logs.
template <class Log, class Work>
std::vector<Log> run_workers(Work work) {
  std::vector<Log> logs(kThreads);
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

/// The thread that thread \p t hands its blocks to.
constexpr std::size_t next_thread(std::size_t t) noexcept { return (t + 1) % kThreads; }
/// The thread that hands its blocks to thread \p t.
constexpr std::size_t previous_thread(std::size_t t) noexcept { return (t + kThreads - 1) % kThreads; }

/// While alive, counts misuse reports from any thread instead of aborting.
/// (tests/support/recording_handler.hpp keeps a list, for one thread only.)
class MisuseCounter {
 public:
  MisuseCounter() noexcept : previous_(install()) {}
  MisuseCounter(const MisuseCounter&) = delete;
  MisuseCounter& operator=(const MisuseCounter&) = delete;
  ~MisuseCounter() { heaplab::set_misuse_handler(previous_); }

  /// Reports received since construction.
  [[nodiscard]] std::size_t reports() const noexcept { return count().load(); }

 private:
  static std::atomic<std::size_t>& count() noexcept {
    static std::atomic<std::size_t> reports{0};
    return reports;
  }
  static void record(const heaplab::MisuseReport&) noexcept { count().fetch_add(1); }
  static heaplab::MisuseHandler install() noexcept {
    count().store(0);
    return heaplab::set_misuse_handler(&record);
  }

  heaplab::MisuseHandler previous_;  ///< Restored on destruction.
};

/// A block on its way from the thread that allocated it to the thread that
/// frees it, with the pattern it was filled with.
struct Parcel {
  Block block;
  std::size_t id = 0;  ///< The block holds pattern number `id` (see fill_pattern()).
};

/// One thread's inbox: other threads post blocks to it, its owner takes
/// them all at once. The mutex also orders the sender's writes to a block
/// before the receiver's reads, as any real hand-off between threads must.
class Mailbox {
 public:
  void post(const Parcel& parcel) {
    const std::lock_guard lock(mutex_);
    parcels_.push_back(parcel);
  }
  [[nodiscard]] std::vector<Parcel> take_all() {
    std::vector<Parcel> taken;
    const std::lock_guard lock(mutex_);
    taken.swap(parcels_);
    return taken;
  }

 private:
  std::mutex mutex_;
  std::vector<Parcel> parcels_;
};

// ---- Chapter 1: bump heaps -----------------------------------------------
//
// A bump heap never gives a block back, so its threads only allocate; they
// still hand some blocks to their neighbour, which checks them and calls
// deallocate() (a no-op for the heap's own blocks, which must not be taken
// for a foreign pointer, whichever thread frees it).

constexpr std::size_t kBlocksPerThread = 1000;
constexpr std::size_t kLargestRequest = 96;
/// Every this many blocks, a thread hands one to its neighbour.
constexpr std::size_t kHandOffEvery = 4;

/// The \p i-th request size of thread \p thread: varied, 0 included.
constexpr std::size_t request_size(std::size_t thread, std::size_t i) noexcept {
  return heaplab::testing::varied_size(i + thread * 11, kLargestRequest + 1);
}

/// What one worker of a bump heap did.
struct WorkerLog {
  std::vector<Block> blocks;          ///< Blocks it received, filled with its id.
  std::size_t refused = 0;            ///< allocate() calls that returned nullptr.
  std::size_t refused_size = 0;       ///< The size of the last refused request.
  std::size_t posted = 0;             ///< Blocks handed to the next thread.
  std::size_t received = 0;           ///< Blocks received from the previous thread.
  std::size_t damaged = 0;            ///< Received blocks whose pattern had changed.
};

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

// ---- Chapter 2 on: heaps that give blocks back -----------------------------
//
// Each thread runs a repeatable random mix of every operation (allocate at
// several alignments, allocate_zeroed, reallocate, usable_size, deallocate,
// check) and hands blocks to its neighbour, which frees them. Every block
// carries a pattern of its own, checked before it is resized, handed on or
// freed: a block that two threads were given, or that the heap wrote into,
// shows up as a changed pattern.

/// Operations each thread runs.
constexpr std::size_t kOperations = 3000;
/// Most blocks a thread holds during the mix; at it, it frees instead of allocating.
constexpr std::size_t kMostLive = 48;
/// Blocks each thread allocates, and keeps, at the end of the mix.
constexpr std::size_t kFinalBlocks = 32;
/// The size of those blocks.
constexpr std::size_t kFinalBlockSize = 512;
/// A thread runs check() every this many operations.
constexpr std::size_t kCheckEvery = 256;

/// Bytes of the heaps that do not grow: several times what the threads hold
/// at once, so that even chapter 2's heap, which never splits or merges a
/// block, seldom refuses (a refusal is counted, and checked, like any answer).
constexpr std::size_t kRegionBytes = std::size_t{4} * 1024 * 1024;
/// Bytes of the first region of the heaps that grow: less than the threads
/// hold at the end (kThreads * kFinalBlocks * kFinalBlockSize), so they grow.
constexpr std::size_t kFirstRegionBytes = std::size_t{64} * 1024;
/// Requests of at least this many bytes get a mapping of their own in the
/// heaps that grow; the mix asks for some.
constexpr std::size_t kMmapThreshold = std::size_t{8} * 1024;
/// The largest request of the mix.
constexpr std::size_t kLargestMixedRequest = std::size_t{20} * 1024;

static_assert(kThreads * kFinalBlocks * kFinalBlockSize > kFirstRegionBytes,
              "the heaps that grow must outgrow their first region");

/// Where the heaps that grow get more memory: regions doubling from 64 KiB,
/// a mapping for every request of 8 KiB or more.
heaplab::Upstream growing_upstream(heaplab::ChunkSource& source) noexcept {
  return {.source = &source,
          .mmap_threshold = kMmapThreshold,
          .growth = heaplab::GrowthPolicy{.first_chunk = std::size_t{64} * 1024,
                                          .max_chunk = std::size_t{1024} * 1024,
                                          .limit = std::size_t{32} * 1024 * 1024}};
}

/// A fixture of this file: `heap`, the thread-safe allocator under test;
/// `kGrows`, whether it grows and maps large blocks (then it has `source`).
struct SynchronizedExplicitList {
  static constexpr bool kGrows = false;
  AlignedRegion memory{kRegionBytes, 4096};
  heaplab::Synchronized<heaplab::ExplicitListAllocator> heap{memory.bytes()};
};

/// Chapter 3's next fit: its roving pointer is state that every
/// allocation and every free reads and moves.
struct SynchronizedNextFit {
  static constexpr bool kGrows = false;
  AlignedRegion memory{kRegionBytes, 4096};
  heaplab::Synchronized<heaplab::NextFitAllocator> heap{memory.bytes()};
};

/// Chapter 4's coalescing allocator: every free merges with its free
/// neighbours, blocks that other threads hold among them.
struct SynchronizedCoalescing {
  static constexpr bool kGrows = false;
  AlignedRegion memory{kRegionBytes, 4096};
  heaplab::Synchronized<heaplab::CoalescingFirstFit> heap{memory.bytes()};
};

/// Quick fit as the drop-in malloc runs it: growing from the kernel's
/// pages, large blocks in mappings of their own.
struct SynchronizedQuickFitGrowing {
  static constexpr bool kGrows = true;
  AlignedRegion memory{kFirstRegionBytes, 4096};
  heaplab::MmapChunkSource source;
  heaplab::Synchronized<heaplab::QuickFitAllocator> heap{memory.bytes(), growing_upstream(source)};
};

/// Segregated fits, growing from a source that checks every chunk comes
/// back exactly as it went out.
struct SynchronizedSegregatedGrowing {
  static constexpr bool kGrows = true;
  AlignedRegion memory{kFirstRegionBytes, 4096};
  heaplab::testing::TestChunkSource source{std::size_t{64} * 1024 * 1024, 4096};
  heaplab::Synchronized<heaplab::SegregatedFitAllocator> heap{memory.bytes(), growing_upstream(source)};
};

/// Two-level fits, growing from a source that checks every chunk comes
/// back exactly as it went out.
struct SynchronizedTwoLevelGrowing {
  static constexpr bool kGrows = true;
  AlignedRegion memory{kFirstRegionBytes, 4096};
  heaplab::testing::TestChunkSource source{std::size_t{64} * 1024 * 1024, 4096};
  heaplab::Synchronized<heaplab::TwoLevelFitAllocator> heap{memory.bytes(), growing_upstream(source)};
};

/// A cache per thread in front of small pages: no Synchronized around it,
/// the heap is thread-safe by itself, and most of the mix's small blocks
/// go from thread to thread through the caches without a lock.
struct ThreadCachesOverRegion {
  static constexpr bool kGrows = false;
  AlignedRegion memory{kRegionBytes, 4096};
  heaplab::ThreadCachesAllocator heap{memory.bytes(), heaplab::Upstream{}};
};

/// Fixtures whose chunk source checks what comes back (TestChunkSource).
template <class F>
concept CountsChunks = requires(F& f) { f.source.bad_releases(); };

/// What one worker of the mixed workload did, and what it saw go wrong.
struct MixedLog {
  std::vector<Parcel> live;        ///< Blocks it holds (at the end: still allocated).
  std::size_t created = 0;         ///< New blocks: allocate(), allocate_zeroed(), and reallocate() when it moved.
  std::size_t refused = 0;         ///< Valid requests answered with nullptr (the heap was full).
  std::size_t posted = 0;          ///< Blocks handed to the next thread.
  std::size_t received = 0;        ///< Blocks received from the previous thread, and freed.
  std::size_t damaged = 0;         ///< Blocks whose pattern had changed when checked.
  std::size_t not_zeroed = 0;      ///< allocate_zeroed() blocks with a byte that was not zero.
  std::size_t misaligned = 0;      ///< Blocks not aligned as asked.
  std::size_t short_blocks = 0;    ///< usable_size() answers below the requested size.
  std::size_t failed_checks = 0;   ///< check() calls that failed.
};

/// One thread of the mixed workload on \p Heap (a Synchronized allocator).
template <class Heap>
class MixedWorker {
 public:
  MixedWorker(Heap& heap, std::vector<Mailbox>& mailboxes, std::size_t thread, MixedLog& log) noexcept
      : heap_(heap), mailboxes_(mailboxes), thread_(thread), log_(log), random_(thread + 1) {}

  /// The mix, then the final blocks; then, once every thread has posted
  /// its last block (\p all_posted), frees what is left in its mailbox.
  void run(std::latch& all_posted) {
    for (std::size_t i = 0; i < kOperations; ++i) {
      free_received();
      step(i);
    }
    for (std::size_t i = 0; i < kFinalBlocks; ++i) allocate(kFinalBlockSize, heaplab::kDefaultAlignment);
    all_posted.arrive_and_wait();
    free_received();
  }

 private:
  /// One operation: half of them make a block (or free one, when the
  /// thread holds kMostLive), the others resize, measure, hand on or free.
  void step(std::size_t i) {
    if (i % kCheckEvery == 0 && !heap_.check()) ++log_.failed_checks;
    const std::size_t choice = random_() % 16;
    if (choice < 8) {
      if (log_.live.size() >= kMostLive) {
        free_own(pick());
      } else if (choice == 7) {
        allocate_zeroed();
      } else {
        allocate(next_size(), next_alignment());
      }
    } else if (!log_.live.empty()) {
      if (choice < 10) {
        resize(pick());
      } else if (choice < 12) {
        ask_usable_size(pick());
      } else if (choice < 14) {
        hand_on(pick());
      } else {
        free_own(pick());
      }
    }
  }

  /// Mostly small requests, some medium, and one in 64 large enough to be
  /// mapped by the heaps that grow.
  std::size_t next_size() {
    const std::size_t kind = random_() % 64;
    if (kind == 0) return kMmapThreshold + random_() % (kLargestMixedRequest - kMmapThreshold);
    if (kind < 8) return 256 + random_() % 1792;
    return random_() % 256;
  }
  std::size_t next_alignment() {
    constexpr std::size_t kAlignments[] = {8, 8, 8, 8, 16, 64, 256, 4096};
    return kAlignments[random_() % std::size(kAlignments)];
  }
  std::size_t pick() { return random_() % log_.live.size(); }
  std::size_t next_id() noexcept { return thread_ + kThreads * ++serial_; }

  void allocate(std::size_t size, std::size_t align) {
    void* const p = heap_.allocate(size, align);
    if (p == nullptr) {
      ++log_.refused;
      return;
    }
    if (!heaplab::is_aligned(p, align)) ++log_.misaligned;
    keep(block_at(p, size));
  }

  void allocate_zeroed() {
    const std::size_t count = 1 + random_() % 16;
    const std::size_t size = 1 + random_() % 32;
    void* const p = heap_.allocate_zeroed(count, size);
    if (p == nullptr) {
      ++log_.refused;
      return;
    }
    const Block block = block_at(p, count * size);
    if (!std::all_of(block.start, block.start + block.size, [](std::byte b) { return b == std::byte{0}; })) {
      ++log_.not_zeroed;
    }
    keep(block);
  }

  /// Fills a new block with a pattern of its own and keeps it.
  void keep(const Block& block) {
    ++log_.created;
    const Parcel parcel{block, next_id()};
    fill_pattern(parcel.block, parcel.id);
    log_.live.push_back(parcel);
  }

  void resize(std::size_t index) {
    Parcel& parcel = log_.live[index];
    verify(parcel);
    const std::size_t size = next_size();
    void* const p = heap_.reallocate(parcel.block.start, size);
    if (p == nullptr) {  // refused: the block must be as it was
      ++log_.refused;
      verify(parcel);
      return;
    }
    if (p != parcel.block.start) ++log_.created;
    if (!heaplab::is_aligned(p, heaplab::kDefaultAlignment)) ++log_.misaligned;
    // The bytes both sizes share came along.
    verify({block_at(p, std::min(parcel.block.size, size)), parcel.id});
    parcel = {block_at(p, size), next_id()};
    fill_pattern(parcel.block, parcel.id);
  }

  void ask_usable_size(std::size_t index) {
    const Parcel& parcel = log_.live[index];
    if (heap_.usable_size(parcel.block.start) < parcel.block.size) ++log_.short_blocks;
  }

  void hand_on(std::size_t index) {
    const Parcel parcel = take(index);
    verify(parcel);
    mailboxes_[next_thread(thread_)].post(parcel);
    ++log_.posted;
  }

  void free_own(std::size_t index) {
    const Parcel parcel = take(index);
    verify(parcel);
    heap_.deallocate(parcel.block.start);
  }

  void free_received() {
    for (const Parcel& parcel : mailboxes_[thread_].take_all()) {
      verify(parcel);
      heap_.deallocate(parcel.block.start);
      ++log_.received;
    }
  }

  /// Removes the \p index-th live block from the log (order does not matter).
  Parcel take(std::size_t index) {
    const Parcel parcel = log_.live[index];
    log_.live[index] = log_.live.back();
    log_.live.pop_back();
    return parcel;
  }

  void verify(const Parcel& parcel) noexcept {
    if (!holds_pattern(parcel.block, parcel.id)) ++log_.damaged;
  }

  Heap& heap_;
  std::vector<Mailbox>& mailboxes_;
  std::size_t thread_;
  MixedLog& log_;
  std::minstd_rand random_;   ///< Seeded with the thread: each thread's choices repeat from run to run.
  std::size_t serial_ = 0;    ///< Blocks this thread has filled so far.
};

/// Sums one counter of every log.
template <class Field>
std::size_t total(const std::vector<MixedLog>& logs, Field field) {
  std::size_t sum = 0;
  for (const MixedLog& log : logs) sum += log.*field;
  return sum;
}

/// Checks what the threads must never have seen, and that every block
/// posted was received.
void check_logs(const std::vector<MixedLog>& logs) {
  CHECK(total(logs, &MixedLog::damaged) == 0);
  CHECK(total(logs, &MixedLog::not_zeroed) == 0);
  CHECK(total(logs, &MixedLog::misaligned) == 0);
  CHECK(total(logs, &MixedLog::short_blocks) == 0);
  CHECK(total(logs, &MixedLog::failed_checks) == 0);
  for (std::size_t t = 0; t < kThreads; ++t) {
    CAPTURE(t);
    CHECK(logs[t].received == logs[previous_thread(t)].posted);
  }
}

/// Checks the heap once every thread has stopped, holding the blocks in
/// \p logs: the stats count exactly those blocks and what the threads did.
template <class F>
void check_heap_holds_exactly(F& fixture, const std::vector<MixedLog>& logs) {
  std::vector<Block> survivors;
  std::size_t requested = 0;
  std::size_t large = 0;
  for (const MixedLog& log : logs) {
    for (const Parcel& parcel : log.live) {
      CHECK(holds_pattern(parcel.block, parcel.id));
      survivors.push_back(parcel.block);
      requested += parcel.block.size;
      if (parcel.block.size >= kMmapThreshold) ++large;
    }
  }
  CHECK(heaplab::testing::blocks_disjoint(survivors));
  const auto stats = fixture.heap.stats();
  heaplab::testing::check_stats_identities(stats);
  CHECK(stats.live_allocations == survivors.size());
  CHECK(stats.requested == requested);
  CHECK(stats.allocations == total(logs, &MixedLog::created));
  CHECK(stats.exhausted == total(logs, &MixedLog::refused));
  CHECK(stats.rejected == 0);  // every request of the mix was valid
  if constexpr (F::kGrows) {
    // A block is mapped exactly when it is large (a reallocate across the
    // threshold moves it in or out of a mapping).
    CHECK(stats.mapped_blocks == large);
    CHECK(stats.regions >= 2);  // the first region could not hold the final blocks
  }
  CHECK(fixture.heap.check());
}

/// Checks the heap after every block was freed: nothing live, every byte
/// back in free blocks or in the source.
template <class F>
void check_heap_empty(F& fixture) {
  const auto stats = fixture.heap.stats();
  heaplab::testing::check_stats_identities(stats);
  CHECK(stats.live_allocations == 0);
  CHECK(stats.requested == 0);
  CHECK(stats.payload_bytes == 0);
  CHECK(stats.header_bytes == 0);
  if constexpr (std::is_same_v<std::remove_cvref_t<decltype(stats)>, heaplab::FreeListStats>) {
    // Chapters 2 and 3: the heap is headers, payloads and free blocks.
    CHECK(stats.free_bytes == stats.used);
  }
  if constexpr (F::kGrows) {
    CHECK(stats.mapped_blocks == 0);
    CHECK(stats.mapped_bytes == 0);
  }
  if constexpr (CountsChunks<F>) {
    CHECK(fixture.source.releases() > 0);  // mapped blocks went back
    CHECK(fixture.source.bad_releases() == 0);
    CHECK(fixture.source.live_chunks() == stats.regions - 1);  // the grown regions, kept
  }
  CHECK(fixture.heap.check());
}

}  // namespace

TYPE_TO_STRING_AS("stage1: Synchronized BumpAllocator", heaplab::Synchronized<heaplab::BumpAllocator>);
TYPE_TO_STRING_AS("stage1: AtomicBumpAllocator", heaplab::AtomicBumpAllocator);
TYPE_TO_STRING_AS("stage2: Synchronized ExplicitListAllocator", SynchronizedExplicitList);
TYPE_TO_STRING_AS("stage3: Synchronized NextFitAllocator", SynchronizedNextFit);
TYPE_TO_STRING_AS("stage4: Synchronized CoalescingFirstFit", SynchronizedCoalescing);
TYPE_TO_STRING_AS("stage5: Synchronized QuickFitAllocator with growth and mapped blocks",
                  SynchronizedQuickFitGrowing);
TYPE_TO_STRING_AS("stage5: Synchronized SegregatedFitAllocator with growth and mapped blocks",
                  SynchronizedSegregatedGrowing);
TYPE_TO_STRING_AS("stage5: Synchronized TwoLevelFitAllocator with growth and mapped blocks",
                  SynchronizedTwoLevelGrowing);
TYPE_TO_STRING_AS("stage5: thread caches over small pages", ThreadCachesOverRegion);

TEST_SUITE("concurrency") {

TEST_CASE_TEMPLATE("threads allocating together get disjoint blocks and every byte is accounted for",
                   A, heaplab::Synchronized<heaplab::BumpAllocator>, heaplab::AtomicBumpAllocator) {
  // Room for every request, so no thread is ever refused.
  std::vector<std::byte> memory(kThreads * kBlocksPerThread * heaplab::bump_footprint(kLargestRequest));
  A heap{std::span<std::byte>(memory)};
  const MisuseCounter misuse;
  std::vector<Mailbox> mailboxes(kThreads);
  std::latch all_posted(static_cast<std::ptrdiff_t>(kThreads));

  const auto receive = [&](std::size_t t, WorkerLog& log) {
    for (const Parcel& parcel : mailboxes[t].take_all()) {
      if (!holds_id(parcel.block, parcel.id)) ++log.damaged;
      heap.deallocate(parcel.block.start);  // a no-op: the block stays allocated
      ++log.received;
    }
  };
  const std::vector<WorkerLog> logs = run_workers<WorkerLog>([&](std::size_t t, WorkerLog& log) {
    for (std::size_t i = 0; i < kBlocksPerThread; ++i) {
      receive(t, log);
      const std::size_t size = request_size(t, i);
      void* p = heap.allocate(size);
      if (p == nullptr) {
        ++log.refused;
        continue;
      }
      log.blocks.push_back(block_at(p, size));
      fill_with_id(log.blocks.back(), t);
      if (i % kHandOffEvery == 0) {
        mailboxes[next_thread(t)].post({log.blocks.back(), t});
        ++log.posted;
      }
    }
    all_posted.arrive_and_wait();
    receive(t, log);
  });

  for (std::size_t t = 0; t < kThreads; ++t) {
    CAPTURE(t);
    CHECK(logs[t].refused == 0);
    CHECK(logs[t].blocks.size() == kBlocksPerThread);
    CHECK(logs[t].posted == kBlocksPerThread / kHandOffEvery);
    CHECK(logs[t].received == logs[previous_thread(t)].posted);
    CHECK(logs[t].damaged == 0);
  }
  CHECK(misuse.reports() == 0);  // no thread's block was taken for a foreign pointer
  check_every_byte_accounted_for(heap, logs);
}

TEST_CASE_TEMPLATE("threads racing to exhaustion never overrun the region", A,
                   heaplab::Synchronized<heaplab::BumpAllocator>, heaplab::AtomicBumpAllocator) {
  // Room for fewer blocks than any one thread asks for, so that every
  // thread is refused, even one that runs alone while the others wait.
  std::vector<std::byte> memory(kBlocksPerThread * heaplab::bump_footprint(kLargestRequest) / 4);
  A heap{std::span<std::byte>(memory)};

  // Each thread allocates until its first refusal.
  const std::vector<WorkerLog> logs = run_workers<WorkerLog>([&heap](std::size_t t, WorkerLog& log) {
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

TEST_CASE_TEMPLATE("threads allocating and freeing each other's blocks leave every byte accounted for", F,
                   SynchronizedExplicitList, SynchronizedNextFit, SynchronizedCoalescing, SynchronizedQuickFitGrowing,
                   SynchronizedSegregatedGrowing, SynchronizedTwoLevelGrowing, ThreadCachesOverRegion) {
  F fixture;
  const MisuseCounter misuse;
  std::vector<Mailbox> mailboxes(kThreads);
  std::latch all_posted(static_cast<std::ptrdiff_t>(kThreads));

  // 1. The mix: every thread allocates, resizes and frees, and frees what
  //    its neighbour hands it.
  std::vector<MixedLog> logs = run_workers<MixedLog>([&](std::size_t t, MixedLog& log) {
    MixedWorker(fixture.heap, mailboxes, t, log).run(all_posted);
  });
  check_logs(logs);
  for (const MixedLog& log : logs) CHECK(log.received > 0);  // blocks really crossed threads
  CHECK(total(logs, &MixedLog::created) > total(logs, &MixedLog::refused));
  check_heap_holds_exactly(fixture, logs);

  // 2. Every thread frees the blocks its neighbour still holds, all at once.
  const std::vector<MixedLog> frees = run_workers<MixedLog>([&](std::size_t t, MixedLog& log) {
    for (const Parcel& parcel : logs[previous_thread(t)].live) {
      if (!holds_pattern(parcel.block, parcel.id)) ++log.damaged;
      fixture.heap.deallocate(parcel.block.start);
    }
  });
  CHECK(total(frees, &MixedLog::damaged) == 0);
  check_heap_empty(fixture);
  CHECK(misuse.reports() == 0);
}

}  // TEST_SUITE("concurrency")
