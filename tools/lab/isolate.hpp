/// \file
/// Running a piece of work in a child process, watched: the lab's guard
/// against an allocator that crashes or never returns.
///
///     lab (parent)                          child (fork)
///     ------------                          ------------
///     shared page: progress, result  <----  counts operations, writes result
///     pipe  <-----------------------------  text output (heaplab map)
///     waits: exit / signal / deadline       runs the work, then _exit(0)
///
/// The child is a copy of the lab at the moment of the fork: the trace, the
/// heap, everything is already there, so only what comes back needs a
/// channel. When the child dies by a signal, or is still running at the
/// deadline (and is killed), the parent still has the progress the child
/// last wrote: the operation it was on.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <iosfwd>
#include <span>
#include <string>

#include "tools/lab/replay.hpp"

namespace heaplab {

/// How a child process ended.
enum class ChildEnding {
  finished,   ///< The work returned, and the child exited normally: the result is there.
  signalled,  ///< The child died by a signal (ChildEnd::signal): a crash.
  exited,     ///< The child called exit() or _Exit() itself, before the work returned (ChildEnd::exit_code).
  timed_out,  ///< The child was still running at the deadline, and was killed.
};

/// What the parent learns from a child process.
struct ChildEnd {
  ChildEnding how = ChildEnding::finished;  ///< How it ended.
  int signal = 0;                           ///< The signal, when #how is signalled.
  int exit_code = 0;                        ///< The exit code, when #how is exited.
  std::size_t progress = 0;                 ///< The last value the child stored in its ReplayProgress.
};

/// The work a child does: it counts its progress in \p progress, writes any
/// text to \p text (it reaches the parent's stream as it is written), and
/// leaves its result in \p result (bytes the parent gets back).
using ChildWork = std::function<void(ReplayProgress& progress, std::ostream& text, std::span<std::byte> result)>;

/// Runs \p work in a child process and waits for it, at most \p timeout
/// (zero: no limit). Text the child writes is copied to \p text as it
/// comes; when the child finishes, its \p result bytes are copied back
/// into \p result. Throws std::system_error when the child cannot be started.
[[nodiscard]] ChildEnd run_in_child(const ChildWork& work, std::span<std::byte> result, std::ostream& text,
                                    std::chrono::seconds timeout);

/// The signal's name as C names it: "SIGSEGV", "SIGABRT" (or "signal 77").
[[nodiscard]] std::string signal_name(int signal);

}  // namespace heaplab
