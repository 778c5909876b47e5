/// \file
/// A multi-threaded malloc/free mix, for measuring a malloc from the outside
/// (tools/shim/measure_real_programs.py runs it on glibc, on the course's
/// shims and on the production allocators).
///
///   malloc_mix <threads> <operations per thread> [--cross]
///
/// Each thread keeps an array of kSlots live blocks and runs a seeded
/// sequence of operations on it: pick a slot; if it is empty, malloc a
/// block of 8 to 4096 bytes into it; if it holds a block, free it. With
/// --cross, one block in two leaves its thread instead: it is handed, in
/// batches, to the next thread (the last hands to the first), which frees
/// it, so that half the frees happen on another thread than the malloc.
///
///   thread 0 --batch--> thread 1 --batch--> ... --batch--> thread N-1
///      ^                                                       |
///      +-------------------------------------------------------+
///
/// Each block carries a tag in its first and last bytes, checked before it
/// is freed. The output (counts, and a checksum of every tag and size) is
/// the same whatever the timing and the malloc, so the measurement compares
/// it with glibc's; the program exits with 1 if malloc returned NULL or a
/// tag did not survive.
#include <atomic>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "seeded_random.hpp"

namespace {

constexpr std::size_t kSlots = 1024;        // live blocks per thread at most
constexpr std::size_t kMinSize = 8;         // the smallest request: room for the tag
constexpr std::size_t kMaxSize = 4096;      // the largest request
constexpr std::size_t kBatch = 64;          // blocks handed over at once
constexpr int kDrainEvery = 64;             // operations between looks at the inbox
constexpr std::size_t kMaxPending = 8 * kBatch;  // blocks an inbox holds before senders wait

using heaplab::shim::test::Random;

/// One live block: where it is, how many bytes were asked for, its tag.
struct Block {
  std::byte* start = nullptr;  ///< The block, as malloc returned it.
  std::size_t size = 0;        ///< The bytes asked for.
  std::uint64_t tag = 0;       ///< What its first 8 bytes hold.
};

/// What the threads did; the sums do not depend on which thread freed what.
struct Totals {
  std::atomic<std::uint64_t> allocations{0};  ///< Blocks received from malloc.
  std::atomic<std::uint64_t> bytes{0};        ///< Bytes asked for, in all.
  std::atomic<std::uint64_t> handed{0};       ///< Blocks handed to another thread to free.
  std::atomic<std::uint64_t> checksum{0};     ///< Sum (modulo 2^64) over the freed blocks of tag ^ size.
  std::atomic<std::uint64_t> failures{0};     ///< NULL from malloc, or a broken tag.
};

/// True when a block of \p size bytes has room for an end mark (the tag's
/// low byte in its last byte) after the tag: a block of 8 bytes is all tag.
constexpr bool has_end_mark(std::size_t size) noexcept { return size > sizeof(std::uint64_t); }

/// malloc: a block of \p size bytes, tagged with \p tag at both ends (the
/// last byte too, so a block shorter than asked for is likely caught).
bool allocate(Block& block, std::size_t size, std::uint64_t tag) noexcept {
  void* p = std::malloc(size);
  if (p == nullptr) return false;
  block = Block{static_cast<std::byte*>(p), size, tag};
  std::memcpy(block.start, &tag, sizeof tag);
  if (has_end_mark(size)) block.start[size - 1] = static_cast<std::byte>(tag);
  return true;
}

/// Checks \p block's tag, frees it, and returns what it adds to the
/// checksum (0 for a broken tag, counted in \p failures).
std::uint64_t release(const Block& block, std::uint64_t& failures) noexcept {
  std::uint64_t stored = 0;
  std::memcpy(&stored, block.start, sizeof stored);
  const bool intact = stored == block.tag && (!has_end_mark(block.size) ||
                                              block.start[block.size - 1] == static_cast<std::byte>(block.tag));
  std::free(block.start);
  if (!intact) {
    ++failures;
    return 0;
  }
  return block.tag ^ block.size;
}

/// The blocks handed to one thread, in batches: the lock is taken once per
/// batch, so the handing costs the program little next to the malloc calls.
///
/// A sender waits while the inbox holds kMaxPending blocks or more:
/// without that, a thread the scheduler leaves aside would let blocks pile
/// up, and the peak memory measured would be the scheduler's, not the
/// malloc's.
class Inbox {
 public:
  /// Adds \p batch (emptied) to the inbox.
  void put(std::vector<Block>& batch) {
    const std::lock_guard lock(mutex_);
    blocks_.insert(blocks_.end(), batch.begin(), batch.end());
    pending_.store(blocks_.size(), std::memory_order_relaxed);
    batch.clear();
  }
  /// Moves every block of the inbox into \p out (emptied first).
  void take(std::vector<Block>& out) {
    out.clear();
    const std::lock_guard lock(mutex_);
    out.swap(blocks_);
    pending_.store(0, std::memory_order_relaxed);
  }
  /// True when a sender should wait before putting more.
  [[nodiscard]] bool full() const noexcept { return pending_.load(std::memory_order_relaxed) >= kMaxPending; }

 private:
  std::mutex mutex_;
  std::vector<Block> blocks_;
  std::atomic<std::size_t> pending_{0};
};

/// One thread's share of the run, its counts kept locally until the end.
class Worker {
 public:
  Worker(int index, bool cross, Inbox& own, Inbox& next, std::atomic<long>& running) noexcept
      : random_(0x6d6978000000ULL + static_cast<std::uint64_t>(index)),
        cross_(cross),
        own_(own),
        next_(next),
        running_(running) {}

  /// Runs \p operations operations, frees what is left, adds to \p totals.
  void run(long operations, Totals& totals) {
    std::vector<Block> slots(kSlots);
    outbox_.reserve(kBatch);
    for (long operation = 0; operation < operations; ++operation) {
      step(slots[random_.below(kSlots)]);
      if ((operation + 1) % kDrainEvery == 0) drain();
    }
    for (const Block& slot : slots) {
      if (slot.start != nullptr) checksum_ += release(slot, failures_);
    }
    if (!outbox_.empty()) hand_over();
    // This thread hands over nothing more, but its neighbour may: it keeps
    // emptying its inbox until every thread is done, so that no sender
    // waits forever and no block waits for the end of the run.
    running_.fetch_sub(1, std::memory_order_acq_rel);
    while (cross_ && running_.load(std::memory_order_acquire) > 0) {
      drain();
      std::this_thread::yield();
    }
    drain();
    totals.allocations += allocations_;
    totals.bytes += bytes_;
    totals.handed += handed_;
    totals.checksum += checksum_;
    totals.failures += failures_;
  }

 private:
  /// One operation on \p slot: fill it if empty, else free (or hand over) its block.
  void step(Block& slot) {
    const std::uint64_t bits = random_.next();
    if (slot.start == nullptr) {
      const std::size_t size = kMinSize + static_cast<std::size_t>(bits % (kMaxSize - kMinSize + 1));
      if (!allocate(slot, size, bits)) {
        ++failures_;
        return;
      }
      ++allocations_;
      bytes_ += size;
      return;
    }
    // The top bit decides (the low bits chose the block's size): the choice
    // is part of the seeded sequence, never of the timing.
    if (cross_ && (bits >> 63) != 0) {
      outbox_.push_back(slot);
      ++handed_;
      if (outbox_.size() == kBatch) hand_over();
    } else {
      checksum_ += release(slot, failures_);
    }
    slot = Block{};
  }
  /// Puts the outbox into the next thread's inbox, once it has room. While
  /// waiting, this thread empties its own inbox: if every thread waits,
  /// every inbox empties, so the ring never stalls.
  void hand_over() {
    while (next_.full()) {
      drain();
      std::this_thread::yield();
    }
    next_.put(outbox_);
  }
  /// Frees the blocks other threads handed to this one.
  void drain() {
    own_.take(received_);
    for (const Block& block : received_) checksum_ += release(block, failures_);
  }

  Random random_;
  bool cross_;
  Inbox& own_;
  Inbox& next_;
  std::atomic<long>& running_;  // threads not yet done handing over
  std::vector<Block> outbox_;
  std::vector<Block> received_;
  std::uint64_t allocations_ = 0;
  std::uint64_t bytes_ = 0;
  std::uint64_t handed_ = 0;
  std::uint64_t checksum_ = 0;
  std::uint64_t failures_ = 0;
};

/// \p text as a positive number, or 0 when it is not one.
long positive(std::string_view text) noexcept {
  long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc{} && end == text.data() + text.size() && value > 0 ? value : 0;
}

}  // namespace

int main(int argc, char** argv) {
  const long threads = argc >= 3 ? positive(argv[1]) : 0;
  const long operations = argc >= 3 ? positive(argv[2]) : 0;
  const bool cross = argc == 4 && std::string_view(argv[3]) == "--cross";
  if (threads == 0 || threads > 1024 || operations == 0 || (argc == 4 && !cross) || argc > 4) {
    std::fprintf(stderr, "usage: malloc_mix <threads 1..1024> <operations per thread> [--cross]\n");
    return 2;
  }
  std::vector<Inbox> inboxes(static_cast<std::size_t>(threads));
  std::atomic<long> running{threads};
  Totals totals;
  {
    std::vector<std::jthread> workers;
    for (long t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        Inbox& next = inboxes[static_cast<std::size_t>((t + 1) % threads)];
        Worker(static_cast<int>(t), cross, inboxes[static_cast<std::size_t>(t)], next, running)
            .run(operations, totals);
      });
    }
  }  // every thread joined here, every inbox emptied by its owner
  std::printf("malloc_mix: threads %ld, operations per thread %ld, cross-thread frees: %s\n", threads, operations,
              cross ? "yes" : "no");
  std::printf("allocations %llu, bytes %llu, handed over %llu, checksum %016llx\n",
              static_cast<unsigned long long>(totals.allocations.load()),
              static_cast<unsigned long long>(totals.bytes.load()),
              static_cast<unsigned long long>(totals.handed.load()),
              static_cast<unsigned long long>(totals.checksum.load()));
  if (totals.failures != 0) {
    std::fprintf(stderr, "malloc_mix: %llu failures (NULL from malloc or a broken tag)\n",
                 static_cast<unsigned long long>(totals.failures.load()));
    return 1;
  }
  return 0;
}
