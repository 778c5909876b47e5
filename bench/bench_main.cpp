// The heaplab benchmark program: every benchmark of the course in one
// binary, so that every comparison is made in one run, on one machine state.
//
//   cmake --workflow --preset bench            configure, build and run: three
//                                              shuffled repetitions (see CMakeLists.txt)
//   build/release/bench/heaplab_bench          one quick repetition
//   build/release/bench/heaplab_bench --help   Google Benchmark's flags
//
// Flags worth knowing on a noisy machine: --benchmark_repetitions=5 (the
// ratio table then shows medians and their spread), --benchmark_filter=stress
// (one family only), --benchmark_out=results.json (every measurement).
//
// Debian's libbenchmark is built without optimisation and says so in a
// "Library was built as DEBUG" warning. Only the timing loop's setup runs
// in the library; the measured loops are compiled here, so the warning does
// not affect the numbers.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <unistd.h>

#include "bench/ratio_reporter.hpp"

namespace {

/// Colour only when a person is watching: a log file or a pipe gets plain
/// text. (Google Benchmark's --benchmark_color applies to its own reporter,
/// not to ours.)
benchmark::ConsoleReporter::OutputOptions console_options() {
  return isatty(STDOUT_FILENO) != 0 ? benchmark::ConsoleReporter::OO_Color
                                    : benchmark::ConsoleReporter::OO_None;
}

/// Timings of an unoptimised build say nothing about the allocators.
void warn_if_unoptimised() {
#ifndef NDEBUG
  std::puts("*** This is not a release build: the numbers below are not the course's.\n"
            "*** Use `cmake --workflow --preset bench`.");
#endif
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  warn_if_unoptimised();
  heaplab::bench::RatioReporter reporter(console_options());
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  // Only a broken benchmark fails the program; a missed target never does.
  return reporter.any_errors() ? 1 : 0;
}
