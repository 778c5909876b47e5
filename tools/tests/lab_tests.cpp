// The strategy lab's engine: replay() catches what it promises to catch,
// measures what the allocators report, and every allocator in the lab's
// table runs a trace through it.
#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <cstring>
#include <set>
#include <sstream>
#include <string>
#include <string_view>

#include "stage1_static_bump/bump_allocator.hpp"
#include "stage3_fit_strategies/fit_allocators.hpp"
#include "stage3_fit_strategies/measures.hpp"
#include "tools/lab/frames.hpp"
#include "tools/lab/lab_allocators.hpp"
#include "tools/lab/replay.hpp"
#include "tools/trace/trace.hpp"

namespace {

using namespace heaplab;

/// \p text parsed as a trace; it must be well formed.
Trace trace_of(std::string_view text) {
  std::istringstream in{std::string(text)};
  const TraceResult result = parse_trace(in, "t.rep");
  REQUIRE_MESSAGE(result.has_value(), format_error(result.error()));
  return result.value();
}

// Live bytes after each operation: 40, 48, 88, 48, 112, 72, 24, 0.
// The peak of 112 is reached by operation 4 (line 9: the reallocate).
constexpr std::string_view kSmallTrace =
    "0\n3\n8\n1\n"
    "a 0 40\n"   // line 5
    "a 1 8\n"    // line 6
    "a 2 40\n"   // line 7
    "f 2\n"      // line 8
    "r 1 72\n"   // line 9
    "f 0\n"      // line 10
    "r 1 24\n"   // line 11
    "f 1\n";     // line 12

/// What a FakeHeap does wrong, to prove that replay() notices.
enum class Fault {
  none,                 ///< A correct (if wasteful) bump heap.
  runs_out_after_two,   ///< The third allocation returns nullptr.
  repeats_a_block,      ///< The second allocation returns the first block again.
  misaligns,            ///< Blocks start 4 bytes off the 8-byte grid.
  forgets_to_copy,      ///< reallocate() moves the block without its bytes.
  fails_check_at_three, ///< check() fails from the third operation on.
  starts_inside_a_block,  ///< The second block starts 16 bytes into the first.
  hands_out_foreign,    ///< The second block is memory the heap does not own.
  runs_past_the_end,    ///< The third block starts 16 bytes before the heap's end.
  null_with_room,       ///< The third allocation returns nullptr, and says it had room.
};

/// A tiny allocator of the contract with one deliberate fault.
class FakeHeap {
 public:
  explicit FakeHeap(Fault fault) : fault_(fault) {}

  void* allocate(std::size_t size, std::size_t = kDefaultAlignment) noexcept {
    ++calls_;
    if (fault_ == Fault::runs_out_after_two && calls_ > 2) return nullptr;
    if (fault_ == Fault::repeats_a_block && calls_ == 2) return bytes_.data();
    if (fault_ == Fault::starts_inside_a_block && calls_ == 2) return bytes_.data() + 16;
    if (fault_ == Fault::hands_out_foreign && calls_ == 2) return foreign_.data();
    if (fault_ == Fault::runs_past_the_end && calls_ == 3) return bytes_.data() + bytes_.size() - 16;
    if (fault_ == Fault::null_with_room && calls_ == 3) return nullptr;
    const std::size_t start = next_ + (fault_ == Fault::misaligns ? 4 : 0);
    next_ = (start + size + 15) / 8 * 8;
    return bytes_.data() + start;
  }
  void deallocate(void*) noexcept {}
  void* reallocate(void* p, std::size_t size) noexcept {
    void* const moved = allocate(size);
    // Copies `size` bytes, more than the old block may hold: harmless inside
    // bytes_, but the ranges may overlap, hence memmove.
    if (fault_ != Fault::forgets_to_copy) std::memmove(moved, p, size);
    return moved;
  }
  void* allocate_zeroed(std::size_t, std::size_t) noexcept { return nullptr; }
  HeapStats stats() const noexcept { return {.used = next_, .high_water = next_}; }
  CheckResult check() const noexcept {
    return fault_ == Fault::fails_check_at_three && calls_ >= 3 ? CheckResult::fail("the fake's invariant", 24)
                                                               : CheckResult::pass();
  }
  bool owns(const void* p) const noexcept {
    return p >= bytes_.data() && p < bytes_.data() + bytes_.size();
  }
  template <class Visitor>
  void for_each_block(Visitor&& visit) const {
    visit(BlockView{0, 0, next_, BlockState::allocated});
  }
  // heaplab::AccountsForNullptr: only its deliberate nullptr is not "out of memory".
  std::string explain_nullptr(std::size_t line, std::size_t requested) const {
    if (fault_ != Fault::null_with_room) return {};
    return "the fake returned NULL at line " + std::to_string(line) + " (" + std::to_string(requested) + " bytes)";
  }

 private:
  Fault fault_;
  std::size_t calls_ = 0;
  std::size_t next_ = 0;
  alignas(16) std::array<std::byte, 4096> bytes_{};
  alignas(16) std::array<std::byte, 128> foreign_{};  ///< Memory that is not the heap's.
};
static_assert(Allocator<FakeHeap>);
static_assert(AccountsForNullptr<FakeHeap>);

/// replay() of kSmallTrace on a FakeHeap with \p fault.
ReplayReport replay_fake(Fault fault) {
  FakeHeap heap(fault);
  return replay(trace_of(kSmallTrace), heap, {.check_every_op = true});
}

}  // namespace

TEST_SUITE("lab") {

TEST_CASE("lab: a replay runs every operation and measures the heap at the trace's peak") {
  const Trace trace = trace_of(kSmallTrace);
  alignas(16) std::array<std::byte, 4096> region{};
  FirstFitAllocator replayed(region);
  const ReplayReport report = replay(trace, replayed);
  REQUIRE(report.outcome == ReplayOutcome::completed);
  CHECK(report.ops_done == 8);
  CHECK(report.what.empty());
  CHECK(report.checks == 0);  // not asked for

  // The same operations by hand on a second allocator, measured after
  // operation 4 (the peak of 112 live bytes) and at the end.
  alignas(16) std::array<std::byte, 4096> region2{};
  FirstFitAllocator by_hand(region2);
  void* const b0 = by_hand.allocate(40);
  void* b1 = by_hand.allocate(8);
  void* const b2 = by_hand.allocate(40);
  by_hand.deallocate(b2);
  b1 = by_hand.reallocate(b1, 72);
  const Measures at_peak = measure(by_hand);
  by_hand.deallocate(b0);
  b1 = by_hand.reallocate(b1, 24);
  by_hand.deallocate(b1);
  const FreeListStats end = by_hand.stats();

  const SpaceMeasures& space = report.space;
  CHECK(space.peak_live_bytes == 112);
  CHECK(space.peak_heap == end.high_water);
  REQUIRE(space.utilization.has_value());
  CHECK(*space.utilization == doctest::Approx(112.0 / static_cast<double>(end.high_water)));
  CHECK(space.internal_fragmentation == at_peak.internal_fragmentation);
  CHECK(space.largest_free_block == at_peak.largest_free_block);
  REQUIRE(space.external_fragmentation.has_value());
  CHECK(*space.external_fragmentation == doctest::Approx(at_peak.external_fragmentation));
  CHECK(space.visited_per_allocation == doctest::Approx(end.visited_per_search()));
  // The replayed heap ends where the hand-run one does.
  CHECK(replayed.stats().high_water == end.high_water);
  CHECK(replayed.stats().live_allocations == 0);
}

TEST_CASE("lab: check_every_op runs check() after every operation") {
  alignas(16) std::array<std::byte, 4096> region{};
  BestFitAllocator heap(region);
  const ReplayReport report = replay(trace_of(kSmallTrace), heap, {.check_every_op = true});
  CHECK(report.outcome == ReplayOutcome::completed);
  CHECK(report.checks == 8);
}

TEST_CASE("lab: each kind of failure stops the replay at the operation that shows it") {
  SUBCASE("out of memory: the third allocation") {
    const ReplayReport report = replay_fake(Fault::runs_out_after_two);
    CHECK(report.outcome == ReplayOutcome::out_of_memory);
    CHECK(report.ops_done == 2);
    CHECK(report.failed_line == 7);
    CHECK(report.what == "line 7: a 2 40: the allocator returned nullptr (out of memory)");
  }
  SUBCASE("two live blocks at one address: caught when the second is handed out") {
    const ReplayReport report = replay_fake(Fault::repeats_a_block);
    CHECK(report.outcome == ReplayOutcome::payload_damaged);
    CHECK(report.failed_line == 6);
    CHECK(report.what == "line 6: a 1 8: the block overlaps block 0, which is still live");
  }
  SUBCASE("a block that starts inside a live one") {
    const ReplayReport report = replay_fake(Fault::starts_inside_a_block);
    CHECK(report.outcome == ReplayOutcome::payload_damaged);
    CHECK(report.what == "line 6: a 1 8: the block overlaps block 0, which is still live");
  }
  SUBCASE("a block the heap does not own") {
    const ReplayReport report = replay_fake(Fault::hands_out_foreign);
    CHECK(report.outcome == ReplayOutcome::payload_damaged);
    CHECK(report.what == "line 6: a 1 8: block lies outside the heap");
  }
  SUBCASE("a block that starts in the heap and ends beyond it") {
    const ReplayReport report = replay_fake(Fault::runs_past_the_end);
    CHECK(report.outcome == ReplayOutcome::payload_damaged);
    CHECK(report.what == "line 7: a 2 40: block runs past the end of the heap");
  }
  SUBCASE("a nullptr the allocator says it had room for") {
    const ReplayReport report = replay_fake(Fault::null_with_room);
    CHECK(report.outcome == ReplayOutcome::refused_with_room);
    CHECK(report.failed_line == 7);
    CHECK(report.what == "the fake returned NULL at line 7 (40 bytes)");
  }
  SUBCASE("a block off the 8-byte grid") {
    const ReplayReport report = replay_fake(Fault::misaligns);
    CHECK(report.outcome == ReplayOutcome::payload_damaged);
    CHECK(report.failed_line == 5);
    CHECK(report.what == "line 5: a 0 40: block is not 8-byte aligned");
  }
  SUBCASE("a reallocate that loses the bytes") {
    const ReplayReport report = replay_fake(Fault::forgets_to_copy);
    CHECK(report.outcome == ReplayOutcome::payload_damaged);
    CHECK(report.what == "line 9: r 1 72: reallocate lost the block's bytes");
  }
  SUBCASE("a broken invariant") {
    const ReplayReport report = replay_fake(Fault::fails_check_at_three);
    CHECK(report.outcome == ReplayOutcome::check_failed);
    CHECK(report.ops_done == 3);  // the operation ran; its check failed
    CHECK(report.what == "line 7: a 2 40: check() failed: \"the fake's invariant\" at offset 24");
  }
  SUBCASE("the same faults pass unnoticed without a fault") {
    const ReplayReport report = replay_fake(Fault::none);
    CHECK(report.outcome == ReplayOutcome::completed);
    CHECK(report.checks == 8);
  }
}

TEST_CASE("lab: LiveRanges finds the live block a new one would overlap") {
  alignas(16) std::array<std::byte, 256> bytes{};
  LiveRanges ranges;
  ranges.add(bytes.data() + 64, 32, 1);   // [64, 96)
  ranges.add(bytes.data() + 128, 16, 2);  // [128, 144)
  CHECK_FALSE(ranges.overlapping(bytes.data(), 64).has_value());        // ends where block 1 starts
  CHECK_FALSE(ranges.overlapping(bytes.data() + 96, 32).has_value());   // between the two
  CHECK(ranges.overlapping(bytes.data() + 60, 8) == 1);                 // runs into block 1
  CHECK(ranges.overlapping(bytes.data() + 95, 1) == 1);                 // its last byte
  CHECK(ranges.overlapping(bytes.data() + 100, 40) == 2);               // runs into block 2
  CHECK(ranges.overlapping(bytes.data(), 256) == 1);                    // covers both: the first named
  CHECK_FALSE(ranges.overlapping(bytes.data() + 70, 0).has_value());    // 0 bytes overlap nothing
  ranges.remove(bytes.data() + 64);
  CHECK_FALSE(ranges.overlapping(bytes.data() + 70, 8).has_value());
}

TEST_CASE("lab: a replay counts its progress where it is asked to") {
  alignas(16) std::array<std::byte, 4096> region{};
  FirstFitAllocator heap(region);
  ReplayProgress progress{123};
  const ReplayReport report = replay(trace_of(kSmallTrace), heap, {.check_every_op = false, .progress = &progress});
  CHECK(report.outcome == ReplayOutcome::completed);
  CHECK(progress.load() == 8);
  SUBCASE("and stops counting where it stops") {
    FakeHeap fake(Fault::runs_out_after_two);
    ReplayProgress stopped{0};
    (void)replay(trace_of(kSmallTrace), fake, {.check_every_op = false, .progress = &stopped});
    CHECK(stopped.load() == 2);  // operation 3 (index 2) was the one running
  }
  SUBCASE("time_replay too") {
    alignas(16) std::array<std::byte, 4096> region2{};
    BestFitAllocator timed(region2);
    ReplayProgress counted{0};
    CHECK(time_replay(trace_of(kSmallTrace), timed, &counted).has_value());
    CHECK(counted.load() == 8);
  }
}

TEST_CASE("lab: a replay gives back the blocks the trace leaves live") {
  // Two blocks are still live when the trace ends; glibc's would leak.
  const Trace trace = trace_of("0\n3\n3\n1\na 0 40\na 1 8\na 2 16\n");
  alignas(16) std::array<std::byte, 4096> region{};
  FirstFitAllocator heap(region);
  const ReplayReport report = replay(trace, heap);
  CHECK(report.outcome == ReplayOutcome::completed);
  CHECK(heap.stats().live_allocations == 0);
  CHECK(report.space.utilization.has_value());  // measured before the blocks went back

  SUBCASE("also when the heap runs out of memory part way") {
    alignas(16) std::array<std::byte, 128> small{};
    FirstFitAllocator tight(small);
    const ReplayReport short_of_memory = replay(trace_of("0\n3\n3\n1\na 0 40\na 1 8\na 2 4000\n"), tight);
    CHECK(short_of_memory.outcome == ReplayOutcome::out_of_memory);
    CHECK(tight.stats().live_allocations == 0);
  }
}

TEST_CASE("lab: a failed replay measures nothing") {
  const ReplayReport report = replay_fake(Fault::runs_out_after_two);
  CHECK_FALSE(report.space.peak_heap.has_value());
  CHECK_FALSE(report.space.utilization.has_value());
  CHECK(report.space.peak_live_bytes == 112);  // a property of the trace
}

TEST_CASE("lab: an allocator without reallocate() resizes by moving, bytes intact") {
  alignas(16) std::array<std::byte, 1024> region{};
  BumpAllocator bump(region);
  const ReplayReport report = replay(trace_of(kSmallTrace), bump, {.check_every_op = true});
  CHECK(report.outcome == ReplayOutcome::completed);
  // Five allocations: three by `a`, one for each `r` (a bump heap cannot grow a block).
  CHECK(bump.stats().allocations == 5);
  CHECK(bump.stats().requested == 40 + 8 + 40 + 72 + 24);  // its frees release nothing
}

TEST_CASE("lab: glibc is measured only where it lets a program see") {
  GlibcMalloc glibc;
  const ReplayReport report = replay(trace_of(kSmallTrace), glibc, {.check_every_op = true});
  CHECK(report.outcome == ReplayOutcome::completed);
  CHECK(report.checks == 0);  // glibc has no check()
  REQUIRE(report.space.internal_fragmentation.has_value());
  // Two live blocks at the peak: each costs at least its 8-byte size field.
  CHECK(*report.space.internal_fragmentation >= 2 * 8);
  CHECK_FALSE(report.space.peak_heap.has_value());
  CHECK_FALSE(report.space.utilization.has_value());
  CHECK_FALSE(report.space.external_fragmentation.has_value());
  CHECK_FALSE(report.space.visited_per_allocation.has_value());
}

TEST_CASE("lab: std::pmr's pool gets each block's size back, and reports no space measures") {
  PmrPool pool;
  const ReplayReport report = replay(trace_of(kSmallTrace), pool, {.check_every_op = true});
  CHECK(report.outcome == ReplayOutcome::completed);
  CHECK_FALSE(report.space.peak_heap.has_value());
  CHECK_FALSE(report.space.internal_fragmentation.has_value());
}

TEST_CASE("lab: time_replay times a trace that runs and refuses one that does not") {
  const Trace trace = trace_of(kSmallTrace);
  FakeHeap good(Fault::none);
  CHECK(time_replay(trace, good).has_value());
  FakeHeap short_of_memory(Fault::runs_out_after_two);
  CHECK_FALSE(time_replay(trace, short_of_memory).has_value());
}

TEST_CASE("lab: every allocator in the table has a unique name and runs a trace with --check") {
  const Trace trace = trace_of(kSmallTrace);
  const LabHeap heap(std::size_t{1} << 20);
  std::set<std::string_view> names;
  for (const LabAllocator& allocator : lab_allocators()) {
    CAPTURE(allocator.name);
    CHECK(names.insert(allocator.name).second);
    CHECK(find_lab_allocator(allocator.name) == &allocator);
    const ReplayReport report = allocator.replay(trace, heap.bytes(), {.check_every_op = true});
    CHECK(report.outcome == ReplayOutcome::completed);
    CHECK(allocator.time(trace, heap.bytes(), nullptr).has_value());
    if (allocator.is_reference()) {
      CHECK(report.checks == 0);
    } else {
      CHECK(report.checks == 8);
      CHECK(report.space.peak_heap.has_value());
    }
  }
  CHECK(lab_allocators().back().name == "glibc");
  CHECK(&glibc_allocator() == &lab_allocators().back());
  CHECK(find_lab_allocator("no-such-allocator") == nullptr);
}

TEST_CASE("lab: r on an id never allocated replays as realloc(NULL, n) on every allocator") {
  // Live bytes after each operation: 40, 48, 108, 100, 0.
  const Trace trace = trace_of("0\n2\n5\n1\nr 0 40\na 1 8\nr 0 100\nf 1\nf 0\n");
  const LabHeap heap(std::size_t{1} << 20);
  for (const LabAllocator& allocator : lab_allocators()) {
    CAPTURE(allocator.name);
    const ReplayReport report = allocator.replay(trace, heap.bytes(), {.check_every_op = true});
    CHECK_MESSAGE(report.outcome == ReplayOutcome::completed, report.what);
    CHECK(report.ops_done == trace.ops.size());
    CHECK(report.space.peak_live_bytes == 108);
    CHECK(allocator.time(trace, heap.bytes(), nullptr).has_value());
    if (allocator.map != nullptr) {
      std::ostringstream map;
      CHECK(allocator.map(trace, heap.bytes(), 16, map, nullptr) == trace.ops.size());
    }
  }
}

TEST_CASE("lab: the references are held to the heap's size: the bytes their live blocks request") {
  const LabHeap heap(4096);
  REQUIRE(heap.bytes().size() == 4096);
  // Live requests after each operation: 2000, 4096 (the whole heap), 2000,
  // 3000; then a reallocate to 2097 would make 4097 (and moving, as pmr
  // does, 5097): refused, the block kept. Without it, a shrink and a growth
  // that fit both in place and by moving (4096 at most while both blocks live).
  const Trace trace =
      trace_of("0\n2\n9\n1\na 0 2000\na 1 2096\nf 1\na 1 1000\nr 1 2097\nr 0 1000\nr 1 2096\nf 0\nf 1\n");
  const std::size_t refused = 4;  // r 1 2097, line 9
  for (const std::string_view name : {"glibc", "pmr-pool"}) {
    CAPTURE(name);
    const LabAllocator& reference = *find_lab_allocator(name);
    const ReplayReport full = reference.replay(trace, heap.bytes(), {});
    CHECK(full.outcome == ReplayOutcome::out_of_memory);
    CHECK(full.ops_done == refused);
    CHECK(full.failed_line == 5 + refused);
    CHECK_FALSE(reference.time(trace, heap.bytes(), nullptr).has_value());
    // Without the refused reallocate, every operation fits.
    Trace fitting = trace;
    fitting.ops.erase(fitting.ops.begin() + refused);
    const ReplayReport fits = reference.replay(fitting, heap.bytes(), {});
    CHECK_MESSAGE(fits.outcome == ReplayOutcome::completed, fits.what);
    CHECK(reference.time(fitting, heap.bytes(), nullptr).has_value());
  }
}

TEST_CASE("lab: a heap too small for the trace runs out of memory, reported, not crashed") {
  const LabHeap heap(4096);
  // A bump heap of 4 KiB runs out long before 64 blocks of 100 bytes.
  std::string text = "0\n64\n64\n1\n";
  for (int id = 0; id < 64; ++id) text += "a " + std::to_string(id) + " 100\n";
  const ReplayReport report =
      find_lab_allocator("bump")->replay(trace_of(text), heap.bytes(), {.check_every_op = true});
  CHECK(report.outcome == ReplayOutcome::out_of_memory);
  CHECK(report.ops_done < 64);
  CHECK(report.ops_done > 30);  // 4096 bytes hold about 40 blocks of 104
}

TEST_CASE("lab: a frame names each allocated block's request when the walk allows it") {
  using heaplab::BlockState;
  std::array<std::byte, 64> memory{};
  // Blocks with an 8-byte header; the free one holds 8 bytes of links, the
  // last one an 8-byte footer.
  const std::array<heaplab::BlockView, 3> one_region = {{{0, 0, 16, BlockState::allocated, 8, 0, 0},
                                                          {0, 16, 16, BlockState::free, 8, 0, 8},
                                                          {0, 32, 32, BlockState::allocated, 8, 8, 0}}};
  // Live blocks in any order: matched by address to the allocated blocks.
  const std::vector<heaplab::LiveRequest> live = {{&memory[40], 7, 20}, {&memory[8], 3, 5}};
  const std::vector<heaplab::FrameBlock> frame = heaplab::match_requests(one_region, live);
  REQUIRE(frame.size() == 3);
  CHECK(frame[0].id == 3);
  CHECK(frame[0].requested == 5);
  CHECK(frame[1].id == -1);
  CHECK(frame[2].id == 7);
  CHECK(frame[2].requested == 20);
  const heaplab::TraceOp op{heaplab::OpKind::allocate, 7, 20, 9};
  CHECK(heaplab::frame_json(op, 25, frame) ==
        R"({"op":"a 7 20","line":9,"live":25,"blocks":[[0,0,16,1,3,5,8,0,0],[0,16,16,0,-1,0,8,0,8],)"
        R"([0,32,32,1,7,20,8,8,0]]})");

  SUBCASE("with several regions, or more allocated blocks than live ones, the requests are not known") {
    std::array<heaplab::BlockView, 3> two_regions = one_region;
    two_regions[2].region = 1;
    CHECK(heaplab::match_requests(two_regions, live)[0].id == -1);
    CHECK(heaplab::match_requests(one_region, {live[0]})[2].id == -1);
  }
}

TEST_CASE("lab: a JSON string escapes what would end it or the script holding it") {
  CHECK(heaplab::json_string("plain") == "\"plain\"");
  CHECK(heaplab::json_string("a \"quote\" and a \\") == R"("a \"quote\" and a \\")");
  CHECK(heaplab::json_string("</script>") == R"("<\/script>")");
  CHECK(heaplab::json_string("tab\there") == R"("tab\u0009here")");
}

}  // TEST_SUITE("lab")
