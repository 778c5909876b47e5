/// \file
/// The `heaplab` command line, the strategy lab's front door:
///
///     heaplab list
///     heaplab replay [--check] [--heap-size BYTES] [--timeout SECONDS] TRACE ALLOCATOR...
///     heaplab compare [--csv] [--svg FILE] [--heap-size BYTES] [--repeat N]
///                     [--allocators LIST] [--timeout SECONDS] TRACE...
///     heaplab map [--heap-size BYTES] [--max-blocks N] [--timeout SECONDS] TRACE ALLOCATOR
///     heaplab score [--heap-size BYTES] [--repeat N] [--timeout SECONDS] TRACE... ALLOCATOR
///     heaplab help | heaplab --help
///
/// run_heaplab() is the whole program but for `main`, which only hands it
/// the arguments (tools/heaplab.cpp); the tests call it directly, with
/// string streams for the output. write_usage() gives every option. A
/// program of the learner's passes its own allocators too ("yours",
/// lab_entry.hpp); the lab runs those in a child process (runner.hpp).
///
/// Exit codes: 0 success; kExitFailed when a replay (or a map) did not complete or
/// crashed, or a score has invalid traces (for
/// `compare`: failed otherwise than by running out of memory, which is a
/// measured result there) or a file, or standard output, could not be
/// written (`heaplab compare ... > /dev/full`: one line on standard error);
/// kExitMalformedTrace (2) for a malformed trace, with the one line
/// format_error() gives; kExitUsage (64) for a usage error, with a one-line
/// message and a hint to run `heaplab --help`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <span>
#include <string_view>

#include "tools/lab/lab_allocators.hpp"

namespace heaplab {

/// The exit code when a replay did not complete or a file could not be
/// written.
inline constexpr int kExitFailed = 1;

/// The exit code of a usage error: unknown command, option or allocator,
/// missing or malformed argument (EX_USAGE in BSD's `<sysexits.h>`).
inline constexpr int kExitUsage = 64;

/// Timed runs per allocator and trace in `heaplab compare`, by default.
inline constexpr std::size_t kDefaultRepeat = 5;

/// The most timed runs `--repeat` accepts.
inline constexpr std::size_t kMaxRepeat = 1000;

/// Blocks `heaplab map` draws per line, by default, before it counts the rest.
inline constexpr std::size_t kDefaultMapBlocks = 16;

/// The most seconds `--timeout` accepts (a day).
inline constexpr std::uint64_t kMaxTimeout = 86400;

/// The most blocks `--max-blocks` accepts.
inline constexpr std::size_t kMaxMapBlocks = 100000;

/// Without `--heap-size`, a trace whose live requests peak above a
/// sixteenth of the static heap runs on a heap this many times its peak:
/// room even for a policy that wastes 15 bytes in 16 (worst fit loses more
/// than 12 in 13 on random-sizes).
inline constexpr std::size_t kAutoHeapFactor = 16;

/// Writes the usage of every command.
void write_usage(std::ostream& out);

/// Runs the command \p args names (the program's arguments, without the
/// program's name), writing its report to \p out (the program's standard
/// output) and any error, as one line, to \p err. \p out is flushed at
/// the end, and a report it could not take is an error too. Returns the
/// exit code (see the file comment).
[[nodiscard]] int run_heaplab(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);

/// run_heaplab() over the course's allocators and \p yours: `heaplab list`
/// shows them after the course's, and every command finds them by name.
/// Each run of one of \p yours happens in a child process, so that a crash
/// or a hang ends in one line on \p err (runner.hpp). A name of \p yours
/// the course already uses is a usage error.
[[nodiscard]] int run_heaplab(std::span<const std::string_view> args, std::ostream& out, std::ostream& err,
                              std::span<const LabAllocator> yours);

}  // namespace heaplab
