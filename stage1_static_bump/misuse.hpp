/// \file
/// The one place misuse is reported: double free, a pointer that is not from
/// this heap, a stale marker, ...
///
/// The default handler writes one line to standard error with `write(2)`
/// (no stdio, which may itself allocate) and aborts, as glibc does for a
/// double free. Tests install a handler that records the report instead, and
/// then check that the heap is unchanged.
#pragma once

#include <cstddef>
#include <string_view>

namespace heaplab {

/// The kinds of misuse the allocators can detect.
enum class Misuse {
  foreign_pointer,    ///< deallocate() of a pointer that this allocator did not hand out.
  double_free,        ///< deallocate() of a block that is already free.
  interior_pointer,   ///< deallocate() of a pointer inside a block, not at its start.
  bad_marker,         ///< rewind() to a marker that is not from this allocator's past.
  static_heap_taken,  ///< A second allocator asked for the static heap while one holds it.
};

/// A short, stable name for \p kind ("double free", "foreign pointer", ...).
[[nodiscard]] std::string_view to_string(Misuse kind) noexcept;

/// Everything a handler learns about one misuse.
struct MisuseReport {
  Misuse kind;              ///< What went wrong.
  const void* pointer;      ///< The offending pointer or marker position (may be null).
  std::string_view where;   ///< The operation that detected it, e.g. "BumpAllocator::deallocate".
};

/// A misuse handler. It must not allocate from the heap that reported.
/// If it returns, the operation that reported returns without changing
/// the heap.
using MisuseHandler = void (*)(const MisuseReport&) noexcept;

/// The default handler: one line on stderr via `write(2)`, then `abort()`.
void abort_on_misuse(const MisuseReport& report) noexcept;

/// Installs \p handler (nullptr restores the default) and returns the previous one.
MisuseHandler set_misuse_handler(MisuseHandler handler) noexcept;

/// Hands \p report to the installed handler.
void report_misuse(const MisuseReport& report) noexcept;

/// Formats \p report as the one-line message the default handler prints,
/// e.g. `heaplab: double free (0x7f..) in FreeList::deallocate`, into
/// \p buffer without allocating; returns the used part of the buffer.
std::string_view format_misuse(const MisuseReport& report, char* buffer,
                               std::size_t size) noexcept;

}  // namespace heaplab
