/// \file
/// Workload traces in the CS:APP malloc-lab `.rep` format: the value type,
/// the parser (with the tolerance public trace sets need), the writer and
/// the check that every free and reallocate names a live block.
///
/// A trace is a script for an allocator: "allocate 24 bytes and call the
/// block 0; allocate 100 bytes as block 1; free block 0; ...". The strategy
/// lab replays one trace over several allocators and compares the heaps.
///
/// ### The accepted grammar
///
///     trace      = header { blank-line | operation-line }
///     header     = heap-line ids-line ops-line weight-line
///     heap-line  = [ws] number [ws] eol     suggested heap size, in bytes
///     ids-line   = [ws] number [ws] eol     number of ids: ids are 0 .. count-1
///     ops-line   = [ws] number [ws] eol     number of operations that follow
///     weight-line= [ws] number [ws] eol     weight (CS:APP: 1 if the trace counts toward the score)
///     operation-line = [ws] ( "a" ws id ws size      allocate size bytes as block id
///                           | "f" ws ( id | "-1" )   free block id; "f -1" frees null
///                           | "r" ws id ws size )    reallocate block id to size bytes
///                      [ws] eol
///     number, id, size = decimal digits, no sign
///     ws         = one or more spaces or tabs
///     eol        = "\n" or "\r\n", or the end of the file
///
/// Blank lines (nothing but spaces and tabs) are skipped anywhere, header
/// included: many trace files end with one.
///
/// ### Limits
///
/// A trace is read from a regular file or a pipe, and the reading is
/// bounded whatever the input holds: a line has at most
/// kMaxTraceLineLength bytes, a file at most kMaxTraceBlankLines blank
/// lines, the header at most kMaxTraceOps operations (one more is
/// tolerated) and kMaxTraceIds ids. So an endless input stops with one
/// line: one without line ends (`/dev/zero` through a pipe) after 4 KiB,
/// one of empty lines (`yes ''`) after 64 KiB, one of operations at the
/// header's count; and no input makes the parser read more lines than
/// those counts allow, or keep more than kMaxTraceOps + 1 operations.
///
/// ### Tolerance
///
/// Public trace sets bend the format in six ways, and the parser accepts all
/// of them:
/// - `f -1` is a free of a null pointer (a no-op for every allocator); it is
///   stored as a free of kNullId.
/// - `r id size` on an id never allocated is `realloc(NULL, size)`, which C
///   defines as `malloc(size)`: the CMU trace set begins blocks that way.
///   The id is then live, as after `a id size`.
/// - An id may be used again once its block is freed (`a 0 8`, `f 0`, `a 0 16`).
/// - Lines may end in CRLF.
/// - The number of operations in the header may be off by one either way.
/// - The header may be laid out as in the 2016 edition of the CS:APP traces,
///   weight first and suggested heap size last (`0|1`, ids, ops, heap): a
///   first number of 0 or 1 with a last number above 1 is read that way,
///   the heap size kept no larger than kMaxTraceHeapSize.
///
/// ### Errors
///
/// Everything else is malformed, and parse_trace() reports the first problem
/// as one line, `file:line: what is wrong` (format_error()); a tool exits
/// with kExitMalformedTrace. Malformed means: a line longer than
/// kMaxTraceLineLength, or more than kMaxTraceBlankLines blank lines; a
/// missing, non-numeric or out-of-limit header number, or text after it on
/// its line; an unknown
/// operation; a missing id or size, or text after them; an id that is not a
/// number, is negative (other than `f -1`) or is not below the header's
/// number of ids; a negative size, or one above kMaxTraceSize; a file that
/// ends before the operations the header promised, or goes on after them;
/// and an operation that makes no sense for its block (TraceChecker):
/// - allocating an id whose block is still allocated (it would leak);
/// - freeing an id that was never allocated;
/// - freeing or reallocating an id that is already freed (a double free:
///   its pointer dangles; only a pointer never set is null).
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace heaplab {

/// The exit code of a tool given a malformed trace (1 stays free for "the
/// tool failed", 0 for success).
inline constexpr int kExitMalformedTrace = 2;

/// The largest size a trace may allocate or reallocate to: 1 GiB.
///
/// The largest heap in the course is the 1 GiB lazily committed mmap
/// reservation, so no allocator here could serve more; a larger size in a
/// trace is a typo or a corrupted file, not a workload.
inline constexpr std::size_t kMaxTraceSize = std::size_t{1} << 30;

/// The largest suggested heap size a header may give (the same 1 GiB).
inline constexpr std::size_t kMaxTraceHeapSize = kMaxTraceSize;

/// The largest number of ids a header may declare: 2^20 (1,048,576).
///
/// The checker keeps a few bytes per id, so the limit keeps a corrupted
/// header from asking for gigabytes; public traces use a few thousand.
inline constexpr std::size_t kMaxTraceIds = std::size_t{1} << 20;

/// The largest number of operations a header may declare: 2^26
/// (67,108,864), a file of several hundred megabytes.
inline constexpr std::size_t kMaxTraceOps = std::size_t{1} << 26;

/// The longest line a trace may have: 4096 bytes, line end not counted.
///
/// The longest valid line, `r 1048575 1073741824`, has 20 bytes; a line
/// a hundred times longer is no trace (a binary file, `/dev/zero`), and
/// reading it whole would let one line take all the memory there is.
inline constexpr std::size_t kMaxTraceLineLength = 4096;

/// The most blank lines a trace may have: 2^16 (65,536).
///
/// Far more than any spacing needs; the limit keeps an endless run of
/// empty lines (a pipe from `yes ''`) from being read forever, since blank
/// lines count toward no other limit.
inline constexpr std::size_t kMaxTraceBlankLines = std::size_t{1} << 16;

/// The largest weight a header may give.
inline constexpr std::size_t kMaxTraceWeight = std::numeric_limits<std::uint32_t>::max();

/// The id of `f -1`, the free of a null pointer.
inline constexpr std::size_t kNullId = std::numeric_limits<std::size_t>::max();

/// Lines before the first operation in a canonical trace (write_trace()).
inline constexpr std::size_t kTraceHeaderLines = 4;

/// What one line of a trace asks the allocator to do.
enum class OpKind : unsigned char {
  allocate,    ///< `a id size`: `allocate(size)`, remembered as block id.
  free,        ///< `f id`: `deallocate(block id)`; id kNullId is `deallocate(nullptr)`.
  reallocate,  ///< `r id size`: `reallocate(block id, size)` (of nullptr for an id never allocated), remembered as block id.
};

/// One operation of a trace.
struct TraceOp {
  OpKind kind = OpKind::allocate;  ///< What to do.
  std::size_t id = 0;              ///< The block it names: below Trace::id_count, or kNullId for `f -1`.
  std::size_t size = 0;            ///< Bytes requested (allocate, reallocate; 0 for free); at most kMaxTraceSize.
  std::size_t line = 0;            ///< The line it was read from, 1-based; 0 for an operation made in code.

  /// Two operations are equal when they do the same thing: where they were
  /// read from (#line) does not take part.
  friend bool operator==(const TraceOp& a, const TraceOp& b) noexcept {
    return a.kind == b.kind && a.id == b.id && a.size == b.size;
  }
};

/// A whole trace: the header's numbers and the operations, in order.
struct Trace {
  std::size_t suggested_heap_size = 0;  ///< Header line 1: bytes the trace suggests for the heap (informative only).
  std::size_t id_count = 0;             ///< Header line 2: every id is below this.
  std::size_t weight = 1;               ///< Header line 4: the CS:APP weight, kept for the format.
  std::vector<TraceOp> ops;             ///< The operations; the header's line 3 is their number.

  /// Equal header numbers and equal operations (source lines aside).
  friend bool operator==(const Trace&, const Trace&) = default;
};

/// Why a trace is malformed: where, and what is wrong.
struct TraceError {
  std::string file;   ///< The file name given to the parser.
  std::size_t line;   ///< 1-based line of the problem; 0 when the file could not be read at all.
  std::string what;   ///< One sentence, no trailing newline.

  /// Equal file, line and message.
  friend bool operator==(const TraceError&, const TraceError&) = default;
};

/// \p word as an error message may show it: printable ASCII as is, any
/// other byte as `\xNN` (so the message stays one readable line whatever
/// the input holds), and at most 40 characters of it, then "...".
[[nodiscard]] std::string shown(std::string_view word);

/// `'word'`: shown() and quoted, for a message about a word read from input.
[[nodiscard]] std::string quoted(std::string_view word);

/// The one line a tool prints for \p error: `file:line: what` (or
/// `file: what` for line 0), with no trailing newline.
[[nodiscard]] std::string format_error(const TraceError& error);

/// What parse_trace() returns: a Trace or the first problem found
/// (C++23 would spell it `std::expected<Trace, TraceError>`).
class TraceResult {
 public:
  // Implicit on purpose: the parser simply returns a Trace or a TraceError.
  /// A well-formed trace.
  TraceResult(Trace trace) : value_(std::move(trace)) {}
  /// A malformed one.
  TraceResult(TraceError error) : value_(std::move(error)) {}

  /// True when the input was well formed.
  [[nodiscard]] bool has_value() const noexcept { return std::holds_alternative<Trace>(value_); }
  /// Same as has_value().
  explicit operator bool() const noexcept { return has_value(); }
  /// The trace; only when has_value().
  [[nodiscard]] const Trace& value() const noexcept {
    assert(has_value() && "value() of a malformed trace: check has_value() first");
    return *std::get_if<Trace>(&value_);
  }
  /// The problem; only when not has_value().
  [[nodiscard]] const TraceError& error() const noexcept {
    assert(!has_value() && "error() of a well-formed trace: check has_value() first");
    return *std::get_if<TraceError>(&value_);
  }

 private:
  std::variant<Trace, TraceError> value_;
};

/// Follows the state of every id through a trace, one operation at a time,
/// and says what is wrong with an operation that makes no sense (see the
/// file comment, "Errors"). parse_trace() and check_trace() share it.
class TraceChecker {
 public:
  /// A checker for a trace whose ids are below \p id_count.
  explicit TraceChecker(std::size_t id_count);

  /// Applies \p op, read from line \p line: the empty string if it is
  /// valid, otherwise the reason it is not (and the state is unchanged).
  [[nodiscard]] std::string apply(const TraceOp& op, std::size_t line);

 private:
  /// What an id names at this point of the trace.
  enum class IdState : unsigned char { never_allocated, live, freed };
  std::vector<IdState> states_;      ///< One per id; all never_allocated at the start.
  std::vector<std::size_t> lines_;   ///< One per id: the line of its last allocate, reallocate or free.
};

/// Reads a trace from \p in. \p file_name is used only in error messages.
/// Never throws for bad input (only `std::bad_alloc` if memory runs out).
[[nodiscard]] TraceResult parse_trace(std::istream& in, std::string_view file_name);

/// Opens \p path and parses it. A path that is not a regular file or a
/// pipe (a directory, a device such as `/dev/zero`) or that cannot be
/// opened is a TraceError at line 0, which says which.
[[nodiscard]] TraceResult parse_trace_file(const std::filesystem::path& path);

/// Checks a trace made in code as parse_trace() checks a file: header
/// limits, ids in range, sizes in range, and every operation valid for its
/// block. An operation's line is its TraceOp::line if set, otherwise the
/// line write_trace() would put it on. Returns the first problem, if any.
[[nodiscard]] std::optional<TraceError> check_trace(const Trace& trace, std::string_view file_name);

/// Writes \p trace in the canonical format: the four header numbers (the
/// number of operations is `trace.ops.size()`), then one operation per
/// line, single spaces, `\n` line ends; `f -1` for a free of kNullId.
/// parse_trace() reads it back to an equal Trace.
void write_trace(std::ostream& out, const Trace& trace);

/// The peak of the bytes requested by live blocks, and when it is first
/// reached.
struct LivePeak {
  std::size_t bytes = 0;     ///< The most bytes live blocks ever request at once.
  std::size_t after_op = 0;  ///< Index in Trace::ops of the operation that first reaches #bytes (0 for a trace without operations).
};

/// The peak, over the whole trace, of the bytes requested by live blocks,
/// and the first operation after which it holds. The peak is the least
/// memory a perfect allocator would need (the numerator of utilization), and
/// its moment is the one that decides a real allocator's heap size, so the
/// strategy lab measures fragmentation there. \p trace must be valid
/// (check_trace()).
[[nodiscard]] LivePeak live_peak(const Trace& trace);

/// `live_peak(trace).bytes`.
[[nodiscard]] std::size_t peak_live_bytes(const Trace& trace);

}  // namespace heaplab
