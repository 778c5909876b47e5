/// \file
/// How the lab runs an allocator: the course's in the lab's own process,
/// as fast as they go; a learner's ("yours", run_heaplab()) replays and
/// maps in a child process each time (isolate.hpp), so that a crash or an
/// endless loop in it ends with one line naming the trace line it was on,
/// and the lab goes on with the other allocators (its timed runs, which
/// follow a replay that completed, run in the lab's process: see time()):
///
///     mine: crashed (SIGSEGV) at line 1234 of trace.rep: r 17 4096
///     mine: did not finish within 60 s, at line 88 of trace.rep: a 40 24
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <iosfwd>
#include <optional>
#include <span>
#include <string>

#include "tools/lab/lab_allocators.hpp"
#include "tools/lab/replay.hpp"
#include "tools/trace/trace.hpp"

namespace heaplab {

/// How long a run in a child process may take before it is killed, by
/// default (`--timeout`).
inline constexpr std::chrono::seconds kDefaultTimeout{60};

/// A trace and the name it is shown under (the path it was read from).
struct NamedTrace {
  std::string name;  ///< As the user gave it.
  Trace trace;       ///< Its operations.
};

/// One `heaplab map` run.
struct MapRun {
  std::size_t done = 0;  ///< Operations drawn.
  std::string failure;   ///< Why a child process ended early; empty otherwise.
};

/// Runs the lab's allocators, each where it belongs (see the file comment).
class LabRunner {
 public:
  /// Runs the allocators of \p isolated in a child process, each run given
  /// at most \p timeout (zero: no limit); every other allocator in-process.
  explicit LabRunner(std::span<const LabAllocator> isolated = {}, std::chrono::seconds timeout = kDefaultTimeout)
      : isolated_(isolated), timeout_(timeout) {}

  /// True when \p allocator runs in a child process.
  [[nodiscard]] bool isolates(const LabAllocator& allocator) const noexcept;

  /// replay() of \p trace on a fresh \p allocator over \p heap. A child
  /// that ends early gives ReplayOutcome::crashed, with the line in `what`.
  [[nodiscard]] ReplayReport replay(const LabAllocator& allocator, const NamedTrace& trace,
                                    std::span<std::byte> heap, const ReplayOptions& options) const;

  /// time_replay() of \p trace on a fresh \p allocator over \p heap (empty
  /// when it did not complete), in this process for every allocator, so
  /// that the speeds of `compare` compare like with like: a run in a fresh
  /// child would add that process's cold caches and page faults to one
  /// allocator's time only. The lab times only an allocator whose replay of
  /// the same trace completed (in a child, when isolated), and a replay is
  /// deterministic: the timed run repeats one already watched.
  [[nodiscard]] std::optional<std::chrono::nanoseconds> time(const LabAllocator& allocator, const NamedTrace& trace,
                                                             std::span<std::byte> heap) const;

  /// map_replay() of \p trace on a fresh \p allocator over \p heap, drawn
  /// to \p out; \p allocator must have a map.
  [[nodiscard]] MapRun map(const LabAllocator& allocator, const NamedTrace& trace, std::span<std::byte> heap,
                           std::size_t max_blocks, std::ostream& out) const;

  /// frames_replay() of \p trace on a fresh \p allocator over \p heap,
  /// written to \p out; \p allocator must have frames.
  [[nodiscard]] MapRun frames(const LabAllocator& allocator, const NamedTrace& trace, std::span<std::byte> heap,
                              std::ostream& out) const;

 private:
  /// Runs \p drawing (a map or its frames, written to the stream it is
  /// given) on \p allocator, in a child process when it is isolated, its
  /// text reaching \p out.
  [[nodiscard]] MapRun draw(const LabAllocator& allocator, const NamedTrace& trace, std::ostream& out,
                            const std::function<std::size_t(std::ostream&, ReplayProgress*)>& drawing) const;

  std::span<const LabAllocator> isolated_;  ///< The allocators run in a child process.
  std::chrono::seconds timeout_;            ///< Each child's time limit; zero for none.
};

}  // namespace heaplab
