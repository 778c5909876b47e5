/// \file
/// How every demo of the course prints: a heading per section, and lines of
/// explanation. Plain printf, so a demo's output is exactly what the
/// chapters paste. And the small heaps the later chapters draw, checked as
/// they go.
#pragma once

#include <array>
#include <cstddef>
#include <cstdio>
#include <string_view>

#include "stage1_static_bump/contract.hpp"

namespace heaplab {

/// Prints a section heading: a blank line, `== title ==`, a blank line.
inline void print_heading(std::string_view title) {
  std::printf("\n== %.*s ==\n\n", static_cast<int>(title.size()), title.data());
}

/// Prints \p text and a newline.
inline void say(std::string_view text) {
  std::printf("%.*s\n", static_cast<int>(text.size()), text.data());
}

/// Bytes of each small heap a demo draws: room for a few hundred bytes of
/// blocks after the heap's own bookkeeping.
inline constexpr std::size_t kDemoRegionBytes = 1024;

/// An allocator of type \p A on a small region of its own. The region is
/// aligned as malloc's memory is, so that the heap's blocks lie at the
/// same offsets on every run, and the pictures the chapters paste stay true.
template <class A>
struct DemoHeap {
  alignas(16) std::array<std::byte, kDemoRegionBytes> region{};  ///< The memory (declared first: it outlives heap).
  A heap{region};                                                ///< The allocator drawn.
};

/// True until a demo heap fails its check(); a demo's main() returns 1 then.
inline bool& demo_checks_passed() noexcept {
  static bool passed = true;
  return passed;
}

/// Runs \p heap's check() and says so only when it fails, naming \p where:
/// a demo whose pictures come from a broken heap must not pass the tour
/// quietly.
template <class A>
void verify(const A& heap, std::string_view where) {
  const CheckResult result = heap.check();
  if (result) return;
  demo_checks_passed() = false;
  std::printf("check() FAILED in %.*s: \"%.*s\" at offset %zu of region %zu\n", static_cast<int>(where.size()),
              where.data(), static_cast<int>(result.failed_invariant.size()), result.failed_invariant.data(),
              result.offset, result.region);
}

}  // namespace heaplab
