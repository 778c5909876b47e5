/// \file
/// How every demo of the course prints: a heading per section, and lines of
/// explanation. Plain printf, so a demo's output is exactly what the
/// chapters paste.
#pragma once

#include <cstdio>
#include <string_view>

namespace heaplab {

/// Prints a section heading: a blank line, `== title ==`, a blank line.
inline void print_heading(std::string_view title) {
  std::printf("\n== %.*s ==\n\n", static_cast<int>(title.size()), title.data());
}

/// Prints \p text and a newline.
inline void say(std::string_view text) {
  std::printf("%.*s\n", static_cast<int>(text.size()), text.data());
}

}  // namespace heaplab
