/// \file
/// The shim's exit report: the line it writes (built in a heaplab::Line,
/// chapter 1's allocation-free text, since stdio may call malloc) and
/// where it writes it, standard error as it was when the program started.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "stage1_static_bump/line.hpp"

namespace heaplab::shim {

/// Standard error as it was when the program started, kept for a line
/// written at exit.
///
/// Some programs close file descriptor 2 before they exit: GNU coreutils
/// (`ls`, `sort`, ...) close stdout and stderr in an atexit handler, to
/// catch a failed write, and a library destructor runs after that. So the
/// file is saved at load time, duplicated to a descriptor of its own, and
/// identified by device and inode: at exit, fd 2 is used if it is still
/// that file, else the duplicate if it still is. A descriptor that now
/// holds another file (a program may reuse either number) is never
/// written to.
class SavedStderr {
 public:
  /// Duplicates fd 2 (close-on-exec, so that programs this one starts do
  /// not inherit it) and remembers its file. Does nothing if fd 2 is closed.
  void save() noexcept;
  /// Writes \p line to the saved standard error (see the class comment);
  /// writes nothing if neither descriptor still holds that file.
  void write(const Line& line) const noexcept;

 private:
  /// True when the descriptor \p fd holds the saved file.
  [[nodiscard]] bool holds_saved_file(int fd) const noexcept;

  int duplicate_ = -1;       ///< The duplicate of fd 2, or -1.
  std::uint64_t device_ = 0;  ///< st_dev of the saved file.
  std::uint64_t inode_ = 0;   ///< st_ino of the saved file.
};

/// The numbers of the report a shim writes at exit (HEAPLAB_REPORT=1).
struct MallocReport {
  std::string_view name;           ///< The shim's name, e.g. "quick-fit".
  std::size_t allocations = 0;     ///< Blocks handed out (MallocCounts::allocations).
  std::size_t frees = 0;           ///< Non-null pointers given back (MallocCounts::frees).
  std::size_t peak_heap = 0;       ///< HeapStats::high_water.
  std::size_t peak_requested = 0;  ///< HeapStats::peak_requested.
};

/// Formats \p report as the one line the tests parse, newline included:
///
///     heaplab malloc (quick-fit): 1234 allocations served, 1200 frees, peak heap 1048576 bytes, utilization 63.2%
///
/// Utilization is `peak_requested / peak_heap` (the course's definition),
/// as a percentage rounded to one decimal; 0.0 for a heap never used.
[[nodiscard]] Line format_report(const MallocReport& report) noexcept;

/// \p numerator / \p denominator as a percentage in tenths, rounded to the
/// nearest (632 for 63.2%); 0 when \p denominator is 0.
[[nodiscard]] std::size_t percent_tenths(std::size_t numerator, std::size_t denominator) noexcept;

/// Appends \p bytes to \p line as the shim's warnings spell a size, for a
/// reader rather than a parser, as heaplab::format_bytes() does for the
/// course's demos but without allocating: "1023 B", and from 1 KiB on the
/// largest binary unit (KiB, MiB, ... EiB) that keeps the number below
/// 1024, to one decimal, rounded to the nearest ("1.5 KiB", "4.0 GiB",
/// "909.5 TiB").
Line& append_size(Line& line, std::size_t bytes) noexcept;

}  // namespace heaplab::shim
