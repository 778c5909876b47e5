// Instructions per malloc + free pair through whatever malloc the program
// is linked or preloaded with, counted by Valgrind's callgrind. Where
// pair_instructions.cpp calls chapter 5's allocators directly, this program
// calls the C library's names, so that an LD_PRELOAD library is counted as
// a user runs it: the call through the PLT, the shim's lock and lookup,
// everything.
//
//   python3 tools/shim/measure_pair_instructions.py build/release
//
// runs it under
//
//   valgrind --tool=callgrind --collect-atstart=no ...
//
// once on glibc and once per preloaded malloc, and prints the instructions
// per pair of each and their ratio to glibc's. Run alone, outside Valgrind,
// the program does the same work and the client requests do nothing.
//
//   preload_pairs [pairs]      (default 100 000 per scenario)
//
// Four scenarios, each warmed up first, then counted and dumped as a part
// of callgrind's output named after it:
//   lifo16, lifo64    malloc(n) then free() at once, again and again: the
//                     same block comes back each time (a fast path's best case);
//   batch16, batch64  1000 mallocs of n bytes, then the 1000 frees, in the
//                     same order: a cache must hold a thousand blocks.
#include <valgrind/callgrind.h>

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

/// Pairs counted per scenario unless the command line says otherwise:
/// enough that a dump's own instructions are far below one per pair.
constexpr long kDefaultPairs = 100'000;
/// Blocks alive at once in a batch scenario.
constexpr std::size_t kBatch = 1000;

/// Makes \p p observable, so that no pair can be deleted.
[[gnu::always_inline]] inline void keep(const void* const p) noexcept { __asm__ __volatile__("" : : "r"(p)); }

/// \p pairs pairs of malloc(\p size) and free, one block at a time.
[[gnu::noinline]] void lifo(long pairs, std::size_t size) {
  for (long i = 0; i < pairs; ++i) {
    void* const p = std::malloc(size);
    keep(p);
    std::free(p);
  }
}

/// \p pairs pairs of malloc(\p size) and free, kBatch blocks at a time
/// (rounded down to whole batches).
[[gnu::noinline]] void batches(long pairs, std::size_t size) {
  static std::array<void*, kBatch> blocks{};
  for (long done = 0; done + static_cast<long>(kBatch) <= pairs; done += static_cast<long>(kBatch)) {
    for (void*& block : blocks) {
      block = std::malloc(size);
      keep(block);
    }
    for (void* block : blocks) std::free(block);
  }
}

/// Runs \p scenario once uncounted (the first calls set a malloc up), then
/// counts it and dumps the count as the part \p name.
template <class Scenario>
void count(const char* name, long pairs, Scenario scenario) {
  scenario(static_cast<long>(kBatch));
  CALLGRIND_TOGGLE_COLLECT;
  scenario(pairs);
  CALLGRIND_TOGGLE_COLLECT;
  CALLGRIND_DUMP_STATS_AT(name);
}

/// The command line's pair count: a whole number of batches, at least one.
long parse_pairs(int argc, char** argv) {
  if (argc == 1) return kDefaultPairs;
  const std::string_view text = argv[1];
  long pairs = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), pairs);
  if (argc > 2 || error != std::errc{} || end != text.data() + text.size() || pairs <= 0 ||
      pairs % static_cast<long>(kBatch) != 0) {
    return 0;
  }
  return pairs;
}

}  // namespace

int main(int argc, char** argv) {
  const long pairs = parse_pairs(argc, argv);
  if (pairs == 0) {
    std::fprintf(stderr, "usage: preload_pairs [pairs, a positive multiple of %zu]\n", kBatch);
    return 2;
  }
  count("lifo16", pairs, [](long n) { lifo(n, 16); });
  count("lifo64", pairs, [](long n) { lifo(n, 64); });
  count("batch16", pairs, [](long n) { batches(n, 16); });
  count("batch64", pairs, [](long n) { batches(n, 64); });
  std::printf("preload_pairs: %ld pairs per scenario (lifo16 lifo64 batch16 batch64)%s\n", pairs,
              RUNNING_ON_VALGRIND ? "" : "; run under callgrind to count them");
  return 0;
}
