/// \file
/// A misuse handler for tests: it records every report instead of aborting,
/// so a test can misuse an allocator on purpose and then inspect what was
/// reported and check that the heap is unchanged.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "stage1_static_bump/misuse.hpp"

namespace heaplab::testing {

/// While alive, every misuse report is appended to reports() instead of
/// reaching the default handler (which aborts). Destruction restores the
/// handler that was installed before.
///
/// The reports live in one process-wide list, so only one RecordingHandler
/// should be alive at a time, and it must not be used from several threads.
class RecordingHandler {
 public:
  RecordingHandler() noexcept : previous_(install()) {}
  RecordingHandler(const RecordingHandler&) = delete;
  RecordingHandler& operator=(const RecordingHandler&) = delete;
  ~RecordingHandler() { set_misuse_handler(previous_); }

  /// Every report received since construction, oldest first.
  [[nodiscard]] const std::vector<MisuseReport>& reports() const noexcept { return log(); }

  /// How many reports of \p kind were received.
  [[nodiscard]] std::size_t count(Misuse kind) const noexcept {
    return static_cast<std::size_t>(std::count_if(
        log().begin(), log().end(), [kind](const MisuseReport& r) { return r.kind == kind; }));
  }

 private:
  static std::vector<MisuseReport>& log() noexcept {
    static std::vector<MisuseReport> reports;
    return reports;
  }
  static void record(const MisuseReport& report) noexcept { log().push_back(report); }
  static MisuseHandler install() noexcept {
    log().clear();  // reports from an earlier handler's lifetime are not ours
    return set_misuse_handler(&record);
  }

  MisuseHandler previous_;  ///< Restored on destruction.
};

}  // namespace heaplab::testing
