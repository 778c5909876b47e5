#include "stage1_static_bump/misuse.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>

#include "stage1_static_bump/line.hpp"

namespace heaplab {
namespace {

std::atomic<MisuseHandler> installed_handler{&abort_on_misuse};

/// The report's line, built without allocating (the heap that reported
/// may be the one malloc itself runs on).
Line misuse_line(const MisuseReport& report) noexcept {
  Line line;
  line << "heaplab: " << to_string(report.kind) << " (";
  line.append_hex(reinterpret_cast<std::uintptr_t>(report.pointer)) << ") in " << report.where << "\n";
  return line;
}

}  // namespace

std::string_view to_string(Misuse kind) noexcept {
  switch (kind) {
    case Misuse::foreign_pointer: return "pointer not from this heap";
    case Misuse::double_free: return "double free";
    case Misuse::interior_pointer: return "interior pointer";
    case Misuse::bad_marker: return "marker not from this allocator's past";
    case Misuse::static_heap_taken: return "static heap already in use";
  }
  return "unknown misuse";
}

std::string_view format_misuse(const MisuseReport& report, char* buffer,
                               std::size_t size) noexcept {
  const Line line = misuse_line(report);
  const std::string_view text = line.view();
  const std::size_t count = std::min(text.size(), size);  // cut off at the buffer's end
  std::copy_n(text.data(), count, buffer);
  return {buffer, count};
}

void abort_on_misuse(const MisuseReport& report) noexcept {
  // write(2) is async-signal-safe and never allocates: the heap that reported
  // may be the one malloc itself runs on.
  misuse_line(report).write_to(STDERR_FILENO);
  std::abort();
}

MisuseHandler set_misuse_handler(MisuseHandler handler) noexcept {
  return installed_handler.exchange(handler != nullptr ? handler : &abort_on_misuse);
}

void report_misuse(const MisuseReport& report) noexcept {
  installed_handler.load()(report);
}

}  // namespace heaplab
