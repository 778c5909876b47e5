#include "stage1_static_bump/misuse.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>

namespace heaplab {
namespace {

std::atomic<MisuseHandler> installed_handler{&abort_on_misuse};

/// Appends \p text to the buffer, truncating at its end; returns the new end.
char* append(char* out, const char* end, std::string_view text) noexcept {
  for (char c : text) {
    if (out == end) break;
    *out++ = c;
  }
  return out;
}

/// Appends \p value as 0x-prefixed hexadecimal, without stdio.
char* append_hex(char* out, const char* end, std::uintptr_t value) noexcept {
  char digits[2 * sizeof value];
  std::size_t count = 0;
  do {
    digits[count++] = "0123456789abcdef"[value & 0xf];
    value >>= 4;
  } while (value != 0);
  out = append(out, end, "0x");
  while (count > 0 && out != end) *out++ = digits[--count];
  return out;
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
  char* out = buffer;
  const char* end = buffer + size;
  out = append(out, end, "heaplab: ");
  out = append(out, end, to_string(report.kind));
  out = append(out, end, " (");
  out = append_hex(out, end, reinterpret_cast<std::uintptr_t>(report.pointer));
  out = append(out, end, ") in ");
  out = append(out, end, report.where);
  out = append(out, end, "\n");
  return {buffer, static_cast<std::size_t>(out - buffer)};
}

void abort_on_misuse(const MisuseReport& report) noexcept {
  char line[256];
  const std::string_view text = format_misuse(report, line, sizeof line);
  // write(2) is async-signal-safe and never allocates: the heap that reported
  // may be the one malloc itself runs on.
  [[maybe_unused]] const auto written = ::write(STDERR_FILENO, text.data(), text.size());
  std::abort();
}

MisuseHandler set_misuse_handler(MisuseHandler handler) noexcept {
  return installed_handler.exchange(handler != nullptr ? handler : &abort_on_misuse);
}

void report_misuse(const MisuseReport& report) noexcept {
  installed_handler.load()(report);
}

}  // namespace heaplab
