/// \file
/// Preconditions written down where they hold, with the reason they hold:
///
///     HEAPLAB_ASSERT(is_allocated(prev), "the prologue is allocated, so a block always has one");
///
/// An assertion is a statement about the allocator's own code, not about
/// its caller: bad input is answered with `nullptr` or a misuse report
/// (misuse.hpp), never with an assertion. When one fails, the allocator has
/// a bug, and going on would damage the heap, so it prints one line (the
/// condition, the reason, the file and line) with write(2), which does not
/// allocate, and aborts.
///
/// Assertions are checked in every build but Release (the dev, asan, tsan
/// and fuzz presets): the benchmarks and instruction counts measure the
/// allocators without them, as users run them.
#pragma once

#include <string_view>

namespace heaplab {

/// Reports the failed assertion \p condition, which held for \p why, at
/// \p file : \p line, and aborts. Called by HEAPLAB_ASSERT only.
[[noreturn, gnu::cold]] void assertion_failed(std::string_view condition, std::string_view why,
                                               std::string_view file, unsigned line) noexcept;

}  // namespace heaplab

#if defined(HEAPLAB_ASSERTIONS)
/// Checks \p condition (a precondition or invariant of the allocator's own
/// code), saying \p why it must hold; compiled out of Release builds.
#define HEAPLAB_ASSERT(condition, why) \
  ((condition) ? static_cast<void>(0) : ::heaplab::assertion_failed(#condition, why, __FILE__, __LINE__))
#else
/// Compiled out (a Release build): \p condition is not even evaluated,
/// only type-checked, and \p why documents the code.
#define HEAPLAB_ASSERT(condition, why) static_cast<void>(sizeof(static_cast<bool>(condition)))
#endif
