/// \file
/// The model-based random test, shared by every allocator that gives single
/// blocks back (heaplab::Reallocating, stage 2 on). The allocators are the
/// fixtures listed in ReallocatingAllocators (allocator_fixtures.hpp): a new
/// stage adds its fixtures there and this test runs over them unchanged.
///
/// A reference model keeps every live block (where it is, how many bytes were
/// asked for, which pattern fills it), and random operations run on the
/// allocator and the model side by side: allocate, allocate_zeroed,
/// deallocate and reallocate, with sizes from several distributions and
/// sometimes a large alignment. After every operation:
///   - check() passes;
///   - stats() agrees with the model (live allocations, requested bytes) and
///     counts a refusal as exhausted or rejected, as the contract says;
///   - a new block is aligned, owned by the heap, and overlaps no live block;
///   - a block about to be freed or resized still holds its pattern, and a
///     resized block kept the first min(old, new) bytes;
/// and every live block is verified in full at regular intervals.
///
/// Runs are deterministic. The seed fixes every choice, on every platform
/// (the distributions are written out below, because the standard leaves
/// std::uniform_int_distribution's output to the library); the allocators'
/// answers depend on their region's address only modulo 4096, and the
/// fixtures' regions are page-aligned or static, so a seed replays the same
/// run in every process of a build, alone or after other seeds.
///
/// CTest runs the fixed seeds kSeeds with kDefaultOperations operations each
/// (fewer in the sanitizer build, which defines HEAPLAB_MODEL_SANITIZED_BUILD),
/// divided by the fixture's model_operations_divisor where it has one (the
/// nine heaps of chapter 4 run a share each, see allocator_fixtures.hpp).
/// For a long run by hand, two environment variables override them:
///   HEAPLAB_MODEL_SEED  run this one seed instead (decimal, or hex with 0x)
///   HEAPLAB_MODEL_OPS   operations per seed
/// for example, five million operations on the explicit list over a span:
///   HEAPLAB_MODEL_SEED=12345 HEAPLAB_MODEL_OPS=5000000 build/dev/tests/model_tests
///       --test-case='*<stage2: ExplicitListAllocator over a span>'
/// (one command line; leave out --test-case to run every allocator).
/// A failure prints the operation (its number and the call, e.g.
/// `op 1234 of seed 0x5eed0002: reallocate(block #17, 96 -> 200)`), the
/// command line that replays the run up to it, and, when check() failed,
/// the invariant it names and a picture of the heap
/// (tests/support/grader_report.hpp).
///
/// The case is defined here and applied to fixtures elsewhere
/// (model_tests.cpp for the course's, heaplab_add_allocator()'s generated
/// tests for anyone's) with HEAPLAB_APPLY_MODEL_SUITE.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "stage1_static_bump/align.hpp"
#include "stage1_static_bump/contract.hpp"
#include "tests/support/blocks.hpp"
#include "tests/support/grader_report.hpp"
#include "tests/support/recording_handler.hpp"

/// The model test's case and its helpers.
namespace heaplab::testing::model_suite {

using heaplab::HeapStats;
using heaplab::kDefaultAlignment;
using heaplab::kMaxRequest;
using heaplab::testing::Block;
using heaplab::testing::RecordingHandler;

/// The seeds CTest runs, each on a fresh allocator: several short runs
/// reach the early life of a heap (carving, alignment fillers) more often
/// than one long run would.
constexpr std::array<std::uint64_t, 4> kSeeds{0x5eed'0001, 0x5eed'0002, 0x5eed'0003, 0x5eed'0004};
#ifdef HEAPLAB_MODEL_SANITIZED_BUILD
/// Operations per seed under the sanitizers, which check every memory
/// access (several times slower): 4 x 10'000 per allocator.
constexpr std::size_t kDefaultOperations = 10'000;
#else
/// Operations per seed in a CTest run: 4 x 25'000 per allocator.
constexpr std::size_t kDefaultOperations = 25'000;
#endif
/// Every this many operations, all live blocks are verified byte by byte.
constexpr std::size_t kFullVerifyInterval = 1000;
/// The most live blocks the random walk aims for (the target moves in phases).
constexpr std::size_t kMaxLiveTarget = 100;
/// Operations per phase of the live-block target.
constexpr std::size_t kPhaseLength = 2000;
/// Sizes repeated by the "recent sizes" distribution.
constexpr std::size_t kRecentSizes = 8;

/// Reads the unsigned number in environment variable \p name (decimal, or
/// hexadecimal after "0x"); nothing if unset. A value that is not a number
/// fails the test rather than silently running the defaults.
inline std::optional<std::uint64_t> environment_number(const char* name) {
  const char* const value_text = std::getenv(name);
  if (value_text == nullptr) return std::nullopt;
  const std::string_view text(value_text);
  std::string_view digits = text;
  int base = 10;
  if (digits.starts_with("0x") || digits.starts_with("0X")) {
    digits.remove_prefix(2);
    base = 16;
  }
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
  const bool whole_number = error == std::errc{} && end == digits.data() + digits.size() && !digits.empty();
  INFO("environment variable ", std::string_view(name), "=\"", text, "\"");
  REQUIRE_MESSAGE(whole_number, "not an unsigned number");
  return value;
}

/// Random choices from one seed, the same on every platform.
///
/// std::mt19937_64's output sequence is fixed by the standard; the
/// distributions are written here, because the standard library's are not
/// (two libraries may turn the same engine output into different numbers).
class Random {
 public:
  explicit Random(std::uint64_t seed) : engine_(seed) {}

  /// A uniform number in [0, n), n > 0. Engine outputs below 2^64 mod n
  /// are drawn again, so that every result is equally likely (a plain
  /// `% n` would favour the small ones).
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t reject_below = (std::uint64_t{0} - n) % n;  // 2^64 mod n
    std::uint64_t draw = engine_();
    while (draw < reject_below) draw = engine_();
    return draw % n;
  }
  /// A uniform number in [low, high].
  std::size_t between(std::size_t low, std::size_t high) { return low + below(high - low + 1); }
  /// True with probability \p per_mille / 1000.
  bool chance(std::uint64_t per_mille) { return below(1000) < per_mille; }

 private:
  std::mt19937_64 engine_;
};

/// One live block as the model knows it.
struct LiveBlock {
  std::byte* start = nullptr;  ///< What the allocator returned.
  std::size_t size = 0;        ///< Bytes asked for (the pattern covers exactly these).
  std::size_t pattern = 0;     ///< Which pattern fills it (unique per block).
};

/// What the allocator must hold, kept independently of it.
class Model {
 public:
  /// The live blocks, in no particular order.
  [[nodiscard]] const std::vector<LiveBlock>& blocks() const noexcept { return blocks_; }
  /// Bytes asked for, summed over live blocks.
  [[nodiscard]] std::size_t requested() const noexcept { return requested_; }
  /// A fresh pattern number.
  std::size_t next_pattern() noexcept { return next_pattern_++; }

  /// Adds \p block and checks it shares no byte with any live block: only
  /// its neighbours in address order can overlap it.
  void insert(const LiveBlock& block) {
    const std::uintptr_t start = heaplab::address_of(block.start);
    const std::uintptr_t end = start + extent(block.size);
    const auto next = by_address_.lower_bound(start);
    if (next != by_address_.end()) {
      INFO("overlaps the live block at ", next->first);
      REQUIRE(end <= next->first);
    }
    if (next != by_address_.begin()) {
      const auto previous = std::prev(next);
      INFO("overlaps the live block at ", previous->first);
      REQUIRE(previous->first + previous->second <= start);
    }
    by_address_.emplace(start, extent(block.size));
    blocks_.push_back(block);
    requested_ += block.size;
  }

  /// Removes and returns live block number \p index.
  LiveBlock remove(std::size_t index) {
    const LiveBlock block = blocks_[index];
    blocks_[index] = blocks_.back();
    blocks_.pop_back();
    by_address_.erase(heaplab::address_of(block.start));
    requested_ -= block.size;
    return block;
  }

 private:
  /// Bytes a block occupies for the overlap check: allocate(0) must return a
  /// unique pointer, so a zero-byte block counts as one byte.
  static std::size_t extent(std::size_t size) noexcept { return std::max<std::size_t>(size, 1); }

  std::vector<LiveBlock> blocks_;                       ///< Every live block.
  std::map<std::uintptr_t, std::size_t> by_address_;    ///< start -> extent, for the overlap check.
  std::size_t requested_ = 0;                           ///< Sum of blocks_[i].size.
  std::size_t next_pattern_ = 0;                        ///< The next unused pattern number.
};

/// Fills bytes [from, to) of \p block with its pattern.
inline void fill(const LiveBlock& block, std::size_t from, std::size_t to) {
  for (std::size_t i = from; i < to; ++i) block.start[i] = heaplab::testing::pattern_byte(block.pattern, i);
}

/// Checks that the first \p bytes of \p block still hold its pattern: the
/// allocator wrote into no live block (a free list link, a header, a block
/// handed out twice).
inline void verify(const LiveBlock& block, std::size_t bytes) {
  INFO("block #", block.pattern, " of ", block.size, " bytes no longer holds its bytes");
  REQUIRE(heaplab::testing::holds_pattern(Block{block.start, bytes}, block.pattern));
}

/// The operation a run is at, as a failure message names it: e.g.
/// `reallocate(block #17, 96 -> 200)`. A block's number is its pattern's,
/// unique in the run.
struct Operation {
  /// Which call.
  enum class Kind { allocate, allocate_zeroed, deallocate, reallocate, reallocate_null, release_all } kind =
      Kind::allocate;
  std::size_t block = 0;  ///< The block's number (deallocate, reallocate).
  std::size_t size = 0;   ///< Bytes asked for (allocate, the new size of reallocate), or allocate_zeroed's element size.
  std::size_t old_size = 0;  ///< The block's size before (deallocate, reallocate).
  std::size_t align = kDefaultAlignment;  ///< allocate's alignment.
  std::size_t count = 0;  ///< allocate_zeroed's element count.

  /// allocate(size, align).
  static Operation allocate(std::size_t size, std::size_t align) noexcept {
    return {Kind::allocate, 0, size, 0, align, 0};
  }
  /// allocate_zeroed(count, size).
  static Operation allocate_zeroed(std::size_t count, std::size_t size) noexcept {
    return {Kind::allocate_zeroed, 0, size, 0, kDefaultAlignment, count};
  }
  /// deallocate() of \p block of \p size bytes, as step \p kind.
  static Operation deallocate(Kind kind, std::size_t block, std::size_t size) noexcept {
    return {kind, block, 0, size, kDefaultAlignment, 0};
  }
  /// reallocate() of \p block from \p old_size to \p size bytes.
  static Operation reallocate(std::size_t block, std::size_t old_size, std::size_t size) noexcept {
    return {Kind::reallocate, block, size, old_size, kDefaultAlignment, 0};
  }
  /// reallocate(nullptr, size).
  static Operation reallocate_null(std::size_t size) noexcept {
    return {Kind::reallocate_null, 0, size, 0, kDefaultAlignment, 0};
  }
};

/// Writes \p op as the call it was.
inline std::ostream& operator<<(std::ostream& out, const Operation& op) {
  switch (op.kind) {
    case Operation::Kind::allocate:
      return out << "allocate(" << op.size << ", " << op.align << ")";
    case Operation::Kind::allocate_zeroed:
      return out << "allocate_zeroed(" << op.count << ", " << op.size << ")";
    case Operation::Kind::deallocate:
      return out << "deallocate(block #" << op.block << ", " << op.old_size << " bytes)";
    case Operation::Kind::reallocate:
      return out << "reallocate(block #" << op.block << ", " << op.old_size << " -> " << op.size << ")";
    case Operation::Kind::reallocate_null:
      return out << "reallocate(nullptr, " << op.size << ")";
    case Operation::Kind::release_all:
      return out << "deallocate(block #" << op.block << ", " << op.old_size
                 << " bytes), giving back every block after the last operation";
  }
  return out;
}

/// What a failure of the run says before anything else: the operation, the
/// seed, and the command that replays the run up to that operation.
struct RunPosition {
  std::uint64_t seed = 0;          ///< The run's seed.
  std::size_t operation = 0;       ///< The operation's number (from 0).
  Operation what;                  ///< The operation itself.

  /// Writes the position (doctest prints it with every failure of the run).
  friend std::ostream& operator<<(std::ostream& out, const RunPosition& at) {
    return out << "op " << at.operation << " of seed " << hex_seed(at.seed) << ": " << at.what
               << "\nreplay it alone: "
               << replay_command("HEAPLAB_MODEL_SEED=" + hex_seed(at.seed) +
                                 " HEAPLAB_MODEL_OPS=" + std::to_string(at.operation + 1) + " ");
  }
};

/// One random run: an allocator, a model and a seed.
template <class A>
class ModelRun {
 public:
  ModelRun(A& heap, std::size_t capacity, std::uint64_t seed)
      : heap_(heap), capacity_(capacity), random_(seed), at_{seed, 0, Operation{}} {}

  /// Performs \p operations random operations, checking after each one.
  void run(std::size_t operations) {
    INFO(at_);  // captured by reference: a failure reports the current operation
    for (at_.operation = 0; at_.operation < operations; ++at_.operation) {
      const std::size_t operation = at_.operation;
      if (operation % kPhaseLength == 0) live_target_ = random_.below(kMaxLiveTarget + 1);
      step();
      check_heap();
      if (operation % kFullVerifyInterval == 0) {
        for (const LiveBlock& block : model_.blocks()) verify(block, block.size);
      }
    }
    // Give everything back: the heap must end sound and empty.
    while (!model_.blocks().empty()) deallocate(model_.blocks().size() - 1, Operation::Kind::release_all);
    check_heap();
  }

 private:
  /// One operation, chosen so that the number of live blocks wanders
  /// around live_target_: below it mostly allocations, above it mostly
  /// deallocations, and reallocations throughout.
  void step() {
    struct Mix {
      std::uint64_t allocate, allocate_zeroed, deallocate;  ///< Per cent; reallocate gets the rest.
    };
    const bool grow = model_.blocks().size() < live_target_;
    const Mix mix = grow ? Mix{55, 10, 15} : Mix{20, 5, 55};
    const std::uint64_t roll = random_.below(100);
    if (roll < mix.allocate || model_.blocks().empty()) {
      allocate();
    } else if (roll < mix.allocate + mix.allocate_zeroed) {
      allocate_zeroed();
    } else if (roll < mix.allocate + mix.allocate_zeroed + mix.deallocate) {
      deallocate(random_.below(model_.blocks().size()));
    } else {
      reallocate();
    }
  }

  /// A request size from one of several distributions, so that tiny,
  /// power-of-two, spread-out, repeated and heap-sized requests all occur.
  std::size_t random_size() {
    const std::uint64_t roll = random_.below(1000);
    std::size_t size = 0;
    if (roll < 350) {
      size = random_.between(0, 64);  // small, 0 included
    } else if (roll < 500) {
      size = std::size_t{1} << random_.below(15);  // 1 .. 16 KiB, exact powers of two
    } else if (roll < 800) {
      const std::size_t low = std::size_t{1} << random_.below(14);  // log-uniform, 1 .. 16 KiB
      size = random_.between(low, 2 * low - 1);
    } else if (roll < 997 && !recent_.empty()) {
      size = recent_[random_.below(recent_.size())];  // a size seen lately
    } else {
      // Around the whole heap: a heap of this capacity just holds, or just
      // refuses, requests this large (its own metadata decides which).
      size = capacity_ - capacity_ / 64 + random_.below(capacity_ / 32);
    }
    if (recent_.size() < kRecentSizes) {
      recent_.push_back(size);
    } else {
      recent_[random_.below(kRecentSizes)] = size;
    }
    return size;
  }

  /// The default alignment most of the time, a power of two up to 4096 now and then.
  std::size_t random_alignment() {
    return random_.chance(850) ? kDefaultAlignment : std::size_t{1} << random_.below(13);
  }

  /// allocate(size, align): served and recorded, or refused as exhausted.
  void allocate() {
    const std::size_t size = random_size();
    const std::size_t align = random_alignment();
    const HeapStats before = heap_.stats();
    at_.what = Operation::allocate(size, align);
    void* const p = align == kDefaultAlignment ? heap_.allocate(size) : heap_.allocate(size, align);
    if (p == nullptr) {
      check_refused(before, /*exhausted=*/1, /*rejected=*/0);
      return;
    }
    REQUIRE(heaplab::is_aligned(p, std::max(align, kDefaultAlignment)));
    REQUIRE(heap_.stats().allocations == before.allocations + 1);
    add(p, size, 0);
  }

  /// allocate_zeroed(count, size): zeroed bytes, or a refusal; now and
  /// then a product too large, which must be rejected: either above
  /// PTRDIFF_MAX, or wrapping around past 2^64 to a small number that
  /// would fit.
  void allocate_zeroed() {
    const bool overflow = random_.chance(20);
    const std::size_t element = random_.between(overflow ? 2 : 1, 16);
    std::size_t count = 0;
    if (overflow) {
      // count * element exceeds the limit: PTRDIFF_MAX, or SIZE_MAX (it wraps).
      const std::size_t limit = random_.chance(500) ? kMaxRequest : std::numeric_limits<std::size_t>::max();
      count = limit / element + 1 + random_.below(1000);
    } else {
      count = random_size() / element;
    }
    const HeapStats before = heap_.stats();
    at_.what = Operation::allocate_zeroed(count, element);
    void* const p = heap_.allocate_zeroed(count, element);
    if (overflow) {
      INFO("the product overflows: allocate_zeroed must refuse it");
      REQUIRE(p == nullptr);
      check_refused(before, /*exhausted=*/0, /*rejected=*/1);
      return;
    }
    if (p == nullptr) {
      check_refused(before, /*exhausted=*/1, /*rejected=*/0);
      return;
    }
    const std::size_t bytes = count * element;
    const auto* const zeroed = static_cast<const std::byte*>(p);
    REQUIRE(std::all_of(zeroed, zeroed + bytes, [](std::byte b) { return b == std::byte{0}; }));
    REQUIRE(heaplab::is_aligned(p, kDefaultAlignment));
    add(p, bytes, 0);
  }

  /// deallocate() of live block number \p index, after verifying its
  /// pattern; \p kind says why (a random step, or the final release).
  void deallocate(std::size_t index, Operation::Kind kind = Operation::Kind::deallocate) {
    const LiveBlock block = model_.remove(index);
    at_.what = Operation::deallocate(kind, block.pattern, block.size);
    verify(block, block.size);
    heap_.deallocate(block.start);
  }

  /// reallocate() of a random live block (now and then of nullptr, which
  /// is allocate): the first min(old, new) bytes survive; a refusal leaves
  /// the block as it was.
  void reallocate() {
    const std::size_t size = random_size();
    const HeapStats before = heap_.stats();
    if (model_.blocks().empty() || random_.chance(20)) {
      at_.what = Operation::reallocate_null(size);
      void* const p = heap_.reallocate(nullptr, size);
      if (p == nullptr) {
        check_refused(before, /*exhausted=*/1, /*rejected=*/0);
      } else {
        add(p, size, 0);
      }
      return;
    }
    const std::size_t index = random_.below(model_.blocks().size());
    const LiveBlock old = model_.blocks()[index];
    at_.what = Operation::reallocate(old.pattern, old.size, size);
    verify(old, old.size);
    void* const p = heap_.reallocate(old.start, size);
    if (p == nullptr) {
      check_refused(before, /*exhausted=*/1, /*rejected=*/0);
      verify(old, old.size);  // intact, and still the caller's
      return;
    }
    REQUIRE(heaplab::is_aligned(p, kDefaultAlignment));
    model_.remove(index);
    const std::size_t kept = std::min(old.size, size);
    const LiveBlock moved{static_cast<std::byte*>(p), kept, old.pattern};
    verify(moved, kept);
    add(p, size, kept, old.pattern);
  }

  /// Records the block at \p p of \p size bytes and fills it with its
  /// pattern: \p pattern, whose first \p valid bytes it already holds (a
  /// resized block), or a fresh one.
  void add(void* p, std::size_t size, std::size_t valid, std::optional<std::size_t> pattern = {}) {
    const LiveBlock block{static_cast<std::byte*>(p), size, pattern ? *pattern : model_.next_pattern()};
    REQUIRE(heap_.owns(p));
    if (size > 0) REQUIRE(heap_.owns(block.start + size - 1));
    model_.insert(block);
    fill(block, valid, size);
  }

  /// Checks that a refused request changed nothing live and was counted
  /// as \p exhausted or \p rejected.
  void check_refused(const HeapStats& before, std::size_t exhausted, std::size_t rejected) {
    const HeapStats after = heap_.stats();
    REQUIRE(after.used == before.used);
    REQUIRE(after.live_allocations == before.live_allocations);
    REQUIRE(after.requested == before.requested);
    REQUIRE(after.allocations == before.allocations);
    REQUIRE(after.exhausted == before.exhausted + exhausted);
    REQUIRE(after.rejected == before.rejected + rejected);
  }

  /// The checks after every operation: the heap's own invariants, and its
  /// numbers against the model's.
  void check_heap() {
    const CheckResult verdict = heap_.check();
    if (!verdict.ok()) FAIL(heap_report(heap_, verdict));
    const HeapStats s = heap_.stats();
    REQUIRE(s.live_allocations == model_.blocks().size());
    REQUIRE(s.requested == model_.requested());
    REQUIRE(s.used <= s.capacity);
    REQUIRE(misuse_.reports().empty());
  }

  A& heap_;                          ///< The allocator under test.
  std::size_t capacity_;             ///< Bytes behind it (the fixture's capacity).
  Random random_;                    ///< Every choice of the run.
  Model model_;                      ///< What the heap must hold.
  std::size_t live_target_ = 0;      ///< How many live blocks the current phase aims for.
  std::vector<std::size_t> recent_;  ///< Recent request sizes, for repeats.
  RecordingHandler misuse_;          ///< No operation of the run is misuse: none may be reported.
  RunPosition at_;                   ///< Where the run is, for failure messages.
};

/// Operations per seed for fixture \p F in a CTest run: kDefaultOperations,
/// divided by `F::model_operations_divisor` if the fixture has one.
template <class F>
constexpr std::size_t default_operations() noexcept {
  if constexpr (requires { F::model_operations_divisor; }) {
    static_assert(F::model_operations_divisor > 0);
    return kDefaultOperations / F::model_operations_divisor;
  } else {
    return kDefaultOperations;
  }
}



TEST_CASE_TEMPLATE_DEFINE("random operations agree with a model of the live blocks", F, model_run) {
  const std::optional<std::uint64_t> chosen_seed = environment_number("HEAPLAB_MODEL_SEED");
  const std::optional<std::uint64_t> chosen_operations = environment_number("HEAPLAB_MODEL_OPS");
  std::vector<std::uint64_t> seeds(kSeeds.begin(), kSeeds.end());
  if (chosen_seed) seeds = {*chosen_seed};
  const std::size_t operations = chosen_operations ? *chosen_operations : default_operations<F>();
  for (const std::uint64_t seed : seeds) {
    F fixture;
    ModelRun<typename F::allocator_type> run(fixture.allocator(), F::capacity, seed);
    run.run(operations);
  }
}

}  // namespace heaplab::testing::model_suite

/// Registers the model test (doctest suite "model") for each fixture of
/// the std::tuple \p Reallocating (fixtures whose allocator models
/// heaplab::Reallocating).
#define HEAPLAB_APPLY_MODEL_SUITE(Reallocating)                                          \
  namespace heaplab::testing::model_suite {                                             \
  TEST_SUITE_BEGIN("model");                                                            \
  TEST_CASE_TEMPLATE_APPLY(model_run, Reallocating);                                    \
  TEST_SUITE_END();                                                                     \
  }                                                                                     \
  static_assert(true, "")
