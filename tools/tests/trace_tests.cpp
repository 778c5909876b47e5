// The trace layer's tests: the .rep parser's tolerance, every malformed case
// with its exact one-line message, the writer, the checker for traces made
// in code, and a write-then-parse round trip for every generated pattern.
//
// Every trace text here is four header lines, then operations from line 5.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tools/trace/trace.hpp"
#include "tools/trace/trace_patterns.hpp"

namespace {

using namespace heaplab;

/// \p text parsed as the file "t.rep".
TraceResult parse(std::string_view text) {
  std::istringstream in{std::string(text)};
  return parse_trace(in, "t.rep");
}

/// The one-line error for \p text, or "(no error)" if it parses.
std::string error_of(std::string_view text) {
  const TraceResult result = parse(text);
  return result ? std::string("(no error)") : format_error(result.error());
}

/// The operations of \p text, which must parse.
std::vector<TraceOp> ops_of(std::string_view text) {
  const TraceResult result = parse(text);
  REQUIRE_MESSAGE(result.has_value(), format_error(result.error()));
  return result.value().ops;
}

/// \p trace in the canonical format.
std::string written(const Trace& trace) {
  std::ostringstream out;
  write_trace(out, trace);
  return out.str();
}

TraceOp allocate(std::size_t id, std::size_t size) { return {OpKind::allocate, id, size, 0}; }
TraceOp free_op(std::size_t id) { return {OpKind::free, id, 0, 0}; }
TraceOp reallocate(std::size_t id, std::size_t size) { return {OpKind::reallocate, id, size, 0}; }

}  // namespace

TEST_SUITE("trace") {

TEST_CASE("trace: a canonical trace parses to its header and operations") {
  const TraceResult result = parse("2048\n3\n5\n1\na 0 24\na 1 100\nr 0 48\nf 1\nf 0\n");
  REQUIRE(result.has_value());
  const Trace& trace = result.value();
  CHECK(trace.suggested_heap_size == 2048);
  CHECK(trace.id_count == 3);
  CHECK(trace.weight == 1);
  const std::vector<TraceOp> expected{allocate(0, 24), allocate(1, 100), reallocate(0, 48), free_op(1),
                                      free_op(0)};
  CHECK(trace.ops == expected);
  CHECK(trace.ops.front().line == 5);
  CHECK(trace.ops.back().line == 9);
}

TEST_CASE("trace: tolerance: f -1 is a free of null") {
  const std::vector<TraceOp> ops = ops_of("0\n1\n3\n1\nf -1\na 0 8\nf 0\n");
  REQUIRE(ops.size() == 3);
  CHECK(ops[0].kind == OpKind::free);
  CHECK(ops[0].id == kNullId);
}

TEST_CASE("trace: tolerance: an id is used again after its block is freed") {
  const std::vector<TraceOp> ops = ops_of("0\n1\n4\n1\na 0 8\nf 0\na 0 16\nf 0\n");
  const std::vector<TraceOp> expected{allocate(0, 8), free_op(0), allocate(0, 16), free_op(0)};
  CHECK(ops == expected);
}

TEST_CASE("trace: tolerance: r on an id never allocated is realloc(NULL, n), and the id is live after it") {
  // As the CMU trace set begins some blocks: realloc(NULL, 24) is malloc(24).
  const TraceResult result = parse("0\n2\n4\n1\nr 0 24\nr 0 48\nr 1 8\nf 0\n");
  REQUIRE_MESSAGE(result.has_value(), format_error(result.error()));
  const std::vector<TraceOp> expected{reallocate(0, 24), reallocate(0, 48), reallocate(1, 8), free_op(0)};
  CHECK(result.value().ops == expected);
  CHECK(peak_live_bytes(result.value()) == 48 + 8);
  // Written back and read again, it is the same trace.
  CHECK(parse(written(result.value())).value() == result.value());
  // The id is live afterwards: allocating it again would leak the block.
  CHECK(error_of("0\n1\n2\n1\nr 0 24\na 0 8\n") ==
        "t.rep:6: allocate of id 0, which is still allocated (line 5): free it first");
  // A freed id's pointer dangles; it is not null.
  CHECK(error_of("0\n1\n3\n1\nr 0 24\nf 0\nr 0 8\n") ==
        "t.rep:7: reallocate of id 0, which was already freed (line 6)");
  Trace in_code;
  in_code.id_count = 1;
  in_code.ops = {reallocate(0, 16), free_op(0)};
  CHECK_FALSE(check_trace(in_code, "code").has_value());
}

TEST_CASE("trace: tolerance: CRLF line ends read as LF ones") {
  const TraceResult crlf = parse("64\r\n1\r\n2\r\n1\r\na 0 8\r\nf 0\r\n");
  const TraceResult lf = parse("64\n1\n2\n1\na 0 8\nf 0\n");
  REQUIRE(crlf.has_value());
  REQUIRE(lf.has_value());
  CHECK(crlf.value() == lf.value());
  CHECK(error_of("64\r\n2\r\n2\r\n1\r\na 0 8\r\nf 1\r\n") == "t.rep:6: free of id 1, which was never allocated");
}

TEST_CASE("trace: tolerance: the header's number of operations may be off by one either way") {
  CHECK(ops_of("0\n1\n3\n1\na 0 8\nf 0\n").size() == 2);      // one fewer than declared
  CHECK(ops_of("0\n1\n1\n1\na 0 8\nf 0\n").size() == 2);      // one more than declared
  CHECK(ops_of("0\n1\n2\n1\na 0 8\nf 0\n").size() == 2);      // exact
}

TEST_CASE("trace: blank lines, spaces, tabs and a missing last line end are accepted") {
  const std::vector<TraceOp> ops = ops_of("\n 64 \n1\t\n\n2\n1\n\n  a\t0   8 \n\t\nf 0");
  const std::vector<TraceOp> expected{allocate(0, 8), free_op(0)};
  CHECK(ops == expected);
  CHECK(ops[0].line == 8);
  CHECK(ops[1].line == 10);
}

TEST_CASE("trace: tolerance: the 2016 edition's header, weight first and heap size last, is recognised") {
  // 0 or 1 first and more than 1 last: weight, ids, operations, heap size,
  // and a heap size past 1 GiB (that edition counts 64-bit heaps) is kept
  // at the largest the lab has.
  const TraceResult result = parse("1\n2\n3\n38000000000\na 0 8\na 1 16\nf 0\n");
  REQUIRE_MESSAGE(result.has_value(), format_error(result.error()));
  CHECK(result.value().weight == 1);
  CHECK(result.value().id_count == 2);
  CHECK(result.value().ops.size() == 3);
  CHECK(result.value().suggested_heap_size == kMaxTraceHeapSize);
  const TraceResult small = parse("0\n1\n2\n20000\na 0 8\nf 0\n");
  REQUIRE(small.has_value());
  CHECK(small.value().weight == 0);
  CHECK(small.value().suggested_heap_size == 20000);
  // The classic layout is read as before: a weight of 1 last.
  const TraceResult classic = parse("20000\n1\n2\n1\na 0 8\nf 0\n");
  REQUIRE(classic.has_value());
  CHECK(classic.value().suggested_heap_size == 20000);
  CHECK(classic.value().weight == 1);
  // Written back, it is the canonical layout, which parses to the same trace.
  CHECK(written(result.value()).starts_with("1073741824\n2\n3\n1\n"));
}

TEST_CASE("trace: the largest size accepted is kMaxTraceSize") {
  CHECK(ops_of("0\n1\n2\n1\na 0 1073741824\nf 0\n").front().size == kMaxTraceSize);
  CHECK(ops_of("0\n1\n2\n1\na 0 0\nf 0\n").front().size == 0);
}

TEST_CASE("trace: malformed header") {
  CHECK(error_of("") == "t.rep:1: truncated: the file ends before the header's suggested heap size");
  CHECK(error_of("100\n10\n") == "t.rep:3: truncated: the file ends before the header's number of operations");
  CHECK(error_of("100\n10\n20\n") == "t.rep:4: truncated: the file ends before the header's weight");
  CHECK(error_of("100\nten\n0\n1\n") == "t.rep:2: header: the number of ids must be a whole number, not 'ten'");
  CHECK(error_of("+100\n1\n0\n1\n") ==
        "t.rep:1: header: the suggested heap size must be a whole number, not '+100'");
  CHECK(error_of("-100\n1\n0\n1\n") == "t.rep:1: header: the suggested heap size -100 is negative");
  CHECK(error_of("100 7\n1\n0\n1\n") == "t.rep:1: header: unexpected '7' after the suggested heap size");
  CHECK(error_of("100\n2000000\n0\n1\n") ==
        "t.rep:2: header: the number of ids 2000000 is above the limit of 1048576");
  CHECK(error_of("100\n1\n99999999999999999999999\n1\n") ==
        "t.rep:3: header: the number of operations 99999999999999999999999 is above the limit of 67108864");
  CHECK(error_of("1073741825\n1\n0\n1\n") ==
        "t.rep:1: header: the suggested heap size 1073741825 is above the limit of 1073741824");
  CHECK(error_of("100\n1\n0\n1.5\n") == "t.rep:4: header: the weight must be a whole number, not '1.5'");
  CHECK(error_of("99999999999999999999999\n1\n0\n1\n") ==
        "t.rep:1: header: the suggested heap size 99999999999999999999999 is above the limit of 1073741824");
  CHECK(error_of("100\n1\n0\n4294967296\n") == "t.rep:4: header: the weight 4294967296 is above the limit of 4294967295");
}

TEST_CASE("trace: malformed operation syntax") {
  const std::string header = "100\n10\n2\n1\n";
  CHECK(error_of(header + "x 0 8\n") == "t.rep:5: unknown operation 'x' (expected a, f or r)");
  CHECK(error_of(header + "A 0 8\n") == "t.rep:5: unknown operation 'A' (expected a, f or r)");
  CHECK(error_of(header + "a 0\n") == "t.rep:5: 'a' needs an id and a size");
  CHECK(error_of(header + "r 0\n") == "t.rep:5: 'r' needs an id and a size");
  CHECK(error_of(header + "f\n") == "t.rep:5: 'f' needs an id");
  CHECK(error_of(header + "f 0 8\n") == "t.rep:5: unexpected '8' after the operation");
  CHECK(error_of(header + "a 0 8 9\n") == "t.rep:5: unexpected '9' after the operation");
  CHECK(error_of(header + "a x 8\n") == "t.rep:5: id 'x' is not a whole number");
  CHECK(error_of(header + "a 0 8x\n") == "t.rep:5: size '8x' is not a whole number");
  CHECK(error_of(header + "a 0 0x10\n") == "t.rep:5: size '0x10' is not a whole number");
}

TEST_CASE("trace: ids out of range and negative ids") {
  const std::string header = "100\n10\n2\n1\n";
  CHECK(error_of(header + "a 10 8\n") ==
        "t.rep:5: id 10 is out of range: ids must be below the header's number of ids, 10");
  CHECK(error_of(header + "a 99999999999999999999999 8\n") ==
        "t.rep:5: id 99999999999999999999999 is out of range: ids must be below the header's number of ids, 10");
  CHECK(error_of("100\n0\n1\n1\na 0 8\n") ==
        "t.rep:5: id 0 is out of range: ids must be below the header's number of ids, 0");
  // 2^64 - 1 is as far out of range as any other: not -1, not a free of null.
  const std::string largest = std::to_string(std::numeric_limits<std::size_t>::max());
  for (const std::string& line : {"f " + largest, "a " + largest + " 8", "r " + largest + " 8"}) {
    CAPTURE(line);
    CHECK(error_of(header + line + "\n") ==
          "t.rep:5: id " + largest + " is out of range: ids must be below the header's number of ids, 10");
  }
  CHECK(error_of(header + "a -1 8\n") == "t.rep:5: id -1 is negative (only 'f -1', a free of null, may use -1)");
  CHECK(error_of(header + "r -1 8\n") == "t.rep:5: id -1 is negative (only 'f -1', a free of null, may use -1)");
  CHECK(error_of(header + "f -2\n") == "t.rep:5: id -2 is negative (only 'f -1', a free of null, may use -1)");
}

TEST_CASE("trace: negative and absurd sizes") {
  const std::string header = "100\n10\n2\n1\n";
  CHECK(error_of(header + "a 0 -8\n") == "t.rep:5: size -8 is negative");
  CHECK(error_of(header + "a 0 1073741825\n") ==
        "t.rep:5: size 1073741825 is absurd: the limit is 1073741824 bytes (1 GiB)");
  CHECK(error_of(header + "a 0 99999999999999999999999\n") ==
        "t.rep:5: size 99999999999999999999999 is absurd: the limit is 1073741824 bytes (1 GiB)");
  CHECK(error_of(header + "a 0 8\nr 0 -1\n") == "t.rep:6: size -1 is negative");
}

TEST_CASE("trace: operations that make no sense for their block") {
  const std::string header = "100\n10\n4\n1\n";
  CHECK(error_of(header + "f 3\n") == "t.rep:5: free of id 3, which was never allocated");
  CHECK(error_of(header + "a 0 8\nf 0\nf 0\n") == "t.rep:7: free of id 0, which was already freed (line 6)");
  CHECK(error_of(header + "a 0 8\nf 0\nr 0 16\n") ==
        "t.rep:7: reallocate of id 0, which was already freed (line 6)");
  CHECK(error_of(header + "a 0 8\na 0 16\n") ==
        "t.rep:6: allocate of id 0, which is still allocated (line 5): free it first");
  CHECK(error_of(header + "a 0 8\nr 0 32\na 0 16\n") ==
        "t.rep:7: allocate of id 0, which is still allocated (line 6): free it first");
}

TEST_CASE("trace: a file shorter or longer than its header says") {
  CHECK(error_of("100\n10\n5\n1\na 0 8\nf 0\na 1 8\n") ==
        "t.rep:8: truncated: the header declares 5 operations (one fewer is tolerated), the file ends after 3");
  CHECK(error_of("100\n10\n5\n1\n") ==
        "t.rep:5: truncated: the header declares 5 operations (one fewer is tolerated), the file ends after 0");
  CHECK(error_of("100\n10\n2\n1\na 0 8\nf 0\na 1 8\nf 1\n") ==
        "t.rep:8: more operations than the header's 2 (one more is tolerated)");
}

TEST_CASE("trace: line numbers count blank lines and CRLF lines") {
  CHECK(error_of("100\r\n10\r\n\r\n2\r\n1\r\n\r\na 0 8\r\nq\r\n") ==
        "t.rep:8: unknown operation 'q' (expected a, f or r)");
}

TEST_CASE("trace: binary garbage is an error, not a crash, and the message stays one line") {
  const std::string garbage("\x7f" "ELF\0\xff\r\n\x01\x02\n", 11);
  CHECK(error_of(garbage) ==
        "t.rep:1: header: the suggested heap size must be a whole number, not '\\x7fELF\\x00\\xff'");
  CHECK(error_of(std::string("100\n1\n1\n1\na 0 8\0\n", 18)) ==
        "t.rep:5: size '8\\x00' is not a whole number");
  CHECK(error_of("100\n1\n1\n1\na 0 1\r2\n") == "t.rep:5: size '1\\x0d2' is not a whole number");
}

TEST_CASE("trace: a line longer than kMaxTraceLineLength is refused, read no further than the limit") {
  const std::string header = "100\n1\n2\n1\n";
  // The longest line accepted: an operation padded with spaces to the
  // limit; a CRLF's \r does not count.
  const std::string longest = "a 0 8" + std::string(kMaxTraceLineLength - 5, ' ');
  CHECK(ops_of(header + longest + "\nf 0\n").size() == 2);
  CHECK(ops_of(header + longest + "\r\nf 0\r\n").size() == 2);
  CHECK(error_of(header + longest + " \nf 0\n") ==
        "t.rep:5: the line is longer than 4096 bytes, the most a trace line may have");
  CHECK(error_of(header + longest + "\r\r\nf 0\n") ==
        "t.rep:5: the line is longer than 4096 bytes, the most a trace line may have");
  CHECK(error_of(header + longest + " ") ==
        "t.rep:5: the line is longer than 4096 bytes, the most a trace line may have");
  // A mebibyte of zero bytes and no line end, as /dev/zero gives: the
  // parser stops one or two bytes past the limit, in the header or after it.
  const std::string zeros(std::size_t{1} << 20, '\0');
  for (const std::string& before : {std::string(), std::string("100\n1\n")}) {
    std::istringstream in(before + zeros);
    const TraceResult result = parse_trace(in, "t.rep");
    REQUIRE_FALSE(result.has_value());
    const std::size_t line = before.empty() ? 1 : 3;
    CHECK(format_error(result.error()) == "t.rep:" + std::to_string(line) +
                                             ": the line is longer than 4096 bytes, the most a trace line may have");
    in.clear();
    CHECK(static_cast<std::size_t>(in.tellg()) <= before.size() + kMaxTraceLineLength + 2);
  }
}

TEST_CASE("trace: more than kMaxTraceBlankLines blank lines are refused") {
  const std::string blank_lines(kMaxTraceBlankLines, '\n');
  CHECK(ops_of(blank_lines + "100\n1\n2\n1\na 0 8\nf 0\n").size() == 2);  // as many as the limit
  // One more: line 5 is blank, and so are the limit's number of lines after it.
  CHECK(error_of("100\n1\n2\n1\n \t\n" + blank_lines + "a 0 8\nf 0\n") ==
        "t.rep:" + std::to_string(5 + kMaxTraceBlankLines) + ": more than 65536 blank lines, the most a trace may have");
}

TEST_CASE("trace: a long word is cut short in a message") {
  const std::string word(100, '7');
  CHECK(error_of("100\n1\n1\n1\na 0 " + word + "x\n") ==
        "t.rep:5: size '" + std::string(40, '7') + "...' is not a whole number");
}

TEST_CASE("trace: format_error and parse_trace_file") {
  CHECK(format_error({"x.rep", 12, "what is wrong"}) == "x.rep:12: what is wrong");
  CHECK(format_error({"x.rep", 0, "cannot open the file"}) == "x.rep: cannot open the file");
  const TraceResult missing = parse_trace_file("no-such-directory/missing.rep");
  REQUIRE_FALSE(missing.has_value());
  CHECK(format_error(missing.error()) == "no-such-directory/missing.rep: cannot open the file");
  CHECK(kExitMalformedTrace == 2);
}

TEST_CASE("trace: parse_trace_file names a path that is no file of a trace: a directory, a device") {
  const std::string directory = std::filesystem::temp_directory_path().string();
  CHECK(format_error(parse_trace_file(directory).error()) == directory + ": is a directory, not a trace file");
  for (const std::string_view device : {"/dev/zero", "/dev/null"}) {
    CAPTURE(device);
    CHECK(format_error(parse_trace_file(device).error()) ==
          std::string(device) + ": is not a regular file (a character device), so it holds no trace");
  }
}

TEST_CASE("trace: parse_trace_file reads a pipe, as from a shell's <(command)") {
  const std::filesystem::path fifo =
      std::filesystem::temp_directory_path() / ("heaplab-trace-" + std::to_string(::getpid()) + ".fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // Opening a pipe waits for the other end: the writer runs beside the reader.
  std::thread writer([&fifo] { std::ofstream(fifo) << "100\n1\n2\n1\na 0 8\nf 0\n"; });
  const TraceResult result = parse_trace_file(fifo);
  if (!result) std::ifstream{fifo};  // a parser that refused the pipe never opened it: let the writer go
  writer.join();
  std::filesystem::remove(fifo);
  REQUIRE_MESSAGE(result.has_value(), format_error(result.error()));
  CHECK(result.value().ops.size() == 2);
}

TEST_CASE("trace: write_trace writes the canonical format") {
  Trace trace;
  trace.suggested_heap_size = 4096;
  trace.id_count = 2;
  trace.weight = 1;
  trace.ops = {allocate(0, 24), free_op(kNullId), allocate(1, 0), reallocate(0, 64), free_op(1), free_op(0)};
  CHECK(written(trace) == "4096\n2\n6\n1\na 0 24\nf -1\na 1 0\nr 0 64\nf 1\nf 0\n");
}

TEST_CASE("trace: writing normalises a tolerated header and CRLF") {
  const TraceResult result = parse("64\r\n1\r\n3\r\n0\r\na 0 8\r\nf 0\r\n");
  REQUIRE(result.has_value());
  CHECK(written(result.value()) == "64\n1\n2\n0\na 0 8\nf 0\n");
}

TEST_CASE("trace: check_trace checks traces made in code, at their canonical lines") {
  Trace trace;
  trace.id_count = 2;
  trace.ops = {allocate(0, 8), free_op(0), free_op(0)};
  const auto twice = check_trace(trace, "code");
  REQUIRE(twice.has_value());
  CHECK(format_error(*twice) == "code:7: free of id 0, which was already freed (line 6)");

  trace.ops = {allocate(2, 8)};
  CHECK(format_error(check_trace(trace, "code").value()) ==
        "code:5: id 2 is out of range: ids must be below the header's number of ids, 2");
  trace.ops = {reallocate(kNullId, 8)};
  CHECK(format_error(check_trace(trace, "code").value()) ==
        "code:5: reallocate of id -1: only 'f -1', a free of null, may use -1");
  trace.ops = {allocate(0, kMaxTraceSize + 1)};
  CHECK(format_error(check_trace(trace, "code").value()) ==
        "code:5: size 1073741825 is absurd: the limit is 1073741824 bytes (1 GiB)");
  trace.ops = {allocate(0, 8), free_op(kNullId), free_op(0)};
  CHECK_FALSE(check_trace(trace, "code").has_value());
  trace.id_count = kMaxTraceIds + 1;
  CHECK(format_error(check_trace(trace, "code").value()) ==
        "code:2: header: the number of ids 1048577 is above the limit of 1048576");
}

TEST_CASE("trace: peak_live_bytes follows allocations, reallocations and frees") {
  Trace trace;
  trace.id_count = 2;
  trace.ops = {allocate(0, 100), allocate(1, 50), free_op(kNullId), reallocate(0, 20), free_op(1),
               allocate(1, 10), reallocate(0, 300), free_op(0), free_op(1)};
  REQUIRE_FALSE(check_trace(trace, "code").has_value());
  // Live bytes after each operation: 100, 150, 150, 70, 20, 30, 310, 10, 0.
  CHECK(peak_live_bytes(trace) == 310);
  CHECK(live_peak(trace).after_op == 6);  // the reallocate to 300
}

TEST_CASE("trace: live_peak names the first operation that reaches the peak") {
  Trace trace;
  trace.id_count = 2;
  // Live bytes after each operation: 40, 0, 40, 64, 24, 0: the peak of 64
  // is reached once, after operation 3; the earlier 40s do not count.
  trace.ops = {allocate(0, 40), free_op(0), allocate(0, 40), allocate(1, 24), free_op(0), free_op(1)};
  REQUIRE_FALSE(check_trace(trace, "code").has_value());
  CHECK(live_peak(trace).bytes == 64);
  CHECK(live_peak(trace).after_op == 3);
  // A tie keeps the first moment: free block 1 and allocate it again.
  trace.ops = {allocate(0, 40), allocate(1, 24), free_op(1), allocate(1, 24), free_op(0), free_op(1)};
  CHECK(live_peak(trace).after_op == 1);
  trace.ops.clear();
  CHECK(live_peak(trace).bytes == 0);
  CHECK(live_peak(trace).after_op == 0);
}

}  // TEST_SUITE("trace")

TEST_SUITE("trace_gen") {

TEST_CASE("trace_gen: TraceRandom stays inside its ranges") {
  TraceRandom random(7);
  for (int i = 0; i < 10'000; ++i) {
    const std::size_t u = random.uniform(3, 9);
    CHECK((3 <= u && u <= 9));
    const std::size_t l = random.log_uniform(5, 5000);
    CHECK((5 <= l && l <= 5000));
  }
  CHECK(random.uniform(4, 4) == 4);
  std::vector<std::size_t> items{1, 2, 3, 4, 5, 6, 7, 8};
  random.shuffle(items);
  std::vector<std::size_t> sorted = items;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == std::vector<std::size_t>{1, 2, 3, 4, 5, 6, 7, 8});
}

TEST_CASE("trace_gen: every band of log_uniform comes up about equally often") {
  TraceRandom random(11);
  std::vector<int> per_band(4, 0);  // bands [1,2) [2,4) [4,8) [8,16)
  constexpr int kDraws = 40'000;
  for (int i = 0; i < kDraws; ++i) {
    const std::size_t x = random.log_uniform(1, 15);
    ++per_band[static_cast<std::size_t>(std::bit_width(x)) - 1];
  }
  for (const int count : per_band) CHECK((9'000 < count && count < 11'000));
}

TEST_CASE("trace_gen: every pattern makes a valid trace that survives write then parse") {
  for (const PatternInfo& info : trace_patterns()) {
    for (const std::uint64_t seed : {0ULL, 1ULL, 2ULL, 12345ULL}) {
      CAPTURE(info.name);
      CAPTURE(seed);
      const Trace trace = generate_trace(info.pattern, seed, info.default_ops);
      CHECK(trace.ops.size() <= info.default_ops);
      CHECK(trace.ops.size() + 2 >= info.default_ops);  // patterns use (nearly) all of their budget
      const auto problem = check_trace(trace, info.name);
      CHECK_MESSAGE(!problem.has_value(), (problem ? format_error(*problem) : ""));
      CHECK(trace.suggested_heap_size == peak_live_bytes(trace));

      std::istringstream in(written(trace));
      const TraceResult back = parse_trace(in, info.name);
      REQUIRE_MESSAGE(back.has_value(), format_error(back.error()));
      CHECK(back.value() == trace);
    }
  }
}

TEST_CASE("trace_gen: every pattern frees every block it allocates") {
  for (const PatternInfo& info : trace_patterns()) {
    CAPTURE(info.name);
    const Trace trace = generate_trace(info.pattern, 3, info.default_ops);
    std::size_t live = 0;
    for (const TraceOp& op : trace.ops) {
      if (op.kind == OpKind::allocate) ++live;
      if (op.kind == OpKind::free) --live;
    }
    CHECK(live == 0);
  }
}

TEST_CASE("trace_gen: the same seed gives the same trace, another seed another one") {
  for (const PatternInfo& info : trace_patterns()) {
    CAPTURE(info.name);
    CHECK(generate_trace(info.pattern, 5, info.default_ops) == generate_trace(info.pattern, 5, info.default_ops));
    CHECK_FALSE(generate_trace(info.pattern, 5, info.default_ops) ==
                generate_trace(info.pattern, 6, info.default_ops));
  }
}

TEST_CASE("trace_gen: patterns keep to their documented sizes") {
  struct Range {
    TracePattern pattern;
    std::size_t smallest;  ///< The smallest size of any allocate or reallocate.
    std::size_t largest;   ///< The largest.
  };
  // coalesce-friendly's run-sized requests are at most 4 x 128 bytes.
  const std::vector<Range> ranges{
      {TracePattern::small_short_lived, 1, 64},    {TracePattern::buildup_teardown, 16, 4096},
      {TracePattern::binary_small_large, 16, 576}, {TracePattern::random_sizes, 1, 16384},
      {TracePattern::coalesce_friendly, 16, 512},  {TracePattern::tiny, 8, 64},
  };
  for (const Range& range : ranges) {
    const PatternInfo& info = trace_patterns()[static_cast<std::size_t>(range.pattern)];
    CAPTURE(info.name);
    for (const TraceOp& op : generate_trace(range.pattern, 9, info.default_ops).ops) {
      if (op.kind == OpKind::free) continue;
      CHECK((range.smallest <= op.size && op.size <= range.largest));
      if (info.pattern == TracePattern::tiny) CHECK(op.size % 8 == 0);
    }
  }
}

TEST_CASE("trace_gen: growing-realloc only ever grows a buffer") {
  const Trace trace = generate_trace(TracePattern::growing_realloc, 4, 2000);
  std::vector<std::size_t> size_of(trace.id_count, 0);
  std::size_t reallocations = 0;
  for (const TraceOp& op : trace.ops) {
    if (op.kind == OpKind::reallocate) {
      CHECK(op.size >= size_of[op.id] + 16);
      CHECK(op.size <= size_of[op.id] + 256);
      ++reallocations;
    }
    if (op.kind != OpKind::free) size_of[op.id] = op.size;
  }
  CHECK(reallocations > 1000);  // 3 steps in 4, one operation each
}

TEST_CASE("trace_gen: binary-small-large frees the large blocks and keeps the small ones") {
  const Trace trace = generate_trace(TracePattern::binary_small_large, 1, 60);  // 10 pairs
  REQUIRE(trace.ops.size() == 60);
  for (std::size_t i = 0; i < 20; ++i) CHECK(trace.ops[i].kind == OpKind::allocate);
  for (std::size_t i = 20; i < 30; ++i) {
    CHECK(trace.ops[i].kind == OpKind::free);
    CHECK(trace.ops[i].id % 2 == 1);  // the large block of each pair
  }
  for (std::size_t i = 30; i < 40; ++i) CHECK(trace.ops[i].size >= 512);  // above every hole
}

TEST_CASE("trace_gen: too small a budget gives a short or empty trace, never an invalid one") {
  for (const PatternInfo& info : trace_patterns()) {
    for (std::size_t max_ops = 0; max_ops < 14; ++max_ops) {
      CAPTURE(info.name);
      CAPTURE(max_ops);
      const Trace trace = generate_trace(info.pattern, 1, max_ops);
      CHECK(trace.ops.size() <= max_ops);
      CHECK_FALSE(check_trace(trace, info.name).has_value());
    }
  }
}

}  // TEST_SUITE("trace_gen")
