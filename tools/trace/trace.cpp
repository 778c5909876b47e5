#include "tools/trace/trace.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <istream>
#include <limits>
#include <ostream>
#include <streambuf>
#include <string>
#include <system_error>

namespace heaplab {

namespace {

/// The words of one line: the text between runs of spaces and tabs.
/// A line holds at most three words that mean something (`a id size`); one
/// more is kept so that the caller can name the first unexpected word.
struct Words {
  std::array<std::string_view, 4> word;  ///< The first `count` words, in order.
  std::size_t count = 0;                 ///< How many words the line has, at most 4.
};

[[nodiscard]] Words split_words(std::string_view line) {
  constexpr std::string_view kSpace = " \t";
  Words words;
  std::size_t start = line.find_first_not_of(kSpace);
  while (start != std::string_view::npos && words.count < words.word.size()) {
    const std::size_t end = std::min(line.find_first_of(kSpace, start), line.size());
    words.word[words.count++] = line.substr(start, end - start);
    start = line.find_first_not_of(kSpace, end);
  }
  return words;
}

/// Reads a trace line by line, skipping blank lines and dropping the `\r`
/// of a CRLF line end, and counts lines (1-based) for error messages. It
/// refuses a line longer than kMaxTraceLineLength, having read no more of
/// it than that, and more than kMaxTraceBlankLines blank lines.
class LineReader {
 public:
  explicit LineReader(std::istream& in) : in_(in) {}

  /// The next line that is not blank, split into words; false at the end
  /// of the input, or at a line refused (problem() then says why). The
  /// words stay valid until the next call.
  [[nodiscard]] bool next(Words& words) {
    while (read_line()) {
      words = split_words(text_);
      if (words.count != 0) return true;
      if (++blank_lines_ > kMaxTraceBlankLines) {
        problem_ = "more than " + std::to_string(kMaxTraceBlankLines) + " blank lines, the most a trace may have";
        return false;
      }
    }
    return false;
  }
  /// The number of the line last read (0 before the first).
  [[nodiscard]] std::size_t line() const noexcept { return line_; }
  /// Why next() refused the line last read; empty when it did not.
  [[nodiscard]] const std::string& problem() const noexcept { return problem_; }

 private:
  /// Reads one line into text_, without its line end; false at the end of
  /// the input, and (with problem_ set) at a line too long. Byte by byte
  /// from the stream's buffer: std::getline would read a line whole before
  /// its length could be looked at.
  [[nodiscard]] bool read_line() {
    text_.clear();
    std::streambuf* const buffer = in_.rdbuf();
    if (buffer == nullptr || !problem_.empty()) return false;
    for (int c = buffer->sbumpc(); c != '\n'; c = buffer->sbumpc()) {
      if (c == std::char_traits<char>::eof()) {
        in_.setstate(std::ios::eofbit);
        if (text_.empty()) return false;  // the end of the input, or a last line without a line end
        break;
      }
      if (text_.empty()) ++line_;
      // One byte past the limit may still be the \r of a CRLF; two may not.
      if (text_.size() == kMaxTraceLineLength + 1) return refuse_long_line();
      text_ += static_cast<char>(c);
    }
    if (text_.empty()) ++line_;  // an empty line: only its line end was read
    if (!text_.empty() && text_.back() == '\r') text_.pop_back();
    if (text_.size() > kMaxTraceLineLength) return refuse_long_line();
    return true;
  }
  /// Refuses the line being read as too long: false, with problem_ set.
  [[nodiscard]] bool refuse_long_line() {
    problem_ = "the line is longer than " + std::to_string(kMaxTraceLineLength) +
               " bytes, the most a trace line may have";
    return false;
  }

  std::istream& in_;
  std::string text_;              ///< The line last read, without its line end.
  std::size_t line_ = 0;          ///< Lines read so far, blank ones included.
  std::size_t blank_lines_ = 0;   ///< Blank lines read so far.
  std::string problem_;           ///< Why the line last read was refused; empty if it was not.
};

/// How reading a decimal number from a word went.
enum class NumberStatus { ok, not_a_number, negative, too_large };

/// A number read from a word: `value` is meaningful only when `ok`.
struct Number {
  NumberStatus status = NumberStatus::not_a_number;  ///< How reading went.
  std::size_t value = 0;                             ///< The number, when status is ok.
};

/// Reads \p word as a decimal number no larger than \p limit. The whole
/// word must be digits: std::from_chars takes no sign, no spaces and no
/// locale, so "12x", "+3" and "0x10" are all not numbers.
[[nodiscard]] Number read_number(std::string_view word, std::size_t limit) {
  if (word.size() > 1 && word.front() == '-' &&
      word.find_first_not_of("0123456789", 1) == std::string_view::npos) {
    return {NumberStatus::negative, 0};
  }
  std::size_t value = 0;
  const char* const end = word.data() + word.size();
  const auto [stop, error] = std::from_chars(word.data(), end, value);
  if (stop != end) return {NumberStatus::not_a_number, 0};  // empty, or not all digits
  if (error == std::errc::result_out_of_range) return {NumberStatus::too_large, 0};
  if (error != std::errc{}) return {NumberStatus::not_a_number, 0};
  if (value > limit) return {NumberStatus::too_large, 0};
  return {NumberStatus::ok, value};
}

[[nodiscard]] std::string id_out_of_range(std::string_view id, std::size_t id_count) {
  return "id " + shown(id) + " is out of range: ids must be below the header's number of ids, " +
         std::to_string(id_count);
}

[[nodiscard]] std::string absurd_size(std::string_view size) {
  return "size " + shown(size) + " is absurd: the limit is " + std::to_string(kMaxTraceSize) +
         " bytes (1 GiB)";
}

[[nodiscard]] std::string_view verb(OpKind kind) {
  switch (kind) {
    case OpKind::allocate: return "allocate";
    case OpKind::free: return "free";
    case OpKind::reallocate: return "reallocate";
  }
  return "?";
}

/// One number of the header: its name in messages and its limit.
struct HeaderField {
  std::string_view name;  ///< As in "the number of ids".
  std::size_t limit;      ///< The largest value accepted.
};

/// The header, line by line.
constexpr std::array<HeaderField, kTraceHeaderLines> kHeaderFields{{
    {"suggested heap size", kMaxTraceHeapSize},
    {"number of ids", kMaxTraceIds},
    {"number of operations", kMaxTraceOps},
    {"weight", kMaxTraceWeight},
}};

[[nodiscard]] std::string above_limit(const HeaderField& field, std::string_view value) {
  return "header: the " + std::string(field.name) + " " + shown(value) +
         " is above the limit of " + std::to_string(field.limit);
}

/// True when \p header is laid out as in the 2016 edition of the CS:APP
/// traces: a weight of 0 or 1 first, the suggested heap size (more than 1
/// byte) last. The classic layout has them the other way round; a suggested
/// heap of 0 or 1 byte with a weight above 1 is no trace anyone writes.
[[nodiscard]] bool is_2016_header(const std::array<std::size_t, kTraceHeaderLines>& header) noexcept {
  return header[0] <= 1 && header[kTraceHeaderLines - 1] > 1;
}

/// Reads one header number from \p words, or says what is wrong with it.
[[nodiscard]] std::string read_header_field(const Words& words, const HeaderField& field,
                                            std::size_t& value) {
  const std::string_view word = words.word[0];
  if (words.count > 1) {
    return "header: unexpected " + quoted(words.word[1]) + " after the " + std::string(field.name);
  }
  const Number number = read_number(word, field.limit);
  switch (number.status) {
    case NumberStatus::ok: value = number.value; return {};
    case NumberStatus::not_a_number:
      return "header: the " + std::string(field.name) + " must be a whole number, not " + quoted(word);
    case NumberStatus::negative:
      return "header: the " + std::string(field.name) + " " + shown(word) + " is negative";
    case NumberStatus::too_large: return above_limit(field, word);
  }
  return "header: unreadable";
}

/// Reads one operation line into \p op (kind, id, size), or says what is
/// wrong with its syntax. Whether the operation makes sense for its block
/// is TraceChecker's question, asked afterwards.
[[nodiscard]] std::string read_operation(const Words& words, std::size_t id_count, TraceOp& op) {
  const std::string_view name = words.word[0];
  if (name == "a") {
    op.kind = OpKind::allocate;
  } else if (name == "f") {
    op.kind = OpKind::free;
  } else if (name == "r") {
    op.kind = OpKind::reallocate;
  } else {
    return "unknown operation " + quoted(name) + " (expected a, f or r)";
  }
  const bool has_size = op.kind != OpKind::free;
  const std::size_t expected_words = has_size ? 3 : 2;
  if (words.count < expected_words) {
    return quoted(name) + (has_size ? " needs an id and a size" : " needs an id");
  }
  if (words.count > expected_words) {
    return "unexpected " + quoted(words.word[expected_words]) + " after the operation";
  }

  const std::string_view id = words.word[1];
  if (op.kind == OpKind::free && id == "-1") {
    op.id = kNullId;
  } else {
    const Number number = read_number(id, std::numeric_limits<std::size_t>::max());
    switch (number.status) {
      case NumberStatus::ok:
        // Checked here, not left to TraceChecker: the largest id there is,
        // 2^64 - 1, is kNullId, and would pass for the `f -1` of a free of null.
        if (number.value >= id_count) return id_out_of_range(id, id_count);
        op.id = number.value;
        break;
      case NumberStatus::not_a_number: return "id " + quoted(id) + " is not a whole number";
      case NumberStatus::negative:
        return "id " + shown(id) + " is negative (only 'f -1', a free of null, may use -1)";
      case NumberStatus::too_large: return id_out_of_range(id, id_count);
    }
  }

  op.size = 0;
  if (has_size) {
    const std::string_view size = words.word[2];
    const Number number = read_number(size, std::numeric_limits<std::size_t>::max());
    switch (number.status) {
      case NumberStatus::ok: op.size = number.value; break;
      case NumberStatus::not_a_number: return "size " + quoted(size) + " is not a whole number";
      case NumberStatus::negative: return "size " + shown(size) + " is negative";
      case NumberStatus::too_large: return absurd_size(size);
    }
  }
  return {};
}

/// Why \p path can hold no trace, or empty: a trace is read from a regular
/// file or a pipe. A directory opens as a stream that reads nothing, and a
/// device may read without end (`/dev/zero`), so both are named at once. A
/// path that does not exist is left to the opening, which reports it.
[[nodiscard]] std::string not_a_trace_file(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  std::error_code error;
  switch (fs::status(path, error).type()) {
    case fs::file_type::directory: return "is a directory, not a trace file";
    case fs::file_type::character: return "is not a regular file (a character device), so it holds no trace";
    case fs::file_type::block: return "is not a regular file (a block device), so it holds no trace";
    case fs::file_type::socket: return "is not a regular file (a socket), so it holds no trace";
    default: return {};  // a regular file, a pipe, or a path the opening will report
  }
}

}  // namespace

std::string shown(std::string_view word) {
  constexpr std::size_t kMaxShown = 40;
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string text;
  for (const char c : word.substr(0, kMaxShown)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f) {
      text += c;
    } else {
      text += "\\x";
      text += kHex[byte >> 4];
      text += kHex[byte & 0xf];
    }
  }
  if (word.size() > kMaxShown) text += "...";
  return text;
}

std::string quoted(std::string_view word) {
  // Appended step by step: `"'" + shown(word)` draws a false -Wrestrict
  // warning from GCC 12 at -O3 (GCC bug 105329), an error in our builds.
  std::string text = "'";
  text += shown(word);
  text += '\'';
  return text;
}

std::string format_error(const TraceError& error) {
  if (error.line == 0) return error.file + ": " + error.what;
  return error.file + ":" + std::to_string(error.line) + ": " + error.what;
}

TraceChecker::TraceChecker(std::size_t id_count)
    : states_(id_count, IdState::never_allocated), lines_(id_count, 0) {}

std::string TraceChecker::apply(const TraceOp& op, std::size_t line) {
  if (op.id == kNullId) {
    if (op.kind == OpKind::free) return {};  // free(NULL): nothing to follow
    return std::string(verb(op.kind)) + " of id -1: only 'f -1', a free of null, may use -1";
  }
  if (op.id >= states_.size()) return id_out_of_range(std::to_string(op.id), states_.size());
  if (op.kind != OpKind::free && op.size > kMaxTraceSize) return absurd_size(std::to_string(op.size));

  IdState& state = states_[op.id];
  std::size_t& last_line = lines_[op.id];
  const std::string what = std::string(verb(op.kind)) + " of id " + std::to_string(op.id);
  if (op.kind == OpKind::allocate) {
    if (state == IdState::live) {
      return what + ", which is still allocated (line " + std::to_string(last_line) +
             "): free it first";
    }
    state = IdState::live;
  } else if (op.kind == OpKind::reallocate && state == IdState::never_allocated) {
    // realloc(NULL, n), which C defines as malloc(n): the id's pointer is
    // still null. (A freed id's pointer is not: it dangles.)
    state = IdState::live;
  } else {
    if (state == IdState::never_allocated) return what + ", which was never allocated";
    if (state == IdState::freed) {
      return what + ", which was already freed (line " + std::to_string(last_line) + ")";
    }
    if (op.kind == OpKind::free) state = IdState::freed;
  }
  last_line = line;
  return {};
}

TraceResult parse_trace(std::istream& in, std::string_view file_name) {
  const std::string file(file_name);
  LineReader reader(in);
  Words words;

  // The first and last lines are read with no limit first: the 2016
  // edition of the CS:APP traces puts the weight first and the suggested
  // heap size last, and only both together say which layout a file has.
  std::array<std::size_t, kTraceHeaderLines> header{};
  std::array<std::size_t, kTraceHeaderLines> header_line{};
  for (std::size_t i = 0; i < kTraceHeaderLines; ++i) {
    HeaderField field = kHeaderFields[i];
    if (i == 0 || i + 1 == kTraceHeaderLines) field.limit = std::numeric_limits<std::size_t>::max();
    if (!reader.next(words)) {
      if (!reader.problem().empty()) return TraceError{file, reader.line(), reader.problem()};
      return TraceError{file, reader.line() + 1,
                        "truncated: the file ends before the header's " + std::string(field.name)};
    }
    if (std::string what = read_header_field(words, field, header[i]); !what.empty()) {
      // A number past any limit is told against the field's own.
      return TraceError{file, reader.line(), read_header_field(words, kHeaderFields[i], header[i])};
    }
    header_line[i] = reader.line();
  }
  Trace trace;
  if (is_2016_header(header)) {
    // The suggested heap size is informative (and in that edition counts
    // the bytes of a 64-bit heap): kept, but no larger than any heap here.
    trace.weight = header[0];
    trace.suggested_heap_size = std::min(header[3], kMaxTraceHeapSize);
  } else {
    for (const std::size_t i : {std::size_t{0}, kTraceHeaderLines - 1}) {
      if (header[i] > kHeaderFields[i].limit) {
        return TraceError{file, header_line[i], above_limit(kHeaderFields[i], std::to_string(header[i]))};
      }
    }
    trace.suggested_heap_size = header[0];
    trace.weight = header[3];
  }
  trace.id_count = header[1];
  const std::size_t declared_ops = header[2];
  // No reserve(declared_ops): a one-line file must not be able to make us
  // allocate for the 67 million operations its header may claim.

  // The header's count may be off by one either way (public traces have both).
  TraceChecker checker(trace.id_count);
  while (reader.next(words)) {
    if (trace.ops.size() == declared_ops + 1) {
      return TraceError{file, reader.line(),
                        "more operations than the header's " + std::to_string(declared_ops) +
                            " (one more is tolerated)"};
    }
    TraceOp op;
    op.line = reader.line();
    if (std::string what = read_operation(words, trace.id_count, op); !what.empty()) {
      return TraceError{file, op.line, std::move(what)};
    }
    if (std::string what = checker.apply(op, op.line); !what.empty()) {
      return TraceError{file, op.line, std::move(what)};
    }
    trace.ops.push_back(op);
  }
  if (!reader.problem().empty()) return TraceError{file, reader.line(), reader.problem()};
  if (trace.ops.size() + 1 < declared_ops) {
    return TraceError{file, reader.line() + 1,
                      "truncated: the header declares " + std::to_string(declared_ops) +
                          " operations (one fewer is tolerated), the file ends after " +
                          std::to_string(trace.ops.size())};
  }
  return trace;
}

TraceResult parse_trace_file(const std::filesystem::path& path) {
  if (std::string why = not_a_trace_file(path); !why.empty()) return TraceError{path.string(), 0, std::move(why)};
  // Binary mode: the parser itself drops the '\r' of CRLF, on every platform.
  std::ifstream in(path, std::ios::binary);
  if (!in) return TraceError{path.string(), 0, "cannot open the file"};
  return parse_trace(in, path.string());
}

std::optional<TraceError> check_trace(const Trace& trace, std::string_view file_name) {
  const std::string file(file_name);
  const std::array<std::size_t, kTraceHeaderLines> header{trace.suggested_heap_size, trace.id_count,
                                                          trace.ops.size(), trace.weight};
  for (std::size_t i = 0; i < kTraceHeaderLines; ++i) {
    if (header[i] > kHeaderFields[i].limit) {
      return TraceError{file, i + 1, above_limit(kHeaderFields[i], std::to_string(header[i]))};
    }
  }
  TraceChecker checker(trace.id_count);
  for (std::size_t i = 0; i < trace.ops.size(); ++i) {
    const TraceOp& op = trace.ops[i];
    const std::size_t line = op.line != 0 ? op.line : kTraceHeaderLines + i + 1;
    if (std::string what = checker.apply(op, line); !what.empty()) {
      return TraceError{file, line, std::move(what)};
    }
  }
  return std::nullopt;
}

void write_trace(std::ostream& out, const Trace& trace) {
  out << trace.suggested_heap_size << '\n'
      << trace.id_count << '\n'
      << trace.ops.size() << '\n'
      << trace.weight << '\n';
  for (const TraceOp& op : trace.ops) {
    switch (op.kind) {
      case OpKind::allocate: out << "a " << op.id << ' ' << op.size << '\n'; break;
      case OpKind::reallocate: out << "r " << op.id << ' ' << op.size << '\n'; break;
      case OpKind::free:
        if (op.id == kNullId) {
          out << "f -1\n";
        } else {
          out << "f " << op.id << '\n';
        }
        break;
    }
  }
}

LivePeak live_peak(const Trace& trace) {
  std::vector<std::size_t> size_of(trace.id_count, 0);  // live blocks' sizes; 0 when not live
  std::size_t live = 0;
  LivePeak peak;
  for (std::size_t i = 0; i < trace.ops.size(); ++i) {
    const TraceOp& op = trace.ops[i];
    if (op.id == kNullId) continue;  // free(NULL)
    std::size_t& size = size_of[op.id];
    live -= size;
    size = op.kind == OpKind::free ? 0 : op.size;
    live += size;
    if (live > peak.bytes) peak = {live, i};
  }
  return peak;
}

std::size_t peak_live_bytes(const Trace& trace) { return live_peak(trace).bytes; }

}  // namespace heaplab
