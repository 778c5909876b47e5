/// \file
/// libFuzzer target for the trace layer and the strategy lab's replay: the
/// `.rep` parser (tools/trace/trace.hpp) on any bytes at all, and every
/// trace it accepts replayed on every allocator of the course.
///
/// The input is the file: no byte-code here, the parser reads the bytes as
/// they come. Then:
/// - any input: parse_trace() returns a trace or one error, and the error
///   is one line of printable text, on a line the input has;
/// - a trace: it keeps the limits and invariants the parser promises
///   (check_trace() finds nothing; every line of an operation comes after
///   the last one); written back with write_trace() and read again, it is
///   the same trace, at its canonical lines, and writes the same bytes;
/// - a trace with at most kMaxReplayedIds ids: replayed on every allocator
///   of the lab's table but the references, over a small heap, with check()
///   after every operation, it completes or runs out of memory, never
///   anything else (a damaged block, a failed check(), an unexplained
///   nullptr), and a completed replay checked after every operation.
/// See docs/fuzzing.md.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>

#include "tests/support/aligned_region.hpp"
#include "tools/lab/lab_allocators.hpp"
#include "tools/lab/replay.hpp"
#include "tools/trace/trace.hpp"

namespace {

using heaplab::OpKind;
using heaplab::ReplayOutcome;
using heaplab::Trace;
using heaplab::TraceOp;

/// The heap every replay runs on: small, so that running out of memory,
/// where the allocators' hardest paths are, is one large request away.
constexpr std::size_t kReplayHeapBytes = std::size_t{64} << 10;

/// Traces with more ids than this are parsed and written back, not
/// replayed: a replay keeps a slot per id, and a header may declare a
/// million, which would make every replay a clearing of megabytes.
constexpr std::size_t kMaxReplayedIds = 4096;

/// Prints `heaplab fuzz: <where>: <why>` on one line of stderr and aborts,
/// so that libFuzzer records the input as a crash.
[[noreturn]] void fail(std::string_view where, std::string_view why) {
  std::fprintf(stderr, "heaplab fuzz: %.*s: %.*s\n", static_cast<int>(where.size()), where.data(),
               static_cast<int>(why.size()), why.data());
  std::abort();
}

/// \p bytes parsed as the file "fuzz.rep".
heaplab::TraceResult parse(std::string_view bytes) {
  std::istringstream in{std::string(bytes)};
  return heaplab::parse_trace(in, "fuzz.rep");
}

/// \p trace in the canonical format.
std::string written(const Trace& trace) {
  std::ostringstream out;
  heaplab::write_trace(out, trace);
  return out.str();
}

/// The error of a malformed input is one line a terminal shows as it is:
/// printable ASCII only (shown() escapes every other byte of the input),
/// on a line of the input or the one after its last.
void check_error(const heaplab::TraceError& error, std::string_view input) {
  const std::string line = heaplab::format_error(error);
  for (const char c : line) {
    if (c < 0x20 || c > 0x7e) fail("parse", "the error is not one line of printable text: " + line);
  }
  // A file that ends too early is reported at the line after its last.
  std::size_t lines = input.empty() || input.back() == '\n' ? 0 : 1;  // a last line without its line end
  for (const char c : input) lines += c == '\n' ? 1 : 0;
  if (error.line > lines + 1) fail("parse", "the error names a line past the input's end: " + line);
}

/// What the parser promises of a trace it accepts (trace.hpp).
void check_invariants(const Trace& trace) {
  if (const std::optional<heaplab::TraceError> error = heaplab::check_trace(trace, "parsed")) {
    fail("parse", "check_trace() refuses a trace parse_trace() accepted: " + heaplab::format_error(*error));
  }
  std::size_t last_line = heaplab::kTraceHeaderLines;
  for (const TraceOp& op : trace.ops) {
    if (op.line <= last_line) fail("parse", "operation lines do not increase: " + std::to_string(op.line));
    last_line = op.line;
    if (op.kind == OpKind::free ? op.size != 0 : op.id == heaplab::kNullId) {
      fail("parse", "operation at line " + std::to_string(op.line) + " mixes up free and null");
    }
  }
}

/// Written back and read again, \p trace is the same trace, each operation
/// at the line write_trace() puts it on; written again, the same bytes.
void check_round_trip(const Trace& trace) {
  const std::string text = written(trace);
  const heaplab::TraceResult again = parse(text);
  if (!again) fail("round trip", "the written trace does not parse: " + heaplab::format_error(again.error()));
  if (!(again.value() == trace)) fail("round trip", "the trace read back differs from the one written");
  for (std::size_t i = 0; i < again.value().ops.size(); ++i) {
    if (again.value().ops[i].line != heaplab::kTraceHeaderLines + i + 1) {
      fail("round trip", "operation " + std::to_string(i) + " is not on its canonical line");
    }
  }
  if (written(again.value()) != text) fail("round trip", "writing the trace again gives other bytes");
}

/// \p trace on every allocator of the course, each fresh over one heap.
void check_replays(const Trace& trace, std::span<std::byte> heap) {
  for (const heaplab::LabAllocator& allocator : heaplab::lab_allocators()) {
    if (allocator.is_reference()) continue;  // no check(), and the process's own heap
    const heaplab::ReplayReport report = allocator.replay(trace, heap, {.check_every_op = true});
    switch (report.outcome) {
      case ReplayOutcome::completed:
        if (report.checks != trace.ops.size()) fail(allocator.name, "a completed replay skipped a check()");
        break;
      case ReplayOutcome::out_of_memory:
        if (report.ops_done >= trace.ops.size() || report.failed_line != trace.ops[report.ops_done].line) {
          fail(allocator.name, "out of memory, but not at the operation it stopped on: " + report.what);
        }
        break;
      default: fail(allocator.name, report.what);
    }
  }
}

}  // namespace

/// libFuzzer's entry point: one input, read as a trace file.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const heaplab::TraceResult result = parse(input);
  if (!result) {
    check_error(result.error(), input);
    return 0;
  }
  const Trace& trace = result.value();
  check_invariants(trace);
  check_round_trip(trace);
  if (trace.id_count <= kMaxReplayedIds) {
    const heaplab::testing::AlignedRegion heap(kReplayHeapBytes, 4096);
    check_replays(trace, heap.bytes());
  }
  return 0;  // libFuzzer's convention: the input was run (a failure never returns)
}
