/// \file
/// The mark of code a learner has yet to write (the hands-on track, "Your
/// turn", at the end of every chapter).
///
/// Each chapter has a folder `your_turn/` holding a skeleton of exactly the
/// code the chapter is about; every function there starts as
///
///     HEAPLAB_NOT_WRITTEN_YET("bump_step(): align, check the room, bump");
///
/// Reaching one prints one line on standard error and ends the process
/// with kNotWrittenYetExit, never a crash: the chapter's tests, run one per
/// process, then fail one by one with "not written yet" until the learner
/// has written the code, and the grader can tell an unwritten step from a
/// wrong one.
#pragma once

#include <string_view>

namespace heaplab {

/// The exit code of a process that reached code not written yet.
inline constexpr int kNotWrittenYetExit = 3;

/// Reports that \p what, at line \p line of \p file, is not written yet, as
/// one line on standard error ("not written yet: <what> (<file>:<line>)",
/// the file relative to the course's root), and ends the process with
/// kNotWrittenYetExit. Written with write(2): it does not allocate, so it
/// may be reached from inside an allocator. The defaults are the caller's
/// place (`__builtin_FILE()` rather than std::source_location, which the
/// clang of the fuzz build lacks).
[[noreturn, gnu::cold]] void not_written_yet(std::string_view what, const char* file = __builtin_FILE(),
                                             unsigned line = __builtin_LINE()) noexcept;

}  // namespace heaplab

/// Marks a function body the learner has to write; \p what says what it
/// does, in a few words (see not_written_yet()).
#define HEAPLAB_NOT_WRITTEN_YET(what) ::heaplab::not_written_yet(what)
