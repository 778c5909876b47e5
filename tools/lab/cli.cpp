#include "tools/lab/cli.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <iterator>
#include <limits>
#include <new>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "stage1_static_bump/static_heap.hpp"
#include "tools/lab/compare.hpp"
#include "tools/lab/compare_report.hpp"
#include "tools/lab/lab_allocators.hpp"
#include "tools/lab/map_page.hpp"
#include "tools/lab/runner.hpp"
#include "tools/lab/score.hpp"
#include "tools/lab/text_report.hpp"
#include "tools/shim/heap_reservation.hpp"
#include "tools/trace/trace.hpp"

namespace heaplab {
namespace {

// ------------------------------------------------------------- errors ---

/// Why a command stops early: the one line it prints and its exit code.
/// Every way the input can be wrong is thrown as one, and run_heaplab()
/// alone prints it, so no command can forget the format.
struct CommandError {
  int exit_code;        ///< kExitUsage, kExitMalformedTrace or kExitFailed.
  std::string message;  ///< The whole line, without its line end.
};

/// Stops the command with a usage error about \p what.
[[noreturn]] void usage_error(const std::string& what) {
  throw CommandError{kExitUsage, "heaplab: " + what + " (run 'heaplab --help' for the usage)"};
}

/// Stops the command because the file \p path cannot be written.
[[noreturn]] void cannot_write(std::string_view path) {
  throw CommandError{kExitFailed, "heaplab: cannot write " + std::string(path)};
}

// ----------------------------------------------------------- arguments ---

/// An option a command accepts.
struct OptionSpec {
  std::string_view name;  ///< With its dashes: "--heap-size".
  bool takes_value;       ///< True when the next word is its value.
};

/// The options of `heaplab replay`.
constexpr OptionSpec kReplayOptions[] = {{"--check", false}, {"--heap-size", true}, {"--timeout", true}};
/// The options of `heaplab map`.
constexpr OptionSpec kMapOptions[] = {{"--heap-size", true}, {"--max-blocks", true}, {"--timeout", true},
                                     {"--html", true}};
/// The options of `heaplab compare`.
constexpr OptionSpec kCompareOptions[] = {{"--csv", false},     {"--svg", true},        {"--heap-size", true},
                                          {"--repeat", true},   {"--allocators", true}, {"--timeout", true}};
/// The options of `heaplab score`.
constexpr OptionSpec kScoreOptions[] = {{"--heap-size", true}, {"--repeat", true}, {"--timeout", true}};

/// A command's words, sorted into options and operands. Options may come
/// anywhere; a word after `--` is an operand even if it starts with a dash.
class CommandLine {
 public:
  /// Reads \p words of the command \p command, which accepts \p accepted;
  /// an unknown option or a missing value is a usage error.
  CommandLine(std::string_view command, std::span<const std::string_view> words,
              std::span<const OptionSpec> accepted) {
    bool only_operands = false;
    for (std::size_t i = 0; i < words.size(); ++i) {
      const std::string_view word = words[i];
      if (only_operands || word.size() < 2 || word[0] != '-') {
        operands_.push_back(word);
      } else if (word == "--") {
        only_operands = true;
      } else {
        const auto spec = std::ranges::find(accepted, word, &OptionSpec::name);
        if (spec == accepted.end()) {
          usage_error("unknown option " + quoted(word) + " for 'heaplab " + std::string(command) + "'");
        }
        if (spec->takes_value && i + 1 == words.size()) usage_error(std::string(word) + " needs a value");
        options_.emplace_back(word, spec->takes_value ? words[++i] : std::string_view());
      }
    }
  }

  /// True when \p option was given.
  [[nodiscard]] bool has(std::string_view option) const {
    return std::ranges::find(options_, option, &Option::first) != options_.end();
  }
  /// The value of \p option (the last one, if given more than once).
  [[nodiscard]] std::optional<std::string_view> value(std::string_view option) const {
    const auto last = std::ranges::find(options_.rbegin(), options_.rend(), option, &Option::first);
    if (last == options_.rend()) return std::nullopt;
    return last->second;
  }
  /// The words that are not options, in order.
  [[nodiscard]] std::span<const std::string_view> operands() const noexcept { return operands_; }

 private:
  using Option = std::pair<std::string_view, std::string_view>;  ///< Name and value ("" for a flag).
  std::vector<Option> options_;             ///< In the order given.
  std::vector<std::string_view> operands_;  ///< In the order given.
};

/// \p text as a whole decimal number, if it is one (no sign, no spaces).
std::optional<std::uint64_t> parse_whole_number(std::string_view text) {
  std::uint64_t value = 0;
  const char* const end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc{} || stop != end) return std::nullopt;
  return value;
}

/// The heap size `--heap-size` asks for, if it does. It is read by the
/// same parser as the malloc shims' HEAPLAB_HEAP_SIZE (heap_reservation.hpp),
/// so that a size written for one is a size for the other: 4096, 64K, 10m.
std::optional<std::size_t> heap_size_option(const CommandLine& line) {
  const std::optional<std::string_view> text = line.value("--heap-size");
  if (!text) return std::nullopt;
  const std::optional<std::size_t> bytes = shim::parse_byte_size(*text);
  if (!bytes) usage_error("--heap-size needs a number of bytes above 0, like 4096, 64K or 10M, not " + quoted(*text));
  return *bytes;
}

/// The number of timed runs `--repeat` asks for, or kDefaultRepeat.
std::size_t repeat_option(const CommandLine& line) {
  const std::optional<std::string_view> text = line.value("--repeat");
  if (!text) return kDefaultRepeat;
  const std::optional<std::uint64_t> repeat = parse_whole_number(*text);
  if (!repeat || *repeat == 0 || *repeat > kMaxRepeat) {
    usage_error("--repeat needs a whole number from 1 to " + std::to_string(kMaxRepeat) + ", not " + quoted(*text));
  }
  return static_cast<std::size_t>(*repeat);
}

/// The seconds `--timeout` gives each run of a learner's allocator, or
/// kDefaultTimeout; 0 means no limit.
std::chrono::seconds timeout_option(const CommandLine& line) {
  const std::optional<std::string_view> text = line.value("--timeout");
  if (!text) return kDefaultTimeout;
  const std::optional<std::uint64_t> seconds = parse_whole_number(*text);
  if (!seconds || *seconds > kMaxTimeout) {
    usage_error("--timeout needs a whole number of seconds from 0 (no limit) to " + std::to_string(kMaxTimeout) +
                ", not " + quoted(*text));
  }
  return std::chrono::seconds(static_cast<std::chrono::seconds::rep>(*seconds));
}

/// The allocators one run of heaplab knows: the course's table, then the
/// learner's own ("yours"), which the lab runs in a child process.
class Catalog {
 public:
  /// The course's allocators and \p yours; a name of \p yours that is taken
  /// (by the course, by `all`, or twice) is a usage error.
  explicit Catalog(std::span<const LabAllocator> yours) : yours_(yours) {
    for (std::size_t i = 0; i < yours.size(); ++i) {
      const std::string_view name = yours[i].name;
      const bool twice = std::ranges::any_of(yours.first(i), [&](const LabAllocator& a) { return a.name == name; });
      if (find_lab_allocator(name) != nullptr || name == "all" || twice) {
        usage_error("your allocator's name " + quoted(name) + " is taken by " +
                    (twice ? std::string("another of yours") : "the course") + "; give it another");
      }
    }
  }

  /// The learner's allocators.
  [[nodiscard]] std::span<const LabAllocator> yours() const noexcept { return yours_; }

  /// Every allocator: the course's, then the learner's.
  [[nodiscard]] std::vector<const LabAllocator*> all() const {
    std::vector<const LabAllocator*> every;
    for (const LabAllocator& allocator : lab_allocators()) every.push_back(&allocator);
    for (const LabAllocator& allocator : yours_) every.push_back(&allocator);
    return every;
  }

  /// The allocator called \p name, or nullptr.
  [[nodiscard]] const LabAllocator* find(std::string_view name) const noexcept {
    if (const LabAllocator* const course = find_lab_allocator(name)) return course;
    const auto mine = std::ranges::find(yours_, name, &LabAllocator::name);
    return mine == yours_.end() ? nullptr : &*mine;
  }

  /// The allocators \p names name, each once, in order; `all` names every
  /// allocator. An unknown name is a usage error.
  [[nodiscard]] std::vector<const LabAllocator*> named(std::span<const std::string_view> names) const {
    std::vector<const LabAllocator*> chosen;
    const auto choose = [&chosen](const LabAllocator* allocator) {
      if (std::ranges::find(chosen, allocator) == chosen.end()) chosen.push_back(allocator);
    };
    for (const std::string_view name : names) {
      if (name == "all") {
        for (const LabAllocator* allocator : all()) choose(allocator);
      } else if (const LabAllocator* const allocator = find(name)) {
        choose(allocator);
      } else {
        usage_error("unknown allocator " + quoted(name) + "; 'heaplab list' shows them all");
      }
    }
    return chosen;
  }

  /// The runner for this catalog: the learner's allocators in a child
  /// process, each run given \p timeout.
  [[nodiscard]] LabRunner runner(std::chrono::seconds timeout) const { return LabRunner(yours_, timeout); }

 private:
  std::span<const LabAllocator> yours_;  ///< The learner's allocators.
};

/// The allocators `--allocators a,b,c` names, or every allocator.
std::vector<const LabAllocator*> allocators_option(const CommandLine& line, const Catalog& catalog) {
  const std::optional<std::string_view> list = line.value("--allocators");
  if (!list) return catalog.all();
  std::vector<std::string_view> names;
  for (std::string_view rest = *list;;) {
    const std::size_t comma = rest.find(',');
    names.push_back(rest.substr(0, comma));
    if (names.back().empty()) usage_error("--allocators needs names separated by commas, not " + quoted(*list));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return catalog.named(names);
}

// ------------------------------------------------------ traces, heaps ---

/// The trace in the file \p path; a malformed one stops the command with
/// format_error()'s line and kExitMalformedTrace.
NamedTrace load_trace(std::string_view path) {
  const TraceResult result = parse_trace_file(std::filesystem::path(path));
  if (!result) throw CommandError{kExitMalformedTrace, format_error(result.error())};
  return {std::string(path), result.value()};
}

/// A LabHeap of \p bytes, or a clean stop when the kernel refuses it.
/// The heap runs on \p traces get: \p asked (`--heap-size`) when given;
/// otherwise the static heap's 10 MiB, or, for a trace whose live requests
/// peak higher (the CS:APP set's large random traces), kAutoHeapFactor
/// times its peak, in whole MiB, up to the largest heap a trace may ask for.
/// The heap is reserved, not committed: only the pages used cost memory.
std::size_t heap_size_for(std::optional<std::size_t> asked, std::span<const NamedTrace> traces) {
  if (asked) return *asked;
  std::size_t peak = 0;
  for (const NamedTrace& trace : traces) peak = std::max(peak, peak_live_bytes(trace.trace));
  constexpr std::size_t kMiB = std::size_t{1} << 20;
  const std::size_t roomy = (std::min(peak, kMaxTraceSize / kAutoHeapFactor) * kAutoHeapFactor + kMiB - 1) / kMiB * kMiB;
  return std::max(kStaticHeapSize, roomy);
}

LabHeap lab_heap(std::size_t bytes) {
  try {
    return LabHeap(bytes);
  } catch (const std::bad_alloc&) {
    throw CommandError{kExitFailed, "heaplab: cannot map a heap of " + std::to_string(bytes) + " bytes"};
  }
}

// ------------------------------------------------------------ commands ---

/// The table `heaplab list` prints of \p allocators.
void write_allocator_table(std::ostream& out, std::span<const LabAllocator> allocators) {
  TextTable table(
      {{"name", Align::left}, {"chapter", Align::left}, {"C++ type", Align::left}, {"summary", Align::left}});
  for (const LabAllocator& allocator : allocators) {
    table.add_row({std::string(allocator.name), std::string(allocator.chapter), std::string(allocator.type),
                   std::string(allocator.summary)});
  }
  table.write(out);
}

/// `heaplab list`: the table of the course's allocators, then the
/// learner's own under a heading of theirs.
int run_list(std::span<const std::string_view> words, std::ostream& out, const Catalog& catalog) {
  const CommandLine line("list", words, {});
  if (!line.operands().empty()) usage_error("'heaplab list' takes no arguments");
  write_allocator_table(out, lab_allocators());
  if (!catalog.yours().empty()) {
    out << "\nyours (each run in a process of its own):\n\n";
    write_allocator_table(out, catalog.yours());
  }
  return 0;
}

/// Writes, to \p err, the one line of each allocator of \p results whose
/// process crashed or hung: "mine: crashed (SIGSEGV) at line 12 of t.rep: a 3 8".
void report_crashes(std::ostream& err, const LabAllocator& allocator, const ReplayReport& report) {
  if (report.outcome == ReplayOutcome::crashed) err << allocator.name << ": " << report.what << '\n';
}

/// The columns of `heaplab replay`'s table; "checks" only with --check.
std::vector<TextTable::Column> replay_columns(bool with_checks) {
  std::vector<TextTable::Column> columns = {{"allocator", Align::left}};
  if (with_checks) columns.push_back({"checks", Align::right});
  columns.push_back({"outcome", Align::left});
  std::ranges::move(space_columns(), std::back_inserter(columns));
  columns.push_back({"largest free", Align::right});
  return columns;
}

/// The row of \p allocator's replay in `heaplab replay`'s table: a failed
/// replay shows why, in place of its measures.
std::vector<std::string> replay_row(const LabAllocator& allocator, const ReplayReport& report, bool with_checks) {
  std::vector<std::string> row = {std::string(allocator.name)};
  if (with_checks) row.push_back(allocator.is_reference() ? std::string(kNoValue) : std::to_string(report.checks));
  if (report.outcome != ReplayOutcome::completed) {
    row.push_back(report.what);
    return row;
  }
  row.emplace_back(outcome_name(report.outcome));
  std::ranges::move(space_cells(report.space), std::back_inserter(row));
  row.push_back(format_or_dash(report.space.largest_free_block, format_bytes));
  return row;
}

/// What `heaplab replay`'s columns mean.
std::vector<LegendEntry> replay_legend(bool with_checks) {
  std::vector<LegendEntry> entries;
  if (with_checks) entries.push_back({"checks", "check() calls made, all passed: one after every operation"});
  entries.push_back({"outcome", "completed, or the operation where the replay stopped, and why"});
  std::ranges::move(space_legend(), std::back_inserter(entries));
  entries.push_back({"largest free", "the largest free block, at the trace's peak"});
  entries.push_back(no_value_legend());
  return entries;
}

/// `heaplab replay`: one trace on each allocator named, carefully.
int run_replay(std::span<const std::string_view> words, std::ostream& out, std::ostream& err,
               const Catalog& catalog) {
  const CommandLine line("replay", words, kReplayOptions);
  if (line.operands().size() < 2) usage_error("'heaplab replay' needs a trace and at least one allocator");
  const std::optional<std::size_t> heap_size = heap_size_option(line);
  const LabRunner runner = catalog.runner(timeout_option(line));
  const std::vector<const LabAllocator*> allocators = catalog.named(line.operands().subspan(1));
  const NamedTrace trace = load_trace(line.operands()[0]);
  const LabHeap heap = lab_heap(heap_size_for(heap_size, std::span(&trace, 1)));
  const ReplayOptions options{.check_every_op = line.has("--check")};

  out << trace_heading(trace.name, trace.trace) << "; heap " << format_bytes(heap.bytes().size())
      << (options.check_every_op ? "; check() after every operation" : "") << "\n\n";
  TextTable table(replay_columns(options.check_every_op));
  std::size_t completed = 0;
  for (const LabAllocator* allocator : allocators) {
    const ReplayReport report = runner.replay(*allocator, trace, heap.bytes(), options);
    if (report.outcome == ReplayOutcome::completed) ++completed;
    report_crashes(err, *allocator, report);
    table.add_row(replay_row(*allocator, report, options.check_every_op));
  }
  table.write(out, "  ");
  out << '\n' << completed << " of " << allocators.size() << " replays completed.\n\n";
  write_legend(out, replay_legend(options.check_every_op));
  return completed == allocators.size() ? 0 : kExitFailed;
}

/// The number of blocks `--max-blocks` asks `heaplab map` to draw per line.
std::size_t max_blocks_option(const CommandLine& line) {
  const std::optional<std::string_view> text = line.value("--max-blocks");
  if (!text) return kDefaultMapBlocks;
  const std::optional<std::uint64_t> blocks = parse_whole_number(*text);
  if (!blocks || *blocks == 0 || *blocks > kMaxMapBlocks) {
    usage_error("--max-blocks needs a whole number from 1 to " + std::to_string(kMaxMapBlocks) + ", not " +
                quoted(*text));
  }
  return static_cast<std::size_t>(*blocks);
}

/// The allocators \p line names after its trace, each with a block walk
/// to draw: `all` names every allocator that has one (the references have
/// none), and one named without a walk is a usage error.
std::vector<const LabAllocator*> drawable_allocators(const CommandLine& line, const Catalog& catalog) {
  const std::span<const std::string_view> names = line.operands().subspan(1);
  for (const std::string_view name : names) {
    const LabAllocator* const allocator = catalog.find(name);  // null for `all`, and for a name named() refuses
    if (allocator != nullptr && allocator->map == nullptr) {
      usage_error(std::string(allocator->name) +
                  " has no block walk to draw; 'heaplab map' draws the course's allocators");
    }
  }
  std::vector<const LabAllocator*> allocators = catalog.named(names);
  std::erase_if(allocators, [](const LabAllocator* allocator) { return allocator->map == nullptr; });
  return allocators;
}

/// `heaplab map --html FILE`: the page of map_page.hpp, with the heap of
/// every allocator named, written to FILE.
int run_map_page(const CommandLine& line, std::string_view path, std::ostream& out, std::ostream& err,
                 const Catalog& catalog) {
  const std::optional<std::size_t> heap_size = heap_size_option(line);
  const LabRunner runner = catalog.runner(timeout_option(line));
  const std::vector<const LabAllocator*> allocators = drawable_allocators(line, catalog);
  const NamedTrace trace = load_trace(line.operands()[0]);
  std::ofstream page{std::filesystem::path(path)};
  if (!page) cannot_write(path);
  const LabHeap heap = lab_heap(heap_size_for(heap_size, std::span(&trace, 1)));
  std::vector<MapPageHeap> heaps;
  bool complete = true;
  for (const LabAllocator* allocator : allocators) {
    std::ostringstream frames;
    const MapRun run = runner.frames(*allocator, trace, heap.bytes(), frames);
    std::string stopped = run.failure;
    if (stopped.empty() && run.done != trace.trace.ops.size()) {
      stopped = detail::describe(trace.trace.ops[run.done]) + ": the allocator returned nullptr (out of memory)";
    }
    if (!run.failure.empty()) err << allocator->name << ": " << run.failure << '\n';
    complete = complete && stopped.empty();
    heaps.push_back({allocator->name, frames.str(), std::move(stopped)});
  }
  write_map_page(page, trace.name, trace.trace.ops.size(), heaps);
  page.close();
  if (!page) cannot_write(path);
  out << "Wrote " << path << ": " << trace.trace.ops.size() << " steps of " << trace.name << " on ";
  for (std::size_t i = 0; i < heaps.size(); ++i) out << (i == 0 ? "" : ", ") << heaps[i].name;
  out << ".\n";
  return complete ? 0 : kExitFailed;
}

/// `heaplab map`: one trace on one allocator, its blocks after every step;
/// with `--html FILE`, on one or several allocators, as a page.
int run_map(std::span<const std::string_view> words, std::ostream& out, std::ostream& err, const Catalog& catalog) {
  const CommandLine line("map", words, kMapOptions);
  if (const std::optional<std::string_view> page = line.value("--html")) {
    if (line.operands().size() < 2) usage_error("'heaplab map --html FILE' needs a trace and one or more allocators");
    return run_map_page(line, *page, out, err, catalog);
  }
  if (line.operands().size() != 2) usage_error("'heaplab map' needs a trace and one allocator");
  const std::optional<std::size_t> heap_size = heap_size_option(line);
  const std::size_t max_blocks = max_blocks_option(line);
  const LabRunner runner = catalog.runner(timeout_option(line));
  const std::vector<const LabAllocator*> allocators = drawable_allocators(line, catalog);
  if (allocators.size() != 1) {
    // Only `all` names more than one here. One heap's map already takes a
    // line per operation; several are drawn side by side only on the page.
    usage_error("'heaplab map' draws one allocator, and 'all' names " + std::to_string(allocators.size()) +
                " with a block walk; 'heaplab map --html FILE TRACE all' draws them side by side");
  }
  const LabAllocator& allocator = *allocators.front();
  const NamedTrace trace = load_trace(line.operands()[0]);
  const LabHeap heap = lab_heap(heap_size_for(heap_size, std::span(&trace, 1)));
  out << trace_heading(trace.name, trace.trace) << "; " << allocator.name << " on a heap of "
      << format_bytes(heap.bytes().size()) << "\n"
      << "The blocks after each operation, in address order: [A size] allocated, [F size] free.\n\n";
  const MapRun run = runner.map(allocator, trace, heap.bytes(), max_blocks, out);
  if (!run.failure.empty()) err << allocator.name << ": " << run.failure << '\n';
  return run.failure.empty() && run.done == trace.trace.ops.size() ? 0 : kExitFailed;
}

/// The SVG file `--svg` names, opened before the comparison runs so that a
/// path that cannot be written stops the command at once.
std::ofstream open_svg(std::string_view path) {
  std::ofstream file{std::filesystem::path(path)};
  if (!file) cannot_write(path);
  return file;
}

/// True when some replay of \p comparison failed otherwise than by running
/// out of memory: an allocator damaged a block or broke an invariant.
bool has_broken_replay(const Comparison& comparison) {
  return std::ranges::any_of(comparison.traces, [](const TraceComparison& trace) {
    return std::ranges::any_of(trace.results, [](const AllocatorResult& result) {
      return !result.completed() && result.report.outcome != ReplayOutcome::out_of_memory;
    });
  });
}

/// Writes to \p err the one line of every run of \p comparison that crashed.
void report_comparison_crashes(std::ostream& err, const Comparison& comparison) {
  for (const TraceComparison& trace : comparison.traces) {
    for (const AllocatorResult& result : trace.results) report_crashes(err, *result.allocator, result.report);
  }
}

/// `heaplab score`: the malloc lab's performance index of one allocator
/// (score.hpp), on every trace given.
int run_score(std::span<const std::string_view> words, std::ostream& out, std::ostream& err,
              const Catalog& catalog) {
  const CommandLine line("score", words, kScoreOptions);
  if (line.operands().size() < 2) usage_error("'heaplab score' needs at least one trace and one allocator");
  const std::optional<std::size_t> heap_size = heap_size_option(line);
  const std::size_t repeat = repeat_option(line);
  const LabRunner runner = catalog.runner(timeout_option(line));
  const LabAllocator* const allocator = catalog.named(line.operands().last(1)).front();
  if (allocator->is_reference()) {
    usage_error(std::string(allocator->name) +
                " reports no heap of its own to score; 'heaplab score' scores the others");
  }
  std::vector<NamedTrace> traces;
  for (const std::string_view path : line.operands().first(line.operands().size() - 1)) {
    traces.push_back(load_trace(path));
  }
  const LabHeap heap = lab_heap(heap_size_for(heap_size, traces));
  const Comparison comparison = compare(traces, {allocator}, heap.bytes(), repeat, runner);
  report_comparison_crashes(err, comparison);
  const PerformanceIndex index = performance_index(comparison);
  write_score(out, comparison, index);
  return index.value ? 0 : kExitFailed;
}

/// `heaplab compare`: traces x allocators, glibc always among them.
int run_compare(std::span<const std::string_view> words, std::ostream& out, std::ostream& err,
                const Catalog& catalog) {
  const CommandLine line("compare", words, kCompareOptions);
  if (line.operands().empty()) usage_error("'heaplab compare' needs at least one trace");
  const std::optional<std::size_t> heap_size = heap_size_option(line);
  const std::size_t repeat = repeat_option(line);
  const LabRunner runner = catalog.runner(timeout_option(line));
  std::vector<const LabAllocator*> allocators = allocators_option(line, catalog);
  const std::optional<std::string_view> svg_path = line.value("--svg");
  std::vector<NamedTrace> traces;
  for (const std::string_view path : line.operands()) traces.push_back(load_trace(path));
  std::ofstream svg = svg_path ? open_svg(*svg_path) : std::ofstream();
  const LabHeap heap = lab_heap(heap_size_for(heap_size, traces));

  const Comparison comparison = compare(traces, std::move(allocators), heap.bytes(), repeat, runner);
  report_comparison_crashes(err, comparison);
  if (line.has("--csv")) {
    write_compare_csv(out, comparison);
  } else {
    write_compare_table(out, comparison);
  }
  if (svg_path) {
    write_compare_svg(svg, comparison);
    svg.close();
    if (!svg) cannot_write(*svg_path);
  }
  return has_broken_replay(comparison) ? kExitFailed : 0;
}

/// True when \p args ask for the usage: `help`, or `--help` / `-h` anywhere.
bool wants_help(std::span<const std::string_view> args) {
  return args.front() == "help" || std::ranges::any_of(args, [](std::string_view word) {
           return word == "--help" || word == "-h";
         });
}

/// Runs the command \p args name over the allocators of \p yours too; an
/// error is thrown as a CommandError.
int run_command(std::span<const std::string_view> args, std::ostream& out, std::ostream& err,
                std::span<const LabAllocator> yours) {
  const Catalog catalog(yours);
  if (args.empty()) usage_error("no command given");
  if (wants_help(args)) {
    write_usage(out);
    return 0;
  }
  const std::string_view command = args.front();
  const std::span<const std::string_view> words = args.subspan(1);
  if (command == "list") return run_list(words, out, catalog);
  if (command == "replay") return run_replay(words, out, err, catalog);
  if (command == "compare") return run_compare(words, out, err, catalog);
  if (command == "map") return run_map(words, out, err, catalog);
  if (command == "score") return run_score(words, out, err, catalog);
  usage_error("unknown command " + quoted(command));
}

}  // namespace

void write_usage(std::ostream& out) {
  out << "usage: heaplab <command> [options] [arguments]\n"
         "\n"
         "The strategy lab: replay allocation traces (CS:APP .rep files, see traces/README.md) on\n"
         "the allocators of every stage of the course, and compare them with glibc's malloc.\n"
         "\n"
         "  heaplab list\n"
         "      Every allocator the lab can run: its name, chapter, C++ type and what it does.\n"
         "\n"
         "  heaplab replay [--check] [--heap-size BYTES] [--timeout SECONDS] TRACE ALLOCATOR...\n"
         "      Replays TRACE once on each ALLOCATOR (a name from 'heaplab list', or 'all'),\n"
         "      verifying the bytes of every block, and prints how each replay ended and its\n"
         "      space measures.\n"
         "      --check             run the allocator's check() after every operation\n"
         "      --heap-size BYTES   the heap each allocator runs on (default: see BYTES below)\n"
         "\n"
         "  heaplab compare [--csv] [--svg FILE] [--heap-size BYTES] [--repeat N]\n"
         "                  [--allocators LIST] [--timeout SECONDS] TRACE...\n"
         "      Runs every TRACE on every allocator and on glibc, which is always measured in\n"
         "      the same run: once for the space measures, then N timed runs each, round robin\n"
         "      with glibc, keeping the fastest. Speed is shown only relative to glibc's.\n"
         "      --csv               CSV instead of tables: a row per trace and allocator\n"
         "      --svg FILE          also write a chart of utilization and speed to FILE\n"
         "      --allocators LIST   only these allocators, by name, separated by commas:\n"
         "                          first-fit,best-fit (default: all; glibc is always added)\n"
         "      --repeat N          timed runs per allocator and trace (default "
      << kDefaultRepeat << ", at most " << kMaxRepeat
      << ")\n"
         "      --heap-size BYTES   the heap each allocator runs on (default: see BYTES below)\n"
         "\n"
         "  heaplab map [--heap-size BYTES] [--max-blocks N] [--timeout SECONDS] TRACE ALLOCATOR\n"
         "  heaplab map --html FILE [--heap-size BYTES] [--timeout SECONDS] TRACE ALLOCATOR...\n"
         "      Replays TRACE on one ALLOCATOR of the course and prints its blocks after every\n"
         "      operation, one line each: [A 56] an allocated block of 56 bytes, [F 24] a free one.\n"
         "      --max-blocks N      blocks drawn per line before the rest is counted (default "
      << kDefaultMapBlocks << ")\n"
         "      --heap-size BYTES   the heap the allocator runs on (default: see BYTES below)\n"
         "      --html FILE         writes one self-contained page instead, which shows the heaps\n"
         "                          of every ALLOCATOR side by side, step by step, in a browser\n"
         "                          ('all': every allocator that has a block walk to draw)\n"
         "\n"
         "  heaplab score [--heap-size BYTES] [--repeat N] [--timeout SECONDS] TRACE... ALLOCATOR\n"
         "      The malloc lab's performance index of ALLOCATOR over the TRACEs: per trace its\n"
         "      utilization (peak live bytes / heap high-water mark) and throughput, then\n"
         "      P = 0.6 * mean utilization + 0.4 * min(1, throughput / glibc's throughput).\n"
         "\n"
         "  heaplab help, heaplab --help\n"
         "      This text.\n"
         "\n"
         "BYTES is a whole number of bytes, optionally with a suffix K, M or G, upper or lower\n"
         "case (powers of 1024): 4096, 64K, 10m, as HEAPLAB_HEAP_SIZE reads it. Without\n"
         "--heap-size the heap is 10M, or "
      << kAutoHeapFactor
      << " times\n"
         "the largest peak of live requests among the TRACEs when that is more (in whole MiB,\n"
         "at most 1G): a heap reserved, whose pages cost memory only once used. glibc and\n"
         "pmr-pool bring their own memory and are held to the same size: they run out of\n"
         "memory where the live requests would outgrow it.\n"
         "\n"
         "Your own allocators (listed under 'yours') run in a process of their own: a crash\n"
         "or a run longer than --timeout SECONDS (default "
      << kDefaultTimeout.count() << "; 0: no limit) is reported in one line, with the\n"
         "trace line it happened on, and the other allocators go on.\n"
         "\n"
         "Exit codes: 0 success; "
      << kExitFailed
      << " a replay did not complete (for compare: failed otherwise than\n"
         "by running out of memory) or a file (standard output too) could not be written;\n"
      << kExitMalformedTrace << " a malformed trace; " << kExitUsage << " a usage error.\n";
}

int run_heaplab(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
  return run_heaplab(args, out, err, {});
}

int run_heaplab(std::span<const std::string_view> args, std::ostream& out, std::ostream& err,
                std::span<const LabAllocator> yours) {
  int exit_code = 0;
  try {
    exit_code = run_command(args, out, err, yours);
  } catch (const CommandError& error) {
    err << error.message << '\n';
    exit_code = error.exit_code;
  }
  // The report is the command's result: one that did not reach its
  // destination (a full disk, /dev/full) is a failure, not a success.
  // Flushed first, since the last of it may still sit in the buffer.
  if (!out.flush()) {
    err << "heaplab: cannot write to standard output\n";
    return kExitFailed;
  }
  return exit_code;
}

}  // namespace heaplab
