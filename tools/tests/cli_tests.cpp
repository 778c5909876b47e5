// The heaplab command line, run in-process through run_heaplab(): what each
// command prints, what it writes, and the exit code and one-line message of
// every way its input can be wrong.
#include <doctest/doctest.h>

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "stage1_static_bump/static_heap.hpp"
#include "stage3_fit_strategies/fit_allocators.hpp"
#include "tools/lab/cli.hpp"
#include "tools/lab/isolate.hpp"
#include "tools/lab/lab_allocators.hpp"
#include "tools/lab/lab_entry.hpp"
#include "tools/lab/text_report.hpp"
#include "tools/shim/heap_reservation.hpp"
#include "tools/trace/trace.hpp"

namespace {

using namespace heaplab;

// Live bytes after each operation: 40, 48, 88, 48, 112, 72, 24, 0.
constexpr std::string_view kSmallTrace =
    "0\n3\n8\n1\n"
    "a 0 40\n"
    "a 1 8\n"
    "a 2 40\n"
    "f 2\n"
    "r 1 72\n"
    "f 0\n"
    "r 1 24\n"
    "f 1\n";

// A second shape: two blocks, freed in the order they came.
constexpr std::string_view kPairTrace = "0\n2\n4\n1\na 0 100\na 1 200\nf 0\nf 1\n";

/// A file in the temporary directory, removed when the test is done. Its
/// name holds the process id, because CTest runs test cases in parallel.
class TempFile {
 public:
  /// A file named after \p name, holding \p contents.
  TempFile(std::string_view name, std::string_view contents) : path_(unique_path(name)) {
    std::ofstream(path_, std::ios::binary) << contents;
  }
  /// A name for a file that is not written (an SVG output, a missing trace).
  explicit TempFile(std::string_view name) : path_(unique_path(name)) {}
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }

  /// The path, as a command-line argument.
  [[nodiscard]] std::string path() const { return path_.string(); }

 private:
  static std::filesystem::path unique_path(std::string_view name) {
    return std::filesystem::temp_directory_path() /
           ("heaplab-cli-" + std::to_string(::getpid()) + "-" + std::string(name));
  }
  std::filesystem::path path_;
};

/// What one run of the command line did.
struct Run {
  int exit_code = 0;
  std::string out;  ///< Standard output.
  std::string err;  ///< Standard error.
};

/// heaplab with \p args.
Run heaplab_run(const std::vector<std::string>& args) {
  const std::vector<std::string_view> views(args.begin(), args.end());
  std::ostringstream out;
  std::ostringstream err;
  const int exit_code = run_heaplab(views, out, err);
  return {exit_code, out.str(), err.str()};
}

/// heaplab with \p args in a child process given \p timeout: empty when the
/// run did not end in time (or crashed), so that a hang fails the test
/// instead of hanging it. Standard output is dropped.
std::optional<Run> heaplab_within(const std::vector<std::string>& args, std::chrono::seconds timeout) {
  int exit_code = -1;
  std::ostringstream err;
  const ChildEnd end = run_in_child(
      [&args](ReplayProgress&, std::ostream& text, std::span<std::byte> result) {
        const Run run = heaplab_run(args);
        text << run.err;
        std::memcpy(result.data(), &run.exit_code, sizeof run.exit_code);
      },
      std::as_writable_bytes(std::span(&exit_code, 1)), err, timeout);
  if (end.how != ChildEnding::finished) return std::nullopt;
  return Run{exit_code, {}, err.str()};
}

/// \p args as one line, for the context of a failed check.
std::string command_line(const std::vector<std::string>& args) {
  std::string line = "heaplab";
  for (const std::string& arg : args) line += ' ' + arg;
  return line;
}

/// The lines of \p text.
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

/// The words of \p line, split at spaces.
std::vector<std::string> words_of(const std::string& line) {
  std::istringstream in(line);
  return {std::istream_iterator<std::string>(in), std::istream_iterator<std::string>()};
}

/// The first line of \p text whose first word is \p first (empty if none).
std::string row_of(const std::string& text, std::string_view first) {
  for (const std::string& line : lines_of(text)) {
    const std::vector<std::string> words = words_of(line);
    if (!words.empty() && words[0] == first) return line;
  }
  return {};
}

/// \p text parsed as a trace; it must be well formed.
Trace trace_of(std::string_view text) {
  std::istringstream in{std::string(text)};
  const TraceResult result = parse_trace(in, "t.rep");
  REQUIRE(result.has_value());
  return result.value();
}

/// What replay() reports for the allocator \p name on \p text, over the
/// lab's default heap: the numbers the command line must agree with.
ReplayReport engine_replay(std::string_view name, std::string_view text) {
  const LabHeap heap(kStaticHeapSize);
  return find_lab_allocator(name)->replay(trace_of(text), heap.bytes(), {});
}

/// The fields of one CSV line (RFC 4180 quoting).
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '"' && quoted && i + 1 < line.size() && line[i + 1] == '"') {
      fields.back() += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

/// \p text as a double; it must be one, all of it.
double number_of(const std::string& text) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  REQUIRE_MESSAGE((error == std::errc{} && end == text.data() + text.size()), "not a number: '" << text << "'");
  return value;
}

/// True when \p text is exactly one line (one line end, at its end).
bool is_one_line(const std::string& text) {
  return !text.empty() && text.find('\n') == text.size() - 1;
}

/// What a learner's allocator does wrong at its Nth allocation.
enum class Misstep { none, crash, hang };

/// A learner's first fit that, at its \p N th allocation, does \p M: writes
/// through a null pointer, or never returns.
template <Misstep M, int N>
class Learners : public FirstFitAllocator {
 public:
  using FirstFitAllocator::FirstFitAllocator;
  void* allocate(std::size_t size, std::size_t align = kDefaultAlignment) noexcept {
    if (++calls_ == N) misstep();
    return FirstFitAllocator::allocate(size, align);
  }

 private:
  // Not checked for null by UBSan (the sanitize builds): it would report the
  // write and end the child itself, where a learner's build crashes with
  // SIGSEGV, which is what these tests are about.
  __attribute__((no_sanitize("null"))) static void misstep() noexcept {
    if constexpr (M == Misstep::crash) {
      // The pointer volatile: the compiler cannot see it is null and trap
      // instead. The int volatile too: an optimising GCC drops a plain store
      // whose address it traces back to no object, and nothing would crash.
      volatile int* volatile nowhere = nullptr;
      *nowhere = 1;
    } else if constexpr (M == Misstep::hang) {
      for (volatile bool forever = true; forever;) {
      }
    }
  }
  int calls_ = 0;
};

/// The learner's allocators of these tests: one that works, one that
/// crashes at its third allocation, one that hangs at its third.
constexpr LabAllocator kYours[] = {
    lab_entry<Learners<Misstep::none, 0>>("mine", "yours", "Learners", "a first fit of my own"),
    lab_entry<Learners<Misstep::crash, 3>>("crashes", "yours", "Learners",
                                           "writes through null at the third allocation"),
    lab_entry<Learners<Misstep::hang, 3>>("hangs", "yours", "Learners", "loops forever at the third allocation"),
};

/// heaplab with \p args, and kYours as the learner's allocators.
Run heaplab_yours(const std::vector<std::string>& args) {
  const std::vector<std::string_view> views(args.begin(), args.end());
  std::ostringstream out;
  std::ostringstream err;
  const int exit_code = run_heaplab(views, out, err, kYours);
  return {exit_code, out.str(), err.str()};
}

}  // namespace

TEST_SUITE("cli") {

TEST_CASE("cli: list shows every allocator of the table in aligned columns") {
  const Run run = heaplab_run({"list"});
  CHECK(run.exit_code == 0);
  CHECK(run.err.empty());
  const std::vector<std::string> lines = lines_of(run.out);
  REQUIRE(lines.size() == 2 + lab_allocators().size());  // headings, rule, a row each
  const std::size_t chapter_column = lines[0].find("chapter");
  const std::size_t type_column = lines[0].find("C++ type");
  const std::size_t summary_column = lines[0].find("summary");
  for (std::size_t i = 0; i < lab_allocators().size(); ++i) {
    const LabAllocator& allocator = lab_allocators()[i];
    const std::string& row = lines[2 + i];
    CAPTURE(row);
    CHECK(row.starts_with(std::string(allocator.name) + ' '));
    CHECK(row.find(allocator.chapter) == chapter_column);
    CHECK(row.find(allocator.type) == type_column);
    CHECK(row.substr(summary_column) == allocator.summary);
  }
}

TEST_CASE("cli: replay prints the outcome and the space measures replay() reports") {
  const TempFile trace("replay.rep", kSmallTrace);
  const Run run = heaplab_run({"replay", trace.path(), "first-fit", "glibc"});
  CHECK(run.exit_code == 0);
  CHECK(run.err.empty());
  CHECK(run.out.starts_with(trace.path() + ": 8 operations, peak of live requests 112 B; heap 10.0 MiB\n"));
  CHECK(run.out.find("checks") == std::string::npos);  // only with --check

  const ReplayReport expected = engine_replay("first-fit", kSmallTrace);
  const std::vector<std::string> first_fit = words_of(row_of(run.out, "first-fit"));
  // "first-fit completed 50.0% 224 B 32 B 30.0% 0.25 56 B": a unit is a word of its own.
  REQUIRE(first_fit.size() == 11);
  CHECK(first_fit[1] == "completed");
  CHECK(first_fit[2] == format_percent(*expected.space.utilization));
  CHECK(first_fit[3] + ' ' + first_fit[4] == format_bytes(*expected.space.peak_heap));
  CHECK(first_fit[5] + ' ' + first_fit[6] == format_bytes(*expected.space.internal_fragmentation));
  CHECK(first_fit[7] == format_percent(*expected.space.external_fragmentation));
  CHECK(first_fit[8] == fixed(*expected.space.visited_per_allocation, 2));
  CHECK(first_fit[9] + ' ' + first_fit[10] == format_bytes(*expected.space.largest_free_block));

  // glibc: only its internal fragmentation is measurable.
  const std::vector<std::string> glibc = words_of(row_of(run.out, "glibc"));
  REQUIRE(glibc.size() == 9);
  CHECK(glibc[1] == "completed");
  CHECK(glibc[2] == "-");
  CHECK(glibc[3] == "-");
  CHECK(glibc[4] != "-");
  CHECK(glibc[8] == "-");
  CHECK(run.out.find("2 of 2 replays completed.") != std::string::npos);
}

TEST_CASE("cli: replay --check reports the checks made") {
  const TempFile trace("check.rep", kSmallTrace);
  const Run run = heaplab_run({"replay", "--check", trace.path(), "best-fit", "pmr-pool"});
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("check() after every operation") != std::string::npos);
  const std::vector<std::string> best_fit = words_of(row_of(run.out, "best-fit"));
  REQUIRE(best_fit.size() >= 3);
  CHECK(best_fit[1] == "8");  // one check() per operation
  CHECK(best_fit[2] == "completed");
  const std::vector<std::string> pmr = words_of(row_of(run.out, "pmr-pool"));
  REQUIRE(pmr.size() >= 3);
  CHECK(pmr[1] == "-");  // std::pmr has no check()
}

TEST_CASE("cli: replay all runs every allocator of the table once") {
  const TempFile trace("all.rep", kSmallTrace);
  const Run run = heaplab_run({"replay", trace.path(), "all", "first-fit"});
  CHECK(run.exit_code == 0);
  for (const LabAllocator& allocator : lab_allocators()) {
    CAPTURE(allocator.name);
    CHECK_FALSE(row_of(run.out, allocator.name).empty());
  }
  const std::string count = std::to_string(lab_allocators().size());
  CHECK(run.out.find(count + " of " + count + " replays completed.") != std::string::npos);
}

TEST_CASE("cli: a replay that runs out of memory exits with 1 and says where") {
  std::string text = "0\n64\n64\n1\n";
  for (int id = 0; id < 64; ++id) text += "a " + std::to_string(id) + " 100\n";
  const TempFile trace("oom.rep", text);
  const Run run = heaplab_run({"replay", "--heap-size", "4K", trace.path(), "bump", "glibc", "first-fit"});
  CHECK(run.exit_code == kExitFailed);
  CHECK(run.err.empty());
  const std::string bump = row_of(run.out, "bump");
  CHECK(bump.find(": the allocator returned nullptr (out of memory)") != std::string::npos);
  CHECK(bump.find("line ") != std::string::npos);
  CHECK(run.out.find("heap 4.0 KiB") != std::string::npos);
  // glibc is held to the same heap: it stops at the first block that
  // takes the live requests past 4096 bytes, id 4096 / 100 on line 5 + id.
  const std::size_t first_refused = 4096 / 100;
  CHECK(row_of(run.out, "glibc") == "  glibc      line " + std::to_string(5 + first_refused) + ": a " +
                                        std::to_string(first_refused) +
                                        " 100: the allocator returned nullptr (out of memory)");
  CHECK(run.out.find("0 of 3 replays completed.") != std::string::npos);
}

TEST_CASE("cli: the references replay on the heap size the others get, and run out of memory like them") {
  // Two blocks of 1 MiB: the second is past a heap of 1 MiB for every
  // allocator; a heap of 2 MiB holds both requests, which is all a
  // reference is held to.
  const TempFile trace("references.rep", "0\n2\n4\n1\na 0 1048576\na 1 1048576\nf 0\nf 1\n");
  for (const std::string_view reference : {"glibc", "pmr-pool"}) {
    CAPTURE(reference);
    const Run small = heaplab_run({"replay", "--heap-size", "1M", trace.path(), std::string(reference)});
    CHECK(small.exit_code == kExitFailed);
    CHECK(row_of(small.out, reference).ends_with(" line 6: a 1 1048576: the allocator returned nullptr (out of memory)"));
    const Run roomy = heaplab_run({"replay", "--heap-size", "2M", trace.path(), std::string(reference)});
    CHECK(roomy.exit_code == 0);
    CHECK(words_of(row_of(roomy.out, reference))[1] == "completed");
  }
  SUBCASE("compare: glibc, always added, is held to the heap too") {
    const Run run = heaplab_run({"compare", "--csv", "--repeat", "1", "--heap-size", "1M", "--allocators", "first-fit",
                                 trace.path()});
    CHECK(run.exit_code == 0);  // running out of memory is a result in compare
    const std::vector<std::string> glibc = csv_fields(lines_of(run.out).back());
    REQUIRE(glibc.size() > 3);
    CHECK(glibc[1] == "glibc");
    CHECK(glibc[2] == "out of memory");
    CHECK(glibc[3].starts_with("line 6: a 1 1048576: "));
  }
}

TEST_CASE("cli: map draws the blocks after every operation") {
  // 40 bytes need a block of 56, 8 bytes one of 24 (the smallest), 16
  // bytes one of 32: first fit cuts it from the freed 56 and leaves 24 free.
  const TempFile trace("map.rep", "0\n3\n4\n1\na 0 40\na 1 8\nf 0\na 2 16\n");
  const Run run = heaplab_run({"map", trace.path(), "first-fit"});
  CHECK(run.exit_code == 0);
  CHECK(run.err.empty());
  const std::vector<std::string> lines = lines_of(run.out);
  REQUIRE(lines.size() == 7);  // a heading, a key, a blank line, one line per operation
  CHECK(lines[3] == "line 5: a 0 40          [A 56]");
  CHECK(lines[4] == "line 6: a 1 8           [A 56][A 24]");
  CHECK(lines[5] == "line 7: f 0             [F 56][A 24]");
  CHECK(lines[6] == "line 8: a 2 16          [A 32][F 24][A 24]");
  // Best fit, on the same trace, must take the same block: there is only one.
  CHECK(lines_of(heaplab_run({"map", trace.path(), "best-fit"}).out)[6] == lines[6]);

  SUBCASE("--max-blocks counts the rest") {
    const Run short_lines = heaplab_run({"map", "--max-blocks", "2", trace.path(), "first-fit"});
    CHECK(lines_of(short_lines.out)[6] == "line 8: a 2 16          [A 32][F 24] ... and 1 more block");
  }
  SUBCASE("a bump heap never frees") {
    const Run bump = heaplab_run({"map", trace.path(), "bump"});
    CHECK(bump.exit_code == 0);
    CHECK(lines_of(bump.out)[5].find("[A ") == 24);  // the freed block is still allocated
  }
  SUBCASE("an operation the heap cannot serve ends the map with exit 1") {
    const Run full = heaplab_run({"map", "--heap-size", "4K", trace.path(), "first-fit"});
    CHECK(full.exit_code == 0);  // 4 KiB hold this trace
    std::string text = "0\n64\n64\n1\n";
    for (int id = 0; id < 64; ++id) text += "a " + std::to_string(id) + " 100\n";
    const TempFile big("map-oom.rep", text);
    const Run oom = heaplab_run({"map", "--heap-size", "4K", big.path(), "first-fit"});
    CHECK(oom.exit_code == kExitFailed);
    CHECK(lines_of(oom.out).back().ends_with(": the allocator returned nullptr (out of memory)"));
  }
  SUBCASE("the references have no block walk, and map takes one allocator") {
    CHECK(heaplab_run({"map", trace.path(), "glibc"}).exit_code == kExitUsage);
    CHECK(heaplab_run({"map", trace.path(), "first-fit", "best-fit"}).exit_code == kExitUsage);
    CHECK(heaplab_run({"map", "--max-blocks", "0", trace.path(), "first-fit"}).exit_code == kExitUsage);
  }
}

TEST_CASE("cli: without --heap-size, a trace whose live requests outgrow 10 MiB gets a heap to match") {
  // 700 KiB live: 16 times that is 10.9 MiB, so the heap is 11 MiB; 600
  // KiB live stays on the static heap's 10 MiB.
  const TempFile big("roomy.rep", "0\n1\n1\n1\na 0 716800\n");
  const Run run = heaplab_run({"replay", big.path(), "first-fit"});
  CHECK(run.exit_code == 0);
  CHECK(lines_of(run.out)[0].ends_with("; heap 11.0 MiB"));
  const TempFile small("static.rep", "0\n1\n1\n1\na 0 614400\n");
  CHECK(lines_of(heaplab_run({"replay", small.path(), "first-fit"}).out)[0].ends_with("; heap 10.0 MiB"));
  // --heap-size still decides when given.
  CHECK(lines_of(heaplab_run({"replay", "--heap-size", "2M", big.path(), "first-fit"}).out)[0].ends_with(
      "; heap 2.0 MiB"));
}

TEST_CASE("cli: map --html writes one self-contained page with every step of every allocator") {
  const TempFile trace("map-html.rep", "0\n3\n4\n1\na 0 40\na 1 8\nf 0\na 2 16\n");
  const TempFile page("map.html", "");
  const Run run = heaplab_run({"map", "--html", page.path(), trace.path(), "first-fit", "bump"});
  CHECK(run.exit_code == 0);
  CHECK(run.err.empty());
  CHECK(run.out == "Wrote " + page.path() + ": 4 steps of " + trace.path() + " on first-fit, bump.\n");
  std::ifstream in(page.path());
  const std::string html{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  CHECK(html.starts_with("<!DOCTYPE html>"));
  // Self-contained: no script, style or image comes from elsewhere.
  CHECK(html.find("src=") == std::string::npos);
  CHECK(html.find("<link") == std::string::npos);
  CHECK(html.find("https:") == std::string::npos);
  // The data: both heaps, each step's operation and blocks, first fit's
  // last step as `map` draws it ([A 32][F 24][A 24]), each block with the
  // id it serves, the bytes asked for, its 16-byte header, no footer, and
  // the 8-byte link of the free block.
  CHECK(html.find("{\"name\":\"first-fit\",\"stopped\":\"\",\"frames\":[") != std::string::npos);
  CHECK(html.find("{\"name\":\"bump\",") != std::string::npos);
  CHECK(html.find("{\"op\":\"a 2 16\",\"line\":8,\"live\":24,"
                  "\"blocks\":[[0,0,32,1,2,16,16,0,0],[0,32,24,0,-1,0,16,0,8],[0,56,24,1,1,8,16,0,0]]}") !=
        std::string::npos);

  SUBCASE("a heap that runs out says where it stopped, and the command exits with 1") {
    std::string text = "0\n64\n64\n1\n";
    for (int id = 0; id < 64; ++id) text += "a " + std::to_string(id) + " 100\n";
    const TempFile big("map-html-oom.rep", text);
    const Run oom = heaplab_run({"map", "--html", page.path(), "--heap-size", "4K", big.path(), "first-fit"});
    CHECK(oom.exit_code == kExitFailed);
    std::ifstream again(page.path());
    const std::string stopped{std::istreambuf_iterator<char>(again), std::istreambuf_iterator<char>()};
    CHECK(stopped.find("the allocator returned nullptr (out of memory)") != std::string::npos);
  }
  SUBCASE("a page that cannot be written is one line, before any replay") {
    const Run unwritable = heaplab_run({"map", "--html", "/nonexistent-dir/map.html", trace.path(), "first-fit"});
    CHECK(unwritable.exit_code == kExitFailed);
    CHECK(unwritable.err == "heaplab: cannot write /nonexistent-dir/map.html\n");
  }
  SUBCASE("a reference has no block walk to draw") {
    CHECK(heaplab_run({"map", "--html", page.path(), trace.path(), "first-fit", "glibc"}).exit_code == kExitUsage);
    CHECK(heaplab_run({"map", "--html", page.path(), trace.path(), "all", "glibc"}).exit_code == kExitUsage);
    CHECK(heaplab_run({"map", "--html", page.path(), trace.path()}).exit_code == kExitUsage);
  }
}

TEST_CASE("cli: map all draws every allocator with a block walk on the page, and refuses one map of several") {
  const TempFile trace("map-all.rep", "0\n3\n4\n1\na 0 40\na 1 8\nf 0\na 2 16\n");
  std::vector<std::string_view> drawable;
  for (const LabAllocator& allocator : lab_allocators()) {
    if (allocator.map != nullptr) drawable.push_back(allocator.name);
  }
  REQUIRE(drawable.size() + 2 == lab_allocators().size());  // all but glibc and pmr-pool
  SUBCASE("--html: every one of them, and only those") {
    const TempFile page("map-all.html", "");
    const Run run = heaplab_run({"map", "--html", page.path(), trace.path(), "all"});
    CHECK(run.exit_code == 0);
    CHECK(run.err.empty());
    std::string names;
    for (const std::string_view name : drawable) names += (names.empty() ? "" : ", ") + std::string(name);
    CHECK(run.out == "Wrote " + page.path() + ": 4 steps of " + trace.path() + " on " + names + ".\n");
    std::ifstream in(page.path());
    const std::string html{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    for (const std::string_view name : drawable) {
      CAPTURE(name);
      CHECK(html.find("{\"name\":\"" + std::string(name) + "\",") != std::string::npos);
    }
  }
  SUBCASE("a map on the terminal: one line that says how to draw them all") {
    const Run run = heaplab_run({"map", trace.path(), "all"});
    CHECK(run.exit_code == kExitUsage);
    CHECK(run.out.empty());
    CHECK(run.err == "heaplab: 'heaplab map' draws one allocator, and 'all' names " + std::to_string(drawable.size()) +
                         " with a block walk; 'heaplab map --html FILE TRACE all' draws them side by side"
                         " (run 'heaplab --help' for the usage)\n");
  }
}

TEST_CASE("cli: a malformed trace gives exit 2 and format_error's one line") {
  struct Case {
    std::string_view name;
    std::string_view text;
    std::string_view says;  ///< A part of the message that names the problem.
  };
  const Case cases[] = {
      {"bad header", "lots\n1\n1\n1\na 0 8\n", ":1: header: the suggested heap size must be a whole number"},
      {"unknown operation", "0\n1\n1\n1\nx 0 8\n", ":5: unknown operation 'x'"},
      {"id out of range", "0\n2\n1\n1\na 2 8\n", ":5: id 2 is out of range"},
      {"free of an id never allocated", "0\n2\n2\n1\na 0 8\nf 1\n", ":6: free of id 1, which was never allocated"},
      {"negative size", "0\n1\n1\n1\na 0 -8\n", ":5: size -8 is negative"},
      {"absurd size", "0\n1\n1\n1\na 0 99999999999\n", ":5: size 99999999999 is absurd"},
      {"truncated file", "0\n2\n5\n1\na 0 8\nf 0\n", ": truncated: the header declares 5 operations"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    const TempFile trace("malformed.rep", c.text);
    const TraceResult parsed = parse_trace_file(trace.path());
    REQUIRE_FALSE(parsed.has_value());
    const std::string expected = format_error(parsed.error()) + '\n';
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"replay", trace.path(), "first-fit"}, {"compare", "--repeat", "1", trace.path()}}) {
      const Run run = heaplab_run(args);
      CHECK(run.exit_code == kExitMalformedTrace);
      CHECK(run.out.empty());
      CHECK(run.err == expected);
      CHECK(run.err.starts_with(trace.path()));
      CHECK(run.err.find(c.says) != std::string::npos);
    }
  }
  SUBCASE("a file that does not exist") {
    const TempFile missing("missing.rep");
    const Run run = heaplab_run({"replay", missing.path(), "first-fit"});
    CHECK(run.exit_code == kExitMalformedTrace);
    CHECK(run.err == missing.path() + ": cannot open the file\n");
  }
  SUBCASE("compare reads every trace before it runs any") {
    const TempFile good("good.rep", kSmallTrace);
    const TempFile bad("bad.rep", "0\n1\n1\n1\nq 0 8\n");
    const Run run = heaplab_run({"compare", "--repeat", "1", good.path(), bad.path()});
    CHECK(run.exit_code == kExitMalformedTrace);
    CHECK(run.out.empty());
    CHECK(is_one_line(run.err));
  }
}

TEST_CASE("cli: input that holds no trace ends at once in one line: /dev/zero, a directory, an endless line") {
  SUBCASE("/dev/zero, which never ends") {
    const std::optional<Run> run = heaplab_within({"replay", "/dev/zero", "bump"}, std::chrono::seconds(10));
    REQUIRE_MESSAGE(run.has_value(), "heaplab replay /dev/zero did not end within 10 s");
    CHECK(run->exit_code == kExitMalformedTrace);
    CHECK(run->err == "/dev/zero: is not a regular file (a character device), so it holds no trace\n");
  }
  SUBCASE("a directory") {
    const std::string directory = std::filesystem::temp_directory_path().string();
    const Run run = heaplab_run({"replay", directory, "bump"});
    CHECK(run.exit_code == kExitMalformedTrace);
    CHECK(run.out.empty());
    CHECK(run.err == directory + ": is a directory, not a trace file\n");
  }
  SUBCASE("a line of 64 MiB") {
    const TempFile huge("huge-line.rep", "0\n1\n1\n1\n" + std::string(std::size_t{64} << 20, '7') + "\n");
    const std::optional<Run> run = heaplab_within({"replay", huge.path(), "bump"}, std::chrono::seconds(10));
    REQUIRE_MESSAGE(run.has_value(), "heaplab replay of a 64 MiB line did not end within 10 s");
    CHECK(run->exit_code == kExitMalformedTrace);
    CHECK(run->err == huge.path() + ":5: the line is longer than 4096 bytes, the most a trace line may have\n");
  }
}

TEST_CASE("cli: every command whose report cannot be written exits with 1 and one line") {
  const TempFile trace("full.rep", kSmallTrace);
  const TempFile page("full.html");
  const std::string t = trace.path();
  const std::vector<std::vector<std::string>> commands = {
      {"list"},
      {"--help"},
      {"replay", t, "first-fit"},
      {"compare", "--repeat", "1", "--allocators", "first-fit", t},
      {"compare", "--csv", "--repeat", "1", "--allocators", "first-fit", t},
      {"map", t, "first-fit"},
      {"map", "--html", page.path(), t, "first-fit"},
      {"score", "--repeat", "1", t, "first-fit"},
  };
  for (const std::vector<std::string>& args : commands) {
    CAPTURE(command_line(args));
    // Each command succeeds with an output that takes its report ...
    CHECK(heaplab_run(args).exit_code == 0);
    // ... and fails, saying so, with one that does not: /dev/full takes
    // nothing (every write fails with ENOSPC).
    std::ofstream full("/dev/full");
    REQUIRE(full.is_open());
    std::ostringstream err;
    const std::vector<std::string_view> views(args.begin(), args.end());
    CHECK(run_heaplab(views, full, err) == kExitFailed);
    CHECK(err.str() == "heaplab: cannot write to standard output\n");
  }
}

TEST_CASE("cli: usage errors give exit 64 and one line that points to --help") {
  const TempFile trace("usage.rep", kSmallTrace);
  const TempFile missing("usage-missing.rep");
  const std::string t = trace.path();
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"frobnicate"},
      {"list", "extra"},
      {"replay"},
      {"replay", t},
      {"replay", t, "no-such-allocator"},
      {"replay", "--bogus", t, "first-fit"},
      {"replay", "-x", t, "first-fit"},
      {"replay", t, "first-fit", "--heap-size"},
      {"replay", "--heap-size", "0", t, "first-fit"},
      {"replay", "--heap-size", "lots", t, "first-fit"},
      {"replay", "--csv", t, "first-fit"},  // a compare option
      {"replay", missing.path(), "no-such-allocator"},  // usage is checked before the trace is read
      {"compare"},
      {"compare", "--repeat", "0", t},
      {"compare", "--repeat", "many", t},
      {"compare", "--repeat", std::to_string(kMaxRepeat + 1), t},
      {"compare", "--allocators", "first-fit,,bump", t},
      {"compare", "--allocators", "first-fit,", t},
      {"compare", "--allocators", "first-fit,nope", t},
      {"compare", "--svg"},
      {"compare", "--check", t},  // a replay option
  };
  for (const std::vector<std::string>& args : cases) {
    CAPTURE(command_line(args));
    const Run run = heaplab_run(args);
    CHECK(run.exit_code == kExitUsage);
    CHECK(run.out.empty());
    CHECK(is_one_line(run.err));
    CHECK(run.err.starts_with("heaplab: "));
    CHECK(run.err.find("heaplab --help") != std::string::npos);
  }
}

TEST_CASE("cli: help shows the usage of every command") {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--help"}, {"help"}, {"-h"}, {"compare", "--help"}}) {
    const Run run = heaplab_run(args);
    CHECK(run.exit_code == 0);
    CHECK(run.err.empty());
    for (const std::string_view usage :
         {"heaplab list", "heaplab replay [--check] [--heap-size BYTES] [--timeout SECONDS] TRACE ALLOCATOR...",
          "heaplab compare [--csv] [--svg FILE]", "--repeat N", "--allocators",
          "heaplab map [--heap-size BYTES] [--max-blocks N] [--timeout SECONDS] TRACE ALLOCATOR",
          "heaplab score [--heap-size BYTES] [--repeat N] [--timeout SECONDS] TRACE... ALLOCATOR"}) {
      CAPTURE(usage);
      CHECK(run.out.find(usage) != std::string::npos);
    }
  }
}

TEST_CASE("cli: compare --csv has a row per trace and allocator with glibc always present") {
  const TempFile small("small.rep", kSmallTrace);
  const TempFile pair("pair,with a comma.rep", kPairTrace);  // a name CSV must quote
  const Run run =
      heaplab_run({"compare", "--csv", "--repeat", "2", "--allocators", "first-fit,bump", small.path(), pair.path()});
  CHECK(run.exit_code == 0);
  CHECK(run.err.empty());
  const std::vector<std::string> lines = lines_of(run.out);
  REQUIRE(lines.size() == 1 + 2 * 3);  // header + 2 traces x (first-fit, bump, glibc)
  const std::vector<std::string> header = csv_fields(lines[0]);
  CHECK(header[0] == "trace");
  CHECK(header[1] == "allocator");
  CHECK(header[6] == "utilization");
  CHECK(header.back() == "speed_vs_glibc");
  CHECK(lines[4].starts_with('"' + pair.path() + '"'));

  const std::string_view traces[] = {kSmallTrace, kPairTrace};
  const std::string paths[] = {small.path(), pair.path()};
  const std::string_view allocators[] = {"first-fit", "bump", "glibc"};
  for (std::size_t row = 0; row < 6; ++row) {
    const std::vector<std::string> fields = csv_fields(lines[1 + row]);
    CAPTURE(lines[1 + row]);
    REQUIRE(fields.size() == header.size());
    CHECK(fields[0] == paths[row / 3]);
    CHECK(fields[1] == allocators[row % 3]);
    CHECK(fields[2] == "completed");
    CHECK(fields[3].empty());  // no reason: it completed
    // The utilization is replay()'s, to the last bit.
    const ReplayReport expected = engine_replay(allocators[row % 3], traces[row / 3]);
    if (expected.space.utilization) {
      CHECK(number_of(fields[6]) == *expected.space.utilization);
      CHECK(number_of(fields[7]) == static_cast<double>(*expected.space.peak_heap));
    } else {
      CHECK(fields[6].empty());
      CHECK(fields[7].empty());
    }
    CHECK(number_of(fields.back()) > 0);  // speed: present and positive
  }
}

TEST_CASE("cli: compare runs every allocator of the table by default") {
  const TempFile trace("default.rep", kSmallTrace);
  const Run run = heaplab_run({"compare", "--csv", "--repeat", "1", trace.path()});
  CHECK(run.exit_code == 0);
  const std::vector<std::string> lines = lines_of(run.out);
  REQUIRE(lines.size() == 1 + lab_allocators().size());
  for (std::size_t i = 0; i < lab_allocators().size(); ++i) {
    CHECK(csv_fields(lines[1 + i])[1] == lab_allocators()[i].name);
  }
  SUBCASE("glibc named alone is compared once") {
    const Run alone = heaplab_run({"compare", "--csv", "--repeat", "1", "--allocators", "glibc", trace.path()});
    CHECK(lines_of(alone.out).size() == 2);
  }
}

TEST_CASE("cli: compare's table shows a failed replay's reason and a summary") {
  std::string text = "0\n64\n64\n1\n";
  for (int id = 0; id < 64; ++id) text += "a " + std::to_string(id) + " 100\n";
  const TempFile big("big.rep", text);
  const TempFile small("summary.rep", kSmallTrace);
  const Run run = heaplab_run(
      {"compare", "--heap-size", "4K", "--repeat", "1", "--allocators", "bump,first-fit", big.path(), small.path()});
  CHECK(run.exit_code == 0);  // running out of memory is a result, not an error
  CHECK(run.out.find("speed vs glibc") != std::string::npos);
  const std::string bump = row_of(run.out, "bump");  // the first trace's row
  CHECK(bump.find("the allocator returned nullptr (out of memory)") != std::string::npos);
  CHECK(run.out.find("Summary over 2 traces") != std::string::npos);
  const std::string summary = run.out.substr(run.out.find("Summary"));
  CHECK(words_of(row_of(summary, "bump"))[1] == "1");   // 1 of 2 completed
  CHECK(words_of(row_of(summary, "glibc"))[1] == "1");  // 1 of 2: glibc is held to the heap too
  CHECK(words_of(row_of(summary, "glibc")).back() == "1.00x");  // on the trace it completed
  CHECK(run.out.find("Legend") != std::string::npos);
}

TEST_CASE("cli: compare --svg writes a chart that names every allocator compared") {
  const TempFile trace("chart.rep", kSmallTrace);
  const TempFile svg("chart.svg");
  const Run run = heaplab_run(
      {"compare", "--repeat", "1", "--allocators", "best-fit,bump", "--svg", svg.path(), trace.path()});
  CHECK(run.exit_code == 0);
  std::ifstream in(svg.path());
  const std::string chart{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  CHECK(chart.starts_with("<svg"));
  CHECK(chart.ends_with("</svg>\n"));
  for (const std::string_view name : {"best-fit", "bump", "glibc"}) {
    CAPTURE(name);
    // Its legend entry, appended step by step: `">" + std::string(name)`
    // inserts a one-character literal, which draws a false -Wrestrict from
    // GCC 12 at -O3 (GCC bug 105329), an error in the release build.
    std::string legend = ">";
    legend += name;
    legend += " (";
    CHECK(chart.find(legend) != std::string::npos);
  }
  CHECK(chart.find("Utilization") != std::string::npos);
  CHECK(chart.find("Speed vs glibc") != std::string::npos);
  SUBCASE("a path that cannot be written stops compare before it runs") {
    const Run bad = heaplab_run({"compare", "--svg", "/no/such/directory/chart.svg", trace.path()});
    CHECK(bad.exit_code == kExitFailed);
    CHECK(bad.out.empty());
    CHECK(bad.err == "heaplab: cannot write /no/such/directory/chart.svg\n");
  }
}

TEST_CASE("cli: --heap-size reads sizes as HEAPLAB_HEAP_SIZE does, with one parser") {
  const TempFile trace("heap-size.rep", kSmallTrace);
  // What replay says of a --heap-size: the heap it ran on, or that the
  // size was refused.
  const auto heap_line = [&trace](std::string_view size) {
    const Run run = heaplab_run({"replay", "--heap-size", std::string(size), trace.path(), "bump"});
    return run.exit_code == kExitUsage ? std::string("refused") : lines_of(run.out).at(0);
  };
  // Upper and lower case suffixes, as the shims read the environment.
  for (const std::string_view size : {"64K", "64k", "10M", "10m", "1G", "1g"}) {
    CAPTURE(size);
    const std::optional<std::size_t> bytes = shim::parse_byte_size(size);
    REQUIRE(bytes.has_value());
    CHECK(heap_line(size).ends_with("; heap " + format_bytes(*bytes)));
  }
  CHECK(heap_line("10m") == heap_line("10M"));
  CHECK(heap_line("65536").ends_with("; heap 64.0 KiB"));
  // What the environment refuses, --heap-size refuses.
  for (const std::string_view garbage : {"", "0", "0K", "K", "-5", "+5", " 5", "5 ", "1.5M", "10MB", "10KiB", "10X",
                                         "0x10", "ten", "99999999999999999999", "17179869184G"}) {
    CAPTURE(garbage);
    CHECK_FALSE(shim::parse_byte_size(garbage).has_value());
    CHECK(heap_line(garbage) == "refused");
  }
}

TEST_CASE("cli: the learner's allocators are listed after the course's, under yours") {
  const Run run = heaplab_yours({"list"});
  CHECK(run.exit_code == 0);
  const std::vector<std::string> lines = lines_of(run.out);
  // The course's table (headings, rule, rows), a blank line, the heading
  // of yours, a blank line, and a table of three.
  REQUIRE(lines.size() == 2 + lab_allocators().size() + 3 + 2 + 3);
  CHECK(lines[2 + lab_allocators().size() + 1] == "yours (each run in a process of its own):");
  CHECK(row_of(run.out, "mine").ends_with("a first fit of my own"));
  CHECK(lines.back().starts_with("hangs "));
  // Without any, the list is the course's alone.
  CHECK(lines_of(heaplab_run({"list"}).out).size() == 2 + lab_allocators().size());
}

TEST_CASE("cli: a learner's allocator named like one of the course's is a usage error") {
  constexpr LabAllocator kClash[] = {lab_entry<FirstFitAllocator>("best-fit", "yours", "FirstFitAllocator", "a clash")};
  const std::vector<std::string_view> args = {"list"};
  std::ostringstream out;
  std::ostringstream err;
  CHECK(run_heaplab(args, out, err, kClash) == kExitUsage);
  CHECK(err.str() ==
        "heaplab: your allocator's name 'best-fit' is taken by the course; give it another "
        "(run 'heaplab --help' for the usage)\n");
  CHECK(out.str().empty());
}

TEST_CASE("cli: a learner's allocator is replayed by name, in a child process, with the same numbers") {
  const TempFile trace("yours.rep", kSmallTrace);
  const Run run = heaplab_yours({"replay", "--check", trace.path(), "mine", "first-fit"});
  CHECK(run.exit_code == 0);
  CHECK(run.err.empty());
  const std::vector<std::string> mine = words_of(row_of(run.out, "mine"));
  std::vector<std::string> first_fit = words_of(row_of(run.out, "first-fit"));
  REQUIRE(first_fit.size() > 1);
  first_fit[0] = "mine";
  CHECK(mine == first_fit);  // a first fit, measured through shared memory, is the course's
}

TEST_CASE("cli: a learner's allocator that crashes is answered with one line naming the trace line") {
  const TempFile trace("crash.rep", kSmallTrace);
  const std::string line = "crashes: crashed (SIGSEGV) at line 7 of " + trace.path() + ": a 2 40";
  SUBCASE("replay: the others still run") {
    const Run run = heaplab_yours({"replay", trace.path(), "crashes", "first-fit"});
    CHECK(run.exit_code == kExitFailed);
    CHECK(run.err == line + "\n");
    CHECK(row_of(run.out, "crashes").ends_with("crashed (SIGSEGV) at line 7 of " + trace.path() + ": a 2 40"));
    CHECK(words_of(row_of(run.out, "first-fit"))[1] == "completed");
    CHECK(run.out.find("1 of 2 replays completed.") != std::string::npos);
  }
  SUBCASE("compare: its row says crashed, and the others are measured") {
    const Run run = heaplab_yours({"compare", "--csv", "--repeat", "1", "--allocators", "crashes,mine", trace.path()});
    CHECK(run.exit_code == kExitFailed);
    CHECK(run.err == line + "\n");
    std::size_t measured = 0;
    for (const std::string& csv_line : lines_of(run.out)) {
      const std::vector<std::string> fields = csv_fields(csv_line);
      if (fields.size() > 1 && (fields[1] == "mine" || fields[1] == "glibc")) {
        CAPTURE(csv_line);
        CHECK(fields[2] == "completed");
        ++measured;
      }
    }
    CHECK(measured == 2);
  }
  SUBCASE("map: the lines before the crash are drawn") {
    const Run run = heaplab_yours({"map", trace.path(), "crashes"});
    CHECK(run.exit_code == kExitFailed);
    CHECK(run.err == line + "\n");
    const std::vector<std::string> lines = lines_of(run.out);
    REQUIRE(lines.size() == 5);  // heading, key, blank, lines 5 and 6
    CHECK(lines[4].starts_with("line 6: a 1 8 "));
  }
}

TEST_CASE("cli: a learner's allocator that never returns is stopped at --timeout") {
  const TempFile trace("hang.rep", kSmallTrace);
  const Run run = heaplab_yours({"replay", "--timeout", "1", trace.path(), "hangs", "first-fit"});
  CHECK(run.exit_code == kExitFailed);
  CHECK(run.err == "hangs: did not finish within 1 s, at line 7 of " + trace.path() + ": a 2 40\n");
  CHECK(words_of(row_of(run.out, "first-fit"))[1] == "completed");
  SUBCASE("--timeout takes whole seconds") {
    const Run bad = heaplab_yours({"replay", "--timeout", "soon", trace.path(), "hangs"});
    CHECK(bad.exit_code == kExitUsage);
    CHECK(is_one_line(bad.err));
    CHECK(bad.err.find("--timeout needs a whole number of seconds") != std::string::npos);
  }
}

TEST_CASE("cli: score prints a row per trace and the performance index, or says why there is none") {
  const TempFile small("score.rep", kSmallTrace);
  const TempFile pair("score-pair.rep", kPairTrace);
  const Run run = heaplab_yours({"score", "--repeat", "2", small.path(), pair.path(), "mine"});
  CHECK(run.exit_code == 0);
  CHECK(run.err.empty());
  const std::vector<std::string> row = words_of(row_of(run.out, small.path()));
  REQUIRE(row.size() == 6);
  CHECK(row[1] == "yes");
  CHECK(row[2] == format_percent(*engine_replay("first-fit", kSmallTrace).space.utilization));
  CHECK(row[3] == "8");
  CHECK(run.out.find("Performance index: ") != std::string::npos);
  SUBCASE("a trace it crashes on is invalid, and there is no index") {
    const Run crashed = heaplab_yours({"score", "--repeat", "1", pair.path(), small.path(), "crashes"});
    CHECK(crashed.exit_code == kExitFailed);
    CHECK(crashed.err == "crashes: crashed (SIGSEGV) at line 7 of " + small.path() + ": a 2 40\n");
    CHECK(words_of(row_of(crashed.out, pair.path()))[1] == "yes");
    CHECK(words_of(row_of(crashed.out, small.path()))[1] == "no");
    CHECK(crashed.out.find("No index: 1 of 2 traces is invalid") != std::string::npos);
    CHECK(crashed.out.find("Performance index: ") == std::string::npos);
  }
  SUBCASE("glibc has no heap of its own to score") {
    CHECK(heaplab_yours({"score", small.path(), "glibc"}).exit_code == kExitUsage);
  }
}

}  // TEST_SUITE("cli")
