/// \file
/// Failure messages that read like a grader's: when a heap fails check(),
/// the shared suites say which invariant broke (the words check() returned),
/// where, the command that runs the failing test case alone, and a picture
/// of the heap at that moment (heap_picture.hpp):
///
///     replay it alone: build/dev/tests/contract_tests --test-case='blocks never overlap ...<first-fit>'
///     check() failed: "free blocks never touch" at offset $0400 (region 0)
///     the heap now (offset, A allocated / F free, size):
///     region 0: $0000 A 48      $0030 F 976     $0400 F 32 <-- check()
///
/// A passing check prints nothing: the suites' passing output is unchanged.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include "stage1_static_bump/contract.hpp"
#include "stage1_static_bump/heap_diagram.hpp"
#include "tests/support/heap_picture.hpp"

namespace heaplab::testing {

/// \p text quoted for a POSIX shell: between single quotes, each single
/// quote inside written as '\''.
[[nodiscard]] inline std::string shell_quoted(std::string_view text) {
  std::string quoted = "'";
  for (const char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

/// The command line that runs the current doctest case alone, preceded by
/// \p environment (e.g. "HEAPLAB_MODEL_SEED=0x5eed0001 "): the test
/// program as it was started, and the case's full name as its filter.
[[nodiscard]] inline std::string replay_command(std::string_view environment = {}) {
  const doctest::ContextOptions* const options = doctest::getContextOptions();
  std::string command(environment);
  if (options == nullptr || options->currentTest == nullptr) return command + "(outside a test case)";
  command += options->binary_name.c_str();
  command += " --test-case=" + shell_quoted(options->currentTest->m_name);
  return command;
}

/// "0x5eed0001": a seed as the grader's messages print it, and as
/// HEAPLAB_MODEL_SEED reads it back.
[[nodiscard]] inline std::string hex_seed(std::uint64_t seed) {
  std::ostringstream out;
  out << "0x" << std::hex << seed;
  return out.str();
}

/// One line naming the invariant \p result says broke, and where.
[[nodiscard]] inline std::string describe_check(const CheckResult& result) {
  return "check() failed: \"" + std::string(result.failed_invariant) + "\" at offset " +
         format_offset(result.offset) + " (region " + std::to_string(result.region) + ")";
}

/// The invariant \p heap's check() said broke (\p result), and the
/// heap's picture with the failing block marked.
template <Allocator A>
[[nodiscard]] std::string heap_report(const A& heap, const CheckResult& result) {
  return describe_check(result) + "\nthe heap now (offset, A allocated / F free, size):\n" +
         draw_heap_picture(heap, result);
}

/// heap_report(), after \p what happened last (may be empty) and the
/// command that runs the test case alone.
template <Allocator A>
[[nodiscard]] std::string broken_heap_report(const A& heap, const CheckResult& result, std::string_view what) {
  std::string report;
  if (!what.empty()) report += std::string(what) + "\n";
  report += "replay it alone: " + replay_command() + "\n";
  return report + heap_report(heap, result);
}

/// CHECK(heap.check()), with the grader's message when it fails.
template <Allocator A>
void check_sound(const A& heap, std::string_view what = {}) {
  const CheckResult result = heap.check();
  if (!result.ok()) FAIL_CHECK(broken_heap_report(heap, result, what));
}

/// REQUIRE(heap.check()), with the grader's message when it fails.
template <Allocator A>
void require_sound(const A& heap, std::string_view what = {}) {
  const CheckResult result = heap.check();
  if (!result.ok()) FAIL(broken_heap_report(heap, result, what));
}

}  // namespace heaplab::testing
