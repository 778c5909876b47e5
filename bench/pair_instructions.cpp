// Instructions per allocate + free pair, counted by Valgrind's callgrind:
// a count that does not drift with the machine's load, as times do.
//
//   cmake --build build/release --target callgrind_pairs
//
// runs this program under
//
//   valgrind --tool=callgrind --collect-atstart=no ...
//
// (bench/callgrind_pairs.cmake), which prints the instructions per pair of
// each contender and their ratio. Run alone, outside Valgrind, the program
// does the same work and the client requests below do nothing.
//
// Each contender runs kWarmUp pairs first (the first allocate carves the
// block, glibc sets up its per-thread cache), then kPairs pairs with
// callgrind collecting, then a dump: one part of callgrind's output per
// contender, named after it. Only the loop is counted: the calls, the
// allocators' work, and the loop's own two or three instructions, the same
// for both sides.
#include <valgrind/callgrind.h>

#include <array>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "stage5_real_malloc/real_malloc.hpp"

namespace {

/// Pairs counted per contender: enough that the dump's own instructions
/// are far below one per pair.
constexpr int kPairs = 100'000;
/// Pairs run before counting starts.
constexpr int kWarmUp = 100;
/// The request of every pair: a small object.
constexpr std::size_t kSize = 16;

/// Makes \p p observable, so no pair can be deleted (bench_support.hpp's
/// keep_pointer_only(), without linking Google Benchmark).
[[gnu::always_inline]] inline void keep(const void* const p) noexcept { __asm__ __volatile__("" : : "r"(p)); }

/// The region our allocator carves, as the lab's and the benchmarks' do.
std::span<std::byte> region() {
  alignas(64) static std::array<std::byte, std::size_t{1} << 20> bytes{};
  return bytes;
}

/// Runs \p pairs pairs of \p allocate and \p release.
template <class Allocate, class Release>
[[gnu::noinline]] void run_pairs(int pairs, Allocate allocate, Release release) {
  for (int i = 0; i < pairs; ++i) {
    void* const p = allocate();
    keep(p);
    release(p);
  }
}

/// Warms up, then counts kPairs pairs and dumps them as the part \p name.
template <class Allocate, class Release>
void count_pairs(const char* name, Allocate allocate, Release release) {
  run_pairs(kWarmUp, allocate, release);
  CALLGRIND_TOGGLE_COLLECT;
  run_pairs(kPairs, allocate, release);
  CALLGRIND_TOGGLE_COLLECT;
  CALLGRIND_DUMP_STATS_AT(name);
}

/// Counts the pairs of one of chapter 5's allocators, \p Allocator, on a fresh
/// region, as the part \p name. False when its heap then fails check().
template <class Allocator>
bool count_ours(const char* name) {
  Allocator allocator(region());
  count_pairs(
      name, [&] { return allocator.allocate(kSize); }, [&](void* p) { allocator.deallocate(p); });
  if (allocator.check()) return true;
  std::printf("pair_instructions: the %s heap fails check()\n", name);
  return false;
}

}  // namespace

int main() {
  if (!count_ours<heaplab::SegregatedFitAllocator>("segregated_fit")) return 1;
  if (!count_ours<heaplab::QuickFitAllocator>("quick_fit")) return 1;
  if (!count_ours<heaplab::TwoLevelFitAllocator>("two_level_fit")) return 1;
  count_pairs(
      "glibc", [] { return std::malloc(kSize); }, [](void* p) { std::free(p); });
  std::printf("pair_instructions: %d pairs of %zu bytes per contender (segregated_fit, quick_fit, two_level_fit, glibc)%s\n",
              kPairs, kSize, RUNNING_ON_VALGRIND ? "" : "; run under callgrind to count them");
  return 0;
}
