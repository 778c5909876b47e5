// Chapter 1 benchmarks: the bump allocator against the physical limit of a
// bump, against std::pmr's bump (monotonic_buffer_resource) and against
// glibc malloc, side by side in one run. The ratio table at the end of the
// run (see ratio_reporter.hpp) judges the chapter's targets:
//
//   stage-1 allocate      within 1.2x of a raw pointer bump
//                         at least 2x faster than pmr monotonic via memory_resource
//                         at least 8x faster than a glibc malloc + free pair
//   stress round          at least 10x faster than glibc malloc, freeing each
//
// How the comparisons are kept fair (the general rules are in
// bench_support.hpp):
// - Raw bump, stage 1 and pmr carve the same buffer, 16 bytes at a time,
//   1024 allocations per timed iteration, then one release each (assigning
//   the pointer, reset(), release()). glibc gets the same 16-byte requests.
// - Every pointer goes through keep() (benchmark::DoNotOptimize), so no
//   malloc/free pair is elided, and every contender keeps its state in
//   memory, the raw bump included: the 1.2x target compares the code of
//   allocate(), not a register against a memory round trip.
// - The "tight_loop16" rows repeat the four single-allocation benchmarks
//   with keep_pointer_only(), where the compiler may keep allocator state in
//   registers for a whole batch. They judge nothing; they show how much a
//   memory round trip per allocation costs, and whether allocate() lets the
//   compiler avoid it (any call in the loop, even on a path never taken,
//   forces the state back to memory).
// - glibc's side of the typed helpers and of the stress round does the same
//   payload work as make.hpp (zeroing the ints, copying the characters).
//
// The Go seed's benchmarks map to these names:
//   BenchmarkBumpAlloc            alloc16/stage1_allocate
//   BenchmarkBumpMakeObject       make_object/stage1       (make<Point>)
//   BenchmarkBumpMakeSlice        make_slice/stage1        (make_array<int>(100))
//   BenchmarkBumpMakeString       make_string/stage1       (make_string, 32 chars)
//   BenchmarkBumpAllocatorStress  stress/stage1_reset
//   BenchmarkHeapAllocatorStress  stress/glibc_free_each
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory_resource>
#include <new>
#include <span>
#include <string_view>
#include <utility>

#include "bench/bench_support.hpp"
#include "bench/ratio_reporter.hpp"
#include "stage1_static_bump/bump_allocator.hpp"
#include "stage1_static_bump/make.hpp"

namespace {

using heaplab::BumpAllocator;
using heaplab::bench::count_items;
using heaplab::bench::escape;
using heaplab::bench::keep;
using heaplab::bench::shared_buffer;

// Benchmark names, used both to register the benchmarks and to name the
// two sides of each comparison.
constexpr const char* kRawBump = "alloc16/raw_bump";
constexpr const char* kStage1Allocate = "alloc16/stage1_allocate";
constexpr const char* kPmrMonotonic = "alloc16/pmr_monotonic";
constexpr const char* kMallocFree = "alloc16/glibc_malloc_free";
constexpr const char* kTightRawBump = "tight_loop16/raw_bump";
constexpr const char* kTightStage1Allocate = "tight_loop16/stage1_allocate";
constexpr const char* kTightPmrMonotonic = "tight_loop16/pmr_monotonic";
constexpr const char* kTightMallocFree = "tight_loop16/glibc_malloc_free";
constexpr const char* kStage1Batch = "batch1024/stage1_then_reset";
constexpr const char* kMallocBatch = "batch1024/glibc_malloc_then_free";
constexpr const char* kStage1Object = "make_object/stage1";
constexpr const char* kMallocObject = "make_object/glibc";
constexpr const char* kStage1Slice = "make_slice/stage1";
constexpr const char* kMallocSlice = "make_slice/glibc";
constexpr const char* kStage1String = "make_string/stage1";
constexpr const char* kMallocString = "make_string/glibc";
constexpr const char* kStage1Stress = "stress/stage1_reset";
constexpr const char* kMallocStress = "stress/glibc_free_each";

/// The request size of the single-allocation comparisons: a small object,
/// already a multiple of 8, so no allocator has rounding to do.
constexpr std::size_t kSmall = 16;
/// Allocations per timed iteration: enough to make the one reset per batch
/// negligible, few enough (16 KiB) to stay in the L1 cache.
constexpr int kBatch = 1024;
/// Batches for the typed helpers, sized to stay well inside shared_buffer().
constexpr int kObjectBatch = 1024;  // 1024 x 16 B
constexpr int kSliceBatch = 32;     // 32 x 400 B
constexpr int kStringBatch = 256;   // 256 x 40 B (32 chars + NUL, rounded to 8)
constexpr std::size_t kSliceLength = 100;
constexpr std::string_view kText32 = "heaplab: 32 characters of text!!";
static_assert(kText32.size() == 32);
// Every batch fits the shared buffer, so no contender ever runs out (and
// times its refusal path) in the middle of one.
static_assert(kBatch * kSmall <= heaplab::bench::kSharedBufferSize);
static_assert(kSliceBatch * kSliceLength * sizeof(int) <= heaplab::bench::kSharedBufferSize);
static_assert(kStringBatch * heaplab::bump_footprint(kText32.size() + 1) <=
              heaplab::bench::kSharedBufferSize);

/// The Go seed's "small structs".
struct Point {
  double x;
  double y;
};
struct Account {
  std::int64_t id;
  double balance;
  std::int32_t flags;
};
static_assert(kObjectBatch * sizeof(Point) <= heaplab::bench::kSharedBufferSize);

// ---------------------------------------------------------------------------
// The contenders that are not in the library.

/// The least any correct bump allocator must do: check the room, hand out
/// the pointer, move it. No alignment work (callers pass multiples of 8),
/// no statistics. This is the floor stage 1 is measured against.
struct RawBump {
  std::byte* next;
  std::byte* end;

  [[gnu::always_inline]] void* allocate(std::size_t size) noexcept {
    if (size > static_cast<std::size_t>(end - next)) return nullptr;
    std::byte* const block = next;
    next += size;
    return block;
  }
};

// glibc's side of the typed helpers: line for line the construction that
// make.hpp does, on memory from std::malloc, so both sides of a comparison
// do the same payload work (zeroing the ints, copying the characters).

template <class T, class... Args>
T* malloc_make(Args&&... args) noexcept {
  void* memory = std::malloc(sizeof(T));
  if (memory == nullptr) return nullptr;
  return ::new (memory) T(std::forward<Args>(args)...);
}

template <class T>
std::span<T> malloc_array(std::size_t count) noexcept {
  if (count > heaplab::kMaxRequest / sizeof(T)) return {};
  void* memory = std::malloc(count * sizeof(T));
  if (memory == nullptr) return {};
  T* first = static_cast<T*>(memory);
  for (std::size_t i = 0; i < count; ++i) ::new (first + i) T();
  return {first, count};
}

std::string_view malloc_string(std::string_view text) noexcept {
  if (text.size() >= heaplab::kMaxRequest) return {};
  auto* copy = static_cast<char*>(std::malloc(text.size() + 1));
  if (copy == nullptr) return {};
  if (!text.empty()) std::memcpy(copy, text.data(), text.size());
  copy[text.size()] = '\0';
  return {copy, text.size()};
}

/// Marks the run as broken if \p heap refused anything: the loop would then
/// have timed refusals, not allocations. Checked after the timed loop.
void expect_all_served(benchmark::State& state, const BumpAllocator& heap) {
  const heaplab::HeapStats stats = heap.stats();
  if (stats.exhausted != 0 || stats.rejected != 0) {
    state.SkipWithError("the stage-1 heap refused a request; nothing was timed");
  }
}

// ---------------------------------------------------------------------------
// Single allocations of 16 bytes: batches of kBatch, then one release.
// Each runs twice: as the targets are judged (every pointer through keep()),
// and as a tight loop (keep_pointer_only(), see bench_support.hpp).

/// How a benchmark observes each pointer it gets.
enum class Observe {
  pointer_and_memory,  ///< keep(): the standard DoNotOptimize barrier.
  pointer_only,        ///< keep_pointer_only(): allocator state may stay in registers.
};

template <Observe how>
[[gnu::always_inline]] inline void observe(const void* const p) noexcept {
  if constexpr (how == Observe::pointer_and_memory) {
    keep(p);
  } else {
    heaplab::bench::keep_pointer_only(p);
  }
}

template <Observe how>
void raw_bump(benchmark::State& state) {
  const std::span<std::byte> buffer = shared_buffer();
  RawBump bump{buffer.data(), buffer.data() + buffer.size()};
  escape(&bump);
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) observe<how>(bump.allocate(kSmall));
    bump.next = buffer.data();  // The raw bump's reset.
  }
  count_items(state, kBatch);
}

template <Observe how>
void stage1_allocate(benchmark::State& state) {
  BumpAllocator heap(shared_buffer());
  escape(&heap);
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) observe<how>(heap.allocate(kSmall));
    heap.reset();
  }
  count_items(state, kBatch);
  expect_all_served(state, heap);
}

template <Observe how>
void pmr_monotonic(benchmark::State& state) {
  const std::span<std::byte> buffer = shared_buffer();
  // The null upstream keeps the resource inside the shared buffer: growing
  // would throw instead of quietly timing operator new.
  std::pmr::monotonic_buffer_resource monotonic(buffer.data(), buffer.size(),
                                                std::pmr::null_memory_resource());
  std::pmr::memory_resource* resource = &monotonic;
  // Forget which resource this is, as any code handed a memory_resource*
  // must: every allocate() is then a virtual call, never devirtualised.
  benchmark::DoNotOptimize(resource);
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) {
      observe<how>(resource->allocate(kSmall, heaplab::kDefaultAlignment));
    }
    monotonic.release();
  }
  count_items(state, kBatch);
}

template <Observe how>
void glibc_malloc_free(benchmark::State& state) {
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) {
      void* block = std::malloc(kSmall);
      observe<how>(block);
      std::free(block);
    }
  }
  count_items(state, kBatch);
}

// ---------------------------------------------------------------------------
// A batch kept alive together, then released: the bump heap's home ground,
// and a harder case for malloc, whose per-thread cache holds only a few
// blocks of each size.

void stage1_batch_then_reset(benchmark::State& state) {
  BumpAllocator heap(shared_buffer());
  escape(&heap);
  std::array<void*, kBatch> blocks{};
  for (auto _ : state) {
    for (void*& block : blocks) keep(block = heap.allocate(kSmall));
    heap.reset();
  }
  count_items(state, kBatch);
  expect_all_served(state, heap);
}

void glibc_batch_then_free(benchmark::State& state) {
  std::array<void*, kBatch> blocks{};
  for (auto _ : state) {
    for (void*& block : blocks) keep(block = std::malloc(kSmall));
    for (void* block : blocks) std::free(block);
  }
  count_items(state, kBatch);
}

// ---------------------------------------------------------------------------
// The Go seed's typed helpers (MakeObject, MakeSlice, MakeString).

void stage1_make_object(benchmark::State& state) {
  BumpAllocator heap(shared_buffer());
  escape(&heap);
  for (auto _ : state) {
    for (int i = 0; i < kObjectBatch; ++i) keep(heaplab::make<Point>(heap, 1.0, 2.0));
    heap.reset();
  }
  count_items(state, kObjectBatch);
  expect_all_served(state, heap);
}

void glibc_make_object(benchmark::State& state) {
  for (auto _ : state) {
    for (int i = 0; i < kObjectBatch; ++i) {
      Point* point = malloc_make<Point>(1.0, 2.0);
      keep(point);
      std::free(point);
    }
  }
  count_items(state, kObjectBatch);
}

void stage1_make_slice(benchmark::State& state) {
  BumpAllocator heap(shared_buffer());
  escape(&heap);
  for (auto _ : state) {
    for (int i = 0; i < kSliceBatch; ++i) keep(heaplab::make_array<int>(heap, kSliceLength).data());
    heap.reset();
  }
  count_items(state, kSliceBatch);
  expect_all_served(state, heap);
}

void glibc_make_slice(benchmark::State& state) {
  for (auto _ : state) {
    for (int i = 0; i < kSliceBatch; ++i) {
      int* slice = malloc_array<int>(kSliceLength).data();
      keep(slice);
      std::free(slice);
    }
  }
  count_items(state, kSliceBatch);
}

void stage1_make_string(benchmark::State& state) {
  BumpAllocator heap(shared_buffer());
  escape(&heap);
  for (auto _ : state) {
    for (int i = 0; i < kStringBatch; ++i) keep(heaplab::make_string(heap, kText32).data());
    heap.reset();
  }
  count_items(state, kStringBatch);
  expect_all_served(state, heap);
}

void glibc_make_string(benchmark::State& state) {
  for (auto _ : state) {
    for (int i = 0; i < kStringBatch; ++i) {
      const char* text = malloc_string(kText32).data();
      keep(text);
      std::free(const_cast<char*>(text));
    }
  }
  count_items(state, kStringBatch);
}

// ---------------------------------------------------------------------------
// The Go seed's stress loop. One round: a few primitives, two small
// structs, a slice of 100 ints and a 32-character string, all alive
// together; then the bump heap resets, and glibc frees each one.

void stage1_stress_round(BumpAllocator& heap) {
  keep(heaplab::make<int>(heap, 42));
  keep(heaplab::make<double>(heap, 3.25));
  keep(heaplab::make<std::int64_t>(heap, std::int64_t{1} << 40));
  keep(heaplab::make<bool>(heap, true));
  keep(heaplab::make<Point>(heap, 1.0, 2.0));
  keep(heaplab::make<Account>(heap, std::int64_t{7}, 99.5, std::int32_t{3}));
  keep(heaplab::make_array<int>(heap, kSliceLength).data());
  keep(heaplab::make_string(heap, kText32).data());
}

void glibc_stress_round() {
  int* number = malloc_make<int>(42);
  keep(number);
  double* real = malloc_make<double>(3.25);
  keep(real);
  std::int64_t* big = malloc_make<std::int64_t>(std::int64_t{1} << 40);
  keep(big);
  bool* flag = malloc_make<bool>(true);
  keep(flag);
  Point* point = malloc_make<Point>(1.0, 2.0);
  keep(point);
  Account* account = malloc_make<Account>(std::int64_t{7}, 99.5, std::int32_t{3});
  keep(account);
  int* slice = malloc_array<int>(kSliceLength).data();
  keep(slice);
  const char* text = malloc_string(kText32).data();
  keep(text);

  std::free(number);
  std::free(real);
  std::free(big);
  std::free(flag);
  std::free(point);
  std::free(account);
  std::free(slice);
  std::free(const_cast<char*>(text));
}

void stage1_stress(benchmark::State& state) {
  BumpAllocator heap(shared_buffer());
  escape(&heap);
  for (auto _ : state) {
    stage1_stress_round(heap);
    heap.reset();
  }
  count_items(state, 1);
  expect_all_served(state, heap);
}

void glibc_stress(benchmark::State& state) {
  for (auto _ : state) glibc_stress_round();
  count_items(state, 1);
}

// ---------------------------------------------------------------------------
// Registration, in the order the table prints them.

constexpr Observe kJudged = Observe::pointer_and_memory;
constexpr Observe kTight = Observe::pointer_only;
BENCHMARK(raw_bump<kJudged>)->Name(kRawBump);
BENCHMARK(stage1_allocate<kJudged>)->Name(kStage1Allocate);
BENCHMARK(pmr_monotonic<kJudged>)->Name(kPmrMonotonic);
BENCHMARK(glibc_malloc_free<kJudged>)->Name(kMallocFree);
BENCHMARK(raw_bump<kTight>)->Name(kTightRawBump);
BENCHMARK(stage1_allocate<kTight>)->Name(kTightStage1Allocate);
BENCHMARK(pmr_monotonic<kTight>)->Name(kTightPmrMonotonic);
BENCHMARK(glibc_malloc_free<kTight>)->Name(kTightMallocFree);
BENCHMARK(stage1_batch_then_reset)->Name(kStage1Batch);
BENCHMARK(glibc_batch_then_free)->Name(kMallocBatch);
BENCHMARK(stage1_make_object)->Name(kStage1Object);
BENCHMARK(glibc_make_object)->Name(kMallocObject);
BENCHMARK(stage1_make_slice)->Name(kStage1Slice);
BENCHMARK(glibc_make_slice)->Name(kMallocSlice);
BENCHMARK(stage1_make_string)->Name(kStage1String);
BENCHMARK(glibc_make_string)->Name(kMallocString);
BENCHMARK(stage1_stress)->Name(kStage1Stress);
BENCHMARK(glibc_stress)->Name(kMallocStress);

using heaplab::bench::Goal;

[[maybe_unused]] const bool kStage1Ratios = heaplab::bench::register_comparisons({
    {"stage-1 allocate / raw pointer bump", kStage1Allocate, kRawBump, Goal::at_most, 1.2},
    {"pmr monotonic via memory_resource / stage-1 allocate", kPmrMonotonic, kStage1Allocate,
     Goal::at_least, 2.0},
    {"glibc malloc+free pair / stage-1 allocate", kMallocFree, kStage1Allocate, Goal::at_least,
     8.0},
    {"stress round: glibc, free each / stage-1, reset", kMallocStress, kStage1Stress,
     Goal::at_least, 10.0},
    {"tight loop: stage-1 allocate / raw pointer bump", kTightStage1Allocate, kTightRawBump},
    {"tight loop: pmr monotonic / stage-1 allocate", kTightPmrMonotonic, kTightStage1Allocate},
    {"tight loop: glibc malloc+free pair / stage-1 allocate", kTightMallocFree,
     kTightStage1Allocate},
    {"batch of 1024: glibc malloc then free / stage-1 then reset", kMallocBatch, kStage1Batch},
    {"make<Point>: glibc / stage-1", kMallocObject, kStage1Object},
    {"make_array<int>(100): glibc / stage-1", kMallocSlice, kStage1Slice},
    {"make_string (32 chars): glibc / stage-1", kMallocString, kStage1String},
});

}  // namespace
