/// \file
/// The shim's parts, tested in-process (doctest, label `shim`): what the
/// LD_PRELOAD tests cannot reach, and what must also hold under the
/// sanitizers, where no shim can be preloaded.
///
/// - The warnings about HEAPLAB_HEAP_SIZE: their exact text, one line each.
/// - HeapLock: it knows which thread holds it, it excludes, and its fork
///   steps never wait for their own thread.
/// - MallocHeap: a misuse report held by the shim's handler comes again
///   once the heap's lock is free.
/// - SizedBlocks (the bump shim's block sizes): its own record of the live
///   blocks decides what a block is, never bytes the program wrote.
#include <doctest/doctest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "stage1_static_bump/bump_allocator.hpp"
#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/line.hpp"
#include "stage1_static_bump/misuse.hpp"
#include "tests/support/aligned_region.hpp"
#include "tests/support/recording_handler.hpp"
#include "tools/shim/heap_lock.hpp"
#include "tools/shim/heap_reservation.hpp"
#include "tools/shim/live_block_map.hpp"
#include "tools/shim/malloc_heap.hpp"
#include "tools/shim/report_line.hpp"
#include "tools/shim/sized_blocks.hpp"

namespace {

using heaplab::shim::kDefaultHeapSize;

/// What \p action writes to file descriptor 2 (the warnings' channel),
/// caught in a pipe. The warnings are short: they fit in the pipe's buffer.
template <class Action>
std::string stderr_of(Action action) {
  int ends[2];
  REQUIRE(::pipe(ends) == 0);
  const int saved = ::dup(STDERR_FILENO);
  REQUIRE(saved >= 0);
  ::dup2(ends[1], STDERR_FILENO);
  ::close(ends[1]);
  action();
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  std::string text;
  char buffer[256];
  for (ssize_t count; (count = ::read(ends[0], buffer, sizeof buffer)) > 0;) {
    text.append(buffer, static_cast<std::size_t>(count));
  }
  ::close(ends[0]);
  return text;
}

/// Sets HEAPLAB_HEAP_SIZE to a value for the length of a scope.
class HeapSizeVariable {
 public:
  explicit HeapSizeVariable(const std::string& value) { ::setenv("HEAPLAB_HEAP_SIZE", value.c_str(), 1); }
  HeapSizeVariable(const HeapSizeVariable&) = delete;
  HeapSizeVariable& operator=(const HeapSizeVariable&) = delete;
  ~HeapSizeVariable() { ::unsetenv("HEAPLAB_HEAP_SIZE"); }
};

/// The size as the warnings spell it.
std::string size_text(std::size_t bytes) {
  heaplab::Line line;
  heaplab::shim::append_size(line, bytes);
  return std::string(line.view());
}

/// The warning for a HEAPLAB_HEAP_SIZE that is not a size, quoting \p shown.
std::string not_a_size_warning(const std::string& shown) {
  return "heaplab malloc: HEAPLAB_HEAP_SIZE=\"" + shown +
         "\" is not a size (digits with an optional K, M or G, up to 8.0 EiB); using 1.0 GiB\n";
}

}  // namespace

TEST_CASE("shim: sizes in warnings are in binary units to one decimal") {
  CHECK(size_text(0) == "0 B");
  CHECK(size_text(1023) == "1023 B");
  CHECK(size_text(1024) == "1.0 KiB");
  CHECK(size_text(1536) == "1.5 KiB");
  CHECK(size_text(std::size_t{256} << 20) == "256.0 MiB");
  CHECK(size_text(std::size_t{4} << 30) == "4.0 GiB");
  CHECK(size_text(1'000'000'000'000'000) == "909.5 TiB");  // 10^15 / 2^40 = 909.49...
  // 1048575 bytes is 1023.999 KiB: rounded, 1024.0 KiB, which reads as 1.0 MiB.
  CHECK(size_text((std::size_t{1} << 20) - 1) == "1.0 MiB");
  CHECK(size_text(heaplab::kMaxRequest) == "8.0 EiB");
  CHECK(size_text(SIZE_MAX) == "16.0 EiB");
}

TEST_CASE("shim: HEAPLAB_HEAP_SIZE that is not a size gets one line and the default") {
  for (const char* value : {"abc", "256X", "-1", "0", "1.5G", "9223372036854775808"}) {
    CAPTURE(value);
    const HeapSizeVariable variable(value);
    std::size_t bytes = 0;
    const std::string warning = stderr_of([&] { bytes = heaplab::shim::heap_size_from_environment(); });
    CHECK(warning == not_a_size_warning(value));
    CHECK(bytes == kDefaultHeapSize);
  }
}

TEST_CASE("shim: a long HEAPLAB_HEAP_SIZE is quoted in part and its warning stays one line") {
  const std::string value(600, '9');
  const HeapSizeVariable variable(value);
  const std::string warning = stderr_of([] { (void)heaplab::shim::heap_size_from_environment(); });
  CHECK(warning == not_a_size_warning(std::string(40, '9') + "..."));
  CHECK(warning.size() < heaplab::Line::kCapacity);
}

TEST_CASE("shim: control characters in HEAPLAB_HEAP_SIZE cannot break its warning's line") {
  const HeapSizeVariable variable("64\nM\t");
  const std::string warning = stderr_of([] { (void)heaplab::shim::heap_size_from_environment(); });
  CHECK(warning == not_a_size_warning("64?M?"));
}

TEST_CASE("shim: a valid HEAPLAB_HEAP_SIZE is used without a word") {
  const HeapSizeVariable variable("256M");
  std::size_t bytes = 0;
  CHECK(stderr_of([&] { bytes = heaplab::shim::heap_size_from_environment(); }).empty());
  CHECK(bytes == std::size_t{256} << 20);
}

TEST_CASE("shim: a heap the kernel cannot reserve gets one line in binary units and the default") {
  std::span<std::byte> heap;
  // 8 EiB is more address space than any process has: mmap refuses it.
  const std::string warning = stderr_of([&] { heap = heaplab::shim::reserve_heap(heaplab::kMaxRequest); });
  CHECK(warning == "heaplab malloc: cannot reserve 8.0 EiB for the heap; using 1.0 GiB\n");
  REQUIRE(heap.size() == kDefaultHeapSize);
  ::munmap(heap.data(), heap.size());
}

// ---------------------------------------------------------------- HeapLock

TEST_CASE("shim: HeapLock knows whether the calling thread holds it") {
  heaplab::shim::HeapLock lock;
  CHECK_FALSE(lock.held_by_this_thread());
  lock.lock();
  CHECK(lock.held_by_this_thread());
  bool held_elsewhere = true;
  std::thread([&] { held_elsewhere = lock.held_by_this_thread(); }).join();
  CHECK_FALSE(held_elsewhere);
  lock.unlock();
  CHECK_FALSE(lock.held_by_this_thread());
}

TEST_CASE("shim: HeapLock lets one thread at a time in") {
  constexpr int kThreads = 4;
  constexpr int kRounds = 20'000;
  heaplab::shim::HeapLock lock;
  int inside = 0;        // threads between lock() and unlock(): never more than one
  long long total = 0;   // a non-atomic sum that only the lock keeps whole
  std::atomic<int> overlaps{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < kRounds; ++round) {
        lock.lock();
        if (++inside != 1) overlaps.fetch_add(1);
        ++total;
        --inside;
        lock.unlock();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(overlaps.load() == 0);
  CHECK(total == static_cast<long long>(kThreads) * kRounds);
}

TEST_CASE("shim: HeapLock's fork steps take a free lock and leave a held one as it is") {
  heaplab::shim::HeapLock lock;
  // A fork from a thread outside the heap: the lock is taken, then released.
  lock.lock_for_fork();
  CHECK(lock.held_by_this_thread());
  lock.unlock_after_fork();
  CHECK_FALSE(lock.held_by_this_thread());

  // A fork from a signal handler that interrupted this thread inside the
  // heap: the lock stays the interrupted call's, before and after, and
  // that call releases it.
  lock.lock();
  lock.lock_for_fork();
  CHECK(lock.held_by_this_thread());
  lock.unlock_after_fork();
  CHECK(lock.held_by_this_thread());
  lock.unlock();
  CHECK_FALSE(lock.held_by_this_thread());
}

// ------------------------------------------------- misuse outside the lock

namespace {

using BumpHeap = heaplab::shim::MallocHeap<heaplab::BumpAllocator>;

/// What the test's misuse handler saw.
struct HeldReports {
  BumpHeap* heap = nullptr;                        ///< The heap under test.
  int held = 0;                                     ///< Reports kept by hold_misuse().
  std::vector<heaplab::MisuseReport> delivered;     ///< Reports made again, outside the lock.
  bool served_in_handler = false;                   ///< Whether a malloc from the handler was served.
};
HeldReports held_reports;

/// The shim's handler, as malloc_api.cpp installs it, but recording: a
/// report made again outside the lock is recorded, and the handler then
/// allocates from the heap, as a SIGABRT handler may.
void hold_then_record(const heaplab::MisuseReport& report) noexcept {
  if (held_reports.heap->hold_misuse(report)) {
    ++held_reports.held;
    return;
  }
  held_reports.delivered.push_back(report);
  void* const block = held_reports.heap->allocate(32);
  held_reports.served_in_handler = block != nullptr;
  held_reports.heap->deallocate(block);
}

}  // namespace

TEST_CASE("shim: a misuse report inside the heap comes again once its lock is free") {
  const heaplab::testing::AlignedRegion region(1 << 20, 64);
  BumpHeap heap(region.bytes());
  held_reports = {&heap, 0, {}, false};
  const heaplab::MisuseHandler previous = heaplab::set_misuse_handler(&hold_then_record);

  void* const block = heap.allocate(64);
  REQUIRE(block != nullptr);
  heap.deallocate(block);
  heap.deallocate(block);  // the double free

  heaplab::set_misuse_handler(previous);
  CHECK(held_reports.held == 1);
  REQUIRE(held_reports.delivered.size() == 1);
  CHECK(held_reports.delivered[0].kind == heaplab::Misuse::double_free);
  CHECK(held_reports.delivered[0].pointer == block);
  CHECK(held_reports.served_in_handler);
}

// ------------------------------------------------------- the bump shim's record

TEST_CASE("shim: LiveBlockMap holds exactly the payloads inserted and not erased") {
  heaplab::shim::LiveBlockMap map;
  // Addresses only: the map never touches the memory it describes. Two of
  // them gigabytes apart, in leaves of their own.
  const auto at = [](std::uintptr_t address) { return reinterpret_cast<const void*>(address); };
  const std::uintptr_t low = 0x10'0000;
  const std::uintptr_t high = 0x7f12'3456'7890;
  CHECK_FALSE(map.contains(at(low)));
  REQUIRE(map.insert(at(low)));
  REQUIRE(map.insert(at(high)));
  CHECK(map.contains(at(low)));
  CHECK(map.contains(at(high)));
  for (const std::uintptr_t near : {low - 16, low + 16, low + 1, low + 8, high - 16, high + 16}) {
    CAPTURE(near);
    CHECK_FALSE(map.contains(at(near)));
  }
  map.erase(at(low));
  CHECK_FALSE(map.contains(at(low)));
  CHECK(map.contains(at(high)));
  // Beyond the 48 bits of a Linux address space: nothing is recorded.
  const std::uintptr_t beyond = std::uintptr_t{1} << 48;
  CHECK_FALSE(map.insert(at(beyond)));
  CHECK_FALSE(map.contains(at(beyond)));
}

namespace {

/// Chapter 1's bump heap with block sizes, as the bump shim has it.
using SizedBump = heaplab::shim::SizedBlocks<heaplab::BumpAllocator>;

/// Writes, at \p p + 16 inside a block of at least 48 bytes, the 16 bytes
/// of a block header {1000000, 16}, and returns \p p + 32: an interior
/// pointer that a check reading the bytes in front of it would take for
/// a block of a million bytes.
std::byte* behind_fake_header(void* p) {
  REQUIRE(p != nullptr);
  const std::size_t fake_header[2] = {1'000'000, 16};
  std::memcpy(static_cast<std::byte*>(p) + 16, fake_header, sizeof fake_header);
  return static_cast<std::byte*>(p) + 32;
}

/// A heap of type \p Heap on a region of its own, with one 64-byte block
/// and an interior pointer into it behind a block header's bytes.
template <class Heap>
struct FakeHeaderInBlock {
  heaplab::testing::AlignedRegion region{1 << 16, 64};  ///< The heap's memory.
  Heap heap{region.bytes()};                            ///< The heap under test.
  void* block = heap.allocate(64);                      ///< The one block.
  std::byte* interior = behind_fake_header(block);     ///< block + 32, behind {1000000, 16}.
};

}  // namespace

TEST_CASE("shim: SizedBlocks takes no bytes the program wrote for a block header") {
  FakeHeaderInBlock<SizedBump> fixture;
  SizedBump& heap = fixture.heap;
  void* const block = fixture.block;
  std::byte* const interior = fixture.interior;
  const auto before = heap.stats();

  const heaplab::testing::RecordingHandler handler;
  CHECK(heap.usable_size(interior) == 0);
  heap.deallocate(interior);
  CHECK(handler.count(heaplab::Misuse::interior_pointer) == 2);
  CHECK(handler.reports().size() == 2);
  const auto after = heap.stats();
  CHECK(after.requested == before.requested);
  CHECK(after.peak_requested == before.peak_requested);
  CHECK(after.live_allocations == before.live_allocations);
  CHECK(heap.usable_size(block) == 64);  // the real block is untouched
  CHECK(heap.check());
}

TEST_CASE("shim: SizedBlocks reports a second free as a double free and a misaligned pointer as interior") {
  const heaplab::testing::AlignedRegion region(1 << 16, 64);
  SizedBump heap(region.bytes());
  void* const block = heap.allocate(100);
  void* const next = heap.allocate(100);
  REQUIRE((block != nullptr && next != nullptr));

  const heaplab::testing::RecordingHandler handler;
  heap.deallocate(block);
  CHECK(handler.reports().empty());
  heap.deallocate(block);
  CHECK(heap.usable_size(block) == 0);
  CHECK(handler.count(heaplab::Misuse::double_free) == 2);
  heap.deallocate(static_cast<std::byte*>(next) + 1);
  heap.deallocate(static_cast<std::byte*>(next) + 8);
  CHECK(handler.count(heaplab::Misuse::interior_pointer) == 2);
  // A foreign pointer with 16 bytes of its own object in front: GCC at -O3
  // cannot prove the header read behind it unreachable (the pointer is not
  // the heap's), and warns for a one-int object (-Warray-bounds).
  alignas(16) std::array<std::byte, 32> on_the_stack{};
  heap.deallocate(on_the_stack.data() + 16);
  CHECK(handler.count(heaplab::Misuse::foreign_pointer) == 1);
  CHECK(heap.stats().live_allocations == 1);
  CHECK(heap.check());
}

TEST_CASE("shim: the bump heap's realloc refuses an interior pointer behind a block header's bytes") {
  FakeHeaderInBlock<BumpHeap> fixture;
  const heaplab::testing::RecordingHandler handler;
  CHECK(fixture.heap.reallocate(fixture.interior, 1000) == nullptr);
  CHECK(handler.count(heaplab::Misuse::interior_pointer) == 1);
  CHECK(fixture.heap.stats().live_allocations == 1);
  CHECK(fixture.heap.usable_size(fixture.block) == 64);
}
