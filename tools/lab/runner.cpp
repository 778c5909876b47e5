#include "tools/lab/runner.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <ostream>
#include <sstream>
#include <type_traits>

#include "tools/lab/isolate.hpp"

namespace heaplab {
namespace {

/// A ReplayReport as plain bytes, to come back from a child process: its
/// `what` cut to a fixed buffer (the messages are one line).
struct PlainReport {
  ReplayOutcome outcome;      ///< As ReplayReport::outcome.
  std::size_t ops_done;       ///< As ReplayReport::ops_done.
  std::size_t failed_line;    ///< As ReplayReport::failed_line.
  std::size_t checks;         ///< As ReplayReport::checks.
  SpaceMeasures space;        ///< As ReplayReport::space.
  std::array<char, 1024> what;  ///< As ReplayReport::what, zero-terminated.
};
static_assert(std::is_trivially_copyable_v<PlainReport>, "it is copied as bytes between processes");

/// \p value's bytes, to receive a result.
template <class T>
std::span<std::byte> bytes_of(T& value) noexcept {
  return std::as_writable_bytes(std::span<T, 1>(&value, 1));
}

/// Writes \p value into the \p result bytes of a child.
template <class T>
void give_back(const T& value, std::span<std::byte> result) noexcept {
  std::memcpy(result.data(), &value, sizeof value);
}

/// Where a child was when it ended: "at line 1234 of trace.rep: r 17 4096",
/// from the number of operations it had finished.
std::string position(const NamedTrace& trace, std::size_t done) {
  if (done >= trace.trace.ops.size()) return "after the last operation of " + trace.name;
  const TraceOp& op = trace.trace.ops[done];
  const std::string where = op.line == 0 ? "operation " + std::to_string(done + 1) : "line " + std::to_string(op.line);
  return "at " + where + " of " + trace.name + ": " + detail::op_text(op);
}

/// Why the child ended early, in one line without the allocator's name:
/// "crashed (SIGSEGV) at line 1234 of trace.rep: r 17 4096".
std::string ended_early(const ChildEnd& end, const NamedTrace& trace, std::chrono::seconds timeout) {
  switch (end.how) {
    case ChildEnding::signalled:
      return "crashed (" + signal_name(end.signal) + ") " + position(trace, end.progress);
    case ChildEnding::exited:
      return "exited with code " + std::to_string(end.exit_code) + " " + position(trace, end.progress);
    case ChildEnding::timed_out:
      return "did not finish within " + std::to_string(timeout.count()) + " s, " + position(trace, end.progress);
    case ChildEnding::finished:
      break;
  }
  return {};
}

}  // namespace

bool LabRunner::isolates(const LabAllocator& allocator) const noexcept {
  return std::ranges::any_of(isolated_, [&](const LabAllocator& mine) { return &mine == &allocator; });
}

ReplayReport LabRunner::replay(const LabAllocator& allocator, const NamedTrace& trace, std::span<std::byte> heap,
                               const ReplayOptions& options) const {
  if (!isolates(allocator)) return allocator.replay(trace.trace, heap, options);
  PlainReport plain{};
  std::ostringstream unused;
  const ChildEnd end = run_in_child(
      [&](ReplayProgress& progress, std::ostream&, std::span<std::byte> result) {
        ReplayOptions watched = options;
        watched.progress = &progress;
        const ReplayReport report = allocator.replay(trace.trace, heap, watched);
        PlainReport out{report.outcome, report.ops_done, report.failed_line, report.checks, report.space, {}};
        report.what.copy(out.what.data(), out.what.size() - 1);
        give_back(out, result);
      },
      bytes_of(plain), unused, timeout_);
  if (end.how != ChildEnding::finished) {
    ReplayReport crashed;
    crashed.outcome = ReplayOutcome::crashed;
    crashed.ops_done = end.progress;
    crashed.failed_line = end.progress < trace.trace.ops.size() ? trace.trace.ops[end.progress].line : 0;
    crashed.what = ended_early(end, trace, timeout_);
    return crashed;
  }
  return {plain.outcome, plain.ops_done, plain.failed_line, std::string(plain.what.data()), plain.checks, plain.space};
}

std::optional<std::chrono::nanoseconds> LabRunner::time(const LabAllocator& allocator, const NamedTrace& trace,
                                                        std::span<std::byte> heap) const {
  return allocator.time(trace.trace, heap, nullptr);
}

MapRun LabRunner::map(const LabAllocator& allocator, const NamedTrace& trace, std::span<std::byte> heap,
                      std::size_t max_blocks, std::ostream& out) const {
  return draw(allocator, trace, out, [&](std::ostream& text, ReplayProgress* progress) {
    return allocator.map(trace.trace, heap, max_blocks, text, progress);
  });
}

MapRun LabRunner::frames(const LabAllocator& allocator, const NamedTrace& trace, std::span<std::byte> heap,
                         std::ostream& out) const {
  return draw(allocator, trace, out, [&](std::ostream& text, ReplayProgress* progress) {
    return allocator.frames(trace.trace, heap, text, progress);
  });
}

MapRun LabRunner::draw(const LabAllocator& allocator, const NamedTrace& trace, std::ostream& out,
                       const std::function<std::size_t(std::ostream&, ReplayProgress*)>& drawing) const {
  if (!isolates(allocator)) return {drawing(out, nullptr), {}};
  std::size_t done = 0;
  const ChildEnd end = run_in_child(
      [&](ReplayProgress& progress, std::ostream& text, std::span<std::byte> result) {
        give_back(drawing(text, &progress), result);
      },
      bytes_of(done), out, timeout_);
  if (end.how != ChildEnding::finished) return {end.progress, ended_early(end, trace, timeout_)};
  return {done, {}};
}

}  // namespace heaplab
