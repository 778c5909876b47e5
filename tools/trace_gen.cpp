// trace_gen: writes one workload trace in the CS:APP .rep format.
//
//   trace_gen <pattern> --seed N [--ops N] [--output FILE]
//   trace_gen --list
//
// The same pattern, seed and number of operations give the same bytes on
// every platform (tools/trace/trace_patterns.hpp says how), so a trace in
// traces/ is fully described by the command that made it. Each pattern's
// distribution is documented beside its code in trace_patterns.cpp and in
// traces/README.md. Without --output the trace goes to standard output.
//
// Exit codes: 0 written; 1 the output could not be written (or, a bug in
// a pattern, the trace came out invalid); 2 bad usage.
#include <charconv>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "tools/trace/trace.hpp"
#include "tools/trace/trace_patterns.hpp"

namespace {

using namespace heaplab;

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

void print_usage(std::ostream& out) {
  out << "usage: trace_gen <pattern> --seed N [--ops N] [--output FILE]\n"
         "       trace_gen --list\n"
         "Writes a trace in the CS:APP .rep format; the same arguments give the same bytes everywhere.\n"
         "  --seed N       seed of the random numbers (0 to 2^64-1); required\n"
         "  --ops N        at most N operations (default: the pattern's own, see --list; at most "
      << kMaxGeneratedOps
      << ")\n"
         "  --output FILE  write to FILE instead of standard output\n";
}

void print_patterns(std::ostream& out) {
  for (const PatternInfo& info : trace_patterns()) {
    out << info.name << " (default --ops " << info.default_ops << "): " << info.summary << '\n';
  }
}

/// \p text as a whole decimal number, if it is one.
std::optional<std::uint64_t> parse_number(std::string_view text) {
  std::uint64_t value = 0;
  const char* const end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc{} || stop != end || text.empty()) return std::nullopt;
  return value;
}

/// What the command line asks for.
struct Arguments {
  TracePattern pattern = TracePattern::tiny;
  std::uint64_t seed = 0;
  std::size_t ops = 0;
  std::string output;  ///< Empty for standard output.
};

/// Reads the command line into \p args, or prints why it cannot and
/// returns false.
bool parse_arguments(const std::vector<std::string_view>& words, Arguments& args) {
  const auto fail = [](const std::string& why) {
    std::cerr << "trace_gen: " << why << " (trace_gen --help shows the usage)\n";
    return false;
  };
  if (words.empty()) return fail("no pattern given");
  const std::optional<TracePattern> pattern = find_pattern(words[0]);
  if (!pattern) return fail("unknown pattern '" + std::string(words[0]) + "' (trace_gen --list shows them)");
  args.pattern = *pattern;
  args.ops = trace_patterns()[static_cast<std::size_t>(*pattern)].default_ops;

  bool has_seed = false;
  for (std::size_t i = 1; i < words.size(); i += 2) {
    const std::string_view option = words[i];
    if (option != "--seed" && option != "--ops" && option != "--output") {
      return fail("unknown option '" + std::string(option) + "'");
    }
    if (i + 1 == words.size()) return fail(std::string(option) + " needs a value");
    const std::string_view value = words[i + 1];
    if (option == "--output") {
      args.output = std::string(value);
      continue;
    }
    const std::optional<std::uint64_t> number = parse_number(value);
    if (!number) return fail(std::string(option) + " needs a whole number, not '" + std::string(value) + "'");
    if (option == "--seed") {
      args.seed = *number;
      has_seed = true;
    } else if (*number > kMaxGeneratedOps) {
      return fail("--ops is at most " + std::to_string(kMaxGeneratedOps));
    } else {
      args.ops = static_cast<std::size_t>(*number);
    }
  }
  if (!has_seed) return fail("--seed is required, so that the command names the trace");
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string_view> words(argv + 1, argv + argc);
  if (words.size() == 1 && (words[0] == "--list" || words[0] == "--help")) {
    if (words[0] == "--list") {
      print_patterns(std::cout);
    } else {
      print_usage(std::cout);
    }
    return 0;
  }
  Arguments args;
  if (!parse_arguments(words, args)) return kExitUsage;

  const Trace trace = generate_trace(args.pattern, args.seed, args.ops);
  if (const auto error = check_trace(trace, "trace_gen")) {
    // A pattern made an invalid trace: a bug in trace_gen, not in the input.
    std::cerr << format_error(*error) << '\n';
    return kExitFailed;
  }
  if (args.output.empty()) {
    write_trace(std::cout, trace);
    std::cout.flush();
    return std::cout ? 0 : kExitFailed;
  }
  // Binary mode: '\n' line ends on every platform, so the bytes match.
  std::ofstream out(args.output, std::ios::binary);
  write_trace(out, trace);
  out.close();
  if (!out) {
    std::cerr << "trace_gen: cannot write " << args.output << '\n';
    return kExitFailed;
  }
  return 0;
}
